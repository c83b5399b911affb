"""The import job: created by the protocol's `import` (or `deactivate`), advanced phase by phase by
the worker, shown by the journal. The one shape all three share (stored as a DynamoDB item).

A job changes only through its transitions below; each records which fields it changed, and the
store saves just those with a version condition (`ExchangeStore.save_job`), so two writers never
silently overwrite each other: the second gets `JobChanged`."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

STALE_SECONDS = 300  # a running job with no heartbeat for this long: its worker died


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STALLED = "stalled"


class Phase(StrEnum):
    PREPARE = "prepare"
    PARSE = "parse"
    APPLY = "apply"
    CARDS = "cards"
    DONE = "done"


class JobKind(StrEnum):
    IMPORT = "import"
    DEACTIVATE = "deactivate"
    CARDS = "cards"  # every card again (the shop's price type changed)
    OWED_CARDS = "owed_cards"  # the cards products-only files left, when no next file came (exchange/owed.py)


FINAL_STATUSES = (JobStatus.DONE, JobStatus.FAILED)
WRITING_PHASES = (Phase.APPLY, Phase.CARDS)  # the catalog is being written: never fail, stall


class JobChanged(Exception):
    """Someone else saved the job since it was read (the version moved): stop, read it again."""


def _now() -> int:
    return int(time.time())


@dataclass
class ImportJob:
    id: str  # `{area}#{filename}`, or `{session}#~deactivate#{timestamp}`
    kind: JobKind = JobKind.IMPORT
    status: JobStatus = JobStatus.QUEUED
    phase: Phase = Phase.PREPARE
    filename: str = ""
    area: str | None = None
    session: str = ""  # the 1C session token (its first 12 hex digits: checkauth time, ms)
    type: str = "catalog"
    since: int | None = None  # deactivate: checkauth's timestamp
    by_full_files: bool = False  # deactivate: the end of an exchange with full files (exchange/ends.py)
    created_at: int = 0
    started_at: int | None = None
    finished_at: int | None = None
    stalled_at: int | None = None
    heartbeat_at: int | None = None
    attempts: int = 0
    applied: int = 0  # staged changes written (the checkpoint)
    total_changes: int = 0
    cards_done: int = 0  # touched products whose cards were rebuilt (the cards checkpoint)
    records_read: int = 0
    bytes_total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    schema_version: str | None = None
    generated_at: str | None = None  # the file's ДатаФормирования (1C's local time, as written)
    only_changes: dict[str, bool] = field(default_factory=dict)
    full_kinds: list[str] = field(default_factory=list)  # what the file listed in full (product, …)
    error: str | None = None
    last_error: str | None = None
    note: str | None = None
    skipped: list[str] = field(default_factory=list)  # records left out, and why (the first 20)
    notice: str | None = None  # told to 1C with this job's answer (a file a person skipped before it)
    cards_left: bool = False  # its cards are built by a later job (exchange/owed.py)
    version: int = 0  # moved by every save; the store's condition
    changed: set[str] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.kind, self.status, self.phase = JobKind(self.kind), JobStatus(self.status), Phase(self.phase)

    # -- what it is -----------------------------------------------------------------------------
    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def writing(self) -> bool:
        return self.phase in WRITING_PHASES

    def silent_for(self, now: float) -> int:
        """Seconds since a running job last showed it was alive (0 when it is not running)."""
        beat = int(self.heartbeat_at or self.started_at or 0)
        return int(now - beat) if self.status == JobStatus.RUNNING and beat else 0

    @property
    def dead(self) -> bool:
        """Running, with no heartbeat for STALE_SECONDS: its worker died."""
        return self.silent_for(time.time()) > STALE_SECONDS

    @property
    def resumable(self) -> bool:
        return self.status == JobStatus.STALLED or self.dead

    @property
    def seconds(self) -> int | None:
        return self.finished_at - (self.started_at or self.finished_at) if self.finished_at else None

    # -- transitions ----------------------------------------------------------------------------
    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        self.changed.update(values)

    def start(self) -> None:
        if self.status in (JobStatus.QUEUED, JobStatus.STALLED):
            self._set(status=JobStatus.RUNNING, started_at=_now(), note="")

    def wait(self, why: str) -> None:
        self._set(note=why)

    def leave_cards(self, why: str) -> None:
        """Its cards are built by a later job (exchange/owed.py): said on the exchange's page."""
        self._set(note=why, cards_left=True)

    def beat(self) -> None:
        self._set(heartbeat_at=_now())

    def advance(self, phase: Phase) -> None:
        self._set(phase=phase)

    def read(self, records: int) -> None:
        self._set(records_read=records)

    def parsed(
        self,
        counts: dict[str, int],
        total_changes: int,
        bytes_total: int = 0,
        schema_version: str | None = None,
        only_changes: dict[str, bool] | None = None,
        full_kinds: list[str] | None = None,
        generated_at: str | None = None,
    ) -> None:
        """The file is read and its changes staged: the apply checkpoint starts at 0."""
        self._set(
            counts=counts, total_changes=total_changes, applied=0, records_read=counts.get("records", 0)
        )
        if bytes_total:
            self._set(bytes_total=bytes_total, schema_version=schema_version, only_changes=only_changes or {})
        if full_kinds:
            self._set(full_kinds=full_kinds)
        if generated_at:
            self._set(generated_at=generated_at)

    def count(self, counts: dict[str, int]) -> None:
        self._set(counts=counts)

    def checkpoint(self, applied: int) -> None:
        self._set(applied=applied)

    def left_out(self, records: list[str], shown: int, total: int | None = None) -> None:
        """Records left out (unreadable, or too large to store): named (the first `shown`) and
        counted (`total` of them when more were left out than named)."""
        self._set(
            skipped=[*self.skipped, *records][:shown],
            counts={**self.counts, "skipped": self.counts.get("skipped", 0) + (total or len(records))},
        )

    def cards_checkpoint(self, done: int) -> None:
        self._set(cards_done=done)

    def crashed(self, reason: str) -> int:
        """One more attempt failed unexpectedly; returns how many have."""
        self._set(attempts=self.attempts + 1, last_error=reason)
        return self.attempts

    def fail(self, reason: str) -> None:
        self._set(status=JobStatus.FAILED, error=reason, finished_at=_now())

    def stall(self, reason: str) -> None:
        self._set(status=JobStatus.STALLED, error=reason, stalled_at=_now())

    def resume(self, note: str | None = None) -> None:
        self._set(status=JobStatus.RUNNING, attempts=0)
        if note is not None:
            self._set(error="", note=note)

    def finish(self, counts: dict[str, int] | None = None, note: str | None = None) -> None:
        self._set(status=JobStatus.DONE, phase=Phase.DONE, finished_at=_now())
        if counts is not None:
            self._set(counts=counts)
        if note is not None:
            self._set(note=note)

    def tell(self, notice: str) -> None:
        self._set(notice=notice)

    def changes(self) -> dict[str, Any]:
        """The fields changed since the last save, as the store keeps them."""
        return {name: _plain(getattr(self, name)) for name in sorted(self.changed)}

    def saved(self) -> None:
        self.version += 1
        self.changed.clear()

    # -- storage --------------------------------------------------------------------------------
    @classmethod
    def from_item(cls, job_id: str, item: dict[str, Any]) -> ImportJob:
        known = {f.name for f in fields(cls)} - {"id", "changed"}
        return cls(id=job_id, **{k: v for k, v in item.items() if k in known and v is not None})

    def to_item(self) -> dict[str, Any]:
        """What the store keeps (the key is the store's)."""
        item = asdict(self)
        return {k: _plain(v) for k, v in item.items() if k not in ("id", "changed") and v is not None}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, StrEnum) else value
