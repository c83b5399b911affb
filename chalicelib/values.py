"""The one way each common value is written: decimals as exact text or JSON numbers, and UTC
timestamps. Pure."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
BY_HAND = "console:"  # the source of an exchange session a person opened in the console (+ e-mail)


def decimal_text(value: Decimal) -> str:
    """Exact and without an exponent: a whole number without a fraction (`5`, never `5.000` or
    `5E+1`), any other as it came (`231.7400`: fingerprints depend on it staying so)."""
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def json_number(value: Any) -> int | float:
    """A number for a JSON answer: whole numbers as integers."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return int(number) if number == number.to_integral() else float(number)


def utc_stamp(epoch: float | None = None) -> str:
    """`2026-12-05T01:40:00Z`: now, or the given epoch seconds."""
    return time.strftime(UTC_FORMAT, time.gmtime(epoch))


def known_zone(name: str) -> bool:
    """An IANA time zone name this Python knows (Europe/Moscow, Asia/Novosibirsk, …)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_time(stamp: Any, zone: str) -> str:
    """A moment (epoch seconds, or a UTC timestamp as written above) as a person there reads it:
    `05.12.2026 10:02`. Empty for no moment; the text as it is when it is no moment at all."""
    if stamp in (None, ""):
        return ""
    try:
        if isinstance(stamp, str) and not stamp.isdigit():
            moment = datetime.strptime(stamp[:19], UTC_FORMAT[:17]).replace(tzinfo=UTC)
        else:
            moment = datetime.fromtimestamp(int(stamp), UTC)
    except (ValueError, OverflowError):
        return str(stamp)
    return moment.astimezone(ZoneInfo(zone if known_zone(zone) else "UTC")).strftime("%d.%m.%Y %H:%M")


# What 1C writes in `Валюта` (a name, an abbreviation, the ОКВ number) -> ISO 4217.
_ISO_CURRENCIES = {
    "руб": "RUB", "руб.": "RUB", "рубль": "RUB", "rur": "RUB", "643": "RUB", "₽": "RUB",
    "грн": "UAH", "грн.": "UAH", "гривна": "UAH", "980": "UAH", "₴": "UAH",
    "тенге": "KZT", "тг": "KZT", "тг.": "KZT", "398": "KZT", "₸": "KZT",
    "бел. руб.": "BYN", "бел.руб.": "BYN", "бел. руб": "BYN", "933": "BYN",
    "сум": "UZS", "860": "UZS", "драм": "AMD", "051": "AMD", "сом": "KGS", "417": "KGS",
    "$": "USD", "долл": "USD", "долл.": "USD", "840": "USD", "€": "EUR", "евро": "EUR", "978": "EUR",
    "юань": "CNY", "156": "CNY",
}  # fmt: skip


def iso_currency(text: str | None) -> str | None:
    """The ISO 4217 code of a currency as 1C names it (`руб`, `RUB`, `643`), None when unknown."""
    if not text:
        return None
    cleaned = " ".join(text.strip().lower().split())
    if len(cleaned) == 3 and cleaned.isascii() and cleaned.isalpha():
        return "RUB" if cleaned == "rur" else cleaned.upper()
    return _ISO_CURRENCIES.get(cleaned)
