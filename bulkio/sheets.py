"""Spreadsheet writing shared by templates, exports and results sheets.

Three promises every sheet bulkio writes keeps:

* **No text cell is ever a formula.** In CSV, a text value that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return gets one leading ``'`` (:func:`escape_formula`); the reader
  strips exactly that one ``'`` again (:func:`unescape_formula`), so a round trip is lossless. In
  XLSX a text value is written as a text cell (:func:`xlsx_text`: an inline string, never a
  formula or an error value), which no spreadsheet evaluates, so it needs no visible ``'`` (only
  text that already starts with ``'`` before a trigger gets one more, for the reader). Only
  ``str`` values are text: numbers, dates and booleans are written as typed cells.
* **Writes are atomic and replace only the named output.** :func:`atomic_path` hands out a
  temporary file next to the target (symlinks resolved first, so the link's target gets the new
  content) and renames it over the target only when writing succeeded, so a crash never leaves half
  a file and an existing file stays intact. Devices and FIFOs (``/dev/stdout``) are written in
  place, never replaced; ``-`` is standard output (:func:`open_output`).
* **Sheets look the same everywhere.** :func:`write_table` styles the header (bold, fill, frozen
  pane, autofilter), sizes columns from a sample of the content and applies number formats; it works
  on normal and write-only (streaming) worksheets.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import io
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TextIO, TypeAlias, cast
from zipfile import ZIP_DEFLATED, ZipFile

# openpyxl (and numpy through it) loads when a workbook is made, not for a CSV (bulkio --help, a
# CSV dry run): each function below imports what it uses.
if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.workbook import Workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.worksheet import Worksheet

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

#: The header row's styles (openpyxl objects, made on first use: ``sheets.HEADER_FILL`` works as
#: ever). Required columns get their own, warmer fill (together with the "*" in the header text).
_STYLES = ("HEADER_FONT", "HEADER_FILL", "REQUIRED_FILL", "HEADER_ALIGNMENT")
#: openpyxl's ``ILLEGAL_CHARACTERS_RE`` (control characters XML cannot hold; tests compare them).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _styles() -> dict[str, Any]:
    got = globals().get("_made_styles")
    if got is None:
        from openpyxl.styles import Alignment, Font, PatternFill

        got = {
            "HEADER_FONT": Font(bold=True),
            "HEADER_FILL": PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2"),
            "REQUIRED_FILL": PatternFill("solid", start_color="FFFCE4D6", end_color="FFFCE4D6"),
            "HEADER_ALIGNMENT": Alignment(vertical="top", wrap_text=False),
        }
        globals()["_made_styles"] = got
    return got


def __getattr__(name: str) -> Any:
    if name in _STYLES:
        return _styles()[name]
    if name == "ExcelWriter":  # what save_workbook writes with (a module attribute, as ever)
        from openpyxl.writer.excel import ExcelWriter

        globals()[name] = ExcelWriter
        return ExcelWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Rows sampled to size columns (write-only sheets must size columns before the first row).
WIDTH_SAMPLE_ROWS = 200
MIN_WIDTH, MAX_WIDTH = 8.0, 60.0
#: Excel truncates (with a repair prompt) longer text cells; writers may warn about them.
EXCEL_MAX_TEXT = 32767

if TYPE_CHECKING:
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


#: Text openpyxl would store as something else: a formula (``=…``) or an error value (``#N/A``;
#: openpyxl's ``ERROR_CODES``, here so a CSV run does not load openpyxl: tests compare them).
_NOT_TEXT = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


def xlsx_text(ws: AnyWorksheet, value: str) -> Any:
    """A text value for an XLSX cell that stays text in every spreadsheet application: the text
    as it is (no visible ``'``), as a plain ``str``, or as a cell forced to the string type when
    openpyxl would otherwise write a formula (``=…``) or an error value (``#N/A``). Control
    characters XML cannot hold are dropped. Text already starting with ``'`` before a formula
    trigger gets one more ``'``, which the reader strips again (:func:`unescape_formula`).

    >>> from openpyxl import Workbook
    >>> ws = Workbook().active; c = xlsx_text(ws, "=SUM(A1)")
    >>> c.value, c.data_type
    ('=SUM(A1)', 's')
    """
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value:
        return value
    first = value[0]
    if first == ESCAPE_PREFIX and _needs_prefix(value):
        return ESCAPE_PREFIX + value
    if (first == "=" and len(value) > 1) or (first == "#" and value in _NOT_TEXT):
        c = _cell(ws, value)
        c.data_type = "s"  # not openpyxl's guess (formula, error): stored and shown as typed
        return c
    return value


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


# --- safe outputs ---------------------------------------------------------------------------------

#: The output name that means standard output.
STDOUT = "-"


def is_stdout(target: str | os.PathLike[str]) -> bool:
    """``-`` names standard output (``bulkio export … -o -``)."""
    return os.fspath(target) == STDOUT


def same_as_stdout(target: str | os.PathLike[str]) -> bool:
    """``-``, or a path naming the file standard output already writes to (``/dev/stdout``,
    ``/proc/self/fd/1``, a redirect's file): a command then keeps its messages off stdout."""
    if is_stdout(target):
        return True
    try:
        mine = os.fstat(sys.stdout.fileno())
        theirs = os.stat(os.fspath(target))
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def is_special(target: str | os.PathLike[str]) -> bool:
    """A device, FIFO or socket, or any path under ``/dev`` or ``/proc`` (``/dev/stdout``,
    ``/proc/self/fd/1``): written in place, because renaming a file over it would replace the device
    or the caller's redirect instead of writing to it."""
    path = os.path.abspath(os.fspath(target))
    if path.startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode  # follows symlinks: a link to a FIFO is a FIFO
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def resolve_output(target: str | os.PathLike[str]) -> Path:
    """The file a write to ``target`` must replace: symlinks followed (a link to a missing file
    names the file to create), so the link stays a link and its target gets the new content.

    A folder is refused here, before anything is written."""
    real = Path(os.path.realpath(os.fspath(target)))
    if real.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a folder, not a file", os.fspath(target))
    return real


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a path to write; on success it becomes ``target``, on an exception nothing changes.

    * a regular file (or a new one): a temporary file next to the *resolved* target (symlinks
      followed), renamed over it on success with the old file's permissions (and owner, where
      allowed); nothing but that one file is ever replaced, and a symlink keeps pointing to it;
    * a device, FIFO or ``/dev/…`` path, and ``-`` (standard output): a temporary file in the
      system's temp folder, copied into the device or stream on success (never renamed over it).
      The copy opens the target write-only, so a FIFO waits for its reader instead of losing the
      data; writers that can stream (CSV, JSONL) use :func:`open_output` instead.

    On an exception the temporary file is removed and ``target`` (if it existed) is untouched.

    >>> with atomic_path("out.xlsx") as tmp:   # doctest: +SKIP
    ...     workbook.save(tmp)
    """
    if is_stdout(target) or is_special(target):
        with _via_temp(target) as tmp:
            yield tmp
        return
    real = resolve_output(target)
    real.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(real.parent, real)
    try:
        yield tmp
        _copy_metadata(real, tmp)
        os.replace(tmp, real)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


def _copy_metadata(existing: Path, tmp: Path) -> None:
    """Give ``tmp`` the permissions (and, when allowed, the owner and group) of the file it replaces."""
    try:
        st = existing.stat()
    except FileNotFoundError:
        return
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if hasattr(os, "chown"):
        mine = tmp.stat()
        if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:  # not root: the new file is the writer's, as with any save
                pass


@contextmanager
def _via_temp(target: str | os.PathLike[str]) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="bulkio-", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            if is_stdout(target):
                out = _stdout_binary()
                shutil.copyfileobj(fh, out)
                out.flush()
            else:
                with open(target, "wb") as dev:  # write-only: a FIFO blocks until it has a reader
                    shutil.copyfileobj(fh, dev)
    finally:
        tmp.unlink(missing_ok=True)


def _stdout_binary() -> BinaryIO:
    """Standard output as bytes (whatever ``sys.stdout`` is now, e.g. click's test runner)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # pragma: no cover - a text-only stdout replacement
        raise OSError(errno.EBADF, "standard output takes no bytes", STDOUT)
    return cast(BinaryIO, buffer)


@contextmanager
def open_output(
    target: str | os.PathLike[str], *, encoding: str = "utf-8", newline: str | None = ""
) -> Iterator[TextIO]:
    """A text file to write ``target`` through: standard output for ``-`` (streamed, and left
    open), a device or FIFO written in place, else an atomic temporary file (:func:`atomic_path`).

    >>> with open_output("-") as fh:   # doctest: +SKIP
    ...     fh.write("a,b\n")
    """
    if is_stdout(target):
        out = io.TextIOWrapper(_stdout_binary(), encoding=encoding, newline=newline, write_through=True)
        try:
            yield out
            out.flush()
        finally:
            out.detach()  # the caller's stdout stays open
        return
    if is_special(target):  # streamed in place, write-only (a FIFO waits for its reader)
        with open(target, "w", encoding=encoding, newline=newline) as fh:
            yield fh
        return
    with atomic_path(target) as tmp, open(tmp, "w", encoding=encoding, newline=newline) as fh:
        yield fh


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
            writer = globals().get("ExcelWriter") or __getattr__("ExcelWriter")
            with ZipFile(tmp, "w", ZIP_DEFLATED, allowZip64=True) as archive:
                writer(wb, archive).save()
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
    with open_output(path, encoding=CSV_ENCODING) as fh:
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


class _SheetLayout(Protocol):
    """Attributes both worksheet kinds get from ``Worksheet._setup`` at runtime, which the stubs
    declare on ``Worksheet`` only."""

    column_dimensions: DimensionHolder[str, ColumnDimension]
    auto_filter: AutoFilter


def _layout(ws: AnyWorksheet) -> _SheetLayout:
    return cast(_SheetLayout, ws)


def set_column_widths(ws: AnyWorksheet, widths: Sequence[float]) -> None:
    """Apply widths; on a write-only sheet call it before the first row is appended."""
    from openpyxl.utils import get_column_letter

    dims = _layout(ws).column_dimensions
    for i, w in enumerate(widths, 1):
        dims[get_column_letter(i)].width = round(w, 1)


def header_cells(ws: AnyWorksheet, headers: Sequence[str], *, required: Iterable[int] = ()) -> list[Cell]:
    """Styled header cells (bold + fill; columns at indexes in ``required`` get
    :data:`REQUIRED_FILL`) ready to ``ws.append``; works on both worksheet kinds."""
    req = set(required)
    cells = []
    styles = _styles()
    for i, h in enumerate(headers):
        text = xlsx_text(ws, str(h))
        c = text if not isinstance(text, str) else _cell(ws, text)
        c.font = styles["HEADER_FONT"]
        c.fill = styles["REQUIRED_FILL"] if i in req else styles["HEADER_FILL"]
        c.alignment = styles["HEADER_ALIGNMENT"]
        cells.append(c)
    return cells


def freeze_header(ws: AnyWorksheet) -> None:
    """Keep the header row visible; on a write-only sheet call it before the first row."""
    ws.freeze_panes = "A2"


def finish_sheet(
    ws: AnyWorksheet, ncols: int, nrows: int, *, autofilter: bool = True, header_row: int = 1
) -> None:
    """Put an autofilter over the header (in ``header_row``) and the ``nrows`` rows below it (after
    the rows are written)."""
    if autofilter and ncols:
        from openpyxl.utils import get_column_letter

        last = header_row + max(nrows, 0)
        _layout(ws).auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{last}"


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

    Text goes through :func:`xlsx_text` (a text cell, never a formula), other values through
    :func:`xlsx_value`. ``formats`` gives
    a number format per column index (e.g. :func:`currency_format`); dates and datetimes in columns
    without one get ``yyyy-mm-dd`` / ``yyyy-mm-dd hh:mm``. Column widths come from the header and
    the first :data:`WIDTH_SAMPLE_ROWS` rows unless ``widths`` is given; rows are consumed lazily
    after that sample, so a generator of a million rows streams into a write-only sheet.

    >>> from openpyxl import Workbook
    >>> wb = Workbook(); n = write_table(wb.active, ["Name ($name)"], [["=cmd"]])
    >>> wb.active["A2"].value, wb.active["A2"].data_type, n
    ('=cmd', 's', 1)
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
    for source in (sample, it):
        for row in source:
            ws.append(row_cells(ws, row, fmts))
            count += 1
    finish_sheet(ws, ncols, count, autofilter=autofilter)
    return count


def _cell(ws: AnyWorksheet, value: Any) -> Cell:
    """A detached cell usable with ``append`` on both worksheet kinds (its row/column get set by
    ``append``; they must not be None meanwhile or openpyxl's error path breaks)."""
    from openpyxl.cell.cell import Cell

    return Cell(ws, row=1, column=1, value=value)


def row_cells(
    ws: AnyWorksheet, row: Sequence[Any], fmts: Sequence[str | None], styles: dict[str, Any] | None = None
) -> list[Any]:
    """One row ready for ``ws.append``: safe values, and styled cells where a format applies.

    ``styles`` is accepted for compatibility and unused: setting ``number_format`` through
    openpyxl's public API costs about as much as copying a cached style (measured: 3.5 vs 3.2 µs a
    cell), so no private style array is reused."""
    out: list[Any] = []
    for i, v in enumerate(row):
        if isinstance(v, str):
            out.append(xlsx_text(ws, v))
            continue
        v = xlsx_value(v)
        fmt = fmts[i] if i < len(fmts) else None
        if v is None:
            out.append(None)
            continue
        if isinstance(v, str):
            out.append(xlsx_text(ws, v))
            continue
        if fmt is None:
            fmt = default_format(v)
        if fmt is None or isinstance(v, bool):
            out.append(v)
            continue
        c = _cell(ws, v)
        c.number_format = fmt
        out.append(c)
    return out


def discard_workbook(wb: Workbook) -> None:
    """Drop an unsaved write-only workbook: close each sheet's row stream (public ``close()``) and
    delete the temporary file openpyxl streamed it to, which would otherwise stay until the process
    exits. For a run that stopped before :func:`save_workbook`.

    openpyxl offers no public call to delete that file: its sheet writer's ``cleanup()`` is reached
    through ``getattr`` (best effort; ``tests/test_atomic_outputs.py`` checks nothing is left)."""
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    for ws in wb.worksheets if wb.write_only else ():
        if not isinstance(ws, WriteOnlyWorksheet) or ws.closed:
            continue
        writer = getattr(ws, "_writer", None)
        if writer is None:  # no row was ever written: no stream, no file
            continue
        with contextlib.suppress(Exception):  # a stream the failed write broke: drop it anyway
            ws.close()
        with contextlib.suppress(OSError, ValueError):  # already gone: nothing left to tidy
            writer.cleanup()


def new_workbook(*, write_only: bool = False) -> Workbook:
    """An empty workbook: write-only ones have no sheet yet; normal ones lose the default sheet so
    callers create sheets by name either way."""
    from openpyxl.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=write_only)
    active = None if write_only else wb.active
    if isinstance(active, Worksheet):
        wb.remove(active)
    return wb
