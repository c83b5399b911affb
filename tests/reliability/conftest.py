"""The reliability suite: hostile input, faults, concurrency. Every test belongs to an area (its
module) and reports what it lost through the `losses` fixture; `make reliability-report` adds
them up (tests/reliability/report.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import basic  # noqa: F401 (the hostile tests import it from here)

LOSS_KINDS = ("items_lost", "orders_lost", "units_oversold", "cross_tenant_reads", "stalled_tenants")
AREAS = {
    "test_hostile_exchange": "hostile input: 1C exchange",
    "test_hostile_api": "hostile input: shop API and webhooks",
    "test_hostile_login": "hostile input: logins and sessions",
    "test_api_fixes": "hostile input: shop API and webhooks",
    "test_hostile_console": "hostile input: console",
    "test_pathological_catalogs": "hostile input: pathological catalogs",
    "test_faults": "faults",
    "test_concurrency": "concurrency and load",
}


@pytest.fixture
def losses(request) -> Iterator[dict[str, int]]:
    """What a test lost, by kind; recorded on its report for the summary table."""
    counts = dict.fromkeys(LOSS_KINDS, 0)
    yield counts
    for kind, value in counts.items():
        request.node.user_properties.append((kind, value))


def pytest_runtest_setup(item) -> None:
    module = item.module.__name__.rsplit(".", 1)[-1]
    item.user_properties.append(("area", AREAS.get(module, module)))


# `make reliability-report PLANTED=<guard>`: a crash planted into one guard, to show the suite
# goes red when a guard breaks (and which cases catch it). Never set in a normal run.
PLANTS = {
    "zip": "chalicelib.exchange.prepare.expand",  # the zip limits of catalog uploads
    "filenames": "chalicelib.exchange.protocol.sanitize",  # names 1C sends with mode=file
    "xml": "chalicelib.exchange.parse.plan",  # the reader and the differ
}


@pytest.fixture(autouse=True)
def planted_crash(monkeypatch):
    which = os.environ.get("RELIABILITY_PLANTED")
    if which:

        def crash(*args, **kwargs):
            raise RuntimeError(f"planted crash in the {which} guard")

        monkeypatch.setattr(PLANTS[which], crash)
    yield
