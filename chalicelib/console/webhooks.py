"""«Вебхуки»: where the shop's events go and what became of each — every delivery with its body
and every attempt (answer, time taken), the next retry, a test event, the signing secret shown on
request and rotated with a day's overlap."""

from __future__ import annotations

import json
import time
from typing import Any

from chalice import Response

from chalicelib import wiring
from chalicelib.console.web import (
    FORM,
    Redirect,
    Refused,
    Visit,
    console,
    context,
    owner_only,
    record,
    render,
    shop_page,
)
from chalicelib.events import envelope
from chalicelib.tenants import TenantError, new_secret

TEST_EVENT = "webhook.test"


@console.route("/webhooks", methods=["GET"])
@shop_page
def webhooks(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    events = [_shown(tenant.id, e) for e in wiring.container().outbox.recent(tenant.id, limit=50)]
    settings = tenant.settings
    overlap_until = (
        settings.webhook_secret_previous_until if len(settings.webhook_secrets(time.time())) > 1 else 0
    )
    return render(
        "webhooks.html", **context(signed, tenant=tenant, events=events, overlap_until=overlap_until)
    )


def _shown(tenant_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """An event as the page lists it: the body its receivers get, its attempts newest first."""
    body = json.dumps(envelope(tenant_id, event), ensure_ascii=False, indent=2)
    return {**event, "body": body, "attempts_log": list(reversed(event.get("deliveries") or []))}


@console.route("/webhooks/{event_id}/redeliver", methods=["POST"], content_types=FORM)
@shop_page
def redeliver(visit: Visit, event_id: str) -> Response:
    signed, tenant = visit.signed, visit.tenant
    if not wiring.container().outbox.redeliver(tenant.id, event_id):
        raise Refused(404, "нет такой доставки")
    record(signed, "webhook.redeliver", event=event_id)
    raise Redirect("/console/webhooks")


@console.route("/webhooks/test", methods=["POST"], content_types=FORM)
@shop_page
def test_event(visit: Visit) -> Response:
    """A `webhook.test` event, delivered like any other by the next scheduled run (a minute)."""
    signed, tenant = visit.signed, visit.tenant
    if not tenant.settings.webhook_urls:
        raise Refused(400, "сначала укажите адрес получателя вебхуков")
    payload = {"message": "Проверка вебхука из консоли cmlbridge", "by": signed.email}
    event_id = wiring.container().outbox.add(tenant.id, TEST_EVENT, payload)
    record(signed, "webhook.test", event=event_id)
    raise Redirect("/console/webhooks")


@console.route("/webhooks", methods=["POST"], content_types=FORM)
@shop_page
def webhook_settings(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    data = visit.form
    owner_only(signed, "менять адреса вебхуков и секрет подписи")
    urls = [u.strip() for u in (data.get("urls") or "").splitlines() if u.strip()]
    accounts = wiring.container().accounts
    try:
        accounts.set_webhook(tenant.id, urls, new_secret() if data.get("rotate") else None)
    except TenantError as exc:
        raise Refused(400, str(exc)) from None
    record(signed, "webhook.settings", urls=" ".join(urls)[:500], rotated=bool(data.get("rotate")))
    raise Redirect("/console/webhooks")
