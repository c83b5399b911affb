"""Safe zip expansion: entry, size and ratio limits, no path traversal. Pure (files in, callbacks out)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, cast

from chalicelib.exchange.filenames import UnsafeFilename, sanitize

_DRIVE = re.compile(r"^[A-Za-z]:")


class ZipRefused(ValueError):
    pass


@dataclass(frozen=True)
class ZipLimits:
    max_total_bytes: int
    max_entries: int
    max_ratio: int


class _Capped:
    """Counts bytes read from a member and stops at its declared size (don't trust headers)."""

    def __init__(self, stream: IO[bytes], name: str, limit: int) -> None:
        self.stream, self.name, self.limit, self.read_bytes = stream, name, limit, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise ZipRefused(
                f"{self.name}: распакованный размер больше заявленного — архив повреждён или опасен"
            )
        return data


def expand(
    path: str | IO[bytes], limits: ZipLimits, store: Callable[[str, IO[bytes], int], None]
) -> list[str]:
    """Check every entry against the limits, then hand each file to `store(name, stream, size)`."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ZipRefused(f"архив повреждён или загружен не полностью ({exc})") from None
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if len(entries) > limits.max_entries:
            raise ZipRefused(f"в архиве {len(entries)} файлов, допускается не больше {limits.max_entries}")
        total = sum(i.file_size for i in entries)
        if total > limits.max_total_bytes:
            raise ZipRefused(
                f"архив распаковывается в {total // 2**20} МБ, допускается не больше {limits.max_total_bytes // 2**20} МБ"
            )
        names: list[str] = []
        first_of: dict[str, str] = {}
        for info in entries:
            original = info.orig_filename
            if "\x00" in original or original.startswith(("/", "\\")) or _DRIVE.match(original):
                # zipfile cuts a name at NUL; an absolute path is never flattened into the area
                raise ZipRefused(f"недопустимый путь в архиве: {original!r} (абсолютный или с символом NUL)")
            try:
                name = sanitize(info.filename)
            except UnsafeFilename:
                raise ZipRefused(f"недопустимый путь в архиве: {info.filename!r}") from None
            if name != info.filename.replace("\\", "/").lstrip("/") and ".." in info.filename:
                raise ZipRefused(f"недопустимый путь в архиве: {info.filename!r}")
            if info.file_size > 1_000_000 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise ZipRefused(
                    f"{info.filename}: степень сжатия {info.file_size // max(info.compress_size, 1)}:1 — похоже на zip-бомбу"
                )
            if name in first_of:
                raise ZipRefused(
                    f"в архиве два файла с одним именем {name}: {first_of[name]!r} и {info.filename!r} — "
                    "непонятно, какой загружать"
                )
            first_of[name] = info.filename
            names.append(name)
        for info, name in zip(entries, names, strict=True):
            try:
                with archive.open(info) as member:
                    capped = _Capped(member, name, info.file_size)  # only read() is called on it
                    store(name, cast(IO[bytes], capped), info.file_size)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise ZipRefused(f"{info.filename}: архив повреждён ({exc})") from None
        return names
