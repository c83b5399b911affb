"""The owner's saved views of the catalog — «без цены», «без фото», «нет в наличии», «сняты с
продажи», «изменены последним обменом» — read from what the import worker keeps: the tenant's card
summary in S3 (one streamed pass, never the table) and the imports' diffs. Pure but for the
Blobs and ExchangeStore ports it is handed."""

from __future__ import annotations

import gzip
import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib import journal
from chalicelib.importjob import JobKind, JobStatus
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.sync.cards import CardSummary

VIEWS = {
    "no_price": "без цены",
    "no_photo": "без фото",
    "out_of_stock": "нет в наличии",
    "unlisted": "сняты с продажи",
    "changed": "изменены последним обменом",
}
PAGE = 100
UNLISTED_IMPORTS = 20  # the recent imports whose «снят» products are listed


@dataclass
class View:
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # this page's products
    total: int = 0
    unknown: int = 0  # products the view cannot tell yet (no picture recorded: cards kept before)
    counts: dict[str, int] = field(default_factory=dict)  # every view's total, for the tabs


def summaries(blobs: Blobs, tenant: str) -> Iterator[CardSummary]:
    key = Paths(tenant).cards
    if blobs.size(key) is None:
        return
    with gzip.GzipFile(fileobj=blobs.open(key)) as lines:
        yield from (CardSummary.from_list(json.loads(line)) for line in lines)


def _row(card: CardSummary) -> dict[str, Any]:
    return {
        "id": card.id,
        "name": card.name,
        "price": card.price_min,
        "stock": card.stock,
        "in_stock": card.in_stock,
    }


_MEMO: OrderedDict[tuple[str, int], tuple[dict[str, list[dict[str, Any]]], int]] = OrderedDict()
MEMO_VERSIONS = 2  # a container keeps the views of this many catalog versions (a page turn reads none)


def view(blobs: Blobs, store: ExchangeStore, tenant: str, name: str, page: int = 1, version: int = 0) -> View:
    """One page of a view (PAGE products), its total, and every view's count; with the tenant's
    catalog `version` (0: unknown) the container reuses them until the catalog changes."""
    key = (tenant, version)
    if version and key in _MEMO:
        _MEMO.move_to_end(key)
        matches, unknown = _MEMO[key]
    else:
        matches, unknown = _matches(blobs, store, tenant)
        if version:
            _MEMO[key] = (matches, unknown)
            while len(_MEMO) > MEMO_VERSIONS:
                _MEMO.popitem(last=False)
    shown = matches.get(name, [])
    start = (max(page, 1) - 1) * PAGE
    return View(
        name=name,
        rows=shown[start : start + PAGE],
        total=len(shown),
        unknown=unknown if name == "no_photo" else 0,
        counts={k: len(v) for k, v in matches.items()},
    )


def _matches(blobs: Blobs, store: ExchangeStore, tenant: str) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Every view's products, from one pass over the card summary (and the imports' diffs)."""
    imports = [  # the jobs that built cards: imports, and the cards an import.xml left (exchange/owed.py)
        j
        for j in store.jobs(tenant, limit=200)
        if j.kind in (JobKind.IMPORT, JobKind.OWED_CARDS) and j.status == JobStatus.DONE and not j.cards_left
    ]
    imports.sort(key=lambda j: (j.created_at, j.id), reverse=True)
    last_changed = {
        d["id"]
        for d in (journal.diff(blobs, tenant, imports[0].id) if imports else [])
        if d["op"] != "unlisted"
    }
    matches: dict[str, list[dict[str, Any]]] = {k: [] for k in VIEWS}
    listed, unknown = set(), 0
    for card in summaries(blobs, tenant):
        listed.add(card.id)
        unknown += card.image is None
        for view_name, hit in (
            ("no_price", card.price_min is None),
            ("no_photo", card.image is False),
            ("out_of_stock", not card.in_stock),
            ("changed", card.id in last_changed),
        ):
            if hit:
                matches[view_name].append(_row(card))
    matches["unlisted"] = _unlisted(blobs, tenant, imports[:UNLISTED_IMPORTS], listed)
    return matches, unknown


def _unlisted(blobs: Blobs, tenant: str, imports: list[Any], listed: set[str]) -> list[dict[str, Any]]:
    """Products the recent imports took off sale and that are not back, the latest first."""
    found: dict[str, dict[str, Any]] = {}
    for job in imports:
        for change in journal.diff(blobs, tenant, job.id):
            if change["op"] == "unlisted" and change["id"] not in listed and change["id"] not in found:
                name = change["name"][0]
                found[change["id"]] = {
                    "id": change["id"],
                    "name": name,
                    "price": None,
                    "stock": None,
                    "when": job.finished_at,
                }
    return list(found.values())
