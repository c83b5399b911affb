"""The import job: created by the protocol's `import` (or `deactivate`), advanced phase by phase by
the worker, shown by the journal. The one shape all three share (stored as a DynamoDB item)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

FINAL_STATUSES = ("done", "failed")
STALE_SECONDS = 300  # a running job with no heartbeat for this long: its worker died


@dataclass
class ImportJob:
    id: str  # `{area}#{filename}`, or `{session}#~deactivate#{timestamp}`
    kind: str = "import"  # import | deactivate
    status: str = "queued"  # queued | running | done | failed | stalled
    phase: str = "prepare"  # prepare | parse | apply | cards | done
    filename: str = ""
    area: str | None = None
    session: str = ""  # the 1C session token (its first 12 hex digits: checkauth time, ms)
    type: str = "catalog"
    since: int | None = None  # deactivate: checkauth's timestamp
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
    only_changes: dict[str, bool] = field(default_factory=dict)
    error: str | None = None
    last_error: str | None = None
    note: str | None = None
    skipped: list[str] = field(default_factory=list)  # records left out, and why (the first 20)
    notice: str | None = None  # told to 1C with this job's answer (a file a person skipped before it)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def silent_for(self, now: float) -> int:
        """Seconds since a running job last showed it was alive (0 when it is not running)."""
        beat = int(self.heartbeat_at or self.started_at or 0)
        return int(now - beat) if self.status == "running" and beat else 0

    @property
    def dead(self) -> bool:
        """Running, with no heartbeat for STALE_SECONDS: its worker died."""
        return self.silent_for(time.time()) > STALE_SECONDS

    @property
    def seconds(self) -> int | None:
        return self.finished_at - (self.started_at or self.finished_at) if self.finished_at else None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ImportJob:
        known = {f.name for f in fields(cls)} - {"id"}
        return cls(id=item["sk"], **{k: v for k, v in item.items() if k in known and v is not None})

    def to_item(self) -> dict[str, Any]:
        """What the store keeps (the key is the store's)."""
        return {k: v for k, v in asdict(self).items() if k != "id" and v is not None}
