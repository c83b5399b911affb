"""The apply phase of an import: batch-write the staged changes from the checkpoint on, one
batch written while the next is built; the checkpoint moves only past batches whose writes all
succeeded, and every checkpoint renews the lease (the heartbeat)."""

from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.exchange.jobrun import JobRun, Step
from chalicelib.exchange.staging import OLD_PRICES, Staging
from chalicelib.importjob import ImportJob
from chalicelib.ports import Catalog
from chalicelib.sync import staged
from chalicelib.sync.cards import base_prices
from chalicelib.sync.diff import Change, Put
from chalicelib.sync.records import OFFER, OFFER_PRICES

CHECKPOINT_EVERY = 1000
MAX_SKIPPED_SHOWN = 20  # records named in the answer; all are counted
MAX_OLD_PRICES = 2000  # offers whose earlier prices the diff shows (as many as its products)


class Apply:
    def __init__(self, catalog: Catalog, staging: Staging) -> None:
        self.catalog, self.staging = catalog, staging

    def run(self, job: ImportJob, run: JobRun) -> Step:
        """Write the staged changes from the checkpoint on; AGAIN when time ran out first.

        One batch is written while the next is read and built; the checkpoint moves only past
        batches whose writes all succeeded."""
        tenant, applied = run.tenant, job.applied
        stamp_base = f"{int(time.time() * 1000):013d}"
        pending: list[Change] = []
        position = applied
        in_flight: tuple[Callable[[], None], int] | None = None
        skipped: list[str] = []

        def write_pending() -> None:
            nonlocal pending, in_flight
            self._keep_old_prices(tenant, job.id, pending, old_prices)
            first = position - len(pending)
            stamp = f"{stamp_base}{first:07d}"
            started = self.catalog.write_changes(tenant, pending, stamp, lambda e: skipped.append(str(e)))
            checkpoint()
            in_flight, pending = (started, position), []

        def checkpoint() -> None:
            nonlocal in_flight
            if in_flight is not None:
                wait, done = in_flight
                wait()
                if skipped:  # one record too large for an item: left out, counted, told to 1C
                    job.left_out(skipped, MAX_SKIPPED_SHOWN)
                    skipped.clear()
                job.checkpoint(done)
                in_flight = None
                run.beat(job)

        old_prices = {r[0]: r[1] for r in self.staging.small_values(tenant, job.id, OLD_PRICES)}
        repeats: dict[str, int] = self.staging.json(tenant, job.id, "repeats.json") or {}
        for n, change in enumerate(self.staging.changes(tenant, job.id), start=1):
            key = staged.record_key(change)
            if key in repeats:  # a record the file listed more than once: only its last Put
                repeats[key] -= 1
                if repeats[key] > 0:
                    continue
            if n <= applied:
                continue
            pending.append(change)
            position = n
            if len(pending) >= CHECKPOINT_EVERY:
                write_pending()
                if run.short_of_time():
                    checkpoint()
                    return Step.AGAIN
        if pending:
            write_pending()
        checkpoint()
        return Step.NEXT

    def _keep_old_prices(
        self, tenant: str, job_id: str, pending: list[Change], old_prices: dict[str, dict[str, str]]
    ) -> None:
        """Before a batch is written: the prices its offers had (the first MAX_OLD_PRICES offers
        that had any: a new offer's are read from nothing), so the diff shows each price type's
        old → new. Kept with the job: a resumed job reads them back; a batch written again after
        a crash shows what it found then."""
        room = MAX_OLD_PRICES - len(old_prices)
        wanted = [
            c.record.id for c in pending
            if isinstance(c, Put) and not c.created and c.record.kind == OFFER_PRICES and c.record.id not in old_prices
        ][: max(room, 0)]  # fmt: skip
        if not wanted:
            return
        members: dict[str, list[str]] = {}
        for offer in wanted:
            members.setdefault(offer.partition("#")[0], []).append(f"{OFFER}:{offer}")
        # eventually consistent: the prices were written by an earlier import, minutes ago at least
        states = self.catalog.states(tenant, members, consistent=False)
        for offer in wanted:
            state = states.get(offer.partition("#")[0])
            found = next((o for o in state.offers if o.id == offer), None) if state else None
            old_prices[offer] = base_prices(found.prices if found else [])
        self.staging.put_small_values(tenant, job_id, OLD_PRICES, list(old_prices.items()))
