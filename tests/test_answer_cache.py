"""The shop API's answer cache (shop/answers.py): a hit is the same answer as a read would give,
because its key holds everything the answer is made of — a new import, a settings change and
an order's hold each make the next answer anew."""

from __future__ import annotations

import json
import time
from decimal import Decimal

from chalicelib import wiring
from chalicelib.shop import catalog as shop_catalog
from chalicelib.shop.answers import MAX_LIFE_SECONDS, SETTLE_MS, AnswerCache, Outcome
from tests.reliability import cml

KEY = {"X-Api-Key": "demo-key", "Content-Type": "application/json"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def cache(budget: int = 1 << 20) -> tuple[AnswerCache, Clock]:
    clock = Clock()
    return AnswerCache(budget, clock=clock, wall_ms=lambda: int(clock.now * 1000)), clock


def test_a_settled_version_is_kept_a_fresh_or_unknown_one_is_not():
    answers, clock = cache()
    settled = int(clock.now * 1000) - SETTLE_MS
    made = []

    def make() -> tuple[str, list[str]]:
        made.append(1)
        return f'{{"n":{len(made)}}}', []

    assert answers.answer(("a", settled), settled, {}, make).outcome is Outcome.MISS
    hit = answers.answer(("a", settled), settled, {}, make)
    assert (hit.outcome, hit.body, len(made)) == (Outcome.HIT, '{"n":1}', 1)
    fresh = int(clock.now * 1000) - SETTLE_MS + 1  # the indexes may still trail the writes
    assert answers.answer(("a", fresh), fresh, {}, make).outcome is Outcome.BYPASS
    assert answers.answer(("a", fresh), fresh, {}, make).outcome is Outcome.BYPASS
    assert answers.answer(("a", 0), 0, {}, make).outcome is Outcome.BYPASS  # no version recorded yet
    assert len(made) == 4


def test_no_entry_outlives_its_life_and_the_budget_drops_the_least_recently_used():
    answers, clock = cache(budget=3_000)
    version = int(clock.now * 1000) - SETTLE_MS
    for name in ("a", "b"):
        answers.answer(name, version, {}, lambda: ("x" * 300, []))
    clock.now += MAX_LIFE_SECONDS + 1
    assert answers.answer("a", version, {}, lambda: ("y" * 300, [])).body == "y" * 300  # made again
    for name in "cdefghij":
        answers.answer(name, version, {}, lambda: ("z" * 300, []))
        answers.answer("a", version, {}, lambda: ("never", []))  # kept in use, so kept
    assert (
        answers.used <= 3_000
        and answers.answer("a", version, {}, lambda: ("never", [])).outcome is Outcome.HIT
    )
    assert answers.answer("c", version, {}, lambda: ("new", [])).body == "new"


def test_a_hold_makes_anew_only_the_answers_showing_its_product_or_offer():
    answers, clock = cache()
    version = int(clock.now * 1000) - SETTLE_MS
    shown = {"tea page": ["p:tea", "p:jam"], "tea": ["o:tea#1", "o:tea#2"], "milk": ["o:milk"]}
    for key, keys in shown.items():
        answers.answer(key, version, {}, lambda keys=keys: ("old", keys))
    held = {"p:tea": Decimal(2), "o:tea#2": Decimal(2)}
    outcomes = {key: answers.answer(key, version, held, lambda: ("new", [])).outcome for key in shown}
    assert outcomes == {"tea page": Outcome.MISS, "tea": Outcome.MISS, "milk": Outcome.HIT}


def settled_cache() -> None:
    """The stack's answer cache with a clock an hour ahead: the imports just made are settled."""
    wiring.container().__dict__["answer_cache"] = AnswerCache(
        wall_ms=lambda: int(time.time() * 1000) + 3_600_000
    )


def get(stack, path: str) -> tuple[str, dict]:
    response = stack.client.http.request("GET", f"/api/v1{path}", headers=KEY)
    assert response.status_code == 200, response.body
    return response.headers["X-Cache"], json.loads(response.body)


def test_a_new_import_a_settings_change_and_an_order_each_make_the_answer_anew(stack, monkeypatch):
    monkeypatch.setattr(shop_catalog, "HELD_TTL", 0.0)  # what orders hold: read on every request
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("чай", "Чай"))).keyword == "success"
    assert onec.send_file("offers.xml", cml.offers(cml.offer("чай", "5", "100"))).keyword == "success"
    settled_cache()

    assert get(stack, "/products/чай")[0] == "miss"
    outcome, tea = get(stack, "/products/чай")
    assert outcome == "hit" and tea["offers"][0]["prices"][0]["value"] == 100
    assert get(stack, "/products?sort=name")[0] == "miss" and get(stack, "/products?sort=name")[0] == "hit"
    assert get(stack, "/products?sort=name&limit=5")[0] == "miss"  # another query, another answer

    assert onec.send_file("offers.xml", cml.offers(cml.offer("чай", "5", "120"))).keyword == "success"
    outcome, tea = get(stack, "/products/чай")
    assert outcome == "miss" and tea["offers"][0]["prices"][0]["value"] == 120
    outcome, listed = get(stack, "/products?sort=name")
    assert outcome == "miss" and listed["items"][0]["price"] == 120

    accounts = wiring.container().accounts
    version = accounts.store.get("demo").catalog_version
    accounts.update_settings("demo", image_base_url="https://cdn.example.com")
    assert accounts.store.get("demo").catalog_version != version, "a settings change is a new version"
    outcome, tea = get(stack, "/products/чай")
    assert outcome == "miss" and tea["images"] == [], "made anew under the new settings"
    assert get(stack, "/products/чай")[0] == "hit"

    order = {"customer": {"name": "Анна"}, "lines": [{"offer_id": "чай", "quantity": 2}]}
    placed = stack.client.http.request(
        "POST", "/api/v1/orders", headers={**KEY, "Idempotency-Key": "k1"}, body=json.dumps(order).encode()
    )
    assert placed.status_code == 201, placed.body
    outcome, tea = get(stack, "/products/чай")
    assert outcome == "miss" and tea["offers"][0]["stock"]["available"] == 3
    outcome, listed = get(stack, "/products?sort=name")
    assert outcome == "miss" and listed["items"][0]["available"] == 3
