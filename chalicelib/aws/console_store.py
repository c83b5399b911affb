"""Console users, their sessions and the console's action journal, in the exchange table:
console#user      {email}                 a console user (tenant, role, scrypt hash)
console#session   {sha256 of the cookie}  a signed-in session (TTL)
{t}#console       {ms}#{random}           who did what in the console (TTL: the journal's retention)
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.aws.clients import query_all, resource
from chalicelib.aws.exchange_store import plain

JOURNAL_DAYS = 90


class ConsoleStore:
    def __init__(self, table_name: str) -> None:
        self.table = resource("dynamodb").Table(table_name)

    def put_user(self, user: dict[str, Any]) -> None:
        self.table.put_item(Item={"pk": "console#user", "sk": user["email"], **user})

    def user(self, email: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": "console#user", "sk": email}, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def delete_user(self, email: str) -> None:
        self.table.delete_item(Key={"pk": "console#user", "sk": email})

    def users(self, tenant: str | None) -> list[dict[str, Any]]:
        items = query_all(self.table, KeyConditionExpression=Key("pk").eq("console#user"))
        return [plain(i) for i in items if tenant is None or i.get("tenant") == tenant]

    def put_session(self, key: str, item: dict[str, Any]) -> None:
        self.table.put_item(Item={"pk": "console#session", "sk": key, **item})

    def session(self, key: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": "console#session", "sk": key}).get("Item")
        if item is None or int(item.get("expires_at", 0)) < time.time():
            return None
        return plain(item)

    def delete_session(self, key: str) -> None:
        self.table.delete_item(Key={"pk": "console#session", "sk": key})

    def record(self, tenant: str, entry: dict[str, Any]) -> None:
        now = time.time()
        self.table.put_item(
            Item={
                "pk": f"{tenant}#console",
                "sk": f"{int(now * 1000):013d}#{secrets.token_hex(4)}",
                "expires_at": int(now) + JOURNAL_DAYS * 86_400,
                "at": int(now),
                **entry,
            }
        )

    def actions(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        page = self.table.query(
            KeyConditionExpression=Key("pk").eq(f"{tenant}#console"), ScanIndexForward=False, Limit=limit
        )
        return [plain(i) for i in page["Items"]]
