"""Deliver outbox events to a tenant's webhook URLs: signed, with timeouts, retried with backoff,
`dead` after the last attempt. A claim (conditional write) makes every event one runner's job."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.notify import http
from chalicelib.notify.signing import MAX_ATTEMPTS, retry_delay, signature
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.ports import Outbox
from chalicelib.tenants import MIN_SECRET_CHARS, Tenant

CLAIM_SECONDS = 120
USER_AGENT = "cmlbridge-webhooks/1"

Poster = Callable[[str, bytes, dict[str, str]], tuple[int | None, str | None]]


class WebhookSender:
    def __init__(
        self,
        outbox: Outbox,
        post: Poster | None = None,
        clock: Callable[[], float] = time.time,
        require_https: bool = False,
        max_attempts: int = MAX_ATTEMPTS,
        allow_private: bool = False,
    ) -> None:
        self.post = post or functools.partial(http.post, allow_private=allow_private)
        self.outbox, self.clock = outbox, clock
        self.require_https, self.max_attempts = require_https, max_attempts

    def deliver_due(self, tenant: Tenant, runner: str, deadline: float, limit: int = 50) -> dict[str, int]:
        """Deliver what is due until `deadline` (monotonic). Each attempt counts when it is
        claimed, so a run that dies mid-POST still uses one up."""
        counts = {"delivered": 0, "retry": 0, "dead": 0}
        now = int(self.clock())
        for item in self.outbox.due(tenant.id, now, limit):
            if time.monotonic() > deadline:
                break
            claimed = self.outbox.claim(tenant.id, item["id"], runner, now, CLAIM_SECONDS)
            if claimed is not None:
                counts[self._deliver(tenant, claimed, runner)] += 1
        return counts

    def _body(self, tenant: Tenant, item: dict[str, Any]) -> bytes:
        created = datetime.fromtimestamp(int(item.get("created_at", 0)), tz=UTC).isoformat()
        envelope = {
            "id": item["id"],
            "event": item["event"],
            "tenant": tenant.id,
            "created_at": created,
            "data": json.loads(item["payload"]),
        }
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()

    def _deliver(self, tenant: Tenant, item: dict[str, Any], runner: str) -> str:
        event_id, attempts = item["id"], int(item.get("attempts", 0))  # counted by the claim
        targets = {url: dict(state) for url, state in (item.get("targets") or {}).items()}
        log = list(item.get("deliveries") or [])
        body = self._body(tenant, item)
        secret = tenant.settings.webhook_secret or ""
        if tenant.settings.webhook_urls and (not secret or len(secret) < MIN_SECRET_CHARS):
            raise ValueError(f"tenant {tenant.id} has no webhook secret of 32 random bytes")
        for url in tenant.settings.webhook_urls if attempts <= self.max_attempts else ():
            if targets.get(url, {}).get("status") in ("delivered", "refused"):
                continue
            stamp = str(int(self.clock()))
            code: int | None
            error: str | None
            if self.require_https and not url.lower().startswith("https://"):
                code, error = None, "refused: webhook URLs must be https in this stage"
            else:
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "X-Cmlbridge-Event": item["event"],
                    "X-Cmlbridge-Delivery": event_id,
                    "X-Cmlbridge-Timestamp": stamp,
                    "X-Cmlbridge-Signature": signature(secret, stamp, body),
                }
                code, error = self.post(url, body, headers)
            ok = code is not None and 200 <= code < 300
            status = "delivered" if ok else ("refused" if error and error.startswith("refused") else "failed")
            targets[url] = {
                "status": status,
                "attempts": attempts,
                "last_error": None if ok else (error or f"HTTP {code}"),
            }
            log.append(
                {
                    "at": stamp,
                    "url": url,
                    "status_code": code,
                    "error": None if ok else error,
                    "attempt": attempts,
                }
            )
        open_targets = [u for u, t in targets.items() if t["status"] == "failed"]
        if attempts > self.max_attempts:  # the last attempts' runs stopped before they settled
            outcome, next_at = "dead", None
            log.append({"at": str(int(self.clock())), "error": "attempts used up by runs that stopped"})
            for url in open_targets:
                targets[url]["status"] = "dead"
        elif not open_targets:
            outcome, next_at = (
                ("delivered" if all(t["status"] == "delivered" for t in targets.values()) else "dead"),
                None,
            )
        elif attempts >= self.max_attempts:
            outcome, next_at = "dead", None
            for url in open_targets:
                targets[url]["status"] = "dead"
        else:
            outcome, next_at = "pending", int(self.clock()) + retry_delay(attempts)
        self.outbox.settle(tenant.id, event_id, runner, outcome, attempts, next_at, targets, log)
        if outcome == "dead":
            logger.warning("webhook dead", extra={"event_id": event_id, "targets": targets})
        else:
            codes = ", ".join(f"{u} {t.get('status')}" for u, t in targets.items())
            logger.info("webhook delivery", extra={"event": event_id, "outcome": outcome, "targets": codes})
        metrics.add_metric(name=f"Webhook_{outcome}", unit=MetricUnit.Count, value=1)
        return {"delivered": "delivered", "pending": "retry", "dead": "dead"}[outcome]
