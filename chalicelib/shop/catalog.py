"""Shop-facing catalog reads: groups, product cards with filters and sorts, facets, a product with
its offers, the change feed. Everything is asked of the catalog store in the domain's terms; the
store owns the keys and indexes. Never a scan.

Queries per request (stated bounds): a product is one partition query; a list page is one index
query per listing bucket (a group holding products directly) in the asked group's subtree, per
stock flag (two when `in_stock` is not given: in-stock cards first), and up to
`catalog.MAX_ROUNDS` per bucket when a filter beyond group/stock/price range drops cards. The
common page — a group or a category, a sort, `in_stock` — is one query (a category is a listing
bucket of its own; the whole catalog reads the group buckets only, so no card is read twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from chalicelib.commerceml.requisites import full_name, nomenclature, weight
from chalicelib.params import BadRequest, parse_limit, path_ids
from chalicelib.ports import Catalog
from chalicelib.shop.offer_view import OfferNames, answer_number, available, offer_view
from chalicelib.shop.queries import decode_cursor, encode_cursor, group_param, list_query
from chalicelib.shop.slugs import ids_of, slug
from chalicelib.sync.cards import (
    ALL,
    CATEGORY_BUCKET,
    CHARACTERISTIC,
    WHOLE,
    category_bucket,
    is_category_bucket,
)
from chalicelib.sync.plan import MAX_ID_BYTES
from chalicelib.tenants import Tenant

T = TypeVar("T")
HELD_TTL = 5.0  # seconds a container reuses what orders hold (list and product pages)
BUCKETS_PRUNED_ABOVE = 8  # larger subtrees skip the groups holding no cards (per the facets)


@dataclass(frozen=True)
class Held:
    offers: Mapping[str, Decimal]
    products: Mapping[str, Decimal]  # the offers' holds summed per product
    keyed: Mapping[str, Decimal]  # both, as the answer cache checks them: `o:<offer>`, `p:<product>`

    @classmethod
    def of(cls, offers: Mapping[str, Decimal]) -> Held:
        products: dict[str, Decimal] = {}
        for offer, quantity in offers.items():
            product = offer.partition("#")[0]
            products[product] = products.get(product, Decimal(0)) + quantity
        keyed = {f"o:{o}": q for o, q in offers.items()} | {f"p:{p}": q for p, q in products.items()}
        return cls(offers, products, keyed)


def _caption(image: dict[str, Any]) -> dict[str, str]:
    return {"caption": image["caption"]} if image.get("caption") else {}


class ShopCatalog:
    def __init__(
        self,
        store: Catalog,
        presign: Callable[[str], str],
        reference_ttl: float = 60.0,
        held_offers: Callable[[str], Mapping[str, Decimal]] | None = None,
    ) -> None:
        self.store, self.presign, self.held_offers = store, presign, held_offers
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
                {
                    "id": d["id"],
                    "name": d["name"],
                    "parent_id": d.get("parent_id"),
                    "slug": slug(d["name"], d["id"]),
                }
                for d in docs
                if d["active"]
            ),
            key=lambda g: (g["name"], g["id"]),
        )

    def categories(self, tenant: Tenant) -> list[dict[str, Any]]:
        """1C's categories (2.08+), each with how many listed products it holds."""
        counts = (self.store.facet(tenant.id, ALL) or {}).get("buckets", {})
        names = self._names(tenant, "property")
        return sorted(
            (
                {
                    "id": d["id"],
                    "name": d["name"],
                    "properties": [{"id": p, "name": names.get(p)} for p in d.get("property_ids") or []],
                    "product_count": counts.get(category_bucket(d["id"]), 0),
                }
                for d in self.store.docs(tenant.id, "category")
                if d["active"]
            ),
            key=lambda c: (c["name"], c["id"]),
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

    def units(self, tenant: Tenant) -> list[dict[str, Any]]:
        """Units of measure 1C sent (`ЕдиницыИзмерения`; 3.1's `units_` file): a 3.1 product's
        `unit` is one of these codes."""
        return [
            {k: d.get(k) for k in ("id", "code", "name", "full_name", "international")}
            for d in self.reference(tenant, "unit")
        ]

    # -- a product ------------------------------------------------------------------------------
    def _names(self, tenant: Tenant, kind: str) -> dict[str, str]:
        return {d["id"]: d["name"] for d in self.reference(tenant, kind)}

    def _breadcrumbs(self, tenant: Tenant, group_id: str | None) -> list[dict[str, str]]:
        """The product's first group and its ancestors, the root first (a storefront's trail)."""
        groups = self._cached(
            tenant, "group_map", lambda: {g["id"]: g for g in self.reference(tenant, "group") if g["active"]}
        )
        trail: list[dict[str, str]] = []
        while group_id in groups and len(trail) < 32 and all(c["id"] != group_id for c in trail):
            group = groups[group_id]
            trail.append({"id": group["id"], "name": group["name"], "slug": slug(group["name"], group["id"])})
            group_id = group.get("parent_id")
        return trail[::-1]

    def _flags(self, tenant: Tenant, property_id: str) -> dict[str, bool]:
        """A 3.1 property's `Внешний` / `Информационное`, when 1C sent them."""
        flags = self._cached(
            tenant,
            "property_flags",
            lambda: {
                d["id"]: {k: d[k] for k in ("external", "informational") if d.get(k) is not None}
                for d in self.reference(tenant, "property")
            },
        )
        return flags.get(property_id) or {}

    def image_url(self, tenant: Tenant, key: str) -> str:
        """Under the tenant's CDN base when configured, else a presigned S3 URL."""
        base = (tenant.settings.image_base_url or "").rstrip("/")
        return f"{base}/{key}" if base else self.presign(key)

    def product(self, tenant: Tenant, raw_id: str) -> dict[str, Any] | None:
        """A product by the id its path carries (percent-encoded or not: 1C's ids may be
        Cyrillic, or hold `#`, `/`, spaces and `%`)."""
        asked = (i for p in path_ids(raw_id) for i in ids_of(p))  # an id, or a slug's
        found = (
            (i, self.store.product(tenant.id, i))
            for i in dict.fromkeys(asked)
            if len(i.encode()) <= MAX_ID_BYTES
        )
        product_id, state = next(((i, s) for i, s in found if s is not None), (raw_id, None))
        if state is None:
            return None
        doc = state.doc
        requisites = doc.get("requisites") or {}
        names = OfferNames(
            {d["id"]: d for d in self.reference(tenant, "price_type")}, self._names(tenant, "warehouse")
        )
        offers = [o for o in state.offers if o.active]
        held = self.held(tenant).offers
        return {
            "id": product_id,
            "slug": slug(doc.get("name"), product_id),
            "sku": doc.get("sku"),
            "barcodes": doc.get("barcodes") or [],
            "name": doc.get("name"),
            "description": doc.get("description"),
            "description_html": doc.get("description_html"),
            "dimensions": {k: answer_number(v) for k, v in (doc.get("dimensions") or {}).items()},
            "weight": answer_number(
                doc.get("weight") if doc.get("weight") is not None else weight(requisites)
            ),
            "full_name": doc.get("full_name") or full_name(requisites),
            "nomenclature": nomenclature(requisites),
            "unit": (doc.get("unit") or {}).get("name") or (doc.get("unit") or {}).get("code"),
            "group_ids": doc.get("group_ids") or [],
            "breadcrumbs": self._breadcrumbs(tenant, (doc.get("group_ids") or [None])[0]),
            "category_id": doc.get("category_id"),
            "manufacturer": doc.get("manufacturer"),
            "country": doc.get("country"),
            "properties": [
                {"id": p["id"], "name": p.get("name"), "value": p["value"], **self._flags(tenant, p["id"])}
                for p in doc.get("properties", [])
            ],
            "requisites": requisites,
            "components": [
                {"id": c["id"], "quantity": answer_number(c["quantity"]), "name": c.get("name")}
                for c in doc.get("components") or []
            ],
            "images": [
                {
                    "url": self.image_url(tenant, i["key"]),
                    **_caption(i),
                    "width": i.get("width"),
                    "height": i.get("height"),
                }
                for i in doc.get("images", [])
                if i.get("key")
            ],
            "active": state.active,
            "updated_at": _iso(state.updated),
            "offers": [offer_view(o, names, held) for o in offers],
        }

    def listed_per_group(self, tenant: Tenant) -> dict[str, int]:
        """Listed products directly in each group, as the last import counted them (one read)."""
        buckets = (self.store.facet(tenant.id, ALL) or {}).get("buckets", {})
        return {b: int(n) for b, n in buckets.items() if not is_category_bucket(b) and b != WHOLE}

    # -- lists and facets -----------------------------------------------------------------------
    def _buckets(
        self, tenant: Tenant, group: str | None, category: str | None = None, by_name: bool = False
    ) -> list[str]:
        """The listing buckets a page reads: the category's, the group and its subgroups, or every
        group's (each card is in one or more of those)."""
        if category is not None:
            return [category_bucket(category)]

        def whole() -> dict[str, Any]:  # the catalog's facet: its count and the groups holding cards
            return self._cached(tenant, "whole", lambda: self.store.facet(tenant.id, ALL) or {})

        def filled() -> dict[str, int]:
            return dict(whole().get("buckets", {}))

        if group is None:  # by name, the whole listing once every card is in it (after upgrading, a rebuild)
            if by_name and filled().get(WHOLE, 0) == whole().get("count", 0):
                return [WHOLE]
            return sorted(b for b in filled() if not is_category_bucket(b) and b != WHOLE)
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
        buckets = self._buckets(tenant, query.group, query.category, by_name=query.sort == "name")
        cards, after = self.store.cards(tenant.id, query, buckets)
        held = self.held(tenant).products if cards else {}
        return {
            "items": [self._summary(tenant, card, held.get(card["id"])) for card in cards],
            "next_cursor": encode_cursor({"sort": query.sort, "after": after}) if after else None,
        }

    def held(self, tenant: Tenant) -> Held:
        """What orders hold, per offer and per product: one query a container every HELD_TTL
        seconds (orders themselves check the holds exactly)."""
        key, now = (tenant.id, "held"), time.monotonic()
        cached = self._cache.get(key)
        if cached and cached[0] > now:
            return cast(Held, cached[1])
        held = Held.of(self.held_offers(tenant.id) if self.held_offers else {})
        self._cache[key] = (now + HELD_TTL, held)
        return held

    def _summary(self, tenant: Tenant, card: dict[str, Any], held: Decimal | None = None) -> dict[str, Any]:
        return {
            "id": card["id"],
            "slug": slug(card["name"], card["id"]),
            "sku": card.get("sku"),
            "name": card["name"],
            "group_ids": [g for g in card.get("groups") or [] if not is_category_bucket(g)],
            "category_id": next(
                (g[len(CATEGORY_BUCKET) :] for g in card.get("groups") or [] if is_category_bucket(g)), None
            ),
            "price": answer_number(card.get("price_min")),
            "price_max": answer_number(card.get("price_max")),
            "currency": card.get("currency"),
            "in_stock": card["in_stock"],
            "stock": answer_number(card.get("stock")),
            "available": available(card.get("stock"), held),
            "image": self.image_url(tenant, card["image"]) if card.get("image") else None,
            "updated_at": _iso(card["updated"]),
        }

    def facets(self, tenant: Tenant, group: str | None, category: str | None = None) -> dict[str, Any]:
        group, category = group_param(group), group_param(category, "category")
        if group and category:
            raise BadRequest("group and category: one of them per request")
        scope = category_bucket(category) if category else group or ALL
        facet = self.store.facet(tenant.id, scope) or {}
        names = self._names(tenant, "property")
        shop_type = tenant.settings.price_type_from(self.reference(tenant, "price_type"))
        currency = next(
            (d.get("currency") for d in self.reference(tenant, "price_type") if d["id"] == shop_type), None
        )
        return {
            "group": group,
            "category": category,
            "count": facet.get("count", 0),
            "in_stock": facet.get("in_stock", 0),
            "price": {
                "min": answer_number(facet.get("price_min")),
                "max": answer_number(facet.get("price_max")),
                "currency": currency,
            },
            "properties": [
                {
                    "id": pid,
                    "name": pid.removeprefix(CHARACTERISTIC)
                    if pid.startswith(CHARACTERISTIC)
                    else names.get(pid),
                    **self._flags(tenant, pid),
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
