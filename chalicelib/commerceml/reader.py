"""Streaming CommerceML reader (2.03-2.10 and 3.1): one pass, bounded memory, any namespace.

`read(stream, filename)` yields a DocumentHeader, Section starts, the entities (groups,
properties, price types, warehouses, units, products, offers, order documents) and a final
DocumentEnd. Records are parsed from their finished subtree and then dropped from the tree,
so memory does not grow with the number of products.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from lxml import etree

from chalicelib.commerceml.documents import OrderDocuments
from chalicelib.commerceml.elements import CatalogElements
from chalicelib.commerceml.errors import CommerceMLError
from chalicelib.commerceml.model import (
    DocumentEnd,
    DocumentHeader,
    DocumentProblem,
    Entity,
    Order,
    Property,
    RecordProblem,
    Section,
    Warehouse,
)
from chalicelib.commerceml.xml import (
    TrackedStream,
    as_bool,
    child_text,
    local,
    text,
)

ROOT = "КоммерческаяИнформация"
# What the 1C-Bitrix add-on sends after `version=3.1` (docs/protocol.md §9).
CML3_VERSIONS = ("3", "3.0", "3.1")
SECTIONS = {
    "Классификатор": "classifier",
    "Каталог": "catalog",
    "ПакетПредложений": "offers",
    "ИзмененияПакетаПредложений": "offers",
}
# The records one bad field skips (never the file), by the kind they are stored as.
RECORD_KINDS = {
    "Товар": "product",
    "Предложение": "offer",
    "Группа": "group",
    "Категория": "category",
    "Свойство": "property",
    "СвойствоНоменклатуры": "property",
    "ТипЦены": "price_type",
    "ЕдиницаИзмерения": "unit",
}
_WATCHED = (
    ROOT,
    *SECTIONS,
    "Контейнер",
    "Товары",
    "Предложения",
    "Группа",
    "Категория",
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


_LIBXML_WORDS = {
    "text node too long": "текст одного элемента длиннее 10 МБ: так 1С не выгружает, проверьте выгрузку",
    "invalid xmlchar value": "в тексте недопустимый управляющий символ (XML его не допускает): исправьте текст в 1С",
    "invalid bytes in character encoding": (
        "байты не в той кодировке, что объявлена в заголовке XML (encoding=…): файл повреждён "
        "или перекодирован по пути, выгрузите его из 1С ещё раз"
    ),
    "unsupported encoding": "неизвестная кодировка в заголовке XML: 1С выгружает в UTF-8 или windows-1251",
}


class _Reader:
    def __init__(self, stream: IO[bytes], filename: str, known_properties: Mapping[str, Property]) -> None:
        self.stream = TrackedStream(stream)
        self.filename = filename
        self.properties: dict[str, Property] = {}
        self.known_properties = known_properties
        self.path: list[str] = []
        self.only_changes: dict[str, bool | None] = {}
        self.has_products = False
        self.has_offers = False
        self.counts: dict[str, int] = {}
        self.saw_root = False
        self.packages = 0  # `Контейнер` elements begun so far
        self.cml3 = False
        self.elements = CatalogElements(self)
        self.documents = OrderDocuments(self, self.elements)

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
        for known, words in _LIBXML_WORDS.items():  # libxml2's English, in words a consultant reads
            if known in lowered:
                return self.error(words, line)
        if "excessive depth" in lowered:  # libxml2's guard, kept on (huge_tree=False)
            return self.error(
                "элементы вложены глубже 256 уровней (группы — глубже ~120): так 1С не выгружает, "
                "проверьте дерево групп в выгрузке",
                line,
            )
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
                entity: Entity | list[Warehouse] | None
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
        if name == "Контейнер":
            self.packages += 1  # the documents of one 2.10 package belong together
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
        # the namespace as written (lxml's QName refuses one holding "}", which XML allows)
        namespace = el.tag[1:].rpartition("}")[0] if el.tag.startswith("{") else ""
        if version[:1] not in ("", "2", "3") or (version.startswith("3") and version not in CML3_VERSIONS):
            raise self.error(
                f"неподдерживаемая версия схемы {version}: поддерживаются CommerceML 2.03-2.10 и 3.1, "
                "выберите одну из них в настройках обмена 1С",
                el.sourceline,
            )
        self.cml3 = version.startswith("3") or "commerceml_3" in namespace
        return DocumentHeader(
            schema_version=version or ("3" if self.cml3 else "2"),
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
        build: Callable[[Any], Entity | list[Warehouse]] | None = None
        if name == "Товар" and parent == "Товары" and grand == "Каталог":
            build = self.elements.product
        elif name == "Предложение" and parent == "Предложения":
            build = self.elements.offer
        elif name == "Группа" and parent == "Группы" and grand in ("Классификатор", "Группа"):
            build = self.elements.group
        elif name == "Категория" and parent == "Категории" and grand == "Классификатор":
            build = self.elements.category
        elif name in ("Свойство", "СвойствоНоменклатуры") and parent.startswith("Свойства"):
            if grand in ("Классификатор", "ПакетПредложений", "ИзмененияПакетаПредложений"):
                build = self.elements.property
        elif name == "ТипЦены" and parent == "ТипыЦен":
            build = self.elements.price_type
        elif name == "Склады" and parent in SECTIONS:
            build = self.elements.warehouses
        elif name == "ЕдиницаИзмерения" and parent == "ЕдиницыИзмерения":
            build = self.elements.unit
        elif name == "Документ" and parent in (ROOT, "Контейнер"):
            build = self.documents.order
        elif name == "СодержитТолькоИзменения" and parent in SECTIONS:
            self.only_changes[SECTIONS[parent]] = as_bool(text(el))
            return None
        if build is None:
            return None
        entity: Entity | list[Warehouse]
        try:
            entity = build(el)
        except (CommerceMLError, ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            error = exc if isinstance(exc, CommerceMLError) else self.error(str(exc), el.sourceline, el)
            if name == "Документ":  # one bad order document is reported; the others still apply
                entity = DocumentProblem(str(error), child_text(el, "Ид"), child_text(el, "Номер"))
            elif name in RECORD_KINDS:  # one bad record is skipped and named; the others apply
                entity = RecordProblem(str(error), RECORD_KINDS[name], child_text(el, "Ид") or None)
            else:
                raise error from None
        if isinstance(entity, Order) and parent == "Контейнер":
            entity.container = self.packages  # documents of one package share it
        el.clear(keep_tail=False)
        parent_el.remove(el)
        return entity


def read(
    stream: IO[bytes], filename: str = "<stream>", known_properties: Mapping[str, Property] | None = None
) -> Iterator[Entity]:
    """Stream the entities of one CommerceML document. Raises CommerceMLError on bad input.

    `known_properties` (from earlier files of the same exchange) resolve reference values of
    products whose classifier came in a separate file.
    """
    return iter(_Reader(stream, filename, known_properties or {}))
