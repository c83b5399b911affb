"""The operator's home (`/console/tenants`): every shop with its last catalog exchange, orders
1C has not taken for over an hour and webhook events given up, worst first or sorted as asked;
each shop opens on the page its trouble is on, and the opening is journaled in the shop."""

from __future__ import annotations

import time

from chalice import Response

from chalicelib import fleet, wiring
from chalicelib.console.web import (
    FORM,
    Redirect,
    Refused,
    checked_form,
    console,
    context,
    page,
    render,
    signed_in,
)
from chalicelib.http import query_params
from chalicelib.tenants import Tenant

MAX_SHOPS = 200  # read for one page, four queries each (about 3 s at 200 on DynamoDB)
OPENS = {"exchanges", "orders", "webhooks"}


def _operator() -> None:
    if not signed_in().operator:
        raise Refused(403, "магазин выбирает только оператор")


def _health(tenant: Tenant, now: float) -> fleet.ShopHealth:
    services = wiring.container()
    return fleet.health(
        tenant.id,
        tenant.name,
        services.exchange_store.jobs(tenant.id, limit=50),
        services.orders.store.waiting_for_1c(tenant.id),
        services.outbox.recent(tenant.id, limit=100),
        services.exchange_watch.overdue(tenant.id, tenant.settings.overdue_hours),
        now,
    )


@console.route("/tenants", methods=["GET"])
@page
def tenants() -> Response:
    _operator()
    sort = query_params(console.current_request).get("sort") or "trouble"
    shops = sorted(wiring.container().accounts.store.list(), key=lambda t: t.id)
    now = time.time()
    rows = [_health(t, now) for t in shops[:MAX_SHOPS]]
    return render(
        "tenants.html",
        **context(
            signed_in(),
            shops=fleet.ordered(rows, sort),
            sort=sort,
            sorts=fleet.SORTS,
            more=len(shops) - len(rows),
        ),
    )


@console.route("/tenants", methods=["POST"], content_types=FORM)
@page
def pick_tenant() -> Response:
    _operator()
    signed = signed_in()
    data = checked_form(signed)
    tenant = data.get("tenant", "")
    if wiring.container().accounts.store.get(tenant) is None:
        raise Refused(404, "нет такого магазина")
    wiring.container().console_auth.switch_tenant(signed, tenant)
    opens = data.get("open") if data.get("open") in OPENS else "exchanges"
    wiring.container().console_store.record(
        tenant, {"who": signed.email, "action": "operator.open", "page": opens}
    )
    raise Redirect(f"/console/{opens}")
