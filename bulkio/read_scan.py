"""Scan a worksheet before python-calamine parses it: what it would cost, and what calamine hides.

:mod:`bulkio.read_guard` checks a package (zip entries, sizes, DTDs) and the shared strings; this
module reads the cells themselves, cheaply, and fills a :class:`~bulkio.read_guard.SheetFacts`:

* **.xlsx worksheet** (:func:`scan_sheet`): the extent of the used cells (fast regexes on the
  decompressed bytes; a cell-by-cell walk when cells lack an ``r="A1"`` reference first, placed
  the way calamine places them), formulas without a saved value and error cells (``#N/A``), which
  calamine reads as blank.
* **.ods content.xml** (:func:`scan_ods`): every table's extent with its row and column repeats
  (calamine parses them all when the file opens), merged spans (calamine has none for ODS),
  error cells and formulas without a value.
* **.xls** (:func:`scan_xls`, BIFF records in an OLE container opened with olefile): every sheet's
  extent (calamine parses them all when the file opens, and reserves the DIMENSIONS record's
  grid), error cells, encryption and the shared-string table.

Each scan refuses as soon as the running estimate passes ``ReadLimits.max_workbook_bytes``, so
its own time is bounded too.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InputFileError
from .read_guard import (
    MAX_FLAGS,
    MAX_PIECE_BYTES,
    STRING_OVERHEAD_BYTES,
    ReadLimits,
    SheetFacts,
    _TooManyFlags,
    column_index,
    estimate,
    stream_part,
    too_big,
)

# --- one worksheet (.xlsx) -------------------------------------------------------------------------

_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet\b")
_F_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_V_TEXT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v(?:\s[^>]*)?>([^<]*)<", re.DOTALL)
_F_TEXT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f(?:\s[^>]*)?>([^<]*)<")
_ATTR = re.compile(rb'\b(r|t)\s*=\s*"([^"]*)"')
_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})$")


class _SheetScan:
    """Streaming scan of one worksheet part; see the module docstring."""

    def __init__(self, prefix: bytes, need: int, limits: ReadLimits, name: str, sheet: str) -> None:
        p = prefix + b":" if prefix else b""
        self.cell_starts = (b"<" + p + b"c ", b"<" + p + b"c>", b"<" + p + b"c/")
        self.cell_open = b"<" + p + b"c"
        self.f_open = b"<" + p + b"f"
        self.cell_close = b"</" + p + b"c>"
        self.row_close = b"</" + p + b"row>"
        esc = re.escape(self.cell_open)
        self.ref_cols = re.compile(esc + rb' r="([A-Z]{1,3})')
        self.ref_rows = [re.compile(esc + rb' r="[A-Z]{1,3}([0-9]{%d})"' % d) for d in range(8)]
        self.err = re.compile(esc + rb' r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\bt="e"')
        self.inline = (b't="inlineStr"', b't="str"')
        self.facts = SheetFacts()
        self.base, self.limits, self.name, self.sheet = need, limits, name, sheet
        self.slow = False
        self.row = -1  # slow path: current row index
        self.col = 0
        self.inline_cells = 0
        self.bytes = 0

    def feed(self, piece: bytes) -> None:
        self.bytes += len(piece)
        f = self.facts
        if not self.slow:
            starts = sum(piece.count(s) for s in self.cell_starts)
            cols = self.ref_cols.findall(piece)
            if len(cols) != starts:
                self.slow = True  # some cell has no r="" first: walk cell by cell from here
                self.row = f.rows - 1
            else:
                f.cells += starts
                if cols:
                    widest = max(set(cols), key=lambda c: (len(c), c))
                    f.cols = max(f.cols, column_index(widest) + 1)
                    for d in range(7, max(len(str(f.rows)), 1) - 1, -1):
                        rows = self.ref_rows[d].findall(piece)
                        if rows:
                            f.rows = max(f.rows, int(max(rows)))
                            break
                self._formulas(piece)
                for m in self.err.finditer(piece):
                    self._error(piece, m.end(), column_index(m.group(1)), int(m.group(2)) - 1)
        if self.slow:
            self._slow(piece)
        self.inline_cells += sum(piece.count(s) for s in self.inline)
        if self.inline_cells:
            f.string_bytes = max(0, self.bytes - 20 * f.cells)
        need = self.base + estimate(f)
        if need > self.limits.max_workbook_bytes:
            what = f"sheet {self.sheet!r} spans {f.rows:,}+ rows x {f.cols:,} columns ({f.cells:,}+ cells)"
            raise too_big(self.name, what, need, self.limits)

    def _cell_at(self, piece: bytes, pos: int) -> tuple[bytes, bytes] | None:
        """(start tag attributes, body) of the cell around ``pos``."""
        start = max(piece.rfind(self.cell_open + b" ", 0, pos), piece.rfind(self.cell_open + b">", 0, pos))
        if start < 0:
            return None
        gt = piece.find(b">", start)
        end = piece.find(self.cell_close, gt)
        if gt < 0 or end < 0:
            return None
        return piece[start + len(self.cell_open) : gt], piece[gt + 1 : end]

    def _formulas(self, piece: bytes) -> None:
        if self.f_open not in piece:
            return
        for m in _F_TAG.finditer(piece):
            cell = self._cell_at(piece, m.start())
            if cell is not None:
                self._check_formula(*cell)

    def _check_formula(self, attrs: bytes, body: bytes, pos: tuple[int, int] | None = None) -> None:
        a = dict(_ATTR.findall(attrs))
        if pos is None:
            ref = _REF.match(a.get(b"r", b""))
            if ref is None:
                return
            pos = (int(ref.group(2)) - 1, column_index(ref.group(1)))
        if _F_TAG.search(body) is None:
            return
        v = _V_TEXT.search(body)
        if (v is None or not v.group(1)) and a.get(b"t") != b"str":
            ftext = _F_TEXT.search(body)
            text = html.unescape(ftext.group(1).decode("utf-8", "replace")) if ftext else ""
            self.facts.flag(
                pos[0], pos[1], "formula_without_value", "=" + text if text else "(shared formula)"
            )

    def _error(self, piece: bytes, at: int, col: int, row: int) -> None:
        end = piece.find(self.cell_close, at)
        v = _V_TEXT.search(piece, at, end if end >= 0 else len(piece))
        detail = html.unescape(v.group(1).decode("utf-8", "replace")) if v and v.group(1) else "#ERROR"
        self.facts.flag(row, col, "cell_error", detail)

    _SLOW = re.compile(
        rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)\b([^>]*?)(/?)>|</(?:[A-Za-z_][\w.-]*:)?c>",
    )

    def _slow(self, piece: bytes) -> None:
        """Cell by cell, the way calamine places cells without references."""
        f = self.facts
        open_cell: tuple[bytes, int, int, int] | None = None  # attrs, body start, row, col
        for m in self._SLOW.finditer(piece):
            tag = m.group(1)
            if tag == b"row":
                r = dict(_ATTR.findall(m.group(2))).get(b"r")
                self.row = int(r) - 1 if r and r.isdigit() else self.row + 1
                self.col = 0
                continue
            if tag == b"c":
                a = dict(_ATTR.findall(m.group(2)))
                ref = _REF.match(a.get(b"r", b""))
                row, col = (
                    (int(ref.group(2)) - 1, column_index(ref.group(1))) if ref else (self.row, self.col)
                )
                self.col = col + 1
                f.cells += 1
                f.rows = max(f.rows, row + 1)
                f.cols = max(f.cols, col + 1)
                if m.group(3):  # <c .../>: no value
                    continue
                open_cell = (m.group(2), m.end(), row, col)
                continue
            if open_cell is not None:  # </c>
                attrs, start, row, col = open_cell
                body = piece[start : m.start()]
                open_cell = None
                self._check_formula(attrs, body, (row, col))
                if dict(_ATTR.findall(attrs)).get(b"t") == b"e":
                    v = _V_TEXT.search(body)
                    f.flag(
                        row,
                        col,
                        "cell_error",
                        html.unescape(v.group(1).decode("utf-8", "replace")) if v else "#ERROR",
                    )


def scan_sheet(
    zf: zipfile.ZipFile, member: str, name: str, sheet: str, limits: ReadLimits, *, base: int
) -> SheetFacts:
    """Facts about one worksheet part; refuses when it (plus ``base`` bytes already needed, e.g.
    the shared strings) is over the memory limit, or when more than MAX_FLAGS cells are flagged."""
    scan: _SheetScan | None = None
    carry = b""
    try:
        for chunk in stream_part(zf, member, name):
            buf = carry + chunk
            if scan is None:
                m = _ROOT.search(buf[:65536])
                scan = _SheetScan(m.group(1) or b"" if m else b"", base, limits, name, sheet)
            cut = _cut(buf, scan.row_close, scan.cell_close)
            if cut < 0:
                if len(buf) > MAX_PIECE_BYTES:
                    raise InputFileError(
                        f"refused: sheet {sheet!r} has a row or cell larger than "
                        f"{MAX_PIECE_BYTES // 1024**2} MB",
                        path=name,
                    )
                carry = buf
                continue
            piece, carry = buf[:cut], buf[cut:]
            scan.feed(piece)
        if scan is None:
            return SheetFacts()
        if carry:
            scan.feed(carry)
    except _TooManyFlags as exc:
        what = "formulas without a saved value" if exc.code == "formula_without_value" else "error values"
        raise InputFileError(
            f"refused: sheet {sheet!r} has more than {MAX_FLAGS:,} cells with {what}; open the "
            "workbook in Excel or LibreOffice, let it calculate, and save it again",
            path=name,
        ) from None
    return scan.facts


def _cut(buf: bytes, row_close: bytes, cell_close: bytes) -> int:
    """Where to split a buffer so that no cell is cut in two: after the last ``</row>``, else
    after the last cell end; -1 when neither is there yet."""
    at = buf.rfind(row_close)
    if at >= 0:
        return at + len(row_close)
    at = buf.rfind(cell_close)
    return at + len(cell_close) if at >= 0 else -1


# --- .ods content.xml ------------------------------------------------------------------------------

_ODS_TAG = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>",
)
_ODS_TEXT = re.compile(rb"\s*<text:p>([^<]{1,40})<")
_ODS_ATTR = re.compile(rb'\b([\w-]+:[\w-]+)\s*=\s*"([^"]*)"')


@dataclass
class OdsTable:
    name: str
    facts: SheetFacts


def scan_ods(zf: zipfile.ZipFile, name: str, limits: ReadLimits) -> list[OdsTable]:
    """Walk content.xml: the extent of every table (calamine parses them all when the file
    opens), merged spans, error cells and formulas without a value."""
    tables: list[OdsTable] = []
    cur: SheetFacts | None = None
    row = col = first_row = 0
    row_repeat = 1
    row_has = False
    carry = b""
    base = zf.getinfo("content.xml").file_size  # the text of every cell is in there
    done = 0  # estimate of the tables finished so far
    for chunk in stream_part(zf, "content.xml", name):
        buf = carry + chunk
        cut = buf.rfind(b">") + 1
        if cut <= 0:
            if len(buf) > MAX_PIECE_BYTES:
                raise InputFileError("refused: content.xml has an element larger than 64 MB", path=name)
            carry = buf
            continue
        piece, carry = buf[:cut], buf[cut:]
        for m in _ODS_TAG.finditer(piece):
            closing, tag, attrs, selfclose = m.group(1), m.group(2), m.group(3), m.group(4)
            if tag == b"table":
                if closing:
                    if cur is not None:
                        cur.rows = max(0, cur.rows - first_row) if first_row >= 0 else 0
                        done += estimate(cur, per_cell=2)
                    cur = None
                elif not selfclose:
                    a = dict(_ODS_ATTR.findall(attrs))
                    cur = SheetFacts()
                    label = html.unescape(a.get(b"table:name", b"").decode("utf-8", "replace"))
                    tables.append(OdsTable(label, cur))
                    row, first_row = 0, -1
                continue
            if cur is None:
                continue
            if tag == b"table-row":
                if not closing:
                    a = dict(_ODS_ATTR.findall(attrs))
                    row_repeat, col, row_has = _int(a.get(b"table:number-rows-repeated"), 1), 0, False
                    if not selfclose:
                        continue
                if row_has:
                    if first_row < 0:
                        first_row = row
                    cur.rows = row + row_repeat
                row += row_repeat
                need = base + done + estimate(cur, per_cell=2)
                if need > limits.max_workbook_bytes:
                    what = f"sheet {tables[-1].name!r} spans {cur.rows:,}+ rows x {cur.cols:,} columns"
                    raise too_big(name, what, need, limits)
                continue
            if closing:
                continue
            a = dict(_ODS_ATTR.findall(attrs))
            repeat = _int(a.get(b"table:number-columns-repeated"), 1)
            value_type = a.get(b"office:value-type")
            formula = a.get(b"table:formula")
            if value_type is not None or formula is not None:
                row_has = True
                cur.cols = max(cur.cols, col + repeat)
                cur.cells += repeat * row_repeat
                if a.get(b"calcext:value-type") == b"error":
                    shown = _ODS_TEXT.match(piece, m.end())
                    detail = html.unescape(shown.group(1).decode("utf-8", "replace")) if shown else ""
                    cur.flag(row, col, "cell_error", detail or "#ERROR")
                elif value_type is None and formula is not None:
                    text = html.unescape(formula.decode("utf-8", "replace"))
                    cur.flag(row, col, "formula_without_value", "=" + text.split("=", 1)[-1])
                rs = _int(a.get(b"table:number-rows-spanned"), 1)
                cs = _int(a.get(b"table:number-columns-spanned"), 1)
                if rs > 1 or cs > 1:
                    cur.merges.append((row, col, row + rs - 1, col + cs - 1))
            col += repeat
    return tables


def _int(raw: bytes | None, default: int) -> int:
    try:
        return max(1, int(raw)) if raw is not None else default
    except ValueError:
        return default


# --- .xls (BIFF8 in an OLE compound file) ----------------------------------------------------------

_XLS_CELLS = {0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006}


@dataclass
class XlsSheet:
    name: str
    hidden: bool
    kind: int  # 0 worksheet, 1 macro, 2 chart, 6 VBA
    facts: SheetFacts


_XLS_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}


def scan_xls(p: Path, name: str, limits: ReadLimits) -> list[XlsSheet]:
    """Walk the Workbook stream's BIFF records: sheets, shared strings, encryption, and each
    sheet's extent and error cells (calamine parses every sheet when the file opens)."""
    import olefile

    size = p.stat().st_size
    if size > limits.max_xls_bytes:
        raise InputFileError(
            f"refused: the .xls file is {size / 1024**2:,.0f} MB (at most "
            f"{limits.max_xls_bytes / 1024**2:,.0f} MB are read); save it as CSV or .xlsx",
            path=name,
        )
    try:
        with olefile.OleFileIO(str(p)) as ole:
            if ole.exists("EncryptedPackage"):
                raise InputFileError(
                    "the workbook is password-protected (encrypted); save an unprotected copy as .xlsx",
                    path=name,
                )
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None:
                raise InputFileError(
                    "not an Excel workbook: the file is an OLE document without a Workbook stream "
                    "(a Word or other Office file?)",
                    path=name,
                )
            data = ole.openstream(stream).read()
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - olefile raises many types on damaged files
        first = (str(exc).splitlines() or [""])[0]
        raise InputFileError(
            f"not a readable .xls workbook: the file is damaged ({first}); open it in Excel and save it as .xlsx",
            path=name,
        ) from None
    return _walk_biff(data, name, limits)


def _records(data: bytes, pos: int) -> Iterator[tuple[int, int, int]]:
    n = len(data)
    while pos + 4 <= n:
        typ, ln = struct.unpack_from("<HH", data, pos)
        yield typ, pos + 4, ln
        pos += 4 + ln


def _walk_biff(data: bytes, name: str, limits: ReadLimits) -> list[XlsSheet]:
    sheets: list[tuple[int, XlsSheet]] = []
    strings = string_bytes = 0
    in_sst = False
    first = True
    for typ, body, ln in _records(data, 0):
        rec = data[body : body + ln]
        if first:
            first = False
            if typ != 0x0809 or len(rec) < 4 or struct.unpack_from("<H", rec)[0] not in (0x0500, 0x0600):
                raise InputFileError(
                    "is an .xls workbook from Excel 95 or older (or damaged); save it as .xlsx", path=name
                )
        if typ == 0x002F:
            raise InputFileError(
                "the workbook is password-protected (encrypted); save an unprotected copy as .xlsx", path=name
            )
        if typ == 0x0085 and len(rec) >= 8:  # BOUNDSHEET
            pos, state, kind = struct.unpack_from("<IBB", rec)
            sheets.append((pos, XlsSheet(_biff_name(rec[6:]), state != 0, kind, SheetFacts())))
        elif typ == 0x00FC and len(rec) >= 8:  # SST
            strings = struct.unpack_from("<I", rec, 4)[0]
            string_bytes += ln
            in_sst = True
            continue
        elif typ == 0x003C and in_sst:  # CONTINUE of the SST
            string_bytes += ln
            continue
        elif typ == 0x000A:  # EOF of the globals
            break
        in_sst = False
    base = min(strings, len(data)) * STRING_OVERHEAD_BYTES + 2 * string_bytes
    if base > limits.max_workbook_bytes:
        raise too_big(name, f"the shared-string table holds {strings:,} strings", base, limits)
    done: dict[int, SheetFacts] = {}
    total = base
    for pos, sheet in sheets:
        if pos in done:
            sheet.facts = done[pos]
        else:
            sheet.facts = done[pos] = _walk_sheet(data, pos, name, sheet.name, limits, total)
        total += estimate(sheet.facts, per_cell=2)
        if total > limits.max_workbook_bytes:
            f = sheet.facts
            what = f"sheet {sheet.name!r} spans {f.rows:,}+ rows x {f.cols:,} columns"
            if len(sheets) > 1:
                what += f" (all {len(sheets)} sheets are parsed when an .xls opens)"
            raise too_big(name, what, total, limits)
    return [s for _, s in sheets]


def _biff_name(raw: bytes) -> str:
    if len(raw) < 2:
        return ""
    n, flags = raw[0], raw[1]
    try:
        return raw[2 : 2 + 2 * n].decode("utf-16-le") if flags & 1 else raw[2 : 2 + n].decode("latin-1")
    except UnicodeDecodeError:
        return ""


def _walk_sheet(data: bytes, pos: int, name: str, sheet: str, limits: ReadLimits, base: int) -> SheetFacts:
    f = SheetFacts()
    depth = 0
    seen_bof = False
    checked = 0
    for typ, body, ln in _records(data, pos):
        if depth:
            if typ == 0x0809:
                depth += 1
            elif typ == 0x000A:
                depth -= 1
            continue
        if typ == 0x0809:
            if seen_bof:
                depth += 1
            seen_bof = True
            continue
        if typ == 0x000A:
            break
        if typ == 0x0200 and ln >= 10:  # DIMENSIONS: calamine reserves room for this many cells
            fmt = "<IIHH" if ln >= 14 else "<HHHH"
            _, r1, _, c1 = struct.unpack_from(fmt, data, body)
            f.rows, f.cols = max(f.rows, r1), max(f.cols, c1)
            continue
        if typ == 0x00BD and ln >= 6:  # MULRK: row, first col, ..., last col
            row, c0 = struct.unpack_from("<HH", data, body)
            c1 = struct.unpack_from("<H", data, body + ln - 2)[0]
            f.cells += max(0, c1 - c0 + 1)
            f.rows, f.cols = max(f.rows, row + 1), max(f.cols, c1 + 1)
        elif typ in _XLS_CELLS and ln >= 6:
            row, col = struct.unpack_from("<HH", data, body)
            f.cells += 1
            f.rows, f.cols = max(f.rows, row + 1), max(f.cols, col + 1)
            if typ in (0x0204, 0x00D6):
                f.string_bytes += 2 * ln
            elif typ == 0x0205 and ln >= 8 and data[body + 7] == 1:
                f.flag(row, col, "cell_error", _XLS_ERRORS.get(data[body + 6], "#ERROR"))
            elif (
                typ == 0x0006
                and ln >= 14
                and data[body + 12 : body + 14] == b"\xff\xff"
                and data[body + 6] == 2
            ):
                f.flag(row, col, "cell_error", _XLS_ERRORS.get(data[body + 8], "#ERROR"))
        checked += 1
        if checked % 65536 == 0 and base + estimate(f, per_cell=2) > limits.max_workbook_bytes:
            break
    return f


__all__ = ["OdsTable", "XlsSheet", "scan_ods", "scan_sheet", "scan_xls"]
