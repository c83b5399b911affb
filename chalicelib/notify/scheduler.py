"""The scheduled run (every minute): per tenant, a bounded amount of work, the rest next time.

1. managers for new orders that have none (round-robin, or the tenant's rules)
2. the orders waiting for 1C, rendered as CommerceML into S3 (for setups that pick up files)
3. due webhook deliveries
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib.accounts import Accounts
from chalicelib.aws.blobs import BlobStore
from chalicelib.notify.webhooks import WebhookSender
from chalicelib.observability import logger
from chalicelib.orders.service import Orders

SAFETY_SECONDS = 20


class Scheduler:
    def __init__(self, accounts: Accounts, orders: Orders, blobs: BlobStore, sender: WebhookSender) -> None:
        self.accounts, self.orders, self.blobs, self.sender = accounts, orders, blobs, sender

    def run(self, remaining_ms: Callable[[], int]) -> dict[str, Any]:
        runner = uuid.uuid4().hex
        deadline = time.monotonic() + max(remaining_ms() / 1000 - SAFETY_SECONDS, 1)
        summary: dict[str, Any] = {}
        for tenant in self.accounts.store.list():
            if not tenant.active or time.monotonic() > deadline:
                continue
            try:
                assigned = self.orders.assign_managers(tenant)
                exported = self.export(tenant)
                webhooks = self.sender.deliver_due(tenant, runner, deadline)
                summary[tenant.id] = {"assigned": assigned, "exported": exported, **webhooks}
            except Exception:  # one tenant's trouble never stops the others
                logger.exception("scheduled run failed for tenant", extra={"tenant": tenant.id})
                summary[tenant.id] = {"error": True}
        logger.info("scheduled run", extra={"summary": summary})
        return summary

    def export(self, tenant) -> int | None:
        """Write the waiting orders to exports/<tenant>/orders/ when they changed."""
        data, fingerprint, ids = self.orders.render_waiting(tenant)
        marker = f"exports/{tenant.id}/orders/latest.fingerprint"
        if (self.blobs.get(marker) or b"").decode() == fingerprint:
            return None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        content_type = f"application/xml; charset={tenant.settings.order_encoding}"
        self.blobs.put(f"exports/{tenant.id}/orders/{stamp}.xml", data, content_type)
        self.blobs.put(f"exports/{tenant.id}/orders/latest.xml", data, content_type)
        self.blobs.put(marker, fingerprint.encode(), "text/plain")
        return len(ids)
