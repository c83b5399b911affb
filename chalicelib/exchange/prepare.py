"""The prepare phase of an import: expand the upload area's zips once (XML to files/, pictures
and description files by content hash), and open the file a job imports."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Callable
from typing import IO, Any

import imagesize

from chalicelib.commerceml import ChainedStream
from chalicelib.exchange.filenames import is_image, is_zip
from chalicelib.exchange.jobrun import JobRun, Step
from chalicelib.exchange.zipfiles import ZipLimits, ZipRefused, expand
from chalicelib.importjob import ImportJob
from chalicelib.layout import Paths
from chalicelib.ports import Blobs, ExchangeStore
from chalicelib.settings import Settings
from chalicelib.sync.records import picture_type


class ImportRefused(Exception):
    """A job that cannot succeed as sent: the reason goes to 1C and the journal."""


class Prepare:
    def __init__(self, store: ExchangeStore, blobs: Blobs, settings: Settings) -> None:
        self.store, self.blobs, self.settings = store, blobs, settings

    def run(self, job: ImportJob, run: JobRun) -> Step:
        self.prepare_area(run.tenant, area_of(job))
        return Step.NEXT

    def manifest(self, tenant: str, area: str) -> dict[str, Any] | None:
        data = self.blobs.get(Paths(tenant).manifest(area))
        return json.loads(data) if data else None

    def prepare_area(self, tenant: str, area: str) -> dict[str, Any]:
        """Expand the area's zips (XML to files/, images by content hash) once."""
        paths = Paths(tenant)
        existing = self.manifest(tenant, area)
        if existing is not None:
            return existing
        manifest: dict[str, Any] = {"xml": {}, "images": {}, "sizes": {}}
        limits = ZipLimits(
            self.settings.zip_max_total_bytes, self.settings.zip_max_entries, self.settings.zip_max_ratio
        )
        for upload in self.store.uploaded_files(tenant, area):
            name = upload.filename
            if is_image(name):
                data = b"".join(self.blobs.get(paths.part(area, name, d)) or b"" for d in upload.parts)
                manifest["images"][name] = self._store_image(paths, name, data, manifest["sizes"])
            elif is_zip(name, self.blobs.head(paths.part(area, name, upload.parts[0]), 4)):
                self._expand_zip(paths, area, name, upload.parts, limits, manifest)
        if manifest["images"]:
            index = json.loads(self.blobs.get(paths.image_index) or b"{}")
            index.update(manifest["images"])
            self.blobs.put(paths.image_index, json.dumps(index).encode(), "application/json")
        if manifest["sizes"]:
            sizes = json.loads(self.blobs.get(paths.image_sizes) or b"{}")
            sizes.update(manifest.pop("sizes"))
            self.blobs.put(paths.image_sizes, json.dumps(sizes).encode(), "application/json")
        self.blobs.put(paths.manifest(area), json.dumps(manifest).encode(), "application/json")
        if manifest["xml"]:
            self.store.set_pointer(tenant, "prepared", area)
        return manifest

    def _store_image(self, paths: Paths, name: str, data: bytes, sizes: dict[str, list[int]]) -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = paths.image(digest, name)
        picture = picture_type(name)  # anything else is served only as a download, never shown
        # The header only (imagesize); a stream, never the bytes themselves: imagesize takes
        # bytes for a file's path.
        width, height = imagesize.get(io.BytesIO(data)) if picture else (-1, -1)
        if width > 0 and height > 0:
            sizes[key] = [width, height]
        self.blobs.put(
            key, data, picture or "application/octet-stream", create_only=True, attachment=picture is None
        )
        return key

    def _expand_zip(
        self,
        paths: Paths,
        area: str,
        name: str,
        parts: tuple[str, ...],
        limits: ZipLimits,
        manifest: dict[str, Any],
    ) -> None:
        with tempfile.NamedTemporaryFile(suffix=".zip") as tmp:
            for digest in parts:
                self.blobs.download(paths.part(area, name, digest), tmp)
            tmp.flush()

            def store(member: str, stream: IO[bytes], size: int) -> None:
                if is_image(member):
                    manifest["images"][member] = self._store_image(
                        paths, member, stream.read(), manifest["sizes"]
                    )
                else:
                    key = paths.expanded(area, member)
                    self.blobs.upload(key, stream, "application/xml")
                    manifest["xml"][member] = {"key": key, "size": size}

            try:
                expand(tmp.name, limits, store)
            except ZipRefused as exc:
                raise ZipRefused(f"{name}: {exc}") from None

    def open_file(self, tenant: str, area: str, filename: str) -> tuple[IO[bytes], int]:
        """The XML file the job imports: uploaded directly, or expanded from a zip."""
        paths = Paths(tenant)
        upload = self.store.uploaded_file(tenant, area, filename)
        if upload and not is_zip(filename):
            streams = (self.blobs.open(paths.part(area, filename, d)) for d in upload.parts)
            return io.BufferedReader(ChainedStream(streams)), upload.size_bytes
        for candidate in (area, self.store.pointer(tenant, "prepared")):
            manifest = self.manifest(tenant, candidate) if candidate else None
            entry = (manifest or {}).get("xml", {}).get(filename)
            if entry:
                return self.blobs.open(entry["key"]), int(entry["size"])
        raise ImportRefused(f"файл {filename} не найден среди загруженных: выгрузите его из 1С ещё раз")

    def image_resolver(self, tenant: str) -> Callable[[str], str | None]:
        paths = Paths(tenant)
        images = json.loads(self.blobs.get(paths.image_index) or b"{}")
        return lambda path: images.get(path.replace("\\", "/").lstrip("/"))

    def image_sizes(self, tenant: str) -> Callable[[str], tuple[int, int] | None]:
        sizes = json.loads(self.blobs.get(Paths(tenant).image_sizes) or b"{}")
        return lambda key: (int(sizes[key][0]), int(sizes[key][1])) if key in sizes else None

    def file_reader(self, tenant: str) -> Callable[[str], bytes | None]:
        """Files 1C sent under import_files/ (HTML descriptions), by the path the XML names."""
        resolve = self.image_resolver(tenant)

        def read(path: str) -> bytes | None:
            key = resolve(path)
            return self.blobs.get(key) if key else None

        return read


def area_of(job: ImportJob) -> str:
    if not job.area:
        raise ImportRefused(f"{job.filename}: у загрузки нет области обмена")
    return job.area
