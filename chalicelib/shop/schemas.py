"""The shapes of the shop API's answers and requests (OpenAPI 3 components)."""

from __future__ import annotations

from typing import Any

NULLABLE_STR = {"type": "string", "nullable": True}
NUMBER = {"type": "number", "nullable": True}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


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
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "parent_id": NULLABLE_STR},
    },
    "PriceType": {
        "type": "object",
        "required": ["id", "name", "currency", "shop"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "currency": NULLABLE_STR,
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
            "sku": NULLABLE_STR,
            "name": NULLABLE_STR,
            "group_ids": {"type": "array", "items": {"type": "string"}},
            "price": {**NUMBER, "description": "lowest offer price of the shop price type"},
            "in_stock": {"type": "boolean"},
            "stock": {"type": "number"},
            "image": {**NULLABLE_STR, "description": "first image URL"},
        },
    },
    "Offer": {
        "type": "object",
        "required": ["id", "name", "characteristics", "prices", "stock"],
        "properties": {
            "id": {"type": "string", "description": "product or product#variant"},
            "name": NULLABLE_STR,
            "sku": NULLABLE_STR,
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
                        "price_type": NULLABLE_STR,
                        "value": NUMBER,
                        "currency": NULLABLE_STR,
                        "unit": NULLABLE_STR,
                    },
                },
            },
            "stock": {
                "type": "object",
                "required": ["total", "warehouses"],
                "properties": {
                    "total": NUMBER,
                    "warehouses": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "name", "quantity"],
                            "properties": {
                                "id": {"type": "string"},
                                "name": NULLABLE_STR,
                                "quantity": NUMBER,
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
            "sku": NULLABLE_STR,
            "barcodes": {"type": "array", "items": {"type": "string"}},
            "name": NULLABLE_STR,
            "description": NULLABLE_STR,
            "description_html": {
                **NULLABLE_STR,
                "description": "HTML from ОписаниеВФорматеHTML or the description file 1C sent",
            },
            "dimensions": {
                "type": "object",
                "properties": {k: {"type": "number"} for k in ("length", "width", "height")},
            },
            "weight": {"type": "number", "nullable": True},
            "unit": NULLABLE_STR,
            "group_ids": {"type": "array", "items": {"type": "string"}},
            "manufacturer": NULLABLE_STR,
            "properties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "value"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": NULLABLE_STR,
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
            "offers": {"type": "array", "items": ref("Offer")},
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
                    "address": ref("Address"),
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
                    "address": ref("Address"),
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
                        "currency": NULLABLE_STR,
                    },
                },
            },
            "delivery": {"type": "object"},
            "payment_method": NULLABLE_STR,
            "comment": NULLABLE_STR,
            "totals": {
                "type": "object",
                "required": ["items", "delivery", "total"],
                "properties": {
                    "items": {"type": "number"},
                    "delivery": {"type": "number"},
                    "total": {"type": "number"},
                    "currency": NULLABLE_STR,
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
                        "note": NULLABLE_STR,
                    },
                },
            },
            "one_c": {
                "type": "object",
                "description": "1C number and date, posted, payment and shipment documents",
            },
            "manager": NULLABLE_STR,
            "tracking_number": {**NULLABLE_STR, "description": "1C's Идентификатор отправления"},
            "exported_at": {**NULLABLE_STR, "description": "when 1C confirmed it took the order"},
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
