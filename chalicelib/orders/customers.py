"""Who a site customer is, by what 1C may know of them: the keys an order's customer is found by
again (e-mail, phone), and which of them matched — pure, the store keeps the keys."""

from __future__ import annotations

from typing import Any

from chalicelib.commerceml.site_orders import phone_digits

MATCH_WORDS = {"id": "коду контрагента", "email": "e-mail", "phone": "телефону"}


def email_key(email: str | None) -> str | None:
    value = (email or "").strip().lower()
    return f"email:{value}" if "@" in value and len(value) <= 254 else None  # 1C's text is unbounded


def phone_key(phone: str | None) -> str | None:
    """Digits only; a Russian number written 8XXXXXXXXXX is the same as +7XXXXXXXXXX."""
    digits = phone_digits(phone) or ""
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return f"phone:{digits}" if 6 <= len(digits) <= 20 else None


def contact_keys(customer: dict[str, Any]) -> list[str]:
    """The keys a site customer (one with the shop's customer id) is found by again."""
    keys = (email_key(customer.get("email")), phone_key(customer.get("phone")))
    return [key for key in keys if key]


def matched(customer: dict[str, Any], known: dict[str, str]) -> tuple[str, str] | None:
    """(site customer id, what matched) for a customer 1C sent: its e-mail first, then its phone."""
    for key, how in (
        (email_key(customer.get("email")), "email"),
        (phone_key(customer.get("phone")), "phone"),
    ):
        if key and key in known:
            return known[key], how
    return None
