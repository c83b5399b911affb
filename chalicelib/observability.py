"""Powertools Logger and Metrics, wired once through a Chalice middleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Request

logger = Logger(service="cmlbridge")
metrics = Metrics(namespace="cmlbridge", service="cmlbridge")

__all__ = ["MetricUnit", "around", "logger", "metrics"]


def _lambda_context(event: Any) -> Any:
    if isinstance(event, Request):
        return getattr(event, "lambda_context", None)
    return getattr(event, "context", None)


def around(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Put the request id on every log line, flush metrics, and clear per-request keys."""
    context = _lambda_context(event)
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(request_id=request_id)
    if isinstance(event, Request):
        logger.append_keys(path=event.path, method=event.method)
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        logger.remove_keys(["request_id", "path", "method", "tenant", "exchange_session"])
