"""Access by client certificates: a tenant may register the SHA-256 fingerprints of the client
certificates it trusts; then every call of the surfaces it chose (the 1C exchange, the shop API or
both) must present one of them, beside its login or API key. Pure.

The certificate is the one the TLS layer verified: API Gateway's mutual TLS puts it in the event
(`requestContext.identity.clientCert.clientCertPem`), and `make run TLS=1` does the same."""

from __future__ import annotations

import hashlib
import re
import ssl
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_FINGERPRINTS = 20  # certificates a tenant may have registered at once (rotation overlaps)


class Surface(StrEnum):
    """Which calls a tenant's registered certificates guard."""

    EXCHANGE = "exchange"
    SHOP = "shop"
    BOTH = "both"

    def guards(self, surface: Surface) -> bool:
        return self in (surface, Surface.BOTH)


def normalized(fingerprint: str) -> str:
    """`AB:CD:…`, `ab cd …` or `abcd…` as 64 lowercase hex digits; ValueError otherwise."""
    cleaned = re.sub(r"[\s:]", "", fingerprint or "").lower()
    if not _HEX.match(cleaned):
        raise ValueError(
            f"отпечаток сертификата «{(fingerprint or '')[:80]}» — не SHA-256: нужно 64 шестнадцатеричных знака"
        )
    return cleaned


def registered(fingerprints: Iterable[str]) -> tuple[str, ...]:
    """A tenant's list as stored: normalized, without repeats, at most MAX_FINGERPRINTS."""
    found = tuple(dict.fromkeys(normalized(f) for f in fingerprints))
    if len(found) > MAX_FINGERPRINTS:
        raise ValueError(f"не больше {MAX_FINGERPRINTS} сертификатов на магазин")
    return found


def fingerprint(pem: str) -> str | None:
    """SHA-256 of the certificate's DER bytes, or None when the PEM is not a certificate."""
    try:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.strip())).hexdigest()
    except (ValueError, TypeError):
        return None


def presented(request_context: Mapping[str, Any] | None) -> str | None:
    """The client certificate's PEM the TLS layer verified, from the API Gateway event."""
    identity = (request_context or {}).get("identity") or {}
    pem = (identity.get("clientCert") or {}).get("clientCertPem")
    return pem if isinstance(pem, str) and pem.strip() else None


class Refusal(StrEnum):
    """Why a call is refused: in Russian for 1C's log (`ru`), in English for the shop API (`en`)."""

    NOT_PRESENTED = "not_presented"
    NOT_REGISTERED = "not_registered"

    @property
    def ru(self) -> str:
        if self is Refusal.NOT_PRESENTED:
            return "для этого магазина доступ только с зарегистрированным сертификатом клиента, а он не предъявлен"
        return "предъявлен сертификат клиента, который для этого магазина не зарегистрирован (или отозван)"

    @property
    def en(self) -> str:
        if self is Refusal.NOT_PRESENTED:
            return "this shop accepts calls only with a registered client certificate; none was presented"
        return "the client certificate presented is not registered for this shop (or was revoked)"


def refusal(
    fingerprints: Iterable[str], guarded: Surface, surface: Surface, pem: str | None
) -> Refusal | None:
    """Why a call of `surface` is refused for a tenant, or None when it may go on."""
    allowed = set(fingerprints)
    if not allowed or not guarded.guards(surface):
        return None
    if pem is None:
        return Refusal.NOT_PRESENTED
    if fingerprint(pem) not in allowed:
        return Refusal.NOT_REGISTERED
    return None
