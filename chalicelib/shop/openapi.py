"""OpenAPI 3 description of the shop API (served at /api/v1/openapi.json; checked in tests)."""

from __future__ import annotations

from typing import Any

from chalicelib.shop.schemas import NULLABLE_STR, SCHEMAS, ref


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}


# Answers that wrap a list, named so a generated client's types read as the API does
# (`GroupList`, `ProductPage`), each a schema of the document's components.
WRAPPERS: dict[str, dict[str, Any]] = {}


def _named(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    WRAPPERS[name] = schema
    return ref(name)


def _list(name: str, item: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": [name],
        "properties": {name: {"type": "array", "items": ref(item)}},
    }
    return _named(f"{item}List", schema)


def _page(name: str, item: str, cursor: str = "next_cursor", called: str = "") -> dict[str, Any]:
    """One page of a list: the items and the cursor of the next page (null on the last)."""
    schema = {
        "type": "object",
        "required": [name, cursor],
        "properties": {name: {"type": "array", "items": ref(item)}, cursor: NULLABLE_STR},
    }
    return _named(called or f"{item}Page", schema)


def _one(param: str, item: str, summary: str) -> dict[str, Any]:
    """GET of one resource by its id in the path."""
    return {
        "summary": summary,
        "parameters": [{"name": param, "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": _ok(ref(item)),
            "404": {"$ref": "#/components/responses/NotFound"},
            **_ERRORS,
        },
    }


# Catalog reads carry a strong ETag and answer 304 to If-None-Match (shop/routes.py, cacheable).
CACHEABLE = (
    "/groups", "/categories", "/price-types", "/warehouses", "/units", "/products", "/products/{product_id}",
    "/facets",
)  # fmt: skip
NOT_MODIFIED = {
    "description": "not modified: If-None-Match named the answer's current ETag (no body)",
    "headers": {"ETag": {"schema": {"type": "string"}}},
}


# What a generated client names each call (method, path) -> operationId.
OPERATIONS = {
    ("get", "/groups"): "listGroups",
    ("get", "/categories"): "listCategories",
    ("get", "/price-types"): "listPriceTypes",
    ("get", "/warehouses"): "listWarehouses",
    ("get", "/units"): "listUnits",
    ("get", "/products"): "listProducts",
    ("get", "/facets"): "getFacets",
    ("get", "/products/{product_id}"): "getProduct",
    ("post", "/orders"): "placeOrder",
    ("get", "/orders"): "listOrders",
    ("get", "/orders/{order_id}"): "getOrder",
    ("post", "/orders/{order_id}/cancel"): "cancelOrder",
    ("post", "/orders/{order_id}/payment"): "recordPayment",
    ("get", "/changes"): "listChanges",
}
RATE_LIMITED = {"$ref": "#/components/responses/TooManyRequests"}
FORBIDDEN = {"$ref": "#/components/responses/Forbidden"}


def spec() -> dict[str, Any]:
    document = _document()  # its paths name the list wrappers as they go
    document["components"]["schemas"] = {**document["components"]["schemas"], **WRAPPERS}
    for path in CACHEABLE:
        document["paths"][path]["get"]["responses"]["304"] = NOT_MODIFIED
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            operation["operationId"] = OPERATIONS[(method, path)]
            operation["responses"].setdefault("403", FORBIDDEN)
            operation["responses"].setdefault("429", RATE_LIMITED)
    return document


def _document() -> dict[str, Any]:
    cursor = {"name": "cursor", "in": "query", "schema": {"type": "string"}}
    limit = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "cmlbridge shop API",
            "version": "1.0.0",
            "description": "The catalog 1C publishes, for a shop frontend. Authenticate with X-Api-Key.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"ApiKey": []}],
        "paths": {
            "/groups": {
                "get": {
                    "summary": "Active groups (a flattened tree)",
                    "responses": {"200": _ok(_list("groups", "Group")), **_ERRORS},
                }
            },
            "/categories": {
                "get": {
                    "summary": "1C's categories (2.08+) with their properties and product counts",
                    "responses": {"200": _ok(_list("categories", "Category")), **_ERRORS},
                }
            },
            "/price-types": {
                "get": {
                    "summary": "Price types",
                    "responses": {"200": _ok(_list("price_types", "PriceType")), **_ERRORS},
                }
            },
            "/warehouses": {
                "get": {
                    "summary": "Warehouses",
                    "responses": {"200": _ok(_list("warehouses", "Warehouse")), **_ERRORS},
                }
            },
            "/units": {
                "get": {
                    "summary": "Units of measure (a 3.1 product's unit is one of their codes)",
                    "responses": {"200": _ok(_list("units", "UnitOfMeasure")), **_ERRORS},
                }
            },
            "/products": {
                "get": {
                    "summary": "Listed products (active, with an offer), sorted and filtered, a page at a time",
                    "description": (
                        "A page of a group (subgroups included) with a sort and in_stock is one "
                        "DynamoDB query per group holding products directly; without in_stock, two."
                    ),
                    "parameters": [
                        {
                            "name": "sort",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["name", "price", "-price", "-updated"]},
                            "description": "price sorts leave out products without a shop price",
                        },
                        {"name": "price_min", "in": "query", "schema": {"type": "number", "minimum": 0}},
                        {"name": "price_max", "in": "query", "schema": {"type": "number", "minimum": 0}},
                        {
                            "name": "property",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
                            "style": "form",
                            "explode": True,
                            "description": "<property id>:<value>, repeatable: OR within a property, AND across",
                        },
                        {
                            "name": "group",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "includes subgroups",
                        },
                        {
                            "name": "category",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "1C's category (not with group): one query per page, as a group",
                        },
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "name or sku contains",
                        },
                        {"name": "sku", "in": "query", "schema": {"type": "string"}},
                        {"name": "barcode", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "in_stock",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["true", "false"]},
                        },
                        limit,
                        cursor,
                    ],
                    "responses": {
                        "200": _ok(_page("items", "ProductSummary", called="ProductPage")),
                        **_ERRORS,
                    },
                }
            },
            "/facets": {
                "get": {
                    "summary": "Filter sidebar of a group, a category or the whole catalog: prices, stock, property values with counts",
                    "parameters": [
                        {
                            "name": "group",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "includes subgroups",
                        },
                        {
                            "name": "category",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "1C's category (not with group)",
                        },
                    ],
                    "responses": {"200": _ok(ref("Facets")), **_ERRORS},
                }
            },
            "/products/{product_id}": {
                "get": _one("product_id", "Product", "One product with its offers, prices and stock")
            },
            "/orders": {
                "post": {
                    "summary": "Place an order (checked against prices and stock; idempotent per Idempotency-Key)",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref("OrderRequest")}},
                    },
                    "responses": {
                        "201": _ok(ref("Order"), "the order, as GET shows it"),
                        "409": {
                            "description": "the same Idempotency-Key is being processed",
                            "content": {"application/json": {"schema": ref("Error")}},
                        },
                        "422": {"$ref": "#/components/responses/Unprocessable"},
                        **_ERRORS,
                    },
                },
                "get": {
                    "summary": "Orders, oldest first; with `customer`, that customer's, newest first",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "customer",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "the shop's customer id (customer.id of POST /orders)",
                        },
                        {
                            "name": "since",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "ISO date-time",
                        },
                        limit,
                        cursor,
                    ],
                    "responses": {
                        "200": _ok(_page("orders", "Order")),
                        **_ERRORS,
                    },
                },
            },
            "/orders/{order_id}": {
                "get": _one(
                    "order_id", "Order", "One order: status, history, 1C number, payment and shipment"
                )
            },
            "/orders/{order_id}/cancel": {
                "post": {
                    "summary": (
                        "Cancel from the shop (optional body {reason}): held units go back on sale; "
                        "a cancelled order stays as it is"
                    ),
                    "parameters": [
                        {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": _ok(ref("Order"), "the cancelled order"), **_ERRORS},
                }
            },
            "/orders/{order_id}/payment": {
                "post": {
                    "summary": (
                        "The order's payment (paid online, or unpaid again): 1C gets it with the order "
                        "(Заказ оплачен, Дата оплаты, Номер платежного документа, Метод оплаты ИД), "
                        "again if it took the order already; the same payment again changes nothing"
                    ),
                    "parameters": [
                        {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref("Payment")}},
                    },
                    "responses": {
                        "200": _ok(ref("Order"), "the order with its payment"),
                        "422": {"$ref": "#/components/responses/Unprocessable"},
                        **_ERRORS,
                    },
                }
            },
            "/changes": {
                "get": {
                    "summary": "What changed since a cursor, oldest first",
                    "parameters": [{"name": "since", "in": "query", "schema": {"type": "string"}}, limit],
                    "responses": {
                        "200": _ok(_page("changes", "Change", cursor="next")),
                        **_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Api-Key",
                    "description": "the shop's API key; catalog reads also take its publishable key "
                    "(cmlb_pub_…, for browsers), which orders refuse with 403",
                }
            },
            "schemas": SCHEMAS,
            "responses": {
                name: {"description": description, "content": {"application/json": {"schema": ref("Error")}}}
                for name, description in (
                    ("BadRequest", "invalid parameters"),
                    ("Unauthorized", "missing or wrong X-Api-Key"),
                    ("NotFound", "no such item"),
                    ("Unprocessable", "the request cannot be carried out"),
                    ("Forbidden", "a client certificate this shop registered is required"),
                    ("TooManyRequests", "over the key's requests a minute (Retry-After says when)"),
                )
            },
        },
    }
