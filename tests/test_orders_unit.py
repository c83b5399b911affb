"""Order placement, 1C's flow, webhook delivery and the schedule on the in-memory twins: no moto,
no network. The catalog comes in through the real worker (on twins) from CommerceML documents."""

from __future__ import annotations

import io
import time

import pytest

from chalicelib.accounts import Accounts
from chalicelib.commerceml import write_orders
from chalicelib.commerceml.model import Order
from chalicelib.memory import InMemoryBlobStore, InMemoryOrdersStore
from chalicelib.notify.scheduler import Scheduler
from chalicelib.notify.webhooks import WebhookSender
from chalicelib.orders.rules import OrderRejected
from chalicelib.orders.service import Orders
from tests.reliability import cml
from tests.test_worker_unit import Room


@pytest.fixture
def room():
    room = Room()
    assert room.send("import.xml", cml.catalog(cml.product("p1", "Чайник"))).keyword == "success"
    assert (
        room.send("offers.xml", cml.offers(cml.offer("p1", quantity="3", price="500"))).keyword == "success"
    )
    room.orders = Orders(InMemoryOrdersStore(), room.catalog)
    room.tenant = room.accounts.require("shop")
    return room


def body(quantity: int = 1) -> dict:
    return {
        "customer": {"name": "Анна Ли", "phone": "+7 900 1"},
        "lines": [{"offer_id": "p1", "quantity": quantity}],
    }


def test_an_order_is_priced_held_and_found_again_by_its_key(room):
    placed = room.orders.place(room.tenant, body(2), "key-1")
    assert placed["totals"]["total"] == 1000 and placed["status"] == "new" and placed["number"] == "1"
    assert room.orders.place(room.tenant, body(2), "key-1")["id"] == placed["id"], (
        "the same key: the same order"
    )
    with pytest.raises(OrderRejected) as rejected:
        room.orders.place(room.tenant, body(2), "key-2")
    assert "only 1 available" in rejected.value.problems[0]["reason"]


def test_1c_takes_the_order_and_its_statuses_come_back(room):
    placed = room.orders.place(room.tenant, body(1), "k")
    data, count, skipped = room.orders.query_document(room.tenant, "session-1", "utf-8")
    assert count == 1 and skipped == [] and placed["id"].encode() in data
    assert (
        room.orders.confirm(room.tenant, "session-1") == 1
        and room.orders.confirm(room.tenant, "other") is None
    )
    assert room.orders.query_document(room.tenant, "session-2", "utf-8")[1] == 0
    document = write_orders(
        [
            Order(
                id=placed["id"],
                number="1",
                date="2026-11-29",
                amount=placed["totals"]["total"],
                requisites={"Статуса заказа ИД": "S", "Идентификатор отправления": "RA1"},
            )
        ]
    )
    report = room.orders.apply_documents(room.tenant, io.BytesIO(document), "documents.xml")
    assert report["updated"] == 1
    order = room.orders.get(room.tenant, placed["id"])
    assert order["status"] == "shipped" and order["tracking_number"] == "RA1"
    held = room.orders.store.holds("shop", ["p1"])["p1"]
    assert held == 1, "taken by 1C, held until 1C reports the stock again"
    assert room.orders.cancel(room.tenant, placed["id"], "передумал", by="admin")
    assert room.orders.store.holds("shop", ["p1"])["p1"] == 0


def test_webhooks_retry_then_die_with_every_attempt_counted(room):
    room.accounts.set_webhook("shop", ["https://room.example/hooks"])
    answers = iter([(500, "HTTP 500"), (None, "timed out"), (200, None)])
    sent = []

    def post(url, payload, headers):
        sent.append(headers["X-Cmlbridge-Delivery"])
        return next(answers)

    clock = {"now": time.time()}
    outbox = room.orders.store.outbox
    sender = WebhookSender(outbox, post=post, clock=lambda: clock["now"], max_attempts=3)
    event_id = outbox.add("shop", "order.created", {"order": {"id": "x"}})
    tenant = room.accounts.require("shop")
    for _ in range(3):
        sender.deliver_due(tenant, "runner", deadline=time.monotonic() + 10)
        clock["now"] += 3600
    item = outbox.get("shop", event_id)
    assert item["status"] == "delivered" and item["attempts"] == 3 and sent == [event_id] * 3
    dead_id = outbox.add("shop", "order.created", {"order": {"id": "y"}})
    never = WebhookSender(
        outbox, post=lambda *a: (503, "HTTP 503"), clock=lambda: clock["now"], max_attempts=2
    )
    for _ in range(3):
        never.deliver_due(tenant, "runner", deadline=time.monotonic() + 10)
        clock["now"] += 3600
    assert outbox.get("shop", dead_id)["status"] == "dead"


def test_the_schedule_exports_waiting_orders_for_every_tenant(room):
    blobs = InMemoryBlobStore()
    accounts: Accounts = room.accounts
    sender = WebhookSender(room.orders.store.outbox, post=lambda *a: (200, None))
    room.orders.place(room.tenant, body(1), "k")
    summary = Scheduler(accounts, room.orders, blobs, sender).run(lambda: 60_000)
    assert summary["shop"]["exported"] == 1
    assert "<Документ>".encode() in blobs.get("exports/shop/orders/latest.xml")
    again = Scheduler(accounts, room.orders, blobs, sender).run(lambda: 60_000)
    assert again["shop"]["exported"] is None, "unchanged orders are not written again"


def test_a_bad_order_names_every_bad_field(room):
    from chalicelib.orders.rules import InvalidOrder

    bad = {
        "customer": {"name": " ", "email": "nope", "address": {"city": "М", "planet": "Марс"}},
        "lines": [{"offer_id": "p1", "quantity": "NaN"}, {"offer_id": "p1", "quantity": 1}],
        "delivery": {"price": -1},
        "comment": "позвонить\x07",
    }
    with pytest.raises(InvalidOrder) as refused:
        room.orders.place(room.tenant, bad, "k")
    fields = {d["field"] for d in refused.value.details}
    assert {"customer.name", "customer.email", "customer.address.planet", "lines[0].quantity"} <= fields
    assert {"delivery.price", "comment"} <= fields and str(refused.value).startswith("customer.name")


def test_a_slow_receiver_never_holds_up_another_tenants_deliveries(room):
    """Two tenants whose receivers each take 1.5 s and one whose receiver answers at once: one run
    delivers all three in about the slowest one's time, whatever order the tenants come in."""
    accounts: Accounts = room.accounts
    outbox = room.orders.store.outbox
    for tenant in ("slow-a", "slow-b", "quick"):
        accounts.add(tenant)
        accounts.set_webhook(tenant, [f"https://{tenant}.example/hooks"])
        outbox.add(tenant, "order.created", {"order": {"id": tenant}})
    started, arrived = time.monotonic(), {}

    def post(url, payload, headers):
        if "slow" in url:
            time.sleep(1.5)
        arrived[url.split("//")[1].split(".")[0]] = time.monotonic() - started
        return 200, None

    summary = Scheduler(accounts, room.orders, InMemoryBlobStore(), WebhookSender(outbox, post=post)).run(
        lambda: 60_000
    )
    assert {t: summary[t].get("delivered") for t in arrived} == {"slow-a": 1, "slow-b": 1, "quick": 1}
    assert arrived["quick"] < 1.0, "the quick tenant never waits for a slow receiver"
    assert max(arrived.values()) < 2.8, "the slow receivers were called side by side, not one after the other"


@pytest.mark.parametrize(
    ("before", "confirmed", "cancelled", "after", "give_back"),
    [
        ("held", False, False, "held", "nothing"),
        ("held", True, False, "taken", "nothing"),
        ("held", False, True, "released", "held units"),
        ("held", True, True, "released", "held units"),
        ("taken", False, False, "taken", "nothing"),
        ("taken", False, True, "released", "taken lines"),
        ("released", False, False, "released", "nothing"),
        ("released", True, True, "released", "nothing"),
    ],
)
def test_every_hold_move_is_in_one_table(before, confirmed, cancelled, after, give_back):
    from chalicelib.orders.holds import Hold, move

    step = move(Hold(before), confirmed=confirmed, cancelled=cancelled)
    assert (step.after, step.give_back.value) == (after, give_back)


def test_orders_stored_before_holds_were_get_theirs_from_what_happened():
    from chalicelib.orders.holds import hold_of

    assert hold_of({"status": "new"}) == "held"
    assert hold_of({"status": "new", "exported_at": "2026-01-01T00:00:00Z"}) == "released"
    assert hold_of({"status": "cancelled"}) == "released"
    assert hold_of({"status": "new", "hold": "taken"}) == "taken"


@pytest.mark.parametrize(
    ("customer", "parts"),
    [
        ({"name": "Иван Петров"}, ("Петров", "Иван", None)),
        ({"name": "Петров Иван Сергеевич"}, ("Петров", "Иван", "Сергеевич")),
        ({"name": "Алиева Айгуль Рашид кызы"}, ("Алиева", "Айгуль", "Рашид кызы")),
        ({"name": "Мамедов Эльчин Ильхам оглы"}, ("Мамедов", "Эльчин", "Ильхам оглы")),
        ({"name": "Анна Мария Ли"}, ("Мария Ли", "Анна", None)),
        ({"name": "Мадонна"}, (None, "Мадонна", None)),
        ({"name": "x", "last_name": "Ли", "first_name": "Анна"}, ("Ли", "Анна", None)),
    ],
)
def test_a_name_reaches_1c_in_parts_as_the_api_says(customer, parts):
    from chalicelib.commerceml.site_orders import name_parts

    assert name_parts(customer) == parts


@pytest.mark.parametrize(
    ("order_currency", "base", "sent"),
    [
        (None, "RUB", "RUB"),
        ("руб", "RUB", "RUB"),
        ("RUB", "руб", "руб"),
        ("USD", "RUB", "USD"),
        ("eur", "EUR", "EUR"),
    ],
)
def test_the_document_says_the_currency_its_prices_are_in(order_currency, base, sent):
    from chalicelib.commerceml.site_orders import document_currency

    assert document_currency(order_currency, base) == sent


def test_contact_keys_are_normalised_and_bounded():
    from chalicelib.orders.customers import contact_keys, matched

    assert contact_keys({"email": " A@B.ru ", "phone": "8 (999) 123-45-67"}) == [
        "email:a@b.ru",
        "phone:79991234567",
    ]
    assert contact_keys({"email": "x" * 300 + "@b.ru", "phone": "1" * 40}) == [], (
        "1C's unbounded text never makes a key"
    )
    assert contact_keys({"email": "not an address", "phone": "12"}) == []
    known = {"email:a@b.ru": "c-1", "phone:79991234567": "c-2"}
    assert matched({"email": "A@b.ru", "phone": "+7 999 123 45 67"}, known) == ("c-1", "email")
    assert matched({"phone": "+7 999 123 45 67"}, known) == ("c-2", "phone") and matched({}, known) is None


def test_a_1c_contragent_id_too_long_for_a_customer_key_is_left_out():
    from chalicelib.commerceml.model import Contractor, Order
    from chalicelib.orders.from_1c import order_from_1c

    doc = Order(
        id="1c-1",
        number="УТ-9",
        date="2026-12-05",
        amount=None,
        contractors=[Contractor(id="x" * 5000, name="Пётр")],
    )
    assert "id" not in order_from_1c(doc, "7")["customer"]
    doc.contractors[0].id = "k-7"
    assert order_from_1c(doc, "7")["customer"]["id"] == "k-7"


def test_currencies_as_1c_names_them_read_as_iso_4217():
    from chalicelib.values import iso_currency

    assert [iso_currency(v) for v in ("руб", "руб.", " RUB ", "RUR", "643", "грн", "тенге", "eur", "$")] == [
        "RUB", "RUB", "RUB", "RUB", "RUB", "UAH", "KZT", "EUR", "USD",
    ]  # fmt: skip
    assert iso_currency("фантики") is None and iso_currency(None) is None
