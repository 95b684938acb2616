"""A small streaming XLSX writer for results sheets: rows become SpreadsheetML text in Python and
are deflated as they stream, a block of rows at a time.

Why not openpyxl's write-only mode: it builds a cell object and an XML element per cell, which
made the results file 65% of a 50,000-row dry run (issue 13). Here a row is a few string
formats: a plain text cell is one f-string, escaping runs only on a row whose text needs it, and
zlib (which releases the GIL) deflates in a second thread meanwhile.

What a sheet written here keeps from the openpyxl one (``tests/test_xlsx_stream.py`` compares
them, with ``bench/_openpyxl_results.py`` as the old writer): text stays text (inline strings, so
``=…`` and ``#N/A`` are never a formula or an error value; control characters XML cannot hold
dropped; ``'`` before a formula trigger doubled, as :func:`bulkio.sheets.xlsx_text` does), numbers,
booleans, dates/datetimes/times as serial numbers with the same number formats, a styled header,
frozen panes, an autofilter (with its hidden ``_xlnm._FilterDatabase`` name), column widths, empty
rows in place, cell fills and comments (comments part + VML drawing, so Excel and LibreOffice show
them). Two deliberate differences: floats are written with every digit (``repr``; openpyxl wrote
16 significant digits, so 0.1 + 0.2 came back as 0.3), and whitespace-only text keeps
``xml:space="preserve"`` (openpyxl left it off, so Excel and calamine read such a cell as empty).
No theme part (nothing refers to theme colours but the default font), ``docProps/app.xml`` names
bulkio.

Inline strings, not a shared-strings table: a shared table must be held in memory (every
distinct value of a million-row sheet) and written after the sheets; inline strings keep memory
constant and are what openpyxl's write-only mode writes too. The zip container is written here
(:class:`_ZipOut`): each part's deflated bytes are spooled (in memory up to :data:`SPOOL_MEMORY`,
then in a temporary file, so memory stays bounded) and stored behind a local header written with
the sizes known, so a part gets zip64 fields only when it needs them: ``zipfile`` streaming a
member of unknown size would need ``force_zip64`` up front for a sheet that might pass 2 GiB, and
Excel refuses zip64 headers on small parts. Nothing here imports openpyxl.

The package is deterministic (fixed zip timestamps and document dates: the same rows give the same
bytes) and written atomically (:func:`bulkio.sheets.atomic_path`): an exception or Ctrl-C leaves
the previous file untouched, no temporary file and no thread behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import queue
import re
import shutil
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import IO, Any

from . import sheets
from .read import column_letter

#: zlib level of every part: 1 measured fastest with files ~1.3× the size of level 6
#: (``bench/bench_results_xlsx.py``).
COMPRESS_LEVEL = 1
#: Rows joined before one write into the sheet's stream.
FLUSH_ROWS = 256
#: 1980-01-01 00:00 in DOS date/time fields (the zip epoch: a fixed time, deterministic files).
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1
#: Sizes and offsets from here on need zip64 fields (a module constant so tests can lower it).
_ZIP64_LIMIT = 0xFFFFFFFF

#: Cell style ids (``cellXfs`` of :func:`_styles_xml`): header, then a number format (none, date,
#: datetime, time) × a fill (none, error, warning): ``style(fill, fmt) = 1 + 4 * fill + fmt``,
#: except plain (0).
HEADER_STYLE = 1
FMT_DATE, FMT_DATETIME, FMT_TIME = 1, 2, 3
FILL_ERROR, FILL_WARNING = 1, 2

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

#: Characters XML 1.0 cannot hold (openpyxl's set, :data:`bulkio.sheets.ILLEGAL_CHARACTERS_RE`)
#: and the three that need an entity: a row with none of them is written without escaping.
_NEEDS_WORK = re.compile(r"[\000-\010\013\014\016-\037&<>]")
_ILLEGAL = sheets.ILLEGAL_CHARACTERS_RE
#: Text starting or ending in whitespace gets ``xml:space="preserve"`` (Excel trims it otherwise);
#: text starting with ``'`` may need the reader's extra ``'`` (:func:`bulkio.sheets.xlsx_text`).
_WS = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)  # every character str.isspace() says is one (a test checks), not computed at import
_FIRST = _WS | {sheets.ESCAPE_PREFIX}
_WINDOWS_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_DATE = _WINDOWS_EPOCH.date()


def _style(fill: int, fmt: int) -> int:
    return 0 if not fill and not fmt else 1 + 4 * fill + fmt


def _escape(text: str) -> str:
    """XML text: illegal control characters dropped, ``& < >`` as entities."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


@functools.lru_cache(maxsize=4096)  # a sheet's dates repeat
def _serial(value: dt.date | dt.datetime | dt.time) -> str:
    """Excel's serial number of a date, datetime or time, as openpyxl writes it (1900 date system,
    the 1900-02-29 bug kept, ``%.16g``), so both read back the same."""
    if isinstance(value, dt.time):
        return f"{_day_fraction(value):.16g}"
    when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    days = (when - _WINDOWS_EPOCH).days
    if 0 < days <= 60:
        days -= 1
    return f"{days + _day_fraction(when):.16g}"


_DATETIME_STYLE = _style(0, FMT_DATETIME)


def _day_fraction(t: dt.time | dt.datetime) -> float:
    return (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 10**6) / 86400


def text_xml(text: str) -> tuple[str, bool]:
    """The ``<t>`` content of a text cell and whether it needs ``xml:space="preserve"``; the text
    as :func:`bulkio.sheets.xlsx_text` stores it (control characters dropped, ``'`` doubled before
    a formula trigger)."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if text and text[0] == sheets.ESCAPE_PREFIX and sheets._needs_prefix(text):
        text = sheets.ESCAPE_PREFIX + text
    if not text:
        return "", False
    preserve = text[0] in _WS or text[-1] in _WS
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), preserve


def cell_xml(ref: str, value: Any, fill: int = 0) -> str:
    """One ``<c>`` element (``""`` for an empty unstyled cell), typed as openpyxl would write
    the value after :func:`bulkio.sheets.xlsx_value`."""
    kind = type(value)
    if kind is str or isinstance(value, str):
        text, preserve = text_xml(value)
        s = f' s="{_style(fill, 0)}"' if fill else ""
        if not text:
            return f'<c r="{ref}"{s} t="inlineStr"/>'
        space = ' xml:space="preserve"' if preserve else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if value is None:
        return f'<c r="{ref}" s="{_style(fill, 0)}"/>' if fill else ""
    if kind is bool:
        s = f' s="{_style(fill, 0)}"' if fill else ""
        return f'<c r="{ref}"{s} t="b"><v>{1 if value else 0}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        number: int | float = int(value) if isinstance(value, int) else float(value)
        if isinstance(number, float) and not math.isfinite(number):
            return f'<c r="{ref}" s="{_style(fill, 0)}"/>' if fill else ""
        s = f' s="{_style(fill, 0)}"' if fill else ""
        return f'<c r="{ref}"{s} t="n"><v>{number!r}</v></c>'
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return f'<c r="{ref}" s="{_style(fill, FMT_DATETIME)}" t="n"><v>{_serial(value)}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_style(fill, FMT_DATE)}" t="n"><v>{_serial(value)}</v></c>'
    if isinstance(value, dt.time):
        return f'<c r="{ref}" s="{_style(fill, FMT_TIME)}" t="n"><v>{_serial(value)}</v></c>'
    return cell_xml(ref, sheets.xlsx_value(value), fill)  # other objects as text, as ever


#: A spooled part stays in memory up to this many bytes, then moves to a temporary file: a
#: sheet of up to ~60,000 results rows never touches the disk twice, a larger one costs this much
#: memory at most.
SPOOL_MEMORY = 32 << 20


class Spool:
    """Bytes written once and read back once: chunks in memory up to :data:`SPOOL_MEMORY`, then
    a temporary file (removed on :meth:`close`)."""

    def __init__(self, limit: int | None = None) -> None:
        self._chunks: list[bytes] = []
        self._file: IO[bytes] | None = None
        self._limit = SPOOL_MEMORY if limit is None else limit
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._chunks.append(data)
        if self.size > self._limit:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            self._file.writelines(self._chunks)
            self._chunks = []

    def copy_to(self, dest: IO[bytes]) -> None:
        if self._file is None:
            for chunk in self._chunks:
                dest.write(chunk)
            return
        self._file.seek(0)
        shutil.copyfileobj(self._file, dest, 1 << 20)

    def lines(self) -> Iterator[bytes]:
        """The bytes again, line by line (for spooled comment records)."""
        if self._file is None:
            yield from b"".join(self._chunks).splitlines(keepends=True)
            return
        self._file.seek(0)
        yield from self._file

    def close(self) -> None:
        self._chunks = []
        if self._file is not None:
            self._file.close()
            self._file = None


#: The interpreter's thread switch interval while a sheet's rows are written. The deflate thread
#: (:class:`Part`) needs the GIL between two chunks, and at the default 5 ms it waits for it so long
#: that it falls behind and the writer waits for it instead; at 0.5 ms it keeps up (a 5,000-row
#: results sheet: 6.4 → 5.4 µs a row).
SWITCH_INTERVAL = 0.0005
_switches_lock = threading.Lock()
_switches_users = 0
_switches_saved = 0.0


@contextmanager
def quick_switches() -> Iterator[None]:
    """:data:`SWITCH_INTERVAL` in the block (if shorter than the interval set), the interval set
    again when the last of the blocks running in any thread ends."""
    global _switches_users, _switches_saved
    with _switches_lock:
        if _switches_users == 0:
            _switches_saved = sys.getswitchinterval()
            if _switches_saved > SWITCH_INTERVAL:
                sys.setswitchinterval(SWITCH_INTERVAL)
        _switches_users += 1
    try:
        yield
    finally:
        with _switches_lock:
            _switches_users -= 1
            if _switches_users == 0:
                sys.setswitchinterval(_switches_saved)


class Part:
    """One package part being written: its bytes deflated as they come (raw deflate, CRC-32 and
    size kept), the compressed bytes spooled until :class:`_ZipOut` stores them.

    With ``threaded`` a worker thread deflates while the caller formats the next rows: zlib
    releases the GIL, so on two cores the compression (a fifth of a results sheet's time)
    overlaps the Python work. A bounded queue keeps memory constant."""

    def __init__(self, *, threaded: bool = False) -> None:
        self._deflate = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        self.spool = Spool()
        self.crc = 0
        self.size = 0
        self.closed = False
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=8)
            self._thread = threading.Thread(target=self._work, name="bulkio-xlsx-deflate", daemon=True)
            self._thread.start()

    def _deflate_chunk(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        out = self._deflate.compress(data)
        if out:
            self.spool.write(out)

    def _work(self) -> None:
        assert self._queue is not None
        while True:
            data = self._queue.get()
            if data is None:
                return
            if self._error is None:
                try:
                    self._deflate_chunk(data)
                except BaseException as exc:  # noqa: BLE001 - raised in the writer's thread
                    self._error = exc

    def write(self, data: bytes) -> None:
        if self._queue is None:
            self._deflate_chunk(data)
            return
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def _stop(self) -> None:
        """Wait for the worker to deflate what it was given (it ends on the ``None`` it gets)."""
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        if not self.closed:
            self._stop()
            if self._error is not None:
                raise self._error
            self.spool.write(self._deflate.flush())
            self.closed = True

    def discard(self) -> None:
        """Drop the part (an error or Ctrl-C while writing): the worker ends, the spool goes."""
        if self._thread is not None and self._queue is not None:
            self._error = self._error or RuntimeError("discarded")
            with contextlib.suppress(queue.Empty):
                while True:  # unblock a full queue, then tell the worker to end
                    self._queue.get_nowait()
            self._stop()
        self.spool.close()


class _ZipOut:
    """The zip container, written in order to a seekable file: each part's local header (with its
    sizes known, so zip64 fields only on a part that needs them: Excel refuses them on small
    parts), its deflated bytes, then the central directory. Deterministic: fixed timestamps."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._entries: list[tuple[bytes, int, int, int, int]] = []  # name, crc, csize, size, offset

    def add(self, name: str, part: Part) -> None:
        part.close()
        raw = name.encode("ascii")
        offset = self._fh.tell()
        csize, size = part.spool.size, part.size
        big = max(csize, size) >= _ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, csize) if big else b""
        self._fh.write(
            struct.pack(
                "<4s2B4HL2L2H",
                b"PK\003\004",
                45 if big else 20,
                0,
                0,
                8,
                _DOS_TIME,
                _DOS_DATE,
                part.crc,
                0xFFFFFFFF if big else csize,
                0xFFFFFFFF if big else size,
                len(raw),
                len(extra),
            )
            + raw
            + extra
        )
        part.spool.copy_to(self._fh)
        part.spool.close()
        self._entries.append((raw, part.crc, csize, size, offset))

    def add_bytes(self, name: str, data: bytes | str) -> None:
        part = Part()
        part.write(data.encode() if isinstance(data, str) else data)
        self.add(name, part)

    def close(self) -> None:
        """The central directory and its end record (zip64 ones when sizes, offsets or the
        number of parts need them)."""
        start = self._fh.tell()
        limit = _ZIP64_LIMIT
        for raw, crc, csize, size, offset in self._entries:
            fields = [v for v in (size, csize, offset) if v >= limit]
            extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
            self._fh.write(
                struct.pack(
                    "<4s4B4HL2L5H2L",
                    b"PK\001\002",
                    45 if fields else 20,
                    0,
                    45 if fields else 20,
                    0,
                    0,
                    8,
                    _DOS_TIME,
                    _DOS_DATE,
                    crc,
                    0xFFFFFFFF if csize >= limit else csize,
                    0xFFFFFFFF if size >= limit else size,
                    len(raw),
                    len(extra),
                    0,
                    0,
                    0,
                    0o600 << 16,
                    0xFFFFFFFF if offset >= limit else offset,
                )
                + raw
                + extra
            )
        end = self._fh.tell()
        count, cd_size = len(self._entries), end - start
        if count >= 0xFFFF or start >= limit or cd_size >= limit:
            self._fh.write(
                struct.pack("<4sQ2H2L4Q", b"PK\006\006", 44, 45, 45, 0, 0, count, count, cd_size, start)
                + struct.pack("<4sLQL", b"PK\006\007", 0, end, 1)
            )
            count, cd_size, start = min(count, 0xFFFF), min(cd_size, 0xFFFFFFFF), min(start, 0xFFFFFFFF)
        self._fh.write(struct.pack("<4s4H2LH", b"PK\005\006", 0, 0, count, count, cd_size, start, 0))


class SheetStream:
    """One worksheet being written: header first (:meth:`header`), then rows in order
    (:meth:`row`, :meth:`blank`); :meth:`StreamBook.sheet` closes it."""

    def __init__(
        self,
        name: str,
        out: Part,
        ncols: int,
        widths: Sequence[float],
        header_row: int,
        freeze: bool,
    ) -> None:
        self.name = name
        self._out = out
        self._buf: list[str] = []
        self.letters = [column_letter(i) for i in range(max(ncols, len(widths)))]
        self.ncols = ncols
        self.header_row = header_row
        self.last_row = 0
        self.autofilter: str | None = None
        self.comments: Spool | None = None  # comment records, read again for two parts
        self.comment_count = 0
        self._write_top(widths, freeze)

    def _write_top(self, widths: Sequence[float], freeze: bool) -> None:
        parts = [
            _XML_DECL,
            f'<worksheet xmlns="{_NS}" xmlns:r="{_NS_R}">',
            '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr/></sheetPr>',
            '<sheetViews><sheetView workbookViewId="0">',
        ]
        if freeze:
            top = self.header_row + 1
            parts.append(
                f'<pane ySplit="{self.header_row}" topLeftCell="A{top}" activePane="bottomLeft" '
                'state="frozen"/><selection pane="bottomLeft" activeCell="A1" sqref="A1"/>'
            )
        parts.append('</sheetView></sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>')
        if widths:
            parts.append("<cols>")
            for i, w in enumerate(widths, 1):
                width = round(float(w), 1)
                text = str(int(width)) if width.is_integer() else repr(width)
                parts.append(f'<col min="{i}" max="{i}" width="{text}" customWidth="1"/>')
            parts.append("</cols>")
        parts.append("<sheetData>")
        self._out.write("".join(parts).encode())

    def _flush(self) -> None:
        if self._buf:
            self._out.write("".join(self._buf).encode())
            self._buf.clear()

    def blank(self, number: int) -> None:
        """An empty row (a title row above the header, a blank input row kept in place)."""
        self._buf.append(f'<row r="{number}"></row>')
        self.last_row = number

    def header(self, number: int, headers: Sequence[Any]) -> None:
        """The header row, styled as :func:`bulkio.sheets.header_cells` styles it."""
        r = str(number)
        cells = []
        for L, h in zip(self.letters, headers, strict=False):
            ref = f'<c r="{L}{r}"'
            cells.append(cell_xml(L + r, str(h)).replace(ref, f'{ref} s="{HEADER_STYLE}"', 1))
        self._buf.append(f'<row r="{r}">{"".join(cells)}</row>')
        self.last_row = number

    def pieces(self, first: int, values: Sequence[Any]) -> list[str]:
        """Cells of ``values`` from column ``first`` (0-based) as XML cut where the row number
        goes: ``str(number).join(pieces)`` is the cells in row ``number``. Cells that many rows
        share (a results sheet's outcome columns) are formatted once."""
        letters = self.letters
        if first + len(values) > len(letters):
            letters.extend(column_letter(i) for i in range(len(letters), first + len(values)))
        # "\0" stands for the row number: no cell's text keeps one (control characters are dropped)
        xml = "".join([cell_xml(f"{L}\0", v) for L, v in zip(letters[first:], values, strict=False)])
        return xml.split("\0")

    def text_cell(self, col: int, r: str, text: str) -> str:
        """The text cell ``text`` at column ``col`` (0-based) of row ``r``, as :func:`cell_xml`
        writes it; plain text without looking at it twice, its arrows (``→``, a changes text's)
        as character references, which keeps an ASCII row ASCII (its encoding is a copy then)."""
        L = self.letters[col]
        if (
            text
            and text[0] not in _FIRST
            and text[-1] not in _WS
            # no &, <, > or control character: three searches and a printable test are quicker
            # than the pattern; text that fails them (a newline) is looked at with the pattern
            and (
                ("&" not in text and "<" not in text and ">" not in text and text.isprintable())
                or not _NEEDS_WORK.search(text)
            )
        ):
            return f'<c r="{L}{r}" t="inlineStr"><is><t>{text.replace("→", "&#8594;")}</t></is></c>'
        return cell_xml(L + r, text)

    def row(
        self,
        number: int,
        values: Sequence[Any],
        marks: Mapping[int, tuple[int, str]] | None = None,
        tail: str = "",
    ) -> None:
        """A row of values (text, numbers, booleans, dates, None), typed as in
        :func:`cell_xml`; ``marks`` maps a column index to ``(fill, comment text)``; ``tail``,
        the XML of cells after them (:meth:`pieces`, :meth:`text_cell`)."""
        r = str(number)
        letters = self.letters
        if len(values) > len(letters):  # a row wider than the header (write_table's rows)
            letters.extend(column_letter(i) for i in range(len(letters), len(values)))
        if not marks:  # the row's text cells in one string, looked at once
            text = "".join([v for v in values if type(v) is str])
        if marks:
            cells = []
            for i, (L, v) in enumerate(zip(letters, values, strict=False)):
                mark = marks.get(i)
                if mark is None:
                    cells.append(cell_xml(L + r, v))
                else:
                    cells.append(cell_xml(L + r, v, mark[0]))
                    self._comment(L + r, number, i, mark[1])
        elif _NEEDS_WORK.search(text):
            cells = [cell_xml(L + r, v) for L, v in zip(letters, values, strict=False)]
        else:  # the common row: plain text written as it is, other values typed
            first, ws, datetime, dt_style = _FIRST, _WS, dt.datetime, _DATETIME_STYLE
            cells = [
                (
                    f'<c r="{L}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                    if v and v[0] not in first and v[-1] not in ws
                    else f'<c r="{L}{r}" t="inlineStr"/>'
                    if not v
                    else cell_xml(L + r, v)
                )
                if type(v) is str
                else ""
                if v is None
                else f'<c r="{L}{r}" t="n"><v>{v}</v></c>'  # an int, as cell_xml writes it
                if type(v) is int
                else f'<c r="{L}{r}" t="n"><v>{v!r}</v></c>'  # a finite float (inf - inf is nan)
                if type(v) is float and v - v == 0
                else f'<c r="{L}{r}" s="{dt_style}" t="n"><v>{_serial(v)}</v></c>'  # a naive datetime
                if type(v) is datetime and v.tzinfo is None
                else cell_xml(L + r, v)
                for L, v in zip(letters, values, strict=False)
            ]
        buf = self._buf
        buf.append(f'<row r="{r}">{"".join(cells)}{tail}</row>')
        self.last_row = number
        if len(buf) >= FLUSH_ROWS:
            self._flush()

    def _comment(self, ref: str, number: int, col: int, text: str) -> None:
        """Spool one comment (a line: ref, 0-based row and column, ``<t>`` element) for
        :meth:`StreamBook._comments`; tabs and newlines in the text as character references,
        which XML reads back as the characters."""
        if self.comments is None:
            self.comments = Spool()
        body, preserve = text_xml(text)
        body = body.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
        space = ' xml:space="preserve"' if preserve else ""
        self.comments.write(f"{ref}\t{number - 1}\t{col}\t<t{space}>{body}</t>\n".encode())
        self.comment_count += 1

    def finish(self, filter_cols: int | None, filter_rows: int | None) -> None:
        """Close ``sheetData``; an autofilter over ``filter_cols`` columns from the header row
        down ``filter_rows`` rows (as :func:`bulkio.sheets.finish_sheet`)."""
        self._flush()
        tail = ["</sheetData>"]
        if filter_cols and filter_rows is not None:
            last = self.header_row + max(filter_rows, 0)
            self.autofilter = f"A{self.header_row}:{column_letter(filter_cols - 1)}{last}"
            tail.append(f'<autoFilter ref="{self.autofilter}"/>')
        tail.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>')
        if self.comment_count:
            tail.append('<legacyDrawing r:id="rId2"/>')
        tail.append("</worksheet>")
        self._out.write("".join(tail).encode())


class StreamBook:
    """The package being written; sheets are added in order with :meth:`sheet`."""

    def __init__(self, zf: _ZipOut, fills: tuple[str, str]) -> None:
        self._zf = zf
        self._fills = fills
        self._sheets: list[SheetStream] = []
        self._names: list[str] = []
        self._next_block = 1  # VML shape-id blocks of 1024, unique across the workbook

    def _store(self, name: str, data: bytes | str) -> None:
        self._zf.add_bytes(name, data)

    def unique_name(self, name: str) -> str:
        """A valid, unused sheet name: openpyxl's rules (no ``\\ * ? : / [ ]``, refused as it
        refuses them; a taken name gets a number)."""
        bad = re.search(r"[\\*?:/\[\]]", name)
        if bad:
            raise ValueError(f"Invalid character {bad.group(0)} found in sheet title")
        name = name or "Sheet"
        taken = {n.lower() for n in self._names}
        if name.lower() not in taken:
            return name
        n = 1
        while f"{name}{n}".lower() in taken:
            n += 1
        return f"{name}{n}"

    @contextmanager
    def sheet(
        self, name: str, ncols: int, widths: Sequence[float] = (), *, header_row: int = 1, freeze: bool = True
    ) -> Iterator[SheetStream]:
        """A new sheet; rows are spooled to a temporary file and the sheet stored in the zip when
        the block ends (call :meth:`SheetStream.finish` inside it)."""
        name = self.unique_name(name)
        index = len(self._sheets) + 1
        part = Part(threaded=True)
        ws = SheetStream(name, part, ncols, widths, header_row, freeze)
        try:
            with quick_switches():
                yield ws
                self._zf.add(f"xl/worksheets/sheet{index}.xml", part)
            if ws.comments is not None:
                self._comments(index, ws)
        finally:
            part.discard()
            if ws.comments is not None:
                ws.comments.close()
        self._sheets.append(ws)
        self._names.append(name)

    def _comments(self, index: int, ws: SheetStream) -> None:
        """The comments part and its VML drawing (shapes Excel and LibreOffice need to show them)."""
        assert ws.comments is not None
        blocks = ws.comment_count // 1024 + 1
        first = self._next_block
        self._next_block += blocks
        idmap = ",".join(str(b) for b in range(first, first + blocks))
        xml, vml = Part(), Part()
        try:
            xml.write(
                (
                    f'{_XML_DECL}<comments xmlns="{_NS}"><authors><author>bulkio</author></authors>'
                    "<commentList>"
                ).encode()
            )
            vml.write(_VML_HEAD.format(idmap=idmap).encode())
            buf_x: list[str] = []
            buf_v: list[str] = []
            for i, line in enumerate(ws.comments.lines()):
                ref, row, col, t = line.decode().rstrip("\n").split("\t", 3)
                buf_x.append(f'<comment ref="{ref}" authorId="0"><text>{t}</text></comment>')
                buf_v.append(_VML_SHAPE.format(id=first * 1024 + 1 + i, row=row, col=col))
                if len(buf_x) >= FLUSH_ROWS:
                    xml.write("".join(buf_x).encode())
                    vml.write("".join(buf_v).encode())
                    buf_x.clear()
                    buf_v.clear()
            xml.write(("".join(buf_x) + "</commentList></comments>").encode())
            vml.write(("".join(buf_v) + "</xml>").encode())
            self._zf.add(f"xl/comments/comment{index}.xml", xml)
            self._zf.add(f"xl/drawings/commentsDrawing{index}.vml", vml)
        finally:
            xml.discard()
            vml.discard()
        self._store(
            f"xl/worksheets/_rels/sheet{index}.xml.rels",
            f'{_XML_DECL}<Relationships xmlns="{_NS_PKG}">'
            f'<Relationship Id="rId1" Type="{_NS_R}/comments" Target="../comments/comment{index}.xml"/>'
            f'<Relationship Id="rId2" Type="{_NS_R}/vmlDrawing" '
            f'Target="../drawings/commentsDrawing{index}.vml"/></Relationships>',
        )

    def _finish(self) -> None:
        """Workbook, relationships, styles, content types and document properties."""
        if not self._sheets:  # as openpyxl's save: a workbook has at least one sheet
            with self.sheet("Sheet", 0, freeze=False) as ws:
                ws.finish(None, None)
        ct = [
            _XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        ]
        sheets_xml, names, rels = [], [], []
        for i, ws in enumerate(self._sheets, 1):
            ct.append(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            )
            if ws.comment_count:
                ct.append(
                    f'<Override PartName="/xl/comments/comment{i}.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"/>'
                )
            sheets_xml.append(f'<sheet name="{_attr(ws.name)}" sheetId="{i}" r:id="rId{i}"/>')
            rels.append(
                f'<Relationship Id="rId{i}" Type="{_NS_R}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            )
            if ws.autofilter:
                a, b = ws.autofilter.split(":")
                quoted = ws.name.replace("'", "''")
                ref = "$" + re.sub(r"(\d+)", r"$\1", a) + ":$" + re.sub(r"(\d+)", r"$\1", b)
                names.append(
                    f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i - 1}" hidden="1">'
                    + _escape(f"'{quoted}'!{ref}")
                    + "</definedName>"
                )
        ct.append("</Types>")
        n = len(self._sheets)
        rels.append(f'<Relationship Id="rId{n + 1}" Type="{_NS_R}/styles" Target="styles.xml"/>')
        self._store("[Content_Types].xml", "".join(ct))
        self._store(
            "_rels/.rels",
            f'{_XML_DECL}<Relationships xmlns="{_NS_PKG}">'
            f'<Relationship Id="rId1" Type="{_NS_R}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_NS_R}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
        )
        self._store("docProps/core.xml", _CORE_XML.format(when=sheets.FIXED_TIMESTAMP.isoformat() + "Z"))
        self._store("docProps/app.xml", _APP_XML)
        self._store(
            "xl/workbook.xml",
            f'{_XML_DECL}<workbook xmlns="{_NS}" xmlns:r="{_NS_R}"><workbookPr/>'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{''.join(sheets_xml)}</sheets>"
            + (f"<definedNames>{''.join(names)}</definedNames>" if names else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
        )
        self._store(
            "xl/_rels/workbook.xml.rels",
            f'{_XML_DECL}<Relationships xmlns="{_NS_PKG}">{"".join(rels)}</Relationships>',
        )
        self._store("xl/styles.xml", _styles_xml(*self._fills))


def write_table(book: StreamBook, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """:func:`bulkio.sheets.write_table` (no ``formats``, ``required`` or ``widths``) as a new
    sheet of ``book``: widths from the header and the first :data:`bulkio.sheets.WIDTH_SAMPLE_ROWS`
    rows, frozen header, autofilter. Returns the number of data rows written."""
    it = iter(rows)
    sample = [list(r) for r in islice(it, sheets.WIDTH_SAMPLE_ROWS)]
    widths = sheets.column_widths(headers, sample, formats=[None] * len(headers))
    count = 0
    with book.sheet(name, len(headers), widths) as ws:
        ws.header(1, headers)
        for source in (sample, it):
            for row in source:
                count += 1
                ws.row(count + 1, list(row))
        ws.finish(len(headers), count)
    return count


@contextmanager
def open_book(
    dest: str | Path, *, error_rgb: str = "FFFFC7CE", warning_rgb: str = "FFFFEB9C"
) -> Iterator[StreamBook]:
    """Write an XLSX package to ``dest`` atomically: the file appears (or replaces the old one)
    only when the block ends without an exception. The fills are the ARGB colours of
    :data:`FILL_ERROR` and :data:`FILL_WARNING` cells."""
    with sheets.atomic_path(dest) as tmp, open(tmp, "wb") as fh:
        zf = _ZipOut(fh)
        book = StreamBook(zf, (error_rgb, warning_rgb))
        yield book
        book._finish()
        zf.close()


def _fill(rgb: str) -> str:
    return f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/><bgColor rgb="{rgb}"/></patternFill></fill>'


def _styles_xml(error_rgb: str, warning_rgb: str) -> str:
    # fills: 0 none, 1 gray125 (both required), 2 header, 3 error, 4 warning
    fills = [
        '<fill><patternFill patternType="none"/></fill>',
        '<fill><patternFill patternType="gray125"/></fill>',
        _fill("FFD9E1F2"),
        _fill(error_rgb),
        _fill(warning_rgb),
    ]
    fmt_ids = {0: 0, FMT_DATE: 164, FMT_DATETIME: 165, FMT_TIME: 21}
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
    xfs.append(
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" '
        'applyAlignment="1"><alignment vertical="top"/></xf>'
    )
    for fill in (0, FILL_ERROR, FILL_WARNING):
        for fmt in (0, FMT_DATE, FMT_DATETIME, FMT_TIME):
            if fill or fmt:
                assert _style(fill, fmt) == len(xfs)
                fill_id = (0, 3, 4)[fill]
                xfs.append(
                    f'<xf numFmtId="{fmt_ids[fmt]}" fontId="0" fillId="{fill_id}" borderId="0" xfId="0"'
                    + (' applyNumberFormat="1"' if fmt else "")
                    + (' applyFill="1"' if fill else "")
                    + "/>"
                )
    return (
        f'{_XML_DECL}<styleSheet xmlns="{_NS}">'
        f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{sheets.DATE_FORMAT}"/>'
        f'<numFmt numFmtId="165" formatCode="{sheets.DATETIME_FORMAT}"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
        '<scheme val="minor"/></font><font><b val="1"/></font></fonts>'
        f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


_CORE_XML = (
    _XML_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>bulkio</dc:creator>'
    '<cp:lastModifiedBy>bulkio</cp:lastModifiedBy><dcterms:created xsi:type="dcterms:W3CDTF">{when}'
    '</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
    "</cp:coreProperties>"
)
_APP_XML = (
    _XML_DECL
    + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>bulkio</Application></Properties>"
)
_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>'
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)
_VML_SHAPE = (
    '<v:shape id="_x0000_s{id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
    'margin-top:1.5pt;width:144px;height:79px;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
    'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>'
    '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
    '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>'
    "<x:SizeWithCells/><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column>"
    "</x:ClientData></v:shape>"
)
