"""Streaming CommerceML 2 reader (2.03-2.10): one pass, bounded memory, any namespace.

`read(stream, filename)` yields a DocumentHeader, Section starts, the entities (groups,
properties, price types, warehouses, units, products, offers, order documents) and a final
DocumentEnd. Records are parsed from their finished subtree and then dropped from the tree,
so memory does not grow with the number of products.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from lxml import etree

from chalicelib.commerceml.errors import CommerceMLError
from chalicelib.commerceml.model import (
    INFO,
    PRICES,
    STOCK,
    Address,
    Characteristic,
    Contractor,
    DocumentEnd,
    DocumentHeader,
    DocumentProblem,
    Entity,
    Group,
    Offer,
    Order,
    OrderLine,
    Price,
    PriceType,
    Product,
    Property,
    PropertyValue,
    Section,
    StockEntry,
    TaxRate,
    Unit,
    Warehouse,
)

ROOT = "КоммерческаяИнформация"
SECTIONS = {
    "Классификатор": "classifier",
    "Каталог": "catalog",
    "ПакетПредложений": "offers",
    "ИзмененияПакетаПредложений": "offers",
}
_WATCHED = (
    ROOT,
    *SECTIONS,
    "Контейнер",
    "Товары",
    "Предложения",
    "Группа",
    "Свойство",
    "СвойствоНоменклатуры",
    "ТипЦены",
    "Склады",  # not `Склад`: offers carry one per warehouse, and those are read with the offer
    "ЕдиницаИзмерения",
    "Товар",
    "Предложение",
    "Документ",
    "СодержитТолькоИзменения",
)
_TAGS = [f"{{*}}{name}" for name in _WATCHED]
_CONTAINERS = frozenset((ROOT, *SECTIONS, "Товары", "Предложения"))
_RECORDS = frozenset(("Товар", "Предложение", "Документ"))
_EMPTY_REF = "00000000-0000-0000-0000-000000000000"
_TRUE = {"true", "1", "да", "yes"}
_NO_PARTS: frozenset[str] = frozenset()


class _LocalNames(dict[Any, str]):
    """Tag -> local name, namespace dropped. lxml builds a new tag string on every access; the
    lookup in this dict stays in C (tags repeat millions of times)."""

    def __missing__(self, tag: Any) -> str:
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        self[tag] = name
        return name


local = _LocalNames().__getitem__


def text(el: Any) -> str:
    return (el.text or "").strip() if el is not None else ""


def optional(value: str | None) -> str | None:
    """Stripped text, None when absent or blank."""
    return (value.strip() or None) if value else None


_DIMENSIONS = {"Длина": "length", "Ширина": "width", "Высота": "height"}


def as_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


# Prices, quantities and stock beyond these are data errors, and DynamoDB and JSON readers
# could not hold them anyway.
MAX_MAGNITUDE = Decimal("1e15")
MIN_MAGNITUDE = Decimal("1e-9")


def as_decimal(value: str | None, what: str) -> Decimal:
    try:
        number = Decimal(value)  # the usual case: "231.7400"
    except (InvalidOperation, TypeError):
        cleaned = (value or "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"{what}: «{value}» не является числом") from None
    if not number.is_finite():
        raise ValueError(f"{what}: «{value}» не является числом")
    if number and not MIN_MAGNITUDE <= abs(number) <= MAX_MAGNITUDE:
        raise ValueError(f"{what}: «{value[:40] if value else value}» вне допустимого диапазона (до 10^15)")
    return number


def children(el: Any) -> list[tuple[str, Any]]:
    return [(local(c.tag), c) for c in el if isinstance(c.tag, str)]


def child(el: Any, name: str) -> Any:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def child_text(el: Any, name: str) -> str:
    return text(child(el, name))


def texts(el: Any) -> dict[str, str]:
    """Stripped text of each child, by local name (one pass over a small record).

    Comments and processing instructions are removed by the parser and DTDs are refused, so
    every child is an element."""
    return {local(c.tag): (c.text or "").strip() for c in el}


def raw_texts(el: Any) -> dict[str, str | None]:
    """Unstripped text of each child, by local name (for values that are stripped or parsed later)."""
    return {local(c.tag): c.text for c in el}


class _TrackedStream(io.RawIOBase):
    """Remembers whether the underlying stream reached its end (to tell truncation apart)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.at_eof = False
        self.bytes_read = 0
        self.lines = 1

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if not data:
            self.at_eof = True
        self.bytes_read += len(data)
        self.lines += data.count(b"\n")
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class ChainedStream(io.RawIOBase):
    """Reads several byte streams (the chunks of one upload) as one."""

    def __init__(self, streams: Iterable[IO[bytes]]) -> None:
        self.streams = iter(streams)
        self.current: IO[bytes] | None = next(self.streams, None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.current is not None:
            data = self.current.read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            close = getattr(self.current, "close", None)
            if close:
                close()
            self.current = next(self.streams, None)
        return 0


class _Reader:
    def __init__(self, stream: IO[bytes], filename: str, known_properties: Mapping[str, Property]) -> None:
        self.stream = _TrackedStream(stream)
        self.filename = filename
        self.properties: dict[str, Property] = {}
        self.known_properties = known_properties
        self.path: list[str] = []
        self.only_changes: dict[str, bool | None] = {}
        self.has_products = False
        self.has_offers = False
        self.counts: dict[str, int] = {}
        self.saw_root = False

    # -- errors -------------------------------------------------------------------------------
    def error(self, reason: str, line: int | None = None, record: Any = None) -> CommerceMLError:
        path = "/".join(self.path)
        if record is not None:
            record_id = child_text(record, "Ид")
            if record_id:
                path += f"[Ид={record_id}]"
        return CommerceMLError(reason, filename=self.filename, line=line, path=path or None)

    def syntax_error(self, exc: etree.XMLSyntaxError) -> CommerceMLError:
        line = exc.lineno or None
        message = (exc.msg or str(exc)).strip()
        lowered = message.lower()
        if "document is empty" in lowered or (self.stream.bytes_read == 0):
            return self.error("файл пустой: 1С не передала данные или загрузка прервалась")
        if not self.saw_root and ("start tag expected" in lowered or "not proper" in lowered):
            return self.error("это не XML-файл CommerceML (нет корневого элемента)", line)
        at_last_line = line is not None and line >= self.stream.lines
        if self.stream.at_eof and (at_last_line or "premature end" in lowered or "end of data" in lowered):
            return self.error(
                "файл обрывается на середине: загрузка была прервана, выгрузите его из 1С ещё раз",
                line,
            )
        if "entity" in lowered or "dtd" in lowered:
            return self.error(f"сущности и DTD в файлах обмена запрещены ({message})", line)
        return self.error(f"ошибка разметки XML: {message}", line)

    # -- driver -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Entity]:
        context = etree.iterparse(
            self.stream,
            events=("start", "end"),
            tag=_TAGS,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            for event, el in context:
                name = local(el.tag)
                if event == "start":
                    entity = self.start(name, el)
                    self.path.append(name)
                else:
                    entity = self.end(name, el)
                    self.path.pop()
                if entity is None:
                    continue
                for one in entity if isinstance(entity, list) else (entity,):
                    self.counts[type(one).__name__] = self.counts.get(type(one).__name__, 0) + 1
                    yield one
        except etree.XMLSyntaxError as exc:
            raise self.syntax_error(exc) from None
        if not self.saw_root:
            raise self.error("в файле нет элемента КоммерческаяИнформация: это не файл обмена CommerceML")
        yield DocumentEnd(
            only_changes=self.only_changes,
            has_products=self.has_products,
            has_offers=self.has_offers,
            counts=dict(self.counts),
        )

    def start(self, name: str, el: Any) -> Entity | None:
        if not self.saw_root:
            if name == ROOT:
                return self.header(el)
            raise self.error(f"корневой элемент должен быть {ROOT}, а не {name}", el.sourceline)
        if name not in _CONTAINERS:  # records are read at their end
            return None
        parent = local(el.getparent().tag) if el.getparent() is not None else ""
        if name in SECTIONS and parent in (ROOT, "Контейнер"):
            kind = SECTIONS[name]
            flag = el.get("СодержитТолькоИзменения")
            only = True if name == "ИзмененияПакетаПредложений" else (as_bool(flag) if flag else None)
            if only is not None or kind not in self.only_changes:
                self.only_changes[kind] = only
            return Section(kind=kind, only_changes=only)
        if name == "Товары" and parent == "Каталог":
            self.has_products = True
        elif name == "Предложения" and parent in ("ПакетПредложений", "ИзмененияПакетаПредложений"):
            self.has_offers = True
        return None

    def header(self, el: Any) -> DocumentHeader:
        self.saw_root = True
        docinfo = el.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise self.error("в файле есть DOCTYPE: DTD и внешние сущности запрещены", el.sourceline)
        version = (el.get("ВерсияСхемы") or "").strip()
        namespace = etree.QName(el).namespace or ""
        if version.startswith("3") or "commerceml_3" in namespace:
            raise self.error(
                f"неподдерживаемая версия схемы {version or namespace}: "
                "поддерживается CommerceML 2.03-2.10, выберите её в настройках обмена 1С",
                el.sourceline,
            )
        return DocumentHeader(
            schema_version=version or "2",
            generated_at=el.get("ДатаФормирования"),
            filename=self.filename,
        )

    def end(self, name: str, el: Any) -> Entity | list[Warehouse] | None:
        if len(self.path) > 1 and self.path[-2] in _RECORDS:  # a part of a record, read with it
            return None
        parent_el = el.getparent()
        if parent_el is None:
            return None
        parent = local(parent_el.tag)
        grand_el = parent_el.getparent()
        grand = local(grand_el.tag) if grand_el is not None else ""
        build = None
        if name == "Товар" and parent == "Товары" and grand == "Каталог":
            build = self.product
        elif name == "Предложение" and parent == "Предложения":
            build = self.offer
        elif name == "Группа" and parent == "Группы" and grand in ("Классификатор", "Группа"):
            build = self.group
        elif name in ("Свойство", "СвойствоНоменклатуры") and parent.startswith("Свойства"):
            if grand in ("Классификатор", "ПакетПредложений", "ИзмененияПакетаПредложений"):
                build = self.property
        elif name == "ТипЦены" and parent == "ТипыЦен":
            build = self.price_type
        elif name == "Склады" and parent in SECTIONS:
            build = self.warehouses
        elif name == "ЕдиницаИзмерения" and parent == "ЕдиницыИзмерения":
            build = self.unit
        elif name == "Документ" and parent in (ROOT, "Контейнер"):
            build = self.order
        elif name == "СодержитТолькоИзменения" and parent in SECTIONS:
            self.only_changes[SECTIONS[parent]] = as_bool(text(el))
            return None
        if build is None:
            return None
        try:
            entity = build(el)
        except (CommerceMLError, ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            error = exc if isinstance(exc, CommerceMLError) else self.error(str(exc), el.sourceline, el)
            if build != self.order:
                raise error from None
            # One bad order document is reported; the others in the file still apply.
            entity = DocumentProblem(str(error), child_text(el, "Ид"), child_text(el, "Номер"))
        el.clear(keep_tail=False)
        parent_el.remove(el)
        return entity

    # -- records ------------------------------------------------------------------------------
    def require_id(self, el: Any) -> str:
        record_id = child_text(el, "Ид")
        if not record_id:
            raise self.error(f"у элемента {local(el.tag)} нет Ид", el.sourceline)
        return record_id

    def group(self, el: Any) -> Group:
        parent = el.getparent().getparent()
        parent_id = child_text(parent, "Ид") if local(parent.tag) == "Группа" else None
        return Group(
            id=self.require_id(el),
            name=child_text(el, "Наименование"),
            parent_id=parent_id or None,
            deleted=as_bool(child_text(el, "ПометкаУдаления")),
        )

    def property(self, el: Any) -> Property:
        prop = Property(id=self.require_id(el), name="")
        for name, c in children(el):
            if name == "Наименование":
                prop.name = text(c)
            elif name == "ТипЗначений":
                prop.value_type = text(c) or None
            elif name == "ВариантыЗначений":
                for _, variant in children(c):
                    value_id = child_text(variant, "ИдЗначения")
                    if value_id:
                        prop.values[value_id] = child_text(variant, "Значение")
            elif name == "ДляТоваров":
                prop.for_products = as_bool(text(c))
            elif name == "ДляПредложений":
                prop.for_offers = as_bool(text(c))
            elif name == "Множественное":
                prop.multiple = as_bool(text(c))
            elif name == "ПометкаУдаления":
                prop.deleted = as_bool(text(c))
        self.properties[prop.id] = prop
        return prop

    def price_type(self, el: Any) -> PriceType:
        tax = child(el, "Налог")
        included = child_text(tax, "УчтеноВСумме") if tax is not None else ""
        return PriceType(
            id=self.require_id(el),
            name=child_text(el, "Наименование"),
            currency=child_text(el, "Валюта") or None,
            tax_name=child_text(tax, "Наименование") or None if tax is not None else None,
            tax_included=as_bool(included) if included else None,
        )

    def warehouses(self, el: Any) -> list[Warehouse]:
        return [self.warehouse(w) for w in el if local(w.tag) == "Склад"]

    def warehouse(self, el: Any) -> Warehouse:
        return Warehouse(
            id=self.require_id(el),
            name=child_text(el, "Наименование"),
            deleted=as_bool(child_text(el, "ПометкаУдаления")),
        )

    def unit(self, el: Any) -> Unit:
        code = child_text(el, "Код")
        return Unit(
            id=child_text(el, "Ид") or code,
            code=code or None,
            short_name=child_text(el, "НаименованиеКраткое") or None,
            full_name=child_text(el, "НаименованиеПолное") or None,
            international=child_text(el, "МеждународноеСокращение") or None,
        )

    def base_unit(self, el: Any) -> Unit | None:
        code = (el.get("Код") or "").strip()
        short = text(el)
        recalc = child(el, "Пересчет")
        if recalc is not None and not code:
            code = child_text(recalc, "Единица")
        if not code and not short:
            return None
        if short == code:
            short = ""
        return Unit(
            id=code or short,
            code=code or None,
            short_name=short or None,
            full_name=(el.get("НаименованиеПолное") or "").strip() or None,
            international=(el.get("МеждународноеСокращение") or "").strip() or None,
        )

    def characteristics(self, el: Any) -> list[Characteristic]:
        result = []
        for c in el:
            t = texts(c)
            result.append(
                Characteristic(t.get("Наименование", ""), t.get("Значение", ""), t.get("Ид") or None)
            )
        return result

    def property_values(self, el: Any) -> list[PropertyValue]:
        values = []
        for _, pv in children(el):
            prop_id = child_text(pv, "Ид")
            prop = self.properties.get(prop_id) or self.known_properties.get(prop_id)
            for name, v in children(pv):
                raw = text(v)
                if name != "Значение" or not raw or raw == _EMPTY_REF:
                    continue
                resolved = prop.values.get(raw, raw) if prop else raw
                values.append(
                    PropertyValue(id=prop_id, value=resolved, raw=raw, name=prop.name if prop else None)
                )
        return values

    def requisites(self, el: Any) -> dict[str, str]:
        result = {}
        for r in el:
            t = texts(r)
            if t.get("Наименование"):
                result[t["Наименование"]] = t.get("Значение", "")
        return result

    def product_requisites(self, p: Product, items: list[Any]) -> None:
        """`ЗначениеРеквизита` entries (wrapped or not); file descriptions, an HTML description
        and its file are the product's, not requisites (CLIENTS.md §12)."""
        for r in items:
            t = texts(r)
            name, value = t.get("Наименование"), t.get("Значение", "")
            if not name:
                continue
            if name == "ОписаниеФайла":
                path, _, caption = value.partition("#")
                if path.strip() and caption.strip():
                    p.image_captions[path.strip().replace("\\", "/")] = caption.strip()
            elif name == "ОписаниеВФорматеHTML":
                p.description_html = html.unescape(value).strip() or p.description_html
            elif name == "Файл" and value.strip().lower().endswith((".html", ".htm")):
                p.description_file = value.strip().replace("\\", "/")
            else:
                p.requisites[name] = value

    def product(self, el: Any) -> Product:
        p = Product(id=self.require_id(el), name="")
        status = el.get("Статус")
        if status:
            p.status = status.strip()
        for c in el:
            name = local(c.tag)
            if name == "Наименование":
                p.name = text(c)
            elif name == "Артикул":
                p.sku = text(c) or None
            elif name in ("Штрихкод", "ШтрихКод"):
                if text(c):
                    p.barcodes.append(text(c))
            elif name == "Описание":
                p.description = text(c) or None
            elif name == "БазоваяЕдиница":
                p.unit = self.base_unit(c)
            elif name == "Группы":
                p.group_ids = [text(g) for _, g in children(c) if text(g)]
            elif name == "Картинка":
                if text(c):
                    p.images.append(text(c))
            elif name == "Изготовитель":
                p.manufacturer = child_text(c, "Наименование") or None
            elif name == "ЗначенияСвойств":
                p.properties = self.property_values(c)
            elif name == "ЗначенияРеквизитов":
                self.product_requisites(p, list(c))
            elif name == "ЗначениеРеквизита":  # some files leave out the wrapper
                self.product_requisites(p, [c])
            elif name == "ОписаниеВФорматеHTML":
                p.description_html = html.unescape(text(c)).strip() or None
            elif name in _DIMENSIONS:
                if text(c):
                    p.dimensions[_DIMENSIONS[name]] = as_decimal(text(c), name)
            elif name == "Вес":
                p.weight = as_decimal(text(c), "Вес") if text(c) else None
            elif name == "СтавкиНалогов":
                p.taxes = [
                    TaxRate(child_text(t, "Наименование"), child_text(t, "Ставка")) for _, t in children(c)
                ]
            elif name == "ХарактеристикиТовара":
                p.characteristics = self.characteristics(c)
            elif name == "ПометкаУдаления":
                p.deletion_mark = as_bool(text(c))
            elif name == "НомерВерсии":
                p.version = text(c) or None
            elif name == "Статус":
                p.status = text(c) or p.status
        return p

    def offer(self, el: Any) -> Offer:
        o = Offer(id="", parts=_NO_PARTS)
        parts: set[str] = set()
        status = el.get("Статус")
        if status:
            o.status = status.strip()
        for c in el:  # the most frequent children first: this loop runs for every offer
            name = local(c.tag)
            if name == "Цены":
                o.prices = [self.price(p) for p in c]
                parts.add(PRICES)
            elif name == "Склад":
                warehouse_id = (c.get("ИдСклада") or "").strip()
                if warehouse_id:
                    o.stock.append(
                        StockEntry(
                            warehouse_id, as_decimal(c.get("КоличествоНаСкладе"), "КоличествоНаСкладе")
                        )
                    )
                parts.add(STOCK)
            elif name == "Ид":
                o.id = text(c)
            elif name == "Наименование":
                o.name = text(c)
                parts.add(INFO)
            elif name == "Количество":
                o.quantity = as_decimal(c.text, "Количество")
                parts.add(STOCK)
            elif name == "Артикул":
                o.sku = text(c) or None
            elif name in ("Штрихкод", "ШтрихКод"):
                if barcode := text(c):
                    o.barcodes.append(barcode)
            elif name == "БазоваяЕдиница":
                o.unit = self.base_unit(c)
            elif name == "ХарактеристикиТовара":
                o.characteristics = self.characteristics(c)
                parts.add(INFO)
            elif name == "ЗначенияСвойств":
                o.properties = self.property_values(c)
            elif name == "Остатки":
                self.rests(c, o)
                parts.add(STOCK)
            elif name == "ПометкаУдаления":
                o.deletion_mark = as_bool(c.text)
            elif name == "НомерВерсии":
                o.version = text(c) or None
            elif name == "Статус":
                o.status = text(c) or o.status
        if not o.id:
            raise self.error("у элемента Предложение нет Ид", el.sourceline)
        o.parts = frozenset(parts)
        return o

    def rests(self, el: Any, offer: Offer) -> None:
        for _, rest in children(el):
            for name, c in children(rest):
                if name == "Склад":
                    offer.stock.append(
                        StockEntry(self.require_id(c), as_decimal(child_text(c, "Количество"), "Количество"))
                    )
                elif name == "Количество":
                    offer.quantity = as_decimal(text(c), "Количество")

    def price(self, el: Any) -> Price:
        t = raw_texts(el)
        coefficient = optional(t.get("Коэффициент"))
        return Price(
            price_type_id=(t.get("ИдТипаЦены") or "").strip(),
            value=as_decimal(t.get("ЦенаЗаЕдиницу"), "ЦенаЗаЕдиницу"),
            currency=optional(t.get("Валюта")),
            unit=optional(t.get("Единица")),
            coefficient=(as_decimal(coefficient, "Коэффициент") or Decimal(1)) if coefficient else None,
            presentation=optional(t.get("Представление")),
        )

    # -- orders -------------------------------------------------------------------------------
    def order(self, el: Any) -> Order:
        amount = child_text(el, "Сумма")
        rate = child_text(el, "Курс")
        order = Order(
            id=child_text(el, "Ид"),
            number=child_text(el, "Номер"),
            date=child_text(el, "Дата"),
            amount=as_decimal(amount, "Сумма") if amount else Decimal(0),
        )
        if not order.id and not order.number:
            raise self.error("у документа нет ни Ид, ни Номер", el.sourceline)
        order.rate = as_decimal(rate, "Курс") if rate else Decimal(1)
        for name, c in children(el):
            value = text(c)
            if name == "Время":
                order.time = value or None
            elif name == "Валюта":
                order.currency = value or order.currency
            elif name == "ХозОперация":
                order.operation = value
            elif name == "Роль":
                order.role = value
            elif name == "Комментарий":
                order.comment = value or None
            elif name == "Номер1С":
                order.number_1c = value or None
            elif name == "Дата1С":
                order.date_1c = value or None
            elif name == "ПометкаУдаления":
                order.deletion_mark = as_bool(value)
            elif name == "НомерВерсии":
                order.version = value or None
            elif name == "Контрагенты":
                order.contractors = [self.contractor(k) for _, k in children(c)]
            elif name == "Товары":
                order.lines = [self.order_line(t) for _, t in children(c)]
            elif name == "ЗначенияРеквизитов":
                order.requisites = self.requisites(c)
            elif name == "Склады":
                order.warehouses = [self.warehouse(w) for _, w in children(c)]
        return order

    def contractor(self, el: Any) -> Contractor:
        k = Contractor(id=child_text(el, "Ид"), name=child_text(el, "Наименование"))
        for name, c in children(el):
            value = text(c)
            if name == "Роль":
                k.role = value
            elif name in ("ПолноеНаименование", "ОфициальноеНаименование"):
                k.full_name = k.full_name or value or None
            elif name == "Фамилия":
                k.last_name = value or None
            elif name == "Имя":
                k.first_name = value or None
            elif name == "ИНН":
                k.inn = value or None
            elif name == "КПП":
                k.kpp = value or None
            elif name in ("АдресРегистрации", "Адрес", "ЮридическийАдрес"):
                k.address = k.address or self.address(c)
            elif name == "Контакты":
                for _, contact in children(c):
                    kind = child_text(contact, "Тип") or child_text(contact, "КонтактВид")
                    if kind:
                        k.contacts[kind] = child_text(contact, "Значение")
            elif name == "Представители":
                for _, rep in children(c):
                    inner = child(rep, "Контрагент")
                    k.contact_person = child_text(inner if inner is not None else rep, "Наименование")
        return k

    def address(self, el: Any) -> Address:
        fields = {}
        for name, c in children(el):
            if name == "АдресноеПоле":
                fields[child_text(c, "Тип")] = child_text(c, "Значение")
        return Address(presentation=child_text(el, "Представление"), fields=fields)

    def order_line(self, el: Any) -> OrderLine:
        requisites = (
            self.requisites(child(el, "ЗначенияРеквизитов"))
            if child(el, "ЗначенияРеквизитов") is not None
            else {}
        )
        unit_el = child(el, "БазоваяЕдиница")
        unit_block = child(el, "Единица")
        unit_name, unit_code = None, None
        if unit_el is not None:
            unit_name, unit_code = text(unit_el) or None, (unit_el.get("Код") or "").strip() or None
        elif unit_block is not None:
            unit_name = child_text(unit_block, "НаименованиеКраткое") or None
            unit_code = child_text(unit_block, "Код") or None
        price = child_text(el, "ЦенаЗаЕдиницу") or child_text(el, "Цена")
        quantity = as_decimal(child_text(el, "Количество") or "0", "Количество")
        unit_price = as_decimal(price or "0", "ЦенаЗаЕдиницу")
        amount = child_text(el, "Сумма")
        return OrderLine(
            id=child_text(el, "Ид"),
            name=child_text(el, "Наименование"),
            quantity=quantity,
            unit_price=unit_price,
            amount=as_decimal(amount, "Сумма") if amount else quantity * unit_price,
            unit=unit_name,
            unit_code=unit_code,
            kind=requisites.get("ТипНоменклатуры", "Товар"),
            catalog_id=child_text(el, "ИдКаталога") or None,
            requisites=requisites,
        )


def read(
    stream: IO[bytes], filename: str = "<stream>", known_properties: Mapping[str, Property] | None = None
) -> Iterator[Entity]:
    """Stream the entities of one CommerceML document. Raises CommerceMLError on bad input.

    `known_properties` (from earlier files of the same exchange) resolve reference values of
    products whose classifier came in a separate file.
    """
    return iter(_Reader(stream, filename, known_properties or {}))
