"""Admin CLI: `python -m chalicelib.admin --help`.

Talks to the stage's tables with the usual AWS credentials, or to the local stack when
AWS_ENDPOINT_URL points at it (`make run` prints the line to use).
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import time
from typing import Any

from chalicelib import admin_certificates, journal, wiring
from chalicelib.orders.rules import InvalidOrder
from chalicelib.tenants import Tenant, TenantError
from chalicelib.usage import FIELDS, month_of


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _tenant_view(t: Tenant) -> dict[str, Any]:
    s = t.settings.to_dict()
    s["webhook_secret"] = "set" if s["webhook_secret"] else None
    return {
        "id": t.id,
        "name": t.name,
        "active": t.active,
        "1c_login": t.login,
        "api_key": "issued" if t.api_key_hash else None,
        "settings": s,
    }


def cmd_tenants(args: argparse.Namespace) -> None:
    accounts = wiring.container().accounts
    if args.action == "list":
        _print([_tenant_view(t) for t in accounts.store.list()])
    elif args.action == "add":
        accounts.add(args.tenant, args.name)
        if args.login:
            password = args.password or getpass.getpass("1C password: ")
            accounts.set_1c_credentials(args.tenant, args.login, password)
        _print(_tenant_view(accounts.require(args.tenant)))
    elif args.action == "show":
        _print(_tenant_view(accounts.require(args.tenant)))
    elif args.action == "set-1c":
        password = args.password or getpass.getpass("1C password: ")
        accounts.set_1c_credentials(args.tenant, args.login, password)
        print(f"1C login for {args.tenant} set to {args.login!r}")
    elif args.action == "api-key":
        key = accounts.issue_api_key(args.tenant)
        print(f"shop API key for {args.tenant} (shown once; the previous key no longer works):")
        print(key)
    elif args.action == "publishable-key":
        key = accounts.issue_publishable_key(args.tenant)
        print(
            f"publishable key for {args.tenant} (catalog reads only, for browsers; the previous one stops):"
        )
        print(key)
    elif args.action == "webhook":
        secret = accounts.set_webhook(args.tenant, args.url, args.secret)
        print(f"webhooks for {args.tenant}: {', '.join(args.url) or '(none)'}")
        print(f"signing secret: {secret}")
    elif args.action == "set":
        changes: dict[str, Any] = {}
        for pair in args.setting:
            key, _, value = pair.partition("=")
            changes[key] = json.loads(value) if value[:1] in "[{" else value
        for key in ("managers", "webhook_urls"):
            if isinstance(changes.get(key), str):
                changes[key] = (changes[key],) if changes[key] else ()
            if key in changes and isinstance(changes[key], list):
                changes[key] = tuple(changes[key])
        for whole in ("api_rate_per_minute", "overdue_hours", "cache_seconds"):
            if whole in changes:
                if not str(changes[whole]).isdigit():
                    raise TenantError(f"{whole} must be a whole number")
                changes[whole] = int(changes[whole])
        before = accounts.require(args.tenant).settings.shop_price_type
        _print(_tenant_view(accounts.update_settings(args.tenant, **changes)))
        if "shop_price_type" in changes and changes["shop_price_type"] != before:
            job = wiring.container().import_worker.queue_rebuild(args.tenant, "тип цен сайта изменён")
            print(f"cards are rebuilt for the new price type (job {job})")
    elif args.action in ("disable", "enable"):
        accounts.set_active(args.tenant, args.action == "enable")
        print(f"{args.tenant} {args.action}d")


def cmd_exchanges(args: argparse.Namespace) -> None:
    store = wiring.container().exchange_store
    if args.action == "resume":
        if not wiring.container().import_worker.resume(args.tenant, args.job):
            raise TenantError(f"no stalled import {args.job!r} for tenant {args.tenant!r}")
        print(f"{args.job} queued again; it goes on from its last checkpoint")
        return
    if args.action == "skip":
        if not wiring.container().import_worker.skip(args.tenant, args.job, "admin"):
            raise TenantError(f"no stalled import {args.job!r} for tenant {args.tenant!r}")
        print(f"{args.job} skipped: the tenant's next import runs; send a full export from 1C")
        return
    if args.action == "stalled":
        _print(
            [
                {
                    "job": j.id,
                    "file": j.filename,
                    "since": journal.when(j.stalled_at),
                    "error": j.error,
                }
                for j in store.jobs(args.tenant, limit=500)
                if j.status == "stalled"
            ]
        )
        return
    if args.action == "list":
        _print(journal.exchanges(store, args.tenant, limit=args.limit))
        return
    detail = journal.exchange(store, args.tenant, args.id)
    if detail is None:
        raise TenantError(f"no exchange {args.id!r} for tenant {args.tenant!r}")
    _print(detail)


def cmd_orders(args: argparse.Namespace) -> None:
    orders, tenant = wiring.container().orders, wiring.container().accounts.require(args.tenant)
    if args.action == "flagged":
        _print(
            [
                {"id": o["id"], "number": o["number"], "status": o["status"], "problem": o["problem"]}
                for o in orders.flagged(tenant)
            ]
        )
    elif args.action == "cancel":
        if not orders.cancel(tenant, args.id, args.reason, by="admin"):
            raise TenantError(f"order {args.id!r} not found or already cancelled")
        print(f"order {args.id} cancelled; its stock holds are released")
    elif args.action == "fix":
        fields = dict(pair.partition("=")[::2] for pair in args.field)
        try:
            changed = orders.fix(tenant, args.id, fields, by="admin")
        except InvalidOrder as exc:
            raise TenantError(str(exc)) from None
        if not changed:
            raise TenantError(f"no order {args.id!r}")
        print(f"order {args.id} corrected; it goes to 1C with the next query")


def cmd_deliveries(args: argparse.Namespace) -> None:
    outbox = wiring.container().outbox
    if args.action == "list":
        items = outbox.recent(args.tenant, limit=args.limit)
        _print(
            [
                {
                    "id": i["id"],
                    "event": i["event"],
                    "status": i["status"],
                    "attempts": int(i.get("attempts", 0)),
                    "created": journal.when(i.get("created_at")),
                    "last_error": next(
                        (d.get("error") for d in reversed(i.get("deliveries", [])) if d.get("error")), None
                    ),
                }
                for i in items
                if not args.status or i["status"] == args.status
            ]
        )
    elif args.action == "show":
        item = outbox.get(args.tenant, args.id)
        if item is None:
            raise TenantError(f"no delivery {args.id!r}")
        _print(item)
    elif args.action == "redeliver":
        if not outbox.redeliver(args.tenant, args.id):
            raise TenantError(f"no delivery {args.id!r}")
        print(f"{args.id} queued for delivery on the next scheduled run")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.admin", description=__doc__)
    sub = parser.add_subparsers(dest="group", required=True)

    tenants = sub.add_parser("tenants", help="add and configure tenants")
    tsub = tenants.add_subparsers(dest="action", required=True)
    tsub.add_parser("list", help="list tenants")
    add = tsub.add_parser("add", help="add a tenant")
    add.add_argument("tenant")
    add.add_argument("--name")
    add.add_argument("--login", help="1C exchange login")
    add.add_argument("--password", help="1C exchange password (prompted if omitted)")
    show = tsub.add_parser("show", help="show one tenant")
    show.add_argument("tenant")
    set1c = tsub.add_parser("set-1c", help="set the 1C exchange login and password")
    set1c.add_argument("tenant")
    set1c.add_argument("--login", required=True)
    set1c.add_argument("--password")
    key = tsub.add_parser("api-key", help="issue or rotate the shop API key")
    key.add_argument("tenant")
    tsub.add_parser(
        "publishable-key", help="issue or rotate the catalog-only key a shop's browser pages may hold"
    ).add_argument("tenant")
    hook = tsub.add_parser("webhook", help="set webhook URLs (and the signing secret)")
    hook.add_argument("tenant")
    hook.add_argument("--url", action="append", default=[], help="repeat for several receivers")
    hook.add_argument("--secret", help="signing secret (generated if omitted)")
    setting = tsub.add_parser("set", help="change settings: key=value (JSON for lists)")
    setting.add_argument("tenant")
    setting.add_argument("setting", nargs="+")
    for action in ("disable", "enable"):
        tsub.add_parser(action, help=f"{action} a tenant").add_argument("tenant")
    tenants.set_defaults(func=cmd_tenants)

    exchanges = sub.add_parser("exchanges", help="the journal of 1C exchanges")
    esub = exchanges.add_subparsers(dest="action", required=True)
    listing = esub.add_parser("list", help="latest exchange sessions of a tenant")
    listing.add_argument("tenant")
    listing.add_argument("--limit", type=int, default=20)
    detail = esub.add_parser("show", help="one exchange: calls, files, chunks, jobs, counts, errors")
    detail.add_argument("tenant")
    detail.add_argument("id")
    resume = esub.add_parser("resume", help="queue a stalled import again from its last checkpoint")
    resume.add_argument("tenant")
    resume.add_argument("job")
    skip = esub.add_parser("skip", help="give up a stalled import that cannot be finished (journaled)")
    skip.add_argument("tenant")
    skip.add_argument("job")
    esub.add_parser("stalled", help="imports that ran out of retries").add_argument("tenant")
    exchanges.set_defaults(func=cmd_exchanges)

    orders = sub.add_parser("orders", help="orders a person has to look at")
    osub = orders.add_subparsers(dest="action", required=True)
    osub.add_parser("flagged", help="orders that cannot be sent to 1C, and why").add_argument("tenant")
    cancel = osub.add_parser("cancel", help="cancel an order (releases its stock holds)")
    cancel.add_argument("tenant")
    cancel.add_argument("id")
    cancel.add_argument("--reason", default="отменён администратором")
    fix = osub.add_parser("fix", help="correct an order's text: customer.name=... comment=...")
    fix.add_argument("tenant")
    fix.add_argument("id")
    fix.add_argument("field", nargs="+")
    orders.set_defaults(func=cmd_orders)

    deliveries = sub.add_parser("deliveries", help="webhook deliveries (the outbox)")
    dsub = deliveries.add_subparsers(dest="action", required=True)
    dlist = dsub.add_parser("list", help="latest events and their delivery state")
    dlist.add_argument("tenant")
    dlist.add_argument("--status", choices=["pending", "delivered", "dead"])
    dlist.add_argument("--limit", type=int, default=50)
    for action, text in (
        ("show", "one event: payload, targets, attempts"),
        ("redeliver", "send one event again"),
    ):
        one = dsub.add_parser(action, help=text)
        one.add_argument("tenant")
        one.add_argument("id")
    deliveries.set_defaults(func=cmd_deliveries)

    catalog = sub.add_parser("catalog", help="the shop's read model")
    csub = catalog.add_subparsers(dest="action", required=True)
    csub.add_parser(
        "rebuild", help="rebuild every product card and facet from the stored catalog"
    ).add_argument("tenant")
    catalog.set_defaults(func=cmd_catalog)

    users = sub.add_parser("console", help="console users (the web console at /console/)")
    usub = users.add_subparsers(dest="action", required=True)
    add = usub.add_parser(
        "add-user", help="add a console user; the password is asked for (or read from stdin)"
    )
    add.add_argument("email")
    add.add_argument("--tenant", help="the user's shop (not for an operator)")
    add.add_argument("--role", choices=["owner", "user", "operator"], default="owner")
    usub.add_parser("users", help="console users of a shop").add_argument("tenant")
    users.set_defaults(func=cmd_console)

    usage = sub.add_parser("usage", help="every tenant's usage of a month, the heaviest first")
    usage.add_argument("--month", help="YYYY-MM (UTC; this month by default)")
    usage.add_argument("--sort", choices=FIELDS, default="api_calls")
    usage.set_defaults(func=cmd_usage)
    admin_certificates.add_parser(sub)
    return parser


def cmd_usage(args: argparse.Namespace) -> None:
    month = args.month or month_of(time.time())
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise TenantError("--month: YYYY-MM, e.g. 2026-12")
    rows = wiring.container().usage.report(month, args.sort)
    print(f"usage {month} (by {args.sort}):")
    print("\t".join(["tenant", *FIELDS]))
    for row in rows:
        print("\t".join(str(row[k]) for k in ("tenant", *FIELDS)))


def cmd_catalog(args: argparse.Namespace) -> None:
    wiring.container().accounts.require(args.tenant)
    job = wiring.container().import_worker.queue_rebuild(args.tenant, "по команде catalog rebuild")
    print(f"{job} queued: every card and facet of {args.tenant} is rebuilt by the import worker")


def cmd_console(args: argparse.Namespace) -> None:
    from chalicelib.console.auth import ConsoleError

    if args.action == "users":
        _print(
            [
                {k: v for k, v in u.items() if k in ("email", "role", "tenant")}
                for u in wiring.container().console_store.users(args.tenant)
            ]
        )
        return
    if args.tenant:
        wiring.container().accounts.require(args.tenant)
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        user = wiring.container().console_auth.add_user(
            args.email, password, args.tenant, args.role, "admin CLI"
        )
    except ConsoleError as exc:
        raise TenantError(str(exc)) from None
    _print(user)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (TenantError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
