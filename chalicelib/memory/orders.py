"""Twins of the orders table and its outbox."""

from __future__ import annotations

import copy
import threading
import time
from decimal import Decimal
from typing import Any

from chalicelib.aws.outbox import event_of, outbox_item
from chalicelib.orders.customers import contact_keys


class InMemoryOutbox:
    """The outbox's twin: events added (once, by id), due, claimed by one runner, settled."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = threading.RLock()

    def add(self, tenant: str, event: str, payload: dict[str, Any], event_id: str | None = None) -> str:
        from chalicelib.ports import new_id

        now = int(time.time())
        event_id = event_id or new_id()
        self.events.setdefault((tenant, event_id), outbox_item(tenant, event_id, event, payload, now))
        return event_id

    def due(self, tenant: str, now: int, limit: int) -> list[dict[str, Any]]:
        pending = [
            v
            for (t, _), v in self.events.items()
            if t == tenant and v.get("qsk") and v["qsk"] <= f"{now:011d}~"
        ]
        return [event_of(copy.deepcopy(v)) for v in sorted(pending, key=lambda e: e["qsk"])[:limit]]

    def claim(self, tenant: str, event_id: str, runner: str, now: int, seconds: int) -> dict[str, Any] | None:
        with self.lock:
            item = self.events.get((tenant, event_id))
            if not item or item["status"] != "pending" or item.get("lease_until", -1) >= now:
                return None
            item.update(lease_until=now + seconds, runner=runner, attempts=item["attempts"] + 1)
            return event_of(copy.deepcopy(item))

    def settle(
        self,
        tenant: str,
        event_id: str,
        runner: str,
        status: str,
        attempts: int,
        next_at: int | None,
        targets: dict[str, Any],
        log: list[dict[str, Any]],
    ) -> None:
        item = self.events[(tenant, event_id)]
        if item.get("runner") != runner:
            raise RuntimeError("settled by a runner that does not hold the claim")
        item.update(status=status, attempts=attempts, targets=copy.deepcopy(targets), deliveries=log[-20:])
        item.pop("lease_until", None)
        if status == "pending":
            item["qsk"] = f"{next_at:011d}#{event_id}"
            item["next_at"] = next_at
        else:
            item.pop("qsk", None)
            item.pop("next_at", None)

    def recent(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        mine = [event_of(copy.deepcopy(v)) for (t, _), v in self.events.items() if t == tenant]
        return sorted(mine, key=lambda e: e["id"], reverse=True)[:limit]

    def get(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        found = self.events.get((tenant, event_id))
        return event_of(copy.deepcopy(found)) if found else None

    def redeliver(self, tenant: str, event_id: str) -> bool:
        item = self.events.get((tenant, event_id))
        if item is None:
            return False
        now = int(time.time())
        item.update(status="pending", attempts=0, targets={}, qsk=f"{now:011d}#{event_id}", next_at=now)
        item.pop("lease_until", None)
        return True


class InMemoryOrdersStore:
    """The orders table's twin: an order, its number, holds, outbox events and Idempotency-Key
    marker written all or nothing (one lock stands for DynamoDB's transaction)."""

    def __init__(self) -> None:
        from chalicelib.ports import new_id

        self.new_id = new_id
        self.orders: dict[tuple[str, str], dict[str, Any]] = {}  # (tenant, id) -> item
        self.numbers: dict[tuple[str, str], str] = {}
        self.held: dict[tuple[str, str], Any] = {}
        self.counters: dict[tuple[str, str], int] = {}
        self.markers: dict[tuple[str, str], str] = {}
        self.queries: dict[tuple[str, str], list[str]] = {}
        self.offers: dict[tuple[str, str], dict[str, int]] = {}
        self.taken_lines: dict[tuple[str, str], dict[str, Any]] = {}
        self.contacts: dict[tuple[str, str], str] = {}  # (tenant, email:/phone: key) -> customer id
        self.outbox = InMemoryOutbox()
        self.lock = threading.RLock()

    # -- reads ----------------------------------------------------------------------------------
    def get(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        item = self.orders.get((tenant, order_id))
        return copy.deepcopy(item["doc"]) if item else None

    def by_number(self, tenant: str, number: str) -> dict[str, Any] | None:
        order_id = self.numbers.get((tenant, number))
        return self.get(tenant, order_id) if order_id else None

    def _orders(self, tenant: str, ids: list[str]) -> list[dict[str, Any]]:
        return [order for i in ids if (order := self.get(tenant, i)) is not None]

    def page(
        self, tenant: str, after: str | None, limit: int, since_id: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        lower = max(filter(None, [after, since_id]), default="")
        ids = sorted(i for (t, i) in self.orders if t == tenant and i > lower)
        chosen = ids[:limit]
        return self._orders(tenant, chosen), chosen[-1] if len(ids) > limit else None

    def customer_page(
        self, tenant: str, customer_id: str, before: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        ids = sorted(
            (
                i
                for (t, i), item in self.orders.items()
                if t == tenant
                and (item["doc"].get("customer") or {}).get("id") == customer_id
                and (before is None or i < before)
            ),
            reverse=True,
        )
        chosen = ids[:limit]
        return self._orders(tenant, chosen), chosen[-1] if len(ids) > limit else None

    def waiting_for_1c(self, tenant: str, limit: int = 500) -> list[dict[str, Any]]:
        ids = sorted(i for (t, i), item in self.orders.items() if t == tenant and item["waiting"])
        return self._orders(tenant, ids[:limit])

    def by_idempotency_key(self, tenant: str, key: str) -> dict[str, Any] | None:
        order_id = self.markers.get((tenant, key))
        return self.get(tenant, order_id) if order_id else None

    def holds(self, tenant: str, offer_ids: list[str]) -> dict[str, Any]:
        return {o: self.held[(tenant, o)] for o in set(offer_ids) if (tenant, o) in self.held}

    def held_offers(self, tenant: str) -> dict[str, Decimal]:
        return {o: Decimal(q) for (owner, o), q in list(self.held.items()) if owner == tenant and q > 0}

    def customers_by_contact(self, tenant: str, keys: list[str]) -> dict[str, str]:
        return {key: self.contacts[(tenant, key)] for key in keys if (tenant, key) in self.contacts}

    def next_number(self, tenant: str) -> int:
        return self.next_counter(tenant, "order_number")

    def next_counter(self, tenant: str, name: str) -> int:
        with self.lock:
            self.counters[(tenant, name)] = self.counters.get((tenant, name), 0) + 1
            return self.counters[(tenant, name)]

    def version(self, tenant: str, order_id: str) -> int:
        item = self.orders.get((tenant, order_id))
        return item["version"] if item else 0

    def is_waiting(self, tenant: str, order_id: str) -> bool:
        item = self.orders.get((tenant, order_id))
        return bool(item and item["waiting"])

    # -- writes ---------------------------------------------------------------------------------
    def create(
        self,
        tenant: str,
        order: dict[str, Any],
        holds: list[tuple[str, Decimal, Decimal]],
        events: list[dict[str, Any]],
        idempotency_key: str | None = None,
    ) -> None:
        from chalicelib.ports import AlreadyPlaced, HoldConflict

        with self.lock:
            if idempotency_key and (tenant, idempotency_key) in self.markers:
                raise AlreadyPlaced(self.markers[(tenant, idempotency_key)])
            conflicts = [
                offer
                for offer, quantity, stock in holds
                if self.held.get((tenant, offer), 0) + quantity > stock
            ]
            if conflicts:
                raise HoldConflict(conflicts)
            self.orders[(tenant, order["id"])] = {"doc": copy.deepcopy(order), "version": 1, "waiting": True}
            self.numbers[(tenant, order["number"])] = order["id"]
            for offer, quantity, _ in holds:
                self.held[(tenant, offer)] = self.held.get((tenant, offer), 0) + quantity
            for event in events:
                self.outbox.add(tenant, event["event"], event["payload"])
            customer = order.get("customer") or {}
            for key in contact_keys(customer) if customer.get("id") else []:
                self.contacts[(tenant, key)] = customer["id"]
            if idempotency_key:
                self.markers[(tenant, idempotency_key)] = order["id"]

    def update(
        self,
        tenant: str,
        order: dict[str, Any],
        version: int,
        events: list[dict[str, Any]],
        confirm: bool = False,
        release: list[tuple[str, Decimal]] | None = None,
        take: list[tuple[str, Decimal]] | None = None,
        offer_again: bool = False,
    ) -> None:
        from chalicelib.ports import StaleOrder

        with self.lock:
            item = self.orders.get((tenant, order["id"]))
            if not item or item["version"] != version or (confirm and not item["waiting"]):
                raise StaleOrder(order["id"])
            item.update(doc=copy.deepcopy(order), version=version + 1)
            if offer_again and not confirm:
                item["waiting"] = True
            if confirm:
                item["waiting"] = False
            for offer_id, quantity in take or []:
                self.taken_lines[(tenant, f"{order['id']}#{offer_id}")] = {
                    "sk": f"{order['id']}#{offer_id}",
                    "offer_id": offer_id,
                    "quantity": quantity,
                    "confirmed_ms": int(time.time() * 1000),
                }
            for offer, quantity in release or []:
                self.held[(tenant, offer)] = self.held.get((tenant, offer), 0) - quantity
            for event in events:
                self.outbox.add(tenant, event["event"], event["payload"])

    def taken(self, tenant: str, order_id: str | None = None) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(v)
            for (t, sk), v in sorted(self.taken_lines.items())
            if t == tenant and (order_id is None or sk.startswith(f"{order_id}#"))
        ]

    def release_taken(self, tenant: str, item: dict[str, Any]) -> bool:
        with self.lock:
            if self.taken_lines.pop((tenant, item["sk"]), None) is None:
                return False
            self.held[(tenant, item["offer_id"])] = (
                self.held.get((tenant, item["offer_id"]), 0) - item["quantity"]
            )
            return True

    def remember_query(self, tenant: str, session: str, order_ids: list[str]) -> None:
        self.queries[(tenant, session)] = list(order_ids)
        now = int(time.time())
        for order_id in order_ids:
            seen = self.offers.setdefault((tenant, order_id), {"times": 0, "first_at": now})
            seen.update(times=seen["times"] + 1, last_at=now)

    def offered(self, tenant: str, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {o: dict(self.offers[(tenant, o)]) for o in set(order_ids) if (tenant, o) in self.offers}

    def queried(self, tenant: str, session: str) -> list[str] | None:
        found = self.queries.get((tenant, session))
        return list(found) if found is not None else None
