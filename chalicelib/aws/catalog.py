"""The catalog store: it owns every key and index of the catalog table, and answers in the
domain's terms (product states, cards, facets, the feed). The table's few calls sit behind it
(`DynamoCatalogTable` here, `MemoryCatalogTable` in memory/), so both run this same code.

Layout (every key starts with the tenant):
  {t}#p#{product}  product             the product record
                   offer#{offer}       ONE item per offer: `doc` (description), `prices`, `stock`
                                       — a prices file rewrites it with the stored parts kept
                   variant#{offer}     a 2.03/2.04 `Товар` variant's characteristics
                   card#{group}        the product's card, once per own group (listing buckets)
  {t}#group        {id}   and likewise {t}#property, {t}#price_type, {t}#warehouse, {t}#unit
  {t}#feed         {stamp}             the change feed: one entry per written batch, its entities
  {t}#facets       {group | *}         precomputed facets per group (subgroups included)
GSIs over card items only (sparse): `cards_name` (lpk, ln), `cards_price` (lpk, lp: cards with a
shop price), `cards_updated` (lpk, lu); lpk = {t}#l#{group}, sort values `{in stock}#{value}#{id}`.
No key takes every write of an import: products spread over their partitions, cards over their
groups, and the feed takes one write per batch of up to 1,000 changes.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import cached_property
from typing import Any

from chalicelib.aws.card_items import MAX_ITEM_BYTES, WHOLE_FLAG, WHOLE_SHARDS, card_item, whole_key
from chalicelib.aws.catalog_facets import FacetItems
from chalicelib.aws.catalog_feed import feed_entries, feed_items
from chalicelib.aws.catalog_table import DynamoCatalogTable, IndexPage, item_size
from chalicelib.aws.offer_items import pack, unpack_prices, unpack_stock
from chalicelib.ports import ItemTooLarge
from chalicelib.sync.cards import (
    WHOLE,
    Card,
    ListQuery,
    OfferState,
    ProductState,
    price_key,
)
from chalicelib.sync.diff import Change, Deactivate
from chalicelib.sync.records import OFFER, OFFER_PRICES, OFFER_STOCK, PRODUCT, VARIANT

INDEXES = {"name": ("cards_name", "ln"), "price": ("cards_price", "lp"), "updated": ("cards_updated", "lu")}
OFFER_PARTS = {OFFER: "doc", OFFER_PRICES: "prices", OFFER_STOCK: "stock"}
HISTORY_DAYS = 90  # a product's card changes the console shows (the table's TTL removes older)
MAX_ROUNDS = 3  # queries per bucket for a filtered page before it is answered short, with a cursor
READERS = 16  # a page of many groups, or a product with its offers read side by side


def _item_key(tenant: str, kind: str, entity_id: str) -> tuple[str, str]:
    product = entity_id.partition("#")[0]
    if kind == PRODUCT:
        return f"{tenant}#p#{product}", "product"
    if kind in OFFER_PARTS:
        return f"{tenant}#p#{product}", f"offer#{entity_id}"
    if kind == VARIANT:
        return f"{tenant}#p#{product}", f"variant#{entity_id}"
    return f"{tenant}#{kind}", entity_id


class CatalogStore:
    def __init__(self, table: Any) -> None:
        self.table = table if not isinstance(table, str) else DynamoCatalogTable(table)
        self.facet_items = FacetItems(self.table)
        self._in_flight: list[Future[None]] = []

    @property
    def stats(self) -> Any:
        return self.table.stats

    @cached_property
    def _readers(self) -> ThreadPoolExecutor:
        """Queries of one read run side by side; kept for the container's life (no pool a page)."""
        return ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="catalog-reader")

    # -- the import's writes ---------------------------------------------------------------------
    def write_changes(
        self,
        tenant: str,
        changes: list[Change],
        stamp: str,
        too_large: Callable[[ItemTooLarge], None] | None = None,
    ) -> Callable[[], None]:
        """Write one batch of staged changes and its feed entry, in the background; the returned
        waiter finishes them (raising the first error). An offer's parts share one item: parts a
        batch lacks are read first (after this store's earlier writes landed), then kept. An item
        over DynamoDB's size is left out and handed to `too_large` (without it, refused whole)."""
        at = int(stamp[:13])
        items: dict[tuple[str, str], dict[str, Any]] = {}
        partial: set[tuple[str, str]] = set()
        for change in changes:
            if isinstance(change, Deactivate):
                partial.add(_item_key(tenant, change.kind, change.id))
                continue
            record = change.record
            pk, sk = _item_key(tenant, record.kind, record.id)
            item = items.setdefault((pk, sk), {"pk": pk, "sk": sk})
            if record.kind in OFFER_PARTS:
                item[OFFER_PARTS[record.kind]] = pack(record.kind, record.doc)
                if record.kind == OFFER:
                    item["active"] = record.active
            else:
                item.update(doc=record.doc, active=record.active)
            item["at"] = at
        partial |= {key for key, item in items.items() if key[1].startswith("offer#")}
        # read what the batch does not hold whole: deactivated items, offers missing a part
        partial = {k for k in partial if k not in items or not {"doc", "prices", "stock"} <= items[k].keys()}
        if partial:
            self._wait_in_flight()
            for stored in self.table.get(sorted(partial)):
                key = (stored["pk"], stored["sk"])
                items[key] = {**stored, **items.get(key, {}), "at": at}
        for change in changes:
            if isinstance(change, Deactivate):
                key = _item_key(tenant, change.kind, change.id)
                if key in items:
                    items[key]["active"] = False
        for key in partial:  # an offer whose other parts were never stored: listed, unless told
            if key in items:
                items[key].setdefault("active", True)
        puts = list(items.values()) + feed_items(tenant, stamp, feed_entries(changes))
        futures = self._write(puts, [], too_large)
        self._in_flight = futures
        return self._waiter(futures)

    def _waiter(self, futures: list[Future[None]]) -> Any:
        def wait() -> None:
            for future in futures:
                future.result()

        return wait

    def _wait_in_flight(self) -> None:
        for future in self._in_flight:
            future.result()
        self._in_flight = []

    def write_cards(
        self,
        tenant: str,
        cards: list[Card],
        removed: list[tuple[str, str]],
        history: list[dict[str, Any]] | None = None,
    ) -> Any:
        """Put cards (one item per own group), delete (product, group) cards no longer listed, and
        add what changed in each product's card to its history (kept HISTORY_DAYS)."""
        puts = [card_item(tenant, card, group) for card in cards for group in card.buckets]
        puts += [self._history_item(tenant, entry) for entry in history or ()]
        deletes = [(f"{tenant}#p#{product}", f"card#{group}") for product, group in removed]
        return self._waiter(self._write(puts, deletes))

    @staticmethod
    def _history_item(tenant: str, entry: dict[str, Any]) -> dict[str, Any]:
        at = int(entry["at"])
        return {
            "pk": f"{tenant}#h#{entry['change']['id']}",
            "sk": f"{at:013d}#{hashlib.sha1(entry['job'].encode()).hexdigest()[:8]}",
            "entry": json.dumps(entry, ensure_ascii=False, separators=(",", ":")),
            "expires_at": at // 1000 + HISTORY_DAYS * 86_400,
        }

    def history(self, tenant: str, product_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The product's latest card changes, newest first (one query)."""
        items = self.table.partition(f"{tenant}#h#{product_id}", limit=limit, newest_first=True)
        return [json.loads(i["entry"]) for i in items]

    def _write(
        self,
        puts: list[dict[str, Any]],
        deletes: list[tuple[str, str]],
        too_large: Callable[[ItemTooLarge], None] | None = None,
    ) -> list[Future[None]]:
        """Every write of the catalog passes here, each item's size checked once: one DynamoDB
        would refuse is handed to `too_large` and left out, or (without it) refused with its name
        before anything of the batch is sent."""
        kept = []
        for item in puts:
            size = item_size(item)
            if size <= MAX_ITEM_BYTES:
                kept.append(item)
                continue
            refused = ItemTooLarge(item["pk"], item["sk"], size)
            if too_large is None:
                raise refused
            too_large(refused)
        return self.table.write(kept, deletes)

    def write_facets(self, tenant: str, facets: dict[str, dict[str, Any]]) -> Any:
        """Each scope's facet, bounded, its listing buckets paged (`catalog_facets`)."""
        puts, deletes = self.facet_items.writes(tenant, facets)
        return self._waiter(self._write(puts, deletes))

    # -- reads -----------------------------------------------------------------------------------
    def docs(self, tenant: str, kind: str) -> list[dict[str, Any]]:
        """All records of a small per-tenant kind (groups, properties, price types, ...)."""
        return [
            {**json.loads(i["doc"]), "active": bool(i.get("active", True))}
            for i in self.table.partition(f"{tenant}#{kind}")
        ]

    def product(self, tenant: str, product_id: str) -> ProductState | None:
        """A product with its offers: one partition query."""
        return _product_state(product_id, self.table.partition(f"{tenant}#p#{product_id}"))

    def products(self, tenant: str, product_ids: Iterable[str]) -> dict[str, ProductState]:
        """Several products, their partition queries run side by side."""
        ids = sorted(set(product_ids))
        if len(ids) <= 1:
            found = {i: self.product(tenant, i) for i in ids}
        else:
            found = dict(zip(ids, self._readers.map(lambda i: self.product(tenant, i), ids), strict=True))
        return {i: state for i, state in found.items() if state is not None}

    def states(
        self, tenant: str, members: dict[str, list[str]], consistent: bool = True
    ) -> dict[str, ProductState]:
        """Products whose records are known (product id → its `offer:…`/`variant:…` entity keys,
        as the import's index lists them): one BatchGetItem per 100 items, no query; strongly
        consistent unless asked (half the read units)."""
        wanted = []
        for product_id, entities in members.items():
            wanted.append(_item_key(tenant, PRODUCT, product_id))
            for entity in entities:
                kind, _, entity_id = entity.partition(":")
                wanted.append(_item_key(tenant, kind, entity_id))
        by_product: dict[str, list[dict[str, Any]]] = {}
        for item in self.table.get(wanted, consistent):
            by_product.setdefault(item["pk"].partition("#p#")[2], []).append(item)
        states = {pid: _product_state(pid, items) for pid, items in by_product.items()}
        return {pid: state for pid, state in states.items() if state is not None}

    def facets_of(self, tenant: str, scopes: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored facets of these scopes (one BatchGetItem per 100, and one for bucket pages)."""
        return self.facet_items.read(tenant, scopes)

    def facet(self, tenant: str, scope: str) -> dict[str, Any] | None:
        return self.facets_of(tenant, [scope]).get(scope)

    def feed(self, tenant: str, after: str | None, skip: int, limit: int) -> list[tuple[str, int, list[str]]]:
        """Feed entities after entry `after` (its first `skip` already read): (entry, position, entity)."""
        found: list[tuple[str, int, list[str]]] = []
        cursor = after
        if after is not None and skip:
            for item in self.table.get([(f"{tenant}#feed", after)]):
                entries = json.loads(item["changes"])
                found += [(after, n + 1, e) for n, e in enumerate(entries) if n >= skip]
        while len(found) < limit:
            items = self.table.partition(f"{tenant}#feed", after=cursor, limit=max(1, min(limit, 50)))
            for item in items:
                found += [(item["sk"], n + 1, e) for n, e in enumerate(json.loads(item["changes"]))]
            if not items:
                break
            cursor = items[-1]["sk"]
        return found[:limit]

    def cards(
        self, tenant: str, query: ListQuery, buckets: list[str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One list page over the buckets (groups) asked — or WHOLE, the whole catalog by name: one
        query a shard —: per bucket and stock flag one index query
        from the cursor on, the answers merged by the sort value. Returns the cards (each with its
        sort value under `_at`) and the next cursor: the last sort value, or None at the end."""
        index, attr = INDEXES[query.order]
        flags = ["1", "0"] if query.in_stock is None else ["1" if query.in_stock else "0"]
        sources = [(f"{tenant}#l#{bucket}", flag) for bucket in buckets for flag in flags]
        if buckets == [WHOLE]:  # by name: one query a shard, stock filtered rather than keyed
            if query.order != "name":
                raise ValueError("the whole catalog's own listing is by name; other sorts read the groups")
            index, attr = "cards_whole", "wn"
            sources = [(whole_key(tenant, n), WHOLE_FLAG) for n in range(WHOLE_SHARDS)]
            query = replace(query, stock_filtered=True)

        def one(source: tuple[str, str]) -> tuple[list[dict[str, Any]], str | None]:
            key, flag = source
            return self._source(index, attr, key, flag, query)

        answers = [one(sources[0])] if len(sources) == 1 else list(self._readers.map(one, sources))
        cards, bound = _merge(answers, attr, query.descending, query.limit)
        if len(cards) == query.limit:
            return cards, cards[-1]["_at"]
        return cards, bound

    def _source(
        self, index: str, attr: str, pk: str, flag: str, query: ListQuery
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` matching cards of one bucket and stock flag after the cursor, and where it
        stopped when it stopped early (filters dropped too many for MAX_ROUNDS queries)."""
        low, high = f"{flag}#", chr(ord(flag) + 1)  # `1#…` values sort below "2"
        if query.price_in_key and query.price_min is not None:
            low = f"{flag}#{price_key(str(query.price_min))}"
        if query.price_in_key and query.price_max is not None:
            high = f"{flag}#{price_key(str(query.price_max))}\x02"  # after the price's "\x01{id}"
        skip = f"{flag}#{query.after}" if query.after else None
        if skip and not query.descending:
            low = max(low, skip)
        elif skip:
            high = min(high, skip)
        if low > high:  # a cursor past the price range: nothing is left in this source
            return [], None
        need, found = query.limit, []
        evaluate = need + 1 if not query.has_filter() else max(4 * need, 100)
        for _ in range(MAX_ROUNDS):
            page: IndexPage = self.table.index_page(
                index, attr, pk, low, high, not query.descending, evaluate, query
            )
            found += [i for i in page.items if i[attr] != skip]
            if len(found) >= need or page.last is None:
                return found[:need], None
            low, high = (page.last, high) if not query.descending else (low, page.last)
            skip = page.last
        return found, (skip or "")[2:]


def _merge(
    answers: list[tuple[list[dict[str, Any]], str | None]], attr: str, descending: bool, need: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Merge the sources' pages by sort value (stock flag aside), each card once, never past a
    source that stopped early: that is where the next page starts."""
    bounds = [stop for _, stop in answers if stop is not None]
    bound = (max(bounds) if descending else min(bounds)) if bounds else None
    merged = heapq.merge(*(items for items, _ in answers), key=lambda i: i[attr][2:], reverse=descending)
    cards, seen = [], set()
    for item in merged:
        value = item[attr][2:]
        if bound is not None and (value < bound if descending else value > bound):
            break
        card = json.loads(item["card"])
        if card["id"] in seen:
            continue
        seen.add(card["id"])
        cards.append({**card, "_at": value})
        if len(cards) == need:
            return cards, None
    return cards, bound


def _product_state(product_id: str, items: list[dict[str, Any]]) -> ProductState | None:
    head = next((i for i in items if i["sk"] == "product"), None)
    if head is None:
        return None
    variants = {i["sk"].removeprefix("variant#"): i for i in items if i["sk"].startswith("variant#")}
    offers = []
    for item in items:
        if not item["sk"].startswith("offer#"):
            continue
        offer_id = item["sk"].removeprefix("offer#")
        variant = variants.get(offer_id)
        prices, breaks = unpack_prices(item["prices"]) if item.get("prices") else ([], [])
        offers.append(
            OfferState(
                id=offer_id,
                info=json.loads(item["doc"]) if item.get("doc") else None,
                prices=prices,
                breaks=breaks,
                stock=unpack_stock(item["stock"]) if item.get("stock") else None,
                active=bool(item.get("active", True))
                and bool(variant is None or variant.get("active", True)),
                variant=json.loads(variant["doc"]) if variant else None,
            )
        )
    for offer_id, variant in variants.items():  # a variant 1C has sent no offer for yet
        if not any(o.id == offer_id for o in offers):
            active = bool(variant.get("active", True))
            offers.append(OfferState(offer_id, None, [], None, active, json.loads(variant["doc"])))
    return ProductState(
        id=product_id,
        doc=json.loads(head["doc"]),
        active=bool(head.get("active", True)),
        updated=max(int(i.get("at", 0)) for i in items if not i["sk"].startswith("card#")),
        offers=sorted(offers, key=lambda o: o.id),
    )
