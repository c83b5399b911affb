"""Tenants: hashing, the admin CLI, and authentication through the real tables (moto)."""

from __future__ import annotations

import pytest

from chalicelib import admin, wiring
from chalicelib.accounts import Accounts, InMemoryTenantStore
from chalicelib.tenants import Tenant, TenantError, hash_password, verify_password


def test_password_hash_is_salted_and_verifies():
    a, b = hash_password("secret"), hash_password("secret")
    assert a != b and a.startswith("scrypt$")
    assert "secret" not in a
    assert verify_password("secret", a)
    assert not verify_password("Secret", a)
    assert not verify_password("secret", None)
    assert not verify_password("secret", "garbage")


def test_tenant_ids_are_validated():
    with pytest.raises(TenantError):
        Tenant(id="Bad Id", name="x")
    with pytest.raises(TenantError):
        Tenant(id="a#b", name="x")


@pytest.fixture(params=["memory", "dynamodb"])
def accounts(request):
    if request.param == "memory":
        yield Accounts(InMemoryTenantStore())
    else:
        request.getfixturevalue("aws")
        yield wiring.container().accounts


def test_credentials_and_api_keys(accounts):
    accounts.add("shop-a")
    accounts.set_1c_credentials("shop-a", "exchange", "pa55")
    assert accounts.authenticate_1c("exchange", "pa55").id == "shop-a"
    assert accounts.authenticate_1c("exchange", "wrong") is None
    assert accounts.authenticate_1c("nobody", "pa55") is None

    first = accounts.issue_api_key("shop-a")
    assert accounts.authenticate_api_key(first).id == "shop-a"
    second = accounts.issue_api_key("shop-a")
    assert accounts.authenticate_api_key(second).id == "shop-a"
    assert accounts.authenticate_api_key(first) is None, "a rotated key must stop working"
    assert accounts.authenticate_api_key("") is None

    accounts.set_active("shop-a", False)
    assert accounts.authenticate_1c("exchange", "pa55") is None
    assert accounts.authenticate_api_key(second) is None


def test_the_catalog_version_always_moves_forward(accounts):
    """The shop API's answer cache is keyed by it: an import step moves it to its time, or a
    millisecond on when it is already later; a tenant that does not exist is not created; a
    whole-tenant put (settings, keys) is a new version too."""
    import time

    accounts.add("shop-a")
    key = accounts.issue_api_key("shop-a")
    put_at = accounts.authenticate_api_key(key).catalog_version
    assert abs(put_at - time.time() * 1000) < 60_000
    accounts.store.touch_catalog("shop-a", put_at + 2_000)
    assert accounts.authenticate_api_key(key).catalog_version == put_at + 2_000
    accounts.store.touch_catalog("shop-a", put_at)  # an earlier clock: still a move
    assert accounts.authenticate_api_key(key).catalog_version == put_at + 2_001
    accounts.store.touch_catalog("nobody", put_at)
    assert accounts.store.get("nobody") is None
    accounts.set_active("shop-a", True)
    assert accounts.store.get("shop-a").catalog_version not in (put_at + 2_001, 0)


def test_logins_and_keys_are_unique_per_tenant(accounts):
    accounts.add("shop-a")
    accounts.add("shop-b")
    accounts.set_1c_credentials("shop-a", "same", "x1")
    with pytest.raises(TenantError):
        accounts.set_1c_credentials("shop-b", "same", "x2")
    accounts.issue_api_key("shop-a", "key-1")
    with pytest.raises(TenantError):
        accounts.issue_api_key("shop-b", "key-1")
    with pytest.raises(TenantError):
        accounts.add("shop-a")


def test_admin_cli_adds_a_tenant_that_can_authenticate(aws, capsys):
    assert (
        admin.main(["tenants", "add", "acme", "--name", "ACME", "--login", "acme1c", "--password", "pw"]) == 0
    )
    assert admin.main(["tenants", "api-key", "acme"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert admin.main(["tenants", "webhook", "acme", "--url", "https://example.test/hook"]) == 0
    assert (
        admin.main(["tenants", "set", "acme", "order_encoding=windows-1251", 'managers=["Иванов","Петров"]'])
        == 0
    )
    assert admin.main(["tenants", "list"]) == 0
    listing = capsys.readouterr().out
    assert '"acme1c"' in listing and "pw" not in listing and key not in listing

    accounts = wiring.container().accounts
    tenant = accounts.authenticate_1c("acme1c", "pw")
    assert tenant.id == "acme" and tenant.name == "ACME"
    assert accounts.authenticate_1c("acme1c", "nope") is None
    assert accounts.authenticate_api_key(key).id == "acme"
    assert tenant.settings.order_encoding == "windows-1251"
    assert tenant.settings.managers == ("Иванов", "Петров")
    assert tenant.settings.webhook_urls == ("https://example.test/hook",)
    assert admin.main(["tenants", "show", "missing"]) == 2


def test_changing_webhook_urls_keeps_the_signing_secret():
    from chalicelib.accounts import Accounts, InMemoryTenantStore

    accounts = Accounts(InMemoryTenantStore())
    accounts.add("acme")
    first = accounts.set_webhook("acme", ["https://a.example/hooks"])
    assert len(first) == 64
    assert accounts.set_webhook("acme", ["https://b.example/hooks"]) == first, "receivers keep verifying"
    rotated = accounts.set_webhook("acme", ["https://b.example/hooks"], "f" * 64)
    assert rotated == "f" * 64


def test_a_hash_records_its_cost_so_any_setting_verifies_it():
    from chalicelib.tenants import verify_password

    made_at_production_cost = "scrypt$16384$8$1$" + "AAAAAAAAAAAAAAAAAAAAAA==" + "$"
    import base64
    import hashlib

    digest = hashlib.scrypt(
        b"pw", salt=base64.b64decode("AAAAAAAAAAAAAAAAAAAAAA=="), dklen=32, n=2**14, r=8, p=1
    )
    stored = made_at_production_cost + base64.b64encode(digest).decode()
    assert verify_password("pw", stored) and not verify_password("other", stored)
