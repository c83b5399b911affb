"""Validators of the text an order request may carry (used by the pydantic shapes)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, StrictStr, StringConstraints

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_address(value: str | None) -> str | None:
    if value and not _EMAIL.match(value):
        raise ValueError("is not an e-mail address")
    return value


def digits(*lengths: int) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value and not (value.isdigit() and len(value) in lengths):
            raise ValueError(f"must be {' or '.join(map(str, lengths))} digits")
        return value

    return check


def text_problem(value: str, multiline: bool = False) -> str | None:
    """Why a text cannot go into a 1C document (XML 1.0 refuses control characters and lone
    surrogates), or None."""
    allowed = "\n\r\t" if multiline else ""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in allowed for c in value):
        return "contains control characters"
    return None


def _plain_text(multiline: bool) -> Callable[[str], str | None]:
    """Text a 1C document can carry: valid Unicode (no lone surrogates), no control characters
    (line breaks only where `multiline`), trimmed; blank is absent."""

    def check(value: str) -> str | None:
        problem = text_problem(value, multiline)
        if problem:
            raise ValueError(problem)
        return value.strip() or None

    return check


def text(limit: int, multiline: bool = False) -> Any:
    """Optional text (absent or null is none)."""
    return (
        Annotated[StrictStr, StringConstraints(max_length=limit), AfterValidator(_plain_text(multiline))]
        | None
    )


def required_text(limit: int) -> Any:
    def present(value: str | None) -> str:
        if not value:
            raise ValueError("is required")
        return value

    return Annotated[
        StrictStr,
        StringConstraints(max_length=limit),
        AfterValidator(_plain_text(False)),
        AfterValidator(present),
    ]
