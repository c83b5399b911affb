"""A fixed-window request counter per key (exchange table): the shop API's per-tenant rate limit.
One conditional increment per request; the window's item expires by TTL."""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from chalicelib.aws.clients import conditional_failed, resource

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(self, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self.table = resource("dynamodb").Table(table_name)
        self.clock = clock
        self._refused_until: dict[str, float] = {}  # keys over their limit, as this container saw

    def waiting(self, key: str) -> int:
        """Seconds a key refused earlier in this container still waits (0: ask the table). A
        refused key costs no read and no write until its window ends."""
        wait = self._refused_until.get(key, 0) - self.clock()
        return int(wait) + 1 if wait > 0 else 0

    def take(self, key: str, per_window: int) -> int:
        """Count one request. Returns 0 when it may run, else the seconds until the next window."""
        now = self.clock()
        if self.waiting(key):
            return self.waiting(key)
        window = int(now // WINDOW_SECONDS)
        try:
            self.table.update_item(
                Key={"pk": f"{key}#rate", "sk": str(window)},
                UpdateExpression="ADD n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": per_window,
                    ":exp": (window + 2) * WINDOW_SECONDS,
                },
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            if len(self._refused_until) > 10_000:
                self._refused_until.clear()
            self._refused_until[key] = (window + 1) * WINDOW_SECONDS
            return max(1, int((window + 1) * WINDOW_SECONDS - now))
        return 0
