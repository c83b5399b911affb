"""SQS adapter: the import job queue."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from chalicelib.aws.clients import client


class JobQueue:
    def __init__(self, queue_name: str) -> None:
        self.queue_name = queue_name
        self.sqs = client("sqs")

    @cached_property
    def url(self) -> str:
        return self.sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(message), DelaySeconds=delay_seconds)
