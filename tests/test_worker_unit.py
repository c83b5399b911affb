"""The import worker on the in-memory twins: whole 1C uploads parsed, diffed and applied with no
moto and no network. The same worker runs on AWS (tests/test_exchange_catalog.py)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from chalicelib.accounts import Accounts, InMemoryTenantStore
from chalicelib.exchange.ends import QUIET_SECONDS, ExchangeEnds
from chalicelib.exchange.protocol import Exchange
from chalicelib.exchange.sessions import ExchangeRequest
from chalicelib.exchange.worker import ImportWorker
from chalicelib.memory import (
    InMemoryBlobStore,
    InMemoryCatalogStore,
    InMemoryExchangeStore,
    InMemoryJobQueue,
    InMemoryOutbox,
)
from chalicelib.settings import Settings
from tests.reliability import cml


class Room:
    def __init__(self) -> None:
        self.accounts = accounts = Accounts(InMemoryTenantStore())
        accounts.add("shop")
        accounts.set_1c_credentials("shop", "shop", "pw")
        self.store, self.blobs, self.queue = InMemoryExchangeStore(), InMemoryBlobStore(), InMemoryJobQueue()
        self.catalog, self.outbox = InMemoryCatalogStore(), InMemoryOutbox()
        settings = Settings.from_env()
        self.exchange = Exchange(accounts, self.store, self.blobs, self.queue, settings, orders=None)
        self.worker = ImportWorker(self.store, self.blobs, self.catalog, self.queue, settings, self.outbox)

    def call(self, mode: str, cookie: str = "", body: bytes = b"", **params):
        headers = {"Cookie": cookie} if cookie else {}
        if mode == "checkauth":
            headers["Authorization"] = "Basic " + base64.b64encode(b"shop:pw").decode()
        return self.exchange.handle(ExchangeRequest("catalog", mode, params, headers, body, "10.0.0.1"))

    def session(self) -> str:
        """checkauth and init: the cookie of a new exchange."""
        answer = self.call("checkauth")
        cookie = f"{answer.lines[1]}={answer.lines[2]}"
        self.call("init", cookie)
        return cookie

    def send(self, filename: str, data: bytes, cookie: str | None = None):
        """One file; in an exchange of its own unless the cookie of one is given."""
        cookie = cookie or self.session()
        assert self.call("file", cookie, data, filename=filename).keyword == "success"
        answer = self.call("import", cookie, filename=filename)
        for _ in range(20):
            if answer.keyword != "progress":
                return answer
            self.drain()
            answer = self.call("import", cookie, filename=filename)
        return answer

    def drain(self) -> None:
        for _ in range(20):
            messages = self.queue.take()
            if not messages:
                return
            for message in messages:
                self.worker.run(message["tenant"], message["job"], lambda: 900_000)

    def quiet(self, seconds: float = QUIET_SECONDS + 1) -> bool:
        """The scheduled run, `seconds` after now: closes a quiet exchange; the worker runs."""
        later = ExchangeEnds(self.store, self.queue, clock=lambda: time.time() + seconds)
        closed = later.close_quiet("shop")
        self.drain()
        return closed

    def active(self) -> dict[str, bool]:
        return {k: v["active"] for k, v in self.products().items()}

    def products(self) -> dict[str, dict]:
        return {
            pk.rsplit("#", 1)[1]: {**json.loads(item["doc"]), "active": item["active"]}
            for (pk, sk), item in self.catalog.items.items()
            if sk == "product"
        }


@pytest.fixture
def room() -> Room:
    return Room()


def test_a_real_1c_catalog_lands_and_a_second_upload_writes_nothing(room, samples):
    from chalicelib.commerceml import read
    from chalicelib.commerceml.model import Product

    path = samples / "dobromyslov__commerceml-parser/data/import0_1.xml"
    answer = room.send("import0_1.xml", path.read_bytes())
    assert answer.keyword == "success", answer.lines
    with path.open("rb") as stream:
        expected = {p.id: p.name for p in read(stream, "import0_1.xml") if isinstance(p, Product)}
    assert {k: v["name"] for k, v in room.products().items()} == expected
    written = room.catalog.stats.items
    assert room.send("import0_1.xml", path.read_bytes()).keyword == "success"
    assert room.catalog.stats.items == written, "the same file twice writes nothing the second time"
    events = [e for e in room.outbox.recent("shop") if e["event"] == "catalog.imported"]
    assert len(events) == 2


def test_full_uploads_deactivate_what_they_no_longer_list_incremental_ones_never(room):
    full = cml.catalog(cml.product("a", "A") + cml.product("b", "B"), only_changes=False)
    assert room.send("import.xml", full).keyword == "success"
    incremental = cml.catalog(cml.product("c", "C"), only_changes=True)
    assert room.send("import.xml", incremental).keyword == "success"
    assert room.quiet() and room.active() == {"a": True, "b": True, "c": True}
    smaller = cml.catalog(cml.product("a", "A"), only_changes=False)
    assert room.send("import.xml", smaller).keyword == "success"
    assert room.active() == {"a": True, "b": True, "c": True}, "decided at the exchange's end"
    assert not room.quiet(seconds=QUIET_SECONDS - 30), "not quiet yet: 1C may send another part"
    assert room.quiet() and room.active() == {"a": True, "b": False, "c": False}
    assert not room.quiet(), "one end per exchange"


def test_a_full_export_in_several_files_deactivates_only_what_no_part_listed(room):
    """import0_1.xml and import1_1.xml, both full, in one exchange: neither switches off the
    other's products; what no part listed goes at the end (`complete`, or a quiet exchange)."""
    assert room.send("import.xml", cml.catalog(cml.product("old", "Снят"))).keyword == "success"
    cookie = room.session()
    first = cml.catalog(cml.product("a", "A") + cml.product("b", "B"), only_changes=False)
    second = cml.catalog(cml.product("c", "C"), only_changes=False)
    assert room.send("import0_1.xml", first, cookie).keyword == "success"
    assert room.active() == {"old": True, "a": True, "b": True}
    assert room.send("import1_1.xml", second, cookie).keyword == "success"
    assert room.active() == {"old": True, "a": True, "b": True, "c": True}
    done = room.call("complete", cookie)
    assert done.keyword == "success" and "деактивированы" in done.lines[1]
    room.drain()
    assert room.active() == {"old": False, "a": True, "b": True, "c": True}
    assert not room.quiet(), "complete closed it: the schedule has nothing left"


def test_a_failed_part_keeps_the_exchange_from_deactivating_anything(room):
    assert room.send("import.xml", cml.catalog(cml.product("old", "Снят"))).keyword == "success"
    cookie = room.session()
    full = cml.catalog(cml.product("a", "A"), only_changes=False)
    assert room.send("import0_1.xml", full, cookie).keyword == "success"
    broken = cml.catalog(cml.product("b", "B") + "<Товар><Ид>c</Ид>", only_changes=False)
    assert room.send("import1_1.xml", broken, cookie).keyword == "failure"
    room.call("complete", cookie)
    room.drain()
    assert room.active() == {"old": True, "a": True}
    end = next(j for j in room.store.jobs("shop") if j.by_full_files)
    assert end.status == "done" and "деактивация пропущена: не загружены import1_1.xml" in (end.note or "")


def test_a_broken_file_fails_with_its_line_and_changes_nothing(room):
    assert room.send("import.xml", cml.catalog(cml.product("a", "A"))).keyword == "success"
    before = dict(room.catalog.items)
    broken = cml.catalog(cml.product("a", "A") + "<Товар><Ид>b</Ид>", only_changes=False)
    answer = room.send("import.xml", broken)
    assert answer.keyword == "failure" and "строка" in answer.lines[1]
    assert room.catalog.items == before


def test_staged_changes_have_one_format_both_ways():
    from chalicelib.sync import staged
    from chalicelib.sync.diff import Deactivate, Put
    from chalicelib.sync.records import Record

    put = Put(Record("product", "p#1", '{"name":"Ёлка"}', False), created=True)
    off = Deactivate("offer", "o1")
    again = staged.decode(staged.encode(put))
    assert isinstance(again, Put) and again.record == put.record and again.created, "new: no past to read"
    known = Put(put.record, created=False)
    assert staged.decode(staged.encode(known)) == known
    assert staged.decode(staged.encode(off)) == off
    assert staged.record_key(put) == "product:p#1" != staged.record_key(off)


def test_a_new_shop_price_type_rebuilds_every_card(room):
    """Cards carry the shop's price type: after it changes, a rebuild job re-prices them all."""
    from chalicelib.sync.cards import ListQuery

    shop_type = {"id": "retail"}
    room.worker.cards.price_type_of = lambda tenant, types: shop_type["id"]
    room.send("import.xml", cml.catalog(cml.product("p1", "Чай") + cml.product("p2", "Кофе")))
    prices = "".join(
        f"<Предложение><Ид>{pid}</Ид><Наименование>{pid}</Наименование><Цены>"
        f"<Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>{retail}</ЦенаЗаЕдиницу></Цена>"
        f"<Цена><ИдТипаЦены>wholesale</ИдТипаЦены><ЦенаЗаЕдиницу>{wholesale}</ЦенаЗаЕдиницу></Цена>"
        f"</Цены><Количество>5</Количество></Предложение>"
        for pid, retail, wholesale in (("p1", "100", "70"), ("p2", "90", "80"))
    )
    offers = cml.offers(prices).replace(
        "<ТипыЦен><ТипЦены><Ид>pt</Ид>".encode(),
        "<ТипыЦен><ТипЦены><Ид>wholesale</Ид><Наименование>Опт</Наименование></ТипЦены><ТипЦены><Ид>retail</Ид>".encode(),
    )
    assert room.send("offers.xml", offers).keyword == "success"

    def by_price() -> list[tuple[str, str]]:
        cards, _ = room.catalog.cards("shop", ListQuery(sort="price"), ["-"])
        return [(c["id"], c["price_min"]) for c in cards]

    assert by_price() == [("p2", "90"), ("p1", "100")]
    shop_type["id"] = "wholesale"
    job = room.worker.queue_rebuild("shop", "тип цен сайта изменён")
    for message in room.queue.take():
        assert room.worker.run(message["tenant"], message["job"], lambda: 900_000) == "done"
    assert by_price() == [("p1", "70"), ("p2", "80")]
    assert room.catalog.facet("shop", "*")["price_min"] == "70"
    assert room.store.get_job("shop", job).status == "done"


def test_cards_interrupted_by_time_go_on_from_their_checkpoint(room, monkeypatch):
    from chalicelib.exchange import cards as cards_phase
    from chalicelib.sync.cards import ListQuery

    monkeypatch.setattr(cards_phase, "CARDS_CHUNK", 2)
    ids = [f"p{n}" for n in range(7)]
    room.send("import.xml", cml.catalog("".join(cml.product(i, f"Товар {i}") for i in ids)))
    answer = room.call("checkauth")
    cookie = f"{answer.lines[1]}={answer.lines[2]}"
    room.call("init", cookie)
    room.call(
        "file", cookie, cml.offers("".join(cml.offer(i, "3", "10") for i in ids)), filename="offers.xml"
    )
    room.call("import", cookie, filename="offers.xml")
    (message,) = room.queue.take()
    assert room.worker.run(message["tenant"], message["job"], lambda: 0) == "deferred"
    job = room.store.get_job("shop", message["job"])
    assert job.phase == "cards" and job.cards_done == 2
    for again in room.queue.take():
        assert room.worker.run(again["tenant"], again["job"], lambda: 900_000) == "done"
    listed, _ = room.catalog.cards("shop", ListQuery(limit=50), ["-"])
    assert sorted(c["id"] for c in listed) == ids
    assert room.catalog.facet("shop", "*")["count"] == 7 and room.catalog.facet("shop", "*")["in_stock"] == 7
    summary = [s.id for s in room.worker.cards.summaries("shop")]
    assert summary == sorted(ids), "the summary stays sorted and whole across the interruption"


def test_the_cards_phase_writes_what_changed_to_each_products_history(room):
    room.send("import.xml", cml.catalog(cml.product("p1", "Чай") + cml.product("p2", "Кофе")))
    for price in ("100", "120"):
        offers = cml.offers(
            cml.offer("p1", quantity="3", price=price) + cml.offer("p2", quantity="1", price="50")
        )
        assert room.send("offers.xml", offers).keyword == "success"
    history = room.catalog.history("shop", "p1")
    assert [h["change"]["price_min"] for h in history] == [["100", "120"]], "a first listing is no line"
    assert history[0]["file"] == "offers.xml" and history[0]["session"]
    assert room.catalog.history("shop", "p2") == [], "p2's price never moved"


def test_an_end_expected_twice_is_one_job_even_after_a_crash_between_its_writes(room):
    """Publish may run again after a crash between creating the end job and pointing at it: the
    exchange still has one end, and it still runs."""
    from chalicelib.exchange.ends import POINTER

    cookie = room.session()
    full = cml.catalog(cml.product("a", "A"), only_changes=False)
    assert room.send("import.xml", full, cookie).keyword == "success"
    (imported,) = [j for j in room.store.jobs("shop") if j.kind == "import"]
    room.store.set_pointer("shop", POINTER, "")  # the crash: the job exists, the pointer does not
    ExchangeEnds(room.store, room.queue).expect("shop", imported)
    ends = [j for j in room.store.jobs("shop") if j.by_full_files]
    assert len(ends) == 1 and room.store.pointer("shop", POINTER) == ends[0].id
    assert room.quiet() and room.store.get_job("shop", ends[0].id).status == "done"


def test_a_record_skipped_for_a_bad_field_is_never_deactivated_by_its_full_file(room):
    """One unreadable offer in a full offers file: the file lands, the answer names the offer, and
    at the exchange's end that offer is kept as it was — not switched off as if 1C had dropped it."""
    room.send("import.xml", cml.catalog(cml.product("a", "A") + cml.product("b", "B")))
    room.send("offers.xml", cml.offers(cml.offer("a", quantity="1") + cml.offer("b", quantity="2")))
    cookie = room.session()
    bad = cml.offers(cml.offer("a", quantity="5") + cml.offer("b", quantity="три"), only_changes=False)
    answer = room.send("offers.xml", bad, cookie)
    assert answer.keyword == "success" and any("записей пропущено: 1" in line for line in answer.lines)
    assert any("Предложение[Ид=b]" in line and "три" in line for line in answer.lines), answer.lines
    room.call("complete", cookie)
    room.drain()
    a, b = (room.catalog.items[(f"shop#p#{o}", f"offer#{o}")] for o in "ab")
    assert a["active"] and a["stock"].startswith('["5"'), "the rest of the file landed"
    assert b["active"] and b["stock"].startswith('["2"'), "the skipped offer is kept as it was"
