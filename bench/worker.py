"""The import worker in a process of its own, so its peak RSS is measured alone.

`python -m bench.worker` drains the import queue through the same SQS handler Lambda runs and
prints its figures as JSON: peak RSS, DynamoDB write calls and items written.
"""

from __future__ import annotations

import json
import resource
import sys

import app as app_module
from chalicelib import wiring
from chalicelib.local.pump import QueuePump
from chalicelib.settings import settings


def main() -> None:
    pump = QueuePump(app_module.import_worker, settings().import_queue_name)
    handled = pump.drain(max_messages=100_000, settle_seconds=1.0)
    stats = wiring.container().catalog_store.stats
    keys = stats.keys or {}
    print(
        json.dumps(
            {
                "messages": handled,
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
