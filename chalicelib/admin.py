"""Admin CLI: `python -m chalicelib.admin --help`.

Talks to the stage's tables with the usual AWS credentials, or to the local stack when
AWS_ENDPOINT_URL points at it (`make run` prints the line to use).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from chalicelib import wiring
from chalicelib.tenants import TenantError


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _tenant_view(t) -> dict[str, Any]:
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
    accounts = wiring.accounts()
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
            if key in changes and isinstance(changes[key], list):
                changes[key] = tuple(changes[key])
        _print(_tenant_view(accounts.update_settings(args.tenant, **changes)))
    elif args.action in ("disable", "enable"):
        accounts.set_active(args.tenant, args.action == "enable")
        print(f"{args.tenant} {args.action}d")


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
    return parser


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
