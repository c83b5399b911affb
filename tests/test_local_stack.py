"""`make run`'s process: up within 60 s, /health answers, the exchange URL speaks the protocol."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
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
        status, body = _get(f"http://127.0.0.1:{port}/1c_exchange?type=catalog&mode=init&{lines[3]}")
        assert body.decode().startswith("zip=yes\nfile_limit=")
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "1C exchange URL" in output
