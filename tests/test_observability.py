"""The local stack's terminal: one readable line an event, and 1C's import polls of a file shown
as their first `progress` and the answer that ends them."""

from __future__ import annotations

import logging

from chalicelib.observability import OnePollALine


def call(mode: str, answer: str, file: str = "import.xml") -> logging.LogRecord:
    record = logging.LogRecord("cmlbridge", logging.INFO, __file__, 1, "1C call", None, None)
    record.__dict__.update(type="catalog", mode=mode, file=file, answer=answer)
    return record


def test_a_files_polls_show_as_their_first_progress_and_the_answer_that_ends_them():
    kept = OnePollALine()
    polls = [call("import", "progress") for _ in range(5)] + [call("import", "success")]
    assert [kept.filter(r) for r in polls] == [True, False, False, False, False, True]
    assert kept.filter(call("import", "progress", "offers.xml")), "another file: its own first line"
    assert kept.filter(call("import", "progress")), "the same name again after it ended"
    assert all(kept.filter(call("file", "success")) for _ in range(3)), "chunks are not polls"
    other = logging.LogRecord("cmlbridge", logging.INFO, __file__, 1, "import step", None, None)
    assert kept.filter(other)
