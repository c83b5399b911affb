"""Deliver SQS messages and schedules to the same handlers Lambda would call (local stack, tests)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.values import utc_stamp


@dataclass
class LambdaContext:
    """What the handlers read from Lambda's context object."""

    function_name: str = "local"
    timeout_ms: int = 900_000
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-central-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.timeout_ms - (time.monotonic() - self.started) * 1000))


def scheduled_event() -> dict[str, Any]:
    """What EventBridge hands a scheduled Lambda (Chalice's CloudWatchEvent reads every field)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": utc_stamp(),
        "region": "eu-central-1",
        "resources": ["arn:aws:events:eu-central-1:123456789012:rule/cmlbridge-scheduler"],
        "detail": {},
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1")
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "eu-central-1",
            }
            for m in messages
        ]
    }


class QueuePump:
    """Receive from the queue and call the worker handler, deleting what it processed."""

    def __init__(self, handler: Any, queue_name: str, timeout_ms: int = 900_000) -> None:
        self.handler, self.timeout_ms = handler, timeout_ms
        self.sqs = client("sqs")
        self.url = self.sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def deliver_once(self, wait_seconds: int = 0) -> int:
        """One receive + one handler call per message. Returns how many messages were handled."""
        received = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=1, WaitTimeSeconds=wait_seconds, AttributeNames=["All"]
        ).get("Messages", [])
        for message in received:
            context = LambdaContext("import_worker", self.timeout_ms)
            try:
                result = self.handler(sqs_event([message], self.arn), context) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception:
                failed = {message["MessageId"]}
            if (
                message["MessageId"] in failed
            ):  # back on the queue soon (Lambda: after the visibility timeout)
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=1
                )
            else:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return len(received)

    def drain(
        self,
        max_messages: int = 1000,
        settle_seconds: float = 0.0,
        max_seconds: float = 120,
        include_delayed: bool = True,
    ) -> int:
        """Deliver until the queue is empty (delayed messages included, unless not
        `include_delayed`), at most `max_seconds`. Returns the count."""
        handled, idle_since = 0, None
        give_up = time.monotonic() + max_seconds
        while handled < max_messages and time.monotonic() < give_up:
            count = self.deliver_once()
            handled += count
            if count:
                idle_since = None
                continue
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=self.url,
                AttributeNames=[
                    "ApproximateNumberOfMessagesDelayed",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            delayed = int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)) if include_delayed else 0
            waiting = delayed + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
            if not waiting:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= settle_seconds:
                    return handled
            time.sleep(0.2)
        return handled


def json_body(message: dict[str, Any]) -> dict[str, Any]:
    return json.loads(message["Body"])
