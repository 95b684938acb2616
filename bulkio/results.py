"""The results sheet: the input, row for row, with what happened to each row.

Why a sheet and not only a log: the person who prepared the file fixes problems where they are.
Every input row appears exactly once, at the same row number as in the input, followed by the outcome
columns ``Outcome``, ``Record ID``, ``Link``, ``Errors`` and ``Changes`` (what changed, or in a dry
run what would: ``$stage: Lead → Proposal``). XLSX in → XLSX out: the original cells with their
types (numbers, dates, text as text: no visible ``'``), errored cells filled red with a comment
carrying the message, header frozen, an autofilter over the table. CSV in → CSV out with the same
delimiter, in UTF-8, every text cell escaped against formula injection (:func:`bulkio.sheets.csv_row`).
Written atomically (:func:`bulkio.sheets.atomic_path`). XLSX results, results workbooks and errors
files are streamed by :mod:`bulkio.xlsx_stream` (SpreadsheetML formatted in Python, about 10× faster
than openpyxl's write-only cells; openpyxl is not loaded to write them).

A workbook import writes one results workbook (:func:`write_results_book`): a Summary sheet and one
sheet per input sheet. :func:`write_errors` writes only the rows that failed (or were skipped
because a row they refer to failed), in the input's own columns, ready to fix and import again.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import sheets
from . import values as V
from .columns import ERRORS_COLUMN, RESULT_COLUMNS
from .definitions import FieldDef, ObjectSchema
from .issues import Issue
from .operations import RowOutcome
from .read_guard import column_index
from .vocabulary import DRY_RUN_WORDS, outcome_word

if TYPE_CHECKING:
    from .xlsx_stream import StreamBook

OUTCOME_HEADERS = RESULT_COLUMNS[:4]
CHANGES_HEADER = RESULT_COLUMNS[4]
#: The columns bulkio adds to a results sheet, in order (a results sheet re-imports without
#: warnings about them: :mod:`bulkio.mapping` ignores them at the end of a header).
RESULT_HEADERS = RESULT_COLUMNS
#: The column bulkio adds to an errors file (:func:`write_errors`).
ERRORS_HEADER = ERRORS_COLUMN
SUMMARY_SHEET = "Summary"
#: Fills of cells with an error / a warning in an XLSX results sheet (ARGB; openpyxl loads only
#: when one is written, not for a CSV dry run).
ERROR_RGB, WARNING_RGB = "FFFFC7CE", "FFFFEB9C"
_WIDTHS = {"Errors": 60.0, "Changes": 50.0, "Link": 30.0}
__all__ = [
    "DRY_RUN_WORDS",
    "OUTCOME_HEADERS",
    "RESULT_HEADERS",
    "ResultSheet",
    "default_results_path",
    "errors_text",
    "write_errors",
    "write_results",
    "write_results_book",
]


def default_results_path(input_path: str | Path) -> Path:
    """``deals.xlsx`` → ``deals.results.xlsx`` beside the input (CSV-like inputs give ``.csv``;
    .xls and .ods give ``.xlsx``)."""
    p = Path(input_path)
    ext = ".xlsx" if p.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") else ".csv"
    return p.with_name(f"{p.stem}.results{ext}")


def issue_text(issue: Issue) -> str:
    """``column C (Stage): unknown_option: 'Lead?' is not an option…``"""
    where = ""
    if issue.column:
        where = f"column {issue.column}" + (f" ({issue.header})" if issue.header else "") + ": "
    elif issue.field:
        where = f"{issue.field}: "
    tag = "warning: " if issue.severity == "warning" else ""
    return f"{tag}{where}{issue.code}: {issue.message}"


def errors_text(issues: Iterable[Issue]) -> str:
    return "; ".join(issue_text(i) for i in issues)


def _display(fdef: FieldDef | None, value: Any, empty: str = "(empty)") -> str:
    """A before or after value of a change as the cell shows it (option labels, dates, numbers)."""
    if value is None or value == []:
        return empty
    if type(value) is str and (fdef is None or fdef.value_type not in _FORMATTED_TYPES):
        return value  # text shown as it is (the usual changed value)
    if fdef is not None:
        try:
            value = V.format_value(fdef, value)
        except Exception:  # noqa: BLE001, S110 - unreadable: show the raw API value instead
            pass
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


#: Value types whose text values :func:`bulkio.values.format_value` changes (numbers, dates, option
#: ids); every other type shows a text value as it is.
_FORMATTED_TYPES = frozenset({"NUMBER", "CURRENCY", "DATETIME", "SINGLE_SELECT", "MULTI_SELECT"})


def changes_text(changes: Mapping[str, tuple[Any, Any]], schema: ObjectSchema | None = None) -> str:
    """``$stage: Lead → Proposal; amount: (empty) → 1200.5; nextStep: Call → (cleared)``"""
    global _last_formatter
    schema_of, text = _last_formatter
    if schema_of is not schema or text is None:  # one run's rows share their schema
        text = changes_formatter(schema)
        _last_formatter = (schema, text)
    return text(changes)


#: The formatter :func:`changes_text` made last, with the schema it is for: a run asks for the
#: changes of row after row of one object (building one cost 3 µs a row, three times the text).
_last_formatter: tuple[ObjectSchema | None, Callable[[Mapping[str, tuple[Any, Any]]], str] | None] = (
    None,
    None,
)


def changes_formatter(schema: ObjectSchema | None = None) -> Callable[[Mapping[str, tuple[Any, Any]]], str]:
    """:func:`changes_text` for many rows of one object: what each key's value type asks for is
    looked up once per key, not once per change (a dry run shows the changes of its first
    KEEP_CHANGES rows, and their text was most of its results phase)."""
    fields = schema.fields if schema is not None else {}
    # key -> (its field's definition, "key: ", "key: (empty) → ", text shown as is, a number
    # shown as str(), a list joined, the shown text of the key's text values if a pure type's)
    known: dict[str, tuple[FieldDef | None, str, str, bool, bool, bool, dict[str, str] | None]] = {}

    def text(changes: Mapping[str, tuple[Any, Any]]) -> str:
        parts = []
        for k, (old, new) in changes.items():
            how = known.get(k)
            if how is None:
                fdef = fields.get(k)
                vt = None if fdef is None else fdef.value_type
                how = known[k] = (
                    fdef,
                    f"{k}: ",
                    f"{k}: (empty) → ",
                    vt not in _FORMATTED_TYPES,
                    vt in _NUMBER_TYPES,
                    vt not in _SHAPED_TYPES,
                    {} if vt in _PURE_TYPES else None,
                )
            fdef, head, created, as_is, number, joined, shown = how
            kind = type(new)
            if kind is str and as_is:
                after = new
            elif kind is str and shown is not None:  # a date as the API gives it, shown
                after = shown.get(new)
                if after is None:
                    if len(shown) >= _SHOWN_MAX:
                        shown.clear()
                    after = shown[new] = _display(fdef, new, "(cleared)")
            elif (kind is int or kind is float) and number:
                after = str(new)  # what format_value leaves a number as, shown
            elif kind is list and new and joined:
                if len(new) == 1 and type(new[0]) is str:
                    after = new[0]  # one website, one address: what the join below gives
                else:
                    after = "; ".join([str(v) for v in new])  # what format_value joins a list to
            else:
                after = _shown(fdef, new, "(cleared)")
            if old is None:
                parts.append(created + after)
            elif type(old) is str and as_is:
                parts.append(f"{head}{old} → {after}")
            else:
                parts.append(f"{head}{_shown(fdef, old)} → {after}")
        return "; ".join(parts)

    return text


#: Value types whose display depends on the value alone (not on the field's options).
_PURE_TYPES = frozenset({"NUMBER", "CURRENCY", "DATETIME"})
_NUMBER_TYPES = frozenset({"NUMBER", "CURRENCY"})
#: Value types whose list values are not simply joined (options are labelled, parts are named).
_SHAPED_TYPES = _FORMATTED_TYPES | {"ADDRESS", "FULL_NAME"}
#: Numbers and dates as shown, by type and value: a file repeats them (dates above all), and
#: reading an API date again is most of a change's text. Bounded: cleared when full.
_SHOWN: dict[tuple[str, type, Any], str] = {}
_SHOWN_MAX = 20_000


def _shown(fdef: FieldDef | None, value: Any, empty: str = "(empty)") -> str:
    """:func:`_display`, remembered for numbers and dates."""
    if fdef is None or fdef.value_type not in _PURE_TYPES or type(value) not in (str, int, float):
        return _display(fdef, value, empty)
    key = (fdef.value_type, type(value), value)  # 1 and 1.0 are equal keys, but show apart
    text = _SHOWN.get(key)
    if text is None:
        if len(_SHOWN) >= _SHOWN_MAX:
            _SHOWN.clear()
        text = _SHOWN[key] = _display(fdef, value, empty)
    return text


def outcome_cells(
    outcome: RowOutcome | None, *, dry_run: bool = False, schema: ObjectSchema | None = None
) -> list[Any]:
    """The columns bulkio adds to one row (:data:`RESULT_HEADERS`)."""
    if outcome is None:
        return ["not processed", None, None, "", ""]
    return [
        outcome_word(outcome.outcome, dry_run=dry_run),
        outcome.record_id,
        outcome.link,
        errors_text(outcome.issues) if outcome.issues else "",
        changes_text(outcome.changes, schema) if outcome.changes else "",
    ]


Lookup = Callable[[int], RowOutcome | None]


@dataclass
class ResultSheet:
    """One sheet of a results (or errors) workbook: the input's header and rows (objects with
    ``number`` and ``cells``, :class:`bulkio.read.SourceRow`, in order) and each row's outcome.

    ``types`` (one per input column: ``"number"``, ``"date"`` or None) turns the text cells of a
    CSV into numbers and dates in an XLSX results sheet; a workbook's cells keep the types they
    were read with."""

    name: str
    headers: Sequence[str]
    rows: Iterable[Any]
    lookup: Lookup
    dry_run: bool = False
    schema: ObjectSchema | None = None
    header_row: int = 1
    types: Sequence[str | None] | None = None


def _fit(cells: Sequence[Any], width: int) -> list[Any]:
    """A row's cells cut or padded (with None) to the input's ``width`` columns."""
    n = len(cells)
    if n == width:
        return list(cells)
    return list(cells[:width]) if n > width else [*cells, *([None] * (width - n))]


def _lookup(outcomes: Mapping[int, RowOutcome] | Lookup) -> Lookup:
    return outcomes.get if isinstance(outcomes, Mapping) else outcomes


def plain_codes(lookup: Lookup) -> tuple[bytes, dict[int, str], Mapping[int, Mapping[str, Any]]]:
    """:meth:`~bulkio.report.OutcomeStore.plain_codes` when ``lookup`` is a store's ``get`` (each
    row's outcome code where the row has nothing else but changes, the codes' names, and the rows'
    changes); else none (after an error the lookup makes ``not_written`` outcomes: every row asks
    it)."""
    store = getattr(lookup, "__self__", None)
    store_codes = getattr(store, "plain_codes", None)
    if store_codes is None:
        return b"", {}, {}
    codes, names = store_codes()
    return bytes(codes), names, store.changes  # type: ignore[union-attr]


def is_xlsx(dest: str | Path) -> bool:
    return Path(dest).suffix.lower() in (".xlsx", ".xlsm")


def write_results(
    dest: str | Path,
    headers: Sequence[str],
    rows: Iterable[Any],
    outcomes: Mapping[int, RowOutcome] | Lookup,
    *,
    dry_run: bool = False,
    schema: ObjectSchema | None = None,
    header_row: int = 1,
    delimiter: str = ",",
    sheet_name: str | None = None,
    types: Sequence[str | None] | None = None,
) -> Path:
    """Write the results sheet to ``dest`` (format by its extension) and return the path.

    ``rows`` yields objects with ``number`` and ``cells`` (:class:`bulkio.read.SourceRow`), in order.
    """
    dest = Path(dest)
    sheet = ResultSheet(
        sheet_name or "Results", headers, rows, _lookup(outcomes), dry_run, schema, header_row, types
    )
    if is_xlsx(dest):
        with _open_book(dest) as book:
            _xlsx_sheet(book, sheet)
    else:
        _write_csv(dest, sheet, delimiter=delimiter)
    return dest


def write_results_book(
    dest: str | Path,
    parts: Sequence[ResultSheet],
    *,
    summary: Sequence[Sequence[Any]] = (),
    summary_headers: Sequence[str] = (),
) -> Path:
    """One results workbook: a :data:`SUMMARY_SHEET` (``summary_headers`` and ``summary`` rows)
    first, then one sheet per input sheet, each like :func:`write_results`'s."""
    from .xlsx_stream import write_table

    dest = Path(dest)
    with _open_book(dest) as book:
        if summary_headers:
            write_table(book, SUMMARY_SHEET, summary_headers, summary)
        for part in parts:
            _xlsx_sheet(book, part)
    return dest


def _failed(outcome: RowOutcome | None) -> bool:
    """Rows to fix and import again: failed, or skipped (a row they refer to failed)."""
    return outcome is not None and outcome.outcome in ("failed", "skipped")


def write_errors(dest: str | Path, parts: Sequence[ResultSheet], *, delimiter: str = ",") -> Path:
    """Only the rows that failed (or were skipped), in the input's own columns plus ``Errors``:
    fix them and import the file again. XLSX (a sheet per input sheet, named like it, so
    ``bulkio import pipeline`` takes it back) or, for one CSV input, CSV. A sheet without failed rows
    keeps its header."""
    dest = Path(dest)
    if is_xlsx(dest):
        with _open_book(dest) as book:
            for part in parts:
                _xlsx_sheet(book, part, errors_only=True)
        return dest
    if len(parts) != 1:
        raise ValueError("an errors file of several sheets must be .xlsx")
    part = parts[0]
    width = len(part.headers)
    csv_row = sheets.csv_row
    with sheets.open_output(dest, encoding=sheets.CSV_ENCODING) as fh:
        writerow = csv.writer(fh, delimiter=delimiter or ",").writerow
        writerow(csv_row([*part.headers, ERRORS_HEADER]))
        for row in part.rows:
            outcome = part.lookup(row.number)
            if _failed(outcome):
                assert outcome is not None
                writerow(csv_row(_fit(row.cells, width)) + csv_row([errors_text(outcome.issues)]))
    return dest


def _write_csv(dest: Path, part: ResultSheet, *, delimiter: str) -> None:
    headers = [*part.headers, *RESULT_HEADERS]
    width, get, dry_run, schema = len(part.headers), part.lookup, part.dry_run, part.schema
    blank = [""] * len(headers)
    csv_row = sheets.csv_row
    with sheets.atomic_path(dest) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writerow = csv.writer(fh, delimiter=delimiter or ",").writerow
        for _ in range(1, part.header_row):
            writerow(blank)
        writerow(csv_row(headers))
        line = part.header_row
        for row in part.rows:
            while line + 1 < row.number:  # blank input rows keep their place
                writerow(blank)
                line += 1
            writerow(
                csv_row(_fit(row.cells, width))
                + csv_row(outcome_cells(get(row.number), dry_run=dry_run, schema=schema))
            )
            line = row.number


#: A number whose one dot may be a thousands separator (``1.234``, ``-12.500``).
_AMBIGUOUS_NUMBER = re.compile(r"[-+]?\d{1,3}\.\d{3}")


def _typed(value: Any, kind: str | None) -> Any:
    """A CSV cell as the number or date it holds, for a column of that ``kind``; else as it is."""
    if kind is None or not isinstance(value, str):
        return value
    text = value.strip()
    if kind == "number":
        if text.isdigit() and text.isascii() and len(text) < 16 and (text[0] != "0" or len(text) == 1):
            return int(text)  # the usual whole number, at once
        if _AMBIGUOUS_NUMBER.fullmatch(text):
            return value  # 1.234 is 1234 in Germany: shown as written
        plain = text.replace(",", "") if text.count(",") and "." in text else text
        if plain[:1] in ("0",) and len(plain) > 1 and plain[1:2] != ".":
            return value  # a leading zero: an identifier, not a number
        try:
            number = float(plain)
        except ValueError:
            return value
        if not math.isfinite(number):
            return value
        return (
            int(number) if number.is_integer() and "." not in plain and "e" not in plain.lower() else number
        )
    if kind == "date":
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return value
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
        return when
    return value


#: Rows read ahead to size a results sheet's columns.
WIDTH_ROWS = 50


def _peek(rows: Iterable[Any], n: int) -> tuple[list[Any], Iterator[Any]]:
    """The first ``n`` rows, and an iterator over all of them (the first ones again)."""
    it = iter(rows)
    head = list(itertools.islice(it, n))
    return head, itertools.chain(head, it)


def _open_book(dest: Path) -> contextlib.AbstractContextManager[StreamBook]:
    """An atomic XLSX package with the results fills (:mod:`bulkio.xlsx_stream`)."""
    from .xlsx_stream import open_book

    return open_book(dest, error_rgb=ERROR_RGB, warning_rgb=WARNING_RGB)


def _column_index(column: str) -> int | None:
    """``C`` → 2 (0-based), for column names of one to three letters (openpyxl's range); else None."""
    if not 0 < len(column) <= 3 or not column.isascii() or not column.isalpha():
        return None
    return column_index(column.upper())


def _marks(issues: Sequence[Issue], width: int) -> dict[int, tuple[int, str]]:
    """The input cells a row's issues name: column index → (fill, comment text); a cell with an
    error is red, one with warnings only yellow; the comment lists them all."""
    from .xlsx_stream import FILL_ERROR, FILL_WARNING

    by_column: dict[int, list[Issue]] = {}
    for issue in issues:
        idx = _column_index(issue.column) if issue.column else None
        if idx is not None and idx < width:
            by_column.setdefault(idx, []).append(issue)
    return {
        i: (
            FILL_ERROR if any(x.severity == "error" for x in found) else FILL_WARNING,
            "\n".join(f"{x.code}: {x.message}" for x in found)[:30000],
        )
        for i, found in by_column.items()
    }


def _xlsx_sheet(book: StreamBook, part: ResultSheet, *, errors_only: bool = False) -> None:
    """Write one results (or errors) sheet into a streaming workbook: the input's cells typed, the
    outcome columns, errored cells filled with a comment, a styled and frozen header, an
    autofilter and column widths from the first :data:`WIDTH_ROWS` rows."""
    width, get, dry_run, schema = len(part.headers), part.lookup, part.dry_run, part.schema
    added: tuple[str, ...] = (ERRORS_HEADER,) if errors_only else RESULT_HEADERS
    headers = [*part.headers, *added]
    # widths from the header and the first rows (written before any row)
    first, rest = _peek(part.rows, WIDTH_ROWS)
    longest = [len(str(h)) for h in headers[:width]]
    for row in first:
        for i, value in enumerate(row.cells[:width]):
            if value is not None:
                longest[i] = max(longest[i], len(str(value)))
    widths = [max(10.0, min(40.0, n * 1.1)) for n in longest] + [0.0] * len(added)
    for i, name in enumerate(added):
        widths[width + i] = _WIDTHS.get(name, 14.0)
    header_row = 1 if errors_only else part.header_row
    types = list(part.types or ())
    kinds = [types[i] if i < len(types) else None for i in range(width)]
    typed: list[tuple[int, str, dict[str, Any] | None]] = [
        (i, k, {} if k == "date" else None) for i, k in enumerate(kinds) if k
    ]
    with book.sheet(part.name[:31], len(headers), widths, header_row=header_row) as ws:
        for n in range(1, header_row):
            ws.blank(n)
        ws.header(header_row, headers)
        line = at = header_row  # line: the input's row number; at: the sheet's last row
        write_row = ws.row
        plain, names, changed = (b"", {}, {}) if errors_only else plain_codes(get)
        no_plain = len(plain)
        # outcome code -> its columns but Changes, as XML cut where the row number goes (the
        # usual row: its outcome, no record id, no issues; its changes if a dry run's)
        usual_pieces: dict[int, list[str]] = {}
        unchanged_pieces: dict[int, list[str]] = {}  # the same with the empty Changes cell
        changes_col = width + len(added) - 1
        changes_text = changes_formatter(schema)
        text_cell = ws.text_cell
        for row in rest:
            number = row.number
            code = plain[number] if number < no_plain else 0
            outcome: RowOutcome | None = None
            extra: list[Any] = []
            pieces = usual_pieces.get(code) if code in names else None
            if code in names:
                if pieces is None:
                    usual = RowOutcome(row=number, outcome=names[code])  # type: ignore[arg-type]
                    cells = outcome_cells(usual, dry_run=dry_run, schema=schema)
                    pieces = usual_pieces[code] = ws.pieces(width, cells[:-1])
                    unchanged_pieces[code] = ws.pieces(width, cells)
            else:
                outcome = get(number)
                if errors_only and not _failed(outcome):
                    continue
                extra = (
                    [errors_text(outcome.issues) if outcome and outcome.issues else ""]
                    if errors_only
                    else outcome_cells(outcome, dry_run=dry_run, schema=schema)
                )
            if not errors_only:
                while line + 1 < number:  # blank input rows keep their place
                    line += 1
                    at += 1
                    ws.blank(at)
            cells = row.cells
            if len(cells) != width:
                cells = _fit(cells, width)
            if typed:  # a CSV's numbers and dates (a copy: the kept rows are read again)
                cells = list(cells)
                for i, kind, seen in typed:
                    value = cells[i]
                    if value.__class__ is not str:
                        continue
                    if seen is not None:  # a date column: its dates repeat
                        when = seen.get(value)
                        if when is None:
                            if len(seen) >= _SHOWN_MAX:
                                seen.clear()
                            when = seen[value] = _typed(value, kind)
                        cells[i] = when
                    elif (
                        kind == "number"
                        and value.isdigit()
                        and value.isascii()
                        and len(value) < 16
                        and (value[0] != "0" or len(value) == 1)
                    ):
                        cells[i] = int(value)  # _typed's usual whole number, without the call
                    else:
                        cells[i] = _typed(value, kind)
            at += 1
            if pieces is not None:  # the usual row: its outcome's cells, and its changes
                r = str(at)
                changes = changed.get(number) if changed else None
                if changes:
                    tail = r.join(pieces) + text_cell(changes_col, r, changes_text(changes))
                else:
                    tail = r.join(unchanged_pieces[code])
                write_row(at, cells, None, tail)
            else:
                marks = _marks(outcome.issues, width) if outcome is not None and outcome.issues else None
                write_row(at, [*cells, *extra], marks)
            line = line + 1 if errors_only else number
        ws.finish(len(headers), max(line, header_row) - header_row)
