"""The catalog table's few operations, on DynamoDB: batch puts and deletes in the background, batch
gets, partition queries, and one index page with the list filters as a FilterExpression.
`memory/catalog.py` is its twin; `CatalogStore` holds everything above these calls."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from chalicelib.aws.clients import resource
from chalicelib.sync.cards import ListQuery

BATCH_WRITE = 25  # DynamoDB's limit (moto accepts more: keep it ourselves)
BATCH_GET = 100
WRITERS = 4  # BatchWriteItem calls in flight per worker


@dataclass
class TableStats:
    calls: int = 0  # BatchWriteItem calls
    items: int = 0  # items put or deleted
    queries: int = 0  # Query calls (reads)
    read_units: float = 0.0  # read units DynamoDB reports for the queries and batch reads
    units: Counter[str] = field(default_factory=Counter)  # write units DynamoDB reports: table, each index
    keys: Counter[tuple[str, str]] | None = (
        None  # estimated write units per (table or index, partition key): bench only
    )


INDEX_SORT_KEYS = {"cards_name": "ln", "cards_price": "lp", "cards_updated": "lu"}
INDEX_KEYS = {"cards_name": "lpk", "cards_price": "lpk", "cards_updated": "lpk", "cards_whole": "wpk"}


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, rounded up: names and values in UTF-8 (a number or
    a list counted by its text, which is never smaller)."""
    return sum(len(k.encode()) + len(str(v).encode()) for k, v in item.items())


def item_units(item: dict[str, Any]) -> int:
    """Write units of an item: one per started KB of names and values (DynamoDB's item size)."""
    return max(1, -(-item_size(item) // 1024))


def tally(keys: Counter[tuple[str, str]], requests: list[dict[str, Any]]) -> None:
    """Where a batch's writes land: the table's partition keys and, for card items, each index's."""
    for request in requests:
        item = (request.get("PutRequest") or {}).get("Item") or request["DeleteRequest"]["Key"]
        units = item_units(item)
        keys[("table", item["pk"])] += units
        for index, sort_key in {**INDEX_SORT_KEYS, "cards_whole": "wn"}.items():
            if sort_key in item:
                keys[(index, item[INDEX_KEYS[index]])] += units


@dataclass(frozen=True)
class IndexPage:
    items: list[dict[str, Any]]
    last: str | None  # the sort value of the last item evaluated when more remain


def card_filter(query: ListQuery) -> ConditionBase | None:
    """The list filters a key condition does not cover, as DynamoDB evaluates them
    (`sync.cards.matches` is the same rule for the twin)."""
    parts: list[ConditionBase] = []
    if query.stock_filter is not None:
        parts.append(Attr("st").eq(query.stock_filter))
    if query.q:
        parts.append(Attr("search").contains(query.q))
    if query.sku:
        parts.append(Attr("sku").eq(query.sku))
    if query.barcode:
        parts.append(Attr("barcodes").contains(query.barcode))
    if not query.price_in_key and query.price_min is not None:
        parts.append(Attr("pmin").gte(query.price_min))
    if not query.price_in_key and query.price_max is not None:
        parts.append(Attr("pmin").lte(query.price_max))
    for pid, values in query.properties:
        any_value = Attr("props").contains(f"{pid}:{values[0]}")
        for value in values[1:]:
            any_value = any_value | Attr("props").contains(f"{pid}:{value}")
        parts.append(any_value)
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition = condition & part
    return condition


class DynamoCatalogTable:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = resource("dynamodb").Table(table_name)
        self.client = resource("dynamodb").meta.client
        self.stats = TableStats(keys=Counter() if os.environ.get("CATALOG_METER_KEYS") else None)
        self._lock = threading.Lock()

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="catalog-writer")

    def write(self, puts: list[dict[str, Any]], deletes: list[tuple[str, str]]) -> list[Future[None]]:
        """BatchWriteItem in 25s, a few in flight, in the background (each key appears once)."""
        requests = [{"PutRequest": {"Item": item}} for item in puts]
        requests += [{"DeleteRequest": {"Key": {"pk": pk, "sk": sk}}} for pk, sk in deletes]
        return [
            self._pool.submit(self._write, requests[i : i + BATCH_WRITE])
            for i in range(0, len(requests), BATCH_WRITE)
        ]

    def _write(self, requests: list[dict[str, Any]]) -> None:
        pending, delay, calls = {self.table_name: requests}, 0.05, 0
        units: Counter[str] = Counter()
        while pending:
            calls += 1
            result = self.client.batch_write_item(RequestItems=pending, ReturnConsumedCapacity="INDEXES")
            for consumed in result.get("ConsumedCapacity") or []:
                units["table"] += (consumed.get("Table") or {}).get("CapacityUnits", 0)
                for index, used in (consumed.get("GlobalSecondaryIndexes") or {}).items():
                    units[index] += used.get("CapacityUnits", 0)
            pending = result.get("UnprocessedItems") or {}
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        with self._lock:
            self.stats.calls += calls
            self.stats.items += len(requests)
            self.stats.units.update(units)
            if self.stats.keys is not None:
                tally(self.stats.keys, requests)

    def get(self, keys: list[tuple[str, str]], consistent: bool = True) -> Iterator[dict[str, Any]]:
        for i in range(0, len(keys), BATCH_GET):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": [{"pk": pk, "sk": sk} for pk, sk in keys[i : i + BATCH_GET]],
                    "ConsistentRead": consistent,
                }
            }
            while pending:
                result = self.client.batch_get_item(RequestItems=pending, ReturnConsumedCapacity="TOTAL")
                for consumed in result.get("ConsumedCapacity") or []:
                    self._spent({"ConsumedCapacity": consumed})
                yield from result["Responses"].get(self.table_name, [])
                pending = result.get("UnprocessedKeys") or {}

    def partition(
        self, pk: str, after: str | None = None, limit: int | None = None, newest_first: bool = False
    ) -> list[dict[str, Any]]:
        """A partition by sort key (after `after`, at most `limit` items when given; the highest
        sort keys first when `newest_first`)."""
        condition = Key("pk").eq(pk)
        if after is not None:
            condition = condition & Key("sk").gt(after)
        self._count()
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ScanIndexForward": not newest_first,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if limit is not None:
            kwargs["Limit"] = limit
        items: list[dict[str, Any]] = []
        while True:
            page = self.table.query(**kwargs)
            self._spent(page)
            items += page["Items"]
            if limit is not None or "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

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
        """One Query of a listing index: sort values within [low, high], in order, at most `limit`
        evaluated, the filters applied."""
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": Key(INDEX_KEYS[index]).eq(pk) & Key(sort_attr).between(low, high),
            "ScanIndexForward": forward,
            "Limit": limit,
            "ReturnConsumedCapacity": "TOTAL",
            # A page needs the card and where it sorts: the rest (filter attributes, keys) is
            # neither sent nor deserialized (the read units are the same; the CPU is not).
            "ProjectionExpression": f"card, {sort_attr}",
        }
        condition = card_filter(query)
        if condition is not None:
            kwargs["FilterExpression"] = condition
        self._count()
        page = self.table.query(**kwargs)
        self._spent(page)
        last = page.get("LastEvaluatedKey")
        return IndexPage(page["Items"], last[sort_attr] if last else None)

    def _spent(self, page: dict[str, Any]) -> None:
        used = (page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0
        with self._lock:
            self.stats.read_units += float(used)

    def _count(self) -> None:
        with self._lock:
            self.stats.queries += 1
