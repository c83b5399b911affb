"""Shop API routes (mounted at /api/v1): catalog reads and the change feed."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from chalice import Blueprint, Response

from chalicelib import wiring
from chalicelib.http import ApiError, cors, header, json_api
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


# How long a browser, a shop's HTTP cache or a CDN may reuse a catalog answer: the tenant's
# `cache_seconds` (30 by default), set by `_shop()` for the answer it serves.
_max_age: ContextVar[int] = ContextVar("max_age", default=30)


def cacheable(view: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """A catalog read with a strong ETag (a digest of the answer) and `Cache-Control: private,
    max-age=<the tenant's cache_seconds>` (answers are per API key: `Vary: X-Api-Key`); a request whose
    `If-None-Match` names the same ETag gets 304 and no body. Inside json_api: errors are never
    cached."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        body = json.dumps(view(*args, **kwargs), ensure_ascii=False, separators=(",", ":"))
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        headers: dict[str, str | list[str]] = {
            "ETag": etag, "Cache-Control": f"private, max-age={_max_age.get()}", "Vary": "X-Api-Key",
        }  # fmt: skip
        asked = header(shop_routes.current_request, "If-None-Match")
        if etag in {tag.strip() for tag in asked.split(",")} or asked.strip() == "*":
            return Response(body="", status_code=304, headers=headers)
        return Response(body=body, status_code=200, headers={"Content-Type": "application/json", **headers})

    return wrapper


def _shop() -> tuple[ShopCatalog, Tenant]:
    """The catalog use case and the tenant of the request's API key."""
    services = wiring.container()
    tenant = services.api_keys.tenant_of(shop_routes.current_request, catalog=True)
    _max_age.set(tenant.settings.cache_seconds)
    return services.shop_catalog, tenant


@shop_routes.route("/groups", methods=["GET"], cors=CORS)
@json_api
@cacheable
def groups() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"groups": catalog.groups(tenant)}


@shop_routes.route("/categories", methods=["GET"], cors=CORS)
@json_api
@cacheable
def categories() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"categories": catalog.categories(tenant)}


@shop_routes.route("/price-types", methods=["GET"], cors=CORS)
@json_api
@cacheable
def price_types() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"price_types": catalog.price_types(tenant)}


@shop_routes.route("/warehouses", methods=["GET"], cors=CORS)
@json_api
@cacheable
def warehouses() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"warehouses": catalog.warehouses(tenant)}


@shop_routes.route("/units", methods=["GET"], cors=CORS)
@json_api
@cacheable
def units() -> dict[str, Any]:
    catalog, tenant = _shop()
    return {"units": catalog.units(tenant)}


@shop_routes.route("/products", methods=["GET"], cors=CORS)
@json_api
@cacheable
def products() -> dict[str, Any]:
    catalog, tenant = _shop()
    return catalog.products(tenant, _params())


@shop_routes.route("/products/{product_id}", methods=["GET"], cors=CORS)
@json_api
@cacheable
def product(product_id: str) -> dict[str, Any]:
    catalog, tenant = _shop()
    found = catalog.product(tenant, product_id)
    if found is None:
        raise ApiError(404, "not_found", f"no product {product_id!r}")
    return found


@shop_routes.route("/facets", methods=["GET"], cors=CORS)
@json_api
@cacheable
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
