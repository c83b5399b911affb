"""A zip imported by its own name (the console's upload, a client that imports the archive): one
job that imports the archive's XML files one after another, catalog before offers, each as its
own job — never a request or a queue message per member."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.commerceml.files import import_order
from chalicelib.importjob import ImportJob
from chalicelib.ports import ExchangeStore, Queue


class ArchiveWorker(Protocol):
    """What the walk needs of the import worker."""

    store: ExchangeStore
    queue: Queue

    def prepare_area(self, tenant: str, area: str) -> dict[str, Any]: ...
    def attempt(
        self, tenant: str, job: ImportJob, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str: ...
    def fail(self, tenant: str, job: ImportJob, reason: str) -> None: ...


def walk(
    worker: ArchiveWorker,
    tenant: str,
    job: ImportJob,
    remaining_ms: Callable[[], int],
    beat: Callable[[], None],
) -> str:
    """Import the archive's XML files in order. A member that stalls stops the walk (imports
    never mix); one that fails does not stop the others."""
    manifest = worker.prepare_area(tenant, job.area)
    members = sorted(manifest["xml"], key=import_order)
    if not members:
        worker.fail(tenant, job, f"{job.filename}: в архиве нет XML-файлов выгрузки")
        return "failed"
    results: list[ImportJob] = []
    for member in members:
        part = _member_job(worker, tenant, job, member)
        if not part.final:
            outcome = worker.attempt(tenant, part, remaining_ms, beat)
            part = worker.store.get_job(tenant, part.id) or part
            if outcome == "stalled":
                rest = ", ".join(members[len(results) + 1 :][:10])
                worker.fail(
                    tenant,
                    job,
                    f"{job.filename}: {part.error}" + (f"; не загружены: {rest}" if rest else ""),
                )
                return "failed"
            if not part.final:  # deferred: the member's own message goes on; look again later
                worker.queue.send({"tenant": tenant, "job": job.id}, delay_seconds=10)
                return "deferred"
        results.append(part)
        beat()
    counts: dict[str, int] = {}
    for part in results:
        for name, value in (part.counts or {}).items():
            counts[name] = counts.get(name, 0) + int(value)
    failed = [f"{p.filename}: {p.error}" for p in results if p.status == "failed"]
    worker.store.update_job(tenant, job.id, counts=counts, phase="done")
    if failed:
        worker.fail(tenant, job, f"{job.filename}: не загружены файлы архива — " + "; ".join(failed)[:1500])
        return "failed"
    worker.store.update_job(tenant, job.id, status="done", finished_at=int(time.time()))
    return "done"


def _member_job(worker: ArchiveWorker, tenant: str, archive: ImportJob, member: str) -> ImportJob:
    part = ImportJob(
        f"{archive.area}#{member}", type=archive.type, area=archive.area, filename=member,
        session=archive.session, created_at=int(time.time()),
    )  # fmt: skip
    worker.store.create_job(tenant, part)
    return worker.store.get_job(tenant, part.id) or part
