"""`make reliability-report`: run the reliability suite and print one table — per area the cases
tried, passed and failed, then the totals of what was lost. Exits non-zero on any failure, any
loss, or fewer cases than the suite promises (120 hostile inputs, 12 faults, 4 concurrency)."""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.reliability.conftest import LOSS_KINDS

MINIMUM = {"hostile input": 120, "faults": 12, "concurrency and load": 4}


class Collector:
    def __init__(self) -> None:
        self.outcomes: dict[str, Counter] = defaultdict(Counter)
        self.losses: Counter = Counter()
        self.failed: set[str] = set()

    def pytest_runtest_logreport(self, report) -> None:
        props = dict(report.user_properties)
        area = props.get("area")
        if area is None:
            return
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.outcomes[area][report.outcome] += 1
            if report.outcome == "failed":
                case = report.nodeid.partition("[")[2].removesuffix("]") or report.nodeid
                self.failed.add(case.encode().decode("unicode_escape"))  # pytest escapes non-ASCII ids
        if report.when == "teardown":
            for kind in LOSS_KINDS:
                self.losses[kind] += int(props.get(kind, 0) or 0)


def table(collector: Collector) -> tuple[str, bool]:
    rows = [("area", "cases", "passed", "failed")]
    totals = Counter()
    ok = True
    for area in sorted(collector.outcomes):
        counts = collector.outcomes[area]
        tried = sum(counts.values())
        rows.append((area, str(tried), str(counts["passed"]), str(counts["failed"] + counts["skipped"])))
        totals.update(counts)
        ok &= counts["failed"] == 0 and counts["skipped"] == 0
    by_group = Counter()
    for area, counts in collector.outcomes.items():
        by_group[area.split(":")[0]] += sum(counts.values())
    rows.append(
        ("total", str(sum(totals.values())), str(totals["passed"]), str(totals["failed"] + totals["skipped"]))
    )
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width[i]) if i == 0 else cell.rjust(width[i]) for i, cell in enumerate(r))
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("")
    for kind in LOSS_KINDS:
        lines.append(f"{kind.replace('_', ' '):<20} {collector.losses[kind]}")
        ok &= collector.losses[kind] == 0
    for group, minimum in MINIMUM.items():
        if by_group[group] < minimum:
            lines.append(f"too few cases: {group} has {by_group[group]}, the suite promises {minimum}")
            ok = False
    return "\n".join(lines), ok


def planted(which: str, argv: list[str]) -> int:
    """Run the hostile-exchange cases with a crash planted into one guard: the report must go red,
    and it says which cases caught the crash (green here means the suite could not fail)."""
    from tests.reliability.conftest import PLANTS

    if which not in PLANTS:
        print(f"PLANTED must be one of {', '.join(PLANTS)}")
        return 2
    os.environ["RELIABILITY_PLANTED"] = which
    collector = Collector()
    folder = Path(__file__).parent
    cases = str(folder / "test_hostile_exchange.py")
    pytest.main([cases, "-q", "-n", "2", "-p", "no:logging", "--no-header", *argv], plugins=[collector])
    caught = sorted(collector.failed)
    print(f"\nplanted crash in the {which} guard ({PLANTS[which]})")
    print(f"caught by {len(caught)} cases:" + "".join(f"\n  {name}" for name in caught))
    print(
        "\nRESULT: " + ("the suite went red, as it must" if caught else "NOT CAUGHT: the suite cannot fail")
    )
    return 0 if caught else 1


def main(argv: list[str]) -> int:
    which = os.environ.get("PLANTED")
    if which:
        return planted(which, argv)
    collector = Collector()
    folder = Path(__file__).parent
    code = pytest.main(
        [str(folder), "-q", "-n", "2", "-p", "no:logging", "--no-header", *argv], plugins=[collector]
    )
    report, ok = table(collector)
    print("\nreliability report\n" + report)
    print("\nRESULT: " + ("all promises kept" if ok and code == 0 else "FAILED"))
    return 0 if ok and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
