"""Filenames sent by 1C (`mode=file&filename=...`), made safe to use as storage keys. Pure."""

from __future__ import annotations

import posixpath
import re
import unicodedata

# 1C running on Linux sends its own temp paths; Windows clients may send a full path.
_SERVER_PREFIXES = ("tmp/", "upload/1c/webdata/")
_DRIVE = re.compile(r"^[a-zA-Z]:/")
_ALLOWED = re.compile(r"[\w.\-()\[\] +#@,=]+", re.UNICODE)
_SCRIPT_EXTENSIONS = {
    ".php",
    ".phtml",
    ".php5",
    ".py",
    ".pl",
    ".cgi",
    ".asp",
    ".aspx",
    ".jsp",
    ".sh",
    ".exe",
    ".js",
    ".html",
    ".htm",
}
_DESCRIPTIONS = {".html", ".htm"}
MAX_NAME = 255
MAX_RAW = 1024


class UnsafeFilename(ValueError):
    pass


def sanitize(raw: str | None) -> str:
    """A relative path such as `import0_1.xml` or `import_files/5c/5c44.jpg`.

    A Windows path (`C:\\v8_8789_c.xml`) keeps its last component; `/tmp/` and
    `upload/1c/webdata` prefixes are dropped; `..`, empty or odd components are refused.
    """
    raw = raw or ""
    if len(raw) > MAX_RAW:
        raise UnsafeFilename(f"имя файла длиннее {MAX_RAW} символов")
    if any(unicodedata.category(c)[0] == "C" for c in raw):
        raise UnsafeFilename(f"управляющие символы в имени файла: {raw[:80]!r}")
    name = raw.strip().replace("\\", "/")
    if not name:
        raise UnsafeFilename("не указано имя файла (параметр filename)")
    if _DRIVE.match(name):
        name = name.rsplit("/", 1)[-1]
    name = name.lstrip("/")
    for prefix in _SERVER_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise UnsafeFilename(f"недопустимое имя файла: {raw!r}")
    if "import_files" in parts:  # images: keep the path from import_files/ on
        parts = parts[parts.index("import_files") :]
    elif len(parts) > 1:
        parts = parts[-1:]
    for part in parts:
        if len(part) > MAX_NAME:
            raise UnsafeFilename(f"часть имени файла длиннее {MAX_NAME} символов: {raw[:80]!r}…")
        if not _ALLOWED.fullmatch(part):
            raise UnsafeFilename(f"недопустимые символы в имени файла: {raw!r}")
    clean = posixpath.join(*parts)
    extension = posixpath.splitext(clean)[1].lower()
    if extension in _DESCRIPTIONS and is_image(clean):
        return clean  # HTML product descriptions 1C sends beside the pictures (kept as data)
    if extension in _SCRIPT_EXTENSIONS:
        raise UnsafeFilename(f"файлы такого типа не принимаются: {raw!r}")
    return clean


def is_image(name: str) -> bool:
    return name.startswith("import_files/")


def is_zip(name: str, head: bytes = b"") -> bool:
    return name.lower().endswith(".zip") or head.startswith(b"PK\x03\x04")


def starts_a_file(data: bytes) -> bool:
    """The first chunk of an XML file (1C restarting a file it already began)."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml")
