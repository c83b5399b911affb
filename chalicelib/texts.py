"""Validators of the text an order request may carry (used by the pydantic shapes)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

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


def _present(value: str | None) -> str:
    if not value:
        raise ValueError("is required")
    return value


_Line = AfterValidator(_plain_text(False))
_Lines = AfterValidator(_plain_text(True))
_Email = AfterValidator(email_address)

# Optional texts (absent or null is none), by length; `Lines` may hold line breaks.
Text9 = Annotated[StrictStr, StringConstraints(max_length=9), _Line, AfterValidator(digits(9))] | None
Text12 = Annotated[StrictStr, StringConstraints(max_length=12), _Line, AfterValidator(digits(10, 12))] | None
Text50 = Annotated[StrictStr, StringConstraints(max_length=50), _Line] | None
Text100 = Annotated[StrictStr, StringConstraints(max_length=100), _Line] | None
Text200 = Annotated[StrictStr, StringConstraints(max_length=200), _Line] | None
Text300 = Annotated[StrictStr, StringConstraints(max_length=300), _Line] | None
Email = Annotated[StrictStr, StringConstraints(max_length=254), _Line, _Email] | None
Lines500 = Annotated[StrictStr, StringConstraints(max_length=500), _Lines] | None
Lines2000 = Annotated[StrictStr, StringConstraints(max_length=2000), _Lines] | None
# A text that must be there.
Required200 = Annotated[StrictStr, StringConstraints(max_length=200), _Line, AfterValidator(_present)]
