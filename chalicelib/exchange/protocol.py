"""The 1C exchange protocol (docs/protocol.md §2-5): one entry point, `handle`.

It takes a transport-neutral ExchangeRequest and returns an Answer, so the HTTP route is a thin
adapter and every step can be driven the way 1C drives it. The exchange itself only resolves the
session and dispatches through one `(type, mode) → handler` table to its collaborators: the
sessions, the uploads, the catalog side and the sale side.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

from chalicelib.accounts import Accounts
from chalicelib.exchange import answers
from chalicelib.exchange.answers import Answer
from chalicelib.exchange.catalog_side import CatalogExchange
from chalicelib.exchange.filenames import UnsafeFilename
from chalicelib.exchange.sale import OrdersPort, SaleExchange
from chalicelib.exchange.sessions import COOKIE, ExchangeRequest, Session, SessionError, Sessions, token_ref
from chalicelib.exchange.uploads import Uploads
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.ports import Blobs, ExchangeStore, Queue, UsageCount
from chalicelib.settings import Settings
from chalicelib.tenants import Tenant
from chalicelib.values import utc_stamp

Handler = Callable[[Session, ExchangeRequest], Answer]
ECHOED_VERSION = "2.09"  # what Bitrix answers; 2.x files are what the reader reads
CATALOG_3 = "3.1"  # offered to a catalog client that asks, when the tenant chose it
SUPPORTED_VERSIONS = ("2.03", "2.04", "2.05", "2.06", "2.07", "2.08", "2.09", "2.10")


class Exchange:
    def __init__(
        self,
        accounts: Accounts,
        store: ExchangeStore,
        blobs: Blobs,
        queue: Queue,
        settings: Settings,
        orders: OrdersPort | None,
        usage: UsageCount | None = None,
    ) -> None:
        self.store, self.settings, self.usage = store, settings, usage
        self.sessions = Sessions(accounts, store, settings)
        uploads = Uploads(store, blobs, settings)
        self.catalog = CatalogExchange(store, queue, uploads)
        sale = SaleExchange(orders, store, blobs, settings, uploads)
        self.handlers: dict[tuple[str, str], Handler] = {
            ("catalog", "init"): self.init,
            ("catalog", "file"): uploads.file,
            ("catalog", "import"): self.catalog.import_,
            ("catalog", "deactivate"): self.catalog.deactivate,
            ("catalog", "complete"): self.catalog.complete,
            ("sale", "init"): self.init,
            ("sale", "file"): sale.file,
            ("sale", "import"): sale.import_,
            ("sale", "query"): sale.query,
            ("sale", "success"): sale.success,
            ("sale", "info"): sale.info,
            ("reference", "init"): self.init,
        }

    def session_for(self, tenant: Tenant, kind: str, source: str) -> str:
        return self.sessions.session_for(tenant, kind, source)

    def call(
        self, session: str, kind: str, mode: str, filename: str | None = None, body: bytes = b""
    ) -> Answer:
        """One protocol call in a session opened with `session_for` (the console's exchange by
        hand): the same path as 1C's call."""
        params = {"type": kind, "mode": mode, **({"filename": filename} if filename else {})}
        headers = {"Cookie": f"{COOKIE}={session}"}
        return self.handle(
            ExchangeRequest(kind, mode, params, headers, body, source="console", by_person=True)
        )

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
            return self.sessions.checkauth(request)
        session = self.sessions.resolve(request)
        logger.append_keys(tenant=session.tenant.id, exchange_session=token_ref(session.token))
        if self.usage is not None:
            self.usage.count(session.tenant.id, "exchange_calls")
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
        handler = self.handlers.get((kind, mode))
        if handler is None and kind == "reference":
            return answers.success("справочники пользователя приняты и не используются")
        if handler is None:
            return answers.failure(f"неизвестный режим mode={mode!r} для type={kind}")
        return handler(session, request)

    @staticmethod
    def _journal_line(request: ExchangeRequest, answer: Answer | None) -> str:
        """One call and what it was answered (the console and the CLI show these)."""
        stamp = utc_stamp()
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
        answer_version = None
        if request.type == "sale" and version:
            # Orders stay 2.x (their writer's schema): the add-on switches to CommerceML 3 on `3.x`.
            answer_version = version if version in SUPPORTED_VERSIONS else ECHOED_VERSION
        elif request.type == "catalog" and version and session.tenant.settings.catalog_schema == "3.1":
            answer_version = CATALOG_3  # the add-on then sends its 3.1 set (docs/protocol.md §9)
        if answer_version:
            sessid = f"{session.tenant.id}.{session.token}".encode().hex()  # as checkauth gives it
            reply += [f"sessid={sessid}", f"version={answer_version}"]
        return answers.lines(*reply)
