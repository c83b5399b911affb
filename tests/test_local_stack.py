"""`make run`'s process: up within 60 s, /health answers, the exchange URL speaks the protocol."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a subprocess: an end-to-end flow

ROOT = Path(__file__).resolve().parents[1]


def test_local_stack_serves_health_and_the_exchange(live_stack):
    """The process `make run` starts (shared with the race and browser tests): its banner, its demo
    tenant, a whole exchange and the product it lands."""
    assert any("1C exchange URL" in line for line in live_stack.output)
    status, body = live_stack.http("GET", "/health")
    assert status == 200 and b"ok" in body
    auth = base64.b64encode(b"demo:demo").decode()
    status, body = live_stack.http(
        "GET", "/1c_exchange?type=catalog&mode=checkauth", headers={"Authorization": f"Basic {auth}"}
    )
    lines = body.decode().split("\n")
    assert status == 200 and lines[0] == "success" and lines[1] == "CMLBRIDGE"
    base = f"/1c_exchange?type=catalog&{lines[3]}"
    assert live_stack.http("GET", f"{base}&mode=init")[1].decode().startswith("zip=yes\nfile_limit=")
    catalog = (ROOT / "tests" / "fixtures" / "catalog-cp1251.xml").read_bytes()
    octets = {"Content-Type": "application/octet-stream"}
    body = live_stack.http("POST", f"{base}&mode=file&filename=import.xml", catalog, octets)[1]
    assert body.decode().startswith("success")
    answer, deadline = "progress", time.monotonic() + 30
    while answer.startswith("progress") and time.monotonic() < deadline:
        answer = live_stack.http("GET", f"{base}&mode=import&filename=import.xml")[1].decode()
        time.sleep(0.3)
    assert answer.startswith("success"), answer  # the stack's own queue thread ran the worker
    key = {"X-Api-Key": "demo-key"}
    status, body = live_stack.http("GET", "/api/v1/products/prod-1", headers=key)
    assert status == 200 and json.loads(body)["name"] == "Куртка зимняя «Ёлка»"
