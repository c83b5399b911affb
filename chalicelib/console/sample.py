"""A small catalog for a new shop's first minutes: «Загрузить пример» pushes it through the same
protocol calls 1C makes (console/by_hand.py), so the console, the diff and the shop API show
something real before 1C is connected. Two groups, a property, a product with size variants,
two price types, two warehouses — CommerceML 2.08, as 1C writes it. Its files are incremental: a
shop that has a catalog already keeps it (nothing is deactivated), the ids all begin `sample-`."""

from __future__ import annotations

from xml.sax.saxutils import escape

GROUPS = (("sample-tea", "Чай"), ("sample-ware", "Посуда"))
PRODUCTS = (  # id, name, group, colour, variants (suffix, size), price, stock in two warehouses
    ("sample-green", "Чай зелёный, 100 г", "sample-tea", None, (), "350", ("12", "3")),
    ("sample-black", "Чай чёрный, 100 г", "sample-tea", None, (), "290", ("0", "8")),
    ("sample-cup", "Кружка керамическая", "sample-ware", "белый", (), "450", ("5", "0")),
    (
        "sample-pot",
        "Чайник заварочный",
        "sample-ware",
        "синий",
        (("s", "0,5 л"), ("l", "1 л")),
        "1200",
        ("2", "1"),
    ),
)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2026-12-01T09:00:00">'


def sample_files() -> dict[str, bytes]:
    """`import.xml` and `offers.xml` of the sample catalog, in the order 1C sends them."""
    return {"import.xml": _import().encode(), "offers.xml": _offers().encode()}


def _import() -> str:
    groups = "".join(
        f"<Группа><Ид>{g}</Ид><Наименование>{escape(n)}</Наименование></Группа>" for g, n in GROUPS
    )
    colour = (
        "<Свойства><Свойство><Ид>sample-colour</Ид><Наименование>Цвет</Наименование></Свойство></Свойства>"
    )
    products = ""
    for pid, name, group, col, _, _, _ in PRODUCTS:
        values = (
            f"<ЗначенияСвойств><ЗначенияСвойства><Ид>sample-colour</Ид><Значение>{escape(col)}</Значение>"
            "</ЗначенияСвойства></ЗначенияСвойств>"
            if col
            else ""
        )
        products += (
            f"<Товар><Ид>{pid}</Ид><Артикул>{pid.upper()}</Артикул><Наименование>{escape(name)}</Наименование>"
            '<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>'
            f"<Группы><Ид>{group}</Ид></Группы>{values}</Товар>"
        )
    return (
        f"{HEAD}<Классификатор><Ид>sample</Ид><Наименование>Пример</Наименование><Группы>{groups}</Группы>"
        f"{colour}</Классификатор><Каталог СодержитТолькоИзменения='true'><Ид>sample</Ид>"
        f"<ИдКлассификатора>sample</ИдКлассификатора><Наименование>Пример</Наименование><Товары>{products}"
        "</Товары></Каталог></КоммерческаяИнформация>"
    )


def _offers() -> str:
    types = (
        "<ТипыЦен><ТипЦены><Ид>sample-retail</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта>"
        "</ТипЦены><ТипЦены><Ид>sample-wholesale</Ид><Наименование>Оптовая</Наименование><Валюта>RUB</Валюта>"
        "</ТипЦены></ТипыЦен>"
    )
    stores = (
        "<Склады><Склад><Ид>sample-shop</Ид><Наименование>Магазин на Ленина</Наименование></Склад>"
        "<Склад><Ид>sample-depot</Ид><Наименование>Склад</Наименование></Склад></Склады>"
    )
    offers = ""
    for pid, name, _, _, variants, price, (shop, depot) in PRODUCTS:
        for suffix, size in variants or (("", ""),):
            oid = f"{pid}#{suffix}" if suffix else pid
            label = f"{name} ({size})" if size else name
            chars = (
                f"<ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Объём</Наименование>"
                f"<Значение>{escape(size)}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>"
                if size
                else ""
            )
            wholesale = str(int(price) * 8 // 10)
            offers += (
                f"<Предложение><Ид>{oid}</Ид><Наименование>{escape(label)}</Наименование>{chars}<Цены>"
                f"<Цена><ИдТипаЦены>sample-retail</ИдТипаЦены><ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>"
                f"<Цена><ИдТипаЦены>sample-wholesale</ИдТипаЦены><ЦенаЗаЕдиницу>{wholesale}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>"
                f"</Цены><Склад ИдСклада='sample-shop' КоличествоНаСкладе='{shop}'/>"
                f"<Склад ИдСклада='sample-depot' КоличествоНаСкладе='{depot}'/></Предложение>"
            )
    return (
        f"{HEAD}<ПакетПредложений СодержитТолькоИзменения='true'><Ид>sample#</Ид><Наименование>Пример</Наименование>"
        f"<ИдКаталога>sample</ИдКаталога><ИдКлассификатора>sample</ИдКлассификатора>{types}{stores}"
        f"<Предложения>{offers}</Предложения></ПакетПредложений></КоммерческаяИнформация>"
    )
