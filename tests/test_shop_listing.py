"""List pages, filters, sorts and facets of the shop API against values computed independently
from the sample's XML (the module's imported catalog, tests/conftest.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.commerceml.model import Offer, Product
from tests.test_shop_api import DOBRO, checked, get, parsed


@pytest.fixture(scope="module")
def catalog(module_stack):
    return module_stack


@pytest.fixture(scope="module")
def expected(samples_module) -> dict[str, dict]:
    """What the XML says each listed product shows: products not deleted, with an offer."""
    products = [p for p in parsed(samples_module / DOBRO / "import0_1.xml") if isinstance(p, Product)]
    offers = [o for o in parsed(samples_module / DOBRO / "offers0_1.xml") if isinstance(o, Offer)]
    cards = {}
    for product in products:
        mine = [o for o in offers if o.product_id == product.id and not o.deleted]
        if product.deleted or not mine:
            continue
        prices = [p.value for o in mine for p in o.prices]
        stock = sum((o.total_stock or Decimal(0) for o in mine), Decimal(0))
        cards[product.id] = {
            "name": product.name,
            "sku": product.sku,
            "price": min(prices) if prices else None,
            "stock": stock,
            "props": {(v.id, v.value) for v in product.properties if v.value},
            "groups": set(product.group_ids),
        }
    return cards


def every_page(stack, query: str, limit: int = 7) -> tuple[list[dict], list[int]]:
    items, sizes, cursor = [], [], None
    while True:
        path = f"/products?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else "")
        body = checked(stack, path, "/products")
        items += body["items"]
        sizes.append(len(body["items"]))
        cursor = body["next_cursor"]
        if not cursor:
            return items, sizes


def _name(n: str) -> str:
    return " ".join(n.lower().split())


def test_every_sort_lists_every_listed_product_once_in_order(catalog, expected):
    orders = {
        "name": lambda i: (_name(expected[i]["name"]), i),
        "price": lambda i: (expected[i]["price"], i),
        "-price": lambda i: (expected[i]["price"], i),
    }
    for sort, key in orders.items():
        items, sizes = every_page(catalog, f"sort={sort}")
        ids = [i["id"] for i in items]
        wanted = [i for i in expected if sort == "name" or expected[i]["price"] is not None]
        assert ids == sorted(wanted, key=key, reverse=sort.startswith("-")), sort
        assert all(size == 7 for size in sizes[:-2]) and len(sizes) <= len(ids) // 7 + 2, sizes
        for item in items:
            mine = expected[item["id"]]
            assert item["name"] == mine["name"] and item["sku"] == mine["sku"]
            assert item["in_stock"] == (mine["stock"] > 0) and Decimal(str(item["stock"])) == mine["stock"]
            assert (item["price"] is None) == (mine["price"] is None)
            assert mine["price"] is None or Decimal(str(item["price"])) == mine["price"]
    updated, _ = every_page(catalog, "sort=-updated")
    stamps = [i["updated_at"] for i in updated]
    assert sorted(i["id"] for i in updated) == sorted(expected) and stamps == sorted(stamps, reverse=True)


def test_stock_and_price_filters(catalog, expected):
    for flag in (True, False):
        items, _ = every_page(catalog, f"in_stock={str(flag).lower()}&sort=price")
        want = {i for i, c in expected.items() if (c["stock"] > 0) == flag and c["price"] is not None}
        assert {i["id"] for i in items} == want
    prices = sorted({c["price"] for c in expected.values() if c["price"] is not None})
    low, high = prices[len(prices) // 4], prices[3 * len(prices) // 4]
    want = {i for i, c in expected.items() if c["price"] is not None and low <= c["price"] <= high}
    for sort in ("price", "name", "-updated"):
        items, _ = every_page(catalog, f"price_min={low}&price_max={high}&sort={sort}", limit=5)
        assert {i["id"] for i in items} == want, sort
    assert get(catalog, "/products?price_min=abc")[0] == 400
    assert get(catalog, "/products?sort=colour")[0] == 400
    assert get(catalog, "/products?in_stock=maybe")[0] == 400


def test_property_filters_or_within_and_across(catalog, expected):
    by_property: dict[str, set[str]] = {}
    for card in expected.values():
        for pid, value in card["props"]:
            by_property.setdefault(pid, set()).add(value)
    pid, values = max(by_property.items(), key=lambda kv: len(kv[1]))
    first, second = sorted(values)[:2]
    items, _ = every_page(catalog, f"property={pid}:{first}&property={pid}:{second}")
    assert {i["id"] for i in items} == {
        i for i, c in expected.items() if (pid, first) in c["props"] or (pid, second) in c["props"]
    }
    other = next(p for p in by_property if p != pid)
    other_value = sorted(by_property[other])[0]
    items, _ = every_page(catalog, f"property={pid}:{first}&property={other}:{other_value}")
    assert {i["id"] for i in items} == {
        i for i, c in expected.items() if (pid, first) in c["props"] and (other, other_value) in c["props"]
    }
    assert get(catalog, "/products?property=novalue")[0] == 400


def test_facets_equal_counts_from_the_xml(catalog, expected):
    group = next(iter(next(iter(expected.values()))["groups"]))
    for path, members in (("/facets", expected), (f"/facets?group={group}", expected)):
        body = checked(catalog, path, "/facets")
        assert body["count"] == len(members)
        assert body["in_stock"] == sum(1 for c in members.values() if c["stock"] > 0)
        prices = [c["price"] for c in members.values() if c["price"] is not None]
        assert Decimal(str(body["price"]["min"])) == min(prices)
        assert Decimal(str(body["price"]["max"])) == max(prices)
        counted = {(p["id"], v["value"]): v["count"] for p in body["properties"] for v in p["values"]}
        want: dict[tuple[str, str], int] = {}
        for card in members.values():
            for prop in card["props"]:
                want[prop] = want.get(prop, 0) + 1
        assert counted == want
        assert all(p["name"] for p in body["properties"])
    empty = checked(catalog, "/facets?group=no-such-group", "/facets")
    assert empty["count"] == 0 and empty["properties"] == []
