"""A zip imported by its own name (the console's upload, a client that imports the archive): one
job that imports the archive's XML files one after another, catalog before offers, each as its
own job — never a request or a queue message per member."""

from __future__ import annotations

import time
from typing import Protocol

from chalicelib.commerceml.files import import_order
from chalicelib.exchange.jobrun import JobRun, Outcome
from chalicelib.exchange.prepare import Prepare, area_of
from chalicelib.ids import JobId
from chalicelib.importjob import ImportJob, Phase
from chalicelib.ports import ExchangeStore, Queue


class ArchiveWorker(Protocol):
    """What the walk needs of the import worker."""

    store: ExchangeStore
    queue: Queue
    prepare: Prepare

    def attempt(self, run: JobRun, job: ImportJob) -> Outcome: ...
    def fail(self, run: JobRun, job: ImportJob, reason: str) -> None: ...


def walk(worker: ArchiveWorker, run: JobRun, job: ImportJob) -> Outcome:
    """Import the archive's XML files in order. A member that stalls stops the walk (imports
    never mix); one that fails does not stop the others."""
    tenant = run.tenant
    manifest = worker.prepare.prepare_area(tenant, area_of(job))
    members = sorted(manifest["xml"], key=import_order)
    if not members:
        worker.fail(run, job, f"{job.filename}: в архиве нет XML-файлов выгрузки")
        return Outcome.FAILED
    results: list[ImportJob] = []
    for member in members:
        part = _member_job(worker, tenant, job, member)
        if not part.final:
            outcome = worker.attempt(run, part)
            part = worker.store.get_job(tenant, part.id) or part
            if outcome == Outcome.STALLED:
                rest = ", ".join(members[len(results) + 1 :][:10])
                worker.fail(
                    run,
                    job,
                    f"{job.filename}: {part.error}" + (f"; не загружены: {rest}" if rest else ""),
                )
                return Outcome.FAILED
            if not part.final:  # deferred: the member's own message goes on; look again later
                worker.queue.send({"tenant": tenant, "job": job.id}, delay_seconds=10)
                return Outcome.DEFERRED
        results.append(part)
        run.beat(job)
    counts: dict[str, int] = {}
    for part in results:
        for name, value in (part.counts or {}).items():
            counts[name] = counts.get(name, 0) + int(value)
    failed = [f"{p.filename}: {p.error}" for p in results if p.status == "failed"]
    if failed:
        job.count(counts)
        job.advance(Phase.DONE)
        worker.fail(run, job, f"{job.filename}: не загружены файлы архива — " + "; ".join(failed)[:1500])
        return Outcome.FAILED
    job.finish(counts=counts)
    run.save(job)
    return Outcome.DONE


def _member_job(worker: ArchiveWorker, tenant: str, archive: ImportJob, member: str) -> ImportJob:
    part = ImportJob(
        str(JobId.for_file(area_of(archive), member)), type=archive.type, area=archive.area, filename=member,
        session=archive.session, created_at=int(time.time()),
    )  # fmt: skip
    worker.store.create_job(tenant, part)
    return worker.store.get_job(tenant, part.id) or part
