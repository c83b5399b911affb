"""JSON API plumbing shared by the shop-facing blueprints (catalog and orders): error bodies
and CORS from the stage's settings. Who is calling is apikeys.py's; parameters are params.py's."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from chalice import CORSConfig, Response

from chalicelib.observability import logger
from chalicelib.params import BadRequest
from chalicelib.settings import settings


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


def body_bytes(request: Any) -> bytes:
    """A Chalice request's body as bytes (its type says text or bytes; it carries bytes)."""
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else bytes(raw)


def query_params(request: Any) -> dict[str, str]:
    """The query string, each parameter's last value (none: an empty mapping)."""
    params = request.query_params or {}
    return {key: str(params.get(key)) for key in params}


def header(request: Any, name: str) -> str:
    """A request header by name, any case ('' when absent)."""
    headers = request.headers or {}
    return str(headers.get(name.lower()) or headers.get(name) or "")
