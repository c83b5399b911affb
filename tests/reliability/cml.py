"""Small CommerceML documents for hostile cases: valid by default, bent one way each."""

from __future__ import annotations

import io
import zipfile

HEAD = '<?xml version="1.0" encoding="{encoding}"?>\n'
ROOT_OPEN = '<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2026-11-29T10:00:00">'
ROOT_CLOSE = "</КоммерческаяИнформация>"


def product(pid: str = "p-hostile", name: str = "Товар", extra: str = "") -> str:
    return f"<Товар><Ид>{pid}</Ид><Наименование>{name}</Наименование>{extra}</Товар>"


def catalog(
    products: str = "", groups: str = "", only_changes: bool = True, encoding: str = "UTF-8"
) -> bytes:
    """An import file; incremental by default, so a case that succeeds deactivates nothing."""
    classifier = f"<Классификатор><Ид>k</Ид><Наименование>К</Наименование>{groups}</Классификатор>"
    flag = "true" if only_changes else "false"
    body = (
        f'{ROOT_OPEN}{classifier}<Каталог СодержитТолькоИзменения="{flag}"><Ид>c</Ид><ИдКлассификатора>k'
        f"</ИдКлассификатора><Наименование>Каталог</Наименование><Товары>{products}</Товары></Каталог>{ROOT_CLOSE}"
    )
    return (HEAD.format(encoding=encoding) + body).encode(
        "utf-8" if encoding.upper() == "UTF-8" else encoding
    )


def offers(offer_xml: str, only_changes: bool = True) -> bytes:
    flag = "true" if only_changes else "false"
    body = (
        f'{ROOT_OPEN}<ПакетПредложений СодержитТолькоИзменения="{flag}"><Ид>o</Ид><Наименование>П</Наименование>'
        f"<ИдКаталога>c</ИдКаталога><ИдКлассификатора>k</ИдКлассификатора>"
        f"<ТипыЦен><ТипЦены><Ид>pt</Ид><Наименование>Розница</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>"
        f"<Предложения>{offer_xml}</Предложения></ПакетПредложений>{ROOT_CLOSE}"
    )
    return (HEAD.format(encoding="UTF-8") + body).encode()


def offer(oid: str = "p-hostile", quantity: str = "1", price: str = "10") -> str:
    return (
        f"<Предложение><Ид>{oid}</Ид><Наименование>Т</Наименование><Цены><Цена><ИдТипаЦены>pt</ИдТипаЦены>"
        f"<ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>"
        f"<Количество>{quantity}</Количество></Предложение>"
    )


def group(gid: str, name: str = "Группа", children: str = "") -> str:
    inner = f"<Группы>{children}</Группы>" if children else ""
    return f"<Группа><Ид>{gid}</Ид><Наименование>{name}</Наименование>{inner}</Группа>"


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name) if "\\" in name or name.startswith("/") else name, data)
    return buffer.getvalue()
