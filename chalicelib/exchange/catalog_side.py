"""The catalog side of the exchange (`type=catalog`): `import` queues a job per file and answers
its progress as the worker reports it; `deactivate` queues the deactivation of what a full exchange
no longer lists; `complete` closes the session."""

from __future__ import annotations

import posixpath
import re
import time

from chalicelib.exchange import answers
from chalicelib.exchange.answers import Answer
from chalicelib.exchange.ends import ExchangeEnds
from chalicelib.exchange.filenames import sanitize
from chalicelib.exchange.sessions import ExchangeRequest, Session
from chalicelib.exchange.uploads import UNUSED_CATALOG_FILES, Uploads
from chalicelib.ids import JobId
from chalicelib.importjob import ImportJob, JobKind
from chalicelib.ports import ExchangeStore, Queue

_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class CatalogExchange:
    def __init__(self, store: ExchangeStore, queue: Queue, uploads: Uploads) -> None:
        self.store, self.queue, self.uploads = store, queue, uploads

    # -- import ---------------------------------------------------------------------------------
    def import_(self, session: Session, request: ExchangeRequest) -> Answer:
        filename = sanitize(request.params.get("filename"))
        tenant, area = session.tenant.id, self.uploads.area(session)
        if UNUSED_CATALOG_FILES.match(posixpath.basename(filename)):
            return self.uploads.accept_unused(session, filename)
        job_id = str(JobId.for_file(area, filename))
        job = self.store.get_job(tenant, job_id)
        if job is None:
            if not self.uploads.has_source(tenant, area, filename):
                return answers.failure(
                    f"файл {filename} не был загружен в этом сеансе обмена (mode=file): выгрузите его ещё раз"
                )
            item = ImportJob(
                job_id,
                type=request.type,
                area=area,
                filename=filename,
                session=session.token,
                created_at=int(time.time()),
            )
            if self.store.create_job(tenant, item):
                self.queue.send({"tenant": tenant, "job": job_id})
                return answers.progress(f"{filename}: поставлен в очередь на загрузку")
            job = self.store.get_job(tenant, job_id) or item
        return self.job_answer(job)

    @staticmethod
    def job_answer(job: ImportJob) -> Answer:
        name, status = (job.filename or ""), job.status
        counts = job.counts or {}
        if status == "done":
            parts = [
                f"создано {counts.get('created', 0)}",
                f"изменено {counts.get('updated', 0)}",
                f"без изменений {counts.get('unchanged', 0)}",
                f"деактивировано {counts.get('deactivated', 0)}",
            ]
            extra = []
            if counts.get("repeated"):
                extra.append(f"записей, повторённых в файле: {counts['repeated']} (применены последние)")
            if counts.get("prices_absent"):
                extra.append(
                    f"цен без значения (цена по запросу): {counts['prices_absent']} — на сайте этих цен нет, "
                    "остатки и остальные цены загружены"
                )
            if counts.get("offers_without_product"):
                extra.append(
                    f"предложений без товара на сайте: {counts['offers_without_product']} (сохранены)"
                )
            if counts.get("skipped"):
                extra.append(f"записей пропущено: {counts['skipped']} (остальное загружено)")
                extra += [f"пропущена {problem}" for problem in job.skipped]
            if job.notice:
                extra.append(job.notice)
            return answers.success(f"{name}: " + ", ".join(parts), *extra)
        if status == "failed":
            notice = [job.notice] if job.notice else []
            return answers.failure(job.error or f"{name}: загрузка не удалась", *notice)
        if status == "stalled":
            return answers.failure(job.error or f"{name}: загрузка прервана")
        if job.dead:
            return answers.progress(
                f"{name}: обработчик не отвечает {job.silent_for(time.time()) // 60} мин.; "
                "загрузка будет продолжена автоматически с места остановки"
            )
        if job.note:
            return answers.progress(f"{name}: {job.note}")
        phase = job.phase
        if status == "queued":
            return answers.progress(f"{name}: в очереди на загрузку")
        if phase == "prepare":
            return answers.progress(f"{name}: распаковка архива и изображений")
        if phase == "parse":
            return answers.progress(f"{name}: прочитано записей: {(job.records_read or 0)}")
        total = job.total_changes or 0
        return answers.progress(f"{name}: записано изменений {(job.applied or 0)} из {total}")

    # -- deactivate / complete ------------------------------------------------------------------
    def deactivate(self, session: Session, request: ExchangeRequest) -> Answer:
        raw = (request.params.get("timestamp") or "").strip()
        if not raw:
            return answers.failure("не передан timestamp (из ответа на checkauth): деактивация невозможна")
        if not _TIMESTAMP.fullmatch(raw):
            return answers.failure(
                f"timestamp={raw[:40]!r} — не число секунд из ответа на checkauth: деактивация невозможна"
            )
        tenant = session.tenant.id
        job_id = str(JobId.deactivation(session.token, raw))
        job = self.store.get_job(tenant, job_id)
        if job is None:
            item = ImportJob(
                job_id,
                kind=JobKind.DEACTIVATE,
                since=int(raw),
                filename="deactivate",
                session=session.token,
                created_at=int(time.time()),
            )
            if self.store.create_job(tenant, item):
                self.queue.send({"tenant": tenant, "job": job_id})
            job = self.store.get_job(tenant, job_id) or item
        # Only `success` or `failure` here (never `progress`, docs/clients.md §6): the worker runs the
        # deactivation once every import of this exchange has finished.
        status = job.status
        if status == "done":
            counts = job.counts or {}
            note = [job.note] if job.note else []
            return answers.success(f"деактивировано: {counts.get('deactivated', 0)}", *note)
        if status in ("failed", "stalled"):
            return answers.failure(job.error or "деактивация не выполнена")
        return answers.success(
            "деактивация товаров, не попавших в полную выгрузку, выполнится после загрузки всех файлов обмена"
        )

    def complete(self, session: Session, request: ExchangeRequest) -> Answer:
        self.store.update_session(session.tenant.id, session.token, completed_at=int(time.time()))
        if ExchangeEnds(self.store, self.queue).close(session.tenant.id):
            return answers.success(
                "обмен завершён; товары и предложения, которых не было ни в одном файле полной выгрузки, "
                "будут деактивированы после загрузки всех файлов"
            )
        return answers.success("обмен завершён")
