"""What one delivery run of an event comes to, decided without any I/O (`settle`): each receiver's
state after this run's POSTs, the event's outcome, and when it is tried again.

  delivered    every receiver answered 2xx (each is posted until it does, never again after)
  no_receiver  the tenant has no webhook URL: nothing was sent, nothing will be
  pending      a receiver failed and attempts are left: tried again after the backoff
  dead         attempts used up (or only refusals left): a person can redeliver it
A receiver `refused` before any POST (an http URL where https is required, a private address)
is never retried: it would be refused again."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    DELIVERED = "delivered"
    NO_RECEIVER = "no_receiver"
    PENDING = "pending"
    DEAD = "dead"


@dataclass(frozen=True)
class Posted:
    """One receiver's answer in this run: an HTTP status, or an error (`refused: …` when the
    POST was not made)."""

    url: str
    at: str
    status_code: int | None
    error: str | None
    ms: int | None = None  # how long the receiver took to answer

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def state(self) -> str:
        if self.ok:
            return "delivered"
        return "refused" if self.error and self.error.startswith("refused") else "failed"


@dataclass
class Settled:
    outcome: Outcome
    next_at: int | None
    targets: dict[str, dict[str, Any]]
    log: list[dict[str, Any]] = field(default_factory=list)


def still_open(urls: list[str], targets: dict[str, dict[str, Any]]) -> list[str]:
    """The receivers this run posts to: those not delivered or refused already."""
    return [u for u in urls if targets.get(u, {}).get("status") not in ("delivered", "refused")]


def settle(
    urls: list[str],
    targets: dict[str, dict[str, Any]],
    log: list[dict[str, Any]],
    posted: list[Posted],
    attempts: int,
    max_attempts: int,
    now: int,
    retry_in: int,
) -> Settled:
    """The event after this run: `attempts` counts this run (claimed before it posted)."""
    targets = {url: dict(state) for url, state in targets.items()}
    log = list(log)
    for post in posted:
        error = None if post.ok else (post.error or f"HTTP {post.status_code}")
        targets[post.url] = {"status": post.state, "attempts": attempts, "last_error": error}
        log.append(
            {
                "at": post.at,
                "url": post.url,
                "status_code": post.status_code,
                "error": None if post.ok else post.error,
                "ms": post.ms,
            }
        )
    if not urls and not targets:
        return Settled(Outcome.NO_RECEIVER, None, targets, log)
    failing = [u for u, t in targets.items() if t["status"] == "failed"]
    if attempts > max_attempts:  # the last attempts' runs stopped before they settled
        log.append({"at": str(now), "error": "attempts used up by runs that stopped"})
        return _dead(targets, failing, log)
    if not failing:
        delivered = all(t["status"] == "delivered" for t in targets.values())
        return Settled(Outcome.DELIVERED if delivered else Outcome.DEAD, None, targets, log)
    if attempts >= max_attempts:
        return _dead(targets, failing, log)
    return Settled(Outcome.PENDING, now + retry_in, targets, log)


def _dead(targets: dict[str, dict[str, Any]], failing: list[str], log: list[dict[str, Any]]) -> Settled:
    for url in failing:
        targets[url]["status"] = "dead"
    return Settled(Outcome.DEAD, None, targets, log)
