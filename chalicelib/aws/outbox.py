"""Outbox adapter (orders table): pending webhook events, claimed one runner at a time."""

from __future__ import annotations

import json
import time
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chalicelib.aws.clients import conditional_failed, resource
from chalicelib.ports import new_id

KEEP_DAYS = 30
_KEYS = ("pk", "sk", "qpk", "qsk")


def outbox_item(tenant: str, event_id: str, event: str, payload: dict[str, Any], now: int) -> dict[str, Any]:
    """The one shape of a pending event (Outbox.add, the orders store's transactions, the twin)."""
    return {
        "pk": f"{tenant}#outbox",
        "sk": event_id,
        "event": event,
        "payload": json.dumps(payload, ensure_ascii=False, default=str),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "qpk": f"{tenant}#outbox",
        "qsk": f"{now:011d}#{event_id}",
    }


def event_of(item: dict[str, Any]) -> dict[str, Any]:
    """An event as use cases see it: its id by name, no keys."""
    return {**{k: v for k, v in item.items() if k not in _KEYS}, "id": item["sk"]}


class Outbox:
    def __init__(self, table_name: str) -> None:
        self.table = resource("dynamodb").Table(table_name)

    def add(self, tenant: str, event: str, payload: dict[str, Any], event_id: str | None = None) -> str:
        """Queue an event. With an `event_id` the event is added once: a repeat is a no-op."""
        now, once = int(time.time()), event_id is not None
        event_id = event_id or new_id()
        item = outbox_item(tenant, event_id, event, payload, now)
        try:
            self.table.put_item(
                Item=item, **({"ConditionExpression": "attribute_not_exists(pk)"} if once else {})
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
        return event_id

    def due(self, tenant: str, now: int, limit: int) -> list[dict[str, Any]]:
        items = self.table.query(
            IndexName="queue",
            KeyConditionExpression=Key("qpk").eq(f"{tenant}#outbox") & Key("qsk").lte(f"{now:011d}~"),
            Limit=limit,
        )["Items"]
        return [event_of(i) for i in items]

    def claim(self, tenant: str, event_id: str, runner: str, now: int, seconds: int) -> dict[str, Any] | None:
        """Take an event for delivery; None when another runner holds it or it is no longer due."""
        try:
            result = self.table.update_item(
                Key={"pk": f"{tenant}#outbox", "sk": event_id},
                UpdateExpression="SET lease_until = :until, runner = :runner ADD attempts :one",
                ConditionExpression="#s = :pending AND (attribute_not_exists(lease_until) OR lease_until < :now)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":until": now + seconds,
                    ":runner": runner,
                    ":pending": "pending",
                    ":now": now,
                    ":one": 1,
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return None
            raise
        return event_of(result["Attributes"])

    def settle(
        self,
        tenant: str,
        event_id: str,
        runner: str,
        status: str,
        attempts: int,
        next_at: int | None,
        targets: dict[str, Any],
        log: list[dict[str, Any]],
    ) -> None:
        """Record an attempt: delivered, dead, or pending again at next_at."""
        values: dict[str, Any] = {
            ":s": status,
            ":a": attempts,
            ":t": targets,
            ":log": log[-20:],
            ":runner": runner,
        }
        if status == "pending":
            expression = (
                "SET #s = :s, attempts = :a, targets = :t, deliveries = :log, qsk = :qsk, next_at = :next "
                "REMOVE lease_until"
            )
            values[":qsk"] = f"{next_at:011d}#{event_id}"
            values[":next"] = next_at
        else:  # delivered or dead: leaves the queue, kept a while for the record
            expression = (
                "SET #s = :s, attempts = :a, targets = :t, deliveries = :log, expires_at = :exp "
                "REMOVE lease_until, qpk, qsk, next_at"
            )
            values[":exp"] = int(time.time()) + KEEP_DAYS * 86400
        self.table.update_item(
            Key={"pk": f"{tenant}#outbox", "sk": event_id},
            UpdateExpression=expression,
            ConditionExpression="runner = :runner",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )

    def recent(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        items = self.table.query(
            KeyConditionExpression=Key("pk").eq(f"{tenant}#outbox"), ScanIndexForward=False, Limit=limit
        )["Items"]
        return [event_of(i) for i in items]

    def get(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        key = {"pk": f"{tenant}#outbox", "sk": event_id}
        item = self.table.get_item(Key=key, ConsistentRead=True).get("Item")
        return event_of(item) if item else None

    def redeliver(self, tenant: str, event_id: str) -> bool:
        now = int(time.time())
        try:
            self.table.update_item(
                Key={"pk": f"{tenant}#outbox", "sk": event_id},
                UpdateExpression="SET #s = :pending, attempts = :zero, targets = :none, qpk = :qpk, qsk = :qsk, "
                "next_at = :now REMOVE lease_until, expires_at",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":pending": "pending",
                    ":zero": 0,
                    ":none": {},
                    ":qpk": f"{tenant}#outbox",
                    ":qsk": f"{now:011d}#{event_id}",
                    ":now": now,
                },
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True
