"""The streaming XLSX writer (bulkio/xlsx_stream.py) behind results sheets, results workbooks and
errors files: the file it writes reads back, in openpyxl and in python-calamine, exactly like the
sheet openpyxl's write-only mode wrote before (``bench/_openpyxl_results.py`` keeps that writer):
values, types, number formats, fills, comments, header style, frozen pane, autofilter, widths. And
it is a valid, deterministic package, written atomically, in bounded memory, that bulkio imports
back with no writes.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import subprocess
import threading
import tracemalloc
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from bulkio import xlsx_stream
from bulkio.issues import Issue
from bulkio.operations import RowOutcome
from bulkio.read import SourceRow
from bulkio.results import ResultSheet, write_errors, write_results, write_results_book
from bulkio.sheets import ILLEGAL_CHARACTERS_RE, _needs_prefix

_spec = importlib.util.spec_from_file_location(
    "_openpyxl_results", Path(__file__).parent.parent / "bench" / "_openpyxl_results.py"
)
assert _spec is not None and _spec.loader is not None
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

HEADERS = ["Name* ($name)", "=Amount", "Renewal", "Flag", "Notes", "#N/A"]
TEXTS = [
    "plain",
    "=SUM(A1:A2)",
    "'=already escaped",
    "''=two",
    "'plain quote",
    "-5",
    "+1",
    "@cmd",
    "#N/A",
    "#DIV/0!",
    "a & b < c > d \" e ' f",
    "  padded  ",
    " ",
    "\ttab first",
    "line\nbreak",
    "cr\rinside",
    "ctl\x01\x02\x0bchars\x1f",
    "\x00",
    "ünïcødé → ✓ 🚀",
    "",
]


def _issue(code: str, column: str | None, severity: str = "error") -> Issue:
    return Issue(code=code, message=f"{code} <message> & more", column=column, severity=severity)  # type: ignore[arg-type]


def _rows() -> list[SourceRow]:
    rows = []
    number = 4  # header at row 3: two title rows above it
    for i, text in enumerate(TEXTS):
        rows.append(
            SourceRow(
                number,
                [
                    text,
                    [1, -2.5, 10**20, 0.1 + 0.2, Decimal("12.34"), float("nan"), True, False, 0][i % 9],
                    [
                        dt.date(2026, 3, 16),
                        dt.datetime(2026, 3, 16, 9, 30, 15),
                        dt.datetime(2026, 3, 16, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                        dt.time(13, 45, 30),
                        dt.date(1900, 2, 1),
                        None,
                    ][i % 6],
                    i % 2 == 0,
                    None if i % 4 == 3 else f"note {i}",
                    dt.timedelta(days=-1) if i == 5 else "x",
                ],
            )
        )
        number += 2 if i % 5 == 4 else 1  # some blank input rows keep their place
    rows.append(SourceRow(number, ["short"]))  # fewer cells than headers
    rows.append(SourceRow(number + 1, ["a", "b", "c", "d", "e", "f", "extra cut"]))  # more
    return rows


def _outcomes(rows: Sequence[SourceRow]) -> dict[int, RowOutcome]:
    outs: dict[int, RowOutcome] = {}
    for i, row in enumerate(rows):
        n = row.number
        if i % 4 == 0:
            outs[n] = RowOutcome(
                n,
                "failed",
                issues=[
                    _issue("invalid_number", "B"),
                    _issue("odd_date", "C", "warning"),
                    _issue("second", "B", "warning"),
                    _issue("lower", "e"),
                    _issue("beyond", "Z"),
                    _issue("bad_column", "A1"),
                    _issue("no_column", None),
                ],
            )
        elif i % 4 == 1:
            outs[n] = RowOutcome(n, "created", record_id=f"acc_{i}", link=f"https://crm.test/a/{i}")
        elif i % 4 == 2:
            outs[n] = RowOutcome(
                n, "updated", record_id=f"acc_{i}", changes={"$name": ("Old", "=New"), "amount": (None, 5)}
            )
        # i % 4 == 3: no outcome (not processed)
    return outs


def _part(name: str = "Accounts", **kw: Any) -> ResultSheet:
    rows = _rows()
    return ResultSheet(name, HEADERS, rows, _outcomes(rows).get, **kw)


def _same_float(value: Any) -> Any:
    """Numbers as openpyxl wrote them (16 significant digits); this writer keeps every digit."""
    return float(f"{value:.15g}") if isinstance(value, float) else value


def _calamine(value: Any) -> Any:
    """A calamine value, compared with the openpyxl sheet's: floats as :func:`_same_float`, and
    whitespace-only text as "" (openpyxl wrote it without ``xml:space="preserve"``, so calamine,
    like Excel, read it as empty; this writer keeps it: see :func:`test_the_new_sheet_itself`)."""
    if isinstance(value, str) and value and not value.strip():
        return ""
    return _same_float(value)


def _cell_facts(c: Any) -> tuple[Any, ...]:
    value = _same_float(c.value)
    return (
        value,
        c.data_type,
        c.number_format,
        c.fill.fill_type,
        c.fill.fgColor.rgb if c.fill.fill_type else None,
        bool(c.font.b),
        c.alignment.vertical,
        (c.comment.text, c.comment.author) if c.comment else None,
    )


def assert_same_workbook(old: Path, new: Path) -> None:
    """Every sheet of ``new`` reads back like ``old``'s, in openpyxl (cells with their types,
    formats, fills, fonts, comments; layout) and in python-calamine (values)."""
    a, b = load_workbook(old), load_workbook(new)
    assert a.sheetnames == b.sheetnames
    for wa, wb in zip(a.worksheets, b.worksheets, strict=True):
        assert (wa.max_row, wa.max_column) == (wb.max_row, wb.max_column), wa.title
        assert wa.freeze_panes == wb.freeze_panes
        assert wa.auto_filter.ref == wb.auto_filter.ref
        assert {k: d.width for k, d in wa.column_dimensions.items()} == {
            k: d.width for k, d in wb.column_dimensions.items()
        }
        for ra, rb in zip(wa.iter_rows(), wb.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                assert _cell_facts(ca) == _cell_facts(cb), (wa.title, ca.coordinate)
    assert {n: (d.value, d.localSheetId) for n, d in a.defined_names.items()} == {
        n: (d.value, d.localSheetId) for n, d in b.defined_names.items()
    }
    for ws_a, ws_b in zip(a.worksheets, b.worksheets, strict=True):
        assert {k: v.value for k, v in ws_a.defined_names.items()} == {
            k: v.value for k, v in ws_b.defined_names.items()
        }
    ca, cb = CalamineWorkbook.from_path(str(old)), CalamineWorkbook.from_path(str(new))
    assert ca.sheet_names == cb.sheet_names
    for name in ca.sheet_names:
        va = [[_calamine(v) for v in row] for row in ca.get_sheet_by_name(name).to_python()]
        vb = [[_calamine(v) for v in row] for row in cb.get_sheet_by_name(name).to_python()]
        assert va == vb, name


def test_results_sheet_reads_back_like_openpyxl_wrote_it(tmp_path: Path) -> None:
    for kw in ({"header_row": 3}, {"header_row": 1, "dry_run": True}):
        old = reference.write_book(tmp_path / "old.xlsx", [_part("Results", **kw)])
        new = write_results(
            tmp_path / "new.xlsx", HEADERS, _rows(), _outcomes(_rows()), sheet_name="Results", **kw
        )
        assert_same_workbook(old, new)


def test_the_new_sheet_itself(tmp_path: Path) -> None:
    """What the comparison stands on, asserted directly: types, formats, fills, comments, layout."""
    out = write_results(tmp_path / "r.xlsx", HEADERS, _rows(), _outcomes(_rows()), header_row=3)
    ws = load_workbook(out)["Results"]
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == f"A3:K{ws.max_row}"
    assert all(c.value is None for c in ws[1]) and all(c.value is None for c in ws[2])
    header = ws[3]
    assert [c.value for c in header][:6] == HEADERS and header[1].data_type == "s"  # "=Amount": text
    assert header[0].font.b and header[0].fill.fgColor.rgb == "FFD9E1F2"
    assert ws["A5"].value == "=SUM(A1:A2)" and ws["A5"].data_type == "s"
    assert ws["A6"].value == "''=already escaped"  # one more ' before a trigger, for the reader
    assert ws["A13"].value == "#N/A" and ws["A13"].data_type == "s"
    assert ws["B7"].value == 0.1 + 0.2  # floats exactly (openpyxl wrote 16 digits: 0.3)
    assert ws["C4"].value == dt.datetime(2026, 3, 16) and ws["C4"].number_format == "yyyy-mm-dd"
    assert ws["C5"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["C6"].value == dt.datetime(2026, 3, 16, 7, 30)  # a time zone: UTC, as Excel has none
    assert ws["C7"].value == dt.time(13, 45, 30)
    assert ws["B4"].fill.fgColor.rgb == "FFFFC7CE"  # an error (and a warning): red
    assert (
        ws["B4"].comment.text
        == "invalid_number: invalid_number <message> & more\nsecond: second <message> & more"
    )
    assert ws["C4"].fill.fgColor.rgb == "FFFFEB9C"  # warnings only: yellow
    assert ws["E4"].comment is not None  # column "e": named in lower case
    assert ws["A4"].comment is None and ws["A4"].fill.fill_type is None
    # whitespace-only text keeps xml:space="preserve": calamine (like Excel) reads it as it is
    space = next(
        r
        for r in CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
        if r[-2:] and r[0] == " "
    )
    assert space[0] == " "
    assert ws.column_dimensions["J"].width == 60.0 and ws.column_dimensions["K"].width == 50.0
    assert ws["G4"].value == "failed" and ws["G5"].value == "created" and ws["G7"].value == "not processed"
    widths = [ws.column_dimensions[c].width for c in "ABCDEF"]
    assert all(10.0 <= w <= 40.0 for w in widths)


def test_results_workbook_and_errors_file_read_back_like_openpyxl_wrote_them(tmp_path: Path) -> None:
    summary_headers = ["Sheet", "Rows", "When", "OK"]
    summary = [["Accounts", 20, dt.datetime(2026, 1, 2, 3, 4), True], ["=Deals", 0.5, None, False]]
    parts = [_part("Accounts"), _part("Deals", dry_run=True, types=[None, "number", "date"])]
    old = reference.write_book(tmp_path / "old.xlsx", parts, summary=summary, summary_headers=summary_headers)
    parts = [_part("Accounts"), _part("Deals", dry_run=True, types=[None, "number", "date"])]
    new = write_results_book(tmp_path / "new.xlsx", parts, summary=summary, summary_headers=summary_headers)
    assert_same_workbook(old, new)
    assert load_workbook(new).sheetnames == ["Summary", "Accounts", "Deals"]

    old = reference.write_book(
        tmp_path / "old_err.xlsx", [_part("Accounts"), _part("Deals")], errors_only=True
    )
    new = write_errors(tmp_path / "new_err.xlsx", [_part("Accounts"), _part("Deals")])
    assert_same_workbook(old, new)
    # no sheet at all: one empty sheet, as openpyxl saved it
    assert_same_workbook(
        reference.write_book(tmp_path / "o0.xlsx", []), write_errors(tmp_path / "n0.xlsx", [])
    )


def test_csv_columns_typed_like_before(tmp_path: Path) -> None:
    rows = [
        SourceRow(2, ["1,234.5", "2027-01-31", "007", "x"]),
        SourceRow(3, ["12", "2027-01-31T10:00:00+02:00", "1e3", "inf"]),
        SourceRow(4, ["abc", "not a date", "", None]),
    ]
    kinds = ["number", "date", "number", "number"]
    outs: dict[int, RowOutcome] = {}
    part = ResultSheet("Results", ["A", "B", "C", "D"], rows, outs.get, types=kinds)
    old = reference.write_book(tmp_path / "old.xlsx", [part])
    new = write_results(tmp_path / "new.xlsx", ["A", "B", "C", "D"], rows, outs, types=kinds)
    assert_same_workbook(old, new)
    ws = load_workbook(new).active
    assert ws["A2"].value == 1234.5 and ws["A3"].value == 12 and ws["C2"].value == "007"
    assert ws["B2"].value == dt.datetime(2027, 1, 31) and ws["B2"].number_format == "yyyy-mm-dd hh:mm"


texts = st.lists(
    st.one_of(
        st.text(),
        st.text(alphabet=st.characters(max_codepoint=0x3000), max_size=8),
        st.builds(
            lambda p, t: p + t,
            st.sampled_from(["=", "'", "''", "'=", "+", "-", "@", "#", " ", "\t", "\r", "\n"]),
            st.text(max_size=6),
        ),
        st.sampled_from(["#N/A", "#REF!", "#NAME?", "=1+1", "'", "\x00", "\x0b", "\ufffd"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=texts)
@example(values=["'\r", " ", "'=x", "\x00", "a\r\nb", "#N/A", "=1"])
def test_any_text_round_trips_like_the_openpyxl_sheet(tmp_path: Path, values: list[str]) -> None:
    """Text cells (any unicode, control characters, leading ``=``/``'``, ``#N/A``-like) read back
    through openpyxl and calamine exactly as the openpyxl-written sheet's do: as the same text
    cells, never a formula or an error value."""
    rows = [SourceRow(i + 2, [v, v]) for i, v in enumerate(values)]
    outs = {r.number: RowOutcome(r.number, "failed", issues=[_issue("x", "B")]) for r in rows[::2]}
    part = ResultSheet("Results", ["Text", "Marked"], rows, outs.get)
    old = reference.write_book(tmp_path / "old.xlsx", [part])
    new = write_results(tmp_path / "new.xlsx", ["Text", "Marked"], rows, outs)
    a, b = load_workbook(old).active, load_workbook(new).active
    for ca, cb in zip(a.iter_rows(), b.iter_rows(), strict=True):
        for x, y in zip(ca, cb, strict=True):
            assert (x.value, x.data_type) == (y.value, y.data_type)
            assert y.data_type in ("s", "n", "inlineStr")  # text or empty: never "f" or "e"
    pa = CalamineWorkbook.from_path(str(old)).get_sheet_by_index(0).to_python()
    pb = CalamineWorkbook.from_path(str(new)).get_sheet_by_index(0).to_python()
    assert [[_calamine(v) for v in r] for r in pa] == [[_calamine(v) for v in r] for r in pb]
    for row, value in zip(pb[1:], values, strict=False):  # the text itself, as xlsx_text keeps it
        kept = ILLEGAL_CHARACTERS_RE.sub("", value)
        if kept.startswith("'") and _needs_prefix(kept):
            kept = "'" + kept
        assert row[0] == kept.replace("\r\n", "\n").replace("\r", "\n")  # XML reads CR as LF


def test_valid_deterministic_package(tmp_path: Path) -> None:
    one = write_results_book(tmp_path / "a.xlsx", [_part()], summary=[["x", 1]], summary_headers=["S", "N"])
    two = write_results_book(tmp_path / "b.xlsx", [_part()], summary=[["x", 1]], summary_headers=["S", "N"])
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        assert {
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/core.xml",
            "docProps/app.xml",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
            "xl/worksheets/_rels/sheet2.xml.rels",
            "xl/comments/comment2.xml",
            "xl/drawings/commentsDrawing2.vml",
        } <= names
        types = z.read("[Content_Types].xml").decode()
        assert 'PartName="/xl/comments/comment2.xml"' in types and 'Extension="vml"' in types
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        assert b"<legacyDrawing" in z.read("xl/worksheets/sheet2.xml")
    props = load_workbook(one).properties
    assert props.creator == "bulkio" and props.created == dt.datetime(2026, 1, 1)


def test_many_comments_get_unique_vml_shape_ids(tmp_path: Path) -> None:
    rows = [SourceRow(i + 2, [f"r{i}", "x"]) for i in range(1500)]
    outs = {r.number: RowOutcome(r.number, "failed", issues=[_issue("bad", "B")]) for r in rows}
    parts = [ResultSheet(n, ["A", "B"], rows, outs.get) for n in ("One", "Two")]
    out = write_results_book(tmp_path / "r.xlsx", parts)
    with zipfile.ZipFile(out) as z:
        vml = [z.read(f"xl/drawings/commentsDrawing{i}.vml").decode() for i in (1, 2)]
    assert 'data="1,2"' in vml[0] and 'data="3,4"' in vml[1]
    ids = [s.split('"')[0] for v in vml for s in v.split('<v:shape id="_x0000_s')[1:]]
    assert len(ids) == len(set(ids)) == 3000
    ws = load_workbook(out)["Two"]
    assert sum(1 for row in ws.iter_rows() for c in row if c.comment) == 1500


def test_zip64_and_disk_spool_paths_write_the_same_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part past the zip64 limit gets zip64 fields (lowered here to a few bytes), a part past the
    memory spool goes through a temporary file: both read back the same."""
    plain = write_results(tmp_path / "plain.xlsx", HEADERS, _rows(), _outcomes(_rows()))
    monkeypatch.setattr(xlsx_stream, "_ZIP64_LIMIT", 200)
    monkeypatch.setattr(xlsx_stream, "SPOOL_MEMORY", 1000)
    big = write_results(tmp_path / "big.xlsx", HEADERS, _rows(), _outcomes(_rows()))
    with zipfile.ZipFile(big) as z:
        assert z.testzip() is None
        sheet = z.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.file_size > 200 and sheet.extract_version >= 45
    with open(big, "rb") as fh:
        assert b"PK\x06\x06" in fh.read()  # the zip64 end record
    assert_same_workbook(plain, big)


def _rows_then(n: int, fault: type[BaseException]) -> Iterator[SourceRow]:
    for i in range(n):
        yield SourceRow(i + 2, [f"row {i}", i])
    raise fault("injected")


@pytest.mark.parametrize("fault", [RuntimeError, KeyboardInterrupt])
def test_interrupted_write_keeps_previous_file_and_no_thread(
    tmp_path: Path, fault: type[BaseException]
) -> None:
    target = tmp_path / "r.xlsx"
    write_results(target, ["Name", "N"], [SourceRow(2, ["ok", 1])], {})
    good = target.read_bytes()
    threads = threading.active_count()
    for n in (10, 5000):  # inside the first block of rows, and after blocks went to the deflater
        with pytest.raises(fault):
            write_results(target, ["Name", "N"], _rows_then(n, fault), {})
        assert target.read_bytes() == good
        assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]
        assert threading.active_count() == threads


def test_memory_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak memory does not grow with the rows (the spool moves to disk past its limit; rows are
    formatted a block at a time): 100,000 rows peak within 1 MB of 10,000 rows."""
    monkeypatch.setattr(xlsx_stream, "SPOOL_MEMORY", 256 << 10)

    def peak(n: int) -> int:
        rows = (SourceRow(i + 2, [f"Company {i}", i, f"https://c{i}.example.com"]) for i in range(n))
        tracemalloc.start()
        try:
            write_results(tmp_path / f"m{n}.xlsx", ["Name", "N", "Web"], rows, lambda _: None)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(10_000), peak(100_000)
    assert large < small + (1 << 20), (small, large)
    with zipfile.ZipFile(tmp_path / "m100000.xlsx") as z:
        assert z.testzip() is None


def test_results_sheet_reimports_with_no_writes(sandbox: Any, tmp_path: Path) -> None:
    """An import's XLSX results sheet, imported again into the unchanged org: every row unchanged,
    no write; and its errors file names the failed rows in the input's columns."""
    from openpyxl import Workbook

    from bulkio.client import LightfieldClient
    from bulkio.pipeline import import_file

    src = tmp_path / "accounts.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["External ID", "Name", "Annual Revenue", "Renewal Date", "Website"])
    for i in range(40):
        ws.append(
            [
                f"RX-{i}",
                f"=Reimport Co {i}" if i % 7 == 0 else f"Reimport Co {i}",
                1000 + i,
                dt.datetime(2027, 1 + i % 12, 1 + i % 28),
                f"https://rx{i}.example.com",
            ]
        )
        if i % 7 == 0:  # a name that looks like a formula: a text cell, as a user's file has it
            ws.cell(ws.max_row, 2).data_type = "s"
    ws.append(["RX-bad", None, "lots", None, None])  # no name, a bad number: fails
    wb.save(src)
    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=200)
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        report = import_file(
            src,
            "account",
            client=lf,
            results_path=tmp_path / "results.xlsx",
            errors_path=tmp_path / "errors.xlsx",
        )
        assert report.counts.created == 40 and report.counts.failed == 1
        res = load_workbook(tmp_path / "results.xlsx").active
        bad = next(r for r in res.iter_rows(min_row=2) if r[0].value == "RX-bad")
        assert bad[2].fill.fgColor.rgb == "FFFFC7CE" and bad[2].comment is not None
        err = load_workbook(tmp_path / "errors.xlsx").active
        assert [c.value for c in err[2]][:3] == ["RX-bad", None, "lots"] and err.max_row == 2
        writes = sandbox.stats(org.org_id)["writes"]
        again = import_file(
            tmp_path / "results.xlsx", "account", client=lf, results_path=tmp_path / "r2.xlsx"
        )
    assert again.counts.unchanged == 40 and again.counts.failed == 1
    assert sandbox.stats(org.org_id)["writes"] == writes


@pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice is not installed"
)
def test_libreoffice_keeps_fills_comments_and_layout(tmp_path: Path) -> None:
    """LibreOffice Calc opens the streamed workbook (comments part + VML drawing, styles, inline
    strings) and saves it again with the marked cells' fills and comments, the types and the filter."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice is not None
    src = write_results_book(
        tmp_path / "results.xlsx",
        [_part("Accounts", header_row=3)],
        summary=[["Accounts", 1]],
        summary_headers=["Sheet", "Rows"],
    )
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "calc"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    ws = load_workbook(tmp_path / "calc" / "results.xlsx")["Accounts"]
    assert ws["B4"].fill.fgColor.rgb == "FFFFC7CE" and ws["C4"].fill.fgColor.rgb == "FFFFEB9C"
    assert ws["B4"].comment is not None and "invalid_number" in ws["B4"].comment.text
    assert ws["A5"].value == "=SUM(A1:A2)" and ws["A5"].data_type == "s"
    assert ws["C4"].value == dt.datetime(2026, 3, 16) and ws["B5"].value == -2.5
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A3:K")


class _Text(str):
    """A str subclass (what some libraries hand over as text)."""


_ANY_CELL = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["", " a", "a ", "'=1", "&<>", "\x01"]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1899, 12, 31), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9, min_value=-(10**9)),
    st.text(max_size=4).map(_Text),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_ANY_CELL, max_size=12))
def test_a_rows_shortcuts_write_what_cell_xml_writes(values: list[Any]) -> None:
    """SheetStream.row's shortcuts for plain text, ints and finite floats give the same XML as
    writing every cell with cell_xml (which the openpyxl round-trip tests pin down)."""
    out: list[bytes] = []

    class _Sink:
        def write(self, data: bytes) -> None:
            out.append(data)

    ws = xlsx_stream.SheetStream("S", _Sink(), len(values), [], 1, False)  # type: ignore[arg-type]
    out.clear()
    ws.row(7, values)
    ws._flush()
    letters = [xlsx_stream.column_letter(i) for i in range(len(values))]
    want = "".join(xlsx_stream.cell_xml(f"{L}7", v) for L, v in zip(letters, values, strict=True))
    assert b"".join(out).decode() == f'<row r="7">{want}</row>'


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_ANY_CELL, max_size=8), first=st.integers(0, 30), number=st.integers(1, 10**6))
def test_pieces_joined_by_a_row_number_are_the_cells_of_that_row(
    values: list[Any], first: int, number: int
) -> None:
    """SheetStream.pieces formats cells once for many rows: joined by a row number they are
    what cell_xml writes in that row (no text keeps the NUL that stands for the number)."""
    ws = xlsx_stream.SheetStream("S", xlsx_stream.Part(), 2, [], 1, False)
    r = str(number)
    letters = [xlsx_stream.column_letter(first + i) for i in range(len(values))]
    want = "".join(xlsx_stream.cell_xml(f"{L}{r}", v) for L, v in zip(letters, values, strict=True))
    assert r.join(ws.pieces(first, values)) == want


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.sampled_from(["a → b", " x → y", "&→<", "'=1 → 2", ""])))
def test_a_text_cell_reads_back_as_cell_xml_s(text: str) -> None:
    """text_cell writes arrows as character references (an ASCII row stays ASCII); an XML parser
    reads the same cell as from cell_xml, and the text is what xlsx_text stores."""
    from xml.etree import ElementTree as ET

    ws = xlsx_stream.SheetStream("S", xlsx_stream.Part(), 3, [], 1, False)
    got = ws.text_cell(2, "9", text)
    want = xlsx_stream.cell_xml("C9", text)
    assert ws.text_cell(0, "2", "name: (empty) → Acme; stage: Lead → Won").isascii()
    ns = 'xmlns="urn:x"'
    a = ET.fromstring(f"<r {ns}>{got}</r>")
    b = ET.fromstring(f"<r {ns}>{want}</r>")
    assert ET.tostring(a) == ET.tostring(b)


def test_quick_switches_shorten_the_interval_and_put_it_back_after_the_last_block() -> None:
    import sys
    import threading

    before = sys.getswitchinterval()
    inside: list[float] = []
    release = threading.Event()

    def other() -> None:
        with xlsx_stream.quick_switches():
            inside.append(sys.getswitchinterval())
            release.wait(5)

    with xlsx_stream.quick_switches():
        t = threading.Thread(target=other)
        t.start()
        while not inside:
            pass
        assert sys.getswitchinterval() == xlsx_stream.SWITCH_INTERVAL
    assert sys.getswitchinterval() == xlsx_stream.SWITCH_INTERVAL  # the other block still runs
    release.set()
    t.join()
    assert sys.getswitchinterval() == before
    assert inside == [xlsx_stream.SWITCH_INTERVAL]


def test_the_whitespace_set_is_every_character_isspace_names() -> None:
    import sys

    assert {chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()} == set(xlsx_stream._WS)
