"""«Подключение 1С»: what a consultant types into 1C and what the owner checks first — the exchange
URL, the 1C login (a new password on demand), the shop API key (rotated on demand), the shop's
price type with how many listed products have no price of it, and the last exchanges 1C opened."""

from __future__ import annotations

import re
import secrets
from typing import Any

from chalice import Response

from chalicelib import wiring
from chalicelib.console.web import (
    FORM,
    Refused,
    Visit,
    console,
    context,
    owner_only,
    record,
    render,
    shop_page,
)
from chalicelib.http import header
from chalicelib.sync.cards import ALL
from chalicelib.tenants import Tenant, TenantError

SHOP_LIKE = re.compile(r"розн|сайт|интернет|retail|web", re.IGNORECASE)


@console.route("/connect", methods=["GET"])
@shop_page
def connect(visit: Visit) -> Response:
    return _page(visit, {})


@console.route("/connect", methods=["POST"], content_types=FORM)
@shop_page
def renew(visit: Visit) -> Response:
    """A new 1C password or a new shop API key, shown once on the page that answers."""
    owner_only(visit.signed, "менять пароль 1С и ключ API")
    accounts, tenant, what = wiring.container().accounts, visit.tenant, visit.form.get("renew")
    if what == "password":
        if not tenant.login:
            raise Refused(400, "у магазина ещё нет логина 1С: задайте его командой admin tenants set-1c")
        password = secrets.token_urlsafe(12)
        try:
            accounts.set_1c_credentials(tenant.id, tenant.login, password)
        except TenantError as exc:
            raise Refused(400, str(exc)) from None
        record(visit.signed, "1c.password")
        return _page(visit, {"password": password})
    if what == "api_key":
        key = accounts.issue_api_key(tenant.id)
        record(visit.signed, "api_key")
        return _page(visit, {"api_key": key})
    if what == "price_type":
        return _choose_price_type(visit, visit.form.get("price_type", ""))
    raise Refused(400, "нечего менять: renew=password, api_key или price_type")


def _choose_price_type(visit: Visit, price_type: str) -> Response:
    """The owner picks the shop's price type here (the proposed one, or any 1C sent): the cards
    are rebuilt for it, and the page shows the rebuild going."""
    types = wiring.container().catalog_store.docs(visit.tenant.id, "price_type")
    if price_type not in {t["id"] for t in types}:
        raise Refused(400, "такого типа цен 1С не присылала")
    wiring.container().accounts.update_settings(visit.tenant.id, shop_price_type=price_type)
    if price_type != visit.tenant.settings.shop_price_type:
        wiring.container().import_worker.queue_rebuild(
            visit.tenant.id, "тип цен сайта выбран в «Подключении 1С»"
        )
    record(visit.signed, "settings", shop_price_type=price_type)
    return _page(visit, {})


def _page(visit: Visit, shown: dict[str, str]) -> Response:
    tenant = wiring.container().accounts.require(visit.tenant.id)
    request = console.current_request
    host = header(request, "host") or "localhost"
    scheme = header(request, "x-forwarded-proto") or "http"
    stage = (request.context or {}).get("stage") or ""
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""  # execute-api URLs name it
    return render(
        "connect.html",
        **context(
            visit.signed,
            tenant=tenant,
            url=f"{scheme}://{host}{prefix}/1c_exchange",
            shown=shown,
            price=_price_type(tenant),
            sessions=_last_sessions(tenant),
            refused=wiring.container().exchange_store.refused_logins(tenant.id, limit=10),
        ),
    )


def _price_type(tenant: Tenant) -> dict[str, Any]:
    """The effective shop price type, and how many listed products have no price of it."""
    services = wiring.container()
    types = services.catalog_store.docs(tenant.id, "price_type")  # as stored now (the API caches a minute)
    shop = tenant.settings.price_type_from(types)
    chosen = next((t for t in types if t["id"] == shop), None)
    named = [t for t in types if SHOP_LIKE.search(t.get("name") or "")]  # what a shop's price is called
    proposed = named[0] if named and not tenant.settings.shop_price_type else None
    facet = services.catalog_store.facet(tenant.id, ALL) or {}
    unpriced = facet["count"] - facet["priced"] if "priced" in facet else None
    rebuild = next((j for j in services.exchange_store.jobs(tenant.id, limit=50) if j.kind == "cards"), None)
    return {
        "chosen": chosen,
        "proposed": proposed if proposed is not chosen else None,
        "types": types,
        "unpriced": unpriced,
        "listed": facet.get("count", 0),
        "rebuild": rebuild,
    }


def _last_sessions(tenant: Tenant) -> list[dict[str, Any]]:
    """The latest sessions 1C opened (a successful checkauth each), newest first."""
    sessions = wiring.container().exchange_store.latest_sessions(tenant.id, limit=20)
    return [s for s in sessions if s.get("source") != "console"][:5]
