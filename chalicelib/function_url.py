"""The shop API's cheaper front door: a Lambda function URL (no per-request fee beyond Lambda's)
in front of the same Chalice app, so one API, one OpenAPI document and the same routes answer
through API Gateway or the URL (README, "A read path that costs a fifth").

A function URL sends payload 2.0 events; Chalice routes API Gateway REST (1.0) events. This module
turns the one into the other (only `/api/v1/…`: the exchange and the console stay on API Gateway,
with their cookies, uploads and certificates) and gzips what the caller accepts gzipped."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

PREFIX = "/api/v1"
GZIP_FROM_BYTES = 1024  # smaller answers are sent as they are (gzip would save little)
PACKED_BUDGET = 4 * 2**20  # gzipped answers kept a container (a list page: ~2 KB as base64)


def handle(
    app: Callable[[dict[str, Any], Any], dict[str, Any]],
    routes: Mapping[str, Any],
    event: dict[str, Any],
    context: Any,
) -> dict[str, Any]:
    """Answer a function URL event with the app, as API Gateway would have."""
    rest = rest_event(event, routes)
    if rest is None:
        path = event.get("rawPath") or "/"
        return _error(404, "not_found", f"no such path {path[:200]!r} here: this URL serves {PREFIX}/…")
    response = _single_headers(app(rest, context))
    if response["statusCode"] == 405:  # Chalice's own answer, in the API's error shape
        allowed = response["headers"].get("Allow", "")
        method = rest["httpMethod"]
        response = {
            **_error(405, "method_not_allowed", f"{method} is not served here; {allowed}"),
            "headers": {"Content-Type": "application/json", "Allow": allowed},
        }
    return _compressed(response, _header(event, "accept-encoding"))


def rest_event(event: dict[str, Any], routes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The REST API event Chalice expects for a function URL event, None when no route matches."""
    http = event["requestContext"]["http"]
    path = event.get("rawPath") or "/"
    matched = match(path, routes)
    if matched is None:
        return None
    resource, params = matched
    pairs = parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True)
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    return {
        "resource": resource,
        "path": path,
        "httpMethod": http["method"],
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": http["method"],
            "path": path,
            "stage": "$default",
            "requestId": event["requestContext"].get("requestId", ""),
            "identity": {"sourceIp": http.get("sourceIp") or "unknown"},
        },
        "body": event.get("body"),
        "isBase64Encoded": bool(event.get("isBase64Encoded")),
    }


def match(path: str, routes: Mapping[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The app's route for a concrete path under PREFIX, and its path parameters as sent (still
    percent-encoded: the views decode ids, as they do behind API Gateway). Fixed segments win."""
    if not (path == PREFIX or path.startswith(PREFIX + "/")):
        return None
    wanted = path.split("/")
    best: tuple[int, str, dict[str, str]] | None = None
    for pattern in routes:
        parts = pattern.split("/")
        if len(parts) != len(wanted) or not pattern.startswith(PREFIX):
            continue
        params, ok = {}, True
        for part, segment in zip(parts, wanted, strict=True):
            if part.startswith("{") and part.endswith("}"):
                if not segment:
                    ok = False
                    break
                params[part[1:-1]] = segment
            elif part != segment:
                ok = False
                break
        if ok and (best is None or len(params) < best[0]):
            best = (len(params), pattern, params)
    return (best[1], best[2]) if best else None


def _single_headers(response: dict[str, Any]) -> dict[str, Any]:
    """A function URL takes one value a header: multi-value ones joined (no cookies here)."""
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(str(v) for v in values)
    return {
        "statusCode": response["statusCode"],
        "headers": headers,
        "body": response.get("body") or "",
        "isBase64Encoded": bool(response.get("isBase64Encoded")),
    }


class _Packed:
    """Bodies gzipped lately, by the hash of what was gzipped: an answer the container's cache
    serves again is not compressed again (0.3 ms of CPU for a list page). Keyed by the bytes
    themselves, so it can hand back nothing but their own compression."""

    def __init__(self, budget_bytes: int = PACKED_BUDGET) -> None:
        self.budget, self.used = budget_bytes, 0
        self.kept: OrderedDict[bytes, str] = OrderedDict()
        self.lock = threading.Lock()  # one request at a time in Lambda; threads elsewhere

    def __call__(self, raw: bytes) -> str:
        key = hashlib.blake2b(raw, digest_size=16).digest()
        with self.lock:
            packed = self.kept.get(key)
            if packed is not None:
                self.kept.move_to_end(key)
                return packed
        packed = base64.b64encode(gzip.compress(raw, compresslevel=6)).decode()
        with self.lock:
            if key not in self.kept:
                self.kept[key] = packed
                self.used += len(packed)
            while self.used > self.budget and self.kept:
                self.used -= len(self.kept.popitem(last=False)[1])
        return packed


_packed = _Packed()


def _compressed(response: dict[str, Any], accepted: str) -> dict[str, Any]:
    body = response["body"]
    wanted = any(part.split(";")[0].strip() == "gzip" for part in accepted.lower().split(","))
    if not wanted or response["isBase64Encoded"] or not isinstance(body, str):
        return response
    raw = body.encode()
    if len(raw) < GZIP_FROM_BYTES:
        return response
    headers = {**response["headers"], "Content-Encoding": "gzip"}
    vary = headers.get("Vary")
    headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    return {**response, "headers": headers, "body": _packed(raw), "isBase64Encoded": True}


def _header(event: dict[str, Any], name: str) -> str:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name), "")


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    body = json.dumps({"error": {"code": code, "message": message}})
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": body,
        "isBase64Encoded": False,
    }
