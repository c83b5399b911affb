"""What a delivery run comes to (notify.delivery.settle), as a table: receivers' answers in,
the event's outcome, each receiver's state and the next try out."""

import pytest

from chalicelib.memory.orders import InMemoryOutbox
from chalicelib.notify.delivery import Posted, settle, still_open
from chalicelib.notify.webhooks import WebhookSender
from chalicelib.tenants import Tenant, TenantSettings

A, B = "https://a.example/hook", "https://b.example/hook"
OK, DOWN = (200, None), (503, "HTTP 503")
REFUSED = (None, "refused: webhook URLs must be https in this stage")


def posts(*answers: tuple[str, tuple[int | None, str | None]]) -> list[Posted]:
    return [Posted(url, "100", code, error) for url, (code, error) in answers]


@pytest.mark.parametrize(
    ("urls", "before", "answers", "attempts", "outcome", "states", "retry"),
    [
        ([A], {}, [(A, OK)], 1, "delivered", {A: "delivered"}, False),
        ([A, B], {}, [(A, OK), (B, DOWN)], 1, "pending", {A: "delivered", B: "failed"}, True),
        (
            [A, B],
            {A: "delivered", B: "failed"},
            [(B, OK)],
            2,
            "delivered",
            {A: "delivered", B: "delivered"},
            False,
        ),
        ([A], {}, [(A, DOWN)], 3, "dead", {A: "dead"}, False),  # the last attempt failed
        ([A], {}, [(A, REFUSED)], 1, "dead", {A: "refused"}, False),  # refusals are never retried
        ([A, B], {}, [(A, OK), (B, REFUSED)], 1, "dead", {A: "delivered", B: "refused"}, False),
        ([A], {A: "failed"}, [], 4, "dead", {A: "dead"}, False),  # runs that stopped used them up
        ([], {}, [], 1, "no_receiver", {}, False),  # nobody to tell: never "delivered"
    ],
)
def test_a_run_settles_by_the_table(urls, before, answers, attempts, outcome, states, retry):
    targets = {u: {"status": s, "attempts": attempts - 1, "last_error": None} for u, s in before.items()}
    result = settle(urls, targets, [], posts(*answers), attempts, 3, now=1000, retry_in=60)
    assert result.outcome == outcome
    assert {u: t["status"] for u, t in result.targets.items()} == states
    assert result.next_at == (1060 if retry else None)
    assert [entry["url"] for entry in result.log if "url" in entry] == [u for u, _ in answers]


def test_only_receivers_still_open_are_posted_to_again():
    targets = {A: {"status": "delivered"}, B: {"status": "failed"}}
    assert still_open([A, B, "https://c.example"], targets) == [B, "https://c.example"]


def test_an_event_with_no_receiver_is_not_counted_as_delivered():
    outbox = InMemoryOutbox()
    event_id = outbox.add("shop", "order.created", {"order": {"id": "x"}})
    posted: list[str] = []
    sender = WebhookSender(outbox, post=lambda url, body, headers: posted.append(url) or (200, None))
    counts = sender.deliver_due(Tenant("shop", "Shop", settings=TenantSettings()), "runner", float("inf"))
    assert counts == {"delivered": 0, "retry": 0, "dead": 0, "no_receiver": 1} and posted == []
    item = outbox.get("shop", event_id)
    assert item["status"] == "no_receiver" and outbox.due("shop", 10**10, 10) == []
