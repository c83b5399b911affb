"""A deactivation's first step — `mode=deactivate`'s, or the end of an exchange that sent full
files (exchange/ends.py): once every file of the exchange is imported, stage the deactivation of
what no import since the exchange's checkauth listed (docs/protocol.md §4.4). Its changes then go
through the same apply and cards phases as an import's."""

from __future__ import annotations

import gzip
import os

from chalicelib.exchange.cards import Cards, TouchedProducts
from chalicelib.exchange.jobrun import JobRun, Step
from chalicelib.exchange.staging import Staging
from chalicelib.importjob import FINAL_STATUSES, ImportJob, JobKind, JobStatus
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.sync import staged
from chalicelib.sync.diff import Differ
from chalicelib.sync.records import DEACTIVATABLE


class PlanDeactivation:
    def __init__(self, store: ExchangeStore, blobs: Blobs, staging: Staging, cards: Cards) -> None:
        self.store, self.blobs, self.staging, self.cards = store, blobs, staging, cards

    def run(self, job: ImportJob, run: JobRun) -> Step:
        tenant, since = run.tenant, int(job.since or 0)
        imports = [j for j in self.store.jobs_since(tenant, since * 1000) if j.kind == JobKind.IMPORT]
        # The end of an exchange waits for its own files only: a later exchange is news of its own.
        own = [j for j in imports if j.session == job.session] if job.by_full_files else imports
        if any(j.status not in (*FINAL_STATUSES, JobStatus.STALLED) for j in own):
            job.wait("ждёт окончания загрузки файлов обмена")
            run.save(job)
            return Step.LATER
        broken = [j.filename for j in own if j.status != JobStatus.DONE]
        if broken:  # deactivating by absence after a failed file would switch off what it held
            job.finish(
                counts={"deactivated": 0}, note=f"деактивация пропущена: не загружены {', '.join(broken[:5])}"
            )
            run.save(job)
            return Step.END
        if job.by_full_files:
            # What the exchange's files listed — and any later exchange's (newer news), of the
            # kinds its full files covered.
            keep = self._listed_by(tenant, [j for j in imports if j.session >= job.session])
            full = {k for j in own for k in j.full_kinds}
            kinds = [k for k in DEACTIVATABLE if k in full]
        else:  # only kinds this run actually sent: offers-only runs never switch off products
            keep = self._listed_since(tenant, since)
            kinds = [k for k in DEACTIVATABLE if any(e.startswith(f"{k}:") for e in keep)]
        index = self.staging.tenant_index(tenant)
        changes = list(Differ(index).deactivate_all_but(keep, kinds))
        paths = Paths(tenant)
        lines = b"".join(staged.encode(c) for c in changes)
        self.blobs.put(paths.staging(job.id, "changes.jsonl.gz"), gzip.compress(lines))
        self.staging.save_index(paths.staging(job.id, "index.tsv.gz"), index)
        touched = TouchedProducts()
        for change in changes:
            touched.add(change)
        self.cards.stage_touched(tenant, job.id, touched)
        job.parsed({"deactivated": len(changes)}, len(changes))
        return Step.NEXT  # saved with the next phase

    def _listed_by(self, tenant: str, files: list[ImportJob]) -> set[str]:
        """Every entity these imports listed."""
        keep: set[str] = set()
        for file in files:
            keep.update(self.staging.values(Paths(tenant).seen(file.created_at, file.id)))
        return keep

    def _listed_since(self, tenant: str, since: int) -> set[str]:
        """Every entity the imports of this exchange listed."""
        keep: set[str] = set()
        paths = Paths(tenant)
        for key in self.blobs.keys(paths.seen_prefix):
            started = int(os.path.basename(key).split("-", 1)[0])
            if started >= since:
                keep.update(self.staging.values(key))
        return keep
