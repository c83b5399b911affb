"""One invocation's hold on a tenant's imports, handed to every phase: it saves the job, renews the
tenant's lease (the heartbeat) and knows how much of the invocation's time is left. And what a
phase answers the worker (`Step`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Protocol

from chalicelib.importjob import ImportJob
from chalicelib.ports import ExchangeStore

LEASE_SECONDS = 120  # renewed at every checkpoint: a killed worker frees the tenant within minutes
SAFETY_SECONDS = 30  # stop writing this long before the invocation's time runs out


class LeaseLost(Exception):
    """Another invocation took the tenant's lease (ours expired): stop without writing more."""


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    STALLED = "stalled"
    DEFERRED = "deferred"  # goes on in a new message
    BUSY = "busy"  # the tenant's lease is another invocation's: the message comes back later
    SKIPPED = "skipped"  # nothing to do (a finished job, a repeated message)


class Step(Enum):
    NEXT = "next"  # the phase is complete: on to the next
    AGAIN = "again"  # time ran out: the job goes on from its checkpoint in a new message
    LATER = "later"  # waiting for something else: look again in a few seconds
    END = "end"  # the phase ended the job (finished or failed it)


class PhaseStep(Protocol):
    def run(self, job: ImportJob, run: JobRun) -> Step: ...


@dataclass
class JobRun:
    tenant: str
    store: ExchangeStore
    owner: str
    remaining_ms: Callable[[], int]

    def save(self, job: ImportJob) -> None:
        self.store.save_job(self.tenant, job)

    def beat(self, job: ImportJob) -> None:
        """Renew the lease and show the job alive; a lease taken over means stop now."""
        if not self.store.renew_lease(self.tenant, self.owner, LEASE_SECONDS):
            raise LeaseLost(job.id)
        job.beat()
        self.save(job)

    def short_of_time(self) -> bool:
        return self.remaining_ms() < SAFETY_SECONDS * 1000
