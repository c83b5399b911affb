"""The import worker in a process of its own, so its peak RSS is measured alone.

`python -m bench.worker` drains the import queue through the same SQS handler Lambda runs and
prints its figures as JSON: peak RSS, DynamoDB write calls and items written, the seconds its
handler ran (what Lambda bills) and the bytes it logged at INFO. With
BENCH_DRAIN_DELAYED=0 it runs only the messages visible now (as Lambda would, mid-exchange).
"""

from __future__ import annotations

import io
import json
import logging
import os
import resource
import sys
import time

import app as app_module
from chalicelib import wiring
from chalicelib.local.pump import QueuePump
from chalicelib.settings import settings


def main() -> None:
    busy = [0.0]

    def timed(event: dict, context: object) -> object:
        """The handler as Lambda bills it: the time of each invocation (no process start-up)."""
        started = time.perf_counter()
        try:
            return app_module.import_worker(event, context)
        finally:
            busy[0] += time.perf_counter() - started

    from chalicelib.observability import logger

    logged = io.StringIO()  # what the worker logs at production's LOG_LEVEL=INFO (make capacity)
    handler = logging.StreamHandler(logged)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    pump = QueuePump(timed, settings().import_queue_name)
    delayed = os.environ.get("BENCH_DRAIN_DELAYED", "1") == "1"
    handled = pump.drain(max_messages=100_000, settle_seconds=1.0, include_delayed=delayed)
    stats = wiring.container().catalog_store.stats
    keys = stats.keys or {}
    print(
        json.dumps(
            {
                "messages": handled,
                "busy_seconds": round(busy[0], 3),
                "log_bytes": len(logged.getvalue().encode()),
                "write_calls": stats.calls,
                "items_written": stats.items,
                "units": {k: float(v) for k, v in stats.units.items()},
                "read_units": stats.read_units,
                "keys": [[index, key, units] for (index, key), units in keys.items()],
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
