"""Deliver outbox events to a tenant's webhook URLs: signed, with timeouts, retried with backoff,
`dead` after the last attempt (what each run comes to is delivery.settle's). A claim (conditional
write) makes every event one runner's job."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from chalicelib.events import envelope
from chalicelib.notify import http
from chalicelib.notify.delivery import Outcome, Posted, settle, still_open
from chalicelib.notify.mail import MAIL_EVENTS, SCHEME, Mailer, letter
from chalicelib.notify.signing import MAX_ATTEMPTS, retry_delay, signature_header
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.ports import Outbox
from chalicelib.tenants import MIN_SECRET_CHARS, Tenant

CLAIM_SECONDS = 120
USER_AGENT = "cmlbridge-webhooks/1"
COUNTED_AS = {
    Outcome.DELIVERED: "delivered",
    Outcome.PENDING: "retry",
    Outcome.DEAD: "dead",
    Outcome.NO_RECEIVER: "no_receiver",
}

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
        mailer: Mailer | None = None,
        mail_from: str = "",
    ) -> None:
        self.mailer, self.mail_from = mailer, mail_from
        self.post = post or functools.partial(http.post, allow_private=allow_private)
        self.outbox, self.clock = outbox, clock
        self.require_https, self.max_attempts = require_https, max_attempts

    def deliver_due(self, tenant: Tenant, runner: str, deadline: float, limit: int = 50) -> dict[str, int]:
        """Deliver what is due until `deadline` (monotonic). Each attempt counts when it is
        claimed, so a run that dies mid-POST still uses one up."""
        counts = dict.fromkeys(COUNTED_AS.values(), 0)
        now = int(self.clock())
        for item in self.outbox.due(tenant.id, now, limit):
            if time.monotonic() > deadline:
                break
            claimed = self.outbox.claim(tenant.id, item["id"], runner, now, CLAIM_SECONDS)
            if claimed is not None:
                counts[self._deliver(tenant, claimed, runner)] += 1
        return counts

    def _body(self, tenant: Tenant, item: dict[str, Any]) -> bytes:
        return json.dumps(envelope(tenant.id, item), ensure_ascii=False, separators=(",", ":")).encode()

    def _deliver(self, tenant: Tenant, item: dict[str, Any], runner: str) -> str:
        """Post to the receivers still open, then record what `settle` makes of it."""
        event_id, attempts = item["id"], int(item.get("attempts", 0))  # counted by the claim
        urls = list(tenant.settings.webhook_urls) + self._mail_targets(tenant, item["event"])
        targets = item.get("targets") or {}
        secrets = tenant.settings.webhook_secrets(self.clock())
        if tenant.settings.webhook_urls and (not secrets or len(secrets[0]) < MIN_SECRET_CHARS):
            raise ValueError(f"tenant {tenant.id} has no webhook secret of 32 random bytes")
        body = self._body(tenant, item)
        due = still_open(urls, targets) if attempts <= self.max_attempts else []
        posted = [
            self._mail(tenant, item, url)
            if url.startswith(SCHEME)
            else self._post(url, item["event"], event_id, secrets, body)
            for url in due
        ]
        now = int(self.clock())
        result = settle(
            urls, targets, list(item.get("deliveries") or []), posted, attempts, self.max_attempts, now,
            retry_delay(attempts),
        )  # fmt: skip
        self.outbox.settle(
            tenant.id, event_id, runner, result.outcome, attempts, result.next_at, result.targets, result.log
        )
        if result.outcome == Outcome.DEAD:
            logger.warning("webhook dead", extra={"event_id": event_id, "targets": result.targets})
        else:
            states = ", ".join(f"{u} {t.get('status')}" for u, t in result.targets.items())
            logger.info(
                "webhook delivery", extra={"event": event_id, "outcome": result.outcome, "targets": states}
            )
        metrics.add_metric(name=f"Webhook_{result.outcome}", unit=MetricUnit.Count, value=1)
        return COUNTED_AS[result.outcome]

    def _mail_targets(self, tenant: Tenant, event: str) -> list[str]:
        """The owner's address, for the exchange notices, when this deployment sends e-mail."""
        address = tenant.settings.notify_email
        return (
            [f"{SCHEME}{address}"]
            if self.mailer and self.mail_from and address and event in MAIL_EVENTS
            else []
        )

    def _mail(self, tenant: Tenant, item: dict[str, Any], url: str) -> Posted:
        """An e-mail is a receiver like a URL: retried, its outcome in the delivery's log (202: SES
        took it)."""
        stamp, started = str(int(self.clock())), time.monotonic()
        zone = tenant.settings.time_zone
        subject, text = letter(item["event"], tenant.name, json.loads(item["payload"]), zone)
        if self.mailer is None:  # never: _mail_targets names an address only with a mailer
            return Posted(url, stamp, None, "refused: this deployment sends no e-mail", 0)
        try:
            self.mailer.send(self.mail_from, url.removeprefix(SCHEME), subject, text)
        except Exception as exc:  # the service's refusal, kept in the log and retried
            return Posted(url, stamp, None, f"{type(exc).__name__}: {exc}"[:200], _ms(started))
        return Posted(url, stamp, 202, None, _ms(started))

    def _post(self, url: str, event: str, event_id: str, secrets: list[str], body: bytes) -> Posted:
        stamp = str(int(self.clock()))
        if self.require_https and not url.lower().startswith("https://"):
            return Posted(url, stamp, None, "refused: webhook URLs must be https in this stage")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Cmlbridge-Event": event,
            "X-Cmlbridge-Delivery": event_id,
            "X-Cmlbridge-Timestamp": stamp,
            "X-Cmlbridge-Signature": signature_header(secrets, stamp, body),
        }
        started = time.monotonic()
        code, error = self.post(url, body, headers)
        return Posted(url, stamp, code, error, _ms(started))


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
