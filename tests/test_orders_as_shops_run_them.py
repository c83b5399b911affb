"""Orders as shops run them: by weight (fractional quantities to the unit's precision), services
(never stock-checked), the tenant's stock policy (strict or backorder), negative stock from 1C, and
1C's documents by what they are (orders, payments, shipments, in 2.10 packages) — on the twins,
with the catalog imported through the real worker."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from lxml import etree

from chalicelib.memory import InMemoryOrdersStore
from chalicelib.orders.rules import OrderRejected
from chalicelib.orders.service import Orders
from tests.reliability import cml
from tests.test_worker_unit import Room

KG = '<БазоваяЕдиница Код="166" НаименованиеПолное="Килограмм">кг</БазоваяЕдиница>'
PIECE = '<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>'
SERVICE = (
    "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование>"
    "<Значение>Услуга</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
)


@pytest.fixture
def counter():
    room = Room()
    products = (
        cml.product("sugar", "Сахар", KG)
        + cml.product("cup", "Кружка", PIECE)
        + cml.product("install", "Установка", SERVICE)
        + cml.product("minus", "Уценка", PIECE)
    )
    assert room.send("import.xml", cml.catalog(products)).keyword == "success"
    offers = (
        cml.offer("sugar", quantity="10", price="80")
        + cml.offer("cup", quantity="3", price="100")
        + cml.offer("install", quantity="0", price="500")
        + cml.offer("minus", quantity="-2", price="50")
    )
    assert room.send("offers.xml", cml.offers(offers)).keyword == "success"
    room.orders = Orders(InMemoryOrdersStore(), room.catalog)
    room.tenant = room.accounts.require("shop")
    return room


def place(room, key: str, *lines: tuple[str, object]) -> dict:
    body = {"customer": {"name": "Анна Ли"}, "lines": [{"offer_id": o, "quantity": q} for o, q in lines]}
    return room.orders.place(room.tenant, body, key)


def reasons(room, *lines: tuple[str, object]) -> list[str]:
    with pytest.raises(OrderRejected) as refused:
        place(room, "refused", *lines)
    return [p["reason"] for p in refused.value.problems]


def test_goods_by_weight_are_ordered_in_fractions_held_and_sent_to_1c_as_such(counter):
    placed = place(counter, "k1", ("sugar", 1.25))
    line = placed["lines"][0]
    assert (line["quantity"], line["amount"]) == (1.25, 100) and placed["totals"]["total"] == 100
    assert counter.orders.store.holds("shop", ["sugar"]) == {"sugar": Decimal("1.25")}
    data, count, _ = counter.orders.query_document(counter.tenant, "s-1", "utf-8")
    quantities = [q.text for q in etree.parse(io.BytesIO(data)).iter("Количество")]
    assert count == 1 and quantities == ["1.25"]


def test_a_piece_stays_whole_and_a_fraction_keeps_to_the_grams(counter):
    assert reasons(counter, ("cup", 1.5)) == [
        "quantity must be a whole number: this offer is sold by the piece"
    ]
    assert reasons(counter, ("sugar", 1.2345)) == ["quantity has at most 3 decimal places"]
    assert reasons(counter, ("sugar", 0)) == ["quantity must be positive"]


def test_a_service_is_never_stock_checked_nor_held(counter):
    placed = place(counter, "s1", ("install", 2), ("cup", 1))
    assert [line.get("service", False) for line in placed["lines"]] == [True, False]
    assert counter.orders.store.holds("shop", ["install", "cup"]) == {"cup": 1}, "the service holds nothing"


def test_strict_refuses_beyond_the_stock_and_negative_stock_counts_as_none(counter):
    assert reasons(counter, ("cup", 5)) == ["only 3 available"]
    assert reasons(counter, ("minus", 1)) == ["only 0 available"]


def test_backorder_takes_lines_beyond_the_stock_marked_and_unheld(counter):
    counter.accounts.update_settings("shop", stock_policy="backorder")
    counter.tenant = counter.accounts.require("shop")
    placed = place(counter, "b1", ("cup", 5), ("sugar", 2), ("minus", 1))
    assert [line.get("backorder", False) for line in placed["lines"]] == [True, False, True]
    assert counter.orders.store.holds("shop", ["cup", "sugar", "minus"]) == {"sugar": 2}, (
        "backorders hold nothing"
    )
    assert counter.orders.cancel(counter.tenant, placed["id"], "передумал", by="shop")
    held = counter.orders.store.holds("shop", ["cup", "sugar", "minus"])
    assert held == {"sugar": 0}, "only what was held is given back (no hold goes negative)"


def test_the_stock_policy_is_one_of_two():
    from chalicelib.accounts import Accounts, InMemoryTenantStore
    from chalicelib.tenants import TenantError

    accounts = Accounts(InMemoryTenantStore())
    accounts.add("shop")
    with pytest.raises(TenantError, match="stock_policy"):
        accounts.update_settings("shop", stock_policy="sometimes")


# -- documents from 1C by what they are (ХозОперация) ----------------------------------------------
def _document(operation: str, number: str, inner: str = "") -> str:
    return (
        f"<Документ><Ид>{operation[:3]}-{number}</Ид><Номер>{number}</Номер><Дата>2026-12-05</Дата>"
        f"<ХозОперация>{operation}</ХозОперация><Роль>Продавец</Роль><Валюта>RUB</Валюта><Курс>1</Курс>"
        f"<Сумма>100</Сумма>{inner}</Документ>"
    )


def _package(*documents: str, containers: tuple[tuple[str, ...], ...] = ()) -> bytes:
    body = "".join(documents) + "".join(f"<Контейнер>{''.join(c)}</Контейнер>" for c in containers)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.10" '
        f'ДатаФормирования="2026-12-05T10:00:00">{body}</КоммерческаяИнформация>'
    ).encode()


def test_a_payment_or_shipment_reaches_its_own_order_never_one_sharing_its_number(counter):
    first = place(counter, "d1", ("cup", 1))
    second = place(counter, "d2", ("cup", 1))
    assert (first["number"], second["number"]) == ("1", "2")
    payment = _document(
        "Выплата безналичных денег", second["number"], f"<Основание>{first['id']}</Основание>"
    )
    stray = _document("Отпуск товара", first["number"])  # no basis, no package: belongs to nothing known
    report = counter.orders.apply_documents(counter.tenant, io.BytesIO(_package(payment, stray)), "d.xml")
    assert report["updated"] == 1 and report["unknown"] == ["отгрузка 1"]
    paid, untouched = (counter.orders.get(counter.tenant, o["id"]) for o in (first, second))
    assert paid["status"] == "paid" and paid["one_c"]["payment_number"] == second["number"]
    assert untouched["status"] == "new" and not untouched.get("one_c"), (
        "the order with that number is not touched"
    )
    assert counter.orders.get(counter.tenant, first["id"])["status"] == "paid", (
        "the stray shipment shipped nothing"
    )


def test_a_package_holds_an_order_its_payment_and_its_shipment(counter):
    order = place(counter, "p1", ("sugar", 2))
    package = (
        f"<Документ><Ид>{order['id']}</Ид><Номер>{order['number']}</Номер><Дата>2026-12-05</Дата>"
        "<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>RUB</Валюта><Курс>1</Курс>"
        "<Сумма>160</Сумма></Документ>",
        _document("Эквайринговая операция", "77"),
        _document("Реализация", "78"),
    )
    other = _document("Выплата наличных денег", "79")  # another package: not this order's
    report = counter.orders.apply_documents(
        counter.tenant, io.BytesIO(_package(containers=(package, (other,)))), "p.xml"
    )
    assert report["unknown"] == ["оплата 79"]
    seen = counter.orders.get(counter.tenant, order["id"])
    assert seen["status"] == "shipped"
    assert (seen["one_c"]["payment_number"], seen["one_c"]["shipment_number"]) == ("77", "78")


def test_a_document_of_another_kind_is_reported_and_applies_nothing(counter):
    order = place(counter, "o1", ("cup", 1))
    refund = _document("Возврат товара от покупателя", order["number"])
    report = counter.orders.apply_documents(counter.tenant, io.BytesIO(_package(refund)), "r.xml")
    assert report["updated"] == 0 and "сайт не применяет" in report["problems"][0]
    assert counter.orders.get(counter.tenant, order["id"])["status"] == "new"


# -- discounts --------------------------------------------------------------------------------------
def test_line_and_order_discounts_are_computed_here_and_sent_to_1c(counter):
    body = {
        "customer": {"name": "Анна Ли"},
        "lines": [
            {"offer_id": "sugar", "quantity": 1.25, "discount": {"name": "Сахар дешевле", "percent": 10}},
            {"offer_id": "cup", "quantity": 1},
        ],
        "discounts": [
            {"name": "Промокод", "coupon": "WINTER", "amount": 50},
            {"name": "Бонусы", "amount": 1000},  # more than what is left: takes what is left
        ],
    }
    placed = counter.orders.place(counter.tenant, body, "disc-1")
    sugar, cup = placed["lines"]
    assert (sugar["amount"], sugar["discount"]["amount"], cup["amount"]) == (90, 10, 100)
    assert [d["amount"] for d in placed["discounts"]] == [50, 140]
    assert placed["totals"] == {"items": 190, "discount": 190, "delivery": 0, "total": 0, "currency": "RUB"}
    data, _, _ = counter.orders.query_document(counter.tenant, "s-d", "utf-8")
    document = etree.parse(io.BytesIO(data)).find("Документ")
    line = document.find("Товары/Товар")
    assert [
        (s.findtext("Наименование"), s.findtext("Сумма"), s.findtext("Процент"), s.findtext("УчтеноВСумме"))
        for s in line.iter("Скидка")
    ] == [("Сахар дешевле", "10", "10", "true")]
    assert [s.findtext("Сумма") for s in document.find("Скидки")] == ["50", "140"]
    assert document.find("Скидки/Скидка/Наименование").text == "Промокод (WINTER)"
    assert document.findtext("Сумма") == "0"
    tags = [c.tag for c in document]
    assert tags.index("Комментарий") < tags.index("Скидки") < tags.index("Товары"), "the schema's order"


@pytest.mark.parametrize(
    "discount",
    [
        {"name": "x", "amount": 5, "percent": 5},
        {"name": "x"},
        {"name": "x", "amount": -5},
        {"name": "x", "percent": 150},
        {"amount": 5},
    ],
)
def test_a_discount_that_is_not_one_is_refused_by_name(counter, discount):
    from chalicelib.orders.rules import InvalidOrder

    body = {
        "customer": {"name": "Анна"},
        "lines": [{"offer_id": "cup", "quantity": 1}],
        "discounts": [discount],
    }
    with pytest.raises(InvalidOrder, match=r"discounts\[0\]"):
        counter.orders.place(counter.tenant, body, "bad-discount")


def test_totals_are_the_lines_less_the_discounts_and_never_below_zero():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from chalicelib.orders.rules import OfferFacts, OrderRequest, order_discounts, price_lines, totals

    money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
    discount = st.one_of(
        st.builds(lambda a: {"name": "d", "amount": a}, money),
        st.builds(
            lambda p: {"name": "d", "percent": p},
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
        ),
    )

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(st.tuples(money, st.integers(1, 50), st.none() | discount), min_size=1, max_size=5),
        st.lists(discount, max_size=3),
        money,
    )
    def check(lines, order_level, delivery):
        facts = {
            f"o{n}": OfferFacts(f"o{n}", "t", True, price, "RUB", Decimal(1000))
            for n, (price, _, _) in enumerate(lines)
        }
        request = OrderRequest(
            {}, [(f"o{n}", Decimal(q)) for n, (_, q, _) in enumerate(lines)],
            line_discounts=[d for _, _, d in lines],
        )  # fmt: skip
        priced = price_lines(request, facts)
        items = sum((line["amount"] for line in priced), Decimal(0))
        given_ = order_discounts(items, order_level)
        result = totals(priced, {"price": delivery}, given_)
        assert all(line["amount"] >= 0 for line in priced)
        assert result["total"] == items - sum(d["amount"] for d in given_) + delivery
        assert result["total"] >= delivery and result["items"] == items
        assert all(d["amount"] == d["amount"].quantize(Decimal("0.01")) for d in given_)

    check()


# -- what a manager changes in 1C comes back ---------------------------------------------------------
def _edited(order: dict, *lines: tuple[str, str, str, str]) -> bytes:
    goods = "".join(
        f"<Товар><Ид>{oid}</Ид><Наименование>{name}</Наименование><БазоваяЕдиница>шт</БазоваяЕдиница>"
        f"<ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу><Количество>{qty}</Количество>"
        f"<Сумма>{Decimal(price) * Decimal(qty)}</Сумма></Товар>"
        for oid, name, price, qty in lines
    )
    total = sum(Decimal(p) * Decimal(q) for _, _, p, q in lines)
    return _package(
        f"<Документ><Ид>{order['id']}</Ид><Номер>{order['number']}</Номер><Дата>2026-12-05</Дата>"
        "<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>RUB</Валюта><Курс>1</Курс>"
        f"<Сумма>{total}</Сумма><Товары>{goods}</Товары></Документ>"
    )


def test_lines_changed_in_1c_come_back_with_history_webhook_and_holds(counter):
    order = place(counter, "e1", ("cup", 2), ("sugar", 1))
    assert counter.orders.confirm(counter.tenant, "s-e") is None  # not queried in this session
    counter.orders.query_document(counter.tenant, "s-e", "utf-8")
    assert counter.orders.confirm(counter.tenant, "s-e") == 1  # 1C took it: its lines are taken
    edit = _edited(order, ("cup", "Кружка", "100", "3"), ("install", "Установка", "500", "1"))
    report = counter.orders.apply_documents(counter.tenant, io.BytesIO(edit), "e.xml")
    assert report["updated"] == 1
    seen = counter.orders.get(counter.tenant, order["id"])
    assert [(line["offer_id"], line["quantity"]) for line in seen["lines"]] == [("cup", 3), ("install", 1)]
    assert seen["totals"]["items"] == 800 and seen["totals"]["total"] == 800
    assert seen["history"][-1]["note"] == "состав изменён в 1С: Кружка 2→3, +Установка 1, −Т"
    events = [e["event"] for e in counter.orders.store.outbox.recent("shop", limit=20)]
    assert "order.changed" in events
    held = counter.orders.store.holds("shop", ["cup", "sugar"])
    assert held == {"cup": 3, "sugar": 0}, "the held units follow the lines 1C keeps"
    again = counter.orders.apply_documents(counter.tenant, io.BytesIO(edit), "e.xml")
    assert again["unchanged"] == 1, "the same document again changes nothing"


def _phone_order(number: str, party: str = "k-7", contacts: tuple[tuple[str, str], ...] = ()) -> bytes:
    contacts = contacts or (("Почта", "p@example.test"),)
    listed = "".join(
        f"<Контакт><Тип>{kind}</Тип><Значение>{value}</Значение></Контакт>" for kind, value in contacts
    )
    return _package(
        f"<Документ><Ид>1c-{number}</Ид><Номер>{number}</Номер><Дата>2026-12-05</Дата>"
        "<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>RUB</Валюта><Курс>1</Курс>"
        f"<Сумма>300</Сумма><Контрагенты><Контрагент><Ид>{party}</Ид><Наименование>Пётр Сидоров</Наименование>"
        f"<Роль>Покупатель</Роль><Контакты>{listed}</Контакты></Контрагент></Контрагенты><Товары><Товар><Ид>cup</Ид><Наименование>Кружка"
        "</Наименование><ЦенаЗаЕдиницу>100</ЦенаЗаЕдиницу><Количество>3</Количество><Сумма>300</Сумма>"
        "</Товар></Товары></Документ>"
    )


def test_an_order_keyed_in_1c_is_reported_by_default_and_imported_when_the_tenant_says(counter):
    report = counter.orders.apply_documents(counter.tenant, io.BytesIO(_phone_order("УТ-1")), "p.xml")
    assert (
        report["unknown"] == ["УТ-1"]
        and counter.orders.list(counter.tenant, None, None, None, 10)["orders"] == []
    )
    counter.accounts.update_settings("shop", orders_from_1c="import")
    counter.tenant = counter.accounts.require("shop")
    for _ in range(2):  # the same document again finds the order it made
        report = counter.orders.apply_documents(counter.tenant, io.BytesIO(_phone_order("УТ-1")), "p.xml")
        assert report["unknown"] == []
    (order,) = counter.orders.list(counter.tenant, None, None, None, 10)["orders"]
    assert order["from_1c"] and order["one_c"]["number"] == "УТ-1" and order["totals"]["total"] == 300
    assert order["customer"] == {"name": "Пётр Сидоров", "id": "k-7", "email": "p@example.test"}
    assert counter.orders.store.holds("shop", ["cup"]) == {}, "1C's own order holds nothing on the site"
    assert counter.orders.query_document(counter.tenant, "s-p", "utf-8")[1] == 0, "never offered back to 1C"
    assert (
        counter.orders.list(counter.tenant, None, None, None, 10, customer="k-7")["orders"][0]["id"]
        == order["id"]
    )


def test_a_phone_order_finds_the_site_customer_by_contragent_id_then_email_then_phone(counter):
    """1C's contragent for a site customer carries the site's customer id; a contragent 1C made
    itself is matched by the e-mail, then the phone, a site customer ordered with — its orders then
    list under that customer, 1C's own id kept beside it; a stranger stays 1C's."""
    counter.accounts.update_settings("shop", orders_from_1c="import")
    counter.tenant = counter.accounts.require("shop")
    for key, customer in (
        ("s1", {"id": "c-anna", "name": "Анна Ли", "email": "Anna@Example.test"}),
        ("s2", {"id": "c-petr", "name": "Пётр Сидоров", "phone": "+7 (999) 123-45-67"}),
    ):
        counter.orders.place(
            counter.tenant, {"customer": customer, "lines": [{"offer_id": "cup", "quantity": 1}]}, key
        )
    documents = {
        "УТ-1": _phone_order("УТ-1", party="c-anna", contacts=(("Почта", "other@example.test"),)),
        "УТ-2": _phone_order("УТ-2", party="k-9", contacts=(("Почта", "anna@example.test"),)),
        "УТ-3": _phone_order("УТ-3", party="k-8", contacts=(("Телефон", "8 999 123 45 67"),)),
        "УТ-4": _phone_order("УТ-4", party="k-5", contacts=(("Почта", "stranger@example.test"),)),
    }
    for number, document in documents.items():
        assert (
            counter.orders.apply_documents(counter.tenant, io.BytesIO(document), f"{number}.xml")["unknown"]
            == []
        )
    orders = {
        o["one_c"]["number"]: o
        for o in counter.orders.list(counter.tenant, None, None, None, 10)["orders"]
        if o.get("from_1c")
    }
    seen = {
        n: (o["customer"]["id"], o["customer"].get("matched_by"), o["customer"].get("id_1c"))
        for n, o in orders.items()
    }
    assert seen == {
        "УТ-1": ("c-anna", "id", None),
        "УТ-2": ("c-anna", "email", "k-9"),
        "УТ-3": ("c-petr", "phone", "k-8"),
        "УТ-4": ("k-5", None, None),
    }
    notes = [entry.get("note") or "" for entry in orders["УТ-2"]["history"]]
    assert "создан в 1С, № УТ-2; покупатель сайта найден по e-mail" in notes, notes
    annas = counter.orders.list(counter.tenant, None, None, None, 10, customer="c-anna")["orders"]
    assert {o.get("one_c", {}).get("number") for o in annas if o.get("from_1c")} == {"УТ-1", "УТ-2"}


def test_discounts_1c_gives_while_editing_come_back_and_the_totals_agree(counter):
    order = place(counter, "e2", ("cup", 2))
    counter.orders.query_document(counter.tenant, "s-e2", "utf-8")
    assert counter.orders.confirm(counter.tenant, "s-e2") == 1
    document = _package(
        f"<Документ><Ид>{order['id']}</Ид><Номер>{order['number']}</Номер><Дата>2026-12-05</Дата>"
        "<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>RUB</Валюта><Курс>1</Курс>"
        "<Сумма>250</Сумма><Скидки><Скидка><Наименование>Постоянный клиент</Наименование><Сумма>20</Сумма>"
        "<УчтеноВСумме>true</УчтеноВСумме></Скидка></Скидки><Товары><Товар><Ид>cup</Ид>"
        "<Наименование>Кружка</Наименование><ЦенаЗаЕдиницу>100</ЦенаЗаЕдиницу><Количество>3</Количество>"
        "<Сумма>270</Сумма><Скидки><Скидка><Наименование>Третья дешевле</Наименование><Сумма>30</Сумма>"
        "<Процент>10</Процент><УчтеноВСумме>true</УчтеноВСумме></Скидка></Скидки></Товар></Товары></Документ>"
    )
    assert counter.orders.apply_documents(counter.tenant, io.BytesIO(document), "e2.xml")["updated"] == 1
    seen = counter.orders.get(counter.tenant, order["id"])
    assert seen["lines"][0]["discount"] == {"name": "Третья дешевле", "amount": 30}
    assert seen["discounts"] == [{"name": "Постоянный клиент", "amount": 20}]
    assert (seen["totals"]["items"], seen["totals"]["discount"], seen["totals"]["total"]) == (270, 20, 250)
