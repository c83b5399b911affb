"""The mailer's twin (aws/mail.py on SES)."""

from __future__ import annotations


class InMemoryMailer:
    """What was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def send(self, sender: str, to: str, subject: str, text: str) -> None:
        self.sent.append({"from": sender, "to": to, "subject": subject, "text": text})
