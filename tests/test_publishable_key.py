"""A publishable key: what a shopper's browser may hold. It reads the catalog (through API
Gateway and the function URL alike) and nothing else: orders take the shop's secret API key."""

from __future__ import annotations

import json

from chalicelib import admin, wiring
from tests.reliability import cml


def call(stack, method: str, path: str, key: str, body: dict | None = None):
    headers = {"X-Api-Key": key, "Content-Type": "application/json", "Idempotency-Key": "k1"}
    data = json.dumps(body).encode() if body is not None else None
    response = stack.client.http.request(method, f"/api/v1{path}", headers=headers, body=data)
    return response.status_code, json.loads(response.body) if response.body else {}


def test_a_publishable_key_reads_the_catalog_and_never_orders(stack, capsys):
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("p1", "Чайник"))).keyword == "success"
    assert onec.send_file("offers.xml", cml.offers(cml.offer("p1", "3", "100"))).keyword == "success"
    assert admin.main(["tenants", "publishable-key", "demo"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert (
        key.startswith("cmlb_pub_demo_")
        and key == wiring.container().accounts.require("demo").settings.publishable_key
    )

    for path in ("/groups", "/products", "/products/p1", "/facets", "/changes"):
        assert call(stack, "GET", path, key)[0] == 200, path
    order = {"customer": {"name": "Анна"}, "lines": [{"offer_id": "p1", "quantity": 1}]}
    status, body = call(stack, "POST", "/orders", key, order)
    assert (status, body["error"]["code"]) == (403, "publishable_key")
    assert call(stack, "GET", "/orders", key)[0] == 403, "nor reads customers' orders"
    assert call(stack, "POST", "/orders", "demo-key", order)[0] == 201, "the secret key places it"

    forged = key[:-4] + "AAAA"
    assert call(stack, "GET", "/groups", forged)[0] == 401
    assert call(stack, "GET", "/groups", "cmlb_pub_other_" + key.rsplit("_", 1)[1])[0] == 401
    assert call(stack, "GET", "/groups", "cmlb_pub_" + "x" * 300)[0] == 401
    wiring.container().accounts.issue_publishable_key("demo")  # rotated: the old one stops at once
    assert call(stack, "GET", "/groups", key)[0] == 401


def test_the_owner_issues_it_on_the_settings_page_and_sees_it_there(stack):
    from tests.test_console import PASSWORD, Browser

    wiring.container().console_auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    browser = Browser(stack)
    assert browser.login("owner@demo.shop").status_code == 303
    assert "Ключ ещё не выпущен" in browser.get("/console/settings").body.decode()
    assert browser.post("/console/publishable-key", {}).status_code == 303
    key = wiring.container().accounts.require("demo").settings.publishable_key
    assert (
        key and f'<code id="publishable-key">{key}</code>' in browser.get("/console/settings").body.decode()
    )
    assert call(stack, "GET", "/groups", key)[0] == 200
