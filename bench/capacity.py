"""`make capacity`: what cmlbridge costs per tenant a month, today's read path beside the new one
(and the new one behind a CDN), at the reference load and at a small shop's; and where an account
of 10,000 tenants hits its limits. Every input is a figure `make bench` measured
(bench/results.json) or a dated price or quota (bench/prices.json); each is printed with its
source.

Reference: 50,000 SKUs; an exchange every 15 minutes changing 1 % (1C's exchange plan sends only
what changed); 1,000 shop reads a minute (half list pages, half product pages); 100 orders a day.
Small shop: 5,000 SKUs, 50 reads a minute, 10 orders a day.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENANTS, EXCHANGES_PER_DAY, CHANGED, DAYS = 10_000, 24 * 4, 0.01, 30
KEY_LOOKUP_READ = 0.5  # the API key's tenant: one eventually consistent read of an item under 4 KB
HELD_READ = 0.5  # a query of what orders hold (a shop's few held offers: under 4 KB), a container's every 5 s
ORDER_WRITE_UNITS = 12  # order + holds + number + outbox events + 1C's query/success/statuses
ORDER_READ_UNITS = 8
IMPORT_GB = 1.0  # the import worker's memory (.chalice/config.json)
# What Lambda itself logs an invocation at its default SystemLogLevel INFO (text format): these
# three lines. The shop-read function's template sets SystemLogLevel WARN: none (infra/).
_RID = "8f5b7c2e-1d2a-4b6c-9e3f-0a1b2c3d4e5f"
SYSTEM_LOG_BYTES = len(
    f"START RequestId: {_RID} Version: $LATEST\n"
    f"END RequestId: {_RID}\n"
    f"REPORT RequestId: {_RID}\tDuration: 15.53 ms\tBilled Duration: 16 ms\tMemory Size: 1024 MB\t"
    "Max Memory Used: 131 MB\t\n"
)
IMPORT_INVOCATIONS = 6  # an exchange's messages: two files' jobs (each a step or two), the owed one
MEMORY_MB = {"today": 1024, "new": 512}  # api_handler / shop_reads (.chalice/config.json)
NEEDED = (
    "import.write_units.incremental_1pct.10k",
    "import.read_units.incremental_1pct.10k",
    "import.worker_seconds.incremental_1pct.10k",
    "import.log_bytes.incremental_1pct.10k",
    "api.log_bytes_per_request",
    "import.bytes_per_product.10k",
    "api.rate_limit_writes_per_request",
    "api.response_bytes.list_page",
    "api.response_bytes_gzip.list_page",
    "api.response_bytes.product",
    "api.response_bytes_gzip.product",
    "api.wall_ms.list_page",
    "api.cpu_ms.list_page",
    "api.read_units.list_page",
    "api.wall_ms.product",
    "api.cpu_ms.product",
    "api.read_units.product",
    "api.cache_hit_ratio.reference.max_age_30",
    "api.cache_hit_ratio.small.max_age_30",
    "api.wall_ms.list_page_hit",
    "api.cpu_ms.list_page_hit",
    "api.read_units.list_page_hit",
    "api.wall_ms.product_hit",
    "api.cpu_ms.product_hit",
    "api.read_units.product_hit",
    "api.answer_cache_hit_ratio.reference",
    "api.answer_cache_hit_ratio.small",
    "api.held_reads_per_request.reference",
    "api.held_reads_per_request.small",
)


@dataclass(frozen=True)
class Load:
    name: str
    skus: int
    reads_per_minute: int
    orders_per_day: int

    @property
    def reads(self) -> int:
        return self.reads_per_minute * 60 * 24 * DAYS


LOADS = (Load("reference", 50_000, 1_000, 100), Load("small", 5_000, 50, 10))


def per_read(m: dict, what: str, hit: bool = False) -> float:
    """The read mix's average of a per-request figure (half list pages, half product pages), for
    answers made or (`hit`) taken from the container's answer cache."""
    tail = "_hit" if hit else ""
    return (m[f"{what}.list_page{tail}"] + m[f"{what}.product{tail}"]) / 2


def lambda_seconds(m: dict, memory_mb: int, mb_per_vcpu: int, hit: bool = False) -> float:
    """A read's billed duration: its waiting as measured, its CPU stretched by the share of a vCPU
    the memory setting buys (Lambda: one vCPU at 1,769 MB)."""
    wall, cpu = per_read(m, "api.wall_ms", hit), per_read(m, "api.cpu_ms", hit)
    return (wall - cpu + cpu * max(1.0, mb_per_vcpu / memory_mb)) / 1000


def common_month(load: Load, m: dict, p: dict) -> dict[str, float]:
    """What does not depend on the read path: imports, orders, storage."""
    scale = load.skus / 10_000  # the bench's catalog: 10k products, 2 variants each
    exchanges = EXCHANGES_PER_DAY * DAYS
    write_units = m["import.write_units.incremental_1pct.10k"] * scale
    upload_bytes = load.skus * CHANGED * m["import.bytes_per_product.10k"]
    chunks = max(2, math.ceil(upload_bytes / 10_000_000))
    s3_puts, s3_gets = chunks + 12, 14  # chunks, staging files, state files; reads of them
    # the handler's own time, as Lambda bills it, in proportion: the changed products and the
    # tenant's index and card summary (streamed whole by every file) all grow with the catalog
    import_seconds = m["import.worker_seconds.incremental_1pct.10k"] * scale
    orders = load.orders_per_day * DAYS
    return {
        "DynamoDB writes (imports)": exchanges * write_units * p["dynamodb_per_million_write_units"] / 1e6,
        "DynamoDB reads (imports)": exchanges
        * m["import.read_units.incremental_1pct.10k"]
        * scale
        * p["dynamodb_per_million_read_units"]
        / 1e6,
        "Lambda (imports)": exchanges * import_seconds * IMPORT_GB * p["lambda_per_gb_second"],
        "CloudWatch Logs (imports)": exchanges
        * (m["import.log_bytes.incremental_1pct.10k"] + IMPORT_INVOCATIONS * SYSTEM_LOG_BYTES)
        / 1e9
        * p["cloudwatch_logs_ingestion_per_gb"],
        "DynamoDB orders": orders
        * (
            ORDER_WRITE_UNITS * p["dynamodb_per_million_write_units"]
            + ORDER_READ_UNITS * p["dynamodb_per_million_read_units"]
        )
        / 1e6,
        "DynamoDB storage": load.skus * 4 * 0.9 / 1e6 * p["dynamodb_storage_per_gb_month"],
        "S3 requests": exchanges
        * (s3_puts * p["s3_put_per_thousand"] + s3_gets * p["s3_get_per_thousand"])
        / 1e3,
        "S3 storage": (upload_bytes * EXCHANGES_PER_DAY * 7 / 1e9 + load.skus * 3 * 40 / 1e9)
        * p["s3_storage_per_gb_month"],
        # two files' messages and the owed cards' one: each sent, received and deleted
        "SQS": exchanges * 9 * p["sqs_per_million_requests"] / 1e6,
    }


def origin_month(
    requests: float, memory_mb: int, m: dict, p: dict, held: float, kept: float = 0.0, system_log: int = 0
) -> dict[str, float]:
    """What the app costs for the reads that reach it: Lambda, DynamoDB reads (`held`: reads of
    what orders hold per request), the rate limit, the logs (the app's lines as measured, and
    `system_log` bytes of Lambda's own); a share `kept` of them answered from the container's
    answer cache at a hit's measured cost."""
    made = 1 - kept
    seconds = made * lambda_seconds(m, memory_mb, p["lambda_mb_per_vcpu"]) + kept * lambda_seconds(
        m, memory_mb, p["lambda_mb_per_vcpu"], hit=True
    )
    units = made * per_read(m, "api.read_units") + kept * per_read(m, "api.read_units", hit=True)
    return {
        "Lambda (API)": requests
        * (seconds * memory_mb / 1024 * p["lambda_per_gb_second"] + p["lambda_per_million_requests"] / 1e6),
        "DynamoDB reads (shop)": requests
        * (units + HELD_READ * held + KEY_LOOKUP_READ)
        * p["dynamodb_per_million_read_units"]
        / 1e6,
        "DynamoDB writes (rate limit)": requests
        * m["api.rate_limit_writes_per_request"]
        * p["dynamodb_per_million_write_units"]
        / 1e6,
        "CloudWatch Logs": requests
        * (m["api.log_bytes_per_request"] + system_log)
        / 1e9
        * p["cloudwatch_logs_ingestion_per_gb"],
    }


def read_paths(load: Load, m: dict, p: dict) -> dict[str, dict[str, float]]:
    reads = load.reads
    raw, packed = per_read(m, "api.response_bytes"), per_read(m, "api.response_bytes_gzip")
    hit = m[f"api.cache_hit_ratio.{load.name}.max_age_30"]
    kept = m[f"api.answer_cache_hit_ratio.{load.name}"]
    held = m[f"api.held_reads_per_request.{load.name}"]
    return {
        "today: API Gateway REST, answers uncompressed": {
            "API Gateway": reads * p["api_gateway_rest_per_million"] / 1e6,
            **origin_month(reads, MEMORY_MB["today"], m, p, held, system_log=SYSTEM_LOG_BYTES),
            "Data transfer out": reads * raw / 1e9 * p["data_transfer_out_per_gb"],
        },
        f"new: Lambda function URL, answers gzipped, {kept:.0%} from the container's answer cache": {
            **origin_month(reads, MEMORY_MB["new"], m, p, held, kept),
            "Data transfer out": reads * packed / 1e9 * p["data_transfer_out_per_gb"],
        },
        f"new behind a CDN (max-age 30 s: {hit:.0%} of reads from its cache)": {
            "CDN requests": reads * p["cloudfront_https_per_10k_requests"] / 1e4,
            "CDN transfer out": reads * packed / 1e9 * p["cloudfront_transfer_out_per_gb"],
            **origin_month(reads * (1 - hit), MEMORY_MB["new"], m, p, held),
        },
    }


def assumptions(m: dict, p: dict) -> list[str]:
    return [
        "  an exchange of the 1% of 10k products that changed (import.xml + offers.xml, changes only): "
        f"{m['import.write_units.incremental_1pct.10k']:,.0f} write units, "
        f"{m['import.read_units.incremental_1pct.10k']:,.0f} read units (the cards' states, the prices before), "
        f"the import worker's handler {m['import.worker_seconds.incremental_1pct.10k']} s (bench: "
        "import.*.incremental_1pct.10k), scaled by SKUs",
        f"  answer bytes, list page / product: {m['api.response_bytes.list_page']:,} / "
        f"{m['api.response_bytes.product']:,} as sent, {m['api.response_bytes_gzip.list_page']:,} / "
        f"{m['api.response_bytes_gzip.product']:,} gzipped (bench: api.response_bytes*)",
        f"  per read, list page / product: {m['api.wall_ms.list_page']} / {m['api.wall_ms.product']} ms wall, "
        f"{m['api.cpu_ms.list_page']} / {m['api.cpu_ms.product']} ms CPU, {m['api.read_units.list_page']} / "
        f"{m['api.read_units.product']} read units (bench: api.wall_ms/cpu_ms/read_units, DynamoDB Local's "
        f"ConsumedCapacity); + {KEY_LOOKUP_READ} for the API key, + {HELD_READ} for what orders hold, read by "
        f"{m['api.held_reads_per_request.reference']:.1%} / {m['api.held_reads_per_request.small']:.1%} of the "
        "requests (a container's every 5 s; bench: api.held_reads_per_request.*)",
        f"  Lambda billed duration: waiting + CPU × {p['lambda_mb_per_vcpu']} MB / memory (one vCPU at "
        f"{p['lambda_mb_per_vcpu']} MB): {lambda_seconds(m, MEMORY_MB['today'], p['lambda_mb_per_vcpu']) * 1000:.1f} ms "
        f"at {MEMORY_MB['today']} MB, {lambda_seconds(m, MEMORY_MB['new'], p['lambda_mb_per_vcpu']) * 1000:.1f} ms "
        f"at {MEMORY_MB['new']} MB",
        f"  rate limit: {m['api.rate_limit_writes_per_request']} writes a request (bench: api.rate_limit_*)",
        f"  logs: the app writes {m['api.log_bytes_per_request']} bytes a shop read at INFO (bench: "
        f"api.log_bytes_per_request) and {m['import.log_bytes.incremental_1pct.10k']:,} an exchange of 10k; "
        f"Lambda's START/END/REPORT {SYSTEM_LOG_BYTES} bytes an invocation — today's path and the import's, "
        "not the shop-read function's (its template: SystemLogLevel WARN)",
        f"  a hit of the container's answer cache: {m['api.wall_ms.list_page_hit']} / {m['api.wall_ms.product_hit']} "
        f"ms wall, {m['api.cpu_ms.list_page_hit']} / {m['api.cpu_ms.product_hit']} ms CPU, "
        f"{m['api.read_units.list_page_hit']} / {m['api.read_units.product_hit']} read units (bench: api.*_hit); "
        f"{m['api.answer_cache_hit_ratio.reference']:.1%} reference, {m['api.answer_cache_hit_ratio.small']:.1%} "
        "small of reads are hits (bench: api.answer_cache_hit_ratio.*, a day replayed over Lambda containers; "
        "behind a CDN counted as none)",
        f"  CDN hit ratio at max-age 30 s: {m['api.cache_hit_ratio.reference.max_age_30']:.1%} reference, "
        f"{m['api.cache_hit_ratio.small.max_age_30']:.1%} small (bench: api.cache_hit_ratio.*, a day replayed)",
        f"  prices as of {p['as_of']}: {p['source'].split('.')[0]}",
    ]


def main() -> int:
    results = ROOT / "bench" / "results.json"
    measured = json.loads(results.read_text()) if results.exists() else {}
    missing = [k for k in NEEDED if k not in measured]
    if missing:
        print(
            f"no bench figures ({', '.join(missing)}): run `BENCH_SIZES=10000 make bench` first",
            file=sys.stderr,
        )
        return 1
    prices = json.loads((ROOT / "bench" / "prices.json").read_text())
    print("assumptions, and where each was measured:")
    print("\n".join(assumptions(measured, prices)))
    figures: dict[str, float] = {}
    for load in LOADS:
        common = common_month(load, measured, prices)
        print(
            f"\n{load.name}: {load.skus:,} SKUs, an exchange every 15 min changing {CHANGED:.0%}, "
            f"{load.reads_per_minute:,} reads/min, {load.orders_per_day} orders/day — per tenant, a month"
        )
        totals = {}
        for path, reads in read_paths(load, measured, prices).items():
            month = {**reads, **common}
            totals[path] = sum(month.values())
            print(f"  {path}: ${totals[path]:,.2f}")
            for name, cost in sorted(month.items(), key=lambda kv: -kv[1]):
                if cost >= 0.005:
                    print(f"    {name:<30} ${cost:>9,.2f}")
        today, new, cdn = totals.values()
        suffix = "" if load.name == "reference" else f".{load.name}"
        figures |= {
            f"capacity.monthly_usd_per_tenant{suffix}": round(new, 2),
            f"capacity.monthly_usd_per_tenant.today{suffix}": round(today, 2),
            f"capacity.monthly_usd_per_tenant.cdn{suffix}": round(cdn, 2),
        }
        print(f"  the new read path costs {new / today:.0%} of today's")
    account(measured, prices)
    merged = json.loads(results.read_text())
    merged.update(figures)
    results.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return 0


def account(m: dict, p: dict) -> None:
    """An account of TENANTS reference tenants against the default quotas."""
    load, quotas = LOADS[0], p["quotas"]
    write_units = m["import.write_units.incremental_1pct.10k"] * load.skus / 10_000
    rps = TENANTS * load.reads_per_minute / 60
    seconds = m["import.worker_seconds.incremental_1pct.10k"] * load.skus / 10_000
    lines = [
        (
            "catalog writes, averaged",
            TENANTS * EXCHANGES_PER_DAY * write_units / 86_400,
            "dynamodb_table_write_units_per_second",
            "WU/s",
        ),
        (
            "catalog writes, every tenant in the same minute",
            TENANTS * write_units / 60,
            "dynamodb_table_write_units_per_second",
            "WU/s",
        ),
        (
            "rate-limit counter writes",
            rps * m["api.rate_limit_writes_per_request"],
            "dynamodb_table_write_units_per_second",
            "WU/s",
        ),
        (
            "shop reads",
            rps * (per_read(m, "api.read_units") + KEY_LOOKUP_READ),
            "dynamodb_table_read_units_per_second",
            "RU/s",
        ),
        ("API requests (through API Gateway)", rps, "api_gateway_requests_per_second", "req/s"),
        (
            "shop reads Lambda concurrency",
            rps * lambda_seconds(m, MEMORY_MB["new"], p["lambda_mb_per_vcpu"]),
            "lambda_concurrency",
            "",
        ),
        (
            "import Lambda concurrency, averaged",
            TENANTS * EXCHANGES_PER_DAY * seconds / 86_400,
            "lambda_concurrency",
            "",
        ),
    ]
    print(
        f"\naccount of {TENANTS:,} reference tenants: load against default quotas (raise them, or shard accounts)"
    )
    for name, load_value, quota, unit in lines:
        limit = quotas[quota]
        flag = "OVER" if load_value > limit else "ok"
        print(f"  {name:<48} {load_value:>12,.0f} {unit:<6} of {limit:>8,} {flag}")


if __name__ == "__main__":
    sys.exit(main())
