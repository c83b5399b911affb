"""The usage counters' twin."""

from __future__ import annotations

import threading
from collections.abc import Mapping


class InMemoryUsageStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, int]] = {}
        self.lock = threading.Lock()

    def add(self, tenant: str, month: str, counts: Mapping[str, int]) -> None:
        with self.lock:
            item = self.items.setdefault((month, tenant), {})
            for key, value in counts.items():
                if value:
                    item[key] = item.get(key, 0) + int(value)

    def month(self, month: str) -> dict[str, dict[str, int]]:
        with self.lock:
            return {t: dict(v) for (m, t), v in self.items.items() if m == month and v}
