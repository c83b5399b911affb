"""The one way each common value is written: decimals as exact text or JSON numbers, and UTC
timestamps. Pure."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

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
