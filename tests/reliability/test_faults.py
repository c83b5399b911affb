"""Faults: the worker stopped anywhere, throttling and S3 errors, redelivered and duplicate
messages, dead letters, a scheduler that dies mid-delivery, 1C dropping the line or repeating
itself, a Lambda that dies between an order and its idempotency record. After each, the outcome
equals a clean run: no item, order or unit lost, nothing done twice, no tenant left stalled."""

from __future__ import annotations

import io
import json
import os
import random
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from chalicelib import admin, wiring
from chalicelib.aws.catalog import CatalogStore
from chalicelib.commerceml import read
from chalicelib.commerceml.model import Order
from tests.catalog_records import records
from tests.conftest import built_once
from tests.reliability import cml

DOBRO = "dobromyslov__commerceml-parser/data/"
KEY = {"X-Api-Key": "demo-key", "Content-Type": "application/json"}


def table_of(stack, tenant: str = "demo") -> set:
    """The records and the cards (listing values, stamps aside) a tenant's catalog holds."""
    cards = {(i["sk"], i["card"].split('"updated"')[0]) for i in stack.catalog_items(tenant) if "card" in i}
    return {(k, i, d, a) for k, i, d, a in records(stack.catalog_items(tenant))} | cards


@pytest.fixture
def reference(stack, samples):
    """The catalog a clean import of the sample gives, in tenant `clean`."""
    data = (samples / DOBRO / "import0_1.xml").read_bytes()
    stack.sample, stack.samples = data, samples

    def import_clean():
        accounts = wiring.container().accounts
        accounts.add("clean")
        accounts.set_1c_credentials("clean", "clean", "pw")
        assert stack.onec("clean", "pw").send_file("import0_1.xml", data).keyword == "success"
        return table_of(stack, "clean")

    return built_once("reference", import_clean)


@contextmanager
def failing(client, operation: str, times: int, code: str = "ProvisionedThroughputExceededException"):
    """The next `times` calls of `operation` fail as AWS would after its own retries."""
    left = {"n": times}

    def fail(**_):
        if left["n"] > 0:
            left["n"] -= 1
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    event = f"before-call.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register(event, fail)
    try:
        yield left
    finally:
        client.meta.events.unregister(event, fail)


def stalled_tenants() -> int:
    return sum(
        1
        for t in wiring.container().accounts.store.list()
        for j in wiring.container().exchange_store.jobs(t.id, limit=500)
        if j.status == "stalled"
    )


SEEDS = range(1, 31) if os.environ.get("SOAK") else range(1, 4)  # `make soak` tries many more


@pytest.mark.parametrize("seed", SEEDS)
def test_worker_stopped_at_a_random_point_resumes_to_the_clean_result(
    stack, reference, monkeypatch, losses, seed
):
    rng = random.Random(seed)
    stop_at = rng.randint(1, 3)
    original, calls = CatalogStore.write_changes, {"n": 0}

    def stopping(self, *args):
        calls["n"] += 1
        wait = original(self, *args)
        if calls["n"] != stop_at:
            return wait

        def killed():
            wait() if rng.random() < 0.5 else None  # some of the batch written, or none
            raise TimeoutError("Lambda stopped")

        return killed

    monkeypatch.setattr("chalicelib.exchange.apply.CHECKPOINT_EVERY", 20)
    monkeypatch.setattr(CatalogStore, "write_changes", stopping)
    reply = stack.onec().send_file("import0_1.xml", stack.sample)
    assert reply.keyword == "success", reply.text
    losses["items_lost"] = len(reference ^ table_of(stack))
    assert losses["items_lost"] == 0 and calls["n"] > stop_at


def test_dynamodb_throttling_then_a_clean_outcome(stack, reference, losses, monkeypatch):
    monkeypatch.setattr("chalicelib.exchange.apply.CHECKPOINT_EVERY", 20)
    with failing(wiring.container().catalog_store.table.client, "BatchWriteItem", 2) as left:
        reply = stack.onec().send_file("import0_1.xml", stack.sample)
    assert reply.keyword == "success" and left["n"] == 0
    losses["items_lost"] = len(reference ^ table_of(stack))
    assert losses["items_lost"] == 0


def test_s3_errors_then_a_clean_outcome(stack, reference, losses):
    with failing(wiring.container().blobs.s3, "GetObject", 2, "InternalError") as left:
        reply = stack.onec().send_file("import0_1.xml", stack.sample)
    assert reply.keyword == "success" and left["n"] == 0
    losses["items_lost"] = len(reference ^ table_of(stack))
    assert losses["items_lost"] == 0


def test_three_failures_mid_write_stall_then_the_next_import_finishes_it_first(
    stack, reference, losses, monkeypatch
):
    monkeypatch.setattr("chalicelib.exchange.apply.CHECKPOINT_EVERY", 20)
    original, calls = CatalogStore.write_changes, {"n": 0}

    def third_batch_always_fails(self, *args):
        calls["n"] += 1
        wait = original(self, *args)
        return wait if calls["n"] < 3 or calls["n"] > 5 else (lambda: (_ for _ in ()).throw(OSError("disk")))

    monkeypatch.setattr(CatalogStore, "write_changes", third_batch_always_fails)
    reply = stack.onec().send_file("import0_1.xml", stack.sample)
    assert reply.keyword == "failure" and "прервана" in reply.text, reply.text
    assert stalled_tenants() == 1
    # the next exchange (prices only) first finishes the stalled import, then runs
    offers = (stack.samples / DOBRO / "offers0_1.xml").read_bytes()
    reply = stack.onec().send_file("offers0_1.xml", offers)
    assert reply.keyword == "success", reply.text
    assert stack.onec("clean", "pw").send_file("offers0_1.xml", offers).keyword == "success"
    losses["items_lost"] = len(table_of(stack, "clean") ^ table_of(stack))
    losses["stalled_tenants"] = stalled_tenants()
    assert losses["items_lost"] == 0 and losses["stalled_tenants"] == 0


def test_a_stalled_import_resumes_with_the_admin_command(stack, reference, losses, monkeypatch, capsys):
    monkeypatch.setattr("chalicelib.exchange.apply.CHECKPOINT_EVERY", 20)
    with failing(wiring.container().catalog_store.table.client, "BatchWriteItem", 100, "InternalServerError"):
        monkeypatch.setattr("chalicelib.exchange.worker.MAX_ATTEMPTS", 1)
        reply = stack.onec().send_file("import0_1.xml", stack.sample)
    assert reply.keyword == "failure"
    job = next(j for j in wiring.container().exchange_store.jobs("demo") if j.status == "stalled")
    assert admin.main(["exchanges", "stalled", "demo"]) == 0 and job.id in capsys.readouterr().out
    assert admin.main(["exchanges", "resume", "demo", job.id]) == 0
    stack.pump.drain()
    assert wiring.container().exchange_store.get_job("demo", job.id).status == "done"
    losses["items_lost"] = len(reference ^ table_of(stack))
    losses["stalled_tenants"] = stalled_tenants()
    assert losses["items_lost"] == 0 and losses["stalled_tenants"] == 0


def test_duplicate_delivery_of_a_running_job_waits_for_the_lease(stack, reference, losses):
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.init()
    onec.upload("catalog", "import0_1.xml", stack.sample)
    assert onec.call("catalog", "import", filename="import0_1.xml").keyword == "progress"
    job = wiring.container().exchange_store.jobs("demo")[0]
    store = wiring.container().exchange_store
    assert store.acquire_lease("demo", f"{job.id}@first-invocation", 120)
    assert wiring.container().import_worker.run("demo", job.id, lambda: 900_000) == "busy"
    assert store.get_job("demo", job.id).status == "queued"
    store.release_lease("demo", f"{job.id}@first-invocation")
    assert wiring.container().import_worker.run("demo", job.id, lambda: 900_000) == "done"
    assert onec.call("catalog", "import", filename="import0_1.xml").keyword == "success"
    assert wiring.container().import_worker.run("demo", job.id, lambda: 900_000) == "skipped", "a later copy"
    losses["items_lost"] = len(reference ^ table_of(stack))
    assert losses["items_lost"] == 0


def test_a_killed_worker_frees_the_tenant_when_its_lease_runs_out(stack, reference, losses):
    store = wiring.container().exchange_store
    store.table.put_item(Item={"pk": "demo#lock", "sk": "import", "owner": "dead@x", "lease_until": 1})
    assert stack.onec().send_file("import0_1.xml", stack.sample).keyword == "success"
    losses["items_lost"] = len(reference ^ table_of(stack))
    assert losses["items_lost"] == 0


def test_dead_letters_end_as_failures_with_a_reason(stack, losses):
    import app

    onec = stack.onec()
    onec.checkauth()
    onec.init()
    onec.upload("catalog", "import.xml", cml.catalog(cml.product()))
    assert onec.call("catalog", "import", filename="import.xml").keyword == "progress"
    job = wiring.container().exchange_store.jobs("demo")[0]
    event = {"Records": [{"messageId": "m", "body": json.dumps({"tenant": "demo", "job": job.id})}]}
    from chalicelib.exchange import jobs

    assert jobs.handle_dead_letters(event, None) == {"batchItemFailures": []}
    reply = onec.call("catalog", "import", filename="import.xml")
    assert reply.keyword == "failure" and "нехватка памяти" in reply.text
    losses["stalled_tenants"] = stalled_tenants()
    assert losses["stalled_tenants"] == 0 and app.import_dead_letters is not None


def test_a_repeated_finish_announces_the_import_once(stack, monkeypatch):
    from chalicelib.aws.exchange_store import ExchangeStore

    original, crashed = ExchangeStore.save_job, {"n": 0}

    def crash_when_marking_done(self, tenant, job):
        if job.changes().get("status") == "done" and not crashed["n"]:
            crashed["n"] += 1
            raise TimeoutError("stopped between the event and done")
        return original(self, tenant, job)

    monkeypatch.setattr(ExchangeStore, "save_job", crash_when_marking_done)
    assert stack.onec().send_file("import.xml", cml.catalog(cml.product())).keyword == "success"
    events = [i for i in wiring.container().outbox.recent("demo") if i["event"] == "catalog.imported"]
    assert crashed["n"] == 1 and len(events) == 1


def test_a_scheduler_stopped_mid_delivery_counts_the_attempt(stack, monkeypatch):
    from chalicelib.aws.outbox import Outbox
    from chalicelib.notify.signing import MAX_ATTEMPTS

    posted = []
    sender = wiring.container().scheduler.sender
    monkeypatch.setattr(sender, "post", lambda url, body, headers: posted.append(headers) or (200, None))
    wiring.container().accounts.set_webhook("demo", ["https://shop.example/hooks"])
    event_id = wiring.container().outbox.add("demo", "order.created", {"order": {"id": "x"}})
    original = Outbox.settle

    def die(self, *args, **kwargs):
        raise TimeoutError("scheduler stopped after sending")

    monkeypatch.setattr(Outbox, "settle", die)
    with pytest.raises(TimeoutError):
        sender.deliver_due(wiring.container().accounts.require("demo"), "runner-1", deadline=float("inf"))
    assert int(wiring.container().outbox.get("demo", event_id)["attempts"]) == 1, "counted when claimed"
    monkeypatch.setattr(Outbox, "settle", original)
    wiring.container().outbox.table.update_item(
        Key={"pk": "demo#outbox", "sk": event_id},
        UpdateExpression="SET lease_until = :z",
        ExpressionAttributeValues={":z": 0},
    )
    sender.deliver_due(wiring.container().accounts.require("demo"), "runner-2", deadline=float("inf"))
    item = wiring.container().outbox.get("demo", event_id)
    assert item["status"] == "delivered" and int(item["attempts"]) == 2 <= MAX_ATTEMPTS
    assert {h["X-Cmlbridge-Delivery"] for h in posted} == {event_id}, "receivers can drop the repeat"


# -- orders ----------------------------------------------------------------------------------------
def place(stack, offer_id: str, quantity: int, key: str, **extra):
    body = {"customer": {"name": "Мария"}, "lines": [{"offer_id": offer_id, "quantity": quantity}], **extra}
    response = stack.client.http.request(
        "POST", "/api/v1/orders", headers={**KEY, "Idempotency-Key": key}, body=json.dumps(body).encode()
    )
    return response.status_code, json.loads(response.body)


def sale(stack):
    onec = stack.onec()
    assert onec.checkauth("sale").keyword == "success"
    onec.init("sale", version="2.08")
    return onec


def query(onec) -> list[Order]:
    response = onec.http.request(
        "GET", f"/1c_exchange?type=sale&mode=query&{onec.sessid}", headers={"Cookie": onec.cookie}
    )
    return [e for e in read(io.BytesIO(response.body), "q.xml") if isinstance(e, Order)]


def held(offer_id: str) -> int:
    return int(wiring.container().orders.store.holds("demo", [offer_id]).get(offer_id, 0))


def test_1c_dropping_the_line_after_query_loses_no_order(shop, losses):
    offer = shop.offer
    assert place(shop, offer.id, 1, "a")[0] == 201
    first = query(sale(shop))  # no success: the answer never reached 1C
    second = sale(shop)
    offered = query(second)
    assert [o.number for o in first] == [o.number for o in offered] != []
    assert second.call("sale", "success").keyword == "success"
    losses["orders_lost"] = len({o.number for o in first} - {o.number for o in offered})
    assert losses["orders_lost"] == 0 and query(sale(shop)) == []


def test_1c_repeating_success_confirms_once(shop, losses):
    offer = shop.offer
    assert place(shop, offer.id, 2, "b")[0] == 201
    onec = sale(shop)
    query(onec)
    assert onec.call("sale", "success").text.startswith("success\nзаказов принято 1С: 1")
    assert onec.call("sale", "success").text.startswith("success\nзаказов принято 1С: 0")
    losses["units_oversold"] = max(0, -held(offer.id))
    assert held(offer.id) == 2, "taken by 1C, held until its stock is reported again"


def test_a_lambda_dying_between_order_and_idempotency_record(shop, losses, monkeypatch):
    """The order and its key's marker are one transaction: the retry finds the order."""
    offer = shop.offer
    status, first = place(shop, offer.id, 1, "crash-key")
    assert status == 201
    # the idempotency record never got written: wipe powertools' record to replay the crash
    table = wiring.container().orders.store.table.meta.client
    table.delete_item(TableName="cmlbridge-dev-idempotency", Key={"id": next(_idempotency_ids())})
    status, again = place(shop, offer.id, 1, "crash-key")
    losses["units_oversold"] = held(offer.id) - 1
    assert status == 201 and again["id"] == first["id"] and again["number"] == first["number"]
    assert held(offer.id) == 1


def _idempotency_ids():
    client = wiring.container().orders.store.table.meta.client
    for item in client.scan(TableName="cmlbridge-dev-idempotency")["Items"]:
        yield item["id"]


def test_an_unrenderable_order_is_flagged_and_the_others_flow(shop, capsys):
    offer = shop.offer
    good = place(shop, offer.id, 1, "good")[1]
    bad = place(shop, offer.id, 1, "bad")[1]
    store = wiring.container().orders.store
    doc = store.get("demo", bad["id"])
    doc["comment"] = "сломано \x01"  # as if stored before the field checks existed
    store.table.update_item(
        Key={"pk": "demo#orders", "sk": bad["id"]},
        UpdateExpression="SET doc = :d",
        ExpressionAttributeValues={":d": json.dumps(doc, ensure_ascii=False)},
    )
    onec = sale(shop)
    response = onec.http.request(
        "GET", f"/1c_exchange?type=sale&mode=query&{onec.sessid}", headers={"Cookie": onec.cookie}
    )
    assert f"заказ {bad['number']} не передан".encode() in response.body
    offered = [e.number for e in read(io.BytesIO(response.body), "q.xml") if isinstance(e, Order)]
    assert offered == [good["number"]]
    assert admin.main(["orders", "flagged", "demo"]) == 0 and bad["id"] in capsys.readouterr().out
    assert admin.main(["orders", "fix", "demo", bad["id"], "comment=исправлено"]) == 0
    assert [o.number for o in query(sale(shop))] == [good["number"], bad["number"]]


def test_holds_end_on_cancellation_and_on_1c_stock_after_success(shop):
    offer = shop.offer
    first = place(shop, offer.id, 1, "h1")[1]
    second = place(shop, offer.id, 1, "h2")[1]
    assert held(offer.id) == 2
    assert admin.main(["orders", "cancel", "demo", second["id"]]) == 0
    assert held(offer.id) == 1, "a cancelled order gives its units back"
    onec = sale(shop)
    query(onec)
    onec.call("sale", "success")
    assert held(offer.id) == 1, "right after success 1C's stock is still the old one"
    rests = cml.offers(cml.offer(oid=offer.id, quantity=str(int(offer.total_stock) - 1)))
    assert shop.onec().send_file("rests___1.xml", rests).keyword == "success"
    assert held(offer.id) == 0, "1C's stock upload after success covers the order"
    assert (
        wiring.container().orders.get(wiring.container().accounts.require("demo"), first["id"])["status"]
        == "new"
    )


def test_a_file_uploaded_by_hand_never_ends_the_holds_of_orders_1c_took(shop, losses):
    """A person's upload (or replay) may be an old file whose stock does not count what 1C took
    since: the holds stay until 1C's own next stock report (an old file once put two sold units
    back on sale). The same file from 1C then ends them."""
    offer = shop.offer
    assert place(shop, offer.id, 2, "by-hand")[0] == 201
    onec = sale(shop)
    query(onec)
    assert onec.call("sale", "success").keyword == "success"
    rests = cml.offers(cml.offer(oid=offer.id, quantity=str(int(offer.total_stock))))  # the old stock
    container = wiring.container()
    by_hand = container.by_hand
    cookie = by_hand.start(container.accounts.require("demo"), "owner@demo.shop")
    assert by_hand.chunk(cookie, "rests___old.xml", rests).body.startswith("success")
    reply = by_hand.finish(cookie, "rests___old.xml")
    while reply.body.startswith("progress"):
        shop.pump.drain()
        reply = by_hand.finish(cookie, "rests___old.xml")
    assert reply.body.startswith("success"), reply.body
    losses["units_oversold"] = max(0, 2 - held(offer.id))
    assert held(offer.id) == 2, "the holds of the order 1C took stay"
    assert shop.onec().send_file("rests___1.xml", rests).keyword == "success"
    assert held(offer.id) == 0, "1C's own stock report ends them"
