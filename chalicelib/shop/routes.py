"""Shop API routes (mounted at /api/v1): catalog reads and the change feed."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.http import ApiError, authenticated, cors, json_api
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
    return {"groups": wiring.shop_catalog().groups(authenticated(shop_routes.current_request))}


@shop_routes.route("/price-types", methods=["GET"], cors=CORS)
@json_api
def price_types():
    return {"price_types": wiring.shop_catalog().price_types(authenticated(shop_routes.current_request))}


@shop_routes.route("/warehouses", methods=["GET"], cors=CORS)
@json_api
def warehouses():
    return {"warehouses": wiring.shop_catalog().warehouses(authenticated(shop_routes.current_request))}


@shop_routes.route("/products", methods=["GET"], cors=CORS)
@json_api
def products():
    return wiring.shop_catalog().products(authenticated(shop_routes.current_request), _params())


@shop_routes.route("/products/{product_id}", methods=["GET"], cors=CORS)
@json_api
def product(product_id):
    found = wiring.shop_catalog().product(authenticated(shop_routes.current_request), product_id)
    if found is None:
        raise ApiError(404, "not_found", f"no product {product_id!r}")
    return found


@shop_routes.route("/facets", methods=["GET"], cors=CORS)
@json_api
def facets():
    tenant = authenticated(shop_routes.current_request)
    return wiring.shop_catalog().facets(tenant, _params().get("group") or None)


@shop_routes.route("/changes", methods=["GET"], cors=CORS)
@json_api
def changes():
    return wiring.shop_catalog().changes(authenticated(shop_routes.current_request), _params())


@shop_routes.route("/openapi.json", methods=["GET"], cors=CORS)
def openapi():
    return spec()
