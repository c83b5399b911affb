"""The shop API on catalogs each test imports itself (chalice.test on moto): subgroups, the cost
of reads, the change feed, the OpenAPI document."""

from __future__ import annotations

import json
from urllib.parse import quote

from openapi_spec_validator import validate

from chalicelib import wiring
from chalicelib.commerceml.model import Product
from tests.test_shop_api import DOBRO, KEY, checked, get, parsed


def test_openapi_document_is_valid(stack):
    status, body = get(stack, "/openapi.json", headers={})
    assert status == 200
    validate(body)
    operations = [o for methods in body["paths"].values() for o in methods.values()]
    names = [o["operationId"] for o in operations]
    assert len(names) == len(set(names)) == len(operations), "every call named once, for generated clients"
    assert all({"401", "403", "429"} <= o["responses"].keys() for o in operations)


def test_group_filter_includes_subgroups(stack, samples):
    rel = "carono__yii2-1c-exchange/files/xml/import.xml"
    assert stack.onec().send_file("import.xml", (samples / rel).read_bytes()).keyword == "success"
    offers = (samples / rel).with_name("offers.xml").read_bytes()
    assert stack.onec().send_file("offers.xml", offers).keyword == "success"  # listed once offered
    groups = checked(stack, "/groups", "/groups")["groups"]
    by_id = {g["id"]: g for g in groups}
    products = [p for p in parsed(samples / rel) if isinstance(p, Product)]
    leaf = products[0].group_ids[0]
    root = leaf
    while by_id[root]["parent_id"]:
        root = by_id[root]["parent_id"]
    assert root != leaf, "the sample nests its groups"
    listed = checked(stack, f"/products?group={root}", "/products")["items"]
    assert products[0].id in [i["id"] for i in listed]
    from lxml import etree

    trail, node = (
        [],
        next(  # the group's chain as the XML nests it, read apart from the reader
            g for g in etree.parse(str(samples / rel)).iter("{*}Группа") if g.findtext("{*}Ид") == leaf
        ),
    )
    while node is not None and node.tag.endswith("Группа"):
        trail.insert(0, {"id": node.findtext("{*}Ид"), "name": node.findtext("{*}Наименование")})
        node = node.getparent().getparent()
    product = checked(stack, f"/products/{quote(products[0].id, safe='')}", "/products/{product_id}")
    assert [{k: c[k] for k in ("id", "name")} for c in product["breadcrumbs"]] == trail and len(trail) > 1


class CallCounter:
    """DynamoDB calls of the read path; the rate limit's batched writes (one in ~20 requests,
    measured in tests/test_ratelimit.py) are left out so the count is the read path's own."""

    def __init__(self):
        self.calls = 0

    def __call__(self, **kwargs):
        if "#rate" not in str(kwargs.get("params")):
            self.calls += 1


def count_calls(stack, path: str) -> int:
    counter = CallCounter()
    client = wiring.container().catalog_store.table.table.meta.client
    client.meta.events.register("before-call.dynamodb", counter)
    try:
        assert get(stack, path)[0] == 200
    finally:
        client.meta.events.unregister("before-call.dynamodb", counter)
    return counter.calls


def test_reads_cost_a_bounded_number_of_calls(stack, samples):
    onec = stack.onec()
    assert (
        onec.send_file("import0_1.xml", (samples / DOBRO / "import0_1.xml").read_bytes()).keyword == "success"
    )
    assert (
        onec.send_file("offers0_1.xml", (samples / DOBRO / "offers0_1.xml").read_bytes()).keyword == "success"
    )
    product = next(
        p for p in parsed(samples / DOBRO / "import0_1.xml") if isinstance(p, Product) and not p.deleted
    )
    group = product.group_ids[0]
    common = f"/products?group={group}&in_stock=true&sort=price&limit=20"
    count_calls(stack, f"/products/{product.id}")  # warms the reference cache
    count_calls(stack, common)
    detail_small = count_calls(stack, f"/products/{product.id}")
    page_small = count_calls(stack, common)
    big = "ArtemiusUA__django-cml/tests/tests_fixtures/import.xml"  # 282 more products
    assert onec.send_file("import.xml", (samples / big).read_bytes()).keyword == "success"
    # API key lookup + the product partition + the units orders hold (one batch read; price type
    # and warehouse names are cached a minute)
    assert count_calls(stack, f"/products/{product.id}") == detail_small <= 3
    # the common page (a group, a sort, in_stock): the key lookup and ONE query
    assert count_calls(stack, common) == page_small == 1 + 1
    # without in_stock: one query per stock flag
    assert count_calls(stack, f"/products?group={group}&sort=name&limit=20") == 1 + 2


def test_change_feed_lists_exactly_what_changed(stack, samples):
    onec = stack.onec()
    data = (samples / DOBRO / "import0_1.xml").read_bytes()
    assert onec.send_file("import0_1.xml", data).keyword == "success"
    feed, cursor = [], None
    while True:
        body = checked(stack, f"/changes?limit=10{'&since=' + cursor if cursor else ''}", "/changes")
        feed += body["changes"]
        if not body["changes"]:
            break
        cursor = body["next"]
    products = [p for p in parsed(samples / DOBRO / "import0_1.xml") if isinstance(p, Product)]
    assert {c["id"] for c in feed if c["type"] == "product"} == {p.id for p in products}
    assert {c["id"] for c in feed if c["op"] == "deactivate"} == {p.id for p in products if p.deleted}
    changed = [p for p in products if not p.deleted][:3]
    for p in changed:
        data = data.replace(
            f"<Наименование>{p.name}</Наименование>".encode(),
            f"<Наименование>{p.name} NEW</Наименование>".encode(),
            1,
        )
    assert onec.send_file("import0_1.xml", data).keyword == "success"
    body = checked(stack, f"/changes?since={cursor}", "/changes")
    assert sorted(c["id"] for c in body["changes"]) == sorted(p.id for p in changed)
    assert all(c["op"] == "upsert" and c["type"] == "product" for c in body["changes"])
    assert checked(stack, f"/changes?since={body['next']}", "/changes")["changes"] == []


def _part(name: str, offer_xml: str, price_type: str) -> bytes:
    """A 2.08+ split part holding only prices or only stock of one offer."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.08" '
        'ДатаФормирования="2026-11-29T10:00:00"><ПакетПредложений СодержитТолькоИзменения="true">'
        f"<Ид>{name}</Ид><Наименование>П</Наименование><ИдКаталога>c</ИдКаталога>"
        f"<ТипыЦен><ТипЦены><Ид>{price_type}</Ид><Наименование>Розница</Наименование><Валюта>RUB</Валюта>"
        f"</ТипЦены></ТипыЦен><Предложения>{offer_xml}</Предложения></ПакетПредложений></КоммерческаяИнформация>"
    ).encode()


def test_a_prices_only_and_a_rests_only_file_update_the_cards(stack, samples):
    from chalicelib.commerceml.model import Offer

    onec = stack.onec()
    for name in ("import0_1.xml", "offers0_1.xml"):
        assert onec.send_file(name, (samples / DOBRO / name).read_bytes()).keyword == "success"
    offers = [o for o in parsed(samples / DOBRO / "offers0_1.xml") if isinstance(o, Offer)]
    per_product: dict[str, list] = {}
    for o in offers:
        per_product.setdefault(o.product_id, []).append(o)
    offer = next(
        os[0] for os in per_product.values() if len(os) == 1 and os[0].prices and (os[0].total_stock or 0) > 0
    )
    price_type = offer.prices[0].price_type_id
    before = checked(stack, "/facets", "/facets")

    prices = f"<Предложение><Ид>{offer.id}</Ид><Цены><Цена><ИдТипаЦены>{price_type}</ИдТипаЦены>"
    prices += "<ЦенаЗаЕдиницу>0.5</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены></Предложение>"
    assert onec.send_file("prices___1.xml", _part("p", prices, price_type)).keyword == "success"
    cheapest = checked(stack, "/products?sort=price&limit=1", "/products")["items"][0]
    assert cheapest["id"] == offer.product_id and cheapest["price"] == 0.5 and cheapest["in_stock"]
    assert checked(stack, "/facets", "/facets")["price"]["min"] == 0.5

    written = wiring.container().catalog_store.stats.items
    assert onec.send_file("prices___1.xml", _part("p", prices, price_type)).keyword == "success"
    assert wiring.container().catalog_store.stats.items == written, "the same file again writes nothing"

    rests = f"<Предложение><Ид>{offer.id}</Ид><Остатки><Остаток><Количество>0</Количество></Остаток></Остатки></Предложение>"
    assert onec.send_file("rests___1.xml", _part("r", rests, price_type)).keyword == "success"
    in_stock = {i["id"] for i in checked(stack, "/products?in_stock=true&limit=100", "/products")["items"]}
    assert offer.product_id not in in_stock
    assert (
        checked(stack, f"/products/{offer.product_id}", "/products/{product_id}")["offers"][0]["prices"][0][
            "value"
        ]
        == 0.5
    )
    after = checked(stack, "/facets", "/facets")
    assert after["in_stock"] == before["in_stock"] - 1 and after["count"] == before["count"]


def test_catalog_reads_carry_an_etag_and_answer_304_when_nothing_changed(stack):
    """A shop's HTTP cache (or a browser) asks again with If-None-Match and gets 304 and no body
    while the answer is the same; a change makes a new ETag. Errors are never cacheable."""
    from tests.reliability import cml

    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("e1", "Чайник"))).keyword == "success"
    assert (
        onec.send_file("offers.xml", cml.offers(cml.offer("e1", quantity="3", price="100"))).keyword
        == "success"
    )
    first = stack.client.http.request("GET", "/api/v1/products/e1", headers=KEY)
    etag = first.headers["ETag"]
    assert (
        first.status_code == 200
        and etag.startswith('"')
        and first.headers["Cache-Control"] == "private, max-age=30"
    )
    assert first.headers["Vary"] == "X-Api-Key"
    again = stack.client.http.request("GET", "/api/v1/products/e1", headers={**KEY, "If-None-Match": etag})
    assert again.status_code == 304 and not again.body and again.headers["ETag"] == etag
    assert (
        onec.send_file("offers.xml", cml.offers(cml.offer("e1", quantity="3", price="120"))).keyword
        == "success"
    )
    changed = stack.client.http.request("GET", "/api/v1/products/e1", headers={**KEY, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert json.loads(changed.body)["offers"][0]["prices"][0]["value"] == 120
    missing = stack.client.http.request("GET", "/api/v1/products/nope", headers=KEY)
    assert missing.status_code == 404 and "ETag" not in missing.headers
    listing = stack.client.http.request("GET", "/api/v1/products?limit=5", headers=KEY)
    assert listing.status_code == 200 and "ETag" in listing.headers
    from chalicelib import wiring

    wiring.container().accounts.update_settings("demo", cache_seconds=300)  # the tenant's own max-age
    longer = stack.client.http.request("GET", "/api/v1/groups", headers=KEY)
    assert longer.headers["Cache-Control"] == "private, max-age=300"
