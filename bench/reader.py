"""Reader benchmark: the CommerceML reader against a bare lxml record pass over the same files.

Run as `python -m bench.reader N` in a fresh process per size, so peak RSS is the reader's own.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from lxml import etree

from bench.catalog import ensure
from chalicelib.commerceml import read
from chalicelib.commerceml.model import Offer, Product

DATA = Path(__file__).parent / "data"


def bare_pass(path: Path) -> int:
    """What any streaming reader must pay: find each record, clear it, drop finished siblings."""
    records = 0
    for _, el in etree.iterparse(str(path), events=("end",), tag=("{*}Товар", "{*}Предложение")):
        records += 1
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]
    return records


def touch_pass(path: Path) -> int:
    """The bare pass plus reading the tag and text of every node of each record, and nothing else:
    the least any reader that walks lxml elements from Python pays before building a model."""
    records = 0
    for _, el in etree.iterparse(str(path), events=("end",), tag=("{*}Товар", "{*}Предложение")):
        records += 1
        for node in el.iter():
            node.tag, node.text  # noqa: B018 (touching is the point)
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]
    return records


def reader_pass(path: Path) -> int:
    records = 0
    with path.open("rb") as f:
        for entity in read(f, path.name):
            if isinstance(entity, Product | Offer):
                records += 1
    return records


def best_of(fn, path: Path, runs: int = 3) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        count = fn(path)
        best = min(best, time.perf_counter() - start)
    return best, count


def as_cml31(path: Path) -> Path:
    """The same catalog as the 1C-Bitrix add-on sends it in 3.1 mode: the commerceml_3 namespace
    and `ВерсияСхемы="3.1"` on the root (docs/protocol.md §9); written once beside the 2.x file."""
    target = path.with_name(f"cml31-{path.name}")
    if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
        data = path.read_bytes()
        head, rest = data[:2048], data[2048:]
        if b"urn:1C.ru:commerceml_2" in head:
            head = head.replace(b"urn:1C.ru:commerceml_2", b"urn:1C.ru:commerceml_3", 1)
        else:
            root = head.index("<КоммерческаяИнформация".encode()) + len("<КоммерческаяИнформация".encode())
            head = head[:root] + b' xmlns="urn:1C.ru:commerceml_3"' + head[root:]
        version = head.index("ВерсияСхемы=".encode()) + len("ВерсияСхемы=".encode())
        end = head.index(b'"', version + 1)
        target.write_bytes(head[:version] + b'"3.1' + head[end:] + rest)
    return target


def main(products: int) -> dict:
    imp, off = ensure(products, DATA)
    size_mb = (imp.stat().st_size + off.stat().st_size) / 1e6
    reader_s = bare_s = touch_s = 0.0
    runs = 3 if products <= 20_000 else 1
    for path in (imp, off):
        r, n_reader = best_of(reader_pass, path, runs)
        b, n_bare = best_of(bare_pass, path, runs)
        t, n_touch = best_of(touch_pass, path, runs)
        assert n_reader == n_bare == n_touch, (n_reader, n_bare, n_touch)
        reader_s, bare_s, touch_s = reader_s + r, bare_s + b, touch_s + t
    cml31_s = 0.0
    for path in (imp, off):
        seconds, _ = best_of(reader_pass, as_cml31(path), runs)
        cml31_s += seconds
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cml31_products_per_s": round(products / cml31_s),
        "cml31_seconds_vs_2x": round(cml31_s / reader_s, 2),
        "products": products,
        "reader_seconds": round(reader_s, 3),
        "bare_seconds": round(bare_s, 3),
        "ratio_to_record_pass": round(reader_s / bare_s, 2),
        "touch_ratio_to_record_pass": round(touch_s / bare_s, 2),
        "products_per_s": round(products / reader_s),
        "mb_per_s": round(size_mb / reader_s, 1),
        "size_mb": round(size_mb, 1),
        "peak_rss_mb": round(peak_mb, 1),
    }


def rss_only(products: int) -> dict:
    """Peak RSS of the reader alone (no bare pass, no timing repeats) in this process."""
    imp, off = ensure(products, DATA)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reader_pass(imp)
    reader_pass(off)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"products": products, "peak_rss_mb": round(peak, 1), "baseline_rss_mb": round(baseline, 1)}


if __name__ == "__main__":
    mode, n = sys.argv[1], int(sys.argv[2])
    print(json.dumps(main(n) if mode == "time" else rss_only(n)))
