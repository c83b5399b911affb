"""`mode=file`: the chunks 1C sends, stored in S3 under the session's upload area and recorded in
order (a chunk that starts a file again restarts it), for catalog and sale exchanges alike."""

from __future__ import annotations

import hashlib
import json
import re

from chalicelib.exchange import answers
from chalicelib.exchange.answers import Answer
from chalicelib.exchange.filenames import is_zip, sanitize, starts_a_file
from chalicelib.exchange.sessions import ExchangeRequest, Session
from chalicelib.ids import SessionToken
from chalicelib.layout import Paths
from chalicelib.observability import logger
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.settings import Settings

# Files the add-on sends that the site does not import (docs/clients.md §15): in a catalog
# exchange its customer directory; in an orders exchange the 3.1 reference files as well.
UNUSED_FILES = re.compile(r"(contragents|storages|units|pricelists)_", re.IGNORECASE)
UNUSED_CATALOG_FILES = re.compile(r"contragents_", re.IGNORECASE)


class Uploads:
    def __init__(self, store: ExchangeStore, blobs: Blobs, settings: Settings) -> None:
        self.store, self.blobs, self.settings = store, blobs, settings

    def area(self, session: Session) -> str:
        """The session's upload area (`init` opens one; a client that skipped init gets one)."""
        if session.area:
            return session.area
        count = self.store.start_area(session.tenant.id, session.token)
        return str(SessionToken(session.token).area(count))

    def file(self, session: Session, request: ExchangeRequest) -> Answer:
        filename = sanitize(request.params.get("filename"))
        data = request.body
        if not data:
            return answers.failure(f"{filename}: пустой запрос — 1С не передала содержимое файла")
        if len(data) > self.settings.file_limit + 65536:
            return answers.failure(
                f"{filename}: часть файла {len(data)} байт больше file_limit={self.settings.file_limit}"
            )
        tenant, area = session.tenant.id, self.area(session)
        digest = hashlib.sha256(data).hexdigest()
        self.blobs.put(Paths(tenant).part(area, filename, digest), data)
        previous = self.store.uploaded_file(tenant, area, filename)
        restart = bool(previous) and not is_zip(filename, data[:4]) and starts_a_file(data)
        parts = self.store.add_chunk(tenant, area, filename, digest, len(data), restart)
        if restart:
            logger.info("file restarted by 1C", extra={"file": filename})
        return answers.success(f"{filename}: принята часть {parts}, {len(data)} байт")

    def accept_unused(self, session: Session, filename: str) -> Answer:
        """Files the 1C-Bitrix add-on sends beyond the catalog and orders (its customer directory;
        3.1's storages, units and price lists in an orders exchange): kept with the upload, not
        imported."""
        self.store.log_call(
            session.tenant.id, session.token, f"{filename}: принят и сохранён, не загружается"
        )
        return answers.success(f"{filename}: принят, данные этого файла сайт не использует")

    def has_source(self, tenant: str, area: str, filename: str) -> bool:
        """The file was uploaded in this area, a zip of this area may hold it, or the zip of an
        earlier session of this exchange holds it (1C sends one zip, then imports each XML)."""
        names = [upload.filename for upload in self.store.uploaded_files(tenant, area)]
        if filename in names or any(is_zip(n) for n in names):
            return True
        prepared = self.store.pointer(tenant, "prepared")
        manifest = self.blobs.get(Paths(tenant).manifest(prepared)) if prepared else None
        return manifest is not None and filename in json.loads(manifest).get("xml", {})
