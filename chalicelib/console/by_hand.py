"""The exchange by hand: a file or zip uploaded from the browser, or an earlier upload replayed,
goes through the same protocol calls 1C makes (a session, `init`, `file` in chunks, `import`), so
it is imported exactly as if 1C had sent it; the journal shows who sent it."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.commerceml.files import import_order
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.tenants import Tenant
from chalicelib.values import BY_HAND


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
