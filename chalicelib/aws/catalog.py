"""Catalog table adapter: batch writes of changed records, batch reads, partition queries.

Layout (every key starts with the tenant):
  {t}#p#{product}  product                  the product
                   offer#{offer}            an offer's description (offer = product#variant or product)
                   offer#{offer}#prices     its prices
                   offer#{offer}#stock      its stock
                   variant#{offer}          a 2.03/2.04 `Товар` variant's characteristics
  {t}#group        {id}   and likewise {t}#property, {t}#price_type, {t}#warehouse, {t}#unit
GSI `changes` (cpk={t}#changes, csk=<stamp>#<kind>#<id>): the change feed; the stamp is when
the item was last written.
GSI `listing` (lpk={t}#products, lsk=<name>#<id>): product lists.
Items carry only what a read needs: kind and id follow from the keys (`kind_and_id`), and every
attribute costs write capacity on each of the many items an import writes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.aws.clients import query_all, resource
from chalicelib.sync.records import OFFER, OFFER_PRICES, OFFER_STOCK, PRODUCT, VARIANT, Record

BATCH_WRITE = 25  # DynamoDB's limit (moto accepts more: keep it ourselves)
BATCH_GET = 100
WRITERS = 4  # BatchWriteItem calls in flight per worker


def keys(tenant: str, kind: str, entity_id: str) -> tuple[str, str]:
    product = entity_id.partition("#")[0]
    if kind == PRODUCT:
        return f"{tenant}#p#{product}", "product"
    if kind == OFFER:
        return f"{tenant}#p#{product}", f"offer#{entity_id}"
    if kind in (OFFER_PRICES, OFFER_STOCK):
        return f"{tenant}#p#{product}", f"offer#{entity_id}#{kind}"
    if kind == VARIANT:
        return f"{tenant}#p#{product}", f"variant#{entity_id}"
    return f"{tenant}#{kind}", entity_id


def kind_and_id(pk: str, sk: str) -> tuple[str, str]:
    """The inverse of `keys`: which record an item holds."""
    if sk == "product":
        return PRODUCT, pk.partition("#p#")[2]
    if sk.startswith("variant#"):
        return VARIANT, sk.removeprefix("variant#")
    if sk.startswith("offer#"):
        offer_id = sk.removeprefix("offer#")
        for part in (OFFER_PRICES, OFFER_STOCK):
            if offer_id.endswith(f"#{part}"):
                return part, offer_id.removesuffix(f"#{part}")
        return OFFER, offer_id
    return pk.partition("#")[2], sk


def listing_key(name: str, entity_id: str) -> str:
    return f"{' '.join(name.lower().split())[:200]}#{entity_id}"


@dataclass(frozen=True)
class ProductFilter:
    """What a product list asks for: any of the groups, a name or sku fragment, sku, barcode."""

    groups: tuple[str, ...] = ()
    search: str | None = None
    sku: str | None = None
    barcode: str | None = None


@dataclass
class WriteStats:
    calls: int = 0
    items: int = 0


class CatalogStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = resource("dynamodb").Table(table_name)
        self.client = resource("dynamodb").meta.client
        self.stats = WriteStats()
        self._lock = threading.Lock()

    # -- writes ---------------------------------------------------------------------------------
    def item(self, tenant: str, record: Record, stamp: str) -> dict[str, Any]:
        pk, sk = keys(tenant, record.kind, record.id)
        item = {
            "pk": pk,
            "sk": sk,
            "doc": record.doc,
            "active": record.active,
            "cpk": f"{tenant}#changes",
            "csk": f"{stamp}#{record.kind}#{record.id}",
        }
        if record.kind == PRODUCT:
            data = json.loads(record.doc)
            item["lpk"] = f"{tenant}#products"
            item["lsk"] = listing_key(data.get("name") or "", record.id)
            # Top-level copies the listing filters can test without reading the document.
            item["search"] = " ".join(f"{data.get('name') or ''} {data.get('sku') or ''}".lower().split())
            for attr, values in (("groups", data.get("group_ids")), ("barcodes", data.get("barcodes"))):
                if values:
                    item[attr] = set(values)
            if data.get("sku"):
                item["sku"] = data["sku"]
        return item

    def start_put(self, items: Iterable[dict[str, Any]]) -> Callable[[], None]:
        """BatchWriteItem in 25s, a few in flight, in the background (each item appears once). The
        returned function waits for all of them (raising the first error), so the caller can
        prepare the next batch meanwhile."""
        batches: list[list[dict[str, Any]]] = [[]]
        for item in items:
            if len(batches[-1]) == BATCH_WRITE:
                batches.append([])
            batches[-1].append({"PutRequest": {"Item": item}})
        futures = [self._pool.submit(self._write, batch) for batch in batches if batch]

        def wait() -> None:
            for future in futures:
                future.result()

        return wait

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="catalog-writer")

    def _write(self, requests: list[dict[str, Any]]) -> None:
        pending, delay, calls = {self.table_name: requests}, 0.05, 0
        while pending:
            calls += 1
            result = self.client.batch_write_item(RequestItems=pending)
            pending = result.get("UnprocessedItems") or {}
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        with self._lock:
            self.stats.calls += calls
            self.stats.items += len(requests)

    # -- reads ----------------------------------------------------------------------------------
    def get_items(self, key_pairs: Iterable[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        batch: list[dict[str, str]] = []
        for pk, sk in key_pairs:
            batch.append({"pk": pk, "sk": sk})
            if len(batch) == BATCH_GET:
                yield from self._get(batch)
                batch = []
        if batch:
            yield from self._get(batch)

    def _get(self, keys_: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
        pending: dict[str, Any] = {self.table_name: {"Keys": keys_, "ConsistentRead": True}}
        while pending:
            result = self.client.batch_get_item(RequestItems=pending)
            yield from result["Responses"].get(self.table_name, [])
            pending = result.get("UnprocessedKeys") or {}

    def partition(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        condition = Key("pk").eq(pk)
        if sk_prefix:
            condition = condition & Key("sk").begins_with(sk_prefix)
        return query_all(self.table, KeyConditionExpression=condition)

    def listing(
        self, tenant: str, wanted: ProductFilter, start: dict[str, str] | None, limit: int
    ) -> dict[str, Any]:
        """One page of the tenant's active products by name (GSI `listing`), filtered."""
        condition = Attr("active").eq(True)
        if wanted.groups:
            any_group = Attr("groups").contains(wanted.groups[0])
            for group in wanted.groups[1:]:
                any_group = any_group | Attr("groups").contains(group)
            condition = condition & any_group
        if wanted.search:
            condition = condition & Attr("search").contains(wanted.search)
        if wanted.sku:
            condition = condition & Attr("sku").eq(wanted.sku)
        if wanted.barcode:
            condition = condition & Attr("barcodes").contains(wanted.barcode)
        kwargs: dict[str, Any] = {"IndexName": "listing", "Limit": limit, "FilterExpression": condition}
        if start:
            kwargs["ExclusiveStartKey"] = start
        return self.table.query(KeyConditionExpression=Key("lpk").eq(f"{tenant}#products"), **kwargs)

    def changes(self, tenant: str, after: str | None, limit: int) -> dict[str, Any]:
        """One page of the change feed (GSI `changes`), after a sort key."""
        condition = Key("cpk").eq(f"{tenant}#changes")
        if after:
            condition = condition & Key("csk").gt(after)
        return self.table.query(IndexName="changes", KeyConditionExpression=condition, Limit=limit)

    def docs(self, tenant: str, kind: str) -> list[dict[str, Any]]:
        """All records of a small per-tenant kind (groups, properties, price types, ...)."""
        return [
            {**json.loads(i["doc"]), "active": bool(i.get("active", True))}
            for i in self.partition(f"{tenant}#{kind}")
        ]
