"""Reading the catalog table's raw items back as the records an import wrote (tests only: the
store owns the layout, so this follows `chalicelib/aws/catalog.py`'s docstring)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from chalicelib.aws.offer_items import unpack_prices, unpack_stock

CLASSIFIER_KINDS = ("group", "property", "price_type", "warehouse", "unit")


def records(items: Iterable[dict]) -> Iterator[tuple[str, str, str, bool]]:
    """(kind, id, doc, active) of every record item; cards, facets and the feed are not records."""
    for item in items:
        pk, sk = item["pk"], item["sk"]
        active = bool(item.get("active", True))
        if sk == "product":
            yield "product", pk.partition("#p#")[2], item["doc"], active
        elif sk.startswith("offer#"):
            offer_id = sk.removeprefix("offer#")
            if "doc" in item:
                yield "offer", offer_id, item["doc"], active
            if "prices" in item:
                prices, breaks = unpack_prices(item["prices"])
                part = {"prices": prices, **({"breaks": breaks} if breaks else {})}
                yield "prices", offer_id, json.dumps(part), True
            if "stock" in item:
                yield "stock", offer_id, json.dumps(unpack_stock(item["stock"])), True
        elif sk.startswith("variant#"):
            yield "variant", sk.removeprefix("variant#"), item["doc"], active
        elif pk.partition("#")[2] in CLASSIFIER_KINDS:
            yield pk.partition("#")[2], sk, item["doc"], active


def docs(items: Iterable[dict], kind: str) -> dict[str, dict]:
    return {i: {**json.loads(doc), "active": active} for k, i, doc, active in records(items) if k == kind}


def record_set(items: Iterable[dict]) -> set[tuple[str, str, str, bool]]:
    return set(records(items))
