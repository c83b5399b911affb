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
