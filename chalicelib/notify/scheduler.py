"""The scheduled run (every minute): per tenant, a bounded amount of work, the rest next time.

1. for every tenant: managers for new orders that have none, the orders waiting for 1C
   rendered as CommerceML into S3 (for setups that pick up files; unchanged, it costs no S3 read
   for EXPORT_TRUST_SECONDS), a catalog exchange 1C left
   quiet without `complete` closed (its deactivation queued), and the owner told when no catalog
   came for their `overdue_hours` — quick, never behind a receiver;
2. then due webhook deliveries, WEBHOOK_WORKERS tenants at a time, each tenant with its own time
   budget and the starting tenant rotating from run to run: a slow receiver holds up only its own
   tenant's events, never another tenant's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from chalicelib.accounts import Accounts
from chalicelib.layout import Paths
from chalicelib.notify.webhooks import WebhookSender
from chalicelib.observability import logger
from chalicelib.ports import Blobs, UsageAdd
from chalicelib.tenants import Tenant

SAFETY_SECONDS = 20
EXPORT_TRUST_SECONDS = 600  # a container trusts the export marker it saw for this long


class OrdersWork(Protocol):
    """What the schedule does with orders (orders.service.Orders, wired in container.py)."""

    def assign_managers(self, tenant: Tenant) -> int: ...
    def render_waiting(
        self, tenant: Tenant, encoding: str | None = None
    ) -> tuple[bytes, str, list[str], list[tuple[str, str]]]: ...


TENANT_WEBHOOK_SECONDS = 15  # at most this much of a run for one tenant's deliveries
WEBHOOK_WORKERS = 8  # tenants whose receivers are called at once


class ExchangeEnds(Protocol):
    """Catalog exchanges 1C left without `complete` (exchange.ends.ExchangeEnds)."""

    def close_quiet(self, tenant: str) -> bool: ...


class ExchangeWatch(Protocol):
    """A catalog exchange gone quiet for too long (exchange.watch.ExchangeWatch)."""

    def tell_if_overdue(self, tenant: str, hours: int) -> bool: ...


class Scheduler:
    def __init__(
        self,
        accounts: Accounts,
        orders: OrdersWork,
        blobs: Blobs,
        sender: WebhookSender,
        exchange_ends: ExchangeEnds | None = None,
        watch: ExchangeWatch | None = None,
        usage: UsageAdd | None = None,
    ) -> None:
        self.accounts, self.orders, self.blobs, self.sender = accounts, orders, blobs, sender
        self.exchange_ends, self.watch, self.usage = exchange_ends, watch, usage
        # tenant → (the fingerprint this container saw in S3, when): trusted for EXPORT_TRUST_SECONDS,
        # then read again (another run may have written since)
        self.exported: dict[str, tuple[str, float]] = {}

    def run(self, remaining_ms: Callable[[], int]) -> dict[str, Any]:
        runner = uuid.uuid4().hex
        deadline = time.monotonic() + max(remaining_ms() / 1000 - SAFETY_SECONDS, 1)
        tenants = [t for t in self.accounts.store.list() if t.active]
        if tenants:  # a different tenant goes first each minute
            turn = int(time.time() // 60) % len(tenants)
            tenants = tenants[turn:] + tenants[:turn]
        summary: dict[str, Any] = {t.id: {} for t in tenants}
        for tenant in tenants:
            if time.monotonic() > deadline:
                break
            self._guarded(summary, tenant, self._orders_work, tenant)
        with ThreadPoolExecutor(max_workers=WEBHOOK_WORKERS) as pool:
            for tenant in tenants:
                pool.submit(self._guarded, summary, tenant, self._webhooks, tenant, runner, deadline)
        logger.info("scheduled run", extra={"summary": summary})
        return summary

    @staticmethod
    def _guarded(
        summary: dict[str, Any], tenant: Tenant, step: Callable[..., dict[str, Any]], *args: Any
    ) -> None:
        try:
            summary[tenant.id].update(step(*args))
        except Exception:  # one tenant's trouble never stops the others
            logger.exception("scheduled run failed for tenant", extra={"tenant": tenant.id})
            summary[tenant.id]["error"] = True

    def _orders_work(self, tenant: Tenant) -> dict[str, Any]:
        work = {"assigned": self.orders.assign_managers(tenant), "exported": self.export(tenant)}
        if self.exchange_ends is not None and self.exchange_ends.close_quiet(tenant.id):
            work["exchange_closed"] = True
        if self.watch is not None and self.watch.tell_if_overdue(tenant.id, tenant.settings.overdue_hours):
            work["exchange_overdue"] = True
        return work

    def _webhooks(self, tenant: Tenant, runner: str, deadline: float) -> dict[str, Any]:
        """One tenant's due deliveries within its own budget, counted from when it starts."""
        if time.monotonic() > deadline:
            return {}
        budget = min(deadline, time.monotonic() + TENANT_WEBHOOK_SECONDS)
        tenant = self.accounts.ensure_webhook_secret(tenant)
        counts = self.sender.deliver_due(tenant, runner, budget)
        if self.usage is not None and (counts.get("delivered") or counts.get("dead")):
            self.usage.add(
                tenant.id, webhooks_delivered=counts.get("delivered", 0), webhooks_dead=counts.get("dead", 0)
            )
        return counts

    def export(self, tenant: Tenant) -> int | None:
        """Write the waiting orders to exports/<tenant>/orders/ when they changed."""
        data, fingerprint, ids, skipped = self.orders.render_waiting(tenant)
        folder = Paths(tenant.id).exports
        marker = f"{folder}latest.fingerprint"
        seen, at = self.exported.get(tenant.id, ("", 0.0))
        if seen == fingerprint and time.monotonic() - at < EXPORT_TRUST_SECONDS:
            return None  # as this container saw it a moment ago: no S3 read
        if (self.blobs.get(marker) or b"").decode() == fingerprint:
            self.exported[tenant.id] = (fingerprint, time.monotonic())
            return None
        if skipped:
            logger.warning("orders left out of the export", extra={"orders": [n for n, _ in skipped]})
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        content_type = f"application/xml; charset={tenant.settings.encoding_for(flow_has_version=True)}"
        self.blobs.put(f"{folder}{stamp}.xml", data, content_type)
        self.blobs.put(f"{folder}latest.xml", data, content_type)
        self.blobs.put(marker, fingerprint.encode(), "text/plain")
        self.exported[tenant.id] = (fingerprint, time.monotonic())
        return len(ids)
