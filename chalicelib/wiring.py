"""Lazy factories: one adapter of each kind per process, built from the current settings."""

from __future__ import annotations

from functools import cache

from chalicelib.accounts import Accounts
from chalicelib.aws import clients
from chalicelib.settings import settings


@cache
def accounts() -> Accounts:
    from chalicelib.aws.tenants import DynamoTenantStore

    return Accounts(DynamoTenantStore(settings().tenants_table))


@cache
def exchange_store():
    from chalicelib.aws.exchange_store import ExchangeStore

    return ExchangeStore(settings().exchange_table)


@cache
def blobs():
    from chalicelib.aws.blobs import BlobStore

    return BlobStore(settings().bucket)


@cache
def catalog_store():
    from chalicelib.aws.catalog import CatalogStore

    return CatalogStore(settings().catalog_table)


@cache
def job_queue():
    from chalicelib.aws.queue import JobQueue

    return JobQueue(settings().import_queue_name)


@cache
def exchange():
    from chalicelib.exchange.protocol import Exchange

    return Exchange(accounts(), exchange_store(), blobs(), job_queue(), settings())


@cache
def import_worker():
    from chalicelib.exchange.worker import ImportWorker

    return ImportWorker(exchange_store(), blobs(), catalog_store(), job_queue(), settings())


@cache
def shop_catalog():
    from chalicelib.shop.catalog import ShopCatalog

    return ShopCatalog(catalog_store(), blobs().url)


def reset() -> None:
    """Drop every cached adapter and client (tests; the local stack after a restart)."""
    for factory in _FACTORIES:
        factory.cache_clear()
    clients.reset()


_FACTORIES = [
    accounts,
    exchange_store,
    blobs,
    catalog_store,
    job_queue,
    exchange,
    import_worker,
    shop_catalog,
]
