"""The shapes of the shop API's answers and requests as OpenAPI 3 components, generated from the
pydantic models in `chalicelib/shapes.py` (the one place they are written)."""

from __future__ import annotations

from typing import Any

from chalicelib.shapes import components

NULLABLE_STR = {"type": "string", "nullable": True}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = components()
