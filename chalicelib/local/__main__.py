"""`make run`: the whole stack on this machine, offline.

moto plays S3 and SQS, DynamoDB Local (AWS's own engine) plays DynamoDB when Java and the jar
are here (moto otherwise); the Chalice app serves HTTP; threads deliver queued import jobs and
dead letters to the same handlers Lambda runs, and fire the schedule. Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.local.dynamodb_local import DynamoDBLocal
from collections.abc import Callable
from pathlib import Path

from chalicelib.local.dynamodb_local import free_port

ROOT = Path(__file__).resolve().parents[2]


def _stage_environment(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for key, value in config["stages"][stage]["environment_variables"].items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("LOG_FORMAT", "text")  # one readable line per event in the terminal


OPERATOR = "operator@demo.local"


def _seed(tenant: str, login: str, password: str, api_key: str, console: tuple[str, str]) -> None:
    from chalicelib import wiring

    accounts = wiring.container().accounts
    if accounts.store.get(tenant) is None:
        accounts.add(tenant, "Demo shop")
    accounts.set_1c_credentials(tenant, login, password)
    accounts.issue_api_key(tenant, api_key)
    if wiring.container().console_store.user(console[0]) is None:
        wiring.container().console_auth.add_user(console[0], console[1], tenant, "owner", "make run")
    if wiring.container().console_store.user(OPERATOR) is None:  # the provider's view of every shop
        wiring.container().console_auth.add_user(OPERATOR, console[1], None, "operator", "make run")


def _start_dynamodb() -> tuple[DynamoDBLocal | None, str]:
    """DynamoDB Local when it can run here (DYNAMODB=moto forces moto); one line says which."""
    from chalicelib.local import dynamodb_local

    if os.environ.get("DYNAMODB", "auto") == "moto":
        return None, "DynamoDB: moto (DYNAMODB=moto)"
    running = os.environ.get("DYNAMODB_LOCAL_ENDPOINT")  # one already running (the test suite's)
    if running:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = running
        return None, f"DynamoDB: DynamoDB Local at {running}"
    why = dynamodb_local.unavailable()
    if why is None:
        try:
            engine = dynamodb_local.start()
        except RuntimeError as exc:
            why = str(exc)
        else:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = engine.endpoint
            return engine, f"DynamoDB: DynamoDB Local at {engine.endpoint}"
    return None, f"DynamoDB: moto — DynamoDB Local not used: {why}"


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    stage = os.environ.get("STAGE", "dev")
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    moto_port = int(os.environ.get("MOTO_PORT", "0")) or free_port()
    _stage_environment(stage)

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log is not for people
    from chalice.local import ChaliceRequestHandler

    ChaliceRequestHandler.log_message = lambda *args: None  # nor is the HTTP server's: the app logs
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{moto_port}"
    dynamodb, dynamodb_line = _start_dynamodb()

    # `kill` (and a test's terminate) shut down like Ctrl-C: the finally below stops every service.
    signal.signal(signal.SIGTERM, _interrupt)
    from chalice.cli.factory import CLIFactory
    from chalice.local import ThreadedHTTPServer, create_local_server

    from chalicelib import wiring
    from chalicelib.local import resources
    from chalicelib.local.pump import LambdaContext, QueuePump, scheduled_event
    from chalicelib.settings import settings

    wiring.reset()
    resources.create_all(stage)
    tenant = os.environ.get("DEMO_TENANT", "demo")
    login = os.environ.get("DEMO_LOGIN", "demo")
    password = os.environ.get("DEMO_PASSWORD", "demo")
    api_key = os.environ.get("DEMO_API_KEY", "demo-key")
    console = (
        os.environ.get("DEMO_CONSOLE_EMAIL", "owner@demo.local"),
        os.environ.get("DEMO_CONSOLE_PASSWORD", "demo-console"),
    )
    _seed(tenant, login, password, api_key, console)

    sys.path.insert(0, str(ROOT))
    import app as app_module

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    ThreadedHTTPServer.request_queue_size = 256  # socketserver's default of 5 resets bursts
    server = create_local_server(app_module.app, config, host, port)
    tls = os.environ.get("LOCAL_TLS") == "1"
    if tls:
        from chalicelib.local.tls import serve_tls

        tls_folder = Path(os.environ.get("CMLBRIDGE_CA_DIR") or ROOT / ".local-state" / "tls")
        authority = serve_tls(server, tls_folder, app_module.app, config)
    stop = threading.Event()
    pump = QueuePump(app_module.import_worker, settings().import_queue_name)

    dead_letters = QueuePump(app_module.import_dead_letters, f"{settings().import_queue_name}-dlq")
    every = float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "60"))

    def deliver(queue: QueuePump) -> Callable[[], None]:
        def loop() -> None:
            while not stop.is_set():
                try:
                    queue.deliver_once(wait_seconds=1)
                except Exception as exc:  # keep the loop alive; the worker logs its own errors
                    print(f"queue delivery error: {exc}", file=sys.stderr)
                    time.sleep(1)

        return loop

    def run_schedule() -> None:
        try:
            app_module.scheduler(scheduled_event(), LambdaContext("scheduler", 120_000))
        except Exception as exc:
            print(f"scheduled run error: {exc}", file=sys.stderr)

    def schedule() -> None:
        """Every `every` seconds a run of its own, as EventBridge starts one Lambda per tick: a run
        held by a slow receiver never delays the next (claims keep an event one run's)."""
        while not stop.wait(every):
            threading.Thread(target=run_schedule, daemon=True).start()

    loops = (deliver(pump), deliver(dead_letters), schedule)
    threads = [threading.Thread(target=target, daemon=True) for target in loops]
    for thread in threads:
        thread.start()
    base = f"{'https' if tls else 'http'}://{host}:{port}"
    print(
        "\n".join(
            [
                "",
                "cmlbridge local stack is running (moto: S3 and SQS in memory).",
                f"  {dynamodb_line}",
                f"  1C exchange URL : {base}/1c_exchange   (also {base}/bitrix/admin/1c_exchange.php)",
                f"  1C login        : {login}",
                f"  1C password     : {password}",
                f"  shop API        : {base}/api/v1   (header X-Api-Key: {api_key})",
                f"  console         : {base}/console/   (sign in as {console[0]} / {console[1]};"
                f" the operator: {OPERATOR})",
                f"  health          : {base}/health",
                f"  admin CLI       : AWS_ENDPOINT_URL=http://127.0.0.1:{moto_port} "
                + (f"AWS_ENDPOINT_URL_DYNAMODB={dynamodb.endpoint} " if dynamodb else "")
                + "AWS_ACCESS_KEY_ID=local "
                "AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=eu-central-1 .venv/bin/python -m chalicelib.admin tenants list",
                *(
                    [
                        f"  HTTPS           : server and client certificates from the CA {authority.certificate_path}",
                        f"  a client cert   : (the admin CLI's environment above) .venv/bin/python -m "
                        f"chalicelib.admin certificates issue {tenant} --ca {authority.folder}",
                    ]
                    if tls
                    else []
                ),
                "Press Ctrl-C to stop.",
                "",
            ]
        ),
        flush=True,
    )
    try:
        server.server.serve_forever()  # the banner above says where (Chalice's own line says http)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        stop.set()
        server.shutdown() if hasattr(server, "shutdown") else None
        moto.stop()
        if dynamodb is not None:
            dynamodb.stop()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Everything the stack keeps is in memory: stop now rather than wait, as the interpreter would,
    # for a scheduled run's webhook POST to a slow receiver (up to its 10 s deadline).
    os._exit(code)
