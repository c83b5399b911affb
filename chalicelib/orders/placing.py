"""POST /orders made idempotent per tenant and Idempotency-Key by powertools (24 h): a retry of
the same order answers the first answer, the same key with another body is refused."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from chalicelib.accounts import Accounts
from chalicelib.orders.service import Orders


class Placing:
    def __init__(self, table: str, dynamodb: Any, accounts: Accounts, orders: Orders) -> None:
        self.config = IdempotencyConfig(
            event_key_jmespath="[tenant, key]",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=24 * 3600,
        )

        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb),
            config=self.config,
            key_prefix="place_order",
        )
        def place(request: dict[str, Any]) -> dict[str, Any]:
            tenant = accounts.require(request["tenant"])
            return orders.place(tenant, request["body"], request["key"])

        self._place = place

    def __call__(self, tenant_id: str, key: str, body: Any, lambda_context: Any = None) -> dict[str, Any]:
        if lambda_context is not None:  # in-progress records expire with the invocation
            self.config.register_lambda_context(lambda_context)
        order: dict[str, Any] = self._place(request={"tenant": tenant_id, "key": key, "body": body})
        return order
