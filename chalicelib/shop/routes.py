"""Shop API routes (mounted at /api/v1): catalog reads and the change feed."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
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


def _query_key() -> tuple[tuple[str, tuple[str, ...]], ...]:
    query = shop_routes.current_request.query_params
    return tuple(sorted((k, tuple(query.getlist(k))) for k in query)) if query else ()


def cacheable(view: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """A catalog read for the tenant of the request's API key, `view(catalog, tenant, **path
    params)`, answered from the container's answer cache when nothing it is made of changed
    (shop/answers.py; `X-Cache: hit|miss|bypass` says which). A strong ETag (a digest of the
    answer) and `Cache-Control: private, max-age=<the tenant's cache_seconds>` (answers are per
    API key: `Vary: X-Api-Key`); a request whose `If-None-Match` names the same ETag gets 304 and
    no body. Inside json_api: errors are never cached."""

    @functools.wraps(view)
    def wrapper(**params: Any) -> Response:
        services = wiring.container()
        catalog, tenant = _shop()
        settings = hashlib.blake2b(repr(tenant.settings).encode(), digest_size=8).digest()
        key = (
            tenant.id,
            tenant.catalog_version,
            settings,
            view.__name__,
            tuple(params.items()),
            _query_key(),
        )

        def make() -> tuple[str, list[str]]:
            found = view(catalog, tenant, **params)
            shown = [f"p:{i['id']}" for i in found.get("items") or []]
            shown += [f"o:{o['id']}" for o in found.get("offers") or []]
            return json.dumps(found, ensure_ascii=False, separators=(",", ":")), shown

        answer = services.answer_cache.answer(key, tenant.catalog_version, catalog.held(tenant).keyed, make)
        headers: dict[str, str | list[str]] = {
            "ETag": answer.etag,
            "Cache-Control": f"private, max-age={tenant.settings.cache_seconds}",
            "Vary": "X-Api-Key",
            "X-Cache": str(answer.outcome),
        }
        asked = header(shop_routes.current_request, "If-None-Match")
        if answer.etag in {tag.strip() for tag in asked.split(",")} or asked.strip() == "*":
            return Response(body="", status_code=304, headers=headers)
        return Response(
            body=answer.body, status_code=200, headers={"Content-Type": "application/json", **headers}
        )

    return wrapper


def _shop() -> tuple[ShopCatalog, Tenant]:
    """The catalog use case and the tenant of the request's API key."""
    services = wiring.container()
    return services.shop_catalog, services.api_keys.tenant_of(shop_routes.current_request, catalog=True)


@shop_routes.route("/groups", methods=["GET"], cors=CORS)
@json_api
@cacheable
def groups(catalog: ShopCatalog, tenant: Tenant) -> dict[str, Any]:
    return {"groups": catalog.groups(tenant)}


@shop_routes.route("/categories", methods=["GET"], cors=CORS)
@json_api
@cacheable
def categories(catalog: ShopCatalog, tenant: Tenant) -> dict[str, Any]:
    return {"categories": catalog.categories(tenant)}


@shop_routes.route("/price-types", methods=["GET"], cors=CORS)
@json_api
@cacheable
def price_types(catalog: ShopCatalog, tenant: Tenant) -> dict[str, Any]:
    return {"price_types": catalog.price_types(tenant)}


@shop_routes.route("/warehouses", methods=["GET"], cors=CORS)
@json_api
@cacheable
def warehouses(catalog: ShopCatalog, tenant: Tenant) -> dict[str, Any]:
    return {"warehouses": catalog.warehouses(tenant)}


@shop_routes.route("/units", methods=["GET"], cors=CORS)
@json_api
@cacheable
def units(catalog: ShopCatalog, tenant: Tenant) -> dict[str, Any]:
    return {"units": catalog.units(tenant)}


@shop_routes.route("/products", methods=["GET"], cors=CORS)
@json_api
@cacheable
def products(catalog: ShopCatalog, tenant: Tenant) -> dict[str, Any]:
    return catalog.products(tenant, _params())


@shop_routes.route("/products/{product_id}", methods=["GET"], cors=CORS)
@json_api
@cacheable
def product(catalog: ShopCatalog, tenant: Tenant, product_id: str) -> dict[str, Any]:
    found = catalog.product(tenant, product_id)
    if found is None:
        raise ApiError(404, "not_found", f"no product {product_id!r}")
    return found


@shop_routes.route("/facets", methods=["GET"], cors=CORS)
@json_api
@cacheable
def facets(catalog: ShopCatalog, tenant: Tenant) -> dict[str, Any]:
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
