"""Where everything lives in the data bucket: one module owns the S3 layout. Every key starts
with a folder and then the tenant, so lifecycle rules and tenant isolation follow the prefix."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass


@dataclass(frozen=True)
class Paths:
    tenant: str

    def part(self, area: str, filename: str, digest: str) -> str:
        return f"uploads/{self.tenant}/{area}/{filename}/{digest}"

    def expanded(self, area: str, name: str) -> str:
        return f"files/{self.tenant}/{area}/{name}"

    def manifest(self, area: str) -> str:
        return f"files/{self.tenant}/{area}/manifest.json"

    def image(self, digest: str, name: str) -> str:
        return f"images/{self.tenant}/{digest[:2]}/{digest}{posixpath.splitext(name)[1].lower()}"

    def staging(self, job_id: str, what: str) -> str:
        return f"jobs/{self.tenant}/{hashlib.sha1(job_id.encode()).hexdigest()[:20]}/{what}"

    @property
    def index(self) -> str:
        return f"state/{self.tenant}/index.tsv.gz"

    @property
    def cards(self) -> str:
        return f"state/{self.tenant}/cards.jsonl.gz"

    @property
    def image_index(self) -> str:
        return f"state/{self.tenant}/images.json"

    @property
    def image_sizes(self) -> str:
        """Each stored picture's width and height, by its key (read from its header when stored)."""
        return f"state/{self.tenant}/image-sizes.json"

    @property
    def seen_prefix(self) -> str:
        return f"seen/{self.tenant}/"

    def seen(self, started: int, job_id: str) -> str:
        return f"seen/{self.tenant}/{started:011d}-{hashlib.sha1(job_id.encode()).hexdigest()[:12]}.jsonl.gz"

    @property
    def exports(self) -> str:
        return f"exports/{self.tenant}/orders/"
