"""One catalog file → the change set against the current index. Pure: a stream in, changes out.

Nothing is written while the file is read: a file that turns out malformed halfway leaves the
catalog as it was. What a full file would deactivate by absence (docs/protocol.md §8.4: a full
section, `СодержитТолькоИзменения="false"`, of a file that is not a 2.08+ split part) is only
named here (`full_kinds`): it is decided once at the exchange's end, over every file it sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO

from chalicelib.commerceml import CommerceMLError, read
from chalicelib.commerceml.model import (
    Category,
    DocumentEnd,
    DocumentHeader,
    DocumentProblem,
    Group,
    Offer,
    Order,
    PriceType,
    Product,
    Property,
    RecordProblem,
    Unit,
    Warehouse,
)
from chalicelib.sync.diff import Change, Differ, Index
from chalicelib.sync.records import (
    GROUP,
    OFFER,
    OFFER_PRICES,
    OFFER_STOCK,
    PRODUCT,
    VARIANT,
    FileReader,
    ImageResolver,
    ImageSize,
    Record,
    classifier_record,
    offer_records,
    product_records,
)

PROGRESS_EVERY = 5000
SKIPPED_NAMED = 50  # records left out that a plan names (all are counted)
# DynamoDB refuses items over 400 KB; keys, flags and attributes take the rest of the room.
MAX_RECORD_BYTES = 350_000
# Ids become parts of DynamoDB keys (sort keys hold at most 1024 bytes); 1C's are GUIDs.
MAX_ID_BYTES = 500


@dataclass
class Plan:
    schema_version: str = ""
    generated_at: str = ""  # the file's ДатаФормирования, as 1C wrote it
    counts: Counter[str] = field(default_factory=Counter)
    full_kinds: list[str] = field(default_factory=list)  # deactivated by absence at the exchange's end
    skipped: list[str] = field(default_factory=list)  # the first records left out, and why
    skipped_total: int = 0
    only_changes: dict[str, bool | None] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    repeated_puts: dict[str, int] = field(default_factory=dict)  # apply writes only the last


def is_split_part(filename: str) -> bool:
    return "___" in filename


def plan(
    stream: IO[bytes],
    filename: str,
    index: Index,
    properties: Mapping[str, Property],
    resolve_image: ImageResolver,
    emit: Callable[[Change], None],
    on_progress: Callable[[int], None] | None = None,
    read_file: FileReader | None = None,
    image_size: ImageSize | None = None,
) -> Plan:
    differ = Differ(index)
    result = Plan()
    records_read = 0
    known_products = index.knows
    changed: dict[str, set[str]] = {"products_changed": set(), "offers_changed": set()}  # people count these

    group_parents: dict[str, set[str]] = {}

    def skip(reason: str, entity: str | None) -> None:
        """One record left out, named; the entity it would have changed stays as it was (listed,
        so no exchange's end deactivates it for this)."""
        if len(result.skipped) < SKIPPED_NAMED:
            result.skipped.append(reason)
        result.skipped_total += 1
        if entity and len(entity.encode()) <= MAX_ID_BYTES + 20:
            differ.keep(entity)

    def visit(record: Record) -> None:
        what = _WHAT.get(record.kind, record.kind)
        if len(record.id.encode()) > MAX_ID_BYTES:
            return skip(
                f"{filename}: {what} с Ид «{record.id[:60]}…»: Ид длиннее {MAX_ID_BYTES} байт — так "
                "длинно 1С Ид не формирует; проверьте выгрузку",
                None,
            )
        size = len(record.doc.encode())
        if size > MAX_RECORD_BYTES:
            return skip(
                f"{filename}: {what} {record.id}: {size // 1024} КБ данных — больше, чем помещается в "
                f"одну запись ({MAX_RECORD_BYTES // 1024} КБ); сократите описание или свойства",
                record.entity,
            )
        change = differ.visit(record)
        if change is not None:
            emit(change)
            if record.kind in (OFFER, OFFER_PRICES, OFFER_STOCK):
                changed["offers_changed"].add(record.id)
            elif record.kind in (PRODUCT, VARIANT):
                changed["products_changed"].add(record.id.partition("#")[0])

    for entity in read(stream, filename, known_properties=properties):
        if isinstance(entity, Product):
            for record in product_records(entity, resolve_image, read_file, image_size):
                visit(record)
        elif isinstance(entity, Offer):
            product_key = f"{PRODUCT}:{entity.product_id}"
            if not known_products(product_key) and product_key not in differ.seen:
                result.counts["offers_without_product"] += 1
            if entity.absent_prices:
                result.counts["prices_absent"] += entity.absent_prices
            for record in offer_records(entity):
                visit(record)
        elif isinstance(entity, Group | Category | Property | PriceType | Warehouse | Unit):
            if isinstance(entity, Group):
                group_parents.setdefault(entity.id, set()).add(entity.parent_id or "")
            visit(classifier_record(entity))
        elif isinstance(entity, RecordProblem):
            base = entity.id.partition("#")[0] if entity.id and entity.kind == PRODUCT else entity.id
            skip(entity.reason, f"{entity.kind}:{base}" if base else None)
            continue
        elif isinstance(entity, Order | DocumentProblem):
            raise CommerceMLError(
                "это документ заказов, а не каталог: загрузите его обменом заказами (type=sale)",
                filename=filename,
            )
        elif isinstance(entity, DocumentHeader):
            result.schema_version = entity.schema_version
            result.generated_at = entity.generated_at or ""
        elif isinstance(entity, DocumentEnd):
            result.only_changes = dict(entity.only_changes)
            result.full_kinds = _full_kinds(entity, filename)
            continue
        else:
            continue
        records_read += 1
        if on_progress and records_read % PROGRESS_EVERY == 0:
            on_progress(records_read)
    cycle = group_cycle(group_parents)
    if cycle:
        raise CommerceMLError(
            "группы вложены сами в себя: " + " → ".join(cycle) + "; исправьте иерархию групп в 1С",
            filename=filename,
        )
    result.counts.update(differ.counts)
    result.counts.update({name: len(ids) for name, ids in changed.items() if ids})
    result.counts["records"] = records_read
    result.seen = differ.seen
    result.repeated_puts = differ.repeated_puts
    return result


_WHAT = {PRODUCT: "товар", GROUP: "группа", OFFER: "предложение"}


def group_cycle(parents: dict[str, set[str]]) -> list[str] | None:
    """A chain of group ids that leads back to its start (child → parent), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def walk(group: str, path: list[str]) -> list[str] | None:
        state[group] = 1
        for parent in sorted(parents.get(group, ())):
            if state.get(parent) == 1:
                return [*path[path.index(parent) :], group, parent] if parent in path else [group, parent]
            if parent in parents and parent not in state:
                found = walk(parent, [*path, group])
                if found:
                    return found
        state[group] = 2
        return None

    for start in sorted(parents):
        if start not in state:
            found = walk(start, [])
            if found:
                return found
    return None


def _full_kinds(end: DocumentEnd, filename: str) -> list[str]:
    if is_split_part(filename):
        return []
    kinds = []
    if end.is_full("catalog") and end.has_products:
        kinds.append(PRODUCT)
        if end.counts.get("Group"):
            kinds.append(GROUP)
    elif end.is_full("classifier") and end.counts.get("Group"):
        kinds.append(GROUP)
    if end.is_full("offers") and end.has_offers:
        kinds.append(OFFER)
    return kinds
