"""The shop API's list parameters: a list query from the request's parameters, its cursor, and
the shape checks that answer 400 before anything is read (ids of at most MAX_ID_BYTES, cursors of
their sort's form)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.params import BadRequest, parse_limit
from chalicelib.sync.cards import SORTS, ListQuery
from chalicelib.sync.plan import MAX_ID_BYTES

MAX_CURSOR = 4096
MAX_PROPERTY_FILTERS = 10


def encode_cursor(key: dict[str, Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False, default=str).encode())
        .decode()
        .rstrip("=")
    )


def decode_cursor(cursor: str | None, fields: tuple[str, ...]) -> dict[str, str] | None:
    """A cursor we issued: exactly `fields`, all short strings. Anything else (forged, wrong
    types) is a 400, never a query. Cursors hold positions, never keys: a query is always the
    caller's tenant's."""
    if not cursor:
        return None
    invalid = BadRequest("cursor is not valid: pass next_cursor from a previous answer unchanged")
    if len(cursor) > MAX_CURSOR:
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(key, dict) or set(key) != set(fields):
        raise invalid
    if not all(isinstance(v, str) and 0 < len(v) <= 1024 for v in key.values()):
        raise invalid
    return key


# The sort value a cursor resumes after, per sort: `{value}\x01{product id}` (sync.cards.sort_values).
AFTER_VALUES = {"name": re.compile(r"[^\x01]{0,200}"), "price": re.compile(r"[0-9]{20}")}
AFTER_VALUES["updated"] = re.compile(r"[0-9]{13}")


def _after_fits(sort: str, after: str) -> bool:
    value, sep, product_id = after.partition("\x01")
    shape = AFTER_VALUES[sort.lstrip("-")]
    return (
        bool(sep and product_id) and len(product_id.encode()) <= MAX_ID_BYTES and bool(shape.fullmatch(value))
    )


def group_param(raw: str | None, name: str = "group") -> str | None:
    """A group (or category) id as 1C makes them (at most MAX_ID_BYTES): a longer one is a 400,
    never a key."""
    if raw and len(raw.encode()) > MAX_ID_BYTES:
        raise BadRequest(f"{name} is not a {name} id (at most {MAX_ID_BYTES} bytes)")
    return raw or None


def _decimal_param(params: dict[str, Any], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadRequest(f"{name} must be a number") from None
    if not value.is_finite() or value < 0 or value > Decimal("1e12"):
        raise BadRequest(f"{name} must be a number from 0 to 10^12")
    return value


def _bool_param(params: dict[str, Any], name: str) -> bool | None:
    raw = (params.get(name) or "").lower()
    if raw not in ("", "true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return None if raw == "" else raw == "true"


def _properties(raw: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`property=<id>:<value>`, repeatable: values of one property OR-ed, properties AND-ed."""
    if len(raw) > MAX_PROPERTY_FILTERS:
        raise BadRequest(f"at most {MAX_PROPERTY_FILTERS} property filters")
    wanted: dict[str, list[str]] = {}
    for item in raw:
        pid, sep, value = item.partition(":")
        if not sep or not pid or not value:
            raise BadRequest("property must be <property id>:<value>")
        wanted.setdefault(pid, []).append(value)
    return tuple((pid, tuple(values)) for pid, values in wanted.items())


def list_query(params: dict[str, Any]) -> ListQuery:
    sort = params.get("sort") or "name"
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}")
    cursor = decode_cursor(params.get("cursor"), ("sort", "after"))
    if cursor and cursor["sort"] != sort:
        raise BadRequest("cursor belongs to another sort: start again without it")
    if cursor and not _after_fits(sort, cursor["after"]):
        raise BadRequest("cursor is not valid: pass next_cursor from a previous answer unchanged")
    price_min, price_max = _decimal_param(params, "price_min"), _decimal_param(params, "price_max")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise BadRequest("price_min must not be greater than price_max")
    group, category = group_param(params.get("group")), group_param(params.get("category"), "category")
    if group and category:
        raise BadRequest("group and category: one of them per list")
    return ListQuery(
        group=group,
        category=category,
        in_stock=_bool_param(params, "in_stock"),
        price_min=price_min,
        price_max=price_max,
        properties=_properties(params.get("property") or []),
        q=" ".join(params["q"].lower().split()) or None if params.get("q") else None,
        sku=params.get("sku") or None,
        barcode=params.get("barcode") or None,
        sort=sort,
        limit=parse_limit(params.get("limit")),
        after=cursor["after"] if cursor else None,
    )
