"""Seeded generator of realistic 1C catalogs (import.xml + offers.xml), written as a stream.

Each product has 2 variants (`product#variant` offers), 5 price types and 3 warehouses, with the
fields a УТ 11 export carries (barcode, sku, groups, properties, requisites, taxes, images).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

PRICE_TYPES = 5
WAREHOUSES = 3
VARIANTS = 2
GROUPS = 50
NS = "urn:1C.ru:commerceml_2"


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Catalog:
    def __init__(self, products: int, seed: int = 1) -> None:
        rng = random.Random(seed)
        self.products = products
        self.seed = seed
        self.groups = [_uid(rng) for _ in range(GROUPS)]
        self.price_types = [_uid(rng) for _ in range(PRICE_TYPES)]
        self.warehouses = [_uid(rng) for _ in range(WAREHOUSES)]
        self.colour = _uid(rng)
        self.colours = {_uid(rng): name for name in ("Красный", "Синий", "Зелёный", "Чёрный")}

    def product_id(self, i: int) -> str:
        return str(uuid.UUID(int=(self.seed << 64) + i, version=4))

    def variant_id(self, i: int, v: int) -> str:
        return str(uuid.UUID(int=(self.seed << 96) + i * 8 + v, version=4))

    # -- import.xml ------------------------------------------------------------------------------
    def import_xml(
        self, changed: set[int] = frozenset(), skip: set[int] = frozenset(), only_changes: bool = False
    ) -> Iterator[str]:
        yield '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n'
        yield f'<КоммерческаяИнформация xmlns="{NS}" ВерсияСхемы="2.07" ДатаФормирования="2026-11-28T12:00:00">\n'
        yield "<Классификатор><Ид>cls</Ид><Наименование>Классификатор</Наименование><Группы>\n"
        for n, g in enumerate(self.groups):
            yield f"<Группа><Ид>{g}</Ид><Наименование>Группа {n}</Наименование></Группа>\n"
        yield "</Группы><Свойства>\n"
        yield f"<Свойство><Ид>{self.colour}</Ид><Наименование>Цвет</Наименование><ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>"
        for vid, name in self.colours.items():
            yield f"<Справочник><ИдЗначения>{vid}</ИдЗначения><Значение>{name}</Значение></Справочник>"
        yield "</ВариантыЗначений></Свойство>\n</Свойства></Классификатор>\n"
        yield f'<Каталог СодержитТолькоИзменения="{str(only_changes).lower()}"><Ид>cat</Ид><ИдКлассификатора>cls</ИдКлассификатора><Наименование>Каталог</Наименование><Товары>\n'
        colours = list(self.colours)
        for i in range(self.products):
            if i in skip:
                continue
            pid = self.product_id(i)
            suffix = " (новая цена)" if i in changed else ""
            yield (
                f"<Товар><Ид>{pid}</Ид><Штрихкод>{2000000000000 + i}</Штрихкод><Артикул>ART-{i:07d}</Артикул>"
                f"<Наименование>Товар номер {i}{suffix}</Наименование>"
                '<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>'
                f"<Группы><Ид>{self.groups[i % GROUPS]}</Ид></Группы>"
                f"<Описание>{escape('<p>Описание товара ' + str(i) + '</p>')}</Описание>"
                f"<Картинка>import_files/{pid[:2]}/{pid}.jpg</Картинка>"
                f"<Изготовитель><Ид>m{i % 7}</Ид><Наименование>Фабрика {i % 7}</Наименование></Изготовитель>"
                f"<ЗначенияСвойств><ЗначенияСвойства><Ид>{self.colour}</Ид><Значение>{colours[i % 4]}</Значение></ЗначенияСвойства></ЗначенияСвойств>"
                "<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>"
                "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита>"
                "<ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита>"
                f"<ЗначениеРеквизита><Наименование>Вес</Наименование><Значение>{i % 10}.5</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
                "</Товар>\n"
            )
        yield "</Товары></Каталог></КоммерческаяИнформация>\n"

    # -- offers.xml ------------------------------------------------------------------------------
    def offers_xml(
        self, changed: set[int] = frozenset(), skip: set[int] = frozenset(), only_changes: bool = False
    ) -> Iterator[str]:
        yield '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n'
        yield f'<КоммерческаяИнформация xmlns="{NS}" ВерсияСхемы="2.07" ДатаФормирования="2026-11-28T12:00:00">\n'
        yield f'<ПакетПредложений СодержитТолькоИзменения="{str(only_changes).lower()}"><Ид>cat#</Ид><Наименование>Пакет</Наименование><ИдКаталога>cat</ИдКаталога><ИдКлассификатора>cls</ИдКлассификатора><ТипыЦен>\n'
        for n, t in enumerate(self.price_types):
            yield f"<ТипЦены><Ид>{t}</Ид><Наименование>Цена {n}</Наименование><Валюта>RUB</Валюта><Налог><Наименование>НДС</Наименование><УчтеноВСумме>true</УчтеноВСумме></Налог></ТипЦены>\n"
        yield "</ТипыЦен><Склады>\n"
        for n, w in enumerate(self.warehouses):
            yield f"<Склад><Ид>{w}</Ид><Наименование>Склад {n}</Наименование></Склад>\n"
        yield "</Склады><Предложения>\n"
        for i in range(self.products):
            if i in skip:
                continue
            pid = self.product_id(i)
            bump = 7 if i in changed else 0
            for v in range(VARIANTS):
                prices = "".join(
                    f"<Цена><Представление>{100 + i % 900 + n + bump} RUB за шт</Представление><ИдТипаЦены>{t}</ИдТипаЦены>"
                    f"<ЦенаЗаЕдиницу>{100 + i % 900 + n + bump}.00</ЦенаЗаЕдиницу><Валюта>RUB</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена>"
                    for n, t in enumerate(self.price_types)
                )
                stock = "".join(
                    f'<Склад ИдСклада="{w}" КоличествоНаСкладе="{(i + v + n) % 5}"/>'
                    for n, w in enumerate(self.warehouses)
                )
                total = sum((i + v + n) % 5 for n in range(WAREHOUSES))
                yield (
                    f"<Предложение><Ид>{pid}#{self.variant_id(i, v)}</Ид><Штрихкод>{3000000000000 + i * 8 + v}</Штрихкод>"
                    f"<Артикул>ART-{i:07d}-{v}</Артикул><Наименование>Товар номер {i} (размер {44 + 2 * v})</Наименование>"
                    '<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>'
                    f"<ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>{44 + 2 * v}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>"
                    f"<Цены>{prices}</Цены><Количество>{total}</Количество>{stock}</Предложение>\n"
                )
        yield "</Предложения></ПакетПредложений></КоммерческаяИнформация>\n"


def write(chunks: Iterator[str], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for chunk in chunks:
            f.write(chunk)
    return path


def ensure(products: int, directory: Path, seed: int = 1) -> tuple[Path, Path]:
    """Generate (once) import.xml and offers.xml for `products` products."""
    catalog = Catalog(products, seed)
    base = directory / f"{products}"
    imp, off = base / "import.xml", base / "offers.xml"
    if not imp.exists():
        write(catalog.import_xml(), imp)
    if not off.exists():
        write(catalog.offers_xml(), off)
    return imp, off
