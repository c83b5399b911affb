"""Usage counters (exchange table): `usage#{YYYY-MM}` / `{tenant}`, one item a tenant a month,
counters added to with ADD (writes come aggregated: chalicelib/usage.py)."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.aws.clients import query_all, resource


class UsageStore:
    def __init__(self, table_name: str) -> None:
        self.table = resource("dynamodb").Table(table_name)

    def add(self, tenant: str, month: str, counts: Mapping[str, int]) -> None:
        counts = {k: int(v) for k, v in counts.items() if v}
        if not counts:
            return
        self.table.update_item(
            Key={"pk": f"usage#{month}", "sk": tenant},
            UpdateExpression="ADD " + ", ".join(f"#{k} :{k}" for k in counts),
            ExpressionAttributeNames={f"#{k}": k for k in counts},
            ExpressionAttributeValues={f":{k}": v for k, v in counts.items()},
        )

    def month(self, month: str) -> dict[str, dict[str, int]]:
        """Every tenant's counters of the month (one query of its partition)."""
        from boto3.dynamodb.conditions import Key

        items = query_all(self.table, KeyConditionExpression=Key("pk").eq(f"usage#{month}"))
        return {i["sk"]: {k: int(v) for k, v in i.items() if k not in ("pk", "sk")} for i in items}
