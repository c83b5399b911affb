"""CommerceML 3.1, the 1C-Bitrix add-on's file set (docs/protocol.md §9), through the exchange URL:
the version `init` offers per tenant, a whole set in the add-on's order — a real small set and parts
of a real add-on export — then a prices-only and a rests-only package. What is served is compared
with values computed from the XML with the standard library, not with the reader."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from chalicelib import wiring
from chalicelib.commerceml.files import import_order
from tests.test_shop_api import checked, get

FIXTURES = Path(__file__).parent / "fixtures" / "cml31"
NS = {"c": "urn:1C.ru:commerceml_3"}
SMALL_SET = "wagood__commerceml/example/commerce-ml3"


def the_set(samples: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in (samples / SMALL_SET).glob("*.xml")}
    return files | {p.name: p.read_bytes() for p in FIXTURES.glob("*.xml")}


def offers_from_xml(files: dict[str, bytes]) -> tuple[dict[str, str], dict[str, str]]:
    """(price by offer, total stock by offer) as the files say, read with ElementTree."""
    prices, stock = {}, {}
    for data in files.values():
        for offer in ET.fromstring(data).iter(f"{{{NS['c']}}}Предложение"):
            oid = offer.findtext("c:Ид", namespaces=NS)
            for price in offer.iterfind("c:Цены/c:Цена", NS):
                prices[oid] = price.findtext("c:ЦенаЗаЕдиницу", namespaces=NS)
            rests = offer.findall("c:Остатки/c:Остаток", NS)
            if rests:
                counts = [
                    r.findtext("c:Количество", namespaces=NS)
                    or r.findtext("c:Склад/c:Количество", namespaces=NS)
                    for r in rests
                ]
                stock[oid] = str(sum(int(c) for c in counts))
    return prices, stock


def test_init_offers_3_1_only_to_a_tenant_that_chose_it(stack):
    onec = stack.onec()
    onec.checkauth()
    assert onec.init("catalog", version="2.10").lines == ["zip=yes", f"file_limit={onec.file_limit}"]
    wiring.container().accounts.update_settings("demo", catalog_schema="3.1")
    onec.checkauth()
    lines = onec.init("catalog", version="2.10").lines
    assert lines[3] == "version=3.1" and lines[2].startswith("sessid=")
    assert onec.init("catalog").lines == ["zip=yes", f"file_limit={onec.file_limit}"], "no version asked"
    onec.checkauth("sale")
    assert onec.init("sale", version="2.10").lines[3] == "version=2.10", "orders stay 2.x"


def test_a_whole_3_1_set_lands_then_prices_only_and_rests_only_packages_update_their_part(stack, samples):
    wiring.container().accounts.update_settings("demo", catalog_schema="3.1")
    files = the_set(samples)
    onec = stack.onec()
    order = sorted(files, key=import_order)
    replies = dict(zip(order, onec.send_zip(files, order, name="import_3_1.zip"), strict=True))
    assert all(r.keyword == "success" for r in replies.values()), {n: r.text for n, r in replies.items()}
    units_reply = next(r for n, r in replies.items() if n.startswith("units_"))
    assert "у единицы измерения нет ни Ид, ни Код" in units_reply.text, "the blank unit is named, not lost"

    product = "b9006815-7dde-11e8-80cb-70106fc831cf"
    variant = f"{product}#ca3fa92c-8662-11e8-80cb-70106fc831cf"
    prices, stock = offers_from_xml({n: d for n, d in files.items() if n.startswith(("prices", "rests___"))})
    body = checked(stack, f"/products/{product}", "/products/{product_id}")
    assert body["name"] == "Товар 1" and body["sku"] == "32255" and body["unit"] == "796"
    served = {o["id"]: o for o in body["offers"]}
    assert set(served) == {product, variant}
    for oid in served:
        assert [Decimal(str(p["value"])) for p in served[oid]["prices"]] == [Decimal(prices[oid])]
        assert Decimal(str(served[oid]["stock"]["total"])) == Decimal(stock[oid])
    assert served[variant]["name"] == "Товар (предложение 2)"
    assert all(p["tax"] == {"name": "НДС", "included": True} for o in served.values() for p in o["prices"])
    assert body["country"] is None, "<Страна/> is sent empty"

    price_types = {t["id"]: t["name"] for t in checked(stack, "/price-types", "/price-types")["price_types"]}
    assert (
        price_types["df3ab54d-8718-11e7-afd4-1c872c77ed7c"] == "Розничные" and "МРЦ" in price_types.values()
    )
    assert len(price_types) == 7, "Розничные from the small set, six from priceLists_"
    warehouses = checked(stack, "/warehouses", "/warehouses")["warehouses"]
    assert [w["name"] for w in warehouses] == ["1 СДВ склад", "2 ТЛВ склад"]
    units = {u["code"]: u for u in checked(stack, "/units", "/units")["units"]}
    assert units["796"]["name"] == "шт" and units["166"]["full_name"] == "Килограмм" and "" not in units
    assert len(units) == 6, "seven units sent, the blank one skipped"

    # A prices-only and a rests-only 3.1 package (another exchange): each updates its part only.
    price_file = next(n for n in files if n.startswith("prices"))
    rests_file = next(n for n in files if n.startswith("rests___"))
    repriced = files[price_file].replace(
        b"<\xd0\xa6\xd0\xb5\xd0\xbd\xd0\xb0\xd0\x97\xd0\xb0\xd0\x95\xd0\xb4\xd0\xb8\xd0\xbd\xd0\xb8\xd1\x86\xd1\x83>14240<",
        "<ЦенаЗаЕдиницу>15000<".encode(),
    )
    restocked = files[rests_file].replace("<Количество>2<".encode(), "<Количество>7<".encode())
    assert onec.send_file(price_file, repriced).keyword == "success"
    assert onec.send_file(rests_file, restocked).keyword == "success"
    after = {o["id"]: o for o in get(stack, f"/products/{product}")[1]["offers"]}
    assert [Decimal(str(p["value"])) for p in after[product]["prices"]] == [Decimal("15000")]
    assert Decimal(str(after[variant]["stock"]["total"])) == 7
    assert Decimal(str(after[product]["stock"]["total"])) == Decimal(stock[product])
    assert (
        after[variant]["prices"] == served[variant]["prices"]
        and after[variant]["name"] == "Товар (предложение 2)"
    )


def test_a_3_1_offer_keeps_its_own_size_and_characteristics(stack):
    """A real add-on offer (tests/fixtures/cml31/offers_1_1_…) under a product shaped as 3.1
    `goods_` sends it: its characteristics, and its own `Ширина`/`Длина`/`Высота` as 1C sent them."""
    offers_file = next(FIXTURES.glob("offers_1_1_*.xml"))
    data = offers_file.read_bytes()
    first = ET.fromstring(data).find("c:ПакетПредложений/c:Предложения/c:Предложение", NS)
    offer_id = first.findtext("c:Ид", namespaces=NS)
    product_id = offer_id.partition("#")[0]
    goods = (
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" '
        'ВерсияСхемы="3.1"><Каталог СодержитТолькоИзменения="true"><Ид>c</Ид><Наименование>Товары</Наименование>'
        f"<Товары><Товар><Ид>{product_id}</Ид><Наименование>Кимоно BoyBo BBJJ24</Наименование>"
        "<БазоваяЕдиница>796 </БазоваяЕдиница><Страна>ПАКИСТАН</Страна></Товар></Товары></Каталог>"
        "</КоммерческаяИнформация>"
    ).encode()
    onec = stack.onec()
    assert onec.send_file("goods_1_1_x.xml", goods).keyword == "success"
    assert onec.send_file(offers_file.name, data).keyword == "success"
    body = checked(stack, f"/products/{quote(product_id, safe='')}", "/products/{product_id}")
    (offer,) = [o for o in body["offers"] if o["id"] == offer_id]
    sizes = {
        local(el.tag): Decimal(el.text) for el in first if local(el.tag) in ("Ширина", "Длина", "Высота")
    }
    assert {k: Decimal(str(v)) for k, v in offer["dimensions"].items()} == {
        "width": sizes["Ширина"],
        "length": sizes["Длина"],
        "height": sizes["Высота"],
    }
    sent = [
        (c.findtext("c:Наименование", namespaces=NS), c.findtext("c:Значение", namespaces=NS) or "")
        for c in first.iterfind("c:ХарактеристикиТовара/c:ХарактеристикаТовара", NS)
    ]
    assert [(c["name"], c["value"]) for c in offer["characteristics"]] == sent
    assert body["unit"] == "796" and body["country"] == "ПАКИСТАН"


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def test_a_3_1_properties_file_then_goods_serve_the_products_property_values(stack):
    """`propertiesGoods_` (a real one, tests/fixtures/cml31) comes in a file of its own before
    `goods_`: a product's reference value resolves to the property's text, a string value stays."""
    properties = next(FIXTURES.glob("propertiesGoods_1_1_*.xml"))
    data = properties.read_bytes()
    root = ET.fromstring(data)
    weight = next(
        p for p in root.iter(f"{{{NS['c']}}}Свойство") if p.findtext("c:Наименование", namespaces=NS) == "Вес"
    )
    weight_id = weight.findtext("c:Ид", namespaces=NS)
    variant = weight.find("c:ВариантыЗначений/c:Справочник", NS)
    value_id, value = (
        variant.findtext("c:ИдЗначения", namespaces=NS),
        variant.findtext("c:Значение", namespaces=NS),
    )
    link_id = "58bf743a-2231-11ee-98e2-fa163e775e1f"
    goods = (
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" '
        'ВерсияСхемы="3.1"><Каталог СодержитТолькоИзменения="true"><Ид>c</Ид><Наименование>Товары</Наименование>'
        "<Товары><Товар><Ид>ёлка-1</Ид><Наименование>Ёлка 1,6 м</Наименование><БазоваяЕдиница>796 </БазоваяЕдиница>"
        f"<ЗначенияСвойств><ЗначенияСвойства><Ид>{weight_id}</Ид><Значение>{value_id}</Значение></ЗначенияСвойства>"
        f"<ЗначенияСвойства><Ид>{link_id}</Ид><Значение>https://example.test/cert.pdf</Значение></ЗначенияСвойства>"
        "</ЗначенияСвойств></Товар></Товары></Каталог></КоммерческаяИнформация>"
    ).encode()
    offers = (
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" '
        'ВерсияСхемы="3.1"><ПакетПредложений СодержитТолькоИзменения="true"><Ид>#c</Ид><Предложения><Предложение>'
        "<Ид>ёлка-1</Ид><Наименование>Ёлка 1,6 м</Наименование><Остатки><Остаток><Количество>4</Количество>"
        "</Остаток></Остатки></Предложение></Предложения></ПакетПредложений></КоммерческаяИнформация>"
    ).encode()
    onec = stack.onec()
    replies = onec.send_zip(
        {properties.name: data, "goods_1_1_x.xml": goods, "offers_1_1_x.xml": offers},
        [properties.name, "goods_1_1_x.xml", "offers_1_1_x.xml"],
    )
    assert all(r.keyword == "success" for r in replies), [r.text for r in replies]
    body = checked(stack, f"/products/{quote('ёлка-1', safe='')}", "/products/{product_id}")
    served = {p["name"]: p["value"] for p in body["properties"]}
    assert served == {"Вес": value, "Ссылка на документ качества": "https://example.test/cert.pdf"}
    flags = {
        c.findtext("c:Наименование", namespaces=NS): {
            "external": c.findtext("c:Внешний", namespaces=NS) == "true",
            "informational": c.findtext("c:Информационное", namespaces=NS) == "true",
        }
        for c in root.iter(f"{{{NS['c']}}}Свойство")
    }
    for p in body["properties"]:  # 3.1's flags, as the real file sets them
        assert {k: p.get(k) for k in ("external", "informational")} == flags[p["name"]], p
    assert Decimal(str(body["offers"][0]["stock"]["total"])) == 4
