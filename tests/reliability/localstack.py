"""The local stack (`make run`) as a subprocess for tests that need real concurrency: HTTP over
loopback, the stack's own queue and schedule threads, DynamoDB Local for atomic conditions."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.local.dynamodb_local import free_port
from tests.conftest import ROOT


@dataclass
class LocalStack:
    process: subprocess.Popen
    port: int
    moto_port: int
    output: list[str] = field(default_factory=list)
    tls: Path | None = None  # `make run TLS=1`: the provider CA's folder

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def client_context(self, certificate: Path | None = None) -> ssl.SSLContext | None:
        """What a client of the TLS stack trusts (its CA) and presents (`name.crt` + `name.key`)."""
        if self.tls is None:
            return None
        context = ssl.create_default_context(cafile=self.tls / "ca.crt")
        if certificate is not None:
            context.load_cert_chain(certificate.with_suffix(".crt"), certificate.with_suffix(".key"))
        return context

    @property
    def dynamodb_endpoint(self) -> str | None:
        for line in self.output:
            if "DynamoDB: DynamoDB Local at " in line:
                return line.rsplit(" ", 1)[-1].strip()
        return None

    def http(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float = 60,
        certificate: Path | None = None,
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"{self.base}{path}", data=body, headers=headers or {}, method=method
        )
        context = self.client_context(certificate)
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def exchange(self, login: str, password: str, filename: str, data: bytes, polls: int = 240) -> str:
        """One whole 1C session for a file over HTTP; the final answer's text."""
        auth = {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}
        lines = (
            self.http("GET", "/1c_exchange?type=catalog&mode=checkauth", headers=auth)[1].decode().split("\n")
        )
        assert lines[0] == "success", lines
        sessid = lines[3]
        base = f"/1c_exchange?type=catalog&{sessid}"
        limit = int(self.http("GET", f"{base}&mode=init")[1].decode().split("\n")[1].split("=")[1])
        octets = {"Content-Type": "application/octet-stream"}
        for start in range(0, len(data), limit):
            reply = self.http(
                "POST", f"{base}&mode=file&filename={filename}", data[start : start + limit], octets
            )
            assert reply[1].startswith(b"success"), reply
        answer = "progress"
        for _ in range(polls):
            answer = self.http("GET", f"{base}&mode=import&filename={filename}")[1].decode()
            if not answer.startswith("progress"):
                break
            time.sleep(0.5)  # 1C asks again at once; tests space their polls to spare the stack's CPU
        return answer

    def api(self, method: str, path: str, key: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"X-Api-Key": key, "Content-Type": "application/json", **(headers or {})}
        status, raw = self.http(method, f"/api/v1{path}", data, all_headers)
        return status, json.loads(raw) if raw else {}

    @contextmanager
    def admin(self) -> Iterator[object]:
        """This process's adapters pointed at the stack's services (seeding tenants, settings)."""
        from chalicelib import wiring

        saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")}
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{self.moto_port}"
        if self.dynamodb_endpoint:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint
        wiring.reset()
        try:
            yield wiring
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            wiring.reset()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(
    schedule_seconds: float = 1, timeout: float = 90, dynamodb: str | None = None, tls: Path | None = None
) -> LocalStack:
    """`dynamodb`: the endpoint of a DynamoDB Local already running (the suite's), "moto", else its own;
    `tls`: serve HTTPS with client certificates, its provider CA in that folder."""
    port, moto_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STAGE"))}
    env.update(
        {
            "PORT": str(port),
            "MOTO_PORT": str(moto_port),
            "LOCAL_SCHEDULE_SECONDS": str(schedule_seconds),
            "LOG_LEVEL": "INFO",  # `make run`'s readable lines, which the races read
        }
    )
    if dynamodb == "moto":
        env["DYNAMODB"] = "moto"
    elif dynamodb:
        env["DYNAMODB_LOCAL_ENDPOINT"] = dynamodb
    if tls:
        env.update({"LOCAL_TLS": "1", "CMLBRIDGE_CA_DIR": str(tls)})
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = LocalStack(process, port, moto_port, tls=tls)

    def drain() -> None:  # the stack logs every call: keep its pipe from filling up
        for line in process.stdout:
            if len(stack.output) < 5000:
                stack.output.append(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("local stack exited:\n" + "".join(stack.output[-40:]))
        if any("Press Ctrl-C" in line for line in stack.output):
            try:
                if stack.http("GET", "/health", timeout=2)[0] == 200:
                    return stack
            except OSError:
                pass
        time.sleep(0.3)
    stack.stop()
    raise RuntimeError("local stack did not start:\n" + "".join(stack.output[-40:]))
