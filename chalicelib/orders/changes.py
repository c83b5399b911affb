"""Every change of a stored order goes through `OrderChanges.apply`: read, edit, write with a
version check (retried when another writer got there first), the hold moved by the one table in
orders/holds.py, and the order's events written in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chalicelib.orders.holds import GiveBack, Hold, held_quantities, hold_of, move
from chalicelib.ports import OrdersStore, StaleOrder
from chalicelib.values import utc_stamp

MAX_STALE_RETRIES = 3


@dataclass
class Change:
    """What an edit did: the events it raises (none is still a change worth saving)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    offer_again: bool = False  # 1C took it before this change: it goes to 1C again


# An edit changes the order in place and says what it did; None: nothing to change.
Edit = Callable[[dict[str, Any]], Change | None]


class OrderChanges:
    def __init__(self, store: OrdersStore) -> None:
        self.store = store

    def apply(self, tenant_id: str, order_id: str, edit: Edit, confirm: bool = False) -> bool:
        """Apply an edit; `confirm`: 1C took the order (only while it waits for 1C). False when
        there is no such order or nothing changed."""
        for _ in range(MAX_STALE_RETRIES):
            version = self.store.version(tenant_id, order_id)
            order = self.store.get(tenant_id, order_id)
            if order is None or (confirm and not self.store.is_waiting(tenant_id, order_id)):
                return False
            before = hold_of(order)
            held_before = held_quantities(order["lines"])
            change = edit(order)
            if change is None:
                return False
            order["updated_at"] = utc_stamp()
            step = move(before, confirmed=confirm, cancelled=order["status"] == "cancelled")
            order["hold"] = str(step.after)
            release, take = _hold_updates(before, step.after, step.give_back, held_before, order["lines"])
            try:
                self.store.update(
                    tenant_id, order, version, change.events, confirm=confirm, release=release, take=take,
                    offer_again=change.offer_again,
                )  # fmt: skip
            except StaleOrder:
                continue
            if step.give_back is GiveBack.TAKEN_LINES:
                for item in self.store.taken(tenant_id, order_id):
                    self.store.release_taken(tenant_id, item)
            return True
        raise StaleOrder(order_id)


def _hold_updates(
    before: Hold,
    after: Hold,
    give_back: GiveBack,
    held_before: dict[str, Decimal],
    lines: list[dict[str, Any]],
) -> tuple[list[tuple[str, Decimal]] | None, list[tuple[str, Decimal]] | None]:
    """What the held counters give back (a negative quantity holds more) and what 1C's taken
    lines become: the order's units follow its lines — cancelled, taken by 1C, or changed in 1C."""
    held_after = held_quantities(lines)
    if give_back is GiveBack.HELD_UNITS:
        return list(held_before.items()), None
    if after is Hold.RELEASED:
        return None, None
    offers = sorted(set(held_before) | set(held_after))
    moved = [(o, held_before.get(o, Decimal(0)) - held_after.get(o, Decimal(0))) for o in offers]
    release = [(o, q) for o, q in moved if q] or None  # the lines changed (1C's edit)
    if before is Hold.HELD and after is Hold.TAKEN:
        return release, list(held_after.items())
    if after is Hold.TAKEN and release:  # 1C's taken lines as they are now (0: no longer in it)
        return release, [(o, held_after.get(o, Decimal(0))) for o in offers]
    return release, None
