"""`sync.cards.bounded`: a facet as stored and served never outgrows its budget, says how much it
left out, keeps the most common values, and bounding it again changes nothing."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.sync.facets import MAX_FACET_VALUES, bounded

values = st.dictionaries(st.text(min_size=1, max_size=60), st.integers(1, 50), max_size=400)
facets = st.dictionaries(st.text(min_size=1, max_size=40), values, max_size=30)


@settings(max_examples=60, deadline=None)
@given(facets, st.integers(min_value=2_000, max_value=60_000))
def test_bounded_fits_counts_what_it_left_out_and_is_stable(props, budget):
    facet = {"count": 9, "values": props}
    result = bounded(facet, max_bytes=budget)
    size = sum(len(json.dumps({p: v}, ensure_ascii=False).encode()) for p, v in result["values"].items())
    more = result.get("more", {})
    assert size <= budget + sum(len(json.dumps(p, ensure_ascii=False).encode()) + 12 for p in more)
    for pid, kept in result["values"].items():
        assert len(kept) + more.get(pid, 0) == len(props[pid]), "every distinct value is kept or counted"
        assert set(kept.items()) <= set(props[pid].items())
        left = sorted(props[pid].values(), reverse=True)[len(kept) :]
        assert all(count <= min(kept.values()) for count in left) if kept and left else True
    assert len(result["values"]) + result.get("more_properties", 0) == len(props)
    assert bounded(result, max_bytes=budget) == result
    assert result["count"] == 9


def test_fifty_thousand_codes_of_one_property_keep_the_most_common_and_count_the_rest():
    codes = {f"c{n}": 1 for n in range(50_000)} | {"популярный": 40}
    facet = bounded({"count": 1, "values": {"code": codes, "colour": {"синий": 3, "красный": 2}}})
    assert len(facet["values"]["code"]) == MAX_FACET_VALUES and facet["values"]["code"]["популярный"] == 40
    assert facet["more"] == {"code": 50_001 - MAX_FACET_VALUES}
    assert facet["values"]["colour"] == {"красный": 2, "синий": 3} and "more_properties" not in facet
    assert len(json.dumps(facet, ensure_ascii=False).encode()) < 120_000


def test_thousands_of_properties_drop_the_widest_whole_and_say_how_many():
    props = {f"p{n:04d}": {"x" * 200 + str(n): 1} for n in range(5_000)}
    facet = bounded({"count": 1, "values": props})
    assert 0 < len(facet["values"]) < 5_000 and facet["more_properties"] == 5_000 - len(facet["values"])
    assert len(json.dumps(facet, ensure_ascii=False).encode()) < 130_000
