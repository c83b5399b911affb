"""The catalog table's twin: DynamoDB's few calls the catalog store makes, on a dict.

`index_page` keeps DynamoDB's order of work: the key range and `Limit` pick the items evaluated,
then the filter drops some (so a filtered page can come back short, as on AWS)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from concurrent.futures import Future
from decimal import Decimal
from typing import Any

from chalicelib.aws.catalog import CatalogStore
from chalicelib.aws.catalog_table import INDEX_KEYS, IndexPage, TableStats, item_size
from chalicelib.sync.cards import ListQuery

DYNAMODB_MAX_ITEM = 400 * 1024


def matches(item: dict[str, Any], query: ListQuery) -> bool:
    """`catalog_table.card_filter` as Python."""
    if query.stock_filter is not None and item.get("st") != query.stock_filter:
        return False
    if query.q and query.q not in item.get("search", ""):
        return False
    if query.sku and item.get("sku") != query.sku:
        return False
    if query.barcode and query.barcode not in (item.get("barcodes") or ()):
        return False
    price = item.get("pmin")
    if not query.price_in_key and query.price_min is not None and (price is None or price < query.price_min):
        return False
    if not query.price_in_key and query.price_max is not None and (price is None or price > query.price_max):
        return False
    props = set(item.get("props") or ())
    return all(any(f"{pid}:{v}" in props for v in values) for pid, values in query.properties)


class MemoryCatalogTable:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.stats = TableStats()

    def write(self, puts: list[dict[str, Any]], deletes: list[tuple[str, str]]) -> list[Future[None]]:
        for item in puts:  # DynamoDB refuses the whole batch for one item over 400 KB
            if item_size(item) > DYNAMODB_MAX_ITEM:
                raise ValueError("Item size has exceeded the maximum allowed size")
        for item in puts:
            self.items[(item["pk"], item["sk"])] = _stored(item)
        for key in deletes:
            self.items.pop(key, None)
        self.stats.calls += (len(puts) + len(deletes) + 24) // 25
        self.stats.items += len(puts) + len(deletes)
        done: Future[None] = Future()
        done.set_result(None)
        return [done]

    def get(self, keys: list[tuple[str, str]], consistent: bool = True) -> Iterator[dict[str, Any]]:
        for key in keys:
            if key in self.items:
                yield copy.deepcopy(self.items[key])

    def partition(
        self, pk: str, after: str | None = None, limit: int | None = None, newest_first: bool = False
    ) -> list[dict[str, Any]]:
        self.stats.queries += 1
        found = sorted(
            (v for (p, s), v in self.items.items() if p == pk and (after is None or s > after)),
            key=lambda i: i["sk"],
            reverse=newest_first,
        )
        return copy.deepcopy(found[:limit] if limit is not None else found)

    def index_page(
        self,
        index: str,
        sort_attr: str,
        pk: str,
        low: str,
        high: str,
        forward: bool,
        limit: int,
        query: ListQuery,
    ) -> IndexPage:
        self.stats.queries += 1
        in_range = sorted(
            (
                v
                for v in self.items.values()
                if v.get(INDEX_KEYS[index]) == pk and sort_attr in v and low <= v[sort_attr] <= high
            ),
            key=lambda i: i[sort_attr].encode(),
            reverse=not forward,
        )
        evaluated = in_range[:limit]
        last = evaluated[-1][sort_attr] if len(in_range) > limit else None
        return IndexPage([copy.deepcopy(i) for i in evaluated if matches(i, query)], last)


def _stored(item: dict[str, Any]) -> dict[str, Any]:
    """As DynamoDB keeps it: numbers come back as Decimal."""
    return {
        k: Decimal(str(v)) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in item.items()
    }


class InMemoryCatalogStore(CatalogStore):
    """The catalog store on the twin table."""

    def __init__(self) -> None:
        self.memory = MemoryCatalogTable()
        super().__init__(self.memory)

    @property
    def items(self) -> dict[tuple[str, str], dict[str, Any]]:
        return self.memory.items
