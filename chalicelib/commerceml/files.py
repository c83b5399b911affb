"""The files of one CommerceML exchange and the order 1C imports them in. Pure."""

from __future__ import annotations

import posixpath

IMPORT_ORDER = ("import", "offers", "prices", "rests")


def import_order(name: str) -> tuple[int, str]:
    """Files of one exchange in the order 1C imports them: the catalog before its offers."""
    base = posixpath.basename(name).lower()
    rank = next((n for n, prefix in enumerate(IMPORT_ORDER) if base.startswith(prefix)), len(IMPORT_ORDER))
    return rank, name
