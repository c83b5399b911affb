"""1C's order documents (1C → site) normalised into OrderUpdate. Pure."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum

from chalicelib.commerceml.model import DELIVERY_LINE_ID, Order, OrderUpdate
from chalicelib.commerceml.xml import as_bool


def _flag(requisites: dict[str, str], *names: str) -> bool | None:
    for name in names:
        if name in requisites:
            return as_bool(requisites[name])
    return None


def _first(requisites: dict[str, str], *names: str) -> str | None:
    for name in names:
        value = (requisites.get(name) or "").strip()
        if value:
            return value
    return None


def _money(value: str | None) -> Decimal | None:
    try:
        return Decimal(value.replace(",", ".").replace(" ", "")) if value else None
    except InvalidOperation:
        return None


def to_update(doc: Order) -> OrderUpdate:
    """Read what 1C reports: payment and shipment only appear once complete (docs/protocol.md §8.7)."""
    r = doc.requisites
    payment_number = _first(r, "Номер оплаты по 1С", "Номер платежного документа")
    payment_date = _first(r, "Дата оплаты по 1С", "Дата оплаты")
    shipment_number = _first(r, "Номер отгрузки по 1С")
    shipment_date = _first(r, "Дата отгрузки по 1С")
    paid = _flag(r, "Оплачен", "Заказ оплачен")
    shipped = _flag(r, "Отгружен", "Доставка разрешена")
    delivery_line = next((line for line in doc.lines if line.id == DELIVERY_LINE_ID), None)
    delivery_price = _money(_first(r, "Стоимость доставки"))
    if delivery_price is None and delivery_line is not None:
        delivery_price = delivery_line.amount
    return OrderUpdate(
        id=doc.id,
        number=doc.number,
        number_1c=doc.number_1c or _first(r, "Номер по 1С"),
        date_1c=doc.date_1c or _first(r, "Дата по 1С"),
        posted=_flag(r, "Проведен"),
        paid=True if payment_number else paid,
        payment_number=payment_number,
        payment_date=payment_date,
        shipped=True if shipment_number else shipped,
        shipment_number=shipment_number,
        shipment_date=shipment_date,
        cancelled=_flag(r, "Отменен"),
        deletion_mark=doc.deletion_mark or bool(_flag(r, "ПометкаУдаления")),
        status_text=_first(r, "Статус заказа"),
        status_id=_first(r, "Статуса заказа ИД", "Статус заказа ИД"),
        delivery_method=_first(r, "Способ доставки", "Метод доставки"),
        delivery_method_id=_first(r, "Метод доставки ИД", "Способ доставки ИД"),
        tracking_number=_first(r, "Идентификатор отправления", "Номер отправления", "Трек-номер"),
        returned=_flag(r, "ПризнакВозврата", "Возврат"),
        delivery_address=_first(r, "Адрес доставки"),
        delivery_price=delivery_price,
        manager=_first(r, "ОтветственныйМенеджер", "Ответственный менеджер"),
        amount=doc.amount,
        lines=[line for line in doc.lines if line.id != DELIVERY_LINE_ID],
        discounts=list(doc.discounts),
    )


class DocumentKind(StrEnum):
    ORDER = "order"
    PAYMENT = "payment"
    SHIPMENT = "shipment"
    OTHER = "other"


# `ХозОперация` values 1C writes (CommerceML 2.x): what each document does to a site order.
_KINDS = {
    "заказ товара": DocumentKind.ORDER,
    "выплата наличных денег": DocumentKind.PAYMENT,
    "выплата безналичных денег": DocumentKind.PAYMENT,
    "эквайринговая операция": DocumentKind.PAYMENT,
    "оплата": DocumentKind.PAYMENT,
    "отпуск товара": DocumentKind.SHIPMENT,
    "реализация": DocumentKind.SHIPMENT,
    "реализация товаров": DocumentKind.SHIPMENT,
}
# Requisites in which 1C may name the order a payment or shipment belongs to.
_ORDER_REFERENCES = ("Заказ", "Номер заказа", "Заказ покупателя", "Заказ клиента", "Номер заказа на сайте")


def document_kind(doc: Order) -> DocumentKind:
    """What a 1C document is, by its `ХозОперация` (an absent one is an order, as 1C-Bitrix reads)."""
    operation = (doc.operation or "").strip().lower()
    return _KINDS.get(operation, DocumentKind.ORDER if not operation else DocumentKind.OTHER)


def order_reference(doc: Order) -> str | None:
    """The order a payment or shipment names: its `Основание`, else a requisite that says so."""
    return doc.basis or _first(doc.requisites, *_ORDER_REFERENCES)


def settlement(doc: Order, kind: DocumentKind, order_id: str) -> OrderUpdate:
    """A payment or a shipment as what it tells the order it belongs to."""
    if kind is DocumentKind.PAYMENT:
        return OrderUpdate(
            id=order_id, number="", paid=True, payment_number=doc.number, payment_date=doc.date
        )
    return OrderUpdate(
        id=order_id, number="", shipped=True, shipment_number=doc.number, shipment_date=doc.date
    )
