"""Wiring only: the Chalice app, its blueprints, event sources and middleware."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib import function_url, observability, wiring
from chalicelib.console import console, front
from chalicelib.exchange import jobs
from chalicelib.exchange.routes import BINARY_TYPES, exchange_routes
from chalicelib.orders.routes import order_routes
from chalicelib.settings import Settings
from chalicelib.shop.routes import shop_routes

app = Chalice(app_name="cmlbridge")
app.api.binary_types.extend(t for t in BINARY_TYPES if t not in app.api.binary_types)
app.register_blueprint(exchange_routes)
app.register_blueprint(shop_routes, url_prefix="/api/v1")
app.register_blueprint(order_routes, url_prefix="/api/v1")
app.register_blueprint(console, url_prefix="/console")
app.register_blueprint(front)

# The queue names are the stage's (settings.py derives them; `make package STAGE=…` sets the stage's).
SETTINGS = Settings.from_env()
IMPORT_QUEUE, IMPORT_DEAD_LETTERS = SETTINGS.import_queue_name, SETTINGS.dead_letter_queue_name


@app.middleware("all")
def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    return observability.around(event, get_response)


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.lambda_function(name="shop_reads")
def shop_reads(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The shop API behind a Lambda function URL (infra/resources.json): the same routes."""
    return function_url.handle(app, app.routes, event, context)


@app.on_sqs_message(queue=IMPORT_QUEUE, batch_size=1, name="import_worker")
def import_worker(event: SQSEvent) -> PartialItemFailureResponse:
    return jobs.handle_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=IMPORT_DEAD_LETTERS, batch_size=1, name="import_dead_letters")
def import_dead_letters(event: SQSEvent) -> PartialItemFailureResponse:
    return jobs.handle_dead_letters(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="scheduler")
def scheduler(event: CloudWatchEvent) -> dict[str, Any]:
    remaining = getattr(event.context, "get_remaining_time_in_millis", None) or (lambda: 60_000)
    return wiring.container().scheduler.run(remaining)
