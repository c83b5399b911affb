"""Hostile input at the shop API and in webhook settings: every case gets a 4xx with a JSON error
naming what is wrong (never a 500), no order is created by a refused request, and one tenant's
key never reads another tenant's data."""

from __future__ import annotations

import base64
import json
import re

import pytest

from chalicelib import wiring
from chalicelib.tenants import TenantError

KEY = {"X-Api-Key": "demo-key", "Content-Type": "application/json"}


def request(stack, method: str, path: str, body=None, headers: dict | None = None):
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    response = stack.client.http.request(
        method, f"/api/v1{path}", headers={**KEY, **(headers or {})}, body=data
    )
    return response.status_code, (json.loads(response.body) if response.body else {}), response.headers


def cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def an_offer(stack) -> str:
    """An offer of the baseline catalog that is in stock and priced."""
    body = request(stack, "GET", "/products?in_stock=true&limit=20")[1]
    for item in body["items"]:
        for offer in request(stack, "GET", f"/products/{item['id']}")[1]["offers"]:
            if offer.get("prices") and offer.get("stock", {}).get("total"):
                return offer["id"]
    raise AssertionError("the baseline catalog has an offer to sell")


def order(offer_id: str, **changes) -> dict:
    body = {
        "customer": {"name": "Иван Петров", "email": "i@example.test"},
        "lines": [{"offer_id": offer_id, "quantity": 1}],
    }
    for path, value in changes.items():
        target = body
        *parents, last = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {}) if not parent.isdigit() else target[int(parent)]
        target[last] = value
    return body


READS = {
    "cursor: not base64": ("/products?cursor=%%%%", 400),
    "cursor: base64 of garbage": ("/products?cursor=" + base64.urlsafe_b64encode(b"\xff\x00").decode(), 400),
    "cursor: a JSON list": ("/products?cursor=" + cursor([1, 2]), 400),
    "cursor: wrong key types": (
        "/products?cursor=" + cursor({"pk": 1, "sk": [], "lpk": {}, "lsk": None}),
        400,
    ),
    "cursor: missing keys": ("/products?cursor=" + cursor({"pk": "demo#p#x"}), 400),
    "cursor: another tenant's keys": (
        "/products?cursor="
        + cursor({"pk": "other#p#x", "sk": "product", "lpk": "other#products", "lsk": "a#x"}),
        400,
    ),
    "cursor: 10 KB": ("/products?cursor=" + "A" * 10_000, 400),
    "cursor: a number": ("/products?cursor=" + cursor(42), 400),
    "feed cursor: wrong keys": ("/changes?since=" + cursor({"pk": "x"}), 400),
    "feed cursor: a number in csk": ("/changes?since=" + cursor({"csk": 5}), 400),
    "orders cursor: not an order id": ("/orders?cursor=../../x", 400),
    "limit: zero": ("/products?limit=0", 400),
    "limit: negative": ("/products?limit=-1", 400),
    "limit: huge": ("/products?limit=100000", 400),
    "limit: words": ("/products?limit=fifty", 400),
    "in_stock: maybe": ("/products?in_stock=maybe", 400),
    "orders: status bogus": ("/orders?status=stolen", 400),
    "orders: since bogus": ("/orders?since=yesterday", 400),
    "product: 10k-character id": ("/products/" + "x" * 10_000, 404),
    "product: key-looking id": ("/products/other%23p%23x", 404),
    "product: percent bytes that are not UTF-8": ("/products/%FF%FE", 404),
    "order: another tenant's order id": ("/orders/OTHER_ORDER", 404),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_hostile_reads(module_stack, losses, name):
    path, expected = READS[name]
    if "OTHER_ORDER" in path:
        path = path.replace("OTHER_ORDER", _other_tenants_order(module_stack))
    status, body, _ = request(module_stack, "GET", path)
    losses["cross_tenant_reads"] = int(status == 200 and "other" in json.dumps(body))
    assert status == expected, body
    assert set(body) == {"error"} and body["error"]["message"]


@pytest.mark.parametrize(
    ("action", "body"),
    [("payment", {"status": "paid", "document": "PAY-X"}), ("cancel", {"reason": "чужой заказ"})],
)
def test_another_tenants_order_can_be_neither_paid_nor_cancelled(module_stack, losses, action, body):
    other = _other_tenants_order(module_stack)
    status, answer, _ = request(module_stack, "POST", f"/orders/{other}/{action}", body)
    stored = wiring.container().orders.store.table.get_item(Key={"pk": "other#orders", "sk": other})["Item"]
    losses["cross_tenant_reads"] = int(status == 200 or "PAY-X" in stored["doc"] or "чужой" in stored["doc"])
    assert status == 404 and answer["error"]["code"] == "not_found", answer
    assert json.loads(stored["doc"]) == {"id": other, "tenant": "other"}, (
        "the other tenant's order is untouched"
    )


def _other_tenants_order(stack) -> str:
    from chalicelib.ports import new_id

    order_id = new_id()
    wiring.container().orders.store.table.put_item(
        Item={"pk": "other#orders", "sk": order_id, "doc": json.dumps({"id": order_id, "tenant": "other"})}
    )
    return order_id


BODIES = {
    "quantity: negative": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": -1}]}),
    "quantity: zero": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": 0}]}),
    "quantity: fractional": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": 1.5}]}),
    "quantity: NaN": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": "NaN"}]}),
    "quantity: Infinity": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": "Infinity"}]}),
    "quantity: 1e30": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": 1e30}]}),
    "quantity: true": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": True}]}),
    "quantity: a list": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": [1]}]}),
    "lines: 91 of them": lambda o: order(o, **{"lines": [{"offer_id": o, "quantity": 1}] * 91}),
    "lines: an object": lambda o: order(o, **{"lines": {"offer_id": o}}),
    "lines: empty": lambda o: order(o, **{"lines": []}),
    "lines: a string in the list": lambda o: order(o, **{"lines": ["x"]}),
    "offer: unknown": lambda o: order("no-such-offer"),
    "offer: 10k characters": lambda o: order("x" * 10_000),
    "offer: expression-looking": lambda o: order("${jndi:ldap://x}"),
    "offer: a number": lambda o: order(o, **{"lines": [{"offer_id": 5, "quantity": 1}]}),
    "comment: control character": lambda o: order(o, comment="позвонить\x01"),
    "comment: 3000 characters": lambda o: order(o, comment="к" * 3000),
    "name: lone surrogate": lambda o: order(o, **{"customer.name": "\ud800"}),
    "name: 450 KB": lambda o: order(o, **{"customer.name": "Я" * 225_000}),
    "name: NUL": lambda o: order(o, **{"customer.name": "Ива\x00н"}),
    "name: blank": lambda o: order(o, **{"customer.name": "   "}),
    "name: a number": lambda o: order(o, **{"customer.name": 42}),
    "email: not an address": lambda o: order(o, **{"customer.email": "not-an-email"}),
    "phone: 500 characters": lambda o: order(o, **{"customer.phone": "1" * 500}),
    "customer: a list": lambda o: order(o, customer=["x"]),
    "customer: missing": lambda o: {"lines": [{"offer_id": o, "quantity": 1}]},
    "delivery: negative price": lambda o: order(o, delivery={"price": -299}),
    "delivery: NaN price": lambda o: order(o, delivery={"price": "NaN"}),
    "delivery: price 1e12": lambda o: order(o, delivery={"price": 1e12}),
    "delivery: a string": lambda o: order(o, delivery="courier"),
    "delivery: control character in the address": lambda o: order(o, delivery={"address": "ул.\x1b[31m"}),
    "payment_method: an object": lambda o: order(o, payment_method={"a": 1}),
    "body: an array": lambda o: [order(o)],
    "body: not JSON": lambda o: b"{not json",
    "body: 100 KB": lambda o: order(o, comment="x" * 100_000),
    "discount: negative": lambda o: order(o, discounts=[{"name": "минус", "amount": -500}]),
    "discount: amount and percent": lambda o: order(
        o, discounts=[{"name": "обе", "amount": 1, "percent": 1}]
    ),
    "payment: unknown status": lambda o: order(o, payment={"status": "maybe"}),
}


# What each refusal says: its own reason, in the message or a line's problem (never any failure).
REASONS = {
    "quantity: negative": "quantity must be positive",
    "quantity: zero": "quantity must be positive",
    "quantity: fractional": "whole number: this offer is sold by the piece",
    "quantity: NaN": "lines\\[0\\]\\.quantity .*finite number",
    "quantity: Infinity": "lines\\[0\\]\\.quantity .*finite number",
    "quantity: 1e30": "lines\\[0\\]\\.quantity .*less than or equal to 100000",
    "quantity: true": "lines\\[0\\]\\.quantity Decimal input",
    "quantity: a list": "lines\\[0\\]\\.quantity Decimal input",
    "lines: 91 of them": "lines List should have at most 90",
    "lines: an object": "lines Input should be a valid list",
    "lines: empty": "lines List should have at least 1",
    "lines: a string in the list": "lines\\[0\\] Input should be a valid dictionary",
    "offer: unknown": "no such offer in the catalog",
    "offer: 10k characters": "offer_id String should have at most 200",
    "offer: expression-looking": "no such offer in the catalog",
    "offer: a number": "offer_id Input should be a valid string",
    "comment: control character": "comment contains control characters",
    "comment: 3000 characters": "comment String should have at most 2000",
    "name: lone surrogate": "customer.name .*unicode",
    "name: 450 KB": "an order body is at most 65536 bytes",
    "name: NUL": "customer.name contains control characters",
    "name: blank": "customer.name is required",
    "name: a number": "customer.name Input should be a valid string",
    "email: not an address": "customer.email is not an e-mail address",
    "phone: 500 characters": "customer.phone String should have at most 50",
    "customer: a list": "customer Input should be a valid dictionary",
    "customer: missing": "customer Field required",
    "delivery: negative price": "delivery.price .*greater than or equal to 0",
    "delivery: NaN price": "delivery.price .*finite number",
    "delivery: price 1e12": "delivery.price .*less than or equal to 10000000",
    "delivery: a string": "delivery Input should be a valid dictionary",
    "delivery: control character in the address": "delivery.address",
    "payment_method: an object": "payment_method Input should be a valid string",
    "body: an array": "the body must be a JSON object",
    "body: not JSON": "the body must be JSON",
    "body: 100 KB": "an order body is at most 65536 bytes",
    "discount: negative": r"discounts\[0\]\.amount .*greater than 0",
    "discount: amount and percent": r"discounts\[0\] .*an amount or a percent",
    "payment: unknown status": r"payment\.status",
}


def test_every_hostile_order_names_its_reason():
    assert set(REASONS) == set(BODIES)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_hostile_orders(module_stack, name):
    offer = an_offer(module_stack)
    before = _order_count()
    status, body, _ = request(
        module_stack, "POST", "/orders", BODIES[name](offer), {"Idempotency-Key": f"hostile-{name}"}
    )
    assert status in (400, 413, 422), body
    said = " ".join(
        [body["error"]["message"], *(str(d.get("reason")) for d in body["error"].get("details") or ())]
    )
    assert re.search(REASONS[name], said), said
    assert _order_count() == before, "a refused request creates no order"


def _order_count() -> int:
    from boto3.dynamodb.conditions import Key

    table = wiring.container().orders.store.table
    return len(table.query(KeyConditionExpression=Key("pk").eq("demo#orders"))["Items"])


HEADERS = {
    "auth: no API key": ({"X-Api-Key": ""}, 401),
    "auth: wrong API key": ({"X-Api-Key": "nope"}, 401),
    "auth: 10 KB API key": ({"X-Api-Key": "k" * 10_000}, 401),
    "orders: no Idempotency-Key": ({"Idempotency-Key": ""}, 400),
}


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_hostile_headers(module_stack, name):
    headers, expected = HEADERS[name]
    method, path = ("POST", "/orders") if "orders" in name else ("GET", "/products")
    status, body, _ = request(module_stack, method, path, order("x") if method == "POST" else None, headers)
    assert status == expected and body["error"]["code"]


WEBHOOK_URLS = [
    "not a url",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/_HELO",
    "ftp://example.com/x",
    "javascript:alert(1)",
    "http://",
    "https://user:secret@example.com/hook",
    "https://exa mple.com/",
    "http://example.com:99999/",
    "https://example.com/\r\nX-Injected: 1",
    "h" * 3000,
    "",
]


@pytest.mark.parametrize("url", WEBHOOK_URLS, ids=[u[:30] or "empty" for u in WEBHOOK_URLS])
def test_bad_webhook_urls_are_refused_when_set(module_stack, url):
    with pytest.raises(TenantError):
        wiring.container().accounts.update_settings("demo", webhook_urls=(url,))
    assert url not in wiring.container().accounts.require("demo").settings.webhook_urls


def test_prod_refuses_plain_http_when_set():
    from chalicelib.accounts import Accounts, InMemoryTenantStore

    accounts = Accounts(InMemoryTenantStore(), https_webhooks_only=True)
    accounts.add("shop")
    with pytest.raises(TenantError, match="https"):
        accounts.set_webhook("shop", ["http://example.com/hook"])
    assert len(accounts.set_webhook("shop", ["https://example.com/hook"])) >= 64


PRIVATE_TARGETS = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
]


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_webhooks_never_reach_private_addresses(url):
    """In prod the sender resolves the host and refuses before connecting: nothing is sent."""
    from chalicelib.notify import http

    code, error = http.post(url, b"{}", {}, allow_private=False, deadline_seconds=2)
    assert code is None and error.startswith("refused"), error
