"""Mutated and truncated real files: the reader raises CommerceMLError or succeeds, nothing else."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.commerceml import CommerceMLError, read

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
_SOURCES = [
    SAMPLES / "dobromyslov__commerceml-parser/data/offers0_1.xml",
    SAMPLES / "irpsv__commerceml/tests/assets/ready-script/import.xml",
    SAMPLES / "ArgentCrusade__commerceml/tests/fixtures/documents-example.xml",
    SAMPLES / "gillbeits__commerceml/tests/import.xml",
]
CORPUS = [p.read_bytes() for p in [*_SOURCES, *FIXTURES.glob("*.xml")] if p.exists()]


def consume(data: bytes) -> None:
    try:
        for _ in read(io.BytesIO(data), "fuzz.xml"):
            pass
    except CommerceMLError as exc:
        assert str(exc)


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b">",
                        b"&",
                        b"&amp;",
                        b"<!DOCTYPE x>",
                        b"\x00",
                        b"]]>",
                        b"-1e999",
                        b",",
                        "Товар".encode(),
                    ]
                )
            )
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 50))]
        elif op == "truncate":
            del data[pos:]
        elif op == "splice":
            other = draw(st.sampled_from(CORPUS))
            start = draw(st.integers(0, len(other) - 1))
            data[pos:pos] = other[start : start + draw(st.integers(1, 300))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_fail_only_with_commerceml_error(data):
    consume(data)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CORPUS), st.floats(0, 1))
def test_truncated_files_fail_only_with_commerceml_error(data, fraction):
    consume(data[: int(len(data) * fraction)])
