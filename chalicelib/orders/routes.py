"""Shop API order routes (mounted at /api/v1 with the catalog routes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from chalice import Blueprint, Response

from chalicelib import wiring
from chalicelib.http import ApiError, body_bytes, cors, header, json_api, query_params
from chalicelib.orders.rules import InvalidOrder, OrderRejected
from chalicelib.params import parse_limit
from chalicelib.texts import text_problem

order_routes = Blueprint(__name__)
MAX_ORDER_BODY = 64 * 1024
CORS = cors()


@order_routes.route("/orders", methods=["POST"], cors=CORS)
@json_api
def place_order() -> Response:
    request = order_routes.current_request
    tenant = wiring.container().api_keys.tenant_of(request)
    key = header(request, "idempotency-key").strip()
    if not key:
        raise ApiError(
            400, "idempotency_key_required", "send an Idempotency-Key header (any unique string per order)"
        )
    body = _json_body(request, "an order")
    try:
        order = wiring.container().place_order(tenant.id, key, body, order_routes.lambda_context)
    except InvalidOrder as exc:
        raise ApiError(400, "bad_request", str(exc), exc.details) from None
    except OrderRejected as exc:
        raise ApiError(422, "order_rejected", str(exc), exc.problems) from None
    except IdempotencyValidationError:
        raise ApiError(
            422, "idempotency_key_reused", "this Idempotency-Key was used for a different order"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise ApiError(
            409, "in_progress", "an order with this Idempotency-Key is being placed; retry shortly"
        ) from None
    return Response(body=order, status_code=201, headers={"Location": f"/api/v1/orders/{order['id']}"})


@order_routes.route("/orders/{order_id}", methods=["GET"], cors=CORS)
@json_api
def get_order(order_id: str) -> dict[str, Any]:
    services = wiring.container()
    return _found(
        services.orders.get(services.api_keys.tenant_of(order_routes.current_request), order_id), order_id
    )


@order_routes.route("/orders/{order_id}/payment", methods=["POST"], cors=CORS)
@json_api
def pay_order(order_id: str) -> dict[str, Any]:
    """The order's payment (paid online, or its cancellation): 1C gets it with the order, again
    if it took the order already. Sending the same payment again changes nothing."""
    request = order_routes.current_request
    services = wiring.container()
    tenant = services.api_keys.tenant_of(request)
    body = _json_body(request, "a payment")
    try:
        order = services.orders.pay(tenant, order_id, body)
    except InvalidOrder as exc:
        raise ApiError(400, "bad_request", str(exc), exc.details) from None
    except OrderRejected as exc:
        raise ApiError(422, "order_rejected", str(exc), exc.problems) from None
    return _found(order, order_id)


@order_routes.route("/orders/{order_id}/cancel", methods=["POST"], cors=CORS)
@json_api
def cancel_order(order_id: str) -> dict[str, Any]:
    """The shop cancels (the customer changed their mind): the held units go back on sale, 1C sees
    `Отменен` if it takes the order again, the shop gets `order.status_changed`. Cancelling a
    cancelled order changes nothing."""
    request = order_routes.current_request
    services = wiring.container()
    tenant = services.api_keys.tenant_of(request)
    body = _json_body(request, "a cancellation") if body_bytes(request) else {}
    reason = body.get("reason") if isinstance(body, dict) else None
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500 or text_problem(reason)):
        raise ApiError(400, "bad_request", "reason must be text of at most 500 characters")
    services.orders.cancel(tenant, order_id, reason or "отменён магазином", by="shop")
    return _found(services.orders.get(tenant, order_id), order_id)


@order_routes.route("/orders", methods=["GET"], cors=CORS)
@json_api
def list_orders() -> dict[str, Any]:
    request = order_routes.current_request
    tenant = wiring.container().api_keys.tenant_of(request)
    query = query_params(request)
    status = query.get("status")
    if status and status not in ("new", "accepted", "paid", "shipped", "delivered", "cancelled"):
        raise ApiError(
            400, "bad_request", "status must be one of new, accepted, paid, shipped, delivered, cancelled"
        )
    try:
        return wiring.container().orders.list(
            tenant,
            status,
            query.get("since"),
            query.get("cursor"),
            parse_limit(query.get("limit")),
            customer=query.get("customer"),
        )
    except InvalidOrder as exc:
        raise ApiError(400, "bad_request", str(exc)) from None


def _json_body(request: Any, what: str) -> Any:
    """The request's JSON body, at most MAX_ORDER_BODY bytes."""
    if len(body_bytes(request)) > MAX_ORDER_BODY:
        raise ApiError(413, "too_large", f"{what} body is at most {MAX_ORDER_BODY} bytes")
    try:
        return request.json_body
    except Exception:
        raise ApiError(400, "bad_request", "the body must be JSON") from None


def _found(order: dict[str, Any] | None, order_id: str) -> dict[str, Any]:
    if order is None:
        raise ApiError(404, "not_found", f"no order {order_id!r}")
    return order
