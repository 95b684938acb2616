"""The CSV results sheet of a CSV input, written from the input's own lines.

Why: a results sheet repeats the input row for row, and reading a million-row CSV into cells a
second time only to write the same text again was most of a dry run's results time. So a record
whose cells need nothing done to them is copied as its bytes, with the outcome columns added. A
cell "needs something" when the reader would change it (a blank, spaces around it, a leading
``'``, a NUL) or the writer would (a formula trigger to escape); so does a row not as wide as the
header, or a totals or footer row. The reader marks the records it took as they are while it reads
(:attr:`bulkio.read.SourceTable.untouched`, from the cells it split anyway); any other record is
looked at byte by byte here, and if that cannot tell, read by the reader's own code
(:mod:`bulkio.read_csv`) and written as :func:`bulkio.results.write_results` writes it, so the two
cannot drift.

What may differ from writing every cell: a record the input quoted where no quote is needed
keeps its quotes (``"Acme"``), as the person wrote it; the cells read back the same.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from . import results, sheets
from .definitions import ObjectSchema
from .operations import RowOutcome
from .read import _FOOTER_STARTS, _TOTAL_STARTS, MAX_CELL_CHARS, SourceRow, SourceTable, _rows
from .read_csv import MIXED, _mixed_lines, _records
from .read_guard import ReadLimits
from .results import RESULT_HEADERS, Lookup

#: Lowercased starts of a totals or footer row's first cell (:func:`bulkio.read.summary_row`).
_SUMMARY_STARTS = _TOTAL_STARTS + _FOOTER_STARTS
#: Rows written per call to the file.
_BATCH = 4096
#: What a cell is joined with to look at a quoted record's cells (a control character; a record
#: with a cell holding it is read the reader's way).
_SEPARATOR = "\x1f"
_SEP, _BAD, _CONTROL = ord(","), ord("!"), ord("#")


def _marks(delimiter: str) -> bytes:
    """A :meth:`bytes.translate` table for the UTF-8 text of a row: the delimiter becomes ``,``;
    what may start or end a cell that the reader or the writer changes becomes ``!`` (a space, a
    formula trigger, ``'``, ``:``, and the first and last bytes of Unicode's other spaces, with some
    other letters: a false alarm only reads the row the slow way); control characters and NUL
    ``#``; everything else stays or becomes a letter."""
    table = bytearray(range(256))
    for b in b",!#":
        table[b] = ord("a")
    for b in b"=+-@': ":
        table[b] = _BAD
    for b in [*range(32), 127]:
        table[b] = _CONTROL
    # U+0085, U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000 in UTF-8: lead
    # bytes (a cell's first byte) and last bytes (a cell's last byte)
    for b in [0xC2, 0xE1, 0xE2, 0xE3, *range(0x80, 0x8B), 0x9F, 0xA0, 0xA8, 0xA9, 0xAF]:
        table[b] = _BAD
    table[ord(delimiter)] = _SEP
    return bytes(table)


def _may_change(marked: bytes) -> bool:
    """Whether a cell of a row (its text through :func:`_marks`' table) may start or end with what
    the reader trims or unescapes or the writer escapes, or holds a control character."""
    return (
        not marked
        or marked[0] == _BAD
        or marked[-1] == _BAD
        or _CONTROL in marked
        or b"!," in marked  # a cell ending with it
        or b",!" in marked  # a cell starting with it
    )


def _simply_quoted(body: bytes, last: int, outer: bytes, inner: bytes) -> bool:
    """Whether a line with quotes is one record whose quoted cells are each a whole cell
    (``a,"b, c",d``: no ``""`` inside, no quote within a cell), with ``last + 1`` cells, none of
    which the reader or the writer changes. ``outer`` is :func:`_marks`' table of the delimiter
    with NUL as ``|`` (where a quoted cell is), ``inner`` the table of NUL (a quoted cell's
    bounds)."""
    if 0 in body:
        return False
    parts = body.split(b'"')
    quoted = len(parts) // 2
    if len(parts) % 2 == 0:  # an odd number of quotes: a cell goes on to the next line
        return False
    outside = b"\x00".join(parts[0::2])  # NUL where a quoted cell is
    bounded = b"," + outside.translate(outer) + b","
    if bounded.count(b",|") != quoted or bounded.count(b"|,") != quoted:
        return False  # a quote that does not open or close a whole cell
    if bounded.count(b",") - 2 != last or _may_change(bounded[1:-1]):
        return False
    return not _may_change((b"\x00" + b"\x00".join(parts[1::2]) + b"\x00").translate(inner))


def _breaks_are_newlines(source: Path) -> bool:
    """Whether every carriage return of the file starts a CRLF line break: reading its bytes line
    by line then splits it where the reader (text, with universal line breaks) does."""
    tail = b""
    with open(source, "rb") as fh:
        while block := fh.read(1 << 20):
            block = tail + block
            tail = block[-1:]  # a CR at the end of a block: looked at with the next one
            if block.count(b"\r") - (tail == b"\r") != block.count(b"\r\n"):
                return False
    return tail != b"\r"


class _Records:
    """Where a record that holds a quote ends: :func:`csv.reader` reads it line by line (a quoted
    cell may hold line breaks) from the line already taken, then from the file, and the lines it
    took are kept."""

    __slots__ = ("lines", "reader", "source", "taken")

    def __init__(self, source: Iterator[str], delimiter: str) -> None:
        self.source = source
        self.taken: Iterator[str] = source
        self.lines: list[str] = []
        self.reader = csv.reader(self, delimiter=delimiter)

    def __iter__(self) -> _Records:
        return self

    def __next__(self) -> str:
        line = next(self.taken)
        self.lines.append(line)
        return line

    def read(self, first: str) -> list[str]:
        """The cells of the record that starts with the line ``first`` (its lines in :attr:`lines`)."""
        self.lines = []
        self.taken = itertools.chain((first,), self.source)
        try:
            return next(self.reader)
        finally:
            self.taken = self.source


class _Formatter:
    """One row as CSV text, the way :func:`csv.writer` writes it to the file."""

    def __init__(self, delimiter: str) -> None:
        self.buffer = io.StringIO()
        self.writerow = csv.writer(self.buffer, delimiter=delimiter).writerow

    def __call__(self, cells: Sequence[Any]) -> str:
        buffer = self.buffer
        buffer.seek(0)
        buffer.truncate()
        self.writerow(cells)
        return buffer.getvalue()


def write_csv_results(
    dest: str | Path,
    source: str | Path,
    headers: Sequence[str],
    lookup: Lookup,
    *,
    encoding: str,
    delimiter: str,
    header_row: int = 1,
    dry_run: bool = False,
    schema: ObjectSchema | None = None,
    name: str | None = None,
    untouched: bytes | bytearray | None = None,
) -> Path:
    """Write the results sheet of the CSV file ``source`` to the CSV ``dest``: the same bytes
    as :func:`bulkio.results.write_results` given the rows the reader yields (but for quotes the
    input had where none are needed), in a fraction of the time."""
    dest, source = Path(dest), Path(source)
    with sheets.atomic_path(dest) as tmp:
        _write(
            tmp, source, headers, lookup, encoding, delimiter, header_row, dry_run, schema, name, untouched
        )
    return dest


def _open_lines(source: Path, encoding: str) -> tuple[IO[Any], Iterator[bytes]]:
    """The file and its lines as UTF-8 bytes: a UTF-8 file's own bytes, when its lines break
    where the reader's do; else its text, encoded."""
    opened: IO[Any]
    if _utf8(encoding) and _breaks_are_newlines(source):
        opened = open(source, "rb")  # noqa: SIM115 - the caller closes it
        return opened, iter(opened)
    if encoding == MIXED:
        opened = open(source, "rb")  # noqa: SIM115
        return opened, map(str.encode, _mixed_lines(opened, {}))
    opened = open(source, encoding=encoding, errors="replace", newline="")  # noqa: SIM115
    return opened, map(str.encode, opened)


def _classified(
    lines: Iterator[bytes],
    headers: Sequence[str],
    delimiter: str,
    header_row: int,
    table: SourceTable,
    untouched: bytes | bytearray | None = None,
) -> Iterator[tuple[int, bytes | None, list[Any] | None]]:
    """The data records of a CSV file after its header: ``(number, text, None)`` for a record
    whose cells neither the reader nor the writer changes (its UTF-8 text without the line
    break), ``(number, None, cells)`` with the reader's cells for any other; a row the reader
    skips (blank, totals, footer) is left out. ``untouched``: what the first read found
    (:attr:`bulkio.read.SourceTable.untouched`); a record it marks is copied without a look."""
    width = len(headers)
    d = delimiter
    limits = ReadLimits()

    def read_record(lines: list[str]) -> list[Any] | None:
        """The reader's cells of one record (None: a row it skips: blank, totals, footer)."""
        rows = list(_rows(table, [], _records(table, lines, limits, {})))
        table.issues.clear()
        return rows[0].cells if rows else None

    fast = len(d.encode()) == 1 and d not in '"\r\n' + _SEPARATOR
    marks = _marks(d) if fast else b""
    cell_marks = _marks(_SEPARATOR)
    outer_table = bytearray(marks)
    if fast:
        outer_table[ord("|")], outer_table[0] = ord("a"), ord("|")
    outer = bytes(outer_table)
    inner = _marks("\x00")
    separator = _SEPARATOR
    # a totals or footer row's first cell (read.summary_row), and rows that start like one
    summary = re.compile(
        b'[%s"]*(?:%s)' % (re.escape(d.encode()), b"|".join(re.escape(x.encode()) for x in _SUMMARY_STARTS)),
        re.IGNORECASE,
    )
    # the first two letters a totals row can start with; a row starting with a delimiter or a quote
    # is looked at by the pattern
    summary_heads = {x.encode()[:2] for x in _SUMMARY_STARTS}
    look_closer = {ord('"'), ord(d)} if fast else {ord('"')}
    comma = b","
    last = width - 1
    records = _Records(map(_text, lines), d)
    number = 0
    for line in lines:  # the rows above the header, and the header: records, not lines
        if b'"' in line:
            records.read(_text(line))
        number += 1
        if number == header_row:
            break
    marked = untouched or b""
    known = len(marked)
    for line in lines:
        number += 1
        if number < known and marked[number]:  # the reader took it as it is: one line
            yield number, line.rstrip(b"\r\n"), None
            continue
        parts: list[str] | None = None
        body = line.rstrip(b"\r\n")
        if b'"' in line:
            copy = fast and _simply_quoted(body, last, outer, inner)
            if not copy:  # csv.reader finds where the record ends, and its cells
                cells = records.read(_text(line))
                parts = records.lines
                if len(parts) > 1:
                    body = "".join(parts).rstrip("\r\n").encode()
                joined = separator.join(cells)
                copy = (
                    len(cells) == width
                    and any(cells)
                    and joined.count(separator) == last  # (a cell holding the separator: read it)
                    and not _may_change(joined.encode().translate(cell_marks))
                )
        elif fast:
            m = body.translate(marks)
            copy = (
                m.count(comma) == last
                and len(m) > last
                and m[0] != _BAD
                and m[-1] != _BAD
                and _CONTROL not in m
                and b"!," not in m
                and b",!" not in m
            )
        else:
            copy = False
        if (
            copy
            and (
                (body[:2].lower() not in summary_heads and body[0] not in look_closer)
                or summary.match(body) is None
            )
            and len(body) <= MAX_CELL_CHARS
        ):
            yield number, body, None
        else:
            fitted = read_record(parts or [_text(line)])
            if fitted is not None:
                yield number, None, fitted


def _write(
    tmp: Path,
    source: Path,
    headers: Sequence[str],
    lookup: Lookup,
    encoding: str,
    delimiter: str,
    header_row: int,
    dry_run: bool,
    schema: ObjectSchema | None,
    name: str | None,
    untouched: bytes | bytearray | None,
) -> None:
    """:func:`write_csv_results` into ``tmp``."""
    width = len(headers)
    d = delimiter
    row_text = _Formatter(d)
    plain, names, changed = results.plain_codes(lookup)
    tails: list[bytes | None] = [None] * 256  # outcome code -> its columns' text (rows with nothing else)
    needs_quotes = re.compile(f'[{re.escape(d)}"\r\n]').search  # what csv.writer would quote

    def cells_text(outcome: RowOutcome | None) -> bytes:
        return (
            d + row_text(sheets.csv_row(results.outcome_cells(outcome, dry_run=dry_run, schema=schema)))
        ).encode()

    changes_text = results.changes_formatter(schema)

    def added(number: int) -> bytes:
        """The outcome columns of row ``number`` (CSV text after a delimiter)."""
        code = plain[number] if number < len(plain) else 0
        if code not in names:
            return cells_text(lookup(number))
        tail = tails[code]
        if tail is None:  # the outcome's columns, the same for every row with nothing else
            tail = tails[code] = cells_text(RowOutcome(row=number, outcome=names[code]))  # type: ignore[arg-type]
        changes = changed.get(number) if changed else None
        if not changes:
            return tail
        # a dry run's create or update: its outcome's columns with its changes last (in place of
        # the usual columns' empty Changes cell), through csv.writer only if it would quote them
        text = sheets.escape_formula(changes_text(changes))
        if needs_quotes(text) is None:
            return tail[: -len(b"\r\n")] + text.encode() + b"\r\n"
        return cells_text(lookup(number))

    no_plain = len(plain)
    blank = row_text([""] * (width + len(RESULT_HEADERS))).encode()
    opened, lines = _open_lines(source, encoding)
    with opened, open(tmp, "wb") as fh:
        out: list[bytes] = [blank] * (header_row - 1)
        out.append(row_text(sheets.csv_row([*headers, *RESULT_HEADERS])).encode())
        line = header_row  # rows the reader skips: written only when a row follows (as write_results does)
        for number, body, cells in _classified(
            lines, headers, d, header_row, _table(source, headers, encoding, d, name), untouched
        ):
            if number > line + 1:
                out.extend([blank] * (number - line - 1))
            line = number
            if body is not None:
                tail = tails[plain[number]] if number < no_plain and number not in changed else None
                out.append(body + (tail or added(number)))
            else:
                assert cells is not None
                out.append(row_text(sheets.csv_row(cells))[: -len("\r\n")].encode() + added(number))
            if len(out) >= _BATCH:
                fh.writelines(out)
                out.clear()
        fh.writelines(out)


def _table(
    source: Path, headers: Sequence[str], encoding: str, delimiter: str, name: str | None
) -> SourceTable:
    """The table the reader's own code reads the unusual records into (its issues are dropped: the
    first read reported them)."""
    return SourceTable(
        path=name or str(source), sheet=None, headers=list(headers), header_row=1, rows=iter(()),
        fingerprint="", encoding=encoding, delimiter=delimiter, kind="csv",
    )  # fmt: skip


def source_rows(
    source: str | Path,
    headers: Sequence[str],
    *,
    encoding: str,
    delimiter: str,
    header_row: int = 1,
    name: str | None = None,
    untouched: bytes | bytearray | None = None,
) -> Generator[SourceRow, None, None]:
    """The rows the reader yields for a CSV file after its header (same numbers, same cells), for
    a results workbook of a CSV input: an untouched record is split as it is instead of being
    read cell by cell again."""
    source = Path(source)
    opened, lines = _open_lines(source, encoding)
    d = delimiter
    with opened:
        for number, body, cells in _classified(
            lines, headers, d, header_row, _table(source, headers, encoding, d, name), untouched
        ):
            if body is not None:
                text = body.decode("utf-8")
                raw = text.split(d) if '"' not in text else next(csv.reader([text], delimiter=d))
                cells = [v or None for v in raw]
            assert cells is not None
            yield SourceRow(number, cells)


def _utf8(encoding: str) -> bool:
    return encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")


__all__ = ["source_rows", "write_csv_results"]
