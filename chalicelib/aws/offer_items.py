"""An offer's item: its description, prices and stock packed as rows (`{t}#p#{product}`,
`offer#{offer}`), so an offer with five prices and three warehouses stays under 1 KB."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.sync.records import OFFER_PRICES, OFFER_STOCK


def pack(kind: str, doc: str) -> str:
    """An offer part as its item keeps it: prices and stock as rows, the description without the
    ids its key holds — an offer with five prices and three warehouses stays under 1 KB (one
    write unit instead of two)."""
    data = json.loads(doc)
    if kind == OFFER_PRICES:
        rows = [
            [p["price_type_id"], p["value"], p.get("currency"), p.get("unit"), p.get("coefficient")]
            + ([p["tax"]] if p.get("tax") else [])  # 3.1's per-price tax, when sent
            for p in data["prices"]
        ]
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    if kind == OFFER_STOCK:
        rows = [[w["id"], w["quantity"]] for w in data.get("warehouses", [])]
        return json.dumps([data.get("total"), rows], ensure_ascii=False, separators=(",", ":"))
    data.pop("id", None)
    data.pop("product_id", None)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def unpack_prices(raw: str) -> list[dict[str, Any]]:
    fields = ("price_type_id", "value", "currency", "unit", "coefficient", "tax")
    return [dict(zip(fields, row, strict=False)) for row in json.loads(raw)]


def unpack_stock(raw: str) -> dict[str, Any]:
    total, rows = json.loads(raw)
    return {"total": total, "warehouses": [{"id": w, "quantity": q} for w, q in rows]}
