"""Exchange table adapter: 1C sessions (and their journal), uploaded files, import jobs, the
per-tenant import lease and the failed-login throttle. Every key starts with the tenant,
except the throttle, which is keyed by the caller's address before any tenant is known."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chalicelib.aws.clients import conditional_failed, query_all, resource
from chalicelib.ids import SessionToken
from chalicelib.importjob import ImportJob, JobChanged
from chalicelib.ports import Upload
from chalicelib.values import json_number

JOURNAL_DAYS = 30
MAX_JOURNAL_CALLS = 300


def session_of(item: dict[str, Any]) -> dict[str, Any]:
    """A session item as use cases see it: its token by name, no keys."""
    return {**{k: plain(v) for k, v in item.items() if k not in ("pk", "sk")}, "token": item["sk"]}


def upload_of(item: dict[str, Any]) -> Upload:
    return Upload.from_key(item["sk"], plain(item))


def job_of(item: dict[str, Any]) -> ImportJob:
    return ImportJob.from_item(item["sk"], plain(item))


def plain(value: Any) -> Any:
    """DynamoDB Decimals → int/float for callers and JSON."""
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class ExchangeStore:
    def __init__(self, table_name: str) -> None:
        self.table = resource("dynamodb").Table(table_name)

    @staticmethod
    def _retention() -> int:
        return int(time.time()) + JOURNAL_DAYS * 86400

    # -- sessions -------------------------------------------------------------------------------
    def create_session(self, tenant: str, token: str, item: dict[str, Any]) -> None:
        self.table.put_item(
            Item={
                "pk": f"{tenant}#session",
                "sk": token,
                "expires_at": self._retention(),
                "calls": [],
                **item,
            }
        )

    def get_session(self, tenant: str, token: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": f"{tenant}#session", "sk": token}, ConsistentRead=True).get(
            "Item"
        )
        return session_of(item) if item else None

    def latest_sessions(
        self, tenant: str, limit: int = 20, before: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest first; with `before`, those opened before that session (a page further back)."""
        condition = Key("pk").eq(f"{tenant}#session")
        if before:
            condition &= Key("sk").lt(before)
        items = self.table.query(KeyConditionExpression=condition, ScanIndexForward=False, Limit=limit)[
            "Items"
        ]
        return [session_of(i) for i in items]

    def note_refused_login(self, tenant: str, entry: dict[str, Any]) -> None:
        """A 1C login of this tenant refused (wrong password, no certificate): kept 30 days."""
        now = time.time()
        item = {
            "pk": f"{tenant}#refused",
            "sk": f"{int(now * 1000):013d}",
            "expires_at": int(now) + 30 * 86_400,
        }
        self.table.put_item(Item={**item, **entry, "at": int(now)})

    def refused_logins(self, tenant: str, limit: int = 10) -> list[dict[str, Any]]:
        items = self.table.query(
            KeyConditionExpression=Key("pk").eq(f"{tenant}#refused"), ScanIndexForward=False, Limit=limit
        )["Items"]
        return [plain({k: v for k, v in i.items() if k not in ("pk", "sk", "expires_at")}) for i in items]

    def _set(self, pk: str, sk: str, values: dict[str, Any]) -> None:
        self.table.update_item(
            Key={"pk": pk, "sk": sk},
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
            ExpressionAttributeNames={f"#{k}": k for k in values},
            ExpressionAttributeValues={f":{k}": v for k, v in values.items()},
        )

    def update_session(self, tenant: str, token: str, **values: Any) -> None:
        self._set(f"{tenant}#session", token, values)

    def start_area(self, tenant: str, token: str, **values: Any) -> int:
        """`init`: a new upload area for the session; returns its number."""
        expression = "ADD init_count :one"
        if values:
            expression += " SET " + ", ".join(f"#{k} = :{k}" for k in values)
        kwargs: dict[str, Any] = {"ExpressionAttributeNames": {f"#{k}": k for k in values}} if values else {}
        result = self.table.update_item(
            Key={"pk": f"{tenant}#session", "sk": token},
            UpdateExpression=expression,
            ExpressionAttributeValues={":one": 1, **{f":{k}": v for k, v in values.items()}},
            ReturnValues="UPDATED_NEW",
            **kwargs,
        )
        return int(result["Attributes"]["init_count"])

    def log_call(self, tenant: str, token: str, line: str) -> None:
        """Append to the session's journal (bounded; later calls are only counted)."""
        try:
            self.table.update_item(
                Key={"pk": f"{tenant}#session", "sk": token},
                UpdateExpression="SET calls = list_append(if_not_exists(calls, :empty), :line) ADD call_count :one",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(calls) OR size(calls) < :max)",
                ExpressionAttributeValues={
                    ":line": [line],
                    ":empty": [],
                    ":one": 1,
                    ":max": MAX_JOURNAL_CALLS,
                },
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            self.table.update_item(
                Key={"pk": f"{tenant}#session", "sk": token},
                UpdateExpression="ADD call_count :one",
                ExpressionAttributeValues={":one": 1},
            )

    # -- uploaded files -------------------------------------------------------------------------
    def add_chunk(self, tenant: str, area: str, filename: str, digest: str, size: int, restart: bool) -> int:
        """Append the next chunk of a file (or start it again); returns the chunk count. Chunks
        are appended as they come, like the protocol's `fopen(..., "ab")`: two equal chunks in a
        row are two chunks of a file whose content repeats."""
        now = int(time.time())
        values: dict[str, Any] = {":parts": [digest], ":now": now, ":exp": self._retention(), ":size": size}
        if restart:
            expression = "SET parts = :parts, size_bytes = :size, updated_at = :now, expires_at = :exp ADD restarts :one"
            values[":one"] = 1
        else:
            expression = (
                "SET parts = list_append(if_not_exists(parts, :empty), :parts), "
                "updated_at = :now, expires_at = :exp ADD size_bytes :size"
            )
            values[":empty"] = []
        result = self.table.update_item(
            Key={"pk": f"{tenant}#upload", "sk": f"{area}#{filename}"},
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_NEW",
        )
        return len(result["Attributes"]["parts"])

    def uploaded_file(self, tenant: str, area: str, filename: str) -> Upload | None:
        item = self.table.get_item(
            Key={"pk": f"{tenant}#upload", "sk": f"{area}#{filename}"}, ConsistentRead=True
        ).get("Item")
        return upload_of(item) if item else None

    def uploaded_files(self, tenant: str, area: str, whole_session: bool = False) -> list[Upload]:
        """The files of an upload area (or, for the journal, of every area of a session)."""
        prefix = f"{area}-" if whole_session else f"{area}#"
        condition = Key("pk").eq(f"{tenant}#upload") & Key("sk").begins_with(prefix)
        items = query_all(self.table, KeyConditionExpression=condition, ConsistentRead=True)
        return [upload_of(i) for i in items]

    def set_pointer(self, tenant: str, name: str, value: str) -> None:
        self.table.put_item(Item={"pk": f"{tenant}#upload", "sk": f"~{name}", "value": value})

    def pointer(self, tenant: str, name: str) -> str | None:
        item = self.table.get_item(Key={"pk": f"{tenant}#upload", "sk": f"~{name}"}).get("Item")
        return item["value"] if item else None

    # -- jobs -----------------------------------------------------------------------------------
    def create_job(self, tenant: str, job: ImportJob) -> bool:
        """Create a job once; False when a job with its id exists."""
        try:
            self.table.put_item(
                Item={"pk": f"{tenant}#job", "sk": job.id, "expires_at": self._retention(), **job.to_item()},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def get_job(self, tenant: str, job_id: str) -> ImportJob | None:
        item = self.table.get_item(Key={"pk": f"{tenant}#job", "sk": job_id}, ConsistentRead=True).get("Item")
        return job_of(item) if item else None

    def save_job(self, tenant: str, job: ImportJob) -> None:
        """Save the job, if nobody saved it since it was read: the whole item under a version
        condition (a job is small: the write costs what an update of it would, and nothing but
        the job's own transitions writes it)."""
        if not job.changed:
            return
        seen = "#version = :seen" if job.version else "(attribute_not_exists(#version) OR #version = :seen)"
        item = {"pk": f"{tenant}#job", "sk": job.id, "expires_at": self._retention(), **job.to_item()}
        try:
            self.table.put_item(
                Item={**item, "version": job.version + 1},
                ConditionExpression=f"attribute_exists(pk) AND {seen}",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":seen": job.version},
            )
        except ClientError as exc:
            if conditional_failed(exc):
                raise JobChanged(job.id) from None
            raise
        job.saved()

    def jobs(self, tenant: str, prefix: str = "", limit: int = 100) -> list[ImportJob]:
        condition = Key("pk").eq(f"{tenant}#job")
        if prefix:
            condition = condition & Key("sk").begins_with(prefix)
        items = self.table.query(KeyConditionExpression=condition, ScanIndexForward=False, Limit=limit)[
            "Items"
        ]
        return [job_of(i) for i in items]

    def jobs_since(self, tenant: str, since_ms: int) -> list[ImportJob]:
        """Jobs of sessions opened at or after `since_ms` (job ids start with the session token,
        whose first 12 hex digits are its checkauth time in milliseconds)."""
        condition = Key("pk").eq(f"{tenant}#job") & Key("sk").gte(SessionToken.prefix_at(since_ms))
        items = query_all(self.table, KeyConditionExpression=condition, ConsistentRead=True)
        return [job_of(i) for i in items]

    # -- the per-tenant import lease ------------------------------------------------------------
    def acquire_lease(self, tenant: str, owner: str, seconds: int) -> bool:
        now = int(time.time())
        try:
            self.table.put_item(
                Item={"pk": f"{tenant}#lock", "sk": "import", "owner": owner, "lease_until": now + seconds},
                ConditionExpression="attribute_not_exists(pk) OR lease_until < :now OR #o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": now, ":owner": owner},
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def renew_lease(self, tenant: str, owner: str, seconds: int) -> bool:
        """The heartbeat: extend our lease; False when it is no longer ours."""
        try:
            self.table.update_item(
                Key={"pk": f"{tenant}#lock", "sk": "import"},
                UpdateExpression="SET lease_until = :until",
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": owner, ":until": int(time.time()) + seconds},
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def release_lease(self, tenant: str, owner: str) -> None:
        try:
            self.table.delete_item(
                Key={"pk": f"{tenant}#lock", "sk": "import"},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise

    # -- login throttle ---------------------------------------------------------------------------
    def take_attempt(self, key: str, limit: int, window_seconds: int) -> int:
        """Count one password check against `key` atomically (conditional writes, so concurrent
        guesses cannot slip past the limit). Returns 0 when the check may run, else the seconds
        until the window ends. A success clears the key, so the usual case opens a window: one
        write."""
        pk, now = f"throttle#{key}", int(time.time())
        for _ in range(5):
            try:  # no window, or it ended: open one with this attempt
                self.table.put_item(
                    Item={"pk": pk, "sk": "login", "attempts": 1, "expires_at": now + window_seconds},
                    ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                    ExpressionAttributeValues={":now": now},
                )
                return 0
            except ClientError as exc:
                if not conditional_failed(exc):
                    raise
            try:  # an open window: count in it while under the limit
                self.table.update_item(
                    Key={"pk": pk, "sk": "login"},
                    UpdateExpression="ADD attempts :one",
                    ConditionExpression="expires_at > :now AND attempts < :limit",
                    ExpressionAttributeValues={":one": 1, ":now": now, ":limit": limit},
                )
                return 0
            except ClientError as exc:
                if not conditional_failed(exc):
                    raise
            item = self.table.get_item(Key={"pk": pk, "sk": "login"}, ConsistentRead=True).get("Item")
            if item and int(item["expires_at"]) > now and int(item["attempts"]) >= limit:
                return int(item["expires_at"]) - now
        return window_seconds

    def clear_attempts(self, key: str) -> None:
        self.table.delete_item(Key={"pk": f"throttle#{key}", "sk": "login"})

    # -- sessions opened by Basic auth alone (clients that never send the cookie) ---------------
    def basic_session(self, tenant: str, caller: str) -> str | None:
        item = self.table.get_item(Key={"pk": f"{tenant}#basic", "sk": caller}, ConsistentRead=True).get(
            "Item"
        )
        if item and int(item.get("valid_until", 0)) >= time.time():
            return str(item["token"])
        return None

    def set_basic_session(self, tenant: str, caller: str, token: str, valid_until: int) -> None:
        self.table.put_item(
            Item={
                "pk": f"{tenant}#basic",
                "sk": caller,
                "token": token,
                "valid_until": valid_until,
                "expires_at": valid_until,
            }
        )
