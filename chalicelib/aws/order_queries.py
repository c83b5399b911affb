"""What each `mode=query` offered 1C (`{t}#queries`/{session}: the order ids its `success`
confirms) and how often each order was offered (`{t}#offered`/{order id}: a count, first and last
time): an order offered again and again without `success` is one a person has to look at."""

from __future__ import annotations

import time
from typing import Any

QUERY_DAYS = 30  # a query's batch is kept this long (1C confirms within minutes)


def remember(table: Any, tenant: str, session: str, order_ids: list[str]) -> None:
    now = int(time.time())
    table.put_item(
        Item={
            "pk": f"{tenant}#queries",
            "sk": session,
            "order_ids": order_ids,
            "expires_at": now + QUERY_DAYS * 86400,
        }
    )
    for order_id in order_ids:  # the orders waiting are few: one small atomic update each
        table.update_item(
            Key={"pk": f"{tenant}#offered", "sk": order_id},
            UpdateExpression="ADD times :one SET last_at = :now, first_at = if_not_exists(first_at, :now), "
            "expires_at = :expires",
            ExpressionAttributeValues={":one": 1, ":now": now, ":expires": now + QUERY_DAYS * 86400},
        )


def queried(table: Any, tenant: str, session: str) -> list[str] | None:
    item = table.get_item(Key={"pk": f"{tenant}#queries", "sk": session}, ConsistentRead=True).get("Item")
    return list(item["order_ids"]) if item else None


def offered(client: Any, table_name: str, tenant: str, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    # `client`: the table resource's client (boto3 turns its values into Python ones)
    """How often each order was offered 1C (`times`, `first_at`, `last_at` in epoch seconds)."""
    found: dict[str, dict[str, Any]] = {}
    wanted = sorted(set(order_ids))
    for i in range(0, len(wanted), 100):
        keys = [{"pk": f"{tenant}#offered", "sk": o} for o in wanted[i : i + 100]]
        pending: dict[str, Any] = {table_name: {"Keys": keys}}
        while pending:
            result = client.batch_get_item(RequestItems=pending)
            for item in result["Responses"].get(table_name, []):
                found[item["sk"]] = {k: int(item[k]) for k in ("times", "first_at", "last_at")}
            pending = result.get("UnprocessedKeys") or {}
    return found
