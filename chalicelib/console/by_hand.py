"""The exchange by hand: a file or zip uploaded from the browser, or an earlier upload replayed,
goes through the same protocol calls 1C makes (a session, `init`, `file` in chunks, `import`), so
it is imported exactly as if 1C had sent it; the journal shows who sent it."""

from __future__ import annotations

import re
from typing import Any, Protocol

from chalicelib.commerceml.files import import_order
from chalicelib.importjob import JobKind, JobStatus
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.tenants import Tenant
from chalicelib.values import BY_HAND

# `ДатаФормирования="2026-12-05T10:00:00"` in the file's first bytes, in UTF-8 or windows-1251.
FORMED = re.compile(
    b"(?:"
    + "ДатаФормирования".encode()
    + b"|"
    + "ДатаФормирования".encode("cp1251")
    + rb')="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)'
)


def _offers(filename: str) -> bool:
    """Prices and stock (offers, prices, rests files) are dated against their own kind, goods against goods."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1].lower().startswith(("offers", "prices", "rests"))


class ExchangeCalls(Protocol):
    """What a by-hand upload needs of the exchange: a session, and 1C's calls in it."""

    def session_for(self, tenant: Tenant, kind: str, source: str) -> str: ...
    def call(
        self, session: str, kind: str, mode: str, filename: str | None = None, body: bytes = b""
    ) -> Any: ...


class ByHand:
    def __init__(self, exchange: ExchangeCalls, store: ExchangeStore, blobs: Blobs) -> None:
        self.exchange, self.store, self.blobs = exchange, store, blobs

    def call(self, cookie: str, mode: str, filename: str | None = None, body: bytes = b"") -> Any:
        return self.exchange.call(cookie, "catalog", mode, filename, body)

    def start(self, tenant: Tenant, who: str) -> str:
        """A new exchange session and its upload area; returns the session cookie value."""
        cookie = self.exchange.session_for(tenant, "catalog", f"{BY_HAND}{who}")
        self.call(cookie, "init")
        return cookie

    def chunk(self, cookie: str, filename: str, body: bytes) -> Any:
        return self.call(cookie, "file", filename, body)

    def finish(self, cookie: str, filename: str) -> Any:
        """`import` the uploaded file: one job, a zip's too (the worker walks its XML files)."""
        return self.call(cookie, "import", filename)

    def older_than_the_shop(self, cookie: str, filename: str) -> tuple[str, str] | None:
        """(the file's ДатаФормирования, the newest imported file's of its kind) when the uploaded
        XML was formed before what the shop shows now came out of 1C; None otherwise (a zip, no
        date, nothing of its kind imported yet)."""
        tenant, _, token = cookie.partition(".")
        upload = next(
            (u for u in self.store.uploaded_files(tenant, token, True) if u.filename == filename), None
        )
        if upload is None or not upload.parts:
            return None
        head = self.blobs.head(Paths(tenant).part(upload.area, filename, upload.parts[0]), 4096)
        found = FORMED.search(head)
        done = [
            j for j in self.store.jobs(tenant, limit=100)
            if j.kind == JobKind.IMPORT and j.status == JobStatus.DONE and j.generated_at
            and _offers(j.filename) == _offers(filename)
        ]  # fmt: skip
        newest = max((str(j.generated_at)[:19] for j in done), default=None)
        formed = found.group(1).decode() if found else None
        return (formed, newest) if formed and newest and formed < newest else None

    def _parts(self, tenant: str, area: str, filename: str) -> list[bytes]:
        upload = self.store.uploaded_file(tenant, area, filename)
        paths = Paths(tenant)
        return (
            [self.blobs.get(paths.part(area, filename, digest)) or b"" for digest in upload.parts]
            if upload
            else []
        )

    def send(self, tenant: Tenant, who: str, files: dict[str, bytes]) -> str:
        """Files sent as 1C sends them (one exchange; `import` each in order): the session token."""
        cookie = self.start(tenant, who)
        for filename, data in files.items():
            self.chunk(cookie, filename, data)
        for filename in files:
            self.finish(cookie, filename)
        return cookie.partition(".")[2]

    def replay(self, tenant: Tenant, who: str, session_id: str) -> str | None:
        """Send an earlier session's uploaded files again, chunk by chunk, and import them."""
        uploads = self.store.uploaded_files(tenant.id, session_id, whole_session=True)
        if not uploads:
            return None
        cookie = self.start(tenant, who)
        names = []
        for upload in uploads:
            area, filename = upload.area, upload.filename
            for part in self._parts(tenant.id, area, filename):
                self.chunk(cookie, filename, part)
            names.append(filename)
        for filename in sorted(names, key=import_order):
            self.finish(cookie, filename)
        return cookie.partition(".")[2]
