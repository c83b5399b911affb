"""Everything a function needs, built once from `Settings`: one adapter of each kind, each made
on first use. Tests and the local stack build their own (`Container(settings, blobs=…)`: an
override is used as given) and install it with `wiring.use`; nothing changes one after it is built."""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.accounts import Accounts
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.apikeys import ApiKeys
    from chalicelib.aws.blobs import BlobStore
    from chalicelib.aws.catalog import CatalogStore
    from chalicelib.aws.console_store import ConsoleStore
    from chalicelib.aws.exchange_store import ExchangeStore
    from chalicelib.aws.outbox import Outbox
    from chalicelib.aws.queue import JobQueue
    from chalicelib.aws.ratelimit import RateLimiter
    from chalicelib.console.auth import ConsoleAuth
    from chalicelib.console.by_hand import ByHand
    from chalicelib.exchange.protocol import Exchange
    from chalicelib.exchange.watch import ExchangeWatch
    from chalicelib.exchange.worker import ImportWorker
    from chalicelib.notify.scheduler import Scheduler
    from chalicelib.orders.placing import Placing
    from chalicelib.orders.service import Orders
    from chalicelib.shop.answers import AnswerCache
    from chalicelib.shop.catalog import ShopCatalog
    from chalicelib.usage import Usage


class Container:
    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        unknown = set(overrides) - {n for n, v in vars(Container).items() if isinstance(v, cached_property)}
        if unknown:
            raise TypeError(f"no such part of the container: {', '.join(sorted(unknown))}")
        self.__dict__.update(overrides)  # cached_property reads these first

    # -- adapters (the only place that picks the AWS ones) ---------------------------------------
    @cached_property
    def accounts(self) -> Accounts:
        from chalicelib.aws.tenants import DynamoTenantStore

        return Accounts(DynamoTenantStore(self.settings.tenants_table), self.settings.require_https_webhooks)

    @cached_property
    def exchange_store(self) -> ExchangeStore:
        from chalicelib.aws.exchange_store import ExchangeStore

        return ExchangeStore(self.settings.exchange_table)

    @cached_property
    def blobs(self) -> BlobStore:
        from chalicelib.aws.blobs import BlobStore

        return BlobStore(self.settings.bucket)

    @cached_property
    def catalog_store(self) -> CatalogStore:
        from chalicelib.aws.catalog import CatalogStore

        return CatalogStore(self.settings.catalog_table)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from chalicelib.aws.ratelimit import RateLimiter

        return RateLimiter(self.settings.exchange_table)

    @cached_property
    def job_queue(self) -> JobQueue:
        from chalicelib.aws.queue import JobQueue

        return JobQueue(self.settings.import_queue_name)

    @cached_property
    def outbox(self) -> Outbox:
        from chalicelib.aws.outbox import Outbox

        return Outbox(self.settings.orders_table)

    @cached_property
    def console_store(self) -> ConsoleStore:
        from chalicelib.aws.console_store import ConsoleStore

        return ConsoleStore(self.settings.exchange_table)

    # -- use cases ------------------------------------------------------------------------------
    @cached_property
    def orders(self) -> Orders:
        from chalicelib.aws.orders_store import OrdersStore
        from chalicelib.orders.service import Orders

        return Orders(OrdersStore(self.settings.orders_table), self.catalog_store, self.usage)

    @cached_property
    def exchange(self) -> Exchange:
        from chalicelib.exchange.protocol import Exchange

        return Exchange(
            self.accounts,
            self.exchange_store,
            self.blobs,
            self.job_queue,
            self.settings,
            self.orders,
            self.usage,
        )

    @cached_property
    def import_worker(self) -> ImportWorker:
        from chalicelib.exchange.worker import ImportWorker

        def price_type_of(tenant: str, price_types: list[dict[str, Any]]) -> str | None:
            account = self.accounts.store.get(tenant)
            return account.settings.price_type_from(price_types) if account else None

        return ImportWorker(
            self.exchange_store,
            self.blobs,
            self.catalog_store,
            self.job_queue,
            self.settings,
            self.outbox,
            holds=self.orders,
            price_type_of=price_type_of,
            usage=self.usage,
            catalog_written=lambda tenant: self.accounts.store.touch_catalog(tenant, int(time.time() * 1000)),
        )

    @cached_property
    def answer_cache(self) -> AnswerCache:
        from chalicelib.shop.answers import AnswerCache

        return AnswerCache()

    @cached_property
    def shop_catalog(self) -> ShopCatalog:
        from chalicelib.shop.catalog import ShopCatalog

        return ShopCatalog(self.catalog_store, self.blobs.url, held_offers=self.orders.store.held_offers)

    @cached_property
    def api_keys(self) -> ApiKeys:
        from chalicelib.apikeys import ApiKeys

        return ApiKeys(self.accounts, self.rate_limiter, self.usage)

    @cached_property
    def place_order(self) -> Placing:
        from chalicelib.aws.clients import client
        from chalicelib.orders.placing import Placing

        return Placing(self.settings.idempotency_table, client("dynamodb"), self.accounts, self.orders)

    @cached_property
    def usage(self) -> Usage:
        from chalicelib.aws.usage import UsageStore
        from chalicelib.usage import Usage

        return Usage(UsageStore(self.settings.exchange_table))

    @cached_property
    def exchange_watch(self) -> ExchangeWatch:
        from chalicelib.exchange.watch import ExchangeWatch

        return ExchangeWatch(self.exchange_store, self.outbox)

    @cached_property
    def scheduler(self) -> Scheduler:
        from chalicelib.exchange.ends import ExchangeEnds
        from chalicelib.notify.scheduler import Scheduler
        from chalicelib.notify.webhooks import WebhookSender

        mailer = None
        if self.settings.mail_from:
            from chalicelib.aws.mail import SesMailer

            mailer = SesMailer()
        sender = WebhookSender(
            self.outbox,
            require_https=self.settings.require_https_webhooks,
            allow_private=self.settings.allow_private_webhooks,
            mailer=mailer,
            mail_from=self.settings.mail_from,
        )
        ends = ExchangeEnds(self.exchange_store, self.job_queue)
        return Scheduler(
            self.accounts, self.orders, self.blobs, sender, ends, self.exchange_watch, self.usage
        )

    @cached_property
    def console_auth(self) -> ConsoleAuth:
        from chalicelib.console.auth import ConsoleAuth

        return ConsoleAuth(self.console_store, self.exchange_store, secure=self.settings.stage == "prod")

    @cached_property
    def by_hand(self) -> ByHand:
        from chalicelib.console.by_hand import ByHand

        return ByHand(self.exchange, self.exchange_store, self.blobs)
