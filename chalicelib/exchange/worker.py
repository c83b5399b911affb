"""The import worker (SQS): prepare the upload area, plan the changes, apply them, resumably.

A job goes through phases, each recorded on the job item so a redelivered message resumes:
  prepare  expand zips and store images by content hash (once per upload area)
  parse    stream the file through the reader and the differ; changes are staged in S3
  apply    batch-write the staged changes, checkpointing how many were written
  done     the new index becomes the tenant's; the journal gets the counts
One tenant imports one file at a time (a lease); tenants run in parallel.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from chalicelib.commerceml import CommerceMLError
from chalicelib.exchange import archive
from chalicelib.exchange.apply import ApplyChanges
from chalicelib.exchange.cards import PriceTypeOf, TouchedProducts
from chalicelib.exchange.filenames import is_zip
from chalicelib.exchange.parse import ParseFile
from chalicelib.exchange.prepare import ImportRefused
from chalicelib.exchange.skips import Skips
from chalicelib.exchange.zipfiles import ZipRefused
from chalicelib.importjob import FINAL_STATUSES, ImportJob
from chalicelib.layout import Paths
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.ports import Blobs, Catalog, ExchangeStore, ItemTooLarge, Outbox, Queue
from chalicelib.settings import Settings
from chalicelib.sync import staged
from chalicelib.sync.diff import Differ
from chalicelib.sync.records import DEACTIVATABLE

LEASE_SECONDS = 120  # renewed at every checkpoint: a killed worker frees the tenant within minutes
MAX_ATTEMPTS = 3


class LeaseLost(Exception):
    """Another invocation took the tenant's lease (ours expired): stop without writing more."""


class HoldPort(Protocol):
    """What the worker needs of orders: holds of lines 1C took end when its stock is reported."""

    def taken_offers(self, tenant_id: str, before_ms: int) -> set[str]: ...
    def release_reported(self, tenant_id: str, offer_ids: set[str], before_ms: int) -> int: ...


def exchange_began_ms(job: ImportJob) -> int:
    """When 1C began the exchange that sent a job's file: its session token starts with the
    checkauth time in hex milliseconds."""
    try:
        return int(str(job.session or "")[:12], 16)
    except ValueError:
        return job.created_at * 1000


def event_id_for(job_id: str, started: int) -> str:
    """The `catalog.imported` event of a job: the same id however often the job finishes."""
    return f"{started * 1000:012x}{hashlib.sha256(job_id.encode()).hexdigest()[:12]}"


def _describe(exc: Exception) -> str:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return f"{type(exc).__name__}{': ' + code if code else ''}"


class ImportWorker(ParseFile, ApplyChanges):
    def __init__(
        self,
        store: ExchangeStore,
        blobs: Blobs,
        catalog: Catalog,
        queue: Queue,
        settings: Settings,
        outbox: Outbox,
        holds: HoldPort | None = None,
        price_type_of: PriceTypeOf | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.catalog = catalog
        self.queue = queue
        self.settings = settings
        self.outbox = outbox
        self.holds = holds
        self.price_type_of = price_type_of
        self.skips = Skips(store, blobs)

    # -- entry point ----------------------------------------------------------------------------
    def run(self, tenant: str, job_id: str, remaining_ms: Callable[[], int]) -> str:
        """Process one job message. Returns what happened: done, failed, stalled, deferred,
        busy, skipped."""
        job = self.store.get_job(tenant, job_id)
        if job is None or job.status in FINAL_STATUSES:
            return "skipped"
        # The lease belongs to this invocation, so a duplicate delivery of the same job waits.
        owner = f"{job_id}@{uuid.uuid4().hex}"
        if not self.store.acquire_lease(tenant, owner, LEASE_SECONDS):
            self.store.update_job(tenant, job_id, note="ждёт окончания предыдущей загрузки")
            self.queue.send({"tenant": tenant, "job": job_id}, delay_seconds=10)
            return "busy"
        logger.append_keys(tenant=tenant, job=job_id)
        beat = functools.partial(self._beat, tenant, owner, job_id)
        try:
            self.skips.tell(tenant, job)
            blocker = self._resume_stalled(tenant, job_id, remaining_ms, beat)
            if blocker:
                self.fail(tenant, job, blocker)
                return "failed"
            return self.attempt(tenant, job, remaining_ms, beat)
        except LeaseLost:
            logger.warning("import lease lost; another invocation goes on")
            return "busy"
        finally:
            self.store.release_lease(tenant, owner)
            logger.remove_keys(["job"])

    def attempt(
        self, tenant: str, job: ImportJob, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str:
        job_id = job.id
        try:
            return self._run(tenant, job, remaining_ms, beat)
        except (CommerceMLError, ZipRefused, ImportRefused) as exc:
            self.fail(tenant, job, str(exc))
            return "failed"
        except LeaseLost:
            raise
        except ItemTooLarge as exc:  # the same item again on every retry: stall now, say which
            return self.give_up(tenant, job, str(exc))
        except Exception as exc:
            attempts = job.attempts + 1
            job.attempts = attempts
            self.store.update_job(tenant, job_id, attempts=attempts, last_error=_describe(exc))
            logger.exception("import job crashed", extra={"attempt": attempts})
            if attempts >= MAX_ATTEMPTS:
                return self.give_up(tenant, job, f"повторяющийся сбой ({_describe(exc)})")
            raise

    def _beat(self, tenant: str, owner: str, job_id: str) -> None:
        """Renew the lease and show the job alive; a lease taken over means stop now."""
        if not self.store.renew_lease(tenant, owner, LEASE_SECONDS):
            raise LeaseLost(job_id)
        self.store.update_job(tenant, job_id, heartbeat_at=int(time.time()))

    def stall(self, tenant: str, job: ImportJob, reason: str) -> None:
        """A job that ran out of retries: shown as stalled, resumed by `exchanges resume` or by
        the tenant's next import before it starts (so imports apply in order, never mixed)."""
        text = (
            f"{(job.filename or '')}: загрузка прервана — {reason}. Записанное сохранится и "
            "будет дописано при следующем обмене или командой exchanges resume"
        )
        logger.error("import stalled", extra={"reason": reason, "file": job.filename})
        metrics.add_metric(name="ImportStalled", unit=MetricUnit.Count, value=1)
        self.store.update_job(tenant, job.id, status="stalled", error=text, stalled_at=int(time.time()))
        self.store.set_pointer(tenant, "stalled", job.id)

    def dead_letter(self, tenant: str, job_id: str) -> str:
        job = self.store.get_job(tenant, job_id)
        if job is None or job.status in (*FINAL_STATUSES, "stalled"):
            return "skipped"
        return self.give_up(
            tenant,
            job,
            "обработчик загрузки останавливался несколько раз подряд (нехватка памяти или времени)",
        )

    def give_up(self, tenant: str, job: ImportJob, reason: str) -> str:
        """Out of retries: before any write the job simply failed (the catalog is untouched);
        once writing began it stalls, to be finished, never left half applied."""
        current = self.store.get_job(tenant, job.id) or job
        if current.phase not in ("apply", "cards"):
            self.fail(
                tenant,
                job,
                f"{(job.filename or '')}: внутренняя ошибка сервера при загрузке — {reason}; повторите обмен",
            )
            return "failed"
        self.stall(tenant, job, reason)
        return "stalled"

    def resume(self, tenant: str, job_id: str) -> bool:
        """Queue a stalled job again from where it stopped — or a running one whose worker died
        (no heartbeat for importjob.STALE_SECONDS). A queued or live job is left alone: resuming it would
        reset its attempts and send a second message, so a crashing job could retry forever."""
        job = self.store.get_job(tenant, job_id)
        if job is None or not (job.status == "stalled" or job.dead):
            return False
        self.store.update_job(tenant, job_id, status="running", attempts=0, error="", note="возобновлена")
        self.queue.send({"tenant": tenant, "job": job_id})
        return True

    def skip(self, tenant: str, job_id: str, who: str) -> bool:
        """«Пропустить файл»: see `Skips.skip`."""
        return self.skips.skip(tenant, job_id, who)

    def _resume_stalled(
        self, tenant: str, job_id: str, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str | None:
        """Finish the tenant's stalled job first (imports apply in order, never interleaved).
        Returns why this job cannot start when the stalled one is still stuck, else None."""
        stalled_id = self.store.pointer(tenant, "stalled")
        if not stalled_id or stalled_id == job_id:
            return None
        stalled = self.store.get_job(tenant, stalled_id)
        if stalled is None or stalled.status in FINAL_STATUSES:
            self.store.set_pointer(tenant, "stalled", "")
            return None
        logger.info("resuming a stalled import first", extra={"stalled": stalled_id})
        stalled.attempts = 0
        self.store.update_job(tenant, stalled_id, status="running", attempts=0)
        try:
            outcome = self.attempt(tenant, stalled, remaining_ms, beat)
        except LeaseLost:
            raise
        except Exception as exc:
            outcome = _describe(exc)
        if outcome in FINAL_STATUSES:
            return None
        self.store.update_job(tenant, stalled_id, status="stalled")
        return (
            f"предыдущая загрузка {(stalled.filename or '')} прервана и пока не дописана ({outcome}); "
            "эта загрузка не начата, чтобы не смешать данные — повторите обмен позже"
        )

    def _run(
        self, tenant: str, job: ImportJob, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str:
        job_id = job.id
        if job.status in ("queued", "stalled"):
            job.status = "running"
            self.store.update_job(tenant, job_id, status="running", started_at=int(time.time()), note="")
        if job.kind == "deactivate":
            return self._deactivate(tenant, job, remaining_ms, beat)
        if job.kind == "cards":
            return self._rebuild(tenant, job, remaining_ms, beat)
        if is_zip(job.filename):
            return archive.walk(self, tenant, job, remaining_ms, beat)
        phase = job.phase or "prepare"
        if phase == "prepare":
            self.prepare_area(tenant, job.area)
            phase = self._phase(tenant, job, "parse")
        if phase == "parse":
            self._parse(tenant, job, beat)
            phase = self._phase(tenant, job, "apply")
        if phase == "apply":
            if not self._apply(tenant, job, remaining_ms, beat):
                self.queue.send({"tenant": tenant, "job": job_id})
                return "deferred"
            phase = self._phase(tenant, job, "cards")
        if phase == "cards" and not self._cards(tenant, job, remaining_ms, beat):
            self.queue.send({"tenant": tenant, "job": job_id})
            return "deferred"
        self._finish(tenant, job)
        return "done"

    def _phase(self, tenant: str, job: ImportJob, phase: str) -> str:
        logger.info("import step", extra={"file": job.filename, "phase": phase})
        job.phase = phase
        self.store.update_job(tenant, job.id, phase=phase)
        return phase

    def fail(self, tenant: str, job: ImportJob, reason: str) -> None:
        logger.warning("import failed", extra={"reason": reason, "file": job.filename})
        metrics.add_metric(name="ImportFailed", unit=MetricUnit.Count, value=1)
        self.store.update_job(tenant, job.id, status="failed", error=reason, finished_at=int(time.time()))

    # -- finish ---------------------------------------------------------------------------------
    def _finish(self, tenant: str, job: ImportJob) -> None:
        """Make the new index the tenant's, release holds 1C's stock now covers, announce the
        import (an event id derived from the job: a repeated finish adds no second event), and
        only then mark the job done."""
        paths, job_id = Paths(tenant), job.id
        self.blobs.copy(paths.staging(job_id, "index.tsv.gz"), paths.index)
        started = job.created_at or int(time.time())
        self.blobs.copy(paths.staging(job_id, "seen.jsonl.gz"), paths.seen(started, job_id))
        self._release_reported_holds(tenant, job)
        counts = job.counts or {}
        self.outbox.add(
            tenant,
            "catalog.imported",
            {"file": job.filename, "counts": counts, "schema_version": job.schema_version},
            event_id=event_id_for(job_id, started),
        )
        self.store.update_job(tenant, job_id, status="done", phase="done", finished_at=int(time.time()))
        if self.store.pointer(tenant, "stalled") == job_id:
            self.store.set_pointer(tenant, "stalled", "")
        for name in ("created", "updated", "deactivated"):
            metrics.add_metric(
                name=f"Catalog{name.title()}", unit=MetricUnit.Count, value=counts.get(name, 0)
            )
        logger.info("import done", extra={"file": job.filename, "counts": counts})

    def _release_reported_holds(self, tenant: str, job: ImportJob) -> None:
        """Lines 1C took before this exchange began are in the stock it reports now."""
        if self.holds is None:
            return
        began_ms = exchange_began_ms(job)
        taken = self.holds.taken_offers(tenant, before_ms=began_ms)
        key = Paths(tenant).staging(job.id, "stocked.jsonl.gz")
        if not taken or self.blobs.size(key) is None:
            return
        reported = {o for o in (json.loads(line) for line in self._read_lines(key)) if o in taken}
        if reported:
            self.holds.release_reported(tenant, reported, before_ms=began_ms)

    # -- every card again (the shop's price type changed) ------------------------------------------
    def queue_rebuild(self, tenant: str, reason: str) -> str:
        """Rebuild every card and facet of the tenant from the stored catalog, in the worker."""
        job = ImportJob(
            f"~cards#{int(time.time() * 1000)}", kind="cards", filename="(карточки товаров)",
            note=reason, created_at=int(time.time()),
        )  # fmt: skip
        self.store.create_job(tenant, job)
        self.queue.send({"tenant": tenant, "job": job.id})
        return job.id

    def _rebuild(
        self, tenant: str, job: ImportJob, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str:
        if job.phase != "cards":
            self._stage_touched(tenant, job.id, TouchedProducts(every=True))
            self._phase(tenant, job, "cards")
        if not self._cards(tenant, job, remaining_ms, beat):
            self.queue.send({"tenant": tenant, "job": job.id})
            return "deferred"
        self.store.update_job(tenant, job.id, status="done", phase="done", finished_at=int(time.time()))
        return "done"

    # -- mode=deactivate ------------------------------------------------------------------------
    def _deactivate(
        self, tenant: str, job: ImportJob, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str:
        """Deactivate what no import since the checkauth timestamp listed (protocol §4.4)."""
        paths, job_id = Paths(tenant), job.id
        if job.phase not in ("apply", "cards"):
            since = int(job.since)
            imports = [j for j in self.store.jobs_since(tenant, since * 1000) if j.kind == "import"]
            if any(j.status not in (*FINAL_STATUSES, "stalled") for j in imports):
                self.store.update_job(tenant, job_id, note="ждёт окончания загрузки файлов обмена")
                self.queue.send({"tenant": tenant, "job": job_id}, delay_seconds=10)
                return "deferred"
            broken = [(j.filename or "") for j in imports if j.status != "done"]
            if broken:  # deactivating by absence after a failed file would switch off what it held
                note = f"деактивация пропущена: не загружены {', '.join(broken[:5])}"
                self.store.update_job(
                    tenant, job_id, status="done", phase="done", counts={"deactivated": 0}, note=note
                )
                return "done"
            keep: set[str] = set()
            for key in self.blobs.keys(paths.seen_prefix):
                started = int(os.path.basename(key).split("-", 1)[0])
                if started >= since:
                    keep.update(json.loads(line) for line in self._read_lines(key))
            # Only kinds this run actually sent: offers-only runs never switch off products.
            kinds = [k for k in DEACTIVATABLE if any(e.startswith(f"{k}:") for e in keep)]
            index = self.load_index(tenant)
            differ = Differ(index)
            changes = list(differ.deactivate_all_but(keep, kinds))
            lines = b"".join(staged.encode(c) for c in changes)
            self.blobs.put(paths.staging(job_id, "changes.jsonl.gz"), gzip.compress(lines))
            self._save_index(paths.staging(job_id, "index.tsv.gz"), index)
            touched = TouchedProducts()
            for change in changes:
                touched.add(change)
            self._stage_touched(tenant, job_id, touched)
            counts = {"deactivated": len(changes)}
            self.store.update_job(
                tenant, job_id, phase="apply", counts=counts, total_changes=len(changes), applied=0
            )
            job.phase, job.counts, job.applied = "apply", counts, 0
        if job.phase == "apply":
            if not self._apply(tenant, job, remaining_ms, beat):
                self.queue.send({"tenant": tenant, "job": job_id})
                return "deferred"
            self._phase(tenant, job, "cards")
        if not self._cards(tenant, job, remaining_ms, beat):
            self.queue.send({"tenant": tenant, "job": job_id})
            return "deferred"
        self.blobs.copy(paths.staging(job_id, "index.tsv.gz"), paths.index)
        self.store.update_job(tenant, job_id, status="done", phase="done", finished_at=int(time.time()))
        return "done"
