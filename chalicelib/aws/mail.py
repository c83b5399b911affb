"""The owners' exchange notices through Amazon SES (the sender verified in SES: MAIL_FROM)."""

from __future__ import annotations

from chalicelib.aws.clients import client


class SesMailer:
    def __init__(self) -> None:
        self.ses = client("ses")

    def send(self, sender: str, to: str, subject: str, text: str) -> None:
        self.ses.send_email(
            Source=sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
