"""Telling a shop owner how their catalog exchange goes, by webhook (the shop's or CRM's
receiver) and in the console's banner: `exchange.failed` when two imports in a row failed (one
failure is often a file 1C sends again at once), `exchange.overdue` when 1C has sent no catalog
for the tenant's `overdue_hours` (once per silence; the scheduled run looks every minute)."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable

from chalicelib.exchange.finish import LAST_IMPORT, event_id_for
from chalicelib.importjob import ImportJob, JobKind, JobStatus
from chalicelib.ports import ExchangeStore, Outbox

OVERDUE_TOLD = "overdue_told"  # the LAST_IMPORT value an overdue notice was sent for


OVERDUE_EVERY_MINUTES = 15  # overdue is counted in hours: each tenant is looked at every 15 minutes


class ExchangeWatch:
    def __init__(
        self,
        store: ExchangeStore,
        outbox: Outbox,
        clock: Callable[[], float] = time.time,
        every_minutes: int = OVERDUE_EVERY_MINUTES,
    ) -> None:
        self.store, self.outbox, self.clock, self.every_minutes = store, outbox, clock, every_minutes

    def failed(self, tenant: str, job: ImportJob) -> bool:
        """An import failed: the owner is told when the import before it had failed too (the
        second failure in a row; a third is no news — the console's banner keeps showing it)."""
        if job.kind != JobKind.IMPORT:
            return False
        streak = self._latest_imports(tenant, job)
        if len(streak) < 2 or streak[1].status != JobStatus.FAILED:
            return False
        if len(streak) > 2 and streak[2].status == JobStatus.FAILED:
            return False
        previous = streak[1]
        payload = {
            "file": job.filename, "error": job.error, "session": job.session,
            "previous": {"file": previous.filename, "error": previous.error, "session": previous.session},
        }  # fmt: skip
        self.outbox.add(
            tenant, "exchange.failed", payload, event_id=event_id_for(f"{job.id}#failed", job.created_at)
        )
        return True

    def tell_if_overdue(self, tenant: str, hours: int) -> bool:
        """The scheduled run: no catalog for `hours` (0: the tenant does not want to know). Each
        tenant is looked at in one minute of every `every_minutes` (spread by its id), so the
        minute's run reads nothing for the others."""
        minute = int(self.clock() // 60)
        if not hours or (minute + zlib.crc32(tenant.encode())) % self.every_minutes:
            return False
        last = self.store.pointer(tenant, LAST_IMPORT)
        if not hours or not last or self.clock() - int(last) < hours * 3600:
            return False
        if self.store.pointer(tenant, OVERDUE_TOLD) == last:
            return False
        payload = {"last_import_at": int(last), "overdue_hours": hours}
        self.outbox.add(
            tenant, "exchange.overdue", payload, event_id=event_id_for(f"overdue#{last}", int(self.clock()))
        )
        self.store.set_pointer(tenant, OVERDUE_TOLD, last)
        return True

    def overdue(self, tenant: str, hours: int) -> bool:
        """What the console's banner says: no catalog for `hours` (0: never overdue)."""
        last = self.store.pointer(tenant, LAST_IMPORT)
        return bool(hours and last and self.clock() - int(last) >= hours * 3600)

    def _latest_imports(self, tenant: str, job: ImportJob) -> list[ImportJob]:
        """This import and the finished ones before it, newest first (the last twenty jobs)."""
        earlier = [
            j for j in self.store.jobs(tenant, limit=20)
            if j.kind == JobKind.IMPORT and j.id != job.id and j.final and (j.created_at, j.id) <= (job.created_at, job.id)
        ]  # fmt: skip
        return [job, *sorted(earlier, key=lambda j: (j.created_at, j.id), reverse=True)]
