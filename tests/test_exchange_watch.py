"""The owner hears how their catalog exchange goes (exchange/watch.py): `exchange.failed` on the
second failed import in a row (not the first, not the third), `exchange.overdue` once per
silence past the tenant's `overdue_hours` — on the twins, through the exchange protocol and the
scheduled run's own code."""

from __future__ import annotations

import json

from chalicelib.exchange.watch import ExchangeWatch
from chalicelib.notify.scheduler import Scheduler
from tests.reliability import cml
from tests.test_worker_unit import Room

BROKEN = b'<?xml version="1.0" encoding="UTF-8"?><\xd0\x9a\xd0\xbe>'  # not CommerceML: the import fails


def events(room: Room, name: str) -> list[dict]:
    """The tenant's outbox events of one kind, payloads as receivers get them."""
    found = [e for e in room.outbox.recent("shop", limit=100) if e["event"] == name]
    return [{**e, "payload": json.loads(e["payload"])} for e in found]


def test_the_second_failed_import_in_a_row_tells_the_owner_once():
    room = Room()
    assert room.send("import.xml", cml.catalog(cml.product("a"))).keyword == "success"
    assert room.send("import.xml", BROKEN).keyword == "failure"
    assert events(room, "exchange.failed") == [], "one failure: 1C often sends the file again"
    assert room.send("import.xml", BROKEN).keyword == "failure"
    (told,) = events(room, "exchange.failed")
    assert told["payload"]["file"] == "import.xml" and told["payload"]["previous"]["error"]
    assert room.send("import.xml", BROKEN).keyword == "failure"
    assert len(events(room, "exchange.failed")) == 1, "the third in a row is no news"
    assert room.send("import.xml", cml.catalog(cml.product("a"))).keyword == "success"
    room.send("import.xml", BROKEN), room.send("import.xml", BROKEN)
    assert len(events(room, "exchange.failed")) == 2, "a new streak after a success is told again"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_no_catalog_for_the_tenants_hours_tells_the_owner_once_per_silence():
    import time

    room = Room()
    assert room.send("import.xml", cml.catalog(cml.product("a"))).keyword == "success"
    clock = Clock(time.time())
    watch = ExchangeWatch(room.store, room.outbox, clock, every_minutes=1)
    scheduler = Scheduler(room.accounts, _NoOrders(), room.blobs, sender=_NoSender(), watch=watch)
    assert watch.overdue("shop", 24) is False
    clock.now += 23 * 3600
    scheduler.run(lambda: 60_000)
    assert events(room, "exchange.overdue") == [], "within the day"
    clock.now += 2 * 3600
    summary = scheduler.run(lambda: 60_000)
    assert summary["shop"].get("exchange_overdue") is True and watch.overdue("shop", 24) is True
    (told,) = events(room, "exchange.overdue")
    assert told["payload"]["overdue_hours"] == 24
    scheduler.run(lambda: 60_000)
    assert len(events(room, "exchange.overdue")) == 1, "once per silence"
    quarter = ExchangeWatch(room.store, room.outbox, clock)  # the scheduled run's: one minute in 15
    looked = 0
    for _ in range(15):  # a tenant overdue with nothing told yet: told in one of 15 minutes
        clock.now += 60
        room.store.set_pointer("shop", "overdue_told", "")
        looked += quarter.tell_if_overdue("shop", 24)
    assert looked == 1, "each tenant once every 15 minutes"
    room.accounts.update_settings("shop", overdue_hours=0)
    assert watch.tell_if_overdue("shop", 0) is False, "0: the owner does not want to know"


class _NoOrders:
    def assign_managers(self, tenant) -> int:
        return 0

    def render_waiting(self, tenant, encoding=None):
        return b"", "", [], []


class _NoSender:
    def deliver_due(self, tenant, runner, budget) -> dict:
        return {}
