"""The apply phase of an import: batch-write the staged changes from the checkpoint on, one
batch written while the next is built; the checkpoint moves only past batches whose writes all
succeeded, and every checkpoint renews the lease (the heartbeat). A mixin of the worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.sync import staged
from chalicelib.sync.diff import Change

CHECKPOINT_EVERY = 1000
MAX_SKIPPED_SHOWN = 20  # records named in the answer; all are counted
SAFETY_SECONDS = 30


class ApplyChanges:
    def _staged(self, tenant: str, job_id: str) -> Iterator[Change]:
        for line in self._read_lines(Paths(tenant).staging(job_id, "changes.jsonl.gz")):
            yield staged.decode(line)

    def _apply(
        self, tenant: str, job: ImportJob, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> bool:
        """Write the staged changes from the checkpoint on. False when time ran out first.

        One batch is written while the next is read and built; the checkpoint moves only past
        batches whose writes all succeeded."""
        job_id, applied = job.id, job.applied
        stamp_base = f"{int(time.time() * 1000):013d}"
        pending: list[dict[str, Any]] = []
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
                    job.skipped = [*job.skipped, *skipped][:MAX_SKIPPED_SHOWN]
                    job.counts = {**job.counts, "skipped": job.counts.get("skipped", 0) + len(skipped)}
                    self.store.update_job(tenant, job_id, skipped=job.skipped, counts=job.counts)
                    skipped.clear()
                self.store.update_job(tenant, job_id, applied=done)
                in_flight = None
                beat()

        repeats = self._repeats(tenant, job_id)
        for n, change in enumerate(self._staged(tenant, job_id), start=1):
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
                if remaining_ms() < SAFETY_SECONDS * 1000:
                    checkpoint()
                    return False
        if pending:
            write_pending()
        checkpoint()
        return True

    def _repeats(self, tenant: str, job_id: str) -> dict[str, int]:
        data = self.blobs.get(Paths(tenant).staging(job_id, "repeats.json"))
        return json.loads(data) if data else {}
