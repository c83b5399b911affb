"""What real 1C clients and the 1C-Bitrix add-on send and expect (docs/clients.md), driven
the way they drive it: whole sessions through the exchange URL, documents shaped like theirs."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from urllib.parse import quote

import pytest
from lxml import etree
from openapi_schema_validator import OAS30Validator

from chalicelib import wiring
from chalicelib.aws.offer_items import unpack_prices
from chalicelib.commerceml import read, write_orders
from chalicelib.commerceml.model import Order
from chalicelib.shop.openapi import spec
from tests.conftest import SAMPLES
from tests.reliability import cml

KEY = {"X-Api-Key": "demo-key", "Content-Type": "application/json"}


def sale(stack, version: str | None = "2.08", **extra):
    onec = stack.onec()
    assert onec.checkauth("sale").keyword == "success"
    params = {"version": version} if version else {}
    onec.init("sale", **params, **extra)
    return onec


def get_raw(onec, mode: str):
    headers = {"Cookie": onec.cookie, "Accept": "*/*"}  # 1C accepts anything
    return onec.http.request("GET", f"/1c_exchange?type=sale&mode={mode}&{onec.sessid}", headers=headers)


def body_of(response) -> bytes:
    return response.body.encode() if isinstance(response.body, str) else response.body


def post(stack, body: dict, key: str):
    response = stack.client.http.request(
        "POST", "/api/v1/orders", headers={**KEY, "Idempotency-Key": key}, body=json.dumps(body).encode()
    )
    return response.status_code, json.loads(response.body)


def get(stack, path: str):
    response = stack.client.http.request("GET", f"/api/v1{path}", headers=KEY)
    return response.status_code, json.loads(response.body)


def declared_encoding(body: bytes) -> str:
    return etree.fromstring(body).getroottree().docinfo.encoding.lower()


# -- protocol --------------------------------------------------------------------------------------
def test_mode_info_answers_the_reference_xml_the_add_on_reads(stack):
    wiring.container().accounts.update_settings(
        "demo",
        payment_systems=({"id": "card", "name": "Картой на сайте", "type": "Безналичная"},),
    )
    response = get_raw(sale(stack, version=None), "info")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=windows-1251"
    assert declared_encoding(response.body) == "windows-1251", "declaration and header agree"
    root = etree.fromstring(response.body)
    assert root.tag == "Справочник"
    assert [c.tag for c in root] == ["Cтатусы", "Статусы", "ПлатежныеСистемы", "СлужбыДоставки"]
    assert root[0].tag[0] == "C" and ord(root[0].tag[0]) == 0x43, "the first block starts with a Latin C"
    statuses = {e.findtext("Ид"): e.findtext("Название") for e in root[0]}
    assert statuses == {e.findtext("Ид"): e.findtext("Название") for e in root[1]}
    assert set(statuses) == {"N", "A", "P", "S", "F", "C"} and statuses["P"] == "Оплачен"
    payment = root.find("ПлатежныеСистемы/Элемент")
    assert (payment.findtext("Ид"), payment.findtext("ТипОплаты")) == ("card", "Безналичная")
    assert len(root.find("СлужбыДоставки")) == 0, "present even when empty"
    utf8 = get_raw(sale(stack), "info")
    assert utf8.headers["Content-Type"].startswith("application/xml; charset=utf-8")
    assert declared_encoding(body_of(utf8)) == "utf-8"


@pytest.mark.parametrize("accept", [None, "application/xml", "text/html, */*"])
def test_a_windows_1251_document_reaches_a_client_api_gateway_would_not_send_binary_to(stack, accept):
    """API Gateway decodes a binary body only for a matching FIRST Accept type: any other client
    gets the same document in UTF-8, declared so, never HTTP 400."""
    onec = sale(stack, version=None)
    headers = {"Cookie": onec.cookie, **({"Accept": accept} if accept else {})}
    response = onec.http.request("GET", f"/1c_exchange?type=sale&mode=info&{onec.sessid}", headers=headers)
    assert (
        response.status_code == 200 and response.headers["Content-Type"] == "application/xml; charset=utf-8"
    )
    body = body_of(response)
    assert declared_encoding(body) == "utf-8" and etree.fromstring(body).tag == "Справочник"
    assert "Оплачен" in body.decode("utf-8")


def test_an_add_on_at_cml_version_2_10_gets_each_order_in_a_container_and_confirms_them(shop):
    body = {"customer": {"name": "Анна Ли"}, "lines": [{"offer_id": shop.offer.id, "quantity": 1}]}
    assert post(shop, body, "packaged-1")[0] == 201 and post(shop, body, "packaged-2")[0] == 201
    onec = sale(shop, "2.10", cmlVersion="2.10")
    document = etree.fromstring(body_of(get_raw(onec, "query")))
    assert document.get("ВерсияСхемы") == "2.10"
    assert [child.tag for child in document] == ["Контейнер", "Контейнер"]
    assert all([d.tag for d in c] == ["Документ"] for c in document)
    assert onec.call("sale", "success").keyword == "success"
    assert post(shop, body, "packaged-3")[0] == 201
    older = sale(shop, "2.08")  # the same shop's 1C without cmlVersion: plain documents
    assert [c.tag for c in etree.fromstring(body_of(get_raw(older, "query")))] == ["Документ"]


def test_init_echoes_only_a_version_we_read_and_records_cml_version(stack):
    onec = stack.onec()
    onec.checkauth("sale")
    assert onec.init("sale", version="3.1", cmlVersion="2.10").lines[3] == "version=2.09"
    assert onec.init("sale", version="2.10").lines[3] == "version=2.10"
    token = onec.cookie.split(".", 1)[1]
    assert wiring.container().exchange_store.get_session("demo", token)["cml_version"] == "2.10"


def test_order_encoding_follows_the_flow_unless_pinned(shop):
    offer = shop.offer
    assert (
        post(
            shop, {"customer": {"name": "Ёжиков Пётр"}, "lines": [{"offer_id": offer.id, "quantity": 1}]}, "e"
        )[0]
        == 201
    )
    old_flow = get_raw(sale(shop, version=None), "query")
    assert old_flow.headers["Content-Type"] == "text/xml; charset=windows-1251"
    assert declared_encoding(old_flow.body) == "windows-1251" and "Ёжиков".encode("cp1251") in old_flow.body
    new_flow = get_raw(sale(shop), "query")
    assert new_flow.headers["Content-Type"].startswith("application/xml; charset=utf-8")
    wiring.container().accounts.update_settings("demo", order_encoding="windows-1251")
    pinned = get_raw(sale(shop), "query")
    assert pinned.headers["Content-Type"] == "text/xml; charset=windows-1251"


def test_query_with_no_orders_is_a_well_formed_empty_document(stack):
    body = body_of(get_raw(sale(stack), "query"))
    assert body and etree.fromstring(body).tag == "КоммерческаяИнформация"
    assert len(etree.fromstring(body)) == 0


def test_deactivate_waits_for_the_exchanges_imports_and_skips_after_a_failed_one(stack):
    from tests.reliability import cml

    onec = stack.onec()
    full = cml.catalog(cml.product("a") + cml.product("b"), only_changes=False)
    assert onec.send_file("import.xml", full).keyword == "success"
    import time

    time.sleep(1.1)
    assert onec.checkauth().keyword == "success"
    started = onec.timestamp
    onec.init()
    onec.upload("catalog", "import___1.xml", cml.catalog(cml.product("a"), only_changes=False))
    assert onec.call("catalog", "import", filename="import___1.xml").keyword == "progress"  # still queued
    reply = onec.call("catalog", "deactivate", timestamp=started)
    assert reply.keyword == "success", "answered at once, never progress"
    assert onec.call("catalog", "complete").keyword == "success"
    stack.pump.drain()
    active = {
        i["pk"].rsplit("#", 1)[1]: bool(i["active"]) for i in stack.catalog_items() if i["sk"] == "product"
    }
    assert active == {"a": True, "b": False}, "deactivated only after the import of that exchange finished"

    time.sleep(1.1)
    broken = stack.onec()
    assert broken.checkauth().keyword == "success"
    begun = broken.timestamp
    broken.init()
    broken.upload("catalog", "import___2.xml", b"<?xml version='1.0'?><broken")
    assert broken.import_file("import___2.xml").keyword == "failure"
    assert broken.call("catalog", "deactivate", timestamp=begun).keyword == "success"
    stack.pump.drain()
    reply = broken.call("catalog", "deactivate", timestamp=begun)
    assert reply.keyword == "success" and "пропущена" in reply.text
    assert {
        i["pk"].rsplit("#", 1)[1]: bool(i["active"]) for i in stack.catalog_items() if i["sk"] == "product"
    }["a"]


def test_extra_add_on_files_are_accepted_and_journaled(stack):
    """The add-on's customer directory is kept, not imported; 3.1's storages, units and price
    lists are catalog files (tests/test_cml31.py), and in an orders exchange they are kept too."""
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.init()
    assert (
        onec.call("catalog", "file", b"<?xml version='1.0'?><x/>", filename="contragents_1.xml").keyword
        == "success"
    )
    reply = onec.call("catalog", "import", filename="contragents_1.xml")
    assert reply.keyword == "success" and "не использует" in reply.text
    assert (
        onec.call("catalog", "file", b"<?xml version='1.0'?><x/>", filename="units_1.xml").keyword
        == "success"
    )
    reply = onec.call("catalog", "import", filename="units_1.xml")
    while reply.keyword == "progress":
        stack.pump.drain()
        reply = onec.call("catalog", "import", filename="units_1.xml")
    assert reply.keyword == "failure" and "КоммерческаяИнформация" in reply.text, (
        "a catalog file: read, and this one is not CommerceML"
    )
    token = onec.cookie.split(".", 1)[1]
    calls = wiring.container().exchange_store.get_session("demo", token)["calls"]
    assert any("contragents_1.xml: принят" in c for c in calls)


def test_per_document_problems_come_after_success(shop):
    offer = shop.offer
    order = post(shop, {"customer": {"name": "Анна"}, "lines": [{"offer_id": offer.id, "quantity": 1}]}, "p")[
        1
    ]
    good = Order(
        id=order["id"],
        number=order["number"],
        date="2026-11-29",
        amount=Decimal(1),
        requisites={"Номер по 1С": "Б-1"},
    )
    bad = Order(id="x", number="77", date="2026-11-29", amount=Decimal(2))
    data = write_orders([good, bad]).replace("<Сумма>2</Сумма>".encode(), "<Сумма>много</Сумма>".encode())
    onec = sale(shop)
    onec.upload("sale", "documents___1.xml", data)
    reply = onec.call("sale", "import", filename="documents___1.xml")
    assert reply.keyword == "success", reply.text
    assert "обновлено заказов 1" in reply.text and "документ 77" in reply.text and "много" in reply.text


# -- orders to 1C ----------------------------------------------------------------------------------
def _children(el) -> list[str]:
    return [etree.QName(c).localname for c in el if isinstance(c.tag, str)]


def test_orders_reach_1c_with_every_field_it_reads(shop):
    wiring.container().accounts.update_settings(
        "demo", organization="ООО «Ромашка»", warehouse="Основной склад"
    )
    body = {
        "customer": {
            "id": "shop-user-7",
            "name": "Иванова Мария",
            "company": "ООО «Вектор»",
            "inn": "7701234567",
            "kpp": "770101001",
            "email": "m@example.test",
            "phone": "+7 (900) 123-45-67",
            "address": {
                "postcode": "101000",
                "country": "Россия",
                "region": "Москва",
                "city": "Москва",
                "street": "Ленина",
                "house": "1",
                "flat": "5",
            },
        },
        "lines": [{"offer_id": shop.offer.id, "quantity": 1}],
    }
    assert post(shop, body, "legal")[0] == 201
    body_bytes = body_of(get_raw(sale(shop), "query"))
    document = etree.fromstring(body_bytes).find("Документ")
    contractor = document.find("Контрагенты/Контрагент")
    assert contractor.findtext("ОфициальноеНаименование") == "ООО «Вектор»"
    assert (contractor.findtext("ИНН"), contractor.findtext("КПП")) == ("7701234567", "770101001")
    contacts = {c.findtext("Тип"): c.findtext("Значение") for c in contractor.find("Контакты")}
    assert contacts == {"Почта": "m@example.test", "ТелефонРабочий": "79001234567"}
    fields = {
        f.findtext("Тип"): f.findtext("Значение")
        for f in contractor.find("ЮридическийАдрес").iter("АдресноеПоле")
    }
    assert fields == {
        "Почтовый индекс": "101000",
        "Страна": "Россия",
        "Регион": "Москва",
        "Город": "Москва",
        "Улица": "Ленина",
        "Дом": "1",
        "Квартира": "5",
    }
    assert contractor.findtext("ЮридическийАдрес/Представление").startswith("101000, Россия")
    assert document.findtext("Валюта") == "RUB"
    requisites = {
        r.findtext("Наименование"): r.findtext("Значение") for r in document.iter("ЗначениеРеквизита")
    }
    assert requisites["Организация"] == "ООО «Ромашка»" and requisites["Склад"] == "Основной склад"
    assert (requisites["Статус заказа"], requisites["Статуса заказа ИД"]) == ("[N] Новый", "N"), (
        "as 1C-Bitrix sends it: the id mode=info published"
    )
    # element order as a real 1C document has it (the shared sample exported by 1C)
    sample = etree.parse(str(SAMPLES / "ArgentCrusade__commerceml/tests/fixtures/documents-example.xml"))
    ns = {"c": "urn:1C.ru:commerceml_2"}
    sample_order = _children(sample.find(".//c:Контрагент", ns))
    ours = [t for t in _children(contractor) if t in sample_order]
    assert ours == [t for t in sample_order if t in ours] and len(ours) >= 5
    # the document's own elements in the schema's order (the one 1C-Bitrix writes)
    schema_order = [
        "Ид",
        "Номер",
        "Дата",
        "ХозОперация",
        "Роль",
        "Валюта",
        "Курс",
        "Сумма",
        "Контрагенты",
        "Время",
        "Комментарий",
        "Товары",
        "ЗначенияРеквизитов",
    ]
    assert _children(document) == [t for t in schema_order if t in _children(document)]
    assert set(_children(document)) <= set(schema_order)
    individual = {"customer": {"name": "Петров Пётр", "phone": "8 900 000"}, "lines": body["lines"]}
    assert post(shop, individual, "person")[0] == 201
    docs = [
        e for e in read(io.BytesIO(body_of(get_raw(sale(shop), "query"))), "q.xml") if isinstance(e, Order)
    ]
    person = next(d for d in docs if d.contractors[0].name == "Петров Пётр").contractors[0]
    assert person.contacts == {"ТелефонРабочий": "8900000"}
    # name parts reach 1C as Фамилия/Имя/Отчество; a single string is split «Имя Фамилия»
    for key, customer in (
        ("parts", {"first_name": "Иван", "middle_name": "Сергеевич", "last_name": "Петров"}),
        ("whole", {"name": "Иван Петров"}),
    ):
        assert post(shop, {"customer": customer, "lines": body["lines"]}, key)[0] == 201
    names = {}
    for doc in etree.fromstring(body_of(get_raw(sale(shop), "query"))).findall("Документ"):
        k = doc.find("Контрагенты/Контрагент")
        names[k.findtext("Наименование")] = (k.findtext("Фамилия"), k.findtext("Имя"), k.findtext("Отчество"))
    assert names["Иван Сергеевич Петров"] == ("Петров", "Иван", "Сергеевич")
    assert names["Иван Петров"] == ("Петров", "Иван", None)


# -- orders from 1C --------------------------------------------------------------------------------
def _status_document(order: dict, **requisites: str) -> bytes:
    return write_orders(
        [
            Order(
                id=order["id"],
                number=order["number"],
                date="2026-11-29",
                amount=Decimal(1),
                requisites=requisites,
            )
        ]
    )


def _apply(shop, data: bytes):
    onec = sale(shop)
    onec.upload("sale", "documents___s.xml", data)
    reply = onec.call("sale", "import", filename="documents___s.xml")
    assert reply.keyword == "success", reply.text


def test_statuses_match_by_id_then_bracket_then_name_and_tracking_reaches_the_shop(shop):
    lines = [{"offer_id": shop.offer.id, "quantity": 1}]
    orders = [
        post(shop, {"customer": {"name": f"К{n}", "id": "u1"}, "lines": lines}, f"s{n}")[1] for n in range(3)
    ]
    _apply(
        shop, _status_document(orders[0], **{"Статус заказа": "[X] Что-то своё", "Статуса заказа ИД": "P"})
    )
    _apply(shop, _status_document(orders[1], **{"Статус заказа": "[F] Произвольный текст"}))
    _apply(shop, _status_document(orders[2], **{"Статус заказа": "Отменён"}))
    statuses = [get(shop, f"/orders/{o['id']}")[1]["status"] for o in orders]
    assert statuses == ["paid", "delivered", "cancelled"]
    shipped = {
        "Статуса заказа ИД": "S",
        "Идентификатор отправления": "RA123456789RU",
        "Метод доставки ИД": "cdek",
        "Дата отгрузки по 1С": "2026-11-29T10:00:00",
    }
    _apply(shop, _status_document(orders[0], **shipped))
    order = get(shop, f"/orders/{orders[0]['id']}")[1]
    assert order["status"] == "shipped" and order["tracking_number"] == "RA123456789RU"
    assert (
        order["one_c"]["delivery_method_id"] == "cdek"
        and order["one_c"]["shipment_date"] == "2026-11-29T10:00:00"
    )
    events = [i for i in wiring.container().outbox.recent("demo", limit=100) if i["event"] == "order.shipped"]
    assert json.loads(events[0]["payload"])["tracking_number"] == "RA123456789RU"
    _apply(shop, _status_document(orders[0], **{**shipped, "ПризнакВозврата": "true"}))
    assert get(shop, f"/orders/{orders[0]['id']}")[1]["one_c"]["returned"] is True
    assert any(i["event"] == "order.returned" for i in wiring.container().outbox.recent("demo", limit=100))


# -- the customer's personal account ---------------------------------------------------------------
def test_a_customers_orders_newest_first_in_one_query(shop):
    lines = [{"offer_id": shop.offer.id, "quantity": 1}]
    mine = [
        post(shop, {"customer": {"name": "Я", "id": "cust-42"}, "lines": lines}, f"m{n}")[1] for n in range(3)
    ]
    post(shop, {"customer": {"name": "Другой", "id": "cust-43"}, "lines": lines}, "other")
    _apply(shop, _status_document(mine[0], **{"Статуса заказа ИД": "P", "Номер оплаты по 1С": "ПКО-1"}))
    calls = []
    client = wiring.container().orders.store.table.meta.client

    def record(model, params, **_):
        calls.append((model.name, params.get("TableName"), params.get("IndexName")))

    client.meta.events.register("before-parameter-build.dynamodb.*", record)
    status, body = get(shop, "/orders?customer=cust-42&limit=2")
    client.meta.events.unregister("before-parameter-build.dynamodb.*", record)
    assert status == 200 and [o["id"] for o in body["orders"]] == [mine[2]["id"], mine[1]["id"]]
    orders_calls = [c for c in calls if c[1] == wiring.container().orders.store.table_name]
    assert orders_calls == [("Query", wiring.container().orders.store.table_name, "customer")], calls
    assert not any(c[0] == "Scan" for c in calls)
    rest = get(shop, f"/orders?customer=cust-42&limit=2&cursor={body['next_cursor']}")[1]
    assert [o["id"] for o in rest["orders"]] == [mine[0]["id"]]
    paid = rest["orders"][0]
    assert paid["status"] == "paid" and paid["one_c"]["payment_number"] == "ПКО-1" and paid["history"]
    schema = {"$ref": "#/components/schemas/Order", "components": spec()["components"]}
    OAS30Validator(schema).validate(paid)
    assert get(shop, "/orders?customer=nobody")[1]["orders"] == []


# -- catalog extras ----------------------------------------------------------------------------------
PIXEL_A = b"\x89PNG\r\n\x1a\n" + b"A" * 64
PIXEL_B = b"\x89PNG\r\n\x1a\n" + b"B" * 64


def _catalog_zip(products: str, files: dict[str, bytes], only_changes: bool = True) -> dict[str, bytes]:
    from tests.reliability import cml

    return {"import.xml": cml.catalog(products, only_changes=only_changes), **files}


def _detail(stack, product_id: str) -> dict:
    status, body = get(stack, f"/products/{product_id}")
    assert status == 200, body
    return body


def test_catalog_extras_real_clients_emit(stack):
    from tests.reliability import cml

    described = cml.product(
        "p1",
        "Кресло",
        "<Картинка>import_files/ab/pic.png</Картинка><Картинка>import_files/ab/pic.png</Картинка>"
        "<ЗначенияРеквизитов>"
        "<ЗначениеРеквизита><Наименование>Файл</Наименование><Значение>import_files/ab/desc.html</Значение></ЗначениеРеквизита>"
        "<ЗначениеРеквизита><Наименование>ОписаниеФайла</Наименование><Значение>import_files/ab/pic.png#Вид спереди</Значение></ЗначениеРеквизита>"
        "</ЗначенияРеквизитов>"
        "<Длина>120</Длина><Ширина>60</Ширина><Высота>80,5</Высота><Вес>12.3</Вес>",
    )
    escaped = cml.product(
        "p2",
        "Стол",
        "<ЗначениеРеквизита><Наименование>Код</Наименование><Значение>00042</Значение></ЗначениеРеквизита>"
        "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ОписаниеВФорматеHTML</Наименование>"
        "<Значение>&amp;lt;p&amp;gt;Дуб &amp;amp; лак&amp;lt;/p&amp;gt;</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
        "<ЗначенияСвойств><ЗначениеСвойства><Ид>color</Ид><Значение></Значение></ЗначениеСвойства>"
        "<ЗначениеСвойства><Ид>size</Ид><Значение>XL</Значение></ЗначениеСвойства></ЗначенияСвойств>",
    )
    twice = cml.product("p3", "Старое имя") + cml.product("p3", "Новое имя")
    files = {"import_files/ab/desc.html": "<h2>Удобное</h2>".encode(), "import_files/ab/pic.png": PIXEL_A}
    replies = stack.onec().send_zip(_catalog_zip(described + escaped + twice, files), ["import.xml"])
    assert replies[0].keyword == "success" and "повторённых в файле: 1" in replies[0].text, replies[0].text

    chair = _detail(stack, "p1")
    assert chair["description_html"] == "<h2>Удобное</h2>"
    assert len(chair["images"]) == 1 and chair["images"][0]["caption"] == "Вид спереди"
    assert chair["dimensions"] == {"length": 120, "width": 60, "height": 80.5} and chair["weight"] == 12.3
    assert "ОписаниеФайла" not in chair["requisites"] and "Файл" not in chair["requisites"]
    table = _detail(stack, "p2")
    assert table["description_html"] == "<p>Дуб & лак</p>" and table["requisites"] == {"Код": "00042"}
    assert [p["value"] for p in table["properties"]] == ["XL"], "empty values are ignored"
    assert _detail(stack, "p3")["name"] == "Новое имя", "the last of a repeated Товар wins"

    # a full Товар without ЗначенияСвойств has no properties any more
    full = cml.catalog(cml.product("p2", "Стол"), only_changes=True)
    assert stack.onec().send_file("import.xml", full).keyword == "success"
    assert _detail(stack, "p2")["properties"] == []

    # same name, other content: stored apart; the first product keeps its picture
    other = cml.product("p4", "Табурет", "<Картинка>import_files/ab/pic.png</Картинка>")
    stack.onec().send_zip(_catalog_zip(other, {"import_files/ab/pic.png": PIXEL_B}), ["import.xml"])
    first = json.loads(
        next(i for i in stack.catalog_items() if i["pk"] == "demo#p#p1" and i["sk"] == "product")["doc"]
    )
    second = json.loads(
        next(i for i in stack.catalog_items() if i["pk"] == "demo#p#p4" and i["sk"] == "product")["doc"]
    )
    assert first["images"][0]["key"] != second["images"][0]["key"]
    assert wiring.container().blobs.get(first["images"][0]["key"]) == PIXEL_A


def test_offer_extras_coefficient_zero_and_stock_per_warehouse_in_rests(stack):
    from tests.reliability import cml

    assert stack.onec().send_file("import.xml", cml.catalog(cml.product("p9", "Лампа"))).keyword == "success"
    offer = (
        "<Предложение><Ид>p9</Ид><Наименование>Лампа</Наименование><Цены><Цена><ИдТипаЦены>pt</ИдТипаЦены>"
        "<ЦенаЗаЕдиницу>100</ЦенаЗаЕдиницу><Валюта>RUB</Валюта><Коэффициент>0</Коэффициент></Цена></Цены>"
        "<Остатки><Остаток><Склад><Ид>w1</Ид><Количество>3</Количество></Склад></Остаток>"
        "<Остаток><Склад><Ид>w2</Ид><Количество>4</Количество></Склад></Остаток></Остатки></Предложение>"
    )
    assert stack.onec().send_file("offers.xml", cml.offers(offer)).keyword == "success"
    detail = _detail(stack, "p9")["offers"][0]
    assert detail["stock"]["total"] == 7
    assert {w["id"]: w["quantity"] for w in detail["stock"]["warehouses"]} == {"w1": 3, "w2": 4}
    prices, _ = unpack_prices(next(i for i in stack.catalog_items() if i["sk"] == "offer#p9")["prices"])
    assert str(prices[0]["coefficient"]) == "1", "a Коэффициент of 0 is taken as 1"
    assert detail["prices"][0]["coefficient"] == 1, "served as stored"
    pack = offer.replace("p9", "p10").replace("<Коэффициент>0<", "<Единица>уп</Единица><Коэффициент>10<")
    assert (
        stack.onec().send_file("import.xml", cml.catalog(cml.product("p10", "Упаковка"))).keyword == "success"
    )
    assert stack.onec().send_file("offers.xml", cml.offers(pack)).keyword == "success"
    (price,) = _detail(stack, "p10")["offers"][0]["prices"]
    assert (price["value"], price["unit"], price["coefficient"]) == (100, "уп", 10), "as 1C sent it"


def test_price_on_request_is_no_price_and_the_offer_with_its_stock_stays(stack):
    """A real windows-1251 export, one line, where some offers have `<ЦенаЗаЕдиницу/>` with
    «Уточните у менеджера»: the file lands, those offers keep their stock and other prices, no
    price of that type is served (never 0), and the answer counts the absent prices."""
    offers = []
    for n in range(6):
        retail = (
            "<Цена><Представление>Уточните у менеджера</Представление><ИдТипаЦены>retail</ИдТипаЦены>"
            "<ЦенаЗаЕдиницу/><Валюта>руб</Валюта><Единица>шт</Единица></Цена>"
            if n % 2
            else f"<Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>{100 + n}</ЦенаЗаЕдиницу><Валюта>руб</Валюта></Цена>"
        )
        offers.append(
            f"<Предложение><Ид>тов{n}</Ид><Наименование>Кабель {n}</Наименование><Цены>{retail}"
            f"<Цена><ИдТипаЦены>opt</ИдТипаЦены><ЦенаЗаЕдиницу>{90 + n}</ЦенаЗаЕдиницу><Валюта>руб</Валюта></Цена>"
            f"</Цены><Количество>{n + 1}</Количество></Предложение>"
        )
    document = (
        '<?xml version="1.0" encoding="windows-1251"?><КоммерческаяИнформация ВерсияСхемы="2.03" '
        'ДатаФормирования="2026-12-01T10:00:00"><ПакетПредложений СодержитТолькоИзменения="false">'
        "<Ид>pk</Ид><Наименование>Пакет</Наименование><ИдКаталога>c</ИдКаталога><ТипыЦен>"
        "<ТипЦены><Ид>retail</Ид><Наименование>Розничная</Наименование><Валюта>руб</Валюта></ТипЦены>"
        "<ТипЦены><Ид>opt</Ид><Наименование>Оптовая</Наименование><Валюта>руб</Валюта></ТипЦены></ТипыЦен>"
        f"<Предложения>{''.join(offers)}</Предложения></ПакетПредложений></КоммерческаяИнформация>"
    ).encode("cp1251")
    catalog = "".join(
        f"<Товар><Ид>тов{n}</Ид><Наименование>Кабель {n}</Наименование></Товар>" for n in range(6)
    )
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(catalog)).keyword == "success"
    answer = onec.send_file("offers.xml", document)
    assert answer.keyword == "success", answer.text
    assert "цен без значения (цена по запросу): 3" in answer.text
    for n in range(6):
        status, product = get(stack, f"/products/{quote('тов' + str(n))}")
        assert status == 200, product
        (offer,) = product["offers"]
        served = {p["price_type_id"]: p["value"] for p in offer["prices"]}
        expected = {"opt": 90 + n} | ({} if n % 2 else {"retail": 100 + n})
        assert served == expected and offer["stock"]["total"] == n + 1, (n, offer)
        assert {p["currency_code"] for p in offer["prices"]} == {"RUB"}, "1C's «руб» as ISO 4217"


@pytest.mark.parametrize(
    "product_id", ["яя8", "смес 50%", "a b/c"], ids=["cyrillic", "space and percent", "slash"]
)
def test_variants_sent_with_their_own_characteristic_id_never_collapse(stack, product_id):
    """`<ИдХарактеристики>` beside `<Ид>`: each variant is the offer `Ид#ИдХарактеристики`, and
    the product page finds an id 1C made of Cyrillic, spaces, `%` or `/`."""
    variants = "".join(
        f"<Предложение><Ид>{product_id}</Ид><ИдХарактеристики>{size}</ИдХарактеристики>"
        f"<Наименование>Футболка {size}</Наименование><ХарактеристикиТовара><ХарактеристикаТовара>"
        f"<Наименование>Размер</Наименование><Значение>{size}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>"
        f"<Цены><Цена><ИдТипаЦены>pt</ИдТипаЦены><ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу></Цена></Цены>"
        f"<Количество>{stock}</Количество></Предложение>"
        for size, price, stock in (("S", 100, 1), ("M", 110, 2), ("L", 120, 3))
    )
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product(product_id, "Футболка"))).keyword == "success"
    answer = onec.send_file("offers.xml", cml.offers(variants))
    assert answer.keyword == "success" and "повторённых" not in answer.text, answer.text
    status, product = get(stack, f"/products/{quote(product_id, safe='')}")
    assert status == 200, product
    served = {o["id"]: (o["prices"][0]["value"], o["stock"]["total"]) for o in product["offers"]}
    assert served == {f"{product_id}#S": (100, 1), f"{product_id}#M": (110, 2), f"{product_id}#L": (120, 3)}


def test_warehouses_with_an_address_and_contacts_are_pickup_points(stack):
    """`Склад` with `Адрес` and `Контакты` (УТ 11 sends them): `GET /warehouses` serves them; a
    warehouse sent without an address keeps serving none."""
    stores = (
        "<Склады><Склад><Ид>w1</Ид><Наименование>Пункт выдачи на Ленина</Наименование>"
        "<Адрес><Представление>г. Казань, ул. Ленина, 1</Представление>"
        "<АдресноеПоле><Тип>Город</Тип><Значение>Казань</Значение></АдресноеПоле></Адрес>"
        "<Контакты><Контакт><Тип>Телефон рабочий</Тип><Значение>+7 843 000-00-00</Значение></Контакт>"
        "<Контакт><Тип>Почта</Тип><Значение>pvz@shop.example</Значение></Контакт></Контакты></Склад>"
        "<Склад><Ид>w2</Ид><Наименование>Склад без адреса</Наименование>"
        "<Адрес><АдресноеПоле><Тип>Город</Тип><Значение>Самара</Значение></АдресноеПоле>"
        "<АдресноеПоле><Тип>Улица</Тип><Значение>Мира, 5</Значение></АдресноеПоле></Адрес></Склад>"
        "<Склад><Ид>w3</Ид><Наименование>Основной</Наименование></Склад></Склады>"
    )
    offers = cml.offers(cml.offer("p1")).replace(
        "<Предложения>".encode(), (stores + "<Предложения>").encode(), 1
    )
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("p1"))).keyword == "success"
    assert onec.send_file("offers.xml", offers).keyword == "success"
    status, body = get(stack, "/warehouses")
    assert status == 200
    served = {w["id"]: (w["address"], w["contacts"]) for w in body["warehouses"]}
    assert served == {
        "w1": (
            "г. Казань, ул. Ленина, 1",
            [
                {"type": "Телефон рабочий", "value": "+7 843 000-00-00"},
                {"type": "Почта", "value": "pvz@shop.example"},
            ],
        ),
        "w2": ("Самара, Мира, 5", []),
        "w3": (None, []),
    }


def test_full_name_nomenclature_and_weight_from_what_1c_sends(stack):
    """`ПолноеНаименование`, or the requisite «Полное наименование» in any localisation; the
    nomenclature type and kind with what they make the product; the requisite `Вес`."""

    def requisites(pairs: list[tuple[str, str]]) -> str:
        rows = "".join(
            f"<ЗначениеРеквизита><Наименование>{n}</Наименование><Значение>{v}</Значение></ЗначениеРеквизита>"
            for n, v in pairs
        )
        return f"<ЗначенияРеквизитов>{rows}</ЗначенияРеквизитов>"

    products = (
        cml.product("kettle", "Чайник", "<ПолноеНаименование>Чайник электрический 1,7 л</ПолноеНаименование>"
                    + requisites([("ТипНоменклатуры", "Товар"), ("Вес", "1,5")]))
        + cml.product("fit", "Монтаж", requisites([("Повне найменування", "Монтаж кондиціонера"),
                                                    ("ВидНоменклатуры", "Послуга")]))
        + cml.product("set", "Набор", requisites([("ТипНоменклатуры", "Набор")]))
    )  # fmt: skip
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(products)).keyword == "success"
    expected = {
        "kettle": ("Чайник электрический 1,7 л", "goods", "Товар", 1.5),
        "fit": ("Монтаж кондиціонера", "service", None, None),
        "set": (None, "bundle", "Набор", None),
    }
    for product_id, (full, sort, kind_type, weight) in expected.items():
        status, product = get(stack, f"/products/{product_id}")
        assert status == 200, product
        nomenclature = product["nomenclature"]
        assert (product["full_name"], nomenclature["class"], nomenclature["type"], product["weight"]) == (
            full, sort, kind_type, weight
        ), product_id  # fmt: skip


# -- payments the shop takes -----------------------------------------------------------------------
def _pay(stack, order_id: str, body) -> tuple[int, dict]:
    response = stack.client.http.request(
        "POST", f"/api/v1/orders/{order_id}/payment", headers=KEY, body=json.dumps(body).encode()
    )
    return response.status_code, json.loads(response.body)


def _requisites(document) -> dict[str, str]:
    return {r.findtext("Наименование"): r.findtext("Значение") for r in document.iter("ЗначениеРеквизита")}


def test_a_payment_reaches_1c_with_the_order_and_again_after_1c_took_it(shop):
    paid_online = {
        "status": "paid",
        "paid_at": "2026-12-05T10:00:00",
        "method_id": "card",
        "document": "PAY-1",
    }
    line = [{"offer_id": shop.offer.id, "quantity": 1}]
    delivery = {"method": "Курьер", "method_id": "courier", "price": 300}
    body = {"customer": {"name": "Анна Ли"}, "lines": line, "payment": paid_online, "delivery": delivery}
    status, first = post(shop, body, "pay-1")
    assert status == 201 and first["payment"]["status"] == "paid"
    status, second = post(shop, {"customer": {"name": "Борис"}, "lines": line}, "pay-2")
    onec = sale(shop)
    documents = {
        d.findtext("Ид"): d for d in etree.fromstring(body_of(get_raw(onec, "query"))).findall("Документ")
    }
    sent = _requisites(documents[first["id"]])
    assert (
        sent["Заказ оплачен"],
        sent["Дата оплаты"],
        sent["Номер платежного документа"],
        sent["Метод оплаты ИД"],
    ) == ("true", "2026-12-05T10:00:00", "PAY-1", "card")
    assert (sent["Доставка разрешена"], sent["Метод доставки ИД"]) == ("true", "courier")
    assert _requisites(documents[second["id"]])["Заказ оплачен"] == "false"
    assert _requisites(documents[second["id"]])["Доставка разрешена"] == "false"
    assert onec.call("sale", "success").keyword == "success"
    # paid after 1C took it: offered again, with the payment; the same payment again changes nothing
    later = {"status": "paid", "paid_at": "2026-12-05T11:00:00", "document": "PAY-2", "amount": 100}
    status, paid = _pay(shop, second["id"], later)
    assert status == 200 and paid["history"][-1]["note"] == "оплачен"
    assert len(_pay(shop, second["id"], later)[1]["history"]) == len(paid["history"]), "a replay adds nothing"
    again = etree.fromstring(body_of(get_raw(sale(shop), "query"))).findall("Документ")
    assert [d.findtext("Ид") for d in again] == [second["id"]]
    assert _requisites(again[0])["Номер платежного документа"] == "PAY-2"
    events = [e["event"] for e in wiring.container().outbox.recent("demo", limit=50)]
    assert events.count("order.paid") == 2, "once per order paid, never for a replay"
    # refusals say why
    status, refused = _pay(shop, second["id"], {"status": "paid", "amount": -5})
    assert status == 400 and "payment.amount" in refused["error"]["message"]
    assert _pay(shop, "0" * 24, later)[0] == 404, "another tenant's or no order: not found"


def test_the_shop_cancels_an_order_and_its_units_go_back_on_sale(shop):
    line = [{"offer_id": shop.offer.id, "quantity": 1}]
    status, order = post(shop, {"customer": {"name": "Анна Ли"}, "lines": line}, "cancel-1")
    assert status == 201
    held = wiring.container().orders.store.holds("demo", [shop.offer.id])[shop.offer.id]

    def cancel(order_id: str, body: bytes = '{"reason": "передумал"}'.encode()):
        response = shop.client.http.request(
            "POST", f"/api/v1/orders/{order_id}/cancel", headers=KEY, body=body
        )
        return response.status_code, json.loads(response.body)

    status, cancelled = cancel(order["id"])
    assert (
        status == 200
        and cancelled["status"] == "cancelled"
        and cancelled["history"][-1]["note"] == "передумал"
    )
    assert wiring.container().orders.store.holds("demo", [shop.offer.id])[shop.offer.id] == held - 1
    assert cancel(order["id"])[1]["history"] == cancelled["history"], "a second cancel changes nothing"
    assert cancel(order["id"], b'{"reason": 5}')[0] == 400
    assert cancel("0" * 24)[0] == 404
    events = [e["event"] for e in wiring.container().outbox.recent("demo", limit=20)]
    assert "order.status_changed" in events


def _png(width: int, height: int) -> bytes:
    """A real PNG's signature and header chunk (what a picture's size is read from)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_a_pictures_width_and_height_are_read_when_it_is_stored(stack, tmp_path):
    """A storefront lays out a picture before it loads: its size comes with its URL. A file that
    only looks like one (the right name, no real header) has none, and no content is ever taken
    for a path to open."""
    from tests.reliability import cml

    pictures = "<Картинка>import_files/ab/wide.png</Картинка><Картинка>import_files/ab/fake.png</Картинка>"
    elsewhere = tmp_path / "real.png"  # a fake whose content names a real picture on the disk
    elsewhere.write_bytes(_png(32, 32))
    files = {"import_files/ab/wide.png": _png(640, 480), "import_files/ab/fake.png": str(elsewhere).encode()}
    replies = stack.onec().send_zip(
        _catalog_zip(cml.product("p1", "Кресло", pictures), files), ["import.xml"]
    )
    assert replies[0].keyword == "success", replies[0].text
    images = _detail(stack, "p1")["images"]
    assert [(i["width"], i["height"]) for i in images] == [(640, 480), (None, None)], images
