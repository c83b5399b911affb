"""One contract for each store of the exchange room, run against its in-memory twin, against
moto, and (for the table) against DynamoDB Local — AWS's own engine — where it is installed
(CI has it). A behaviour the use cases rely on holds for all of them, or this fails."""

from __future__ import annotations

import io
import time
import uuid

import pytest

from chalicelib.importjob import ImportJob
from chalicelib.memory import InMemoryBlobStore, InMemoryExchangeStore, InMemoryJobQueue


@pytest.fixture(params=["memory", "moto", "dynamodb-local"])
def exchange_store(request, monkeypatch):
    if request.param == "memory":
        yield InMemoryExchangeStore()
        return
    if request.param == "moto":
        request.getfixturevalue("aws")
        from chalicelib import wiring

        yield wiring.container().exchange_store
        return
    engine = request.getfixturevalue("engine")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", engine.endpoint)
    from chalicelib.aws import clients
    from chalicelib.aws.exchange_store import ExchangeStore
    from chalicelib.local.resources import _create_table, load_template

    clients.reset()
    props = dict(load_template()["Resources"]["ExchangeTable"]["Properties"])
    props["TableName"] = f"contract-{uuid.uuid4().hex[:12]}"
    _create_table(props)
    yield ExchangeStore(props["TableName"])
    clients.reset()


@pytest.fixture(params=["memory", "moto"])
def blobs(request):
    if request.param == "memory":
        return InMemoryBlobStore()
    request.getfixturevalue("aws")
    from chalicelib import wiring

    return wiring.container().blobs


def test_refused_logins_are_kept_per_shop_newest_first(exchange_store):
    store = exchange_store
    store.note_refused_login("t", {"source": "10.0.0.1", "reason": "неверный пароль"})
    time.sleep(0.002)
    store.note_refused_login("t", {"source": "10.0.0.2", "reason": "нужен сертификат"})
    assert [r["source"] for r in store.refused_logins("t")] == ["10.0.0.2", "10.0.0.1"]
    assert store.refused_logins("t", limit=1)[0]["reason"] == "нужен сертификат"
    assert isinstance(store.refused_logins("t")[0]["at"], int) and store.refused_logins("u") == []


def test_sessions_areas_and_the_journal(exchange_store):
    store = exchange_store
    store.create_session("t", "01", {"type": "catalog", "valid_until": 10})
    store.create_session("t", "02", {"type": "sale", "valid_until": 20})
    assert store.get_session("t", "01")["type"] == "catalog" and store.get_session("u", "01") is None
    assert [s["token"] for s in store.latest_sessions("t", limit=5)] == ["02", "01"]
    assert [s["token"] for s in store.latest_sessions("t", limit=5, before="02")] == ["01"], "a page back"
    assert store.start_area("t", "01", version="2.08") == 1 and store.start_area("t", "01") == 2
    assert store.get_session("t", "01")["version"] == "2.08"
    store.update_session("t", "01", completed_at=5)
    for n in range(3):
        store.log_call("t", "01", f"call {n}")
    session = store.get_session("t", "01")
    assert session["calls"] == ["call 0", "call 1", "call 2"] and session["call_count"] == 3
    assert session["completed_at"] == 5


def test_chunks_append_in_order_and_a_restart_replaces_them(exchange_store):
    store = exchange_store
    assert store.add_chunk("t", "a-1", "import.xml", "h1", 10, restart=False) == 1
    assert store.add_chunk("t", "a-1", "import.xml", "h1", 10, restart=False) == 2, "equal chunks: two chunks"
    upload = store.uploaded_file("t", "a-1", "import.xml")
    assert upload.parts == ("h1", "h1") and upload.size_bytes == 20
    assert store.add_chunk("t", "a-1", "import.xml", "h2", 7, restart=True) == 1
    upload = store.uploaded_file("t", "a-1", "import.xml")
    assert upload.parts == ("h2",) and upload.size_bytes == 7 and upload.restarts == 1
    store.add_chunk("t", "a-2", "x.zip", "h3", 1, restart=False)
    assert [(u.area, u.filename) for u in store.uploaded_files("t", "a-1")] == [("a-1", "import.xml")]
    assert {(u.area, u.filename) for u in store.uploaded_files("t", "a", whole_session=True)} == {
        ("a-1", "import.xml"),
        ("a-2", "x.zip"),
    }
    store.set_pointer("t", "prepared", "a-2")
    assert store.pointer("t", "prepared") == "a-2" and store.pointer("t", "other") is None


def test_jobs_are_created_once_and_read_back_typed(exchange_store):
    store = exchange_store
    job = ImportJob(
        "0001aaaaaaaa-1#import.xml",
        area="0001aaaaaaaa-1",
        filename="import.xml",
        session="0001aaaaaaaa",
        created_at=7,
    )
    assert store.create_job("t", job) and not store.create_job("t", job)
    job.start()
    job.parsed({"created": 3}, 5)
    job.checkpoint(2)
    store.save_job("t", job)
    read = store.get_job("t", job.id)
    assert (read.status, read.counts, read.applied, read.filename) == (
        "running",
        {"created": 3},
        2,
        "import.xml",
    )
    store.create_job("t", ImportJob("0002bbbbbbbb-1#offers.xml", filename="offers.xml"))
    assert [j.id for j in store.jobs("t")] == ["0002bbbbbbbb-1#offers.xml", job.id]
    assert [j.id for j in store.jobs("t", prefix="0001")] == [job.id]
    assert [j.id for j in store.jobs_since("t", 0x0002AAAAAAAA)] == ["0002bbbbbbbb-1#offers.xml"]
    assert store.get_job("other", job.id) is None


def test_a_job_saved_by_someone_else_since_it_was_read_is_not_overwritten(exchange_store):
    from chalicelib.importjob import JobChanged

    store = exchange_store
    store.create_job("t", ImportJob("0001aaaaaaaa-1#import.xml", status="stalled", filename="import.xml"))
    worker_copy, person_copy = (
        store.get_job("t", "0001aaaaaaaa-1#import.xml"),
        store.get_job("t", "0001aaaaaaaa-1#import.xml"),
    )
    person_copy.fail("пропущена вручную")
    store.save_job("t", person_copy)
    worker_copy.resume(note="возобновлена")
    with pytest.raises(JobChanged):
        store.save_job("t", worker_copy)
    read = store.get_job("t", worker_copy.id)
    assert (read.status, read.error, read.version) == ("failed", "пропущена вручную", 1)
    read.beat()
    store.save_job("t", read)  # the copy read after the change saves
    assert store.get_job("t", read.id).version == 2
    store.save_job("t", read)  # nothing changed since: no write
    assert store.get_job("t", read.id).version == 2
    never = ImportJob("never-created", filename="x.xml")
    never.beat()
    with pytest.raises(JobChanged):
        store.save_job("t", never)


def test_the_lease_belongs_to_one_owner_until_it_runs_out(exchange_store):
    store = exchange_store
    assert store.acquire_lease("t", "a", 60) and store.acquire_lease("t", "a", 60), "its owner may renew"
    assert not store.acquire_lease("t", "b", 60) and store.acquire_lease("u", "b", 60)
    assert store.renew_lease("t", "a", 60) and not store.renew_lease("t", "b", 60)
    store.release_lease("t", "b")  # not b's: nothing happens
    assert not store.acquire_lease("t", "b", 60)
    store.release_lease("t", "a")
    assert store.acquire_lease("t", "b", -5), "a lease in the past"
    time.sleep(1.1)
    assert store.acquire_lease("t", "c", 60), "an expired lease is taken over"


def test_login_attempts_are_counted_per_window(exchange_store):
    store = exchange_store
    assert [store.take_attempt("k", 3, 60) for _ in range(3)] == [0, 0, 0]
    wait = store.take_attempt("k", 3, 60)
    assert 0 < wait <= 60 and store.take_attempt("other", 3, 60) == 0
    store.clear_attempts("k")
    assert store.take_attempt("k", 3, 60) == 0


def test_basic_sessions_expire(exchange_store):
    store = exchange_store
    store.set_basic_session("t", "caller", "tok", int(time.time()) + 60)
    store.set_basic_session("t", "old", "tok2", int(time.time()) - 1)
    assert store.basic_session("t", "caller") == "tok" and store.basic_session("t", "old") is None
    assert store.basic_session("u", "caller") is None


def test_blobs(blobs):
    assert blobs.put("a/1", b"one", "text/plain") and not blobs.put("a/1", b"two", create_only=True)
    assert blobs.get("a/1") == b"one" and blobs.get("a/missing") is None and blobs.size("a/missing") is None
    blobs.upload("a/2", io.BytesIO(b"streamed"))
    blobs.copy("a/2", "b/2")
    assert (
        blobs.open("b/2").read() == b"streamed" and blobs.size("b/2") == 8 and blobs.head("b/2", 3) == b"str"
    )
    sink = io.BytesIO()
    blobs.download("a/1", sink)
    blobs.download("a/2", sink)  # a zip's chunks, one after another into one file
    assert sink.getvalue() == b"onestreamed"
    assert list(blobs.keys("a/")) == ["a/1", "a/2"]
    assert "a/1" in blobs.url("a/1")


def test_the_queue_twin_keeps_what_was_sent():
    queue = InMemoryJobQueue()
    queue.send({"tenant": "t", "job": "j"}, delay_seconds=10)
    assert queue.take() == [{"tenant": "t", "job": "j"}] and queue.take() == []


@pytest.fixture(params=["memory", "moto"])
def console_store(request):
    if request.param == "memory":
        from chalicelib.memory import InMemoryConsoleStore

        return InMemoryConsoleStore()
    request.getfixturevalue("aws")
    from chalicelib import wiring

    return wiring.container().console_store


def test_console_users_sessions_and_the_action_journal(console_store):
    store = console_store
    store.put_user({"email": "a@x.ru", "tenant": "t", "role": "owner", "password_hash": "h"})
    store.put_user({"email": "b@y.ru", "tenant": "u", "role": "user", "password_hash": "h"})
    assert store.user("a@x.ru")["tenant"] == "t" and store.user("c@z.ru") is None
    assert [u["email"] for u in store.users("t")] == ["a@x.ru"]
    store.delete_user("b@y.ru")
    assert store.user("b@y.ru") is None and store.users("u") == []
    store.put_session(
        "k1", {"email": "a@x.ru", "role": "owner", "csrf": "c", "expires_at": int(time.time()) + 60}
    )
    store.put_session(
        "k2", {"email": "a@x.ru", "role": "owner", "csrf": "c", "expires_at": int(time.time()) - 1}
    )
    assert store.session("k1")["email"] == "a@x.ru" and store.session("k2") is None, (
        "an expired session is gone"
    )
    store.delete_session("k1")
    assert store.session("k1") is None
    store.record("t", {"who": "a@x.ru", "action": "upload"})
    store.record("t", {"who": "a@x.ru", "action": "replay"})
    assert [a["action"] for a in store.actions("t")] == ["replay", "upload"] and store.actions("u") == []


@pytest.fixture(params=["memory", "moto"])
def mailer(request):
    """The mailer and a way to read what it sent (SES on moto keeps the messages it took)."""
    if request.param == "memory":
        from chalicelib.memory import InMemoryMailer

        twin = InMemoryMailer()
        return twin, lambda: [(m["from"], m["to"], m["subject"], m["text"]) for m in twin.sent]
    request.getfixturevalue("aws")
    from moto.ses.models import ses_backends

    from chalicelib.aws.clients import client
    from chalicelib.aws.mail import SesMailer

    client("ses").verify_email_identity(EmailAddress="notices@provider.example")
    backend = ses_backends["123456789012"]["eu-central-1"]
    return SesMailer(), lambda: [
        (m.source, m.destinations["ToAddresses"][0], m.subject, m.body) for m in backend.sent_messages
    ]


def test_a_notice_is_sent_from_the_sender_to_the_owner_in_russian(mailer):
    sender, sent = mailer
    sender.send("notices@provider.example", "owner@shop.ru", "Обмен не загрузился", "Файл import.xml…")
    assert sent() == [
        ("notices@provider.example", "owner@shop.ru", "Обмен не загрузился", "Файл import.xml…")
    ]
