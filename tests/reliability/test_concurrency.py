"""Concurrency and load against the local stack over HTTP, on DynamoDB Local where it is
installed (CI has it), so conditional writes and transactions are atomic by AWS's own engine:
two exchanges of one tenant at once, 20 tenants importing in parallel, 200 orders racing for 20
units, and a slow webhook receiver while other tenants' events keep flowing."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.local import dynamodb_local
from tests.reliability import cml

pytestmark = pytest.mark.slow
TENANTS = [f"t{n:02d}" for n in range(1, 21)]


@pytest.fixture(scope="module")
def live(live_stack):
    why = dynamodb_local.unavailable()
    if why and os.environ.get("CI"):
        raise AssertionError(f"CI runs the race cases on DynamoDB Local: {why}")
    assert os.environ.get("CI") is None or live_stack.dynamodb_endpoint, "".join(live_stack.output[-20:])
    with live_stack.admin() as wiring:
        accounts = wiring.container().accounts
        for tenant in TENANTS:
            accounts.add(tenant, tenant)
            accounts.set_1c_credentials(tenant, tenant, f"{tenant}-pw")
            accounts.issue_api_key(tenant, f"{tenant}-key")
    yield live_stack
    # The stack lives on for the browser tests: its schedule (every 2 s) would keep working
    # through twenty tenants (about a quarter of a core, measured) for the rest of the suite.
    with live_stack.admin() as wiring:
        for tenant in TENANTS:
            wiring.container().accounts.set_active(tenant, False)


def products(n: int, tenant: str, prefix: str = "p") -> str:
    return "".join(cml.product(f"{tenant}-{prefix}{i}", f"{tenant} товар {prefix}{i}") for i in range(n))


def written(stack, tenant: str) -> set[str]:
    """The products the tenant's change feed announces (a product is listed only once it has an
    offer; these catalogs have none, so the feed and the product pages are what a shop reads)."""
    ids, cursor = set(), None
    while True:
        status, body = stack.api(
            "GET", f"/changes?limit=100{'&since=' + cursor if cursor else ''}", f"{tenant}-key"
        )
        assert status == 200, body
        ids |= {c["id"] for c in body["changes"] if c["type"] == "product"}
        cursor = body.get("next")
        if not body["changes"]:
            return ids


def served(stack, tenant: str, ids: set[str]) -> set[str]:
    """The ids a sample of product pages answers (first, middle, last): the feed saw them all."""
    ordered = sorted(ids)
    sample = {ordered[0], ordered[len(ordered) // 2], ordered[-1]} if ordered else set()
    return (ids - sample) | {
        i for i in sample if stack.api("GET", f"/products/{i}", f"{tenant}-key")[0] == 200
    }


def test_two_exchanges_of_one_tenant_at_once(live, losses):
    tenant = "t01"
    files = {
        "import_a.xml": cml.catalog(products(30, tenant, "a")),
        "import_b.xml": cml.catalog(products(30, tenant, "b")),
    }
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda f: live.exchange(tenant, f"{tenant}-pw", f, files[f]), files))
    assert all(a.startswith("success") for a in answers), answers
    expected = {f"{tenant}-{p}{i}" for p in "ab" for i in range(30)}
    ids = written(live, tenant)
    losses["items_lost"] = len(expected - ids) + len(expected - served(live, tenant, expected))
    assert losses["items_lost"] == 0


def test_twenty_tenants_import_in_parallel(live, losses):
    with ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(
                lambda t: live.exchange(t, f"{t}-pw", "import.xml", cml.catalog(products(10, t))), TENANTS
            )
        )
    assert all(a.startswith("success") for a in answers), answers
    foreign = lost = 0
    for tenant in TENANTS:
        ids = written(live, tenant)
        expected = {f"{tenant}-p{n}" for n in range(10)}
        foreign += sum(1 for i in ids if not i.startswith(f"{tenant}-"))
        lost += len(expected - ids) + len(expected - served(live, tenant, expected))
    losses["cross_tenant_reads"], losses["items_lost"] = foreign, lost
    assert foreign == 0 and lost == 0


def test_two_hundred_orders_race_for_twenty_units(live, losses):
    tenant = "t02"
    catalog = cml.catalog(cml.product(f"{tenant}-last", "Последние 20"))
    assert live.exchange(tenant, f"{tenant}-pw", "import.xml", catalog).startswith("success")
    stock = cml.offers(cml.offer(oid=f"{tenant}-last", quantity="20", price="100"))
    assert live.exchange(tenant, f"{tenant}-pw", "offers.xml", stock).startswith("success")

    def order(n: int) -> int:
        body = {
            "customer": {"name": f"Покупатель {n}"},
            "lines": [{"offer_id": f"{tenant}-last", "quantity": 1}],
        }
        return live.api("POST", "/orders", f"{tenant}-key", body, {"Idempotency-Key": f"race-{n}"})[0]

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(order, range(200)))
    accepted = statuses.count(201)
    losses["units_oversold"] = max(0, accepted - 20)
    assert accepted == 20 and statuses.count(422) == 180, sorted(set(statuses))


class Receiver:
    """A webhook receiver on 127.0.0.1: fast (200 at once) or dripping one byte every 4 s."""

    def __init__(self, drip: bool = False) -> None:
        self.events: list[bytes] = []
        self.arrived: list[float] = []  # time.monotonic() of each POST
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.events.append(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.arrived.append(time.monotonic())
                if drip:  # the status line, one byte every 4 s: 68 s for the whole of it
                    for byte in b"HTTP/1.1 200 OK\r\n":
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(4)
                    return
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_slow_receiver_never_holds_up_other_tenants(live, losses):
    """The stack's own timer (every second here, every minute by default) delivers the events.
    While the slow receiver holds its POST open (it would be cut at the 10 s deadline), the other
    tenant's event, made after the slow POST began, arrives within a few ticks: long before the
    slow POST is cut, so nothing waited for it."""
    from chalicelib.notify.http import TIMEOUT_SECONDS

    slow, fast = Receiver(drip=True), Receiver()
    with live.admin() as wiring:
        wiring.container().accounts.set_webhook("t03", [slow.url])
        wiring.container().accounts.set_webhook("t04", [fast.url])
    catalog = cml.catalog(cml.product("t03-x", "Товар"))
    assert live.exchange("t03", "t03-pw", "import.xml", catalog).startswith("success")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not slow.arrived:
        time.sleep(0.1)
    assert slow.arrived, "the slow receiver was called"
    catalog = cml.catalog(cml.product("t04-x", "Товар"))
    assert live.exchange("t04", "t04-pw", "import.xml", catalog).startswith("success")
    made = time.monotonic()
    while time.monotonic() - made < 30 and not fast.arrived:
        time.sleep(0.1)
    losses["stalled_tenants"] = 0 if fast.arrived else 1
    assert b"catalog.imported" in fast.events[0]
    waited = fast.arrived[0] - made
    assert waited < TIMEOUT_SECONDS / 2, f"the quick tenant's event waited {waited:.1f} s"
    assert fast.arrived[0] < slow.arrived[0] + TIMEOUT_SECONDS, "it arrived before the slow POST was cut"


def test_the_local_schedule_runs_without_errors(live):
    """The schedule ran (its summary line is there) and neither the whole run nor any one tenant's
    part of it failed (a tenant's failure is caught and logged, never raised)."""
    ran = [line for line in live.output if "scheduled run" in line and "error" not in line.lower()]
    failed = [line for line in live.output if "scheduled run error" in line or "scheduled run failed" in line]
    assert ran, "the local stack fired the schedule"
    assert not failed, "".join(failed[-20:])
