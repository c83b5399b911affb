"""The shop API behind a Lambda function URL answers as through API Gateway: the same routes and
bodies, ids as 1C makes them, ETags and 304s, errors in the API's shape, gzip when asked. The
events are shaped as AWS documents payload 2.0 (Lambda developer guide, "Invoking Lambda function
URLs": request payload)."""

from __future__ import annotations

import base64
import gzip
import json
import os
from urllib.parse import quote

from chalicelib.local.pump import LambdaContext
from tests.reliability import cml

KEY = "demo-key"


def url_event(
    path: str, query: str = "", headers: dict | None = None, method: str = "GET", body: str | None = None
):
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"x-api-key": KEY, "host": "abc.lambda-url.eu-central-1.on.aws", **(headers or {})},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-central-1.on.aws",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 1733400000000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def through_url(stack, *args, **kwargs) -> tuple[int, dict, bytes]:
    """The `shop_reads` Lambda, called as the function URL calls it."""
    import app as app_module

    response = app_module.shop_reads(url_event(*args, **kwargs), LambdaContext("shop_reads"))
    body = response["body"]
    raw = base64.b64decode(body) if response["isBase64Encoded"] else body.encode()
    return response["statusCode"], response["headers"], raw


def through_gateway(stack, path: str, query: str = "") -> tuple[int, bytes]:
    response = stack.client.http.request(
        "GET", path + (f"?{query}" if query else ""), headers={"X-Api-Key": KEY}
    )
    return response.status_code, response.body


def test_the_function_url_answers_the_shop_api_as_api_gateway_does(stack):
    onec = stack.onec()
    products = (
        cml.product("смес 50%", "Смеситель") + cml.product("a/b", "Кран") + cml.product("p3", "Вентиль")
    )
    assert onec.send_file("import.xml", cml.catalog(products)).keyword == "success"
    offers = cml.offer("смес 50%", "3", "1500") + cml.offer("a/b", "1", "700") + cml.offer("p3", "0", "90")
    assert onec.send_file("offers.xml", cml.offers(offers)).keyword == "success"

    for path, query in (
        ("/api/v1/products", "sort=price&limit=2"),
        (f"/api/v1/products/{quote('смес 50%', safe='')}", ""),
        (f"/api/v1/products/{quote('a/b', safe='')}", ""),
        ("/api/v1/groups", ""),
        ("/api/v1/facets", ""),
    ):
        status, headers, body = through_url(stack, path, query)
        assert (status, json.loads(body)) == (200, json.loads(through_gateway(stack, path, query)[1])), path
        assert headers["Cache-Control"].startswith("private") and headers["ETag"], path

    status, headers, _ = through_url(stack, "/api/v1/products/p3")
    again, _, empty = through_url(stack, "/api/v1/products/p3", headers={"if-none-match": headers["ETag"]})
    assert (status, again, empty) == (200, 304, b"")
    status, _, body = through_url(stack, "/api/v1/products/nothing-here")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"


def test_gzip_when_asked_and_only_the_shop_api_behind_the_url(stack):
    onec = stack.onec()
    many = "".join(cml.product(f"p{n}", f"Товар с длинным названием {n}") for n in range(40))
    assert onec.send_file("import.xml", cml.catalog(many)).keyword == "success"
    assert (
        onec.send_file("offers.xml", cml.offers("".join(cml.offer(f"p{n}") for n in range(40)))).keyword
        == "success"
    )
    status, headers, body = through_url(
        stack, "/api/v1/products", "limit=40", {"accept-encoding": "br, gzip"}
    )
    plain = through_url(stack, "/api/v1/products", "limit=40")[2]
    assert status == 200 and headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == plain and len(body) < len(plain) / 3

    for path in ("/1c_exchange", "/console/", "/health", "/api/v2/products"):
        status, _, body = through_url(stack, path, "type=catalog&mode=checkauth")
        assert status == 404 and "/api/v1" in json.loads(body)["error"]["message"], path
    status, headers, body = through_url(stack, "/api/v1/groups", method="DELETE")
    assert (status, json.loads(body)["error"]["code"], headers["Allow"]) == (405, "method_not_allowed", "GET")
    status, _, body = through_url(stack, "/api/v1/groups", headers={"x-api-key": "wrong"})
    assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized"


def test_an_answer_served_again_is_not_gzipped_again_and_never_another_ones(monkeypatch):
    from chalicelib import function_url

    compressions: list[int] = []
    real = gzip.compress
    monkeypatch.setattr(
        function_url.gzip, "compress", lambda raw, **kw: compressions.append(1) or real(raw, **kw)
    )
    packed = function_url._Packed(budget_bytes=4096)
    first, second = b'{"items": [1]}' * 200, b'{"items": [2]}' * 200
    assert gzip.decompress(base64.b64decode(packed(first))) == first
    assert gzip.decompress(base64.b64decode(packed(first))) == first and len(compressions) == 1
    assert gzip.decompress(base64.b64decode(packed(second))) == second and len(compressions) == 2
    noise = os.urandom(10_000)  # incompressible: over the budget, so what was kept goes first
    packed(noise)
    assert packed.used <= 4096 and not packed.kept, "nothing over the budget is kept"
    packed(first)
    assert len(compressions) == 4, "evicted, compressed anew"
