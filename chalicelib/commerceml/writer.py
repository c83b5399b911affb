"""Orders → CommerceML 2 document for 1C (`type=sale&mode=query`), shaped like the documents
1C-Bitrix sites send, which every 1C exchange configuration accepts. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from lxml import etree

from chalicelib.commerceml.model import Address, Contractor, DiscountEntry, Order, OrderLine
from chalicelib.values import decimal_text

ENCODINGS = {"utf-8": "UTF-8", "windows-1251": "windows-1251"}
_FORMAT_ATTRS = {
    "ФорматДаты": "ДФ=yyyy-MM-dd; ДЛФ=DT",
    "ФорматВремени": "ДФ=ЧЧ:мм:сс; ДЛФ=T",
    "РазделительДатаВремя": "T",
    "ФорматСуммы": "ЧЦ=18; ЧДЦ=2; ЧРД=.",
    "ФорматКоличества": "ЧЦ=18; ЧДЦ=2; ЧРД=.",
}


def _number(value: Decimal) -> str:
    text = decimal_text(value)
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


def _add(parent: etree._Element, name: str, value: object = None, **attrs: str | None) -> etree._Element:
    el = etree.SubElement(parent, name, {k: v for k, v in attrs.items() if v is not None})
    if value is not None:
        el.text = _number(value) if isinstance(value, Decimal) else str(value)
    return el


def _requisites(parent: etree._Element, values: dict[str, str]) -> None:
    if not values:
        return
    block = _add(parent, "ЗначенияРеквизитов")
    for name, value in values.items():
        item = _add(block, "ЗначениеРеквизита")
        _add(item, "Наименование", name)
        _add(item, "Значение", value)


def _address(parent: etree._Element, name: str, address: Address) -> None:
    el = _add(parent, name)
    _add(el, "Представление", address.presentation)
    for kind, value in address.fields.items():
        field = _add(el, "АдресноеПоле")
        _add(field, "Тип", kind)
        _add(field, "Значение", value)


def _contractor(parent: etree._Element, k: Contractor) -> None:
    """A legal entity (with ОфициальноеНаименование) or an individual, in schema order."""
    el = _add(parent, "Контрагент")
    _add(el, "Ид", k.id)
    _add(el, "Наименование", k.name)
    if k.official_name:
        _add(el, "ОфициальноеНаименование", k.official_name)
    _add(el, "Роль", k.role)
    _add(el, "ПолноеНаименование", k.full_name or k.name)
    if k.last_name:
        _add(el, "Фамилия", k.last_name)
    if k.first_name:
        _add(el, "Имя", k.first_name)
    if k.middle_name:
        _add(el, "Отчество", k.middle_name)
    if k.address is not None:
        _address(el, "ЮридическийАдрес" if k.official_name else "АдресРегистрации", k.address)
    if k.inn:
        _add(el, "ИНН", k.inn)
    if k.kpp:
        _add(el, "КПП", k.kpp)
    if k.contacts:
        contacts = _add(el, "Контакты")
        for kind, value in k.contacts.items():
            contact = _add(contacts, "Контакт")
            _add(contact, "Тип", kind)
            _add(contact, "Значение", value)
    if k.contact_person:
        rep = _add(_add(_add(el, "Представители"), "Представитель"), "Контрагент")
        _add(rep, "Отношение", "Контактное лицо")
        _add(rep, "Ид", f"{k.id}#contact")
        _add(rep, "Наименование", k.contact_person)


def _discounts(parent: etree._Element, discounts: list[DiscountEntry]) -> None:
    """`Скидки` as the 2.0x schema has them (after the amounts, before the lines' requisites)."""
    if not discounts:
        return
    block = _add(parent, "Скидки")
    for discount in discounts:
        el = _add(block, "Скидка")
        _add(el, "Наименование", discount.name)
        _add(el, "Сумма", discount.amount)
        if discount.percent is not None:
            _add(el, "Процент", discount.percent)
        _add(el, "УчтеноВСумме", "true")


def _line(parent: etree._Element, line: OrderLine) -> None:
    el = _add(parent, "Товар")
    _add(el, "Ид", line.id)
    if line.catalog_id:
        _add(el, "ИдКаталога", line.catalog_id)
    _add(el, "Наименование", line.name)
    _add(
        el,
        "БазоваяЕдиница",
        line.unit or "шт",
        Код=line.unit_code,
        НаименованиеПолное="Штука" if line.unit_code == "796" else None,
    )
    _add(el, "ЦенаЗаЕдиницу", line.unit_price)
    _add(el, "Количество", line.quantity)
    _add(el, "Сумма", line.amount)
    _discounts(el, line.discounts)
    kind = line.kind or "Товар"
    _requisites(el, {"ВидНоменклатуры": kind, "ТипНоменклатуры": kind, **line.requisites})


def _document(root: etree._Element, order: Order) -> None:
    doc = _add(root, "Документ")
    _add(doc, "Ид", order.id)
    _add(doc, "Номер", order.number)
    _add(doc, "Дата", order.date)
    _add(doc, "ХозОперация", order.operation)
    _add(doc, "Роль", order.role)
    _add(doc, "Валюта", order.currency)
    _add(doc, "Курс", order.rate)
    _add(doc, "Сумма", order.amount)
    if order.contractors:
        contractors = _add(doc, "Контрагенты")
        for k in order.contractors:
            _contractor(contractors, k)
    if order.time:
        _add(doc, "Время", order.time)
    _add(doc, "Комментарий", order.comment or "")
    _discounts(doc, order.discounts)
    lines = _add(doc, "Товары")
    for line in order.lines:
        _line(lines, line)
    _requisites(doc, order.requisites)


def write_orders(
    orders: Iterable[Order],
    encoding: str = "utf-8",
    schema_version: str = "2.08",
    generated_at: datetime | None = None,
    packaged: bool = False,
) -> bytes:
    """One CommerceML document with a `Документ` per order (an empty root when there are none);
    `packaged`: the 2.10 package form, each order in a `Контейнер` of its own (what the 1C-Bitrix
    add-on reads when its `cmlVersion` is 2.10 or more)."""
    if encoding.lower() not in ENCODINGS:
        raise ValueError(f"unsupported encoding {encoding!r}: use utf-8 or windows-1251")
    stamp = (generated_at or datetime.now()).strftime("%Y-%m-%dT%H:%M:%S")
    root = etree.Element(
        "КоммерческаяИнформация", {"ВерсияСхемы": schema_version, "ДатаФормирования": stamp, **_FORMAT_ATTRS}
    )
    for order in orders:
        _document(etree.SubElement(root, "Контейнер") if packaged else root, order)
    return _serialised(root, encoding)


def write_reference(
    statuses: Iterable[tuple[str, str]],
    payment_systems: Iterable[tuple[str, str, str]],
    delivery_services: Iterable[tuple[str, str]],
    encoding: str = "utf-8",
) -> bytes:
    """The `type=sale&mode=info` answer: a `Справочник` of order statuses, payment systems (with
    `ТипОплаты`) and delivery services, every block present even when empty. Statuses go out
    twice: `Cтатусы` with a Latin C, as Bitrix and the 1C add-on spell it, and `Статусы`."""
    if encoding.lower() not in ENCODINGS:
        raise ValueError(f"unsupported encoding {encoding!r}: use utf-8 or windows-1251")
    root = etree.Element("Справочник")
    statuses = list(statuses)
    for block in ("Cтатусы", "Статусы"):  # the first letter of the first one is Latin
        parent = _add(root, block)
        for status_id, name in statuses:
            item = _add(parent, "Элемент")
            _add(item, "Ид", status_id)
            _add(item, "Название", name)
    payments = _add(root, "ПлатежныеСистемы")
    for system_id, name, kind in payment_systems:
        item = _add(payments, "Элемент")
        _add(item, "Ид", system_id)
        _add(item, "Название", name)
        _add(item, "ТипОплаты", kind)
    deliveries = _add(root, "СлужбыДоставки")
    for service_id, name in delivery_services:
        item = _add(deliveries, "Элемент")
        _add(item, "Ид", service_id)
        _add(item, "Название", name)
    return _serialised(root, encoding)


def _serialised(root: etree._Element, encoding: str) -> bytes:
    data = etree.tostring(root, encoding=ENCODINGS[encoding.lower()], xml_declaration=True, pretty_print=True)
    assert isinstance(data, bytes)  # an encoding given: bytes, never str
    return data
