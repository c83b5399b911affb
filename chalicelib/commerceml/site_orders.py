"""The site's order → the CommerceML document a real 1C imports without losing fields. Pure.

What real 1C clients keep and drop (docs/clients.md §9–10): a contact typed `Телефон` is dropped,
`ТелефонРабочий` with digits only is kept, e-mail is `Почта`; an address becomes the
counterparty's only through typed `АдресноеПоле` entries; `ОфициальноеНаименование` makes a
legal entity (without it 1C creates an individual); a foreign currency code makes 1C recount
at an exchange rate; Организация and Склад are read from `ЗначенияРеквизитов` by exact name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.commerceml.model import DELIVERY_LINE_ID, Address, Contractor, DiscountEntry, Order, OrderLine

# The site's structured address → 1C's `АдресноеПоле` types, in the order 1C lists them.
ADDRESS_FIELDS = {
    "postcode": "Почтовый индекс",
    "country": "Страна",
    "region": "Регион",
    "city": "Город",
    "street": "Улица",
    "house": "Дом",
    "flat": "Квартира",
}


@dataclass(frozen=True)
class OrderOptions:
    """How a tenant's 1C wants its orders."""

    currency: str = "RUB"
    organization: str | None = None
    warehouse: str | None = None
    site: str = "cmlbridge"
    # the site's statuses as `mode=info` publishes them: status → (id, name), sent as 1C-Bitrix
    # does («[N] Принят» with `Статуса заказа ИД` N) so 1C maps them as it maps Bitrix's
    statuses: tuple[tuple[str, str, str], ...] = ()


def address_of(value: Any) -> Address | None:
    """A typed address from the site's structured one, or only a presentation from free text."""
    if not value:
        return None
    if isinstance(value, str):
        return Address(presentation=value)
    fields = {ADDRESS_FIELDS[k]: str(v) for k, v in value.items() if k in ADDRESS_FIELDS and v}
    return Address(presentation=presentation(value), fields=fields)


def presentation(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(str(value[k]) for k in ADDRESS_FIELDS if value.get(k))
    return str(value or "")


def phone_digits(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits or None


_ROUBLE = {"rub", "rur", "руб", "руб.", "643", "₽"}


def document_currency(order_currency: str | None, base: str) -> str:
    """The currency the order's prices are in, as 1C's base currency when it is that one (the
    tenant's `order_currency`: 1C reads it without recounting), else its own code (1C recounts
    at its rate, as it should: the prices are in that currency)."""
    code = (order_currency or "").strip()
    if not code or code.lower() == base.lower() or {code.lower(), base.lower()} <= _ROUBLE:
        return base
    return code


_PATRONYMIC = ("вич", "вна", "чна", "оглы", "кызы")


def name_parts(customer: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(Фамилия, Имя, Отчество): the parts the shop sent, else split from the whole name — two
    words are «Имя Фамилия» (how a site's form asks), three ending in a patronymic are «Фамилия Имя
    Отчество» (how Russian documents write it), otherwise the first word is the first name."""
    sent = [customer.get(k) for k in ("last_name", "first_name", "middle_name")]
    if any(sent):
        return sent[0], sent[1], sent[2]
    words = str(customer.get("name") or "").split()
    tail = 2 if len(words) > 2 and words[-1].lower() in ("оглы", "кызы") else 1  # «Рашид кызы»
    if len(words) - tail == 2 and words[-1].lower().endswith(_PATRONYMIC):
        return words[0], words[1], " ".join(words[2:])
    if len(words) >= 2:
        return " ".join(words[1:]), words[0], None
    return None, (words[0] if words else None), None


def contractor(order: dict[str, Any]) -> Contractor:
    customer = order["customer"]
    name = str(customer["name"]).strip()
    last, first, middle = name_parts(customer)
    company = customer.get("company")
    address = address_of(customer.get("address") or (order.get("delivery") or {}).get("address"))
    contacts = {"Почта": customer.get("email"), "ТелефонРабочий": phone_digits(customer.get("phone"))}
    return Contractor(
        id=customer.get("id") or f"{order['id']}#customer",
        name=company or name,
        full_name=company or name,
        official_name=company or None,
        last_name=None if company else last,
        first_name=None if company else first,
        middle_name=None if company else middle,
        inn=customer.get("inn"),
        kpp=customer.get("kpp") if company else None,
        address=address,
        contacts={k: v for k, v in contacts.items() if v},
        contact_person=name,
    )


def _status_requisites(status: str, options: OrderOptions) -> dict[str, str]:
    known = {site: (status_id, name) for site, status_id, name in options.statuses}
    if status not in known:
        return {"Статус заказа": status}
    status_id, name = known[status]
    return {"Статус заказа": f"[{status_id}] {name}", "Статуса заказа ИД": status_id}


def discount_entry(discount: dict[str, Any]) -> DiscountEntry:
    name = str(discount["name"]) + (f" ({discount['coupon']})" if discount.get("coupon") else "")
    percent = discount.get("percent")
    return DiscountEntry(name, Decimal(str(discount["amount"])), Decimal(str(percent)) if percent else None)


def order_document(order: dict[str, Any], options: OrderOptions = OrderOptions()) -> Order:
    """The stored order → the document 1C imports (docs/protocol.md §8.6, docs/clients.md §9–10)."""
    lines = [
        OrderLine(
            id=line["offer_id"],
            name=line["name"],
            quantity=Decimal(str(line["quantity"])),
            unit_price=Decimal(str(line["price"])),
            amount=Decimal(str(line["amount"])),
            discounts=[discount_entry(line["discount"])] if line.get("discount") else [],
        )
        for line in order["lines"]
    ]
    delivery = order.get("delivery") or {}
    shipping = Decimal(str(order["totals"]["delivery"]))
    if shipping or delivery.get("method"):
        method = delivery.get("method") or "Доставка"
        lines.append(OrderLine(DELIVERY_LINE_ID, method, Decimal(1), shipping, shipping, kind="Услуга"))
    payment = order.get("payment") or {}
    paid = payment.get("status") == "paid"
    requisites = {
        "Метод оплаты": order.get("payment_method") or "",
        "Заказ оплачен": "true" if paid else "false",
        "Доставка разрешена": "true" if paid else "false",  # as 1C-Bitrix: a paid order may ship
        "Отменен": "true" if order["status"] == "cancelled" else "false",
        "Финальный статус": "false",
        **_status_requisites(order["status"], options),
        "Способ доставки": delivery.get("method") or "",
        "Адрес доставки": presentation(delivery.get("address") or order["customer"].get("address")),
        "Сайт": options.site,
    }
    if delivery.get("method_id"):
        requisites["Метод доставки ИД"] = str(delivery["method_id"])
    if paid:  # as the 1C-Bitrix add-on reads a paid order
        requisites.update(
            {
                "Дата оплаты": str(payment.get("paid_at") or ""),
                "Номер платежного документа": str(payment.get("document") or ""),
                "Метод оплаты ИД": str(payment.get("method_id") or ""),
            }
        )
    if options.organization:
        requisites["Организация"] = options.organization
    if options.warehouse:
        requisites["Склад"] = options.warehouse
    if order.get("manager"):
        requisites["ОтветственныйМенеджер"] = order["manager"]
    created = order["created_at"]
    return Order(
        id=order["id"],
        number=order["number"],
        date=created[:10],
        time=created[11:19],
        amount=Decimal(str(order["totals"]["total"])),
        currency=document_currency(order["totals"].get("currency"), options.currency),
        comment=order.get("comment"),
        contractors=[contractor(order)],
        lines=lines,
        discounts=[discount_entry(d) for d in order.get("discounts") or ()],
        requisites=requisites,
    )
