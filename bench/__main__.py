"""`make bench`: figures and ratios, never pass/fail. Writes bench/results.json.

  reader   the CommerceML reader vs a bare lxml record pass, 10k and 100k generated products
  import   whole 1C sessions on the local stack (S3 and SQS on a moto server, DynamoDB on DynamoDB
           Local — AWS's engine — each in its own process, the worker in its own process): first
           import, re-import, a 1%-changed full upload, write units per changed record (as DynamoDB
           reports them, table + indexes), the hottest partition key's share of an import's
           writes, and the bare cost of writing the same items with boto3's batch_writer
  api      p50/p95 of a product, of the common list page (a group, a sort, in_stock), of a page
           of the whole catalog and of facets, DynamoDB queries per page, and per request: wall and
           CPU ms, read units, answer bytes as sent and gzipped (the inputs of `make capacity`),
           each for an answer made and for one taken from the container's answer cache
  replay   a day of reads (Zipf over products and pages, a 1%-changed import every 15 minutes)
           against a shared cache honouring max-age and ETags, and over Lambda containers each
           with its answer cache (with the api figures): the hit ratios `make capacity` uses
  bare     (BENCH_PARTS=bare) only the batch_writer baseline for imports already in results.json

BENCH_SIZES=10000 python -m bench   limits the sizes (default: 10000,100000);
BENCH_PARTS=reader,import           picks the parts (default: reader,replay,import,api).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.json"
PY = sys.executable


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _json_run(*args: str, env: dict | None = None) -> dict:
    out = subprocess.run([PY, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_reader(sizes: list[int], results: dict) -> None:
    for n in sizes:
        timing = _json_run("-m", "bench.reader", "time", str(n))
        memory = _json_run("-m", "bench.reader", "rss", str(n))
        label = f"{n // 1000}k"
        print(
            f"reader {label:>5}: {timing['products_per_s']:>7} products/s, {timing['mb_per_s']} MB/s, "
            f"{timing['ratio_to_record_pass']}x the bare record pass (merely touching every node: "
            f"{timing['touch_ratio_to_record_pass']}x), peak RSS {memory['peak_rss_mb']} MB"
        )
        results[f"reader.ratio_to_record_pass.{label}"] = timing["ratio_to_record_pass"]
        results[f"reader.touch_ratio_to_record_pass.{label}"] = timing["touch_ratio_to_record_pass"]
        results[f"reader.products_per_s.{label}"] = timing["products_per_s"]
        results[f"reader.mb_per_s.{label}"] = timing["mb_per_s"]
        results[f"reader.peak_rss_mb.{label}"] = memory["peak_rss_mb"]
        print(
            f"reader {label:>5} as CommerceML 3.1: {timing['cml31_products_per_s']:>7} products/s, "
            f"{timing['cml31_seconds_vs_2x']}x the time of the same catalog as 2.x"
        )
        results[f"reader.cml31_products_per_s.{label}"] = timing["cml31_products_per_s"]
        results[f"reader.cml31_seconds_vs_2x.{label}"] = timing["cml31_seconds_vs_2x"]


@contextmanager
def local_stack():
    """A moto server process for S3 and SQS, DynamoDB Local for DynamoDB (moto when it is not
    installed, said in one line), and this process's environment pointed at them."""
    from chalicelib.local import dynamodb_local

    why = dynamodb_local.unavailable()
    engine = None if why else dynamodb_local.start()
    print(f"DynamoDB: {'DynamoDB Local' if engine else 'moto (' + str(why) + ')'}")
    port = _port()
    server = subprocess.Popen(
        [PY, "-m", "moto.server", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"][
        "environment_variables"
    ]
    os.environ.update(config)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "CATALOG_METER_KEYS": "1",
            # import.xml's cards wait this long for offers.xml (production: 60 s). The bench's next
            # file comes within it, and a wait that ends first finds that file queued and waits on
            # (exchange/owed.py): the writes are the same; the exchange's end waits 5 s, not 60.
            "CARDS_OWED_SECONDS": "5",
        }
    )
    if engine:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = engine.endpoint
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        from chalicelib import wiring
        from chalicelib.local import resources

        wiring.reset()
        resources.create_all()
        accounts = wiring.container().accounts
        accounts.add("bench")
        accounts.set_1c_credentials("bench", "bench", "bench")
        accounts.issue_api_key("bench", "bench-key")
        yield
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        if engine:
            engine.stop()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a moto holding 700k items can take longer to stop
            server.kill()
            server.wait()


def _session(client, files: list[Path]) -> tuple[float, dict]:
    """Send the files the way 1C does; the worker runs in its own process. Returns seconds, worker figures."""
    from tests.onec import OneC

    onec = OneC(client.http, login="bench", password="bench")
    worker = {
        "write_calls": 0, "items_written": 0, "peak_rss_mb": 0.0, "units": Counter(), "keys": Counter(),
        "read_units": 0.0, "busy_seconds": 0.0, "log_bytes": 0,
    }  # fmt: skip
    started = time.perf_counter()
    for path in files:
        assert onec.checkauth().keyword == "success"
        onec.init(version="2.08")
        with path.open("rb") as f:
            while chunk := f.read(onec.file_limit):
                assert onec.call("catalog", "file", chunk, filename=path.name).keyword == "success"
        reply = onec.call("catalog", "import", filename=path.name)
        while reply.keyword == "progress":
            _drain(worker, delayed=False)  # what Lambda would run by now: not a message still delayed
            reply = onec.call("catalog", "import", filename=path.name)
        assert reply.keyword == "success", reply.text
    seconds = time.perf_counter() - started  # 1C is done: what is left is an owed message's wait
    _drain(worker, delayed=True)  # the cards an import.xml left, if still owed (none: folded)
    return seconds, worker


def _drain(worker: dict, delayed: bool) -> None:
    """Run the import queue's messages in a worker process of their own; add up its figures."""
    figures = _json_run("-m", "bench.worker", env={**os.environ, "BENCH_DRAIN_DELAYED": str(int(delayed))})
    worker["write_calls"] += figures["write_calls"]
    worker["items_written"] += figures["items_written"]
    worker["peak_rss_mb"] = max(worker["peak_rss_mb"], figures["peak_rss_mb"])
    worker["units"].update(figures["units"])
    worker["read_units"] += figures["read_units"]
    worker["busy_seconds"] += figures["busy_seconds"]
    worker["log_bytes"] += figures["log_bytes"]
    worker["keys"].update({(i, k): u for i, k, u in figures["keys"]})


def _bare_batch_writer(items: int) -> float:
    """What writing `items` catalog-sized items costs with boto3's batch_writer on the same moto
    server, into a fresh table of the catalog's shape."""
    import boto3

    from chalicelib.local.resources import load_template

    props = load_template()["Resources"]["CatalogTable"]["Properties"]
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="bench-bare",
        **{
            k: props[k]
            for k in ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
        },
    )
    table = boto3.resource("dynamodb").Table("bench-bare")
    doc = json.dumps({"name": "Товар номер 1", "description": "x" * 300, "prices": [{"value": "100.00"}] * 5})
    started = time.perf_counter()
    with table.batch_writer() as batch:
        for i in range(items):
            batch.put_item(
                Item={
                    "pk": f"bare#p#{i}",
                    "sk": "product",
                    "doc": doc,
                    "active": True,
                }
            )
    return time.perf_counter() - started


def bench_cml31(client, full: tuple, changed: tuple, changed_2x: dict, label: str, results: dict) -> None:
    """The same catalogs as the 1C-Bitrix add-on sends them in 3.1 mode: the changed one again
    (the store holds it already: nothing to write) and then the full one (its 1 % back), whose
    writes are compared with the 2.x run that made the same change the other way."""
    from bench.reader import as_cml31

    _, again = _session(client, [as_cml31(path) for path in changed])
    _, back = _session(client, [as_cml31(path) for path in full])
    units_31, units_2x = sum(back["units"].values()), sum(changed_2x["units"].values())
    print(
        f"3.1 {label}: re-import of what is there writes {again['items_written']} items; the 1 % change "
        f"back writes {back['items_written']} items, {units_31:.0f} write units (2.x: {units_2x:.0f})"
    )
    results[f"import.cml31.reimport_items.{label}"] = again["items_written"]
    results[f"import.cml31.write_units_vs_2x.changed_1pct.{label}"] = round(units_31 / units_2x, 2)


def bench_incremental(client, catalog, changed: set[int], directory: Path, label: str, results: dict) -> None:
    """The reference load's exchange as 1C's exchange plan sends it: only the 1 % that changed, in
    files marked `СодержитТолькоИзменения="true"` (import.xml then offers.xml), onto the catalog
    as it was. Its worker time is the import's Lambda time in `make capacity`."""
    from bench.catalog import write

    rest = set(range(catalog.products)) - changed
    inc_imp, inc_off = directory / "import.xml", directory / "offers.xml"
    if not inc_imp.exists():
        write(catalog.import_xml(changed=changed, skip=rest, only_changes=True), inc_imp)
        write(catalog.offers_xml(changed=changed, skip=rest, only_changes=True), inc_off)
    seconds, run = _session(client, [inc_imp, inc_off])
    units = sum(run["units"].values())
    print(
        f"incremental 1% {label}: {seconds:.1f} s (the worker's handler {run['busy_seconds']:.2f} s), "
        f"{run['items_written']} items, {units:.0f} write units, {run['read_units']:.0f} read units, "
        f"{run['log_bytes']:,} bytes logged at INFO"
    )
    results[f"import.worker_seconds.incremental_1pct.{label}"] = round(run["busy_seconds"], 2)
    results[f"import.write_units.incremental_1pct.{label}"] = round(units)
    results[f"import.read_units.incremental_1pct.{label}"] = round(run["read_units"])
    results[f"import.items_written.incremental_1pct.{label}"] = run["items_written"]
    results[f"import.log_bytes.incremental_1pct.{label}"] = run["log_bytes"]


def bench_import_and_api(sizes: list[int], results: dict, api: bool) -> None:
    from chalice.test import Client

    from bench.catalog import Catalog, write

    for n in sizes:
        label = f"{n // 1000}k"
        catalog = Catalog(n)
        base = DATA / str(n)
        imp, off = base / "import.xml", base / "offers.xml"
        if not imp.exists():
            write(catalog.import_xml(), imp)
        if not off.exists():
            write(catalog.offers_xml(), off)
        changed = set(range(0, n, 100))
        changed_dir = base / "changed"
        c_imp, c_off = changed_dir / "import.xml", changed_dir / "offers.xml"
        if not c_imp.exists():
            write(catalog.import_xml(changed=changed), c_imp)
            write(catalog.offers_xml(changed=changed), c_off)
        with local_stack():
            import app as app_module

            with Client(app_module.app, stage_name="dev", project_dir=str(ROOT)) as client:
                seconds, first = _session(client, [imp, off])
                records = _changed_total()
                units = sum(first["units"].values())
                hottest_key, hottest = max(first["keys"].items(), key=lambda kv: kv[1])
                share = round(hottest / sum(first["keys"].values()), 3)
                print(
                    f"import {label:>5}: {seconds:.1f} s, worker peak RSS {first['peak_rss_mb']} MB, "
                    f"{first['write_calls']} write calls, {first['items_written']} items\n"
                    f"  write units (DynamoDB's figures): {units:.0f} = "
                    + ", ".join(f"{k} {v:.0f}" for k, v in sorted(first["units"].items()))
                    + f" for {records} changed records: {units / records:.2f} per record\n"
                    f"  hottest partition key: {hottest_key[0]} {hottest_key[1]!r} takes {share:.1%} of the writes"
                )
                results[f"import.write_units_per_record.{label}"] = round(units / records, 3)
                results[f"import.hottest_key_share.{label}"] = share
                reseconds, again = _session(client, [imp, off])
                print(f"re-import {label}: {reseconds:.1f} s, {again['items_written']} items written")
                chseconds, changed_run = _session(client, [c_imp, c_off])
                entities = len(changed) * (1 + 2)  # the product record, and each variant's prices
                print(
                    f"1%-changed {label}: {chseconds:.1f} s (the worker's handler "
                    f"{changed_run['busy_seconds']:.1f} s), {changed_run['items_written']} items written "
                    f"for {entities} changed records\n  write units: "
                    + ", ".join(f"{k} {v:.0f}" for k, v in sorted(changed_run["units"].items()))
                )
                if api:
                    bench_api(client, catalog, n, results)
                    bench_rate_limit(results)
                bench_cml31(client, (imp, off), (c_imp, c_off), changed_run, label, results)
                bench_incremental(client, catalog, changed, base / "incremental", label, results)
                bare = _bare_batch_writer(first["items_written"])
                ratio = round(seconds / bare, 2)
                print(
                    f"bare batch_writer of {first['items_written']} items: {bare:.1f} s -> import is {ratio}x that"
                )
                results[f"import.seconds.{label}"] = round(seconds, 1)
                results[f"import.seconds.changed_1pct.{label}"] = round(chseconds, 1)
                results[f"import.worker_seconds.changed_1pct.{label}"] = round(changed_run["busy_seconds"], 2)
                results[f"import.write_units.changed_1pct.{label}"] = round(
                    sum(changed_run["units"].values())
                )
                results[f"import.read_units.changed_1pct.{label}"] = round(changed_run["read_units"])
                results[f"import.bytes_per_product.{label}"] = round(
                    (imp.stat().st_size + off.stat().st_size) / n
                )
                results[f"import.worker_peak_rss_mb.{label}"] = first["peak_rss_mb"]
                results[f"import.write_calls.{label}"] = first["write_calls"]
                results[f"import.items_written.{label}"] = first["items_written"]
                results[f"import.ratio_to_batch_writer.{label}"] = ratio
                results[f"import.items_written.reimport.{label}"] = again["items_written"]
                results[f"import.items_written.changed_1pct.{label}"] = changed_run["items_written"]
                results[f"import.changed_entities.changed_1pct.{label}"] = entities
                if n == max(sizes):  # the unlabelled keys hold the largest catalog's figures
                    results["import.items_written.reimport"] = again["items_written"]
                    results["import.items_written.changed_1pct"] = changed_run["items_written"]
                    results["import.changed_entities.changed_1pct"] = entities


def _changed_total() -> int:
    """Records the tenant's imports changed so far (created, updated, deactivated), per the journal."""
    from chalicelib import wiring

    return sum(
        sum((j.counts or {}).get(k, 0) for k in ("created", "updated", "deactivated"))
        for j in wiring.container().exchange_store.jobs("bench")
    )


def bench_rate_limit(results: dict) -> None:
    """The rate limit's writes per request at the reference load (1,000 requests a minute for one
    key, its limit 1,200, three containers taking turns), on the stack's DynamoDB."""
    from chalicelib.aws.ratelimit import RateLimiter
    from chalicelib.settings import settings

    now = (time.time() // 60) * 60 + 1
    containers = [RateLimiter(settings().exchange_table, clock=lambda: now) for _ in range(3)]
    admitted = sum(containers[i % 3].take("bench-rate", 1200) == 0 for i in range(1000))
    writes = sum(c.writes for c in containers)
    print(f"rate limit: 1,000 requests a minute in 3 containers: {admitted} admitted, {writes} writes")
    results["api.rate_limit_writes_per_request"] = round(writes / 1000, 3)


def response_bytes(timed, catalog, group: str) -> dict:
    """What a list page and a product answer weigh, as sent and gzipped (data transfer out)."""
    import gzip

    found = {}
    for name, path in (
        ("list_page", f"/api/v1/products?group={group}&sort=price&limit=50"),
        ("product", f"/api/v1/products/{catalog.product_id(7)}"),
    ):
        raw = json.dumps(timed(path)[1], ensure_ascii=False, separators=(",", ":")).encode()
        found[f"api.response_bytes.{name}"] = len(raw)
        found[f"api.response_bytes_gzip.{name}"] = len(gzip.compress(raw, 6))
    return found


def request_cost(timed, paths: list[str]) -> dict:
    """Per request, averaged: wall and CPU milliseconds in the app (CPU is what a smaller Lambda
    stretches) and the catalog table's read units as DynamoDB reports them."""
    from chalicelib import wiring

    stats = wiring.container().catalog_store.stats
    wall = cpu = units = 0.0
    for path in paths:
        started, used, spent = time.perf_counter(), time.process_time(), stats.read_units
        timed(path)
        wall += time.perf_counter() - started
        cpu += time.process_time() - used
        units += stats.read_units - spent
    return {
        "wall_ms": round(wall * 1000 / len(paths), 2),
        "cpu_ms": round(cpu * 1000 / len(paths), 2),
        "read_units": round(units / len(paths), 2),
    }


def log_bytes(timed, paths: list[str]) -> float:
    """What the app writes to its log a request at production's LOG_LEVEL=INFO (its own lines;
    Lambda's START/END/REPORT follow the template's SystemLogLevel: bench/capacity.py)."""
    import io
    import logging

    from chalicelib.observability import logger

    sink, level = io.StringIO(), logger.log_level
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for path in paths:
            timed(path)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return round(len(sink.getvalue().encode()) / len(paths), 1)


def bench_api(client, catalog, n: int, results: dict) -> None:
    """Through the app (chalice.test) on the stack's DynamoDB: the shop API's read paths."""
    from chalicelib import wiring

    headers = {"X-Api-Key": "bench-key"}
    label = f"{n // 1000}k"

    def timed(path: str) -> tuple[float, dict]:
        started = time.perf_counter()
        response = client.http.request("GET", path, headers=headers)
        assert response.status_code == 200, response.body
        return (time.perf_counter() - started) * 1000, json.loads(response.body)

    def through_url(path: str) -> dict:
        """The new read path's own entry: the function URL's event into `shop_reads`, gzip asked
        (what its Lambda runs; no API Gateway emulation around it)."""
        import app as app_module
        from chalicelib.local.pump import LambdaContext

        route, _, query = path.partition("?")
        event = {
            "version": "2.0", "rawPath": route, "rawQueryString": query,
            "headers": {"x-api-key": "bench-key", "accept-encoding": "gzip"},
            "requestContext": {"http": {"method": "GET", "path": route, "sourceIp": "203.0.113.7"},
                               "requestId": "bench"},
        }  # fmt: skip
        response = app_module.shop_reads(event, LambdaContext("shop_reads", 30_000))
        assert response["statusCode"] == 200, response["body"][:300]
        return response

    def pages(path: str, count: int) -> list[float]:
        took, cursor = [], None
        for _ in range(count):
            ms, body = timed(path + (f"&cursor={cursor}" if cursor else ""))
            took.append(ms)
            cursor = body["next_cursor"] or None
        return took

    from chalicelib.shop.answers import AnswerCache

    # The read path itself: an answer cache that keeps nothing (its hits are measured below).
    wiring.container().__dict__["answer_cache"] = AnswerCache(budget_bytes=0)
    group = catalog.groups[0]
    common = f"/api/v1/products?group={group}&in_stock=true&sort=price&limit=50"
    timed(common)  # warms the per-container reference cache, as a running Lambda has it
    before = wiring.container().catalog_store.stats.queries
    timed(common)
    queries = wiring.container().catalog_store.stats.queries - before
    detail = [timed(f"/api/v1/products/{catalog.product_id(i)}")[0] for i in range(0, n, max(1, n // 60))]
    common_pages = pages(common, 4) * 5
    whole_path = "/api/v1/products?sort=name&limit=50"
    timed(whole_path)
    before = wiring.container().catalog_store.stats.queries
    timed(whole_path)
    whole_queries = wiring.container().catalog_store.stats.queries - before
    whole = pages(whole_path, 10)
    mix = {
        "list_page": [f"/api/v1/products?group={g}&sort=price&limit=50" for g in catalog.groups[:40]],
        "product": [f"/api/v1/products/{catalog.product_id(i)}" for i in range(1, n, max(1, n // 40))],
    }
    per_request = {name: request_cost(through_url, paths) for name, paths in mix.items()}
    wiring.container().__dict__["answer_cache"] = AnswerCache()  # answers kept, as a Lambda keeps them
    for paths in mix.values():
        request_cost(through_url, paths)
    per_request |= {f"{name}_hit": request_cost(through_url, paths) for name, paths in mix.items()}
    assert through_url(mix["product"][0])["headers"]["X-Cache"] == "hit"
    wiring.container().__dict__["answer_cache"] = AnswerCache(budget_bytes=0)
    logged = log_bytes(timed, [path for paths in mix.values() for path in paths])
    wiring.container().__dict__["answer_cache"] = AnswerCache()
    facets = [timed(f"/api/v1/facets?group={g}")[0] for g in catalog.groups[:30]]

    def pct(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)

    figures = {
        f"api.product_detail_p50_ms.{label}": pct(detail, 50),
        f"api.product_detail_p95_ms.{label}": pct(detail, 95),
        f"api.list_page_p50_ms.{label}": pct(common_pages, 50),
        f"api.list_page_p95_ms.{label}": pct(common_pages, 95),
        f"api.list_all_page_p50_ms.{label}": pct(whole, 50),
        f"api.facets_p50_ms.{label}": pct(facets, 50),
        "api.list_page_queries": queries,
        "api.list_all_page_queries": whole_queries,
        "api.log_bytes_per_request": logged,
        **response_bytes(timed, catalog, group),
        **{f"api.{what}.{name}": value for name, cost in per_request.items() for what, value in cost.items()},
    }
    results.update(figures)
    print(
        f"api over {label} products: product p50 {figures[f'api.product_detail_p50_ms.{label}']} ms "
        f"(p95 {figures[f'api.product_detail_p95_ms.{label}']}); common page of 50 (group, in_stock, "
        f"sort=price) p50 {figures[f'api.list_page_p50_ms.{label}']} ms (p95 "
        f"{figures[f'api.list_page_p95_ms.{label}']}) in {queries} DynamoDB query; a page of the whole "
        f"catalog by name p50 {figures[f'api.list_all_page_p50_ms.{label}']} ms in {whole_queries} "
        f"queries; facets p50 "
        f"{figures[f'api.facets_p50_ms.{label}']} ms; the app logs {logged} bytes a request at INFO"
    )


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
    parts = os.environ.get("BENCH_PARTS", "reader,replay,import,api").split(",")
    results: dict = {}
    if "reader" in parts:
        bench_reader(sizes, results)
    if "replay" in parts:
        from bench import replay

        results.update(replay.main())
    if "import" in parts:
        bench_import_and_api(sizes, results, api="api" in parts)
    known = {**(json.loads(RESULTS.read_text()) if RESULTS.exists() else {}), **results}
    if {"replay", "api"} & set(parts) and "api.wall_ms.list_page_hit" in known:
        from bench import replay

        results.update(replay.answer_cache(known))
    if "bare" in parts:  # the batch_writer baseline alone, for an import measured in an earlier run
        earlier = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        for n in sizes:
            label = f"{n // 1000}k"
            items = earlier.get(f"import.items_written.{label}")
            if not items:
                continue
            with local_stack():
                bare = _bare_batch_writer(items)
            results[f"import.ratio_to_batch_writer.{label}"] = round(
                earlier[f"import.seconds.{label}"] / bare, 2
            )
            print(
                f"bare batch_writer of {items} items: {bare:.1f} s -> import {label} is "
                f"{results[f'import.ratio_to_batch_writer.{label}']}x that"
            )
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}  # runs may be split by size
    merged.update(results)
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print(f"figures written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
