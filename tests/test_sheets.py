"""sheets.py: formula escaping, atomic writes, CSV with BOM, styled XLSX tables (both worksheet
kinds), read back with openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bulkio import sheets
from bulkio.sheets import (
    atomic_path,
    currency_format,
    escape_formula,
    new_workbook,
    safe_cell,
    save_workbook,
    unescape_formula,
    write_csv,
    write_table,
)

DANGEROUS = ["=1+1", '=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=", "-"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_escape_prefixes_quote(text: str) -> None:
    assert escape_formula(text) == "'" + text
    assert unescape_formula(escape_formula(text)) == text


@pytest.mark.parametrize("text", ["Acme", "", "'", "'quoted'", "a=b", " =x", "\nx", "'Acme"])
def test_escape_leaves_harmless_text(text: str) -> None:
    assert escape_formula(text) == text
    assert unescape_formula(text) == text


def test_unescape_strips_exactly_one_quote() -> None:
    assert unescape_formula("''=x") == "'=x"  # escape_formula("'=x") == "''=x"
    assert escape_formula("'=x") == "''=x"
    assert unescape_formula("'=x") == "=x"
    assert unescape_formula("'-") == "-"


@given(st.text())
def test_escape_round_trip(text: str) -> None:
    assert unescape_formula(escape_formula(text)) == text


class Text(str):
    pass


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=6),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False),
            st.datetimes(),
            st.dates(),
            st.text(max_size=6).map(Text),
        )
    )
)
def test_csv_row_is_csv_value_per_cell(values: list[object]) -> None:
    # csv_row skips the call for plain text and None: it must agree with csv_value everywhere
    assert sheets.csv_row(values) == [sheets.csv_value(v) for v in values]
    assert all(
        sheets.csv_value(v) == ("'" + v if sheets._needs_prefix(v) else v)
        for v in values
        if isinstance(v, str)
    )


def test_safe_cell_only_touches_text() -> None:
    d = dt.date(2026, 3, 16)
    assert safe_cell("=x") == "'=x"
    assert safe_cell(-5) == -5
    assert safe_cell(-5.5) == -5.5
    assert safe_cell(d) is d
    assert safe_cell(True) is True
    assert safe_cell(None) is None


def test_currency_formats() -> None:
    assert currency_format("USD") == '"$"#,##0.00'
    assert currency_format("usd") == '"$"#,##0.00'
    assert currency_format("EUR") == '#,##0.00 "EUR"'
    assert currency_format(None) == "#,##0.00"


# --- atomic ------------------------------------------------------------------------------------


def test_atomic_path_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_path_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old workbook")
    with pytest.raises(RuntimeError, match="midway"), atomic_path(target) as tmp:
        tmp.write_bytes(b"half a workbook")
        raise RuntimeError("midway")
    assert target.read_bytes() == b"old workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]


def test_write_csv_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    write_csv(target, ["A"], [["old"]])
    before = target.read_bytes()

    def rows():
        yield ["new 1"]
        raise ValueError("source broke")

    with pytest.raises(ValueError):
        write_csv(target, ["A"], rows())
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_atomic_path_creates_directory(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "dir" / "x.csv"
    write_csv(target, ["A"])
    assert target.exists()


# --- CSV -------------------------------------------------------------------------------------


def test_write_csv_bom_and_escaping(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    n = write_csv(
        path,
        ["Name* ($name)", "=Header"],
        [
            ["=cmd|' /C calc'!A0", -5],
            ['Ünïcødé, "quoted"', None],
            [True, dt.date(2026, 3, 16)],
            [dt.datetime(2026, 3, 16, 14, 30), Decimal("1.50")],
        ],
    )
    assert n == 4
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["Name* ($name)", "'=Header"],
        ["'=cmd|' /C calc'!A0", "-5"],
        ['Ünïcødé, "quoted"', ""],
        ["yes", "2026-03-16"],
        ["2026-03-16 14:30", "1.50"],
    ]


# --- XLSX ------------------------------------------------------------------------------------

ROWS = [
    ['=HYPERLINK("http://evil","x")', 1250000, dt.datetime(2026, 3, 16, 14, 30), True],
    ["+33 1 23", -5, dt.date(2026, 3, 16), False],
    ["@foo", 1.5, None, None],
    ["bell\x07 char", Decimal("2.25"), dt.datetime(2026, 3, 16, 12, 0, tzinfo=dt.UTC), None],
    ["#N/A", 0, None, None],
    ["'=quoted", 0, None, None],
]
HEADERS = ["Name* ($name)", "Amount (amount)", "Close Date (closeDate)", "Customer (isCustomer)"]


@pytest.mark.parametrize("write_only", [False, True])
def test_write_table_no_formulas_and_formats(tmp_path: Path, write_only: bool) -> None:
    wb = new_workbook(write_only=write_only)
    ws = wb.create_sheet("Data")
    n = write_table(ws, HEADERS, iter(ROWS), formats={1: currency_format("USD")}, required=[0])
    assert n == 6
    path = tmp_path / "t.xlsx"
    save_workbook(wb, path)

    ws2 = load_workbook(path)["Data"]
    assert [c.value for c in ws2[1]] == HEADERS
    for row in ws2.iter_rows():
        for c in row:
            assert c.data_type not in ("f", "e"), c.coordinate
    # text is a text cell, shown as it is: no spreadsheet evaluates it, so no ' is needed
    assert ws2["A2"].value == '=HYPERLINK("http://evil","x")' and ws2["A2"].data_type == "s"
    assert ws2["A3"].value == "+33 1 23" and ws2["A3"].data_type == "s"
    assert ws2["A4"].value == "@foo"
    assert ws2["A5"].value == "bell char"
    assert ws2["A6"].value == "#N/A" and ws2["A6"].data_type == "s"  # text, not an error value
    assert ws2["A7"].value == "''=quoted"  # the reader strips one ': the text comes back as it was
    assert ws2["B2"].value == 1250000 and ws2["B2"].number_format == '"$"#,##0.00'
    assert ws2["B3"].value == -5 and ws2["B3"].data_type == "n"
    assert ws2["C2"].value == dt.datetime(2026, 3, 16, 14, 30)
    assert ws2["C2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws2["C3"].number_format == "yyyy-mm-dd"
    assert ws2["C5"].value == dt.datetime(2026, 3, 16, 12, 0)
    assert ws2["D2"].value is True and ws2["D3"].value is False
    # header styling
    assert ws2["A1"].font.b and ws2["B1"].font.b
    assert ws2["A1"].fill.fgColor.rgb == sheets.REQUIRED_FILL.fgColor.rgb
    assert ws2["B1"].fill.fgColor.rgb == sheets.HEADER_FILL.fgColor.rgb
    assert ws2.freeze_panes == "A2"
    assert ws2.auto_filter.ref == "A1:D7"
    # widths from the content: the long formula text makes column A wider than B
    assert ws2.column_dimensions["A"].width > ws2.column_dimensions["D"].width >= sheets.MIN_WIDTH


def test_write_table_streams_more_rows_than_sample(tmp_path: Path) -> None:
    wb = new_workbook(write_only=True)
    ws = wb.create_sheet("Big")
    total = sheets.WIDTH_SAMPLE_ROWS + 57
    n = write_table(ws, ["N (n)", "T (t)"], ((i, f"-{i}") for i in range(total)))
    assert n == total
    save_workbook(wb, tmp_path / "b.xlsx")
    ws2 = load_workbook(tmp_path / "b.xlsx", read_only=True)["Big"]
    values = list(ws2.values)
    assert len(values) == total + 1
    assert values[-1] == (total - 1, f"-{total - 1}")  # text, as it is


def test_save_workbook_is_deterministic(tmp_path: Path) -> None:
    wb = new_workbook()
    write_table(wb.create_sheet("S"), ["A"], [["x"]])
    save_workbook(wb, tmp_path / "s.xlsx")
    props = load_workbook(tmp_path / "s.xlsx").properties
    assert props.created == sheets.FIXED_TIMESTAMP
    assert props.modified == sheets.FIXED_TIMESTAMP


def test_column_widths_clamped() -> None:
    w = sheets.column_widths(["a", "b" * 500], [["x" * 1000, None]])
    assert w == [sheets.MAX_WIDTH, sheets.MAX_WIDTH]
    assert sheets.column_widths(["a"], []) == [sheets.MIN_WIDTH]


def test_atomic_path_permissions(tmp_path: Path) -> None:
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    fresh = tmp_path / "new.csv"
    write_csv(fresh, ["A"])
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    kept = tmp_path / "kept.csv"
    kept.write_text("x")
    kept.chmod(0o600)
    write_csv(kept, ["A"])
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
