"""Order rules: checking a shop order against the catalog, totals, statuses from 1C, and the
CommerceML shape of an order. Pure: no AWS, no HTTP."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.commerceml.model import OrderUpdate
from chalicelib.tenants import TenantSettings

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
MAX_LINES = 90  # one DynamoDB transaction: the order, its number, an outbox entry, a hold per line
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class OrderRejected(ValueError):
    """422: the order cannot be placed; `problems` names each bad field or line."""

    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.problems = problems


class InvalidOrder(ValueError):
    """400: the request body is not an order at all."""


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

    @property
    def available(self) -> Decimal:
        return (self.stock or Decimal(0)) - self.held


@dataclass
class OrderRequest:
    customer: dict[str, Any]
    lines: list[tuple[str, Decimal]]
    delivery: dict[str, Any] = field(default_factory=dict)
    payment_method: str | None = None
    comment: str | None = None


# Field limits: what a real order needs, far below what would make an item or a 1C document fail.
TEXT_LIMITS = {
    "customer.name": 200,
    "customer.company": 300,
    "customer.email": 254,
    "customer.phone": 50,
    "customer.address": 500,
    "customer.inn": 12,
    "customer.kpp": 9,
    "customer.id": 100,
    "delivery.method": 200,
    "delivery.address": 500,
    "payment_method": 200,
    "comment": 2000,
    "lines[].offer_id": 200,
    "address part": 200,
}
MAX_QUANTITY = Decimal(100_000)
MAX_DELIVERY_PRICE = Decimal(10_000_000)
_MULTILINE = {"comment", "delivery.address", "customer.address"}


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidOrder(f"{what} must be a number")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidOrder(f"{what} must be a number") from None
    if not number.is_finite():
        raise InvalidOrder(f"{what} must be a number")
    return number


def clean_text(value: Any, what: str, required: bool = False, kind: str | None = None) -> str | None:
    """Text a 1C document can carry: a string within its limit, valid Unicode (no lone
    surrogates), no control characters (line breaks only in comments and addresses)."""
    if value is None or value == "":
        if required:
            raise InvalidOrder(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise InvalidOrder(f"{what} must be a string")
    limit = TEXT_LIMITS[kind or what]
    if len(value) > limit:
        raise InvalidOrder(f"{what} is longer than {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidOrder(f"{what} is not valid Unicode text") from None
    allowed = "\n\r\t" if what in _MULTILINE else ""
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in allowed for c in value):
        raise InvalidOrder(f"{what} contains control characters")
    value = value.strip()
    if required and not value:
        raise InvalidOrder(f"{what} is required")
    return value or None


ADDRESS_KEYS = ("postcode", "country", "region", "city", "street", "house", "flat")


def clean_address(value: Any, what: str) -> str | dict[str, str] | None:
    """Free text, or the structured address 1C files as typed fields (postcode … flat)."""
    if not isinstance(value, dict):
        return clean_text(value, what)
    unknown = set(value) - set(ADDRESS_KEYS)
    if unknown:
        raise InvalidOrder(f"{what} has unknown fields {sorted(unknown)}; known: {', '.join(ADDRESS_KEYS)}")
    parts = {key: clean_text(value.get(key), f"{what}.{key}", kind="address part") for key in ADDRESS_KEYS}
    parts = {k: v for k, v in parts.items() if v}
    return parts or None


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidOrder(f"{what} must be an object")
    return value


def parse_request(body: Any) -> OrderRequest:
    if not isinstance(body, dict):
        raise InvalidOrder("the body must be a JSON object")
    raw = _object(body.get("customer"), "customer")
    customer: dict[str, Any] = {"name": clean_text(raw.get("name"), "customer.name", required=True)}
    for key in ("company", "email", "phone", "inn", "kpp", "id"):
        customer[key] = clean_text(raw.get(key), f"customer.{key}")
    customer["address"] = clean_address(raw.get("address"), "customer.address")
    for key, digits in (("inn", (10, 12)), ("kpp", (9,))):
        if customer[key] and not (customer[key].isdigit() and len(customer[key]) in digits):
            raise InvalidOrder(f"customer.{key} must be {' or '.join(map(str, digits))} digits")
    if customer["email"] and not _EMAIL.match(customer["email"]):
        raise InvalidOrder("customer.email is not an e-mail address")
    customer = {k: v for k, v in customer.items() if v is not None}
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidOrder("lines must be a non-empty list of {offer_id, quantity}")
    if len(raw_lines) > MAX_LINES:
        raise InvalidOrder(f"an order has at most {MAX_LINES} lines")
    lines = []
    for n, line in enumerate(raw_lines):
        if not isinstance(line, dict):
            raise InvalidOrder(f"lines[{n}] must be an object")
        offer_id = clean_text(line.get("offer_id"), f"lines[{n}].offer_id", True, "lines[].offer_id")
        quantity = _decimal(line.get("quantity"), f"lines[{n}].quantity")
        if quantity > MAX_QUANTITY:
            raise InvalidOrder(f"lines[{n}].quantity is more than {MAX_QUANTITY}")
        lines.append((str(offer_id), quantity))
    raw_delivery = _object(body.get("delivery"), "delivery")
    delivery: dict[str, Any] = {}
    method = clean_text(raw_delivery.get("method"), "delivery.method")
    address = clean_address(raw_delivery.get("address"), "delivery.address")
    delivery.update({k: v for k, v in (("method", method), ("address", address)) if v})
    if raw_delivery.get("price") is not None:
        price = _decimal(raw_delivery["price"], "delivery.price")
        if price < 0 or price > MAX_DELIVERY_PRICE:
            raise InvalidOrder(f"delivery.price must be from 0 to {MAX_DELIVERY_PRICE}")
        delivery["price"] = price
    return OrderRequest(
        customer,
        lines,
        delivery,
        clean_text(body.get("payment_method"), "payment_method"),
        clean_text(body.get("comment"), "comment"),
    )


def fixable_fields(fields: dict[str, Any]) -> dict[str, str | None]:
    """`section.key=value` corrections a person may make, each checked like POST /orders."""
    allowed = {k for k in TEXT_LIMITS if not k.startswith("lines")}
    cleaned = {}
    for path, value in fields.items():
        if path not in allowed:
            raise InvalidOrder(f"{path} cannot be changed; one of: {', '.join(sorted(allowed))}")
        cleaned[path] = clean_text(value, path, required=path == "customer.name")
    return cleaned


def price_lines(request: OrderRequest, facts: dict[str, OfferFacts]) -> list[dict[str, Any]]:
    """Check every line; raise OrderRejected naming each bad one."""
    problems, priced = [], []
    wanted: dict[str, Decimal] = {}
    for offer_id, quantity in request.lines:
        wanted[offer_id] = wanted.get(offer_id, Decimal(0)) + quantity
    for n, (offer_id, quantity) in enumerate(request.lines):
        fact = facts.get(offer_id)
        reason = None
        if quantity <= 0 or quantity != quantity.to_integral():
            reason = "quantity must be a positive whole number"
        elif fact is None:
            reason = "no such offer in the catalog"
        elif not fact.active:
            reason = "the offer is no longer sold"
        elif fact.price is None:
            reason = "the offer has no price of the shop's price type"
        elif wanted[offer_id] > fact.available:
            reason = f"only {_plain(max(fact.available, Decimal(0)))} available"
        if reason:
            problems.append({"line": n, "offer_id": offer_id, "reason": reason})
            continue
        priced.append(
            {
                "offer_id": offer_id,
                "name": fact.name,
                "quantity": quantity,
                "price": fact.price,
                "amount": fact.price * quantity,
                "currency": fact.currency,
            }
        )
    if problems:
        raise OrderRejected("some lines cannot be ordered", problems)
    return priced


def totals(lines: list[dict[str, Any]], delivery: dict[str, Any]) -> dict[str, Decimal | str | None]:
    items = sum((line["amount"] for line in lines), Decimal(0))
    shipping = Decimal(delivery.get("price") or 0)
    return {
        "items": items,
        "delivery": shipping,
        "total": items + shipping,
        "currency": lines[0]["currency"] if lines else None,
    }


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def history_entry(status: str, source: str, note: str | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
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
