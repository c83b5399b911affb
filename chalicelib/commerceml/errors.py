"""The one error the CommerceML package raises: where, and why, in a consultant's words."""

from __future__ import annotations


class CommerceMLError(Exception):
    def __init__(
        self, reason: str, filename: str | None = None, line: int | None = None, path: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.filename = filename
        self.line = line
        self.path = path

    def __str__(self) -> str:
        where = [part for part in (self.filename, f"строка {self.line}" if self.line else None) if part]
        if self.path:
            where.append(self.path)
        return f"{', '.join(where)}: {self.reason}" if where else self.reason
