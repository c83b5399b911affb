"""Orders both ways through the real routes: shop → 1C (query/success) → 1C statuses → shop."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import quote

from openapi_schema_validator import OAS30Validator

from chalicelib import wiring
from chalicelib.commerceml import read, write_orders
from chalicelib.commerceml.model import DELIVERY_LINE_ID, Order
from chalicelib.orders.rules import OrderRejected
from chalicelib.shop.openapi import spec

DOBRO = "dobromyslov__commerceml-parser/data/"
KEY = {"X-Api-Key": "demo-key", "Content-Type": "application/json"}


def body(offer_id: str, quantity: int = 1, **extra) -> dict:
    return {
        "customer": {
            "name": "Иванова Мария",
            "email": "m@example.test",
            "phone": "+7 900 000-00-00",
            "address": "Москва, ул. Ленина, 1",
            "inn": "7701234567",
        },
        "lines": [{"offer_id": offer_id, "quantity": quantity}],
        "delivery": {"method": "Курьер", "price": 300, "address": "Москва, ул. Ленина, 1"},
        "payment_method": "Картой онлайн",
        "comment": "Позвонить за час",
        **extra,
    }


def post(stack, payload: dict, key: str):
    response = stack.client.http.request(
        "POST", "/api/v1/orders", headers={**KEY, "Idempotency-Key": key}, body=json.dumps(payload).encode()
    )
    return response.status_code, json.loads(response.body)


def get(stack, path: str):
    response = stack.client.http.request("GET", f"/api/v1{path}", headers=KEY)
    return response.status_code, json.loads(response.body)


def sale_session(stack):
    onec = stack.onec()
    assert onec.checkauth("sale").keyword == "success"
    reply = onec.init("sale", version="2.08")
    assert reply.lines[:1] == ["zip=yes"] and reply.lines[3] == "version=2.08"
    return onec


def query(onec) -> tuple[list[Order], str]:
    response = onec.http.request(
        "GET", f"/1c_exchange?type=sale&mode=query&{onec.sessid}", headers={"Cookie": onec.cookie}
    )
    assert response.status_code == 200
    content_type = response.headers["Content-Type"]
    docs = [e for e in read(io.BytesIO(response.body), "query.xml") if isinstance(e, Order)]
    return docs, content_type


def test_the_whole_loop(shop):
    offer = shop.offers[0]
    placed = []
    for n in range(3):
        status, order = post(shop, body(offer.id if n < 2 else shop.offers[1].id), f"key-{n}")
        assert status == 201, order
        placed.append(order)
    assert [o["number"] for o in placed] == ["1", "2", "3"]
    first = placed[0]
    schema = {"$ref": "#/components/schemas/Order", "components": spec()["components"]}
    for order in placed:
        OAS30Validator(schema).validate(order)
    assert first["status"] == "new" and first["history"][0]["status"] == "new"
    price = next(p.value for p in offer.prices)
    assert Decimal(str(first["totals"]["items"])) == price and first["totals"]["delivery"] == 300
    assert Decimal(str(first["totals"]["total"])) == price + 300

    onec = sale_session(shop)
    docs, content_type = query(onec)
    assert content_type.startswith("application/xml; charset=utf-8")
    assert sorted(d.number for d in docs) == ["1", "2", "3"]
    doc = next(d for d in docs if d.number == "1")
    line, delivery = doc.lines
    assert (line.id, line.quantity, line.unit_price) == (offer.id, Decimal(1), price)
    assert delivery.id == DELIVERY_LINE_ID and delivery.amount == 300 and delivery.kind == "Услуга"
    assert doc.amount == price + 300
    assert doc.contractors[0].inn == "7701234567" and doc.contractors[0].contacts["Почта"] == "m@example.test"
    assert onec.call("sale", "success").keyword == "success"

    onec = sale_session(shop)
    assert query(onec)[0] == [], "confirmed orders are not offered again"

    status_doc = write_orders(
        [
            Order(
                id="1c-guid-of-order-1",
                number="1",
                date="2026-11-28",
                amount=price + 300,
                number_1c="ТДЦУ-000001",
                requisites={
                    "Проведен": "true",
                    "Номер по 1С": "ТДЦУ-000001",
                    "Дата по 1С": "2026-11-28T12:00:00",
                    "Номер оплаты по 1С": "ПКО-0042",
                    "Дата оплаты по 1С": "2026-11-28T12:30:00",
                    "Номер отгрузки по 1С": "РТУ-0077",
                    "Дата отгрузки по 1С": "2026-11-28T15:00:00",
                    "Статус заказа": "Отгружен",
                },
            ),
            Order(id="unknown", number="999", date="2026-11-28", amount=Decimal(1)),
        ]
    )
    assert onec.upload("sale", "documents___1.xml", status_doc)[0].keyword == "success"
    reply = onec.call("sale", "import", filename="documents___1.xml")
    assert reply.keyword == "success" and "обновлено заказов 1" in reply.text and "999" in reply.text

    status, order = get(shop, f"/orders/{first['id']}")
    OAS30Validator(schema).validate(order)
    assert status == 200 and order["status"] == "shipped"
    assert order["one_c"]["number"] == "ТДЦУ-000001" and order["one_c"]["payment_number"] == "ПКО-0042"
    assert order["one_c"]["paid"] is True and order["one_c"]["shipment_number"] == "РТУ-0077"
    assert [h["status"] for h in order["history"]] == ["new", "new", "shipped"]
    listed = get(shop, "/orders?status=shipped")[1]["orders"]
    assert [o["id"] for o in listed] == [first["id"]]
    assert len(get(shop, "/orders")[1]["orders"]) == 3

    from chalicelib import journal, wiring

    rows = journal.exchanges(wiring.container().exchange_store, "demo", limit=10)
    sales = [r["outcome"] for r in rows if r["type"] == "sale"]
    assert sales == [
        "заказы: передано 0, принято 1С 0, обновлено из 1С 1",  # the session that brought statuses
        "заказы: передано 3, принято 1С 3, обновлено из 1С 0",  # the one 1C took the three in
    ], "an orders exchange says what it did (never «no import 0/0/0/0»)"
    statuses = next(r for r in rows if r["type"] == "sale")  # the newest: the one that brought statuses
    detail = journal.exchange(wiring.container().exchange_store, "demo", statuses["id"])
    assert detail["orders_updated_ids"] == [first["id"]], "it names the order 1C's documents updated"
    from tests.test_console import PASSWORD, Browser

    wiring.container().console_auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    browser = Browser(shop)
    assert browser.login("owner@demo.shop").status_code == 303
    page = browser.get(f"/console/exchanges/{statuses['id']}").body.decode().split('id="sale-updated"')[1]
    assert f"№ {first['number']}</a> — отгружен, в 1С № ТДЦУ-000001" in page


def test_query_without_success_offers_the_same_orders_and_new_ones_wait(shop):
    assert post(shop, body(shop.offers[0].id), "a")[0] == 201
    onec = sale_session(shop)
    first = sorted(d.id for d in query(onec)[0])
    again = sale_session(shop)
    assert sorted(d.id for d in query(again)[0]) == first, "no success: the same orders again"
    status, late = post(shop, body(shop.offers[1].id), "b")  # placed between query and success
    assert status == 201
    assert again.call("sale", "success").keyword == "success"
    onec = sale_session(shop)
    assert [d.id for d in query(onec)[0]] == [late["id"]]
    assert onec.call("sale", "success").keyword == "success"
    nothing = sale_session(shop).call("sale", "success")  # as 1C-Bitrix: success, saying so
    assert nothing.keyword == "success" and "подтверждать нечего" in nothing.text


def test_an_order_1c_takes_but_never_confirms_is_shown_stuck_and_found_by_number(shop):
    """Each `mode=query` that offers an order without `success` is counted; from the third the
    console's orders page calls it stuck and says what to look at; a number finds it."""
    from tests.test_console import PASSWORD, Browser

    status, placed = post(shop, body(shop.offers[0].id), "stuck")
    assert status == 201
    for _ in range(3):
        assert placed["id"] in [d.id for d in query(sale_session(shop))[0]]
    tenant = wiring.container().accounts.require("demo")
    (waiting,) = wiring.container().orders.waiting(tenant)
    assert (waiting["id"], waiting["offered"]["times"], waiting["stuck"]) == (placed["id"], 3, True)
    wiring.container().console_auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    browser = Browser(shop)
    assert browser.login("owner@demo.shop").status_code == 303
    page = browser.get("/console/orders").body.decode()
    assert "3 раза" in page and "застрял" in page and "mode=success" in page, page
    found = browser.get(f"/console/orders?q=№{placed['number']}").body.decode()
    assert f"Найдено по № «№{placed['number']}»" in found
    assert f'<tr><td><a href="/console/orders/{placed["id"]}">{placed["number"]}</a></td>' in found
    assert "Заказа с таким номером нет" in browser.get("/console/orders?q=999999").body.decode()
    again = sale_session(shop)
    query(again)
    assert again.call("sale", "success").keyword == "success"
    assert wiring.container().orders.waiting(tenant) == []
    assert "Все заказы приняты 1С" in browser.get("/console/orders").body.decode()
    token = again.cookie.split("=", 1)[1].split(".", 1)[1]
    exchange = browser.get(f"/console/exchanges/{token}").body.decode().split('id="sale-orders"')[1]
    assert f'<a href="/console/orders/{placed["id"]}">№ {placed["number"]}</a> — 1С приняла' in exchange, (
        "the orders exchange names the orders it took"
    )


def test_idempotency_key(shop):
    payload = body(shop.offers[0].id)
    first = post(shop, payload, "same-key")
    again = post(shop, payload, "same-key")
    assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
    assert len(get(shop, "/orders")[1]["orders"]) == 1
    status, error = post(shop, body(shop.offers[1].id), "same-key")
    assert status == 422 and error["error"]["code"] == "idempotency_key_reused"
    response = shop.client.http.request(
        "POST", "/api/v1/orders", headers=KEY, body=json.dumps(payload).encode()
    )
    assert response.status_code == 400


def test_bad_lines_are_named(shop):
    offer = shop.offers[0]
    payload = {
        **body(offer.id),
        "lines": [
            {"offer_id": offer.id, "quantity": 1},
            {"offer_id": "no-such-offer", "quantity": 1},
            {"offer_id": shop.offers[1].id, "quantity": 100000},
        ],
    }
    status, error = post(shop, payload, "bad")
    assert status == 422 and error["error"]["code"] == "order_rejected"
    assert [(d["line"], d["offer_id"]) for d in error["error"]["details"]] == [
        (1, "no-such-offer"),
        (2, shop.offers[1].id),
    ]
    assert post(shop, {"lines": []}, "bad2")[0] == 400
    assert (
        shop.client.http.request(
            "POST", "/api/v1/orders", headers={"Idempotency-Key": "x"}, body=b"{}"
        ).status_code
        == 401
    )


def test_stock_held_by_orders_1c_has_not_taken(shop, monkeypatch):
    monkeypatch.setattr("chalicelib.shop.catalog.HELD_TTL", 0)  # list pages read the holds afresh
    offer = shop.offer  # five or more in stock
    stock = int(offer.total_stock)

    def listed() -> dict:
        found, cursor = [], ""
        while True:  # the whole catalog, page by page, until the product turns up
            page = get(shop, f"/products?limit=100{cursor}")[1]
            found = [i for i in page["items"] if i["id"] == offer.product_id]
            if found or not page["next_cursor"]:
                return found[0]
            cursor = f"&cursor={page['next_cursor']}"

    before = listed()
    assert before["available"] == before["stock"]

    def served() -> dict:
        product = get(shop, f"/products/{quote(offer.product_id, safe='')}")[1]
        return next(o for o in product["offers"] if o["id"] == offer.id)["stock"]

    assert served() == {**served(), "total": stock, "held": 0, "available": stock}
    assert post(shop, body(offer.id, 2), "two")[0] == 201
    assert (served()["total"], served()["held"], served()["available"]) == (stock, 2, stock - 2), (
        "the product view shows what can still be ordered beside what 1C reported"
    )
    after = listed()
    assert (after["stock"], after["available"]) == (before["stock"], before["stock"] - 2), (
        "a list page shows it too"
    )
    assert post(shop, body(offer.id, stock - 2), "all")[0] == 201
    assert served()["available"] == 0
    status, error = post(shop, body(offer.id, 1), "one-more")
    assert status == 422 and "available" in error["error"]["details"][0]["reason"]


def test_concurrent_orders_for_the_last_units(shop, atomic_dynamodb):
    offer = shop.offers[0]
    tenant = wiring.container().accounts.require("demo")
    orders = wiring.container().orders
    # Make exactly 5 units available: hold the rest with one order.
    stock = int(offer.total_stock)
    holds = wiring.container().orders.store
    holds.table.put_item(
        Item={"pk": "demo#holds", "sk": offer.id, "held": Decimal(stock - 5) if stock > 5 else Decimal(0)}
    )
    available = 5 if stock > 5 else stock

    def attempt(n: int) -> bool:
        try:
            orders.place(tenant, body(offer.id, 1))
            return True
        except OrderRejected:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(20)))
    assert sum(results) == available
    assert len(orders.list(tenant, None, None, None, 100)["orders"]) == available


def test_sample_1c_documents_apply_to_matching_orders(shop, samples):
    counters = wiring.container().orders.store
    created = {}
    for n, number in enumerate(("142", "235", "20")):
        counters.table.put_item(
            Item={"pk": "demo#counters", "sk": "order_number", "n": Decimal(int(number) - 1)}
        )
        status, order = post(shop, body(shop.offers[n].id), f"n{number}")
        assert status == 201 and order["number"] == number
        created[number] = order["id"]
    onec = sale_session(shop)
    for path in (
        "ArgentCrusade__commerceml/tests/fixtures/documents-example.xml",
        "carono__yii2-1c-exchange/files/xml/to.xml",
    ):
        data = (samples / path).read_bytes()
        assert onec.upload("sale", "documents.xml", data)[0].keyword == "success"
        reply = onec.call("sale", "import", filename="documents.xml")
        assert reply.keyword == "success" and "обновлено заказов" in reply.text, reply.text
        onec.init("sale", version="2.08")
    order142 = get(shop, f"/orders/{created['142']}")[1]
    assert (
        order142["one_c"]["number"] == "ТДЦУ-000001" and order142["one_c"]["payment_number"] == "ТДЦУ-000001"
    )
    assert order142["status"] == "shipped" and order142["one_c"]["shipment_number"] == "ТДЦУ-000003"
    order20 = get(shop, f"/orders/{created['20']}")[1]
    assert order20["status"] == "delivered", order20["one_c"]


def test_windows_1251_orders_for_tenants_that_want_it(shop):
    wiring.container().accounts.update_settings("demo", order_encoding="windows-1251")
    assert post(shop, body(shop.offers[0].id), "cp")[0] == 201
    onec = sale_session(shop)
    response = onec.http.request(
        "GET",
        f"/1c_exchange?type=sale&mode=query&{onec.sessid}",
        headers={"Cookie": onec.cookie, "Accept": "*/*"},
    )
    assert response.headers["Content-Type"] == "text/xml; charset=windows-1251"
    assert response.body.startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    assert "Иванова".encode("cp1251") in response.body
    docs = [e for e in read(io.BytesIO(response.body), "q.xml") if isinstance(e, Order)]
    assert len(docs) == 1
