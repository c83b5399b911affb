"""An offer as the product page serves it: prices per price type (the ISO currency beside 1C's
name for it, quantity tiers and breaks), stock per warehouse with what orders hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.sync.cards import OfferState
from chalicelib.values import iso_currency, json_number


@dataclass(frozen=True)
class OfferNames:
    price_types: Mapping[str, dict[str, Any]]  # price type id -> its record (name, currency)
    warehouses: Mapping[str, str]  # warehouse id -> name


def offer_view(offer: OfferState, names: OfferNames, held: Mapping[str, Decimal]) -> dict[str, Any]:
    info = offer.info or offer.variant or {}
    characteristics = info.get("characteristics") or (offer.variant or {}).get("characteristics") or []
    stock = offer.stock or {}
    return {
        "id": offer.id,
        "name": info.get("name"),
        "sku": info.get("sku"),
        "barcodes": info.get("barcodes") or [],
        "characteristics": [{"name": c["name"], "value": c["value"]} for c in characteristics],
        "prices": [_price(p, names.price_types.get(p["price_type_id"]) or {}) for p in offer.prices],
        "quantity_breaks": [
            {"min_quantity": answer_number(b["min_quantity"]), "percent": answer_number(b["percent"])}
            for b in offer.breaks
        ],
        "stock": {
            "total": answer_number(stock.get("total")),
            "held": answer_number(held.get(offer.id, 0)),
            "available": available(stock.get("total"), held.get(offer.id)),
            "warehouses": [
                {
                    "id": w["id"],
                    "name": names.warehouses.get(w["id"]),
                    "quantity": answer_number(w["quantity"]),
                }
                for w in stock.get("warehouses", [])
            ],
        },
        **(
            {"dimensions": {k: answer_number(v) for k, v in info["dimensions"].items()}}
            if info.get("dimensions")
            else {}
        ),
        **({"weight": answer_number(info["weight"])} if info.get("weight") is not None else {}),
    }


def _price(price: dict[str, Any], price_type: dict[str, Any]) -> dict[str, Any]:
    return {
        "price_type_id": price["price_type_id"],
        "price_type": price_type.get("name"),
        "value": answer_number(price["value"]),
        "currency": price.get("currency"),
        "currency_code": iso_currency(price.get("currency") or price_type.get("currency")),
        "unit": price.get("unit"),
        "coefficient": answer_number(price.get("coefficient")),
        **({"tax": price["tax"]} if price.get("tax") else {}),
        **(
            {"min_quantity": answer_number(price["min_quantity"])}
            if price.get("min_quantity") is not None
            else {}
        ),
    }


def available(total: Any, held: Decimal | None) -> int | float | None:
    """What can still be ordered: the stock 1C reported less what orders hold (never below 0)."""
    if total is None:
        return None
    return answer_number(max(Decimal(str(total)) - (held or Decimal(0)), Decimal(0)))


def answer_number(value: Any) -> int | float | None:
    """A stored number as an answer shows it (None when absent)."""
    if value is None or value == "":
        return None
    return json_number(value)
