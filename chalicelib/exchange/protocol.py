"""The 1C exchange protocol state machine (PROTOCOL.md §2-5): one entry point, `handle`.

It takes a transport-neutral ExchangeRequest and returns an Answer, so the HTTP route is a thin
adapter and every step can be driven the way 1C drives it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import posixpath
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from chalicelib.accounts import Accounts
from chalicelib.aws.blobs import BlobStore
from chalicelib.aws.exchange_store import ExchangeStore
from chalicelib.aws.queue import JobQueue
from chalicelib.commerceml import CommerceMLError
from chalicelib.exchange import answers
from chalicelib.exchange.answers import Answer
from chalicelib.exchange.filenames import UnsafeFilename, is_zip, sanitize, starts_a_file
from chalicelib.exchange.zipfiles import ZipLimits, ZipRefused, expand
from chalicelib.layout import Paths
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.settings import Settings
from chalicelib.tenants import Tenant

COOKIE = "CMLBRIDGE"
# Password checks allowed per window: per (source address, login), and per login from anywhere
# (1C:Fresh and offices share NAT addresses, so one tenant's typos never lock out another's).
MAX_CHECKS_PER_SOURCE = 5
MAX_CHECKS_PER_LOGIN = 20
THROTTLE_SECONDS = 900
STALE_SECONDS = 300  # no heartbeat for this long: the worker died; SQS hands the job over again
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Files the add-on sends that the site does not import (CLIENTS.md §15).
_UNUSED_FILES = re.compile(r"(contragents|storages|units|pricelists)_", re.IGNORECASE)
ECHOED_VERSION = "2.09"  # what Bitrix answers; 2.x files are what the reader reads
SUPPORTED_VERSIONS = ("2.03", "2.04", "2.05", "2.06", "2.07", "2.08", "2.09", "2.10")


@dataclass(frozen=True)
class ExchangeRequest:
    type: str
    mode: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    source: str = "unknown"

    def header(self, name: str) -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return ""


@dataclass(frozen=True)
class Session:
    tenant: Tenant
    token: str
    item: dict[str, Any]

    @property
    def area(self) -> str | None:
        count = self.item.get("init_count")
        return f"{self.token}-{count}" if count else None


class SessionError(Exception):
    pass


class OrdersPort(Protocol):
    """What the exchange needs of orders (implemented by orders.service.Orders, wired in
    wiring.py): the query document, 1C's confirmation, its documents, the reference lists."""

    def query_document(
        self, tenant: Tenant, session: str, encoding: str
    ) -> tuple[bytes, int, list[tuple[str, str]]]: ...
    def confirm(self, tenant: Tenant, session: str) -> int | None: ...
    def apply_documents(self, tenant: Tenant, stream: IO[bytes], filename: str) -> dict[str, Any]: ...
    def reference_document(self, tenant: Tenant, encoding: str) -> bytes: ...


def token_ref(token: str) -> str:
    """What logs show of a session token: a short hash, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _login_key(login: str) -> str:
    return hashlib.sha256(login.encode()).hexdigest()[:32]


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    for encoding in ("utf-8", "cp1251"):  # 1C on Windows may send a cp1251 password
        try:
            login, sep, password = decoded.decode(encoding).partition(":")
            return (login, password) if sep else None
        except UnicodeDecodeError:
            continue
    return None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def with_comment(document: bytes, encoding: str, text: str) -> bytes:
    """An XML comment after the declaration: what 1C's exchange log can show a consultant."""
    head, sep, rest = document.partition(b"?>")
    safe = " ".join(text.replace("--", "- -").split())[:4000]
    comment = f"\n<!-- cmlbridge: {safe} -->".encode(encoding, errors="replace")
    return head + sep + comment + rest if sep else document


class Exchange:
    def __init__(
        self,
        accounts: Accounts,
        store: ExchangeStore,
        blobs: BlobStore,
        queue: JobQueue,
        settings: Settings,
        orders: OrdersPort,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.blobs = blobs
        self.queue = queue
        self.settings = settings
        self.orders = orders

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
        self.store.log_call(session.tenant.id, session.token, self._journal_line(request))
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
    def _journal_line(request: ExchangeRequest) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        name = request.params.get("filename")
        size = f" {len(request.body)}B" if request.body else ""
        return f"{stamp} {request.type}/{request.mode}{' ' + name if name else ''}{size}"

    # -- authentication -------------------------------------------------------------------------
    def login(self, source: str, login: str, password: str) -> Tenant | Answer:
        """Every password check goes through here: counted per (source, login) and per login
        before it runs; a success clears only that login's counters."""
        key = _login_key(login)
        for counter, limit in ((f"{source}|{key}", MAX_CHECKS_PER_SOURCE), (key, MAX_CHECKS_PER_LOGIN)):
            wait = self.store.take_attempt(counter, limit, THROTTLE_SECONDS)
            if wait:
                logger.warning("1C login throttled", extra={"login": login[:64], "source": source})
                return answers.failure(
                    f"слишком много неудачных попыток входа; повторите через {max(1, wait // 60)} мин."
                )
        tenant = self.accounts.authenticate_1c(login, password)
        if tenant is None:
            logger.warning("1C login refused", extra={"login": login[:64], "source": source})
            return answers.failure("неверный логин или пароль для обмена с сайтом")
        self.store.clear_attempts(f"{source}|{key}")
        self.store.clear_attempts(key)
        return tenant

    def checkauth(self, request: ExchangeRequest) -> Answer:
        credentials = _basic_credentials(request.header("Authorization"))
        if credentials is None:
            return answers.failure(
                "не переданы логин и пароль (HTTP Basic): укажите их в настройках обмена 1С; "
                "если они указаны, прокси-сервер не передаёт заголовок Authorization"
            )
        tenant = self.login(request.source, *credentials)
        if isinstance(tenant, Answer):
            return tenant
        now = int(time.time())
        token = self._open_session(tenant, request)
        value = f"{tenant.id}.{token}"
        logger.info("1C session opened", extra={"tenant": tenant.id, "exchange_session": token_ref(token)})
        return answers.lines("success", COOKIE, value, f"sessid={value}", f"timestamp={now}")

    def _open_session(self, tenant: Tenant, request: ExchangeRequest) -> str:
        now = int(time.time())
        token = f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"
        self.store.create_session(
            tenant.id,
            token,
            {
                "type": request.type,
                "timestamp": now,
                "valid_until": now + self.settings.session_ttl_seconds,
                "source": request.source,
                "created_at": now,
            },
        )
        return token

    def session(self, request: ExchangeRequest) -> Session:
        value = _cookie(request.header("Cookie"), COOKIE) or request.params.get("sessid")
        if value and "." in value:
            tenant_id, _, token = value.partition(".")
            item = self.store.get_session(tenant_id, token)
            tenant = self.accounts.store.get(tenant_id) if item else None
            if item and tenant and tenant.active and int(item.get("valid_until", 0)) >= time.time():
                if item.get("completed_at") and request.mode != "complete":
                    raise SessionError("сеанс обмена уже завершён (mode=complete): начните новый с checkauth")
                return Session(tenant, token, item)
        credentials = _basic_credentials(request.header("Authorization"))
        if credentials is None:
            raise SessionError("сессия обмена не найдена или истекла: начните обмен заново (mode=checkauth)")
        return self._basic_session(request, *credentials)

    def _basic_session(self, request: ExchangeRequest, login: str, password: str) -> Session:
        """A client that sends Basic auth instead of the cookie gets a session of its own (one per
        source address and login), never one that another client opened."""
        tenant = self.login(request.source, login, password)
        if isinstance(tenant, Answer):
            raise SessionError(" ".join(tenant.lines[1:]))
        caller = hashlib.sha256(f"{request.source}|{login}".encode()).hexdigest()[:32]
        token = self.store.basic_session(tenant.id, caller)
        item = self.store.get_session(tenant.id, token) if token else None
        if item is None or item.get("completed_at"):
            token = self._open_session(tenant, request)
            valid_until = int(time.time()) + self.settings.session_ttl_seconds
            self.store.set_basic_session(tenant.id, caller, token, valid_until)
            item = self.store.get_session(tenant.id, token) or {}
        return Session(tenant, token, item)

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
            reply += [f"sessid={session.tenant.id}.{session.token}", f"version={answer_version}"]
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
        if _UNUSED_FILES.match(posixpath.basename(filename)):
            return self._accept_unused(session, filename)
        job_id = f"{area}#{filename}"
        job = self.store.get_job(tenant, job_id)
        if job is None:
            if not self._has_source(tenant, area, filename):
                return answers.failure(
                    f"файл {filename} не был загружен в этом сеансе обмена (mode=file): выгрузите его ещё раз"
                )
            item = {
                "kind": "import",
                "type": request.type,
                "status": "queued",
                "phase": "prepare",
                "area": area,
                "filename": filename,
                "session": session.token,
                "created_at": int(time.time()),
            }
            if self.store.create_job(tenant, job_id, item):
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
    def job_answer(job: dict[str, Any]) -> Answer:
        name, status = job.get("filename", ""), job.get("status")
        counts = job.get("counts") or {}
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
            if counts.get("offers_without_product"):
                extra.append(
                    f"предложений без товара на сайте: {counts['offers_without_product']} (сохранены)"
                )
            return answers.success(f"{name}: " + ", ".join(parts), *extra)
        if status == "failed":
            return answers.failure(job.get("error") or f"{name}: загрузка не удалась")
        if status == "stalled":
            return answers.failure(job.get("error") or f"{name}: загрузка прервана")
        beat = int(job.get("heartbeat_at") or job.get("started_at") or 0)
        if status == "running" and beat and time.time() - beat > STALE_SECONDS:
            return answers.progress(
                f"{name}: обработчик не отвечает {int(time.time() - beat) // 60} мин.; "
                "загрузка будет продолжена автоматически с места остановки"
            )
        if job.get("note"):
            return answers.progress(f"{name}: {job['note']}")
        phase = job.get("phase")
        if status == "queued":
            return answers.progress(f"{name}: в очереди на загрузку")
        if phase == "prepare":
            return answers.progress(f"{name}: распаковка архива и изображений")
        if phase == "parse":
            return answers.progress(f"{name}: прочитано записей: {job.get('records_read', 0)}")
        total = job.get("total_changes", 0)
        return answers.progress(f"{name}: записано изменений {job.get('applied', 0)} из {total}")

    # -- orders (type=sale) -------------------------------------------------------------------------
    def sale_query(self, session: Session, request: ExchangeRequest) -> Answer:
        encoding = self.order_encoding(session)
        data, count, skipped = self.orders.query_document(session.tenant, session.token, encoding)
        logger.info("orders offered to 1C", extra={"orders": count, "skipped": len(skipped)})
        if skipped:
            note = "; ".join(f"заказ {number} не передан: {reason}" for number, reason in skipped)
            self.store.log_call(session.tenant.id, session.token, note[:2000])
            data = with_comment(data, encoding, note)
        return answers.document(data, encoding)

    @staticmethod
    def order_encoding(session: Session) -> str:
        """The tenant's pinned encoding, else the flow's: UTF-8 when init carried `version`."""
        return session.tenant.settings.encoding_for(flow_has_version=bool(session.item.get("version")))

    def sale_info(self, session: Session, request: ExchangeRequest) -> Answer:
        """The statuses, payment systems and delivery services 1C maps its own to (the 1C-Bitrix
        add-on's «Загрузить с сайта»): an XML `Справочник`, never a text answer."""
        encoding = self.order_encoding(session)
        return answers.document(self.orders.reference_document(session.tenant, encoding), encoding)

    def sale_success(self, session: Session, request: ExchangeRequest) -> Answer:
        confirmed = self.orders.confirm(session.tenant, session.token)
        if confirmed is None:
            return answers.failure("в этом сеансе не было запроса заказов (mode=query): подтверждать нечего")
        return answers.success(f"заказов принято 1С: {confirmed}")

    def sale_file(self, session: Session, request: ExchangeRequest) -> Answer:
        answer = self.file(session, request)
        if answer.keyword != "success" or session.item.get("version"):
            return answer
        return self.sale_import(
            session, request
        )  # the old flow: no `version` at init, `file` imports at once

    def sale_import(self, session: Session, request: ExchangeRequest) -> Answer:
        filename = sanitize(request.params.get("filename"))
        tenant, area = session.tenant.id, self._area(session)
        if _UNUSED_FILES.match(posixpath.basename(filename)):
            return self._accept_unused(session, filename)
        upload = self.store.uploaded_file(tenant, area, filename)
        if upload is None:
            return answers.failure(f"файл {filename} не был загружен в этом сеансе обмена (mode=file)")
        paths = Paths(tenant)
        report: dict[str, Any] = {"updated": 0, "unchanged": 0, "unknown": [], "problems": []}
        with tempfile.TemporaryFile() as raw:
            for digest in upload["parts"]:
                self.blobs.download(paths.part(area, filename, digest), raw)
            raw.seek(0)
            try:
                for name, stream in self._order_documents(raw, filename):
                    part = self.orders.apply_documents(session.tenant, stream, name)
                    for key in report:
                        report[key] += part[key]
            except (CommerceMLError, ZipRefused) as exc:
                return answers.failure(str(exc))
        lines = [f"{filename}: обновлено заказов {report['updated']}, без изменений {report['unchanged']}"]
        if report["unknown"]:
            lines.append("не найдены на сайте заказы: " + ", ".join(report["unknown"][:50]))
        if report["problems"]:  # the Bitrix way: per-document problems after success
            lines.append(f"не прочитано документов: {len(report['problems'])}")
            lines += report["problems"][:20]
        self.store.log_call(tenant, session.token, " ".join(lines)[:2000])
        return answers.success(*lines)

    def _order_documents(self, raw: IO[bytes], filename: str) -> Iterator[tuple[str, IO[bytes]]]:
        """The XML documents of an upload: the file itself, or each XML of a zip, expanded with
        the same limits as catalog zips and spooled to disk (never whole in memory)."""
        if not is_zip(filename, raw.read(4)):
            raw.seek(0)
            yield filename, raw
            return
        raw.seek(0)
        limits = ZipLimits(
            self.settings.zip_max_total_bytes, self.settings.zip_max_entries, self.settings.zip_max_ratio
        )
        documents: list[tuple[str, IO[bytes]]] = []

        def keep(name: str, stream: IO[bytes], size: int) -> None:
            if name.lower().endswith(".xml"):
                spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 (closed below)
                shutil.copyfileobj(stream, spool, 2**20)
                spool.seek(0)
                documents.append((name, spool))

        try:
            expand(raw, limits, keep)
            if not documents:
                raise CommerceMLError("в архиве нет XML-файла с заказами", filename=filename)
            yield from documents
        finally:
            for _, spool in documents:
                spool.close()

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
            item = {
                "kind": "deactivate",
                "status": "queued",
                "since": int(raw),
                "filename": "deactivate",
                "session": session.token,
                "created_at": int(time.time()),
            }
            if self.store.create_job(tenant, job_id, item):
                self.queue.send({"tenant": tenant, "job": job_id})
            job = self.store.get_job(tenant, job_id) or item
        # Only `success` or `failure` here (never `progress`, CLIENTS.md §6): the worker runs the
        # deactivation once every import of this exchange has finished.
        status = job.get("status")
        if status == "done":
            counts = job.get("counts") or {}
            note = [job["note"]] if job.get("note") else []
            return answers.success(f"деактивировано: {counts.get('deactivated', 0)}", *note)
        if status in ("failed", "stalled"):
            return answers.failure(job.get("error") or "деактивация не выполнена")
        return answers.success(
            "деактивация товаров, не попавших в полную выгрузку, выполнится после загрузки всех файлов обмена"
        )

    def complete(self, session: Session, request: ExchangeRequest) -> Answer:
        self.store.update_session(session.tenant.id, session.token, completed_at=int(time.time()))
        return answers.success("обмен завершён")
