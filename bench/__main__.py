"""`make bench`: figures and ratios, never pass/fail. Writes bench/results.json.

  reader   the CommerceML reader vs a bare lxml record pass, 10k and 100k generated products
  import   whole 1C sessions on the local stack (moto server in its own process, the worker in
           its own process): first import, re-import, a 1%-changed full upload, and the bare cost
           of writing the same items with boto3's batch_writer
  api      p50/p95 of product detail and of a list page over the imported 10k catalog (with import)
  bare     (BENCH_PARTS=bare) only the batch_writer baseline for imports already in results.json

BENCH_SIZES=10000 python -m bench   limits the sizes (default: 10000,100000);
BENCH_PARTS=reader,import           picks the parts (default: reader,import,api).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
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


@contextmanager
def local_stack():
    """A moto server process and this process's environment pointed at it."""
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
        }
    )
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
        accounts = wiring.accounts()
        accounts.add("bench")
        accounts.set_1c_credentials("bench", "bench", "bench")
        accounts.issue_api_key("bench", "bench-key")
        yield
    finally:
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
    worker = {"write_calls": 0, "items_written": 0, "peak_rss_mb": 0.0}
    started = time.perf_counter()
    for path in files:
        assert onec.checkauth().keyword == "success"
        onec.init(version="2.08")
        with path.open("rb") as f:
            while chunk := f.read(onec.file_limit):
                assert onec.call("catalog", "file", chunk, filename=path.name).keyword == "success"
        reply = onec.call("catalog", "import", filename=path.name)
        while reply.keyword == "progress":
            figures = _json_run("-m", "bench.worker", env=dict(os.environ))
            worker["write_calls"] += figures["write_calls"]
            worker["items_written"] += figures["items_written"]
            worker["peak_rss_mb"] = max(worker["peak_rss_mb"], figures["peak_rss_mb"])
            reply = onec.call("catalog", "import", filename=path.name)
        assert reply.keyword == "success", reply.text
    return time.perf_counter() - started, worker


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
                    "cpk": "bare#changes",
                    "csk": f"{i:012d}",
                }
            )
    return time.perf_counter() - started


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
                print(
                    f"import {label:>5}: {seconds:.1f} s, worker peak RSS {first['peak_rss_mb']} MB, "
                    f"{first['write_calls']} write calls, {first['items_written']} items"
                )
                reseconds, again = _session(client, [imp, off])
                print(f"re-import {label}: {reseconds:.1f} s, {again['items_written']} items written")
                chseconds, changed_run = _session(client, [c_imp, c_off])
                entities = len(changed) * (1 + 2)  # the product record, and each variant's prices
                print(
                    f"1%-changed {label}: {chseconds:.1f} s, {changed_run['items_written']} items written "
                    f"for {entities} changed records"
                )
                if api and n == 10_000:
                    bench_api(client, catalog, n, results)
                bare = _bare_batch_writer(first["items_written"])
                ratio = round(seconds / bare, 2)
                print(
                    f"bare batch_writer of {first['items_written']} items: {bare:.1f} s -> import is {ratio}x that"
                )
                results[f"import.seconds.{label}"] = round(seconds, 1)
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


def bench_api(client, catalog, n: int, results: dict) -> None:
    headers = {"X-Api-Key": "bench-key"}

    def timed(path: str) -> float:
        started = time.perf_counter()
        response = client.http.request("GET", path, headers=headers)
        assert response.status_code == 200, response.body
        return (time.perf_counter() - started) * 1000

    # moto's Query sorts the whole table on every call, so these figures are moto's, not DynamoDB's;
    # a modest sample keeps the run short.
    detail = [timed(f"/api/v1/products/{catalog.product_id(i)}") for i in range(0, n, max(1, n // 40))]
    pages, cursor = [], None
    for _ in range(6):
        started = time.perf_counter()
        response = client.http.request(
            "GET", f"/api/v1/products?limit=50{'&cursor=' + cursor if cursor else ''}", headers=headers
        )
        pages.append((time.perf_counter() - started) * 1000)
        cursor = json.loads(response.body)["next_cursor"]

    def pct(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)

    results["api.product_detail_p50_ms"] = pct(detail, 50)
    results["api.product_detail_p95_ms"] = pct(detail, 95)
    results["api.list_page_p50_ms"] = pct(pages, 50)
    results["api.list_page_p95_ms"] = pct(pages, 95)
    print(
        f"api over {n // 1000}k products: detail p50 {results['api.product_detail_p50_ms']} ms, "
        f"p95 {results['api.product_detail_p95_ms']} ms; list page of 50 p50 {results['api.list_page_p50_ms']} ms, "
        f"p95 {results['api.list_page_p95_ms']} ms"
    )


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
    parts = os.environ.get("BENCH_PARTS", "reader,import,api").split(",")
    results: dict = {}
    if "reader" in parts:
        bench_reader(sizes, results)
    if "import" in parts:
        bench_import_and_api(sizes, results, api="api" in parts)
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
