"""One test per fix of the shop API and webhook sender, each on a fresh stack: the rate limit,
status paging, group cycles across files, webhook secrets, the POST deadline, address pinning."""

from __future__ import annotations

import json

from chalicelib import wiring
from tests.reliability.test_hostile_api import KEY, request


def test_rate_limit_per_api_key_answers_429_with_retry_after(stack):
    wiring.container().accounts.update_settings("demo", api_rate_per_minute=3)
    statuses = []
    for _ in range(5):
        response = stack.client.http.request("GET", "/api/v1/groups", headers=KEY)
        statuses.append(response.status_code)
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert json.loads(response.body)["error"]["code"] == "rate_limited"
    accounts = wiring.container().accounts
    accounts.add("calm")
    accounts.issue_api_key("calm", "calm-key")
    other = stack.client.http.request("GET", "/api/v1/groups", headers={"X-Api-Key": "calm-key"})
    assert other.status_code == 200, "each key has its own budget"


def test_status_filter_reaches_a_match_behind_many_other_orders(stack, losses):
    from chalicelib.ports import new_id

    store = wiring.container().orders.store
    ids = []
    for n in range(13):
        order_id = new_id()
        status = "paid" if n == 12 else "new"
        doc = {"id": order_id, "number": str(n), "status": status, "lines": [], "totals": {}}
        store.table.put_item(
            Item={"pk": "demo#orders", "sk": order_id, "doc": json.dumps(doc), "status": status}
        )
        ids.append(order_id)
    found, cursor, requests = [], None, 0
    while True:
        path = f"/orders?status=paid&limit=2{'&cursor=' + cursor if cursor else ''}"
        status, body, _ = request(stack, "GET", path)
        requests += 1
        assert status == 200, body
        found += [o["id"] for o in body["orders"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    losses["orders_lost"] = 1 - len(found)  # counted before anything is asserted
    assert found == [ids[12]] and requests <= 3


def test_a_group_cycle_across_files_never_loops_a_read(stack):
    from tests.onec import OneC
    from tests.reliability import cml

    onec = OneC(stack.client.http, pump=stack.pump)
    first = cml.catalog(
        cml.product(extra="<Группы><Ид>A</Ид></Группы>"), cml.group("B", children=cml.group("A"))
    )
    second = cml.catalog("", cml.group("A", children=cml.group("B")))
    assert onec.send_file("import1.xml", first).keyword == "success"
    assert onec.send_file("import2.xml", second).keyword == "success"
    assert onec.send_file("offers.xml", cml.offers(cml.offer())).keyword == "success"
    status, body, _ = request(stack, "GET", "/products?group=A")
    assert status == 200 and [p["id"] for p in body["items"]] == ["p-hostile"]


def test_webhook_secrets_always_exist_and_are_long(stack):
    from chalicelib import admin

    assert admin.main(["tenants", "set", "demo", "webhook_urls=https://shop.example/hooks"]) == 0
    secret = wiring.container().accounts.require("demo").settings.webhook_secret
    assert secret and len(bytes.fromhex(secret)) == 32
    assert admin.main(["tenants", "set", "demo", "webhook_urls=gopher://x"]) == 2
    assert admin.main(["tenants", "set", "demo", "webhook_secret=short"]) == 2


def test_a_dripping_receiver_is_cut_off_at_the_deadline(losses):
    import socket
    import threading
    import time

    from chalicelib.notify import http

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def drip():
        conn, _ = server.accept()
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\n\r\n":
            if stop.wait(1):
                break
            conn.send(bytes([byte]))
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    code, error = http.post(
        f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, allow_private=True, deadline_seconds=2
    )
    elapsed = time.monotonic() - started
    stop.set()
    losses["stalled_tenants"] = int(elapsed >= 4)
    assert code is None and "within 2 s" in error and elapsed < 4


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    """DNS rebinding: the name is resolved once, checked, and that address is connected to, with
    the URL's host name kept for the Host header (and for TLS)."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from chalicelib.notify import http

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(self.headers["Host"])
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    port = server.server_address[1]
    real, lookups = socket.getaddrinfo, []

    def resolve_once(host, *args, **kwargs):
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"  # the second answer rebinds
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve_once)
    code, error = http.post(
        f"http://rebind.test:{port}/hook", b"{}", {"Host": f"rebind.test:{port}"}, allow_private=True
    )
    assert (code, error) == (204, None) and seen == [f"rebind.test:{port}"]
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))]
    )
    assert http.post("http://rebind.test/hook", b"{}", {})[1].startswith("refused")
