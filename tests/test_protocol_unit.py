"""The protocol state machine on the in-memory twins: no moto, no network, milliseconds each."""

from __future__ import annotations

import base64

import pytest

from chalicelib.accounts import Accounts, InMemoryTenantStore
from chalicelib.exchange.catalog_side import CatalogExchange
from chalicelib.exchange.protocol import Exchange
from chalicelib.exchange.sessions import MAX_CHECKS_PER_SOURCE, ExchangeRequest
from chalicelib.importjob import ImportJob
from chalicelib.memory import InMemoryBlobStore, InMemoryExchangeStore, InMemoryJobQueue
from chalicelib.settings import Settings


class NoOrders:
    """The catalog side never reaches orders."""

    def __getattr__(self, name):
        raise AssertionError(f"the catalog exchange called orders.{name}")


@pytest.fixture
def room():
    accounts = Accounts(InMemoryTenantStore())
    accounts.add("shop")
    accounts.set_1c_credentials("shop", "shop", "pw")
    store, blobs, queue = InMemoryExchangeStore(), InMemoryBlobStore(), InMemoryJobQueue()
    exchange = Exchange(accounts, store, blobs, queue, Settings.from_env(), NoOrders())
    return exchange, store, blobs, queue


def call(exchange, mode, cookie="", body=b"", auth=None, source="10.0.0.1", **params):
    headers = {"Cookie": cookie} if cookie else {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return exchange.handle(ExchangeRequest("catalog", mode, params, headers, body, source))


def login(exchange) -> str:
    answer = call(exchange, "checkauth", auth=("shop", "pw"))
    assert answer.keyword == "success"
    return f"{answer.lines[1]}={answer.lines[2]}"


def test_a_whole_upload_queues_one_job_and_answers_progress(room):
    exchange, store, blobs, queue = room
    cookie = login(exchange)
    assert call(exchange, "init", cookie).lines[0] == "zip=yes"
    for chunk in (b"<?xml version='1.0'?><a>", b"</a>"):
        assert call(exchange, "file", cookie, chunk, filename="import.xml").keyword == "success"
    first = call(exchange, "import", cookie, filename="import.xml")
    again = call(exchange, "import", cookie, filename="import.xml")
    assert first.keyword == again.keyword == "progress"
    assert len(queue.take()) == 1, "a repeated poll queues nothing more"
    job = store.jobs("shop")[0]
    assert isinstance(job, ImportJob) and job.filename == "import.xml" and job.status == "queued"
    upload = store.uploaded_file("shop", job.area, "import.xml")
    assert b"".join(blobs.get(k) for k in blobs.keys("uploads/shop/")) in (
        b"<?xml version='1.0'?><a></a>",
        b"</a><?xml version='1.0'?><a>",
    )
    assert upload is not None and upload.size_bytes == 28 and len(upload.parts) == 2


def test_job_states_become_protocol_answers():
    job = ImportJob("x", filename="import.xml", status="done", counts={"created": 2, "updated": 1})
    assert CatalogExchange.job_answer(job).lines[:2] == (
        "success",
        "import.xml: создано 2, изменено 1, без изменений 0, деактивировано 0",
    )
    stalled = ImportJob("x", filename="import.xml", status="stalled", error="прервана: сбой")
    assert CatalogExchange.job_answer(stalled).lines == ("failure", "прервана: сбой")
    applying = ImportJob(
        "x", filename="import.xml", status="running", phase="apply", applied=5, total_changes=9
    )
    assert CatalogExchange.job_answer(applying).lines == ("progress", "import.xml: записано изменений 5 из 9")


def test_deactivate_and_complete_never_answer_progress(room):
    exchange, _, _, queue = room
    cookie = login(exchange)
    assert call(exchange, "deactivate", cookie, timestamp="1700000000").keyword == "success"
    assert call(exchange, "deactivate", cookie, timestamp="1700000000").keyword == "success"
    assert len(queue.take()) == 1
    assert call(exchange, "deactivate", cookie, timestamp="²").keyword == "failure"
    assert call(exchange, "complete", cookie).keyword == "success"
    assert call(exchange, "init", cookie).keyword == "failure", "the session ended at complete"


def test_password_checks_are_throttled_per_source_and_login(room):
    exchange, _, _, _ = room
    for _ in range(MAX_CHECKS_PER_SOURCE):
        assert "неверный" in call(exchange, "checkauth", auth=("shop", "x")).body
    assert "слишком много" in call(exchange, "checkauth", auth=("shop", "pw")).body
    assert call(exchange, "checkauth", auth=("shop", "pw"), source="10.0.0.2").keyword == "success"


def test_basic_only_calls_get_their_own_session(room):
    exchange, store, _, _ = room
    login(exchange)
    assert call(exchange, "init", auth=("shop", "pw")).lines[0] == "zip=yes"
    assert call(exchange, "init", auth=("shop", "pw")).lines[0] == "zip=yes"
    sessions = store.latest_sessions("shop")
    assert len(sessions) == 2 and sorted(s.get("init_count", 0) for s in sessions) == [0, 2]


def test_a_client_that_skips_init_still_gets_an_area(room):
    exchange, store, _, _ = room
    cookie = login(exchange)
    assert (
        call(exchange, "file", cookie, b"<?xml version='1.0'?><a/>", filename="import.xml").keyword
        == "success"
    )
    assert (
        len(store.uploaded_files("shop", store.latest_sessions("shop")[0]["token"], whole_session=True)) == 1
    )


def test_checkauth_only_sessions_fold_away_and_never_push_an_exchange_off_the_list(room):
    """1C checks its login (or polls) without exchanging: those sessions are no rows, so the
    catalog exchange of the night stays on the list however often 1C polls since."""
    from chalicelib import journal

    exchange, store, _, _ = room
    cookie = login(exchange)
    assert call(exchange, "init", cookie).lines[0] == "zip=yes"
    real = cookie.partition("=")[2].rpartition(".")[2]  # the session token
    for _ in range(40):
        login(exchange)
    rows = journal.exchanges(store, "shop", limit=30)
    assert [r["id"] for r in rows] == [
        s["token"] for s in store.latest_sessions("shop", 41) if s.get("call_count")
    ]
    assert real in [r["id"] for r in rows] and all(r["calls"] for r in rows)


def test_a_refused_login_of_a_shop_is_kept_for_its_connect_page(room):
    """A wrong password for the shop's login, or a call without its registered certificate, is
    noted in the shop; a login no shop has is not (nobody's to show it to)."""
    exchange, store, _, _ = room
    assert call(exchange, "checkauth", auth=("shop", "old"), source="10.0.0.7").keyword == "failure"
    assert call(exchange, "checkauth", auth=("stranger", "pw")).keyword == "failure"
    exchange.sessions.accounts.update_settings("shop", client_certificates=("ab" * 32,))
    refused = call(exchange, "checkauth", auth=("shop", "pw"), source="10.0.0.8")
    assert refused.keyword == "failure" and "сертификат" in refused.body
    noted = store.refused_logins("shop")
    assert [(n["source"], n["reason"]) for n in noted][1] == ("10.0.0.7", "неверный пароль")
    assert noted[0]["source"] == "10.0.0.8" and "сертификат" in noted[0]["reason"]
    assert store.refused_logins("stranger") == []
