"""The catalog's change feed (`{t}#feed`): one entry per written batch, listing the API-level
entities it changed — not an index entry per item."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib.sync.diff import Change, Put
from chalicelib.sync.records import OFFER, OFFER_PRICES, OFFER_STOCK, PRODUCT, VARIANT

FEED_TYPES = {PRODUCT: "product", VARIANT: "product", OFFER: "offer", "group": "group"}
FEED_TYPES |= {OFFER_PRICES: "offer", OFFER_STOCK: "offer"}
MAX_FEED_BYTES = 300_000


def feed_entries(changes: Iterable[Change]) -> list[list[str]]:
    """The API-level entities a batch changed, each once (its last op): [type, id, op]."""
    latest: dict[tuple[str, str], str] = {}
    for change in changes:
        kind = change.record.kind if isinstance(change, Put) else change.kind
        entity_id = change.record.id if isinstance(change, Put) else change.id
        kind_name = FEED_TYPES.get(kind)
        if kind_name is None:
            continue
        if kind_name == "product":
            entity_id = entity_id.partition("#")[0]
        active = change.record.active if isinstance(change, Put) else False
        off = not active and kind not in (OFFER_PRICES, OFFER_STOCK) and kind != VARIANT
        latest.pop((kind_name, entity_id), None)
        latest[(kind_name, entity_id)] = "deactivate" if off else "upsert"
    return [[kind, entity_id, op] for (kind, entity_id), op in latest.items()]


def feed_items(tenant: str, stamp: str, entries: list[list[str]]) -> list[dict[str, Any]]:
    """A batch's feed entry: one item per 300 KB of entities (`{t}#feed`, `{stamp}{n}`)."""
    items, chunk, size = [], [], 0
    for entry in entries:
        chunk.append(entry)
        size += sum(len(p.encode()) for p in entry) + 8
        if size > MAX_FEED_BYTES:
            items.append(chunk)
            chunk, size = [], 0
    if chunk:
        items.append(chunk)
    return [
        {"pk": f"{tenant}#feed", "sk": f"{stamp}{n:03d}", "changes": json.dumps(c, ensure_ascii=False)}
        for n, c in enumerate(items)
    ]
