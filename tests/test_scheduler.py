"""The scheduled run: signed webhooks to a real HTTP receiver, retries, dead letters, exports,
managers — through the same handler AWS invokes every minute."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib import admin, wiring
from chalicelib.commerceml import read
from chalicelib.commerceml.model import Order
from chalicelib.local.pump import LambdaContext
from chalicelib.tenants import TenantError
from tests.catalog_records import docs

DOBRO = "dobromyslov__commerceml-parser/data/"
SECRET = "test-secret-" + "0123456789abcdef" * 4


class Receiver:
    """A webhook endpoint on 127.0.0.1: answers `statuses` in turn (then 200), records requests."""

    def __init__(self, statuses: list[int] | None = None, always: int | None = None) -> None:
        self.statuses, self.always, self.requests = list(statuses or []), always, []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = receiver.always or (receiver.statuses.pop(0) if receiver.statuses else 200)
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "status": status})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[dict]:
        return [r for r in self.requests if 200 <= r["status"] < 300]


class Clock:
    """Real time plus however far a test has jumped ahead."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock(stack, monkeypatch):
    fake = Clock()
    wiring.container().scheduler.sender.clock = fake
    return fake


def run_schedule(stack):
    event = {
        "version": "0",
        "id": "e",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-28T12:00:00Z",
        "region": "eu-central-1",
        "resources": [],
        "detail": {},
    }
    import app

    return app.scheduler(event, LambdaContext("scheduler", 120_000))


def hook(receiver: Receiver) -> None:
    wiring.container().accounts.set_webhook("demo", [receiver.url], SECRET)


def readme_verify(secret: str, headers: dict, body: bytes) -> bool:
    """The recipe from README.md, verbatim."""
    timestamp = headers["X-Cmlbridge-Timestamp"]
    expected = (
        "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    return any(hmac.compare_digest(expected, s.strip()) for s in headers["X-Cmlbridge-Signature"].split(","))


def test_signed_delivery_verifies_with_the_readme_recipe(stack, clock):
    receiver = Receiver()
    hook(receiver)
    event_id = wiring.container().outbox.add(
        "demo", "catalog.imported", {"file": "import.xml", "counts": {"created": 3}}
    )
    run_schedule(stack)
    (request,) = receiver.requests
    assert readme_verify(SECRET, request["headers"], request["body"])
    assert not readme_verify("other-secret", request["headers"], request["body"])
    assert request["headers"]["X-Cmlbridge-Event"] == "catalog.imported"
    assert request["headers"]["X-Cmlbridge-Delivery"] == event_id
    body = json.loads(request["body"])
    assert (
        body["event"] == "catalog.imported"
        and body["data"]["counts"] == {"created": 3}
        and body["tenant"] == "demo"
    )
    run_schedule(stack)
    assert len(receiver.requests) == 1, "a delivered event is not sent again"


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(stack, clock):
    receiver = Receiver()
    hook(receiver)
    newer = "rotated-" + "fedcba9876543210" * 4
    wiring.container().accounts.set_webhook("demo", [receiver.url], newer)
    wiring.container().outbox.add("demo", "order.created", {"order": {"id": "1"}})
    run_schedule(stack)
    (both,) = receiver.requests
    assert both["headers"]["X-Cmlbridge-Signature"].count("sha256=") == 2
    assert readme_verify(newer, both["headers"], both["body"]) and readme_verify(
        SECRET, both["headers"], both["body"]
    )
    clock.offset += 24 * 3600 + 60
    wiring.container().outbox.add("demo", "order.created", {"order": {"id": "2"}})
    run_schedule(stack)
    later = receiver.requests[-1]
    assert readme_verify(newer, later["headers"], later["body"])
    assert not readme_verify(SECRET, later["headers"], later["body"]), "the old secret stops after a day"


def test_an_owner_with_no_receiver_hears_of_a_failing_exchange_by_email(stack, clock):
    """`exchange.failed` reaches the owner's address (the deployment's MAIL_FROM through SES, on
    moto here): in Russian, with both failures; logged like a webhook delivery; other events are
    not mailed; an address that is not one is refused when set."""
    from moto.ses.models import ses_backends

    from chalicelib.aws.clients import client
    from chalicelib.aws.mail import SesMailer

    client("ses").verify_email_identity(EmailAddress="notices@provider.example")
    sender = wiring.container().scheduler.sender
    sender.mailer, sender.mail_from = SesMailer(), "notices@provider.example"
    with pytest.raises(TenantError, match="notify_email"):
        wiring.container().accounts.update_settings("demo", notify_email="owner@shop.ru, boss@shop.ru")
    wiring.container().accounts.update_settings("demo", notify_email="owner@shop.ru")
    onec = stack.onec()
    for _ in range(2):
        assert onec.send_file("import.xml", "<?xml version='1.0'?><Каталог>".encode()).keyword == "failure"
    wiring.container().outbox.add("demo", "order.created", {"order": {"id": "x"}})
    run_schedule(stack)
    (mail,) = ses_backends["123456789012"]["eu-central-1"].sent_messages
    assert mail.destinations["ToAddresses"] == ["owner@shop.ru"] and mail.source == "notices@provider.example"
    assert "не загрузился два раза подряд" in mail.subject and "import.xml" in mail.body, mail.body
    failed = next(e for e in wiring.container().outbox.recent("demo") if e["event"] == "exchange.failed")
    assert failed["status"] == "delivered" and failed["deliveries"][0]["url"] == "mailto:owner@shop.ru"
    assert failed["deliveries"][0]["status_code"] == 202


def test_failing_twice_then_succeeding_gives_one_delivery(stack, clock):
    receiver = Receiver(statuses=[500, 503])
    hook(receiver)
    event_id = wiring.container().outbox.add("demo", "order.status_changed", {"order": {"id": "x"}})
    for _ in range(5):
        run_schedule(stack)
        clock.offset += 13 * 3600  # past any backoff
    assert [r["status"] for r in receiver.requests] == [500, 503, 200]
    assert len(receiver.delivered()) == 1
    item = wiring.container().outbox.get("demo", event_id)
    assert item["status"] == "delivered" and int(item["attempts"]) == 3
    assert [d["status_code"] for d in item["deliveries"]] == [500, 503, 200]


def test_backoff_waits_between_attempts(stack, clock):
    receiver = Receiver(always=500)
    hook(receiver)
    wiring.container().outbox.add("demo", "order.created", {"order": {"id": "x"}})
    run_schedule(stack)
    run_schedule(stack)  # too early for the retry
    assert len(receiver.requests) == 1
    clock.offset += 75
    run_schedule(stack)
    assert len(receiver.requests) == 2


def test_always_failing_ends_dead(stack, clock):
    receiver = Receiver(always=500)
    hook(receiver)
    wiring.container().scheduler.sender.max_attempts = 4
    event_id = wiring.container().outbox.add("demo", "order.created", {"order": {"id": "x"}})
    for _ in range(8):
        run_schedule(stack)
        clock.offset += 13 * 3600
    assert len(receiver.requests) == 4
    item = wiring.container().outbox.get("demo", event_id)
    assert item["status"] == "dead" and item["targets"][receiver.url]["last_error"] == "HTTP 500"
    assert admin.main(["deliveries", "redeliver", "demo", event_id]) == 0
    receiver.always = None
    run_schedule(stack)
    assert wiring.container().outbox.get("demo", event_id)["status"] == "delivered"


def test_two_runs_at_once_deliver_each_event_once(stack, clock, atomic_dynamodb):
    receiver = Receiver()
    hook(receiver)
    ids = {
        wiring.container().outbox.add("demo", "order.created", {"order": {"id": str(n)}}) for n in range(12)
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: run_schedule(stack), range(2)))
    delivered = [r["headers"]["X-Cmlbridge-Delivery"] for r in receiver.requests]
    assert sorted(delivered) == sorted(ids)


def test_prod_refuses_plain_http_webhooks(stack, clock):
    receiver = Receiver()
    hook(receiver)
    wiring.container().scheduler.sender.require_https = True
    event_id = wiring.container().outbox.add("demo", "order.created", {"order": {"id": "x"}})
    run_schedule(stack)
    assert receiver.requests == []
    item = wiring.container().outbox.get("demo", event_id)
    assert item["status"] == "dead" and "https" in item["targets"][receiver.url]["last_error"]


def place(stack, n: int) -> dict:
    payload = {
        "customer": {"name": f"Покупатель {n}"},
        "lines": [{"offer_id": stack.offer.id, "quantity": 1}],
    }
    response = stack.client.http.request(
        "POST",
        "/api/v1/orders",
        headers={"X-Api-Key": "demo-key", "Content-Type": "application/json", "Idempotency-Key": f"k{n}"},
        body=json.dumps(payload).encode(),
    )
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def test_export_file_lists_exactly_the_waiting_orders(shop, clock):
    orders = [place(shop, n) for n in range(3)]
    run_schedule(shop)
    blobs = wiring.container().blobs
    latest = blobs.get("exports/demo/orders/latest.xml")
    docs = [e for e in read(io.BytesIO(latest), "latest.xml") if isinstance(e, Order)]
    assert sorted(d.id for d in docs) == sorted(o["id"] for o in orders)
    archived = [k for k in blobs.keys("exports/demo/orders/") if k.endswith("Z.xml")]
    assert len(archived) == 1
    run_schedule(shop)
    assert len([k for k in blobs.keys("exports/demo/orders/") if k.endswith("Z.xml")]) == 1, (
        "unchanged: not rewritten"
    )
    onec = shop.onec()
    onec.checkauth("sale")
    onec.init("sale", version="2.08")
    onec.http.request(
        "GET", f"/1c_exchange?type=sale&mode=query&{onec.sessid}", headers={"Cookie": onec.cookie}
    )
    assert onec.call("sale", "success").keyword == "success"
    run_schedule(shop)
    latest = blobs.get("exports/demo/orders/latest.xml")
    assert [e for e in read(io.BytesIO(latest), "latest.xml") if isinstance(e, Order)] == []


def test_managers_alternate_and_reach_1c(shop, clock):
    receiver = Receiver()
    hook(receiver)
    wiring.container().accounts.update_settings("demo", managers=("Иванов", "Петров"))
    orders = [place(shop, n) for n in range(3)]
    assert [o["manager"] for o in orders] == ["Иванов", "Петров", "Иванов"]
    onec = shop.onec()
    onec.checkauth("sale")
    onec.init("sale", version="2.08")
    response = onec.http.request(
        "GET", f"/1c_exchange?type=sale&mode=query&{onec.sessid}", headers={"Cookie": onec.cookie}
    )
    docs = {d.id: d for d in read(io.BytesIO(response.body), "q.xml") if isinstance(d, Order)}
    assert [docs[o["id"]].requisites["ОтветственныйМенеджер"] for o in orders] == [
        "Иванов",
        "Петров",
        "Иванов",
    ]
    run_schedule(shop)
    events = [json.loads(r["body"]) for r in receiver.requests]
    assigned = [e["data"]["manager"] for e in events if e["event"] == "order.assigned"]
    assert sorted(assigned) == ["Иванов", "Иванов", "Петров"]
    assert sum(e["event"] == "order.created" for e in events) == 3


def test_manager_rules_by_region_and_amount(shop, clock):
    """The first matching rule wins: a region rule, then a minimum-amount rule, else round-robin."""
    price = next(p.value for p in shop.offer.prices)
    wiring.container().accounts.update_settings(
        "demo",
        managers=("Иванов", "Петров"),
        manager_rules=(
            {"manager": "Сидоров", "region": "казань"},
            {"manager": "Крупнов", "min_amount": str(price * 2)},
        ),
    )

    def manager(address: str, quantity: int, key: str) -> str:
        payload = {
            "customer": {"name": "Клиент", "address": address},
            "lines": [{"offer_id": shop.offer.id, "quantity": quantity}],
        }
        response = shop.client.http.request(
            "POST",
            "/api/v1/orders",
            headers={"X-Api-Key": "demo-key", "Content-Type": "application/json", "Idempotency-Key": key},
            body=json.dumps(payload).encode(),
        )
        return json.loads(response.body)["manager"]

    assert manager("Казань, ул. Баумана", 1, "kzn") == "Сидоров", "by region"
    assert manager("Москва, ул. Ленина", 2, "big") == "Крупнов", "by amount"
    assert manager("Москва, ул. Ленина", 1, "small") in ("Иванов", "Петров"), "neither rule: round-robin"


def test_managers_configured_later_are_assigned_by_the_schedule(shop, clock):
    order = place(shop, 1)
    assert order["manager"] is None
    wiring.container().accounts.update_settings("demo", managers=("Петров",))
    run_schedule(shop)
    stored = json.loads(
        shop.client.http.request(
            "GET", f"/api/v1/orders/{order['id']}", headers={"X-Api-Key": "demo-key"}
        ).body
    )
    assert stored["manager"] == "Петров"


def test_an_exchange_1c_leaves_without_complete_is_closed_by_the_schedule(stack, clock):
    """Old clients never send `complete`: a full file's absent products go once the exchange has
    been quiet for QUIET_SECONDS, on the schedule's run — not before, and once."""
    from chalicelib.exchange.ends import QUIET_SECONDS
    from tests.reliability import cml

    ends = wiring.container().scheduler.exchange_ends
    ends.clock = clock
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("old", "Снят"))).keyword == "success"
    full = cml.catalog(cml.product("a", "A"), only_changes=False)
    assert onec.send_file("import.xml", full).keyword == "success"
    run_schedule(stack)
    stack.pump.drain()
    assert {p: d["active"] for p, d in docs(stack.catalog_items(), "product").items()} == {
        "old": True,
        "a": True,
    }
    clock.offset = QUIET_SECONDS + 1
    assert run_schedule(stack)["demo"]["exchange_closed"] is True
    stack.pump.drain()
    assert {p: d["active"] for p, d in docs(stack.catalog_items(), "product").items()} == {
        "old": False,
        "a": True,
    }
    assert "exchange_closed" not in run_schedule(stack)["demo"]


def test_an_unchanged_export_costs_no_s3_read_for_ten_minutes():
    """Every minute, every tenant: the export marker is read from S3 only when this container has
    not seen it within EXPORT_TRUST_SECONDS (the fleet's S3 GETs were a cost of their own)."""
    from chalicelib.accounts import Accounts, InMemoryTenantStore
    from chalicelib.memory import InMemoryBlobStore
    from chalicelib.notify import scheduler as schedule

    class CountingBlobs(InMemoryBlobStore):
        gets = 0

        def get(self, key):
            CountingBlobs.gets += 1
            return super().get(key)

    class Waiting:
        fingerprint = "f1"

        def render_waiting(self, tenant, encoding=None):
            return b"<x/>", self.fingerprint, ["1"], []

    accounts = Accounts(InMemoryTenantStore())
    accounts.add("shop")
    tenant = accounts.require("shop")
    orders, blobs = Waiting(), CountingBlobs()
    run = schedule.Scheduler(accounts, orders, blobs, sender=None)
    assert run.export(tenant) == 1 and run.export(tenant) is None
    reads = CountingBlobs.gets
    assert run.export(tenant) is None and CountingBlobs.gets == reads, "seen a moment ago: no read"
    orders.fingerprint = "f2"
    assert run.export(tenant) == 1, "a change is written at once"
    other = schedule.Scheduler(accounts, orders, blobs, sender=None)  # another container
    assert other.export(tenant) is None and CountingBlobs.gets == reads + 2
