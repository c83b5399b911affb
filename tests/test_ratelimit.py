"""The shop API's rate limit counted in batches (aws/ratelimit.py), measured on moto and DynamoDB
Local: what it admits over the limit with several containers at once, and how many writes it
makes — against the one write a request it replaced."""

from __future__ import annotations

import itertools

import pytest

from chalicelib.aws.ratelimit import SYNC_EVERY, WINDOW_SECONDS, RateLimiter
from tests.conftest import table_on_engine


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000 + WINDOW_SECONDS / 2  # mid-window

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["moto", "dynamodb-local"])
def table(request, monkeypatch):
    from chalicelib.aws import clients

    yield table_on_engine(request, monkeypatch, "ExchangeTable")
    clients.reset()


def test_one_container_admits_exactly_the_limit_with_a_write_per_batch(table):
    clock = Clock()
    limiter = RateLimiter(table, clock)
    admitted = sum(limiter.take("t1", 1200) == 0 for _ in range(1500))
    assert admitted == 1200, "one container sees every request: the limit holds exactly"
    assert limiter.writes <= 1200 // SYNC_EVERY + 40, limiter.writes
    assert limiter.waiting("t1") > 0 and limiter.take("t1", 1200) > 0
    clock.now += WINDOW_SECONDS
    assert limiter.take("t1", 1200) == 0 and limiter.waiting("t1") == 0, "the next window starts afresh"


def test_four_containers_at_once_admit_at_most_their_batches_over_the_limit(table):
    clock = Clock()
    containers = [RateLimiter(table, clock) for _ in range(4)]
    admitted = 0
    for limiter in itertools.islice(itertools.cycle(containers), 3000):
        admitted += limiter.take("t2", 1200) == 0
    writes = sum(c.writes for c in containers)
    over = admitted - 1200
    print(f"4 containers, limit 1200: admitted {admitted} ({over:+d}), {writes} writes for 3000 requests")
    assert 1200 <= admitted <= 1200 + 4 * SYNC_EVERY, admitted
    assert writes <= admitted / 5, f"{writes} writes: not a fifth of the one-per-request counter"


def test_small_limits_are_counted_one_by_one(table):
    clock = Clock()
    a, b = RateLimiter(table, clock), RateLimiter(table, clock)
    answers = [limiter.take("t3", 3) == 0 for limiter in (a, b, a, b, a, b)]
    assert answers == [True, True, True, False, False, False], "under NEAR × 1 left: every request is written"
