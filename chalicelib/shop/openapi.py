"""OpenAPI 3 description of the shop API (served at /api/v1/openapi.json; checked in tests)."""

from __future__ import annotations

from typing import Any

_NULLABLE_STR = {"type": "string", "nullable": True}
_NUMBER = {"type": "number", "nullable": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
            }
        },
    },
    "Group": {
        "type": "object",
        "required": ["id", "name", "parent_id"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "parent_id": _NULLABLE_STR},
    },
    "PriceType": {
        "type": "object",
        "required": ["id", "name", "currency", "shop"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "currency": _NULLABLE_STR,
            "shop": {"type": "boolean", "description": "the price type the shop sells at"},
        },
    },
    "Warehouse": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
    },
    "ProductSummary": {
        "type": "object",
        "required": ["id", "sku", "name", "group_ids", "price", "in_stock", "stock", "image"],
        "properties": {
            "id": {"type": "string"},
            "sku": _NULLABLE_STR,
            "name": _NULLABLE_STR,
            "group_ids": {"type": "array", "items": {"type": "string"}},
            "price": {**_NUMBER, "description": "lowest offer price of the shop price type"},
            "in_stock": {"type": "boolean"},
            "stock": {"type": "number"},
            "image": {**_NULLABLE_STR, "description": "first image URL"},
        },
    },
    "Offer": {
        "type": "object",
        "required": ["id", "name", "characteristics", "prices", "stock"],
        "properties": {
            "id": {"type": "string", "description": "product or product#variant"},
            "name": _NULLABLE_STR,
            "sku": _NULLABLE_STR,
            "barcodes": {"type": "array", "items": {"type": "string"}},
            "characteristics": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "value"],
                    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                },
            },
            "prices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["price_type_id", "price_type", "value", "currency", "unit"],
                    "properties": {
                        "price_type_id": {"type": "string"},
                        "price_type": _NULLABLE_STR,
                        "value": _NUMBER,
                        "currency": _NULLABLE_STR,
                        "unit": _NULLABLE_STR,
                    },
                },
            },
            "stock": {
                "type": "object",
                "required": ["total", "warehouses"],
                "properties": {
                    "total": _NUMBER,
                    "warehouses": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "name", "quantity"],
                            "properties": {
                                "id": {"type": "string"},
                                "name": _NULLABLE_STR,
                                "quantity": _NUMBER,
                            },
                        },
                    },
                },
            },
        },
    },
    "Product": {
        "type": "object",
        "required": [
            "id",
            "sku",
            "barcodes",
            "name",
            "description",
            "unit",
            "group_ids",
            "properties",
            "requisites",
            "images",
            "active",
            "updated_at",
            "offers",
        ],
        "properties": {
            "id": {"type": "string"},
            "sku": _NULLABLE_STR,
            "barcodes": {"type": "array", "items": {"type": "string"}},
            "name": _NULLABLE_STR,
            "description": _NULLABLE_STR,
            "description_html": {
                **_NULLABLE_STR,
                "description": "HTML from ОписаниеВФорматеHTML or the description file 1C sent",
            },
            "dimensions": {
                "type": "object",
                "properties": {k: {"type": "number"} for k in ("length", "width", "height")},
            },
            "weight": {"type": "number", "nullable": True},
            "unit": _NULLABLE_STR,
            "group_ids": {"type": "array", "items": {"type": "string"}},
            "manufacturer": _NULLABLE_STR,
            "properties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "value"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": _NULLABLE_STR,
                        "value": {"type": "string"},
                    },
                },
            },
            "requisites": {"type": "object", "additionalProperties": {"type": "string"}},
            "images": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {"url": {"type": "string"}, "caption": {"type": "string"}},
                },
            },
            "active": {"type": "boolean", "description": "false: no longer sold (deactivated by 1C)"},
            "updated_at": {"type": "string"},
            "offers": {"type": "array", "items": _ref("Offer")},
        },
    },
    "OrderRequest": {
        "type": "object",
        "required": ["customer", "lines"],
        "properties": {
            "customer": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "id": {
                        "type": "string",
                        "description": "the shop's own customer id: GET /orders?customer= lists their orders",
                    },
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                    "phone": {"type": "string", "description": "sent to 1C as ТелефонРабочий, digits only"},
                    "address": _ref("Address"),
                    "company": {"type": "string", "description": "a legal entity: 1C files it as one"},
                    "inn": {"type": "string", "pattern": "^([0-9]{10}|[0-9]{12})$"},
                    "kpp": {"type": "string", "pattern": "^[0-9]{9}$"},
                },
            },
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": 90,
                "items": {
                    "type": "object",
                    "required": ["offer_id", "quantity"],
                    "properties": {
                        "offer_id": {"type": "string"},
                        "quantity": {"type": "integer", "minimum": 1},
                    },
                },
            },
            "delivery": {
                "type": "object",
                "properties": {
                    "method": {"type": "string"},
                    "price": {"type": "number", "minimum": 0},
                    "address": _ref("Address"),
                },
            },
            "payment_method": {"type": "string"},
            "comment": {"type": "string"},
        },
    },
    "Order": {
        "type": "object",
        "required": [
            "id",
            "number",
            "status",
            "created_at",
            "updated_at",
            "customer",
            "lines",
            "totals",
            "history",
            "one_c",
        ],
        "properties": {
            "id": {"type": "string"},
            "number": {"type": "string", "description": "the site number 1C sees"},
            "status": {
                "type": "string",
                "enum": ["new", "accepted", "paid", "shipped", "delivered", "cancelled"],
            },
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
            "customer": {"type": "object"},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["offer_id", "name", "quantity", "price", "amount"],
                    "properties": {
                        "offer_id": {"type": "string"},
                        "name": {"type": "string"},
                        "quantity": {"type": "number"},
                        "price": {"type": "number"},
                        "amount": {"type": "number"},
                        "currency": _NULLABLE_STR,
                    },
                },
            },
            "delivery": {"type": "object"},
            "payment_method": _NULLABLE_STR,
            "comment": _NULLABLE_STR,
            "totals": {
                "type": "object",
                "required": ["items", "delivery", "total"],
                "properties": {
                    "items": {"type": "number"},
                    "delivery": {"type": "number"},
                    "total": {"type": "number"},
                    "currency": _NULLABLE_STR,
                },
            },
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["status", "at", "source"],
                    "properties": {
                        "status": {"type": "string"},
                        "at": {"type": "string"},
                        "source": {"type": "string", "enum": ["shop", "1c"]},
                        "note": _NULLABLE_STR,
                    },
                },
            },
            "one_c": {
                "type": "object",
                "description": "1C number and date, posted, payment and shipment documents",
            },
            "manager": _NULLABLE_STR,
            "tracking_number": {**_NULLABLE_STR, "description": "1C's Идентификатор отправления"},
            "exported_at": {**_NULLABLE_STR, "description": "when 1C confirmed it took the order"},
        },
    },
    "Address": {
        "description": "free text, or the parts 1C files as typed address fields",
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    k: {"type": "string"}
                    for k in ("postcode", "country", "region", "city", "street", "house", "flat")
                },
            },
        ],
    },
    "Change": {
        "type": "object",
        "required": ["type", "id", "op", "at"],
        "properties": {
            "type": {"type": "string", "enum": ["product", "offer", "group"]},
            "id": {"type": "string"},
            "op": {"type": "string", "enum": ["upsert", "deactivate"]},
            "at": {"type": "string", "format": "date-time"},
        },
    },
}


def _list(name: str, item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name],
        "properties": {name: {"type": "array", "items": _ref(item)}},
    }


def _page(name: str, item: str) -> dict[str, Any]:
    """One page of a list: the items and the cursor of the next page (null on the last)."""
    page = _list(name, item)
    return {
        **page,
        "required": [name, "next_cursor"],
        "properties": {**page["properties"], "next_cursor": _NULLABLE_STR},
    }


def _one(param: str, item: str, summary: str) -> dict[str, Any]:
    """GET of one resource by its id in the path."""
    return {
        "summary": summary,
        "parameters": [{"name": param, "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": _ok(_ref(item)),
            "404": {"$ref": "#/components/responses/NotFound"},
            **_ERRORS,
        },
    }


def spec() -> dict[str, Any]:
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
            "/products": {
                "get": {
                    "summary": "Active products, by name, a page at a time",
                    "parameters": [
                        {
                            "name": "group",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "includes subgroups",
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
                        "200": _ok(_page("items", "ProductSummary")),
                        **_ERRORS,
                    },
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
                        "content": {"application/json": {"schema": _ref("OrderRequest")}},
                    },
                    "responses": {
                        "201": _ok(_ref("Order"), "the order, as GET shows it"),
                        "409": {
                            "description": "the same Idempotency-Key is being processed",
                            "content": {"application/json": {"schema": _ref("Error")}},
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
            "/changes": {
                "get": {
                    "summary": "What changed since a cursor, oldest first",
                    "parameters": [{"name": "since", "in": "query", "schema": {"type": "string"}}, limit],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["changes", "next"],
                                "properties": {
                                    "changes": {"type": "array", "items": _ref("Change")},
                                    "next": _NULLABLE_STR,
                                },
                            }
                        ),
                        **_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
            "schemas": SCHEMAS,
            "responses": {
                name: {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}
                for name, description in (
                    ("BadRequest", "invalid parameters"),
                    ("Unauthorized", "missing or wrong X-Api-Key"),
                    ("NotFound", "no such item"),
                    ("Unprocessable", "the request cannot be carried out"),
                )
            },
        },
    }
