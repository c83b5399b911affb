"""The reliability suite: hostile input, faults, concurrency. Every test belongs to an area (its
module) and reports what it lost through the `losses` fixture; `make reliability-report` adds
them up (tests/reliability/report.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT

LOSS_KINDS = ("items_lost", "orders_lost", "units_oversold", "cross_tenant_reads", "stalled_tenants")
AREAS = {
    "test_hostile_exchange": "hostile input: 1C exchange",
    "test_hostile_api": "hostile input: shop API and webhooks",
    "test_hostile_login": "hostile input: logins and sessions",
    "test_api_fixes": "hostile input: shop API and webhooks",
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


@dataclass
class ModuleStack:
    """One moto account and app for a whole module: cheap hostile cases against a baseline."""

    client: object
    pump: object
    baseline: dict[str, str] = field(default_factory=dict)

    def onec(self, login: str = "demo", password: str = "demo"):
        from tests.onec import OneC

        return OneC(self.client.http, login=login, password=password, pump=self.pump)

    def catalog(self, tenant: str = "demo") -> dict[str, str]:
        """Every catalog item of a tenant: key → document (tests only; a scan)."""
        from chalicelib import wiring

        table = wiring.catalog_store().table
        items, kwargs = {}, {}
        while True:
            page = table.scan(**kwargs)
            for i in page["Items"]:
                if i["pk"].startswith(f"{tenant}#"):
                    items[f"{i['pk']}|{i['sk']}"] = f"{i.get('doc')}|{i.get('active')}"
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def lost(self) -> int:
        """Baseline items missing or changed since the baseline was taken."""
        now = self.catalog()
        return sum(1 for key, value in self.baseline.items() if now.get(key) != value)


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def module_stack(samples_module) -> Iterator[ModuleStack]:
    """Tenants `demo` and `other` with a real catalog imported into `demo` (the baseline)."""
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib import wiring
        from chalicelib.local import resources

        wiring.reset()
        resources.create_all()
        import app as app_module
        from chalicelib.local.pump import QueuePump
        from chalicelib.settings import settings

        accounts = wiring.accounts()
        for tenant in ("demo", "other"):
            accounts.add(tenant, tenant)
            accounts.set_1c_credentials(tenant, tenant, tenant)
            accounts.issue_api_key(tenant, f"{tenant}-key")
        with Client(app_module.app, stage_name="dev", project_dir=str(ROOT)) as client:
            stack = ModuleStack(client, QueuePump(app_module.import_worker, settings().import_queue_name))
            folder = samples_module / "dobromyslov__commerceml-parser/data"
            onec = stack.onec()
            for name in ("import0_1.xml", "offers0_1.xml"):
                assert onec.send_file(name, (folder / name).read_bytes()).keyword == "success"
            stack.baseline = stack.catalog()
            assert len(stack.baseline) > 100
            yield stack
        wiring.reset()


@pytest.fixture(scope="module")
def samples_module():
    from tests.conftest import samples_dir

    return samples_dir()
