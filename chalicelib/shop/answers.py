"""The shop API's catalog answers kept in the container, keyed by what they are made of: the
tenant's catalog version (moved by the import worker after each of its steps), the tenant's
settings, the route and its query; and checked, on the way out, against what orders hold of the
products the answer shows (read every HELD_TTL seconds), so an order makes anew only the answers
showing its products. A hit is never stale as a TTL cache's is; it skips the catalog reads and
the rendering (bench: api.*_hit; capacity: api.answer_cache_hit_ratio).

Two guards: a version younger than SETTLE_MS is not kept (the catalog's indexes may trail the
writes by a moment), and no entry outlives MAX_LIFE_SECONDS (a version bump that failed; the
presigned image URLs an answer carries stay good an hour)."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

SETTLE_MS = 2_000
MAX_LIFE_SECONDS = 900.0  # an exchange plan's usual 15 minutes
BUDGET_BYTES = 48 * 2**20  # of the shop-read Lambda's 512 MB


class Outcome(StrEnum):
    HIT = "hit"
    MISS = "miss"  # made and kept
    BYPASS = "bypass"  # made, not kept: no version yet, or a version too fresh


@dataclass(frozen=True)
class Answer:
    body: str
    etag: str
    outcome: Outcome


def etag_of(body: str) -> str:
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


Held = tuple[tuple[str, Decimal | None], ...]  # what orders held of each product or offer shown


@dataclass(frozen=True)
class Entry:
    made: float
    body: str
    etag: str
    held: Held
    size: int


class AnswerCache:
    def __init__(
        self,
        budget_bytes: int = BUDGET_BYTES,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.budget, self.clock, self.wall_ms = budget_bytes, clock, wall_ms
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self.used = 0
        self._lock = threading.Lock()  # a Lambda serves one request at a time; `make run`, several

    def answer(
        self,
        key: Hashable,
        version_ms: int,
        held: Mapping[str, Decimal],
        make: Callable[[], tuple[str, list[str]]],
    ) -> Answer:
        """The answer for `key` (whose parts include `version_ms`), made by `make` on a miss:
        its body and the keys of `held` it shows (`p:<product>`, `o:<offer>`), kept with their
        holds then; a hit needs each of them unchanged."""
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if (
                found
                and now - found.made <= MAX_LIFE_SECONDS
                and all(held.get(p) == q for p, q in found.held)
            ):
                self._entries.move_to_end(key)
                return Answer(found.body, found.etag, Outcome.HIT)
            if found:
                self._drop(key)
        body, shown = make()
        etag = etag_of(body)
        if not version_ms or self.wall_ms() - version_ms < SETTLE_MS:
            return Answer(body, etag, Outcome.BYPASS)
        size = sys.getsizeof(body)
        if size <= self.budget // 8:
            with self._lock:
                if key in self._entries:  # another request made it meanwhile
                    self._drop(key)
                self._entries[key] = Entry(now, body, etag, tuple((p, held.get(p)) for p in shown), size)
                self.used += size
                while self.used > self.budget:
                    self._drop(next(iter(self._entries)))
        return Answer(body, etag, Outcome.MISS)

    def _drop(self, key: Hashable) -> None:
        self.used -= self._entries.pop(key).size

    def __len__(self) -> int:
        return len(self._entries)
