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
        rows = [_price_row(p) for p in data["prices"]]
        if data.get("breaks"):  # quantity breaks beside the rows, only when sent
            breaks = [[b["min_quantity"], b["percent"]] for b in data["breaks"]]
            return json.dumps({"p": rows, "b": breaks}, ensure_ascii=False, separators=(",", ":"))
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    if kind == OFFER_STOCK:
        rows = [[w["id"], w["quantity"]] for w in data.get("warehouses", [])]
        return json.dumps([data.get("total"), rows], ensure_ascii=False, separators=(",", ":"))
    data.pop("id", None)
    data.pop("product_id", None)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_PRICE_FIELDS = ("price_type_id", "value", "currency", "unit", "coefficient", "tax", "min_quantity")


def _price_row(p: dict[str, Any]) -> list[Any]:
    """A price as a row; the optional tail (3.1's tax, a quantity tier's minimum) only when sent."""
    row = [p["price_type_id"], p["value"], p.get("currency"), p.get("unit"), p.get("coefficient")]
    tail = [p.get("tax"), p.get("min_quantity")]
    while tail and tail[-1] is None:
        tail.pop()
    return row + tail


def unpack_prices(raw: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An offer's prices and its quantity breaks."""
    data = json.loads(raw)
    rows, breaks = (data["p"], data["b"]) if isinstance(data, dict) else (data, [])
    prices = [{k: v for k, v in zip(_PRICE_FIELDS, row, strict=False) if k != "tax" or v} for row in rows]
    return prices, [{"min_quantity": m, "percent": pct} for m, pct in breaks]


def unpack_stock(raw: str) -> dict[str, Any]:
    total, rows = json.loads(raw)
    return {"total": total, "warehouses": [{"id": w, "quantity": q} for w, q in rows]}
