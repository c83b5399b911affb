"""Shop API routes (mounted at /api/v1): catalog reads and the change feed."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.http import ApiError, cors, json_api
from chalicelib.shop.openapi import spec

shop_routes = Blueprint(__name__)
CORS = cors()


def _params() -> dict[str, Any]:
    """The query string; `property` keeps every value (it repeats)."""
    query = shop_routes.current_request.query_params or {}
    params: dict[str, Any] = {k: query.get(k) for k in query}
    if "property" in params:
        params["property"] = query.getlist("property")
    return params


@shop_routes.route("/groups", methods=["GET"], cors=CORS)
@json_api
def groups():
    return {
        "groups": wiring.container().shop_catalog.groups(
            wiring.container().api_keys.tenant_of(shop_routes.current_request)
        )
    }


@shop_routes.route("/price-types", methods=["GET"], cors=CORS)
@json_api
def price_types():
    return {
        "price_types": wiring.container().shop_catalog.price_types(
            wiring.container().api_keys.tenant_of(shop_routes.current_request)
        )
    }


@shop_routes.route("/warehouses", methods=["GET"], cors=CORS)
@json_api
def warehouses():
    return {
        "warehouses": wiring.container().shop_catalog.warehouses(
            wiring.container().api_keys.tenant_of(shop_routes.current_request)
        )
    }


@shop_routes.route("/products", methods=["GET"], cors=CORS)
@json_api
def products():
    return wiring.container().shop_catalog.products(
        wiring.container().api_keys.tenant_of(shop_routes.current_request), _params()
    )


@shop_routes.route("/products/{product_id}", methods=["GET"], cors=CORS)
@json_api
def product(product_id):
    found = wiring.container().shop_catalog.product(
        wiring.container().api_keys.tenant_of(shop_routes.current_request), product_id
    )
    if found is None:
        raise ApiError(404, "not_found", f"no product {product_id!r}")
    return found


@shop_routes.route("/facets", methods=["GET"], cors=CORS)
@json_api
def facets():
    tenant = wiring.container().api_keys.tenant_of(shop_routes.current_request)
    return wiring.container().shop_catalog.facets(tenant, _params().get("group") or None)


@shop_routes.route("/changes", methods=["GET"], cors=CORS)
@json_api
def changes():
    return wiring.container().shop_catalog.changes(
        wiring.container().api_keys.tenant_of(shop_routes.current_request), _params()
    )


@shop_routes.route("/openapi.json", methods=["GET"], cors=CORS)
def openapi():
    return spec()
