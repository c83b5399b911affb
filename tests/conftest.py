"""Test environment: fake AWS, stage settings from .chalice/config.json, moto per test."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"

# Set before anything imports app.py or powertools (chalice.test patches env per call only).
_stage_env = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"][
    "environment_variables"
]
os.environ.update(_stage_env)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_DEV": "false",
        # Warnings and errors only: the app's INFO lines (one a call, an import step, a delivery)
        # cost the suite a tenth of its time to format; the local stack's are read (localstack.py).
        "LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "PASSWORD_HASH_COST": "10",  # scrypt at 2**10 in tests (production: 2**14; tenants.py)
        # The cards an import.xml leaves are built at once when offers.xml does not come first (the
        # drains deliver delayed messages too, so a wait would only slow them); the tests that fold
        # them into offers.xml's set their own wait (test_owed_cards.py).
        "CARDS_OWED_SECONDS": "0",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


def samples_dir() -> Path:
    """The real 1C files beside the checkout; in CI their absence is an error, not a skip."""
    if not SAMPLES.is_dir():
        if os.environ.get("CI"):
            raise AssertionError(f"{SAMPLES} is missing in CI")
        pytest.skip("../shared/samples is not beside this checkout")
    return SAMPLES


@pytest.fixture
def samples() -> Path:
    return samples_dir()


@pytest.fixture
def aws():
    """A fresh moto account with every resource of infra/resources.json."""
    from moto import mock_aws

    from chalicelib import wiring
    from chalicelib.local import resources

    with mock_aws():
        wiring.reset(clients=False)
        if "resources" in _BUILT:  # the tables and bucket as create_all made them; queues anew
            resources.create_all(kinds=("AWS::SQS::Queue",))
        built_once("resources", resources.create_all)
        yield
        wiring.reset(clients=False)


@dataclass
class Stack:
    client: object
    pump: object
    app: object

    def onec(self, login: str = "demo", password: str = "demo", path: str = "/1c_exchange"):
        from tests.onec import OneC

        return OneC(self.client.http, login=login, password=password, path=path, pump=self.pump)

    def catalog_items(self, tenant: str = "demo") -> list[dict]:
        """Every catalog item of a tenant, read straight from the table (tests only)."""
        from chalicelib import wiring

        table = wiring.container().catalog_store.table.table
        items, kwargs = [], {}
        while True:
            page = table.scan(**kwargs)
            items += [i for i in page["Items"] if i["pk"].startswith(f"{tenant}#")]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def stack(aws):
    """The app on moto with tenant `demo` (1C login demo/demo, API key demo-key)."""
    from chalice.test import Client

    import app as app_module
    from chalicelib import wiring
    from chalicelib.local.pump import QueuePump
    from chalicelib.settings import settings

    accounts = wiring.container().accounts
    accounts.add("demo", "Demo shop")
    accounts.set_1c_credentials("demo", "demo", "demo")
    accounts.issue_api_key("demo", "demo-key")
    with Client(app_module.app, stage_name="dev", project_dir=str(ROOT)) as client:
        yield Stack(client, QueuePump(app_module.import_worker, settings().import_queue_name), app_module.app)


@pytest.fixture
def atomic_dynamodb(monkeypatch):
    """DynamoDB applies each conditional write and transaction atomically; moto checks and writes
    without a lock, so threads can interleave. Serialise moto's writes for concurrency tests."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, _original=original, **kwargs):
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


# State that fixtures build through the real path (an import through the exchange), kept per worker
# process: the first test that asks builds it; later ones start from a copy of what it left in moto.
_BUILT: dict[str, tuple[dict[tuple[str, str, str], bytes], object]] = {}
_SNAPSHOT_SERVICES = ("dynamodb", "s3")  # imports leave their queues drained: SQS stays as created


def built_once(key: str, build):
    """`build()`'s moto state (and its value), built once per worker and restored after that."""
    import pickle

    from moto.backends import get_backend

    if key in _BUILT:
        state, value = _BUILT[key]
        for (name, account, region), data in state.items():
            get_backend(name)[account][region] = pickle.loads(data)  # type: ignore[index]
        return value
    value = build()
    state = {
        (name, account, region): pickle.dumps(backend)
        for name in _SNAPSHOT_SERVICES
        for account, regions in get_backend(name).items()  # type: ignore[attr-defined]
        for region, backend in regions.items()
    }
    _BUILT[key] = (state, value)
    return value


@pytest.fixture
def shop(stack, samples):
    """The stack with a real catalog imported through the exchange; offers with stock to sell."""
    from chalicelib.commerceml import read
    from chalicelib.commerceml.model import Offer

    folder = samples / "dobromyslov__commerceml-parser/data"

    def import_catalog() -> None:
        onec = stack.onec()
        for name in ("import0_1.xml", "offers0_1.xml"):
            assert onec.send_file(name, (folder / name).read_bytes()).keyword == "success"

    built_once("shop", import_catalog)
    with (folder / "offers0_1.xml").open("rb") as f:
        offers = [o for o in read(f, "offers0_1.xml") if isinstance(o, Offer)]
    stack.offers = sorted((o for o in offers if o.total_stock and o.total_stock >= 2), key=lambda o: o.id)
    stack.offer = next(o for o in stack.offers if o.total_stock >= 5)
    return stack


@pytest.fixture(scope="session")
def engine():
    """DynamoDB Local for contract tests; required in CI, skipped elsewhere when not installed."""
    from chalicelib.local import dynamodb_local

    why = dynamodb_local.unavailable()
    if why:
        if os.environ.get("CI"):
            raise AssertionError(f"CI runs the store contracts on DynamoDB Local: {why}")
        pytest.skip(why)
    running = dynamodb_local.start()
    yield running
    running.stop()


def table_on_engine(request, monkeypatch, resource: str) -> str:
    """A fresh table shaped as `resource` of the template, on moto or DynamoDB Local (the contract
    fixtures' `request.param`); its name. The caller resets the clients when done."""
    from chalicelib.aws import clients
    from chalicelib.local.resources import _create_table, load_template

    if request.param == "moto":
        request.getfixturevalue("aws")
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", request.getfixturevalue("engine").endpoint)
        clients.reset()
    props = dict(load_template()["Resources"][resource]["Properties"])
    props["TableName"] = f"contract-{uuid.uuid4().hex[:12]}"
    _create_table(props)
    return props["TableName"]


# End-to-end flows run the app on moto (or the local stack), and the adapters' contract cases run
# on moto and DynamoDB Local: they are `slow`, still in `make test`, left out by `make test-fast`,
# whose edit loop is the pure code, the use cases on the twins and the contracts on the twins.
END_TO_END_FIXTURES = {"aws", "stack", "shop", "module_stack", "live", "live_stack", "baseline", "reference"}
REAL_ENGINES = {"moto", "dynamodb-local"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_engine = callspec is not None and REAL_ENGINES & {str(v) for v in callspec.params.values()}
        if on_engine or END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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
        """Every record and card of a tenant: key → document (tests only; a scan). Facets and the
        feed are left out: a new product changes them without touching what was there."""
        from chalicelib import wiring

        table = wiring.container().catalog_store.table.table
        items, kwargs = {}, {}
        while True:
            page = table.scan(**kwargs)
            for i in page["Items"]:
                if i["pk"].startswith(f"{tenant}#") and not i["pk"].endswith(("#facets", "#feed")):
                    value = i.get("doc") or i.get("card")
                    items[f"{i['pk']}|{i['sk']}"] = (
                        f"{value}|{i.get('prices')}|{i.get('stock')}|{i.get('active')}"
                    )
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

        accounts = wiring.container().accounts
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
    return samples_dir()


@pytest.fixture(scope="session")
def live_stack(request):
    """`make run` as a subprocess (HTTP on loopback, its own queue and schedule threads, DynamoDB
    Local), shared by the tests that need the real process: the races and the browser. It uses
    the worker's DynamoDB Local (the contract tests' engine: one JVM less to start and keep)."""
    from tests.reliability import localstack

    try:
        engine = request.getfixturevalue("engine")
    except pytest.skip.Exception:  # not installed here: the stack says it runs on moto
        engine = None
    stack = localstack.start(schedule_seconds=2, dynamodb=engine.endpoint if engine else None)
    yield stack
    stack.stop()
