"""Order use cases: place (shop), read, hand to 1C (query/success), apply 1C's documents."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.commerceml.requisites import nomenclature
from chalicelib.commerceml.site_orders import presentation
from chalicelib.observability import logger
from chalicelib.orders import rules
from chalicelib.orders.changes import Change, OrderChanges
from chalicelib.orders.holds import held_quantities
from chalicelib.orders.one_c import OneC
from chalicelib.orders.rules import OfferFacts, OrderRejected
from chalicelib.orders.views import view
from chalicelib.ports import AlreadyPlaced, Catalog, HoldConflict, OrdersStore, UsageAdd, new_id
from chalicelib.tenants import Tenant
from chalicelib.values import utc_stamp

MAX_LIST_QUERIES = 5
_ORDER_ID = re.compile(r"[0-9a-f]{12,40}")


class Orders:
    def __init__(self, store: OrdersStore, catalog: Catalog, usage: UsageAdd | None = None) -> None:
        self.store, self.catalog, self.usage = store, catalog, usage
        self.changes = OrderChanges(store)
        self.one_c = OneC(store, self.changes)
        # what the exchange's sale side calls (exchange.sale.OrdersPort), the scheduler's export
        # and a person's decisions (console, admin CLI) are the 1C flow's
        one_c = self.one_c
        self.query_document, self.confirm = one_c.query_document, one_c.confirm
        self.apply_documents, self.reference_document = one_c.apply_documents, one_c.reference_document
        self.render_waiting, self.flag, self.flagged = one_c.render_waiting, one_c.flag, one_c.flagged
        self.waiting = one_c.waiting
        self.cancel, self.fix = one_c.cancel, one_c.fix

    # -- the shop places an order ----------------------------------------------------------------
    def facts(self, tenant: Tenant, offer_ids: Iterable[str]) -> dict[str, OfferFacts]:
        """What placing needs of each offer, read the way the product page reads it."""
        wanted = set(offer_ids)
        shop_type = tenant.settings.price_type_from(self.catalog.docs(tenant.id, "price_type"))
        held = self.store.holds(tenant.id, list(wanted))
        facts = {}
        for product in self.catalog.products(tenant.id, {o.partition("#")[0] for o in wanted}).values():
            for offer in product.offers:
                if offer.id not in wanted:
                    continue
                shop_prices = [p for p in offer.prices if p["price_type_id"] == shop_type]
                price = min(shop_prices, key=lambda p: _number(p.get("min_quantity")), default=None)
                stock = offer.stock or {}
                name = (offer.info or offer.variant or {}).get("name")
                unit = (offer.info or {}).get("unit") or product.doc.get("unit") or {}
                kind = nomenclature(product.doc.get("requisites") or {})["class"]
                facts[offer.id] = OfferFacts(
                    offer_id=offer.id,
                    name=name or product.doc.get("name") or offer.id,
                    active=offer.active and product.active,
                    price=Decimal(str(price["value"])) if price else None,
                    currency=(price or {}).get("currency"),
                    stock=Decimal(str(stock["total"])) if stock.get("total") is not None else None,
                    held=held.get(offer.id, Decimal(0)),
                    unit_code=unit.get("code"),
                    unit_name=unit.get("name"),
                    service=kind == "service",
                    tiers=tuple(
                        sorted(
                            (_number(p["min_quantity"]), _number(p["value"]))
                            for p in shop_prices
                            if p.get("min_quantity")
                        )
                    ),
                    breaks=tuple((_number(b["min_quantity"]), _number(b["percent"])) for b in offer.breaks),
                )
        return facts

    def place(self, tenant: Tenant, body: Any, idempotency_key: str | None = None) -> dict[str, Any]:
        """Place an order. With an Idempotency-Key, an order already placed under it (a retry
        after the process died before powertools recorded the answer) is returned as it is."""
        request = rules.parse_request(body)
        if idempotency_key:
            existing = self.store.by_idempotency_key(tenant.id, idempotency_key)
            if existing:
                return view(existing)
        facts = self.facts(tenant, [o for o, _ in request.lines])
        lines = rules.price_lines(request, facts, backorder=tenant.settings.stock_policy == "backorder")
        items = sum((line["amount"] for line in lines), Decimal(0))
        discounts = rules.order_discounts(items, request.discounts)
        created = utc_stamp()
        order = {
            "id": new_id(),
            "number": str(self.store.next_number(tenant.id)),
            "status": "new",
            "created_at": created,
            "updated_at": created,
            "customer": request.customer,
            "lines": lines,
            "delivery": request.delivery,
            "payment_method": request.payment_method,
            "payment": request.payment,
            "comment": request.comment,
            "discounts": discounts,
            "totals": rules.totals(lines, request.delivery, discounts),
            "history": [rules.history_entry("new", "shop")],
            "one_c": {},
            "manager": None,
            "exported_at": None,
            "hold": "held",
        }
        events: list[dict[str, Any]] = [{"event": "order.created", "payload": {"order": None}}]
        if (request.payment or {}).get("status") == "paid":
            events.append({"event": "order.paid", "payload": {"order": None}})
        order["manager"] = self.choose_manager(tenant, order)
        if order["manager"]:
            events.append(
                {"event": "order.assigned", "payload": {"order": None, "manager": order["manager"]}}
            )
        for event in events:
            event["payload"] = {**event["payload"], "order": view(order)}
        holds = [(o, q, facts[o].stock or Decimal(0)) for o, q in held_quantities(lines).items()]
        try:
            self.store.create(tenant.id, order, holds, events, idempotency_key)
        except AlreadyPlaced as placed:
            return view(self.store.get(tenant.id, placed.order_id) or order)
        except HoldConflict as conflict:
            raise OrderRejected(
                "stock was taken by another order meanwhile",
                [
                    {"offer_id": o, "reason": "no longer available in the quantity ordered"}
                    for o in conflict.offer_ids
                ],
            ) from None
        logger.info("order placed", extra={"order": order["id"], "number": order["number"]})
        if self.usage is not None:
            self.usage.add(tenant.id, orders=1)
        return view(order)

    def get(self, tenant: Tenant, order_id: str) -> dict[str, Any] | None:
        order = self.store.get(tenant.id, order_id)
        return view(order) if order else None

    def find(self, tenant: Tenant, number: str) -> list[dict[str, Any]]:
        """Orders by the site's number, else by 1C's (among the latest 200)."""
        number = number.strip().lstrip("№").strip()
        order = self.store.by_number(tenant.id, number) if number else None
        if order is not None:
            return [view(order)]
        latest = self.list(tenant, None, None, None, 200)["orders"] if number else []
        return [o for o in latest if str((o.get("one_c") or {}).get("number") or "").strip() == number]

    def list(
        self,
        tenant: Tenant,
        status: str | None,
        since: str | None,
        cursor: str | None,
        limit: int,
        customer: str | None = None,
    ) -> dict[str, Any]:
        since_id = None
        if since:
            try:
                stamp = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise rules.InvalidOrder("since must be an ISO date or date-time") from None
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=UTC)
            since_id = f"{int(stamp.timestamp() * 1000) - 1:012x}~"
        if cursor is not None and not _ORDER_ID.fullmatch(cursor):
            raise rules.InvalidOrder("cursor is not valid: pass next_cursor from a previous answer unchanged")
        if customer is not None:
            if not customer.strip() or len(customer) > 100:
                raise rules.InvalidOrder("customer must be a customer id of 1 to 100 characters")
            orders, after = self.store.customer_page(tenant.id, customer.strip(), cursor, limit)
            return {"orders": [view(o) for o in orders], "next_cursor": after}
        # At most MAX_LIST_QUERIES queries a request; when they end before the page is full, the
        # cursor points past what was examined, so a later match is always reachable.
        found: list[dict[str, Any]] = []
        after = cursor
        for _ in range(MAX_LIST_QUERIES):
            page, after = self.store.page(tenant.id, after, limit, since_id)
            for order in page:
                if not status or order["status"] == status:
                    found.append(order)
                if len(found) == limit:
                    after = order["id"] if (after or order is not page[-1]) else None
                    break
            if len(found) >= limit or not after:
                break
        next_cursor = after
        return {"orders": [view(o) for o in found], "next_cursor": next_cursor}

    # -- payments the shop takes ---------------------------------------------------------------------
    def pay(self, tenant: Tenant, order_id: str, body: Any) -> dict[str, Any] | None:
        """Record the order's payment (the same payment again changes nothing). An order 1C took
        already goes to 1C again, with the payment. None: no such order."""
        payment = rules.parse_payment(body)

        def change(order: dict[str, Any]) -> Change | None:
            if order.get("payment") == payment:
                return None
            if order["status"] == "cancelled":
                raise rules.OrderRejected(
                    "the order is cancelled", [{"reason": "a cancelled order takes no payment"}]
                )
            newly_paid = (
                payment.get("status") == "paid" and (order.get("payment") or {}).get("status") != "paid"
            )
            order["payment"] = payment
            note = "оплачен" if payment.get("status") == "paid" else "оплата отменена"
            order["history"].append(rules.history_entry(order["status"], "shop", note))
            events = [{"event": "order.paid", "payload": {"order": view(order)}}] if newly_paid else []
            return Change(events, offer_again=bool(order.get("exported_at")))

        self.changes.apply(tenant.id, order_id, change)
        order = self.store.get(tenant.id, order_id)
        return view(order) if order else None

    # -- responsible managers ---------------------------------------------------------------------
    def choose_manager(self, tenant: Tenant, order: dict[str, Any]) -> str | None:
        """The tenant's first matching rule (region, minimum amount), else round-robin."""
        managers = list(tenant.settings.managers)
        if not managers:
            return None
        address = " ".join(
            presentation(v)
            for v in ((order.get("delivery") or {}).get("address"), order["customer"].get("address"))
            if v
        ).lower()
        total = Decimal(str(order["totals"]["total"]))
        for rule in tenant.settings.manager_rules:
            region = str(rule.get("region") or "").lower()
            minimum = rule.get("min_amount")
            if region and region not in address:
                continue
            if minimum is not None and total < Decimal(str(minimum)):
                continue
            if rule.get("manager"):
                return str(rule["manager"])
        turn = self.store.next_counter(tenant.id, "manager_turn")
        return managers[(turn - 1) % len(managers)]

    def assign_managers(self, tenant: Tenant) -> int:
        """Give waiting orders without a manager one (managers configured after they came)."""
        if not tenant.settings.managers:
            return 0
        assigned = 0
        for order in self.store.waiting_for_1c(tenant.id):
            if order.get("manager"):
                continue

            def change(current: dict[str, Any]) -> Change | None:
                if current.get("manager"):
                    return None
                current["manager"] = self.choose_manager(tenant, current)
                payload = {"order": view(current), "manager": current["manager"]}
                return Change([{"event": "order.assigned", "payload": payload}])

            if self.changes.apply(tenant.id, order["id"], change):
                assigned += 1
        return assigned

    # -- holds of orders 1C took, released by its next stock report (the worker's port) -----------
    def taken_offers(self, tenant_id: str, before_ms: int) -> set[str]:
        """Offers with lines 1C took before `before_ms` (epoch milliseconds) still held."""
        return {i["offer_id"] for i in self.store.taken(tenant_id) if int(i["confirmed_ms"]) < before_ms}

    def release_reported(self, tenant_id: str, offer_ids: set[str], before_ms: int) -> int:
        """1C reported these offers' stock in an exchange it began at `before_ms`: the lines it
        took earlier are in that stock now, so their holds end."""
        released = 0
        for item in self.store.taken(tenant_id):
            if item["offer_id"] in offer_ids and int(item["confirmed_ms"]) < before_ms:
                released += self.store.release_taken(tenant_id, item)
        if released:
            logger.info("holds released by a stock upload", extra={"lines": released})
        return released


def _number(value: Any) -> Decimal:
    """A stored number (0 when absent: a price without `МинКоличество` holds from the first unit)."""
    return Decimal(str(value)) if value is not None else Decimal(0)
