"""The import worker (SQS): prepare the upload area, plan the changes, apply them, resumably.

A job goes through phases, each recorded on the job item so a redelivered message resumes:
  prepare  expand zips and store images by content hash (once per upload area)
  parse    stream the file through the reader and the differ; changes are staged in S3
  apply    batch-write the staged changes, checkpointing how many were written
  done     the new index becomes the tenant's; the journal gets the counts
One tenant imports one file at a time (a lease); tenants run in parallel.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import posixpath
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Protocol

from chalicelib.aws.blobs import BlobStore
from chalicelib.aws.catalog import CatalogStore, keys, kind_and_id
from chalicelib.aws.exchange_store import ExchangeStore
from chalicelib.aws.outbox import Outbox
from chalicelib.aws.queue import JobQueue
from chalicelib.commerceml import ChainedStream, CommerceMLError
from chalicelib.commerceml.model import Property
from chalicelib.exchange.filenames import is_image, is_zip
from chalicelib.exchange.zipfiles import ZipLimits, ZipRefused, expand
from chalicelib.layout import Paths
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.settings import Settings
from chalicelib.sync.diff import Deactivate, Differ, Index, Put
from chalicelib.sync.plan import plan
from chalicelib.sync.records import DEACTIVATABLE, OFFER_STOCK, SLOTS, Record

LEASE_SECONDS = 120  # renewed at every checkpoint: a killed worker frees the tenant within minutes
CHECKPOINT_EVERY = 1000
SAFETY_SECONDS = 30
MAX_ATTEMPTS = 3
_IMAGE_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


FINAL_STATUSES = ("done", "failed")


class LeaseLost(Exception):
    """Another invocation took the tenant's lease (ours expired): stop without writing more."""


class HoldPort(Protocol):
    """What the worker needs of orders: holds of lines 1C took end when its stock is reported."""

    def taken_offers(self, tenant_id: str, before_ms: int) -> set[str]: ...
    def release_reported(self, tenant_id: str, offer_ids: set[str], before_ms: int) -> int: ...


def exchange_began_ms(job: dict[str, Any]) -> int:
    """When 1C began the exchange that sent a job's file: its session token starts with the
    checkauth time in hex milliseconds."""
    try:
        return int(str(job.get("session", ""))[:12], 16)
    except ValueError:
        return int(job.get("created_at", 0)) * 1000


def event_id_for(job_id: str, started: int) -> str:
    """The `catalog.imported` event of a job: the same id however often the job finishes."""
    return f"{started * 1000:012x}{hashlib.sha256(job_id.encode()).hexdigest()[:12]}"


def _describe(exc: Exception) -> str:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return f"{type(exc).__name__}{': ' + code if code else ''}"


class ImportRefused(Exception):
    """A job that cannot succeed as sent: the reason goes to 1C and the journal."""


class _LazyProperties(Mapping[str, Property]):
    """The tenant's properties, read only if a file refers to one its own classifier lacks."""

    def __init__(self, load: Callable[[], list[dict[str, Any]]]) -> None:
        self._load, self._items = load, None

    @property
    def items_(self) -> dict[str, Property]:
        if self._items is None:
            self._items = {
                d["id"]: Property(id=d["id"], name=d.get("name", ""), values=d.get("values") or {})
                for d in self._load()
            }
        return self._items

    def __getitem__(self, key: str) -> Property:
        return self.items_[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.items_)

    def __len__(self) -> int:
        return len(self.items_)


class ImportWorker:
    def __init__(
        self,
        store: ExchangeStore,
        blobs: BlobStore,
        catalog: CatalogStore,
        queue: JobQueue,
        settings: Settings,
        outbox: Outbox,
        holds: HoldPort | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.catalog = catalog
        self.queue = queue
        self.settings = settings
        self.outbox = outbox
        self.holds = holds

    # -- entry point ----------------------------------------------------------------------------
    def run(self, tenant: str, job_id: str, remaining_ms: Callable[[], int]) -> str:
        """Process one job message. Returns what happened: done, failed, stalled, deferred,
        busy, skipped."""
        job = self.store.get_job(tenant, job_id)
        if job is None or job["status"] in FINAL_STATUSES:
            return "skipped"
        # The lease belongs to this invocation, so a duplicate delivery of the same job waits.
        owner = f"{job_id}@{uuid.uuid4().hex}"
        if not self.store.acquire_lease(tenant, owner, LEASE_SECONDS):
            self.store.update_job(tenant, job_id, note="ждёт окончания предыдущей загрузки")
            self.queue.send({"tenant": tenant, "job": job_id}, delay_seconds=10)
            return "busy"
        logger.append_keys(tenant=tenant, job=job_id)
        beat = functools.partial(self._beat, tenant, owner, job_id)
        try:
            blocker = self._resume_stalled(tenant, job_id, remaining_ms, beat)
            if blocker:
                self._fail(tenant, job, blocker)
                return "failed"
            return self._attempt(tenant, job, remaining_ms, beat)
        except LeaseLost:
            logger.warning("import lease lost; another invocation goes on")
            return "busy"
        finally:
            self.store.release_lease(tenant, owner)
            logger.remove_keys(["job"])

    def _attempt(
        self, tenant: str, job: dict[str, Any], remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str:
        job_id = job["sk"]
        try:
            return self._run(tenant, job, remaining_ms, beat)
        except (CommerceMLError, ZipRefused, ImportRefused) as exc:
            self._fail(tenant, job, str(exc))
            return "failed"
        except LeaseLost:
            raise
        except Exception as exc:
            attempts = int(job.get("attempts", 0)) + 1
            job["attempts"] = attempts
            self.store.update_job(tenant, job_id, attempts=attempts, last_error=_describe(exc))
            logger.exception("import job crashed", extra={"attempt": attempts})
            if attempts >= MAX_ATTEMPTS:
                return self.give_up(tenant, job, f"повторяющийся сбой ({_describe(exc)})")
            raise

    def _beat(self, tenant: str, owner: str, job_id: str) -> None:
        """Renew the lease and show the job alive; a lease taken over means stop now."""
        if not self.store.renew_lease(tenant, owner, LEASE_SECONDS):
            raise LeaseLost(job_id)
        self.store.update_job(tenant, job_id, heartbeat_at=int(time.time()))

    def stall(self, tenant: str, job: dict[str, Any], reason: str) -> None:
        """A job that ran out of retries: shown as stalled, resumed by `exchanges resume` or by
        the tenant's next import before it starts (so imports apply in order, never mixed)."""
        text = (
            f"{job.get('filename', '')}: загрузка прервана — {reason}. Записанное сохранится и "
            "будет дописано при следующем обмене или командой exchanges resume"
        )
        logger.error("import stalled", extra={"reason": reason, "file": job.get("filename")})
        metrics.add_metric(name="ImportStalled", unit=MetricUnit.Count, value=1)
        self.store.update_job(tenant, job["sk"], status="stalled", error=text, stalled_at=int(time.time()))
        self.store.set_pointer(tenant, "stalled", job["sk"])

    def dead_letter(self, tenant: str, job_id: str) -> str:
        job = self.store.get_job(tenant, job_id)
        if job is None or job["status"] in (*FINAL_STATUSES, "stalled"):
            return "skipped"
        return self.give_up(
            tenant,
            job,
            "обработчик загрузки останавливался несколько раз подряд (нехватка памяти или времени)",
        )

    def give_up(self, tenant: str, job: dict[str, Any], reason: str) -> str:
        """Out of retries: before any write the job simply failed (the catalog is untouched);
        once writing began it stalls, to be finished, never left half applied."""
        current = self.store.get_job(tenant, job["sk"]) or job
        if current.get("phase") != "apply":
            self._fail(
                tenant,
                job,
                f"{job.get('filename', '')}: внутренняя ошибка сервера при загрузке — {reason}; повторите обмен",
            )
            return "failed"
        self.stall(tenant, job, reason)
        return "stalled"

    def resume(self, tenant: str, job_id: str) -> bool:
        """Queue a stalled (or dead) job again from where it stopped."""
        job = self.store.get_job(tenant, job_id)
        if job is None or job["status"] not in ("stalled", "running", "queued"):
            return False
        self.store.update_job(tenant, job_id, status="running", attempts=0, error="", note="возобновлена")
        self.queue.send({"tenant": tenant, "job": job_id})
        return True

    def _resume_stalled(
        self, tenant: str, job_id: str, remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str | None:
        """Finish the tenant's stalled job first (imports apply in order, never interleaved).
        Returns why this job cannot start when the stalled one is still stuck, else None."""
        stalled_id = self.store.pointer(tenant, "stalled")
        if not stalled_id or stalled_id == job_id:
            return None
        stalled = self.store.get_job(tenant, stalled_id)
        if stalled is None or stalled["status"] in FINAL_STATUSES:
            self.store.set_pointer(tenant, "stalled", "")
            return None
        logger.info("resuming a stalled import first", extra={"stalled": stalled_id})
        stalled["attempts"] = 0
        self.store.update_job(tenant, stalled_id, status="running", attempts=0)
        try:
            outcome = self._attempt(tenant, stalled, remaining_ms, beat)
        except LeaseLost:
            raise
        except Exception as exc:
            outcome = _describe(exc)
        if outcome in FINAL_STATUSES:
            return None
        self.store.update_job(tenant, stalled_id, status="stalled")
        return (
            f"предыдущая загрузка {stalled.get('filename', '')} прервана и пока не дописана ({outcome}); "
            "эта загрузка не начата, чтобы не смешать данные — повторите обмен позже"
        )

    def _run(
        self, tenant: str, job: dict[str, Any], remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str:
        job_id = job["sk"]
        if job.get("status") in ("queued", "stalled"):
            job["status"] = "running"
            self.store.update_job(tenant, job_id, status="running", started_at=int(time.time()), note="")
        if job["kind"] == "deactivate":
            return self._deactivate(tenant, job, remaining_ms, beat)
        phase = job.get("phase", "prepare")
        if phase == "prepare":
            self.prepare_area(tenant, job["area"])
            phase = self._phase(tenant, job, "parse")
        if phase == "parse":
            self._parse(tenant, job, beat)
            phase = self._phase(tenant, job, "apply")
        if phase == "apply" and not self._apply(tenant, job, remaining_ms, beat):
            self.queue.send({"tenant": tenant, "job": job_id})
            return "deferred"
        self._finish(tenant, job)
        return "done"

    def _phase(self, tenant: str, job: dict[str, Any], phase: str) -> str:
        job["phase"] = phase
        self.store.update_job(tenant, job["sk"], phase=phase)
        return phase

    def _fail(self, tenant: str, job: dict[str, Any], reason: str) -> None:
        logger.warning("import failed", extra={"reason": reason, "file": job.get("filename")})
        metrics.add_metric(name="ImportFailed", unit=MetricUnit.Count, value=1)
        self.store.update_job(tenant, job["sk"], status="failed", error=reason, finished_at=int(time.time()))

    # -- prepare: zips and images ---------------------------------------------------------------
    def manifest(self, tenant: str, area: str) -> dict[str, Any] | None:
        data = self.blobs.get(Paths(tenant).manifest(area))
        return json.loads(data) if data else None

    def prepare_area(self, tenant: str, area: str) -> dict[str, Any]:
        """Expand the area's zips (XML to files/, images by content hash) once."""
        paths = Paths(tenant)
        existing = self.manifest(tenant, area)
        if existing is not None:
            return existing
        manifest: dict[str, Any] = {"xml": {}, "images": {}}
        limits = ZipLimits(
            self.settings.zip_max_total_bytes, self.settings.zip_max_entries, self.settings.zip_max_ratio
        )
        for upload in self.store.uploaded_files(tenant, area):
            name = upload["sk"].split("#", 1)[1]
            if is_image(name):
                data = b"".join(self.blobs.get(paths.part(area, name, d)) or b"" for d in upload["parts"])
                manifest["images"][name] = self._store_image(paths, name, data)
            elif is_zip(name, self.blobs.head(paths.part(area, name, upload["parts"][0]), 4)):
                self._expand_zip(paths, area, name, upload["parts"], limits, manifest)
        if manifest["images"]:
            index = json.loads(self.blobs.get(paths.image_index) or b"{}")
            index.update(manifest["images"])
            self.blobs.put(paths.image_index, json.dumps(index).encode(), "application/json")
        self.blobs.put(paths.manifest(area), json.dumps(manifest).encode(), "application/json")
        if manifest["xml"]:
            self.store.set_pointer(tenant, "prepared", area)
        return manifest

    def _store_image(self, paths: Paths, name: str, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = paths.image(digest, name)
        content_type = _IMAGE_TYPES.get(posixpath.splitext(name)[1].lower(), "application/octet-stream")
        self.blobs.put(key, data, content_type, create_only=True)
        return key

    def _expand_zip(
        self,
        paths: Paths,
        area: str,
        name: str,
        parts: list[str],
        limits: ZipLimits,
        manifest: dict[str, Any],
    ) -> None:
        with tempfile.NamedTemporaryFile(suffix=".zip") as tmp:
            for digest in parts:
                self.blobs.download(paths.part(area, name, digest), tmp)
            tmp.flush()

            def store(member: str, stream: IO[bytes], size: int) -> None:
                if is_image(member):
                    manifest["images"][member] = self._store_image(paths, member, stream.read())
                else:
                    key = paths.expanded(area, member)
                    self.blobs.upload(key, stream, "application/xml")
                    manifest["xml"][member] = {"key": key, "size": size}

            try:
                expand(tmp.name, limits, store)
            except ZipRefused as exc:
                raise ZipRefused(f"{name}: {exc}") from None

    # -- parse ----------------------------------------------------------------------------------
    def open_file(self, tenant: str, area: str, filename: str) -> tuple[IO[bytes], int]:
        """The XML file the job imports: uploaded directly, or expanded from a zip."""
        paths = Paths(tenant)
        upload = self.store.uploaded_file(tenant, area, filename)
        if upload and not is_zip(filename):
            streams = (self.blobs.open(paths.part(area, filename, d)) for d in upload["parts"])
            return ChainedStream(streams), int(upload.get("size_bytes", 0))
        for candidate in (area, self.store.pointer(tenant, "prepared")):
            manifest = self.manifest(tenant, candidate) if candidate else None
            entry = (manifest or {}).get("xml", {}).get(filename)
            if entry:
                return self.blobs.open(entry["key"]), int(entry["size"])
        raise ImportRefused(f"файл {filename} не найден среди загруженных: выгрузите его из 1С ещё раз")

    def load_index(self, tenant: str) -> Index:
        key = Paths(tenant).index
        if self.blobs.size(key) is None:
            return Index()
        with gzip.GzipFile(fileobj=self.blobs.open(key)) as lines:
            return Index.load(lines)

    def _save_lines(self, key: str, write: Callable[[IO[bytes]], None]) -> None:
        """Stream gzip lines through a temporary file into S3 (no whole copy in memory)."""
        with tempfile.TemporaryFile() as tmp:
            with gzip.GzipFile(fileobj=tmp, mode="wb", compresslevel=3) as out:
                write(out)
            tmp.seek(0)
            self.blobs.upload(key, tmp)

    def _save_index(self, key: str, index: Index) -> None:
        self._save_lines(key, index.dump)

    def _save_seen(self, key: str, seen: Iterable[str]) -> None:
        def write(out: IO[bytes]) -> None:
            for entity in seen:
                out.write(json.dumps(entity, ensure_ascii=False).encode() + b"\n")

        self._save_lines(key, write)

    def _read_lines(self, key: str) -> Iterator[bytes]:
        with gzip.GzipFile(fileobj=self.blobs.open(key)) as lines:
            yield from lines

    def _image_resolver(self, tenant: str, area: str) -> Callable[[str], str | None]:
        paths = Paths(tenant)
        images = json.loads(self.blobs.get(paths.image_index) or b"{}")
        return lambda path: images.get(path.replace("\\", "/").lstrip("/"))

    def _file_reader(self, tenant: str, area: str) -> Callable[[str], bytes | None]:
        """Files 1C sent under import_files/ (HTML descriptions), by the path the XML names."""
        resolve = self._image_resolver(tenant, area)

        def read(path: str) -> bytes | None:
            key = resolve(path)
            return self.blobs.get(key) if key else None

        return read

    def _properties(self, tenant: str) -> Mapping[str, Property]:
        return _LazyProperties(lambda: self.catalog.docs(tenant, "property"))

    def _parse(self, tenant: str, job: dict[str, Any], beat: Callable[[], None]) -> None:
        paths, job_id = Paths(tenant), job["sk"]
        stream, size = self.open_file(tenant, job["area"], job["filename"])
        index = self.load_index(tenant)
        with tempfile.TemporaryFile() as staged:
            writer = gzip.GzipFile(fileobj=staged, mode="wb", compresslevel=3)
            total = 0

            def emit(change: Put | Deactivate) -> None:
                nonlocal total
                total += 1
                if isinstance(change, Put):
                    r = change.record
                    line = {"k": r.kind, "i": r.id, "d": r.doc, "a": r.active}
                else:
                    line = {"x": change.kind, "i": change.id}
                writer.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")

            def progress(records: int) -> None:
                beat()
                self.store.update_job(tenant, job_id, records_read=records)

            result = plan(
                stream,
                job["filename"],
                index,
                self._properties(tenant),
                self._image_resolver(tenant, job["area"]),
                emit,
                progress,
                self._file_reader(tenant, job["area"]),
            )
            writer.close()
            staged.seek(0)
            self.blobs.upload(paths.staging(job_id, "changes.jsonl.gz"), staged)
        self._save_index(paths.staging(job_id, "index.tsv.gz"), index)
        self._save_seen(paths.staging(job_id, "seen.jsonl.gz"), result.seen)
        self.blobs.put(paths.staging(job_id, "repeats.json"), json.dumps(result.repeated_puts).encode())
        stock_bit = 1 << SLOTS[OFFER_STOCK]
        self._save_seen(
            paths.staging(job_id, "stocked.jsonl.gz"),
            (
                e.partition(":")[2]
                for e, bits in result.seen.items()
                if e.startswith("offer:") and bits & stock_bit
            ),
        )
        counts = dict(result.counts)
        self.store.update_job(
            tenant,
            job_id,
            counts=counts,
            total_changes=total,
            applied=0,
            records_read=counts.get("records", 0),
            bytes_total=size,
            schema_version=result.schema_version,
            only_changes={k: v for k, v in result.only_changes.items() if v is not None},
        )
        job.update(counts=counts, total_changes=total, applied=0)

    # -- apply ----------------------------------------------------------------------------------
    def _staged(self, tenant: str, job_id: str) -> Iterator[dict[str, Any]]:
        for line in self._read_lines(Paths(tenant).staging(job_id, "changes.jsonl.gz")):
            yield json.loads(line)

    def _apply(
        self, tenant: str, job: dict[str, Any], remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> bool:
        """Write the staged changes from the checkpoint on. False when time ran out first.

        One batch is written while the next is read and built; the checkpoint moves only past
        batches whose writes all succeeded."""
        job_id, applied = job["sk"], int(job.get("applied", 0))
        stamp_base = f"{int(time.time() * 1000):013d}"
        pending: list[dict[str, Any]] = []
        position = applied
        in_flight: tuple[Callable[[], None], int] | None = None

        def write_pending() -> None:
            nonlocal pending, in_flight
            first = position - len(pending)
            puts = [c for c in pending if "k" in c]
            offs = [c for c in pending if "x" in c]
            items = [self._item(tenant, c, f"{stamp_base}{first + n:07d}") for n, c in enumerate(puts)]
            items += self._deactivated_items(tenant, offs, stamp_base, first + len(puts))
            started = self.catalog.start_put(items)
            checkpoint()
            in_flight, pending = (started, position), []

        def checkpoint() -> None:
            nonlocal in_flight
            if in_flight is not None:
                wait, done = in_flight
                wait()
                self.store.update_job(tenant, job_id, applied=done)
                in_flight = None
                beat()

        repeats = self._repeats(tenant, job_id)
        for n, change in enumerate(self._staged(tenant, job_id), start=1):
            key = f"{change.get('k')}:{change.get('i')}"
            if key in repeats:  # a record the file listed more than once: only its last Put
                repeats[key] -= 1
                if repeats[key] > 0:
                    continue
            if n <= applied:
                continue
            pending.append(change)
            position = n
            if len(pending) >= CHECKPOINT_EVERY:
                write_pending()
                if remaining_ms() < SAFETY_SECONDS * 1000:
                    checkpoint()
                    return False
        if pending:
            write_pending()
        checkpoint()
        return True

    def _repeats(self, tenant: str, job_id: str) -> dict[str, int]:
        data = self.blobs.get(Paths(tenant).staging(job_id, "repeats.json"))
        return json.loads(data) if data else {}

    def _item(self, tenant: str, change: dict[str, Any], stamp: str) -> dict[str, Any]:
        return self.catalog.item(tenant, Record(change["k"], change["i"], change["d"], change["a"]), stamp)

    def _deactivated_items(
        self, tenant: str, changes: list[dict[str, Any]], stamp_base: str, offset: int
    ) -> list[dict[str, Any]]:
        if not changes:
            return []
        wanted = [keys(tenant, c["x"], c["i"]) for c in changes]
        items = []
        for n, item in enumerate(self.catalog.get_items(wanted)):
            kind, entity_id = kind_and_id(item["pk"], item["sk"])
            item["active"] = False
            item["csk"] = f"{stamp_base}{offset + n:07d}#{kind}#{entity_id}"
            items.append(item)
        return items

    # -- finish ---------------------------------------------------------------------------------
    def _finish(self, tenant: str, job: dict[str, Any]) -> None:
        """Make the new index the tenant's, release holds 1C's stock now covers, announce the
        import (an event id derived from the job: a repeated finish adds no second event), and
        only then mark the job done."""
        paths, job_id = Paths(tenant), job["sk"]
        self.blobs.copy(paths.staging(job_id, "index.tsv.gz"), paths.index)
        started = int(job.get("created_at", time.time()))
        self.blobs.copy(paths.staging(job_id, "seen.jsonl.gz"), paths.seen(started, job_id))
        self._release_reported_holds(tenant, job)
        counts = job.get("counts") or {}
        self.outbox.add(
            tenant,
            "catalog.imported",
            {"file": job.get("filename"), "counts": counts, "schema_version": job.get("schema_version")},
            event_id=event_id_for(job_id, started),
        )
        self.store.update_job(tenant, job_id, status="done", phase="done", finished_at=int(time.time()))
        if self.store.pointer(tenant, "stalled") == job_id:
            self.store.set_pointer(tenant, "stalled", "")
        for name in ("created", "updated", "deactivated"):
            metrics.add_metric(
                name=f"Catalog{name.title()}", unit=MetricUnit.Count, value=counts.get(name, 0)
            )
        logger.info("import done", extra={"file": job.get("filename"), "counts": counts})

    def _release_reported_holds(self, tenant: str, job: dict[str, Any]) -> None:
        """Lines 1C took before this exchange began are in the stock it reports now."""
        if self.holds is None:
            return
        began_ms = exchange_began_ms(job)
        taken = self.holds.taken_offers(tenant, before_ms=began_ms)
        key = Paths(tenant).staging(job["sk"], "stocked.jsonl.gz")
        if not taken or self.blobs.size(key) is None:
            return
        reported = {o for o in (json.loads(line) for line in self._read_lines(key)) if o in taken}
        if reported:
            self.holds.release_reported(tenant, reported, before_ms=began_ms)

    # -- mode=deactivate ------------------------------------------------------------------------
    def _deactivate(
        self, tenant: str, job: dict[str, Any], remaining_ms: Callable[[], int], beat: Callable[[], None]
    ) -> str:
        """Deactivate what no import since the checkauth timestamp listed (protocol §4.4)."""
        paths, job_id = Paths(tenant), job["sk"]
        if job.get("phase") != "apply":
            since = int(job["since"])
            imports = [j for j in self.store.jobs_since(tenant, since * 1000) if j.get("kind") == "import"]
            if any(j["status"] not in (*FINAL_STATUSES, "stalled") for j in imports):
                self.store.update_job(tenant, job_id, note="ждёт окончания загрузки файлов обмена")
                self.queue.send({"tenant": tenant, "job": job_id}, delay_seconds=10)
                return "deferred"
            broken = [j.get("filename", "") for j in imports if j["status"] != "done"]
            if broken:  # deactivating by absence after a failed file would switch off what it held
                note = f"деактивация пропущена: не загружены {', '.join(broken[:5])}"
                self.store.update_job(
                    tenant, job_id, status="done", phase="done", counts={"deactivated": 0}, note=note
                )
                return "done"
            keep: set[str] = set()
            for key in self.blobs.keys(paths.seen_prefix):
                started = int(os.path.basename(key).split("-", 1)[0])
                if started >= since:
                    keep.update(json.loads(line) for line in self._read_lines(key))
            # Only kinds this run actually sent: offers-only runs never switch off products.
            kinds = [k for k in DEACTIVATABLE if any(e.startswith(f"{k}:") for e in keep)]
            index = self.load_index(tenant)
            differ = Differ(index)
            changes = list(differ.deactivate_all_but(keep, kinds))
            lines = b"".join(json.dumps({"x": c.kind, "i": c.id}).encode() + b"\n" for c in changes)
            self.blobs.put(paths.staging(job_id, "changes.jsonl.gz"), gzip.compress(lines))
            self._save_index(paths.staging(job_id, "index.tsv.gz"), index)
            counts = {"deactivated": len(changes)}
            self.store.update_job(
                tenant, job_id, phase="apply", counts=counts, total_changes=len(changes), applied=0
            )
            job.update(phase="apply", counts=counts, applied=0)
        if not self._apply(tenant, job, remaining_ms, beat):
            self.queue.send({"tenant": tenant, "job": job_id})
            return "deferred"
        self.blobs.copy(paths.staging(job_id, "index.tsv.gz"), paths.index)
        self.store.update_job(tenant, job_id, status="done", phase="done", finished_at=int(time.time()))
        return "done"
