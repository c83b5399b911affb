"""Powertools Logger and Metrics, wired once through a Chalice middleware."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from chalice.app import Request


class PeopleFormatter(LambdaPowertoolsFormatter):
    """One readable line per event, for the local stack's terminal (`LOG_FORMAT=text`); in AWS the
    lines stay JSON."""

    SHOWN = ("file", "phase", "counts", "reason", "number", "order", "event", "outcome", "targets", "error")

    def format(self, record: logging.LogRecord) -> str:
        data = json.loads(super().format(record))
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        tenant = f"[{data['tenant']}] " if data.get("tenant") else ""
        if data.get("message") == "1C call":
            text = (
                f"1C {data.get('type')}/{data.get('mode')} {data.get('file') or ''} {data.get('bytes') or ''}"
                f" → {data.get('answer')} ({data.get('ms')} ms)"
            )
        else:
            extras = " ".join(f"{k}={data[k]}" for k in self.SHOWN if data.get(k) not in (None, "", {}))
            text = f"{data.get('message')} {extras}"
        trace = f"\n{data['exception']}" if data.get("exception") else ""
        return f"{clock} {level}{tenant}{' '.join(text.split())}{trace}"


class OnePollALine(logging.Filter):
    """The terminal shows 1C's first `import` poll of a file that answers `progress`, then the
    answer that ends it — not the poll a second in between (`LOG_FORMAT=text` only)."""

    def __init__(self) -> None:
        super().__init__()
        self.polling: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != "1C call" or getattr(record, "mode", None) != "import":
            return True
        key = (str(getattr(record, "type", "")), str(getattr(record, "file", "")))
        if getattr(record, "answer", None) != "progress":
            self.polling.discard(key)
            return True
        first = key not in self.polling
        self.polling.add(key)
        return first


TEXT = os.environ.get("LOG_FORMAT") == "text"
logger = Logger(service="cmlbridge", logger_formatter=PeopleFormatter() if TEXT else None)
if TEXT:
    logger.addFilter(OnePollALine())
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
        if metrics.metric_set and is_metrics_disabled():
            metrics.clear_metrics()  # powertools would print the set anyway once it holds 100 values
        elif metrics.metric_set:
            metrics.flush_metrics()
        logger.remove_keys(["request_id", "path", "method", "tenant", "exchange_session"])
