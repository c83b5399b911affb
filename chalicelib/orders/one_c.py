"""The orders 1C deals with: the waiting orders rendered for `mode=query` (one at a time, so one
bad order never blocks the rest), 1C's confirmation, its order documents, the `mode=info`
reference, and the orders a person has to look at."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import IO, Any

from chalicelib.commerceml import read, to_update, write_orders, write_reference
from chalicelib.commerceml.model import DocumentProblem, Order, OrderUpdate
from chalicelib.commerceml.orders import DocumentKind, document_kind, order_reference, settlement
from chalicelib.commerceml.site_orders import order_document
from chalicelib.observability import logger
from chalicelib.orders import customers, rules
from chalicelib.orders.changes import Change, OrderChanges
from chalicelib.orders.customers import contact_keys
from chalicelib.orders.from_1c import describe_edit, lines_from_1c, order_from_1c
from chalicelib.orders.views import options_for, view
from chalicelib.ports import AlreadyPlaced, OrdersStore
from chalicelib.tenants import Tenant
from chalicelib.values import utc_stamp

STUCK_AFTER = 3  # offers to 1C without `success` after which the console calls an order stuck


class OneC:
    def __init__(self, store: OrdersStore, changes: OrderChanges) -> None:
        self.store, self.changes = store, changes

    def render_waiting(
        self, tenant: Tenant, encoding: str | None = None, packaged: bool = False
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
                    document = order_document(order, options_for(settings))
                    write_orders([document], encoding, settings.order_schema_version)
                except Exception as exc:  # whatever the writer refuses: this order alone stops
                    reason = f"не удалось сформировать документ заказа: {exc}"
                    self.flag(tenant, order["id"], reason)
            if reason is not None:
                skipped.append((order["number"], reason))
                continue
            documents.append(document)
            ids.append(order["id"])
        version = "2.10" if packaged else settings.order_schema_version
        data = write_orders(documents, encoding, version, packaged=packaged)
        marks = "|".join(f"{o['id']}@{o['updated_at']}" for o in waiting) + encoding
        return data, hashlib.sha256(marks.encode()).hexdigest(), ids, skipped

    def query_document(
        self, tenant: Tenant, session: str, encoding: str, packaged: bool = False
    ) -> tuple[bytes, int, list[tuple[str, str]]]:
        """`mode=query`: the waiting orders, remembered for this session's `success`."""
        data, _, ids, skipped = self.render_waiting(tenant, encoding, packaged)
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
    def waiting(self, tenant: Tenant) -> list[dict[str, Any]]:
        """The orders 1C has not confirmed, oldest first, each with how often `mode=query` offered
        it (`offered`: times, first_at, last_at) and `stuck` when that is STUCK_AFTER or more:
        1C takes the document but never answers `success` for it."""
        waiting = sorted(self.store.waiting_for_1c(tenant.id), key=lambda o: o.get("created_at") or "")
        offers = self.store.offered(tenant.id, [o["id"] for o in waiting])
        for order in waiting:
            order["offered"] = offers.get(order["id"]) or {"times": 0}
            order["stuck"] = order["offered"]["times"] >= STUCK_AFTER
        return waiting

    def flag(self, tenant: Tenant, order_id: str, reason: str) -> bool:
        def change(order: dict[str, Any]) -> Change | None:
            if (order.get("problem") or {}).get("reason") == reason:
                return None
            order["problem"] = {"reason": reason, "at": utc_stamp()}
            return Change()

        logger.error("order cannot be sent to 1C", extra={"order": order_id, "reason": reason})
        return self.changes.apply(tenant.id, order_id, change)

    def flagged(self, tenant: Tenant) -> list[dict[str, Any]]:
        return [view(o) for o in self.store.waiting_for_1c(tenant.id) if o.get("problem")]

    def cancel(self, tenant: Tenant, order_id: str, note: str, by: str) -> bool:
        """Cancel an order (a person's decision): its holds are given back, the shop is told."""

        def change(order: dict[str, Any]) -> Change | None:
            if order["status"] == "cancelled":
                return None
            previous, order["status"] = order["status"], "cancelled"
            order.pop("problem", None)
            order["history"].append(rules.history_entry("cancelled", by, note))
            payload = {"order": view(order), "previous_status": previous}
            return Change([{"event": "order.status_changed", "payload": payload}])

        return self.changes.apply(tenant.id, order_id, change)

    def fix(self, tenant: Tenant, order_id: str, fields: dict[str, str], by: str) -> bool:
        """Correct an order's text fields (checked as POST /orders checks them) and clear its flag."""
        cleaned = rules.fixable_fields(fields)

        def change(order: dict[str, Any]) -> Change | None:
            for path, value in cleaned.items():
                section, _, key = path.rpartition(".")
                target = order.setdefault(section, {}) if section else order
                target[key] = value
            order.pop("problem", None)
            order["history"].append(
                rules.history_entry(order["status"], by, "исправлен: " + ", ".join(cleaned))
            )
            return Change()

        return self.changes.apply(tenant.id, order_id, change)

    def confirm(self, tenant: Tenant, session: str) -> int | None:
        """1C stored what the session's query offered: those orders leave the queue. None when
        this session never queried."""
        order_ids = self.store.queried(tenant.id, session)
        if order_ids is None:
            return None
        confirmed = 0
        for order_id in order_ids:
            if self.changes.apply(tenant.id, order_id, self._mark_exported, confirm=True):
                confirmed += 1
        return confirmed

    @staticmethod
    def _mark_exported(order: dict[str, Any]) -> Change:
        order["exported_at"] = utc_stamp()
        order["history"].append(rules.history_entry(order["status"], "1c", "принят 1С"))
        return Change()

    # -- 1C reports statuses (type=sale&mode=file [+import]) ---------------------------------------
    def apply_documents(self, tenant: Tenant, stream: IO[bytes], filename: str) -> dict[str, Any]:
        """Apply 1C's documents by what each is (`ХозОперация`): an order updates its order (by
        `Ид`, else `Номер`); a payment or a shipment updates the order it belongs to — named by
        its `Основание` or a requisite, or the order in the same `Контейнер` —, never one that
        merely shares its number. What matches nothing is reported, not fatal."""
        report: dict[str, Any] = {
            "updated": 0,
            "unchanged": 0,
            "unknown": [],
            "problems": [],
            "updated_ids": [],
        }
        packaged: dict[int, str] = {}  # a `Контейнер` → the site order its order document is
        for entity in read(stream, filename):
            if isinstance(entity, DocumentProblem):
                report["problems"].append(f"документ {entity.number or entity.id or '?'}: {entity.reason}")
                continue
            if not isinstance(entity, Order):
                continue
            kind = document_kind(entity)
            if kind is DocumentKind.OTHER:
                report["problems"].append(
                    f"документ {entity.number or entity.id}: ХозОперация «{entity.operation}» сайт не применяет"
                )
                continue
            if kind is DocumentKind.ORDER:
                update = to_update(entity)
                order = self._order_of(tenant, update.id, update.number) or self.store.by_idempotency_key(
                    tenant.id, f"1c:{entity.id}"
                )
                if order is None and tenant.settings.orders_from_1c == "import" and entity.lines:
                    order = self._import_from_1c(tenant, entity)
                    update = replace(update, id=order["id"])
                if order is not None and entity.container is not None:
                    packaged[entity.container] = order["id"]
            else:
                order = self._basis_of(tenant, entity, packaged)
                update = settlement(entity, kind, order["id"]) if order else to_update(entity)
            if order is None:
                what = {DocumentKind.PAYMENT: "оплата ", DocumentKind.SHIPMENT: "отгрузка "}.get(kind, "")
                report["unknown"].append(f"{what}{update.number or update.id or entity.number}".strip())
                continue
            if self._apply_update(tenant, order["id"], update):
                report["updated"] += 1
                report["updated_ids"].append(order["id"])
            else:
                report["unchanged"] += 1
        logger.info("1C order documents applied", extra={"report": report})
        return report

    def _import_from_1c(self, tenant: Tenant, doc: Order) -> dict[str, Any]:
        """An order keyed in 1C, as a site order marked `from_1c`: 1C has it already (never offered
        back), its stock is 1C's own (nothing held), found again by 1C's `Ид`."""
        order = order_from_1c(doc, str(self.store.next_number(tenant.id)))
        self._find_site_customer(tenant, order)
        event = {"event": "order.created", "payload": {"order": view(order)}}
        try:
            self.store.create(tenant.id, order, [], [event], f"1c:{doc.id}")
        except AlreadyPlaced as placed:
            return self.store.get(tenant.id, placed.order_id) or order
        self.changes.apply(tenant.id, order["id"], self._mark_exported, confirm=True)
        logger.info("order from 1C imported", extra={"order": order["id"], "number_1c": doc.number})
        return order

    def _find_site_customer(self, tenant: Tenant, order: dict[str, Any]) -> None:
        """A phone order's customer is the site's when 1C's contragent is one the site sent it
        (same id), else when its e-mail, then its phone, is one a site customer ordered with:
        the order then lists under that customer, 1C's own id kept beside it."""
        customer = order["customer"]
        their_id = customer.get("id")
        if their_id and self.store.customer_page(tenant.id, their_id, None, 1)[0]:
            found: tuple[str, str] | None = (their_id, "id")
        else:
            found = customers.matched(
                customer, self.store.customers_by_contact(tenant.id, contact_keys(customer))
            )
        if found is None:
            return
        site_id, how = found
        if their_id and their_id != site_id:
            customer["id_1c"] = their_id
        customer["id"], customer["matched_by"] = site_id, how
        order["history"][-1]["note"] += f"; покупатель сайта найден по {customers.MATCH_WORDS[how]}"

    def _order_of(self, tenant: Tenant, order_id: str | None, number: str | None) -> dict[str, Any] | None:
        order = self.store.get(tenant.id, order_id) if order_id else None
        return order if order is not None or not number else self.store.by_number(tenant.id, number)

    def _basis_of(self, tenant: Tenant, doc: Order, packaged: dict[int, str]) -> dict[str, Any] | None:
        """The site order a payment or shipment belongs to (never found by its own number)."""
        reference = order_reference(doc)
        if reference:
            return self._order_of(tenant, reference, reference)
        if doc.container is not None and doc.container in packaged:
            return self.store.get(tenant.id, packaged[doc.container])
        return None

    def _apply_update(self, tenant: Tenant, order_id: str, update: OrderUpdate) -> bool:
        def change(current: dict[str, Any]) -> Change | None:
            facts = {k: v for k, v in rules.one_c_facts(update).items() if v is not None}
            status = rules.status_from_1c(update, current["status"], tenant.settings)
            if current["status"] == "cancelled":
                status = "cancelled"
            merged = {**current.get("one_c", {}), **facts}
            edited = lines_from_1c(current, update)
            if merged == current.get("one_c") and status == current["status"] and edited is None:
                return None
            events: list[dict[str, Any]] = []
            if edited is not None and current["status"] != "cancelled":  # 1C changed what is in it
                previous_lines = current["lines"]
                current["lines"], current["totals"], current["discounts"] = edited
                note = "состав изменён в 1С: " + describe_edit(previous_lines, current["lines"])
                current["history"].append(rules.history_entry(current["status"], "1c", note))
                events.append({"event": "order.changed", "payload": {"order": view(current)}})
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
                payload = {"order": view(current), "previous_status": previous}
                events.append({"event": "order.status_changed", "payload": payload})
                if status in ("paid", "shipped"):
                    extra = {"tracking_number": current.get("tracking_number")} if status == "shipped" else {}
                    events.append({"event": f"order.{status}", "payload": {**payload, **extra}})
            if newly_returned:
                current["history"].append(rules.history_entry(current["status"], "1c", "возврат"))
                events.append({"event": "order.returned", "payload": {"order": view(current)}})
            return Change(events)

        return self.changes.apply(tenant.id, order_id, change)
