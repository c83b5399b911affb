"""Orders table adapter. Keys (all start with the tenant):
  {t}#orders    {order id}      the order (JSON doc); qpk={t}#for1c while 1C has not confirmed it
  {t}#numbers   {number}        order number → id (1C matches documents by number)
  {t}#holds     {offer id}      quantity held: by orders 1C has not taken, and by orders it took
                                whose stock 1C has not reported since
  {t}#taken     {order}#{offer} a line 1C took (`success`) still held until a stock upload of
                                that offer in an exchange begun after `confirmed_ms`
  {t}#counters  order_number    the tenant's order number sequence
  {t}#queries   {session}       the order ids one `mode=query` offered (confirmed by `success`)
  {t}#offered   {order id}      how often `mode=query` offered it, first and last time
  {t}#outbox    {event id}      webhook events; qpk={t}#outbox while pending
  {t}#contacts  email:…/phone:… the site customer id an order last gave that e-mail/phone
An order with the shop's customer id also has upk={t}#customer#{id}, usk={order id} (index
`customer`: a customer's orders in one query).
An order and its outbox entries are written in one transaction."""

from __future__ import annotations

import hashlib
import json
import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chalicelib.aws import order_queries
from chalicelib.aws.clients import query_all, resource
from chalicelib.aws.outbox import outbox_item
from chalicelib.orders.customers import contact_keys
from chalicelib.ports import AlreadyPlaced, HoldConflict, StaleOrder, new_id

MAX_HELD_READ = 1000  # held offers the shop API counts (one query; a shop's few cost half a read unit)


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)  # Decimals as their exact text


class OrdersStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = resource("dynamodb").Table(table_name)
        self.client = resource("dynamodb").meta.client

    # -- reads ----------------------------------------------------------------------------------
    def get(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": f"{tenant}#orders", "sk": order_id}, ConsistentRead=True).get(
            "Item"
        )
        return json.loads(item["doc"]) if item else None

    def by_number(self, tenant: str, number: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": f"{tenant}#numbers", "sk": number}, ConsistentRead=True).get(
            "Item"
        )
        return self.get(tenant, item["order_id"]) if item else None

    def page(
        self, tenant: str, after: str | None, limit: int, since_id: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        condition = Key("pk").eq(f"{tenant}#orders")
        lower = max(filter(None, [after, since_id]), default=None)
        if lower:
            condition = condition & Key("sk").gt(lower)
        page = self.table.query(KeyConditionExpression=condition, Limit=limit)
        last = page.get("LastEvaluatedKey")
        return [json.loads(i["doc"]) for i in page["Items"]], last["sk"] if last else None

    @staticmethod
    def _customer_keys(tenant: str, order: dict[str, Any]) -> dict[str, str]:
        customer_id = (order.get("customer") or {}).get("id")
        return {"upk": f"{tenant}#customer#{customer_id}", "usk": order["id"]} if customer_id else {}

    def customer_page(
        self, tenant: str, customer_id: str, before: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A customer's orders, newest first: one query of the `customer` index."""
        upk = f"{tenant}#customer#{customer_id}"
        kwargs: dict[str, Any] = {
            "IndexName": "customer",
            "KeyConditionExpression": Key("upk").eq(upk),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if before:
            kwargs["ExclusiveStartKey"] = {"pk": f"{tenant}#orders", "sk": before, "upk": upk, "usk": before}
        page = self.table.query(**kwargs)
        last = page.get("LastEvaluatedKey")
        return [json.loads(i["doc"]) for i in page["Items"]], last["usk"] if last else None

    def waiting_for_1c(self, tenant: str, limit: int = 500) -> list[dict[str, Any]]:
        items = self.table.query(
            IndexName="queue", KeyConditionExpression=Key("qpk").eq(f"{tenant}#for1c"), Limit=limit
        )["Items"]
        return [json.loads(i["doc"]) for i in items]

    def by_idempotency_key(self, tenant: str, key: str) -> dict[str, Any] | None:
        item = self.table.get_item(
            Key={"pk": f"{tenant}#idem", "sk": _key_digest(key)}, ConsistentRead=True
        ).get("Item")
        return self.get(tenant, item["order_id"]) if item else None

    def holds(self, tenant: str, offer_ids: list[str]) -> dict[str, Decimal]:
        """What orders hold of each offer: BatchGetItem by 100 keys, unprocessed keys asked again."""
        held: dict[str, Decimal] = {}
        keys = [{"pk": f"{tenant}#holds", "sk": o} for o in sorted(set(offer_ids))]
        for i in range(0, len(keys), 100):
            pending: dict[str, Any] = {self.table_name: {"Keys": keys[i : i + 100], "ConsistentRead": True}}
            while pending:
                result = self.client.batch_get_item(RequestItems=pending)
                for item in result["Responses"].get(self.table_name, []):
                    held[item["sk"]] = Decimal(item.get("held", 0))
                pending = result.get("UnprocessedKeys") or {}
        return held

    def held_offers(self, tenant: str) -> dict[str, Decimal]:
        """What orders hold per offer, for the shop API's pages: one query of the tenant's holds, a
        small item per held offer; past MAX_HELD_READ of them the rest count as none."""
        page = self.table.query(KeyConditionExpression=Key("pk").eq(f"{tenant}#holds"), Limit=MAX_HELD_READ)
        return {i["sk"]: Decimal(i["held"]) for i in page["Items"] if Decimal(i.get("held", 0)) > 0}

    def customers_by_contact(self, tenant: str, keys: list[str]) -> dict[str, str]:
        """Site customer ids by e-mail/phone key (at most a few keys: one BatchGetItem)."""
        if not keys:
            return {}
        wanted = [{"pk": f"{tenant}#contacts", "sk": key} for key in sorted(set(keys))]
        pending: dict[str, Any] = {self.table_name: {"Keys": wanted}}
        found: dict[str, str] = {}
        while pending:
            result = self.client.batch_get_item(RequestItems=pending)
            found |= {i["sk"]: i["customer_id"] for i in result["Responses"].get(self.table_name, [])}
            pending = result.get("UnprocessedKeys") or {}
        return found

    def next_number(self, tenant: str) -> int:
        return self.next_counter(tenant, "order_number")

    def next_counter(self, tenant: str, name: str) -> int:
        result = self.table.update_item(
            Key={"pk": f"{tenant}#counters", "sk": name},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["n"])

    # -- writes ---------------------------------------------------------------------------------
    def _outbox_put(self, tenant: str, event: dict[str, Any]) -> dict[str, Any]:
        item = outbox_item(tenant, new_id(), event["event"], event["payload"], int(time.time()))
        return {"Put": {"TableName": self.table_name, "Item": item}}

    def create(
        self,
        tenant: str,
        order: dict[str, Any],
        holds: list[tuple[str, Decimal, Decimal]],
        events: list[dict[str, Any]],
        idempotency_key: str | None = None,
    ) -> None:
        """Order + number + stock holds + outbox (+ the Idempotency-Key's marker), all or
        nothing. holds: (offer, quantity, stock)."""
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "pk": f"{tenant}#orders",
                        "sk": order["id"],
                        "doc": _dumps(order),
                        "status": order["status"],
                        "version": 1,
                        "qpk": f"{tenant}#for1c",
                        "qsk": order["id"],
                        **self._customer_keys(tenant, order),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {"pk": f"{tenant}#numbers", "sk": order["number"], "order_id": order["id"]},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        for offer_id, quantity, stock in holds:
            actions.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": f"{tenant}#holds", "sk": offer_id},
                        "UpdateExpression": "ADD held :q",
                        "ConditionExpression": "(attribute_not_exists(held) AND :q <= :stock) OR held <= :limit",
                        "ExpressionAttributeValues": {
                            ":q": quantity,
                            ":stock": stock,
                            ":limit": stock - quantity,
                        },
                    }
                }
            )
        actions += [self._outbox_put(tenant, e) for e in events]
        customer = order.get("customer") or {}
        for key in contact_keys(customer) if customer.get("id") else []:
            item = {"pk": f"{tenant}#contacts", "sk": key, "customer_id": customer["id"]}
            actions.append({"Put": {"TableName": self.table_name, "Item": item}})
        if idempotency_key:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            "pk": f"{tenant}#idem",
                            "sk": _key_digest(idempotency_key),
                            "order_id": order["id"],
                            "expires_at": int(time.time()) + 30 * 86400,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            marker_taken = (
                idempotency_key
                and len(reasons) == len(actions)
                and reasons[-1].get("Code") == "ConditionalCheckFailed"
            )
            existing = (
                self.by_idempotency_key(tenant, idempotency_key) if marker_taken and idempotency_key else None
            )
            if existing:
                raise AlreadyPlaced(existing["id"]) from None
            failed = [
                holds[n - 2][0]
                for n, r in enumerate(reasons)
                if n >= 2 and n - 2 < len(holds) and r.get("Code") == "ConditionalCheckFailed"
            ]
            if failed:
                raise HoldConflict(failed) from None
            raise

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
        """Save a changed order (optimistic version check) with its outbox entries. On 1C's
        confirmation it leaves the waiting queue and what it holds (`take`) becomes `taken` holds
        (kept until 1C reports the offers' stock again); `release` gives held quantities back."""
        expression = "SET doc = :doc, #s = :status, version = :next"
        values: dict[str, Any] = {
            ":doc": _dumps(order),
            ":status": order["status"],
            ":next": version + 1,
            ":v": version,
        }
        condition = "version = :v"
        if confirm:
            expression += " REMOVE qpk, qsk"
            condition += " AND attribute_exists(qpk)"
        elif offer_again:  # back in 1C's queue (a payment made after 1C took the order)
            expression += ", qpk = :qpk, qsk = :qsk"
            values.update({":qpk": f"{tenant}#for1c", ":qsk": order["id"]})
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"pk": f"{tenant}#orders", "sk": order["id"]},
                    "UpdateExpression": expression,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        now_ms = int(time.time() * 1000)
        for offer_id, quantity in take or []:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            "pk": f"{tenant}#taken",
                            "sk": f"{order['id']}#{offer_id}",
                            "offer_id": offer_id,
                            "quantity": quantity,
                            "confirmed_ms": now_ms,
                        },
                    }
                }
            )
        for offer_id, quantity in release or []:
            actions.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": f"{tenant}#holds", "sk": offer_id},
                        "UpdateExpression": "ADD held :minus",
                        "ExpressionAttributeValues": {":minus": -quantity},
                    }
                }
            )
        actions += [self._outbox_put(tenant, e) for e in events]
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise StaleOrder(order["id"]) from None
            raise

    def version(self, tenant: str, order_id: str) -> int:
        item = self.table.get_item(Key={"pk": f"{tenant}#orders", "sk": order_id}, ConsistentRead=True).get(
            "Item"
        )
        return int(item["version"]) if item else 0

    def is_waiting(self, tenant: str, order_id: str) -> bool:
        item = self.table.get_item(Key={"pk": f"{tenant}#orders", "sk": order_id}, ConsistentRead=True).get(
            "Item"
        )
        return bool(item and item.get("qpk"))

    # -- holds of orders 1C took ----------------------------------------------------------------
    def taken(self, tenant: str, order_id: str | None = None) -> list[dict[str, Any]]:
        """Lines 1C took whose stock it has not reported since (all, or one order's)."""
        condition = Key("pk").eq(f"{tenant}#taken")
        if order_id:
            condition = condition & Key("sk").begins_with(f"{order_id}#")
        return query_all(self.table, KeyConditionExpression=condition, ConsistentRead=True)

    def release_taken(self, tenant: str, item: dict[str, Any]) -> bool:
        """Give a taken line's quantity back, once (the record's delete is the guard)."""
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": {"pk": f"{tenant}#taken", "sk": item["sk"]},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": {"pk": f"{tenant}#holds", "sk": item["offer_id"]},
                            "UpdateExpression": "ADD held :minus",
                            "ExpressionAttributeValues": {":minus": -Decimal(str(item["quantity"]))},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    # -- query batches (mode=query → mode=success): chalicelib/aws/order_queries.py ----------------
    def remember_query(self, tenant: str, session: str, order_ids: list[str]) -> None:
        order_queries.remember(self.table, tenant, session, order_ids)

    def queried(self, tenant: str, session: str) -> list[str] | None:
        return order_queries.queried(self.table, tenant, session)

    def offered(self, tenant: str, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        return order_queries.offered(self.client, self.table_name, tenant, order_ids)
