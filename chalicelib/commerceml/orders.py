"""1C's order documents (1C → site) normalised into OrderUpdate. Pure."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

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
    )
