"""The SQS side of import jobs: one message = one job step, partial batch failures reported."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import wiring

_processor = BatchProcessor(event_type=EventType.SQS)


def handle_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    def record_handler(record: SQSRecord) -> str:
        message = json.loads(record.body)
        remaining = getattr(context, "get_remaining_time_in_millis", None) or (lambda: 900_000)
        return wiring.container().import_worker.run(message["tenant"], message["job"], remaining)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=_processor, context=context
    )


def handle_dead_letters(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """A job whose message SQS gave up on (its worker died every time: out of memory or time):
    shown as stalled, with the reason, to 1C and in the journal."""

    def record_handler(record: SQSRecord) -> str:
        message = json.loads(record.body)
        return wiring.container().import_worker.dead_letter(message["tenant"], message["job"])

    return process_partial_response(
        event=event, record_handler=record_handler, processor=_processor, context=context
    )
