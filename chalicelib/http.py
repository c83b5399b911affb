"""JSON API plumbing shared by the shop-facing blueprints (catalog and orders): API-key auth
and the rate limit, error bodies, request limits, CORS from the stage's settings."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from chalice import CORSConfig, Response

from chalicelib import wiring
from chalicelib.observability import logger
from chalicelib.settings import settings
from chalicelib.tenants import Tenant

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class BadRequest(ValueError):
    """400: a parameter that cannot be used, with what is wrong in words."""


def parse_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return Response(
        body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def cors() -> CORSConfig | None:
    """Allowed browser origin for the stage (`CORS_ORIGINS`); empty disables CORS."""
    origin = settings().cors_origins
    if not origin:
        return None
    return CORSConfig(
        allow_origin=origin, allow_headers=["X-Api-Key", "Idempotency-Key", "Content-Type"], max_age=600
    )


MAX_BAD_KEYS = 30  # wrong or missing API keys a minute from one source before it waits


def authenticated(request: Any) -> Tenant:
    """The tenant of the request's API key. A source that sent MAX_BAD_KEYS wrong or missing keys
    this minute waits for the next one (429), the right key included, as a login throttle does;
    while it waits its requests cost no lookup."""
    key = (request.headers or {}).get("x-api-key", "")
    source = ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"
    limiter = wiring.rate_limiter()
    wait = limiter.waiting(f"badkey|{source}")
    if wait:
        raise _too_many_bad_keys(wait)
    tenant = wiring.accounts().authenticate_api_key(key) if key else None
    if tenant is None:
        wait = limiter.take(f"badkey|{source}", MAX_BAD_KEYS)
        if wait:
            raise _too_many_bad_keys(wait)
        raise ApiError(401, "unauthorized", "a valid X-Api-Key header is required")
    logger.append_keys(tenant=tenant.id)
    wait = limiter.take(tenant.id, tenant.settings.api_rate_per_minute)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"more than {tenant.settings.api_rate_per_minute} requests a minute for this API key; "
            f"retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return tenant


def _too_many_bad_keys(wait: int) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"more than {MAX_BAD_KEYS} requests a minute with a wrong or missing API key from this address; "
        f"retry in {wait} s",
        headers={"Retry-After": str(wait)},
    )


def json_api(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map errors to {"error": {...}} answers; never a stack trace."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
        except BadRequest as exc:
            return error_response(400, "bad_request", str(exc))
        except Exception:
            incident = secrets.token_hex(4)
            logger.exception("shop API call crashed", extra={"incident": incident})
            return error_response(500, "internal", f"internal error, incident {incident}")

    return wrapper


_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def path_ids(raw: str) -> tuple[str, ...]:
    """The ids a path parameter may stand for: percent-decoded first (chalice local and the test
    client pass `%D1%8F%D1%8F8` for 1C's `яя8`), then as it came (a gateway that decoded it
    already, and an id that holds a literal `%` followed by two hex digits)."""
    if not _ESCAPE.search(raw) or not raw.isascii():
        return (raw,)
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:  # `%FF`: no id 1C makes; looked up as it came (a 404)
        return (raw,)
    return tuple(dict.fromkeys((decoded, raw)))
