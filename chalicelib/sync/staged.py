"""The one format of staged changes (a parse writes them, the apply phase reads them): a JSON line
per change, `{"k", "i", "d", "a"}` for a record to put (`"c": 1` when the record is new: nothing to
read of its past), `{"x", "i"}` for an entity to switch off. Pure."""

from __future__ import annotations

import json

from chalicelib.sync.diff import Change, Deactivate, Put
from chalicelib.sync.records import Record


def encode(change: Change) -> bytes:
    if isinstance(change, Put):
        r = change.record
        line = {"k": r.kind, "i": r.id, "d": r.doc, "a": r.active, **({"c": 1} if change.created else {})}
    else:
        line = {"x": change.kind, "i": change.id}
    return json.dumps(line, ensure_ascii=False).encode() + b"\n"


def decode(line: bytes) -> Change:
    data = json.loads(line)
    if "x" in data:
        return Deactivate(data["x"], data["i"])
    return Put(Record(data["k"], data["i"], data["d"], data["a"]), created=bool(data.get("c")))


def record_key(change: Change) -> str:
    """The key repeated records are counted by (`kind:id`)."""
    return (
        f"{change.record.kind}:{change.record.id}"
        if isinstance(change, Put)
        else f"~{change.kind}:{change.id}"
    )
