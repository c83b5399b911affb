"""Each tenant's usage a month, for a provider to bill and to spot abuse — recorded cheaply:
per-request counts (shop API calls, 1C protocol calls) add up in the container and are written
once a minute or every FLUSH_COUNT of them (a container that ends loses at most that); rare
events (imports, orders, webhook runs) are added as they happen, in the write they already make.
Months are UTC (`YYYY-MM`)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from chalicelib.observability import logger
from chalicelib.ports import UsageStore

FLUSH_SECONDS = 60
FLUSH_COUNT = 500
FIELDS = (
    "api_calls", "exchange_calls", "imports", "imports_failed", "records_changed", "bytes_uploaded",
    "orders", "webhooks_delivered", "webhooks_dead",
)  # fmt: skip


def month_of(moment: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(moment))


class Usage:
    def __init__(self, store: UsageStore, clock: Callable[[], float] = time.time) -> None:
        self.store, self.clock = store, clock
        self.pending: dict[str, Counter[str]] = {}
        self.counted = 0
        self.flushed_at = clock()
        self.lock = threading.Lock()

    def count(self, tenant: str, field: str) -> None:
        """One request: kept here, written with the others when due."""
        with self.lock:
            self.pending.setdefault(tenant, Counter())[field] += 1
            self.counted += 1
            due = self.counted >= FLUSH_COUNT or self.clock() - self.flushed_at >= FLUSH_SECONDS
        if due:
            self._quietly(self.flush)

    def add(self, tenant: str, **counts: int) -> None:
        """A rare event's counts, written now (never at the cost of the event: a failed write is
        logged and the count lost)."""
        self._quietly(lambda: self.store.add(tenant, month_of(self.clock()), counts))

    @staticmethod
    def _quietly(write: Callable[[], None]) -> None:
        try:
            write()
        except Exception:  # accounting never fails the request or the import it counts
            logger.exception("usage not recorded")

    def flush(self) -> None:
        with self.lock:
            pending, self.pending, self.counted, self.flushed_at = self.pending, {}, 0, self.clock()
        month = month_of(self.flushed_at)
        for tenant, counts in pending.items():
            self.store.add(tenant, month, counts)

    def report(self, month: str, sort: str = "api_calls") -> list[dict[str, Any]]:
        """Every tenant's counters of a month, the heaviest (by `sort`) first."""
        key = sort if sort in FIELDS else "api_calls"
        rows = [{"tenant": t, **{f: c.get(f, 0) for f in FIELDS}} for t, c in self.store.month(month).items()]
        return sorted(rows, key=lambda r: (-r[key], r["tenant"]))
