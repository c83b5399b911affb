"""The parse phase of an import: stream the file through the reader and the differ against the
tenant's index, staging the changes, the new index and what the file listed in S3 as gzip lines
(never whole in memory). Nothing is written to the catalog here. A mixin of the worker."""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from chalicelib.commerceml.model import Property
from chalicelib.exchange.cards import BuildCards, TouchedProducts
from chalicelib.exchange.prepare import PrepareArea
from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.sync import staged
from chalicelib.sync.diff import Deactivate, Index, Put
from chalicelib.sync.plan import plan
from chalicelib.sync.records import OFFER_STOCK, SLOTS


class _LazyProperties(Mapping[str, Property]):
    """The tenant's properties, read only if a file refers to one its own classifier lacks."""

    def __init__(self, load: Callable[[], list[dict[str, Any]]]) -> None:
        self._load, self._items = load, None

    @property
    def items_(self) -> dict[str, Property]:
        if self._items is None:
            self._items = {
                d["id"]: Property(id=d["id"], name=d.get("name", ""), values=d.get("values") or {})
                for d in self._load()
            }
        return self._items

    def __getitem__(self, key: str) -> Property:
        return self.items_[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.items_)

    def __len__(self) -> int:
        return len(self.items_)


class ParseFile(PrepareArea, BuildCards):
    def load_index(self, tenant: str) -> Index:
        key = Paths(tenant).index
        if self.blobs.size(key) is None:
            return Index()
        with gzip.GzipFile(fileobj=self.blobs.open(key)) as lines:
            return Index.load(lines)

    def _save_lines(self, key: str, write: Callable[[IO[bytes]], None]) -> None:
        """Stream gzip lines through a temporary file into S3 (no whole copy in memory)."""
        with tempfile.TemporaryFile() as tmp:
            with gzip.GzipFile(fileobj=tmp, mode="wb", compresslevel=3) as out:
                write(out)
            tmp.seek(0)
            self.blobs.upload(key, tmp)

    def _save_index(self, key: str, index: Index) -> None:
        self._save_lines(key, index.dump)

    def _save_seen(self, key: str, seen: Iterable[str]) -> None:
        def write(out: IO[bytes]) -> None:
            for entity in seen:
                out.write(json.dumps(entity, ensure_ascii=False).encode() + b"\n")

        self._save_lines(key, write)

    def _read_lines(self, key: str) -> Iterator[bytes]:
        with gzip.GzipFile(fileobj=self.blobs.open(key)) as lines:
            yield from lines

    def _properties(self, tenant: str) -> Mapping[str, Property]:
        return _LazyProperties(lambda: self.catalog.docs(tenant, "property"))

    def _parse(self, tenant: str, job: ImportJob, beat: Callable[[], None]) -> None:
        paths, job_id = Paths(tenant), job.id
        stream, size = self.open_file(tenant, job.area, job.filename)
        index = self.load_index(tenant)
        with tempfile.TemporaryFile() as spool:
            writer = gzip.GzipFile(fileobj=spool, mode="wb", compresslevel=3)
            total = 0
            touched = TouchedProducts()

            def emit(change: Put | Deactivate) -> None:
                nonlocal total
                total += 1
                touched.add(change)
                writer.write(staged.encode(change))

            def progress(records: int) -> None:
                beat()
                self.store.update_job(tenant, job_id, records_read=records)

            result = plan(
                stream,
                job.filename,
                index,
                self._properties(tenant),
                self._image_resolver(tenant, job.area),
                emit,
                progress,
                self._file_reader(tenant, job.area),
            )
            writer.close()
            spool.seek(0)
            self.blobs.upload(paths.staging(job_id, "changes.jsonl.gz"), spool)
        self._save_index(paths.staging(job_id, "index.tsv.gz"), index)
        self._stage_touched(tenant, job_id, touched)
        self._save_seen(paths.staging(job_id, "seen.jsonl.gz"), result.seen)
        self.blobs.put(paths.staging(job_id, "repeats.json"), json.dumps(result.repeated_puts).encode())
        stock_bit = 1 << SLOTS[OFFER_STOCK]
        self._save_seen(
            paths.staging(job_id, "stocked.jsonl.gz"),
            (
                e.partition(":")[2]
                for e, bits in result.seen.items()
                if e.startswith("offer:") and bits & stock_bit
            ),
        )
        counts = dict(result.counts)
        self.store.update_job(
            tenant,
            job_id,
            counts=counts,
            total_changes=total,
            applied=0,
            records_read=counts.get("records", 0),
            bytes_total=size,
            schema_version=result.schema_version,
            only_changes={k: v for k, v in result.only_changes.items() if v is not None},
        )
        job.counts, job.total_changes, job.applied = counts, total, 0
