"""Console pages over the catalog, orders, webhooks, settings and users — the same use cases the
shop API and the admin CLI call, for the signed-in person's tenant only."""

from __future__ import annotations

import re
import time
from typing import Any

from chalice import Response

from chalicelib import catalog_views, wiring
from chalicelib.console.auth import ConsoleError, SignedIn
from chalicelib.console.web import (
    FORM,
    Redirect,
    Refused,
    Visit,
    console,
    context,
    owner_only,
    page,
    record,
    render,
    shop_page,
    signed_in,
)
from chalicelib.http import query_params
from chalicelib.tenants import Tenant, TenantError
from chalicelib.usage import FIELDS, month_of

SETTINGS = ("shop_price_type", "order_encoding", "image_base_url", "time_zone", "notify_email")


@console.route("/catalog", methods=["GET"])
@shop_page
def catalog(visit: Visit) -> Response:
    """The group tree with counts, a group's products with pictures, the saved views, search."""
    signed, tenant = visit.signed, visit.tenant
    shop = wiring.container().shop_catalog
    params = query_params(console.current_request)
    query = (params.get("q") or "").strip()
    found = None
    if query:
        found = []
        for key in ("sku", "barcode", "q"):  # an exact sku or barcode first, then name or sku contains
            found = shop.products(tenant, {key: query, "limit": "50"})["items"]
            if found:
                break
    group = params.get("group") or None
    listing = None
    if group:
        asked = {"group": group, "sort": "name", "limit": "50", "cursor": params.get("cursor") or None}
        listing = shop.products(tenant, {k: v for k, v in asked.items() if v})
    children: dict[str | None, list[dict[str, Any]]] = {}
    for g in shop.groups(tenant):
        children.setdefault(g["parent_id"], []).append(g)
    counts = _subtree_counts(children, shop.listed_per_group(tenant))
    name = params.get("view") or ""
    page_number = int(params["page"]) if (params.get("page") or "").isdigit() else 1
    shown = catalog_views.view(
        wiring.container().blobs,
        wiring.container().exchange_store,
        tenant.id,
        name or "no_price",
        page_number,
        version=tenant.catalog_version,
    )
    return render(
        "catalog.html",
        **context(
            signed, q=query, found=found, children=children, counts=counts, group=group, listing=listing,
            view=shown if name in catalog_views.VIEWS else None, views=catalog_views.VIEWS, view_counts=shown.counts,
            page_size=catalog_views.PAGE, page=page_number,
        ),
    )  # fmt: skip


def _subtree_counts(children: dict[str | None, list[dict[str, Any]]], own: dict[str, int]) -> dict[str, int]:
    """Each group's listed products with its subgroups' (a product in two of them counts twice)."""
    counts: dict[str, int] = {}

    def count(group_id: str, seen: frozenset[str]) -> int:
        if group_id not in counts:
            below = [c["id"] for c in children.get(group_id, []) if c["id"] not in seen]
            counts[group_id] = own.get(group_id, 0) + sum(count(c, seen | {c}) for c in below)
        return counts[group_id]

    for groups in children.values():
        for g in groups:
            count(g["id"], frozenset({g["id"]}))
    return counts


@console.route("/products/{product_id}", methods=["GET"])
@shop_page
def product(visit: Visit, product_id: str) -> Response:
    signed, tenant = visit.signed, visit.tenant
    found = wiring.container().shop_catalog.product(tenant, product_id)
    if found is None:
        raise Refused(404, f"товара {product_id} нет в этом магазине")
    history = wiring.container().catalog_store.history(tenant.id, product_id)
    shop_type = next(
        (t["id"] for t in wiring.container().shop_catalog.price_types(tenant) if t.get("shop")), None
    )
    return render("product.html", **context(signed, p=found, history=history, shop_type=shop_type))


@console.route("/orders", methods=["GET"])
@shop_page
def orders(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    use_case = wiring.container().orders
    asked = query_params(console.current_request).get("q", "").strip()[:40]
    recent = use_case.find(tenant, asked) if asked else use_case.list(tenant, None, None, None, 100)["orders"]
    return render(
        "orders.html",
        **context(
            signed,
            recent=recent,
            asked=asked,
            waiting=use_case.waiting(tenant),
            flagged=use_case.flagged(tenant),
        ),
    )


@console.route("/orders/{order_id}", methods=["GET"])
@shop_page
def order(visit: Visit, order_id: str) -> Response:
    """One order as the shop and 1C see it: customer, lines, delivery, payment, 1C's documents
    and the history — who changed it and when."""
    found = wiring.container().orders.get(visit.tenant, order_id)
    if found is None:
        raise Refused(404, f"заказа {order_id} нет в этом магазине")
    return render("order.html", **context(visit.signed, o=found, sources=HISTORY_SOURCES))


HISTORY_SOURCES = {"shop": "сайт", "1c": "1С", "admin": "консоль"}


@console.route("/orders/{order_id}/{action}", methods=["POST"], content_types=FORM)
@shop_page
def order_action(visit: Visit, order_id: str, action: str) -> Response:
    signed, tenant = visit.signed, visit.tenant
    data = visit.form
    use_case = wiring.container().orders
    by = f"console:{signed.email}"
    if action == "cancel":
        done = use_case.cancel(tenant, order_id, data.get("note") or "отменён в консоли", by)
    elif action == "fix":
        fields = {k.removeprefix("f."): v for k, v in data.items() if k.startswith("f.") and v}
        try:
            done = use_case.fix(tenant, order_id, fields, by)
        except ValueError as exc:  # the order rules' InvalidOrder: a field that does not pass
            raise Refused(400, f"заказ не исправлен: {exc}") from None
    else:
        raise Refused(404, "нет такого действия")
    if not done:
        raise Refused(404, f"заказа {order_id} нет в этом магазине")
    record(signed, f"order.{action}", order=order_id)
    raise Redirect("/console/orders")


@console.route("/settings", methods=["GET"])
@shop_page
def settings_page(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    price_types = wiring.container().shop_catalog.price_types(tenant)
    return render("settings.html", **context(signed, tenant=tenant, fields=SETTINGS, price_types=price_types))


@console.route("/settings", methods=["POST"], content_types=FORM)
@shop_page
def save_settings(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    data = visit.form
    owner_only(signed, "менять настройки магазина")
    changes: dict[str, Any] = {k: (data.get(k) or "").strip() or None for k in SETTINGS}
    changes["managers"] = tuple(m.strip() for m in (data.get("managers") or "").split(",") if m.strip())
    status_map = {}
    for line in (data.get("status_map") or "").splitlines():
        name, sep, status = line.partition("=")
        if sep and name.strip() and status.strip():
            status_map[name.strip()] = status.strip()
        elif line.strip():
            raise Refused(
                400, f"строка карты статусов «{line.strip()[:80]}»: нужно «статус 1С = статус сайта»"
            )
    changes["status_map"] = status_map
    try:
        wiring.container().accounts.update_settings(tenant.id, **changes)
    except TenantError as exc:
        raise Refused(400, str(exc)) from None
    if changes["shop_price_type"] != tenant.settings.shop_price_type:  # cards show that type's prices
        wiring.container().import_worker.queue_rebuild(tenant.id, "тип цен сайта изменён в консоли")
    record(signed, "settings", **{k: v or "" for k, v in changes.items() if k in SETTINGS})
    raise Redirect("/console/settings")


@console.route("/certificates", methods=["POST"], content_types=FORM)
@shop_page
def certificate_settings(visit: Visit) -> Response:
    """The client certificates this shop's calls must present (fingerprints, one a line) and
    which calls they guard; removing one revokes it on the next call."""
    signed, tenant = visit.signed, visit.tenant
    data = visit.form
    owner_only(signed, "менять сертификаты клиента")
    listed = tuple(line.strip() for line in (data.get("fingerprints") or "").splitlines() if line.strip())
    try:
        wiring.container().accounts.update_settings(
            tenant.id, client_certificates=listed, certificates_guard=data.get("guard") or "both"
        )
    except TenantError as exc:
        raise Refused(400, str(exc)) from None
    record(signed, "certificates", count=str(len(listed)), guard=data.get("guard") or "both")
    raise Redirect("/console/settings")


@console.route("/publishable-key", methods=["POST"], content_types=FORM)
@shop_page
def publishable_key(visit: Visit) -> Response:
    """Issue or rotate the catalog-only key a shop's browser pages may hold."""
    owner_only(visit.signed, "выпускать ключ для браузера")
    wiring.container().accounts.issue_publishable_key(visit.tenant.id)
    record(visit.signed, "publishable_key")
    raise Redirect("/console/settings")


def _users_page(
    signed: SignedIn, tenant: Tenant, error: str | None = None, status: int = 200, **shown: str
) -> Response:
    listed = [
        {k: v for k, v in u.items() if k not in ("password_hash", "valid_after")}
        for u in wiring.container().console_store.users(tenant.id)
    ]
    return render("users.html", status=status, **context(signed, users=listed, error=error, **shown))


@console.route("/users", methods=["GET"])
@shop_page
def users(visit: Visit) -> Response:
    return _users_page(visit.signed, visit.tenant)


@console.route("/users", methods=["POST"], content_types=FORM)
@shop_page
def add_user(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    data = visit.form
    owner_only(signed, "добавлять пользователей")
    try:
        wiring.container().console_auth.add_user(
            data.get("email", ""), data.get("password", ""), tenant.id, "user", signed.email
        )
    except ConsoleError as exc:
        return _users_page(signed, tenant, str(exc), 400)
    record(signed, "user.add", email=data.get("email", "").strip().lower())
    raise Redirect("/console/users")


@console.route("/users/manage", methods=["POST"], content_types=FORM)
@shop_page
def manage_user(visit: Visit) -> Response:
    """Remove a user, change their role, or reset their password (shown once on the page that
    answers): the shop's owner, or an operator, and never their own account."""
    signed, tenant, data = visit.signed, visit.tenant, visit.form
    owner_only(signed, "управлять пользователями")
    auth, email, action = wiring.container().console_auth, data.get("email", ""), data.get("action")
    try:
        if action == "remove":
            record(signed, "user.remove", email=auth.remove_user(signed, email))
        elif action == "role":
            role = data.get("role", "")
            record(signed, "user.role", email=auth.set_role(signed, email, role), role=role)
        elif action == "reset":
            whose, password = auth.reset_password(signed, email)
            record(signed, "user.reset_password", email=whose)
            return _users_page(signed, tenant, new_password=password, new_password_for=whose)
        else:
            raise Refused(400, "нет такого действия")
    except ConsoleError as exc:
        return _users_page(signed, tenant, str(exc), 400)
    raise Redirect("/console/users")


@console.route("/usage", methods=["GET"])
@page
def usage() -> Response:
    """Every tenant's usage of a month, the heaviest first (operators only): what a provider bills
    and where abuse shows."""
    signed = signed_in()
    if not signed.operator:
        raise Refused(403, "использование всех магазинов видит только оператор")
    params = query_params(console.current_request)
    month = params.get("month") or month_of(time.time())
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise Refused(400, "месяц пишется так: 2026-12")
    sort = str(params.get("sort")) if params.get("sort") in FIELDS else "api_calls"
    rows = wiring.container().usage.report(month, sort)
    return render("usage.html", **context(signed, rows=rows, month=month, sort=sort, fields=FIELDS))
