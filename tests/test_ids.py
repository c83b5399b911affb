"""The exchange's ids as values: made and read back in one place each."""

import time

from chalicelib.ids import AreaId, JobId, SessionToken


def test_a_session_token_sorts_by_time_and_says_when_it_began():
    before = int(time.time() * 1000)
    token = SessionToken.new()
    assert len(str(token)) == 32 and str(token) >= SessionToken.prefix_at(before)
    assert before <= token.began_ms <= int(time.time() * 1000)
    assert SessionToken("not-hex-at-all").began_ms is None


def test_an_area_is_read_back_from_its_text_and_odd_text_is_not_an_area():
    token = SessionToken.new()
    area = token.area(3)
    assert AreaId.parse(str(area)) == area and str(area) == f"{token}-3"
    assert [AreaId.parse(t) for t in ("", "-3", "abc-", "abc-x", "abc")] == [None] * 5


def test_job_ids_keep_the_shapes_stores_sort_by():
    assert str(JobId.for_file("0001aaaaaaaa-1", "import.xml")) == "0001aaaaaaaa-1#import.xml"
    assert str(JobId.deactivation("0001aaaaaaaa", "1700000000")) == "0001aaaaaaaa#~deactivate#1700000000"
    assert str(JobId.rebuild()).startswith("~cards#")
