"""The CommerceML 2 domain model: what the reader yields and the writer takes.

English names only; the CommerceML element each field comes from is noted where it is not obvious.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(slots=True)
class DocumentHeader:
    """The root element `КоммерческаяИнформация`."""

    schema_version: str
    generated_at: str | None
    filename: str


@dataclass(slots=True)
class Section:
    """A top-level section starts: classifier (`Классификатор`), catalog (`Каталог`) or offers
    (`ПакетПредложений` / `ИзмененияПакетаПредложений`). `only_changes` is the attribute form of
    `СодержитТолькоИзменения` (None when absent; the 2.03 element form arrives in DocumentEnd)."""

    kind: str
    only_changes: bool | None


@dataclass(slots=True)
class DocumentEnd:
    """The last event of a document: the final only-changes flags and what was read."""

    only_changes: dict[str, bool | None]  # per section kind
    has_products: bool  # the catalog carried a `Товары` list
    has_offers: bool  # the offers package carried a `Предложения` list
    counts: dict[str, int]

    def is_full(self, kind: str) -> bool:
        """Whether the section is a complete list (absent items may be deactivated)."""
        return self.only_changes.get(kind) is False


@dataclass(slots=True)
class Group:
    id: str
    name: str
    parent_id: str | None = None
    deleted: bool = False


@dataclass(slots=True)
class Category:
    """`Классификатор/Категории/Категория` (2.08+, 3.1): a kind of product with its own properties;
    `Товар/Категория` names a product's one category."""

    id: str
    name: str
    property_ids: list[str] = field(default_factory=list)
    deleted: bool = False


@dataclass(slots=True)
class Property:
    id: str
    name: str
    value_type: str | None = None  # `ТипЗначений`: Строка, Число, Справочник, ...
    values: dict[str, str] = field(default_factory=dict)  # `ВариантыЗначений`: value id -> text
    for_products: bool | None = None
    for_offers: bool | None = None
    multiple: bool = False
    deleted: bool = False
    external: bool | None = None  # 3.1 `Внешний`: kept outside 1C's own property set
    informational: bool | None = None  # 3.1 `Информационное`: shown to buyers, not used to choose


@dataclass(slots=True)
class PriceType:
    id: str
    name: str
    currency: str | None = None
    tax_name: str | None = None
    tax_included: bool | None = None


@dataclass(slots=True)
class Warehouse:
    id: str
    name: str
    deleted: bool = False
    address: str | None = None  # `Адрес/Представление`, else its `АдресноеПоле` values joined
    contacts: list[tuple[str, str]] = field(default_factory=list)  # `Контакты/Контакт` (Тип, Значение)


@dataclass(slots=True)
class Unit:
    id: str
    code: str | None = None
    short_name: str | None = None
    full_name: str | None = None
    international: str | None = None


@dataclass(slots=True)
class Characteristic:
    """`ХарактеристикаТовара`: a variant axis such as size or colour."""

    name: str
    value: str
    id: str | None = None


@dataclass(slots=True)
class PropertyValue:
    """`ЗначенияСвойства`: `value` is the text (reference ids resolved), `raw` as 1C sent it."""

    id: str
    value: str
    raw: str
    name: str | None = None


@dataclass(slots=True)
class TaxRate:
    name: str
    rate: str


@dataclass(slots=True)
class Component:
    """One part of a bundle: `Комплектующие/Комплектующее` (the schema's) or 1C-Bitrix's
    `НаборыТовара/Набор/ЭлементНабора`."""

    id: str
    quantity: Decimal
    name: str | None = None


@dataclass(slots=True)
class Product:
    id: str
    name: str
    full_name: str | None = None  # the element `ПолноеНаименование`
    sku: str | None = None
    barcodes: list[str] = field(default_factory=list)
    description: str | None = None
    unit: Unit | None = None
    group_ids: list[str] = field(default_factory=list)
    category_id: str | None = None
    images: list[str] = field(default_factory=list)
    manufacturer: str | None = None
    country: str | None = None  # `Страна` (3.1; 2.x files rarely carry it)
    properties: list[PropertyValue] = field(default_factory=list)
    requisites: dict[str, str] = field(default_factory=dict)
    taxes: list[TaxRate] = field(default_factory=list)
    characteristics: list[Characteristic] = field(default_factory=list)
    status: str | None = None  # `Статус`: Новый | Изменен | Удален
    deletion_mark: bool = False
    version: str | None = None
    description_html: str | None = None  # `ОписаниеВФорматеHTML`, unescaped
    description_file: str | None = None  # requisite `Файл`: an HTML file under import_files/
    image_captions: dict[str, str] = field(default_factory=dict)  # `ОписаниеФайла`: path#caption
    dimensions: dict[str, Decimal] = field(default_factory=dict)  # length, width, height
    weight: Decimal | None = None
    components: list[Component] = field(default_factory=list)  # a bundle's parts

    @property
    def deleted(self) -> bool:
        return self.deletion_mark or (self.status or "").lower() == "удален"

    @property
    def base_id(self) -> str:
        """The product a `product#variant` id belongs to."""
        return self.id.partition("#")[0]


@dataclass(slots=True)
class Price:
    price_type_id: str
    value: Decimal
    currency: str | None = None
    unit: str | None = None
    coefficient: Decimal | None = None
    presentation: str | None = None
    tax_name: str | None = None  # 3.1: the price's own `Налог` (name, counted in the price or not)
    tax_included: bool | None = None
    min_quantity: Decimal | None = None  # `МинКоличество`: the price holds from this quantity on


@dataclass(slots=True)
class QuantityBreak:
    """`СкидкиНаценки/СкидкаНаценка` with the volume condition, as 1C-Bitrix reads it: from
    `min_quantity` units on, every price of the offer is `percent` lower."""

    min_quantity: Decimal
    percent: Decimal


@dataclass(slots=True)
class StockEntry:
    warehouse_id: str
    quantity: Decimal


# What a (possibly split) offer carries: descriptive data, prices, stock.
INFO, PRICES, STOCK = "info", "prices", "stock"


@dataclass(slots=True)
class Offer:
    id: str
    parts: frozenset[str]
    name: str | None = None
    sku: str | None = None
    barcodes: list[str] = field(default_factory=list)
    unit: Unit | None = None
    characteristics: list[Characteristic] = field(default_factory=list)
    properties: list[PropertyValue] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    absent_prices: int = 0  # `Цена` elements with an empty `ЦенаЗаЕдиницу` (price on request)
    quantity_breaks: list[QuantityBreak] = field(default_factory=list)
    quantity: Decimal | None = None
    stock: list[StockEntry] = field(default_factory=list)
    status: str | None = None
    deletion_mark: bool = False
    version: str | None = None
    dimensions: dict[str, Decimal] = field(default_factory=dict)  # 3.1: a variant's own size
    weight: Decimal | None = None

    @property
    def deleted(self) -> bool:
        return self.deletion_mark or (self.status or "").lower() == "удален"

    @property
    def product_id(self) -> str:
        return self.id.partition("#")[0]

    @property
    def total_stock(self) -> Decimal | None:
        if self.quantity is not None:
            return self.quantity
        if self.stock:
            return sum((s.quantity for s in self.stock), Decimal(0))
        return None


@dataclass(slots=True)
class Address:
    presentation: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # `АдресноеПоле`: type -> value


@dataclass(slots=True)
class Contractor:
    id: str
    name: str
    role: str = "Покупатель"
    full_name: str | None = None
    official_name: str | None = None  # a legal entity's: without it 1C creates an individual
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    inn: str | None = None
    kpp: str | None = None
    address: Address | None = None
    contacts: dict[str, str] = field(default_factory=dict)  # `Контакт`: type -> value
    contact_person: str | None = None


@dataclass(frozen=True, slots=True)
class DiscountEntry:
    """`Скидка`: what a discount took off (already counted in the amounts: `УчтеноВСумме`)."""

    name: str
    amount: Decimal
    percent: Decimal | None = None


@dataclass(slots=True)
class OrderLine:
    id: str  # offer id (`product` or `product#variant`) or ORDER_DELIVERY
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    unit: str | None = "шт"
    unit_code: str | None = "796"
    kind: str = "Товар"  # `ТипНоменклатуры`: Товар | Услуга
    catalog_id: str | None = None
    requisites: dict[str, str] = field(default_factory=dict)
    discounts: list[DiscountEntry] = field(default_factory=list)


DELIVERY_LINE_ID = "ORDER_DELIVERY"


@dataclass(slots=True)
class Order:
    """`Документ` with `ХозОперация` = `Заказ товара`, either direction."""

    id: str
    number: str
    date: str  # YYYY-MM-DD
    amount: Decimal
    time: str | None = None  # HH:MM:SS
    currency: str = "RUB"
    rate: Decimal = Decimal(1)
    operation: str = "Заказ товара"
    role: str = "Продавец"
    comment: str | None = None
    contractors: list[Contractor] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    requisites: dict[str, str] = field(default_factory=dict)
    warehouses: list[Warehouse] = field(default_factory=list)  # `Склады` (1C → site)
    number_1c: str | None = None  # `Номер1С`
    date_1c: str | None = None  # `Дата1С`
    deletion_mark: bool = False
    version: str | None = None
    basis: str | None = None  # `Основание`: the document it was made from (a payment's order)
    container: int | None = None  # the `Контейнер` it came in (2.10 packages), counted per file
    discounts: list[DiscountEntry] = field(default_factory=list)  # the document's own


@dataclass(slots=True)
class OrderUpdate:
    """What 1C says about an order it took (1C → site document), normalised."""

    id: str
    number: str
    number_1c: str | None = None
    date_1c: str | None = None
    posted: bool | None = None
    paid: bool | None = None
    payment_number: str | None = None
    payment_date: str | None = None
    shipped: bool | None = None
    shipment_number: str | None = None
    shipment_date: str | None = None
    cancelled: bool | None = None
    deletion_mark: bool = False
    status_text: str | None = None
    status_id: str | None = None
    delivery_method: str | None = None
    delivery_method_id: str | None = None
    delivery_address: str | None = None
    delivery_price: Decimal | None = None
    tracking_number: str | None = None  # `Идентификатор отправления`
    returned: bool | None = None  # `ПризнакВозврата`
    manager: str | None = None
    amount: Decimal | None = None
    lines: list[OrderLine] = field(default_factory=list)
    discounts: list[DiscountEntry] = field(default_factory=list)  # the document's own


@dataclass(slots=True)
class DocumentProblem:
    """A `Документ` that could not be read (a bad number, no Ид): reported, the others applied."""

    reason: str
    id: str | None = None
    number: str | None = None


@dataclass(slots=True)
class RecordProblem:
    """A catalog record (product, offer, group, …) that could not be read — a bad number, no Ид:
    it is skipped and named after `success`; the rest of the file applies (README, "One rule for
    record-level problems"). `kind`/`id` name it when it has an Ид, so it is kept as it was."""

    reason: str
    kind: str
    id: str | None = None


Entity = (
    DocumentProblem
    | DocumentHeader
    | Section
    | DocumentEnd
    | RecordProblem
    | Group
    | Category
    | Property
    | PriceType
    | Warehouse
    | Unit
    | Product
    | Offer
    | Order
)
