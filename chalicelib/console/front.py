"""The site's front door: `/` leads a person to the console, and `/favicon.ico` answers (the pages
carry their icon inline), so neither meets API Gateway's «Missing Authentication Token»."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.console.web import SECURITY_HEADERS, base

front = Blueprint(__name__)


@front.route("/", methods=["GET"])
def root() -> Response:
    return Response(body="", status_code=302, headers={"Location": f"{base()}/console/", **SECURITY_HEADERS})


@front.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    return Response(body="", status_code=204, headers={"Cache-Control": "max-age=86400"})
