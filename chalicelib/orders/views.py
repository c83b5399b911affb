"""How an order is shown (numbers as JSON numbers) and what a tenant's 1C wants of its orders."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.commerceml.site_orders import OrderOptions
from chalicelib.orders.rules import STATUS_IDS, STATUS_NAMES, STATUSES
from chalicelib.tenants import TenantSettings
from chalicelib.values import json_number


def options_for(settings: TenantSettings) -> OrderOptions:
    statuses = tuple((s, STATUS_IDS[s], STATUS_NAMES[s]) for s in STATUSES)
    return OrderOptions(settings.order_currency, settings.organization, settings.warehouse, statuses=statuses)


def view(order: dict[str, Any]) -> dict[str, Any]:
    """Numbers as JSON numbers for the shop."""

    number = json_number
    view: dict[str, Any] = json.loads(json.dumps(order, default=str))
    for line in view["lines"]:
        for key in ("quantity", "price", "amount"):
            line[key] = number(line[key])
        if line.get("discount"):
            line["discount"] = _amounts(line["discount"])
    view["discounts"] = [_amounts(d) for d in view.get("discounts") or ()]
    view["totals"] = {
        k: number(v) if k != "currency" and v is not None else v for k, v in view["totals"].items()
    }
    if view.get("delivery", {}).get("price") is not None:
        view["delivery"]["price"] = number(view["delivery"]["price"])
    return view


def _amounts(discount: dict[str, Any]) -> dict[str, Any]:
    return {k: json_number(v) if k in ("amount", "percent") else v for k, v in discount.items()}
