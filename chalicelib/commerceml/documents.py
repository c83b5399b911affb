"""Order documents of CommerceML 2 (1C → site): the document, its counterparties, addresses
and lines. Pure; a mixin of the reader."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.commerceml.elements import CatalogElements, ReadContext
from chalicelib.commerceml.model import (
    Address,
    Contractor,
    DiscountEntry,
    Order,
    OrderLine,
)
from chalicelib.commerceml.xml import (
    as_bool,
    as_decimal,
    child,
    child_text,
    children,
    text,
)


class OrderDocuments:
    """Order documents: 1C's orders with their parties, lines and requisites."""

    def __init__(self, read: ReadContext, elements: CatalogElements) -> None:
        self.read, self.elements = read, elements

    def order(self, el: Any) -> Order:
        amount = child_text(el, "Сумма")
        rate = child_text(el, "Курс")
        order = Order(
            id=child_text(el, "Ид"),
            number=child_text(el, "Номер"),
            date=child_text(el, "Дата"),
            amount=as_decimal(amount, "Сумма") if amount else Decimal(0),
        )
        if not order.id and not order.number:
            raise self.read.error("у документа нет ни Ид, ни Номер", el.sourceline)
        order.rate = as_decimal(rate, "Курс") if rate else Decimal(1)
        for name, c in children(el):
            value = text(c)
            if name == "Время":
                order.time = value or None
            elif name == "Валюта":
                order.currency = value or order.currency
            elif name == "ХозОперация":
                order.operation = value
            elif name == "Роль":
                order.role = value
            elif name == "Комментарий":
                order.comment = value or None
            elif name == "Номер1С":
                order.number_1c = value or None
            elif name == "Дата1С":
                order.date_1c = value or None
            elif name == "ПометкаУдаления":
                order.deletion_mark = as_bool(value)
            elif name == "НомерВерсии":
                order.version = value or None
            elif name in ("Основание", "ДокументОснование"):
                order.basis = child_text(c, "Ид") or child_text(c, "Номер") or value or None
            elif name == "Контрагенты":
                order.contractors = [self.contractor(k) for _, k in children(c)]
            elif name == "Товары":
                order.lines = [self.order_line(t) for _, t in children(c)]
            elif name == "ЗначенияРеквизитов":
                order.requisites = self.elements.requisites(c)
            elif name == "Скидки":
                order.discounts = self.discounts(c)
            elif name == "Склады":
                order.warehouses = [self.elements.warehouse(w) for _, w in children(c)]
        return order

    def contractor(self, el: Any) -> Contractor:
        k = Contractor(id=child_text(el, "Ид"), name=child_text(el, "Наименование"))
        for name, c in children(el):
            value = text(c)
            if name == "Роль":
                k.role = value
            elif name in ("ПолноеНаименование", "ОфициальноеНаименование"):
                k.full_name = k.full_name or value or None
            elif name == "Фамилия":
                k.last_name = value or None
            elif name == "Имя":
                k.first_name = value or None
            elif name == "ИНН":
                k.inn = value or None
            elif name == "КПП":
                k.kpp = value or None
            elif name in ("АдресРегистрации", "Адрес", "ЮридическийАдрес"):
                k.address = k.address or self.address(c)
            elif name == "Контакты":
                for _, contact in children(c):
                    kind = child_text(contact, "Тип") or child_text(contact, "КонтактВид")
                    if kind:
                        k.contacts[kind] = child_text(contact, "Значение")
            elif name == "Представители":
                for _, rep in children(c):
                    inner = child(rep, "Контрагент")
                    k.contact_person = child_text(inner if inner is not None else rep, "Наименование")
        return k

    def address(self, el: Any) -> Address:
        fields = {}
        for name, c in children(el):
            if name == "АдресноеПоле":
                fields[child_text(c, "Тип")] = child_text(c, "Значение")
        return Address(presentation=child_text(el, "Представление"), fields=fields)

    def order_line(self, el: Any) -> OrderLine:
        requisites = (
            self.elements.requisites(child(el, "ЗначенияРеквизитов"))
            if child(el, "ЗначенияРеквизитов") is not None
            else {}
        )
        unit_el = child(el, "БазоваяЕдиница")
        unit_block = child(el, "Единица")
        unit_name, unit_code = None, None
        if unit_el is not None:
            unit_name, unit_code = text(unit_el) or None, (unit_el.get("Код") or "").strip() or None
        elif unit_block is not None:
            unit_name = child_text(unit_block, "НаименованиеКраткое") or None
            unit_code = child_text(unit_block, "Код") or None
        price = child_text(el, "ЦенаЗаЕдиницу") or child_text(el, "Цена")
        quantity = as_decimal(child_text(el, "Количество") or "0", "Количество")
        unit_price = as_decimal(price or "0", "ЦенаЗаЕдиницу")
        amount = child_text(el, "Сумма")
        return OrderLine(
            id=child_text(el, "Ид"),
            name=child_text(el, "Наименование"),
            quantity=quantity,
            unit_price=unit_price,
            amount=as_decimal(amount, "Сумма") if amount else quantity * unit_price,
            unit=unit_name,
            unit_code=unit_code,
            kind=requisites.get("ТипНоменклатуры", "Товар"),
            catalog_id=child_text(el, "ИдКаталога") or None,
            requisites=requisites,
            discounts=self.discounts(child(el, "Скидки")),
        )

    def discounts(self, el: Any) -> list[DiscountEntry]:
        """`Скидки/Скидка`: name, amount and percent (what 1C counted into the amounts)."""
        if el is None:
            return []
        found = []
        for _, d in children(el):
            amount, percent = child_text(d, "Сумма"), child_text(d, "Процент")
            found.append(
                DiscountEntry(
                    child_text(d, "Наименование") or "Скидка",
                    as_decimal(amount, "Скидка/Сумма") if amount else Decimal(0),
                    as_decimal(percent, "Скидка/Процент") if percent else None,
                )
            )
        return found
