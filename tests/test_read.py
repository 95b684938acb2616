"""read.py on real files: encodings, delimiters, ragged rows, XLSX types and formulas, sheets,
header detection, hostile and broken inputs, plus fuzzing (only InputFileError may escape)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.xml
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.errors import InputFileError
from bulkio.issues import CODES
from bulkio.read import MAX_CELL_CHARS, SourceRow, open_table

DATA = Path(__file__).parent / "data" / "read"


def read_all(path: Path | str, **kw: Any) -> tuple[Any, list[tuple[int, list[Any]]]]:
    with open_table(path, **kw) as t:
        rows = [(r.number, r.cells) for r in t.rows]
    return t, rows


# --- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "headers", "rows"),
    [
        (
            "utf8_bom_semicolon.csv",
            "utf-8-sig",
            ";",
            ["Name", "Amount", "Notes"],
            [(2, ["Café Zürich", "1.234,50", "has ; inside"]), (3, ["Beta GmbH", "12", "two\nlines"])],
        ),
        (
            "utf16_tab.csv",
            "utf-16",
            "\t",
            ["Name", "City", "Score"],
            [(2, ["ÜberCorp", "München", "7"]), (3, ["東京 Labs", "Tōkyō", "9"])],
        ),
        (
            "cp1252.csv",
            "cp1252",
            ",",
            ["Name", "Price", "City"],
            [(2, ["Café Müller", "€5", "Zürich"]), (3, ["Crème", "€7", "Genève"])],
        ),
        (
            "pipe.csv",
            "utf-8",
            "|",
            ["Name", "Formula", "Flag"],
            [(2, ["Acme", "=1+1", "yes"]), (3, ["Beta", "'=2", None])],
        ),
    ],
)
def test_csv_fixtures(
    name: str, encoding: str, delimiter: str, headers: list[str], rows: list[tuple[int, list[Any]]]
) -> None:
    t, got = read_all(DATA / name)
    assert (t.encoding, t.delimiter, t.headers, t.header_row, t.sheet, t.kind) == (
        encoding,
        delimiter,
        headers,
        1,
        None,
        "csv",
    )
    assert got == rows
    assert t.fingerprint == hashlib.sha256((DATA / name).read_bytes()).hexdigest()


def test_cp1252_is_reported() -> None:
    t, _ = read_all(DATA / "cp1252.csv")
    assert [(i.code, i.severity) for i in t.issues] == [("encoding_guessed", "warning")]
    assert "Windows-1252" in t.issues[0].message and t.issues[0].file == str(DATA / "cp1252.csv")
    t, _ = read_all(DATA / "utf8_bom_semicolon.csv")
    assert t.issues == []


def test_ragged_rows_blank_rows_and_padding() -> None:
    t, rows = read_all(DATA / "ragged.csv")
    assert rows == [(2, ["Fine", "K1"]), (3, ["Long", "K2"]), (4, ["Short", None]), (7, ["Trailing", "K5"])]
    assert [(i.code, i.row, i.column, i.value, i.severity) for i in t.issues] == [
        ("ragged_row", 3, "C", "extra1", "warning")
    ]
    assert "extra1" in t.issues[0].message and "extra2" in t.issues[0].message


def test_explicit_encoding_delimiter_and_header_row(tmp_path: Path) -> None:
    t, rows = read_all(DATA / "cp1252.csv", encoding="latin-1", delimiter=",")
    assert t.encoding == "latin-1" and t.issues == [] and rows[0][1][0] == "Café Müller"
    p = tmp_path / "x.csv"
    p.write_text("title line\n\nA,B\n1,2\n", encoding="utf-8")
    t, rows = read_all(p, header_row=3)
    assert t.headers == ["A", "B"] and t.header_row == 3 and rows == [(4, ["1", "2"])]
    with pytest.raises(InputFileError, match="row 9") as exc:
        open_table(p, header_row=9)
    assert str(p) in str(exc.value)
    with pytest.raises(InputFileError, match="one character"):
        open_table(p, delimiter=";;")
    with (
        pytest.raises(InputFileError, match="cannot be decoded as utf-8"),
        open_table(DATA / "cp1252.csv", encoding="utf-8") as t,
    ):
        list(t.rows)


def test_utf16_without_bom_and_utf8_without_bom(tmp_path: Path) -> None:
    p = tmp_path / "u16.csv"
    p.write_bytes("Name,City\nÜberCorp,Zürich\n".encode("utf-16-le"))
    t, rows = read_all(p)
    assert t.encoding == "utf-16-le" and rows == [(2, ["ÜberCorp", "Zürich"])]
    p.write_bytes("Name,City\nÜberCorp,Zürich\n".encode())
    t, rows = read_all(p)
    assert t.encoding == "utf-8" and rows == [(2, ["ÜberCorp", "Zürich"])] and t.issues == []


def test_delimiter_sniffing_prefers_consistent_columns(tmp_path: Path) -> None:
    p = tmp_path / "semi.csv"
    p.write_text("Name;Amount (USD, net);Note\nA;1,5;x, y\nB;2;z\n", encoding="utf-8")
    assert read_all(p)[0].delimiter == ";"
    p.write_text("Name\nAcme, Inc.\nBeta\n", encoding="utf-8")  # one column: commas are data
    t, _rows = read_all(p, delimiter=",")
    assert t.headers == ["Name"]


def test_big_cell_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    big = "x" * (MAX_CELL_CHARS + 10)
    p.write_text(f"Name,Key\nOk,K1\n{big},K2\nAlso ok,K3\n", encoding="utf-8")
    t, rows = read_all(p)
    assert rows == [(2, ["Ok", "K1"]), (3, [None, "K2"]), (4, ["Also ok", "K3"])]
    assert [(i.code, i.row, i.column, i.severity) for i in t.issues] == [("cell_too_large", 3, "A", "error")]


def test_nul_bytes_never_reach_cells(tmp_path: Path) -> None:
    p = tmp_path / "nul.csv"
    p.write_bytes(b"Name,Key\nNul\x00Co,K1\n\x00\x00,K2\n")
    assert read_all(p)[1] == [(2, ["NulCo", "K1"]), (3, [None, "K2"])]


def test_rows_stream_once() -> None:
    with open_table(DATA / "pipe.csv") as t:
        first = list(t)
        assert len(first) == 2 and isinstance(first[0], SourceRow)
        assert list(t.rows) == []


# --- XLSX ------------------------------------------------------------------------------------


def test_openpyxl_parses_with_defusedxml() -> None:
    assert openpyxl.xml.DEFUSEDXML is True


def test_xlsx_types_and_formulas() -> None:
    t, rows = read_all(DATA / "types.xlsx")
    assert (t.kind, t.sheet, t.encoding, t.delimiter) == ("xlsx", "Data", None, None)
    assert t.headers == [
        "Name",
        "Date",
        "When",
        "Count",
        "Ratio",
        "Active",
        "Double",
        "Missing",
        "Text",
        "Pct",
    ]
    assert rows == [
        (
            2,
            [
                "Acme",
                dt.datetime(2026, 3, 16),
                dt.datetime(2026, 3, 16, 14, 30),
                42,
                1234.5,
                True,
                84,
                None,
                "=1+1",
                0.125,
            ],
        ),
        (3, ["Beta", dt.datetime(2026, 1, 2), None, 0, -0.25, False, 0, None, "@x", None]),
    ]
    assert [(i.code, i.row, i.column, i.value, i.severity) for i in t.issues] == [
        ("formula_without_value", 2, "H", "=NOPE()", "error")
    ]
    assert t.fingerprint == hashlib.sha256((DATA / "types.xlsx").read_bytes()).hexdigest()


def test_sheet_choice() -> None:
    t, rows = read_all(DATA / "multi_sheet.xlsx")
    assert t.sheet == "Accounts" and rows == [(2, ["Acme", "A-1"])]
    assert read_all(DATA / "multi_sheet.xlsx", object_type="contact")[0].sheet == "Contacts"
    assert read_all(DATA / "multi_sheet.xlsx", sheet="contacts")[0].sheet == "Contacts"
    assert read_all(DATA / "multi_sheet.xlsx", sheet="Secret")[0].headers == ["Hidden", "x"]
    with pytest.raises(InputFileError, match="no sheet 'Deals'.*'Accounts'") as exc:
        open_table(DATA / "multi_sheet.xlsx", sheet="Deals")
    assert str(DATA / "multi_sheet.xlsx") in str(exc.value)
    with pytest.raises(InputFileError, match="CSV file has no sheets"):
        open_table(DATA / "pipe.csv", sheet="Accounts")


def test_bulkio_header_below_a_title_row() -> None:
    t, rows = read_all(DATA / "bulkio_header.xlsx")
    assert t.header_row == 3 and t.headers[:2] == ["Name* ($name)", "Stage* ($stage)"]
    assert rows == [(4, ["Deal 1", "Lead", 1000, None]), (6, ["Deal 2", "Qualified", 2500.5, "n"])]
    t, rows = read_all(DATA / "bulkio_header.xlsx", header_row=1)
    assert t.headers == ["Opportunities import — fill in from row 4"] and t.issues[0].code == "ragged_row"


def test_xlsx_trailing_empty_header_cells_and_data_beyond(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["A", "B", None, None])
    ws.append(["1", None, None, "stray"])
    ws.append([None, None])
    ws.append(["3", "4"])
    p = tmp_path / "t.xlsx"
    wb.save(p)
    t, rows = read_all(p)
    assert t.headers == ["A", "B"] and rows == [(2, ["1", None]), (4, ["3", "4"])]
    assert [(i.code, i.row, i.column) for i in t.issues] == [("ragged_row", 2, "D")]


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    x = tmp_path / "export.dat"
    x.write_bytes((DATA / "multi_sheet.xlsx").read_bytes())
    assert read_all(x)[0].kind == "xlsx"
    c = tmp_path / "export.dat2"
    c.write_bytes(b"A;B\n1;2\n")
    assert read_all(c)[1] == [(2, ["1", "2"])]


# --- refused inputs --------------------------------------------------------------------------


def _xlsx_bytes() -> bytes:
    return (DATA / "multi_sheet.xlsx").read_bytes()


def _replace_member(data: bytes, member: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, content if item.filename == member else src.read(item.filename))
        if member not in src.namelist():
            dst.writestr(member, content)
    return buf.getvalue()


ENTITY_SHEET = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>'
)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "file not found"),
        (
            "old.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "not a readable .xls.*save it as .xlsx",
        ),
        (
            "locked.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le"),
            "password-protected",
        ),
        ("text.xlsx", b"Name,Key\nA,1\n", r"not an \.xlsx workbook \(is it \.xls or CSV\?\)"),
        ("empty.xlsx", b"", "not an .xlsx workbook"),
        ("cut.xlsx", _xlsx_bytes()[:1500], "damaged or truncated"),
        ("other.xlsx", None, "no xl/workbook.xml"),
        ("entities.xlsx", None, "DTD or entities"),
        ("bomb.xlsx", None, "zip bomb"),
        ("empty.csv", b"", "is empty: expected a header row"),
        ("blank.csv", b"\n\n , \n", "is empty"),
        ("binary.csv", bytes(range(256)) * 8, "not a text CSV"),
        ("zip.csv", _xlsx_bytes(), "rename it to .xlsx"),
    ],
)
def test_refused_inputs_name_the_file(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    p = tmp_path / name
    if name == "other.xlsx":
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("word/document.xml", "<x/>")
    elif name == "entities.xlsx":
        p.write_bytes(_replace_member(_xlsx_bytes(), "xl/worksheets/sheet4.xml", ENTITY_SHEET))
    elif name == "bomb.xlsx":
        p.write_bytes(_replace_member(_xlsx_bytes(), "xl/sharedStrings.xml", b"\x00" * (20 * 1024 * 1024)))
    elif content is not None:
        p.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as exc, open_table(p) as t:
        list(t.rows)
    assert exc.value.path == str(p) and str(p) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="directory"):
        open_table(tmp_path)


# --- fuzzing ---------------------------------------------------------------------------------

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".txt", ".bin", ".tsv"]))
def test_random_bytes_only_raise_input_file_error(tmp_path: Path, data: bytes, suffix: str) -> None:
    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(data)
    try:
        with open_table(p) as t:
            for row in t.rows:
                assert len(row.cells) == len(t.headers)
            assert all(i.code in CODES for i in t.issues)
    except InputFileError as exc:
        assert str(p) in str(exc)


@FUZZ
@given(data=st.binary(min_size=200, max_size=3000), cut=st.integers(0, 3000))
def test_damaged_workbooks_only_raise_input_file_error(tmp_path: Path, data: bytes, cut: int) -> None:
    raw = bytearray(_xlsx_bytes())
    pos = cut % len(raw)
    raw[pos : pos + len(data)] = data
    p = tmp_path / "damaged.xlsx"
    p.write_bytes(bytes(raw))
    try:
        with open_table(p) as t:
            list(t.rows)
    except InputFileError as exc:
        assert str(p) in str(exc)


cell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)


@FUZZ
@given(
    rows=st.lists(st.lists(cell_text, min_size=1, max_size=5), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_random_csv_reads_back_exactly(
    tmp_path: Path, rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    header = [f"col{i}" for i in range(max(len(r) for r in rows))]
    p = tmp_path / "r.csv"
    with open(p, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows([header, *rows])
    expected = []
    for number, r in enumerate(rows, start=2):
        cells: list[Any] = []
        for v in r:
            v = v.strip()
            if v[:1] == "'" and v[1:2] in ("=", "+", "-", "@", "\t", "\r"):
                v = v[1:]
            cells.append(v or None)
        cells += [None] * (len(header) - len(cells))
        if any(c is not None for c in cells):
            expected.append((number, cells))
    # a one-column file has no delimiter to sniff
    for kw in ({"delimiter": delimiter}, {}) if len(header) > 1 else ({"delimiter": delimiter},):
        t, got = read_all(p, **kw)
        assert t.headers == header and t.delimiter == delimiter
        assert got == expected


def test_a_totals_rows_formula_is_not_a_records_error(tmp_path: Path) -> None:
    """A hand-kept sheet's "Summe" row under the data holds =SUM(…) without a saved value (written by
    a program that does not calculate): the row is skipped as a totals row, and its formula is only
    a warning, not an error of a record."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Firma", "Umsatz"])
    ws.append(["Müller GmbH", 125000.5])
    ws.append(["Weber", 300])
    ws.append(["Summe", "=SUM(B2:B3)"])
    path = tmp_path / "kunden.xlsx"
    wb.save(path)
    t, rows = read_all(path)
    assert [n for n, _ in rows] == [2, 3]
    assert sorted((i.code, i.row, i.severity) for i in t.issues) == [
        ("formula_without_value", 4, "warning"),
        ("summary_row", 4, "warning"),
    ]


_FIRST_CELLS = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(" :()©0123456789 totalgrandsubovermgeschwinzcpyrihfdpTOTALGRANDSUBÄİıKſΣ")),
        st.characters(),
    ),
    max_size=14,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_FIRST_CELLS)
def test_the_quick_look_turns_away_only_rows_summary_row_would(first: str) -> None:
    """summary_row's one-pattern look at the first cell rejects only cells whose stripped, lower-cased
    head starts with none of the totals and footer words (what the checks after it require)."""
    from bulkio import read

    text = first.strip(" :")
    if text[:9].lower().startswith(read._TOTAL_STARTS + read._FOOTER_STARTS):
        assert read._MAY_START.match(first) is not None
    for shape in ("Grand Totals (7 records)", " :Total:", "TOTAL", "© 2024 x rights reserved", "Summe"):
        assert read.summary_row([shape]) == shape
