"""A card as the items that list it: one per listing bucket (its groups, its category), each with
the sort values the listing indexes read and the attributes filters read; the first also lists it
in the whole catalog (`cards_whole`, by name), so that listing costs one index entry a card."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

from chalicelib.aws.catalog_table import item_size
from chalicelib.sync.cards import Card, search_text, sort_values

# What a list page shows of a card (the rest — scopes for facets, property values and barcodes
# for filters — lives in attributes of its own or in the worker's summary): a card item stays
# under one write unit per index.
NOT_LISTED = ("scopes", "props", "barcodes")
MAX_ITEM_BYTES = 390_000  # DynamoDB refuses items over 400 KB; our size counts conservatively
# The whole catalog's listing is split over this many keys by product id, merged on read: a page is
# one query a shard, and no listing key takes more than half of a catalog's card writes.
WHOLE_SHARDS = 2
WHOLE_FLAG = "a"  # its sort values carry no stock flag (in-stock is a filter there): one query a shard


def whole_key(tenant: str, shard: int) -> str:
    return f"{tenant}#w#{shard}"


def whole_shard(product_id: str) -> int:
    return hashlib.blake2b(product_id.encode(), digest_size=2).digest()[0] % WHOLE_SHARDS


def card_item(tenant: str, card: Card, group: str) -> dict[str, Any]:
    """The card's item in one bucket; a card over an item's size (a 300 KB name, thousands of
    properties) is listed shortened."""
    item = _item(tenant, card, group)
    if item_size(item) <= MAX_ITEM_BYTES:
        return item
    short = replace(card, name=card.name[:1000], props=card.props[:100], barcodes=card.barcodes[:20])
    return _item(tenant, short, group)


def _item(tenant: str, card: Card, group: str) -> dict[str, Any]:
    order = sort_values(card)
    item: dict[str, Any] = {
        "pk": f"{tenant}#p#{card.id}",
        "sk": f"card#{group}",
        "lpk": f"{tenant}#l#{group}",
        "ln": order["name"],
        "lu": order["updated"],
        "card": json.dumps(_listed(card), ensure_ascii=False, separators=(",", ":")),
        "search": search_text(card.name, card.sku),
    }
    if "price" in order:
        item["lp"] = order["price"]
        item["pmin"] = Decimal(card.price_min or "0")
    if card.sku:
        item["sku"] = card.sku
    if card.barcodes:
        item["barcodes"] = list(card.barcodes)
    if card.props:
        item["props"] = list(card.props)
    if group == card.buckets[0]:  # the whole catalog's listing, by name; in stock is a filter there
        item["wpk"] = whole_key(tenant, whole_shard(card.id))
        item["wn"] = sort_values(card, WHOLE_FLAG)["name"]
        item["st"] = int(card.in_stock)
    return item


def _listed(card: Card) -> dict[str, Any]:
    return {k: v for k, v in card.to_dict().items() if k not in NOT_LISTED}
