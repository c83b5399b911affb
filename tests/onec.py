"""A 1C client emulator: drives the exchange the way 1C:Enterprise does (docs/protocol.md §2-4)."""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass
class Reply:
    status: int
    text: str
    headers: dict

    @property
    def keyword(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def lines(self) -> list[str]:
        return self.text.rstrip("\n").split("\n")


@dataclass
class OneC:
    http: object  # chalice.test Client.http
    login: str = "demo"
    password: str = "demo"
    path: str = "/1c_exchange"
    cookie: str | None = None
    sessid: str | None = None
    timestamp: str | None = None
    file_limit: int = 0
    log: list[str] = field(default_factory=list)
    pump: object = None  # drains the import queue between polls

    def _headers(self, auth: bool) -> dict:
        headers = {"User-Agent": "1C+Enterprise/8.3"}
        if auth:
            token = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        if self.cookie:
            headers["Cookie"] = self.cookie
        return headers

    def call(
        self, kind: str, mode: str, body: bytes = b"", auth: bool = False, extra: str = "", **params
    ) -> Reply:
        query = f"type={kind}&mode={mode}"
        for key, value in params.items():
            query += f"&{key}={quote(str(value), safe='')}"
        if self.sessid and mode not in ("checkauth",):
            query += f"&{self.sessid}"  # 1C appends checkauth's fourth line verbatim
        query += extra
        method = "POST" if mode == "file" else "GET"
        headers = self._headers(auth)
        if body:
            headers["Content-Type"] = "application/octet-stream"
        response = self.http.request(method, f"{self.path}?{query}", headers=headers, body=body)
        text = response.body.decode("utf-8") if isinstance(response.body, bytes) else response.body
        reply = Reply(response.status_code, text, dict(response.headers))
        self.log.append(f"{method} {mode} {params.get('filename', '')} -> {reply.keyword}")
        return reply

    def checkauth(self, kind: str = "catalog") -> Reply:
        self.cookie = self.sessid = None
        reply = None
        for _ in range(2):  # 1C may call checkauth twice in a row
            reply = self.call(kind, "checkauth", auth=True)
        if reply.keyword == "success":
            name, value, sessid, timestamp = reply.lines[1:5]
            self.cookie, self.sessid, self.timestamp = f"{name}={value}", sessid, timestamp.split("=", 1)[1]
        return reply

    def init(self, kind: str = "catalog", **params) -> Reply:
        reply = self.call(kind, "init", **params)
        settings = dict(line.split("=", 1) for line in reply.lines if "=" in line)
        self.file_limit = int(settings.get("file_limit", 0))
        return reply

    def upload(self, kind: str, filename: str, data: bytes) -> list[Reply]:
        step = self.file_limit or len(data)
        return [
            self.call(kind, "file", data[i : i + step], filename=filename) for i in range(0, len(data), step)
        ]

    def import_file(self, filename: str, kind: str = "catalog", max_polls: int = 200) -> Reply:
        reply = self.call(kind, "import", filename=filename)
        polls = 0
        while reply.keyword == "progress" and polls < max_polls:
            if self.pump:
                self.pump.drain()
            reply = self.call(kind, "import", filename=filename)
            polls += 1
        return reply

    def send_file(self, filename: str, data: bytes, kind: str = "catalog") -> Reply:
        """One 1C session per file: checkauth, init, file chunks, import until done."""
        assert self.checkauth(kind).keyword == "success"
        assert self.init(kind, version="2.08").lines[0] == "zip=yes"
        for reply in self.upload(kind, filename, data):
            assert reply.keyword == "success", reply.text
        return self.import_file(filename, kind)

    def send_zip(
        self, members: dict[str, bytes], xml_order: list[str], name: str = "v8_1065_3a.zip"
    ) -> list[Reply]:
        """zip=yes: one archive, then `import` for each XML inside it."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        assert self.checkauth().keyword == "success"
        self.init(version="2.08")
        for reply in self.upload("catalog", name, buffer.getvalue()):
            assert reply.keyword == "success", reply.text
        return [self.import_file(xml) for xml in xml_order]
