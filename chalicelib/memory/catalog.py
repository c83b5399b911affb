"""The catalog table's twin."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any


class InMemoryCatalogStore:
    """The catalog table's twin: the same items (built by the same code), puts, gets, partitions."""

    def __init__(self) -> None:
        from chalicelib.aws.catalog import WriteStats

        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.stats = WriteStats()

    def item(self, tenant: str, record: Any, stamp: str) -> dict[str, Any]:
        from chalicelib.aws.catalog import CatalogStore

        return CatalogStore.item(self, tenant, record, stamp)  # type: ignore[arg-type]

    def start_put(self, items: Any) -> Any:
        batch = [copy.deepcopy(i) for i in items]
        for item in batch:
            self.items[(item["pk"], item["sk"])] = item
        self.stats.calls += (len(batch) + 24) // 25
        self.stats.items += len(batch)
        return lambda: None

    def get_items(self, key_pairs: Any) -> Iterator[dict[str, Any]]:
        for pk, sk in key_pairs:
            if (pk, sk) in self.items:
                yield copy.deepcopy(self.items[(pk, sk)])

    def partition(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        found = [
            copy.deepcopy(v) for (p, s), v in self.items.items() if p == pk and s.startswith(sk_prefix or "")
        ]
        return sorted(found, key=lambda i: i["sk"])

    def docs(self, tenant: str, kind: str) -> list[dict[str, Any]]:
        import json

        return [
            {**json.loads(i["doc"]), "active": bool(i.get("active", True))}
            for i in self.partition(f"{tenant}#{kind}")
        ]
