"""Pathological catalogs through the exchange URL: shapes real 1C bases produce that grow one
structure without bound — a property with tens of thousands of distinct values, a deep group tree,
one product with thousands of variants, hundreds of price types, an offer too large for one
DynamoDB item. Each must import (or fail with its own reason) and never wedge the tenant: the
next exchange always runs, and a file that cannot be finished can be skipped by a person."""

from __future__ import annotations

import json

import pytest

from chalicelib import wiring
from chalicelib.sync.facets import MAX_FACET_VALUES
from tests.reliability import cml

KEY = {"X-Api-Key": "demo-key"}
INTERNAL = "внутренняя ошибка"


def api(stack, path: str) -> tuple[int, dict]:
    response = stack.client.http.get(f"/api/v1{path}", headers=KEY)
    return response.status_code, json.loads(response.body)


def stalled_jobs(tenant: str = "demo") -> int:
    return sum(
        1 for job in wiring.container().exchange_store.jobs(tenant, limit=500) if job.status == "stalled"
    )


def codes_catalog(products: int, values_each: int) -> bytes:
    """Every product carries `values_each` codes of its own in one property («Код поставщика»):
    products × values_each distinct values of one property, in one group and the whole catalog."""
    rows = []
    for i in range(products):
        values = "".join(f"<Значение>c{i}-{v}</Значение>" for v in range(values_each))
        rows.append(
            cml.product(
                f"p{i}",
                f"Товар {i}",
                "<Группы><Ид>g</Ид></Группы>"
                f"<ЗначенияСвойств><ЗначенияСвойства><Ид>code</Ид>{values}</ЗначенияСвойства></ЗначенияСвойств>",
            )
        )
    properties = (
        "<Свойства><Свойство><Ид>code</Ид><Наименование>Код поставщика</Наименование></Свойство></Свойства>"
    )
    return cml.catalog(
        "".join(rows), groups=f"<Группы>{cml.group('g')}</Группы>{properties}", only_changes=False
    )


def priced(products: int) -> bytes:
    return cml.offers(
        "".join(cml.offer(f"p{i}", "3", str(100 + i)) for i in range(products)), only_changes=False
    )


def test_fifty_thousand_distinct_values_of_one_property_import_and_the_next_exchange_runs(stack, losses):
    onec = stack.onec()
    first = onec.send_file("import.xml", codes_catalog(1000, 50))
    assert first.keyword == "success" and "создано 1002" in first.text, (
        first.text
    )  # with the group and property
    assert onec.send_file("offers.xml", priced(1000)).keyword == "success"
    for path in ("/facets", "/facets?group=g"):
        status, facet = api(stack, path)
        assert status == 200 and facet["count"] == 1000, facet
        (codes,) = facet["properties"]
        assert len(codes["values"]) == MAX_FACET_VALUES and codes["more_values"] == 50_000 - MAX_FACET_VALUES
    # the next exchange (one product renamed) runs: nothing stalled, nothing refused
    again = onec.send_file(
        "import.xml", codes_catalog(1000, 50).replace("Товар 7<".encode(), "Чайник 7<".encode())
    )
    assert again.keyword == "success" and "изменено 1" in again.text, again.text
    losses["stalled_tenants"] = stalled_jobs()
    assert losses["stalled_tenants"] == 0


def tree(depth: int) -> bytes:
    nested = cml.group(f"g{depth - 1}")
    for level in range(depth - 2, -1, -1):
        nested = cml.group(f"g{level}", f"Уровень {level}", nested)
    deepest = f"<Группы><Ид>g{depth - 1}</Ид></Группы>"
    return cml.catalog(cml.product("deep", "Глубокий", deepest), f"<Группы>{nested}</Группы>")


def test_a_group_tree_a_hundred_deep_lists_its_product_from_the_root(stack, losses):
    onec = stack.onec()
    assert onec.send_file("import.xml", tree(100)).keyword == "success"
    assert onec.send_file("offers.xml", cml.offers(cml.offer("deep"))).keyword == "success"
    status, page = api(stack, "/products?group=g0")
    assert status == 200 and [p["id"] for p in page["items"]] == ["deep"], page
    assert api(stack, "/facets?group=g0")[1]["count"] == 1
    losses["stalled_tenants"] = stalled_jobs()
    assert losses["stalled_tenants"] == 0


def test_a_group_tree_deeper_than_xml_allows_fails_in_words_and_the_next_exchange_runs(stack, losses):
    onec = stack.onec()
    refused = onec.send_file("import.xml", tree(300))
    assert refused.keyword == "failure" and "глубже 256 уровней" in refused.text, refused.text
    assert INTERNAL not in refused.text
    assert onec.send_file("import.xml", tree(50)).keyword == "success"
    losses["stalled_tenants"] = stalled_jobs()
    assert losses["stalled_tenants"] == 0


def test_one_product_with_two_thousand_variants_is_one_card_with_every_offer(stack, losses):
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("shirt", "Рубашка"))).keyword == "success"
    variants = "".join(cml.offer(f"shirt#v{n}", "1", str(500 + n)) for n in range(2000))
    answer = onec.send_file("offers.xml", cml.offers(variants))
    assert answer.keyword == "success", answer.text
    status, page = api(stack, "/products")
    assert status == 200 and [(p["id"], p["price"], p["price_max"]) for p in page["items"]] == [
        ("shirt", 500, 2499)
    ]
    status, product = api(stack, "/products/shirt")
    assert status == 200 and len(product["offers"]) == 2000
    losses["stalled_tenants"] = stalled_jobs()
    assert losses["stalled_tenants"] == 0


def test_three_hundred_price_types_on_every_offer_are_all_served(stack, losses):
    types = "".join(
        f"<ТипЦены><Ид>t{n}</Ид><Наименование>Цена {n}</Наименование><Валюта>RUB</Валюта></ТипЦены>"
        for n in range(300)
    )
    prices = "".join(
        f"<Цена><ИдТипаЦены>t{n}</ИдТипаЦены><ЦенаЗаЕдиницу>{1000 + n}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>"
        for n in range(300)
    )
    offers = cml.offers(
        f"<Предложение><Ид>p1</Ид><Наименование>Т</Наименование><Цены>{prices}</Цены><Количество>2</Количество></Предложение>"
    ).replace(
        "<ТипыЦен><ТипЦены><Ид>pt</Ид><Наименование>Розница</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>".encode(),
        f"<ТипыЦен>{types}</ТипыЦен>".encode(),
    )
    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("p1"))).keyword == "success"
    assert onec.send_file("offers.xml", offers).keyword == "success"
    status, product = api(stack, "/products/p1")
    served = {p["price_type_id"]: p["value"] for p in product["offers"][0]["prices"]}
    assert status == 200 and served == {f"t{n}": 1000 + n for n in range(300)}
    losses["stalled_tenants"] = stalled_jobs()
    assert losses["stalled_tenants"] == 0


def huge_offer() -> bytes:
    """An offer whose parts pass one by one (a 300 KB name, 3,000 prices) but together
    outgrow one DynamoDB item (400 KB)."""
    types = "".join(f"<ТипЦены><Ид>t{n}</Ид><Наименование>Ц{n}</Наименование></ТипЦены>" for n in range(3000))
    prices = "".join(
        f"<Цена><ИдТипаЦены>t{n}</ИдТипаЦены><ЦенаЗаЕдиницу>{10_000 + n}.50</ЦенаЗаЕдиницу><Валюта>RUB</Валюта><Единица>шт</Единица></Цена>"
        for n in range(3000)
    )
    return cml.offers(
        f"<Предложение><Ид>big</Ид><Наименование>{'Ж' * 150_000}</Наименование><Цены>{prices}</Цены>"
        "<Количество>1</Количество></Предложение>"
    ).replace(
        "<ТипыЦен><ТипЦены><Ид>pt</Ид><Наименование>Розница</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>".encode(),
        f"<ТипыЦен>{types}</ТипыЦен>".encode(),
    )


def test_an_offer_too_large_for_one_item_is_skipped_by_name_and_the_rest_lands(stack, losses):
    onec = stack.onec()
    catalog = cml.catalog(cml.product("big") + cml.product("small"))
    assert onec.send_file("import.xml", catalog).keyword == "success"
    end = "</Предложения>".encode()
    answer = onec.send_file("offers.xml", huge_offer().replace(end, cml.offer("small", "5").encode() + end))
    assert answer.keyword == "success", answer.text
    assert (
        "записей пропущено: 1" in answer.text
        and "предложение big:" in answer.text
        and "400 КБ" in answer.text
    )
    assert api(stack, "/products/small")[1]["offers"][0]["stock"]["total"] == 5, "the rest of the file landed"
    assert api(stack, "/products/big")[1]["offers"] == [], "the one item too large is left out, said so"
    assert onec.send_file("offers.xml", cml.offers(cml.offer("big", "2", "99"))).keyword == "success"
    assert api(stack, "/products/big")[1]["offers"][0]["stock"]["total"] == 2, "and lands once it fits"
    losses["stalled_tenants"] = stalled_jobs()
    assert losses["stalled_tenants"] == 0


def test_a_file_that_stalls_every_time_can_be_skipped_and_the_next_exchange_runs(stack, losses, monkeypatch):
    """A write that fails on every try (a fault that outlives retries): the file stalls, «Дописать»
    stalls it again, and the owner's «Пропустить файл» frees the tenant; 1C is told."""
    from chalicelib.aws.catalog import CatalogStore
    from tests.test_console import PASSWORD, Browser

    onec = stack.onec()
    assert onec.send_file("import.xml", cml.catalog(cml.product("p1"))).keyword == "success"
    original = CatalogStore.write_changes

    def broken(self, tenant, changes, *rest):
        if any(getattr(getattr(c, "record", None), "id", "") == "p1" for c in changes):
            raise OSError("запись не удалась")
        return original(self, tenant, changes, *rest)

    monkeypatch.setattr(CatalogStore, "write_changes", broken)
    monkeypatch.setattr("chalicelib.exchange.worker.MAX_ATTEMPTS", 1)
    stuck = onec.send_file("offers.xml", cml.offers(cml.offer("p1")))
    assert stuck.keyword == "failure" and "прервана" in stuck.text and INTERNAL not in stuck.text, stuck.text
    blocked = onec.send_file("offers.xml", cml.offers(cml.offer("p1", "3")))
    assert blocked.keyword == "failure" and "прервана и пока не дописана" in blocked.text, blocked.text

    wiring.container().console_auth.add_user("owner@demo.shop", PASSWORD, "demo", "owner", "test")
    browser = Browser(stack)
    browser.login("owner@demo.shop")
    page = browser.get("/console/exchanges").body.decode()
    assert "Дописать" in page and "Пропустить файл" in page
    (job,) = [j for j in wiring.container().exchange_store.jobs("demo", limit=50) if j.status == "stalled"]
    assert browser.post("/console/jobs/skip", {"job": job.id}).status_code == 303
    monkeypatch.setattr(CatalogStore, "write_changes", original)

    after = onec.send_file("offers.xml", cml.offers(cml.offer("p1", "4", "99")))
    assert after.keyword == "success", after.text
    assert "пропущена вручную (owner@demo.shop)" in after.text, "1C is told on its next exchange"
    assert api(stack, "/products/p1")[1]["offers"][0]["stock"]["total"] == 4
    assert "skip" in [a["action"] for a in wiring.container().console_store.actions("demo")]
    losses["stalled_tenants"] = stalled_jobs()
    assert losses["stalled_tenants"] == 0


@pytest.mark.parametrize("status", ["queued", "running"])
def test_resume_refuses_a_job_that_is_queued_or_alive(stack, status):
    from chalicelib.importjob import ImportJob

    store = wiring.container().exchange_store
    job = ImportJob(
        "s-1#import.xml", status=status, filename="import.xml", heartbeat_at=int(__import__("time").time())
    )
    store.create_job("demo", job)
    assert wiring.container().import_worker.resume("demo", job.id) is False
    assert store.get_job("demo", job.id).attempts == 0 and store.get_job("demo", job.id).status == status
