"""The exchange's ids as values: made, printed and read back in one place each.

  session token  `{checkauth time, ms, 12 hex}{20 random hex}`: sorts by time, guesses nothing
  upload area    `{token}-{n}`: the n-th `init` of the session (each init opens a new one)
  job            `{area}#{file}` for a file; `{token}#~deactivate#{timestamp}`; `~cards#{ms}`
Stores keep their text; everything else goes through these."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

_TIME_DIGITS = 12


@dataclass(frozen=True)
class SessionToken:
    value: str

    @classmethod
    def new(cls) -> SessionToken:
        return cls(f"{int(time.time() * 1000):0{_TIME_DIGITS}x}{secrets.token_hex(10)}")

    @staticmethod
    def prefix_at(millis: int) -> str:
        """The text every token issued at or after `millis` sorts at or above."""
        return f"{millis:0{_TIME_DIGITS}x}"

    @property
    def began_ms(self) -> int | None:
        """When checkauth issued it (None for a token not made here)."""
        try:
            return int(self.value[:_TIME_DIGITS], 16)
        except ValueError:
            return None

    def area(self, number: int) -> AreaId:
        return AreaId(self, number)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class AreaId:
    session: SessionToken
    number: int

    @classmethod
    def parse(cls, text: str) -> AreaId | None:
        token, sep, number = text.rpartition("-")
        return cls(SessionToken(token), int(number)) if sep and token and number.isdigit() else None

    def __str__(self) -> str:
        return f"{self.session}-{self.number}"


@dataclass(frozen=True)
class JobId:
    scope: str  # an area, or a session with `#~deactivate`, or `~cards`
    name: str  # the file, or the deactivation's timestamp, or the rebuild's time

    @classmethod
    def for_file(cls, area: str, filename: str) -> JobId:
        return cls(area, filename)

    @classmethod
    def deactivation(cls, session: str, timestamp: str) -> JobId:
        return cls(f"{session}#~deactivate", timestamp)

    @classmethod
    def rebuild(cls) -> JobId:
        return cls("~cards", str(int(time.time() * 1000)))

    @classmethod
    def owed_cards(cls, session: str, first_job: str) -> JobId:
        """The job that builds the cards products-only files left (exchange/owed.py): one per
        first such file, in that file's exchange."""
        return cls(f"{session}#~cards", hashlib.blake2b(first_job.encode(), digest_size=6).hexdigest())

    def __str__(self) -> str:
        return f"{self.scope}#{self.name}"
