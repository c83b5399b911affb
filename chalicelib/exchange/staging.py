"""What an import keeps in S3 between its phases and between imports, always as gzip lines streamed
through a temporary file (never a whole copy in memory): the tenant's index and card summary, and
one job's staged changes, new index, touched products, what its file listed and its diff."""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, cast

from chalicelib.layout import Paths
from chalicelib.ports import Blobs
from chalicelib.sync import staged
from chalicelib.sync.diff import Change, Index

OLD_PRICES = "old-prices.jsonl.gz"  # offer → its prices before the job wrote them (the diff's "was")


class Staging:
    def __init__(self, blobs: Blobs) -> None:
        self.blobs = blobs

    # -- lines ----------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.blobs.size(key) is not None

    def lines(self, key: str) -> Iterator[bytes]:
        with gzip.GzipFile(fileobj=self.blobs.open(key)) as lines:
            yield from lines

    def values(self, key: str) -> Iterator[Any]:
        """The JSON value of every line; nothing when the file is not there."""
        if self.exists(key):
            yield from (json.loads(line) for line in self.lines(key))

    def save_lines(self, key: str, write: Callable[[IO[bytes]], None]) -> None:
        with tempfile.TemporaryFile() as tmp:
            with gzip.GzipFile(fileobj=tmp, mode="wb", compresslevel=3) as out:
                write(cast(IO[bytes], out))  # GzipFile is a binary stream (typeshed: BufferedIOBase)
            tmp.seek(0)
            self.blobs.upload(key, tmp)

    def save_values(self, key: str, values: Iterable[Any]) -> None:
        def write(out: IO[bytes]) -> None:
            for value in values:
                out.write(json.dumps(value, ensure_ascii=False).encode() + b"\n")

        self.save_lines(key, write)

    # -- the index ------------------------------------------------------------------------------
    def index(self, key: str) -> Index:
        return Index.load(self.lines(key)) if self.exists(key) else Index()

    def tenant_index(self, tenant: str) -> Index:
        return self.index(Paths(tenant).index)

    def save_index(self, key: str, index: Index) -> None:
        self.save_lines(key, index.dump)

    # -- one job's files ------------------------------------------------------------------------
    def changes(self, tenant: str, job_id: str) -> Iterator[Change]:
        for line in self.lines(Paths(tenant).staging(job_id, "changes.jsonl.gz")):
            yield staged.decode(line)

    def json(self, tenant: str, job_id: str, name: str) -> Any:
        data = self.blobs.get(Paths(tenant).staging(job_id, name))
        return json.loads(data) if data else None

    def put_json(self, tenant: str, job_id: str, name: str, value: Any) -> None:
        self.blobs.put(Paths(tenant).staging(job_id, name), json.dumps(value, ensure_ascii=False).encode())

    def small_values(self, tenant: str, job_id: str, name: str) -> list[Any]:
        """A job's small gzip file of JSON lines (the diff), read whole."""
        data = self.blobs.get(Paths(tenant).staging(job_id, name))
        return [json.loads(line) for line in gzip.decompress(data).splitlines()] if data else []

    def put_small_values(self, tenant: str, job_id: str, name: str, values: Iterable[Any]) -> None:
        lines = b"".join(json.dumps(v, ensure_ascii=False).encode() + b"\n" for v in values)
        self.blobs.put(Paths(tenant).staging(job_id, name), gzip.compress(lines))
