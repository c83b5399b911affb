"""`make run`'s process: up within 60 s, /health answers, the exchange URL speaks the protocol."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a subprocess: an end-to-end flow

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict | None = None, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {}, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_local_stack_serves_health_and_the_exchange():
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STAGE"))}
    env.update({"PORT": str(port), "MOTO_PORT": str(_port())})
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/health")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200 and b"ok" in body
        auth = base64.b64encode(b"demo:demo").decode()
        status, body = _get(
            f"http://127.0.0.1:{port}/1c_exchange?type=catalog&mode=checkauth",
            {"Authorization": f"Basic {auth}"},
        )
        lines = body.decode().split("\n")
        assert status == 200 and lines[0] == "success" and lines[1] == "CMLBRIDGE"
        base = f"http://127.0.0.1:{port}/1c_exchange?type=catalog"
        status, body = _get(f"{base}&mode=init&{lines[3]}")
        assert body.decode().startswith("zip=yes\nfile_limit=")
        catalog = (ROOT / "tests" / "fixtures" / "catalog-cp1251.xml").read_bytes()
        octets = {"Content-Type": "application/octet-stream"}
        status, body = _get(f"{base}&mode=file&filename=import.xml&{lines[3]}", octets, catalog)
        assert body.decode().startswith("success")
        answer = "progress"
        deadline = time.monotonic() + 30
        while answer.startswith("progress") and time.monotonic() < deadline:
            answer = _get(f"{base}&mode=import&filename=import.xml&{lines[3]}")[1].decode()
            time.sleep(0.3)
        assert answer.startswith("success"), answer  # the stack's own queue thread ran the worker
        key = {"X-Api-Key": "demo-key"}
        status, body = _get(f"http://127.0.0.1:{port}/api/v1/changes", key)
        product = next(c["id"] for c in json.loads(body)["changes"] if c["type"] == "product")
        status, body = _get(f"http://127.0.0.1:{port}/api/v1/products/{product}", key)
        assert status == 200 and json.loads(body)["name"] == "Куртка зимняя «Ёлка»"
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "1C exchange URL" in output
