"""Lazy factories: one adapter of each kind per process, built from the current settings."""

from __future__ import annotations

from functools import cache

from chalicelib.accounts import Accounts
from chalicelib.aws import clients
from chalicelib.settings import settings


@cache
def accounts() -> Accounts:
    from chalicelib.aws.tenants import DynamoTenantStore

    return Accounts(DynamoTenantStore(settings().tenants_table))


def reset() -> None:
    """Drop every cached adapter and client (tests; the local stack after a restart)."""
    for factory in _FACTORIES:
        factory.cache_clear()
    clients.reset()


_FACTORIES = [accounts]
