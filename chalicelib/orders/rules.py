"""Order rules: checking a shop order against the catalog, totals, statuses from 1C, and the
CommerceML shape of an order. Pure: no AWS, no HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError

from chalicelib import order_requests
from chalicelib.commerceml.model import OrderUpdate
from chalicelib.tenants import TenantSettings
from chalicelib.values import decimal_text, utc_stamp

STATUSES = ("new", "accepted", "paid", "shipped", "delivered", "cancelled")
# What `mode=info` publishes: stable ids a 1C consultant maps 1C's statuses to; they come back in
# 1C's documents as `Статуса заказа ИД` and as `[X] name` in `Статус заказа`.
STATUS_IDS = {"new": "N", "accepted": "A", "paid": "P", "shipped": "S", "delivered": "F", "cancelled": "C"}
STATUS_NAMES = {
    "new": "Новый",
    "accepted": "Принят",
    "paid": "Оплачен",
    "shipped": "Отгружен",
    "delivered": "Доставлен",
    "cancelled": "Отменён",
}
MAX_LINES = 90  # one DynamoDB transaction (≤ 100 items): the order, its number, ≤ 3 outbox entries, the
# Idempotency-Key marker, ≤ 2 contact keys (orders/customers.py) and a hold per line: at most 98


class OrderRejected(ValueError):
    """422: the order cannot be placed; `problems` names each bad field or line."""

    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.problems = problems


# ОКЕИ codes and names of units sold whole (piece, pack, set, pair, kit, roll, box, bottle).
PIECE_CODES = frozenset(("796", "778", "839", "704", "715", "736", "812", "868", "872"))
PIECE_NAMES = frozenset(("шт", "штука", "упак", "уп", "компл", "комплект", "пар", "пара", "набор"))
MAX_DECIMALS = 3  # a fractional quantity: to the gram, the millimetre, the millilitre


class InvalidOrder(ValueError):
    """400: the request body is not an order; `details` names each bad field."""

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class OfferFacts:
    """What the catalog says about an offer when the order is placed."""

    offer_id: str
    name: str
    active: bool
    price: Decimal | None
    currency: str | None
    stock: Decimal | None
    held: Decimal = Decimal(0)
    unit_code: str | None = None  # ОКЕИ code of the base unit (796: a piece)
    unit_name: str | None = None
    service: bool = False  # a service: never stock-checked, never held
    tiers: tuple[tuple[Decimal, Decimal], ...] = ()  # (МинКоличество, price) of the shop's type
    breaks: tuple[tuple[Decimal, Decimal], ...] = ()  # (from quantity, percent off): СкидкиНаценки

    def unit_price(self, quantity: Decimal) -> Decimal | None:
        """The price of one unit when `quantity` are bought: the highest quantity tier reached,
        less the highest volume discount reached — what the shop shows beside the offer."""
        if self.price is None:
            return None
        price = next((value for minimum, value in reversed(self.tiers) if quantity >= minimum), self.price)
        percent = next((off for minimum, off in reversed(self.breaks) if quantity >= minimum), None)
        if percent:
            price = (price * (100 - percent) / 100).quantize(CENT, ROUND_HALF_UP)
        return price

    @property
    def available(self) -> Decimal:
        """What may still be ordered: 1C's stock (negative counts as none) less what is held."""
        return max(self.stock or Decimal(0), Decimal(0)) - self.held

    @property
    def by_the_piece(self) -> bool:
        """Sold in whole units: a piece, pack, set or pair (or no unit said); kilograms, metres
        and litres may be ordered in fractions."""
        if self.unit_code:
            return self.unit_code.strip() in PIECE_CODES
        return not self.unit_name or self.unit_name.strip().lower().rstrip(".") in PIECE_NAMES


@dataclass
class OrderRequest:
    customer: dict[str, Any]
    lines: list[tuple[str, Decimal]]
    delivery: dict[str, Any] = field(default_factory=dict)
    payment_method: str | None = None
    comment: str | None = None
    payment: dict[str, Any] | None = None
    line_discounts: list[dict[str, Any] | None] = field(default_factory=list)  # aligned with lines
    discounts: list[dict[str, Any]] = field(default_factory=list)  # the order's, applied in order


def parse_request(body: Any) -> OrderRequest:
    """An order request, checked against its shape (`chalicelib/shapes.py`): every bad field is
    named in `details` ({field, reason}), the message says the first."""
    if not isinstance(body, dict):
        raise InvalidOrder("the body must be a JSON object")
    try:
        checked = order_requests.OrderRequest.model_validate(body)
    except ValidationError as exc:
        problems = order_requests.validation_problems(exc)
        first = problems[0]
        raise InvalidOrder(f"{first['field']} {first['reason']}", problems) from None
    customer = checked.customer.model_dump(exclude_none=True)
    delivery = checked.delivery.model_dump(exclude_none=True) if checked.delivery else {}
    return OrderRequest(
        customer,
        [(line.offer_id, line.quantity) for line in checked.lines],
        delivery,
        checked.payment_method,
        checked.comment,
        payment_of(checked.payment.model_dump(exclude_none=True)) if checked.payment else None,
        [line.discount.model_dump(exclude_none=True) if line.discount else None for line in checked.lines],
        [d.model_dump(exclude_none=True) for d in checked.discounts],
    )


def parse_payment(body: Any) -> dict[str, Any]:
    """`POST /orders/{id}/payment`'s body, checked like an order's `payment`."""
    try:
        checked = order_requests.Payment.model_validate(body)
    except ValidationError as exc:
        problems = order_requests.validation_problems(exc)
        raise InvalidOrder(f"payment.{problems[0]['field']} {problems[0]['reason']}", problems) from None
    return payment_of(checked.model_dump(exclude_none=True))


def payment_of(data: dict[str, Any]) -> dict[str, Any]:
    """A payment as the order keeps it (amount as text: exact)."""
    return {k: (decimal_text(v) if isinstance(v, Decimal) else v) for k, v in data.items()}


def fixable_fields(fields: dict[str, Any]) -> dict[str, str | None]:
    """`section.key=value` corrections a person may make, each checked like POST /orders."""
    cleaned = {}
    for path, value in fields.items():
        if path not in order_requests.FIXABLE:
            raise InvalidOrder(
                f"{path} cannot be changed; one of: {', '.join(sorted(order_requests.FIXABLE))}"
            )
        try:
            cleaned[path] = order_requests.FIXABLE[path].validate_python(value)
        except ValidationError as exc:
            raise InvalidOrder(f"{path} {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    return cleaned


def price_lines(
    request: OrderRequest, facts: dict[str, OfferFacts], backorder: bool = False
) -> list[dict[str, Any]]:
    """Check every line; raise OrderRejected naming each bad one. With `backorder` (the tenant's
    stock policy) a line beyond the stock is taken and marked; services are never stock-checked."""
    problems, priced = [], []
    wanted: dict[str, Decimal] = {}
    for offer_id, quantity in request.lines:
        wanted[offer_id] = wanted.get(offer_id, Decimal(0)) + quantity
    for n, (offer_id, quantity) in enumerate(request.lines):
        fact = facts.get(offer_id)
        reason = quantity_problem(quantity, fact)
        short = fact is not None and not fact.service and wanted[offer_id] > fact.available
        if reason:
            pass
        elif fact is None:
            reason = "no such offer in the catalog"
        elif not fact.active:
            reason = "the offer is no longer sold"
        elif fact.price is None:
            reason = "the offer has no price of the shop's price type"
        elif short and not backorder:
            reason = f"only {_plain(max(fact.available, Decimal(0)))} available"
        if reason or fact is None or fact.price is None:
            problems.append({"line": n, "offer_id": offer_id, "reason": reason})
            continue
        price = fact.unit_price(wanted[offer_id]) or fact.price
        gross = (price * quantity).quantize(CENT, ROUND_HALF_UP)
        line = {
            "offer_id": offer_id,
            "name": fact.name,
            "quantity": quantity,
            "price": price,
            "amount": gross,
            "currency": fact.currency,
        }
        wanted_discount = request.line_discounts[n] if n < len(request.line_discounts) else None
        if wanted_discount:
            given = applied(wanted_discount, gross)
            line["discount"], line["amount"] = given, gross - given["amount"]
        if fact.service:
            line["service"] = True
        elif short:
            line["backorder"] = True
        priced.append(line)
    if problems:
        raise OrderRejected("some lines cannot be ordered", problems)
    return priced


def quantity_problem(quantity: Decimal, fact: OfferFacts | None) -> str | None:
    """Positive; whole for goods sold by the piece; at most MAX_DECIMALS places otherwise."""
    if quantity <= 0:
        return "quantity must be positive"
    whole = quantity == quantity.to_integral()
    if not whole and (fact is None or fact.by_the_piece):
        return "quantity must be a whole number: this offer is sold by the piece"
    if not whole and quantity != round(quantity, MAX_DECIMALS):
        return f"quantity has at most {MAX_DECIMALS} decimal places"
    return None


CENT = Decimal("0.01")


def applied(discount: dict[str, Any], base: Decimal) -> dict[str, Any]:
    """A discount on `base`: its amount, or its percent of the base, to the kopeck (half up),
    never more than the base — so nothing is ever priced below zero."""
    wanted = (
        Decimal(discount["amount"]) if "amount" in discount else base * Decimal(discount["percent"]) / 100
    )
    return {**discount, "amount": min(wanted, base).quantize(CENT, ROUND_HALF_UP)}


def order_discounts(items: Decimal, discounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order's discounts, each on what the ones before it left (lines already discounted)."""
    given, left = [], items
    for discount in discounts:
        one = applied(discount, left)
        given.append(one)
        left -= one["amount"]
    return given


def totals(
    lines: list[dict[str, Any]], delivery: dict[str, Any], discounts: list[dict[str, Any]] | None = None
) -> dict[str, Decimal | str | None]:
    """Items (after line discounts) less the order's discounts, plus delivery — computed here,
    never taken from the shop."""
    items = sum((line["amount"] for line in lines), Decimal(0))
    discount = sum((d["amount"] for d in discounts or ()), Decimal(0))
    shipping = Decimal(delivery.get("price") or 0)
    return {
        "items": items,
        "discount": discount,
        "delivery": shipping,
        "total": items - discount + shipping,
        "currency": lines[0]["currency"] if lines else None,
    }


def _plain(value: Decimal) -> str:
    return decimal_text(value)


def history_entry(status: str, source: str, note: str | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "at": utc_stamp(),
        "source": source,
        "note": note,
    }


_BRACKETED = re.compile(r"^\[(\w+)\]\s*(.*)$")
_BY_ID = {status_id: status for status, status_id in STATUS_IDS.items()}


def mapped_status(update: OrderUpdate, settings: TenantSettings) -> str | None:
    """1C's status as ours: by `Статуса заказа ИД` (the ids `mode=info` published, or the
    tenant's own in `status_map`), then by the `[X] name` form, then by the name."""
    candidates: list[str] = []
    if update.status_id:
        candidates.append(update.status_id.strip())
    text = (update.status_text or "").strip()
    bracketed = _BRACKETED.match(text)
    if bracketed:
        candidates.append(bracketed.group(1))
    for candidate in candidates:
        found = _BY_ID.get(candidate.upper()) or settings.status_map.get(candidate.lower())
        if found in STATUSES:
            return found
    for name in (text, bracketed.group(2) if bracketed else None):
        found = settings.status_for(name) if name else None
        if found:
            return found
    return None


def status_from_1c(update: OrderUpdate, current: str, settings: TenantSettings) -> str:
    """The normalised status 1C's document implies (never moves a cancelled order)."""
    if update.cancelled or update.deletion_mark:
        return "cancelled"
    mapped = mapped_status(update, settings)
    if mapped in ("delivered", "cancelled"):
        return mapped
    if update.shipped:
        return "shipped"
    if update.paid:
        return "paid"
    if mapped:
        return mapped
    if update.posted or update.number_1c:
        return "accepted" if current == "new" else current
    return current


def one_c_facts(update: OrderUpdate) -> dict[str, Any]:
    return {
        "number": update.number_1c,
        "date": update.date_1c,
        "posted": update.posted,
        "paid": update.paid,
        "payment_number": update.payment_number,
        "payment_date": update.payment_date,
        "shipped": update.shipped,
        "shipment_number": update.shipment_number,
        "shipment_date": update.shipment_date,
        "cancelled": update.cancelled,
        "status_text": update.status_text,
        "status_id": update.status_id,
        "delivery_address": update.delivery_address,
        "delivery_method_id": update.delivery_method_id,
        "tracking_number": update.tracking_number,
        "returned": update.returned,
        "manager": update.manager,
    }
