"""The catalog's facet items (`{t}#facets`): one item per scope (a group with its subgroups, or
`*` for the whole catalog), bounded by `sync.cards.bounded`; the whole catalog's listing buckets
(group → cards) inline while they take under 200 KB, else in pages of their own,
`{scope}\x01buckets\x01{n}` — thousands of groups never make one item too large. The catalog
store writes what this builds and reads through it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.sync.facets import bounded

BUCKET_PAGE_BYTES = 200_000  # listing buckets per page item


def page_key(scope: str, n: int) -> str:
    """\x01 never occurs in XML text, so no group id can take a page's key."""
    return f"{scope}\x01buckets\x01{n:04d}"


def pages(buckets: dict[str, int]) -> list[dict[str, int]]:
    """The buckets in id order, cut into pages of at most BUCKET_PAGE_BYTES."""
    found: list[dict[str, int]] = [{}]
    size = 0
    for group, count in sorted(buckets.items()):
        entry = len(json.dumps({group: count}, ensure_ascii=False).encode())
        if size + entry > BUCKET_PAGE_BYTES and found[-1]:
            found.append({})
            size = 0
        found[-1][group] = count
        size += entry
    return found if found[0] else []


def _size(buckets: dict[str, int]) -> int:
    return len(json.dumps(buckets, ensure_ascii=False).encode())


class FacetItems:
    def __init__(self, table: Any) -> None:
        self.table = table

    def writes(
        self, tenant: str, facets: dict[str, dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """The puts for these facets, and the deletes of bucket pages a smaller catalog no
        longer needs."""
        pk = f"{tenant}#facets"
        stored = {scope: int(f.get("bucket_pages", 0)) for scope, f in self._items(tenant, facets)}
        puts: list[dict[str, Any]] = []
        deletes: list[tuple[str, str]] = []
        for scope, facet in facets.items():
            doc = bounded({k: v for k, v in facet.items() if k not in ("buckets", "bucket_pages")})
            buckets = facet.get("buckets")
            paged = pages(buckets) if buckets and _size(buckets) > BUCKET_PAGE_BYTES else []
            if paged:
                doc["bucket_pages"] = len(paged)
            elif buckets is not None:  # a few hundred groups stay inline: one item, one read
                doc["buckets"] = buckets
            puts.append({"pk": pk, "sk": scope, "doc": json.dumps(doc, ensure_ascii=False)})
            puts += [
                {"pk": pk, "sk": page_key(scope, n), "doc": json.dumps(page, ensure_ascii=False)}
                for n, page in enumerate(paged)
            ]
            deletes += [(pk, page_key(scope, n)) for n in range(len(paged), stored.get(scope, 0))]
        return puts, deletes

    def read(self, tenant: str, scopes: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored facets of these scopes as the cards phase counted them (bucket pages put
        back together): one BatchGetItem per 100, and one for the pages."""
        found = dict(self._items(tenant, scopes))
        wanted = [
            (f"{tenant}#facets", page_key(scope, n))
            for scope, facet in found.items()
            for n in range(int(facet.pop("bucket_pages", 0)))
        ]
        for item in self.table.get(wanted):
            scope = item["sk"].partition("\x01")[0]
            found[scope].setdefault("buckets", {}).update(json.loads(item["doc"]))
        for facet in found.values():
            if "buckets" in facet:
                facet["buckets"] = dict(sorted(facet["buckets"].items()))
        return found

    def _items(self, tenant: str, scopes: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        for item in self.table.get([(f"{tenant}#facets", scope) for scope in sorted(scopes)]):
            yield item["sk"], json.loads(item["doc"])
