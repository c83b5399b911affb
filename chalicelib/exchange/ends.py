"""The end of a catalog exchange, where "absent ⇒ deactivated" is decided once.

A full export may come as several full files (`import0_1.xml`, `import1_1.xml`, … or 3.1's
`goods_1_1_…`, `goods_1_2_…`): deactivating after each file what that file did not list would
switch off, part after part, what the other parts hold. So a full file only *expects* the end of
its exchange (a pending deactivation job, docs/protocol.md §4.4); the job is queued when 1C says
the exchange is over (`mode=complete`) or, for clients that never say so, once the exchange has
been quiet for QUIET_SECONDS (the scheduled run looks every minute). It then deactivates what no
file of the exchange listed, of the kinds its full files covered — and nothing at all if one of
its files failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.exchange.finish import exchange_began_ms
from chalicelib.ids import JobId
from chalicelib.importjob import ImportJob, JobKind
from chalicelib.ports import ExchangeStore, Queue

QUIET_SECONDS = 300  # no file of the exchange for this long: 1C is done with it
POINTER = "exchange_end"  # the tenant's end job that waits to be queued ("" once queued)


class ExchangeEnds:
    def __init__(self, store: ExchangeStore, queue: Queue, clock: Callable[[], float] = time.time) -> None:
        self.store, self.queue, self.clock = store, queue, clock

    def expect(self, tenant: str, full_file: ImportJob) -> None:
        """A full file was imported: its exchange ends with a deactivation (one per exchange)."""
        pending = self._pending(tenant)
        if pending is not None and pending.session == full_file.session:
            return
        if pending is not None:  # an earlier exchange was never closed: it is closed now
            self._queue(tenant, pending)
        name = "end"
        existing = self.store.get_job(tenant, str(JobId.deactivation(full_file.session, name)))
        if existing is not None and not existing.final:  # made before a crash, or queued: it runs
            self.store.set_pointer(tenant, POINTER, existing.id)  # after this file, so it counts it
            return
        if existing is not None:
            name = f"end-{int(time.time())}"  # the exchange went on after its end was decided
        job = ImportJob(
            str(JobId.deactivation(full_file.session, name)),
            kind=JobKind.DEACTIVATE,
            by_full_files=True,
            since=exchange_began_ms(full_file) // 1000,
            filename="deactivate",
            session=full_file.session,
            created_at=int(time.time()),
            note="деактивация того, чего нет ни в одном файле полной выгрузки, — после окончания обмена "
            "(mode=complete или 5 минут без новых файлов)",
        )
        self.store.create_job(tenant, job)
        self.store.set_pointer(tenant, POINTER, job.id)

    def close(self, tenant: str) -> bool:
        """1C said the exchange is over (`mode=complete`): its deactivation runs now."""
        pending = self._pending(tenant)
        return pending is not None and self._queue(tenant, pending)

    def close_quiet(self, tenant: str) -> bool:
        """The scheduled run: an exchange with no file for QUIET_SECONDS is over."""
        pending = self._pending(tenant)
        if pending is None:
            return False
        files = [
            j
            for j in self.store.jobs_since(tenant, int(pending.since or 0) * 1000)
            if j.kind == JobKind.IMPORT
        ]
        if any(not j.final for j in files):
            return False
        last = max([j.finished_at or j.created_at for j in files] + [pending.created_at])
        if self.clock() - last < QUIET_SECONDS:
            return False
        return self._queue(tenant, pending)

    def _pending(self, tenant: str) -> ImportJob | None:
        job_id = self.store.pointer(tenant, POINTER)
        job = self.store.get_job(tenant, job_id) if job_id else None
        return None if job is None or job.final else job

    def _queue(self, tenant: str, job: ImportJob) -> bool:
        self.store.set_pointer(tenant, POINTER, "")
        self.queue.send({"tenant": tenant, "job": job.id})
        return True
