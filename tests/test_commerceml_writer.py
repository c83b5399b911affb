"""The orders writer: documents 1C accepts, in UTF-8 or windows-1251, that read back unchanged."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import pytest

from chalicelib.commerceml import read, to_update, write_orders
from chalicelib.commerceml.model import (
    DELIVERY_LINE_ID,
    Address,
    Contractor,
    DocumentEnd,
    Order,
    OrderLine,
)


def sample_order(number: str = "1001") -> Order:
    return Order(
        id=f"site-{number}",
        number=number,
        date="2026-11-28",
        time="18:05:00",
        amount=Decimal("2650.50"),
        currency="RUB",
        comment="Позвонить за час",
        contractors=[
            Contractor(
                id="cust-42",
                name="Иванова Мария",
                last_name="Иванова",
                first_name="Мария",
                inn="7701234567",
                kpp="770101001",
                address=Address("Москва, ул. Ленина, 1", {"Город": "Москва", "Улица": "ул. Ленина"}),
                contacts={"Почта": "m@example.test", "ТелефонРабочий": "+7 900 000-00-00"},
                contact_person="Иванова Мария",
            )
        ],
        lines=[
            OrderLine("prod-1#var-1", "Куртка (L)", Decimal(2), Decimal("1200.25"), Decimal("2400.50")),
            OrderLine(
                DELIVERY_LINE_ID, "Доставка курьером", Decimal(1), Decimal(250), Decimal(250), kind="Услуга"
            ),
        ],
        requisites={"Метод оплаты": "Картой", "Заказ оплачен": "false", "ОтветственныйМенеджер": "Петров"},
    )


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
def test_orders_round_trip_through_the_reader(encoding):
    order = sample_order()
    data = write_orders([order, sample_order("1002")], encoding=encoding, schema_version="2.05")
    assert data.startswith(
        f"<?xml version='1.0' encoding='{'UTF-8' if encoding == 'utf-8' else 'windows-1251'}'?>".encode()
    )
    if encoding == "windows-1251":
        assert "Иванова".encode("cp1251") in data
    items = list(read(io.BytesIO(data), "orders.xml"))
    assert items[0].schema_version == "2.05"
    first, second = items[1], items[2]
    assert isinstance(items[-1], DocumentEnd)
    assert (first.id, first.number, first.date, first.time) == (order.id, "1001", "2026-11-28", "18:05:00")
    assert first.amount == order.amount and second.number == "1002"
    assert first.contractors[0].inn == "7701234567"
    customer = first.contractors[0]
    assert customer.address.fields == {"Город": "Москва", "Улица": "ул. Ленина"}
    assert customer.contacts["Почта"] == "m@example.test" and customer.contact_person == "Иванова Мария"
    line, delivery = first.lines
    assert (line.id, line.quantity, line.unit_price, line.amount, line.kind) == (
        "prod-1#var-1",
        Decimal(2),
        Decimal("1200.25"),
        Decimal("2400.50"),
        "Товар",
    )
    assert delivery.id == DELIVERY_LINE_ID and delivery.kind == "Услуга"
    assert first.requisites["ОтветственныйМенеджер"] == "Петров"
    assert to_update(first).manager == "Петров" and to_update(first).delivery_price == Decimal(250)


def test_empty_query_is_a_valid_empty_document():
    data = write_orders([], generated_at=datetime(2026, 1, 2, 3, 4, 5))
    items = list(read(io.BytesIO(data), "empty.xml"))
    assert items[0].generated_at == "2026-01-02T03:04:05" and len(items) == 2


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        write_orders([], encoding="koi8-r")


def test_1c_status_document_normalises(samples):
    with (samples / "ArgentCrusade__commerceml/tests/fixtures/documents-example.xml").open("rb") as f:
        docs = [e for e in read(f, "documents.xml") if isinstance(e, Order)]
    update = to_update(docs[0])
    assert update.number == "142" and update.number_1c == "ТДЦУ-000001" and update.date_1c == "2015-06-29"
    assert update.posted is True and update.paid is True and update.payment_number == "ТДЦУ-000001"
    assert update.shipped is True and update.shipment_number == "ТДЦУ-000003"
    assert update.status_id == "P" and update.lines[1].id.endswith("#b02e2814-720f-11df-b436-0015e92f2802")
