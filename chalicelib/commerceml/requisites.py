"""What a product's `ЗначенияРеквизитов` say that a shop needs as fields. Pure: read at serve time
from the stored requisites, so a catalog imported before gains them with no rewrite."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.commerceml.xml import as_decimal

FULL_NAME = ("Полное наименование", "Повне найменування", "Полное наименование товара")
SERVICE, BUNDLE = ("услуга", "послуга"), ("комплект", "набор", "набір")


def full_name(requisites: dict[str, str]) -> str | None:
    """The requisite «Полное наименование» in any localisation 1C uses."""
    return next((requisites[n].strip() for n in FULL_NAME if (requisites.get(n) or "").strip()), None)


def nomenclature(requisites: dict[str, str]) -> dict[str, Any]:
    """`ТипНоменклатуры` and `ВидНоменклатуры` as 1C sent them, and what they make the product:
    `service` (never stock-checked), `bundle` or `goods`."""
    kind_type = (requisites.get("ТипНоменклатуры") or "").strip() or None
    kind = (requisites.get("ВидНоменклатуры") or "").strip() or None
    words = f"{kind_type or ''} {kind or ''}".lower()
    sort = (
        "service"
        if any(w in words for w in SERVICE)
        else "bundle"
        if any(w in words for w in BUNDLE)
        else "goods"
    )
    return {"type": kind_type, "kind": kind, "class": sort}


def weight(requisites: dict[str, str]) -> Decimal | None:
    """The requisite `Вес` (older configurations send weight only so), when it is a number."""
    raw = (requisites.get("Вес") or "").strip()
    try:
        return as_decimal(raw, "Вес") if raw else None
    except ValueError:
        return None
