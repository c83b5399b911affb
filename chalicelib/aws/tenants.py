"""Tenants table adapter."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.aws.clients import query_all, resource
from chalicelib.tenants import Tenant, TenantSettings


def _to_item(tenant: Tenant) -> dict[str, Any]:
    item: dict[str, Any] = {
        "tenant": tenant.id,
        "kind": "tenant",
        "name": tenant.name,
        "active": tenant.active,
        "settings": tenant.settings.to_dict(),
    }
    # GSI key attributes must be absent rather than empty.
    for attr in ("login", "password_hash", "api_key_hash"):
        if getattr(tenant, attr):
            item[attr] = getattr(tenant, attr)
    return item


def _from_item(item: dict[str, Any]) -> Tenant:
    return Tenant(
        id=item["tenant"],
        name=item.get("name", item["tenant"]),
        login=item.get("login"),
        password_hash=item.get("password_hash"),
        api_key_hash=item.get("api_key_hash"),
        settings=TenantSettings.from_dict(item.get("settings")),
        active=bool(item.get("active", True)),
        catalog_version=int(item.get("catalog_version", 0)),
    )


class DynamoTenantStore:
    def __init__(self, table_name: str) -> None:
        self.table = resource("dynamodb").Table(table_name)

    def put(self, tenant: Tenant) -> None:
        """The whole tenant: a change of settings or keys is a new catalog version too (answers the
        shop API kept for the old one are not served again)."""
        self.table.put_item(Item={**_to_item(tenant), "catalog_version": int(time.time() * 1000)})

    def get(self, tenant_id: str) -> Tenant | None:
        item = self.table.get_item(Key={"tenant": tenant_id}, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def _one(self, index: str, attr: str, value: str) -> Tenant | None:
        items = self.table.query(IndexName=index, KeyConditionExpression=Key(attr).eq(value))["Items"]
        return _from_item(items[0]) if items else None

    def by_login(self, login: str) -> Tenant | None:
        return self._one("by_login", "login", login)

    def by_api_key_hash(self, api_key_hash: str) -> Tenant | None:
        return self._one("by_api_key", "api_key_hash", api_key_hash)

    def touch_catalog(self, tenant_id: str, at_ms: int) -> None:
        """The tenant's catalog changed at `at_ms`: the version moves there, or — when it is already
        later (a `put` on a clock ahead) — one millisecond on, so it always moves."""
        key = {"tenant": tenant_id}
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression="SET catalog_version = :v",
                ConditionExpression="attribute_exists(tenant) AND "
                "(attribute_not_exists(catalog_version) OR catalog_version < :v)",
                ExpressionAttributeValues={":v": at_ms},
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            with contextlib.suppress(self.table.meta.client.exceptions.ConditionalCheckFailedException):
                self.table.update_item(
                    Key=key,
                    UpdateExpression="ADD catalog_version :one",
                    ConditionExpression="attribute_exists(tenant)",
                    ExpressionAttributeValues={":one": 1},
                )

    def list(self) -> list[Tenant]:
        items = query_all(self.table, IndexName="by_kind", KeyConditionExpression=Key("kind").eq("tenant"))
        return [_from_item(i) for i in items]
