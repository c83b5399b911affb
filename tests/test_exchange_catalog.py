"""Catalog exchange end to end: whole 1C sessions through chalice.test on moto, the worker run
by the same SQS handler Lambda calls."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib import wiring
from chalicelib.commerceml import read
from chalicelib.commerceml.model import Offer, Product
from chalicelib.importjob import ImportJob
from tests.catalog_records import docs, record_set
from tests.reliability import cml

FIXTURES = Path(__file__).parent / "fixtures"

CATALOGS = {
    "dobromyslov": (
        "dobromyslov__commerceml-parser/data/import0_1.xml",
        "dobromyslov__commerceml-parser/data/offers0_1.xml",
    ),
    "carono": (
        "carono__yii2-1c-exchange/files/xml/import.xml",
        "carono__yii2-1c-exchange/files/xml/offers.xml",
    ),
    "bigperson": ("bigperson__exchange1c/tests/xml/import.xml", "bigperson__exchange1c/tests/xml/offers.xml"),
    "gillbeits-203": ("gillbeits__commerceml/tests/import.xml", "gillbeits__commerceml/tests/offers.xml"),
    "official-204": (
        "irpsv__commerceml/tests/assets/off-doc-1c/import.xml",
        "irpsv__commerceml/tests/assets/off-doc-1c/offers.xml",
    ),
    "ready-script-205": (
        "irpsv__commerceml/tests/assets/ready-script/import.xml",
        "irpsv__commerceml/tests/assets/ready-script/offers.xml",
    ),
    "django-cml-205": ("ArtemiusUA__django-cml/tests/tests_fixtures/import.xml", None),
}
SPLIT_209 = [
    "gillbeits__commerceml/example/import___b815e2db-7a65-4265-9241-5f0c4f0565a7.xml",
    "gillbeits__commerceml/example/offers___7f304edc-2527-4d3d-b058-6e4ee53de2e0.xml",
    "gillbeits__commerceml/example/prices___d66a6b51-ce9c-4e7a-8c7c-25079721107f.xml",
    "gillbeits__commerceml/example/rests___1af6e7b8-a026-4690-9752-1c9d64cb914d.xml",
]


def parsed(path: Path) -> list:
    with path.open("rb") as f:
        return list(read(f, path.name))


def assert_catalog_matches(items: list[dict], import_path: Path | None, offers_paths: list[Path]) -> None:
    products = docs(items, "product")
    if import_path is not None:
        expected = [p for p in parsed(import_path) if isinstance(p, Product)]
        assert set(products) == {p.base_id for p in expected}
        for p in expected:
            stored = products[p.base_id]
            if "#" not in p.id:
                assert stored["name"] == p.name and stored["sku"] == p.sku
                assert stored["active"] == (not p.deleted)
    prices, stock, offers = docs(items, "prices"), docs(items, "stock"), docs(items, "offer")
    for path in offers_paths:
        for o in (e for e in parsed(path) if isinstance(e, Offer)):
            if o.name is not None:
                assert offers[o.id]["name"] == o.name
            if o.prices:
                stored = {p["price_type_id"]: Decimal(p["value"]) for p in prices[o.id]["prices"]}
                assert stored == {p.price_type_id: p.value for p in o.prices}
            if o.stock:
                stored = {w["id"]: Decimal(w["quantity"]) for w in stock[o.id]["warehouses"]}
                assert stored == {s.warehouse_id: s.quantity for s in o.stock}
            if o.total_stock is not None:
                assert Decimal(stock[o.id]["total"]) == o.total_stock


@pytest.fixture
def small_chunks(stack):
    """The stack's container built again with 20 KB chunks (never a setting changed after)."""
    from dataclasses import replace

    from chalicelib import wiring
    from chalicelib.container import Container

    settings = replace(wiring.container().settings, file_limit=20000)
    wiring.use(Container(settings))


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_every_sample_catalog_imports_and_matches(stack, samples, small_chunks, name):
    import_rel, offers_rel = CATALOGS[name]
    onec = stack.onec()
    reply = onec.send_file(Path(import_rel).name, (samples / import_rel).read_bytes())
    assert reply.keyword == "success", reply.text
    assert onec.file_limit == 20000
    offers_paths = []
    if offers_rel:
        reply = onec.send_file(Path(offers_rel).name, (samples / offers_rel).read_bytes())
        assert reply.keyword == "success", reply.text
        offers_paths.append(samples / offers_rel)
    assert_catalog_matches(stack.catalog_items(), samples / import_rel, offers_paths)


def test_a_zip_sent_in_many_chunks_lands_whole(stack, samples, small_chunks):
    """1C sends a zip larger than `file_limit` in chunks; the worker joins them in order (an S3
    download that wrote each chunk at offset 0 once left only the last one)."""
    import_rel = CATALOGS[sorted(CATALOGS)[0]][0]
    members = {
        "import.xml": (samples / import_rel).read_bytes(),
        "import_files/ph/p.jpg": random.Random(1).randbytes(100_000),
    }
    onec = stack.onec()
    replies = onec.send_zip(members, ["import.xml"])
    assert len(onec.log) and sum("file" in line for line in onec.log) > 2, "sent in several chunks"
    assert replies[-1].keyword == "success", replies[-1].text
    assert_catalog_matches(stack.catalog_items(), samples / import_rel, [])


def test_split_209_set_merges_into_offers(stack, samples):
    onec = stack.onec(path="/bitrix/admin/1c_exchange.php")
    replies = []
    for rel in SPLIT_209:
        replies.append(onec.send_file(Path(rel).name, (samples / rel).read_bytes()))
        assert replies[-1].keyword == "success", replies[-1].text
    items = stack.catalog_items()
    assert len(docs(items, "group")) == 97 and len(docs(items, "property")) == 1908
    assert len(docs(items, "offer")) == len(docs(items, "prices")) == len(docs(items, "stock")) == 978
    assert_catalog_matches(items, None, [samples / rel for rel in SPLIT_209[1:]])
    # The products were not in this set: the offers are kept and reported, not dropped.
    jobs = wiring.container().exchange_store.jobs("demo")
    offers_job = next(j for j in jobs if j.filename.startswith("offers___"))
    assert offers_job.counts["offers_without_product"] == 978
    assert "предложений без товара на сайте: 978" in replies[1].text


def test_prices_file_never_wipes_stock_and_rests_never_wipe_prices(stack):
    onec = stack.onec()
    assert (
        onec.send_file("offers.xml", (FIXTURES / "offers-203-trailing-flag.xml").read_bytes()).keyword
        == "success"
    )
    assert onec.send_file("rests___1.xml", (FIXTURES / "rests___split.xml").read_bytes()).keyword == "success"
    assert (
        onec.send_file("prices___1.xml", (FIXTURES / "prices___split.xml").read_bytes()).keyword == "success"
    )
    items = stack.catalog_items()
    offer_id = "prod-1#var-1"
    assert docs(items, "prices")[offer_id]["prices"][0]["value"] == "999"
    assert docs(items, "stock")[offer_id]["total"] == "7.5"
    assert docs(items, "offer")[offer_id]["name"] == "Куртка (L)"


def test_reimport_writes_nothing(stack, samples):
    onec = stack.onec()
    rel = "dobromyslov__commerceml-parser/data/offers0_1.xml"
    assert onec.send_file("offers0_1.xml", (samples / rel).read_bytes()).keyword == "success"
    stats = wiring.container().catalog_store.stats
    first = stats.items
    assert first > 0
    reply = onec.send_file("offers0_1.xml", (samples / rel).read_bytes())
    assert reply.keyword == "success" and "создано 0, изменено 0" in reply.text
    assert stats.items == first, "an unchanged file must cost zero catalog writes"


def _catalog(products: list[tuple[str, str]], full: bool) -> bytes:
    items = "".join(
        f"<Товар><Ид>{pid}</Ид><Наименование>{name}</Наименование></Товар>" for pid, name in products
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.07" ДатаФормирования="2024-01-01">'
        f'<Каталог СодержитТолькоИзменения="{"false" if full else "true"}"><Ид>c</Ид><Товары>{items}</Товары></Каталог>'
        "</КоммерческаяИнформация>"
    ).encode()


def _active(stack) -> dict[str, bool]:
    return {p: d["active"] for p, d in docs(stack.catalog_items(), "product").items()}


def test_full_upload_deactivates_absent_incremental_does_not_and_later_upload_restores(stack):
    onec = stack.onec()
    abc = [("a", "A"), ("b", "B"), ("c", "C")]
    assert onec.send_file("import.xml", _catalog(abc, full=True)).keyword == "success"
    assert _active(stack) == {"a": True, "b": True, "c": True}
    assert onec.send_file("import.xml", _catalog([("a", "A2")], full=False)).keyword == "success"
    assert _active(stack) == {"a": True, "b": True, "c": True}, "incremental never deactivates by absence"
    reply = onec.send_file("import.xml", _catalog([("a", "A2"), ("b", "B")], full=True))
    assert reply.keyword == "success"
    assert _active(stack) == {"a": True, "b": True, "c": True}, "decided once, at the exchange's end"
    assert onec.call("catalog", "complete").keyword == "success"
    stack.pump.drain()
    assert _active(stack) == {"a": True, "b": True, "c": False}
    assert onec.send_file("import.xml", _catalog(abc, full=False)).keyword == "success"
    assert _active(stack) == {"a": True, "b": True, "c": True}, "deactivated, not deleted: it comes back"


# The same split full export as 1C names it in 2.x and as the add-on sends it in 3.1 mode.
SPLIT_NAMES = {
    "2.x": ("import0_1.xml", "import1_1.xml", "offers0_1.xml", "offers1_1.xml"),
    "3.1": tuple(
        f"{kind}_1_{n}_5f0c{n}e7a-3d1b-4c52-9a0e-1c2b3d4e5f6{n}.xml"
        for kind in ("goods", "offers")
        for n in (1, 2)
    ),
}


@pytest.mark.parametrize("schema", SPLIT_NAMES)
def test_a_full_export_split_into_files_of_each_kind_deactivates_only_what_no_part_listed(stack, schema):
    """1C's numbered parts (import0_1.xml, import1_1.xml, offers0_1.xml, offers1_1.xml; in 3.1
    goods_1_1_….xml, goods_1_2_….xml, …), every one full, in one zip: no part switches off
    another's products or offers; at `complete` what no part listed — the product and the offer of
    an earlier exchange — is deactivated, nothing else."""
    from tests.reliability import cml
    from tests.reliability.test_hostile_exchange import cml31

    as_sent = cml31 if schema == "3.1" else (lambda data: data)
    onec = stack.onec()
    assert onec.send_file("import.xml", _catalog([("old", "Снят")], full=False)).keyword == "success"
    assert onec.send_file("offers.xml", cml.offers(cml.offer("old"))).keyword == "success"
    documents = (
        _catalog([("a", "A"), ("b", "B")], full=True),
        _catalog([("c", "C")], full=True),
        cml.offers(cml.offer("a") + cml.offer("b"), only_changes=False),
        cml.offers(cml.offer("c"), only_changes=False),
    )
    parts = {name: as_sent(data) for name, data in zip(SPLIT_NAMES[schema], documents, strict=True)}
    assert all((b"urn:1C.ru:commerceml_3" in data) == (schema == "3.1") for data in parts.values())
    replies = onec.send_zip(parts, list(parts))
    assert all(r.keyword == "success" for r in replies), [r.text for r in replies]
    assert _active(stack) == {"old": True, "a": True, "b": True, "c": True}
    done = onec.call("catalog", "complete")
    assert done.keyword == "success" and "деактивированы" in done.text
    stack.pump.drain()
    assert _active(stack) == {"old": False, "a": True, "b": True, "c": True}
    offers = {o: d["active"] for o, d in docs(stack.catalog_items(), "offer").items()}
    assert offers == {"old": False, "a": True, "b": True, "c": True}


def test_split_parts_never_deactivate_but_mode_deactivate_does(stack):
    onec = stack.onec()
    assert (
        onec.send_file("import.xml", _catalog([("a", "A"), ("b", "B"), ("c", "C")], full=True)).keyword
        == "success"
    )
    time.sleep(1.1)  # the checkauth timestamp has one-second resolution
    assert onec.checkauth().keyword == "success"
    run_started = onec.timestamp
    assert (
        onec.send_file("import___1.xml", _catalog([("a", "A"), ("b", "B")], full=True)).keyword == "success"
    )
    assert _active(stack) == {"a": True, "b": True, "c": True}
    reply = onec.call("catalog", "deactivate", timestamp=run_started)
    assert reply.keyword == "success", "never progress: 1C may not poll deactivate (docs/clients.md §6)"
    stack.pump.drain()
    assert _active(stack) == {"a": True, "b": True, "c": False}
    reply = onec.call("catalog", "deactivate", timestamp=run_started)
    assert reply.keyword == "success" and "деактивировано: 1" in reply.text
    assert onec.call("catalog", "complete").keyword == "success"
    assert onec.call("catalog", "deactivate").keyword == "failure", "deactivate without timestamp is refused"


def test_explicit_deletion_marks_deactivate(stack, samples):
    onec = stack.onec()
    rel = "dobromyslov__commerceml-parser/data/import0_1.xml"
    assert onec.send_file("import0_1.xml", (samples / rel).read_bytes()).keyword == "success"
    deleted = [p for p in parsed(samples / rel) if isinstance(p, Product) and p.deleted]
    assert _active(stack)[deleted[0].id] is False


def test_zip_upload_with_images_stored_once_by_hash(stack, samples, small_chunks):
    import_xml = (samples / "dobromyslov__commerceml-parser/data/import0_1.xml").read_bytes()
    product = next(
        p
        for p in parsed(samples / "dobromyslov__commerceml-parser/data/import0_1.xml")
        if isinstance(p, Product) and not p.deleted
    )
    picture = b"\xff\xd8\xff\xe0" + b"jpeg" * 5000
    xml = import_xml.replace(
        f"<Ид>{product.id}</Ид>".encode(),
        f"<Ид>{product.id}</Ид><Картинка>import_files/ab/pic.jpg</Картинка>".encode(),
        1,
    )
    members = {
        "import0_1.xml": xml,
        "offers0_1.xml": (samples / "dobromyslov__commerceml-parser/data/offers0_1.xml").read_bytes(),
        "import_files/ab/pic.jpg": picture,
        "import_files/cd/same.jpg": picture,
    }
    onec = stack.onec()
    replies = onec.send_zip(members, ["import0_1.xml", "offers0_1.xml"])
    assert [r.keyword for r in replies] == ["success", "success"], [r.text for r in replies]
    stored = docs(stack.catalog_items(), "product")[product.id]
    key = stored["images"][0]["key"]
    assert key.endswith(hashlib.sha256(picture).hexdigest() + ".jpg")
    assert wiring.container().blobs.get(key) == picture
    images = list(wiring.container().blobs.keys("images/demo/"))
    assert len(images) == 1, "identical images are stored once"
    assert len(docs(stack.catalog_items(), "prices")) == 44


def test_worker_stopped_halfway_resumes_to_the_same_table(stack, samples, monkeypatch):
    from chalicelib.aws.catalog import CatalogStore
    from chalicelib.exchange import apply as apply_module

    monkeypatch.setattr(apply_module, "CHECKPOINT_EVERY", 10)
    rel = "dobromyslov__commerceml-parser/data/import0_1.xml"
    data = (samples / rel).read_bytes()

    # Uninterrupted run, in a clean table of its own tenant.
    accounts = wiring.container().accounts
    accounts.add("other")
    accounts.set_1c_credentials("other", "other", "pw")
    assert stack.onec("other", "pw").send_file("import0_1.xml", data).keyword == "success"
    reference = record_set(stack.catalog_items("other"))

    original = CatalogStore.write_changes
    calls = {"n": 0}

    def dying(self, *args):
        """The third batch's writes fail while the fourth is being prepared."""
        calls["n"] += 1
        wait = original(self, *args)
        if calls["n"] != 3:
            return wait

        def timed_out():
            wait()
            raise TimeoutError("Lambda timed out")

        return timed_out

    monkeypatch.setattr(CatalogStore, "write_changes", dying)
    onec = stack.onec()
    reply = onec.send_file("import0_1.xml", data)
    assert reply.keyword == "success", reply.text
    assert calls["n"] > 3, "the job was interrupted and resumed"
    job = next(j for j in wiring.container().exchange_store.jobs("demo") if j.filename == "import0_1.xml")
    assert job.attempts == 1
    assert record_set(stack.catalog_items()) == reference


def test_redelivered_message_after_success_changes_nothing(stack, samples):
    onec = stack.onec()
    rel = "carono__yii2-1c-exchange/files/xml/import.xml"
    assert onec.send_file("import.xml", (samples / rel).read_bytes()).keyword == "success"
    job = next(j for j in wiring.container().exchange_store.jobs("demo"))
    before = wiring.container().catalog_store.stats.items
    assert wiring.container().import_worker.run("demo", job.id, lambda: 900_000) == "skipped"
    assert wiring.container().catalog_store.stats.items == before


def test_one_import_at_a_time_per_tenant(stack):
    store = wiring.container().exchange_store
    assert store.acquire_lease("demo", "job-1", 60)
    assert not store.acquire_lease("demo", "job-2", 60)
    assert store.acquire_lease("other", "job-3", 60), "tenants do not wait for each other"
    store.create_job("demo", ImportJob("x#import.xml", area="x", filename="import.xml"))
    assert wiring.container().import_worker.run("demo", "x#import.xml", lambda: 900_000) == "busy"
    assert store.get_job("demo", "x#import.xml").status == "queued"
    store.release_lease("demo", "job-1")
    assert store.acquire_lease("demo", "job-2", 60)


# -- hostile and broken input: a clear failure, and the previous catalog still served -----------


@pytest.fixture
def baseline(stack, samples):
    onec = stack.onec()
    rel = "dobromyslov__commerceml-parser/data/import0_1.xml"
    assert onec.send_file("import0_1.xml", (samples / rel).read_bytes()).keyword == "success"
    return _everything(stack)


def _everything(stack) -> set[str]:
    return {json.dumps(i, sort_keys=True, default=str) for i in stack.catalog_items()}


def _unchanged(stack, baseline) -> bool:
    return _everything(stack) == baseline


def test_malformed_xml_fails_cleanly(stack, baseline, samples):
    data = (samples / "dobromyslov__commerceml-parser/data/import0_1.xml").read_bytes()
    broken = data.replace("</Наименование>".encode(), b"</Name>", 30)
    reply = stack.onec().send_file("import0_1.xml", broken)
    assert reply.keyword == "failure" and "import0_1.xml" in reply.text and "строка" in reply.text
    assert _unchanged(stack, baseline)


def test_truncated_upload_fails_cleanly(stack, baseline, samples):
    data = (samples / "dobromyslov__commerceml-parser/data/import0_1.xml").read_bytes()
    reply = stack.onec().send_file("import0_1.xml", data[: len(data) * 2 // 3])
    assert reply.keyword == "failure" and "обрывается" in reply.text
    assert _unchanged(stack, baseline)


def test_xxe_is_refused(stack, baseline):
    reply = stack.onec().send_file("import0_1.xml", (FIXTURES / "hostile-xxe.xml").read_bytes())
    assert reply.keyword == "failure" and "DOCTYPE" in reply.text
    assert "root:" not in reply.text
    assert _unchanged(stack, baseline)


def test_zip_bomb_is_refused(stack, baseline):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("import0_1.xml", b"<" + b"\x00" * 50_000_000)
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.init()
    for reply in onec.upload("catalog", "bomb.zip", buffer.getvalue()):
        assert reply.keyword == "success"
    reply = onec.import_file("import0_1.xml")
    assert reply.keyword == "failure" and "zip-бомб" in reply.text
    assert _unchanged(stack, baseline)


def test_zip_slip_is_refused(stack, baseline):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.xml", b"<x/>")
        archive.writestr("import0_1.xml", b"<x/>")
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.init()
    onec.upload("catalog", "slip.zip", buffer.getvalue())
    reply = onec.import_file("import0_1.xml")
    assert reply.keyword == "failure" and "недопустимый путь" in reply.text
    assert _unchanged(stack, baseline)
    assert not [k for k in wiring.container().blobs.keys("") if "evil" in k]


def test_wrong_password_and_throttling(stack):
    onec = stack.onec(password="wrong")
    reply = onec.call("catalog", "checkauth", auth=True)
    assert reply.status == 200 and reply.keyword == "failure" and "неверный логин или пароль" in reply.text
    for _ in range(5):
        onec.call("catalog", "checkauth", auth=True)
    good = stack.onec()
    reply = good.call("catalog", "checkauth", auth=True)
    assert reply.keyword == "failure" and "слишком много" in reply.text
    assert stack.onec().call("catalog", "init").keyword == "failure", "no session, no init"


def test_protocol_answers_are_always_plain_text_keywords(stack):
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    for kind, mode in [("catalog", "bogus"), ("weird", "init"), ("catalog", "")]:
        reply = onec.call(kind, mode)
        assert reply.status == 200 and reply.keyword == "failure"
        assert reply.headers["Content-Type"].startswith("text/plain")
    assert onec.call("catalog", "file", b"x", filename="../../etc/passwd").keyword == "failure"
    assert onec.call("catalog", "file", b"<?php", filename="shell.php").keyword == "failure"
    assert onec.call("catalog", "import", filename="never-sent.xml").keyword == "failure"
    assert onec.call("reference", "import", filename="references___1.xml").keyword == "success"


def test_checkauth_answer_shape_and_session_by_cookie_sessid_or_basic(stack):
    onec = stack.onec()
    reply = onec.call("catalog", "checkauth", auth=True)
    name, value, sessid, timestamp = reply.lines[1:5]
    assert reply.lines[0] == "success" and reply.text.endswith("\n")
    assert (
        name == "CMLBRIDGE"
        and sessid == f"sessid={value.encode().hex()}"
        and timestamp.startswith("timestamp=")
    )
    assert re.fullmatch(r"sessid=[a-z0-9]+", sessid), "plain lowercase hex, whole to any client's regex"
    assert reply.headers["Set-Cookie"] == f"{name}={value}; Path=/; HttpOnly; SameSite=Lax"
    by_cookie = onec.http.request(
        "GET", "/1c_exchange?type=catalog&mode=init", headers={"Cookie": f"{name}={value}"}
    )
    assert by_cookie.body.decode().startswith("zip=yes\nfile_limit=")
    by_sessid = onec.http.request("GET", f"/1c_exchange?type=catalog&mode=init&{sessid}", headers={})
    assert by_sessid.body.decode().startswith("zip=yes")
    basic = base64.b64encode(b"demo:demo").decode()
    by_basic = onec.http.request(
        "GET", "/1c_exchange?type=catalog&mode=init", headers={"Authorization": f"Basic {basic}"}
    )
    assert by_basic.body.decode().startswith("zip=yes")
    sale = onec.http.request("GET", f"/1c_exchange?type=sale&mode=init&{sessid}&version=2.08", headers={})
    assert sale.body.decode().split("\n")[2:4] == [sessid, "version=2.08"]


def test_a_client_that_keeps_cookies_the_http_way_runs_a_whole_exchange(stack):
    """A client written against 1C-Bitrix: the session from `Set-Cookie` (Secure behind HTTPS),
    the sessid read with `[a-z0-9]+`, offers before import, the zip in one POST, and
    `type=sale&mode=success` at the end of a catalog exchange answered `success`."""
    http = stack.client.http
    basic = {
        "Authorization": "Basic " + base64.b64encode(b"demo:demo").decode(),
        "X-Forwarded-Proto": "https",
    }
    first = http.request("GET", "/1c_exchange?type=catalog&mode=checkauth", headers=basic)
    set_cookie = first.headers["Set-Cookie"]
    assert set_cookie.endswith("; Secure") and "HttpOnly" in set_cookie
    jar = {"Cookie": set_cookie.split(";", 1)[0]}
    sessid = re.search(r"sessid=([a-z0-9]+)", first.body.decode()).group(1)
    init = http.request("GET", f"/1c_exchange?type=catalog&mode=init&sessid={sessid}", headers=jar)
    assert init.body.decode().startswith("zip=yes")
    data = zip_of(
        {"offers.xml": cml.offers(cml.offer("p-http")), "import.xml": cml.catalog(cml.product("p-http"))}
    )
    sent = http.request(
        "POST", "/1c_exchange?type=catalog&mode=file&filename=pack.zip", headers=jar, body=data
    )
    assert sent.body.decode().startswith("success")
    for name in ("import.xml", "offers.xml"):
        answer = http.request("GET", f"/1c_exchange?type=catalog&mode=import&filename={name}", headers=jar)
        for _ in range(20):
            if not answer.body.decode().startswith("progress"):
                break
            stack.pump.drain()
            answer = http.request(
                "GET", f"/1c_exchange?type=catalog&mode=import&filename={name}", headers=jar
            )
        assert answer.body.decode().startswith("success"), answer.body
    done = http.request("GET", f"/1c_exchange?type=sale&mode=success&sessid={sessid}", headers=jar)
    assert done.body.decode().startswith("success\nподтверждать нечего")
    product = json.loads(http.get("/api/v1/products/p-http", headers={"X-Api-Key": "demo-key"}).body)
    assert product["offers"][0]["prices"][0]["value"] == 10


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_equal_consecutive_chunks_are_both_kept(stack, small_chunks):
    """The protocol appends every chunk (docs/protocol.md §4.2): a file whose content repeats must
    arrive whole, so two equal chunks in a row are two chunks, not a resend."""
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.init()
    size = onec.file_limit
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.05"><Классификатор><Ид>c</Ид><Наименование>К</Наименование><Группы>'.encode()
    group = "<Группа><Ид>g{n:05d}</Ид><Наименование>Одна и та же группа</Наименование></Группа>"
    body = "".join(group.format(n=n) for n in range(400)).encode()
    tail = "</Группы></Классификатор></КоммерческаяИнформация>".encode()
    data = head + b" " * (size - len(head) % size) + b" " * (2 * size) + body + tail
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert chunks[1] == chunks[2], "two identical chunks in a row"
    for chunk in chunks:
        assert onec.call("catalog", "file", chunk, filename="import.xml").keyword == "success"
    upload = stack_upload("import.xml")
    assert upload["size_bytes"] == len(data) and len(upload["parts"]) == len(chunks)
    assert onec.import_file("import.xml").keyword == "success"
    assert len(docs(stack.catalog_items(), "group")) == 400


def stack_upload(filename: str, tenant: str = "demo") -> dict:
    """The upload record of a file (the latest area holding it)."""
    from boto3.dynamodb.conditions import Key

    from chalicelib import wiring

    items = wiring.container().exchange_store.table.query(
        KeyConditionExpression=Key("pk").eq(f"{tenant}#upload")
    )["Items"]
    return [i for i in items if i["sk"].endswith(f"#{filename}")][-1]


def test_restarted_file_replaces_the_partial_one(stack, samples, small_chunks):
    data = (samples / "dobromyslov__commerceml-parser/data/offers0_1.xml").read_bytes()
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.init()
    aborted = data[: onec.file_limit // 3]  # an aborted first attempt, unlike any chunk of the retry
    assert aborted not in [data[i : i + onec.file_limit] for i in range(0, len(data), onec.file_limit)]
    onec.call("catalog", "file", aborted, filename="offers0_1.xml")
    for reply in onec.upload("catalog", "offers0_1.xml", data):
        assert reply.keyword == "success"
    upload = stack_upload("offers0_1.xml")
    assert upload["size_bytes"] == len(data) and upload["restarts"] == 1
    assert onec.import_file("offers0_1.xml").keyword == "success"
    assert len(docs(stack.catalog_items(), "prices")) == 44


def test_binary_chunk_through_an_api_gateway_event(stack):
    """API Gateway delivers binary bodies base64-encoded (chalice.test does not exercise this)."""
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.init()
    payload = bytes(range(256)) * 64 + b"PK\x03\x04\xff\xfe\x00"
    event = {
        "resource": "/1c_exchange",
        "path": "/1c_exchange",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/octet-stream", "Cookie": onec.cookie},
        "multiValueHeaders": {},
        "queryStringParameters": {"type": "catalog", "mode": "file", "filename": "v8_1065_3a.zip"},
        "multiValueQueryStringParameters": {
            "type": ["catalog"],
            "mode": ["file"],
            "filename": ["v8_1065_3a.zip"],
        },
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/1c_exchange",
            "httpMethod": "POST",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": base64.b64encode(payload).decode(),
        "isBase64Encoded": True,
    }
    response = stack.app(event, None)
    assert response["statusCode"] == 200 and response["body"].startswith("success")
    keys = [k for k in wiring.container().blobs.keys("uploads/demo/") if "v8_1065_3a.zip" in k]
    assert [wiring.container().blobs.get(k) for k in keys] == [payload]
    assert (
        "application/octet-stream" in stack.app.api.binary_types and "*/*" not in stack.app.api.binary_types
    )


def test_journal_through_the_admin_cli(stack, samples, capsys, small_chunks):
    from chalicelib import admin

    onec = stack.onec()
    rel = "dobromyslov__commerceml-parser/data/offers0_1.xml"
    assert onec.send_file("offers0_1.xml", (samples / rel).read_bytes()).keyword == "success"
    assert onec.send_file("broken.xml", b"<?xml version='1.0'?><oops").keyword == "failure"
    capsys.readouterr()
    assert admin.main(["exchanges", "list", "demo"]) == 0
    sessions = json.loads(capsys.readouterr().out)
    assert {s["outcome"] for s in sessions} >= {"done", "failed"}
    failed = next(s for s in sessions if s["outcome"] == "failed")
    good = next(s for s in sessions if s["outcome"] == "done")
    assert admin.main(["exchanges", "show", "demo", failed["id"]]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["jobs"][0]["file"] == "broken.xml" and "broken.xml" in detail["jobs"][0]["error"]
    assert admin.main(["exchanges", "show", "demo", good["id"]]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["files"][0]["chunks"] == 4 and detail["files"][0]["bytes"] == (samples / rel).stat().st_size
    assert detail["jobs"][0]["counts"]["created"] > 0
    assert any("catalog/file offers0_1.xml" in call for call in detail["calls"])


def test_tenants_never_see_each_others_uploads_or_journal(stack, samples, capsys):
    from chalicelib import admin

    accounts = wiring.container().accounts
    accounts.add("shop-b")
    accounts.set_1c_credentials("shop-b", "b-login", "b-pass")
    rel = "dobromyslov__commerceml-parser/data/offers0_1.xml"
    assert stack.onec().send_file("offers0_1.xml", (samples / rel).read_bytes()).keyword == "success"
    other = stack.onec("b-login", "b-pass")
    assert other.checkauth().keyword == "success"
    other.init()
    reply = other.call("catalog", "import", filename="offers0_1.xml")
    assert reply.keyword == "failure" and "не был загружен" in reply.text
    a = stack.onec()
    assert a.checkauth().keyword == "success"
    forged = other.cookie.replace("shop-b.", "demo.")  # another tenant's name on B's token
    response = other.http.request("GET", "/1c_exchange?type=catalog&mode=init", headers={"Cookie": forged})
    assert response.body.decode().startswith("failure")
    assert stack.catalog_items("shop-b") == []
    capsys.readouterr()
    assert admin.main(["exchanges", "list", "shop-b"]) == 0
    assert all(s["outcome"] != "done" for s in json.loads(capsys.readouterr().out))
    assert not [
        k for k in wiring.container().blobs.keys("") if k.split("/")[1] == "shop-b" and "offers0_1" in k
    ]
