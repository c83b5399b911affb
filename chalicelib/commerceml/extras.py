"""What some catalogs carry beyond the common fields: quantity-break prices and bundles. Pure.

No public 1C export carrying either was found; both follow the CommerceML 2 schema
(`Цена/МинКоличество`, `Товар/Комплектующие/Комплектующее`) and what 1C-Bitrix's importer
reads (`Предложение/СкидкиНаценки` with the volume condition; `НаборыТовара/Набор/ЭлементНабора`):
docs/protocol.md §10."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.commerceml.model import Component, QuantityBreak
from chalicelib.commerceml.xml import as_decimal, child_text, children, local

BUNDLE_ELEMENTS = frozenset({"Комплектующие", "НаборыТовара", "НаборыТоваров", "Набор"})
_PART_ELEMENTS = frozenset({"Комплектующее", "ЭлементНабора"})
_VOLUME = "объем"  # `Условие` of a discount that depends on the quantity bought


def quantity_breaks(el: Any) -> list[QuantityBreak]:
    """`СкидкиНаценки`: the volume discounts, lowest quantity first. Others (by sum, by date)
    are the seller's rules in 1C, not the offer's price, and are read past as 1C-Bitrix does."""
    found = []
    for _, discount in children(el):
        condition = child_text(discount, "Условие").lower().replace("ё", "е")
        if condition != _VOLUME:
            continue
        from_quantity = as_decimal(child_text(discount, "ЗначениеУсловия"), "ЗначениеУсловия")
        percent = as_decimal(child_text(discount, "Процент"), "Процент")
        if from_quantity > 0 and percent != 0:
            found.append(QuantityBreak(from_quantity, percent))
    return sorted(found, key=lambda b: b.min_quantity)


def components(el: Any) -> list[Component]:
    """A bundle's parts, however deep 1C-Bitrix's `Набор` wrappers nest them."""
    found = []
    for c in el.iter():
        if not isinstance(c.tag, str) or local(c.tag) not in _PART_ELEMENTS:
            continue
        part_id = child_text(c, "Ид") or child_text(c, "ИдТовара") or child_text(c, "Значение")
        if not part_id:
            continue
        quantity = child_text(c, "Количество")
        found.append(
            Component(
                id=part_id,
                quantity=as_decimal(quantity, "Количество") if quantity else Decimal(1),
                name=child_text(c, "Наименование") or None,
            )
        )
    return found
