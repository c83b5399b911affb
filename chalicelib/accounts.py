"""Use cases on tenants: create, credentials, API keys, webhooks; authentication."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from chalicelib.tenants import (
    Tenant,
    TenantError,
    hash_api_key,
    new_api_key,
    new_secret,
    verify_password,
)


class TenantStore(Protocol):
    def put(self, tenant: Tenant) -> None: ...
    def get(self, tenant_id: str) -> Tenant | None: ...
    def by_login(self, login: str) -> Tenant | None: ...
    def by_api_key_hash(self, api_key_hash: str) -> Tenant | None: ...
    def list(self) -> list[Tenant]: ...


class InMemoryTenantStore:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}

    def put(self, tenant: Tenant) -> None:
        self.tenants[tenant.id] = tenant

    def get(self, tenant_id: str) -> Tenant | None:
        return self.tenants.get(tenant_id)

    def by_login(self, login: str) -> Tenant | None:
        return next((t for t in self.tenants.values() if t.login == login), None)

    def by_api_key_hash(self, api_key_hash: str) -> Tenant | None:
        return next((t for t in self.tenants.values() if t.api_key_hash == api_key_hash), None)

    def list(self) -> list[Tenant]:
        return sorted(self.tenants.values(), key=lambda t: t.id)


class Accounts:
    def __init__(self, store: TenantStore) -> None:
        self.store = store

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
        tenant = self.require(tenant_id)
        secret = secret or tenant.settings.webhook_secret or new_secret()
        self.store.put(tenant.with_settings(webhook_urls=tuple(urls), webhook_secret=secret))
        return secret

    def update_settings(self, tenant_id: str, **changes: object) -> Tenant:
        tenant = self.require(tenant_id).with_settings(**changes)
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

    def authenticate_api_key(self, api_key: str) -> Tenant | None:
        if not api_key:
            return None
        tenant = self.store.by_api_key_hash(hash_api_key(api_key))
        return tenant if tenant and tenant.active else None
