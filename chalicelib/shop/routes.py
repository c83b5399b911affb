"""Shop API routes (mounted at /api/v1): catalog reads and the change feed."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.http import ApiError, cors, json_api
from chalicelib.shop.catalog import ShopCatalog
from chalicelib.shop.openapi import spec
from chalicelib.tenants import Tenant

shop_routes = Blueprint(__name__)
CORS = cors()


def _params() -> dict[str, Any]:
    """The query string; `property` keeps every value (it repeats)."""
    query = shop_routes.current_request.query_params
    if not query:
        return {}
    params: dict[str, Any] = {k: query.get(k) for k in query}
    if "property" in params:
        params["property"] = query.getlist("property")
    return params


def _shop() -> tuple[ShopCatalog, Tenant]:
    """The catalog use case and the tenant of the request's API key."""
    services = wiring.container()
    return services.shop_catalog, services.api_keys.tenant_of(shop_routes.current_request)


@shop_routes.route("/groups", methods=["GET"], cors=CORS)
@json_api
def groups() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"groups": catalog.groups(tenant)}


@shop_routes.route("/categories", methods=["GET"], cors=CORS)
@json_api
def categories() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"categories": catalog.categories(tenant)}


@shop_routes.route("/price-types", methods=["GET"], cors=CORS)
@json_api
def price_types() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"price_types": catalog.price_types(tenant)}


@shop_routes.route("/warehouses", methods=["GET"], cors=CORS)
@json_api
def warehouses() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"warehouses": catalog.warehouses(tenant)}


@shop_routes.route("/units", methods=["GET"], cors=CORS)
@json_api
def units() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"units": catalog.units(tenant)}


@shop_routes.route("/products", methods=["GET"], cors=CORS)
@json_api
def products() -> dict[str, Any]:
    catalog, tenant = _shop()
    return catalog.products(tenant, _params())


@shop_routes.route("/products/{product_id}", methods=["GET"], cors=CORS)
@json_api
def product(product_id: str) -> dict[str, Any]:
    catalog, tenant = _shop()
    found = catalog.product(tenant, product_id)
    if found is None:
        raise ApiError(404, "not_found", f"no product {product_id!r}")
    return found


@shop_routes.route("/facets", methods=["GET"], cors=CORS)
@json_api
def facets() -> dict[str, Any]:
    catalog, tenant = _shop()
    params = _params()
    return catalog.facets(tenant, params.get("group") or None, params.get("category") or None)


@shop_routes.route("/changes", methods=["GET"], cors=CORS)
@json_api
def changes() -> dict[str, Any]:
    catalog, tenant = _shop()
    return catalog.changes(tenant, _params())


@shop_routes.route("/openapi.json", methods=["GET"], cors=CORS)
def openapi() -> dict[str, Any]:
    return spec()
