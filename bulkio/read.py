"""Read a CSV or XLSX file as a header and a stream of rows, whatever Excel or a CRM export made.

:func:`open_table` gives a :class:`SourceTable`: the header texts, a single-pass iterator of
:class:`SourceRow` (spreadsheet row numbers, header = row 1) and file-level warnings. Rows are
streamed, so a million-row CSV reads in constant memory.

CSV: the encoding is UTF-8 (with or without BOM), UTF-16/32 with a BOM, UTF-16 without BOM when
the bytes show it, else Windows-1252 (reported as an ``encoding_guessed`` warning). The delimiter
is sniffed among ``, ; TAB |``. Cells are text, stripped, ``''`` becomes ``None``.

XLSX: opened with ``openpyxl.load_workbook(read_only=True, data_only=True)``. openpyxl parses
the XML with ``defusedxml`` whenever it is installed (a bulkio dependency; ``openpyxl.xml.DEFUSEDXML``
is checked by the tests), so entity-expansion attacks fail. Before openpyxl sees the file, the zip
directory is checked for oversized or over-compressed members (zip bombs). Dates, numbers and
booleans stay typed (``datetime``, ``int``, ``float``, ``bool``); a formula gives its cached value,
and a formula without one gives ``None`` plus a ``formula_no_value`` warning.

Text cells in both formats lose exactly one leading ``'`` before ``= + - @ TAB CR`` (the escape
bulkio's writers add against formula injection).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .columns import key_from_header
from .errors import InputFileError
from .issues import Issue
from .sheets import unescape_formula

#: A cell larger than this (characters) is dropped with a ``cell_too_large`` issue.
MAX_CELL_CHARS = 1_048_576
#: Hard limit of the CSV parser for one field; beyond it the file cannot be read.
CSV_FIELD_LIMIT = 64 * 1024 * 1024
#: Zip-bomb guards, checked on the zip directory before the workbook is parsed.
MAX_MEMBER_BYTES = 1024**3  # one uncompressed member
MAX_TOTAL_BYTES = 3 * 1024**3  # all members together
MAX_RATIO = 200  # uncompressed/compressed, for members above RATIO_MIN_BYTES
RATIO_MIN_BYTES = 16 * 1024**2

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".tab"})
#: Sheets of a bulkio template that never hold records.
HELPER_SHEETS = frozenset({"instructions", "reference", "readme", "read me", "lists", "help"})
DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_CHARS = 64 * 1024
_HEADER_SCAN_ROWS = 10
_CHUNK = 1024 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")

csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))


@dataclass(slots=True)
class SourceRow:
    """One data row: its spreadsheet row number (header = 1) and cells aligned to the headers."""

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
    _closers: list[Any] = field(default_factory=list, repr=False)

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
) -> SourceTable:
    """Open a CSV or XLSX file for reading rows.

    ``sheet`` picks a worksheet by name; otherwise the sheet named like ``object_type`` (singular
    or plural), else the first visible sheet that is not a template helper sheet (Instructions,
    Reference). ``header_row`` (1-based) overrides the header detection, which finds bulkio's
    ``Label (key)`` header below a title row.

    >>> with open_table("accounts.csv") as table:            # doctest: +SKIP
    ...     for row in table.rows:
    ...         print(row.number, dict(zip(table.headers, row.cells)))
    """
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise InputFileError("file not found", path=name)
    if p.is_dir():
        raise InputFileError("is a directory, expected a .csv or .xlsx file", path=name)
    if header_row is not None and header_row < 1:
        raise InputFileError(f"header row must be 1 or more, not {header_row}", path=name)
    try:
        scan = _scan(p, want_utf8=encoding is None)
    except OSError as exc:
        raise InputFileError(f"cannot read the file ({exc.strerror or exc})", path=name) from None
    suffix = p.suffix.lower()
    if suffix == ".xls" or scan.head.startswith(_OLE_MAGIC):
        if scan.encrypted:
            raise InputFileError(
                "the workbook is password-protected (encrypted); save an unprotected copy as .xlsx", path=name
            )
        if scan.head.startswith(_OLE_MAGIC) or suffix == ".xls":
            raise InputFileError(
                "is an old Excel .xls workbook; save it as .xlsx (Excel Workbook) or CSV and try again",
                path=name,
            )
    if suffix in XLSX_SUFFIXES or (suffix not in CSV_SUFFIXES and scan.head.startswith(_ZIP_MAGIC)):
        if not scan.head.startswith(_ZIP_MAGIC):
            what = "it is empty" if not scan.head else "is it .xls or CSV?"
            raise InputFileError(f"not an .xlsx workbook ({what})", path=name)
        return _open_xlsx(p, name, scan.sha256, sheet=sheet, header_row=header_row, object_type=object_type)
    if sheet is not None:
        raise InputFileError(f"a CSV file has no sheets (asked for sheet {sheet!r})", path=name)
    if scan.head.startswith(_ZIP_MAGIC):
        raise InputFileError("is a zip/xlsx file, not CSV; rename it to .xlsx", path=name)
    return _open_csv(p, name, scan, encoding=encoding, delimiter=delimiter, header_row=header_row)


# --- file scan (fingerprint, encoding facts) ---------------------------------------------------


@dataclass(slots=True)
class _Scan:
    sha256: str
    head: bytes
    utf8: bool
    encrypted: bool


def _scan(p: Path, *, want_utf8: bool) -> _Scan:
    """One streamed pass: sha256 of the bytes, whether they are valid UTF-8, the first bytes."""
    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = want_utf8
    head = b""
    encrypted = encrypted_scan = False
    tail = b""
    with open(p, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            if not head:
                head = chunk[:_SAMPLE_CHARS]
                if not head.startswith((_ZIP_MAGIC, _OLE_MAGIC)) and want_utf8:
                    utf8 = True
                else:
                    utf8 = False
                encrypted_scan = head.startswith(_OLE_MAGIC)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if encrypted_scan and not encrypted:
                encrypted = _ENCRYPTED_MARK in tail + chunk
                tail = chunk[-64:]
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return _Scan(h.hexdigest(), head, utf8, encrypted)


# --- header detection and row cleaning (both formats) ------------------------------------------


def _detect_header(rows: list[list[Any]]) -> int:
    """0-based index of the header among the first rows: the first row holding bulkio
    ``Label (key)`` headers for at least half of its cells, else the first non-blank row."""
    first = next((i for i, r in enumerate(rows) if any(c is not None for c in r)), None)
    if first is None:
        return -1
    for i in range(first, len(rows)):
        texts = [str(c) for c in rows[i] if c is not None]
        if not texts:
            continue
        keyed = sum(1 for t in texts if key_from_header(t))
        if keyed and keyed * 2 >= len(texts) and (i == first or len(texts) > 1):
            return i
        if len(texts) > 1:  # only title rows (one cell) may sit above a header: no row is skipped
            return first
    return first


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
            table.issues.append(
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
    if all(c is None for c in cells):
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


# --- CSV ---------------------------------------------------------------------------------------


def _csv_encoding(scan: _Scan, given: str | None) -> tuple[str, bool]:
    """(codec, guessed): BOMs first, then UTF-16 by its zero bytes, UTF-8, else cp1252."""
    head = scan.head
    if given:
        return given, False
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32", False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 4 >= len(sample):
        odd_zero = sample[1::2].count(0)
        even_zero = sample[0::2].count(0)
        return ("utf-16-le" if odd_zero >= even_zero else "utf-16-be"), True
    if scan.utf8:
        return "utf-8", False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 0))
    if controls * 20 > len(sample):
        raise _NotText()
    return "cp1252", True


class _NotText(Exception):
    """The bytes are binary, not text in any encoding we read."""


def _sniff_delimiter(sample: str) -> str:
    """Pick the delimiter that splits the first lines into the most, and most consistent,
    columns; csv.Sniffer breaks ties."""
    cut = sample.rfind("\n")
    text = sample[: cut + 1] if cut > 0 else sample
    sniffed = None
    try:
        sniffed = csv.Sniffer().sniff(text[:16384], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        pass
    best: tuple[float, int, int] | None = None
    choice = sniffed or ","
    for d in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=d) if r][:50]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (round(consistent, 2), width, int(d == sniffed))
        if best is None or score > best:
            best, choice = score, d
    return choice


def _open_csv(
    p: Path, name: str, scan: _Scan, *, encoding: str | None, delimiter: str | None, header_row: int | None
) -> SourceTable:
    try:
        enc, guessed = _csv_encoding(scan, encoding)
    except _NotText:
        raise InputFileError(
            "not a text CSV file (it holds binary data); expected a .csv saved as text, or an .xlsx workbook",
            path=name,
        ) from None
    errors = "replace" if guessed and enc == "cp1252" else "strict"
    try:
        fh = open(p, encoding=enc, errors=errors, newline="")  # noqa: SIM115 - closed by the table
    except LookupError:
        raise InputFileError(f"unknown encoding {encoding!r}", path=name) from None
    table = SourceTable(
        path=name,
        sheet=None,
        headers=[],
        header_row=1,
        rows=iter(()),
        fingerprint=scan.sha256,
        encoding=enc,
        kind="csv",
    )
    table._closers.append(fh)
    try:
        sample = fh.read(_SAMPLE_CHARS)
        fh.seek(0)
        if enc.startswith("utf-16") and sample[:1] == "\ufeff":
            sample = sample[1:]
    except UnicodeDecodeError as exc:
        table.close()
        raise InputFileError(
            f"cannot be decoded as {enc} ({exc.reason} at byte {exc.start}); pass the right encoding",
            path=name,
        ) from None
    if delimiter is not None and len(delimiter) != 1:
        table.close()
        raise InputFileError(f"the delimiter must be one character, not {delimiter!r}", path=name)
    table.delimiter = delimiter or _sniff_delimiter(sample)
    if guessed:
        label = "Windows-1252 (cp1252)" if enc == "cp1252" else enc.upper()
        table.issues.append(
            Issue(
                "encoding_guessed",
                f"the file is not UTF-8; it was read as {label}",
                file=name,
                expected="UTF-8",
                severity="warning",
            )
        )
    records = _csv_records(table, fh)
    try:
        head = _take(records, header_row)
    except InputFileError:
        table.close()
        raise
    _start(table, head, header_row, records)
    return table


def _csv_records(table: SourceTable, fh: io.TextIOBase) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(fh, delimiter=table.delimiter or ",")
    number = 0
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(
                f"cannot be parsed as CSV ({exc})", path=table.path, row=number + 1
            ) from None
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"cannot be decoded as {table.encoding} ({exc.reason}); pass the right encoding",
                path=table.path,
                row=number + 1,
            ) from None
        number += 1
        if raw and max(map(len, raw)) > MAX_CELL_CHARS:
            for i, v in enumerate(raw):
                if len(v) > MAX_CELL_CHARS:
                    table.issues.append(
                        Issue(
                            "cell_too_large",
                            f"the cell holds {len(v):,} characters; at most "
                            f"{MAX_CELL_CHARS:,} are accepted, so it is ignored",
                            file=table.path,
                            row=number,
                            column=column_letter(i),
                            expected=f"at most {MAX_CELL_CHARS:,} characters",
                        )
                    )
            raw = [v if len(v) <= MAX_CELL_CHARS else "" for v in raw]
        yield number, [_clean_csv(v) for v in raw]


# --- shared row pipeline -----------------------------------------------------------------------


def _take(records: Iterator[tuple[int, list[Any]]], header_row: int | None) -> list[tuple[int, list[Any]]]:
    """Buffer the rows needed to find the header."""
    want = header_row if header_row is not None else _HEADER_SCAN_ROWS
    head = []
    for rec in records:
        head.append(rec)
        if len(head) >= want:
            break
    return head


def _start(
    table: SourceTable,
    head: list[tuple[int, list[Any]]],
    header_row: int | None,
    records: Iterator[tuple[int, list[Any]]],
) -> None:
    """Set headers and the row iterator from the buffered first rows."""
    where = f"sheet {table.sheet!r} " if table.sheet else ""
    if header_row is not None:
        idx = header_row - 1
        if idx >= len(head):
            raise InputFileError(
                f"{where}has no row {header_row} to use as the header", path=table.path, row=header_row
            )
    else:
        idx = _detect_header([cells for _, cells in head])
        if idx < 0:
            raise InputFileError(f"{where}is empty: expected a header row with column names", path=table.path)
    table.header_row = head[idx][0]
    table.headers = _header_texts(head[idx][1])
    if not table.headers:
        raise InputFileError(
            f"{where}has an empty header row; expected column names", path=table.path, row=table.header_row
        )
    table.rows = _rows(table, head[idx + 1 :], records)


def _rows(
    table: SourceTable, buffered: list[tuple[int, list[Any]]], records: Iterator[tuple[int, list[Any]]]
) -> Iterator[SourceRow]:
    for number, cells in buffered:
        fitted = _fit(table, number, cells)
        if fitted is not None:
            yield SourceRow(number, fitted)
    for number, cells in records:
        fitted = _fit(table, number, cells)
        if fitted is not None:
            yield SourceRow(number, fitted)


# --- XLSX --------------------------------------------------------------------------------------


def _check_zip(p: Path, name: str) -> list[str]:
    """Reject what is not an xlsx package or would expand dangerously; return member names."""
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise InputFileError(
            f"not an .xlsx workbook: the zip structure is damaged or truncated ({exc})", path=name
        ) from None
    names = [i.filename for i in infos]
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        raise InputFileError(
            "not an .xlsx workbook: the zip has no xl/workbook.xml (is it .ods, .docx or another zip?)",
            path=name,
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (info.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO):
            raise InputFileError(
                f"refused: workbook part {info.filename} would expand to "
                f"{info.file_size:,} bytes (ratio {ratio:.0f}:1); it looks like a zip "
                "bomb",
                path=name,
            )
    if total > MAX_TOTAL_BYTES:
        raise InputFileError(f"refused: the workbook would expand to {total:,} bytes", path=name)
    return names


def _pick_sheet(wb: Any, name: str, sheet: str | None, object_type: str | None) -> Any:
    titles = [ws.title for ws in wb.worksheets]
    if sheet is not None:
        if sheet in titles:
            return wb[sheet]
        folded = [t for t in titles if t.casefold() == sheet.strip().casefold()]
        if len(folded) == 1:
            return wb[folded[0]]
        raise InputFileError(
            f"has no sheet {sheet!r}; sheets: {', '.join(repr(t) for t in titles)}", path=name
        )
    visible = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    if object_type:
        wanted = {
            object_type.casefold(),
            object_type.casefold() + "s",
            object_type.casefold().removesuffix("y") + "ies",
        }
        for ws in visible:
            if ws.title.strip().casefold() in wanted:
                return ws
    for ws in visible:
        if ws.title.strip().casefold() not in HELPER_SHEETS:
            return ws
    if not titles:
        raise InputFileError("the workbook has no worksheets", path=name)
    raise InputFileError(f"has no data sheet (only {', '.join(repr(t) for t in titles)})", path=name)


def _has_formulas(p: Path, member: str) -> bool:
    with zipfile.ZipFile(p) as zf, zf.open(member) as fh:
        tail = b""
        while chunk := fh.read(_CHUNK):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _xlsx_error(exc: BaseException) -> str:
    """One line saying why a workbook cannot be read; names refused XML entities/DTDs."""
    from defusedxml.common import DefusedXmlException

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return (
                "refused: the workbook's XML declares a DTD or entities, which are forbidden "
                f"for safety ({type(seen).__name__}); expected a plain .xlsx workbook"
            )
        seen = seen.__cause__ or seen.__context__
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"not a readable .xlsx workbook ({type(exc).__name__}: {first})"


def _open_xlsx(
    p: Path, name: str, sha: str, *, sheet: str | None, header_row: int | None, object_type: str | None
) -> SourceTable:
    import openpyxl  # local: keeps `import bulkio.read` light for CSV-only use

    _check_zip(p, name)
    table = SourceTable(
        path=name, sheet=None, headers=[], header_row=1, rows=iter(()), fingerprint=sha, kind="xlsx"
    )

    def load(data_only: bool) -> Any:
        # a file object, not the path: openpyxl refuses paths without an .xlsx-like suffix
        fh = open(p, "rb")  # noqa: SIM115 - closed by the table
        table._closers.append(fh)
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=data_only)
        table._closers.append(wb)
        return wb

    try:
        wb = load(True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken files
        table.close()
        raise InputFileError(_xlsx_error(exc), path=name) from None
    try:
        ws = _pick_sheet(wb, name, sheet, object_type)
        table.sheet = ws.title
        formula_ws = None
        member = getattr(ws, "_worksheet_path", None)
        if member and _has_formulas(p, member):
            fwb = load(False)
            formula_ws = fwb[ws.title]
            formula_ws.reset_dimensions()
        ws.reset_dimensions()
        records = _xlsx_records(table, ws, formula_ws)
        head = _take(records, header_row)
        _start(table, head, header_row, records)
    except InputFileError:
        table.close()
        raise
    except Exception as exc:  # noqa: BLE001
        table.close()
        raise InputFileError(_xlsx_error(exc), path=name) from None
    return table


def _xlsx_records(table: SourceTable, ws: Any, formula_ws: Any) -> Iterator[tuple[int, list[Any]]]:
    values = ws.iter_rows(values_only=True)
    formulas = formula_ws.iter_rows(values_only=True) if formula_ws is not None else None
    number = 0
    while True:
        try:
            raw = next(values)
            frow = next(formulas, ()) if formulas is not None else ()
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a damaged sheet part
            raise InputFileError(
                f"sheet {table.sheet!r}: {_xlsx_error(exc)}", path=table.path, row=number + 1
            ) from None
        number += 1
        cells: list[Any] = []
        for i, v in enumerate(raw):
            if isinstance(v, str):
                v = _clean_text(v)
            elif v is None and i < len(frow) and isinstance(frow[i], str) and frow[i].startswith("="):
                table.issues.append(
                    Issue(
                        "formula_no_value",
                        f"the formula {frow[i]} has no saved value; open and save the "
                        "workbook in Excel so values are calculated",
                        file=table.path,
                        sheet=table.sheet,
                        row=number,
                        column=column_letter(i),
                        value=frow[i],
                        expected="a value",
                        severity="warning",
                    )
                )
            cells.append(v)
        yield number, cells


__all__ = ["SourceRow", "SourceTable", "open_table"]
