"""Deliver outbox events to a tenant's webhook URLs: signed, with timeouts, retried with backoff,
`dead` after the last attempt. A claim (conditional write) makes every event one runner's job."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.outbox import Outbox
from chalicelib.notify.signing import MAX_ATTEMPTS, retry_delay, signature
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.tenants import Tenant

TIMEOUT_SECONDS = 10
CLAIM_SECONDS = 120
USER_AGENT = "cmlbridge-webhooks/1"

Poster = Callable[[str, bytes, dict[str, str]], tuple[int | None, str | None]]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer, not a delivery


_opener = urllib.request.build_opener(_NoRedirect)


def http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


class WebhookSender:
    def __init__(
        self,
        outbox: Outbox,
        post: Poster = http_post,
        clock: Callable[[], float] = time.time,
        require_https: bool = False,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.outbox, self.post, self.clock = outbox, post, clock
        self.require_https, self.max_attempts = require_https, max_attempts

    def deliver_due(self, tenant: Tenant, runner: str, deadline: float, limit: int = 50) -> dict[str, int]:
        counts = {"delivered": 0, "retry": 0, "dead": 0}
        now = int(self.clock())
        for item in self.outbox.due(tenant.id, now, limit):
            if time.monotonic() > deadline:
                break
            claimed = self.outbox.claim(tenant.id, item["sk"], runner, now, CLAIM_SECONDS)
            if claimed is not None:
                counts[self._deliver(tenant, claimed, runner)] += 1
        return counts

    def _body(self, tenant: Tenant, item: dict[str, Any]) -> bytes:
        created = datetime.fromtimestamp(int(item.get("created_at", 0)), tz=UTC).isoformat()
        envelope = {
            "id": item["sk"],
            "event": item["event"],
            "tenant": tenant.id,
            "created_at": created,
            "data": json.loads(item["payload"]),
        }
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()

    def _deliver(self, tenant: Tenant, item: dict[str, Any], runner: str) -> str:
        event_id, attempts = item["sk"], int(item.get("attempts", 0)) + 1
        targets = {url: dict(state) for url, state in (item.get("targets") or {}).items()}
        log = list(item.get("deliveries") or [])
        body = self._body(tenant, item)
        secret = tenant.settings.webhook_secret or ""
        for url in tenant.settings.webhook_urls:
            if targets.get(url, {}).get("status") in ("delivered", "refused"):
                continue
            stamp = str(int(self.clock()))
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
        if not open_targets:
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
        metrics.add_metric(name=f"Webhook_{outcome}", unit=MetricUnit.Count, value=1)
        return {"delivered": "delivered", "pending": "retry", "dead": "dead"}[outcome]
