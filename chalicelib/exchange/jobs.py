"""The SQS side of import jobs: one message = one job step, partial batch failures reported."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import wiring

_processor = BatchProcessor(event_type=EventType.SQS)


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> str:
        message = json.loads(record.body)
        remaining = getattr(context, "get_remaining_time_in_millis", None) or (lambda: 900_000)
        return wiring.import_worker().run(message["tenant"], message["job"], remaining)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=_processor, context=context
    )
