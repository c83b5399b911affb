"""Facets: per scope (a group with its subgroups, a category, or the whole catalog) the counts a
filter sidebar shows, counted from the cards' summaries at import, and bounded to fit one item."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from chalicelib.sync.cards import ALL, WHOLE, Card, CardSummary

MAX_FACET_VALUES = 200  # values per property a facet keeps (the most common); the rest are counted
MIN_FACET_VALUES = 10
MAX_FACET_BYTES = 120_000  # a facet's values, well inside DynamoDB's 400 KB item


def facets(cards: Iterable[Card | CardSummary], scopes: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Per scope (a group with its subgroups, or ALL): product and in-stock counts, the price range,
    each property's values with product counts, and (for ALL) how many cards each bucket holds."""
    result: dict[str, dict[str, Any]] = {}
    buckets: Counter[str] = Counter()
    for card in cards:
        buckets.update(card.buckets)
        if card.whole:
            buckets[WHOLE] += 1
        for scope in (ALL, *card.scopes):
            if scopes is not None and scope not in scopes:
                continue
            facet = result.setdefault(
                scope, {"count": 0, "in_stock": 0, "price_min": None, "price_max": None, "values": {}}
            )
            facet["count"] += 1
            facet["in_stock"] += card.in_stock
            facet["priced"] = facet.get("priced", 0) + (card.price_min is not None)
            if card.price_min is not None:
                low, high = Decimal(card.price_min), Decimal(card.price_max or card.price_min)
                if facet["price_min"] is None or low < Decimal(facet["price_min"]):
                    facet["price_min"] = card.price_min
                if facet["price_max"] is None or high > Decimal(facet["price_max"]):
                    facet["price_max"] = card.price_max or card.price_min
            for prop in card.props:
                pid, _, value = prop.partition(":")
                values = facet["values"].setdefault(pid, {})
                values[value] = values.get(value, 0) + 1
    if ALL in result or scopes is None or ALL in scopes:
        result.setdefault(
            ALL, {"count": 0, "in_stock": 0, "price_min": None, "price_max": None, "values": {}}
        )
        result[ALL]["buckets"] = dict(sorted(buckets.items()))
    return result


def empty_facet() -> dict[str, Any]:
    return {"count": 0, "in_stock": 0, "price_min": None, "price_max": None, "values": {}}


def bounded(
    facet: dict[str, Any], max_values: int = MAX_FACET_VALUES, max_bytes: int = MAX_FACET_BYTES
) -> dict[str, Any]:
    """The facet as it is stored and served: each property's most common `max_values` values
    (ties by value), the rest counted in `more` (property id → values left out); when that is
    still over `max_bytes`, fewer values per property (down to MIN_FACET_VALUES), and at last the properties with the most
    values are left out whole (counted in `more_properties`). A filter with thousands of values
    (a per-product code kept as a property) helps no shopper, and one DynamoDB item holds 400 KB:
    no catalog can grow a facet past that. `buckets` (ALL only) is paged by the store."""
    values: dict[str, dict[str, int]] = facet.get("values") or {}
    prior: dict[str, int] = facet.get("more") or {}  # bounding a bounded facet changes nothing
    ranked = {pid: sorted(counts.items(), key=lambda vc: (-vc[1], vc[0])) for pid, counts in values.items()}
    limit = max_values
    while True:
        kept = {pid: dict(sorted(top[:limit])) for pid, top in ranked.items()}
        more = {
            pid: prior.get(pid, 0) + max(len(top) - limit, 0)
            for pid, top in ranked.items()
            if len(top) > limit or prior.get(pid)
        }
        sizes = {pid: _size(pid, kept[pid], pid in more) for pid in kept}
        total = sum(sizes.values())
        if total <= max_bytes or limit <= MIN_FACET_VALUES:
            break
        limit = max(limit // 2, MIN_FACET_VALUES)
    dropped = int(facet.get("more_properties") or 0)
    for pid in sorted(kept, key=lambda p: (-len(ranked[p]), p)):
        if total <= max_bytes:
            break
        total -= sizes[pid]
        kept.pop(pid)
        more.pop(pid, None)
        dropped += 1
    result = {k: v for k, v in facet.items() if k not in ("more", "more_properties")}
    result["values"] = kept
    if more:
        result["more"] = more
    if dropped:
        result["more_properties"] = dropped
    return result


def _size(pid: str, values: dict[str, int], counted_more: bool) -> int:
    """Bytes a property takes in the stored facet: its values, and its `more` count."""
    size = len(json.dumps({pid: values}, ensure_ascii=False).encode())
    return size + (len(json.dumps(pid, ensure_ascii=False).encode()) + 12 if counted_more else 0)
