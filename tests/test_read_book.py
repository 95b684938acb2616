"""read_book.py on real workbooks: sheets as people make them (titles above the header, Excel
Tables, merged cells, formulas without saved values, error values), .xls and .ods saved by
LibreOffice, and the cell types calamine gives next to what openpyxl gave."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.errors import InputFileError
from bulkio.read import open_table
from bulkio.sheets import unescape_formula

DATA = Path(__file__).parent / "data" / "read"


def read_all(path: Path | str, **kw: Any) -> tuple[Any, list[tuple[int, list[Any]]]]:
    with open_table(path, **kw) as t:
        rows = [(r.number, r.cells) for r in t.rows]
    return t, rows


def issues(t: Any) -> list[tuple[str, str, int | None, str | None, Any]]:
    return [(i.code, i.severity, i.row, i.column, i.value) for i in t.issues]


# --- sheets as people make them ---------------------------------------------------------------------


def test_title_note_and_blank_rows_above_the_header() -> None:
    t, rows = read_all(DATA / "sheets_as_made.xlsx")
    assert (t.sheet, t.header_row, t.headers) == ("Accounts", 4, ["Name", "external_id", "Employees", "Tier"])
    assert rows == [
        (5, ["Acme", "ACC-1", 10, "Enterprise"]),
        (6, ["Beta", "ACC-2", 20, "SMB"]),
        (7, ["Gamma", "ACC-3", 30, "SMB"]),  # D6:D7 merged
        (8, ["Gamma", "ACC-4", 40, None]),  # A7:A8 merged
        (10, ["Delta", "ACC-5", "ACC-5", None]),  # B10:C10 merged; row 9 is blank
    ]
    assert issues(t) == [
        ("header_not_first", "warning", 4, None, None),
        ("ragged_row", "warning", 6, "E", "stray note"),
        ("merged_cells", "warning", 7, "D", "SMB"),
        ("merged_cells", "warning", 8, "A", "Gamma"),
        ("merged_cells", "warning", 10, "C", "ACC-5"),
    ]
    assert "rows 1–2" in t.issues[0].message and "Accounts to import" in t.issues[0].message
    assert "D6:D7" in t.issues[2].message
    assert all(i.file == str(DATA / "sheets_as_made.xlsx") and i.sheet == "Accounts" for i in t.issues)


def test_header_row_override_reads_the_grid_as_it_is() -> None:
    t, rows = read_all(DATA / "sheets_as_made.xlsx", header_row=2)
    assert t.header_row == 2 and t.headers == ["Owner: sales ops"]
    assert rows[0] == (4, ["Name"])  # everything below the chosen row is data, nothing is merged in
    assert not [i for i in t.issues if i.code == "header_not_first"]
    with pytest.raises(InputFileError, match="no row 40 to use as the header"):
        open_table(DATA / "sheets_as_made.xlsx", header_row=40)


def test_excel_table_not_at_a1_is_read_by_its_range() -> None:
    t, rows = read_all(DATA / "table_offset.xlsx")
    assert (t.sheet, t.table_name, t.header_row) == ("Pipeline", "Deals", 4)
    # columns keep their letters: the table starts at C
    assert t.headers == ["", "", "Deal", "external_id", "Amount", "Close"]
    assert rows == [
        (5, [None, None, "Alpha deal", "D-1", 1000, dt.datetime(2026, 3, 31)]),
        (6, [None, None, "Beta deal", "D-2", 2500.5, dt.datetime(2026, 4, 30)]),
        (8, [None, None, "Gamma deal", "D-3", 0, dt.datetime(2026, 5, 31)]),
    ]  # the title in A1, the note in A10 and the Contacts table in H:I are not read
    assert issues(t) == [("several_tables", "warning", None, None, None)]
    assert "'Contacts'" in t.issues[0].message


def test_a_table_is_chosen_by_name_like_a_sheet() -> None:
    t, rows = read_all(DATA / "table_offset.xlsx", sheet="contacts")
    assert (t.sheet, t.table_name, t.headers[7:]) == ("Pipeline", "Contacts", ["Email", "Deal"])
    assert rows == [(5, [None] * 7 + ["ana@example.com", "D-1"]), (6, [None] * 7 + ["bo@example.com", "D-2"])]
    assert read_all(DATA / "table_offset.xlsx", object_type="deal")[0].table_name == "Deals"
    with pytest.raises(
        InputFileError, match="no sheet 'Leads'; sheets: 'Pipeline'; tables: 'Deals', 'Contacts'"
    ):
        open_table(DATA / "table_offset.xlsx", sheet="Leads")


def test_formulas_without_saved_values_are_errors_on_their_cells() -> None:
    t, rows = read_all(DATA / "formulas_openpyxl.xlsx")
    assert rows == [
        (2, ["Acme", "F-1", 10, None]),
        (3, [None, "F-2", 20, None]),
        (4, ["Gamma", "F-3", None, None]),
    ]
    assert issues(t) == [
        ("formula_without_value", "error", 2, "D", "=C2*2"),
        ("formula_without_value", "error", 3, "A", '=PROPER("beta inc")'),
        ("formula_without_value", "error", 3, "D", "=C3*2"),
        ("formula_without_value", "error", 4, "C", "=10+20"),
    ]
    assert "open the workbook in Excel or LibreOffice, save it" in t.issues[0].message


@pytest.mark.parametrize(
    ("name", "kind"), [("formulas_libreoffice.xlsx", "xlsx"), ("book.xls", "xls"), ("book.ods", "ods")]
)
def test_workbooks_saved_by_libreoffice_read_alike(name: str, kind: str) -> None:
    """The same sheet saved as .xlsx, .xls and .ods: formulas carry saved values, =NA() is an
    error value, A5:A6 is merged, the hidden sheet is not the default."""
    t, rows = read_all(DATA / name)
    assert (t.kind, t.sheet, t.header_row) == (kind, "Accounts", 2)
    assert t.headers == ["Name", "external_id", "Employees", "Revenue", "Renewal", "Check"]
    assert rows == [
        (3, ["Acme", "LO-1", 10, 10000, dt.datetime(2026, 3, 1), "ok"]),
        (4, ["Beta", "LO-2", 20, 20000, dt.datetime(2026, 4, 1, 9, 30), None]),
        (5, ["Gamma", "LO-3", 30, 30000, None, "ok"]),
        (6, ["Gamma", "LO-4", 40, 40000, None, "ok"]),
    ]
    assert all(type(v) is int for _, r in rows for v in r[2:4])
    assert sorted(issues(t), key=str) == sorted(
        [
            ("cell_error", "error", 4, "F", "#N/A"),
            ("header_not_first", "warning", 2, None, None),
            ("merged_cells", "warning", 6, "A", "Gamma"),
        ],
        key=str,
    )
    hidden, hidden_rows = read_all(DATA / name, sheet="hidden")
    assert hidden.sheet == "Hidden" and hidden.headers == ["secret"] and hidden_rows == []


def test_sheet_without_cells_and_unknown_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Empty"
    p = tmp_path / "empty.xlsx"
    wb.save(p)
    with pytest.raises(InputFileError, match="sheet 'Empty' is empty"):
        open_table(p)


def test_unnamed_column_with_values_warns_once(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", None, "City"])
    ws.append(["Acme", None, "Berlin"])
    ws.append(["Beta", "x", "Paris"])
    ws.append(["Gamma", "y", None])
    p = tmp_path / "unnamed.xlsx"
    wb.save(p)
    t, rows = read_all(p)
    assert t.headers == ["Name", "", "City"] and len(rows) == 3
    assert issues(t) == [("unnamed_column", "warning", 3, "B", "x")]


# --- the types the pipeline gets --------------------------------------------------------------------


def _openpyxl_rows(path: Path) -> list[list[Any]]:
    """What the reader gave before calamine: openpyxl's values, cleaned the same way."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = []
    for row in wb.active.iter_rows(values_only=True):
        cells = []
        for v in row:
            if isinstance(v, str):
                v = v.strip().replace("\x00", "")
                v = unescape_formula(v) if v.startswith("'") else v
                v = v or None
            cells.append(v)
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    wb.close()
    return out


cell_values = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False).map(lambda f: round(f, 6)),
    st.booleans(),
    st.datetimes(dt.datetime(1901, 1, 1), dt.datetime(2200, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    st.dates(dt.date(1901, 1, 1), dt.date(2200, 1, 1)),
    st.times().map(lambda t: t.replace(microsecond=0)),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from(["'=1+1", "  padded  ", "'@x", "Zürich €", "東京"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell_values, min_size=1, max_size=6), min_size=1, max_size=6))
def test_calamine_gives_the_types_openpyxl_gave(tmp_path: Path, rows: list[list[Any]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([f"h{i}" for i in range(6)])
    for r in rows:
        ws.append(r)
    p = tmp_path / "types.xlsx"
    wb.save(p)
    expected = _openpyxl_rows(p)
    t, got = read_all(p)
    assert t.headers == expected[0]
    want = [
        (n, r + [None] * (6 - len(r)))
        for n, r in enumerate(expected[1:], start=2)
        if any(v is not None for v in r)
    ]
    assert [(n, c) for n, c in got] == want
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert [type(x) for x in a] == [type(x) for x in b]


def test_xlsb_is_named(tmp_path: Path) -> None:
    p = tmp_path / "book.xlsb"
    import zipfile

    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(InputFileError, match=r"binary workbook \(\.xlsb\); save it as \.xlsx"):
        open_table(p)


def test_formula_without_value_in_the_header_only_warns(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "external_id", '=CONCAT("Ci", "ty")'])
    ws.append(["Acme", "A-1", "Berlin"])
    p = tmp_path / "h.xlsx"
    wb.save(p)
    t, rows = read_all(p)
    assert (
        t.headers == ["Name", "external_id"]
        and rows == [(2, ["Acme", "A-1", None])]
        or rows == [(2, ["Acme", "A-1"])]
    )
    assert [(i.code, i.severity, i.row, i.column) for i in t.issues][:1] == [
        ("formula_without_value", "warning", 1, "C")
    ]


def test_a_table_without_a_header_row_takes_its_column_names(tmp_path: Path) -> None:
    from openpyxl.worksheet.table import Table, TableColumn

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"], ws["C3"], ws["B4"], ws["C4"] = "Headless Co", "H-1", "Second", "H-2"
    table = Table(displayName="Accounts", ref="B3:C4", headerRowCount=0)
    table.tableColumns = [TableColumn(id=1, name="Name"), TableColumn(id=2, name="external_id")]
    table.autoFilter = None
    ws.add_table(table)
    p = tmp_path / "headless.xlsx"
    wb.save(p)
    t, rows = read_all(p)
    assert (t.table_name, t.header_row, t.headers) == ("Accounts", 2, ["", "Name", "external_id"])
    assert rows == [(3, [None, "Headless Co", "H-1"]), (4, [None, "Second", "H-2"])]
