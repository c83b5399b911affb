"""Cards a products-only file leaves to its exchange's next file.

1C sends a catalog exchange as `import.xml` (the products) and then `offers.xml` (their offers,
prices and stock; docs/protocol.md §4.1: products before offers). Building the cards of each file's touched products wrote every
changed card twice — its item, its four listing index entries and its history line: over a third
of a 1 %-changed exchange's writes. So a file that touched products and no offer builds no cards:
its job is recorded in the tenant's `cards_owed` pointer, and the next job's cards phase folds the
owed products into its own and writes each card once. When no file follows (an exchange of
`import.xml` alone, an `offers.xml` that failed), a queue message `cards_owed_seconds` later builds
them in a job of their own (`owed_cards`, shown in that exchange). Until then the shop is served
the cards it had: the last good catalog, never a half-made one. The pointer is written only by a
job's cards phase, under the tenant's import lease.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from chalicelib.exchange.jobrun import JobRun, Outcome
from chalicelib.exchange.staging import OLD_PRICES, Staging
from chalicelib.ids import JobId, SessionToken
from chalicelib.importjob import ImportJob, JobKind, JobStatus
from chalicelib.layout import Paths
from chalicelib.observability import logger
from chalicelib.ports import ExchangeStore, Queue
from chalicelib.sync.records import OFFER, OFFER_PRICES, OFFER_STOCK

OWED = "cards_owed"  # the pointer: [[job id, when its cards were left (ms)], …], oldest first
OWED_MESSAGE = "~cards-owed:"  # + the job that left them: the queue message's job (ImportWorker.run)
TOUCHED = "touched.jsonl.gz"
FOLDED = "owed-folded.json"  # the owed job ids a cards phase folded at its start
EVERY_PRODUCT = "*"  # a touched file's one row when every card may change (a group moved)
OFFER_KINDS = frozenset((OFFER, OFFER_PRICES, OFFER_STOCK))
MAX_OWED = 20  # products-only files in a row before one builds its cards anyway
MAX_WAIT_MS = 15 * 60_000  # owed cards wait no longer for a next file that is queued or running
RECHECK_SECONDS = 10
NOTE = "карточки товаров соберутся вместе со следующим файлом обмена"


class OwedCards:
    def __init__(
        self,
        store: ExchangeStore,
        staging: Staging,
        queue: Queue,
        wait_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.staging, self.queue = store, staging, queue
        self.wait_seconds, self.clock = wait_seconds, clock

    def owed(self, tenant: str) -> list[list[Any]]:
        try:
            rows = json.loads(self.store.pointer(tenant, OWED) or "[]")
        except ValueError:
            rows = []
        return [r for r in rows if isinstance(r, list) and len(r) == 2]

    def _save(self, tenant: str, rows: list[list[Any]]) -> None:
        self.store.set_pointer(tenant, OWED, json.dumps(rows, ensure_ascii=False) if rows else "")

    # -- a file's cards phase -------------------------------------------------------------------
    def defer(self, run: JobRun, job: ImportJob, touched: dict[str, set[str]]) -> bool:
        """Leave the job's cards to the next file: an import that touched products and no offer.
        True when left (the caller writes no card)."""
        if job.kind != JobKind.IMPORT or not touched or any(k & OFFER_KINDS for k in touched.values()):
            return False
        rows = self.owed(run.tenant)
        if job.id not in (r[0] for r in rows):
            if len(rows) >= MAX_OWED:
                return False
            self._save(run.tenant, [*rows, [job.id, int(self.clock() * 1000)]])
        self.queue.send({"tenant": run.tenant, "job": OWED_MESSAGE + job.id}, delay_seconds=self.wait_seconds)
        job.leave_cards(NOTE)
        logger.info("cards left to the next file", extra={"file": job.filename, "products": len(touched)})
        return True

    def fold(self, run: JobRun, job: ImportJob) -> list[str]:
        """Fold what the owed jobs touched (and the prices they found) into this job's staging, so
        its cards phase builds them too; a retry folds the same again. Returns the owed job ids,
        to `settle` once the cards are written. A phase resumed from its checkpoint folds nothing
        new (its products' order is its checkpoint's): it keeps what it folded at its start. A
        deactivation folds none: the exchange that ends before the next file begins (a 1C that
        opens a session a file) would build them early."""
        if job.kind == JobKind.DEACTIVATE:
            return []
        if job.cards_done:
            return list(self.staging.json(run.tenant, job.id, FOLDED) or [])
        ids = [str(r[0]) for r in self.owed(run.tenant) if r[0] != job.id]
        if not ids:
            return []
        paths, every = Paths(run.tenant), False
        touched: dict[str, set[str]] = {}
        for job_id in [*ids, job.id]:
            for row in self.staging.values(paths.staging(job_id, TOUCHED)):
                if row == EVERY_PRODUCT:
                    every = True
                elif isinstance(row, str):  # staged before kinds were kept
                    touched.setdefault(row, set())
                else:
                    touched.setdefault(row[0], set()).update(row[1])
        rows: list[Any] = [EVERY_PRODUCT] if every else [[i, sorted(touched[i])] for i in sorted(touched)]
        self.staging.save_values(paths.staging(job.id, TOUCHED), rows)
        before: dict[str, Any] = {}  # the earliest job's "was" is the price before the exchange
        for job_id in [*ids, job.id]:
            for offer, was in self.staging.small_values(run.tenant, job_id, OLD_PRICES):
                before.setdefault(offer, was)
        if before:
            self.staging.put_small_values(run.tenant, job.id, OLD_PRICES, [[o, w] for o, w in before.items()])
        self.staging.put_json(run.tenant, job.id, FOLDED, ids)
        logger.info("cards of earlier files built with these", extra={"file": job.filename, "owed": ids})
        return ids

    def settle(self, tenant: str, ids: list[str]) -> None:
        if ids:
            self._save(tenant, [r for r in self.owed(tenant) if r[0] not in ids])

    # -- the message `cards_owed_seconds` later -------------------------------------------------
    def on_message(self, tenant: str, message_job: str) -> Outcome:
        """The job's cards no longer owed (a next file built them): done — an earlier file's
        message never builds a later file's early. A next file queued or running: look again
        shortly. Else a job builds everything owed now."""
        left_by = message_job.removeprefix(OWED_MESSAGE)
        rows = self.owed(tenant)
        if left_by not in (r[0] for r in rows):
            return Outcome.SKIPPED
        first_id, left_ms = str(rows[0][0]), int(rows[0][1])
        first = self.store.get_job(tenant, first_id)
        waited = self.clock() * 1000 - left_ms
        if first is not None and waited < MAX_WAIT_MS and self._next_file_coming(tenant, first, rows):
            self.queue.send({"tenant": tenant, "job": message_job}, delay_seconds=RECHECK_SECONDS)
            return Outcome.DEFERRED
        session = first.session if first else ""
        job = ImportJob(
            str(JobId.owed_cards(session, f"{first_id}@{left_ms}")), kind=JobKind.OWED_CARDS,
            filename=f"(карточки товаров из {first.filename if first else first_id})", session=session,
            created_at=int(self.clock()),
        )  # fmt: skip
        if not self.store.create_job(tenant, job):
            made = self.store.get_job(tenant, job.id)
            if made is not None and made.final:  # it failed (its page says why): the next file folds them
                return Outcome.SKIPPED
        self.queue.send({"tenant": tenant, "job": job.id})
        return Outcome.DEFERRED

    def _next_file_coming(self, tenant: str, first: ImportJob, rows: list[list[Any]]) -> bool:
        """An import of the tenant queued or running since the owed one's exchange began: its
        cards phase will build the owed (a deactivation's would not)."""
        began = SessionToken(first.session).began_ms or first.created_at * 1000
        owed = {r[0] for r in rows}
        return any(
            j.id not in owed
            and j.kind == JobKind.IMPORT
            and j.status in (JobStatus.QUEUED, JobStatus.RUNNING)
            for j in self.store.jobs_since(tenant, began)
        )
