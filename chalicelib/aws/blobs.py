"""S3 adapter: raw uploads, expanded files, images, job staging and state."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client


class BlobStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.s3 = client("s3")

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        create_only: bool = False,
        attachment: bool = False,
    ) -> bool:
        """Store bytes; with create_only an existing object is kept (returns False); an attachment
        is served with `Content-Disposition: attachment` (a browser downloads it, never renders it)."""
        extra: dict[str, str] = {"IfNoneMatch": "*"} if create_only else {}
        if attachment:
            extra["ContentDisposition"] = "attachment"
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra)
        except ClientError as exc:
            if create_only and exc.response["Error"]["Code"] in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                return False
            raise
        return True

    def upload(self, key: str, fileobj: IO[bytes], content_type: str = "application/octet-stream") -> None:
        """Stream a file of any size (multipart above 8 MB)."""
        self.s3.upload_fileobj(fileobj, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def get(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def copy(self, source: str, target: str) -> None:
        self.s3.copy({"Bucket": self.bucket, "Key": source}, self.bucket, target)

    def open(self, key: str) -> IO[bytes]:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]

    def download(self, key: str, fileobj: IO[bytes]) -> None:
        """Append the object at the file's position. Not `download_fileobj`: it writes at offsets
        from the object's start, so a zip's second chunk overwrote its first."""
        body: Any = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        shutil.copyfileobj(body, fileobj, 1 << 20)

    def size(self, key: str) -> int | None:
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def keys(self, prefix: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def url(self, key: str, expires: int = 3600, download_as: str | None = None) -> str:
        """A presigned GET; `download_as` makes S3 answer it as an attachment of that name."""
        params = {"Bucket": self.bucket, "Key": key}
        if download_as is not None:
            params["ResponseContentDisposition"] = content_disposition(download_as)
            params["ResponseContentType"] = "application/octet-stream"
        return self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def head(self, key: str, length: int) -> bytes:
        """The first bytes of an object (to sniff XML vs zip)."""
        body: Any = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")["Body"]
        return body.read()


def content_disposition(filename: str) -> str:
    """`attachment` with the name in ASCII and in UTF-8 (RFC 6266), quotes and controls dropped."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
