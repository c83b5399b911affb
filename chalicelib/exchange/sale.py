"""The orders side of the exchange (`type=sale`): the query document in the session's encoding,
1C's confirmation, its order documents (also zipped, under the same limits as catalog zips),
and the `mode=info` reference."""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO, Any, Protocol

from chalicelib.commerceml import CommerceMLError
from chalicelib.exchange import answers
from chalicelib.exchange.answers import Answer
from chalicelib.exchange.filenames import is_zip, sanitize
from chalicelib.exchange.sessions import ExchangeRequest, Session
from chalicelib.exchange.uploads import UNUSED_FILES, Uploads
from chalicelib.exchange.zipfiles import ZipLimits, ZipRefused, expand
from chalicelib.layout import Paths
from chalicelib.observability import logger
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.settings import Settings
from chalicelib.tenants import Tenant


class OrdersPort(Protocol):
    """What the exchange needs of orders (implemented by orders.service.Orders, wired in
    wiring.py): the query document, 1C's confirmation, its documents, the reference lists."""

    def query_document(
        self, tenant: Tenant, session: str, encoding: str, packaged: bool = False
    ) -> tuple[bytes, int, list[tuple[str, str]]]: ...
    def confirm(self, tenant: Tenant, session: str) -> int | None: ...
    def apply_documents(self, tenant: Tenant, stream: IO[bytes], filename: str) -> dict[str, Any]: ...
    def reference_document(self, tenant: Tenant, encoding: str) -> bytes: ...


def _version(text: object) -> tuple[int, ...]:
    """`2.10` as (2, 10), so 2.10 sorts after 2.9 (anything unreadable is (0,))."""
    try:
        return tuple(int(part) for part in str(text or "").strip().split("."))
    except ValueError:
        return (0,)


def with_comment(document: bytes, encoding: str, text: str) -> bytes:
    """An XML comment after the declaration: what 1C's exchange log can show a consultant."""
    head, sep, rest = document.partition(b"?>")
    safe = " ".join(text.replace("--", "- -").split())[:4000]
    comment = f"\n<!-- cmlbridge: {safe} -->".encode(encoding, errors="replace")
    return head + sep + comment + rest if sep else document


class SaleExchange:
    def __init__(
        self,
        orders: OrdersPort | None,
        store: ExchangeStore,
        blobs: Blobs,
        settings: Settings,
        uploads: Uploads,
    ) -> None:
        self._orders, self.store, self.blobs = orders, store, blobs
        self.settings, self.uploads = settings, uploads

    @property
    def orders(self) -> OrdersPort:
        if self._orders is None:
            raise RuntimeError("this exchange was built without orders")
        return self._orders

    def query(self, session: Session, request: ExchangeRequest) -> Answer:
        encoding = self.order_encoding(session)
        packaged = _version(session.item.get("cml_version")) >= (2, 10)  # the add-on's 2.10 form
        data, count, skipped = self.orders.query_document(session.tenant, session.token, encoding, packaged)
        logger.info("orders offered to 1C", extra={"orders": count, "skipped": len(skipped)})
        self.store.update_session(session.tenant.id, session.token, orders_offered=count)
        if skipped:
            note = "; ".join(f"заказ {number} не передан: {reason}" for number, reason in skipped)
            self.store.log_call(session.tenant.id, session.token, note[:2000])
            data = with_comment(data, encoding, note)
        return answers.document(data, encoding)

    @staticmethod
    def order_encoding(session: Session) -> str:
        """The tenant's pinned encoding, else the flow's: UTF-8 when init carried `version`."""
        return session.tenant.settings.encoding_for(flow_has_version=bool(session.item.get("version")))

    def info(self, session: Session, request: ExchangeRequest) -> Answer:
        """The statuses, payment systems and delivery services 1C maps its own to (the 1C-Bitrix
        add-on's «Загрузить с сайта»): an XML `Справочник`, never a text answer."""
        encoding = self.order_encoding(session)
        return answers.document(self.orders.reference_document(session.tenant, encoding), encoding)

    def success(self, session: Session, request: ExchangeRequest) -> Answer:
        confirmed = self.orders.confirm(session.tenant, session.token)
        if confirmed is None:  # as 1C-Bitrix answers (a client may confirm at the end of any exchange)
            return answers.success("подтверждать нечего: в этом сеансе заказы не запрашивались (mode=query)")
        self.store.update_session(session.tenant.id, session.token, orders_taken=confirmed)
        return answers.success(f"заказов принято 1С: {confirmed}")

    def file(self, session: Session, request: ExchangeRequest) -> Answer:
        answer = self.uploads.file(session, request)
        if answer.keyword != "success" or session.item.get("version"):
            return answer
        return self.import_(session, request)  # the old flow: no `version` at init, `file` imports

    def import_(self, session: Session, request: ExchangeRequest) -> Answer:
        filename = sanitize(request.params.get("filename"))
        tenant, area = session.tenant.id, self.uploads.area(session)
        if UNUSED_FILES.match(posixpath.basename(filename)):
            return self.uploads.accept_unused(session, filename)
        upload = self.store.uploaded_file(tenant, area, filename)
        if upload is None:
            return answers.failure(f"файл {filename} не был загружен в этом сеансе обмена (mode=file)")
        paths = Paths(tenant)
        report: dict[str, Any] = {}  # the documents' reports summed (the orders room's shape)
        with tempfile.TemporaryFile() as raw:
            for digest in upload.parts:
                self.blobs.download(paths.part(area, filename, digest), raw)
            raw.seek(0)
            try:
                for name, stream in self._order_documents(raw, filename):
                    part = self.orders.apply_documents(session.tenant, stream, name)
                    for key, value in part.items():
                        report[key] = report[key] + value if key in report else value
            except (CommerceMLError, ZipRefused) as exc:
                return answers.failure(str(exc))
        updated, unchanged = report.get("updated", 0), report.get("unchanged", 0)
        lines = [f"{filename}: обновлено заказов {updated}, без изменений {unchanged}"]
        if report.get("unknown"):
            lines.append("не найдены на сайте заказы: " + ", ".join(report["unknown"][:50]))
        if report.get("problems"):  # the Bitrix way: per-document problems after success
            lines.append(f"не прочитано документов: {len(report['problems'])}")
            lines += report["problems"][:20]
        self.store.log_call(tenant, session.token, " ".join(lines)[:2000])
        before = self.store.get_session(tenant, session.token) or {}
        named = list(
            dict.fromkeys([*(before.get("orders_updated_ids") or []), *report.get("updated_ids", [])])
        )[:200]
        self.store.update_session(
            tenant,
            session.token,
            orders_updated=int(before.get("orders_updated", 0)) + updated,
            orders_updated_ids=named,  # the exchange's page names them (at most 200)
        )
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
