"""The parse phase of an import: stream the file through the reader and the differ against the
tenant's index, staging the changes, the new index and what the file listed in S3 as gzip lines
(never whole in memory). Nothing is written to the catalog here."""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from chalicelib.commerceml.model import Property
from chalicelib.exchange.apply import MAX_SKIPPED_SHOWN
from chalicelib.exchange.cards import Cards, TouchedProducts
from chalicelib.exchange.jobrun import JobRun, Step
from chalicelib.exchange.prepare import Prepare, area_of
from chalicelib.exchange.staging import Staging
from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, Catalog
from chalicelib.sync import staged
from chalicelib.sync.diff import Deactivate, Put
from chalicelib.sync.plan import plan
from chalicelib.sync.records import OFFER_STOCK, SLOTS


class _LazyProperties(Mapping[str, Property]):
    """The tenant's properties, read only if a file refers to one its own classifier lacks."""

    def __init__(self, load: Callable[[], list[dict[str, Any]]]) -> None:
        self._load = load
        self._items: dict[str, Property] | None = None

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


class Parse:
    def __init__(
        self, blobs: Blobs, catalog: Catalog, staging: Staging, prepare: Prepare, cards: Cards
    ) -> None:
        self.blobs, self.catalog, self.staging = blobs, catalog, staging
        self.prepare, self.cards = prepare, cards

    def _properties(self, tenant: str) -> Mapping[str, Property]:
        return _LazyProperties(lambda: self.catalog.docs(tenant, "property"))

    def run(self, job: ImportJob, run: JobRun) -> Step:
        tenant, area = run.tenant, area_of(job)
        paths, job_id = Paths(tenant), job.id
        stream, size = self.prepare.open_file(tenant, area, job.filename)
        index = self.staging.tenant_index(tenant)
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
                job.read(records)
                run.beat(job)

            result = plan(
                stream,
                job.filename,
                index,
                self._properties(tenant),
                self.prepare.image_resolver(tenant),
                emit,
                progress,
                self.prepare.file_reader(tenant),
                self.prepare.image_sizes(tenant),
            )
            writer.close()
            spool.seek(0)
            self.blobs.upload(paths.staging(job_id, "changes.jsonl.gz"), spool)
        self.staging.save_index(paths.staging(job_id, "index.tsv.gz"), index)
        self.cards.stage_touched(tenant, job_id, touched)
        self.staging.save_values(paths.staging(job_id, "seen.jsonl.gz"), result.seen)
        self.staging.put_json(tenant, job_id, "repeats.json", result.repeated_puts)
        stock_bit = 1 << SLOTS[OFFER_STOCK]
        self.staging.save_values(
            paths.staging(job_id, "stocked.jsonl.gz"),
            (
                e.partition(":")[2]
                for e, bits in result.seen.items()
                if e.startswith("offer:") and bits & stock_bit
            ),
        )
        job.parsed(
            dict(result.counts),
            total,
            bytes_total=size,
            schema_version=result.schema_version,
            only_changes={k: v for k, v in result.only_changes.items() if v is not None},
            full_kinds=result.full_kinds,
            generated_at=result.generated_at or None,
        )
        if result.skipped_total:
            job.left_out(result.skipped, MAX_SKIPPED_SHOWN, result.skipped_total)
        return Step.NEXT  # the worker saves the counts with the next phase, in one write
