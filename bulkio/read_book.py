"""Read one sheet of an .xlsx, .xls or .ods workbook with python-calamine, after
:mod:`bulkio.read_guard` has checked what reading it would cost.

calamine parses the sheet in Rust (about 15x faster than openpyxl; see bench/README.md). Around it
this module adds what calamine leaves out or hides:

* **which sheet**: a sheet or an Excel Table named by ``sheet=``; else the sheet (or table) named
  like the object; else the first visible sheet that is not a template helper. An .xlsx sheet's
  Excel Tables are read from the package with defusedxml (calamine would load the tables of every
  sheet), and a sheet with a table is read as that table: its range, its header row.
* **merged cells** (calamine's ranges for .xlsx/.xls, the scan's spans for .ods): below the header
  every cell of a merged range takes the range's value, with a ``merged_cells`` warning.
* **formulas without a saved value** and **error values** (``#N/A``): calamine reads both as
  blank, so the scan's positions turn them into ``formula_without_value`` / ``cell_error`` errors
  on the cell. The row is not written; a column that is not imported only warns.
* **types as openpyxl gave them**: a whole number stored as a float becomes ``int``, a date
  becomes a ``datetime`` at midnight, ``""`` becomes ``None``. Times, durations, booleans and
  other numbers stay as they are.

openpyxl is not used for reading at all: calamine gives merged ranges and sheet visibility, and
the scan gives tables and formulas. Comments and styles, which calamine lacks, are not needed to
read data.
"""

from __future__ import annotations

import datetime as dt
import itertools
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import read_guard as G
from . import read_scan as S
from .errors import InputFileError
from .issues import Issue
from .read import (
    HELPER_SHEETS,
    MAX_CELL_CHARS,
    SourceTable,
    _clean_text,
    _start,
    _take,
    column_letter,
)

_OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_STRICT_DOC = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
_KIND_NAME = {"xlsx": ".xlsx", "xls": ".xls", "ods": ".ods"}


@dataclass
class _Sheet:
    """A sheet as the workbook lists it."""

    title: str
    visible: bool
    part: str | None = None  # .xlsx: the worksheet part in the package
    facts: G.SheetFacts | None = None


@dataclass
class _Table:
    """An Excel Table: its name and range (0-based, inclusive)."""

    name: str
    sheet: str
    r0: int
    c0: int
    r1: int
    c1: int
    header: bool
    columns: list[str]


def open_book(
    p: Path,
    name: str,
    sha: str,
    kind: str,
    *,
    sheet: str | None,
    header_row: int | None,
    object_type: str | None,
    limits: G.ReadLimits,
) -> SourceTable:
    """Open the chosen sheet of a workbook as a :class:`~bulkio.read.SourceTable`."""
    table = SourceTable(
        path=name, sheet=None, headers=[], header_row=1, rows=iter(()), fingerprint=sha, kind=kind
    )
    if kind == "xlsx":
        sheets, tables, base = _xlsx_layout(p, name, limits)
    elif kind == "ods":
        sheets, tables, base = _ods_layout(p, name, limits), [], 0
    else:
        sheets, tables, base = _xls_layout(p, name, limits), [], 0
    chosen, tab, notes = _pick(sheets, tables, name, sheet, object_type)
    if header_row is not None:
        tab = None  # an explicit header row reads the sheet as a plain grid
    if kind == "xlsx" and chosen.part is not None:
        with G.open_zip(p, name, limits, kind=".xlsx") as zf:
            chosen.facts = S.scan_sheet(zf, chosen.part, name, chosen.title, limits, base=base)
    facts = chosen.facts or G.SheetFacts()
    table.sheet = chosen.title
    table.table_name = tab.name if tab else None
    table.issues.extend(_issue(name, chosen.title, text) for text in notes)
    table.row_count_hint = facts.rows or None
    try:
        import python_calamine as pc

        book = pc.CalamineWorkbook.from_path(str(p))
        table._closers.append(book)
        data = book.get_sheet_by_name(chosen.title)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        table.close()
        raise InputFileError(_error_text(exc, kind), path=name) from None
    records = _records(table, data, facts, tab)
    try:
        if tab is not None:
            header_row = tab.r0 + 1
            if not tab.header:  # a table without a header row: its column names are the header
                records = itertools.chain([(tab.r0, [None] * tab.c0 + tab.columns)], records)
                header_row = tab.r0
        head = _take(records, header_row)
        _start(table, head, header_row, records)
    except InputFileError:
        table.close()
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        table.close()
        raise InputFileError(f"sheet {chosen.title!r}: {_error_text(exc, kind)}", path=name) from None
    merges = facts.merges or [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in data.merged_cell_ranges or ()]
    if merges:
        table.rows = _merged(table, table.rows, merges, tab)
    return table


def book_sheets(p: Path, name: str, kind: str, limits: G.ReadLimits) -> list[tuple[str, bool]]:
    """``(title, visible)`` of every worksheet, in the workbook's order (the package is checked
    as for reading: zip limits, DTDs)."""
    if kind == "xlsx":
        found = _xlsx_layout(p, name, limits)[0]
    elif kind == "ods":
        found = _ods_layout(p, name, limits)
    else:
        found = _xls_layout(p, name, limits)
    return [(s.title, s.visible) for s in found]


def _issue(name: str, sheet: str, text: str) -> Issue:
    return Issue(
        "several_tables", text, file=name, sheet=sheet, expected="one table per sheet", severity="warning"
    )


def _error_text(exc: BaseException, kind: str) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    if "entity" in first.lower():
        return (
            "refused: the workbook's XML uses entities, which are forbidden for safety (XML entity "
            f"attacks); expected a plain {_KIND_NAME[kind]} workbook"
        )
    if "password" in first.lower() or type(exc).__name__ == "PasswordError":
        return "the workbook is password-protected (encrypted); save an unprotected copy as .xlsx"
    return f"not a readable {_KIND_NAME[kind]} workbook ({type(exc).__name__}: {first})"


# --- layouts: which sheets and tables a workbook has -----------------------------------------------


def _member(names: dict[str, str], path: str) -> str | None:
    """The zip member for ``path``, matched without regard to case (as Excel does)."""
    return names.get(path.lower())


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target))


def _rels(zf: zipfile.ZipFile, names: dict[str, str], part: str, name: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) for ``part`` (``xl/workbook.xml``)."""
    d, f = posixpath.split(part)
    member = _member(names, posixpath.join(d, "_rels", f + ".rels"))
    if member is None:
        return {}
    out = {}
    for rel in G.tags(G.read_part(zf, member, name), b"Relationship"):
        rid, typ, target = rel.get("Id"), rel.get("Type", ""), rel.get("Target", "")
        if rid and target and rel.get("TargetMode") != "External":
            out[rid] = (typ, _resolve(d, target))
    return out


def _xlsx_layout(p: Path, name: str, limits: G.ReadLimits) -> tuple[list[_Sheet], list[_Table], int]:
    """Sheets and tables of an .xlsx, every part calamine opens checked; returns the bytes the
    shared strings will take."""
    with G.open_zip(p, name, limits, kind=".xlsx") as zf:
        names = {n.lower(): n for n in zf.namelist()}
        wb_part = "xl/workbook.xml"
        for typ, target in _rels(zf, names, "", name).values():
            if typ in (_OFFICE_DOC, _STRICT_DOC):
                wb_part = target
        wb_member = _member(names, wb_part)
        if wb_member is None and _member(names, "xl/workbook.bin") is not None:
            raise InputFileError(
                "is an Excel binary workbook (.xlsb); save it as .xlsx (Excel Workbook) or CSV", path=name
            )
        if wb_member is None:
            raise InputFileError(
                "not an .xlsx workbook: the zip has no xl/workbook.xml (is it .ods, .docx or another zip?)",
                path=name,
            )
        base_dir = posixpath.dirname(wb_part)
        sst = _member(names, posixpath.join(base_dir, "sharedStrings.xml"))
        worksheets = {n for n in zf.namelist() if "/worksheets/" in n.lower() and n.lower().endswith(".xml")}
        G.verify_parts(zf, name, skip=worksheets | ({sst} if sst else set()))
        base = 0
        if sst is not None:
            count, size = G.scan_shared_strings(zf, sst, name, limits)
            base = count * G.STRING_OVERHEAD_BYTES + size
        rels = _rels(zf, names, wb_part, name)
        sheets: list[_Sheet] = []
        tables: list[_Table] = []
        for el in G.tags(G.read_part(zf, wb_member, name), b"sheet"):
            title = el.get("name", "")
            rid = next((v for k, v in el.items() if k == "id" or k.endswith(":id")), "")
            typ, target = rels.get(rid, ("", ""))
            if not typ.endswith("/worksheet"):
                continue  # chart sheets, dialog sheets, macro sheets hold no rows
            part = _member(names, target)
            sheets.append(_Sheet(title, el.get("state", "visible") == "visible", part))
            if part is not None:
                tables += _xlsx_tables(zf, names, part, title, name)
    return sheets, tables, base


def _xlsx_tables(
    zf: zipfile.ZipFile, names: dict[str, str], part: str, title: str, name: str
) -> list[_Table]:
    out = []
    for typ, target in _rels(zf, names, part, name).values():
        member = _member(names, target)
        if not typ.endswith("/table") or member is None:
            continue
        data = G.read_part(zf, member, name)
        el = next(G.tags(data, b"table"), {})
        ref = [S._REF.match(x.encode()) for x in (el.get("ref") or "").split(":")]
        if len(ref) != 2 or ref[0] is None or ref[1] is None:
            continue
        (c0, r0), (c1, r1) = [(G.column_index(m.group(1)), int(m.group(2)) - 1) for m in ref if m]
        label = el.get("displayName") or el.get("name") or ""
        header = el.get("headerRowCount", "1") != "0"
        columns = [c.get("name", "") for c in G.tags(data, b"tableColumn")]
        r0, r1, c0, c1 = min(r0, r1), max(r0, r1), min(c0, c1), max(c0, c1)
        out.append(_Table(label, title, r0, c0, r1, c1, header, columns))
    return out


def _ods_layout(p: Path, name: str, limits: G.ReadLimits) -> list[_Sheet]:
    with G.open_zip(p, name, limits, kind=".ods") as zf:
        names = set(zf.namelist())
        if "content.xml" not in names:
            raise InputFileError("not an .ods workbook: the zip has no content.xml", path=name)
        G.verify_parts(zf, name, skip={"content.xml"})
        found = S.scan_ods(zf, name, limits)
    return [_Sheet(t.name, True, facts=t.facts) for t in found]


def _xls_layout(p: Path, name: str, limits: G.ReadLimits) -> list[_Sheet]:
    found = S.scan_xls(p, name, limits)
    return [_Sheet(s.name, not s.hidden, facts=s.facts) for s in found if s.kind in (0, 1)]


# --- choosing the sheet (or table) ------------------------------------------------------------------


def _named_like(title: str, object_type: str | None) -> bool:
    if not object_type:
        return False
    ot = object_type.casefold()
    return title.strip().casefold() in {ot, ot + "s", ot.removesuffix("y") + "ies"}


def _pick(
    sheets: list[_Sheet], tables: list[_Table], name: str, sheet: str | None, object_type: str | None
) -> tuple[_Sheet, _Table | None, list[str]]:
    if not sheets:
        raise InputFileError("the workbook has no worksheets", path=name)
    by_title = {s.title: s for s in sheets}
    chosen: _Sheet | None = None
    tab: _Table | None = None
    if sheet is not None:
        want = sheet.strip().casefold()
        chosen = by_title.get(sheet)
        if chosen is None:
            folded = [s for s in sheets if s.title.casefold() == want]
            chosen = folded[0] if len(folded) == 1 else None
        if chosen is None:
            named = [t for t in tables if t.name.casefold() == want]
            if len(named) == 1:
                tab = named[0]
                chosen = by_title[tab.sheet]
        if chosen is None:
            listed = ", ".join(repr(s.title) for s in sheets)
            more = f"; tables: {', '.join(repr(t.name) for t in tables)}" if tables else ""
            raise InputFileError(f"has no sheet {sheet!r}; sheets: {listed}{more}", path=name)
    else:
        visible = [s for s in sheets if s.visible]
        chosen = next((s for s in visible if _named_like(s.title, object_type)), None)
        if chosen is None:
            tab = next((t for t in tables if _named_like(t.name, object_type)), None)
            chosen = by_title.get(tab.sheet) if tab else None
        if chosen is None:
            chosen = next((s for s in visible if s.title.strip().casefold() not in HELPER_SHEETS), None)
        if chosen is None:
            listed = ", ".join(repr(s.title) for s in sheets)
            raise InputFileError(f"has no data sheet (only {listed})", path=name)
    notes = []
    if tab is None:
        mine = sorted((t for t in tables if t.sheet == chosen.title), key=lambda t: (t.r0, t.c0))
        if mine:
            tab = next((t for t in mine if _named_like(t.name, object_type)), mine[0])
            if len(mine) > 1:
                others = ", ".join(repr(t.name) for t in mine if t is not tab)
                notes.append(
                    f"sheet {chosen.title!r} has {len(mine)} tables; reading table {tab.name!r} "
                    f"(pass --sheet with a table name to read another: {others})"
                )
    return chosen, tab, notes


# --- rows ------------------------------------------------------------------------------------------

_MAX_EXACT = 1e15  # Excel keeps 15 significant digits; openpyxl read such whole numbers as int


def _records(
    table: SourceTable, data: Any, facts: G.SheetFacts, tab: _Table | None
) -> Iterator[tuple[int, list[Any]]]:
    """(spreadsheet row number, cells from column A) for every row, blank ones included."""
    start = data.start
    if start is None:
        return
    c_off = start[1]
    lo, hi = (tab.c0, tab.c1 + 1) if tab else (0, None)
    first = tab.r0 if tab else 0
    last = tab.r1 if tab else None
    flags = facts.flags
    date, datetime, time_ = dt.date, dt.datetime, dt.time
    for r, raw in enumerate(data.iter_rows()):
        if r < first:
            continue
        if last is not None and r > last:
            break
        cells: list[Any] = [None] * c_off if c_off else []
        for v in raw:
            t = type(v)
            if t is str:
                s = v.strip()
                if not s:
                    cells.append(None)
                elif len(s) > MAX_CELL_CHARS:
                    _too_large(table, r + 1, len(cells), len(s))
                    cells.append(None)
                elif s[0] == "'" or "\x00" in s:
                    cells.append(_clean_text(s))
                else:
                    cells.append(s)
            elif t is float:
                cells.append(int(v) if v.is_integer() and -_MAX_EXACT < v < _MAX_EXACT else v)
            elif t is date:
                cells.append(datetime(v.year, v.month, v.day))
            elif t is bool or t is int or t is datetime or t is time_:
                cells.append(v)
            else:
                cells.append(v)
        if tab is not None:
            cells = [None] * lo + cells[lo:hi]
        if r in flags:
            _flagged(table, r, cells, flags[r], lo, hi)
        while cells and cells[-1] is None:
            cells.pop()
        yield r + 1, cells
    del data  # the grid is freed once the rows are read


def _too_large(table: SourceTable, number: int, index: int, size: int) -> None:
    table.issues.append(
        Issue(
            "cell_too_large",
            f"the cell holds {size:,} characters; at most {MAX_CELL_CHARS:,} are accepted, so it is ignored",
            file=table.path,
            sheet=table.sheet,
            row=number,
            column=column_letter(index),
            expected=f"at most {MAX_CELL_CHARS:,} characters",
        )
    )


def _flagged(
    table: SourceTable, r: int, cells: list[Any], row_flags: dict[int, G.CellFlag], lo: int, hi: int | None
) -> None:
    """Turn the scan's flags for this row into issues (the cells themselves read as blank)."""
    for c, flag in sorted(row_flags.items()):
        if c < lo or (hi is not None and c >= hi):
            continue
        while len(cells) <= c:
            cells.append(None)
        cells[c] = None
        if flag.code == "formula_without_value":
            message = (
                f"the formula {flag.detail} has no saved value (the file was written by a program "
                "that does not calculate formulas); open the workbook in Excel or LibreOffice, "
                "save it, and import it again"
            )
            expected = "a calculated value"
        else:
            message = (
                f"the cell holds the spreadsheet error {flag.detail}; correct the formula or clear the cell"
            )
            expected = "a value, not an error"
        table.issues.append(
            Issue(
                flag.code,
                message,
                file=table.path,
                sheet=table.sheet,
                row=r + 1,
                column=column_letter(c),
                value=flag.detail,
                expected=expected,
            )
        )


def _merged(
    table: SourceTable, rows: Iterator[Any], merges: list[tuple[int, int, int, int]], tab: _Table | None
) -> Iterator[Any]:
    """Fill each merged range below the header with its top-left value (warning on the cells
    that were blank in the file)."""
    header = table.header_row - 1  # 0-based
    width = len(table.headers)
    by_start: dict[int, list[tuple[int, int, int, int]]] = {}
    for r0, c0, r1, c1 in merges:
        if r0 <= header:
            continue  # titles and headers are never spread across columns
        if tab is not None:
            c0, c1 = max(c0, tab.c0), min(c1, tab.c1)
        c1 = min(c1, width - 1)
        if c0 <= c1:
            by_start.setdefault(r0, []).append((r0, c0, r1, c1))
    active: list[tuple[int, int, int, int, Any]] = []
    pending_top: dict[int, list[tuple[int, int, int, int]]] = dict(by_start)
    for row in rows:
        r = row.number - 1
        active = [a for a in active if a[2] >= r]
        # ranges whose top row is this row, or whose top row was blank and skipped
        for start in [s for s in pending_top if s <= r]:
            for r0, c0, r1, c1 in pending_top.pop(start):
                value = row.cells[c0] if start == r else None
                if value is not None and r1 >= r:
                    active.append((r0, c0, r1, c1, value))
        for r0, c0, r1, c1, value in active:
            filled = [c for c in range(c0, c1 + 1) if row.cells[c] is None]
            if not filled:
                continue
            for c in filled:
                row.cells[c] = value
            span = f"{G.cell_name(r0, c0)}:{G.cell_name(r1, c1)}"
            table.warn(
                Issue(
                    "merged_cells",
                    f"cells {span} are merged; the blank cell takes the merged value {value!r}",
                    file=table.path,
                    sheet=table.sheet,
                    row=r + 1,
                    column=column_letter(filled[0]),
                    value=value,
                    expected="one value per cell",
                    severity="warning",
                )
            )
        yield row


__all__ = ["open_book"]
