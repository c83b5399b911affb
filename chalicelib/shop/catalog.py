"""Shop-facing catalog reads: groups, product cards with filters and sorts, facets, a product with
its offers, the change feed. Everything is asked of the catalog store in the domain's terms; the
store owns the keys and indexes. Never a scan.

Queries per request (stated bounds): a product is one partition query; a list page is one index
query per listing bucket (a group holding products directly) in the asked group's subtree, per
stock flag (two when `in_stock` is not given: in-stock cards first), and up to
`catalog.MAX_ROUNDS` per bucket when a filter beyond group/stock/price range drops cards. The
common page — a group, a sort, `in_stock` — is one query.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast

from chalicelib.commerceml.requisites import full_name, nomenclature, weight
from chalicelib.params import BadRequest, parse_limit, path_ids
from chalicelib.ports import Catalog
from chalicelib.sync.cards import ALL, SORTS, ListQuery, OfferState
from chalicelib.sync.plan import MAX_ID_BYTES
from chalicelib.tenants import Tenant
from chalicelib.values import json_number

T = TypeVar("T")

MAX_CURSOR = 4096
MAX_PROPERTY_FILTERS = 10
BUCKETS_PRUNED_ABOVE = 8  # larger subtrees skip the groups holding no cards (per the facets)


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    return json_number(value)


def _caption(image: dict[str, Any]) -> dict[str, str]:
    return {"caption": image["caption"]} if image.get("caption") else {}


def encode_cursor(key: dict[str, Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False, default=str).encode())
        .decode()
        .rstrip("=")
    )


def decode_cursor(cursor: str | None, fields: tuple[str, ...]) -> dict[str, str] | None:
    """A cursor we issued: exactly `fields`, all short strings. Anything else (forged, wrong
    types) is a 400, never a query. Cursors hold positions, never keys: a query is always the
    caller's tenant's."""
    if not cursor:
        return None
    invalid = BadRequest("cursor is not valid: pass next_cursor from a previous answer unchanged")
    if len(cursor) > MAX_CURSOR:
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(key, dict) or set(key) != set(fields):
        raise invalid
    if not all(isinstance(v, str) and 0 < len(v) <= 1024 for v in key.values()):
        raise invalid
    return key


# The sort value a cursor resumes after, per sort: `{value}\x01{product id}` (sync.cards.sort_values).
AFTER_VALUES = {"name": re.compile(r"[^\x01]{0,200}"), "price": re.compile(r"[0-9]{20}")}
AFTER_VALUES["updated"] = re.compile(r"[0-9]{13}")


def _after_fits(sort: str, after: str) -> bool:
    value, sep, product_id = after.partition("\x01")
    shape = AFTER_VALUES[sort.lstrip("-")]
    return (
        bool(sep and product_id) and len(product_id.encode()) <= MAX_ID_BYTES and bool(shape.fullmatch(value))
    )


def group_param(raw: str | None) -> str | None:
    """A group id as 1C makes them (at most MAX_ID_BYTES): a longer one is a 400, never a key."""
    if raw and len(raw.encode()) > MAX_ID_BYTES:
        raise BadRequest(f"group is not a group id (at most {MAX_ID_BYTES} bytes)")
    return raw or None


def _decimal_param(params: dict[str, Any], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadRequest(f"{name} must be a number") from None
    if not value.is_finite() or value < 0 or value > Decimal("1e12"):
        raise BadRequest(f"{name} must be a number from 0 to 10^12")
    return value


def _bool_param(params: dict[str, Any], name: str) -> bool | None:
    raw = (params.get(name) or "").lower()
    if raw not in ("", "true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return None if raw == "" else raw == "true"


def _properties(raw: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`property=<id>:<value>`, repeatable: values of one property OR-ed, properties AND-ed."""
    if len(raw) > MAX_PROPERTY_FILTERS:
        raise BadRequest(f"at most {MAX_PROPERTY_FILTERS} property filters")
    wanted: dict[str, list[str]] = {}
    for item in raw:
        pid, sep, value = item.partition(":")
        if not sep or not pid or not value:
            raise BadRequest("property must be <property id>:<value>")
        wanted.setdefault(pid, []).append(value)
    return tuple((pid, tuple(values)) for pid, values in wanted.items())


def list_query(params: dict[str, Any]) -> ListQuery:
    sort = params.get("sort") or "name"
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}")
    cursor = decode_cursor(params.get("cursor"), ("sort", "after"))
    if cursor and cursor["sort"] != sort:
        raise BadRequest("cursor belongs to another sort: start again without it")
    if cursor and not _after_fits(sort, cursor["after"]):
        raise BadRequest("cursor is not valid: pass next_cursor from a previous answer unchanged")
    price_min, price_max = _decimal_param(params, "price_min"), _decimal_param(params, "price_max")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise BadRequest("price_min must not be greater than price_max")
    return ListQuery(
        group=group_param(params.get("group")),
        in_stock=_bool_param(params, "in_stock"),
        price_min=price_min,
        price_max=price_max,
        properties=_properties(params.get("property") or []),
        q=" ".join(params["q"].lower().split()) or None if params.get("q") else None,
        sku=params.get("sku") or None,
        barcode=params.get("barcode") or None,
        sort=sort,
        limit=parse_limit(params.get("limit")),
        after=cursor["after"] if cursor else None,
    )


class ShopCatalog:
    def __init__(self, store: Catalog, presign: Callable[[str], str], reference_ttl: float = 60.0) -> None:
        self.store, self.presign = store, presign
        self.reference_ttl = reference_ttl
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}

    def _cached(self, tenant: Tenant, what: str, load: Callable[[], T]) -> T:
        """Classifier lists and the bucket map change with 1C's imports, rarely: kept for a minute
        per container, so a product page or a common list page costs one query."""
        key = (tenant.id, what)
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cast(T, cached[1])
        value = load()
        self._cache[key] = (time.monotonic() + self.reference_ttl, value)
        return value

    def reference(self, tenant: Tenant, kind: str) -> list[dict[str, Any]]:
        return self._cached(tenant, kind, lambda: self.store.docs(tenant.id, kind))

    # -- reference lists ------------------------------------------------------------------------
    def groups(self, tenant: Tenant) -> list[dict[str, Any]]:
        docs = self.store.docs(tenant.id, "group")
        return sorted(
            (
                {"id": d["id"], "name": d["name"], "parent_id": d.get("parent_id")}
                for d in docs
                if d["active"]
            ),
            key=lambda g: (g["name"], g["id"]),
        )

    def price_types(self, tenant: Tenant) -> list[dict[str, Any]]:
        docs = self.reference(tenant, "price_type")
        shop = tenant.settings.price_type_from(docs)
        return [
            {"id": d["id"], "name": d["name"], "currency": d.get("currency"), "shop": d["id"] == shop}
            for d in docs
        ]

    def warehouses(self, tenant: Tenant) -> list[dict[str, Any]]:
        return [
            {
                "id": d["id"],
                "name": d["name"],
                "address": d.get("address"),
                "contacts": d.get("contacts") or [],
            }
            for d in self.reference(tenant, "warehouse")
            if d["active"]
        ]

    # -- a product ------------------------------------------------------------------------------
    def _names(self, tenant: Tenant, kind: str) -> dict[str, str]:
        return {d["id"]: d["name"] for d in self.reference(tenant, kind)}

    def image_url(self, tenant: Tenant, key: str) -> str:
        """Under the tenant's CDN base when configured, else a presigned S3 URL."""
        base = (tenant.settings.image_base_url or "").rstrip("/")
        return f"{base}/{key}" if base else self.presign(key)

    def _offer(
        self, offer: OfferState, price_names: dict[str, str], stores: dict[str, str]
    ) -> dict[str, Any]:
        info = offer.info or offer.variant or {}
        characteristics = info.get("characteristics") or (offer.variant or {}).get("characteristics") or []
        stock = offer.stock or {}
        return {
            "id": offer.id,
            "name": info.get("name"),
            "sku": info.get("sku"),
            "barcodes": info.get("barcodes") or [],
            "characteristics": [{"name": c["name"], "value": c["value"]} for c in characteristics],
            "prices": [
                {
                    "price_type_id": p["price_type_id"],
                    "price_type": price_names.get(p["price_type_id"]),
                    "value": _number(p["value"]),
                    "currency": p.get("currency"),
                    "unit": p.get("unit"),
                }
                for p in offer.prices
            ],
            "stock": {
                "total": _number(stock.get("total")),
                "warehouses": [
                    {"id": w["id"], "name": stores.get(w["id"]), "quantity": _number(w["quantity"])}
                    for w in stock.get("warehouses", [])
                ],
            },
        }

    def product(self, tenant: Tenant, raw_id: str) -> dict[str, Any] | None:
        """A product by the id its path carries (percent-encoded or not: 1C's ids may be
        Cyrillic, or hold `#`, `/`, spaces and `%`)."""
        found = (
            (i, self.store.product(tenant.id, i)) for i in path_ids(raw_id) if len(i.encode()) <= MAX_ID_BYTES
        )
        product_id, state = next(((i, s) for i, s in found if s is not None), (raw_id, None))
        if state is None:
            return None
        doc = state.doc
        requisites = doc.get("requisites") or {}
        price_names, stores = self._names(tenant, "price_type"), self._names(tenant, "warehouse")
        return {
            "id": product_id,
            "sku": doc.get("sku"),
            "barcodes": doc.get("barcodes") or [],
            "name": doc.get("name"),
            "description": doc.get("description"),
            "description_html": doc.get("description_html"),
            "dimensions": {k: _number(v) for k, v in (doc.get("dimensions") or {}).items()},
            "weight": _number(doc.get("weight") if doc.get("weight") is not None else weight(requisites)),
            "full_name": doc.get("full_name") or full_name(requisites),
            "nomenclature": nomenclature(requisites),
            "unit": (doc.get("unit") or {}).get("name") or (doc.get("unit") or {}).get("code"),
            "group_ids": doc.get("group_ids") or [],
            "manufacturer": doc.get("manufacturer"),
            "properties": [
                {"id": p["id"], "name": p.get("name"), "value": p["value"]} for p in doc.get("properties", [])
            ],
            "requisites": requisites,
            "images": [
                {"url": self.image_url(tenant, i["key"]), **_caption(i)}
                for i in doc.get("images", [])
                if i.get("key")
            ],
            "active": state.active,
            "updated_at": _iso(state.updated),
            "offers": [self._offer(o, price_names, stores) for o in state.offers if o.active],
        }

    # -- lists and facets -----------------------------------------------------------------------
    def _buckets(self, tenant: Tenant, group: str | None) -> list[str]:
        """The listing buckets a page reads: the group and its subgroups, or every bucket."""

        def filled() -> dict[str, int]:  # the groups holding cards, from the catalog's facet
            return self._cached(
                tenant, "buckets", lambda: (self.store.facet(tenant.id, ALL) or {}).get("buckets", {})
            )

        if group is None:
            return sorted(filled())
        children: dict[str | None, list[str]] = {}
        for g in self.reference(tenant, "group"):
            children.setdefault(g.get("parent_id"), []).append(g["id"])
        found, todo, seen = [], [group], {group}
        while todo:  # a visited set: a cycle that slipped in (across files) never loops a read
            current = todo.pop()
            found.append(current)
            fresh = [c for c in children.get(current, []) if c not in seen]
            seen.update(fresh)
            todo += fresh
        if len(found) > BUCKETS_PRUNED_ABOVE:
            found = [b for b in found if b in filled()]
        return sorted(found)

    def products(self, tenant: Tenant, params: dict[str, Any]) -> dict[str, Any]:
        query = list_query(params)
        cards, after = self.store.cards(tenant.id, query, self._buckets(tenant, query.group))
        return {
            "items": [self._summary(tenant, card) for card in cards],
            "next_cursor": encode_cursor({"sort": query.sort, "after": after}) if after else None,
        }

    def _summary(self, tenant: Tenant, card: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": card["id"],
            "sku": card.get("sku"),
            "name": card["name"],
            "group_ids": list(card.get("groups") or []),
            "price": _number(card.get("price_min")),
            "price_max": _number(card.get("price_max")),
            "currency": card.get("currency"),
            "in_stock": card["in_stock"],
            "stock": _number(card.get("stock")),
            "image": self.image_url(tenant, card["image"]) if card.get("image") else None,
            "updated_at": _iso(card["updated"]),
        }

    def facets(self, tenant: Tenant, group: str | None) -> dict[str, Any]:
        group = group_param(group)
        facet = self.store.facet(tenant.id, group or ALL) or {}
        names = self._names(tenant, "property")
        shop_type = tenant.settings.price_type_from(self.reference(tenant, "price_type"))
        currency = next(
            (d.get("currency") for d in self.reference(tenant, "price_type") if d["id"] == shop_type), None
        )
        return {
            "group": group,
            "count": facet.get("count", 0),
            "in_stock": facet.get("in_stock", 0),
            "price": {
                "min": _number(facet.get("price_min")),
                "max": _number(facet.get("price_max")),
                "currency": currency,
            },
            "properties": [
                {
                    "id": pid,
                    "name": names.get(pid),
                    "values": [{"value": v, "count": n} for v, n in sorted(values.items())],
                    "more_values": (facet.get("more") or {}).get(pid, 0),
                }
                for pid, values in sorted((facet.get("values") or {}).items())
            ],
            "more_properties": facet.get("more_properties", 0),
        }

    # -- change feed ----------------------------------------------------------------------------
    def changes(self, tenant: Tenant, params: dict[str, Any]) -> dict[str, Any]:
        limit = parse_limit(params.get("limit"))
        since = decode_cursor(params.get("since"), ("csk",))
        after, skip = None, 0
        if since:
            entry, sep, position = since["csk"].rpartition(":")
            if not sep or not entry.isdigit() or not position.isdigit():
                raise BadRequest("since is not valid: pass `next` from a previous answer unchanged")
            after, skip = entry, int(position)
        found = self.store.feed(tenant.id, after, skip, limit)
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for stamp, _, (kind, entity_id, op) in found:
            latest.pop((kind, entity_id), None)  # the latest change of an entity, in its place
            latest[(kind, entity_id)] = {"type": kind, "id": entity_id, "op": op, "at": _iso(int(stamp[:13]))}
        if found:
            last, at, _ = found[-1]
            cursor: str | None = f"{last}:{at}"
        else:
            cursor = f"{after}:{skip}" if after else None
        return {"changes": list(latest.values()), "next": encode_cursor({"csk": cursor}) if cursor else None}


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(int(millis) / 1000, tz=UTC).isoformat(timespec="milliseconds")
