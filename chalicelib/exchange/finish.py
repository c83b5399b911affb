"""The last step of every job, once the catalog is written: the job's new index becomes the
tenant's; an import also keeps what its file listed (for `deactivate`), releases the holds 1C's
stock now covers and announces itself — each idempotent, so a finish repeated after a crash adds
nothing twice — and only then is the job marked done."""

from __future__ import annotations

import hashlib
import time
from typing import Protocol

from chalicelib.exchange.cards import Cards, TouchedProducts
from chalicelib.exchange.jobrun import JobRun, Step
from chalicelib.exchange.staging import Staging
from chalicelib.ids import SessionToken
from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.ports import Blobs, ExchangeStore, Outbox, UsageAdd
from chalicelib.values import BY_HAND


class HoldPort(Protocol):
    """What the worker needs of orders: holds of lines 1C took end when its stock is reported."""

    def taken_offers(self, tenant_id: str, before_ms: int) -> set[str]: ...
    def release_reported(self, tenant_id: str, offer_ids: set[str], before_ms: int) -> int: ...


class ExchangeEnd(Protocol):
    """What an import of a full file needs of its exchange's end (exchange/ends.py)."""

    def expect(self, tenant: str, full_file: ImportJob) -> None: ...


def exchange_began_ms(job: ImportJob) -> int:
    """When 1C began the exchange that sent a job's file (its session's checkauth)."""
    began = SessionToken(job.session).began_ms
    return job.created_at * 1000 if began is None else began


LAST_IMPORT = "last_import"  # epoch seconds of the tenant's latest finished catalog import


def event_id_for(job_id: str, started: int) -> str:
    """The `catalog.imported` event of a job: the same id however often the job finishes."""
    return f"{started * 1000:012x}{hashlib.sha256(job_id.encode()).hexdigest()[:12]}"


class PublishIndex:
    """Deactivation's finish: its index becomes the tenant's."""

    def __init__(self, blobs: Blobs) -> None:
        self.blobs = blobs

    def run(self, job: ImportJob, run: JobRun) -> Step:
        self.blobs.copy(Paths(run.tenant).staging(job.id, "index.tsv.gz"), Paths(run.tenant).index)
        job.finish()
        run.save(job)
        return Step.END


class StageTouched:
    """A rebuild's first step: every product's card is touched (`every`) — or none, for the job
    that builds only what earlier files left (exchange/owed.py)."""

    def __init__(self, cards: Cards, every: bool) -> None:
        self.cards, self.every = cards, every

    def run(self, job: ImportJob, run: JobRun) -> Step:
        self.cards.stage_touched(run.tenant, job.id, TouchedProducts(every=self.every))
        return Step.NEXT


class Done:
    """A rebuild's finish: nothing more to publish."""

    def run(self, job: ImportJob, run: JobRun) -> Step:
        job.finish()
        run.save(job)
        return Step.END


class Publish:
    """An import's finish."""

    def __init__(
        self,
        store: ExchangeStore,
        blobs: Blobs,
        staging: Staging,
        outbox: Outbox,
        holds: HoldPort | None,
        ends: ExchangeEnd,
        usage: UsageAdd | None = None,
    ) -> None:
        self.store, self.blobs, self.staging = store, blobs, staging
        self.outbox, self.holds, self.ends, self.usage = outbox, holds, ends, usage

    def run(self, job: ImportJob, run: JobRun) -> Step:
        tenant, paths = run.tenant, Paths(run.tenant)
        self.blobs.copy(paths.staging(job.id, "index.tsv.gz"), paths.index)
        started = job.created_at or int(time.time())
        self.blobs.copy(paths.staging(job.id, "seen.jsonl.gz"), paths.seen(started, job.id))
        self._release_reported_holds(tenant, job)
        self.store.set_pointer(tenant, LAST_IMPORT, str(int(time.time())))  # exchange/watch.py
        if job.full_kinds:
            self.ends.expect(tenant, job)
        counts = job.counts or {}
        if self.usage is not None:
            changed = sum(int(counts.get(k, 0)) for k in ("created", "updated", "deactivated"))
            self.usage.add(tenant, imports=1, records_changed=changed, bytes_uploaded=job.bytes_total)
        self.outbox.add(
            tenant,
            "catalog.imported",
            {"file": job.filename, "counts": counts, "schema_version": job.schema_version},
            event_id=event_id_for(job.id, started),
        )
        job.finish()
        run.save(job)
        if self.store.pointer(tenant, "stalled") == job.id:
            self.store.set_pointer(tenant, "stalled", "")
        for name in ("created", "updated", "deactivated"):
            metrics.add_metric(
                name=f"Catalog{name.title()}", unit=MetricUnit.Count, value=counts.get(name, 0)
            )
        logger.info("import done", extra={"file": job.filename, "counts": counts})
        return Step.END

    def _release_reported_holds(self, tenant: str, job: ImportJob) -> None:
        """Lines 1C took before this exchange began are in the stock it reports now."""
        if self.holds is None:
            return
        began_ms = exchange_began_ms(job)
        taken = self.holds.taken_offers(tenant, before_ms=began_ms)
        if not taken:
            return
        session = self.store.get_session(tenant, job.session) or {}
        if str(session.get("source", "")).startswith(BY_HAND):
            # A person's upload or replay may be an old file: its stock need not count what 1C
            # took since, so the holds wait for 1C's own next stock report.
            logger.info("holds kept: the stock came by hand", extra={"file": job.filename})
            return
        stocked = self.staging.values(Paths(tenant).staging(job.id, "stocked.jsonl.gz"))
        reported = {offer for offer in stocked if offer in taken}
        if reported:
            self.holds.release_reported(tenant, reported, before_ms=began_ms)
