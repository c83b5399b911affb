"""The 1C exchange protocol state machine (PROTOCOL.md §2-5): one entry point, `handle`.

It takes a transport-neutral ExchangeRequest and returns an Answer, so the HTTP route is a thin
adapter and every step can be driven the way 1C drives it.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import secrets
import time

from chalicelib.accounts import Accounts
from chalicelib.exchange import answers
from chalicelib.exchange.answers import Answer
from chalicelib.exchange.filenames import UnsafeFilename, is_zip, sanitize, starts_a_file
from chalicelib.exchange.sale import UNUSED_FILES, OrdersPort, SaleExchange
from chalicelib.exchange.sessions import (
    COOKIE,
    ExchangeRequest,
    Session,
    SessionError,
    Sessions,
    token_ref,
)
from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.ports import Blobs, ExchangeStore, Queue
from chalicelib.settings import Settings

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
ECHOED_VERSION = "2.09"  # what Bitrix answers; 2.x files are what the reader reads
SUPPORTED_VERSIONS = ("2.03", "2.04", "2.05", "2.06", "2.07", "2.08", "2.09", "2.10")


class Exchange(Sessions, SaleExchange):
    def __init__(
        self,
        accounts: Accounts,
        store: ExchangeStore,
        blobs: Blobs,
        queue: Queue,
        settings: Settings,
        orders: OrdersPort,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.blobs = blobs
        self.queue = queue
        self.settings = settings
        self.orders = orders

    def call(
        self, session: str, kind: str, mode: str, filename: str | None = None, body: bytes = b""
    ) -> Answer:
        """One protocol call in a session opened with `session_for` (the console's exchange by
        hand): the same path as 1C's call."""
        params = {"type": kind, "mode": mode, **({"filename": filename} if filename else {})}
        headers = {"Cookie": f"{COOKIE}={session}"}
        return self.handle(ExchangeRequest(kind, mode, params, headers, body, source="console"))

    def handle(self, request: ExchangeRequest) -> Answer:
        started = time.perf_counter()
        try:
            answer = self._dispatch(request)
        except (SessionError, UnsafeFilename) as exc:
            answer = answers.failure(str(exc))
        except Exception:
            incident = secrets.token_hex(4)
            logger.exception("exchange call crashed", extra={"incident": incident})
            answer = answers.failure(
                f"внутренняя ошибка сервера (код {incident}); повторите обмен, "
                "а если ошибка повторится, сообщите этот код в поддержку"
            )
        logger.info(
            "1C call",
            extra={
                "type": request.type,
                "mode": request.mode,
                "file": request.params.get("filename"),
                "bytes": len(request.body),
                "answer": answer.keyword or "document",
                "ms": round((time.perf_counter() - started) * 1000),
            },
        )
        metrics.add_metric(name=f"Exchange_{request.mode or 'none'}", unit=MetricUnit.Count, value=1)
        return answer

    def _dispatch(self, request: ExchangeRequest) -> Answer:
        kind, mode = request.type, request.mode
        if kind not in ("catalog", "sale", "reference", "get_catalog"):
            return answers.failure(f"неизвестный тип обмена type={kind!r}: ожидается catalog или sale")
        if mode == "checkauth":
            return self.checkauth(request)
        session = self.session(request)
        logger.append_keys(tenant=session.tenant.id, exchange_session=token_ref(session.token))
        try:
            answer = self._route(session, request)
        except Exception:
            self.store.log_call(session.tenant.id, session.token, self._journal_line(request, None))
            raise
        self.store.log_call(session.tenant.id, session.token, self._journal_line(request, answer))
        return answer

    def _route(self, session: Session, request: ExchangeRequest) -> Answer:
        kind, mode = request.type, request.mode
        if kind == "get_catalog":
            return answers.failure("выгрузка каталога с сайта в 1С (type=get_catalog) не поддерживается")
        if mode == "init":
            return self.init(session, request)
        if kind == "reference":
            return answers.success("справочники пользователя приняты и не используются")
        handler = {
            ("catalog", "file"): self.file,
            ("catalog", "import"): self.import_,
            ("catalog", "deactivate"): self.deactivate,
            ("catalog", "complete"): self.complete,
            ("sale", "file"): self.sale_file,
            ("sale", "import"): self.sale_import,
            ("sale", "query"): self.sale_query,
            ("sale", "success"): self.sale_success,
            ("sale", "info"): self.sale_info,
        }.get((kind, mode))
        if handler is None:
            return answers.failure(f"неизвестный режим mode={mode!r} для type={kind}")
        return handler(session, request)

    @staticmethod
    def _journal_line(request: ExchangeRequest, answer: Answer | None) -> str:
        """One call and what it was answered (the console and the CLI show these)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        name = request.params.get("filename")
        size = f" {len(request.body)}B" if request.body else ""
        if answer is None:
            said = "внутренняя ошибка"
        elif answer.keyword:  # the session's own token never goes into the journal
            said = re.sub(r"sessid=\S+", "sessid=…", " ".join(answer.body.split()))[:200]
        else:
            said = f"документ {len(answer.body_bytes or answer.body.encode())} байт"
        return f"{stamp} {request.type}/{request.mode}{' ' + name if name else ''}{size} → {said}"

    # -- init -----------------------------------------------------------------------------------
    def init(self, session: Session, request: ExchangeRequest) -> Answer:
        version = (request.params.get("version") or "").strip()[:10]
        cml_version = (request.params.get("cmlVersion") or "").strip()[:10]
        fields = {"init_type": request.type}
        if version:
            fields["version"] = version
        if cml_version:
            fields["cml_version"] = cml_version
        self.store.start_area(session.tenant.id, session.token, **fields)
        reply = ["zip=yes", f"file_limit={self.settings.file_limit}"]
        if request.type == "sale" and version:
            # Only a version whose files we read: the add-on switches to CommerceML 3 on `3.x`.
            answer_version = version if version in SUPPORTED_VERSIONS else ECHOED_VERSION
            sessid = f"{session.tenant.id}.{session.token}".encode().hex()  # as checkauth gives it
            reply += [f"sessid={sessid}", f"version={answer_version}"]
        return answers.lines(*reply)

    def _area(self, session: Session) -> str:
        if session.area:
            return session.area
        count = self.store.start_area(session.tenant.id, session.token)  # a client that skipped init
        return f"{session.token}-{count}"

    # -- file -----------------------------------------------------------------------------------
    def file(self, session: Session, request: ExchangeRequest) -> Answer:
        filename = sanitize(request.params.get("filename"))
        data = request.body
        if not data:
            return answers.failure(f"{filename}: пустой запрос — 1С не передала содержимое файла")
        if len(data) > self.settings.file_limit + 65536:
            return answers.failure(
                f"{filename}: часть файла {len(data)} байт больше file_limit={self.settings.file_limit}"
            )
        tenant, area = session.tenant.id, self._area(session)
        digest = hashlib.sha256(data).hexdigest()
        self.blobs.put(Paths(tenant).part(area, filename, digest), data)
        previous = self.store.uploaded_file(tenant, area, filename)
        restart = bool(previous) and not is_zip(filename, data[:4]) and starts_a_file(data)
        parts = self.store.add_chunk(tenant, area, filename, digest, len(data), restart)
        if restart:
            logger.info("file restarted by 1C", extra={"file": filename})
        return answers.success(f"{filename}: принята часть {parts}, {len(data)} байт")

    # -- import ---------------------------------------------------------------------------------
    def import_(self, session: Session, request: ExchangeRequest) -> Answer:
        filename = sanitize(request.params.get("filename"))
        tenant, area = session.tenant.id, self._area(session)
        if UNUSED_FILES.match(posixpath.basename(filename)):
            return self._accept_unused(session, filename)
        job_id = f"{area}#{filename}"
        job = self.store.get_job(tenant, job_id)
        if job is None:
            if not self._has_source(tenant, area, filename):
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

    def _accept_unused(self, session: Session, filename: str) -> Answer:
        """Files the 1C-Bitrix add-on sends beyond the catalog and orders (the customer directory,
        and in 3.x mode storages, units, price lists): kept with the upload, not imported."""
        self.store.log_call(
            session.tenant.id, session.token, f"{filename}: принят и сохранён, не загружается"
        )
        return answers.success(f"{filename}: принят, данные этого файла сайт не использует")

    def _has_source(self, tenant: str, area: str, filename: str) -> bool:
        """The file was uploaded in this area, a zip of this area may hold it, or the zip of an
        earlier session of this exchange holds it (1C sends one zip, then imports each XML)."""
        names = [f["sk"].split("#", 1)[1] for f in self.store.uploaded_files(tenant, area)]
        if filename in names or any(is_zip(n) for n in names):
            return True
        prepared = self.store.pointer(tenant, "prepared")
        manifest = self.blobs.get(Paths(tenant).manifest(prepared)) if prepared else None
        return bool(manifest) and filename in json.loads(manifest).get("xml", {})

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
        job_id = f"{session.token}#~deactivate#{raw}"
        job = self.store.get_job(tenant, job_id)
        if job is None:
            item = ImportJob(
                job_id,
                kind="deactivate",
                since=int(raw),
                filename="deactivate",
                session=session.token,
                created_at=int(time.time()),
            )
            if self.store.create_job(tenant, item):
                self.queue.send({"tenant": tenant, "job": job_id})
            job = self.store.get_job(tenant, job_id) or item
        # Only `success` or `failure` here (never `progress`, CLIENTS.md §6): the worker runs the
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
        return answers.success("обмен завершён")
