"""1C's categories (CommerceML 2.08+ and 3.1: `Классификатор/Категории`, `Товар/Категория`): a
catalog with categories and no groups is browsable by category — the categories, each product's,
a list page and facets per category — through the exchange URL. What is served is compared with
what is computed from the XML with the standard library, not with the reader."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from urllib.parse import quote

from tests.reliability import cml
from tests.test_shop_api import checked, get

SHOES, CLOTHES = "Обувь / кеды #1 100%", "одежда"
CATEGORIES = (
    "<Свойства><Свойство><Ид>size</Ид><Наименование>Размер</Наименование></Свойство></Свойства>"
    "<Категории>"
    f"<Категория><Ид>{SHOES}</Ид><Наименование>Обувь</Наименование><Свойства><Ид>size</Ид></Свойства></Категория>"
    f"<Категория><Ид>{CLOTHES}</Ид><Наименование>Одежда</Наименование></Категория>"
    "</Категории>"
)


def item(pid: str, category: str | None, size: str | None = None) -> str:
    extra = f"<Категория>{category}</Категория>" if category else ""
    if size:
        extra += f"<ЗначенияСвойств><ЗначенияСвойства><Ид>size</Ид><Значение>{size}</Значение></ЗначенияСвойства></ЗначенияСвойств>"
    return cml.product(pid, f"Товар {pid}", extra)


PRODUCTS = (
    item("кеды-1", SHOES, "42") + item("кеды-2", SHOES, "43") + item("футболка", CLOTHES) + item("без", None)
)


def categories_from_xml(data: bytes) -> dict[str, str | None]:
    """Each product's category, read with ElementTree (no namespace in these files)."""
    root = ET.fromstring(data)
    return {t.findtext("Ид"): t.findtext("Категория") for t in root.iter("Товар")}


def test_a_catalog_with_categories_and_no_groups_is_browsable_by_category(stack):
    onec = stack.onec()
    catalog = cml.catalog(PRODUCTS, groups=CATEGORIES)
    assert onec.send_file("import.xml", catalog).keyword == "success"
    offers = "".join(cml.offer(pid, quantity="2", price="100") for pid in categories_from_xml(catalog))
    assert onec.send_file("offers.xml", cml.offers(offers)).keyword == "success"
    expected = categories_from_xml(catalog)
    per_category = Counter(c for c in expected.values() if c)

    assert get(stack, "/groups")[1] == {"groups": []}, "no groups at all"
    body = checked(stack, "/categories", "/categories")
    assert {c["id"]: c["product_count"] for c in body["categories"]} == dict(per_category)
    shoes = next(c for c in body["categories"] if c["id"] == SHOES)
    assert shoes["name"] == "Обувь" and shoes["properties"] == [{"id": "size", "name": "Размер"}]

    for category, count in per_category.items():
        status, page = get(stack, f"/products?category={quote(category, safe='')}")
        assert status == 200, page
        assert {p["id"] for p in page["items"]} == {p for p, c in expected.items() if c == category}
        assert all(p["category_id"] == category and p["group_ids"] == [] for p in page["items"])
        facets = get(stack, f"/facets?category={quote(category, safe='')}")[1]
        assert facets["category"] == category and facets["count"] == count
    size = next(p for p in get(stack, f"/facets?category={quote(SHOES, safe='')}")[1]["properties"])
    assert {v["value"]: v["count"] for v in size["values"]} == {"42": 1, "43": 1}

    everything = get(stack, "/products?limit=100")[1]["items"]
    assert sorted(p["id"] for p in everything) == sorted(expected), "each product once in the whole list"
    for pid, category in expected.items():
        status, product = get(stack, f"/products/{quote(pid, safe='')}")
        assert status == 200 and product["category_id"] == category


def test_a_real_2_08_export_keeps_its_groups_and_gains_its_categories(stack, samples):
    """bigperson's export (a 1C test base, namespace commerceml_210): groups and categories."""
    data = (samples / "bigperson__exchange1c/tests/xml/import.xml").read_bytes()
    assert stack.onec().send_file("import.xml", data).keyword == "success"
    ns = {"c": "urn:1C.ru:commerceml_210"}
    root = ET.fromstring(data)
    names = {c.findtext("c:Ид", namespaces=ns): c.findtext("c:Наименование", namespaces=ns)
             for c in root.iterfind(".//c:Классификатор/c:Категории/c:Категория", ns)}  # fmt: skip
    listed = get(stack, "/categories")[1]["categories"]
    assert {c["id"]: c["name"] for c in listed} == names
    for product in root.iterfind(".//c:Каталог/c:Товары/c:Товар", ns):
        pid = product.findtext("c:Ид", namespaces=ns)
        status, served = get(stack, f"/products/{quote(pid, safe='')}")
        assert status == 200 and served["category_id"] == product.findtext("c:Категория", namespaces=ns)
        assert served["group_ids"] == [g.text for g in product.iterfind("c:Группы/c:Ид", ns)]


def test_group_and_category_together_are_refused_by_name(stack):
    status, body = get(stack, "/products?group=g&category=c")
    assert status == 400 and "group and category" in body["error"]["message"]
    status, body = get(stack, f"/products?category={'к' * 300}")
    assert status == 400 and "category is not a category id" in body["error"]["message"]
