"""Spreadsheet writing shared by templates, exports and results sheets.

Three promises every sheet bulkio writes keeps:

* **No text cell is ever a formula.** A text value that starts with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return gets one leading ``'`` (:func:`escape_formula`); the reader strips
  exactly that one ``'`` again (:func:`unescape_formula`), so a round trip is lossless. Only
  ``str`` values are escaped: numbers, dates and booleans are written as typed cells.
* **Writes are atomic.** :func:`atomic_path` hands out a temporary file next to the target and
  renames it over the target only when writing succeeded, so a crash never leaves half a file and
  an existing file stays intact.
* **Sheets look the same everywhere.** :func:`write_table` styles the header (bold, fill, frozen
  pane, autofilter), sizes columns from a sample of the content and applies number formats; it works
  on normal and write-only (streaming) worksheets.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from copy import copy
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, TextIO, TypeAlias
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

#: A text cell starting with one of these is escaped with a leading "'" (formula injection).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
ESCAPE_PREFIX = "'"
#: First characters that may need an escape (a trigger, or apostrophes in front of one): text
#: starting with anything else is returned as it is without a closer look (the common case).
_MAYBE_ESCAPE = frozenset(FORMULA_TRIGGERS) | {ESCAPE_PREFIX}

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
NUMBER_FORMAT = "#,##0.##"
TEXT_FORMAT = "@"

#: Currency symbols written before the amount; other ISO codes are written after it.
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "AUD": "A$",
    "CAD": "C$",
}

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
#: Required columns get their own, warmer fill (together with the "*" in the header text).
REQUIRED_FILL = PatternFill("solid", start_color="FFFCE4D6", end_color="FFFCE4D6")
HEADER_ALIGNMENT = Alignment(vertical="top", wrap_text=False)

#: Rows sampled to size columns (write-only sheets must size columns before the first row).
WIDTH_SAMPLE_ROWS = 200
MIN_WIDTH, MAX_WIDTH = 8.0, 60.0
#: Excel truncates (with a repair prompt) longer text cells; writers may warn about them.
EXCEL_MAX_TEXT = 32767

AnyWorksheet: TypeAlias = Worksheet | WriteOnlyWorksheet

#: Fixed workbook timestamps so regenerating a workbook gives identical content.
FIXED_TIMESTAMP = dt.datetime(2026, 1, 1, 0, 0, 0)


# --- formula escaping ---------------------------------------------------------------------------


def escape_formula(value: str) -> str:
    """Prefix ``'`` when ``value`` starts with ``=``, ``+``, ``-``, ``@``, tab or CR.

    >>> escape_formula("=SUM(A1)"), escape_formula("-5"), escape_formula("Acme")
    ("'=SUM(A1)", "'-5", 'Acme')
    """
    if not value or value[0] not in _MAYBE_ESCAPE:
        return value
    return ESCAPE_PREFIX + value if _needs_prefix(value) else value


def unescape_formula(value: str) -> str:
    """Strip exactly one leading ``'`` when the next character is a formula trigger.

    >>> unescape_formula("'=SUM(A1)"), unescape_formula("''=x"), unescape_formula("'quoted'")
    ('=SUM(A1)', "'=x", "'quoted'")
    """
    if value.startswith(ESCAPE_PREFIX) and _needs_prefix(value[1:]):
        return value[1:]
    return value


def _needs_prefix(value: str) -> bool:
    """A trigger at the start, possibly behind apostrophes: text that already starts with ``'=``
    gets one more ``'`` too, so ``unescape_formula(escape_formula(v)) == v`` for every ``v``."""
    return value.lstrip(ESCAPE_PREFIX).startswith(FORMULA_TRIGGERS)


def safe_cell(value: Any) -> Any:
    """Escape text; numbers, dates, booleans and None pass through unchanged."""
    return escape_formula(value) if isinstance(value, str) else value


def xlsx_value(value: Any) -> Any:
    """:func:`safe_cell` plus what openpyxl/Excel would reject: control characters are dropped,
    time zones converted to UTC (Excel has none), Decimals become floats, other objects text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if ILLEGAL_CHARACTERS_RE.search(value):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        return escape_formula(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, (dt.date, dt.time)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return xlsx_value(str(value))


def csv_value(value: Any) -> str:
    """One CSV cell: escaped text, ``yes``/``no`` for booleans, ISO dates, empty for None."""
    if type(value) is str:  # the common case first (a str subclass takes the isinstance path)
        return value if not value or value[0] not in _MAYBE_ESCAPE else escape_formula(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        # sub-seconds are kept (milliseconds, or microseconds when they need them): a re-import
        # of the export must compare equal to the record, not update it
        if value.microsecond:
            spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
        else:
            spec = "minutes" if not value.second else "seconds"
        return value.isoformat(sep=" ", timespec=spec)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return escape_formula(value)
    return str(value)


def csv_row(values: Iterable[Any]) -> list[str]:
    """:func:`csv_value` of every cell; plain text and None skip the call (hot in large files)."""
    may = _MAYBE_ESCAPE
    return [
        "" if v is None else v if type(v) is str and (not v or v[0] not in may) else csv_value(v)
        for v in values
    ]


# --- number formats ----------------------------------------------------------------------------


def currency_format(code: str | None) -> str:
    """Excel number format for an ISO currency: ``"$"#,##0.00`` for USD, ``#,##0.00 "EUR"``
    for codes without a known symbol."""
    if not code:
        return "#,##0.00"
    code = code.upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f'"{symbol}"#,##0.00'
    return f'#,##0.00 "{code}"'


def default_format(value: Any) -> str | None:
    """The number format a typed value needs to display sensibly (dates), else None."""
    if isinstance(value, dt.datetime):
        return DATETIME_FORMAT
    if isinstance(value, dt.date):
        return DATE_FORMAT
    return None


# --- atomic writes ------------------------------------------------------------------------------


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success.

    On an exception the temporary file is removed and ``target`` (if it existed) is untouched.

    >>> with atomic_path("out.xlsx") as tmp:   # doctest: +SKIP
    ...     workbook.save(tmp)
    """
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(directory, target)
    try:
        yield tmp
        if target.exists():  # keep the permissions of the file being replaced
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


def _create_temp(directory: Path, target: Path) -> Path:
    """An empty, new file next to ``target`` with the usual permissions (0666 minus the umask,
    unlike ``mkstemp``'s 0600, so the renamed file is readable like any other output)."""
    for _ in range(100):
        tmp = directory / f".{target.name}.{secrets.token_hex(4)}.tmp{target.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"Could not create a temporary file next to {target}")


def save_workbook(wb: Workbook, path: str | os.PathLike[str], *, deterministic: bool = True) -> Path:
    """Save atomically; with ``deterministic`` the document timestamps are fixed, so writing the
    same content twice gives the same workbook content."""
    if deterministic:
        wb.properties.created = FIXED_TIMESTAMP
        wb.properties.modified = FIXED_TIMESTAMP
        wb.properties.creator = "bulkio"
        wb.properties.lastModifiedBy = "bulkio"
    target = Path(path)
    with atomic_path(target) as tmp:
        if deterministic:  # Workbook.save() would stamp "modified" with the current time
            if wb.write_only and not wb.worksheets:
                wb.create_sheet()
            with ZipFile(tmp, "w", ZIP_DEFLATED, allowZip64=True) as archive:
                ExcelWriter(wb, archive).save()
        else:
            wb.save(tmp)
    return target


# --- CSV -------------------------------------------------------------------------------------

#: Encoding of the CSV files bulkio writes (with BOM, so Excel detects UTF-8).
CSV_ENCODING = "utf-8-sig"


def write_csv(
    path: str | os.PathLike[str], headers: Sequence[str], rows: Iterable[Sequence[Any]] = ()
) -> int:
    """Write a CSV atomically in UTF-8 with BOM (so Excel detects the encoding), escaping every
    cell (headers included). Returns the number of data rows written.

    >>> write_csv("accounts.csv", ["Name* ($name)"], [["=Acme"]])   # doctest: +SKIP
    1
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding=CSV_ENCODING, newline="") as fh:
        return write_csv_rows(fh, headers, rows)


def write_csv_rows(fh: TextIO, headers: Sequence[str], rows: Iterable[Sequence[Any]] = ()) -> int:
    """:func:`write_csv` into an open file (``newline=""``), for a caller that makes the file
    atomic itself (several exports renamed together). Returns the number of data rows."""
    writer = csv.writer(fh)
    writer.writerow(csv_row(headers))
    count = 0
    for row in rows:
        writer.writerow(csv_row(row))
        count += 1
    return count


# --- XLSX --------------------------------------------------------------------------------------


def _text_width(value: Any, fmt: str | None = None) -> float:
    if value is None:
        return 0.0
    if isinstance(value, dt.datetime):
        return 16.0
    if isinstance(value, dt.date):
        return 10.0
    if isinstance(value, bool):
        return 5.0
    if isinstance(value, (int, float, Decimal)):
        return len(f"{value:,.2f}") + (3 if fmt and '"' in fmt else 0)
    text = str(value)
    return float(max((len(line) for line in text.splitlines()), default=0))


def column_widths(
    headers: Sequence[str], sample: Iterable[Sequence[Any]], *, formats: Sequence[str | None] | None = None
) -> list[float]:
    """Column widths (Excel character units) that fit the header and a sample of the content,
    clamped to a readable range."""
    widths = [_text_width(h) + 2 for h in headers]
    for row in sample:
        for i, v in enumerate(row[: len(widths)]):
            fmt = formats[i] if formats and i < len(formats) else None
            widths[i] = max(widths[i], _text_width(v, fmt) + 2)
    return [min(max(w, MIN_WIDTH), MAX_WIDTH) for w in widths]


def set_column_widths(ws: AnyWorksheet, widths: Sequence[float]) -> None:
    """Apply widths; on a write-only sheet call it before the first row is appended."""
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = round(w, 1)


def header_cells(ws: AnyWorksheet, headers: Sequence[str], *, required: Iterable[int] = ()) -> list[Cell]:
    """Styled header cells (bold + fill; columns at indexes in ``required`` get
    :data:`REQUIRED_FILL`) ready to ``ws.append``; works on both worksheet kinds."""
    req = set(required)
    cells = []
    for i, h in enumerate(headers):
        c = _cell(ws, xlsx_value(h))
        c.font = HEADER_FONT
        c.fill = REQUIRED_FILL if i in req else HEADER_FILL
        c.alignment = HEADER_ALIGNMENT
        cells.append(c)
    return cells


def freeze_header(ws: AnyWorksheet) -> None:
    """Keep the header row visible; on a write-only sheet call it before the first row."""
    ws.freeze_panes = "A2"


def finish_sheet(ws: AnyWorksheet, ncols: int, nrows: int, *, autofilter: bool = True) -> None:
    """Put an autofilter over the header and ``nrows`` data rows (after the rows are written)."""
    if autofilter and ncols:
        ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{max(nrows, 0) + 1}"


def write_table(
    ws: AnyWorksheet,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]] = (),
    *,
    formats: Sequence[str | None] | Mapping[int, str] | None = None,
    required: Iterable[int] = (),
    widths: Sequence[float] | None = None,
    autofilter: bool = True,
) -> int:
    """Write a header and rows to an empty worksheet (normal or write-only) and return the number
    of data rows written.

    Every value goes through :func:`xlsx_value` (no text ever becomes a formula). ``formats`` gives
    a number format per column index (e.g. :func:`currency_format`); dates and datetimes in columns
    without one get ``yyyy-mm-dd`` / ``yyyy-mm-dd hh:mm``. Column widths come from the header and
    the first :data:`WIDTH_SAMPLE_ROWS` rows unless ``widths`` is given; rows are consumed lazily
    after that sample, so a generator of a million rows streams into a write-only sheet.

    >>> wb = Workbook(); n = write_table(wb.active, ["Name ($name)"], [["=cmd"]])
    >>> wb.active["A2"].value, wb.active["A2"].data_type, n
    ("'=cmd", 's', 1)
    """
    ncols = len(headers)
    if isinstance(formats, Mapping):
        fmts: list[str | None] = [formats.get(i) for i in range(ncols)]
    else:
        fmts = list(formats or [])
        fmts += [None] * (ncols - len(fmts))
    it = iter(rows)
    sample = [list(r) for r in islice(it, WIDTH_SAMPLE_ROWS)]
    set_column_widths(ws, widths if widths is not None else column_widths(headers, sample, formats=fmts))
    freeze_header(ws)
    ws.append(header_cells(ws, headers, required=required))
    count = 0
    styles: dict[str, Any] = {}
    for source in (sample, it):
        for row in source:
            ws.append(row_cells(ws, row, fmts, styles))
            count += 1
    finish_sheet(ws, ncols, count, autofilter=autofilter)
    return count


def _cell(ws: AnyWorksheet, value: Any) -> Cell:
    """A detached cell usable with ``append`` on both worksheet kinds (its row/column get set by
    ``append``; they must not be None meanwhile or openpyxl's error path breaks)."""
    return Cell(ws, row=1, column=1, value=value)


def row_cells(
    ws: AnyWorksheet, row: Sequence[Any], fmts: Sequence[str | None], styles: dict[str, Any] | None = None
) -> list[Any]:
    """One row ready for ``ws.append``: safe values, and styled cells where a format applies.

    Pass the same ``styles`` dict for every row of a sheet: setting ``number_format`` is a
    workbook-wide lookup, so each format's style is resolved once and copied after that."""
    out: list[Any] = []
    if styles is None:
        styles = {}
    for i, v in enumerate(row):
        v = xlsx_value(v)
        fmt = fmts[i] if i < len(fmts) else None
        if v is None:
            out.append(None)
            continue
        if isinstance(v, str):
            out.append(v)
            continue
        if fmt is None:
            fmt = default_format(v)
        if fmt is None or isinstance(v, bool):
            out.append(v)
            continue
        proto = styles.get(fmt)
        if proto is None:
            c = _cell(ws, v)
            c.number_format = fmt
            styles[fmt] = copy(c._style)
        else:
            c = Cell(ws, row=1, column=1, value=v, style_array=copy(proto))
        out.append(c)
    return out


def discard_workbook(wb: Workbook) -> None:
    """Drop an unsaved write-only workbook: close each sheet's row stream and delete the temp file
    openpyxl streams it to (otherwise both linger until exit, and the stream later complains about
    its closed file). For a run that stopped before :func:`save_workbook`."""
    for ws in wb.worksheets if wb.write_only else ():
        writer = getattr(ws, "_writer", None)
        if not isinstance(ws, WriteOnlyWorksheet) or ws.closed or writer is None:
            continue
        try:
            if ws._rows is not None:
                ws._rows.close()
            writer.close()
            writer.cleanup()
        except (OSError, ValueError):  # already gone: nothing left to tidy
            pass


def new_workbook(*, write_only: bool = False) -> Workbook:
    """An empty workbook: write-only ones have no sheet yet; normal ones lose the default sheet so
    callers create sheets by name either way."""
    wb = Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    return wb
