"""Stalled files a person gives up on («Пропустить файл» in the console, `exchanges skip` in the
admin CLI), so a file that cannot be finished never holds a tenant's imports; 1C is told in the
answer to its next import."""

from __future__ import annotations

from chalicelib.exchange.jobrun import JobRun
from chalicelib.exchange.staging import Staging
from chalicelib.importjob import ImportJob, JobChanged, JobKind, JobStatus
from chalicelib.layout import Paths
from chalicelib.observability import logger
from chalicelib.ports import ExchangeStore


class Skips:
    def __init__(self, store: ExchangeStore, staging: Staging) -> None:
        self.store, self.staging = store, staging

    def skip(self, tenant: str, job_id: str, who: str) -> bool:
        """End a stalled job as failed and free the tenant. What it wrote before it stopped stays;
        its new entities stay known to the index with no fingerprint, so the next full export
        rewrites them or deactivates them by absence."""
        job = self.store.get_job(tenant, job_id)
        if job is None or job.status != JobStatus.STALLED:
            return False
        staged = Paths(tenant).staging(job_id, "index.tsv.gz")
        if job.writing and self.staging.exists(staged):
            index = self.staging.tenant_index(tenant)
            index.know_unwritten(self.staging.index(staged))
            self.staging.save_index(Paths(tenant).index, index)
        text = (
            f"{job.filename}: загрузка пропущена вручную ({who}); записанное до остановки сохранено — "
            "выгрузите каталог из 1С полностью, чтобы данные совпали"
        )
        job.fail(text)
        try:
            self.store.save_job(tenant, job)
        except JobChanged:  # resumed meanwhile: it is no longer stalled
            return False
        if self.store.pointer(tenant, "stalled") == job_id:
            self.store.set_pointer(tenant, "stalled", "")
        self.store.set_pointer(tenant, "skipped", job_id)
        logger.warning("stalled import skipped by a person", extra={"file": job.filename, "who": who})
        return True

    def tell(self, run: JobRun, job: ImportJob) -> None:
        """The first import after a skip carries the news to 1C (`notice`, after its answer)."""
        skipped_id = self.store.pointer(run.tenant, "skipped")
        if not skipped_id or job.kind != JobKind.IMPORT or job.notice:
            return
        skipped = self.store.get_job(run.tenant, skipped_id)
        job.tell((skipped.error if skipped else None) or f"загрузка {skipped_id} пропущена вручную")
        run.save(job)
        self.store.set_pointer(run.tenant, "skipped", "")
