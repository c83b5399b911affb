"""Stalled files a person gives up on («Пропустить файл» in the console, `exchanges skip` in the
admin CLI), so a file that cannot be finished never holds a tenant's imports; 1C is told in the
answer to its next import."""

from __future__ import annotations

import gzip
import tempfile
import time
from collections.abc import Iterator

from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.observability import logger
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.sync.diff import Index


class Skips:
    def __init__(self, store: ExchangeStore, blobs: Blobs) -> None:
        self.store, self.blobs = store, blobs

    def skip(self, tenant: str, job_id: str, who: str) -> bool:
        """End a stalled job as failed and free the tenant. What it wrote before it stopped stays;
        its new entities stay known to the index with no fingerprint, so the next full export
        rewrites them or deactivates them by absence."""
        job = self.store.get_job(tenant, job_id)
        if job is None or job.status != "stalled":
            return False
        staged = Paths(tenant).staging(job_id, "index.tsv.gz")
        if job.phase in ("apply", "cards") and self.blobs.size(staged) is not None:
            index = self._index(Paths(tenant).index)
            index.know_unwritten(self._index(staged))
            self._save(Paths(tenant).index, index)
        text = (
            f"{job.filename}: загрузка пропущена вручную ({who}); записанное до остановки сохранено — "
            "выгрузите каталог из 1С полностью, чтобы данные совпали"
        )
        self.store.update_job(tenant, job_id, status="failed", error=text, finished_at=int(time.time()))
        if self.store.pointer(tenant, "stalled") == job_id:
            self.store.set_pointer(tenant, "stalled", "")
        self.store.set_pointer(tenant, "skipped", job_id)
        logger.warning("stalled import skipped by a person", extra={"file": job.filename, "who": who})
        return True

    def tell(self, tenant: str, job: ImportJob) -> None:
        """The first import after a skip carries the news to 1C (`notice`, after its answer)."""
        skipped_id = self.store.pointer(tenant, "skipped")
        if not skipped_id or job.kind != "import" or job.notice:
            return
        skipped = self.store.get_job(tenant, skipped_id)
        job.notice = (skipped.error if skipped else None) or f"загрузка {skipped_id} пропущена вручную"
        self.store.update_job(tenant, job.id, notice=job.notice)
        self.store.set_pointer(tenant, "skipped", "")

    def _index(self, key: str) -> Index:
        return Index.load(self._lines(key)) if self.blobs.size(key) is not None else Index()

    def _lines(self, key: str) -> Iterator[bytes]:
        with gzip.GzipFile(fileobj=self.blobs.open(key)) as lines:
            yield from lines

    def _save(self, key: str, index: Index) -> None:
        with tempfile.TemporaryFile() as tmp:
            with gzip.GzipFile(fileobj=tmp, mode="wb", compresslevel=3) as out:
                index.dump(out)
            tmp.seek(0)
            self.blobs.upload(key, tmp)
