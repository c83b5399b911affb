"""`make run`: the whole stack on this machine, offline.

moto plays S3, DynamoDB and SQS; the Chalice app serves HTTP; a thread delivers queued import
jobs to the same worker handler Lambda runs. Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stage_environment(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for key, value in config["stages"][stage]["environment_variables"].items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def _seed(tenant: str, login: str, password: str, api_key: str) -> None:
    from chalicelib import wiring

    accounts = wiring.accounts()
    if accounts.store.get(tenant) is None:
        accounts.add(tenant, "Demo shop")
    accounts.set_1c_credentials(tenant, login, password)
    accounts.issue_api_key(tenant, api_key)


def main() -> int:
    stage = os.environ.get("STAGE", "dev")
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    moto_port = int(os.environ.get("MOTO_PORT", "0")) or _free_port()
    _stage_environment(stage)

    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{moto_port}"

    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    from chalicelib import wiring
    from chalicelib.local import resources
    from chalicelib.local.pump import QueuePump
    from chalicelib.settings import settings

    wiring.reset()
    resources.create_all(stage)
    tenant = os.environ.get("DEMO_TENANT", "demo")
    login = os.environ.get("DEMO_LOGIN", "demo")
    password = os.environ.get("DEMO_PASSWORD", "demo")
    api_key = os.environ.get("DEMO_API_KEY", "demo-key")
    _seed(tenant, login, password, api_key)

    sys.path.insert(0, str(ROOT))
    import app as app_module

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    server = create_local_server(app_module.app, config, host, port)
    stop = threading.Event()
    pump = QueuePump(app_module.import_worker, settings().import_queue_name)

    def deliver() -> None:
        while not stop.is_set():
            try:
                pump.deliver_once(wait_seconds=1)
            except Exception as exc:  # keep the loop alive; the worker logs its own errors
                print(f"queue delivery error: {exc}", file=sys.stderr)
                time.sleep(1)

    def schedule() -> None:
        handler = getattr(app_module, "scheduler", None)
        while handler is not None and not stop.wait(60):
            try:
                from chalicelib.local.pump import LambdaContext

                handler(
                    {
                        "detail-type": "Scheduled Event",
                        "source": "aws.events",
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "id": "local",
                        "account": "123456789012",
                        "region": "eu-central-1",
                        "resources": [],
                        "detail": {},
                    },
                    LambdaContext("scheduler", 120_000),
                )
            except Exception as exc:
                print(f"scheduled run error: {exc}", file=sys.stderr)

    threads = [threading.Thread(target=target, daemon=True) for target in (deliver, schedule)]
    for thread in threads:
        thread.start()
    base = f"http://{host}:{port}"
    print(
        "\n".join(
            [
                "",
                "cmlbridge local stack is running (moto: S3, DynamoDB, SQS in memory).",
                f"  1C exchange URL : {base}/1c_exchange   (also {base}/bitrix/admin/1c_exchange.php)",
                f"  1C login        : {login}",
                f"  1C password     : {password}",
                f"  shop API        : {base}/api/v1   (header X-Api-Key: {api_key})",
                f"  health          : {base}/health",
                f"  admin CLI       : AWS_ENDPOINT_URL=http://127.0.0.1:{moto_port} AWS_ACCESS_KEY_ID=local "
                "AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=eu-central-1 .venv/bin/python -m chalicelib.admin tenants list",
                "Press Ctrl-C to stop.",
                "",
            ]
        ),
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        stop.set()
        server.shutdown() if hasattr(server, "shutdown") else None
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
