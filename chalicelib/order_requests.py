"""What an order request may hold, as pydantic models (the OpenAPI document's request shapes
come from these through shapes.components()), and the fields a person may correct later."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from chalicelib.texts import (
    Email,
    Lines500,
    Lines2000,
    Required200,
    Text9,
    Text12,
    Text50,
    Text100,
    Text200,
    Text300,
)


class Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AddressParts(Request):
    model_config = ConfigDict(extra="forbid")
    postcode: Text200 = None
    country: Text200 = None
    region: Text200 = None
    city: Text200 = None
    street: Text200 = None
    house: Text200 = None
    flat: Text200 = None


NAME_PARTS = ("first_name", "middle_name", "last_name")


class Customer(Request):
    id: Text100 = Field(
        None, description="the shop's own customer id: GET /orders?customer= lists their orders"
    )
    name: Required200 = Field(
        description=(
            "the whole name (made from the parts when only they are sent). 1C gets Фамилия and Имя "
            "(and Отчество) from the parts; without them the name is split: «Имя Фамилия» for two "
            "words, «Фамилия Имя Отчество» for three whose last is a patronymic (…вич, …вна, …чна, "
            "оглы, кызы), else the first word is the first name and the rest the last name"
        )
    )
    first_name: Text100 = Field(None, description="Имя")
    middle_name: Text100 = Field(None, description="Отчество")
    last_name: Text100 = Field(None, description="Фамилия")
    email: Email = None
    phone: Text50 = Field(None, description="sent to 1C as ТелефонРабочий, digits only")
    address: AddressParts | Lines500 | None = None
    company: Text300 = Field(None, description="a legal entity: 1C files it as one")
    inn: Text12 = None
    kpp: Text9 = None

    @model_validator(mode="before")
    @classmethod
    def _name_from_parts(cls, data: Any) -> Any:
        """Parts without a whole name: the name is «Имя Отчество Фамилия» (checked as a name)."""
        if isinstance(data, dict) and not data.get("name"):
            parts = [str(data[k]).strip() for k in NAME_PARTS if isinstance(data.get(k), str)]
            if any(parts):
                return {**data, "name": " ".join(p for p in parts if p)}
        return data


class Discount(Request):
    """A discount by amount or by percent (one of them), with its name (and a coupon code)."""

    model_config = ConfigDict(extra="forbid")
    name: Required200
    coupon: Text100 = None
    amount: (
        Annotated[
            Decimal, Field(gt=0, le=100_000_000, allow_inf_nan=False), WithJsonSchema({"type": "number"})
        ]
        | None
    ) = None
    percent: (
        Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False), WithJsonSchema({"type": "number"})]
        | None
    ) = None

    @model_validator(mode="after")
    def _one_kind(self) -> Discount:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("a discount has an amount or a percent (one of them)")
        return self


class RequestLine(Request):
    offer_id: Required200
    quantity: Annotated[
        Decimal,
        Field(allow_inf_nan=False, le=100_000),
        WithJsonSchema(
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": True,
                "description": (
                    "whole for goods sold by the piece (unit 796 «шт», packs, sets, pairs); up to 3 "
                    "decimal places for goods sold by weight, length or volume (the offer's unit)"
                ),
            }
        ),
    ]
    discount: Discount | None = None


class Delivery(Request):
    method: Text200 = None
    method_id: Text100 = Field(
        None, description="one of the tenant's delivery services (mode=info lists them)"
    )
    price: (
        Annotated[
            Decimal,
            Field(ge=0, le=10_000_000, allow_inf_nan=False),
            WithJsonSchema({"type": "number", "minimum": 0}),
        ]
        | None
    ) = None
    address: AddressParts | Lines500 | None = None


class Payment(Request):
    model_config = ConfigDict(extra="forbid")
    status: Literal["unpaid", "paid"] = "paid"
    paid_at: Text50 = Field(None, description="ISO date-time of the payment (1C's Дата оплаты)")
    amount: (
        Annotated[
            Decimal, Field(ge=0, le=100_000_000, allow_inf_nan=False), WithJsonSchema({"type": "number"})
        ]
        | None
    ) = None
    method_id: Text100 = Field(None, description="one of the tenant's payment systems (mode=info lists them)")
    document: Text100 = Field(None, description="the payment document's number (Номер платежного документа)")


class OrderRequest(Request):
    customer: Customer
    lines: list[RequestLine] = Field(min_length=1, max_length=90)  # orders.rules.MAX_LINES
    delivery: Delivery | None = None
    payment_method: Text200 = None
    payment: Payment | None = None
    discounts: list[Discount] = Field(
        default_factory=list, max_length=10, description="order-level, applied in order"
    )
    comment: Lines2000 = None


# What a person may correct on an order (`orders fix`), each checked as POST /orders checks it.
FIXABLE: dict[str, TypeAdapter[str | None]] = {
    "customer.name": TypeAdapter(Required200),
    "customer.company": TypeAdapter(Text300),
    "customer.email": TypeAdapter(Email),
    "customer.phone": TypeAdapter(Text50),
    "customer.address": TypeAdapter(Lines500),
    "customer.inn": TypeAdapter(Text12),
    "customer.kpp": TypeAdapter(Text9),
    "customer.id": TypeAdapter(Text100),
    "delivery.method": TypeAdapter(Text200),
    "delivery.address": TypeAdapter(Lines500),
    "payment_method": TypeAdapter(Text200),
    "comment": TypeAdapter(Lines2000),
}


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    """Each bad field by its path (`customer.name`, `lines[2].quantity`) and what is wrong."""
    problems = []
    for error in exc.errors():
        path = ""
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif part.isidentifier() and not part[0].isupper():  # not a union branch's name
                path += f".{part}" if path else str(part)
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append({"field": path or "body", "reason": message})
    return problems
