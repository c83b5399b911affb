"""Shop-facing catalog queries: groups, products, offers with prices and stock, the change feed.

Reads only by key: one partition query for a product, one GSI page (plus one partition query per
listed product, run in parallel) for a list page, one GSI page for the change feed. Never a scan.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.aws.catalog import CatalogStore, ProductFilter, kind_and_id
from chalicelib.http import BadRequest, parse_limit
from chalicelib.tenants import Tenant

MAX_LIST_QUERIES = 5
_FEED_TYPES = {
    "product": "product",
    "variant": "product",
    "offer": "offer",
    "prices": "offer",
    "stock": "offer",
    "group": "group",
}


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral() else float(number)


MAX_CURSOR = 4096


def _caption(image: dict[str, Any]) -> dict[str, str]:
    return {"caption": image["caption"]} if image.get("caption") else {}


def encode_cursor(key: dict[str, Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False, default=str).encode())
        .decode()
        .rstrip("=")
    )


def decode_cursor(
    cursor: str | None, fields: tuple[str, ...], tenant: str | None = None
) -> dict[str, str] | None:
    """A cursor we issued: exactly `fields`, all short strings, keys of this tenant. Anything
    else (forged, another tenant's, wrong types) is a 400, never a query."""
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
    if tenant is not None and not all(key[f].startswith(f"{tenant}#") for f in fields if f.endswith("pk")):
        raise invalid
    return key


class ShopCatalog:
    def __init__(
        self, store: CatalogStore, presign: Callable[[str], str], reference_ttl: float = 60.0
    ) -> None:
        self.store, self.presign = store, presign
        self.reference_ttl = reference_ttl
        self._reference: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]] = {}

    def reference(self, tenant: Tenant, kind: str) -> list[dict[str, Any]]:
        """Price types and warehouses change with 1C's classifier, rarely: kept for a minute per
        container so a product page costs one partition query."""
        key = (tenant.id, kind)
        cached = self._reference.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        docs = self.store.docs(tenant.id, kind)
        self._reference[key] = (time.monotonic() + self.reference_ttl, docs)
        return docs

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
            {"id": d["id"], "name": d["name"]} for d in self.reference(tenant, "warehouse") if d["active"]
        ]

    # -- products -------------------------------------------------------------------------------
    def _offers(self, items: list[dict[str, Any]], names: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
        parts: dict[str, dict[str, Any]] = {}
        for item in items:
            if not item["sk"].startswith(("offer#", "variant#")):
                continue
            kind, offer_id = kind_and_id(item["pk"], item["sk"])
            parts.setdefault(offer_id, {})[kind] = {
                **json.loads(item["doc"]),
                "_active": item.get("active", True),
            }
        offers = []
        for offer_id, found in sorted(parts.items()):
            info = found.get("offer") or found.get("variant") or {}
            if not info.get("_active", True):
                continue
            characteristics = (
                info.get("characteristics") or (found.get("variant") or {}).get("characteristics") or []
            )
            prices = [
                {
                    "price_type_id": p["price_type_id"],
                    "price_type": names["price_type"].get(p["price_type_id"]),
                    "value": _number(p["value"]),
                    "currency": p.get("currency"),
                    "unit": p.get("unit"),
                }
                for p in (found.get("prices") or {}).get("prices", [])
            ]
            stock = found.get("stock") or {}
            offers.append(
                {
                    "id": offer_id,
                    "name": info.get("name"),
                    "sku": info.get("sku"),
                    "barcodes": info.get("barcodes") or [],
                    "characteristics": [{"name": c["name"], "value": c["value"]} for c in characteristics],
                    "prices": prices,
                    "stock": {
                        "total": _number(stock.get("total")),
                        "warehouses": [
                            {
                                "id": w["id"],
                                "name": names["warehouse"].get(w["id"]),
                                "quantity": _number(w["quantity"]),
                            }
                            for w in stock.get("warehouses", [])
                        ],
                    },
                }
            )
        return offers

    def _names(self, tenant: Tenant) -> dict[str, dict[str, str]]:
        return {
            kind: {d["id"]: d["name"] for d in self.reference(tenant, kind)}
            for kind in ("price_type", "warehouse")
        }

    def _images(self, tenant: Tenant, product: dict[str, Any]) -> list[dict[str, str]]:
        """Image URLs: under the tenant's CDN base when configured, else presigned S3 URLs."""
        base = (tenant.settings.image_base_url or "").rstrip("/")
        return [
            {"url": f"{base}/{i['key']}" if base else self.presign(i["key"]), **_caption(i)}
            for i in product.get("images", [])
            if i.get("key")
        ]

    def product(self, tenant: Tenant, product_id: str) -> dict[str, Any] | None:
        items = self.store.partition(f"{tenant.id}#p#{product_id}")
        head = next((i for i in items if i["sk"] == "product"), None)
        if head is None:
            return None
        doc = json.loads(head["doc"])
        return {
            "id": product_id,
            "sku": doc.get("sku"),
            "barcodes": doc.get("barcodes") or [],
            "name": doc.get("name"),
            "description": doc.get("description"),
            "description_html": doc.get("description_html"),
            "dimensions": {k: _number(v) for k, v in (doc.get("dimensions") or {}).items()},
            "weight": _number(doc.get("weight")),
            "unit": (doc.get("unit") or {}).get("name") or (doc.get("unit") or {}).get("code"),
            "group_ids": doc.get("group_ids") or [],
            "manufacturer": doc.get("manufacturer"),
            "properties": [
                {"id": p["id"], "name": p.get("name"), "value": p["value"]} for p in doc.get("properties", [])
            ],
            "requisites": doc.get("requisites") or {},
            "images": self._images(tenant, doc),
            "active": bool(head.get("active", True)),
            "updated_at": _stamp_iso(max(i["csk"] for i in items)),
            "offers": self._offers(items, self._names(tenant)),
        }

    def _summary(self, tenant: Tenant, head: dict[str, Any], shop_type: str | None) -> dict[str, Any]:
        doc = json.loads(head["doc"])
        offers = self._offers(self.store.partition(head["pk"]), {"price_type": {}, "warehouse": {}})
        prices = [
            p["value"]
            for o in offers
            for p in o["prices"]
            if p["price_type_id"] == shop_type and p["value"] is not None
        ]
        total = sum((o["stock"]["total"] or 0) for o in offers)
        images = self._images(tenant, doc)
        return {
            "id": kind_and_id(head["pk"], head["sk"])[1],
            "sku": doc.get("sku"),
            "name": doc.get("name"),
            "group_ids": doc.get("group_ids") or [],
            "price": min(prices) if prices else None,
            "in_stock": total > 0,
            "stock": total,
            "image": images[0]["url"] if images else None,
        }

    def products(self, tenant: Tenant, params: dict[str, str]) -> dict[str, Any]:
        limit = parse_limit(params.get("limit"))
        start = decode_cursor(params.get("cursor"), ("pk", "sk", "lpk", "lsk"), tenant.id)
        wanted = ProductFilter(
            groups=tuple(self._with_subgroups(tenant, params["group"])[:50]) if params.get("group") else (),
            search=" ".join(params["q"].lower().split()) if params.get("q") else None,
            sku=params.get("sku") or None,
            barcode=params.get("barcode") or None,
        )
        in_stock = (params.get("in_stock") or "").lower()
        if in_stock not in ("", "true", "false"):
            raise BadRequest("in_stock must be true or false")
        heads: list[dict[str, Any]] = []
        next_key = start
        for _ in range(MAX_LIST_QUERIES):
            page = self.store.listing(tenant.id, wanted, next_key, limit)
            heads += page["Items"]
            next_key = page.get("LastEvaluatedKey")
            if len(heads) >= limit or not next_key:
                break
        if len(heads) > limit:
            heads = heads[:limit]
            last = heads[-1]
            next_key = {k: last[k] for k in ("pk", "sk", "lpk", "lsk")}
        shop_type = tenant.settings.price_type_from(self.reference(tenant, "price_type"))
        with ThreadPoolExecutor(max_workers=8) as pool:
            items = list(pool.map(lambda h: self._summary(tenant, h, shop_type), heads))
        if in_stock:
            items = [i for i in items if i["in_stock"] == (in_stock == "true")]
        return {"items": items, "next_cursor": encode_cursor(next_key) if next_key else None}

    def _with_subgroups(self, tenant: Tenant, group_id: str) -> list[str]:
        children: dict[str | None, list[str]] = {}
        for g in self.store.docs(tenant.id, "group"):
            children.setdefault(g.get("parent_id"), []).append(g["id"])
        result, todo, seen = [], [group_id], {group_id}
        while todo:  # a visited set: a cycle that slipped in (across files) never loops a read
            current = todo.pop()
            result.append(current)
            fresh = [c for c in children.get(current, []) if c not in seen]
            seen.update(fresh)
            todo += fresh
        return result

    # -- change feed ----------------------------------------------------------------------------
    def changes(self, tenant: Tenant, params: dict[str, str]) -> dict[str, Any]:
        limit = parse_limit(params.get("limit"))
        since = decode_cursor(params.get("since"), ("csk",))
        after = since["csk"] if since else None
        changes: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        cursor = after
        while len(changes) < limit:
            page = self.store.changes(tenant.id, cursor, limit)
            for item in page["Items"]:
                cursor = item["csk"]
                stamp, record_kind, record_id = cursor.split("#", 2)
                kind = _FEED_TYPES.get(record_kind)
                if kind is None:
                    continue
                entity_id = record_id if kind != "product" else record_id.partition("#")[0]
                if (kind, entity_id) in seen:
                    continue
                seen.add((kind, entity_id))
                changes.append(
                    {
                        "type": kind,
                        "id": entity_id,
                        "op": "upsert"
                        if item.get("active", True) or record_kind in ("prices", "stock")
                        else "deactivate",
                        "at": _stamp_iso(stamp),
                    }
                )
                if len(changes) >= limit:
                    break
            if not page.get("LastEvaluatedKey") or len(changes) >= limit:
                break
        return {"changes": changes, "next": encode_cursor({"csk": cursor}) if cursor else None}


def _stamp_iso(stamp: str) -> str:
    """When a change stamp (`csk`: epoch milliseconds, sequence, ...) was written, as ISO 8601."""
    millis = int(stamp[:13]) if stamp[:13].isdigit() else 0
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="milliseconds")
