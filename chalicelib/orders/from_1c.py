"""What 1C's documents make of site orders, without any I/O: the lines and total a manager
changed in 1C, a line saying what changed, and a site order of an order keyed in 1C."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.commerceml.model import DiscountEntry, OrderUpdate
from chalicelib.commerceml.model import Order as Document
from chalicelib.orders.rules import history_entry
from chalicelib.ports import new_id
from chalicelib.values import decimal_text, utc_stamp

MAX_CUSTOMER_ID = 100  # as the shop API takes one (a key of the orders' customer index)

Edited = tuple[list[dict[str, Any]], dict[str, Decimal | str | None], list[dict[str, Any]]]


def lines_from_1c(order: dict[str, Any], update: OrderUpdate) -> Edited | None:
    """The order's lines, totals and discounts as 1C's document has them, when its lines differ
    from the site's (a manager changed a quantity, swapped an item, re-priced): None when they are
    the same or 1C sent no lines. 1C's amounts, discounts (`Скидки`, counted in its amounts) and
    total are the truth; the delivery stays the site's."""
    if not update.lines:
        return None
    theirs = [(line.id, Decimal(line.quantity), Decimal(line.unit_price)) for line in update.lines]
    ours = [
        (line["offer_id"], Decimal(str(line["quantity"])), Decimal(str(line["price"])))
        for line in order["lines"]
    ]
    if sorted(theirs) == sorted(ours):
        return None
    was = {line["offer_id"]: line for line in order["lines"]}
    currency = order["totals"].get("currency")
    lines = []
    for line in update.lines:
        kept = {k: v for k, v in was.get(line.id, {}).items() if k in ("service", "backorder")}
        if line.discounts:
            kept["discount"] = _discount(line.discounts)
        lines.append(
            {"offer_id": line.id, "name": line.name or was.get(line.id, {}).get("name") or line.id,
             "quantity": Decimal(line.quantity), "price": Decimal(line.unit_price), "amount": Decimal(line.amount),
             "currency": currency, **kept}
        )  # fmt: skip
    items = sum((line["amount"] for line in lines), Decimal(0))
    shipping = Decimal(str(order["totals"].get("delivery") or 0))
    total = update.amount if update.amount else items + shipping
    discount = max(items + shipping - total, Decimal(0))
    given = [
        {"name": d.name, "amount": d.amount, **({"percent": d.percent} if d.percent is not None else {})}
        for d in update.discounts
    ] or ([{"name": "Скидка 1С", "amount": discount}] if discount else [])
    totals: dict[str, Decimal | str | None] = {
        "items": items, "discount": discount, "delivery": shipping, "total": items + shipping - discount,
        "currency": currency,
    }  # fmt: skip
    return lines, totals, given


def _discount(entries: list[DiscountEntry]) -> dict[str, Any]:
    """A line's discounts from 1C as the site keeps one: their names and what they took off."""
    return {
        "name": ", ".join(d.name for d in entries),
        "amount": sum((d.amount for d in entries), Decimal(0)),
    }


def describe_edit(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    """What 1C changed, in a line a person reads: `Чайник 2→3, +Кружка 1, −Ложка`."""
    old = {line["offer_id"]: line for line in before}
    new = {line["offer_id"]: line for line in after}
    parts = []
    for offer, line in new.items():
        if offer not in old:
            parts.append(f"+{line['name']} {decimal_text(Decimal(str(line['quantity'])))}")
        elif Decimal(str(old[offer]["quantity"])) != Decimal(str(line["quantity"])):
            parts.append(
                f"{line['name']} {decimal_text(Decimal(str(old[offer]['quantity'])))}→{decimal_text(Decimal(str(line['quantity'])))}"
            )
        elif Decimal(str(old[offer]["price"])) != Decimal(str(line["price"])):
            parts.append(
                f"{line['name']} цена {decimal_text(Decimal(str(old[offer]['price'])))}→{decimal_text(Decimal(str(line['price'])))}"
            )
    parts += [f"−{line['name']}" for offer, line in old.items() if offer not in new]
    return ", ".join(parts) or "строки"


def order_from_1c(doc: Document, number: str) -> dict[str, Any]:
    """A site order of an order keyed in 1C: its customer, lines and total as 1C has them."""
    party = doc.contractors[0] if doc.contractors else None
    name = (party.full_name or party.name) if party else "Покупатель 1С"
    contacts = party.contacts if party else {}
    customer = {
        "name": name,
        **({"id": party.id} if party and party.id and len(party.id) <= MAX_CUSTOMER_ID else {}),
        **({"email": contacts["Почта"]} if contacts.get("Почта") else {}),
        **({"phone": contacts.get("ТелефонРабочий") or contacts.get("Телефон")} if contacts else {}),
    }
    lines: list[dict[str, Any]] = [
        {"offer_id": line.id, "name": line.name or line.id, "quantity": Decimal(line.quantity),
         "price": Decimal(line.unit_price), "amount": Decimal(line.amount), "currency": doc.currency}
        for line in doc.lines if line.id != "ORDER_DELIVERY"
    ]  # fmt: skip
    items = sum((line["amount"] for line in lines), Decimal(0))
    stamp = utc_stamp()
    return {
        "id": new_id(), "number": number, "status": "accepted", "created_at": stamp, "updated_at": stamp,
        "customer": {k: v for k, v in customer.items() if v}, "lines": lines, "delivery": {},
        "payment_method": None, "payment": None, "discounts": [], "comment": doc.comment,
        "totals": {"items": items, "discount": Decimal(0), "delivery": Decimal(0),
                   "total": Decimal(doc.amount or items), "currency": doc.currency},
        "history": [history_entry("accepted", "1c", f"создан в 1С, № {doc.number}")],
        "one_c": {"number": doc.number, "date": doc.date}, "manager": None, "exported_at": stamp,
        "hold": "released", "from_1c": True,
    }  # fmt: skip
