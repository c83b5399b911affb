"""A day of shop reads replayed against a shared HTTP cache (a CDN, or a shop backend's cache)
that honours the answers' `Cache-Control: max-age` and revalidates with `If-None-Match`: what share
of reads the cache answers, and what share of the rest the origin answers 304.

The read mix: half list pages, half product pages (as `make capacity` assumes); products by Zipf
popularity; list pages by a Zipf over the groups and mostly the first pages. Every 15 simulated
minutes an import changes 1 % of the products: a product's answer changes with it, a list page's
when any of its 50 products changed. Whether a request is a hit depends only on when its URL was
last fetched (a TTL cache), so the cache is simulated here; the app's ETag and 304 are tested in
tests/ (test_shop_api, test_function_url)."""

from __future__ import annotations

import bisect
import itertools
import random
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

PAGE = 50
EXCHANGE_SECONDS = 15 * 60


@dataclass(frozen=True)
class Outcome:
    requests: int
    hits: int
    not_modified: int  # origin requests answered 304

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.requests

    @property
    def not_modified_ratio(self) -> float:
        return self.not_modified / max(1, self.requests - self.hits)


def _zipf(n: int, s: float) -> list[float]:
    weights = [1 / (rank**s) for rank in range(1, n + 1)]
    return list(itertools.accumulate(weights))


def replay(
    products: int, reads_per_minute: int, max_age: int, minutes: int = 24 * 60, s: float = 1.0, seed: int = 1
) -> Outcome:
    rng = random.Random(seed)
    groups = max(1, products // 100)
    per_group = products // groups
    product_weights, group_weights = _zipf(products, s), _zipf(groups, s)
    order = list(range(products))
    rng.shuffle(order)  # popularity is not the id order, nor the group's
    page_of = {p: (i // per_group, (i % per_group) // PAGE) for i, p in enumerate(order)}
    fetched: dict[tuple, tuple[float, int]] = {}  # url -> (when it was fetched, content version)
    changed_at: dict[tuple, int] = {}  # url -> the import that last changed it
    hits = not_modified = 0
    total = reads_per_minute * minutes
    step = 60 / reads_per_minute
    for n in range(total):
        now = n * step
        version = int(now // EXCHANGE_SECONDS)
        if n and int((n - 1) * step // EXCHANGE_SECONDS) != version:  # an import: 1 % changes
            for p in rng.sample(range(products), products // 100):
                changed_at[("product", p)] = version
                changed_at[("page", *page_of[p])] = version
        if rng.random() < 0.5:
            url: tuple = ("product", bisect.bisect(product_weights, rng.random() * product_weights[-1]))
        else:
            group = bisect.bisect(group_weights, rng.random() * group_weights[-1])
            depth = min(int(rng.expovariate(1.0)), per_group // PAGE)  # page 1 mostly
            url = ("page", group, depth)
        seen = fetched.get(url)
        if seen and now - seen[0] < max_age:
            hits += 1
            continue
        content = changed_at.get(url, -1)
        if seen and seen[1] >= content:
            not_modified += 1
        fetched[url] = (now, version)
    return Outcome(total, hits, not_modified)


def _requests(
    products: int, reads_per_minute: int, minutes: int, s: float, rng: random.Random
) -> Iterator[tuple]:
    """(when, url) of the read mix, arriving as a Poisson process."""
    groups = max(1, products // 100)
    per_group = products // groups
    product_weights, group_weights = _zipf(products, s), _zipf(groups, s)
    now, rate = 0.0, reads_per_minute / 60
    while now < minutes * 60:
        now += rng.expovariate(rate)
        if rng.random() < 0.5:
            yield now, ("product", bisect.bisect(product_weights, rng.random() * product_weights[-1]))
        else:
            group = bisect.bisect(group_weights, rng.random() * group_weights[-1])
            yield now, ("page", group, min(int(rng.expovariate(1.0)), per_group // PAGE))


def in_containers(
    products: int,
    reads_per_minute: int,
    orders_per_day: int,
    service_ms: tuple[float, float],
    sizes: tuple[int, int],
    minutes: int = 24 * 60,
    s: float = 1.0,
    seed: int = 1,
) -> tuple[float, float, int]:
    """The answer cache inside each Lambda container (shop/answers.py): exact, so an entry is good
    until the tenant's catalog version moves (every exchange, every 15 minutes) or an order holds
    the product it shows (its product page and its list page; orders follow views' popularity),
    and for MAX_LIFE_SECONDS at most; each container keeps BUDGET_BYTES (an answer counted at twice
    its bytes: Python's str of Cyrillic). Lambda sends a request to an idle container — taken at
    random here, which spreads reads more than reusing the warmest would — or starts one when all
    are busy; a container is busy for the measured wall time of a miss or a hit (`service_ms`).
    Returns the share of reads answered from a cache, the reads of what orders hold per request
    (each container's every HELD_TTL seconds) and the most containers used at once."""
    from chalicelib.shop.answers import BUDGET_BYTES, MAX_LIFE_SECONDS
    from chalicelib.shop.catalog import HELD_TTL

    rng = random.Random(seed)
    groups = max(1, products // 100)
    per_group = products // groups
    order = list(range(products))
    rng.shuffle(order)
    page_of = {p: (i // per_group, (i % per_group) // PAGE) for i, p in enumerate(order)}
    weights = _zipf(products, s)
    orders = sorted(rng.uniform(0, minutes * 60) for _ in range(orders_per_day * minutes // (24 * 60)))
    held_at: dict[tuple, float] = {}  # url -> when an order last held a product it shows
    caches: list[OrderedDict] = []
    used: list[int] = []
    busy_until: list[float] = []
    held_read: list[float] = []
    hits = total = held_reads = 0
    for now, url in _requests(products, reads_per_minute, minutes, s, rng):
        while orders and orders[0] <= now:
            ordered = bisect.bisect(weights, rng.random() * weights[-1])
            held_at[("product", ordered)] = held_at[("page", *page_of[ordered])] = orders.pop(0)
        total += 1
        idle = [n for n, until in enumerate(busy_until) if until <= now]
        if not idle:
            caches.append(OrderedDict())
            used.append(0)
            busy_until.append(0.0)
            held_read.append(-HELD_TTL)
            idle = [len(caches) - 1]
        n = rng.choice(idle)
        if now - held_read[n] >= HELD_TTL:
            held_reads += 1
            held_read[n] = now
        cache, key = caches[n], (url, int(now // EXCHANGE_SECONDS))
        made = cache.get(key)
        if made is not None and now - made <= MAX_LIFE_SECONDS and made >= held_at.get(url, -1.0):
            hits += 1
            cache.move_to_end(key)
            busy_until[n] = now + service_ms[1] / 1000
            continue
        if made is None:
            used[n] += 2 * sizes[url[0] == "page"]
        cache[key] = now
        while used[n] > BUDGET_BYTES:
            old, _ = cache.popitem(last=False)
            used[n] -= 2 * sizes[old[0][0] == "page"]
        busy_until[n] = now + service_ms[0] / 1000
    return hits / total, held_reads / total, len(caches)


def answer_cache(measured: dict) -> dict:
    """The in-container answer cache's hit ratio at both loads, from the bench's measured wall
    times and answer sizes."""
    service = (
        (measured["api.wall_ms.list_page"] + measured["api.wall_ms.product"]) / 2,
        (measured["api.wall_ms.list_page_hit"] + measured["api.wall_ms.product_hit"]) / 2,
    )
    sizes = (measured["api.response_bytes.product"], measured["api.response_bytes.list_page"])
    results, lines = {}, []
    for label, products, rpm, orders in (("reference", 50_000, 1_000, 100), ("small", 5_000, 50, 10)):
        ratio, held, containers = in_containers(products, rpm, orders, service, sizes)
        results[f"api.answer_cache_hit_ratio.{label}"] = round(ratio, 3)
        results[f"api.held_reads_per_request.{label}"] = round(held, 4)
        lines.append(
            f"answer cache replay {label:>9}: {ratio:.1%} of reads answered inside the Lambda "
            f"({containers} containers at most, {service[0]:.1f} / {service[1]:.1f} ms a miss / a hit); "
            f"what orders hold read by {held:.1%} of the requests"
        )
    print("\n".join(lines))
    return results


def main() -> dict:
    results, lines = {}, []
    for label, products, rpm in (("reference", 50_000, 1_000), ("small", 5_000, 50)):
        for max_age in (30, 60, 300):
            outcome = replay(products, rpm, max_age)
            key = f"api.cache_hit_ratio.{label}.max_age_{max_age}"
            results[key] = round(outcome.hit_ratio, 3)
            results[f"api.cache_304_ratio.{label}.max_age_{max_age}"] = round(outcome.not_modified_ratio, 3)
            lines.append(
                f"cache replay {label:>9} ({products:,} products, {rpm:,} reads/min), max-age {max_age:>3} s: "
                f"{outcome.hit_ratio:.1%} answered by the cache, {outcome.not_modified_ratio:.1%} of the rest 304"
            )
    for s in (0.8, 1.2):  # how much the figure leans on the popularity curve
        outcome = replay(50_000, 1_000, 30, s=s)
        results[f"api.cache_hit_ratio.reference.max_age_30.zipf_{s}"] = round(outcome.hit_ratio, 3)
        lines.append(f"cache replay reference, max-age 30 s, Zipf s={s}: {outcome.hit_ratio:.1%}")
    results["api.cache_hit_ratio"] = results["api.cache_hit_ratio.reference.max_age_30"]
    print("\n".join(lines))
    return results
