"""The whole catalog's page by name: every listed card is also in one listing split over two keys,
so a page without a group is two queries however many groups the catalog has. A tenant whose cards
were written before that listing existed is served the old way (a query per group and stock
flag) until a rebuild has put every card in it — never a page that misses a product."""

from __future__ import annotations

import gzip
import json

from chalicelib import wiring
from chalicelib.layout import Paths
from tests.reliability import cml

KEY = {"X-Api-Key": "demo-key"}
GROUPS = "".join(cml.group(f"g{n}", f"Группа {n}") for n in range(12))
PRODUCTS = "".join(
    cml.product(f"p{n:02d}", f"Товар {n:02d}", f"<Группы><Ид>g{n % 12}</Ид></Группы>") for n in range(36)
)
OFFERS = "".join(cml.offer(f"p{n:02d}", str(n % 3), str(100 + n)) for n in range(36))


def listed(stack) -> tuple[list[str], int]:
    """Every product of the whole catalog's pages, and the queries the first page took."""
    store = wiring.container().catalog_store
    before = store.stats.queries
    ids, cursor, first = [], None, None
    while True:
        path = "/api/v1/products?limit=10" + (f"&cursor={cursor}" if cursor else "")
        body = json.loads(stack.client.http.request("GET", path, headers=KEY).body)
        first = store.stats.queries - before if first is None else first
        ids += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids, first


def test_the_whole_catalog_page_is_two_queries_and_an_upgraded_tenant_moves_to_it_after_a_rebuild(
    stack, monkeypatch
):
    monkeypatch.setattr(wiring.container().shop_catalog, "reference_ttl", 0)  # every page reads afresh
    onec = stack.onec()
    assert (
        onec.send_file("import.xml", cml.catalog(PRODUCTS, GROUPS, only_changes=False)).keyword == "success"
    )
    assert onec.send_file("offers.xml", cml.offers(OFFERS, only_changes=False)).keyword == "success"
    everything = [f"p{n:02d}" for n in range(36)]
    ids, queries = listed(stack)
    assert ids == everything and queries == 2, queries

    # As a tenant imported before the whole listing: summaries without it, no such cards.
    blobs, cards = wiring.container().blobs, Paths("demo").cards
    rows = [json.loads(line)[:10] for line in gzip.decompress(blobs.get(cards)).splitlines()]
    blobs.put(cards, gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in rows)))
    table = wiring.container().catalog_store.table.table
    for item in stack.catalog_items():
        if "wpk" in item:
            table.update_item(Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE wpk, wn, st")
    change = cml.offers(cml.offer("p07", "5", "999"))
    assert onec.send_file("offers.xml", change).keyword == "success"  # one card joins the listing
    ids, queries = listed(stack)
    assert ids == everything and queries > 2, "served per group until every card is in the listing"

    wiring.container().import_worker.queue_rebuild("demo", "переход на общий список")
    stack.pump.drain()
    ids, queries = listed(stack)
    assert ids == everything and queries == 2
