"""Twins of the exchange room's stores: sessions, uploads, jobs, leases, throttle; blobs; the queue."""

from __future__ import annotations

import copy
import io
import threading
import time
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import quote

from chalicelib.aws.exchange_store import MAX_JOURNAL_CALLS, job_of, session_of, upload_of
from chalicelib.ids import SessionToken
from chalicelib.importjob import ImportJob, JobChanged
from chalicelib.ports import Upload


class InMemoryExchangeStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = threading.RLock()

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.items.get((pk, sk))
        return copy.deepcopy(item) if item is not None else None

    def _query(self, pk: str, begins: str = "", newest_first: bool = False) -> list[dict[str, Any]]:
        found = [copy.deepcopy(v) for (p, s), v in self.items.items() if p == pk and s.startswith(begins)]
        return sorted(found, key=lambda i: i["sk"], reverse=newest_first)

    def _update(self, pk: str, sk: str, values: dict[str, Any]) -> dict[str, Any]:
        item = self.items.setdefault((pk, sk), {"pk": pk, "sk": sk})
        item.update(copy.deepcopy(values))
        return item

    # -- sessions -------------------------------------------------------------------------------
    def create_session(self, tenant: str, token: str, item: dict[str, Any]) -> None:
        self.items[(f"{tenant}#session", token)] = {
            "pk": f"{tenant}#session",
            "sk": token,
            "calls": [],
            **item,
        }

    def get_session(self, tenant: str, token: str) -> dict[str, Any] | None:
        item = self._get(f"{tenant}#session", token)
        return session_of(item) if item else None

    def latest_sessions(
        self, tenant: str, limit: int = 20, before: str | None = None
    ) -> list[dict[str, Any]]:
        found = self._query(f"{tenant}#session", newest_first=True)
        return [session_of(i) for i in found if not before or i["sk"] < before][:limit]

    def update_session(self, tenant: str, token: str, **values: Any) -> None:
        self._update(f"{tenant}#session", token, values)

    def note_refused_login(self, tenant: str, entry: dict[str, Any]) -> None:
        now = time.time()
        self._update(f"{tenant}#refused", f"{int(now * 1000):013d}", {**entry, "at": int(now)})

    def refused_logins(self, tenant: str, limit: int = 10) -> list[dict[str, Any]]:
        found = self._query(f"{tenant}#refused", newest_first=True)[:limit]
        return [{k: v for k, v in i.items() if k not in ("pk", "sk")} for i in found]

    def start_area(self, tenant: str, token: str, **values: Any) -> int:
        with self.lock:
            item = self._update(f"{tenant}#session", token, values)
            item["init_count"] = int(item.get("init_count", 0)) + 1
            return int(item["init_count"])

    def log_call(self, tenant: str, token: str, line: str) -> None:
        with self.lock:
            key = (f"{tenant}#session", token)
            exists = key in self.items
            item = self._update(*key, {})
            item["call_count"] = int(item.get("call_count", 0)) + 1
            if exists and len(item.setdefault("calls", [])) < MAX_JOURNAL_CALLS:
                item["calls"].append(line)

    # -- uploaded files -------------------------------------------------------------------------
    def add_chunk(self, tenant: str, area: str, filename: str, digest: str, size: int, restart: bool) -> int:
        with self.lock:
            item = self._update(f"{tenant}#upload", f"{area}#{filename}", {"updated_at": int(time.time())})
            if restart:
                item.update(parts=[digest], size_bytes=size, restarts=int(item.get("restarts", 0)) + 1)
            else:
                item.setdefault("parts", []).append(digest)
                item["size_bytes"] = int(item.get("size_bytes", 0)) + size
            return len(item["parts"])

    def uploaded_file(self, tenant: str, area: str, filename: str) -> Upload | None:
        item = self._get(f"{tenant}#upload", f"{area}#{filename}")
        return upload_of(item) if item else None

    def uploaded_files(self, tenant: str, area: str, whole_session: bool = False) -> list[Upload]:
        return [
            upload_of(i) for i in self._query(f"{tenant}#upload", f"{area}-" if whole_session else f"{area}#")
        ]

    def set_pointer(self, tenant: str, name: str, value: str) -> None:
        self.items[(f"{tenant}#upload", f"~{name}")] = {
            "pk": f"{tenant}#upload",
            "sk": f"~{name}",
            "value": value,
        }

    def pointer(self, tenant: str, name: str) -> str | None:
        item = self._get(f"{tenant}#upload", f"~{name}")
        return item["value"] if item else None

    # -- jobs -----------------------------------------------------------------------------------
    def create_job(self, tenant: str, job: ImportJob) -> bool:
        with self.lock:
            if (f"{tenant}#job", job.id) in self.items:
                return False
            self.items[(f"{tenant}#job", job.id)] = {"pk": f"{tenant}#job", "sk": job.id, **job.to_item()}
            return True

    def get_job(self, tenant: str, job_id: str) -> ImportJob | None:
        item = self._get(f"{tenant}#job", job_id)
        return job_of(item) if item else None

    def save_job(self, tenant: str, job: ImportJob) -> None:
        if not job.changed:
            return
        with self.lock:
            item = self.items.get((f"{tenant}#job", job.id))
            if item is None or int(item.get("version", 0)) != job.version:
                raise JobChanged(job.id)
            self._update(f"{tenant}#job", job.id, {**job.changes(), "version": job.version + 1})
        job.saved()

    def jobs(self, tenant: str, prefix: str = "", limit: int = 100) -> list[ImportJob]:
        return [job_of(i) for i in self._query(f"{tenant}#job", prefix, newest_first=True)[:limit]]

    def jobs_since(self, tenant: str, since_ms: int) -> list[ImportJob]:
        return [
            job_of(i) for i in self._query(f"{tenant}#job") if i["sk"] >= SessionToken.prefix_at(since_ms)
        ]

    # -- the per-tenant import lease ------------------------------------------------------------
    def acquire_lease(self, tenant: str, owner: str, seconds: int) -> bool:
        with self.lock:
            now, item = int(time.time()), self.items.get((f"{tenant}#lock", "import"))
            if item and item["lease_until"] >= now and item["owner"] != owner:
                return False
            self.items[(f"{tenant}#lock", "import")] = {"owner": owner, "lease_until": now + seconds}
            return True

    def renew_lease(self, tenant: str, owner: str, seconds: int) -> bool:
        with self.lock:
            item = self.items.get((f"{tenant}#lock", "import"))
            if not item or item["owner"] != owner:
                return False
            item["lease_until"] = int(time.time()) + seconds
            return True

    def release_lease(self, tenant: str, owner: str) -> None:
        with self.lock:
            item = self.items.get((f"{tenant}#lock", "import"))
            if item and item["owner"] == owner:
                del self.items[(f"{tenant}#lock", "import")]

    # -- login throttle ---------------------------------------------------------------------------
    def take_attempt(self, key: str, limit: int, window_seconds: int) -> int:
        with self.lock:
            now, item = int(time.time()), self.items.get((f"throttle#{key}", "login"))
            if item is None or item["expires_at"] <= now:
                self.items[(f"throttle#{key}", "login")] = {"attempts": 1, "expires_at": now + window_seconds}
                return 0
            if item["attempts"] >= limit:
                return int(item["expires_at"] - now)
            item["attempts"] += 1
            return 0

    def clear_attempts(self, key: str) -> None:
        self.items.pop((f"throttle#{key}", "login"), None)

    # -- sessions opened by Basic auth alone ------------------------------------------------------
    def basic_session(self, tenant: str, caller: str) -> str | None:
        item = self.items.get((f"{tenant}#basic", caller))
        return item["token"] if item and item["valid_until"] >= time.time() else None

    def set_basic_session(self, tenant: str, caller: str, token: str, valid_until: int) -> None:
        self.items[(f"{tenant}#basic", caller)] = {"token": token, "valid_until": valid_until}


class InMemoryBlobStore:
    def __init__(self, bucket: str = "memory") -> None:
        self.bucket = bucket
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.attachments: set[str] = set()  # keys stored with Content-Disposition: attachment

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        create_only: bool = False,
        attachment: bool = False,
    ) -> bool:
        if create_only and key in self.objects:
            return False
        self.objects[key] = (bytes(data), content_type)
        if attachment:
            self.attachments.add(key)
        return True

    def upload(self, key: str, fileobj: IO[bytes], content_type: str = "application/octet-stream") -> None:
        self.objects[key] = (fileobj.read(), content_type)

    def get(self, key: str) -> bytes | None:
        found = self.objects.get(key)
        return found[0] if found else None

    def copy(self, source: str, target: str) -> None:
        self.objects[target] = self.objects[source]

    def open(self, key: str) -> IO[bytes]:
        return io.BytesIO(self.objects[key][0])

    def download(self, key: str, fileobj: IO[bytes]) -> None:
        fileobj.write(self.objects[key][0])

    def size(self, key: str) -> int | None:
        found = self.objects.get(key)
        return len(found[0]) if found else None

    def keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def url(self, key: str, expires: int = 3600, download_as: str | None = None) -> str:
        download = f"&download={quote(download_as, safe='')}" if download_as is not None else ""
        return f"memory://{self.bucket}/{key}?expires={expires}{download}"

    def head(self, key: str, length: int) -> bytes:
        return self.objects[key][0][:length]


class InMemoryJobQueue:
    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, Any], int]] = []

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self.messages.append((copy.deepcopy(message), delay_seconds))

    def take(self) -> list[dict[str, Any]]:
        """The messages sent so far (tests drain them into the worker)."""
        taken, self.messages = [m for m, _ in self.messages], []
        return taken


class InMemoryConsoleStore:
    """The console store's twin."""

    def __init__(self) -> None:
        self.users_: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.journal: dict[str, list[dict[str, Any]]] = {}

    def put_user(self, user: dict[str, Any]) -> None:
        self.users_[user["email"]] = copy.deepcopy(user)

    def user(self, email: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.users_.get(email))

    def delete_user(self, email: str) -> None:
        self.users_.pop(email, None)

    def users(self, tenant: str | None) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(u)
            for _, u in sorted(self.users_.items())
            if tenant is None or u.get("tenant") == tenant
        ]

    def put_session(self, key: str, item: dict[str, Any]) -> None:
        self.sessions[key] = copy.deepcopy(item)

    def session(self, key: str) -> dict[str, Any] | None:
        item = self.sessions.get(key)
        return copy.deepcopy(item) if item and int(item.get("expires_at", 0)) >= time.time() else None

    def delete_session(self, key: str) -> None:
        self.sessions.pop(key, None)

    def record(self, tenant: str, entry: dict[str, Any]) -> None:
        self.journal.setdefault(tenant, []).append({"at": int(time.time()), **copy.deepcopy(entry)})

    def actions(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        return list(reversed(self.journal.get(tenant, [])))[:limit]
