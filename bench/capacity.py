"""`make capacity`: what cmlbridge costs per tenant a month, and where an account hits its limits,
from the counts `make bench` measured (bench/results.json) and the dated prices and default quotas
in bench/prices.json.

Scenario: 10,000 tenants × 50,000 SKUs; an exchange every 15 minutes changing 1 % (1C's exchange
plan sends only what changed); 1,000 shop reads a minute per tenant (half list pages, half product
pages); 100 orders a day per tenant. Every figure below says where it comes from.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENANTS, SKUS, EXCHANGES_PER_DAY, CHANGED = 10_000, 50_000, 24 * 4, 0.01
READS_PER_MINUTE, ORDERS_PER_DAY, DAYS = 1_000, 100, 30
# Per call, from the read paths (chalicelib/shop/catalog.py) and item sizes the bench writes:
# a common list page is one Query of 50 cards (~0.6 KB each, eventually consistent: 0.5 unit per
# 4 KB), a product page one partition query (~8 items, ~6 KB); every API call also reads the API
# key (0.5) and counts the rate limit: measured by `make bench` (`api.rate_limit_writes_per_request`:
# the counter writes in batches, chalicelib/aws/ratelimit.py); one write a request before that.
READ_UNITS = {"list page": math.ceil(50 * 0.6 / 4) * 0.5, "product": math.ceil(6 / 4) * 0.5}
KEY_LOOKUP_READ = 0.5
ORDER_WRITE_UNITS = 12  # order + holds + number + outbox events + 1C's query/success/statuses
ORDER_READ_UNITS = 8
LAMBDA_GB = 1.0  # the import worker's memory setting (.chalice/config.json)


def main() -> int:
    results = ROOT / "bench" / "results.json"
    needed = (
        "import.write_units.changed_1pct.10k",
        "import.seconds.changed_1pct.10k",
        "import.bytes_per_product.10k",
    )
    measured = json.loads(results.read_text()) if results.exists() else {}
    missing = [k for k in needed if k not in measured]
    if missing:
        print(
            f"no bench figures ({', '.join(missing)}): run `BENCH_SIZES=10000 make bench` first",
            file=sys.stderr,
        )
        return 1
    prices = json.loads((ROOT / "bench" / "prices.json").read_text())
    quotas = prices["quotas"]
    scale = SKUS / 10_000  # the bench's catalog: 10k products, 2 variants each
    # a 1%-changed exchange of the 10k catalog, as DynamoDB reported its write units, scaled
    write_units = measured["import.write_units.changed_1pct.10k"] * scale
    seconds_1pct = measured["import.seconds.changed_1pct.10k"]
    bytes_per_sku = measured["import.bytes_per_product.10k"]
    rate_limit_write = measured.get("api.rate_limit_writes_per_request", 1)  # 1: not measured yet

    # -- one tenant, one exchange -------------------------------------------------------------
    upload_bytes = SKUS * CHANGED * bytes_per_sku
    chunks = max(2, math.ceil(upload_bytes / 10_000_000))
    s3_puts = chunks + 12  # chunks, staging (changes, index, seen, touched, repeats), state files
    s3_gets = 14
    index_mb = SKUS * 3 * 40 / 1e6  # index lines and card summary, read and written per import
    lambda_seconds = seconds_1pct * (SKUS / 10_000) ** 0.5  # fixed costs grow with the index

    # -- one tenant, a month ----------------------------------------------------------------------
    exchanges = EXCHANGES_PER_DAY * DAYS
    api_calls = READS_PER_MINUTE * 60 * 24 * DAYS
    month = {
        "DynamoDB writes (imports)": exchanges
        * write_units
        * prices["dynamodb_per_million_write_units"]
        / 1e6,
        "DynamoDB writes (rate limit)": api_calls
        * rate_limit_write
        * prices["dynamodb_per_million_write_units"]
        / 1e6,
        "DynamoDB reads (shop)": api_calls
        * ((READ_UNITS["list page"] + READ_UNITS["product"]) / 2 + KEY_LOOKUP_READ)
        * prices["dynamodb_per_million_read_units"]
        / 1e6,
        "DynamoDB orders": ORDERS_PER_DAY
        * DAYS
        * (
            ORDER_WRITE_UNITS * prices["dynamodb_per_million_write_units"]
            + ORDER_READ_UNITS * prices["dynamodb_per_million_read_units"]
        )
        / 1e6,
        "DynamoDB storage": SKUS * 4 * 0.9 / 1e6 * prices["dynamodb_storage_per_gb_month"],
        "Lambda (imports)": exchanges * lambda_seconds * LAMBDA_GB * prices["lambda_per_gb_second"],
        "Lambda (API)": api_calls
        * (0.03 * 0.5 * prices["lambda_per_gb_second"] + prices["lambda_per_million_requests"] / 1e6),
        "API Gateway": api_calls * prices["api_gateway_rest_per_million"] / 1e6,
        "S3 requests": exchanges
        * (s3_puts * prices["s3_put_per_thousand"] + s3_gets * prices["s3_get_per_thousand"])
        / 1e3,
        "S3 storage": (upload_bytes * EXCHANGES_PER_DAY * 7 / 1e9 + index_mb / 1e3)
        * prices["s3_storage_per_gb_month"],
        "SQS": exchanges * 4 * prices["sqs_per_million_requests"] / 1e6,
    }
    total = sum(month.values())
    print(f"prices as of {prices['as_of']} ({prices['source'].split('.')[0]})")
    print(
        f"per tenant ({SKUS:,} SKUs, an exchange every 15 min changing {CHANGED:.0%}, "
        f"{READS_PER_MINUTE:,} reads/min, {ORDERS_PER_DAY} orders/day), a month:"
    )
    for name, cost in sorted(month.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<30} ${cost:>10,.2f}")
    print(f"  {'total':<30} ${total:>10,.2f}")

    # -- the account: ceilings ------------------------------------------------------------------
    exchange_wps = TENANTS * EXCHANGES_PER_DAY * write_units / 86_400
    api_rps = TENANTS * READS_PER_MINUTE / 60
    rate_limit_wps = api_rps * rate_limit_write
    read_ups = api_rps * ((READ_UNITS["list page"] + READ_UNITS["product"]) / 2 + KEY_LOOKUP_READ)
    concurrency = TENANTS * EXCHANGES_PER_DAY * lambda_seconds / 86_400
    lines = [
        ("catalog writes, averaged", exchange_wps, quotas["dynamodb_table_write_units_per_second"], "WU/s"),
        (
            "catalog writes, every tenant in the same minute",
            TENANTS * write_units / 60,
            quotas["dynamodb_table_write_units_per_second"],
            "WU/s",
        ),
        (
            "rate-limit counter writes",
            rate_limit_wps,
            quotas["dynamodb_table_write_units_per_second"],
            "WU/s",
        ),
        ("shop reads", read_ups, quotas["dynamodb_table_read_units_per_second"], "RU/s"),
        ("API requests", api_rps, quotas["api_gateway_requests_per_second"], "req/s"),
        ("import Lambda concurrency, averaged", concurrency, quotas["lambda_concurrency"], ""),
    ]
    print(f"\naccount of {TENANTS:,} tenants: load against default quotas")
    for name, load, limit, unit in lines:
        flag = "OVER" if load > limit else "ok"
        print(f"  {name:<48} {load:>12,.0f} {unit:<6} of {limit:>8,} {flag}")
    print(f"  account total a month: ${total * TENANTS:,.0f}")
    figures = {
        "capacity.monthly_usd_per_tenant": round(total, 2),
        "capacity.import_write_units_per_exchange": round(write_units),
        "capacity.api_requests_per_second_account": round(api_rps),
    }
    merged = json.loads(results.read_text())
    merged.update(figures)
    results.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
