"""The console through its pages (chalice.test on moto): signing in, CSRF, tenant isolation through
pages and direct URLs, the exchange by hand with its counts, files and diff, a malformed file's
reason, a product, a webhook redelivered, and every action journaled with who did it."""

from __future__ import annotations

import html
import json
import re
import time
from urllib.parse import quote, urlencode

import pytest

from chalicelib import journal, wiring
from tests.test_shop_api import DOBRO

PASSWORD = "correct horse battery"


class Browser:
    """A cookie jar over chalice.test: what a person's browser does, minus the JavaScript."""

    def __init__(self, stack) -> None:
        self.http, self.pump, self.cookie = stack.client.http, stack.pump, ""

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        all_headers = {"Cookie": self.cookie, **(headers or {})}
        response = self.http.request(method, path, headers=all_headers, body=body)
        self.pump.drain()  # the import queue, as SQS runs the worker between a person's clicks
        set_cookie = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0]
        return response

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, fields: dict, csrf: bool = True):
        if csrf:
            fields = {"csrf": self.csrf, **fields}
        return self.request(
            "POST", path, urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )

    @property
    def csrf(self) -> str:
        page = self.get("/console/exchanges").body.decode()
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def login(self, email: str, password: str = PASSWORD):
        return self.post("/console/login", {"email": email, "password": password}, csrf=False)

    def upload(self, name: str, data: bytes) -> str:
        """What the page's script does: start, chunks, finish; returns the exchange id."""
        finished = self.finish(*self.send(name, data))
        assert finished.status_code == 200, finished.body
        return json.loads(finished.body)["exchange"]

    def send(self, name: str, data: bytes) -> tuple[str, str]:
        """Start an upload and send its chunks; (the file's name, the upload id)."""
        started = self.request("POST", f"/console/upload/start?filename={name}", b"", self._octets())
        assert started.status_code == 200, started.body
        upload = json.loads(started.body)["upload"]
        for offset in range(0, len(data), 60_000):
            path = f"/console/upload/chunk?filename={name}&upload={upload}"
            chunk = self.request("POST", path, data[offset : offset + 60_000], self._octets())
            assert chunk.status_code == 200, chunk.body
        return name, upload

    def finish(self, name: str, upload: str, confirm: bool = False):
        path = f"/console/upload/finish?filename={name}&upload={upload}" + ("&confirm=1" if confirm else "")
        return self.request("POST", path, b"", self._octets())

    def _octets(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, "Content-Type": "application/octet-stream"}


@pytest.fixture
def console(stack):
    auth = wiring.container().console_auth
    auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    accounts = wiring.container().accounts
    accounts.add("rival", "Rival shop")
    auth.add_user("owner@rival.shop", PASSWORD, "rival", "owner", "test")
    browser = Browser(stack)
    assert browser.login("owner@demo.shop").status_code == 303
    return browser


def test_signed_out_goes_to_login_and_a_wrong_password_is_refused(stack):
    wiring.container().console_auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    browser = Browser(stack)
    for path in ("/console/", "/console/exchanges", "/console/catalog", "/console/orders"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["Location"] == "/console/login", path
    refused = browser.login("owner@demo.shop", "wrong password!")
    assert refused.status_code == 401 and "неверный" in refused.body.decode()
    signed = browser.login("owner@demo.shop")
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie, "dev stage over plain HTTP; prod adds Secure"
    assert browser.get("/console/exchanges").status_code == 200
    assert browser.post("/console/logout", {}).status_code == 303
    assert browser.get("/console/exchanges").status_code == 303


def test_logins_are_throttled_like_checkauth(stack):
    wiring.container().console_auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    browser = Browser(stack)
    for _ in range(5):
        assert browser.login("owner@demo.shop", "wrong password!").status_code == 401
    throttled = browser.login("owner@demo.shop")  # even the right password waits now
    assert throttled.status_code == 401 and "слишком много" in throttled.body.decode()


def test_forms_refuse_a_missing_or_wrong_csrf_token(console):
    for fields in ({}, {"csrf": "forged"}):
        response = console.post("/console/settings", {**fields, "order_encoding": "utf-8"}, csrf=False)
        assert response.status_code == 403 and "CSRF" in response.body.decode()
    headers = {"X-CSRF-Token": "forged", "Content-Type": "application/octet-stream"}
    assert console.request("POST", "/console/upload/start?filename=a.xml", b"", headers).status_code == 403
    assert wiring.container().accounts.require("demo").settings.order_encoding is None, "nothing was changed"
    saved = console.post(
        "/console/settings",
        {"order_encoding": "utf-8", "managers": "Анна, Борис", "status_map": "Отгружен = shipped"},
    )
    assert saved.status_code == 303
    settings = wiring.container().accounts.require("demo").settings
    assert settings.order_encoding == "utf-8" and settings.managers == ("Анна", "Борис")
    assert settings.status_map == {"Отгружен": "shipped"}
    assert console.post("/console/settings", {"status_map": "no equals sign"}).status_code == 400
    assert console.post("/console/settings", {"shop_price_type": "Опт"}).status_code == 303
    rebuild = [j for j in wiring.container().exchange_store.jobs("demo") if j.kind == "cards"]
    assert rebuild and rebuild[0].status == "done", "a new price type rebuilt the cards"


def test_the_owner_registers_client_certificates_on_the_settings_page(console):
    fingerprint = ":".join(["AB"] * 32)
    page = console.get("/console/settings").body.decode()
    assert "Сертификаты клиента" in page and 'name="fingerprints"' in page
    saved = console.post("/console/certificates", {"fingerprints": f"{fingerprint}\n", "guard": "exchange"})
    assert saved.status_code == 303
    settings = wiring.container().accounts.require("demo").settings
    assert (settings.client_certificates, settings.certificates_guard) == (("ab" * 32,), "exchange")
    assert "ab" * 32 in console.get("/console/settings").body.decode()
    refused = console.post("/console/certificates", {"fingerprints": "not a fingerprint", "guard": "both"})
    assert refused.status_code == 400 and "не SHA-256" in refused.body.decode()
    assert wiring.container().accounts.require("demo").settings.client_certificates == ("ab" * 32,)


def _with_first_price_moved(offers: bytes) -> tuple[bytes, str]:
    """The offers file with its first offer's price 7 higher, and that offer's product id."""
    from lxml import etree

    tree = etree.fromstring(offers)
    offer = next(e for e in tree.iter() if etree.QName(e).localname == "Предложение")
    fields = {etree.QName(c).localname: c for c in offer}
    for price in (e for e in offer.iter() if etree.QName(e).localname == "ЦенаЗаЕдиницу"):
        price.text = str(float(price.text or 0) + 7)
    encoding = tree.getroottree().docinfo.encoding
    return etree.tostring(tree, encoding=encoding, xml_declaration=True), fields["Ид"].text.partition("#")[0]


def test_an_upload_by_hand_imports_like_1c_with_counts_files_and_a_diff(console, samples):
    data = (samples / DOBRO / "import0_1.xml").read_bytes()
    first = console.upload("import0_1.xml", data)
    page = console.get(f"/console/exchanges/{first}").body.decode()
    assert "import0_1.xml" in page and str(len(data)) in page and "done" in page
    (job,) = [j for j in wiring.container().exchange_store.jobs("demo", prefix=first) if j.kind == "import"]
    created = job.counts["created"]
    assert created >= 36 and f"создано {created}, изменено 0" in page, "the journal's counts, shown"
    calls = re.findall(r"<li>([^<]+)</li>", page.split('id="calls"')[1])
    assert any(re.search(r"catalog/file import0_1.xml 60000B → success", c) for c in calls), calls
    assert any(re.search(r"catalog/import import0_1.xml → (progress|success)", c) for c in calls), calls
    listing = console.get("/console/exchanges").body.decode()
    assert first in listing and "console:owner@demo.shop" in listing
    assert "деактивация отсутствующих — после окончания обмена" in listing, "a full file's end is shown"
    offers = console.upload("offers0_1.xml", (samples / DOBRO / "offers0_1.xml").read_bytes())
    diff = console.get(f"/console/exchanges/{offers}").body.decode()
    assert "в продаже" in diff and "<ins>" in diff, "cards listed once offered: old → new"
    table = diff.split('<table class="diff">')[1].split("</table>")[0]
    assert "None" not in table and '<small class="id">' in table, "the name first, the id below it"
    listed = int(re.search(r'<a href="\?show=listed">в продаже (\d+)</a>', diff).group(1))
    assert listed == table.count("<td>в продаже</td>") > 0, "the products counted by what happened"
    only = console.get(f"/console/exchanges/{offers}?show=changed").body.decode()
    assert "<td>в продаже</td>" not in only and '<b aria-current="true">изменено' in only
    link = re.search(r'href="(/console/exchanges/[^"]+/diff\.csv\?job=[^"]+)"', diff).group(1)
    exported = console.get(link.replace("&amp;", "&"))
    rows = exported.body.decode().lstrip("\ufeff").splitlines()
    assert exported.headers["Content-Type"].startswith("text/csv") and rows[0].startswith("Ид;что;")
    assert len(rows) - 1 == listed and all(";в продаже;" in r for r in rows[1:]), (
        "the whole diff, one row each"
    )
    elsewhere = console.get(f"/console/exchanges/{offers}/diff.csv?job=someone-else")
    assert elsewhere.status_code == 404 and "нет такой загрузки" in elsewhere.body.decode()
    product = re.search(r'href="/console/products/([^"]+)"', diff).group(1)
    product_page = console.get(f"/console/products/{product}")
    assert product_page.status_code == 200 and "Предложения" in product_page.body.decode()
    changed, moved = _with_first_price_moved((samples / DOBRO / "offers0_1.xml").read_bytes())
    console.upload("offers0_1.xml", changed)
    page = console.get(f"/console/products/{quote(moved, safe='')}").body.decode()
    history = page.split('id="history"')[1].split("</ul>")[0]
    assert "offers0_1.xml" in history and "цена" in history and "→" in history, history
    assert "price_min" not in history and "None" not in history, "Russian field names, no None"
    sessions_before = len(wiring.container().exchange_store.latest_sessions("demo", 50))
    download = console.get(f"/console/exchanges/{first}/file?area={first}-1&name=import0_1.xml&part=1")
    assert download.status_code == 303 and "import0_1.xml" in download.headers["Location"]
    asked = console.post(f"/console/exchanges/{first}/replay", {})
    assert asked.headers["Location"] == f"/console/exchanges/{first}/replay", "it asks first"
    assert len(wiring.container().exchange_store.latest_sessions("demo", 50)) == sessions_before
    confirm = html.unescape(console.get(asked.headers["Location"]).body.decode())
    assert "Эти файлы старше текущих данных" in confirm and "товары и группы" in confirm, confirm
    assert "после них было ещё 2 загрузки" in confirm, "the two offers uploads came after"
    replayed = console.post(f"/console/exchanges/{first}/replay", {"confirm": "1"})
    assert replayed.status_code == 303
    again = console.get(replayed.headers["Location"]).body.decode()
    assert f"создано 0, изменено 0, без изменений {created}" in again, "the same file again: nothing changed"
    newest = console.get(replayed.headers["Location"] + "/replay").body.decode()
    assert 'id="latest"' in newest and 'id="older"' not in newest, "the latest exchange is not older"
    actions = wiring.container().console_store.actions("demo")
    assert {a["action"] for a in actions} >= {"login", "upload", "replay", "download"}
    assert all(a["who"] == "owner@demo.shop" for a in actions)


def test_a_malformed_file_shows_its_reason_with_file_and_line(console):
    broken = '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация>\n<Каталог>\n<Товары>\n<Товар>\n</Каталог>'.encode()
    exchange = console.upload("import.xml", broken)
    page = console.get(f"/console/exchanges/{exchange}").body.decode()
    error = re.search(r'class="error job-error">([^<]+)<', page)
    assert error and "import.xml" in error.group(1) and re.search(r"строк\w* \d", error.group(1)), page[
        -3000:
    ]


def test_a_tenant_never_sees_another_tenants_data(console, samples, stack):
    exchange = console.upload("import0_1.xml", (samples / DOBRO / "import0_1.xml").read_bytes())
    product = re.search(
        r'href="/console/products/([^"]+)"', console.get("/console/catalog?q=а").body.decode()
    )
    rival = Browser(stack)
    assert rival.login("owner@rival.shop").status_code == 303
    assert exchange not in rival.get("/console/exchanges").body.decode()
    for path in (
        f"/console/exchanges/{exchange}",
        f"/console/exchanges/{exchange}/file?area={exchange}-1&name=import0_1.xml&part=1",
        f"/console/products/{product.group(1) if product else 'x'}",
    ):
        assert rival.get(path).status_code == 404, path
    assert rival.post(f"/console/exchanges/{exchange}/replay", {}).status_code == 404
    assert "import0_1" not in rival.get("/console/catalog?q=а").body.decode()
    assert rival.post("/console/tenants", {"tenant": "demo"}).status_code == 403, "only an operator switches"
    headers = {"X-CSRF-Token": rival.csrf, "Content-Type": "application/octet-stream"}
    path = f"/console/upload/chunk?filename=import0_1.xml&upload={exchange}"
    assert rival.request("POST", path, b"<x/>", headers).status_code == 404, (
        "nobody writes into another's upload"
    )


def test_a_webhook_is_redelivered_from_its_page(console):
    outbox = wiring.container().outbox
    event = outbox.add("demo", "order.created", {"order": {"id": "o1"}})
    page = console.get("/console/webhooks").body.decode()
    assert "order.created" in page
    assert console.post(f"/console/webhooks/{event}/redeliver", {}).status_code == 303
    assert any(a["action"] == "webhook.redeliver" for a in wiring.container().console_store.actions("demo"))
    assert console.post("/console/webhooks/not-an-event/redeliver", {}).status_code == 404


def test_a_file_older_than_the_shops_data_is_uploaded_only_when_the_person_says_so(console, samples):
    """Dated by its ДатаФормирования against the newest imported file of its kind (goods against
    goods, prices and stock against theirs): an older one is asked about first, and nothing is
    imported until the person says yes."""
    data = (samples / DOBRO / "import0_1.xml").read_bytes()
    console.upload("import0_1.xml", data)
    older = data.replace(b"2020-04-07T13:16:06", b"2019-01-01T09:00:00", 1)
    jobs_before = len(wiring.container().exchange_store.jobs("demo", limit=100))
    sent = console.send("import0_1.xml", older)
    asked = console.finish(*sent)
    refused = json.loads(asked.body)
    assert asked.status_code == 409 and refused["older"] is True, asked.body
    assert "2019-01-01 09:00:00" in refused["error"] and "2020-04-07 13:16:06" in refused["error"]
    assert "старше" in refused["error"]
    assert len(wiring.container().exchange_store.jobs("demo", limit=100)) == jobs_before, "nothing imported"
    confirmed = console.finish(*sent, confirm=True)
    assert confirmed.status_code == 200, confirmed.body
    exchange = json.loads(confirmed.body)["exchange"]
    assert "import0_1.xml" in console.get(f"/console/exchanges/{exchange}").body.decode()
    offers = (samples / DOBRO / "offers0_1.xml").read_bytes()  # formed before import0_1: another kind
    console.upload("offers0_1.xml", offers)


def test_the_exchanges_list_filters_by_kind_and_pages_back(console, stack, monkeypatch):
    from tests.reliability import cml

    monkeypatch.setattr("chalicelib.console.routes.EXCHANGES_PAGE", 2)  # 30 on a real page
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("a", "Чайник"))).keyword == "success"
    assert onec.send_file("import.xml", b"<broken").keyword == "failure"
    sale = stack.onec()
    assert sale.checkauth("sale").keyword == "success" and sale.call("sale", "query").status == 200

    def kinds(path: str) -> list[str]:
        page = console.get(path).body.decode().split('id="exchanges"')[1].split("</table>")[0]
        return re.findall(r"</a></td>\s*<td>(\w+)</td>", page)

    assert (
        kinds("/console/exchanges") == ["sale", "catalog"]
        and 'id="older"' in console.get("/console/exchanges").body.decode()
    )
    first = console.get("/console/exchanges").body.decode()
    older = html.unescape(re.search(r'href="(\?before=[^"]+)"', first).group(1))
    assert kinds(f"/console/exchanges{older}") == ["catalog"], "the page before: the first import"
    assert kinds("/console/exchanges?show=sale") == ["sale"] and kinds("/console/exchanges?show=failed") == [
        "catalog"
    ]
    assert kinds("/console/exchanges?show=catalog") == ["catalog"]
    assert "Каталог" in first.split('id="banner"')[1].split("</section>")[0], "the banner stays the latest's"


def test_a_diff_of_more_than_a_page_pages_and_keeps_its_filter(console, stack, monkeypatch):
    from tests.reliability import cml

    monkeypatch.setattr("chalicelib.console.routes.DIFF_PAGE", 20)  # 200 on a real page
    ids = [f"p{n:03d}" for n in range(25)]
    onec = stack.onec()
    assert (
        onec.send_file("import.xml", cml.catalog("".join(cml.product(i, f"Товар {i}") for i in ids))).keyword
        == "success"
    )
    assert (
        onec.send_file("offers.xml", cml.offers("".join(cml.offer(i, "1", "10") for i in ids))).keyword
        == "success"
    )
    latest = re.search(
        r'href="(/console/exchanges/[^"/?]+)"', console.get("/console/exchanges").body.decode()
    )
    path = latest.group(1)
    first = console.get(f"{path}?show=listed").body.decode()
    rows = re.findall(r'<tr><td><a href="/console/products/(p\d+)"', first)
    assert len(rows) == 20 and "1–20 из 25" in first and 'page=2" rel="next"' in first
    assert "show=listed&amp;page=2" in first, "the filter is kept"
    second = console.get(f"{path}?show=listed&page=2").body.decode()
    rest = re.findall(r'<tr><td><a href="/console/products/(p\d+)"', second)
    assert len(rest) == 5 and "21–25 из 25" in second and 'rel="next"' not in second
    assert sorted(rows + rest) == ids, "every product once across the pages"

    ghost = cml.offers(cml.offer("p000", "2", "11") + cml.offer("ghost", "1", "10"))
    assert onec.send_file("offers.xml", ghost).keyword == "success"
    latest = re.search(
        r'href="(/console/exchanges/[^"/?]+)"', console.get("/console/exchanges").body.decode()
    )
    page = console.get(latest.group(1)).body.decode()
    assert '<span class="orphans">предложений без товара на сайте: 1</span>' in page, (
        "offers without a product, said"
    )


def test_the_catalog_has_a_counted_tree_pictures_and_saved_views(console, stack):
    """The group tree with counts (subgroups included), a group's products with pictures, and the
    views an owner works from: no price, no picture, out of stock, taken off sale, changed by
    the last exchange; the product page with its pictures and the shop's price marked."""
    from tests.reliability import cml
    from tests.test_real_clients import PIXEL_A

    def product(pid: str, name: str, group: str, extra: str = "") -> str:
        return cml.product(pid, name, f"<Группы><Ид>{group}</Ид></Группы>{extra}")

    groups = "<Группы>" + cml.group("g1", "Мебель", cml.group("g2", "Стулья")) + "</Группы>"
    products = (
        product("chair", "Стул", "g2", "<Картинка>import_files/ab/pic.png</Картинка>")
        + product("table", "Стол", "g1")
        + product("lamp", "Лампа", "g1")
        + product("wardrobe", "Шкаф", "g1")
    )
    onec = stack.onec()
    catalog = {"import.xml": cml.catalog(products, groups), "import_files/ab/pic.png": PIXEL_A}
    assert onec.send_zip(catalog, ["import.xml"])[0].keyword == "success"
    no_price = (
        "<Предложение><Ид>lamp</Ид><Наименование>Лампа</Наименование><Количество>3</Количество></Предложение>"
    )
    offers = (
        cml.offer("chair", "5", "1500")
        + cml.offer("table", "0", "9000")
        + no_price
        + cml.offer("wardrobe", "1", "20000")
    )
    assert onec.send_file("offers.xml", cml.offers(offers)).keyword == "success"
    gone = cml.product(
        "wardrobe", "Шкаф", "<Группы><Ид>g1</Ид></Группы><ПометкаУдаления>true</ПометкаУдаления>"
    )
    assert onec.send_file("import.xml", cml.catalog(gone, groups)).keyword == "success"

    page = console.get("/console/catalog").body.decode()
    assert 'href="/console/catalog" aria-current="page">Каталог</a>' in page, (
        "the navigation says where one is"
    )
    nav = page.split('<nav aria-label="Разделы консоли">')[1].split("</nav>")[0]
    assert nav.count('aria-current="page"') == 1
    tree = page.split('id="tree"')[1]
    assert re.search(r'>Мебель</a> <span class="count">3</span>', tree), tree
    assert re.search(r'>Стулья</a> <span class="count">1</span>', tree), "subgroups counted in"
    counts = dict(re.findall(r'id="view-(\w+)">[^<]*?(\d+)</a>', page))
    assert counts == {
        "no_price": "1",
        "no_photo": "2",
        "out_of_stock": "1",
        "unlisted": "1",
        "changed": "0",
    }, counts

    def viewed(name: str) -> list[str]:
        shown = console.get(f"/console/catalog?view={name}").body.decode().split('id="view"')[1]
        return re.findall(r'/console/products/(\w+)"', shown.split("</table>")[0])

    assert viewed("no_price") == ["lamp"] and sorted(viewed("no_photo")) == ["lamp", "table"]
    assert viewed("out_of_stock") == ["table"] and viewed("unlisted") == ["wardrobe"]
    assert onec.send_file("offers.xml", cml.offers(cml.offer("table", "2", "8500"))).keyword == "success"
    assert viewed("changed") == ["table"] and viewed("out_of_stock") == []

    group = console.get("/console/catalog?group=g2").body.decode().split('id="listing"')[1]
    assert re.search(r'<img src="[^"]+" alt="Стул" class="thumb"', group), group
    chair = console.get("/console/products/chair").body.decode()
    assert 'id="images"' in chair and 'class="shop-price"' in chair and "1500" in chair


def test_the_diff_says_what_a_card_does_not_show(console, stack):
    """A product `import.xml` created with no offer yet, a price of a type other than the shop's,
    the stock moved between warehouses with the same total: each named in the diff."""
    from tests.reliability import cml

    def offer(opt: str, first: str, second: str, retail: str = "100") -> str:
        return (
            "<Предложение><Ид>lamp</Ид><Наименование>Лампа</Наименование><Цены>"
            f"<Цена><ИдТипаЦены>pt</ИдТипаЦены><ЦенаЗаЕдиницу>{retail}</ЦенаЗаЕдиницу></Цена>"
            f"<Цена><ИдТипаЦены>opt</ИдТипаЦены><ЦенаЗаЕдиницу>{opt}</ЦенаЗаЕдиницу></Цена></Цены>"
            f'<Количество>3</Количество><Склад ИдСклада="w1" КоличествоНаСкладе="{first}"/>'
            f'<Склад ИдСклада="w2" КоличествоНаСкладе="{second}"/></Предложение>'
        )

    def latest_page() -> str:
        link = re.search(
            r'href="(/console/exchanges/[^"/?]+)"', console.get("/console/exchanges").body.decode()
        )
        return html.unescape(console.get(link.group(1)).body.decode())

    def latest_diff() -> dict[str, str]:
        page = latest_page().split('<table class="diff">')[1].split("</table>")[0]
        return dict(re.findall(r'/console/products/(\w+)">[^<]*</a>.*?</td><td>([^<]+)</td>', page))

    onec = stack.onec()
    products = cml.product("lamp", "Лампа") + cml.product("sofa", "Диван")
    assert onec.send_file("import.xml", cml.catalog(products)).keyword == "success"
    assert latest_diff() == {"lamp": "без предложений", "sofa": "без предложений"}
    assert onec.send_file("offers.xml", cml.offers(offer("80", "2", "1"))).keyword == "success"
    assert latest_diff() == {"lamp": "в продаже"}
    assert onec.send_file("offers.xml", cml.offers(offer("75", "2", "1"))).keyword == "success"
    assert latest_diff() == {"lamp": "цены других типов"}
    counted = latest_page()
    assert '<b class="moved">изменилось предложений: 1</b> · записи 1С:' in counted, (
        "offers counted, not records"
    )
    page = latest_page()
    assert '<td class="prices">opt: <del>80</del> → <ins>75</ins><br></td>' in page, "each type's old → new"
    assert onec.send_file("offers.xml", cml.offers(offer("75", "1", "2"))).keyword == "success"
    assert latest_diff() == {"lamp": "остатки по складам"}
    assert onec.send_file("offers.xml", cml.offers(offer("70", "1", "2", retail="110"))).keyword == "success"
    assert latest_diff() == {"lamp": "изменён"}
    page = latest_page()
    assert "opt: <del>75</del> → <ins>70</ins><br>Розница: <del>100</del> → <ins>110</ins>" in page, page


def test_an_order_page_shows_customer_lines_delivery_payment_and_who_changed_it(console, stack):
    from tests.reliability import cml

    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("tea", "Чай «Утро»"))).keyword == "success"
    assert onec.send_file("offers.xml", cml.offers(cml.offer("tea", "9", "250"))).keyword == "success"
    body = {
        "customer": {"name": "Анна Петрова", "phone": "+79001234567"},
        "lines": [{"offer_id": "tea", "quantity": 2}],
        "delivery": {"method": "Курьер", "address": "Москва, ул. Ленина, 1", "price": 300},
        "payment_method": "Картой онлайн",
    }
    placed = stack.client.http.request(
        "POST", "/api/v1/orders", body=json.dumps(body).encode(),
        headers={"X-Api-Key": "demo-key", "Idempotency-Key": "o1", "Content-Type": "application/json"},
    )  # fmt: skip
    order = json.loads(placed.body)
    listing = console.get("/console/orders").body.decode()
    link = f'href="/console/orders/{order["id"]}">{order["number"]}</a>'
    assert link in listing, "the number opens the order"
    page = html.unescape(console.get(f"/console/orders/{order['id']}").body.decode())
    for shown in (
        "Анна Петрова",
        "+79001234567",
        '/console/products/tea"',
        "Москва, ул. Ленина, 1",
        "Картой онлайн",
        "(сайт)",
    ):
        assert shown in page, shown
    assert re.search(r"<td>2</td><td>250</td><td>500</td>", page) and "800" in page, "lines and the total"
    assert console.post(f"/console/orders/{order['id']}/cancel", {}).status_code == 303
    history = html.unescape(console.get(f"/console/orders/{order['id']}").body.decode()).split(
        'id="history"'
    )[1]
    assert "отменён (консоль, owner@demo.shop)" in history, "who cancelled it, and where"
    assert console.get("/console/orders/no-such-order").status_code == 404


def test_the_webhooks_page_shows_each_delivery_like_a_payments_dashboard(console, stack):
    """The body the receiver got, every attempt with its answer and time, the next retry, a test
    event, the secret behind a click, the rotated one's overlap, and «no receiver» said."""
    from tests.test_scheduler import Clock, Receiver, run_schedule

    page = console.get("/console/webhooks").body.decode()
    assert "Получатель не настроен" in page and 'id="send-test"' not in page
    refused = console.post("/console/webhooks/test", {})
    assert refused.status_code == 400 and "адрес получателя" in refused.body.decode()

    receiver = Receiver(statuses=[500])
    assert console.post("/console/webhooks", {"urls": receiver.url}).status_code == 303
    assert console.post("/console/webhooks/test", {}).status_code == 303
    clock = wiring.container().scheduler.sender.clock = Clock()
    run_schedule(stack)
    page = console.get("/console/webhooks").body.decode()
    assert "webhook.test" in page and "следующая попытка" in page
    assert '"by": "owner@demo.shop"' in html.unescape(page), "the body as the receiver got it"
    assert re.search(
        r'<tr class="attempt"><td>[^<]+</td><td>[^<]+/hooks</td><td>500 HTTP 500</td><td>\d+ мс</td>', page
    )
    clock.offset += 13 * 3600
    run_schedule(stack)
    page = console.get("/console/webhooks").body.decode()
    assert page.count('<tr class="attempt">') == 2 and "OK" in page and "следующая попытка" not in page
    assert json.loads(receiver.requests[-1]["body"])["data"]["message"].startswith("Проверка вебхука")

    secret = wiring.container().accounts.require("demo").settings.webhook_secret
    assert '<details id="secret-box"><summary>Показать секрет подписи' in page and secret in page
    assert 'id="overlap"' not in page
    console.post("/console/webhooks", {"urls": receiver.url, "rotate": "1"})
    assert (
        "Прежний секрет подписывает запросы вместе с новым до"
        in console.get("/console/webhooks").body.decode()
    )


def test_the_operators_home_shows_which_shop_is_in_trouble_and_opens_it(stack, monkeypatch):
    """Every shop with its last catalog exchange, orders waiting over an hour and dead webhooks;
    worst first or sorted as asked; a link opens the shop on the page its trouble is on, and the
    opening is journaled in the shop."""
    from tests.reliability import cml

    services = wiring.container()
    accounts = services.accounts
    for tenant in ("broken", "quiet"):
        accounts.add(tenant, tenant.title())
    accounts.set_1c_credentials("broken", "broken", "broken")
    broken = stack.onec("broken", "broken")
    for _ in range(2):
        assert broken.send_file("import.xml", b"<not xml").keyword == "failure"
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("чай", "Чай"))).keyword == "success"
    assert onec.send_file("offers.xml", cml.offers(cml.offer("чай", "5", "100"))).keyword == "success"
    order = {"customer": {"name": "Анна"}, "lines": [{"offer_id": "чай", "quantity": 1}]}
    placed = stack.client.http.request(
        "POST",
        "/api/v1/orders",
        headers={"X-Api-Key": "demo-key", "Idempotency-Key": "o1", "Content-Type": "application/json"},
        body=json.dumps(order).encode(),
    )
    assert placed.status_code == 201, placed.body
    event = services.outbox.add("quiet", "order.created", {"order": {"id": "x"}})
    services.outbox.claim("quiet", event, "r", int(time.time()), 60)
    services.outbox.settle("quiet", event, "r", "dead", 12, None, {}, [])

    services.console_auth.add_user("ops@cmlbridge.dev", PASSWORD, None, "operator", "test")
    ops = Browser(stack)
    assert ops.login("ops@cmlbridge.dev").status_code == 303
    assert ops.get("/console/exchanges").headers.get("Location") == "/console/tenants"
    later = time.time() + 2 * 3600
    monkeypatch.setattr("chalicelib.console.operator.time.time", lambda: later)

    def shops(sort: str = "") -> list[str]:
        page = ops.get("/console/tenants" + (f"?sort={sort}" if sort else "")).body.decode()
        return re.findall(r'<tr class="shop[^"]*" data-tenant="([^"]+)"', page)

    assert shops() == ["broken", "demo", "quiet"]
    page = html.unescape(ops.get("/console/tenants").body.decode())
    assert "две загрузки подряд с ошибкой" in page and "ошибка" in page
    assert shops("name") == ["broken", "demo", "quiet"] and shops("waiting")[0] == "demo"
    assert shops("dead")[0] == "quiet" and shops("catalog")[0] == "quiet"  # never had a catalog

    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    opened = ops.post("/console/tenants", {"csrf": csrf, "tenant": "demo", "open": "orders"}, csrf=False)
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/console/orders")
    assert ops.get("/console/orders").status_code == 200
    (entry,) = [a for a in services.console_store.actions("demo") if a["action"] == "operator.open"]
    assert entry["who"] == "ops@cmlbridge.dev" and entry["page"] == "orders"
    assert Browser(stack).get("/console/tenants").status_code in (302, 303)


def test_the_admin_cli_adds_console_users(stack, monkeypatch, capsys):
    import io

    from chalicelib import admin

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert admin.main(["console", "add-user", "Manager@Demo.shop", "--tenant", "demo", "--role", "user"]) == 0
    assert wiring.container().console_store.user("manager@demo.shop")["role"] == "user"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert admin.main(["console", "add-user", "x@demo.shop", "--tenant", "demo"]) == 2
    assert "не короче" in capsys.readouterr().err
    assert Browser(stack).login("manager@demo.shop").status_code == 303


def test_the_journal_never_holds_a_session_token(stack):
    onec = stack.onec()
    assert onec.checkauth().keyword == "success"
    onec.call("sale", "init", version="2.10")
    (session,) = wiring.container().exchange_store.latest_sessions("demo", limit=1)
    assert session["token"] not in " ".join(session["calls"]) and "sessid=…" in " ".join(session["calls"])


def test_webhook_urls_and_secret_rotation_and_who_may_add_users(console, stack):
    assert console.post("/console/webhooks", {"urls": "http://127.0.0.1:9/hooks"}).status_code == 303
    first = wiring.container().accounts.require("demo").settings.webhook_secret
    assert first and first in console.get("/console/webhooks").body.decode()
    assert console.post("/console/webhooks", {"urls": "http://127.0.0.1:9/hooks"}).status_code == 303
    assert wiring.container().accounts.require("demo").settings.webhook_secret == first, (
        "saving URLs keeps the secret"
    )
    console.post("/console/webhooks", {"urls": "http://127.0.0.1:9/hooks", "rotate": "1"})
    assert wiring.container().accounts.require("demo").settings.webhook_secret != first
    assert (
        console.post("/console/users", {"email": "clerk@demo.shop", "password": PASSWORD}).status_code == 303
    )
    clerk = Browser(stack)
    assert clerk.login("clerk@demo.shop").status_code == 303
    assert "Секрет подписи" not in clerk.get("/console/webhooks").body.decode(), "a user does not see it"
    refused = clerk.post("/console/users", {"email": "more@demo.shop", "password": PASSWORD})
    assert refused.status_code == 403 and wiring.container().console_store.user("more@demo.shop") is None


def test_an_owner_manages_the_shops_users_and_the_server_holds_the_rules(console, stack):
    """Role changes hold from the next page, a removed user is signed out at once, a reset
    password ends the user's sessions; a user may do none of it, nobody changes their own account
    or leaves the shop without an owner, and another shop's users are out of reach."""
    auth = wiring.container().console_auth
    auth.add_user("clerk@demo.shop", PASSWORD, "demo", "user", "test")
    auth.add_user("ops@cmlbridge.dev", PASSWORD, None, "operator", "test")
    clerk = Browser(stack)
    assert clerk.login("clerk@demo.shop").status_code == 303

    def manage(who: Browser, email: str, action: str, **more: str):
        return who.post("/console/users/manage", {"email": email, "action": action, **more})

    def said(response) -> str:
        return html.unescape(response.body.decode())

    refused = manage(clerk, "owner@demo.shop", "remove")
    assert refused.status_code == 403 and "только владелец" in said(refused)
    assert "свою учётную запись" in said(manage(console, "owner@demo.shop", "remove"))
    assert "нет такого пользователя" in said(manage(console, "owner@rival.shop", "reset"))

    assert manage(console, "clerk@demo.shop", "role", role="owner").status_code == 303
    assert manage(clerk, "owner@demo.shop", "role", role="user").status_code == 303
    assert manage(console, "clerk@demo.shop", "remove").status_code == 403, "the new role holds at once"

    ops = Browser(stack)
    assert ops.login("ops@cmlbridge.dev").status_code == 303
    token = re.search(r'name="csrf" value="([^"]+)"', ops.get("/console/tenants").body.decode()).group(1)
    assert ops.post("/console/tenants", {"csrf": token, "tenant": "demo"}, csrf=False).status_code == 303
    last = manage(ops, "clerk@demo.shop", "role", role="user")
    assert last.status_code == 400 and "последний владелец" in said(last)
    assert "последний владелец" in said(manage(ops, "clerk@demo.shop", "remove"))

    reset = manage(clerk, "owner@demo.shop", "reset")
    password = re.search(r"Новый пароль для owner@demo.shop: <code>([^<]+)</code>", said(reset)).group(1)
    assert console.get("/console/users").status_code == 303, "the reset ended the user's sessions"
    again = Browser(stack)
    assert again.login("owner@demo.shop", password).status_code == 303
    assert again.get("/console/users").status_code == 200

    assert manage(clerk, "owner@demo.shop", "remove").status_code == 303
    assert again.get("/console/users").status_code == 303, "a removed user is signed out at once"
    assert wiring.container().console_store.user("owner@demo.shop") is None
    actions = {a["action"] for a in wiring.container().console_store.actions("demo")}
    assert {"user.role", "user.reset_password", "user.remove"} <= actions


def test_sizes_read_as_a_person_reads_them():
    from chalicelib.console.web import size_ru

    assert [size_ru(n) for n in (0, 812, 60_000, 20_971_520, None)] == [
        "0 Б",
        "812 Б",
        "58,6 КБ",
        "20,0 МБ",
        "0 Б",
    ]


def test_links_redirects_and_the_cookie_carry_api_gateways_stage_prefix(monkeypatch):
    from types import SimpleNamespace

    from chalicelib.console import web

    for full, path, expected in (
        ("/api/console/login", "/console/login", "/api"),
        ("/console/login", "/console/login", ""),
        (None, "/console/login", ""),
    ):
        request = SimpleNamespace(context={"path": full} if full else {}, path=path)
        monkeypatch.setattr(type(web.console), "current_request", property(lambda self, r=request: r))
        assert web.base() == expected
        assert web.redirect("/console/exchanges").headers["Location"] == f"{expected}/console/exchanges"
        assert f"Path={expected}/console;" in wiring_free_cookie(expected)


def wiring_free_cookie(base: str) -> str:
    from chalicelib.console.auth import ConsoleAuth

    return ConsoleAuth(None, None, secure=True).cookie("v", base=base)


def test_the_daily_series_count_what_happened_each_day():
    import time

    from chalicelib.importjob import ImportJob

    now = int(time.time())
    day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    jobs = [
        ImportJob(
            "a#import.xml",
            status="done",
            started_at=now - 5,
            finished_at=now,
            counts={"created": 3, "updated": 2},
        ),
        ImportJob(
            "b#import.xml",
            status="done",
            started_at=now - 40 * 86_400,
            finished_at=now - 40 * 86_400,
            counts={"created": 9},
        ),
    ]
    orders = [{"created_at": day, "exported_at": day}, {"created_at": day, "exported_at": None}]
    events = [{"created_at": now, "status": "delivered"}, {"created_at": now, "status": "dead"}]
    series = journal.daily(jobs, orders, events)
    assert len(series["labels"]) == 30
    assert series["changed"][-1] == 5 and sum(series["changed"]) == 5, "a job older than 30 days is left out"
    assert series["seconds"][-1] == 5
    assert series["placed"][-1] == 2 and series["taken"][-1] == 1
    assert series["webhook_ok"][-1] == 50.0 and series["webhook_ok"][0] is None


def test_the_front_door_leads_to_the_console_and_the_favicon_answers(stack):
    root = stack.client.http.get("/")
    assert root.status_code == 302 and root.headers["Location"] == "/console/"
    assert stack.client.http.get("/favicon.ico").status_code == 204


def test_times_are_the_shops_own_and_states_are_words(console, samples):
    """Every time on the pages is in the tenant's time zone (Moscow unless the owner sets another,
    e.g. Vladivostok, UTC+10), and the states read as words, not the journal's English."""
    from chalicelib.values import local_time

    saved = console.post("/console/settings", {"time_zone": "Asia/Vladivostok", "csrf": console.csrf})
    assert saved.status_code == 303, saved.body
    assert wiring.container().accounts.require("demo").settings.time_zone == "Asia/Vladivostok"
    first = console.upload("import0_1.xml", (samples / DOBRO / "import0_1.xml").read_bytes())
    began = wiring.container().exchange_store.get_session("demo", first)["created_at"]
    local = local_time(began, "Asia/Vladivostok")
    assert local != local_time(began, "UTC"), "the zone moves the clock"
    listing = console.get("/console/exchanges").body.decode()
    row = listing.split(f"/console/exchanges/{first}")[1].split("</tr>")[0]
    assert local in row and "успешно" in row, row
    assert 'id="zone"' in listing and "Asia/Vladivostok" in listing
    page = console.get(f"/console/exchanges/{first}").body.decode()
    assert f"Обмен {local}" in page and '<span class="status">успешно</span>' in page
    refused = console.post("/console/settings", {"time_zone": "Mars/Olympus", "csrf": console.csrf})
    assert "time_zone: часовой пояс по базе IANA" in refused.body.decode()
    assert wiring.container().accounts.require("demo").settings.time_zone == "Asia/Vladivostok"


def test_the_exchanges_page_says_first_how_the_catalog_and_the_orders_go(console, samples):
    """The banner answers the owner's question at a glance: when the catalog last came and what it
    changed, two failures in a row, a catalog overdue past the tenant's hours, the orders."""
    from chalicelib.exchange.finish import LAST_IMPORT

    page = console.get("/console/exchanges").body.decode()
    banner = page.split('id="banner"')[1].split("</section>")[0]
    assert "из 1С ещё не приходил" in banner and "1С ещё не забирала заказы" in banner
    console.upload("import0_1.xml", (samples / DOBRO / "import0_1.xml").read_bytes())
    (job,) = [j for j in wiring.container().exchange_store.jobs("demo") if j.kind == "import"]
    banner = console.get("/console/exchanges").body.decode().split('id="banner"')[1].split("</section>")[0]
    assert f"успешно, изменено записей: {job.counts['created']}" in banner and "import0_1.xml" in banner
    assert "с ошибкой" not in banner and "не приходил" not in banner
    for _ in range(2):
        console.upload("import.xml", b'<?xml version="1.0"?><Nope/>')
    page = console.get("/console/exchanges").body.decode()
    banner = page.split('id="banner"')[1].split("</section>")[0]
    assert (
        "Две последние загрузки каталога — с ошибкой" in banner
        and 'class="card banner warn" id="banner"' in page
    )
    store = wiring.container().exchange_store
    store.set_pointer("demo", LAST_IMPORT, str(int(store.pointer("demo", LAST_IMPORT)) - 25 * 3600))
    banner = console.get("/console/exchanges").body.decode().split('id="banner"')[1].split("</section>")[0]
    assert "Каталог не приходил из 1С дольше 24 ч" in banner


def test_operators_see_every_tenants_usage_of_a_month_and_owners_do_not(console, stack):
    from chalicelib.usage import month_of

    usage = wiring.container().usage
    month = month_of(time.time())
    usage.add("demo", orders=2, api_calls=10)
    usage.add("rival", orders=5, api_calls=3)
    assert console.get("/console/usage").status_code == 403, "an owner sees no other shop's usage"
    wiring.container().console_auth.add_user("ops@provider.ru", PASSWORD, None, "operator", "test")
    operator = Browser(stack)
    assert operator.login("ops@provider.ru").status_code == 303
    page = operator.get("/console/usage").body.decode()
    table = page.split('id="usage"')[1]
    assert table.index(">demo<") < table.index(">rival<"), "the heaviest by API calls first"
    by_orders = operator.get("/console/usage?sort=orders").body.decode().split('id="usage"')[1]
    assert by_orders.index(">rival<") < by_orders.index(">demo<") and 'aria-sort="descending"' in by_orders
    assert f"Использование за {month}" in page
    assert operator.get("/console/usage?month=2026-13").status_code == 400


def test_a_new_shop_loads_the_sample_catalog_and_sees_it_everywhere(console, stack):
    """«Загрузить пример» sends a small catalog through the protocol 1C uses: the exchange shows it,
    the shop API serves it (groups, a product with variants, prices, stock); a shop's own catalog
    stays (the sample's files are incremental)."""
    from tests.reliability import cml

    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("own-1", "Свой товар"))).keyword == "success"
    answer = console.post("/console/sample", {})
    assert answer.status_code == 303, answer.body
    page = console.get(answer.headers["Location"]).body.decode()
    assert "import.xml" in page and "offers.xml" in page and page.count("успешно") >= 2
    pot = stack.client.http.request("GET", "/api/v1/products/sample-pot", headers={"X-Api-Key": "demo-key"})
    body = json.loads(pot.body)
    assert {o["id"] for o in body["offers"]} == {"sample-pot#s", "sample-pot#l"}
    assert body["offers"][0]["stock"]["total"] == 3 and body["active"] is True
    groups = json.loads(
        stack.client.http.request("GET", "/api/v1/groups", headers={"X-Api-Key": "demo-key"}).body
    )
    assert {"Чай", "Посуда"} <= {g["name"] for g in groups["groups"]}
    own = json.loads(
        stack.client.http.request("GET", "/api/v1/products/own-1", headers={"X-Api-Key": "demo-key"}).body
    )
    assert own["active"] is True, "the shop's own catalog stays"
    assert 'for="upload-file"' in console.get("/console/exchanges").body.decode(), (
        "the file input has its label"
    )


def test_a_failed_file_is_shown_like_an_issue_its_lines_marked_and_its_repeats_counted(console):
    """A consultant asks why an exchange failed: the file's lines around the one the error names,
    that one marked, the `Ид` there a link, and how many recent loads failed the same way."""
    lines = [
        '<?xml version="1.0" encoding="windows-1251"?>',
        '<КоммерческаяИнформация ВерсияСхемы="2.05"><Каталог СодержитТолькоИзменения="true">',
        "<Ид>c</Ид><Наименование>Каталог</Наименование><Товары>",
        "<Товар><Ид>кран-1</Ид><Наименование>Кран</Наименование></Товар>",
        "<Товар><Ид>кран-2</Ид><Наименование>Кран «двойной»</Наимен></Товар>",
        "</Товары></Каталог></КоммерческаяИнформация>",
    ]
    data = "\n".join(lines).encode("cp1251")
    for _ in range(2):
        exchange = console.upload("import.xml", data)
    (job,) = [
        j for j in wiring.container().exchange_store.jobs("demo", prefix=exchange) if j.kind == "import"
    ]
    assert job.status == "failed" and "строка 5" in (job.error or ""), job.error
    page = console.get(f"/console/exchanges/{exchange}").body.decode()
    marked = re.search(r'<span class="marked" aria-current="true">\s*5  (.*?)</span>', page)
    assert marked and "Кран «двойной»&lt;/Наимен&gt;" in marked.group(1), page  # cp1251 read back, escaped
    assert "строки 2–6 (отмечена строка 5)" in page
    assert 'href="/console/products/%D0%BA%D1%80%D0%B0%D0%BD-2"' in page, "the Ид links to its product"
    assert "Та же ошибка в 2 из последних загрузок" in page


def test_connecting_1c_says_what_to_type_renews_secrets_once_and_warns_of_unpriced_products(stack, console):
    """«Подключение 1С»: the exchange URL and login, a new password or API key shown once (the
    old ones stop at once), the shop's price type and the listed products without a price of it."""
    from tests.reliability import cml

    first = console.get("/console/exchanges").body.decode()
    assert 'id="connect-first"' in first, "a new shop's console says where to begin"
    page = console.get("/console/connect").body.decode()
    assert re.search(r'<code id="exchange-url">https?://[^<]+/1c_exchange</code>', page), page
    assert '<code id="login">demo</code>' in page and "1С ещё не подключалась" in page

    renewed = console.post("/console/connect", {"renew": "password"})
    password = re.search(r'<code id="new-password">([^<]+)</code>', renewed.body.decode()).group(1)
    assert wiring.container().accounts.authenticate_1c("demo", password) is not None
    assert wiring.container().accounts.authenticate_1c("demo", "demo") is None, "the old one stops"
    renewed = console.post("/console/connect", {"renew": "api_key"})
    key = re.search(r'<code id="new-api-key">([^<]+)</code>', renewed.body.decode()).group(1)
    assert wiring.container().accounts.authenticate_api_key(key).id == "demo"

    onec = stack.onec(password=password)
    products = cml.product("a", "Чайник") + cml.product("b", "Кружка")
    assert onec.send_file("import.xml", cml.catalog(products)).keyword == "success"
    offers = (
        cml.offer("a")
        + "<Предложение><Ид>b</Ид><Наименование>Кружка</Наименование><Количество>2</Количество></Предложение>"
    )
    assert onec.send_file("offers.xml", cml.offers(offers)).keyword == "success"
    page = console.get("/console/connect").body.decode()
    assert '<b id="shop-price-type">Розница</b>' in page
    assert "1 из 2 товаров в продаже без цены этого типа" in page
    assert "1С ещё не подключалась" not in page and " — каталог, с адреса" in page, "1C's sessions in words"
    assert "Отказов не было" in page
    opt = "<ТипыЦен><ТипЦены><Ид>a-opt</Ид><Наименование>Опт</Наименование></ТипЦены>"
    two_types = (
        cml.offers(cml.offer("a")).decode().replace("<ТипыЦен>", opt).replace("Розница<", "Розничная<")
    )
    assert onec.send_file("offers.xml", two_types.encode()).keyword == "success"
    page = html.unescape(console.get("/console/connect").body.decode())
    assert '<b id="shop-price-type">Опт</b> (первый по Ид' in page and "Предлагаем «Розничная»" in page
    chosen = console.post("/console/connect", {"renew": "price_type", "price_type": "pt"})
    assert (
        chosen.status_code == 200
        and wiring.container().accounts.require("demo").settings.shop_price_type == "pt"
    )
    page = html.unescape(chosen.body.decode())
    assert '<b id="shop-price-type">Розничная</b>.' in page and "Предлагаем" not in page
    assert any(j.kind == "cards" for j in wiring.container().exchange_store.jobs("demo", limit=20)), (
        "rebuilt for it"
    )
    assert console.post("/console/connect", {"renew": "price_type", "price_type": "nope"}).status_code == 400
    assert stack.onec(password="demo").checkauth().keyword == "failure"  # 1C kept the old password
    assert stack.onec(login="nobody", password="x").checkauth().keyword == "failure"  # no shop's login
    refused = console.get("/console/connect").body.decode().split('id="refused"')[1].split("</ul>")[0]
    assert refused.count("<li>") == 2 and refused.count("неверный пароль") == 2, (
        "the shop's own login refused (1C calls checkauth twice), no stranger's"
    )
