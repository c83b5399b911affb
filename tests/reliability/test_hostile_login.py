"""Password guessing and sessions: every password check is counted wherever it happens, per
(source, login) and per login, atomically; one tenant's typos never lock out another tenant
behind the same NAT; sessions end at `complete`; logs never carry a session token."""

from __future__ import annotations

import base64
import logging
from concurrent.futures import ThreadPoolExecutor

from chalicelib import wiring
from chalicelib.exchange import sessions as protocol
from tests.onec import Reply


def call(stack, query: str, login: str | None = None, password: str | None = None, cookie: str = "") -> Reply:
    headers = {}
    if login is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()
    if cookie:
        headers["Cookie"] = cookie
    response = stack.client.http.request("GET", f"/1c_exchange?{query}", headers=headers)
    return Reply(response.status_code, response.body.decode(), dict(response.headers))


def tenant(name: str) -> None:
    accounts = wiring.container().accounts
    accounts.add(name)
    accounts.set_1c_credentials(name, name, f"{name}-pw")


def test_basic_only_calls_are_counted_and_throttled(stack):
    for _ in range(protocol.MAX_CHECKS_PER_SOURCE):
        assert call(stack, "type=catalog&mode=init", "demo", "guess").keyword == "failure"
    reply = call(stack, "type=catalog&mode=checkauth", "demo", "demo")
    assert reply.keyword == "failure" and "слишком много" in reply.text, "the right password waits too"


def test_a_right_guess_on_a_basic_only_call_opens_its_own_session(stack):
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    opened = onec.cookie.split(".", 1)[1]
    reply = call(stack, "type=catalog&mode=init", "demo", "demo")
    assert reply.text.startswith("zip=yes")
    sessions = {s["token"]: s for s in wiring.container().exchange_store.latest_sessions("demo")}
    assert sessions[opened].get("init_count") is None, "the checkauth session was not joined"
    with_init = [sk for sk, s in sessions.items() if s.get("init_count")]
    assert len(with_init) == 1 and with_init[0] != opened, "the Basic-only call got a session of its own"


def test_one_tenants_typos_never_lock_out_another_behind_the_same_address(stack):
    tenant("shop-b")
    for _ in range(protocol.MAX_CHECKS_PER_SOURCE + 2):
        call(stack, "type=catalog&mode=checkauth", "demo", "typo")
    assert call(stack, "type=catalog&mode=checkauth", "shop-b", "shop-b-pw").keyword == "success"
    assert "слишком много" in call(stack, "type=catalog&mode=checkauth", "demo", "demo").text


def test_a_success_clears_only_its_own_logins_counter(stack):
    tenant("shop-c")
    for _ in range(protocol.MAX_CHECKS_PER_SOURCE):
        call(stack, "type=catalog&mode=checkauth", "demo", "typo")
    for _ in range(3):  # another account logging in at will
        assert call(stack, "type=catalog&mode=checkauth", "shop-c", "shop-c-pw").keyword == "success"
    assert "слишком много" in call(stack, "type=catalog&mode=checkauth", "demo", "demo").text


def test_the_login_counter_is_atomic_under_concurrent_guesses(stack, atomic_dynamodb):
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda n: call(stack, "type=catalog&mode=checkauth", "demo", f"g{n}"), range(24))
        )
    checked = [r for r in replies if "неверный логин" in r.text]
    assert len(checked) == protocol.MAX_CHECKS_PER_SOURCE, "exactly the allowed number of checks ran"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_sessions_end_at_complete_and_logs_never_show_tokens(stack):
    from chalicelib.observability import logger

    captured = Records()
    level = logger.log_level
    logger.setLevel(logging.INFO)  # the suite logs warnings only (setLevel clears logging's cache)
    logger.addHandler(captured)
    try:
        onec = stack.onec()
        assert onec.checkauth().keyword == "success"
        token = onec.cookie.split(".", 1)[1]
        assert onec.init().lines[0] == "zip=yes"
        assert onec.call("catalog", "complete").keyword == "success"
        assert onec.call("catalog", "complete").keyword == "success", "a repeated complete is harmless"
        reply = onec.call("catalog", "init")
        assert reply.keyword == "failure" and "завершён" in reply.text
    finally:
        logger.removeHandler(captured)
        logger.setLevel(level)
    logged = " ".join(str(r.__dict__) for r in captured.records)
    assert token not in logged and protocol.token_ref(token) in logged
