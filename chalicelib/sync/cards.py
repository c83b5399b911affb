"""Product cards and facets: what a shop's list page shows and filters on. Pure.

A card is computed from a product's stored state (its record and its offers), never from one file:
a `prices___` file that touches one offer changes the card's price as much as a full upload does.
A product is listed (has a card) while it is active and has at least one active offer.
Facets are counted from the cards, per group (its subgroups included) and for the whole catalog.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.values import decimal_text

ALL = "*"  # the facet scope of the whole catalog
NO_GROUP = "-"  # the listing bucket of a product without a group
CHARACTERISTIC = "~"  # + a characteristic's name: its facet and filter "property" (`~Размер:L`)
WHOLE = "~all"  # a page of the whole catalog by name: read from its own listing (two queries)
CATEGORY_BUCKET = "~c:"  # + a category id: the listing bucket and facet scope of a category


def category_bucket(category_id: str) -> str:
    return f"{CATEGORY_BUCKET}{category_id}"


def is_category_bucket(bucket: str) -> bool:
    return bucket.startswith(CATEGORY_BUCKET)


def buckets_of(groups: tuple[str, ...]) -> tuple[str, ...]:
    """Where a card is listed: each of its groups (or NO_GROUP) and its category. The whole
    catalog reads the group buckets only, so each card is in exactly one of those reads' sets."""
    own = tuple(g for g in groups if not is_category_bucket(g))
    return (own or (NO_GROUP,)) + tuple(g for g in groups if is_category_bucket(g))


SORTS = ("name", "price", "-price", "-updated")
PRICE_SCALE = Decimal(10_000)  # prices sort to 4 decimals
PRICE_WIDTH = 20


@dataclass(frozen=True)
class OfferState:
    """One offer as stored: its description (None when only prices/stock arrived), prices, stock."""

    id: str
    info: dict[str, Any] | None
    prices: list[dict[str, Any]]
    stock: dict[str, Any] | None
    active: bool = True
    variant: dict[str, Any] | None = None  # a 2.03/2.04 `Товар` variant's characteristics
    breaks: list[dict[str, Any]] = field(default_factory=list)  # quantity breaks (`СкидкиНаценки`)


@dataclass(frozen=True)
class ProductState:
    """A product as stored: its record and its offers, with when each was last written."""

    id: str
    doc: dict[str, Any]
    active: bool
    updated: int  # epoch ms of the latest write to any of its items
    offers: list[OfferState] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    name: str
    sku: str | None
    barcodes: tuple[str, ...]
    groups: tuple[str, ...]  # the product's groups and its category bucket: one listing bucket each
    scopes: tuple[str, ...]  # its groups and their ancestors: the facets it counts in
    image: str | None  # S3 key of the first picture
    props: tuple[str, ...]  # "property id:value" (reference values as text)
    price_min: str | None
    price_max: str | None
    currency: str | None
    stock: str
    in_stock: bool
    updated: int

    def content(self) -> str:
        """What a change is judged by (everything but when it was written)."""
        data = asdict(self)
        data.pop("updated")
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    def fingerprint(self) -> str:
        return hashlib.blake2b(self.content().encode(), digest_size=8).hexdigest()

    @property
    def buckets(self) -> tuple[str, ...]:
        return buckets_of(self.groups)

    @property
    def whole(self) -> bool:
        """A card is written into the whole catalog's listing too (with its first bucket)."""
        return True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> CardSummary:
        return CardSummary(
            self.id, self.fingerprint(), self.name, self.groups, self.scopes, self.props,
            self.price_min, self.price_max, self.stock, self.in_stock, True, self.image is not None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CardSummary:
    """What the worker keeps of a card between imports (the tenant's summary in S3): enough to
    tell a change (the fingerprint), count facets and show the diff — a 100k catalog in ~50 MB."""

    id: str
    fp: str
    name: str
    groups: tuple[str, ...]
    scopes: tuple[str, ...]
    props: tuple[str, ...]
    price_min: str | None
    price_max: str | None
    stock: str
    in_stock: bool
    whole: bool = False  # its items include the whole catalog's listing (cards written since it came)
    image: bool | None = None  # it has a picture (None: kept before this was recorded)

    @property
    def buckets(self) -> tuple[str, ...]:
        return buckets_of(self.groups)

    def to_list(self) -> list[Any]:
        return [getattr(self, f) for f in self.__slots__]

    @classmethod
    def from_list(cls, row: list[Any]) -> CardSummary:
        """Group ids, property values and prices repeat across cards: interned, each held once.
        A row kept before the whole listing existed has no `whole` (its cards are not in it), one
        kept before pictures were recorded no `image`."""
        (id_, fp, name, groups, scopes, props, low, high, stock, in_stock, *rest) = row
        low, high, stock = (sys.intern(v) if isinstance(v, str) else v for v in (low, high, stock))
        return cls(
            id_, fp, name, _shared(groups), _shared(scopes), _shared(props), low, high, stock, in_stock,
            bool(rest and rest[0]), rest[1] if len(rest) > 1 else None,
        )  # fmt: skip


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(number: Decimal) -> str:
    return decimal_text(number)


def ancestors_of(groups: Iterable[str], parents: Mapping[str, str | None]) -> tuple[str, ...]:
    """The groups and every ancestor, each once (a visited set: a cycle never loops)."""
    found: list[str] = []
    for group in groups:
        current: str | None = group
        while current and current not in found:
            found.append(current)
            current = parents.get(current)
    return tuple(found)


def _characteristics(offers: list[OfferState]) -> set[tuple[str, str]]:
    """The sizes, colours… of a product's offers on sale: facets and filters like properties."""
    found = set()
    for offer in offers:
        info = offer.info or offer.variant or {}
        for c in info.get("characteristics") or (offer.variant or {}).get("characteristics") or ():
            name, value = str(c.get("name") or "").strip(), str(c.get("value") or "").strip()
            if name and value:
                found.add((name[:100], value[:200]))
    return found


def base_prices(prices: list[dict[str, Any]]) -> dict[str, str]:
    """Each price type's price of one unit (a quantity tier is another price), as text."""
    found: dict[str, str] = {}
    for price in prices:
        tier = _decimal(price.get("min_quantity"))
        if (tier is None or tier <= 1) and price.get("value") is not None:
            found.setdefault(str(price["price_type_id"]), str(price["value"]))
    return found


def build_card(
    product: ProductState, shop_price_type: str | None, parents: Mapping[str, str | None]
) -> Card | None:
    """The product's card, or None when it is not listed (inactive, or no active offer)."""
    offers = [o for o in product.offers if o.active and (o.info or o.prices or o.stock)]
    if not product.active or not offers:
        return None
    doc = product.doc
    prices, currency = [], None
    for offer in offers:
        for price in offer.prices:
            value = _decimal(price.get("value"))
            tier = _decimal(price.get("min_quantity"))
            if tier is not None and tier > 1:  # a quantity tier is not the price a listing shows
                continue
            if price.get("price_type_id") == shop_price_type and value is not None:
                prices.append(value)
                currency = currency or price.get("currency")
    stock = sum((_decimal((o.stock or {}).get("total")) or Decimal(0) for o in offers), Decimal(0))
    groups = tuple(dict.fromkeys(doc.get("group_ids") or ()))
    if doc.get("category_id"):
        groups += (category_bucket(doc["category_id"]),)
    props = sorted(
        {f"{p['id']}:{p['value']}" for p in doc.get("properties") or () if p.get("id") and p.get("value")}
        | {f"{CHARACTERISTIC}{name}:{value}" for name, value in _characteristics(offers)}
    )
    image = next((i["key"] for i in doc.get("images") or () if i.get("key")), None)
    return Card(
        id=product.id,
        name=doc.get("name") or "",
        sku=doc.get("sku") or None,
        barcodes=tuple(doc.get("barcodes") or ()),
        groups=groups,
        scopes=ancestors_of(groups, parents),
        image=image,
        props=tuple(props),
        price_min=_text(min(prices)) if prices else None,
        price_max=_text(max(prices)) if prices else None,
        currency=currency,
        stock=_text(stock),
        in_stock=stock > 0,
        updated=product.updated,
    )


# -- listing order ------------------------------------------------------------------------------
def name_key(name: str) -> str:
    return " ".join(name.lower().split())[:200]


def price_key(price: str) -> str:
    scaled = int((Decimal(price) * PRICE_SCALE).to_integral_value())
    return f"{max(scaled, 0):0{PRICE_WIDTH}d}"


def sort_values(card: Card, flag: str | None = None) -> dict[str, str]:
    """The card's position in each order: `{in stock 1|0}#{value}\x01{id}`. The id makes it unique;
    \x01 (never in XML text) sorts "Чай" before "Чай зелёный". `flag` replaces the stock flag
    where stock is filtered rather than keyed (the whole catalog's listing)."""
    stocked = flag or ("1" if card.in_stock else "0")
    values = {
        "name": f"{stocked}#{name_key(card.name)}\x01{card.id}",
        "updated": f"{stocked}#{card.updated:013d}\x01{card.id}",
    }
    if card.price_min is not None:
        values["price"] = f"{stocked}#{price_key(card.price_min)}\x01{card.id}"
    return values


@dataclass(frozen=True)
class ListQuery:
    """A list page: where to look, how to order, what to keep. Filters beyond group, stock and
    (for the price order) the price range are applied to the cards a query reads."""

    group: str | None = None
    category: str | None = None
    in_stock: bool | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (property id, any of values)
    q: str | None = None
    sku: str | None = None
    barcode: str | None = None
    sort: str = "name"
    limit: int = 50
    after: str | None = None  # the sort value of the last card of the previous page
    stock_filtered: bool = False  # the listing read keys no stock flag: `in_stock` is a filter

    @property
    def order(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def price_in_key(self) -> bool:
        return self.order == "price"

    def has_filter(self) -> bool:
        return (
            bool(self.properties or self.q or self.sku or self.barcode)
            or self.stock_filter is not None
            or (not self.price_in_key and (self.price_min is not None or self.price_max is not None))
        )

    @property
    def stock_filter(self) -> int | None:
        """1 or 0 when in-stock is asked of a listing that does not key it, else None."""
        return None if not self.stock_filtered or self.in_stock is None else int(self.in_stock)


def search_text(name: str, sku: str | None) -> str:
    return " ".join(f"{name} {sku or ''}".lower().split())


def _shared(values: Iterable[str]) -> tuple[str, ...]:
    """Interned: the same group and property names are one string in memory across cards."""
    return tuple(map(sys.intern, values))
