"""Where an order's units stand, and every way that changes — in one table.

held      placed by the shop, waiting for 1C: its units are held against the offers' stock
taken     1C took the order (`mode=success`); held until 1C's next stock report covers them
released  given back (cancelled) or covered by 1C's stock (its next report after taking it)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any


class Hold(StrEnum):
    HELD = "held"
    TAKEN = "taken"
    RELEASED = "released"


class GiveBack(Enum):
    NOTHING = "nothing"
    HELD_UNITS = "held units"  # the order's quantities go back to the offers' availability
    TAKEN_LINES = "taken lines"  # the lines 1C took stop being held


@dataclass(frozen=True)
class HoldMove:
    after: Hold
    give_back: GiveBack = GiveBack.NOTHING


# (hold before, 1C confirmed it now, the order is cancelled now) → the move
_MOVES: dict[tuple[Hold, bool, bool], HoldMove] = {
    (Hold.HELD, False, False): HoldMove(Hold.HELD),
    (Hold.HELD, True, False): HoldMove(Hold.TAKEN),
    (Hold.HELD, False, True): HoldMove(Hold.RELEASED, GiveBack.HELD_UNITS),
    (Hold.HELD, True, True): HoldMove(Hold.RELEASED, GiveBack.HELD_UNITS),
    (Hold.TAKEN, False, False): HoldMove(Hold.TAKEN),
    (Hold.TAKEN, True, False): HoldMove(Hold.TAKEN),
    (Hold.TAKEN, False, True): HoldMove(Hold.RELEASED, GiveBack.TAKEN_LINES),
    (Hold.TAKEN, True, True): HoldMove(Hold.RELEASED, GiveBack.TAKEN_LINES),
}


def move(before: Hold, confirmed: bool, cancelled: bool) -> HoldMove:
    """What an order's hold becomes when it is saved; released is final."""
    return _MOVES.get((before, confirmed, cancelled), HoldMove(Hold.RELEASED))


def hold_of(order: dict[str, Any]) -> Hold:
    """The order's hold (orders from before holds were stored: from what happened to them)."""
    if order.get("hold"):
        return Hold(order["hold"])
    return Hold.RELEASED if order.get("exported_at") or order["status"] == "cancelled" else Hold.HELD


def held_quantities(lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    """What an order holds, per offer: its lines' quantities, but for services (never
    stock-checked) and backordered lines (beyond the stock: nothing to hold)."""
    held: dict[str, Decimal] = {}
    for line in lines:
        if not line.get("service") and not line.get("backorder"):
            held[line["offer_id"]] = held.get(line["offer_id"], Decimal(0)) + Decimal(str(line["quantity"]))
    return held
