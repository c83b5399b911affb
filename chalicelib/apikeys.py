"""The shop API's callers: the tenant of a request's API key, and the per-key rate limit. A source
that sends wrong or missing keys is throttled like a login (MAX_BAD_KEYS a minute, then 429, and
no lookup while it waits)."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib import certificates
from chalicelib.accounts import Accounts
from chalicelib.http import ApiError
from chalicelib.observability import logger
from chalicelib.ports import UsageCount
from chalicelib.tenants import PUBLISHABLE_PREFIX, Tenant

MAX_BAD_KEYS = 30  # wrong or missing API keys a minute from one source before it waits


class Limiter(Protocol):
    def waiting(self, key: str) -> int: ...
    def take(self, key: str, per_minute: int) -> int: ...


class ApiKeys:
    def __init__(self, accounts: Accounts, limiter: Limiter, usage: UsageCount | None = None) -> None:
        self.accounts, self.limiter, self.usage = accounts, limiter, usage

    def tenant_of(self, request: Any, catalog: bool = False) -> Tenant:
        """The tenant of the request's API key (Chalice's request: headers and context). With
        `catalog` (a catalog read) the shop's publishable key is taken too."""
        key = (request.headers or {}).get("x-api-key", "")
        source = ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"
        wait = self.limiter.waiting(f"badkey|{source}")
        if wait:
            raise _too_many_bad_keys(wait)
        publishable = key.startswith(PUBLISHABLE_PREFIX)
        if publishable:
            tenant = self.accounts.authenticate_publishable_key(key)
        else:
            tenant = self.accounts.authenticate_api_key(key) if key else None
        if tenant is None:
            wait = self.limiter.take(f"badkey|{source}", MAX_BAD_KEYS)
            if wait:
                raise _too_many_bad_keys(wait)
            raise ApiError(401, "unauthorized", "a valid X-Api-Key header is required")
        logger.append_keys(tenant=tenant.id)
        if publishable and not catalog:
            raise ApiError(
                403,
                "publishable_key",
                "a publishable key only reads the catalog: orders take the shop's API key",
            )
        settings = tenant.settings
        refused = certificates.refusal(
            settings.client_certificates,
            certificates.Surface(settings.certificates_guard),
            certificates.Surface.SHOP,
            certificates.presented(request.context),
        )
        if refused:
            raise ApiError(403, "client_certificate_required", refused.en)
        wait = self.limiter.take(tenant.id, tenant.settings.api_rate_per_minute)
        if wait:
            raise ApiError(
                429,
                "rate_limited",
                f"more than {tenant.settings.api_rate_per_minute} requests a minute for this API key; "
                f"retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        if self.usage is not None:
            self.usage.count(tenant.id, "api_calls")
        return tenant


def _too_many_bad_keys(wait: int) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"more than {MAX_BAD_KEYS} requests a minute with a wrong or missing API key from this address; "
        f"retry in {wait} s",
        headers={"Retry-After": str(wait)},
    )
