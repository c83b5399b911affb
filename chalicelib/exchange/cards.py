"""The cards phase of an import: after the changes are written, rebuild the card of every product
they touched from its stored state, write only the cards whose content changed, and recount the
facets of the groups those cards are in. The tenant's cards are summarised in S3 (like the index):
what a card held last time, so nothing is read back to compare and facets are counted without a
scan."""

from __future__ import annotations

import gzip
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chalicelib.exchange.jobrun import JobRun, Step
from chalicelib.exchange.owed import EVERY_PRODUCT, TOUCHED, OwedCards
from chalicelib.exchange.staging import OLD_PRICES, Staging
from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, Catalog
from chalicelib.sync.cards import ALL, CardSummary, ProductState, base_prices, build_card
from chalicelib.sync.diff import Change, Deactivate, Put
from chalicelib.sync.facets import bounded, empty_facet, facets
from chalicelib.sync.records import GROUP, OFFER, OFFER_PRICES, OFFER_STOCK, PRODUCT, VARIANT

CARDS_CHUNK = 200
MAX_DIFF = 2000
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


def _shows(difference: dict[str, Any]) -> bool:
    """A line of the product's history: it was unlisted, renamed, re-priced, or went in or out of
    stock. Not its first listing (a first import would write a line per product), nor a stock
    count that moved within «in stock» (that changes with every exchange: a write per product)."""
    if difference["op"] == "listed":
        return False
    return difference["op"] == "unlisted" or any(
        difference[f][0] != difference[f][1] for f in ("name", "price_min", "in_stock")
    )


def _entry(difference: dict[str, Any], job: ImportJob) -> dict[str, Any]:
    """One line of a product's history: what changed, by which file of which exchange, when."""
    at = int(time.time() * 1000)
    return {"change": difference, "job": job.id, "session": job.session, "file": job.filename, "at": at}


class TouchedProducts:
    """What a change set touched, collected as the changes are staged: each product with the
    kinds of its records that changed (the diff tells a price of another type from a card's)."""

    def __init__(self, every: bool = False) -> None:
        self.kinds: dict[str, set[str]] = {}
        self.every = every

    @property
    def ids(self) -> set[str]:
        return set(self.kinds)

    def add(self, change: Change) -> None:
        kind = change.record.kind if isinstance(change, Put) else change.kind
        entity_id = change.record.id if isinstance(change, Put) else change.id
        if kind in _PRODUCT_KINDS:
            self.kinds.setdefault(entity_id.partition("#")[0], set()).add(kind)
        elif kind == GROUP and (isinstance(change, Deactivate) or not change.created):
            self.every = True

    def lines(self) -> bytes:
        rows: list[Any] = (
            [EVERY_PRODUCT] if self.every else [[i, sorted(self.kinds[i])] for i in sorted(self.kinds)]
        )
        return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows)


def _side_change(
    product_id: str, kinds: set[str], card: Any, old: CardSummary | None, name: str | None
) -> dict[str, Any] | None:
    """What the diff says of a product whose card did not change: known but with no offer on
    sale (a product `import.xml` created), or prices of other types or the stock per warehouse
    moved (the card holds the shop's price and the total)."""
    if card is None and old is None:
        return _plain(product_id, "no_offers", name) if PRODUCT in kinds else None
    if card is None or old is None:
        return None
    if OFFER_PRICES in kinds:
        return _plain(product_id, "other_prices", old.name, old)
    if OFFER_STOCK in kinds:
        return _plain(product_id, "warehouses", old.name, old)
    return None


def _price_moves(
    state: ProductState | None, before: dict[str, dict[str, str]], names: dict[str, str]
) -> list[list[Any]]:
    """Each price type's old → new price of the product's offers (the apply phase kept the old)."""
    moves: list[list[Any]] = []
    for offer in state.offers if state else ():
        if offer.id not in before:
            continue
        was, now = before[offer.id], base_prices(offer.prices)
        variant = offer.id.partition("#")[2]
        for type_id in sorted(set(was) | set(now)):
            if was.get(type_id) != now.get(type_id):
                label = names.get(type_id, type_id) + (f" ({variant})" if variant else "")
                moves.append([label, was.get(type_id), now.get(type_id)])
    return moves


def _plain(product_id: str, op: str, name: str | None, card: CardSummary | None = None) -> dict[str, Any]:
    same = {
        f: [getattr(card, f), getattr(card, f)] if card else [None, None]
        for f in ("price_min", "stock", "in_stock")
    }
    return {"id": product_id, "op": op, "name": [name, name], **same}


class Cards:
    def __init__(
        self,
        blobs: Blobs,
        catalog: Catalog,
        staging: Staging,
        price_type_of: PriceTypeOf | None = None,
        owed: OwedCards | None = None,
    ) -> None:
        self.blobs, self.catalog, self.staging = blobs, catalog, staging
        self.price_type_of, self.owed = price_type_of, owed

    def stage_touched(self, tenant: str, job_id: str, touched: TouchedProducts) -> None:
        self.blobs.put(Paths(tenant).staging(job_id, TOUCHED), gzip.compress(touched.lines()))

    def summaries(self, tenant: str) -> Iterator[CardSummary]:
        """The tenant's card summary, streamed in product-id order (it is always written so)."""
        for row in self.staging.values(Paths(tenant).cards):
            yield CardSummary.from_list(row)

    def _touched(self, tenant: str, job_id: str) -> dict[str, set[str]]:
        """The touched products, each with the kinds of its changed records (a row staged before
        kinds were kept is its id alone: kinds unknown, none)."""
        rows = list(self.staging.values(Paths(tenant).staging(job_id, TOUCHED)))
        if rows == [EVERY_PRODUCT]:  # the job's new index: products it added count too
            return {
                e.partition(":")[2]: set()
                for e in sorted(self._index_entities(tenant, job_id))
                if e.startswith(f"{PRODUCT}:")
            }
        return (
            {row: set() for row in rows}
            if rows and isinstance(rows[0], str)
            else {r[0]: set(r[1]) for r in rows}
        )

    def _index_entities(self, tenant: str, job_id: str) -> Iterator[str]:
        """The entity keys of the index the job made (an import's, staged), else of the tenant's
        (a rebuild) — streamed, never the whole index in memory."""
        staged = Paths(tenant).staging(job_id, "index.tsv.gz")
        key = staged if self.staging.exists(staged) else Paths(tenant).index
        if not self.staging.exists(key):
            return
        for line in self.staging.lines(key):
            entity = line.rpartition(b"\t")[0]
            if entity:
                yield json.loads(entity)

    def _members(self, tenant: str, job_id: str, products: set[str]) -> dict[str, list[str]]:
        """The offers and variants of those of these products the job's new index knows as
        products (offers of a product never sent have no card to make, and are not read)."""
        members: dict[str, list[str]] = {}
        known: set[str] = set()
        for entity in self._index_entities(tenant, job_id):
            kind, _, entity_id = entity.partition(":")
            product = entity_id.partition("#")[0]
            if product not in products:
                continue
            if kind == PRODUCT:
                known.add(product)
            elif kind in (OFFER, VARIANT):
                members.setdefault(product, []).append(entity)
        return {product: members.get(product, []) for product in known}

    def run(self, job: ImportJob, run: JobRun) -> Step:
        """Rebuild the touched products' cards from the checkpoint on, merging the new summaries
        into the sorted tenant summary as a stream (memory holds a chunk, never the catalog).
        AGAIN when time ran out: what is done is saved, the rest goes on from `cards_done`."""
        tenant = run.tenant
        kinds = self._touched(tenant, job.id)
        owed: list[str] = []
        if self.owed is not None:
            if self.owed.defer(run, job, kinds):  # a products-only file: the next one builds them
                return Step.NEXT
            owed = self.owed.fold(run, job)
            kinds = self._touched(tenant, job.id) if owed else kinds
        touched = list(kinds)
        if not touched:
            self._settle(tenant, owed)
            return Step.NEXT
        pending = touched[job.cards_done :]
        members = self._members(tenant, job.id, set(pending))
        parents = {g["id"]: g.get("parent_id") for g in self.catalog.docs(tenant, GROUP) if g["active"]}
        price_types = self.catalog.docs(tenant, "price_type")
        shop_type = (
            self.price_type_of(tenant, price_types)
            if self.price_type_of
            else (price_types[0]["id"] if price_types else None)
        )
        scopes: set[str] = {ALL}
        changes = self._diff(tenant, job.id) if job.cards_done else []
        before = {row[0]: row[1] for row in self.staging.small_values(tenant, job.id, OLD_PRICES)}
        names = {str(t["id"]): t.get("name") or str(t["id"]) for t in price_types}
        merged = _Merge(self.summaries(tenant))
        with tempfile.TemporaryFile() as spool:
            out = gzip.GzipFile(fileobj=spool, mode="wb", compresslevel=3)
            done = job.cards_done
            for start in range(0, len(pending), CARDS_CHUNK):
                chunk = pending[start : start + CARDS_CHUNK]
                states = self.catalog.states(tenant, {p: members[p] for p in chunk if p in members})
                puts, removed, history = [], [], []
                for product_id in chunk:
                    old = merged.take(product_id, out)
                    card = (
                        build_card(states[product_id], shop_type, parents) if product_id in states else None
                    )
                    new = card.summary() if card else None
                    if new is not None:
                        _write(out, new)
                    unchanged = (new and old and new.fp == old.fp) or (new is None and old is None)
                    state = states.get(product_id)
                    if unchanged and state is not None and state.active and len(changes) < MAX_DIFF:
                        side = _side_change(
                            product_id, kinds.get(product_id, set()), card, old, state.doc.get("name")
                        )
                        if side and side["op"] == "other_prices":
                            side["prices"] = _price_moves(state, before, names)
                        changes += [side] if side else []
                    if (new and old and new.fp == old.fp and old.whole) or (new is None and old is None):
                        continue
                    if card is not None and old is not None and new is not None and new.fp == old.fp:
                        puts.append(card)  # unchanged: it only joins the whole catalog's listing
                        continue
                    scopes.update(old.scopes if old else (), new.scopes if new else ())
                    difference = _difference(product_id, old, new)
                    moves = _price_moves(states.get(product_id), before, names)
                    if moves:
                        difference["prices"] = moves
                    if len(changes) < MAX_DIFF:
                        changes.append(difference)
                    if _shows(difference):
                        # the product's history line stays one small item: its prices by type are the diff's
                        history.append(_entry({k: v for k, v in difference.items() if k != "prices"}, job))
                    stale = set(old.buckets if old else ()) - set(new.buckets if new else ())
                    removed += [(product_id, group) for group in sorted(stale)]
                    if card is not None:
                        puts.append(card)
                self.catalog.write_cards(tenant, puts, removed, history)()
                done += len(chunk)
                if done < len(touched) and run.short_of_time():
                    break
                run.beat(job)
            merged.rest(out)
            out.close()
            spool.seek(0)  # facets first, from the new summary: a retry after a crash recounts them
            with gzip.GzipFile(fileobj=spool) as lines:
                self._recount(tenant, (CardSummary.from_list(json.loads(line)) for line in lines), scopes)
            spool.seek(0)
            self.blobs.upload(Paths(tenant).cards, spool)
        self._save_diff(tenant, job.id, changes)
        if done < len(touched):
            job.cards_checkpoint(done)
            run.save(job)
            return Step.AGAIN
        self._settle(tenant, owed)
        return Step.NEXT

    def _settle(self, tenant: str, owed: list[str]) -> None:
        if self.owed is not None:
            self.owed.settle(tenant, owed)

    def _diff(self, tenant: str, job_id: str) -> list[dict[str, Any]]:
        return self.staging.small_values(tenant, job_id, "diff.jsonl.gz")

    def _save_diff(self, tenant: str, job_id: str, changes: list[dict[str, Any]]) -> None:
        """What the import changed, old → new, for the console (the first MAX_DIFF products)."""
        self.staging.put_small_values(tenant, job_id, "diff.jsonl.gz", changes)

    def _recount(self, tenant: str, summaries: Iterable[CardSummary], scopes: set[str]) -> None:
        """Recount the facets of the scopes whose cards changed, from the summary as a stream, and
        write those that differ from what is stored (an emptied scope is zeroed)."""
        counted = {s: bounded(f) for s, f in facets(summaries, scopes).items()}
        stored = self.catalog.facets_of(tenant, scopes)
        changed = {
            s: counted.get(s, empty_facet()) for s in scopes if counted.get(s, empty_facet()) != stored.get(s)
        }
        if changed:
            self.catalog.write_facets(tenant, changed)()


class _Merge:
    """The old summary, consumed in id order alongside the touched products: rows before a
    touched id are copied through unchanged; the touched id's row is handed over."""

    def __init__(self, rows: Iterator[CardSummary]) -> None:
        self.rows, self.head = rows, next(rows, None)

    def take(self, product_id: str, out: Any) -> CardSummary | None:
        while self.head is not None and self.head.id < product_id:
            _write(out, self.head)
            self.head = next(self.rows, None)
        if self.head is not None and self.head.id == product_id:
            found, self.head = self.head, next(self.rows, None)
            return found
        return None

    def rest(self, out: Any) -> None:
        while self.head is not None:
            _write(out, self.head)
            self.head = next(self.rows, None)


def _write(out: Any, summary: CardSummary) -> None:
    out.write(json.dumps(summary.to_list(), ensure_ascii=False).encode() + b"\n")
