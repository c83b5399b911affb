"""Lazily created boto3 clients, shared per process (Lambda container)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, connect_timeout=5, read_timeout=60)


def client(service: str) -> Any:
    return _client(service, _endpoints())


def resource(service: str) -> Any:
    return _resource(service, _endpoints())


def _endpoints() -> tuple[tuple[str, str], ...]:
    """The endpoint overrides in force (the local stack, DynamoDB Local): a client is made again
    when they change, and kept otherwise."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")))


@cache
def _client(service: str, endpoints: tuple[tuple[str, str], ...]) -> Any:
    return boto3.client(service, config=_CONFIG)


@cache
def _resource(service: str, endpoints: tuple[tuple[str, str], ...]) -> Any:
    return boto3.resource(service, config=_CONFIG)


def conditional_failed(exc: Exception) -> bool:
    """A write refused by its condition (DynamoDB's answer to a lost race or a repeat)."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"


def reset() -> None:
    """Forget cached clients (tests start a new moto mock per test)."""
    _client.cache_clear()
    _resource.cache_clear()


def query_all(table: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a Query (a tenant-scoped partition; never a scan)."""
    items: list[dict[str, Any]] = []
    while True:
        page = table.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
