"""The apply phase of an import: batch-write the staged changes from the checkpoint on, one
batch written while the next is built; the checkpoint moves only past batches whose writes all
succeeded, and every checkpoint renews the lease (the heartbeat). A mixin of the worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.aws.catalog import keys, kind_and_id
from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.sync import staged
from chalicelib.sync.diff import Change, Deactivate, Put

CHECKPOINT_EVERY = 1000
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

        def write_pending() -> None:
            nonlocal pending, in_flight
            first = position - len(pending)
            puts = [c for c in pending if isinstance(c, Put)]
            offs = [c for c in pending if isinstance(c, Deactivate)]
            items = [self._item(tenant, c, f"{stamp_base}{first + n:07d}") for n, c in enumerate(puts)]
            items += self._deactivated_items(tenant, offs, stamp_base, first + len(puts))
            started = self.catalog.start_put(items)
            checkpoint()
            in_flight, pending = (started, position), []

        def checkpoint() -> None:
            nonlocal in_flight
            if in_flight is not None:
                wait, done = in_flight
                wait()
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

    def _item(self, tenant: str, change: Put, stamp: str) -> dict[str, Any]:
        return self.catalog.item(tenant, change.record, stamp)

    def _deactivated_items(
        self, tenant: str, changes: list[Deactivate], stamp_base: str, offset: int
    ) -> list[dict[str, Any]]:
        if not changes:
            return []
        wanted = [keys(tenant, c.kind, c.id) for c in changes]
        items = []
        for n, item in enumerate(self.catalog.get_items(wanted)):
            kind, entity_id = kind_and_id(item["pk"], item["sk"])
            item["active"] = False
            item["csk"] = f"{stamp_base}{offset + n:07d}#{kind}#{entity_id}"
            items.append(item)
        return items
