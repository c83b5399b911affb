"""The shop API's shapes as pydantic models: what the answers carry and what an order request
may hold. The OpenAPI document's components are generated from these (`components()`), so the
document and the code cannot drift; tests validate real answers against it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)
from pydantic.json_schema import models_json_schema

from chalicelib.order_requests import OrderRequest

Text = str | None
Number = float | None


class Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(Shape):
    code: str
    message: str
    details: Any = None


class Error(Shape):
    error: ErrorBody


class Group(Shape):
    id: str
    name: str
    parent_id: Text
    slug: str = Field(
        description="for a storefront's URLs: the name transliterated, `~`, the id (it resolves where the id does)"
    )


class CategoryProperty(Shape):
    id: str
    name: Text


class Category(Shape):
    """1C's category (`Классификатор/Категории`, 2.08+): a kind of product with its own
    properties; each product is in at most one. List it with `/products?category=`."""

    id: str
    name: str
    properties: list[CategoryProperty]
    product_count: int = Field(description="listed products of the category")


class PriceType(Shape):
    id: str
    name: str
    currency: Text
    shop: bool = Field(description="the price type the shop sells at")


class Contact(Shape):
    type: str = Field(description="1C's contact type: Телефон рабочий, Почта, …")
    value: str


class Warehouse(Shape):
    """A warehouse; with an address it is a pickup point."""

    id: str
    name: str
    address: Text = Field(None, description="as 1C presents it (`Адрес/Представление`)")
    contacts: list[Contact] = Field(default_factory=list)


class UnitOfMeasure(Shape):
    """A unit 1C sent (`ЕдиницаИзмерения`): a CommerceML 3.1 product names its unit by `code`."""

    id: str
    code: Text = Field(None, description="OKEI code (796 = piece)")
    name: Text = Field(None, description="short name, e.g. шт")
    full_name: Text = None
    international: Text = None


class ProductSummary(Shape):
    id: str
    slug: str = Field(
        description="for a storefront's URLs: the name transliterated, `~`, the id (it resolves where the id does)"
    )
    sku: Text
    name: Text
    group_ids: list[str]
    category_id: Text = Field(None, description="1C's category of the product (2.08+)")
    price: Number = Field(description="lowest offer price of the shop price type")
    price_max: Number = Field(None, description="highest offer price of the shop price type")
    currency: Text = None
    in_stock: bool
    stock: float = Field(description="what 1C reported, over the product's offers")
    available: Number = Field(
        None, description="what can be ordered: stock less what orders 1C has not taken hold (never below 0)"
    )
    image: Text = Field(description="first image URL")
    updated_at: str | None = Field(None, description="when what the list shows last changed")


class PropertyFlags(Shape):
    external: bool | None = Field(None, description="3.1 `Внешний`: a property kept outside 1C's own set")
    informational: bool | None = Field(
        None, description="3.1 `Информационное`: for the product page, not for choosing (no filter)"
    )


class FacetValue(Shape):
    value: str
    count: int = Field(description="listed products with this value")


class FacetProperty(PropertyFlags):
    id: str
    name: Text
    values: list[FacetValue] = Field(description="the most common values (at most 200), by value")
    more_values: int = Field(0, description="distinct values left out of `values` (the least common)")


class FacetPrice(Shape):
    min: Number
    max: Number
    currency: Text


class Facets(Shape):
    """What a filter sidebar needs for a group (its subgroups included) or a category, counted at
    import."""

    group: Text
    category: Text = None
    count: int = Field(description="listed products")
    in_stock: int = Field(description="listed products in stock")
    price: FacetPrice
    properties: list[FacetProperty]
    more_properties: int = Field(
        0, description="properties left out because the facet reached its size (those with the most values)"
    )


class Characteristic(Shape):
    name: str
    value: str


class PriceTax(Shape):
    name: str
    included: bool | None = Field(None, description="`УчтеноВСумме`: the price includes the tax")


class OfferPrice(Shape):
    price_type_id: str
    price_type: Text
    value: Number
    currency: Text
    currency_code: Text = Field(
        None, description="ISO 4217, from 1C's `Валюта` (руб, RUB, 643) or the price type's"
    )
    unit: Text
    coefficient: Number = Field(
        None,
        description="1C's `Коэффициент`, as sent: how many base units the price's `unit` holds (a "
        "price per pack of 10 has 10); the price of one base unit is value / coefficient",
    )
    tax: PriceTax | None = Field(None, description="the price's own `Налог` (CommerceML 3.1)")
    min_quantity: Number = Field(
        None, description="`МинКоличество`: a quantity tier — this price holds from this many units on"
    )


class QuantityBreak(Shape):
    min_quantity: float = Field(description="from this many units on")
    percent: float = Field(description="every price of the offer is this many percent lower")


class WarehouseStock(Shape):
    id: str
    name: Text
    quantity: Number


class Stock(Shape):
    total: Number = Field(description="what 1C reported")
    held: Number = Field(None, description="units held by orders 1C has not taken yet")
    available: Number = Field(None, description="what can still be ordered: total − held, never below 0")
    warehouses: list[WarehouseStock]


class Offer(Shape):
    id: str = Field(description="product or product#variant")
    name: Text
    sku: Text = None
    barcodes: list[str] = []
    characteristics: list[Characteristic]
    prices: list[OfferPrice]
    quantity_breaks: list[QuantityBreak] = Field(
        default_factory=list, description="`СкидкиНаценки` by volume, lowest quantity first"
    )
    stock: Stock
    dimensions: Dimensions | None = Field(None, description="the variant's own (CommerceML 3.1 offers)")
    weight: Number = Field(None, description="the variant's own `Вес` (CommerceML 3.1 offers)")


class ProductProperty(PropertyFlags):
    id: str
    name: Text
    value: str


class Crumb(Shape):
    id: str
    name: str
    slug: str = Field(
        description="for a storefront's URLs: the name transliterated, `~`, the id (it resolves where the id does)"
    )


class Component(Shape):
    id: str = Field(description="the part's product id")
    quantity: float
    name: Text = Field(None, description="as the bundle names the part, when it does")


class Image(Shape):
    url: str
    caption: str | None = None
    width: int | None = Field(None, description="pixels, read from the picture when it was stored")
    height: int | None = None


class Dimensions(Shape):
    length: float | None = None
    width: float | None = None
    height: float | None = None


class Nomenclature(Shape):
    type: Text = Field(None, description="`ТипНоменклатуры` as 1C sent it (Товар, Услуга, Набор, …)")
    kind: Text = Field(None, description="`ВидНоменклатуры` as 1C sent it")
    class_: Literal["goods", "service", "bundle"] = Field("goods", alias="class")


class Product(Shape):
    id: str
    slug: str = Field(
        description="for a storefront's URLs: the name transliterated, `~`, the id (it resolves where the id does)"
    )
    sku: Text
    barcodes: list[str]
    name: Text
    description: Text
    description_html: Text = Field(None, description="HTML from ОписаниеВФорматеHTML or the description file")
    dimensions: Dimensions = Dimensions()
    weight: Number = Field(None, description="the element or the requisite `Вес`")
    full_name: Text = Field(None, description="`ПолноеНаименование`, or the requisite «Полное наименование»")
    nomenclature: Nomenclature = Field(default_factory=lambda: Nomenclature())
    unit: Text
    group_ids: list[str]
    breadcrumbs: list[Crumb] = Field(
        default_factory=list, description="the first group's trail, the root first ({id, name} each)"
    )
    category_id: Text = Field(None, description="1C's category of the product (2.08+)")
    manufacturer: Text = None
    country: Text = Field(None, description="`Страна` as 1C sent it")
    properties: list[ProductProperty]
    requisites: dict[str, str]
    components: list[Component] = Field(
        default_factory=list,
        description="a bundle's parts (`Комплектующие`, `НаборыТовара`), with quantities",
    )
    images: list[Image]
    active: bool = Field(description="false: no longer sold (deactivated by 1C)")
    updated_at: str
    offers: list[Offer]


class OrderLine(Shape):
    offer_id: str
    name: str
    quantity: float
    price: float
    amount: float
    currency: Text = None
    service: bool = Field(False, description="a service: never stock-checked, never held")
    discount: dict[str, Any] | None = Field(
        None, description="name, coupon, percent or amount asked; amount: what it took off the line"
    )
    backorder: bool = Field(
        False, description="beyond the stock when ordered (the tenant's stock_policy is backorder)"
    )


class Totals(Shape):
    items: float = Field(description="the lines' amounts, after their discounts")
    discount: float = Field(0, description="the order's discounts")
    delivery: float
    total: float = Field(description="items − discount + delivery: computed by cmlbridge, never below 0")
    currency: Text = None


class HistoryEntry(Shape):
    status: str
    at: str
    source: Literal["shop", "1c", "admin"]
    note: Text = None


class Order(Shape):
    id: str
    number: str = Field(description="the site number 1C sees")
    status: Literal["new", "accepted", "paid", "shipped", "delivered", "cancelled"]
    created_at: str
    updated_at: str
    customer: dict[str, Any] = Field(
        description="as the shop sent it; for an order keyed in 1C also matched_by (id|email|phone: how "
        "the site customer was found) and id_1c (1C's contragent id when it differs)"
    )
    lines: list[OrderLine]
    delivery: dict[str, Any] = {}
    payment_method: Text = None
    discounts: list[dict[str, Any]] = Field(
        default_factory=list, description="the order's discounts: name, coupon, percent, amount taken off"
    )
    payment: dict[str, Any] | None = Field(
        None, description="status (unpaid|paid), paid_at, amount, method_id, document: what 1C gets"
    )
    comment: Text = None
    totals: Totals
    history: list[HistoryEntry]
    one_c: dict[str, Any] = Field(description="1C number and date, posted, payment and shipment documents")
    manager: Text = None
    tracking_number: Text = Field(None, description="1C's Идентификатор отправления")
    exported_at: Text = Field(None, description="when 1C confirmed it took the order")
    from_1c: bool = Field(False, description="keyed in 1C (tenant setting orders_from_1c=import)")


class Change(Shape):
    type: Literal["product", "offer", "group"]
    id: str
    op: Literal["upsert", "deactivate"]
    at: str = Field(json_schema_extra={"format": "date-time"})


MODELS: list[type[BaseModel]] = [
    Error,
    Group,
    Category,
    PriceType,
    Warehouse,
    UnitOfMeasure,
    ProductSummary,
    Facets,
    Offer,
    Product,
    OrderRequest,
    Order,
    Change,
]


def components() -> dict[str, Any]:
    """The OpenAPI 3.0 `components.schemas` of the models (pydantic writes JSON Schema 2020-12:
    nullables and titles are turned into 3.0's forms)."""
    _, top = models_json_schema(
        [(m, "validation") for m in MODELS], ref_template="#/components/schemas/{model}"
    )
    return {name: _openapi30(schema) for name, schema in top["$defs"].items()}


def _openapi30(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_openapi30(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {k: _openapi30(v) for k, v in schema.items() if k != "title"}
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del schema["anyOf"]
        if len(rest) == 1 and "$ref" not in rest[0]:
            schema.update(rest[0])
        else:
            schema["anyOf" if len(rest) > 1 else "allOf"] = rest
        schema["nullable"] = True
    if "default" in schema and schema["default"] is None and not schema.get("nullable"):
        schema.pop("default")
    return schema
