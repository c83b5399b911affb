"""The shop API over catalogs imported through the real exchange (chalice.test on moto)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator

from chalicelib import wiring
from chalicelib.commerceml import read
from chalicelib.commerceml.model import Offer, Product
from chalicelib.shop.openapi import spec

DOBRO = "dobromyslov__commerceml-parser/data/"
KEY = {"X-Api-Key": "demo-key"}


def get(stack, path: str, headers: dict | None = None, schema: str | None = None):
    response = stack.client.http.request(
        "GET", f"/api/v1{path}", headers=headers if headers is not None else KEY
    )
    body = json.loads(response.body) if response.body else None
    if schema and response.status_code == 200:
        check(body, schema)
    return response.status_code, body


def check(body, schema_ref: str):
    document = spec()
    schema = {"$ref": schema_ref, "components": document["components"]}
    OAS30Validator(schema).validate(body)


def _schema(path: str) -> dict:
    return spec()["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def checked(stack, path: str, template: str):
    status, body = get(stack, path)
    assert status == 200, body
    document = spec()
    OAS30Validator({**_schema(template), "components": document["components"]}).validate(body)
    return body


def parsed(path: Path) -> list:
    with path.open("rb") as f:
        return list(read(f, path.name))


@pytest.fixture(scope="module")
def catalog(module_stack):
    """One imported sample catalog for the module's read-only tests (tests/conftest.py)."""
    return module_stack


def test_reference_lists(catalog, samples):
    groups = checked(catalog, "/groups", "/groups")["groups"]
    assert len(groups) == 1 and groups[0]["parent_id"] is None
    price_types = checked(catalog, "/price-types", "/price-types")["price_types"]
    assert len(price_types) == 1 and price_types[0]["shop"] is True
    warehouses = checked(catalog, "/warehouses", "/warehouses")["warehouses"]
    assert len(warehouses) == 3


def test_product_detail_matches_the_xml(catalog, samples):
    offers = {o.id: o for o in parsed(samples / DOBRO / "offers0_1.xml") if isinstance(o, Offer)}
    products = [p for p in parsed(samples / DOBRO / "import0_1.xml") if isinstance(p, Product)]
    checked_offers = 0
    for product in products:
        status, body = get(catalog, f"/products/{product.id}")
        assert status == 200
        check(body, "#/components/schemas/Product")
        assert (
            body["name"] == product.name
            and body["sku"] == product.sku
            and body["active"] == (not product.deleted)
        )
        assert body["barcodes"] == product.barcodes
        for offer in body["offers"]:
            source = offers[offer["id"]]
            assert {p["price_type_id"]: Decimal(str(p["value"])) for p in offer["prices"]} == {
                p.price_type_id: p.value for p in source.prices
            }
            assert {w["id"]: Decimal(str(w["quantity"])) for w in offer["stock"]["warehouses"]} == {
                s.warehouse_id: s.quantity for s in source.stock
            }
            assert all(w["name"] for w in offer["stock"]["warehouses"])
            checked_offers += 1
    assert checked_offers >= 30
    assert get(catalog, "/products/no-such-product")[0] == 404


def test_pagination_to_the_end_and_filters(catalog, samples):
    products = [p for p in parsed(samples / DOBRO / "import0_1.xml") if isinstance(p, Product)]
    active = {p.id for p in products if not p.deleted}
    seen, cursor, pages = [], None, 0
    while True:
        body = checked(catalog, f"/products?limit=7{'&cursor=' + cursor if cursor else ''}", "/products")
        seen += [i["id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(active) and len(seen) == len(set(seen)) and pages in (5, 6)
    names = [i["name"] for i in checked(catalog, "/products?limit=100", "/products")["items"]]
    assert names == sorted(names, key=lambda n: " ".join(n.lower().split()))

    sample = next(p for p in products if not p.deleted and p.sku and p.barcodes)
    assert [i["id"] for i in checked(catalog, f"/products?sku={sample.sku}", "/products")["items"]] == [
        sample.id
    ]
    assert [
        i["id"] for i in checked(catalog, f"/products?barcode={sample.barcodes[0]}", "/products")["items"]
    ] == [sample.id]
    word = sample.name.split()[0].upper()
    found = checked(catalog, f"/products?q={word}&limit=100", "/products")["items"]
    assert sample.id in [i["id"] for i in found] and all(
        word.lower() in i["name"].lower() or word.lower() in (i["sku"] or "").lower() for i in found
    )
    in_stock = checked(catalog, "/products?in_stock=true&limit=100", "/products")["items"]
    assert in_stock and all(i["in_stock"] and i["stock"] > 0 for i in in_stock)
    assert all(i["price"] is not None for i in in_stock)
    group = sample.group_ids[0]
    in_group = checked(catalog, f"/products?group={group}&limit=100", "/products")["items"]
    assert {i["id"] for i in in_group} == {p.id for p in products if not p.deleted and group in p.group_ids}
    assert get(catalog, "/products?limit=0")[0] == 400
    assert get(catalog, "/products?cursor=%%%")[0] == 400


def test_deactivated_product_shows_inactive_and_leaves_lists(catalog, samples):
    deleted = next(
        p for p in parsed(samples / DOBRO / "import0_1.xml") if isinstance(p, Product) and p.deleted
    )
    status, body = get(catalog, f"/products/{deleted.id}")
    assert status == 200 and body["active"] is False
    listed = checked(catalog, "/products?limit=100", "/products")["items"]
    assert deleted.id not in [i["id"] for i in listed]


def test_keys_and_tenant_isolation(catalog, samples):
    assert get(catalog, "/groups", headers={})[0] == 401
    status, body = get(catalog, "/groups", headers={"X-Api-Key": "wrong"})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    accounts = wiring.container().accounts
    accounts.add("shop-b")
    accounts.issue_api_key("shop-b", "key-b")
    other = {"X-Api-Key": "key-b"}
    assert get(catalog, "/groups", headers=other)[1] == {"groups": []}
    assert get(catalog, "/products", headers=other)[1]["items"] == []
    product = next(p for p in parsed(samples / DOBRO / "import0_1.xml") if isinstance(p, Product))
    assert get(catalog, f"/products/{product.id}", headers=other)[0] == 404
    assert get(catalog, "/changes", headers=other)[1]["changes"] == []


def test_a_slug_is_made_without_looking_for_a_module_that_is_not_installed(monkeypatch):
    """python-slugify's `auto` backend imports `unidecode` on every call and, not finding it,
    searches sys.path each time (3.5 ms of a list page's CPU): the backend is named."""
    import slugify._legacy as library

    from chalicelib.shop import slugs

    imported: list[str] = []
    real = library.import_module
    monkeypatch.setattr(library, "import_module", lambda name: imported.append(name) or real(name))
    slugs._words.cache_clear()
    assert slugs.slug("Кресло «Прогулка»", "p1") == "kreslo-progulka~p1"
    assert slugs.slug("Кресло «Прогулка»", "p2") == "kreslo-progulka~p2"
    assert imported == ["text_unidecode"], "the installed backend, once: the name's words are kept"


def test_slugs_transliterate_the_name_and_resolve_like_the_id(catalog):
    """A storefront's URL: `<the name in Latin letters>~<id>`; the product answers to it as to
    its id, and so do its breadcrumbs' groups and the list's items (a renamed product's old
    slug still resolves: the id is in it)."""
    from urllib.parse import quote

    items = checked(catalog, "/products?limit=5", "/products")["items"]
    first = items[0]
    words, _, product_id = first["slug"].rpartition("~")
    assert product_id == first["id"] and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", words), first["slug"]
    by_slug = checked(catalog, f"/products/{quote(first['slug'], safe='')}", "/products/{product_id}")
    assert by_slug["id"] == first["id"] and by_slug["slug"] == first["slug"]
    renamed = f"staroe-imya~{first['id']}"
    assert get(catalog, f"/products/{quote(renamed, safe='')}")[1]["id"] == first["id"]
    assert get(catalog, "/products/nothing~no-such-id")[0] == 404
    groups = checked(catalog, "/groups", "/groups")["groups"]
    assert all(g["slug"].endswith(f"~{g['id']}") for g in groups)
    assert all(c["slug"].endswith(f"~{c['id']}") for c in by_slug["breadcrumbs"])
