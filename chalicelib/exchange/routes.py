"""HTTP adapter for the 1C exchange: the URL 1C is configured with, GET and POST."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import certificates, wiring
from chalicelib.exchange.answers import Answer, as_utf8, failure
from chalicelib.exchange.sessions import COOKIE, ExchangeRequest
from chalicelib.http import body_bytes, header, query_params
from chalicelib.observability import logger

exchange_routes = Blueprint(__name__)

# The content types 1C may send a chunk with; listed so API Gateway hands the body over base64
# (binary-safe). Never "*/*" here: it would turn every JSON answer binary (docs/platform.md §1.1).
# application/xml stays text: the UTF-8 orders document (`mode=query`) is answered with it.
BINARY_TYPES = [
    "application/octet-stream",
    "application/zip",
    "application/x-zip-compressed",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/xml",
]


def accepts_binary(accept: str | None) -> bool:
    """API Gateway decodes a binary body only for a client whose FIRST Accept media type matches
    (docs/platform.md §1.1); 1C sends `*/*`. Any other client gets windows-1251 documents in UTF-8."""
    first = (accept or "").split(",")[0].split(";")[0].strip().lower()
    return first in ("*/*", "text/*", "text/xml")


def to_response(answer: Answer, accept: str | None = "*/*", https: bool = False) -> Response:
    if answer.body_bytes is not None and not accepts_binary(accept):
        answer = as_utf8(answer)
    if answer.cookie:  # checkauth: the session cookie for clients that keep cookies
        cookie = f"{answer.cookie}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
        headers: dict[str, str | list[str]] = {"Content-Type": answer.content_type, "Set-Cookie": cookie}
        return Response(body=answer.body, status_code=200, headers=headers)
    if answer.body_bytes is not None:
        return Response(
            body=answer.body_bytes, status_code=200, headers={"Content-Type": answer.content_type}
        )
    return Response(body=answer.body, status_code=200, headers={"Content-Type": answer.content_type})


def _handle() -> Response:
    request = exchange_routes.current_request
    params = query_params(request)
    context = request.context or {}
    exchange_request = ExchangeRequest(
        type=params.get("type", "").strip().lower(),
        mode=params.get("mode", "").strip().lower(),
        params=params,
        headers=dict(request.headers),
        body=body_bytes(request),
        source=(context.get("identity") or {}).get("sourceIp") or "unknown",
        certificate=certificates.presented(context),
    )
    try:
        exchange = wiring.container().exchange
    except Exception:  # even a broken deployment answers 1C in the protocol's words
        logger.exception("exchange could not start")
        return to_response(failure("сервер обмена не настроен или недоступен; сообщите в поддержку"))
    https = header(request, "x-forwarded-proto") == "https"  # API Gateway says so; make run: HTTP
    return to_response(exchange.handle(exchange_request), header(request, "accept"), https)


@exchange_routes.route("/1c_exchange", methods=["GET", "POST"], content_types=["*/*"])
def exchange() -> Response:
    return _handle()


@exchange_routes.route("/bitrix/admin/1c_exchange.php", methods=["GET", "POST"], content_types=["*/*"])
def exchange_bitrix_path() -> Response:
    return _handle()


__all__ = ["BINARY_TYPES", "COOKIE", "exchange_routes"]
