"""Diffing: (known fingerprints, incoming records, full|incremental) → change set. Pure.

The index holds, per entity, the fingerprints of its records (an offer has three: description,
prices, stock) and whether it is active, packed into one int so a 500k-entity catalog fits in a
small Lambda. A record whose fingerprint and active flag are unchanged costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from chalicelib.sync.records import DEACTIVATABLE, Record

_BITS = 40
_MASK = (1 << _BITS) - 1
_ACTIVE = 1 << (3 * _BITS)
_PUT_SHIFT = 3  # in Differ.seen: bits 0-2 the slots listed, bits 3-5 the slots with a staged Put


def fingerprint(doc: str) -> int:
    """A 40-bit fingerprint, never 0 (0 marks an absent record)."""
    return int.from_bytes(hashlib.blake2b(doc.encode(), digest_size=5).digest(), "big") or 1


class Index:
    """entity key → packed fingerprints of its records and its active flag."""

    def __init__(self, entries: dict[str, int] | None = None) -> None:
        self.entries: dict[str, int] = entries if entries is not None else {}

    def state(self, entity: str, slot: int) -> tuple[int, bool]:
        packed = self.entries.get(entity, 0)
        return (packed >> (slot * _BITS)) & _MASK, bool(packed & _ACTIVE)

    def knows(self, entity: str) -> bool:
        return entity in self.entries

    def set(self, entity: str, slot: int, fp: int, active: bool | None) -> None:
        packed = self.entries.get(entity, 0)
        packed = (packed & ~(_MASK << (slot * _BITS))) | (fp << (slot * _BITS))
        if active is not None:
            packed = packed | _ACTIVE if active else packed & ~_ACTIVE
        self.entries[entity] = packed

    def active_entities(self, kinds: Iterable[str]) -> Iterator[str]:
        prefixes = tuple(f"{k}:" for k in kinds)
        for entity, packed in self.entries.items():
            if packed & _ACTIVE and entity.startswith(prefixes):
                yield entity

    def know_unwritten(self, other: Index) -> None:
        """Entities another index knows and this one does not, with their active flag and no
        fingerprint: a later import writes them again, a full one deactivates them by absence."""
        for entity, packed in other.entries.items():
            if entity not in self.entries:
                self.entries[entity] = packed & _ACTIVE

    def dump(self, out: IO[bytes]) -> None:
        """One line per entity (JSON key, tab, hex), written as a stream."""
        for key, packed in self.entries.items():
            out.write(f"{json.dumps(key, ensure_ascii=False)}\t{packed:x}\n".encode())

    @classmethod
    def load(cls, lines: Iterable[bytes]) -> Index:
        entries = {}
        for line in lines:
            key, _, packed = line.rstrip(b"\n").rpartition(b"\t")
            if key:
                entries[json.loads(key)] = int(packed, 16)
        return cls(entries)


@dataclass(frozen=True, slots=True)
class Put:
    record: Record
    created: bool


@dataclass(frozen=True, slots=True)
class Deactivate:
    kind: str
    id: str


Change = Put | Deactivate


@dataclass
class Differ:
    """Feed it a file's records; it yields only the changes and updates the index as it goes."""

    index: Index
    seen: dict[str, int] = field(default_factory=dict)  # entity key -> bitmask of slots listed
    # record key -> how many Puts of it the file staged, for records listed more than once
    repeated_puts: dict[str, int] = field(default_factory=dict)

    counts: Counter[str] = field(default_factory=Counter)

    def keep(self, entity: str) -> None:
        """A listed entity whose record was skipped: left as it is, and counted as listed."""
        self.seen[entity] = self.seen.get(entity, 0) | 1

    def visit(self, record: Record) -> Change | None:
        entity, slot = record.entity, record.slot
        listed = self.seen.get(entity, 0)
        repeat = bool(listed & (1 << slot))
        if repeat:  # a record listed twice in one file: the last one wins
            self.counts["repeated"] += 1
        old_fp, was_active = self.index.state(entity, slot)
        fp = fingerprint(record.doc)
        # The description record carries the entity's active flag; prices and stock do not.
        carries_flag = slot == 0
        unchanged = old_fp == fp and (not carries_flag or was_active == record.active)
        if unchanged:
            self.seen[entity] = listed | (1 << slot)
            if not repeat:
                self.counts["unchanged"] += 1
            return None
        if not repeat:
            created = old_fp == 0
            self.counts["created" if created else "updated"] += 1
        if carries_flag and was_active and not record.active:
            self.counts["deactivated"] += 1
        self.index.set(entity, slot, fp, record.active if carries_flag else None)
        put_bit = 1 << (slot + _PUT_SHIFT)
        if listed & put_bit:  # an earlier Put of this record is staged: only the last is written
            key = f"{record.kind}:{record.id}"
            self.repeated_puts[key] = self.repeated_puts.get(key, 1) + 1
        self.seen[entity] = listed | (1 << slot) | put_bit
        return Put(record, old_fp == 0)

    def deactivate_all_but(self, keep: Container[str], kinds: Iterable[str]) -> Iterator[Deactivate]:
        kinds = [k for k in kinds if k in DEACTIVATABLE]
        for entity in list(self.index.active_entities(kinds)):
            if entity in keep:
                continue
            kind, _, entity_id = entity.partition(":")
            self.index.set(entity, 0, self.index.state(entity, 0)[0], False)
            self.counts["deactivated"] += 1
            yield Deactivate(kind, entity_id)
