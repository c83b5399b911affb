"""The CommerceML reader on every real 1C file, on hand-made edge cases and on hostile input."""

from __future__ import annotations

import io
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.commerceml import ChainedStream, CommerceMLError, read
from chalicelib.commerceml.model import (
    INFO,
    PRICES,
    STOCK,
    DocumentEnd,
    DocumentHeader,
    Group,
    Offer,
    Order,
    PriceType,
    Product,
    Property,
    RecordProblem,
    Unit,
    Warehouse,
)
from tests.conftest import SAMPLES, samples_dir

FIXTURES = Path(__file__).parent / "fixtures"


def entities(path: Path, **kwargs) -> list:
    with path.open("rb") as f:
        return list(read(f, path.name, **kwargs))


def of(items: list, kind: type) -> list:
    return [i for i in items if isinstance(i, kind)]


# -- every sample listed in samples/SOURCES.md ---------------------------------------------------

_COUNT_KEYS = {
    "groups": lambda e: len(of(e, Group)),
    "props": lambda e: len(of(e, Property)),
    "products": lambda e: len(of(e, Product)),
    "offers": lambda e: len(of(e, Offer)),
    "price types": lambda e: len(of(e, PriceType)),
    "wh": lambda e: len(of(e, Warehouse)) + sum(len(d.warehouses) for d in of(e, Order)),
    "docs": lambda e: len(of(e, Order)),
    "products#": lambda e: sum("#" in p.id for p in of(e, Product)),
    "offers#": lambda e: sum("#" in o.id for o in of(e, Offer)),
    "Удален": lambda e: sum((p.status or "").lower() == "удален" for p in of(e, Product)),
    "Склад@": lambda e: sum(len(o.stock) for o in of(e, Offer)),
    "ХарактеристикаТовара": lambda e: sum(len(x.characteristics) for x in of(e, Product) + of(e, Offer)),
}
_FLAG_SECTIONS = {"Каталог": "catalog", "ПП": "offers", "Классификатор": "classifier"}


def _source_rows() -> list[dict]:
    """Rows of the provenance tables: path, version, flags and counts of each sample."""
    sources = SAMPLES / "SOURCES.md"
    if not sources.exists():
        return []
    rows, repo = [], None
    for line in sources.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            repo = line[3:].strip()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if repo is None or len(cells) < 9 or not cells[0].startswith("`"):
            continue
        rows.append(
            {
                "path": SAMPLES / repo / cells[0].strip("`"),
                "version": cells[4],
                "encoding": cells[5],
                "flags": cells[7],
                "counts": cells[8],
            }
        )
    return rows


def _parse_counts(text: str) -> dict[str, int]:
    counts = {}
    for part in text.split(";"):
        match = re.match(r"^\s*(.+?)\s+(\d+)\s*$", part)
        if match and match.group(1) in _COUNT_KEYS:
            counts[match.group(1)] = int(match.group(2))
    return counts


SOURCE_ROWS = _source_rows()


@pytest.mark.parametrize("row", SOURCE_ROWS, ids=lambda r: str(r["path"].relative_to(SAMPLES)))
def test_sample_matches_its_provenance_row(row):
    samples_dir()
    items = entities(row["path"])  # 3.1 rows too (the add-on's set, docs/protocol.md §9)
    header, end = items[0], items[-1]
    assert isinstance(header, DocumentHeader) and isinstance(end, DocumentEnd)
    assert header.schema_version == row["version"]
    for key, expected in _parse_counts(row["counts"]).items():
        assert _COUNT_KEYS[key](items) == expected, key
    for flag in re.findall(r"(\w+)=(true|false)", row["flags"]):
        section, value = flag
        expected = value == "true"
        if section == "elem":
            assert expected in end.only_changes.values()
        else:
            assert end.only_changes[_FLAG_SECTIONS[section]] is expected, section


def test_every_sample_file_is_listed_and_read():
    root = samples_dir()
    listed = {r["path"] for r in SOURCE_ROWS}
    on_disk = set(root.rglob("*.xml"))
    assert on_disk <= listed, f"samples missing from SOURCES.md: {sorted(on_disk - listed)}"
    assert len(listed) >= 20


# -- spot values -----------------------------------------------------------------------------------


def test_dobromyslov_import_values(samples):
    items = entities(samples / "dobromyslov__commerceml-parser/data/import0_1.xml")
    products = {p.id: p for p in of(items, Product)}
    deleted = [p for p in products.values() if p.deleted]
    assert len(deleted) == 1 and deleted[0].status == "Удален"
    with_comma = [v for p in products.values() for v in p.properties if v.raw == "1,4"]
    assert with_comma, "the ',' decimal property value is kept as 1C sent it"
    assert all(p.manufacturer for p in products.values() if not p.deleted)
    sample = next(p for p in products.values() if p.sku and p.barcodes)
    assert sample.name and sample.group_ids


def test_dobromyslov_offers_stock_per_warehouse(samples):
    items = entities(samples / "dobromyslov__commerceml-parser/data/offers0_1.xml")
    warehouses = {w.id for w in of(items, Warehouse)}
    offers = of(items, Offer)
    assert all(len(o.stock) == 3 and {s.warehouse_id for s in o.stock} <= warehouses for o in offers)
    assert all(o.parts == {INFO, PRICES, STOCK} for o in offers)
    assert all(o.prices and o.prices[0].value > 0 for o in offers)


def test_ready_script_resolves_reference_property_values(samples):
    items = entities(samples / "irpsv__commerceml/tests/assets/ready-script/import.xml")
    (product,) = of(items, Product)
    brand = next(v for v in product.properties if v.name == "Бренд")
    assert brand.value == "GSFR" and brand.raw == "9fcf4f1a-996f-11e3-9e81-00241d337dcd"
    groups = {g.id: g for g in of(items, Group)}
    assert any(g.parent_id in groups for g in groups.values()), "nested groups keep their parent"
    assert items[-1].only_changes == {"classifier": True, "catalog": True}


def test_official_204_offers_prices_per_price_type(samples):
    items = entities(samples / "irpsv__commerceml/tests/assets/off-doc-1c/offers.xml")
    types = {t.id: t for t in of(items, PriceType)}
    offer = of(items, Offer)[0]
    assert offer.id == "05e26d70-01e4-11dc-a411-00055d80a2d1#05e26d76-01e4-11dc-a411-00055d80a2d1"
    assert offer.product_id == "05e26d70-01e4-11dc-a411-00055d80a2d1"
    prices = {types[p.price_type_id].currency: p.value for p in offer.prices}
    assert prices["руб"] == Decimal(7)
    assert len(offer.prices) == 4 and offer.quantity == 0
    assert items[-1].is_full("offers")


def test_203_variants_barcode_tag_and_trailing_flag(samples):
    items = entities(samples / "gillbeits__commerceml/tests/import.xml")
    products = of(items, Product)
    assert products[0].barcodes == ["2077779018084"] and products[0].sku == "DK 356 белый в цветы"
    assert products[0].characteristics[0].name == "размер" and products[0].characteristics[0].value == "L"
    assert products[0].base_id == "c84caed5-d7eb-11e1-95c6-00259037962c"
    assert products[0].images == [], "an empty <Картинка/> is no image"
    assert products[0].description == "<li>Блузка </li>"
    assert items[-1].only_changes["catalog"] is False and items[-1].is_full("catalog")


def test_209_split_rests_with_negative_quantity(samples):
    items = entities(
        samples / "gillbeits__commerceml/example/rests___1af6e7b8-a026-4690-9752-1c9d64cb914d.xml"
    )
    offers = of(items, Offer)
    assert all(o.parts == {STOCK} for o in offers)
    assert any(o.stock[0].quantity == -1 for o in offers)
    prices = of(
        entities(samples / "gillbeits__commerceml/example/prices___d66a6b51-ce9c-4e7a-8c7c-25079721107f.xml"),
        Offer,
    )
    assert all(o.parts == {PRICES} and o.prices for o in prices)
    names = of(
        entities(samples / "gillbeits__commerceml/example/offers___7f304edc-2527-4d3d-b058-6e4ee53de2e0.xml"),
        Offer,
    )
    assert all(o.parts == {INFO} and not o.prices and o.quantity is None for o in names)


def test_carono_units_and_warehouse_attribute_form(samples):
    items = entities(samples / "carono__yii2-1c-exchange/files/xml/offers.xml")
    offers = of(items, Offer)
    assert len(offers) == 5 and all(o.stock for o in offers)
    assert sum(o.total_stock for o in offers) == sum(s.quantity for o in offers for s in o.stock)
    units = of(entities(samples / "bigperson__exchange1c/tests/xml/import.xml"), Unit)
    assert units and units[0].code


def test_orders_in_both_directions(samples):
    (from_site,) = of(entities(samples / "carono__yii2-1c-exchange/files/xml/from.xml"), Order)
    assert from_site.number == "36" and any(line.id == "ORDER_DELIVERY" for line in from_site.lines)
    assert from_site.requisites["Статус заказа"] == "[N] Принят"
    docs = of(entities(samples / "ArgentCrusade__commerceml/tests/fixtures/documents-example.xml"), Order)
    assert [d.number for d in docs] == ["142", "235"]
    assert docs[0].number_1c == "ТДЦУ-000001" and docs[0].lines[0].unit_price == Decimal(3338)


# -- hand-made fixtures ------------------------------------------------------------------------------


def test_windows_1251_crlf_and_unpadded_time():
    items = entities(FIXTURES / "catalog-cp1251.xml")
    assert items[0].generated_at == "2024-03-01T9:05:07"
    (product,) = of(items, Product)
    assert product.name == "Куртка зимняя «Ёлка»" and product.sku == "КУР-01"
    assert product.properties[0].value == "Красный" and product.properties[0].name == "Цвет"
    groups = {g.id: g for g in of(items, Group)}
    assert groups["g-child"].parent_id == "g-root" and groups["g-root"].parent_id is None
    assert product.unit.code == "796" and product.unit.short_name == "шт"


def test_trailing_flag_negative_stock_and_comma_decimals():
    items = entities(FIXTURES / "offers-203-trailing-flag.xml")
    section = next(i for i in items if i.__class__.__name__ == "Section")
    assert section.only_changes is None, "the 2.03 flag is not known when the section starts"
    assert items[-1].only_changes["offers"] is True and not items[-1].is_full("offers")
    (offer,) = of(items, Offer)
    assert offer.prices[0].value == Decimal("1200.50") and offer.quantity == Decimal(-2)


def test_split_files_say_which_parts_they_carry():
    (prices,) = of(entities(FIXTURES / "prices___split.xml"), Offer)
    assert prices.parts == {PRICES} and prices.quantity is None and prices.stock == []
    rests = of(entities(FIXTURES / "rests___split.xml"), Offer)
    assert [o.parts for o in rests] == [{STOCK}, {STOCK}]
    assert rests[0].total_stock == Decimal("7.5") and rests[1].total_stock == Decimal(7)


def test_padded_values_are_read_as_their_content():
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.07">
  <ПакетПредложений СодержитТолькоИзменения="true">
    <Склады><Склад><Ид> w1 </Ид><Наименование> Основной </Наименование></Склад></Склады>
    <Предложения>
      <Предложение>
        <Ид>
          p1#v1
        </Ид>
        <Цены>
          <Цена>
            <ИдТипаЦены> pt </ИдТипаЦены>
            <ЦенаЗаЕдиницу> 12.50 </ЦенаЗаЕдиницу>
            <Валюта> RUB </Валюта>
            <Единица> </Единица>
            <Коэффициент> </Коэффициент>
          </Цена>
        </Цены>
        <Количество>
          3
        </Количество>
        <Склад ИдСклада=" w1 " КоличествоНаСкладе=" 3 "/>
      </Предложение>
    </Предложения>
  </ПакетПредложений>
</КоммерческаяИнформация>""".encode()
    items = list(read(io.BytesIO(xml), "offers.xml"))
    (warehouse,) = of(items, Warehouse)
    assert (warehouse.id, warehouse.name) == ("w1", "Основной")
    (offer,) = of(items, Offer)
    assert offer.id == "p1#v1" and offer.parts == {PRICES, STOCK}
    (price,) = offer.prices
    assert (price.price_type_id, price.value, price.currency) == ("pt", Decimal("12.50"), "RUB")
    assert price.unit is None and price.coefficient is None
    assert offer.quantity == Decimal(3) and offer.stock[0].warehouse_id == "w1"


def test_properties_from_an_earlier_file_resolve_values():
    known = {"p-color": Property(id="p-color", name="Цвет", values={"v-red": "Красный"})}
    xml = (FIXTURES / "catalog-cp1251.xml").read_bytes()
    tag = "Свойства".encode("cp1251")
    xml = re.sub(b"<" + tag + b">.*?</" + tag + b">", b"", xml, flags=re.S)
    (product,) = of(list(read(io.BytesIO(xml), "x.xml", known_properties=known)), Product)
    assert product.properties[0].value == "Красный"


def test_chunks_read_as_one_stream():
    data = (FIXTURES / "catalog-cp1251.xml").read_bytes()
    chunks = [io.BytesIO(data[i : i + 100]) for i in range(0, len(data), 100)]
    assert [type(e) for e in read(ChainedStream(chunks), "x")] == [
        type(e) for e in entities(FIXTURES / "catalog-cp1251.xml")
    ]


# -- hostile and broken input -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hostile-xxe.xml", "hostile-billion-laughs.xml"])
def test_doctype_and_entities_are_refused(name):
    with pytest.raises(CommerceMLError) as info:
        entities(FIXTURES / name)
    assert "DOCTYPE" in str(info.value) or "сущност" in str(info.value)
    assert "root:" not in str(info.value)


def test_truncated_upload_is_reported_as_truncated():
    data = (FIXTURES / "catalog-cp1251.xml").read_bytes()
    with pytest.raises(CommerceMLError, match="обрывается") as info:
        list(read(io.BytesIO(data[: len(data) // 2]), "import.xml"))
    assert info.value.filename == "import.xml" and info.value.line


def test_malformed_xml_names_file_line_and_path():
    bad = b'<?xml version="1.0"?><\xd0\x9a\xd0\xbe>'  # not the CommerceML root
    with pytest.raises(CommerceMLError):
        list(read(io.BytesIO(bad), "x.xml"))
    data = (
        (FIXTURES / "rests___split.xml")
        .read_bytes()
        .replace("<Количество>3<".encode(), "<Количество>три<".encode())
    )
    (problem,) = [e for e in read(io.BytesIO(data), "rests.xml") if isinstance(e, RecordProblem)]
    assert problem.kind == "offer" and problem.id == "prod-1#var-1", "one offer is left out, named"
    assert "не является числом" in problem.reason and "Предложение[Ид=prod-1#var-1]" in problem.reason
    assert re.search(r"rests\.xml, строка \d+", problem.reason), problem.reason
    broken = (FIXTURES / "rests___split.xml").read_bytes().replace("</Ид>".encode(), b"</Id>", 1)
    with pytest.raises(CommerceMLError, match="ошибка разметки XML"):
        list(read(io.BytesIO(broken), "rests.xml"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "пустой"),
        (b"PK\x03\x04zipzip", "не XML"),
        (b"<html><body>502</body></html>", "КоммерческаяИнформация"),
    ],
)
def test_not_a_commerceml_file(data, reason):
    with pytest.raises(CommerceMLError, match=reason):
        list(read(io.BytesIO(data), "x.xml"))


def test_counts_in_document_end():
    end = entities(FIXTURES / "rests___split.xml")[-1]
    assert end.counts == Counter({"Section": 1, "Offer": 2, "DocumentHeader": 1}) and end.has_offers


def test_a_namespace_holding_a_brace_is_a_clear_error_not_a_crash():
    """Found by the fuzzer: lxml's QName refuses such a tag; the reader names the problem."""
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация xmlns="}urn:1C.ru:commerceml_210" '
        'ВерсияСхемы="2.10"><Каталог><Ид>c</Ид></Каталог></КоммерческаяИнформация>'
    ).encode()
    with pytest.raises(CommerceMLError, match="строка 2"):
        list(read(io.BytesIO(data), "x.xml"))
