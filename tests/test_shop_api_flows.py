"""The shop API on catalogs each test imports itself (chalice.test on moto): subgroups, the cost
of reads, the change feed, the OpenAPI document."""

from __future__ import annotations

from openapi_spec_validator import validate

from chalicelib import wiring
from chalicelib.commerceml.model import Product
from tests.test_shop_api import DOBRO, checked, get, parsed


def test_openapi_document_is_valid(stack):
    status, body = get(stack, "/openapi.json", headers={})
    assert status == 200
    validate(body)


def test_group_filter_includes_subgroups(stack, samples):
    rel = "carono__yii2-1c-exchange/files/xml/import.xml"
    assert stack.onec().send_file("import.xml", (samples / rel).read_bytes()).keyword == "success"
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


class CallCounter:
    def __init__(self):
        self.calls = 0

    def __call__(self, **kwargs):
        self.calls += 1


def count_calls(stack, path: str) -> int:
    counter = CallCounter()
    client = wiring.catalog_store().table.table.meta.client
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
    count_calls(stack, f"/products/{product.id}")  # warms the reference cache
    detail_small = count_calls(stack, f"/products/{product.id}")
    page_small = count_calls(stack, "/products?limit=20")
    big = "ArtemiusUA__django-cml/tests/tests_fixtures/import.xml"  # 282 more products
    assert onec.send_file("import.xml", (samples / big).read_bytes()).keyword == "success"
    # API key lookup + the rate-limit counter + the product partition (price type and warehouse
    # names are cached a minute)
    assert count_calls(stack, f"/products/{product.id}") == detail_small <= 3
    page_big = count_calls(stack, "/products?limit=20")
    assert page_big <= 2 + 5 + 1 + 20 and page_small <= 2 + 5 + 1 + 20


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
