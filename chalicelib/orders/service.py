"""Order use cases: place (shop), read, hand to 1C (query/success), apply 1C's documents."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any

from chalicelib.aws.catalog import CatalogStore, kind_and_id
from chalicelib.aws.orders_store import AlreadyPlaced, HoldConflict, OrdersStore, StaleOrder, new_id
from chalicelib.commerceml import read, to_update, write_orders, write_reference
from chalicelib.commerceml.model import DocumentProblem, Order
from chalicelib.commerceml.site_orders import OrderOptions, order_document, presentation
from chalicelib.observability import logger
from chalicelib.orders import rules
from chalicelib.orders.rules import OfferFacts, OrderRejected
from chalicelib.tenants import Tenant, TenantSettings

MAX_STALE_RETRIES = 3
MAX_LIST_QUERIES = 5
_ORDER_ID = re.compile(r"[0-9a-f]{12,40}")


def _options(settings: TenantSettings) -> OrderOptions:
    return OrderOptions(settings.order_currency, settings.organization, settings.warehouse)


def _hold_state(order: dict[str, Any]) -> str:
    """held (waiting for 1C), taken (1C took it; its stock not reported since) or released."""
    if order.get("hold"):
        return order["hold"]
    return "released" if order.get("exported_at") or order["status"] == "cancelled" else "held"


def _view(order: dict[str, Any]) -> dict[str, Any]:
    """Numbers as JSON numbers for the shop."""

    def number(value: Any) -> Any:
        d = Decimal(str(value))
        return int(d) if d == d.to_integral() else float(d)

    view = json.loads(json.dumps(order, default=str))
    for line in view["lines"]:
        for key in ("quantity", "price", "amount"):
            line[key] = number(line[key])
    view["totals"] = {
        k: number(v) if k != "currency" and v is not None else v for k, v in view["totals"].items()
    }
    if view.get("delivery", {}).get("price") is not None:
        view["delivery"]["price"] = number(view["delivery"]["price"])
    return view


class Orders:
    def __init__(self, store: OrdersStore, catalog: CatalogStore) -> None:
        self.store, self.catalog = store, catalog

    # -- the shop places an order ----------------------------------------------------------------
    def facts(self, tenant: Tenant, offer_ids: Iterable[str]) -> dict[str, OfferFacts]:
        wanted = set(offer_ids)
        price_types = self.catalog.docs(tenant.id, "price_type")
        shop_type = tenant.settings.price_type_from(price_types)
        held = self.store.holds(tenant.id, list(wanted))
        facts = {}
        for product_id in {o.partition("#")[0] for o in wanted}:
            items = self.catalog.partition(f"{tenant.id}#p#{product_id}")
            product = next((i for i in items if i["sk"] == "product"), None)
            by_offer: dict[str, dict[str, Any]] = {}
            for item in items:
                if item["sk"].startswith(("offer#", "variant#")):
                    kind, offer_id = kind_and_id(item["pk"], item["sk"])
                    by_offer.setdefault(offer_id, {})[kind] = item
            for offer_id, parts in by_offer.items():
                if offer_id not in wanted:
                    continue
                info = parts.get("offer") or parts.get("variant")
                prices = json.loads(parts["prices"]["doc"])["prices"] if "prices" in parts else []
                price = next((p for p in prices if p["price_type_id"] == shop_type), None)
                stock = json.loads(parts["stock"]["doc"]) if "stock" in parts else {}
                active = bool(info and info.get("active", True)) and bool(
                    product is None or product.get("active", True)
                )
                name = json.loads(info["doc"]).get("name") if info else None
                facts[offer_id] = OfferFacts(
                    offer_id=offer_id,
                    name=name or (json.loads(product["doc"]).get("name") if product else offer_id),
                    active=active,
                    price=Decimal(str(price["value"])) if price else None,
                    currency=(price or {}).get("currency"),
                    stock=Decimal(str(stock["total"])) if stock.get("total") is not None else None,
                    held=held.get(offer_id, Decimal(0)),
                )
        return facts

    def place(self, tenant: Tenant, body: Any, idempotency_key: str | None = None) -> dict[str, Any]:
        """Place an order. With an Idempotency-Key, an order already placed under it (a retry
        after the process died before powertools recorded the answer) is returned as it is."""
        request = rules.parse_request(body)
        if idempotency_key:
            existing = self.store.by_idempotency_key(tenant.id, idempotency_key)
            if existing:
                return _view(existing)
        facts = self.facts(tenant, [o for o, _ in request.lines])
        lines = rules.price_lines(request, facts)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
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
            "comment": request.comment,
            "totals": rules.totals(lines, request.delivery),
            "history": [rules.history_entry("new", "shop")],
            "one_c": {},
            "manager": None,
            "exported_at": None,
            "hold": "held",
        }
        events = [{"event": "order.created", "payload": {"order": None}}]
        order["manager"] = self.choose_manager(tenant, order)
        if order["manager"]:
            events.append(
                {"event": "order.assigned", "payload": {"order": None, "manager": order["manager"]}}
            )
        for event in events:
            event["payload"]["order"] = _view(order)
        quantities: dict[str, Decimal] = {}
        for line in lines:
            quantities[line["offer_id"]] = quantities.get(line["offer_id"], Decimal(0)) + line["quantity"]
        holds = [(o, q, facts[o].stock or Decimal(0)) for o, q in quantities.items()]
        try:
            self.store.create(tenant.id, order, holds, events, idempotency_key)
        except AlreadyPlaced as placed:
            return _view(self.store.get(tenant.id, placed.order_id) or order)
        except HoldConflict as conflict:
            raise OrderRejected(
                "stock was taken by another order meanwhile",
                [
                    {"offer_id": o, "reason": "no longer available in the quantity ordered"}
                    for o in conflict.offer_ids
                ],
            ) from None
        logger.info("order placed", extra={"order": order["id"], "number": order["number"]})
        return _view(order)

    def get(self, tenant: Tenant, order_id: str) -> dict[str, Any] | None:
        order = self.store.get(tenant.id, order_id)
        return _view(order) if order else None

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
            customer = rules.clean_text(customer, "customer.id", required=True)
            orders, after = self.store.customer_page(tenant.id, str(customer), cursor, limit)
            return {"orders": [_view(o) for o in orders], "next_cursor": after}
        # At most MAX_LIST_QUERIES queries a request; when they end before the page is full, the
        # cursor points past what was examined, so a later match is always reachable.
        orders: list[dict[str, Any]] = []
        after = cursor
        for _ in range(MAX_LIST_QUERIES):
            page, after = self.store.page(tenant.id, after, limit, since_id)
            for order in page:
                if not status or order["status"] == status:
                    orders.append(order)
                if len(orders) == limit:
                    after = order["id"] if (after or order is not page[-1]) else None
                    break
            if len(orders) >= limit or not after:
                break
        next_cursor = after
        return {"orders": [_view(o) for o in orders], "next_cursor": next_cursor}

    # -- 1C takes orders (type=sale&mode=query / success) ------------------------------------------
    def render_waiting(
        self, tenant: Tenant, encoding: str | None = None
    ) -> tuple[bytes, str, list[str], list[tuple[str, str]]]:
        """The orders 1C has not confirmed, as CommerceML; a fingerprint of them; the ids in the
        document; and the orders left out, with why. Each order is rendered on its own first: one
        that cannot be (or was flagged before) is left out and flagged for a person, and the
        others still flow."""
        waiting = sorted(self.store.waiting_for_1c(tenant.id), key=lambda o: o["id"])
        settings = tenant.settings
        encoding = encoding or settings.encoding_for(flow_has_version=True)
        documents, ids, skipped = [], [], []
        for order in waiting:
            reason = (order.get("problem") or {}).get("reason")
            if reason is None:
                try:
                    document = order_document(order, _options(settings))
                    write_orders([document], encoding, settings.order_schema_version)
                except Exception as exc:  # whatever the writer refuses: this order alone stops
                    reason = f"не удалось сформировать документ заказа: {exc}"
                    self.flag(tenant, order["id"], reason)
            if reason is not None:
                skipped.append((order["number"], reason))
                continue
            documents.append(document)
            ids.append(order["id"])
        data = write_orders(documents, encoding, settings.order_schema_version)
        marks = "|".join(f"{o['id']}@{o['updated_at']}" for o in waiting) + encoding
        return data, hashlib.sha256(marks.encode()).hexdigest(), ids, skipped

    def query_document(
        self, tenant: Tenant, session: str, encoding: str
    ) -> tuple[bytes, int, list[tuple[str, str]]]:
        """`mode=query`: the waiting orders, remembered for this session's `success`."""
        data, _, ids, skipped = self.render_waiting(tenant, encoding)
        self.store.remember_query(tenant.id, session, ids)
        return data, len(ids), skipped

    def reference_document(self, tenant: Tenant, encoding: str) -> bytes:
        """`mode=info`: statuses with their stable ids, the tenant's payment systems and
        delivery services (tenant settings `payment_systems`, `delivery_services`)."""
        settings = tenant.settings
        return write_reference(
            [(rules.STATUS_IDS[s], rules.STATUS_NAMES[s]) for s in rules.STATUSES],
            [(str(p["id"]), str(p["name"]), str(p.get("type", ""))) for p in settings.payment_systems],
            [(str(d["id"]), str(d["name"])) for d in settings.delivery_services],
            encoding,
        )

    # -- orders a person has to look at ------------------------------------------------------------
    def flag(self, tenant: Tenant, order_id: str, reason: str) -> bool:
        def change(order: dict[str, Any]) -> list[dict[str, Any]] | None:
            if (order.get("problem") or {}).get("reason") == reason:
                return None
            order["problem"] = {"reason": reason, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            return []

        logger.error("order cannot be sent to 1C", extra={"order": order_id, "reason": reason})
        return self._save(tenant, order_id, change)

    def flagged(self, tenant: Tenant) -> list[dict[str, Any]]:
        return [_view(o) for o in self.store.waiting_for_1c(tenant.id) if o.get("problem")]

    def cancel(self, tenant: Tenant, order_id: str, note: str, by: str) -> bool:
        """Cancel an order (a person's decision): its holds are given back, the shop is told."""

        def change(order: dict[str, Any]) -> list[dict[str, Any]] | None:
            if order["status"] == "cancelled":
                return None
            previous, order["status"] = order["status"], "cancelled"
            order.pop("problem", None)
            order["history"].append(rules.history_entry("cancelled", by, note))
            payload = {"order": _view(order), "previous_status": previous}
            return [{"event": "order.status_changed", "payload": payload}]

        return self._save(tenant, order_id, change)

    def fix(self, tenant: Tenant, order_id: str, fields: dict[str, str], by: str) -> bool:
        """Correct an order's text fields (checked as POST /orders checks them) and clear its flag."""
        cleaned = rules.fixable_fields(fields)

        def change(order: dict[str, Any]) -> list[dict[str, Any]] | None:
            for path, value in cleaned.items():
                section, _, key = path.rpartition(".")
                target = order.setdefault(section, {}) if section else order
                target[key] = value
            order.pop("problem", None)
            order["history"].append(
                rules.history_entry(order["status"], by, "исправлен: " + ", ".join(cleaned))
            )
            return []

        return self._save(tenant, order_id, change)

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

            def change(current: dict[str, Any]) -> list[dict[str, Any]] | None:
                if current.get("manager"):
                    return None
                current["manager"] = self.choose_manager(tenant, current)
                return [
                    {
                        "event": "order.assigned",
                        "payload": {"order": _view(current), "manager": current["manager"]},
                    }
                ]

            if self._save(tenant, order["id"], change):
                assigned += 1
        return assigned

    def confirm(self, tenant: Tenant, session: str) -> int | None:
        """1C stored what the session's query offered: those orders leave the queue. None when
        this session never queried."""
        order_ids = self.store.queried(tenant.id, session)
        if order_ids is None:
            return None
        confirmed = 0
        for order_id in order_ids:
            if self._save(tenant, order_id, self._mark_exported, confirm=True):
                confirmed += 1
        return confirmed

    @staticmethod
    def _mark_exported(order: dict[str, Any]) -> list[dict[str, Any]]:
        order["exported_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        order["history"].append(rules.history_entry(order["status"], "1c", "принят 1С"))
        return []

    def _save(self, tenant: Tenant, order_id: str, change, confirm: bool = False) -> bool:
        """Read, change, write with a version check; retried when another writer got there first.
        Holds follow the order: 1C's confirmation turns them `taken`, a cancellation gives back
        whatever the order still holds."""
        for _ in range(MAX_STALE_RETRIES):
            version = self.store.version(tenant.id, order_id)
            order = self.store.get(tenant.id, order_id)
            if order is None or (confirm and not self.store.is_waiting(tenant.id, order_id)):
                return False
            hold = _hold_state(order)
            events = change(order)
            if events is None:
                return False
            order["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            release = None
            if confirm and hold == "held":
                order["hold"] = "taken"
            cancelled = order["status"] == "cancelled" and hold != "released"
            if cancelled:
                order["hold"] = "released"
                if hold == "held":
                    release = [(line["offer_id"], Decimal(str(line["quantity"]))) for line in order["lines"]]
            try:
                self.store.update(tenant.id, order, version, events, confirm=confirm, release=release)
            except StaleOrder:
                continue
            if cancelled and hold == "taken":
                for item in self.store.taken(tenant.id, order_id):
                    self.store.release_taken(tenant.id, item)
            return True
        raise StaleOrder(order_id)

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

    # -- 1C reports statuses (type=sale&mode=file [+import]) ---------------------------------------
    def apply_documents(self, tenant: Tenant, stream: IO[bytes], filename: str) -> dict[str, Any]:
        """Apply 1C's order documents; unknown orders are reported, not fatal."""
        report: dict[str, Any] = {"updated": 0, "unchanged": 0, "unknown": [], "problems": []}
        for entity in read(stream, filename):
            if isinstance(entity, DocumentProblem):
                report["problems"].append(f"документ {entity.number or entity.id or '?'}: {entity.reason}")
                continue
            if not isinstance(entity, Order):
                continue
            update = to_update(entity)
            order = self.store.get(tenant.id, update.id) if update.id else None
            if order is None and update.number:
                order = self.store.by_number(tenant.id, update.number)
            if order is None:
                report["unknown"].append(update.number or update.id)
                continue

            def change(current: dict[str, Any], update=update) -> list[dict[str, Any]] | None:
                facts = {k: v for k, v in rules.one_c_facts(update).items() if v is not None}
                status = rules.status_from_1c(update, current["status"], tenant.settings)
                if current["status"] == "cancelled":
                    status = "cancelled"
                merged = {**current.get("one_c", {}), **facts}
                if merged == current.get("one_c") and status == current["status"]:
                    return None
                events = []
                previous = current["status"]
                newly_returned = bool(merged.get("returned")) and not current.get("one_c", {}).get("returned")
                current["one_c"] = merged
                if merged.get("tracking_number"):
                    current["tracking_number"] = merged["tracking_number"]
                if update.manager and not current.get("manager"):
                    current["manager"] = update.manager
                if status != previous:
                    current["status"] = status
                    current["history"].append(rules.history_entry(status, "1c", update.status_text))
                    payload = {"order": _view(current), "previous_status": previous}
                    events.append({"event": "order.status_changed", "payload": payload})
                    if status in ("paid", "shipped"):
                        extra = (
                            {"tracking_number": current.get("tracking_number")} if status == "shipped" else {}
                        )
                        events.append({"event": f"order.{status}", "payload": {**payload, **extra}})
                if newly_returned:
                    current["history"].append(rules.history_entry(current["status"], "1c", "возврат"))
                    events.append({"event": "order.returned", "payload": {"order": _view(current)}})
                return events

            if self._save(tenant, order["id"], change):
                report["updated"] += 1
            else:
                report["unchanged"] += 1
        logger.info("1C order documents applied", extra={"report": report})
        return report
