"""A first whole 1C session through chalice.test on moto."""

from __future__ import annotations

import json


def test_one_file_session(stack, samples):
    onec = stack.onec()
    data = (samples / "dobromyslov__commerceml-parser/data/import0_1.xml").read_bytes()
    onec.file_limit = 50_000
    reply = onec.send_file("import0_1.xml", data)
    assert reply.keyword == "success", (reply.text, onec.log)
    items = stack.catalog_items()
    products = [i for i in items if i["sk"] == "product"]
    assert len(products) == 36
    inactive = [p for p in products if not p["active"]]
    assert len(inactive) == 1
    assert json.loads(products[0]["doc"])["name"]
