"""Each tenant's usage a month: the counters' contract (twin, moto, DynamoDB Local), the
per-request tally written once a minute or every FLUSH_COUNT requests, and the whole path —
shop API calls, 1C calls, an import, an order, the operator's page and the admin CLI."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.memory import InMemoryUsageStore
from chalicelib.usage import FIELDS, FLUSH_COUNT, Usage, month_of
from tests.conftest import table_on_engine


@pytest.fixture(params=["memory", "moto", "dynamodb-local"])
def usage_store(request, monkeypatch):
    if request.param == "memory":
        yield InMemoryUsageStore()
        return
    from chalicelib.aws import clients
    from chalicelib.aws.usage import UsageStore

    yield UsageStore(table_on_engine(request, monkeypatch, "ExchangeTable"))
    clients.reset()


def test_counters_only_add_up_per_tenant_and_month(usage_store):
    usage_store.add("a", "2026-12", {"api_calls": 3, "orders": 1})
    usage_store.add("a", "2026-12", {"api_calls": 2, "imports": 0})
    usage_store.add("b", "2026-12", {"imports": 1})
    usage_store.add("a", "2026-11", {"api_calls": 7})
    usage_store.add("c", "2026-12", {})
    assert usage_store.month("2026-12") == {"a": {"api_calls": 5, "orders": 1}, "b": {"imports": 1}}
    assert usage_store.month("2026-11") == {"a": {"api_calls": 7}} and usage_store.month("2027-01") == {}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_requests_are_written_once_a_minute_or_every_flush_count():
    store, clock = InMemoryUsageStore(), Clock()
    usage = Usage(store, clock)
    month = month_of(clock.now)
    for _ in range(10):
        usage.count("a", "api_calls")
    assert store.month(month) == {}, "ten requests: nothing written yet"
    clock.now += 61
    usage.count("b", "exchange_calls")
    assert store.month(month) == {"a": {"api_calls": 10}, "b": {"exchange_calls": 1}}, (
        "a minute on: one write each"
    )
    for _ in range(FLUSH_COUNT):
        usage.count("a", "api_calls")
    assert store.month(month)["a"]["api_calls"] == 10 + FLUSH_COUNT, "a burst is written at FLUSH_COUNT"
    usage.add("a", orders=1)
    rows = usage.report(month, sort="orders")
    assert rows[0]["tenant"] == "a" and rows[0]["orders"] == 1 and set(FIELDS) < set(rows[0])
    assert [r["tenant"] for r in usage.report(month, sort="exchange_calls")] == ["b", "a"]


def test_a_month_of_a_tenant_through_the_real_path_reaches_the_operator(shop, capsys):
    """What this test does is what the month gains (the fixture's own import may have counted
    before it: the figures are read before and after)."""
    from chalicelib import admin, wiring
    from tests.reliability import cml

    usage = wiring.container().usage
    month = month_of(time.time())

    def demo() -> dict:
        usage.flush()  # what the next minute's request would write
        return next((r for r in usage.report(month) if r["tenant"] == "demo"), dict.fromkeys(FIELDS, 0))

    before = demo()
    for _ in range(3):
        assert (
            shop.client.http.request("GET", "/api/v1/groups", headers={"X-Api-Key": "demo-key"}).status_code
            == 200
        )
    body = {"customer": {"name": "Анна"}, "lines": [{"offer_id": shop.offer.id, "quantity": 1}]}
    headers = {"X-Api-Key": "demo-key", "Idempotency-Key": "u1", "Content-Type": "application/json"}
    placed = shop.client.http.request(
        "POST", "/api/v1/orders", headers=headers, body=json.dumps(body).encode()
    )
    assert placed.status_code == 201, placed.body
    onec = shop.onec()
    data = cml.catalog(cml.product("u-new", "Новый"))
    assert onec.send_file("import.xml", data).keyword == "success"
    after = demo()
    gained = {k: after[k] - before[k] for k in FIELDS}
    calls = sum(1 for line in onec.log if " checkauth " not in f" {line} ")
    assert gained["api_calls"] == 4 and gained["orders"] == 1 and gained["exchange_calls"] == calls
    assert gained["imports"] == 1 and gained["records_changed"] == 1 and gained["bytes_uploaded"] == len(data)
    assert admin.main(["usage", "--sort", "orders"]) == 0
    out = capsys.readouterr().out
    assert f"usage {month} (by orders)" in out and "\ndemo\t" in out
    assert admin.main(["usage", "--month", "2026-13"]) == 2


def test_a_failed_usage_write_never_fails_what_it_counts():
    class Broken(InMemoryUsageStore):
        def add(self, tenant, month, counts):
            raise RuntimeError("DynamoDB is having a day")

    clock = Clock()
    usage = Usage(Broken(), clock)
    usage.add("a", orders=1)  # logged, not raised
    clock.now += 61
    usage.count("a", "api_calls")  # the due flush fails quietly too (its counts are lost)
    usage.count("a", "api_calls")
    with pytest.raises(RuntimeError):
        usage.flush()  # an explicit flush (tests, shutdown) says so
