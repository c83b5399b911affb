"""CommerceML entities → catalog records: the unit that is fingerprinted, diffed and stored. Pure.

A record is one stored item. An offer becomes up to three records (its description, its prices,
its stock) so that a prices file never touches stock and a rests file never touches prices.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.commerceml.model import (
    INFO,
    PRICES,
    STOCK,
    Category,
    Characteristic,
    Group,
    Offer,
    PriceType,
    Product,
    Property,
    PropertyValue,
    Unit,
    Warehouse,
)
from chalicelib.values import decimal_text

# Record kinds, and the slot each takes in an entity's index entry.
PRODUCT, VARIANT, OFFER, OFFER_PRICES, OFFER_STOCK = "product", "variant", "offer", "prices", "stock"
GROUP, PROPERTY, PRICE_TYPE, WAREHOUSE, UNIT = "group", "property", "price_type", "warehouse", "unit"
CATEGORY = "category"
SLOTS = {OFFER_PRICES: 1, OFFER_STOCK: 2}
DEACTIVATABLE = (PRODUCT, OFFER, GROUP)


@dataclass(frozen=True, slots=True)
class Record:
    kind: str
    id: str
    doc: str  # canonical JSON of the data: what is stored and what is fingerprinted
    active: bool = True

    @property
    def entity(self) -> str:
        """Index key: the entity this record belongs to (an offer's three records share one)."""
        kind = OFFER if self.kind in SLOTS else self.kind
        return f"{kind}:{self.id}"

    @property
    def slot(self) -> int:
        return SLOTS.get(self.kind, 0)

    @property
    def product_id(self) -> str:
        return self.id.partition("#")[0]


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_number)


def _number(value: Any) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value)
    raise TypeError(f"not serialisable: {value!r}")


def _unit(unit: Unit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"code": unit.code, "name": unit.short_name, "full_name": unit.full_name}


def _characteristics(items: list[Characteristic]) -> list[dict[str, Any]]:
    return [{"name": c.name, "value": c.value} for c in items]


def _properties(items: list[PropertyValue]) -> list[dict[str, Any]]:
    return [{"id": p.id, "name": p.name, "value": p.value, "raw": p.raw} for p in items]


ImageResolver = Callable[[str], str | None]
ImageSize = Callable[[str], tuple[int, int] | None]  # a stored picture's width and height, when known
FileReader = Callable[[str], bytes | None]
MAX_DESCRIPTION_BYTES = 100_000  # an HTML description file kept in the product (docs/clients.md §12)


PICTURE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def picture_type(path: str) -> str | None:
    """The content type of a picture a storefront may show, by its extension; None for anything
    else (an `.html` or `.svg` named as a `Картинка` is never linked as the product's picture)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return PICTURE_TYPES.get(name[name.rfind(".") :]) if "." in name else None


def _images(
    product: Product, resolve_image: ImageResolver, image_size: ImageSize | None = None
) -> list[dict[str, Any]]:
    """Each picture once (1C may list one twice), with its `ОписаниеФайла` caption; a file that is
    not a picture is listed with no key, so nothing links it."""
    images, seen = [], set()
    for path in product.images:
        key = resolve_image(path) if picture_type(path) else None
        if (key or path) in seen:
            continue
        seen.add(key or path)
        image: dict[str, Any] = {"path": path, "key": key}
        size = image_size(key) if key and image_size else None
        if size:
            image["width"], image["height"] = size
        caption = product.image_captions.get(path.replace("\\", "/"))
        if caption:
            image["caption"] = caption
        images.append(image)
    return images


def _description_html(product: Product, read_file: FileReader | None) -> str | None:
    if product.description_html or not product.description_file or read_file is None:
        return product.description_html
    data = read_file(product.description_file)
    if not data:
        return None
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data[:MAX_DESCRIPTION_BYTES].decode(encoding).strip() or None
        except UnicodeDecodeError:
            continue
    return None


def product_records(
    product: Product,
    resolve_image: ImageResolver,
    read_file: FileReader | None = None,
    image_size: ImageSize | None = None,
) -> Iterator[Record]:
    """A `Товар`. One with a `product#variant` id (2.03/2.04) is a variant of its base product."""
    data: dict[str, Any] = {
        "id": product.base_id,
        "name": product.name,
        "sku": product.sku,
        "barcodes": product.barcodes,
        "description": product.description,
        "unit": _unit(product.unit),
        "group_ids": product.group_ids,
        "images": _images(product, resolve_image, image_size),
        "manufacturer": product.manufacturer,
        "properties": _properties(product.properties),
        "requisites": product.requisites,
        "taxes": [{"name": t.name, "rate": t.rate} for t in product.taxes],
    }
    description_html = _description_html(product, read_file)
    if description_html:
        data["description_html"] = description_html
    if product.dimensions:
        data["dimensions"] = dict(product.dimensions)
    if product.weight is not None:
        data["weight"] = product.weight
    if product.country:  # only when sent: products without it keep their records as they were
        data["country"] = product.country
    if product.full_name:  # only when sent: products without one keep their fingerprints
        data["full_name"] = product.full_name
    if product.category_id:
        data["category_id"] = product.category_id
    if product.components:
        data["components"] = [
            {"id": c.id, "quantity": c.quantity, **({"name": c.name} if c.name else {})}
            for c in product.components
        ]
    active = not product.deleted
    if "#" not in product.id:
        yield Record(PRODUCT, product.id, canonical(data), active)
        return
    yield Record(PRODUCT, product.base_id, canonical(data), True)
    variant = {
        "id": product.id,
        "name": product.name,
        "sku": product.sku,
        "barcodes": product.barcodes,
        "characteristics": _characteristics(product.characteristics),
    }
    yield Record(VARIANT, product.id, canonical(variant), active)


def offer_records(offer: Offer) -> Iterator[Record]:
    if INFO in offer.parts:
        data: dict[str, Any] = {
            "id": offer.id,
            "product_id": offer.product_id,
            "name": offer.name,
            "sku": offer.sku,
            "barcodes": offer.barcodes,
            "unit": _unit(offer.unit),
            "characteristics": _characteristics(offer.characteristics),
            "properties": _properties(offer.properties),
        }
        if offer.dimensions:  # only when sent: 2.x offers' records stay as they were
            data["dimensions"] = dict(offer.dimensions)
        if offer.weight is not None:
            data["weight"] = offer.weight
        yield Record(OFFER, offer.id, canonical(data), not offer.deleted)
    if PRICES in offer.parts:
        prices = [
            {
                "price_type_id": p.price_type_id,
                "value": p.value,
                "currency": p.currency,
                "unit": p.unit,
                "coefficient": p.coefficient,
                **({"tax": {"name": p.tax_name, "included": p.tax_included}} if p.tax_name else {}),
                **({"min_quantity": p.min_quantity} if p.min_quantity is not None else {}),
            }
            for p in offer.prices
        ]
        part: dict[str, Any] = {"prices": prices}
        if offer.quantity_breaks:  # only when sent: offers without them keep their records
            part["breaks"] = [
                {"min_quantity": b.min_quantity, "percent": b.percent} for b in offer.quantity_breaks
            ]
        yield Record(OFFER_PRICES, offer.id, canonical(part))
    if STOCK in offer.parts:
        stock = {
            "total": offer.total_stock,
            "warehouses": [{"id": s.warehouse_id, "quantity": s.quantity} for s in offer.stock],
        }
        yield Record(OFFER_STOCK, offer.id, canonical(stock))


def classifier_record(entity: Group | Category | Property | PriceType | Warehouse | Unit) -> Record:
    data: dict[str, Any]
    if isinstance(entity, Category):
        data = {"id": entity.id, "name": entity.name, "property_ids": entity.property_ids}
        return Record(CATEGORY, entity.id, canonical(data), not entity.deleted)
    if isinstance(entity, Group):
        data = {"id": entity.id, "name": entity.name, "parent_id": entity.parent_id}
        return Record(GROUP, entity.id, canonical(data), not entity.deleted)
    if isinstance(entity, Property):
        data = {
            "id": entity.id,
            "name": entity.name,
            "value_type": entity.value_type,
            "values": entity.values,
            "for_products": entity.for_products,
            "for_offers": entity.for_offers,
            "multiple": entity.multiple,
        }
        flags = {"external": entity.external, "informational": entity.informational}
        data.update({k: v for k, v in flags.items() if v is not None})  # 3.1 only: 2.x unchanged
        return Record(PROPERTY, entity.id, canonical(data), not entity.deleted)
    if isinstance(entity, PriceType):
        data = {
            "id": entity.id,
            "name": entity.name,
            "currency": entity.currency,
            "tax_name": entity.tax_name,
            "tax_included": entity.tax_included,
        }
        return Record(PRICE_TYPE, entity.id, canonical(data))
    if isinstance(entity, Warehouse):
        data = {"id": entity.id, "name": entity.name}
        if entity.address:  # only when sent: warehouses without one keep their fingerprints
            data["address"] = entity.address
        if entity.contacts:
            data["contacts"] = [{"type": kind, "value": value} for kind, value in entity.contacts]
        return Record(WAREHOUSE, entity.id, canonical(data), not entity.deleted)
    data = {
        "id": entity.id,
        "code": entity.code,
        "name": entity.short_name,
        "full_name": entity.full_name,
        "international": entity.international,
    }
    return Record(UNIT, entity.id, canonical(data))
