"""Quantity-break prices and bundles, through the exchange URL to the shop API and an order.

No public 1C export carrying either was found (docs/protocol.md §10): the files here follow the
CommerceML 2 schema (`Цена/МинКоличество`, `Товар/Комплектующие`) and what 1C-Bitrix's importer
reads (`СкидкиНаценки` with the volume condition, `НаборыТовара/Набор/ЭлементНабора`). Every
expected value below is written out from the XML by hand, not computed by the reader."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.reliability import cml

KEY = {"X-Api-Key": "demo-key", "Content-Type": "application/json"}

PRODUCTS = (
    cml.product("кабель", "Кабель")
    + cml.product("вилка", "Вилка")
    + cml.product(
        "набор/1",
        "Набор «Удлинитель»",
        "<Комплектующие><Комплектующее><Ид>кабель</Ид><Наименование>Кабель</Наименование>"
        "<Количество>2</Количество></Комплектующее></Комплектующие>"
        "<НаборыТовара><Набор><ЭлементНабора><Значение>вилка</Значение><Количество>1</Количество>"
        "<Сортировка>10</Сортировка></ЭлементНабора></Набор></НаборыТовара>",
    )
)

# Retail: 100 a unit, 90 from 10 units (МинКоличество); volume discounts 3 % from 5, 10 % from 20
# (СкидкиНаценки, the last two listed out of order); a discount by sum is read past.
TIERED = (
    "<Предложение><Ид>кабель</Ид><Наименование>Кабель</Наименование><Цены>"
    "<Цена><ИдТипаЦены>pt</ИдТипаЦены><ЦенаЗаЕдиницу>100</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>"
    "<Цена><ИдТипаЦены>pt</ИдТипаЦены><ЦенаЗаЕдиницу>90</ЦенаЗаЕдиницу><Валюта>RUB</Валюта>"
    "<МинКоличество>10</МинКоличество></Цена></Цены>"
    "<СкидкиНаценки>"
    "<СкидкаНаценка><Условие>Объём</Условие><ЗначениеУсловия>20</ЗначениеУсловия><Процент>10</Процент></СкидкаНаценка>"
    "<СкидкаНаценка><Условие>Объем</Условие><ЗначениеУсловия>5</ЗначениеУсловия><Процент>3</Процент></СкидкаНаценка>"
    "<СкидкаНаценка><Условие>Сумма</Условие><ЗначениеУсловия>1000</ЗначениеУсловия><Процент>50</Процент></СкидкаНаценка>"
    "</СкидкиНаценки><Количество>100</Количество></Предложение>"
)


def get(stack, path: str) -> dict:
    response = stack.client.http.request("GET", f"/api/v1{path}", headers=KEY)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def order(stack, quantity: int, key: str) -> dict:
    body = {"customer": {"name": "Анна"}, "lines": [{"offer_id": "кабель", "quantity": quantity}]}
    response = stack.client.http.request(
        "POST", "/api/v1/orders", headers={**KEY, "Idempotency-Key": key}, body=json.dumps(body).encode()
    )
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def test_quantity_tiers_and_volume_discounts_are_served_listed_at_the_base_and_ordered_at_the_tier(stack):
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(PRODUCTS)).keyword == "success"
    offers = cml.offers(TIERED + cml.offer("вилка", "5", "40") + cml.offer("набор/1", "3", "250"))
    assert onec.send_file("offers.xml", offers).keyword == "success"

    (offer,) = get(stack, f"/products/{quote('кабель')}")["offers"]
    assert [(p["value"], p.get("min_quantity")) for p in offer["prices"]] == [(100, None), (90, 10)]
    assert offer["quantity_breaks"] == [
        {"min_quantity": 5, "percent": 3},
        {"min_quantity": 20, "percent": 10},
    ]
    listed = {p["id"]: p["price"] for p in get(stack, "/products")["items"]}
    assert listed["кабель"] == 100  # a listing shows the first unit's price, never a tier's

    assert order(stack, 4, "o4")["lines"][0]["price"] == 100
    assert order(stack, 5, "o5")["lines"][0]["price"] == 97  # 100 less 3 %
    ten = order(stack, 10, "o10")["lines"][0]
    assert (ten["price"], ten["amount"]) == (87.3, 873)  # the 90 tier less 3 %
    assert order(stack, 20, "o20")["lines"][0]["price"] == 81  # 90 less 10 %

    again = onec.send_file("offers.xml", offers)  # the same file again: nothing to write
    assert again.keyword == "success" and "изменено 0" in again.text, again.text


def test_a_bundle_serves_its_parts_with_quantities_in_either_form(stack):
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(PRODUCTS)).keyword == "success"
    bundle = get(stack, f"/products/{quote('набор/1', safe='')}")
    assert bundle["components"] == [
        {"id": "кабель", "quantity": 2, "name": "Кабель"},
        {"id": "вилка", "quantity": 1, "name": None},
    ]
    assert get(stack, f"/products/{quote('вилка')}")["components"] == []


def test_characteristics_of_the_offers_on_sale_are_facets_and_filters(stack):
    """A storefront filters by size and colour: the offers' characteristics count in `/facets`
    (as `~<name>`) and filter the list like properties (`property=~Размер:M`)."""

    def variants(product: str, sizes: tuple[str, ...]) -> str:
        return "".join(
            f"<Предложение><Ид>{product}#{size}</Ид><Наименование>{product} {size}</Наименование>"
            "<ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Размер</Наименование>"
            f"<Значение>{size}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>"
            "<Цены><Цена><ИдТипаЦены>pt</ИдТипаЦены><ЦенаЗаЕдиницу>100</ЦенаЗаЕдиницу></Цена></Цены>"
            "<Количество>1</Количество></Предложение>"
            for size in sizes
        )

    onec = stack.onec()
    products = cml.product("футболка", "Футболка") + cml.product("шорты", "Шорты")
    assert onec.send_file("import.xml", cml.catalog(products)).keyword == "success"
    offers = cml.offers(variants("футболка", ("S", "M")) + variants("шорты", ("M", "L")))
    assert onec.send_file("offers.xml", offers).keyword == "success"
    facet = next(p for p in get(stack, "/facets")["properties"] if p["id"] == "~Размер")
    assert facet["name"] == "Размер" and facet["values"] == [
        {"value": "L", "count": 1},
        {"value": "M", "count": 2},
        {"value": "S", "count": 1},
    ]
    listed = get(stack, f"/products?property={quote('~Размер:S')}")["items"]
    assert [i["id"] for i in listed] == ["футболка"]
    both = get(stack, f"/products?property={quote('~Размер:L')}&property={quote('~Размер:S')}")["items"]
    assert sorted(i["id"] for i in both) == ["футболка", "шорты"]
