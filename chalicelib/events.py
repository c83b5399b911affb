"""The body of a webhook delivery: what the sender posts and the console shows. Pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def envelope(tenant_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """An outbox event as its receivers get it: `{id, event, tenant, created_at, data}`."""
    created = datetime.fromtimestamp(int(item.get("created_at", 0)), tz=UTC).isoformat()
    return {
        "id": item["id"],
        "event": item["event"],
        "tenant": tenant_id,
        "created_at": created,
        "data": json.loads(item["payload"]),
    }
