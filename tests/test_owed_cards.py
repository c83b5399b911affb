"""A card written once an exchange: the cards an import.xml leaves are built with offers.xml's, or
by a job of their own when no file follows (exchange/owed.py). On the in-memory twins, with the
owed message held back as SQS holds it for `cards_owed_seconds`."""

from __future__ import annotations

import dataclasses
import gzip
from typing import Any

import pytest

from chalicelib.exchange.owed import NOTE, OWED, OWED_MESSAGE, RECHECK_SECONDS
from chalicelib.importjob import JobKind
from chalicelib.settings import Settings
from chalicelib.sync.cards import ListQuery
from tests.reliability import cml
from tests.test_worker_unit import Room

WAIT = 60


class Exchange1C(Room):
    """1C's catalog exchange on the twins, the worker run for every message but the owed one,
    which waits (`held`) until the test lets the minute pass."""

    def __init__(self) -> None:
        super().__init__()
        settings = dataclasses.replace(Settings.from_env(), cards_owed_seconds=WAIT)
        self.worker = type(self.worker)(
            self.store, self.blobs, self.catalog, self.queue, settings, self.outbox
        )
        self.held: list[tuple[dict[str, Any], int]] = []
        self.cards_written: list[str] = []
        write_cards = self.catalog.write_cards

        self.crash_next_write = False

        def counted(tenant, cards, removed, history=None):
            if self.crash_next_write:
                self.crash_next_write = False
                raise ConnectionError("DynamoDB went away mid-write")
            self.cards_written += [c.id for c in cards]
            return write_cards(tenant, cards, removed, history)

        self.catalog.write_cards = counted  # type: ignore[method-assign]

    def drain(self) -> None:
        for _ in range(20):
            messages, self.queue.messages = self.queue.messages, []
            if not messages:
                return
            for message, delay in messages:
                if message["job"].startswith(OWED_MESSAGE):
                    self.held.append((message, delay))
                else:
                    self.worker.run(message["tenant"], message["job"], lambda: 900_000)

    def minute_later(self) -> list[str]:
        """The held owed messages arrive: what the worker made of each."""
        held, self.held = self.held, []
        outcomes = [str(self.worker.run(m["tenant"], m["job"], lambda: 900_000)) for m, _ in held]
        self.drain()
        return outcomes

    def latest(self, filename: str) -> Any:
        """The newest job of a file (job ids begin with their exchange's time)."""
        return max((j for j in self.store.jobs("shop") if j.filename == filename), key=lambda j: j.id)

    def card(self, product_id: str) -> dict[str, Any]:
        cards, _ = self.catalog.cards("shop", ListQuery(limit=50), ["-"])
        return next(c for c in cards if c["id"] == product_id)


@pytest.fixture
def onec() -> Exchange1C:
    room = Exchange1C()
    room.send("import.xml", cml.catalog(cml.product("a", "Чай") + cml.product("b", "Кофе")))
    room.send("offers.xml", cml.offers(cml.offer("a", "3", "100") + cml.offer("b", "1", "50")))
    room.minute_later()
    room.cards_written.clear()
    return room


def test_offers_xml_builds_the_cards_import_xml_left_each_once(onec):
    cookie = onec.session()
    assert onec.send("import.xml", cml.catalog(cml.product("a", "Чай зелёный")), cookie).keyword == "success"
    assert onec.cards_written == [], "import.xml wrote no card"
    assert onec.card("a")["name"] == "Чай", "the shop keeps the last good card meanwhile"
    assert onec.latest("import.xml").note == NOTE and onec.latest("import.xml").cards_left
    assert onec.held and onec.held[0][1] == WAIT, "the owed cards' message waits the configured time"
    assert onec.store.pointer("shop", OWED)

    assert onec.send("offers.xml", cml.offers(cml.offer("a", "3", "120")), cookie).keyword == "success"
    assert onec.cards_written == ["a"], "one card write for the rename and the new price"
    card = onec.card("a")
    assert (card["name"], card["price_min"]) == ("Чай зелёный", "120")
    (line,) = onec.catalog.history("shop", "a")
    assert line["change"]["name"] == ["Чай", "Чай зелёный"] and line["change"]["price_min"] == ["100", "120"]
    assert line["file"] == "offers.xml", "one history line, from the file that built the card"
    assert not onec.store.pointer("shop", OWED)

    assert onec.minute_later() == ["skipped"], "nothing was left to build"
    assert onec.cards_written == ["a"]
    assert not [j for j in onec.store.jobs("shop") if j.kind == JobKind.OWED_CARDS]


def test_an_import_xml_alone_has_its_cards_built_a_minute_later_in_its_exchange(onec):
    cookie = onec.session()
    assert onec.send("import.xml", cml.catalog(cml.product("b", "Кофе молотый")), cookie).keyword == "success"
    assert onec.card("b")["name"] == "Кофе"
    assert onec.minute_later() == ["deferred"], "the message makes a job and queues it"
    assert onec.card("b")["name"] == "Кофе молотый" and onec.cards_written == ["b"]
    (job,) = [j for j in onec.store.jobs("shop") if j.kind == JobKind.OWED_CARDS]
    importing = onec.latest("import.xml")
    assert job.status == "done" and job.session == importing.session, "shown in import.xml's exchange"
    assert job.filename == "(карточки товаров из import.xml)"
    assert not onec.store.pointer("shop", OWED)


def test_an_earlier_files_message_never_builds_a_later_files_cards_early(onec):
    onec.send("import.xml", cml.catalog(cml.product("a", "Чай 2")))
    onec.send("offers.xml", cml.offers(cml.offer("a", "3", "105")))
    earlier = onec.held[:]
    onec.held.clear()
    onec.send("import.xml", cml.catalog(cml.product("a", "Чай 3")))
    later, onec.held = onec.held, earlier
    assert onec.minute_later() == ["skipped"], "its file's cards were built with offers.xml"
    assert onec.card("a")["name"] == "Чай 2", "the later import.xml's still wait for their next file"
    onec.held = later
    assert onec.minute_later() == ["deferred"] and onec.card("a")["name"] == "Чай 3"


def test_owed_cards_wait_while_a_next_file_is_queued(onec):
    cookie = onec.session()
    onec.send("import.xml", cml.catalog(cml.product("a", "Чай чёрный")), cookie)
    assert onec.call(
        "file", cookie, cml.offers(cml.offer("a", "0", "100")), filename="offers.xml"
    ).keyword == ("success")
    assert onec.call("import", cookie, filename="offers.xml").keyword == "progress"
    queued = onec.queue.messages[:]
    onec.queue.messages.clear()
    assert onec.minute_later() == ["deferred"]
    assert [(m["job"], d) for m, d in onec.held] == [
        (OWED_MESSAGE + onec.latest("import.xml").id, RECHECK_SECONDS)
    ], "looks again soon"
    assert not [j for j in onec.store.jobs("shop") if j.kind == JobKind.OWED_CARDS], (
        "no job: offers.xml builds"
    )
    onec.queue.messages = queued + onec.queue.messages
    onec.drain()
    assert onec.call("import", cookie, filename="offers.xml").keyword == "success"
    card = onec.card("a")
    assert (card["name"], card["in_stock"]) == ("Чай чёрный", False) and onec.cards_written == ["a"]
    assert onec.minute_later() == ["skipped"]


def test_a_failed_offers_xml_leaves_the_owed_cards_to_their_own_job(onec):
    cookie = onec.session()
    onec.send("import.xml", cml.catalog(cml.product("a", "Чай улун")), cookie)
    broken = onec.send("offers.xml", b"<?xml version='1.0'?><oops", cookie)
    assert broken.keyword == "failure" and "offers.xml, строка 1: файл обрывается" in broken.lines[1], (
        broken.lines
    )
    assert onec.card("a")["name"] == "Чай", "nothing built by the failed file"
    assert onec.minute_later() == ["deferred"]
    assert onec.card("a")["name"] == "Чай улун"


def test_a_crash_while_writing_the_folded_cards_is_retried_to_the_same_end(onec):
    cookie = onec.session()
    onec.send("import.xml", cml.catalog(cml.product("a", "Чай молочный улун")), cookie)
    onec.call("file", cookie, cml.offers(cml.offer("a", "6", "140")), filename="offers.xml")
    assert onec.call("import", cookie, filename="offers.xml").keyword == "progress"
    (message,) = onec.queue.take()
    onec.crash_next_write = True
    with pytest.raises(ConnectionError):
        onec.worker.run(message["tenant"], message["job"], lambda: 900_000)
    assert onec.store.pointer("shop", OWED), "still owed: nothing was settled by the crashed run"
    assert onec.card("a")["name"] == "Чай"
    assert onec.worker.run(message["tenant"], message["job"], lambda: 900_000) == "done", "SQS delivers again"
    card = onec.card("a")
    assert (card["name"], card["price_min"], onec.cards_written) == ("Чай молочный улун", "140", ["a"])
    assert len(onec.catalog.history("shop", "a")) == 1 and not onec.store.pointer("shop", OWED)
    assert onec.call("import", cookie, filename="offers.xml").keyword == "success"
    assert onec.minute_later() == ["skipped"]


def test_a_cards_phase_resumed_from_its_checkpoint_builds_what_it_folded_at_its_start(onec, monkeypatch):
    """Its products' order is its checkpoint: a file left meanwhile waits for the next phase."""
    import json as _json

    from chalicelib.exchange import cards as cards_phase
    from chalicelib.layout import Paths

    monkeypatch.setattr(cards_phase, "CARDS_CHUNK", 1)
    cookie = onec.session()
    onec.send("import.xml", cml.catalog(cml.product("a", "Чай 1") + cml.product("b", "Кофе 1")), cookie)
    onec.call("file", cookie, cml.offers(cml.offer("a", "2", "101")), filename="offers.xml")
    onec.call("import", cookie, filename="offers.xml")
    (message,) = onec.queue.take()
    assert onec.worker.run(message["tenant"], message["job"], lambda: 0) == "deferred", "out of time"
    assert onec.cards_written == ["a"]
    later = "later#import.xml"  # a products-only file left between the phase's two runs
    onec.blobs.put(Paths("shop").staging(later, "touched.jsonl.gz"), gzip.compress(b'["c", ["product"]]\n'))
    rows = _json.loads(onec.store.pointer("shop", OWED))
    onec.store.set_pointer("shop", OWED, _json.dumps([*rows, [later, 1]]))
    for again in onec.queue.take():
        assert onec.worker.run(again["tenant"], again["job"], lambda: 900_000) == "done"
    assert onec.cards_written == ["a", "b"], "b from the checkpoint on; c not folded mid-phase"
    assert [r[0] for r in _json.loads(onec.store.pointer("shop", OWED))] == [later], "left for the next"


def test_files_in_one_zip_write_each_card_once(onec):
    cookie = onec.session()
    archive = cml.zipped(
        {
            "import.xml": cml.catalog(cml.product("a", "Чай пуэр") + cml.product("b", "Кофе в зёрнах")),
            "offers.xml": cml.offers(cml.offer("a", "2", "150")),
        }
    )
    assert onec.call("file", cookie, archive, filename="exchange.zip").keyword == "success"
    for name in ("import.xml", "offers.xml"):
        answer = onec.call("import", cookie, filename=name)
        while answer.keyword == "progress":
            onec.drain()
            answer = onec.call("import", cookie, filename=name)
        assert answer.keyword == "success", answer.lines
    assert sorted(onec.cards_written) == ["a", "b"], "b renamed, a renamed and re-priced: once each"
    assert (onec.card("a")["price_min"], onec.card("b")["name"]) == ("150", "Кофе в зёрнах")
    assert onec.minute_later() == ["skipped"]


def test_an_exchange_ending_between_the_files_leaves_the_owed_cards_to_the_next(onec):
    """A 1C that opens a session a file: import.xml's exchange ends (`complete`: its deactivation
    runs) before offers.xml's begins. The deactivation takes b off sale and builds nothing more."""
    cookie = onec.session()
    full = cml.catalog(cml.product("a", "Чай белый"), only_changes=False)
    assert onec.send("import.xml", full, cookie).keyword == "success"
    assert onec.call("complete", cookie).keyword == "success"
    onec.drain()
    listed, _ = onec.catalog.cards("shop", ListQuery(limit=50), ["-"])
    assert [(c["id"], c["name"]) for c in listed] == [("a", "Чай")], "b unlisted; a's card still owed"
    assert onec.cards_written == [] and onec.store.pointer("shop", OWED)
    assert onec.send("offers.xml", cml.offers(cml.offer("a", "4", "110"))).keyword == "success"
    assert onec.cards_written == ["a"] and onec.card("a")["name"] == "Чай белый"
    assert onec.minute_later() == ["skipped"]


class VisibleOnly:
    """The queue as Lambda runs it while 1C goes on: the messages visible now, not a delayed one."""

    def __init__(self, pump: Any) -> None:
        self.pump = pump

    def drain(self) -> int:
        return int(self.pump.drain(include_delayed=False))


def test_through_the_protocol_on_sqs_offers_xml_builds_what_import_xml_left(stack):
    """1C over HTTP, the worker on SQS (moto) with the owed message really delayed."""
    from chalicelib import wiring

    onec = stack.onec()
    onec.send_file("import.xml", cml.catalog(cml.product("t1", "Чай")))
    onec.send_file("offers.xml", cml.offers(cml.offer("t1", "5", "100")))
    worker = wiring.container().import_worker
    worker.owed.wait_seconds = WAIT
    onec.pump = VisibleOnly(stack.pump)

    assert onec.checkauth().keyword == "success"
    onec.init(version="2.08")
    onec.upload("catalog", "import.xml", cml.catalog(cml.product("t1", "Чай с бергамотом")))
    assert onec.import_file("import.xml").keyword == "success"
    shop = {"X-Api-Key": "demo-key"}

    def listed() -> list[tuple[str, float]]:
        page = stack.client.http.get("/api/v1/products?limit=50", headers=shop).json_body
        return [(p["name"], float(p["price"])) for p in page["items"]]

    assert listed() == [("Чай", 100)], "the list keeps the last good card until offers.xml"
    onec.upload("catalog", "offers.xml", cml.offers(cml.offer("t1", "5", "130")))
    assert onec.import_file("offers.xml").keyword == "success"
    assert listed() == [("Чай с бергамотом", 130)]
    (line,) = wiring.container().catalog_store.history("demo", "t1")
    assert line["change"]["name"] == ["Чай", "Чай с бергамотом"] and line["file"] == "offers.xml"

    sqs = wiring.container().job_queue.sqs
    attributes = sqs.get_queue_attributes(
        QueueUrl=wiring.container().job_queue.url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1", "the owed message, still on its way"
    left_by = next(j.id for j in worker.store.jobs("demo") if j.cards_left)
    assert worker.run("demo", OWED_MESSAGE + left_by, lambda: 900_000) == "skipped", "…nothing left to build"
