"""A fixed-window request counter per key (exchange table): the shop API's per-tenant rate limit
and the bad-key throttle. Counted in the container and written in batches: a container adds its
requests to the window's item once it has SYNC_EVERY of them (fewer as the window's count nears
the limit, one by one in the last stretch), and always at its first request of a window — so a
tenant at 1,200 requests a minute costs ~30 writes a minute instead of 1,200. The price: each
container may admit up to its unsynced batch beyond the limit (measured in tests/test_ratelimit.py).
The window's item expires by TTL."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.aws.clients import resource

WINDOW_SECONDS = 60
SYNC_EVERY = 50  # requests a container counts before it writes them (fewer near the limit)
NEAR = 8  # below limit/NEAR left in the window, batches shrink (the last few are written one by one)


@dataclass
class _Window:
    number: int
    limit: int
    known: int = 0  # the window's count as of this container's last write
    unsynced: int = 0  # admitted here since

    @property
    def full(self) -> bool:
        return self.known + self.unsynced >= self.limit


class RateLimiter:
    def __init__(self, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self.table = resource("dynamodb").Table(table_name)
        self.clock = clock
        self.writes = 0  # this container's writes (the benchmark and the test count them)
        self._windows: dict[str, _Window] = {}

    def waiting(self, key: str) -> int:
        """Seconds a key known to be over its limit in this container still waits (0: it may ask).
        A refused key costs no read and no write until its window ends."""
        now = self.clock()
        state = self._windows.get(key)
        if state is None or state.number != int(now // WINDOW_SECONDS) or not state.full:
            return 0
        return self._until_next(now)

    def take(self, key: str, per_window: int) -> int:
        """Count one request. Returns 0 when it may run, else the seconds until the next window."""
        now = self.clock()
        number = int(now // WINDOW_SECONDS)
        state = self._windows.get(key)
        first = state is None or state.number != number
        if state is None or first:
            if len(self._windows) > 10_000:
                self._windows.clear()
            state = self._windows[key] = _Window(number, per_window)
        state.limit = per_window
        if state.full:
            return self._until_next(now)
        state.unsynced += 1
        batch = max(1, min(SYNC_EVERY, (per_window - state.known) // NEAR))
        if first or state.unsynced >= batch:
            self._write(key, state)
            if state.known > per_window:  # other containers filled the window meanwhile
                return self._until_next(now)
        return 0

    @staticmethod
    def _until_next(now: float) -> int:
        return max(1, int((now // WINDOW_SECONDS + 1) * WINDOW_SECONDS - now))

    def _write(self, key: str, state: _Window) -> None:
        result = self.table.update_item(
            Key={"pk": f"{key}#rate", "sk": str(state.number)},
            UpdateExpression="ADD n :n SET expires_at = :exp",
            ExpressionAttributeValues={":n": state.unsynced, ":exp": (state.number + 2) * WINDOW_SECONDS},
            ReturnValues="UPDATED_NEW",
        )
        self.writes += 1
        state.known, state.unsynced = int(result["Attributes"]["n"]), 0
