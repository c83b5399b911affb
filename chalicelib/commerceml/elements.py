"""Catalog elements of CommerceML 2: groups, properties, price types, warehouses, units,
products and offers, each read from its finished subtree. Pure; a mixin of the reader."""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.commerceml.errors import CommerceMLError
from chalicelib.commerceml.extras import BUNDLE_ELEMENTS, components, quantity_breaks
from chalicelib.commerceml.model import (
    INFO,
    PRICES,
    STOCK,
    Category,
    Characteristic,
    Group,
    Offer,
    Price,
    PriceType,
    Product,
    Property,
    PropertyValue,
    StockEntry,
    TaxRate,
    Unit,
    Warehouse,
)
from chalicelib.commerceml.xml import (
    as_bool,
    as_decimal,
    child,
    child_text,
    children,
    local,
    optional,
    raw_texts,
    text,
    texts,
)

_NO_PARTS: frozenset[str] = frozenset()
_EMPTY_REF = "00000000-0000-0000-0000-000000000000"  # an unset reference value
_DIMENSIONS = {"Длина": "length", "Ширина": "width", "Высота": "height"}
_PROPERTY_FLAGS = {"Внешний": "external", "Информационное": "informational"}  # 3.1


class ReadContext(Protocol):
    """What reading a record needs of the document being read."""

    properties: dict[str, Property]  # the document's own classifier, as read so far
    known_properties: Mapping[str, Property]  # earlier files' (a classifier sent separately)
    cml3: bool  # CommerceML 3.x: `БазоваяЕдиница` names a unit of `ЕдиницыИзмерения` by its Ид

    def error(self, reason: str, line: int | None = None, record: Any = None) -> CommerceMLError: ...


class CatalogElements:
    """Catalog records: groups, properties, price types, warehouses, units, products, offers."""

    def __init__(self, read: ReadContext) -> None:
        self.read = read

    def require_id(self, el: Any) -> str:
        record_id = child_text(el, "Ид")
        if not record_id:
            raise self.read.error(f"у элемента {local(el.tag)} нет Ид", el.sourceline)
        return record_id

    def group(self, el: Any) -> Group:
        parent = el.getparent().getparent()
        parent_id = child_text(parent, "Ид") if local(parent.tag) == "Группа" else None
        return Group(
            id=self.require_id(el),
            name=child_text(el, "Наименование"),
            parent_id=parent_id or None,
            deleted=as_bool(child_text(el, "ПометкаУдаления")),
        )

    def category(self, el: Any) -> Category:
        props = next((c for name, c in children(el) if name == "Свойства"), None)
        return Category(
            id=self.require_id(el),
            name=child_text(el, "Наименование"),
            property_ids=[text(p) for _, p in children(props)] if props is not None else [],
            deleted=as_bool(child_text(el, "ПометкаУдаления")),
        )

    def property(self, el: Any) -> Property:
        prop = Property(id=self.require_id(el), name="")
        for name, c in children(el):
            if name == "Наименование":
                prop.name = text(c)
            elif name == "ТипЗначений":
                prop.value_type = text(c) or None
            elif name == "ВариантыЗначений":
                for _, variant in children(c):
                    value_id = child_text(variant, "ИдЗначения")
                    if value_id:
                        prop.values[value_id] = child_text(variant, "Значение")
            elif name == "ДляТоваров":
                prop.for_products = as_bool(text(c))
            elif name == "ДляПредложений":
                prop.for_offers = as_bool(text(c))
            elif name == "Множественное":
                prop.multiple = as_bool(text(c))
            elif name in _PROPERTY_FLAGS:
                setattr(prop, _PROPERTY_FLAGS[name], as_bool(text(c)))
            elif name == "ПометкаУдаления":
                prop.deleted = as_bool(text(c))
        self.read.properties[prop.id] = prop
        return prop

    def price_type(self, el: Any) -> PriceType:
        tax = child(el, "Налог")
        included = child_text(tax, "УчтеноВСумме") if tax is not None else ""
        return PriceType(
            id=self.require_id(el),
            name=child_text(el, "Наименование"),
            currency=child_text(el, "Валюта") or None,
            tax_name=child_text(tax, "Наименование") or None if tax is not None else None,
            tax_included=as_bool(included) if included else None,
        )

    def warehouses(self, el: Any) -> list[Warehouse]:
        return [self.warehouse(w) for w in el if local(w.tag) == "Склад"]

    def warehouse(self, el: Any) -> Warehouse:
        """A warehouse, with the address and contacts a pickup point needs when 1C sends them."""
        address = child(el, "Адрес")
        fields = [child_text(f, "Значение") for _, f in children(address)] if address is not None else []
        shown = child_text(address, "Представление") if address is not None else ""
        contacts = child(el, "Контакты")
        return Warehouse(
            id=self.require_id(el),
            name=child_text(el, "Наименование"),
            deleted=as_bool(child_text(el, "ПометкаУдаления")),
            address=shown or ", ".join(f for f in fields if f) or None,
            contacts=[
                (child_text(c, "Тип"), child_text(c, "Значение"))
                for _, c in children(contacts) if child_text(c, "Значение")
            ] if contacts is not None else [],
        )  # fmt: skip

    def unit(self, el: Any) -> Unit:
        code = child_text(el, "Код")
        unit_id = child_text(el, "Ид") or code
        if not unit_id:  # a real 3.1 export has one whose Ид and Код are blanks: skipped, named
            raise self.read.error("у единицы измерения нет ни Ид, ни Код", el.sourceline)
        return Unit(
            id=unit_id,
            code=code or None,
            short_name=child_text(el, "НаименованиеКраткое") or None,
            full_name=child_text(el, "НаименованиеПолное") or None,
            international=child_text(el, "МеждународноеСокращение") or None,
        )

    def base_unit(self, el: Any) -> Unit | None:
        code = (el.get("Код") or "").strip()
        short = text(el)
        if self.read.cml3 and not code:  # 3.1: `<БазоваяЕдиница>796 </БазоваяЕдиница>`, a reference
            code, short = short, ""
        recalc = child(el, "Пересчет")
        if recalc is not None and not code:
            code = child_text(recalc, "Единица")
        if not code and not short:
            return None
        if short == code:
            short = ""
        return Unit(
            id=code or short,
            code=code or None,
            short_name=short or None,
            full_name=(el.get("НаименованиеПолное") or "").strip() or None,
            international=(el.get("МеждународноеСокращение") or "").strip() or None,
        )

    def characteristics(self, el: Any) -> list[Characteristic]:
        result = []
        for c in el:
            t = texts(c)
            result.append(
                Characteristic(t.get("Наименование", ""), t.get("Значение", ""), t.get("Ид") or None)
            )
        return result

    def property_values(self, el: Any) -> list[PropertyValue]:
        values = []
        for _, pv in children(el):
            prop_id = child_text(pv, "Ид")
            prop = self.read.properties.get(prop_id) or self.read.known_properties.get(prop_id)
            for name, v in children(pv):
                raw = text(v)
                if name != "Значение" or not raw or raw == _EMPTY_REF:
                    continue
                resolved = prop.values.get(raw, raw) if prop else raw
                values.append(
                    PropertyValue(id=prop_id, value=resolved, raw=raw, name=prop.name if prop else None)
                )
        return values

    def requisites(self, el: Any) -> dict[str, str]:
        result = {}
        for r in el:
            t = texts(r)
            if t.get("Наименование"):
                result[t["Наименование"]] = t.get("Значение", "")
        return result

    def product_requisites(self, p: Product, items: list[Any]) -> None:
        """`ЗначениеРеквизита` entries (wrapped or not); file descriptions, an HTML description
        and its file are the product's, not requisites (docs/clients.md §12)."""
        for r in items:
            t = texts(r)
            name, value = t.get("Наименование"), t.get("Значение", "")
            if not name:
                continue
            if name == "ОписаниеФайла":
                path, _, caption = value.partition("#")
                if path.strip() and caption.strip():
                    p.image_captions[path.strip().replace("\\", "/")] = caption.strip()
            elif name == "ОписаниеВФорматеHTML":
                p.description_html = html.unescape(value).strip() or p.description_html
            elif name == "Файл" and value.strip().lower().endswith((".html", ".htm")):
                p.description_file = value.strip().replace("\\", "/")
            else:
                p.requisites[name] = value

    def product(self, el: Any) -> Product:
        p = Product(id=self.require_id(el), name="")
        status = el.get("Статус")
        if status:
            p.status = status.strip()
        for c in el:
            name = local(c.tag)
            if name == "Наименование":
                p.name = text(c)
            elif name == "Артикул":
                p.sku = text(c) or None
            elif name in ("Штрихкод", "ШтрихКод"):
                if text(c):
                    p.barcodes.append(text(c))
            elif name == "Описание":
                p.description = text(c) or None
            elif name == "БазоваяЕдиница":
                p.unit = self.base_unit(c)
            elif name == "Группы":
                p.group_ids = [text(g) for _, g in children(c) if text(g)]
            elif name == "Категория":
                p.category_id = text(c) or None
            elif name == "Картинка":
                if text(c):
                    p.images.append(text(c))
            elif name == "Страна":
                p.country = text(c) or None
            elif name == "Изготовитель":
                p.manufacturer = child_text(c, "Наименование") or None
            elif name == "ЗначенияСвойств":
                p.properties = self.property_values(c)
            elif name == "ЗначенияРеквизитов":
                self.product_requisites(p, list(c))
            elif name == "ЗначениеРеквизита":  # some files leave out the wrapper
                self.product_requisites(p, [c])
            elif name == "ОписаниеВФорматеHTML":
                p.description_html = html.unescape(text(c)).strip() or None
            elif name in _DIMENSIONS:
                if text(c):
                    p.dimensions[_DIMENSIONS[name]] = as_decimal(text(c), name)
            elif name == "Вес":
                p.weight = as_decimal(text(c), "Вес") if text(c) else None
            elif name == "ПолноеНаименование":
                p.full_name = text(c) or None
            elif name == "СтавкиНалогов":
                p.taxes = [
                    TaxRate(child_text(t, "Наименование"), child_text(t, "Ставка")) for _, t in children(c)
                ]
            elif name == "ХарактеристикиТовара":
                p.characteristics = self.characteristics(c)
            elif name in BUNDLE_ELEMENTS:
                p.components += components(c)
            elif name == "ПометкаУдаления":
                p.deletion_mark = as_bool(text(c))
            elif name == "НомерВерсии":
                p.version = text(c) or None
            elif name == "Статус":
                p.status = text(c) or p.status
        return p

    def offer(self, el: Any) -> Offer:
        o = Offer(id="", parts=_NO_PARTS)
        parts: set[str] = set()
        variant = ""
        status = el.get("Статус")
        if status:
            o.status = status.strip()
        for c in el:  # the most frequent children first: this loop runs for every offer
            name = local(c.tag)
            if name == "Цены":
                found = [self.price(p) for p in c]
                o.prices = [p for p in found if p is not None]
                o.absent_prices += len(found) - len(o.prices)
                parts.add(PRICES)
            elif name == "Склад":
                warehouse_id = (c.get("ИдСклада") or "").strip()
                if warehouse_id:
                    o.stock.append(
                        StockEntry(
                            warehouse_id, as_decimal(c.get("КоличествоНаСкладе"), "КоличествоНаСкладе")
                        )
                    )
                parts.add(STOCK)
            elif name == "Ид":
                o.id = text(c)
            elif name == "Наименование":
                o.name = text(c)
                parts.add(INFO)
            elif name == "Количество":
                o.quantity = as_decimal(c.text, "Количество")
                parts.add(STOCK)
            elif name == "Артикул":
                o.sku = text(c) or None
            elif name in ("Штрихкод", "ШтрихКод"):
                if barcode := text(c):
                    o.barcodes.append(barcode)
            elif name == "БазоваяЕдиница":
                o.unit = self.base_unit(c)
            elif name == "ХарактеристикиТовара":
                o.characteristics = self.characteristics(c)
                parts.add(INFO)
            elif name == "ЗначенияСвойств":
                o.properties = self.property_values(c)
            elif name == "Остатки":
                self.rests(c, o)
                parts.add(STOCK)
            elif name == "ПометкаУдаления":
                o.deletion_mark = as_bool(c.text)
            elif name == "НомерВерсии":
                o.version = text(c) or None
            elif name == "Статус":
                o.status = text(c) or o.status
            elif name == "ИдХарактеристики":
                variant = text(c)
            elif name in _DIMENSIONS:  # 3.1 offers carry their own size and weight
                if text(c):
                    o.dimensions[_DIMENSIONS[name]] = as_decimal(text(c), name)
            elif name == "Вес":
                o.weight = as_decimal(text(c), "Вес") if text(c) else None
            elif name == "СкидкиНаценки":  # kept with the prices, as 1C-Bitrix keeps them
                o.quantity_breaks = quantity_breaks(c)
        if not o.id:
            raise self.read.error("у элемента Предложение нет Ид", el.sourceline)
        if variant and "#" not in o.id:  # the characteristic sent apart: `Ид#ИдХарактеристики`
            o.id = f"{o.id}#{variant}"
        o.parts = frozenset(parts)
        return o

    def rests(self, el: Any, offer: Offer) -> None:
        for _, rest in children(el):
            for name, c in children(rest):
                if name == "Склад":
                    offer.stock.append(
                        StockEntry(self.require_id(c), as_decimal(child_text(c, "Количество"), "Количество"))
                    )
                elif name == "Количество":
                    offer.quantity = as_decimal(text(c), "Количество")

    def price(self, el: Any) -> Price | None:
        """A `Цена`, or None when its `ЦенаЗаЕдиницу` is empty: "price on request" (Представление
        «Уточните у менеджера») is no price of that type — never 0 — and the offer stays."""
        t = raw_texts(el)
        if not (t.get("ЦенаЗаЕдиницу") or "").strip():
            return None
        coefficient = optional(t.get("Коэффициент"))
        min_quantity = optional(t.get("МинКоличество"))
        tax = child(el, "Налог")
        included = child_text(tax, "УчтеноВСумме") if tax is not None else ""
        return Price(
            price_type_id=(t.get("ИдТипаЦены") or "").strip(),
            value=as_decimal(t.get("ЦенаЗаЕдиницу"), "ЦенаЗаЕдиницу"),
            currency=optional(t.get("Валюта")),
            unit=optional(t.get("Единица")),
            coefficient=(as_decimal(coefficient, "Коэффициент") or Decimal(1)) if coefficient else None,
            presentation=optional(t.get("Представление")),
            tax_name=(child_text(tax, "Наименование") or None) if tax is not None else None,
            tax_included=as_bool(included) if included else None,
            min_quantity=as_decimal(min_quantity, "МинКоличество") if min_quantity else None,
        )

    # -- orders -------------------------------------------------------------------------------
