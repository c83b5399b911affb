"""A failed file shown as an error tracker shows an issue: the stored XML lines around the line the
error names, that line marked, the `Ид`s in them (links to the products), and how many recent
exchanges failed the same way. Pure: it reads the stream it is given, up to the lines it shows."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from typing import IO, Any

AROUND = 3  # lines shown before and after the failing one
MAX_CHARS = 240  # of each line (1C writes whole files on one line)
_LINE = re.compile(r"строка (\d+)")
_ENCODING = re.compile(rb'encoding=["\']([A-Za-z0-9_-]+)["\']')
_ID = re.compile(r"<(?:\w+:)?Ид>([^<]{1,200})</(?:\w+:)?Ид>")


def failing_line(error: str | None) -> int | None:
    """The line an error names (`…, строка 12: …`), None when it names none."""
    found = _LINE.search(error or "")
    return int(found.group(1)) if found else None


def excerpt(stream: IO[bytes], line: int) -> dict[str, Any]:
    """The lines around `line` (numbered, that one `marked`), and the `Ид`s they hold."""
    window: deque[tuple[int, bytes]] = deque(maxlen=2 * AROUND + 1)
    encoding = "utf-8"
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            declared = _ENCODING.search(raw[:200])
            encoding = declared.group(1).decode() if declared else "utf-8"
        window.append((number, raw[: MAX_CHARS * 4]))  # at most 4 bytes a character
        if number >= line + AROUND:
            break
    shown = [(n, _shown(raw, encoding)) for n, raw in window if line - AROUND <= n <= line + AROUND]
    return {
        "lines": [{"n": n, "text": text, "marked": n == line} for n, text in shown],
        "ids": _ids(text for _, text in shown),
    }


def same_error_count(error: str, recent_errors: Iterable[str | None]) -> int:
    """How many of the recent failures said the same, whatever line they named."""
    wanted = _LINE.sub("строка N", error)
    return sum(1 for other in recent_errors if other and _LINE.sub("строка N", other) == wanted)


def _shown(raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding, errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    text = text.rstrip("\r\n")
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + "…"


def _ids(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        found += [i.strip() for i in _ID.findall(text) if i.strip() and i.strip() not in found]
    return found[:10]
