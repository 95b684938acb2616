"""Read the ``.xls`` files that are not Excel workbooks: a web page (HTML) or an Excel 2003 XML
Spreadsheet saved with a workbook's name.

Salesforce's *Printable View*, many web apps' *Export to Excel* buttons and older report servers
write an HTML ``<table>`` and name it ``.xls``; NetSuite and other exporters write the XML
Spreadsheet of Excel 2002/2003. Excel opens both (after a warning), so people bring them as they
are. bulkio reads them as the sheet Excel shows:

* **HTML**: the largest ``<table>`` of the page (``sheet="Table 2"`` picks another); each cell's
  text as a browser lays it out (runs of spaces collapsed, ``<br>`` a line break); ``colspan`` and
  ``rowspan`` become merged cells, filled below the header as for an .xlsx. Cells are text, read
  by the value parsers like a CSV's, but for Excel's own ``x:num`` attribute, the number behind a
  formatted cell. The stdlib parser expands no entities beyond HTML's own and
  loads nothing.
* **XML Spreadsheet 2003**: every ``<Worksheet>`` is a sheet; ``ss:Index`` places cells, number,
  date and boolean cells keep their types, ``ss:MergeAcross``/``ss:MergeDown`` are merged cells.
  Parsed with defusedxml: a DTD or an entity is refused.

Both are read into memory (they are small in practice), within :class:`~bulkio.read_guard.ReadLimits`:
the file at most ``max_markup_bytes``, the cells within ``max_workbook_bytes``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from .errors import InputFileError
from .read import HELPER_SHEETS, MAX_CELL_CHARS, SourceTable, _start, _take
from .read_guard import ReadLimits

#: About what one cell costs in memory (a list slot and a short string): bounds the cells a page
#: may hold by ``ReadLimits.max_workbook_bytes``.
_CELL_BYTES = 80
#: HTML's own caps on spans (the HTML standard clamps colspan to 1000 and rowspan to 65534).
_MAX_COLSPAN, _MAX_ROWSPAN = 1000, 65534

_XML_SHEET = re.compile(
    rb"urn:schemas-microsoft-com:office:spreadsheet|progid\s*=\s*[\"']Excel\.Sheet", re.IGNORECASE
)
_HTML_TAG = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|meta|style|title|table)\b", re.IGNORECASE)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def sniff(head: bytes) -> str | None:
    """``"html"`` or ``"xml2003"`` when the file's first bytes are a web page or an Excel 2003 XML
    Spreadsheet, else None."""
    text = _ascii_view(head).lstrip()
    if not text.startswith(b"<"):
        return None
    if text.startswith(b"<?xml"):
        return "xml2003" if _XML_SHEET.search(text) else None
    return "html" if _HTML_TAG.search(text[:4096]) else None


def _ascii_view(head: bytes) -> bytes:
    """The first bytes with a BOM removed (UTF-16 narrowed to its ASCII bytes, enough to sniff)."""
    if head.startswith(codecs.BOM_UTF8):
        return head[3:]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head[2:].decode("utf-16", "ignore").encode("ascii", "ignore")
    return head


@dataclass
class _Grid:
    """One table or worksheet: rows of cells from column A, and its merged ranges (0-based,
    inclusive: row0, col0, row1, col1)."""

    title: str
    rows: list[list[Any]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    too_large: list[tuple[int, int, int]] = field(default_factory=list)  # row, column, characters


class _Budget:
    def __init__(self, name: str, limits: ReadLimits) -> None:
        self.left = max(1, limits.max_workbook_bytes // _CELL_BYTES)
        self.width = limits.max_columns
        self.name = name

    def take(self, n: int, width: int) -> None:
        self.left -= n
        if self.left < 0 or width > self.width:
            raise InputFileError(
                "refused: the page holds more cells than a workbook may "
                f"(more than {self.width:,} columns or the memory limit); save it as .xlsx or CSV",
                path=self.name,
            )


# --- HTML --------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every ``<table>`` of a page as a :class:`_Grid`; nested tables are tables of their own (a
    cell's text goes to the innermost open cell). Tolerates the end tags HTML lets authors omit."""

    def __init__(self, budget: _Budget) -> None:
        super().__init__(convert_charrefs=True)
        self.grids: list[_Grid] = []
        self._open: list[dict[str, Any]] = []  # the open tables, innermost last
        self._budget = budget
        self._skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            grid = _Grid(f"Table {len(self.grids) + 1}")
            self.grids.append(grid)
            self._open.append({"grid": grid, "row": None, "cell": None, "spans": {}})
        elif not self._open:
            return
        elif tag == "tr":
            self._end_row()
            self._open[-1]["row"] = []
        elif tag in ("td", "th"):
            t = self._open[-1]
            self._end_cell()
            if t["row"] is None:
                t["row"] = []
            row: list[Any] = t["row"]
            spans: dict[int, int] = t["spans"]  # column -> the last row a rowspan holds it
            r = len(t["grid"].rows)
            while spans.get(len(row), -1) >= r:  # columns held by a rowspan from above
                row.append(None)
            attr = dict(attrs)
            t["cell"] = {
                "col": len(row),
                "text": [],
                "colspan": _span(attr.get("colspan"), _MAX_COLSPAN),
                "rowspan": _span(attr.get("rowspan"), _MAX_ROWSPAN),
                "num": _number(attr.get("x:num")),
            }
        elif tag == "br":
            self._text("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._text("\n")
        elif tag not in ("script", "style"):
            self.handle_starttag(tag, attrs)
            if tag in ("td", "th"):
                self._end_cell()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif not self._open:
            return
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "table":
            self._end_row()
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._text(data)

    def close(self) -> None:
        super().close()
        while self._open:
            self._end_row()
            self._open.pop()

    def _text(self, data: str) -> None:
        if self._open and self._open[-1]["cell"] is not None:
            self._open[-1]["cell"]["text"].append(data)

    def _end_cell(self) -> None:
        t = self._open[-1] if self._open else None
        cell = t["cell"] if t is not None else None
        if t is None or cell is None:
            return
        t["cell"] = None
        row: list[Any] = t["row"]
        lines = "".join(cell["text"]).split("\n")
        text = "\n".join(" ".join(line.split()) for line in lines).strip()
        col, colspan, rowspan = cell["col"], cell["colspan"], cell["rowspan"]
        grid: _Grid = t["grid"]
        r = len(grid.rows)
        self._budget.take(colspan, col + colspan)
        if len(text) > MAX_CELL_CHARS:
            grid.too_large.append((r, col, len(text)))
            text = ""
        num = cell["num"]
        shows_number = num is not None and _SHOWS_NUMBER.fullmatch(text) and not _SHOWS_DATE.search(text)
        row.append(num if shows_number else text or None)
        row.extend([None] * (colspan - 1))
        if colspan > 1 or rowspan > 1:
            grid.merges.append((r, col, r + rowspan - 1, col + colspan - 1))
        for c in range(col, col + colspan) if rowspan > 1 else ():
            t["spans"][c] = r + rowspan - 1

    def _end_row(self) -> None:
        if not self._open:
            return
        t = self._open[-1]
        self._end_cell()
        row = t["row"]
        if row is None:
            return
        t["row"] = None
        r = len(t["grid"].rows)
        spans: dict[int, int] = t["spans"]
        for c in [c for c, last in spans.items() if last <= r]:
            del spans[c]
        while row and row[-1] is None:
            row.pop()
        t["grid"].rows.append(row)


#: A cell that shows a number (``1.234,50 €``, ``$1,000.00``, ``(300)``): its ``x:num`` is that
#: number. A date or time (its ``x:num`` is a serial number) or a percentage (``50 %`` over 0.5)
#: stays text, read as written.
_SHOWS_NUMBER = re.compile(r"[-+(]?\s*[^\d\s%]{0,3}\s*\d[\d.,'\s\u00a0\u202f]*\s*[^\d\s%]{0,3}\s*\)?")
_SHOWS_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|:")


def _number(value: str | None) -> int | float | None:
    """The value of Excel's ``x:num`` attribute: the number behind a formatted cell."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


def _span(value: str | None, cap: int) -> int:
    try:
        n = int(str(value).strip()) if value is not None else 1
    except ValueError:
        return 1
    return min(max(n, 1), cap)


def _html_text(data: bytes) -> str:
    """The page's text: its BOM, else its ``<meta charset>``, else UTF-8, else Windows-1252."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, "replace")
    declared = _CHARSET.search(data[:8192])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _html_grids(data: bytes, name: str, limits: ReadLimits) -> list[_Grid]:
    parser = _Tables(_Budget(name, limits))
    parser.feed(_html_text(data))
    parser.close()
    return parser.grids


# --- Excel 2003 XML Spreadsheet -----------------------------------------------------------------

_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"


def _xml_grids(data: bytes, name: str, limits: ReadLimits) -> list[_Grid]:
    """Every worksheet, streamed (each row's elements are dropped once read)."""
    import io

    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    budget = _Budget(name, limits)
    grids: list[_Grid] = []
    grid: _Grid | None = None
    cells: list[Any] = []
    try:
        for event, el in ElementTree.iterparse(io.BytesIO(data), events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == f"{_SS}Worksheet":
                    grid = _Grid(el.get(f"{_SS}Name") or f"Sheet{len(grids) + 1}")
                    grids.append(grid)
                elif tag == f"{_SS}Row" and grid is not None:
                    r = _index(el.get(f"{_SS}Index"), len(grid.rows) + 1) - 1
                    while len(grid.rows) < r:
                        grid.rows.append([])
                    cells = []
                continue
            if grid is None:
                continue
            if tag == f"{_SS}Cell":
                c = _index(el.get(f"{_SS}Index"), len(cells) + 1) - 1
                across = min(_index(el.get(f"{_SS}MergeAcross"), 0), _MAX_COLSPAN)
                down = min(_index(el.get(f"{_SS}MergeDown"), 0), _MAX_ROWSPAN)
                budget.take(max(0, c - len(cells)) + 1 + across, c + 1 + across)
                while len(cells) < c:
                    cells.append(None)
                item = el.find(f"{_SS}Data")
                value = _xml_value(item) if item is not None else None
                if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                    grid.too_large.append((len(grid.rows), c, len(value)))
                    value = None
                cells.append(value)
                cells.extend([None] * across)
                if across or down:
                    grid.merges.append((len(grid.rows), c, len(grid.rows) + down, c + across))
                el.clear()
            elif tag == f"{_SS}Row":
                while cells and cells[-1] is None:
                    cells.pop()
                grid.rows.append(cells)
                cells = []
                el.clear()
            elif tag == f"{_SS}Worksheet":
                grid = None
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise InputFileError(
            f"not a readable Excel 2003 XML Spreadsheet ({type(exc).__name__}: {str(exc)[:200]}); "
            "DTDs and entities are refused for safety",
            path=name,
        ) from None
    return grids


def _index(value: str | None, default: int) -> int:
    try:
        n = int(value) if value is not None else default
    except ValueError:
        return default
    return max(n, 0) if n < 1_048_577 else default


def _xml_value(data: Any) -> Any:
    """A ``<Data ss:Type=…>`` as the value Excel shows (numbers, dates, booleans typed)."""
    text = "".join(data.itertext())
    kind = data.get(f"{_SS}Type", "String")
    try:
        if kind == "Number":
            number = float(text)
            return int(number) if number.is_integer() and abs(number) < 1e15 else number
        if kind == "DateTime":
            return dt.datetime.fromisoformat(text.strip())
        if kind == "Boolean":
            return text.strip() in ("1", "true", "TRUE")
    except ValueError:
        pass
    text = text.strip()
    return text or None


# --- the sheet ---------------------------------------------------------------------------------


def grids_of(p: Path, name: str, kind: str, limits: ReadLimits) -> list[_Grid]:
    """The tables (HTML) or worksheets (XML) of the file, after its size is checked."""
    size = p.stat().st_size
    if size > limits.max_markup_bytes:
        raise InputFileError(
            f"refused: a {_LABEL[kind]} of {size:,} bytes (at most {limits.max_markup_bytes:,} are read); "
            "open it in Excel and save it as .xlsx or CSV",
            path=name,
        )
    data = p.read_bytes()
    return _html_grids(data, name, limits) if kind == "html" else _xml_grids(data, name, limits)


_LABEL = {"html": "web page saved as a workbook", "xml2003": "Excel 2003 XML Spreadsheet"}


def sheet_titles(p: Path, name: str, kind: str, limits: ReadLimits) -> list[tuple[str, bool]]:
    """``(title, visible)`` of each table or worksheet (HTML tables are named ``Table 1``, …)."""
    return [(g.title, True) for g in grids_of(p, name, kind, limits)]


def open_markup(
    p: Path,
    name: str,
    sha: str,
    kind: str,
    *,
    sheet: str | None,
    header_row: int | None,
    object_type: str | None,
    limits: ReadLimits,
) -> SourceTable:
    """Open the chosen table or worksheet as a :class:`~bulkio.read.SourceTable`."""
    from .read_book import _merged, _named_like, _too_large

    grids = grids_of(p, name, kind, limits)
    filled = [g for g in grids if any(len([v for v in row if v is not None]) > 1 for row in g.rows)]
    if not filled:
        raise InputFileError(f"the {_LABEL[kind]} holds no table with data", path=name)
    if sheet is not None:
        want = sheet.strip().casefold()
        chosen = next((g for g in grids if g.title.strip().casefold() == want), None)
        if chosen is None:
            listed = ", ".join(repr(g.title) for g in grids)
            raise InputFileError(f"has no sheet {sheet!r}; sheets: {listed}", path=name)
    elif kind == "html":  # the page's data table: the one with the most rows
        chosen = max(filled, key=lambda g: sum(1 for row in g.rows if len(row) > 1))
    else:
        chosen = next((g for g in filled if _named_like(g.title, object_type)), None) or next(
            (g for g in filled if g.title.strip().casefold() not in HELPER_SHEETS), filled[0]
        )
    table = SourceTable(
        path=name, sheet=chosen.title, headers=[], header_row=1, rows=iter(()), fingerprint=sha, kind=kind
    )
    for r, c, size in chosen.too_large:
        _too_large(table, r + 1, c, size)
    records = iter([(number, cells) for number, cells in enumerate(chosen.rows, start=1)])
    head = _take(records, header_row)
    _start(table, head, header_row, records)
    if chosen.merges:
        table.rows = _merged(table, table.rows, chosen.merges, None)
    return table


__all__ = ["open_markup", "sheet_titles", "sniff"]
