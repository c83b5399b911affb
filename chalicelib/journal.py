"""What happened, as people read it: the exchange journal, import diffs and deliveries, built once
from the stores for the admin CLI and the console alike."""

from __future__ import annotations

import gzip
import json
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from chalicelib.importjob import ImportJob, JobKind, JobStatus
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, ExchangeStore

CHANGED = ("created", "updated", "deactivated")
# What the diff says happened to a product, in the console's and the CSV's words.
DIFF_OPS = {
    "listed": "в продаже",
    "changed": "изменён",
    "unlisted": "снят",
    "no_offers": "без предложений",
    "other_prices": "цены других типов",
    "warehouses": "остатки по складам",
}
DIFF_COUNTED = {**DIFF_OPS, "changed": "изменено", "unlisted": "снято"}  # «изменено 5» in the filters


def when(stamp: Any) -> str | None:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(stamp))) if stamp else None


PENDING = "pending"  # an exchange's end that waits for the exchange to end (exchange/ends.py): no outcome yet


FOLD_READ = 5  # sessions read per row shown: 1C's checkauth-only sessions fold away


def exchanges(
    store: ExchangeStore, tenant: str, limit: int = 20, before: str | None = None
) -> list[dict[str, Any]]:
    """The latest `limit` exchanges, newest first. A session with no call beyond `checkauth` (1C
    polling, or checking its login) is no exchange: it folds away, so it never pushes last night's
    catalog exchange off the list."""
    rows: list[dict[str, Any]] = []
    for session in _exchanging_sessions(store, tenant, limit, before):
        every = store.jobs(tenant, prefix=session["token"])
        jobs = [j for j in every if not (j.by_full_files and j.status == JobStatus.QUEUED)]
        sizes = {u.filename: u.size_bytes for u in store.uploaded_files(tenant, session["token"], True)}
        counts: dict[str, int] = defaultdict(int)
        for job in jobs:
            for key, value in (job.counts or {}).items():
                counts[key] += int(value)
        rows.append(
            {
                "id": session["token"],
                "type": session.get("type"),
                "source": session.get("source"),
                "started": when(session.get("created_at")),
                "started_at": session.get("created_at"),
                "calls": session.get("call_count", 0),
                "files": [j.filename for j in jobs],
                "sizes": sizes,
                "error": next((j.error for j in jobs if j.error), None),
                "counts": dict(counts),
                "seconds": sum(j.seconds or 0 for j in jobs),
                "outcome": ", ".join(sorted({(j.status or "?") for j in jobs})) or _sale_outcome(session),
                "deactivation_pending": len(every) > len(jobs),
            }
        )
    return rows


def _exchanging_sessions(
    store: ExchangeStore, tenant: str, limit: int, before: str | None = None
) -> list[dict[str, Any]]:
    """The latest `limit` sessions with a call beyond checkauth: one read of `limit` when few
    folded away, more (doubling, at most FOLD_READ times `limit`) when many did."""
    asked = limit
    while True:
        sessions = store.latest_sessions(tenant, limit=asked, before=before)
        shown = [s for s in sessions if s.get("call_count")]
        if len(shown) >= limit or len(sessions) < asked or asked >= limit * FOLD_READ:
            return shown[:limit]
        asked = min(asked * 2, limit * FOLD_READ)


def _sale_outcome(session: dict[str, Any]) -> str:
    """What an orders exchange did: offered to 1C, taken by it (`success`), updated from it."""
    if session.get("type") != "sale":
        return "no import"
    offered, taken = int(session.get("orders_offered", 0)), int(session.get("orders_taken", 0))
    updated = int(session.get("orders_updated", 0))
    return f"заказы: передано {offered}, принято 1С {taken}, обновлено из 1С {updated}"


def exchange(store: ExchangeStore, tenant: str, session_id: str) -> dict[str, Any] | None:
    session = store.get_session(tenant, session_id)
    if session is None:
        return None
    uploads = store.uploaded_files(tenant, session_id, whole_session=True)
    jobs = store.jobs(tenant, prefix=session_id)
    return {
        "id": session["token"],
        "type": session.get("type"),
        "source": session.get("source"),
        "started": when(session.get("created_at")),
        "started_at": session.get("created_at"),
        "completed": when(session.get("completed_at")),
        "sale_outcome": _sale_outcome(session) if session.get("type") == "sale" else None,
        "orders_updated_ids": session.get("orders_updated_ids") or [],
        "calls": session.get("calls", []),
        "files": [
            {
                "area": u.area,
                "name": u.filename,
                "bytes": u.size_bytes,
                "chunks": len(u.parts),
                "restarts": u.restarts,
            }
            for u in uploads
        ],
        "jobs": [
            {
                "id": j.id,
                "file": j.filename,
                "area": j.area,
                "status": PENDING if j.by_full_files and j.status == JobStatus.QUEUED else j.status,
                "phase": j.phase,
                "counts": j.counts,
                "error": j.error,
                "note": j.note,
                "schema_version": j.schema_version,
                "seconds": j.seconds,
                "records_read": j.records_read,
                "applied": j.applied,
                "total_changes": j.total_changes,
            }
            for j in jobs
        ],
    }


def diff(blobs: Blobs, tenant: str, job_id: str) -> list[dict[str, Any]]:
    """What an import changed in the cards (old → new name, price, stock), as the worker saved it."""
    data = blobs.get(Paths(tenant).staging(job_id, "diff.jsonl.gz"))
    return [json.loads(line) for line in gzip.decompress(data).splitlines()] if data else []


def daily(
    jobs: Iterable[ImportJob],
    orders: Iterable[dict[str, Any]],
    events: Iterable[dict[str, Any]],
    days: int = 30,
) -> dict[str, Any]:
    """Per day over the last `days`: records changed, import seconds, orders placed and taken by
    1C, webhook deliveries that succeeded (a share) — from what the caller read once."""
    today = int(time.time()) // 86_400
    labels = [time.strftime("%m-%d", time.gmtime((today - n) * 86_400)) for n in range(days - 1, -1, -1)]
    series: dict[str, list[float]] = {
        k: [0.0] * days for k in ("changed", "seconds", "placed", "taken", "ok", "sent")
    }

    def slot(stamp: Any) -> int | None:
        if not stamp:
            return None
        n = days - 1 - (today - int(stamp) // 86_400)
        return n if 0 <= n < days else None

    for job in jobs:
        n = slot(job.finished_at)
        if n is not None:
            series["changed"][n] += sum(int((job.counts or {}).get(k, 0)) for k in CHANGED)
            series["seconds"][n] += job.seconds or 0
    for order in orders:
        n = slot(_epoch(order.get("created_at")))
        if n is not None:
            series["placed"][n] += 1
        n = slot(_epoch(order.get("exported_at")))
        if n is not None:
            series["taken"][n] += 1
    for event in events:
        n = slot(event.get("created_at"))
        if n is not None and event.get("status") != "no_receiver":  # nothing was sent
            series["sent"][n] += 1
            series["ok"][n] += event.get("status") == "delivered"
    rate = [
        round(100 * ok / sent, 1) if sent else None
        for ok, sent in zip(series["ok"], series["sent"], strict=True)
    ]
    return {
        "labels": labels,
        **{k: series[k] for k in ("changed", "seconds", "placed", "taken")},
        "webhook_ok": rate,
    }


def _epoch(value: Any) -> int | None:
    if not value:
        return None
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(time.mktime(time.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)
    except ValueError:
        return None


def banner(jobs: list[ImportJob], rows: list[dict[str, Any]], overdue: bool) -> dict[str, Any]:
    """The exchanges page's first line: the latest catalog import (when, how, what it changed),
    whether the last two failed or the catalog is overdue, and the latest orders exchange."""
    imports = sorted(
        (j for j in jobs if j.kind == JobKind.IMPORT and j.final),
        key=lambda j: (j.created_at, j.id),
        reverse=True,
    )
    latest = imports[0] if imports else None
    sale = next((r for r in rows if r.get("type") == "sale"), None)
    return {
        "catalog": {
            "at": latest.finished_at or latest.created_at, "status": latest.status, "file": latest.filename,
            "changed": sum(int((latest.counts or {}).get(k, 0)) for k in CHANGED),
        } if latest else None,
        "failing": len(imports) >= 2 and all(j.status == JobStatus.FAILED for j in imports[:2]),
        "overdue": overdue,
        "orders": {"at": sale["started_at"], "outcome": sale["outcome"]} if sale else None,
    }  # fmt: skip
