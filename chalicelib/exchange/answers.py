"""Answers to 1C: plain text, HTTP 200, the first line a keyword (docs/protocol.md §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    lines: tuple[str, ...]
    content_type: str = CONTENT_TYPE
    body_bytes: bytes | None = None  # a binary XML document (`mode=query` in windows-1251)
    raw_text: bool = False  # lines[0] is a whole document, sent as is
    cookie: str | None = None  # `name=value` the HTTP adapter also sets as a cookie (checkauth)

    @property
    def body(self) -> str:
        return self.lines[0] if self.raw_text else "\n".join(self.lines) + "\n"

    @property
    def keyword(self) -> str:
        return "" if self.raw_text or self.body_bytes is not None else (self.lines[0] if self.lines else "")


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def success(*details: str) -> Answer:
    return Answer(("success", *map(_clean, details)))


def progress(*details: str) -> Answer:
    return Answer(("progress", *map(_clean, details)))


def failure(*details: str) -> Answer:
    return Answer(("failure", *map(_clean, details)))


def checkauth(name: str, value: str, timestamp: int) -> Answer:
    """checkauth's four lines as 1C-Bitrix answers them, and the same cookie in `Set-Cookie` for
    clients that keep cookies the HTTP way. The `sessid` is plain lowercase hex (the cookie value,
    hex-encoded), which any client's `[a-z0-9]+` reads whole; both forms are accepted back."""
    return Answer(
        ("success", name, value, f"sessid={value.encode().hex()}", f"timestamp={timestamp}"),
        cookie=f"{name}={value}",
    )


def lines(*values: str) -> Answer:
    """Key=value answers (`init`) and the checkauth block."""
    return Answer(tuple(values))


def document(data: bytes, encoding: str) -> Answer:
    """An XML document for 1C. UTF-8 travels as text; windows-1251 must travel as binary, which
    API Gateway only returns to a client whose Accept header matches (1C sends */*)."""
    if encoding.lower() == "utf-8":
        return Answer((data.decode("utf-8"),), content_type="application/xml; charset=utf-8", raw_text=True)
    return Answer(("",), content_type=f"text/xml; charset={encoding}", body_bytes=data)


def as_utf8(answer: Answer) -> Answer:
    """A windows-1251 document as the same document in UTF-8, declared so in its prolog (1C's XML
    reader follows the declaration): for a client whose Accept header API Gateway would not
    answer a binary body for."""
    if answer.body_bytes is None:
        return answer
    encoding = answer.content_type.rpartition("charset=")[2] or "windows-1251"
    text = answer.body_bytes.decode(encoding)
    head, sep, rest = text.partition("?>")
    if sep and head.startswith("<?xml"):
        head = re.sub(r"""encoding=["'][^"']*["']""", 'encoding="UTF-8"', head)
    return document((head + sep + rest).encode("utf-8"), "utf-8")
