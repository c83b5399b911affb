"""Use cases on tenants: create, credentials, API keys, webhooks; authentication."""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import replace
from typing import Protocol

from chalicelib import certificates
from chalicelib.tenants import (
    MIN_SECRET_CHARS,
    PUBLISHABLE_PREFIX,
    STOCK_POLICIES,
    TENANT_ID,
    Tenant,
    TenantError,
    hash_api_key,
    image_base_problem,
    new_api_key,
    new_publishable_key,
    new_secret,
    settings_text_problem,
    verify_password,
    webhook_url_problem,
)
from chalicelib.values import known_zone


class TenantStore(Protocol):
    def put(self, tenant: Tenant) -> None: ...
    def get(self, tenant_id: str) -> Tenant | None: ...
    def by_login(self, login: str) -> Tenant | None: ...
    def by_api_key_hash(self, api_key_hash: str) -> Tenant | None: ...
    def touch_catalog(self, tenant_id: str, at_ms: int) -> None: ...
    def list(self) -> list[Tenant]: ...


MAIL_ADDRESS = re.compile(r"[^@\s,;<>]{1,64}@[^@\s,;<>]{1,190}\.[^@\s,;<>]{1,63}")
SECRET_OVERLAP_SECONDS = 24 * 3600  # a rotated-out webhook secret still signs this long


class InMemoryTenantStore:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}

    def put(self, tenant: Tenant) -> None:
        self.tenants[tenant.id] = replace(tenant, catalog_version=int(time.time() * 1000))  # as DynamoDB's

    def touch_catalog(self, tenant_id: str, at_ms: int) -> None:
        tenant = self.tenants.get(tenant_id)
        if tenant is not None:
            self.tenants[tenant_id] = replace(tenant, catalog_version=max(at_ms, tenant.catalog_version + 1))

    def get(self, tenant_id: str) -> Tenant | None:
        return self.tenants.get(tenant_id)

    def by_login(self, login: str) -> Tenant | None:
        return next((t for t in self.tenants.values() if t.login == login), None)

    def by_api_key_hash(self, api_key_hash: str) -> Tenant | None:
        return next((t for t in self.tenants.values() if t.api_key_hash == api_key_hash), None)

    def list(self) -> list[Tenant]:
        return sorted(self.tenants.values(), key=lambda t: t.id)


class Accounts:
    def __init__(self, store: TenantStore, https_webhooks_only: bool = False) -> None:
        self.store = store
        self.https_webhooks_only = https_webhooks_only

    def require(self, tenant_id: str) -> Tenant:
        tenant = self.store.get(tenant_id)
        if tenant is None:
            raise TenantError(f"no tenant {tenant_id!r}")
        return tenant

    def add(self, tenant_id: str, name: str | None = None) -> Tenant:
        if self.store.get(tenant_id):
            raise TenantError(f"tenant {tenant_id!r} already exists")
        tenant = Tenant(id=tenant_id, name=name or tenant_id)
        self.store.put(tenant)
        return tenant

    def set_1c_credentials(self, tenant_id: str, login: str, password: str) -> Tenant:
        tenant = self.require(tenant_id)
        owner = self.store.by_login(login)
        if owner and owner.id != tenant_id:
            raise TenantError(f"1C login {login!r} is already used by another tenant")
        tenant = tenant.with_password(login, password)
        self.store.put(tenant)
        return tenant

    def issue_api_key(self, tenant_id: str, api_key: str | None = None) -> str:
        """Issue (or rotate: the old key stops working at once) the shop API key."""
        tenant = self.require(tenant_id)
        api_key = api_key or new_api_key(tenant_id)
        owner = self.store.by_api_key_hash(hash_api_key(api_key))
        if owner and owner.id != tenant_id:
            raise TenantError("that API key is already in use")
        self.store.put(tenant.with_api_key(api_key))
        return api_key

    def set_webhook(self, tenant_id: str, urls: list[str], secret: str | None = None) -> str:
        """Set the receivers; the signing secret stays unless a new one is given, and then the
        old one signs beside it for SECRET_OVERLAP_SECONDS."""
        changes: dict[str, object] = {"webhook_urls": tuple(urls)}
        if secret is not None:
            changes["webhook_secret"] = secret
            old = self.require(tenant_id).settings.webhook_secret
            if old:
                changes["webhook_secret_previous"] = old
                changes["webhook_secret_previous_until"] = int(time.time()) + SECRET_OVERLAP_SECONDS
        tenant = self.update_settings(tenant_id, **changes)
        return str(tenant.settings.webhook_secret)

    def update_settings(self, tenant_id: str, **changes: object) -> Tenant:
        """Change settings; webhook URLs are checked, and a signing secret always exists."""
        if "webhook_urls" in changes:
            urls = changes["webhook_urls"]
            if isinstance(urls, str) or not isinstance(urls, list | tuple):
                raise TenantError("webhook_urls must be a list of URLs")
            for url in urls:
                problem = webhook_url_problem(url, self.https_webhooks_only)
                if problem:
                    raise TenantError(problem)
        if changes.get("orders_from_1c") not in (None, "report", "import"):
            raise TenantError("orders_from_1c: report или import")
        if changes.get("catalog_schema") not in (None, "2", "3.1"):
            raise TenantError("catalog_schema: 2 или 3.1")
        seconds = changes.get("cache_seconds")
        if seconds is not None and (
            not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= 3600
        ):
            raise TenantError("cache_seconds: целое число секунд от 0 до 3600")
        hours = changes.get("overdue_hours")
        if hours is not None and (
            not isinstance(hours, int) or isinstance(hours, bool) or not 0 <= hours <= 8760
        ):
            raise TenantError("overdue_hours: целое число часов от 0 (не напоминать) до 8760")
        email = changes.get("notify_email")
        if email is not None and not MAIL_ADDRESS.fullmatch(str(email)):
            raise TenantError("notify_email: один адрес e-mail, например owner@shop.ru")
        if changes.get("time_zone") is not None and not known_zone(str(changes["time_zone"])):
            raise TenantError(
                "time_zone: часовой пояс по базе IANA, например Europe/Moscow или Asia/Yekaterinburg"
            )
        if "client_certificates" in changes:
            listed = changes["client_certificates"] or ()
            try:
                changes["client_certificates"] = certificates.registered(
                    [listed] if isinstance(listed, str) else listed  # type: ignore[arg-type]
                )
            except (ValueError, TypeError) as exc:
                raise TenantError(f"client_certificates: {exc}") from None
        if changes.get("certificates_guard") not in (None, *[s.value for s in certificates.Surface]):
            raise TenantError("certificates_guard: exchange (1С), shop (API магазина) или both")
        policy = changes.get("stock_policy")
        if policy is not None and policy not in STOCK_POLICIES:
            raise TenantError(f"stock_policy: одно из {', '.join(STOCK_POLICIES)}")
        base = changes.get("image_base_url")
        if base is not None and (not isinstance(base, str) or image_base_problem(base)):
            raise TenantError(image_base_problem(str(base)) or "image_base_url must be text")
        for name, value in changes.items():
            problem = (
                None
                if name in ("webhook_urls", "webhook_secret", "client_certificates")
                else settings_text_problem(value, name)
            )
            if problem:
                raise TenantError(problem)
        secret = changes.get("webhook_secret")
        if secret is not None and (not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS):
            raise TenantError(f"a webhook secret needs at least {MIN_SECRET_CHARS} characters")
        tenant = self.require(tenant_id).with_settings(**changes)
        tenant = self.ensure_webhook_secret(tenant, save=False)
        self.store.put(tenant)
        return tenant

    def ensure_webhook_secret(self, tenant: Tenant, save: bool = True) -> Tenant:
        """A tenant with webhook URLs always has a secret of 32 random bytes (or a longer one)."""
        secret = tenant.settings.webhook_secret
        if tenant.settings.webhook_urls and (not secret or len(secret) < MIN_SECRET_CHARS):
            tenant = tenant.with_settings(webhook_secret=new_secret())
            if save:
                self.store.put(tenant)
        return tenant

    def set_active(self, tenant_id: str, active: bool) -> Tenant:
        tenant = replace(self.require(tenant_id), active=active)
        self.store.put(tenant)
        return tenant

    def authenticate_1c(self, login: str, password: str) -> Tenant | None:
        tenant = self.store.by_login(login) if login else None
        ok = verify_password(password, tenant.password_hash if tenant else None)
        return tenant if ok and tenant and tenant.active else None

    def issue_publishable_key(self, tenant_id: str) -> str:
        """Issue (or rotate) the catalog-only key for browsers; the previous one stops at once."""
        key = new_publishable_key(tenant_id)
        self.update_settings(tenant_id, publishable_key=key)
        return key

    def authenticate_publishable_key(self, key: str) -> Tenant | None:
        """The tenant a publishable key belongs to (its id is in the key: one read, no index)."""
        tenant_id = key.removeprefix(PUBLISHABLE_PREFIX).partition("_")[0]
        known = key.startswith(PUBLISHABLE_PREFIX) and len(key) <= 200 and TENANT_ID.match(tenant_id)
        tenant = self.store.get(tenant_id) if known else None
        issued = tenant.settings.publishable_key if tenant else None
        if tenant is None or not issued or not hmac.compare_digest(issued.encode(), key.encode()):
            return None
        return tenant if tenant.active else None

    def authenticate_api_key(self, api_key: str) -> Tenant | None:
        if not api_key:
            return None
        tenant = self.store.by_api_key_hash(hash_api_key(api_key))
        return tenant if tenant and tenant.active else None
