"""Reading XML values and streams for the CommerceML reader: local names (any namespace),
texts, booleans, bounded numbers, and the byte streams the parser reads from. Pure."""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import IO, Any

_TRUE = {"true", "1", "да", "yes"}


class _LocalNames(dict[Any, str]):
    """Tag -> local name, namespace dropped. lxml builds a new tag string on every access; the
    lookup in this dict stays in C (tags repeat millions of times)."""

    def __missing__(self, tag: Any) -> str:
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        self[tag] = name
        return name


local = _LocalNames().__getitem__


def text(el: Any) -> str:
    return (el.text or "").strip() if el is not None else ""


def optional(value: str | None) -> str | None:
    """Stripped text, None when absent or blank."""
    return (value.strip() or None) if value else None


def as_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


# Prices, quantities and stock beyond these are data errors, and DynamoDB and JSON readers
# could not hold them anyway.
MAX_MAGNITUDE = Decimal("1e15")
MIN_MAGNITUDE = Decimal("1e-9")


def as_decimal(value: str | None, what: str) -> Decimal:
    try:
        number = Decimal(value or "")  # the usual case: "231.7400"
    except (InvalidOperation, TypeError):
        cleaned = (value or "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"{what}: «{value}» не является числом") from None
    if not number.is_finite():
        raise ValueError(f"{what}: «{value}» не является числом")
    if number and not MIN_MAGNITUDE <= abs(number) <= MAX_MAGNITUDE:
        raise ValueError(f"{what}: «{value[:40] if value else value}» вне допустимого диапазона (до 10^15)")
    return number


def children(el: Any) -> list[tuple[str, Any]]:
    return [(local(c.tag), c) for c in el if isinstance(c.tag, str)]


def child(el: Any, name: str) -> Any:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def child_text(el: Any, name: str) -> str:
    return text(child(el, name))


def texts(el: Any) -> dict[str, str]:
    """Stripped text of each child, by local name (one pass over a small record).

    Comments and processing instructions are removed by the parser and DTDs are refused, so
    every child is an element."""
    return {local(c.tag): (c.text or "").strip() for c in el}


def raw_texts(el: Any) -> dict[str, str | None]:
    """Unstripped text of each child, by local name (for values that are stripped or parsed later)."""
    return {local(c.tag): c.text for c in el}


class TrackedStream(io.RawIOBase):
    """Remembers whether the underlying stream reached its end (to tell truncation apart)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.at_eof = False
        self.bytes_read = 0
        self.lines = 1

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if not data:
            self.at_eof = True
        self.bytes_read += len(data)
        self.lines += data.count(b"\n")
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class ChainedStream(io.RawIOBase):
    """Reads several byte streams (the chunks of one upload) as one."""

    def __init__(self, streams: Iterable[IO[bytes]]) -> None:
        self.streams = iter(streams)
        self.current: IO[bytes] | None = next(self.streams, None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.current is not None:
            data = self.current.read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            close = getattr(self.current, "close", None)
            if close:
                close()
            self.current = next(self.streams, None)
        return 0
