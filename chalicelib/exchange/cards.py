"""The cards phase of an import: after the changes are written, rebuild the card of every product
they touched from its stored state, write only the cards whose content changed, and recount the
facets of the groups those cards are in. The tenant's cards are summarised in S3 (like the index):
what a card held last time, so nothing is read back to compare and facets are counted without a
scan. A mixin of the worker."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.sync.cards import ALL, CardSummary, build_card, empty_facet, facets
from chalicelib.sync.diff import Change, Deactivate, Put
from chalicelib.sync.records import GROUP, OFFER, OFFER_PRICES, OFFER_STOCK, PRODUCT, VARIANT

CARDS_CHUNK = 200
MAX_DIFF = 2000
EVERY_PRODUCT = "*"  # staged instead of ids when a group moved: every card's ancestors may change
_PRODUCT_KINDS = (PRODUCT, VARIANT, OFFER, OFFER_PRICES, OFFER_STOCK)
PriceTypeOf = Callable[[str, list[dict[str, Any]]], str | None]


def _difference(product_id: str, old: CardSummary | None, new: CardSummary | None) -> dict[str, Any]:
    op = "listed" if old is None else "unlisted" if new is None else "changed"
    fields = ("name", "price_min", "stock", "in_stock")
    return {
        "id": product_id,
        "op": op,
        **{f: [getattr(old, f) if old else None, getattr(new, f) if new else None] for f in fields},
    }


class TouchedProducts:
    """What a change set touched, collected as the changes are staged."""

    def __init__(self, every: bool = False) -> None:
        self.ids: set[str] = set()
        self.every = every

    def add(self, change: Change) -> None:
        kind = change.record.kind if isinstance(change, Put) else change.kind
        entity_id = change.record.id if isinstance(change, Put) else change.id
        if kind in _PRODUCT_KINDS:
            self.ids.add(entity_id.partition("#")[0])
        elif kind == GROUP and (isinstance(change, Deactivate) or not change.created):
            self.every = True

    def lines(self) -> bytes:
        ids = [EVERY_PRODUCT] if self.every else sorted(self.ids)
        return b"".join(json.dumps(i, ensure_ascii=False).encode() + b"\n" for i in ids)


class BuildCards:
    price_type_of: PriceTypeOf | None = None

    def _stage_touched(self, tenant: str, job_id: str, touched: TouchedProducts) -> None:
        self.blobs.put(Paths(tenant).staging(job_id, "touched.jsonl.gz"), gzip.compress(touched.lines()))

    def load_cards(self, tenant: str) -> dict[str, CardSummary]:
        key = Paths(tenant).cards
        if self.blobs.size(key) is None:
            return {}
        cards = (CardSummary.from_list(json.loads(line)) for line in self._read_lines(key))
        return {card.id: card for card in cards}

    def _save_cards(self, tenant: str, cards: Iterable[CardSummary]) -> None:
        def write(out: Any) -> None:
            for card in cards:
                out.write(json.dumps(card.to_list(), ensure_ascii=False).encode() + b"\n")

        self._save_lines(Paths(tenant).cards, write)

    def _touched(self, tenant: str, job_id: str) -> list[str]:
        key = Paths(tenant).staging(job_id, "touched.jsonl.gz")
        if self.blobs.size(key) is None:
            return []
        ids = [json.loads(line) for line in self._read_lines(key)]
        if ids == [EVERY_PRODUCT]:  # the job's new index: products it added count too
            return sorted(
                e.partition(":")[2]
                for e in self._index_entities(tenant, job_id)
                if e.startswith(f"{PRODUCT}:")
            )
        return ids

    def _index_entities(self, tenant: str, job_id: str) -> Iterator[str]:
        """The entity keys of the index the job made (an import's, staged), else of the tenant's
        (a rebuild) — streamed, never the whole index in memory."""
        staged = Paths(tenant).staging(job_id, "index.tsv.gz")
        key = staged if self.blobs.size(staged) is not None else Paths(tenant).index
        if self.blobs.size(key) is None:
            return
        for line in self._read_lines(key):
            entity = line.rpartition(b"\t")[0]
            if entity:
                yield json.loads(entity)

    def _members(self, tenant: str, job_id: str, products: set[str]) -> dict[str, list[str]]:
        """The offers and variants of these products, as the job's new index knows them."""
        members: dict[str, list[str]] = {}
        for entity in self._index_entities(tenant, job_id):
            kind, _, entity_id = entity.partition(":")
            if kind in (OFFER, VARIANT) and entity_id.partition("#")[0] in products:
                members.setdefault(entity_id.partition("#")[0], []).append(entity)
        return members

    def _cards(
        self, tenant: str, job: ImportJob, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> bool:
        """Rebuild the touched products' cards from the checkpoint on. False when time ran out."""
        from chalicelib.exchange.apply import SAFETY_SECONDS

        touched = self._touched(tenant, job.id)
        if not touched:
            return True
        members = self._members(tenant, job.id, set(touched[job.cards_done :]))
        cards = self.load_cards(tenant)
        before = dict(cards)
        parents = {g["id"]: g.get("parent_id") for g in self.catalog.docs(tenant, GROUP) if g["active"]}
        price_types = self.catalog.docs(tenant, "price_type")
        shop_type = (
            self.price_type_of(tenant, price_types)
            if self.price_type_of
            else (price_types[0]["id"] if price_types else None)
        )
        scopes: set[str] = {ALL}
        changes = self._diff(tenant, job.id) if job.cards_done else []
        done = job.cards_done
        for start in range(done, len(touched), CARDS_CHUNK):
            chunk = touched[start : start + CARDS_CHUNK]
            states = self.catalog.states(tenant, {p: members.get(p, []) for p in chunk})
            puts, removed = [], []
            for product_id in chunk:
                state = states.get(product_id)
                card = build_card(state, shop_type, parents) if state else None
                new, old = (card.summary() if card else None), cards.get(product_id)
                if new is not None and old is not None and new.fp == old.fp:
                    continue
                if new is None and old is None:
                    continue
                scopes.update(old.scopes if old else (), new.scopes if new else ())
                if len(changes) < MAX_DIFF:
                    changes.append(_difference(product_id, old, new))
                stale = set(old.buckets if old else ()) - set(new.buckets if new else ())
                removed += [(product_id, group) for group in sorted(stale)]
                if new is None:
                    cards.pop(product_id)
                else:
                    cards[product_id] = new
                    puts.append(card)
            self.catalog.write_cards(tenant, puts, removed)()
            done = start + len(chunk)
            if done < len(touched) and remaining_ms() < SAFETY_SECONDS * 1000:
                self._recount(tenant, before, cards, scopes)  # facets first: a retry recounts them
                self._save_cards(tenant, cards.values())
                self._save_diff(tenant, job.id, changes)
                self.store.update_job(tenant, job.id, cards_done=done)
                job.cards_done = done
                return False
            beat()
        self._recount(tenant, before, cards, scopes)
        self._save_cards(tenant, cards.values())
        self._save_diff(tenant, job.id, changes)
        return True

    def _diff(self, tenant: str, job_id: str) -> list[dict[str, Any]]:
        data = self.blobs.get(Paths(tenant).staging(job_id, "diff.jsonl.gz"))
        return [json.loads(line) for line in gzip.decompress(data).splitlines()] if data else []

    def _save_diff(self, tenant: str, job_id: str, changes: list[dict[str, Any]]) -> None:
        """What the import changed, old → new, for the console (the first MAX_DIFF products)."""
        lines = b"".join(json.dumps(c, ensure_ascii=False).encode() + b"\n" for c in changes)
        self.blobs.put(Paths(tenant).staging(job_id, "diff.jsonl.gz"), gzip.compress(lines))

    def _recount(
        self, tenant: str, before: dict[str, CardSummary], cards: dict[str, CardSummary], scopes: set[str]
    ) -> None:
        """Recount the facets of the scopes whose cards changed; write those that now differ (an
        emptied scope is zeroed). A resumed job may count against a later summary: it rewrites."""
        old, new = facets(before.values(), scopes), facets(cards.values(), scopes)
        changed = {s: new.get(s, empty_facet()) for s in scopes if new.get(s) != old.get(s) or s not in old}
        if changed:
            self.catalog.write_facets(tenant, changed)()
