"""The apply phase of an import: batch-write the staged changes from the checkpoint on, one
batch written while the next is built; the checkpoint moves only past batches whose writes all
succeeded, and every checkpoint renews the lease (the heartbeat)."""

from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.exchange.jobrun import JobRun, Step
from chalicelib.exchange.staging import Staging
from chalicelib.importjob import ImportJob
from chalicelib.ports import Catalog
from chalicelib.sync import staged
from chalicelib.sync.diff import Change

CHECKPOINT_EVERY = 1000
MAX_SKIPPED_SHOWN = 20  # records named in the answer; all are counted


class Apply:
    def __init__(self, catalog: Catalog, staging: Staging) -> None:
        self.catalog, self.staging = catalog, staging

    def run(self, job: ImportJob, run: JobRun) -> Step:
        """Write the staged changes from the checkpoint on; AGAIN when time ran out first.

        One batch is written while the next is read and built; the checkpoint moves only past
        batches whose writes all succeeded."""
        tenant, applied = run.tenant, job.applied
        stamp_base = f"{int(time.time() * 1000):013d}"
        pending: list[Change] = []
        position = applied
        in_flight: tuple[Callable[[], None], int] | None = None
        skipped: list[str] = []

        def write_pending() -> None:
            nonlocal pending, in_flight
            first = position - len(pending)
            stamp = f"{stamp_base}{first:07d}"
            started = self.catalog.write_changes(tenant, pending, stamp, lambda e: skipped.append(str(e)))
            checkpoint()
            in_flight, pending = (started, position), []

        def checkpoint() -> None:
            nonlocal in_flight
            if in_flight is not None:
                wait, done = in_flight
                wait()
                if skipped:  # one record too large for an item: left out, counted, told to 1C
                    job.left_out(skipped, MAX_SKIPPED_SHOWN)
                    skipped.clear()
                job.checkpoint(done)
                in_flight = None
                run.beat(job)

        repeats: dict[str, int] = self.staging.json(tenant, job.id, "repeats.json") or {}
        for n, change in enumerate(self.staging.changes(tenant, job.id), start=1):
            key = staged.record_key(change)
            if key in repeats:  # a record the file listed more than once: only its last Put
                repeats[key] -= 1
                if repeats[key] > 0:
                    continue
            if n <= applied:
                continue
            pending.append(change)
            position = n
            if len(pending) >= CHECKPOINT_EVERY:
                write_pending()
                if run.short_of_time():
                    checkpoint()
                    return Step.AGAIN
        if pending:
            write_pending()
        checkpoint()
        return Step.NEXT
