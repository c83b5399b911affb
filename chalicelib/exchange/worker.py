"""The import worker (SQS): prepare the upload area, plan the changes, apply them, resumably.

A job goes through phases, each recorded on the job item so a redelivered message resumes:
  prepare  expand zips and store images by content hash (once per upload area)
  parse    stream the file through the reader and the differ; changes are staged in S3
  apply    batch-write the staged changes, checkpointing how many were written
  cards    rebuild the cards and facets of the products the changes touched
  done     the new index becomes the tenant's; the journal gets the counts
Each phase is an object with explicit collaborators (`PhaseStep`); the worker only walks the job's
table of phases. One tenant imports one file at a time (a lease); tenants run in parallel.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable

from chalicelib.commerceml import CommerceMLError
from chalicelib.exchange import archive
from chalicelib.exchange.apply import Apply
from chalicelib.exchange.cards import Cards, PriceTypeOf
from chalicelib.exchange.deactivation import PlanDeactivation
from chalicelib.exchange.ends import ExchangeEnds
from chalicelib.exchange.filenames import is_zip
from chalicelib.exchange.finish import Done, HoldPort, Publish, PublishIndex, StageTouched
from chalicelib.exchange.jobrun import LEASE_SECONDS, JobRun, LeaseLost, Outcome, PhaseStep, Step
from chalicelib.exchange.owed import OWED_MESSAGE, OwedCards
from chalicelib.exchange.parse import Parse
from chalicelib.exchange.prepare import ImportRefused, Prepare
from chalicelib.exchange.skips import Skips
from chalicelib.exchange.staging import Staging
from chalicelib.exchange.watch import ExchangeWatch
from chalicelib.exchange.zipfiles import ZipRefused
from chalicelib.ids import JobId
from chalicelib.importjob import ImportJob, JobChanged, JobKind, JobStatus, Phase
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.ports import Blobs, Catalog, ExchangeStore, ItemTooLarge, Outbox, Queue, UsageAdd
from chalicelib.settings import Settings

MAX_ATTEMPTS = 3
WAIT_SECONDS = 10
WAITING = "ждёт окончания предыдущей загрузки"


def _describe(exc: Exception) -> str:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return f"{type(exc).__name__}{': ' + code if code else ''}"


class ImportWorker:
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
        usage: UsageAdd | None = None,
        catalog_written: Callable[[str], None] | None = None,
    ) -> None:
        self.store, self.queue, self.usage = store, queue, usage
        self.catalog_written = catalog_written
        self.watch = ExchangeWatch(store, outbox)
        staging = Staging(blobs)
        self.prepare = Prepare(store, blobs, settings)
        self.owed = OwedCards(store, staging, queue, settings.cards_owed_seconds)
        self.cards = Cards(blobs, catalog, staging, price_type_of, self.owed)
        self.skips = Skips(store, staging)
        apply = Apply(catalog, staging)
        self.phases: dict[JobKind, list[tuple[Phase, PhaseStep]]] = {
            JobKind.IMPORT: [
                (Phase.PREPARE, self.prepare),
                (Phase.PARSE, Parse(blobs, catalog, staging, self.prepare, self.cards)),
                (Phase.APPLY, apply),
                (Phase.CARDS, self.cards),
                (
                    Phase.DONE,
                    Publish(store, blobs, staging, outbox, holds, ExchangeEnds(store, queue), usage),
                ),
            ],
            JobKind.DEACTIVATE: [
                (Phase.PREPARE, PlanDeactivation(store, blobs, staging, self.cards)),
                (Phase.APPLY, apply),
                (Phase.CARDS, self.cards),
                (Phase.DONE, PublishIndex(blobs)),
            ],
            JobKind.CARDS: [
                (Phase.PREPARE, StageTouched(self.cards, every=True)),
                (Phase.CARDS, self.cards),
                (Phase.DONE, Done()),
            ],
            JobKind.OWED_CARDS: [
                (Phase.PREPARE, StageTouched(self.cards, every=False)),
                (Phase.CARDS, self.cards),
                (Phase.DONE, Done()),
            ],
        }

    # -- entry point ----------------------------------------------------------------------------
    def run(self, tenant: str, job_id: str, remaining_ms: Callable[[], int]) -> Outcome:
        """Process one job message (or the message that builds the cards earlier files left)."""
        if job_id.startswith(OWED_MESSAGE):
            return self.owed.on_message(tenant, job_id)
        job = self.store.get_job(tenant, job_id)
        if job is None or job.final:
            return Outcome.SKIPPED
        # The lease belongs to this invocation, so a duplicate delivery of the same job waits.
        owner = f"{job_id}@{uuid.uuid4().hex}"
        if not self.store.acquire_lease(tenant, owner, LEASE_SECONDS):
            self._wait_for_lease(tenant, job)
            return Outcome.BUSY
        logger.append_keys(tenant=tenant, job=job_id)
        run = JobRun(tenant, self.store, owner, remaining_ms)
        try:
            self.skips.tell(run, job)
            blocker = self._resume_stalled(run, job)
            if blocker:
                self.fail(run, job, blocker)
                return Outcome.FAILED
            return self.attempt(run, job)
        except (LeaseLost, JobChanged) as exc:
            logger.warning(
                "import stopped: another invocation or a person changed it", extra={"why": repr(exc)}
            )
            self.queue.send({"tenant": tenant, "job": job_id}, delay_seconds=WAIT_SECONDS)
            return Outcome.BUSY
        finally:
            self._catalog_written(tenant)
            self.store.release_lease(tenant, owner)
            logger.remove_keys(["job"])

    def _catalog_written(self, tenant: str) -> None:
        """Whatever the step did (wrote, failed half-way, was deferred), the tenant's catalog version
        moves on, so the shop API's cached answers of it are not served again."""
        if self.catalog_written is None:
            return
        try:
            self.catalog_written(tenant)
        except Exception:  # the answer cache's entries still end at their MAX_LIFE
            logger.exception("the catalog version was not recorded")

    def _wait_for_lease(self, tenant: str, job: ImportJob) -> None:
        """Another import of the tenant runs: this message comes back later. A queued job says
        why it waits (a job being run by a duplicate delivery is left alone)."""
        if job.status == JobStatus.QUEUED and job.note != WAITING:
            job.wait(WAITING)
            with contextlib.suppress(JobChanged):  # it started meanwhile
                self.store.save_job(tenant, job)
        self.queue.send({"tenant": tenant, "job": job.id}, delay_seconds=WAIT_SECONDS)

    def attempt(self, run: JobRun, job: ImportJob) -> Outcome:
        try:
            return self._walk(run, job)
        except (CommerceMLError, ZipRefused, ImportRefused) as exc:
            self.fail(run, job, str(exc))
            return Outcome.FAILED
        except (LeaseLost, JobChanged):
            raise
        except ItemTooLarge as exc:  # the same item again on every retry: stall now, say which
            return self.give_up(run, job, str(exc))
        except Exception as exc:
            attempts = job.crashed(_describe(exc))
            run.save(job)
            logger.exception("import job crashed", extra={"attempt": attempts})
            if attempts >= MAX_ATTEMPTS:
                return self.give_up(run, job, f"повторяющийся сбой ({_describe(exc)})")
            raise

    def _walk(self, run: JobRun, job: ImportJob) -> Outcome:
        """Run the job's phases from the one it stopped at."""
        job.start()
        run.save(job)
        if is_zip(job.filename) and job.kind == JobKind.IMPORT:
            return archive.walk(self, run, job)
        steps = self.phases[job.kind]
        phases = [phase for phase, _ in steps]
        first = phases.index(job.phase) if job.phase in phases else 0
        for n in range(first, len(steps)):
            result = steps[n][1].run(job, run)
            if result is Step.END:
                return Outcome.DONE if job.status == "done" else Outcome.FAILED
            if result is not Step.NEXT:
                delay = WAIT_SECONDS if result is Step.LATER else 0
                self.queue.send({"tenant": run.tenant, "job": job.id}, delay_seconds=delay)
                return Outcome.DEFERRED
            if n + 1 < len(steps):
                logger.info("import step", extra={"file": job.filename, "phase": str(phases[n + 1])})
                job.advance(phases[n + 1])
                run.save(job)
        return Outcome.DONE

    def stall(self, run: JobRun, job: ImportJob, reason: str) -> None:
        """A job that ran out of retries: shown as stalled, resumed by `exchanges resume` or by
        the tenant's next import before it starts (so imports apply in order, never mixed)."""
        text = (
            f"{job.filename}: загрузка прервана — {reason}. Записанное сохранится и "
            "будет дописано при следующем обмене или командой exchanges resume"
        )
        logger.error("import stalled", extra={"reason": reason, "file": job.filename})
        metrics.add_metric(name="ImportStalled", unit=MetricUnit.Count, value=1)
        job.stall(text)
        run.save(job)
        self.store.set_pointer(run.tenant, "stalled", job.id)

    def dead_letter(self, tenant: str, job_id: str) -> Outcome:
        job = self.store.get_job(tenant, job_id)
        if job is None or job.final or job.status == "stalled":
            return Outcome.SKIPPED
        run = JobRun(tenant, self.store, "dead-letter", lambda: 0)
        return self.give_up(
            run,
            job,
            "обработчик загрузки останавливался несколько раз подряд (нехватка памяти или времени)",
        )

    def give_up(self, run: JobRun, job: ImportJob, reason: str) -> Outcome:
        """Out of retries: before any write the job simply failed (the catalog is untouched);
        once writing began it stalls, to be finished, never left half applied."""
        current = self.store.get_job(run.tenant, job.id) or job
        if not current.writing:
            self.fail(
                run,
                current,
                f"{job.filename}: внутренняя ошибка сервера при загрузке — {reason}; повторите обмен",
            )
            return Outcome.FAILED
        self.stall(run, current, reason)
        return Outcome.STALLED

    def resume(self, tenant: str, job_id: str) -> bool:
        """Queue a stalled job again from where it stopped — or a running one whose worker died
        (no heartbeat for importjob.STALE_SECONDS). A queued or live job is left alone: resuming it
        would reset its attempts and send a second message, so a crashing job could retry forever."""
        job = self.store.get_job(tenant, job_id)
        if job is None or not job.resumable:
            return False
        job.resume(note="возобновлена")
        try:
            self.store.save_job(tenant, job)
        except JobChanged:
            return False
        self.queue.send({"tenant": tenant, "job": job_id})
        return True

    def skip(self, tenant: str, job_id: str, who: str) -> bool:
        """«Пропустить файл»: see `Skips.skip`."""
        return self.skips.skip(tenant, job_id, who)

    def _resume_stalled(self, run: JobRun, job: ImportJob) -> str | None:
        """Finish the tenant's stalled job first (imports apply in order, never interleaved).
        Returns why this job cannot start when the stalled one is still stuck, else None."""
        tenant = run.tenant
        stalled_id = self.store.pointer(tenant, "stalled")
        if not stalled_id or stalled_id == job.id:
            return None
        stalled = self.store.get_job(tenant, stalled_id)
        if stalled is None or stalled.final:
            self.store.set_pointer(tenant, "stalled", "")
            return None
        logger.info("resuming a stalled import first", extra={"stalled": stalled_id})
        stalled.resume()
        run.save(stalled)
        try:
            outcome = str(self.attempt(run, stalled))
        except (LeaseLost, JobChanged):
            raise
        except Exception as exc:
            outcome = _describe(exc)
        if outcome in (Outcome.DONE, Outcome.FAILED):
            return None
        current = self.store.get_job(tenant, stalled_id) or stalled
        if current.status != JobStatus.STALLED:
            current.stall(current.error or outcome)
            run.save(current)
        return (
            f"предыдущая загрузка {stalled.filename} прервана и пока не дописана ({outcome}); "
            "эта загрузка не начата, чтобы не смешать данные — повторите обмен позже"
        )

    def fail(self, run: JobRun, job: ImportJob, reason: str) -> None:
        logger.warning("import failed", extra={"reason": reason, "file": job.filename})
        metrics.add_metric(name="ImportFailed", unit=MetricUnit.Count, value=1)
        job.fail(reason)
        run.save(job)
        if self.usage is not None and job.kind == JobKind.IMPORT:
            self.usage.add(run.tenant, imports_failed=1)
        if self.watch.failed(run.tenant, job):
            logger.info("owner told: two imports in a row failed", extra={"file": job.filename})

    def queue_rebuild(self, tenant: str, reason: str) -> str:
        """Rebuild every card and facet of the tenant from the stored catalog, in the worker."""
        job = ImportJob(
            str(JobId.rebuild()), kind=JobKind.CARDS, filename="(карточки товаров)",
            note=reason, created_at=int(time.time()),
        )  # fmt: skip
        self.store.create_job(tenant, job)
        self.queue.send({"tenant": tenant, "job": job.id})
        return job.id
