"""The operator's home: one line per shop — its last catalog exchange (when, how), orders 1C has
not taken for over an hour, webhook events given up — worst first. Pure: the console reads the
stores and hands them here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.importjob import ImportJob, JobKind, JobStatus
from chalicelib.values import utc_stamp

WAITING_OVER_SECONDS = 3600
SORTS = ("trouble", "name", "catalog", "waiting", "dead")


@dataclass(frozen=True)
class ShopHealth:
    tenant: str
    name: str
    catalog_at: int | None  # when the last catalog import finished (epoch s)
    catalog_status: str | None
    catalog_file: str | None
    failing: bool  # the last two catalog imports failed
    overdue: bool  # no catalog for the shop's overdue_hours
    waiting: int  # orders 1C has not taken for over WAITING_OVER_SECONDS
    dead: int  # webhook events given up (of the recent ones)

    @property
    def trouble(self) -> int:
        """How badly the shop needs a look: a failing or silent catalog first, then its orders."""
        return (
            4 * (self.failing or self.catalog_status == JobStatus.FAILED)
            + 2 * self.overdue
            + bool(self.waiting)
            + bool(self.dead)
        )


def health(
    tenant: str,
    name: str,
    jobs: Iterable[ImportJob],
    waiting: Iterable[dict[str, Any]],
    events: Iterable[dict[str, Any]],
    overdue: bool,
    now: float,
) -> ShopHealth:
    imports = sorted(
        (j for j in jobs if j.kind == JobKind.IMPORT and j.final),
        key=lambda j: (j.created_at, j.id),
        reverse=True,
    )
    latest = imports[0] if imports else None
    cutoff = utc_stamp(now - WAITING_OVER_SECONDS)
    return ShopHealth(
        tenant=tenant,
        name=name,
        catalog_at=(latest.finished_at or latest.created_at) if latest else None,
        catalog_status=str(latest.status) if latest else None,
        catalog_file=latest.filename if latest else None,
        failing=len(imports) >= 2 and all(j.status == JobStatus.FAILED for j in imports[:2]),
        overdue=overdue,
        waiting=sum(1 for o in waiting if (o.get("created_at") or "") < cutoff),
        dead=sum(1 for e in events if e.get("status") == "dead"),
    )


def ordered(shops: list[ShopHealth], sort: str) -> list[ShopHealth]:
    """By `sort` (SORTS): trouble (the default), name, catalog (the longest silent first),
    waiting or dead (the most first)."""
    keys: dict[str, Callable[[ShopHealth], tuple[Any, ...]]] = {
        "name": lambda s: (s.name.lower(), s.tenant),
        "catalog": lambda s: (s.catalog_at or 0, s.tenant),
        "waiting": lambda s: (-s.waiting, s.tenant),
        "dead": lambda s: (-s.dead, s.tenant),
        "trouble": lambda s: (-s.trouble, -s.waiting, -s.dead, s.tenant),
    }
    return sorted(shops, key=keys.get(sort, keys["trouble"]))
