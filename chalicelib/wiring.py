"""Lazy factories: one adapter of each kind per process, built from the current settings."""

from __future__ import annotations

from functools import cache

from chalicelib.accounts import Accounts
from chalicelib.aws import clients
from chalicelib.settings import settings


@cache
def accounts() -> Accounts:
    from chalicelib.aws.tenants import DynamoTenantStore

    return Accounts(DynamoTenantStore(settings().tenants_table), settings().require_https_webhooks)


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
def rate_limiter():
    from chalicelib.aws.ratelimit import RateLimiter

    return RateLimiter(settings().exchange_table)


@cache
def job_queue():
    from chalicelib.aws.queue import JobQueue

    return JobQueue(settings().import_queue_name)


@cache
def exchange():
    from chalicelib.exchange.protocol import Exchange

    return Exchange(accounts(), exchange_store(), blobs(), job_queue(), settings(), orders())


@cache
def import_worker():
    from chalicelib.exchange.worker import ImportWorker

    def price_type_of(tenant: str, price_types: list) -> str | None:
        account = accounts().store.get(tenant)
        return account.settings.price_type_from(price_types) if account else None

    return ImportWorker(
        exchange_store(),
        blobs(),
        catalog_store(),
        job_queue(),
        settings(),
        outbox(),
        holds=orders(),
        price_type_of=price_type_of,
    )


@cache
def shop_catalog():
    from chalicelib.shop.catalog import ShopCatalog

    return ShopCatalog(catalog_store(), blobs().url)


@cache
def orders():
    from chalicelib.aws.orders_store import OrdersStore
    from chalicelib.orders.service import Orders

    return Orders(OrdersStore(settings().orders_table), catalog_store())


@cache
def place_order():
    """POST /orders, made idempotent per tenant and Idempotency-Key by powertools (24 h)."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=settings().idempotency_table, boto3_client=clients.client("dynamodb")
    )
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=24 * 3600,
    )

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=persistence,
        config=config,
        key_prefix="place_order",
    )
    def place(request: dict) -> dict:
        tenant = accounts().require(request["tenant"])
        return orders().place(tenant, request["body"], request["key"])

    place.config = config  # the route registers the Lambda context on it (in-progress expiry)
    return place


@cache
def outbox():
    from chalicelib.aws.outbox import Outbox

    return Outbox(settings().orders_table)


@cache
def scheduler():
    from chalicelib.notify.scheduler import Scheduler
    from chalicelib.notify.webhooks import WebhookSender

    sender = WebhookSender(
        outbox(),
        require_https=settings().require_https_webhooks,
        allow_private=settings().allow_private_webhooks,
    )
    return Scheduler(accounts(), orders(), blobs(), sender)


def reset() -> None:
    """Drop every cached adapter and client (tests; the local stack after a restart)."""
    for factory in list(globals().values()):
        if callable(getattr(factory, "cache_clear", None)) and factory is not settings:
            factory.cache_clear()
    clients.reset()


@cache
def console_store():
    from chalicelib.aws.console_store import ConsoleStore

    return ConsoleStore(settings().exchange_table)


@cache
def console_auth():
    from chalicelib.console.auth import ConsoleAuth

    return ConsoleAuth(console_store(), exchange_store(), secure=settings().stage == "prod")


@cache
def by_hand():
    from chalicelib.console.by_hand import ByHand

    return ByHand(exchange(), exchange_store(), blobs())
