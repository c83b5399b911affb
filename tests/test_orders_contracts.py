"""One contract for the orders table and its outbox, run against the in-memory twin, moto and
DynamoDB Local (where its transactions are the engine's own): what order placement, 1C's flow
and webhook delivery rely on."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from chalicelib.memory import InMemoryOrdersStore
from chalicelib.ports import AlreadyPlaced, HoldConflict, StaleOrder, new_id
from tests.conftest import table_on_engine


@pytest.fixture(params=["memory", "moto", "dynamodb-local"])
def stores(request, monkeypatch):
    """(orders store, outbox) of one kind."""
    if request.param == "memory":
        store = InMemoryOrdersStore()
        yield store, store.outbox
        return
    from chalicelib.aws import clients
    from chalicelib.aws.orders_store import OrdersStore
    from chalicelib.aws.outbox import Outbox

    table = table_on_engine(request, monkeypatch, "OrdersTable")
    yield OrdersStore(table), Outbox(table)
    clients.reset()


def order(number: str, customer: str | None = None, lines=(("o1", 1),)) -> dict:
    return {
        "id": new_id(),
        "number": number,
        "status": "new",
        "customer": {"name": "К", **({"id": customer} if customer else {})},
        "lines": [{"offer_id": o, "quantity": q} for o, q in lines],
    }


def test_an_order_with_its_holds_number_events_and_key_is_all_or_nothing(stores):
    store, outbox = stores
    first = order("1")
    store.create(
        "t", first, [("o1", Decimal(2), Decimal(3))], [{"event": "order.created", "payload": {"n": 1}}], "k1"
    )
    assert store.get("t", first["id"])["number"] == "1" and store.by_number("t", "1")["id"] == first["id"]
    assert store.holds("t", ["o1", "o2"]) == {"o1": 2}
    with pytest.raises(HoldConflict) as conflict:
        store.create("t", order("2"), [("o1", Decimal(2), Decimal(3))], [], "k2")
    assert conflict.value.offer_ids == ["o1"]
    assert store.by_number("t", "2") is None and store.holds("t", ["o1"]) == {"o1": 2}, (
        "nothing of it written"
    )
    with pytest.raises(AlreadyPlaced) as placed:
        store.create("t", order("3"), [("o1", Decimal(1), Decimal(3))], [], "k1")
    assert placed.value.order_id == first["id"] and store.by_idempotency_key("t", "k1")["id"] == first["id"]
    assert [e["event"] for e in outbox.recent("t")] == ["order.created"]
    assert store.waiting_for_1c("t")[0]["id"] == first["id"] and store.next_number("t") == 1


def test_what_orders_hold_is_read_per_offer_in_one_query(stores):
    store, _ = stores
    held = [
        ("p1#a", Decimal(2), Decimal(5)),
        ("p1#b", Decimal(1), Decimal(5)),
        ("p2", Decimal(3), Decimal(5)),
    ]
    store.create("t", order("1", lines=[(o, int(q)) for o, q, _ in held]), held, [], "k1")
    store.create("u", order("1", lines=[("p1#a", 4)]), [("p1#a", Decimal(4), Decimal(5))], [], "k1")
    assert store.held_offers("t") == {"p1#a": 2, "p1#b": 1, "p2": 3}
    assert store.held_offers("nobody") == {}


def test_each_query_counts_what_it_offered(stores):
    store, _ = stores
    store.remember_query("t", "s1", ["a", "b"])
    store.remember_query("t", "s2", ["a"])
    offered = store.offered("t", ["a", "b", "c"])
    assert {k: v["times"] for k, v in offered.items()} == {"a": 2, "b": 1}
    assert offered["a"]["first_at"] <= offered["a"]["last_at"] and store.queried("t", "s2") == ["a"]
    assert store.offered("u", ["a"]) == {}


def test_holds_of_more_offers_than_one_batch_are_all_read(stores):
    """A product view asks for every offer's holds: past BatchGetItem's 100 keys too."""
    store, _ = stores
    held = [(f"o{n:03d}", Decimal(1), Decimal(5)) for n in range(0, 150, 7)] + [
        ("o149", Decimal(2), Decimal(5))
    ]
    store.create("t", order("1", lines=[(o, int(q)) for o, q, _ in held]), held, [], "k1")
    assert store.holds("t", [f"o{n:03d}" for n in range(150)]) == {o: q for o, q, _ in held}


def test_updates_check_the_version_and_confirmation_takes_the_holds(stores):
    store, _ = stores
    placed = order("1", lines=(("o1", 2),))
    store.create("t", placed, [("o1", Decimal(2), Decimal(5))], [])
    assert store.version("t", placed["id"]) == 1 and store.is_waiting("t", placed["id"])
    taken = {**placed, "hold": "taken"}
    store.update("t", taken, 1, [], confirm=True, take=[("o1", Decimal(2))])
    with pytest.raises(StaleOrder):
        store.update("t", taken, 1, [])
    assert not store.is_waiting("t", placed["id"]) and store.waiting_for_1c("t") == []
    lines = store.taken("t")
    assert [(i["offer_id"], int(i["quantity"])) for i in lines] == [("o1", 2)]
    assert store.holds("t", ["o1"]) == {"o1": 2}, "held until 1C reports stock"
    assert store.release_taken("t", lines[0]) and not store.release_taken("t", lines[0])
    assert store.holds("t", ["o1"]) == {"o1": 0} and store.taken("t") == []


def test_queries_pages_and_a_customers_orders(stores):
    store, _ = stores
    ids = []
    for n in range(3):
        placed = order(str(n), customer="c1" if n != 1 else "c2")
        store.create("t", placed, [], [])
        ids.append(placed["id"])
        time.sleep(0.002)
    store.remember_query("t", "session", ids[:2])
    assert store.queried("t", "session") == ids[:2] and store.queried("t", "other") is None
    page, after = store.page("t", None, 2, None)
    assert [o["id"] for o in page] == ids[:2] and after == ids[1]
    assert [o["id"] for o in store.page("t", after, 2, None)[0]] == [ids[2]]
    mine, cursor = store.customer_page("t", "c1", None, 1)
    assert [o["id"] for o in mine] == [ids[2]] and cursor == ids[2]
    assert [o["id"] for o in store.customer_page("t", "c1", cursor, 5)[0]] == [ids[0]]


def test_the_outbox_claims_each_event_for_one_runner(stores):
    _, outbox = stores
    now = int(time.time())
    event_id = outbox.add("t", "catalog.imported", {"file": "import.xml"})
    assert outbox.add("t", "catalog.imported", {"file": "x"}, event_id="fixed-1") == "fixed-1"
    assert outbox.add("t", "catalog.imported", {"file": "y"}, event_id="fixed-1") == "fixed-1"
    assert '"x"' in outbox.get("t", "fixed-1")["payload"], "an event with an id is added once"
    assert {e["id"] for e in outbox.due("t", now + 1, 10)} == {event_id, "fixed-1"}
    claimed = outbox.claim("t", event_id, "runner-a", now, 60)
    assert int(claimed["attempts"]) == 1 and outbox.claim("t", event_id, "runner-b", now, 60) is None
    outbox.settle("t", event_id, "runner-a", "pending", 1, now + 120, {}, [])
    assert event_id not in {e["id"] for e in outbox.due("t", now + 1, 10)}
    assert event_id in {e["id"] for e in outbox.due("t", now + 121, 10)}
    assert outbox.claim("t", event_id, "runner-b", now + 121, 60) is not None
    outbox.settle("t", event_id, "runner-b", "delivered", 2, None, {"u": {"status": "delivered"}}, [])
    assert outbox.get("t", event_id)["status"] == "delivered" and event_id not in {
        e["id"] for e in outbox.due("t", now + 1000, 10)
    }
    assert outbox.redeliver("t", event_id) and outbox.get("t", event_id)["status"] == "pending"
    assert not outbox.redeliver("t", "no-such-event")


def test_an_orders_customer_is_found_again_by_email_and_phone(stores):
    """Each order with the shop's customer id records its e-mail and phone (the latest order's
    customer wins); one read answers several keys, and keys nobody gave are simply absent."""
    store, _ = stores
    first = order("1", customer="c-1")
    first["customer"] |= {"email": " Anna@Example.TEST ", "phone": "8 (999) 123-45-67"}
    store.create("t", first, [], [])
    anonymous = order("2")
    anonymous["customer"] |= {"email": "guest@example.test"}
    store.create("t", anonymous, [], [])
    keys = ["email:anna@example.test", "phone:79991234567", "email:guest@example.test", "phone:700"]
    assert store.customers_by_contact("t", keys) == {
        "email:anna@example.test": "c-1",
        "phone:79991234567": "c-1",
    }
    later = order("3", customer="c-2")
    later["customer"] |= {"email": "anna@example.test"}
    store.create("t", later, [], [])
    assert store.customers_by_contact("t", ["email:anna@example.test"]) == {"email:anna@example.test": "c-2"}
    assert store.customers_by_contact("other", keys) == {} and store.customers_by_contact("t", []) == {}
