"""Read a CSV file or a workbook sheet as a header and a stream of rows, as people make them.

:func:`open_table` gives a :class:`SourceTable`: the header texts, a single-pass iterator of
:class:`SourceRow` (spreadsheet row numbers, as the sheet shows them) and the issues found while
reading. CSV rows are streamed, so a million-row CSV reads in constant memory.

* **Formats**, told by content rather than name: CSV/TSV (:mod:`bulkio.read_csv`: encodings with
  charset-normalizer, mixed UTF-8/Windows-1252 repair, delimiter sniffing) and .xlsx/.xlsm, .xls
  and .ods (:mod:`bulkio.read_book`, with python-calamine, after :mod:`bulkio.read_guard` checked
  the file: zip bombs, DTDs/entities, memory the parse would need).
* **The header** is found among the first rows: title rows, notes and blank rows above it are
  skipped (``header_row=`` overrides). An Excel Table is read by its range and header.
* **Cells**: text is stripped, ``''`` becomes ``None``, and exactly one leading ``'`` is dropped
  before ``= + - @ TAB CR`` (the escape bulkio's writers add against formula injection).
  Workbook values keep their types (``datetime``, ``int``, ``float``, ``bool``). Blank rows are
  skipped. An unnamed column that holds values gets an ``unnamed_column`` warning.
* **Standard input** (``-``), pipes and devices (``/dev/stdin``) are spooled to a temporary file
  first (up to ``ReadLimits.max_stdin_bytes``), so they can be read twice like a file.

Every problem names the file, the sheet, the row and the column.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import itertools
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from .columns import key_from_header
from .errors import InputFileError
from .issues import Issue
from .read_guard import DEFAULT_LIMITS, ReadLimits, spool
from .sheets import unescape_formula

#: A cell larger than this (characters) is dropped with a ``cell_too_large`` issue.
MAX_CELL_CHARS = 1_048_576
#: Warnings of one code listed per file (each on its row); later rows with the same one are not.
MAX_WARNINGS = 1000
#: Hard limit of the CSV parser for one field; beyond it the file cannot be read.
CSV_FIELD_LIMIT = 16 * 1024 * 1024

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
BOOK_SUFFIXES = XLSX_SUFFIXES | {".xls", ".ods"}
CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".tab"})
#: Sheets of a bulkio template that never hold records.
HELPER_SHEETS = frozenset({"instructions", "reference", "readme", "read me", "lists", "help"})
DELIMITERS = (",", ";", "\t", "|")
#: How many rows are looked at to find the header.
HEADER_SCAN_ROWS = 30
#: Reader issues about a cell's value that keep its row from being written.
_CELL_VALUE_CODES = frozenset({"formula_without_value", "cell_error"})
#: How the file is named in messages when it came on standard input.
STDIN_NAME = "<stdin>"
_SAMPLE_CHARS = 64 * 1024
_CHUNK = 1024 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_ODS_MIME = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
_HTML = re.compile(rb"^\s*(?:<!doctype html|<html|<table|<\?xml[^>]*>\s*<\?mso-application)", re.IGNORECASE)

import csv

csv.field_size_limit(CSV_FIELD_LIMIT)


@dataclass(slots=True)
class SourceRow:
    """One data row: its spreadsheet row number and cells aligned to the headers."""

    number: int
    cells: list[Any]


@dataclass(eq=False)
class SourceTable:
    """An open CSV file or worksheet. Use as a context manager; ``rows`` is single-pass and
    ``issues`` grows while rows are read (complete once ``rows`` is exhausted)."""

    path: str
    sheet: str | None
    headers: list[str]
    header_row: int
    rows: Iterator[SourceRow]
    fingerprint: str
    encoding: str | None = None
    delimiter: str | None = None
    kind: str = "csv"
    issues: list[Issue] = field(default_factory=list)
    #: Rows the sheet holds (workbooks only; a hint for progress totals).
    row_count_hint: int | None = None
    #: The Excel Table read, when the sheet has one (``sheet=`` accepts its name).
    table_name: str | None = None
    _closers: list[Any] = field(default_factory=list, repr=False)
    _warned: dict[str, int] = field(default_factory=dict, repr=False)

    def warn(self, issue: Issue) -> None:
        """Add a row's warning; after MAX_WARNINGS of one code the later rows are not listed (a
        comma in every name would otherwise add a warning to each of a million rows)."""
        n = self._warned.get(issue.code, 0) + 1
        self._warned[issue.code] = n
        if n < MAX_WARNINGS:
            self.issues.append(issue)
        elif n == MAX_WARNINGS:
            issue.message += (
                f" (this is the {MAX_WARNINGS:,}th row with {issue.code}; later ones are not listed)"
            )
            self.issues.append(issue)

    def __iter__(self) -> Iterator[SourceRow]:
        return self.rows

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        while self._closers:
            try:
                self._closers.pop().close()
            except Exception:  # noqa: BLE001, S110 - closing must not hide the real error
                pass


# --- public entry point ------------------------------------------------------------------------


def open_table(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    object_type: str | None = None,
    limits: ReadLimits | None = None,
    name: str | None = None,
) -> SourceTable:
    """Open a CSV file or a workbook sheet for reading rows.

    ``sheet`` picks a worksheet, or an Excel Table, by name; otherwise the sheet (or table) named
    like ``object_type`` (singular or plural), else the first visible sheet that is not a
    template helper sheet (Instructions, Reference). ``header_row`` (the spreadsheet row number)
    overrides the header detection. ``path`` may be ``"-"`` for standard input, or a pipe or
    device. ``name`` is how the file is called in messages (default: the path). ``limits`` bounds
    what a file may cost (:class:`ReadLimits`).

    >>> with open_table("accounts.csv") as table:            # doctest: +SKIP
    ...     for row in table.rows:
    ...         print(row.number, dict(zip(table.headers, row.cells)))
    """
    limits = limits or DEFAULT_LIMITS
    if needs_spool(path):
        spooled_input = spooled(path, limits=limits)
        real, shown = spooled_input.__enter__()
        try:
            table = open_table(
                real,
                sheet=sheet,
                encoding=encoding,
                delimiter=delimiter,
                header_row=header_row,
                object_type=object_type,
                limits=limits,
                name=name or shown,
            )
        except BaseException:
            spooled_input.__exit__(None, None, None)
            raise
        table._closers.insert(0, _Exit(spooled_input))
        return table
    p = Path(path)
    name = name or str(path)
    if not p.exists():
        raise InputFileError("file not found", path=name)
    if p.is_dir():
        raise InputFileError("is a directory, expected a .csv, .xlsx, .xls or .ods file", path=name)
    if header_row is not None and header_row < 1:
        raise InputFileError(f"header row must be 1 or more, not {header_row}", path=name)
    try:
        scan = _scan(p, want_utf8=encoding is None)
    except OSError as exc:
        raise InputFileError(f"cannot read the file ({exc.strerror or exc})", path=name) from None
    kind = _kind(p, name, scan)
    if kind == "csv":
        from .read_csv import open_csv

        if sheet is not None:
            raise InputFileError(f"a CSV file has no sheets (asked for sheet {sheet!r})", path=name)
        return open_csv(
            p, name, scan, encoding=encoding, delimiter=delimiter, header_row=header_row, limits=limits
        )
    from .read_book import open_book

    return open_book(
        p,
        name,
        scan.sha256,
        kind,
        sheet=sheet,
        header_row=header_row,
        object_type=object_type,
        limits=limits,
    )


def list_sheets(
    path: str | os.PathLike[str], *, limits: ReadLimits | None = None, name: str | None = None
) -> list[tuple[str, bool]]:
    """``(title, visible)`` of every worksheet of a workbook (.xlsx, .xls, .ods), in order;
    :class:`~bulkio.errors.InputFileError` for a CSV or a file that is no workbook.

    >>> list_sheets("pipeline.xlsx")                 # doctest: +SKIP
    [('Summary', True), ('Opportunities', True), ('Accounts', True), …]
    """
    limits = limits or DEFAULT_LIMITS
    p = Path(path)
    name = name or str(path)
    if not p.is_file():
        raise InputFileError("file not found", path=name)
    try:
        scan = _scan(p, want_utf8=False)
    except OSError as exc:
        raise InputFileError(f"cannot read the file ({exc.strerror or exc})", path=name) from None
    kind = _kind(p, name, scan)
    if kind == "csv":
        raise InputFileError("is a CSV file, not a workbook: it has no sheets", path=name)
    from .read_book import book_sheets

    return book_sheets(p, name, kind, limits)


def _kind(p: Path, name: str, scan: _Scan) -> str:
    """csv, xlsx, xls or ods, from the bytes first and the name second; refuses the rest."""
    suffix = p.suffix.lower()
    head = scan.head
    if head.startswith(_OLE_MAGIC):
        if scan.encrypted:
            raise InputFileError(
                "the workbook is password-protected (encrypted); save an unprotected copy as .xlsx", path=name
            )
        return "xls"
    if head.startswith(_ZIP_MAGIC):
        if suffix in CSV_SUFFIXES:
            raise InputFileError("is a zip/xlsx file, not CSV; rename it to .xlsx", path=name)
        return "ods" if head[30:].startswith(_ODS_MIME) or suffix == ".ods" else "xlsx"
    if suffix in BOOK_SUFFIXES:
        label = "an .xls" if suffix == ".xls" else "an .ods" if suffix == ".ods" else "an .xlsx"
        if _HTML.match(head):
            raise InputFileError(
                f"not {label} workbook: it is a web page (HTML) or Excel 2003 XML saved with a "
                f"{suffix} name; open it in Excel and save it as .xlsx or CSV",
                path=name,
            )
        what = "it is empty" if not head else "is it .xls or CSV?"
        raise InputFileError(f"not {label} workbook ({what})", path=name)
    return "csv"


# --- standard input, pipes and devices ---------------------------------------------------------


_LIVE_SPOOLS: dict[str, str] = {}


def spooled_name(path: str | os.PathLike[str]) -> str | None:
    """The name shown for ``path`` when it is a live spool of :func:`spooled` (else None): a run
    from standard input is remembered as ``<stdin>``, not as a temporary path."""
    return _LIVE_SPOOLS.get(str(path))


def sniff_kind(path: str | os.PathLike[str]) -> str:
    """csv, xlsx, xls or ods by the first bytes (for naming a results file before reading)."""
    with open(path, "rb") as fh:
        head = fh.read(128)
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if head.startswith(_ZIP_MAGIC):
        return "ods" if head[30:].startswith(_ODS_MIME) else "xlsx"
    return "csv"


def needs_spool(path: str | os.PathLike[str]) -> bool:
    """True for ``-`` (standard input), pipes and devices: they can be read only once."""
    if str(path) == "-":
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


class _Exit:
    """Closes a context manager when the table closes."""

    def __init__(self, cm: Any) -> None:
        self.cm = cm

    def close(self) -> None:
        self.cm.__exit__(None, None, None)


@contextlib.contextmanager
def spooled(
    path: str | os.PathLike[str], *, limits: ReadLimits | None = None, stdin: IO[bytes] | None = None
) -> Iterator[tuple[Path, str]]:
    """``(a regular file to read, the name to show)`` for ``path``.

    ``"-"`` (standard input), pipes and devices are copied to a private temporary file (at most
    ``limits.max_stdin_bytes``) that is removed afterwards; a regular file is given as it is.
    Reading twice (the results sheet reads the input again) and fingerprinting then just work.

    >>> with spooled("-") as (path, name):                    # doctest: +SKIP
    ...     report = import_file(path, "account", name=name)
    """
    limits = limits or DEFAULT_LIMITS
    if not needs_spool(path):
        yield Path(path), str(path)
        return
    shown = STDIN_NAME if str(path) == "-" else str(path)
    folder = tempfile.mkdtemp(prefix="bulkio-input-")
    try:
        dest = Path(folder) / "input"
        with open(dest, "xb") as out:
            if str(path) == "-":
                source = stdin if stdin is not None else sys.stdin.buffer
                if stdin is None and sys.stdin.isatty():
                    raise InputFileError(
                        "standard input is a terminal; pipe the file in (… < accounts.csv) or name it",
                        path=shown,
                    )
                spool(source, out, shown, limits.max_stdin_bytes)
            else:
                try:
                    with open(path, "rb") as source_file:
                        spool(source_file, out, shown, limits.max_stdin_bytes)
                except OSError as exc:
                    raise InputFileError(f"cannot read ({exc.strerror or exc})", path=shown) from None
        _LIVE_SPOOLS[str(dest)] = shown
        yield dest, shown
    finally:
        _LIVE_SPOOLS.pop(str(Path(folder) / "input"), None)
        shutil.rmtree(folder, ignore_errors=True)


# --- file scan (fingerprint, encoding facts) ---------------------------------------------------


@dataclass(slots=True)
class _Scan:
    sha256: str
    head: bytes
    utf8: bool
    encrypted: bool
    longest_line: int = 0  # bytes; exact above _CHUNK, a lower bound below
    stray_offset: int | None = None  # where the bytes stop being UTF-8


def _scan(p: Path, *, want_utf8: bool) -> _Scan:
    """One streamed pass: sha256 of the bytes, whether they are valid UTF-8 (and where not), the
    first bytes, and the longest line when it is longer than a chunk."""
    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = want_utf8
    head = b""
    encrypted = encrypted_scan = False
    tail = b""
    offset = 0
    stray: int | None = None
    run_n = run_r = longest_n = longest_r = 0
    with open(p, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            if not head:
                head = chunk[:_SAMPLE_CHARS]
                utf8 = want_utf8 and not head.startswith((_ZIP_MAGIC, _OLE_MAGIC))
                encrypted_scan = head.startswith(_OLE_MAGIC)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8 = False
                    stray = offset + max(0, exc.start)
            if encrypted_scan and not encrypted:
                encrypted = _ENCRYPTED_MARK in tail + chunk
                tail = chunk[-64:]
            run_n, longest_n = _line_run(chunk, b"\n", run_n, longest_n)
            run_r, longest_r = _line_run(chunk, b"\r", run_r, longest_r)
            offset += len(chunk)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
            stray = offset
    longest = min(max(longest_n, run_n), max(longest_r, run_r))
    return _Scan(h.hexdigest(), head, utf8, encrypted, longest, stray)


def _line_run(chunk: bytes, nl: bytes, run: int, longest: int) -> tuple[int, int]:
    """Track the bytes since the last line end across chunks (lines within a chunk are short
    enough not to matter)."""
    first = chunk.find(nl)
    if first < 0:
        return run + len(chunk), longest
    return len(chunk) - chunk.rfind(nl) - 1, max(longest, run + first)


# --- header detection and row cleaning (both formats) ------------------------------------------


_VALUE_LIKE = re.compile(
    r"^(?:[-+(]?[$€£¥]?\s?\d[\d.,'\s]*%?\)?"  # numbers, amounts, percentages
    r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}.*)?"  # dates
    r"|[^@\s]+@[^@\s]+\.\w+"  # emails
    r"|https?://\S+)$",  # links
    re.IGNORECASE,
)


def _looks_like_value(cell: Any) -> bool:
    """A cell that reads as data (a number, date, email or link), not as a column name."""
    if not isinstance(cell, str):
        return True
    return bool(_VALUE_LIKE.match(cell))


def _detect_header(rows: list[list[Any]]) -> int:
    """0-based index of the header among the first rows, or -1 when they are all blank.

    bulkio's own ``Label (key)`` header wins (below title rows of one cell). Otherwise the header
    is the first row whose cells read as names, not values, and that is about as wide as the rows
    below it: a title, a note ("Exported 2026-01-05") or a blank row above the table is skipped.
    With nothing that looks like a header, it is the first non-blank row."""
    counts = [sum(1 for c in r if c is not None) for r in rows]
    nonblank = [i for i, n in enumerate(counts) if n]
    if not nonblank:
        return -1
    for i in nonblank:
        texts = [str(c) for c in rows[i] if c is not None]
        keyed = sum(1 for t in texts if key_from_header(t))
        if keyed and keyed * 2 >= len(texts) and (i == nonblank[0] or len(texts) > 1):
            return i
        if len(texts) > 1:
            break
    for pos, i in enumerate(nonblank):
        n = counts[i]
        below = sorted(counts[j] for j in nonblank[pos + 1 : pos + 11])
        typical = below[(len(below) - 1) // 2] if below else n
        values = sum(1 for c in rows[i] if c is not None and _looks_like_value(c))
        if values * 4 > n:
            continue  # numbers, dates, emails: data or a dated note, not column names
        if n < 2 <= typical or n * 2 < typical:
            continue  # much narrower than the rows below: a title or a note
        return i
    return nonblank[0]


def _header_texts(cells: list[Any]) -> list[str]:
    headers = ["" if c is None else str(c).strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _fit(table: SourceTable, number: int, cells: list[Any]) -> list[Any] | None:
    """Align a cleaned row to the header; None for a blank row. Extra non-empty cells are
    dropped with a ``ragged_row`` warning."""
    n = len(table.headers)
    if len(cells) > n:
        extra = [(i, c) for i, c in enumerate(cells[n:], start=n) if c is not None]
        cells = cells[:n]
        if extra:
            shown = ", ".join(repr(c) for _, c in extra[:3]) + (", …" if len(extra) > 3 else "")
            table.warn(
                Issue(
                    "ragged_row",
                    f"the row has values beyond the {n} header columns (up to column "
                    f"{column_letter(extra[-1][0])}); they are ignored: {shown}",
                    file=table.path,
                    sheet=table.sheet,
                    row=number,
                    column=column_letter(extra[0][0]),
                    value=extra[0][1],
                    expected=f"at most {n} values",
                    severity="warning",
                )
            )
    if not any(cells) and all(c is None for c in cells):  # any(): no generator for the usual row
        return None
    if len(cells) < n:
        cells = cells + [None] * (n - len(cells))
    return cells


def _clean_text(value: str) -> str | None:
    if "\x00" in value:
        value = value.replace("\x00", "")
    value = value.strip()
    if not value:
        return None
    if value[0] == "'":
        value = unescape_formula(value)
    return value


def _clean_csv(value: str) -> str | None:
    """:func:`_clean_text` for a CSV cell, with the common case (nothing to unescape) first."""
    s = value.strip()  # (NUL is not whitespace: a cell holding one is never blank here)
    if not s:
        return None
    if s[0] == "'" or "\x00" in s:
        return _clean_text(value)
    return s


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letter: 0 -> A, 27 -> AB. Unlike openpyxl's
    ``get_column_letter`` it has no upper bound, because a CSV can be wider than Excel's XFD."""
    s = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        s = chr(65 + r) + s
    return s


# --- shared row pipeline -----------------------------------------------------------------------


def _take(records: Iterator[tuple[int, list[Any]]], header_row: int | None) -> list[tuple[int, list[Any]]]:
    """Buffer the rows needed to find the header: row ``header_row`` (the rows above it are
    dropped), else the first HEADER_SCAN_ROWS rows."""
    head = []
    for rec in records:
        if header_row is not None:
            if rec[0] >= header_row:
                return [rec]
            continue
        head.append(rec)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    return head


def _start(
    table: SourceTable,
    head: list[tuple[int, list[Any]]],
    header_row: int | None,
    records: Iterator[tuple[int, list[Any]]],
    *,
    max_columns: int = DEFAULT_LIMITS.max_columns,
) -> None:
    """Set headers and the row iterator from the buffered first rows."""
    where = f"sheet {table.sheet!r} " if table.sheet else ""
    if header_row is not None:
        idx = next((i for i, (number, _) in enumerate(head) if number == header_row), -1)
        if idx < 0:
            raise InputFileError(
                f"{where}has no row {header_row} to use as the header", path=table.path, row=header_row
            )
    else:
        idx = _detect_header([cells for _, cells in head])
        if idx < 0:
            raise InputFileError(f"{where}is empty: expected a header row with column names", path=table.path)
    table.header_row = head[idx][0]
    cells = head[idx][1]
    if len(cells) > max_columns:
        raise InputFileError(
            f"refused: {where}the header has more than {max_columns:,} columns (spreadsheets have at "
            "most 18,278); is the delimiter right?",
            path=table.path,
            row=table.header_row,
        )
    for issue in table.issues:  # a formula without a value in a title or the header: not a row's error
        if issue.row is not None and issue.row <= table.header_row and issue.code in _CELL_VALUE_CODES:
            issue.severity = "warning"
    table.headers = _header_texts(cells)
    if not table.headers:
        raise InputFileError(
            f"{where}has an empty header row; expected column names", path=table.path, row=table.header_row
        )
    above = [(number, c) for number, c in head[:idx] if any(v is not None for v in c)]
    if above and header_row is None:
        first = next(v for v in above[0][1] if v is not None)
        rows_text = f"row {above[0][0]}" if len(above) == 1 else f"rows {above[0][0]}–{above[-1][0]}"
        verb = "is not data and is" if len(above) == 1 else "are not data and are"
        table.issues.append(
            Issue(
                "header_not_first",
                f"the header is row {table.header_row}; {rows_text} above it (starting "
                f"{str(first)[:40]!r}) {verb} skipped (--header-row picks another row)",
                file=table.path,
                sheet=table.sheet,
                row=table.header_row,
                expected="the header in the first row",
                severity="warning",
            )
        )
    table.rows = _rows(table, head[idx + 1 :], records)


def _rows(
    table: SourceTable, buffered: list[tuple[int, list[Any]]], records: Iterator[tuple[int, list[Any]]]
) -> Iterator[SourceRow]:
    unnamed = {i for i, h in enumerate(table.headers) if not h}
    width = len(table.headers)
    for number, cells in itertools.chain(buffered, records):
        # a row as wide as the header with a value in it is what _fit returns as it is
        fitted = cells if len(cells) == width and any(cells) else _fit(table, number, cells)
        if fitted is None:
            continue
        if unnamed:
            for i in [i for i in unnamed if fitted[i] is not None]:
                unnamed.discard(i)
                table.issues.append(
                    Issue(
                        "unnamed_column",
                        f"column {column_letter(i)} holds values but has no header, so it is "
                        "ignored; give it a header to import it",
                        file=table.path,
                        sheet=table.sheet,
                        row=number,
                        column=column_letter(i),
                        value=fitted[i],
                        expected="a header for every column with values",
                        severity="warning",
                    )
                )
        yield SourceRow(number, fitted)


__all__ = ["ReadLimits", "SourceRow", "SourceTable", "column_letter", "open_table", "spooled"]
