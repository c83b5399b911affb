"""`admin certificates …`: a tenant's client certificates — issue one from the provider CA,
register or revoke a fingerprint, choose which calls they guard. Revoking takes effect on the
tenant's next call (settings are read on every call, never cached)."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from chalicelib import certificates, wiring
from chalicelib.tenants import TenantError

DEFAULT_CA = Path(os.environ.get("CMLBRIDGE_CA_DIR", ".local-state/tls"))


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("certificates", help="client certificates a tenant's calls must present")
    csub = parser.add_subparsers(dest="action", required=True)
    csub.add_parser("list", help="registered fingerprints and what they guard").add_argument("tenant")
    issue = csub.add_parser("issue", help="issue a client certificate from the provider CA and register it")
    issue.add_argument("tenant")
    issue.add_argument("--out", type=Path, help="folder for <tenant>.crt, .key and .p12 (default: the CA's)")
    issue.add_argument(
        "--ca", type=Path, default=DEFAULT_CA, help="the provider CA's folder (made if absent)"
    )
    add = csub.add_parser("add", help="register a certificate: its SHA-256 fingerprint or its PEM file")
    add.add_argument("tenant")
    add.add_argument("certificate", help="a fingerprint (64 hex digits, colons allowed) or a .crt/.pem file")
    remove = csub.add_parser("remove", help="revoke a registered fingerprint (the next call is refused)")
    remove.add_argument("tenant")
    remove.add_argument("fingerprint")
    guard = csub.add_parser("guard", help="which calls need a certificate: exchange, shop or both")
    guard.add_argument("tenant")
    guard.add_argument("surface", choices=[s.value for s in certificates.Surface])
    parser.set_defaults(func=cmd_certificates)


def cmd_certificates(args: argparse.Namespace) -> None:
    accounts = wiring.container().accounts
    tenant = accounts.require(args.tenant)
    listed = list(tenant.settings.client_certificates)
    if args.action == "issue":
        listed.append(_issue(args))
    elif args.action == "add":
        listed.append(_fingerprint_of(args.certificate))
    elif args.action == "remove":
        gone = _normalized(args.fingerprint)
        if gone not in listed:
            raise TenantError(f"{args.tenant}: no certificate {gone} registered")
        listed.remove(gone)
    elif args.action == "guard":
        accounts.update_settings(args.tenant, certificates_guard=args.surface)
    if args.action in ("issue", "add", "remove"):
        accounts.update_settings(args.tenant, client_certificates=tuple(listed))
    settings = accounts.require(args.tenant).settings
    guarded = (
        "1C exchange and shop API" if settings.certificates_guard == "both" else settings.certificates_guard
    )
    print(f"{args.tenant}: {len(settings.client_certificates)} certificate(s), guarding {guarded}")
    for fingerprint in settings.client_certificates:
        print(f"  {fingerprint}")


def _issue(args: argparse.Namespace) -> str:
    from chalicelib.authority import Authority  # the `cryptography` package: the CLI's, not Lambda's

    authority = Authority.load_or_create(args.ca)
    issued = authority.issue_client(args.tenant)
    out: Path = args.out or args.ca
    out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    (out / f"{args.tenant}.crt").write_bytes(issued.certificate_pem)
    key = out / f"{args.tenant}.key"
    key.touch(mode=0o600)
    key.write_bytes(issued.key_pem)
    (out / f"{args.tenant}.p12").write_bytes(issued.pkcs12(args.tenant, password, authority.root.certificate))
    print(f"issued {out / args.tenant}.crt/.key and .p12 (for 1C and Windows; password: {password})")
    print(f"the truststore for API Gateway's mutual TLS: {authority.certificate_path}")
    return issued.fingerprint


def _fingerprint_of(value: str) -> str:
    path = Path(value)
    if path.is_file():
        found = certificates.fingerprint(path.read_text(errors="replace"))
        if found is None:
            raise TenantError(f"{value}: not a PEM certificate")
        return found
    return _normalized(value)


def _normalized(value: str) -> str:
    try:
        return certificates.normalized(value)
    except ValueError as exc:
        raise TenantError(str(exc)) from None
