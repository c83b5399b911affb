"""The console's saved views read the worker's card summary once per catalog version: a page
turn, or another view of the same catalog, reads nothing; an import (a new version) reads again."""

from __future__ import annotations

import gzip
import json

from chalicelib import catalog_views
from chalicelib.layout import Paths
from chalicelib.memory import InMemoryBlobStore, InMemoryExchangeStore
from chalicelib.sync.cards import CardSummary


class CountingBlobs(InMemoryBlobStore):
    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    def open(self, key: str):  # type: ignore[no-untyped-def]
        self.opened += 1
        return super().open(key)


def summary(*cards: CardSummary) -> bytes:
    return gzip.compress(b"".join(json.dumps(c.to_list()).encode() + b"\n" for c in cards))


def card(pid: str, price: str | None, in_stock: bool, image: bool | None) -> CardSummary:
    return CardSummary(pid, "fp", pid, (), (), (), price, price, "1", in_stock, True, image)


def test_views_are_read_once_a_catalog_version_and_again_after_an_import():
    blobs, store = CountingBlobs(), InMemoryExchangeStore()
    key = Paths("t").cards
    blobs.put(
        key, summary(card("a", None, True, True), card("b", "10", False, False), card("c", "5", True, None))
    )
    first = catalog_views.view(blobs, store, "t", "no_price", version=1)
    assert [r["id"] for r in first.rows] == ["a"] and first.counts["out_of_stock"] == 1
    photo = catalog_views.view(blobs, store, "t", "no_photo", version=1)
    assert [r["id"] for r in photo.rows] == ["b"] and photo.unknown == 1, "c: not recorded yet"
    assert blobs.opened == 1, "the same version: the summary is not read again"
    blobs.put(key, summary(card("a", "7", True, True)))
    assert catalog_views.view(blobs, store, "t", "no_price", version=2).total == 0
    assert blobs.opened == 2
    catalog_views.view(blobs, store, "t", "no_price", version=0)
    catalog_views.view(blobs, store, "t", "no_price", version=0)
    assert blobs.opened == 4, "no version known: read every time"
