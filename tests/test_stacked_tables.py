"""prepare.skip_repeated_headers on any rows: what it leaves out is only the header again and a
one-cell title right above it, each with a warning; every other row comes through, in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bulkio.issues import Issue
from bulkio.prepare import skip_repeated_headers

HEADER = ["Name", "Owner", "Status"]


@dataclass
class Row:
    number: int
    cells: list[Any]


_CELL = st.one_of(
    st.none(), st.sampled_from(["", "Name", "Owner", "Status", " Name ", "Acme", "Q3"]), st.integers(0, 3)
)
_ROW = st.one_of(
    st.lists(_CELL, min_size=0, max_size=5),
    st.just(list(HEADER)),
    st.just([*HEADER, None, ""]),
    st.just(["Group title", None, None]),
)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(_ROW, max_size=12))
def test_only_repeated_headers_and_their_titles_are_left_out(rows: list[list[Any]]) -> None:
    source = [Row(i + 2, cells) for i, cells in enumerate(rows)]
    issues: list[Issue] = []
    out = list(skip_repeated_headers(iter(source), HEADER, issues))
    kept = [r.number for r in out]
    assert kept == sorted(kept)  # in order, each once
    left = {r.number for r in source} - set(kept)
    assert {i.row for i in issues} == left and len(issues) == len(left)
    by_number = {r.number: r for r in source}
    for issue in issues:
        cells = by_number[issue.row].cells
        texts = [c.strip() if isinstance(c, str) else c for c in cells]
        if issue.code == "repeated_header":
            assert [t for t in texts if t not in (None, "")] == HEADER and texts[:3] == HEADER
        else:
            assert issue.code == "section_title" and issue.severity == "warning"
            assert cells[0] and not any(cells[1:])
            nxt = by_number[issue.row + 1]  # a title is right above a repeated header
            assert any(i.row == nxt.number and i.code == "repeated_header" for i in issues)
