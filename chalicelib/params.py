"""Request parameters the shop API shares, parsed without any I/O: page limits and ids in paths."""

from __future__ import annotations

import re
from urllib.parse import unquote

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class BadRequest(ValueError):
    """400: a parameter that cannot be used, with what is wrong in words."""


def parse_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def path_ids(raw: str) -> tuple[str, ...]:
    """The ids a path parameter may stand for: percent-decoded first (chalice local and the test
    client pass `%D1%8F%D1%8F8` for 1C's `яя8`), then as it came (a gateway that decoded it
    already, and an id that holds a literal `%` followed by two hex digits)."""
    if not _ESCAPE.search(raw) or not raw.isascii():
        return (raw,)
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:  # `%FF`: no id 1C makes; looked up as it came (a 404)
        return (raw,)
    return tuple(dict.fromkeys((decoded, raw)))
