"""The catalog store's contract, run on its twin table, on moto and on DynamoDB Local (AWS's own
engine; CI has it): the same writes give the same reads — offers merged from parts, the feed,
cards listed through the indexes with every sort, stock flag, price range and filter, pages full
and cursors that neither skip nor repeat."""

from __future__ import annotations

import json
import random
import uuid
from decimal import Decimal

import pytest

from chalicelib.aws.catalog import CatalogStore
from chalicelib.memory import InMemoryCatalogStore
from chalicelib.sync.cards import WHOLE, Card, ListQuery, OfferState, ProductState, build_card
from chalicelib.sync.diff import Deactivate, Put
from chalicelib.sync.records import Record, canonical


@pytest.fixture(params=["memory", "moto", "dynamodb-local"])
def store(request, monkeypatch) -> CatalogStore:
    if request.param == "memory":
        return InMemoryCatalogStore()
    if request.param == "moto":
        request.getfixturevalue("aws")
        from chalicelib import wiring

        return wiring.container().catalog_store
    engine = request.getfixturevalue("engine")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", engine.endpoint)
    from chalicelib.aws import clients
    from chalicelib.local.resources import _create_table, load_template

    clients.reset()
    props = dict(load_template()["Resources"]["CatalogTable"]["Properties"])
    props["TableName"] = f"contract-{uuid.uuid4().hex[:12]}"
    _create_table(props)
    request.addfinalizer(clients.reset)
    return CatalogStore(props["TableName"])


def put(kind: str, entity_id: str, active: bool = True, **data) -> Put:
    return Put(Record(kind, entity_id, canonical(data), active), created=True)


def test_offer_parts_share_one_item_and_a_prices_file_keeps_the_rest(store):
    store.write_changes(
        "t",
        [
            put("product", "p1", name="Чай", group_ids=["g"]),
            put("offer", "p1#a", name="Чай 100 г"),
            put("prices", "p1#a", prices=[{"price_type_id": "rub", "value": "10"}]),
            put("stock", "p1#a", total="3", warehouses=[]),
        ],
        "1700000000000" + "0000000",
    )()
    store.write_changes(
        "t",
        [
            put(
                "prices",
                "p1#a",
                prices=[{"price_type_id": "rub", "value": "12", "tax": {"name": "НДС", "included": True}}],
            )
        ],
        "1700000001000" + "0000000",
    )()
    state = store.product("t", "p1")
    (offer,) = state.offers
    assert offer.info["name"] == "Чай 100 г" and offer.stock["total"] == "3"
    assert [(p["price_type_id"], p["value"]) for p in offer.prices] == [("rub", "12")]
    assert offer.prices[0]["tax"] == {"name": "НДС", "included": True}, "3.1's per-price tax is kept"
    assert state.updated == 1700000001000
    assert store.states("t", {"p1": ["offer:p1#a"]})["p1"] == state
    tiers = [{"price_type_id": "rub", "value": "9", "min_quantity": "10"}]
    breaks = [{"min_quantity": "5", "percent": "3"}]
    store.write_changes(
        "t", [put("prices", "p1#a", prices=tiers, breaks=breaks)], "1700000001500" + "0000000"
    )()
    (tiered,) = store.product("t", "p1").offers
    assert [(p["value"], p["min_quantity"], p.get("tax")) for p in tiered.prices] == [("9", "10", None)]
    assert [(b["min_quantity"], b["percent"]) for b in tiered.breaks] == [("5", "3")]
    store.write_changes("t", [Deactivate("offer", "p1#a")], "1700000002000" + "0000000")()
    assert store.product("t", "p1").offers[0].active is False
    assert store.product("u", "p1") is None, "another tenant's key space"


def test_the_feed_lists_each_batch_in_order_and_resumes_inside_an_entry(store):
    store.write_changes(
        "t", [put("product", f"p{n}", name="x") for n in range(5)], "1700000000000" + "0000000"
    )()
    store.write_changes(
        "t", [put("group", "g1", name="G"), Deactivate("product", "p1")], "1700000005000" + "0000000"
    )()
    everything = store.feed("t", None, 0, 50)
    assert [e for _, _, e in everything] == [
        *[["product", f"p{n}", "upsert"] for n in range(5)],
        ["group", "g1", "upsert"],
        ["product", "p1", "deactivate"],
    ]
    entry, position, _ = everything[2]
    assert [e for _, _, e in store.feed("t", entry, position, 3)] == [
        ["product", "p3", "upsert"],
        ["product", "p4", "upsert"],
        ["group", "g1", "upsert"],
    ]
    assert store.feed("u", None, 0, 10) == []


def _cards(n: int, seed: int = 7) -> list[Card]:
    rng = random.Random(seed)
    cards = []
    for i in range(n):
        offers = [
            OfferState(
                f"p{i}#{v}",
                {"name": f"вариант {v}"},
                [{"price_type_id": "rub", "value": str(rng.choice([5, 10, 10, 99, 1000]) + v)}]
                if rng.random() < 0.9
                else [],
                {"total": str(rng.choice([0, 0, 1, 7]))},
            )
            for v in range(rng.randint(1, 2))
        ]
        doc = {
            "name": rng.choice(["Чай", "чай  зелёный", "Кофе", "Какао", "Ёрш"]) + f" {i % 7}",
            "sku": f"SKU-{i}",
            "barcodes": [f"46{i:011d}"],
            "group_ids": [rng.choice(["leaf-a", "leaf-b", "leaf-c"])] + (["leaf-a"] if i % 11 == 0 else []),
            "properties": [{"id": "colour", "value": rng.choice(["красный", "синий"])}],
        }
        state = ProductState(f"p{i}", doc, True, 1_700_000_000_000 + rng.randint(0, 10**6), offers)
        cards.append(build_card(state, "rub", {"leaf-a": "root", "leaf-b": "root", "leaf-c": None}))
    return cards


def _expected(cards: list[Card], query: ListQuery, groups: set[str]) -> list[str]:
    def keep(card: Card) -> bool:
        price = Decimal(card.price_min) if card.price_min else None
        return (
            bool(set(card.groups) & groups)
            and (query.in_stock is None or card.in_stock == query.in_stock)
            and (query.price_min is None or (price is not None and price >= query.price_min))
            and (query.price_max is None or (price is not None and price <= query.price_max))
            and (query.order != "price" or price is not None)
            and all(any(f"{p}:{v}" in card.props for v in vs) for p, vs in query.properties)
            and (not query.q or query.q in f"{card.name} {card.sku}".lower())
        )

    def key(card: Card):
        if query.order == "name":
            return (" ".join(card.name.lower().split()), card.id)
        if query.order == "price":
            return (Decimal(card.price_min), card.id)
        return (card.updated, card.id)

    kept = sorted((c for c in cards if keep(c)), key=key, reverse=query.descending)
    return [c.id for c in kept]


def _read_all(store, query: ListQuery, buckets: list[str]) -> tuple[list[str], list[int]]:
    ids, sizes, after = [], [], None
    for _ in range(100):
        page, after = store.cards("t", ListQuery(**{**query.__dict__, "after": after}), buckets)
        ids += [c["id"] for c in page]
        sizes.append(len(page))
        if after is None:
            return ids, sizes
    raise AssertionError("the cursor never ended")


QUERIES = [
    ListQuery(sort="name", limit=7),
    ListQuery(sort="price", in_stock=True, limit=5),
    ListQuery(sort="-price", price_min=Decimal("10"), price_max=Decimal("100"), limit=4),
    ListQuery(sort="-updated", in_stock=False, limit=6),
    ListQuery(sort="name", properties=(("colour", ("синий",)),), limit=5),
    ListQuery(sort="name", q="чай", price_max=Decimal("50"), limit=3),
]


def test_cards_list_in_order_with_full_pages_and_no_repeats(store):
    cards = _cards(60)
    store.write_cards("t", cards, [])()
    store.write_cards("u", cards[:5], [])()  # another tenant's cards stay out
    for query in QUERIES:
        for buckets in (["leaf-a"], ["leaf-a", "leaf-b", "leaf-c"]):
            ids, sizes = _read_all(store, query, buckets)
            assert ids == _expected(cards, query, set(buckets)), (query, buckets)
            full = all(size == query.limit for size in sizes[:-2])
            assert full and len(sizes) <= len(ids) // query.limit + 2, (query, sizes)  # full until the end


def test_the_whole_catalog_by_name_is_one_query_a_shard_with_every_filter(store):
    """Each card's first item also lists it in the whole catalog by name (split over two keys by
    product id): a page of it is two queries however many groups the catalog has; in stock is a
    filter there."""
    cards = _cards(60)
    store.write_cards("t", cards, [])()
    everything = {"leaf-a", "leaf-b", "leaf-c"}
    by_name = [q for q in QUERIES if q.order == "name"] + [ListQuery(sort="name", in_stock=True, limit=6)]
    for query in by_name:
        before = store.stats.queries
        store.cards("t", query, [WHOLE])
        if not query.has_filter() and query.in_stock is None:
            assert store.stats.queries - before == 2, query
        ids, _ = _read_all(store, query, [WHOLE])
        assert ids == _expected(cards, query, everything), query
    gone = cards[0]
    store.write_cards("t", [], [(gone.id, group) for group in gone.buckets])()
    assert gone.id not in _read_all(store, ListQuery(limit=50), [WHOLE])[0]
    with pytest.raises(ValueError, match="by name"):
        store.cards("t", ListQuery(sort="price"), [WHOLE])


def test_removed_cards_leave_the_listing_and_facets_round_trip(store):
    cards = _cards(10)
    store.write_cards("t", cards, [])()
    gone = cards[3]
    store.write_cards("t", [], [(gone.id, group) for group in gone.buckets])()
    ids, _ = _read_all(store, ListQuery(limit=50), ["leaf-a", "leaf-b", "leaf-c"])
    assert gone.id not in ids and len(ids) == 9
    store.write_facets("t", {"*": {"count": 9, "values": {"colour": {"синий": 4}}}})()
    assert store.facet("t", "*") == {"count": 9, "values": {"colour": {"синий": 4}}}
    assert store.facet("u", "*") is None


def test_facets_are_bounded_and_thousands_of_buckets_page_out_of_one_item(store):
    """A whole-catalog facet with 20,000 groups of 300-byte ids and 50,000 values of one property:
    stored (no item over 400 KB), read back as counted (values bounded), and pages a smaller
    catalog no longer needs are deleted."""
    buckets = {f"{n:05d}" + "г" * 145: 1 for n in range(20_000)}  # ~300 bytes each, 6 MB in all
    codes = {f"code-{n}": 1 for n in range(50_000)}
    store.write_facets(
        "t", {"*": {"count": 20_000, "values": {"code": codes, "colour": {"синий": 7}}, "buckets": buckets}}
    )()
    facet = store.facet("t", "*")
    assert facet["buckets"] == buckets and facet["count"] == 20_000
    assert facet["values"]["colour"] == {"синий": 7} and facet["more"] == {"code": 50_000 - 200}
    assert facet == store.facets_of("t", ["*"])["*"]
    pages = [k for k in _keys(store) if k[0] == "t#facets" and "\x01" in k[1]]
    assert len(pages) > 20, "the buckets went to pages of their own"
    store.write_facets("t", {"*": {"count": 1, "values": {}, "buckets": {"one": 1}}})()
    assert store.facet("t", "*")["buckets"] == {"one": 1}
    assert [k for k in _keys(store) if k[0] == "t#facets"] == [("t#facets", "*")], "stale pages deleted"


def test_an_item_over_dynamodbs_size_is_refused_by_name_before_anything_is_written(store):
    from chalicelib.ports import ItemTooLarge
    from chalicelib.sync.diff import Put
    from chalicelib.sync.records import PRODUCT, Record

    small = Put(Record(PRODUCT, "ok", json.dumps({"id": "ok", "name": "Чай"}), True), created=True)
    huge = Put(Record(PRODUCT, "big", json.dumps({"id": "big", "name": "Ж" * 200_001}), True), created=True)
    with pytest.raises(ItemTooLarge, match=r"товар big: \d+ КБ — больше предела записи") as refused:
        store.write_changes("t", [small, huge], "1700000000000000")
    assert refused.value.pk == "t#p#big" and refused.value.size > 400_000
    assert not [k for k in _keys(store) if k[0].startswith("t#")], "nothing of the batch was sent"
    left_out: list[ItemTooLarge] = []  # the import's way: the rest is written, the item named
    store.write_changes("t", [small, huge], "1700000000000000", left_out.append)()
    assert [e.pk for e in left_out] == ["t#p#big"]
    assert ("t#p#ok", "product") in _keys(store) and ("t#p#big", "product") not in _keys(store)


def test_a_card_too_large_for_one_item_is_listed_shortened(store):
    from dataclasses import replace

    card = replace(_cards(1)[0], name="Ж" * 150_000, props=tuple(f"p{n}:{'з' * 100}" for n in range(2_000)))
    store.write_cards("t", [card], [])()
    ids, _ = _read_all(store, ListQuery(limit=50), list(card.buckets))
    assert ids == [card.id]


def test_a_products_history_is_read_newest_first_and_bounded(store):
    def entry(at: int, price: str) -> dict:
        change = {"id": "p1", "op": "changed", "price_min": ["1", price]}
        return {
            "change": change,
            "job": f"area-{at}#offers.xml",
            "session": "s",
            "file": "offers.xml",
            "at": at,
        }

    store.write_cards("t", [], [], [entry(1_700_000_000_000 + n, str(n)) for n in range(30)])()
    store.write_cards("u", [], [], [entry(1_700_000_000_000, "other tenant")])()
    history = store.history("t", "p1", limit=5)
    assert [h["change"]["price_min"][1] for h in history] == ["29", "28", "27", "26", "25"]
    assert store.history("t", "p2") == [] and len(store.history("u", "p1")) == 1
    assert all(k[0] != "t#p#p1" for k in _keys(store)), "history stays out of the product's own partition"


def _keys(store) -> list[tuple[str, str]]:
    """Every (pk, sk) of the store's table (tests only: a scan)."""
    from chalicelib.memory.catalog import MemoryCatalogTable

    if isinstance(store.table, MemoryCatalogTable):
        return list(store.table.items)
    found, kwargs = [], {}
    while True:
        page = store.table.table.scan(ProjectionExpression="pk, sk", **kwargs)
        found += [(i["pk"], i["sk"]) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_cursor_past_the_price_range_is_an_empty_page_on_every_engine(store):
    """DynamoDB refuses a key range whose low end passes its high end (moto does not): the store
    answers an empty page instead of asking."""
    from decimal import Decimal as D

    store.write_cards("t", _cards(5), [])()
    query = ListQuery(sort="price", price_max=D(10), after="99999999999999999999\x01zz")
    assert store.cards("t", query, ["leaf-a", "leaf-b", "leaf-c"]) == ([], None)
