"""Answers to 1C: plain text, HTTP 200, the first line a keyword (protocol §1)."""

from __future__ import annotations

from dataclasses import dataclass

CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    lines: tuple[str, ...]
    content_type: str = CONTENT_TYPE
    body_bytes: bytes | None = None  # an XML document (`mode=query`)
    cookie: str | None = None

    @property
    def body(self) -> str:
        return "\n".join(self.lines) + "\n"

    @property
    def keyword(self) -> str:
        return self.lines[0] if self.lines else ""


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def success(*details: str) -> Answer:
    return Answer(("success", *map(_clean, details)))


def progress(*details: str) -> Answer:
    return Answer(("progress", *map(_clean, details)))


def failure(*details: str) -> Answer:
    return Answer(("failure", *map(_clean, details)))


def lines(*values: str) -> Answer:
    """Key=value answers (`init`) and the checkauth block."""
    return Answer(tuple(values))


def document(data: bytes, encoding: str) -> Answer:
    return Answer(("",), content_type=f"application/xml; charset={encoding}", body_bytes=data)
