"""The files of one CommerceML exchange and the order 1C imports them in. Pure."""

from __future__ import annotations

import posixpath

# 2.x: import, offers, prices, rests; 3.1 (docs/protocol.md §9): the classifier's lists first, then
# goods, then the offers' parts. `propertiesoffers` before `offers`, which it begins with.
IMPORT_ORDER = (
    "groups", "propertiesgoods", "units", "storages", "pricelists", "import", "goods",
    "propertiesoffers", "offers", "prices", "rests",
)  # fmt: skip


def import_order(name: str) -> tuple[int, str]:
    """Files of one exchange in the order 1C imports them: the catalog before its offers."""
    base = posixpath.basename(name).lower()
    rank = next((n for n, prefix in enumerate(IMPORT_ORDER) if base.startswith(prefix)), len(IMPORT_ORDER))
    return rank, name
