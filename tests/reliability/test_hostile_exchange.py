"""Hostile input at the 1C exchange URL: every case gets a protocol answer (HTTP 200, plain text,
a keyword and a reason), never a crash, and the catalog imported before stays exactly as it was.

Each case is a function of the module's stack returning the final reply and the keyword it must
be. Cases run against one baseline catalog (tests/reliability/conftest.py)."""

from __future__ import annotations

import base64
import re
import zipfile
from collections.abc import Callable

import pytest

from tests.onec import OneC, Reply
from tests.reliability import cml
from tests.reliability.conftest import basic

Case = Callable[[object], tuple[Reply, str]]
CASES: dict[str, Case] = {}


def case(name: str, expect: str):
    """`expect` is `success`, or `failure:<pattern>` — the reason the answer must give."""

    def register(build: Callable[[object], Reply]) -> Callable[[object], Reply]:
        CASES[name] = lambda stack: (build(stack), expect)
        return build

    return register


NO_CREDENTIALS = "failure:не переданы логин и пароль"
WRONG_LOGIN = "failure:неверный логин или пароль"
NO_SESSION = "failure:сессия обмена не найдена или истекла"


def session(stack, kind: str = "catalog", login: str = "demo") -> OneC:
    onec = stack.onec(login, login)
    assert onec.checkauth(kind).keyword == "success"
    onec.init(kind, version="2.08")
    return onec


def raw(stack, query: str, headers: dict | None = None, body: bytes = b"", method: str = "GET") -> Reply:
    response = stack.client.http.request(method, f"/1c_exchange?{query}", headers=headers or {}, body=body)
    text = response.body.decode("utf-8") if isinstance(response.body, bytes) else response.body
    return Reply(response.status_code, text, dict(response.headers))


def send(stack, filename: str, data: bytes, kind: str = "catalog") -> Reply:
    """One whole 1C session for a file; the last reply (a refused chunk or the import's end)."""
    onec = session(stack, kind)
    for reply in onec.upload(kind, filename, data):
        if reply.keyword != "success":
            return reply
    return onec.import_file(filename, kind)


# -- login and sessions --------------------------------------------------------------------------
for name, (header, expect) in {
    "auth: no Authorization header": (None, NO_CREDENTIALS),
    "auth: garbled base64": ("Basic !!!notbase64!!!", NO_CREDENTIALS),
    "auth: Basic with no value": ("Basic ", NO_CREDENTIALS),
    "auth: Bearer scheme": ("Bearer abc.def", NO_CREDENTIALS),
    "auth: no colon in credentials": ("Basic " + base64.b64encode(b"demodemo").decode(), NO_CREDENTIALS),
    "auth: unknown login": (basic("nobody", "x"), WRONG_LOGIN),
    "auth: empty login": (basic("", "demo"), WRONG_LOGIN),
    "auth: 10k-character login": (basic("x" * 10_000, "x"), WRONG_LOGIN),
    "auth: NUL in login": (basic("de\x00mo", "demo"), WRONG_LOGIN),
    "auth: another tenant's password": (basic("demo", "other"), WRONG_LOGIN),
    "auth: binary garbage after Basic": (
        "Basic " + base64.b64encode(b"\xff\xfe\x00:\x80").decode(),
        WRONG_LOGIN,
    ),
}.items():
    CASES[name] = lambda stack, header=header, expect=expect: (
        raw(stack, "type=catalog&mode=checkauth", {"Authorization": header} if header else {}),
        expect,
    )


@case("session: no cookie, no sessid, no auth", NO_SESSION)
def _(stack):
    return raw(stack, "type=catalog&mode=init")


@case("session: forged token for a real tenant", NO_SESSION)
def _(stack):
    return raw(stack, "type=catalog&mode=init", {"Cookie": "CMLBRIDGE=demo.0000deadbeef"})


@case("session: another tenant's cookie with this tenant's name", NO_SESSION)
def _(stack):
    other = stack.onec("other", "other")
    other.checkauth()
    token = other.cookie.split("=", 1)[1].split(".", 1)[1]
    return raw(stack, "type=catalog&mode=init", {"Cookie": f"CMLBRIDGE=demo.{token}"})


@case(
    "session: another tenant's sessid used to import this tenant's file",
    "failure:не был загружен в этом сеансе",
)
def _(stack):
    other = stack.onec("other", "other")
    other.checkauth()
    return raw(stack, f"type=catalog&mode=import&filename=import0_1.xml&{other.sessid}")


@case("session: used after mode=complete", "failure:сеанс обмена уже завершён")
def _(stack):
    onec = session(stack)
    assert onec.call("catalog", "complete").keyword == "success"
    return onec.call("catalog", "init")


@case("session: cookie value without a dot", NO_SESSION)
def _(stack):
    return raw(stack, "type=catalog&mode=init", {"Cookie": "CMLBRIDGE=nodot"})


@case("session: Basic-only call with a wrong password", WRONG_LOGIN)
def _(stack):
    return raw(stack, "type=catalog&mode=init", {"Authorization": basic("demo", "guess")})


@case("session: Basic-only call never joins the session another client opened", "success")
def _(stack):
    onec = session(stack)
    reply = raw(stack, "type=catalog&mode=init", {"Authorization": basic("demo", "demo")})
    from chalicelib import wiring

    recent = wiring.container().exchange_store.latest_sessions("demo", limit=5)
    opened = onec.cookie.split(".", 1)[1]
    assert all(s["token"] != opened or int(s.get("init_count", 0)) == 1 for s in recent)
    return Reply(reply.status, "success\n" if reply.text.startswith("zip=") else reply.text, reply.headers)


# -- malformed parameters -------------------------------------------------------------------------
for name, query in {
    "params: unknown type": "type=evil&mode=init",
    "params: no type at all": "mode=checkauth",
}.items():
    CASES[name] = lambda stack, query=query: (raw(stack, query), "failure:неизвестный тип обмена")

for name, mode in {  # inside a session, so the mode is what is refused
    "params: unknown mode": "drop_table",
    "params: empty mode": "",
    "params: unicode mode": "импорт",
}.items():
    CASES[name] = lambda stack, mode=mode: (
        session(stack).call("catalog", mode),
        "failure:неизвестный режим mode=",
    )

for value in ("²", "-1", "1e9", "abc", "١٢٣", "12345678901234567890", "%20", "0x10"):
    CASES[f"params: deactivate timestamp={value!r}"] = lambda stack, value=value: (
        session(stack).call("catalog", "deactivate", timestamp=value),
        "failure:не число секунд из ответа на checkauth",
    )


@case("params: file without a filename", "failure:не указано имя файла")
def _(stack):
    return session(stack).call("catalog", "file", b"<x/>")


@case("params: import of a file never sent", "failure:файл never.xml не был загружен")
def _(stack):
    return session(stack).call("catalog", "import", filename="never.xml")


@case("params: import without a filename", "failure:не указано имя файла")
def _(stack):
    return session(stack).call("catalog", "import")


# -- filenames ------------------------------------------------------------------------------------
TRAVERSAL, CONTROL = "недопустимое имя файла", "управляющие символы в имени файла"
CHARACTERS, SCRIPT = "недопустимые символы в имени файла", "файлы такого типа не принимаются"
for bad, reason in (
    ("../../etc/passwd", TRAVERSAL),
    ("import_files/../../x.jpg", TRAVERSAL),
    ("..", TRAVERSAL),
    ("import\n.xml", CONTROL),
    ("import.xml\n", CONTROL),
    ("a\x00.xml", CONTROL),
    ("a\r.xml", CONTROL),
    ("tab\there.xml", CONTROL),
    ("\u202eimport.xml", CONTROL),
    ("x" * 300 + ".xml", "часть имени файла длиннее 255"),
    ("y" * 2000, "имя файла длиннее 1024"),
    ("shell.php", SCRIPT),
    ("shell.PHP", SCRIPT),
    ("x.phtml", SCRIPT),
    ("x.xml:stream", CHARACTERS),
    ("C:\\..\\..\\", TRAVERSAL),
    ("<script>.xml", CHARACTERS),
    ("a|b.xml", CHARACTERS),
):
    CASES[f"filename: {bad[:40]!r}"] = lambda stack, bad=bad, reason=reason: (
        session(stack).call("catalog", "file", b"<?xml version='1.0'?><a/>", filename=bad),
        f"failure:{reason}",
    )


@case("filename: Windows path keeps its last part and stays in the area", "success")
def _(stack):
    reply = session(stack).call("catalog", "file", b"<?xml version='1.0'?>", filename="C:\\temp\\v8_1.xml")
    from chalicelib import wiring

    names = [k for k in wiring.container().blobs.keys("uploads/demo/") if k.split("/")[3] == "v8_1.xml"]
    assert names, "stored under the tenant's area by its last path component"
    return reply


# -- chunks ---------------------------------------------------------------------------------------
@case("chunk: bigger than file_limit", "failure:часть файла \\d+ байт больше file_limit")
def _(stack):
    onec = session(stack)
    return onec.call("catalog", "file", b"x" * (onec.file_limit + 70_000), filename="big.xml")


@case("chunk: empty body", "failure:пустой запрос")
def _(stack):
    return session(stack).call("catalog", "file", b"", filename="empty.xml")


@case("chunk: for an unknown session", NO_SESSION)
def _(stack):
    return raw(stack, "type=catalog&mode=file&filename=a.xml&sessid=demo.feed", body=b"<a/>", method="POST")


# -- XML content ----------------------------------------------------------------------------------
ROOT = "КоммерческаяИнформация"
XXE = (
    f'<?xml version="1.0"?><!DOCTYPE {ROOT} [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    f'<{ROOT} ВерсияСхемы="2.05"><Каталог><Наименование>&x;</Наименование></Каталог></{ROOT}>'
).encode()
LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE {ROOT} [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    f'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><{ROOT} ВерсияСхемы="2.05">&c;</{ROOT}>'
).encode()
EXTERNAL_DTD = (
    f'<?xml version="1.0"?><!DOCTYPE {ROOT} SYSTEM "http://127.0.0.1:1/evil.dtd"><{ROOT} ВерсияСхемы="2.05"/>'
).encode()
DEEP = b'<?xml version="1.0"?>' + b"<a>" * 5000 + b"</a>" * 5000
HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
XML_REASONS = {
    "xml: malformed": "строка \\d+.*(ошибка разметки XML|не в той кодировке)",
    "xml: truncated": "обрывается на середине",
    "xml: XXE external entity": "в файле есть DOCTYPE: DTD и внешние сущности запрещены",
    "xml: billion laughs": "в файле есть DOCTYPE: DTD и внешние сущности запрещены",
    "xml: external DTD": "в файле есть DOCTYPE: DTD и внешние сущности запрещены",
    "xml: 5000 levels deep": "глубже 256 уровней",
    "xml: empty file": "не XML-файл|файл пустой",
    "xml: binary garbage": "не XML-файл",
    "xml: an HTML page": "не файл обмена CommerceML",
    "xml: JSON": "не XML-файл",
    "xml: declared utf-8, bytes windows-1251": "не в той кодировке, что объявлена",
    "xml: unknown declared encoding": "неизвестная кодировка",
    "xml: CommerceML 4.0": "неподдерживаемая версия схемы 4.0",
    "xml 3.1: XXE external entity": "в файле есть DOCTYPE: DTD и внешние сущности запрещены",
    "xml 3.1: malformed": "строка \\d+.*(ошибка разметки XML|не в той кодировке)",
    "xml 3.1: product without Ид": "у элемента Товар нет Ид",
    "xml 3.1: stock NaN": "Количество: «NaN» не является числом",
    "xml 3.1: unit with a blank Ид and Код": "у единицы измерения нет ни Ид, ни Код",
    "xml: an orders document sent as catalog": "документ заказов, а не каталог",
    "xml: product without Ид": "у элемента Товар нет Ид",
    "xml: stock 1E+5000": "Количество: «1E\\+5000» вне допустимого диапазона",
    "xml: stock NaN": "Количество: «NaN» не является числом",
    "xml: stock three": "Количество: «три» не является числом",
    "xml: price -1E+20": "ЦенаЗаЕдиницу: «-1E\\+20» вне допустимого диапазона",
    "xml: price Infinity": "ЦенаЗаЕдиницу: «Infinity» не является числом",
    "xml: price 1E-50": "ЦенаЗаЕдиницу: «1E-50» вне допустимого диапазона",
    "xml: group nested in itself": "группы вложены сами в себя: g1 → g2 → g1",
    "xml: record over 400 KB": "больше, чем помещается в одну запись",
    "xml: 12 MB text node": "текст одного элемента длиннее 10 МБ",
    "xml: control character in a name": "недопустимый управляющий символ",
    "xml: price tier of «много»": "МинКоличество: «много» не является числом",
    "xml: volume discount of NaN %": "Процент: «NaN» не является числом",
    "xml: bundle part quantity Infinity": "Количество: «Infinity» не является числом",
}
# One bad field of one record never costs the file (README, "One rule for record-level problems"):
# these answer `success`, naming the record left out, its line and element, and why.
RECORD_LEVEL = {
    "xml: product without Ид",
    "xml: stock 1E+5000",
    "xml: stock NaN",
    "xml: stock three",
    "xml: price -1E+20",
    "xml: price Infinity",
    "xml: price 1E-50",
    "xml: record over 400 KB",
    "xml 3.1: product without Ид",
    "xml 3.1: stock NaN",
    "xml 3.1: unit with a blank Ид and Код",
    "xml: price tier of «много»",
    "xml: volume discount of NaN %",
    "xml: bundle part quantity Infinity",
}


def cml31(data: bytes) -> bytes:
    """The same document as the 1C-Bitrix add-on sends it in 3.1 mode (docs/protocol.md §9)."""
    version = re.compile('ВерсияСхемы="2\\.\\d+"'.encode())
    return version.sub('xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="3.1"'.encode(), data, count=1)


UNIT_31 = (
    "<Классификатор><Ид>c</Ид><Наименование>К</Наименование><ЕдиницыИзмерения><ЕдиницаИзмерения>"
    "<Ид>    </Ид><НаименованиеКраткое>ед</НаименованиеКраткое><Код>    </Код></ЕдиницаИзмерения>"
    "<ЕдиницаИзмерения><Ид>796 </Ид><НаименованиеКраткое>шт</НаименованиеКраткое><Код>796 </Код>"
    "</ЕдиницаИзмерения></ЕдиницыИзмерения></Классификатор>"
)


for name, data in {
    "xml: malformed": cml.catalog(cml.product())[:-40] + b"<<<>>>",
    "xml: truncated": cml.catalog(cml.product())[:150],
    "xml: XXE external entity": XXE,
    "xml: billion laughs": LAUGHS,
    "xml: external DTD": EXTERNAL_DTD,
    "xml: 5000 levels deep": DEEP,
    "xml: empty file": b" ",
    "xml: binary garbage": bytes(range(256)) * 8,
    "xml: an HTML page": HTML,
    "xml: JSON": b'{"products": []}',
    "xml: declared utf-8, bytes windows-1251": cml.catalog(cml.product(name="Куртка")).replace(
        "Куртка".encode(), "Куртка".encode("cp1251")
    ),
    "xml: unknown declared encoding": cml.catalog(cml.product()).replace(b"UTF-8", b"x-klingon"),
    "xml: CommerceML 4.0": cml.catalog(cml.product()).replace(b'"2.05"', b'"4.0"'),
    "xml 3.1: XXE external entity": cml31(XXE),
    "xml 3.1: malformed": cml31(cml.catalog(cml.product()))[:-40] + b"<<<>>>",
    "xml 3.1: product without Ид": cml31(cml.catalog("<Товар><Наименование>Без Ид</Наименование></Товар>")),
    "xml 3.1: stock NaN": cml31(cml.offers(cml.offer(quantity="NaN"))),
    "xml 3.1: unit with a blank Ид and Код": cml31(
        cml.catalog(cml.product()).replace("<Каталог".encode(), (UNIT_31 + "<Каталог").encode(), 1)
    ),
    "xml: an orders document sent as catalog": (
        '<?xml version="1.0"?><КоммерческаяИнформация ВерсияСхемы="2.08"><Документ><Ид>1</Ид>'
        "<Номер>1</Номер><ХозОперация>Заказ товара</ХозОперация></Документ></КоммерческаяИнформация>"
    ).encode(),
    "xml: product without Ид": cml.catalog("<Товар><Наименование>Без Ид</Наименование></Товар>"),
    "xml: stock 1E+5000": cml.offers(cml.offer(quantity="1E+5000")),
    "xml: stock NaN": cml.offers(cml.offer(quantity="NaN")),
    "xml: stock three": cml.offers(cml.offer(quantity="три")),
    "xml: price -1E+20": cml.offers(cml.offer(price="-1E+20")),
    "xml: price Infinity": cml.offers(cml.offer(price="Infinity")),
    "xml: price 1E-50": cml.offers(cml.offer(price="1E-50")),
    "xml: group nested in itself": cml.catalog(
        cml.product(), cml.group("g1", children=cml.group("g2", children=cml.group("g1")))
    ),
    "xml: record over 400 KB": cml.catalog(
        cml.product(extra=f"<Описание>{'Очень длинное описание. ' * 20000}</Описание>")
    ),
    "xml: 12 MB text node": cml.catalog(cml.product(extra=f"<Описание>{'z' * 12_000_000}</Описание>")),
    "xml: control character in a name": cml.catalog(cml.product(name="a&#1;b")),
    "xml: price tier of «много»": cml.offers(
        cml.offer().replace("</Валюта>", "</Валюта><МинКоличество>много</МинКоличество>")
    ),
    "xml: volume discount of NaN %": cml.offers(
        cml.offer().replace(
            "</Цены>",
            "</Цены><СкидкиНаценки><СкидкаНаценка><Условие>Объем</Условие><ЗначениеУсловия>5</ЗначениеУсловия>"
            "<Процент>NaN</Процент></СкидкаНаценка></СкидкиНаценки>",
        )
    ),
    "xml: bundle part quantity Infinity": cml.catalog(
        cml.product(
            extra="<Комплектующие><Комплектующее><Ид>p2</Ид><Количество>Infinity</Количество></Комплектующее>"
            "</Комплектующие>"
        )
    ),
}.items():
    CASES[name] = lambda stack, data=data, name=name: (
        send(stack, "import_hostile.xml", data),
        f"{'success:пропущена .*' if name in RECORD_LEVEL else 'failure:'}{XML_REASONS[name]}",
    )


@case("xml: an unknown 1 MB attribute is ignored, not stored", "success")
def _(stack):
    data = cml.catalog(cml.product(pid="p-attr")).replace(
        'ВерсияСхемы="2.05"'.encode(), 'ВерсияСхемы="2.05" x="'.encode() + b"a" * 1_000_000 + b'"'
    )
    reply = send(stack, "import_attr.xml", data)
    assert all(len(doc) < 10_000 for doc in stack.catalog().values())
    return reply


for name, pid in {
    "ids: expression-looking ${jndi}": "${jndi:ldap://127.0.0.1/a}",
    "ids: SQL-looking": "' OR 1=1 --",
    "ids: template-looking": "{{7*7}}",
    "ids: key separators": "p#offer#x",
    "ids: 10k characters": "i" * 10_000,
    "ids: path-looking": "../../other#p#x",
}.items():
    CASES[name] = lambda stack, pid=pid: _stored_as_data(stack, pid)


def _stored_as_data(stack, pid: str) -> tuple[Reply, str]:
    """Odd ids are data: stored as they are under this tenant only (or refused when too long for
    a key), never interpreted as keys or paths."""
    other = stack.catalog("other")
    reply = send(stack, "import_ids.xml", cml.catalog(cml.product(pid=pid)))
    assert stack.catalog("other") == other, "another tenant's catalog is untouched"
    if len(pid.encode()) > 500:  # a record-level problem: that product is skipped, named
        assert not any(pid in key for key in stack.catalog()), "never a key"
        return reply, "success:пропущена .*Ид длиннее 500 байт"
    base = pid.partition("#")[0]  # 1C's `product#characteristic` convention
    assert f"demo#p#{base}|product" in stack.catalog(), "stored under its own id, in this tenant"
    return reply, "success"


@case("offers: for products the site has not seen (kept as orphans)", "success")
def _(stack):
    reply = send(stack, "offers_orphans.xml", cml.offers(cml.offer(oid="never-seen-product")))
    assert "без товара" in reply.text
    return reply


# -- zips -----------------------------------------------------------------------------------------
def _bomb_by_ratio() -> bytes:
    return cml.zipped({"import.xml": b"<" + b"a" * 50_000_000 + b">"})


def _declared_huge() -> bytes:
    data = bytearray(cml.zipped({"import.xml": cml.catalog(cml.product())}, zipfile.ZIP_STORED))
    # lie in the central directory: 3 GiB uncompressed
    at = data.rfind(b"PK\x01\x02")
    data[at + 24 : at + 28] = (3 * 2**30).to_bytes(4, "little")
    return bytes(data)


def _many_entries() -> dict[str, bytes]:
    return {f"import_files/{n:06d}.jpg": b"x" for n in range(30)}


CATALOG = cml.catalog(cml.product())  # every zip case carries one: its guard is what refuses


def _nul_member() -> bytes:
    """zipfile cuts a name at NUL when it writes one: put the NUL into the bytes afterwards."""
    data = cml.zipped({"import.xml": CATALOG, "imXXport.xml": b"<a/>"})
    return data.replace(b"imXXport.xml", b"im\x00\x00port.xml")


PATH = "failure:недопустимый путь в архиве"
for name, (build, expect) in {
    "zip: bomb by ratio": (_bomb_by_ratio, "failure:степень сжатия \\d+:1 — похоже на zip-бомбу"),
    "zip: declares 3 GiB unpacked": (_declared_huge, "failure:распаковывается в 3072 МБ"),
    "zip: slip ../x.xml": (lambda: cml.zipped({"import.xml": CATALOG, "../x.xml": b"<a/>"}), PATH),
    "zip: absolute /etc/x.xml": (lambda: cml.zipped({"import.xml": CATALOG, "/etc/x.xml": b"<a/>"}), PATH),
    "zip: windows ..\\x.xml": (lambda: cml.zipped({"import.xml": CATALOG, "..\\x.xml": b"<a/>"}), PATH),
    "zip: NUL in a member name": (_nul_member, PATH),
    "zip: two members with one name": (
        lambda: cml.zipped({"a/import.xml": CATALOG, "b/import.xml": cml.catalog(cml.product(name="Б"))}),
        "failure:два файла с одним именем import.xml",
    ),
    "zip: corrupt": (lambda: b"PK\x03\x04" + b"\x00" * 200, "failure:архив повреждён"),
    "zip: truncated": (lambda: cml.zipped({"import.xml": CATALOG})[:60], "failure:архив повреждён"),
    "zip: script member": (lambda: cml.zipped({"import.xml": CATALOG, "x.php": b"<?php"}), PATH),
}.items():
    CASES[name] = lambda stack, build=build, expect=expect: (_send_zip(stack, build()), expect)


def _send_zip(stack, data: bytes, kind: str = "catalog") -> Reply:
    onec = session(stack, kind)
    for reply in onec.upload(kind, "v8_hostile.zip", data):
        if reply.keyword != "success":
            return reply
    return onec.import_file("import.xml", kind)


@case("zip: too many entries for the limit", "failure:в архиве 31 файлов, допускается не больше 10")
def _(stack):
    """The limit is the worker's setting: a container is built with it lowered, then restored."""
    from dataclasses import replace

    from chalicelib import wiring
    from chalicelib.container import Container

    saved = wiring.container()
    wiring.use(Container(replace(saved.settings, zip_max_entries=10)))
    try:
        return _send_zip(stack, cml.zipped({"import.xml": CATALOG} | _many_entries()))
    finally:
        wiring.use(saved)


@case("sale zip: bomb by ratio", "failure:похоже на zip-бомбу")
def _(stack):
    onec = session(stack, "sale")
    onec.upload("sale", "orders.zip", _bomb_by_ratio())
    return onec.call("sale", "import", filename="orders.zip")


@case("sale zip: no XML inside", "failure:в архиве нет XML-файла с заказами")
def _(stack):
    onec = session(stack, "sale")
    onec.upload("sale", "orders.zip", cml.zipped({"readme.txt": b"hello"}))
    return onec.call("sale", "import", filename="orders.zip")


@case("sale zip: two XML with one name", "failure:два файла с одним именем o.xml")
def _(stack):
    onec = session(stack, "sale")
    onec.upload("sale", "orders.zip", cml.zipped({"a/o.xml": b"<a/>", "b/o.xml": b"<b/>"}))
    return onec.call("sale", "import", filename="orders.zip")


@case("sale: malformed orders document", "failure:orders.xml.*обрывается на середине")
def _(stack):
    onec = session(stack, "sale")
    onec.upload("sale", "orders.xml", "<?xml version='1.0'?><КоммерческаяИнформация><Документ>".encode())
    return onec.call("sale", "import", filename="orders.xml")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_exchange_input(module_stack, losses, name):
    """Each case's own answer: a failure must give the reason that names its problem (a crash's
    «внутренняя ошибка» never passes), a success must be one."""
    reply, expected = CASES[name](module_stack)
    keyword, _, reason = expected.partition(":")
    assert reply.status == 200, reply.text
    assert reply.headers.get("Content-Type", "").startswith("text/plain"), reply.headers
    assert reply.keyword == keyword, f"{name}: {reply.text[:300]}"
    assert "внутренняя ошибка" not in reply.text and "Traceback" not in reply.text
    if keyword == "failure":
        assert reason, f"{name}: a failure case names the reason it expects"
    if reason:  # a failure's reason, or the record a success says it left out
        assert re.search(reason, " ".join(reply.lines[1:])), f"{name}: {reply.text[:300]}"
    losses["items_lost"] = module_stack.lost()
    assert losses["items_lost"] == 0, "the catalog imported before stays as it was"


def test_there_are_enough_cases():
    assert len(CASES) >= 100
