"""The results sheet: the input, row for row, with what happened to each row.

Why a sheet and not only a log: the person who prepared the file fixes problems where they are.
Every input row appears exactly once, at the same row number as in the input, followed by the outcome
columns ``Outcome``, ``Record ID``, ``Link``, ``Errors`` (and ``Changes`` for a dry run, e.g.
``$stage: Lead → Proposal``). XLSX in → XLSX out: the original cells (values as read), errored
cells filled red with a comment carrying the message, header frozen. CSV in → CSV out with the same
delimiter, in UTF-8. Written atomically (:func:`bulkio.sheets.atomic_path`), every text cell escaped
against formula injection (:func:`bulkio.sheets.safe_cell`).
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import sheets
from . import values as V
from .definitions import ObjectSchema
from .issues import Issue
from .operations import RowOutcome
from .vocabulary import DRY_RUN_WORDS, outcome_word

OUTCOME_HEADERS = ("Outcome", "Record ID", "Link", "Errors")
CHANGES_HEADER = "Changes"
#: Fills of cells with an error / a warning in an XLSX results sheet (ARGB; openpyxl loads only
#: when one is written, not for a CSV dry run).
ERROR_RGB, WARNING_RGB = "FFFFC7CE", "FFFFEB9C"
__all__ = ["DRY_RUN_WORDS", "OUTCOME_HEADERS", "default_results_path", "errors_text", "write_results"]


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


def _display(schema: ObjectSchema | None, key: str, value: Any, empty: str = "(empty)") -> str:
    if value is None or value == []:
        return empty
    if schema is not None:
        fdef = schema.fields.get(key)
        if fdef is not None:
            with contextlib.suppress(Exception):  # unreadable: show the raw API value instead
                value = V.format_value(fdef, value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def changes_text(changes: Mapping[str, tuple[Any, Any]], schema: ObjectSchema | None = None) -> str:
    """``$stage: Lead → Proposal; amount: (empty) → 1200.5; nextStep: Call → (cleared)``"""
    return "; ".join(
        f"{k}: {_display(schema, k, old)} → {_display(schema, k, new, '(cleared)')}"
        for k, (old, new) in changes.items()
    )


def outcome_cells(
    outcome: RowOutcome | None, *, dry_run: bool = False, schema: ObjectSchema | None = None
) -> list[Any]:
    """The outcome columns of one row."""
    if outcome is None:
        cells: list[Any] = ["not processed", None, None, ""]
    else:
        word = outcome_word(outcome.outcome, dry_run=dry_run)
        cells = [word, outcome.record_id, outcome.link, errors_text(outcome.issues) if outcome.issues else ""]
    if dry_run:
        cells.append(changes_text(outcome.changes, schema) if outcome is not None and outcome.changes else "")
    return cells


Lookup = Callable[[int], RowOutcome | None]


def _fit(cells: Sequence[Any], width: int) -> list[Any]:
    """A row's cells cut or padded (with None) to the input's ``width`` columns."""
    n = len(cells)
    if n == width:
        return list(cells)
    return list(cells[:width]) if n > width else [*cells, *([None] * (width - n))]


def _lookup(outcomes: Mapping[int, RowOutcome] | Lookup) -> Lookup:
    return outcomes.get if isinstance(outcomes, Mapping) else outcomes


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
) -> Path:
    """Write the results sheet to ``dest`` (format by its extension) and return the path.

    ``rows`` yields objects with ``number`` and ``cells`` (:class:`bulkio.read.SourceRow`), in order.
    """
    dest = Path(dest)
    out_headers = [*headers, *OUTCOME_HEADERS, *([CHANGES_HEADER] if dry_run else [])]
    get = _lookup(outcomes)
    if dest.suffix.lower() in (".xlsx", ".xlsm"):
        _write_xlsx(
            dest,
            out_headers,
            len(headers),
            rows,
            get,
            dry_run=dry_run,
            schema=schema,
            header_row=header_row,
            sheet_name=sheet_name or "Results",
        )
    else:
        _write_csv(
            dest,
            out_headers,
            len(headers),
            rows,
            get,
            dry_run=dry_run,
            schema=schema,
            header_row=header_row,
            delimiter=delimiter,
        )
    return dest


def _write_csv(
    dest: Path,
    headers: list[str],
    width: int,
    rows: Iterable[Any],
    get: Lookup,
    *,
    dry_run: bool,
    schema: ObjectSchema | None,
    header_row: int,
    delimiter: str,
) -> None:
    blank = [""] * len(headers)
    csv_row = sheets.csv_row
    with sheets.atomic_path(dest) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writerow = csv.writer(fh, delimiter=delimiter or ",").writerow
        for _ in range(1, header_row):
            writerow(blank)
        writerow(csv_row(headers))
        line = header_row
        for row in rows:
            while line + 1 < row.number:  # blank input rows keep their place
                writerow(blank)
                line += 1
            writerow(
                csv_row(_fit(row.cells, width))
                + csv_row(outcome_cells(get(row.number), dry_run=dry_run, schema=schema))
            )
            line = row.number


def _write_xlsx(
    dest: Path,
    headers: list[str],
    width: int,
    rows: Iterable[Any],
    get: Lookup,
    *,
    dry_run: bool,
    schema: ObjectSchema | None,
    header_row: int,
    sheet_name: str,
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils import column_index_from_string

    error_fill = PatternFill("solid", start_color=ERROR_RGB, end_color=ERROR_RGB)
    warning_fill = PatternFill("solid", start_color=WARNING_RGB, end_color=WARNING_RGB)
    wb = sheets.new_workbook(write_only=True)
    try:
        ws = wb.create_sheet(sheet_name[:31])
        widths = [max(10.0, min(40.0, len(str(h)) * 1.1)) for h in headers]
        for i, name in enumerate(OUTCOME_HEADERS + ((CHANGES_HEADER,) if dry_run else ())):
            widths[width + i] = {"Errors": 60.0, "Changes": 50.0, "Link": 30.0}.get(name, 14.0)
        sheets.set_column_widths(ws, widths)
        ws.freeze_panes = f"A{header_row + 1}"
        for _ in range(1, header_row):
            ws.append([])
        ws.append(sheets.header_cells(ws, headers))
        line = header_row
        for row in rows:
            while line + 1 < row.number:
                ws.append([])
                line += 1
            outcome = get(row.number)
            marks: dict[int, list[Issue]] = {}
            for issue in outcome.issues if outcome else ():
                if issue.column:
                    try:
                        idx = column_index_from_string(issue.column) - 1
                    except ValueError:
                        continue
                    if idx < width:
                        marks.setdefault(idx, []).append(issue)
            out: list[Any] = []
            for i, value in enumerate(
                _fit(row.cells, width) + outcome_cells(outcome, dry_run=dry_run, schema=schema)
            ):
                v = sheets.xlsx_value(value)
                issues = marks.get(i)
                fmt = None if isinstance(v, (str, bool)) or v is None else sheets.default_format(v)
                if not issues and fmt is None:
                    out.append(v)
                    continue
                c = WriteOnlyCell(ws, value=v)
                if fmt:
                    c.number_format = fmt
                if issues:
                    errs = [x for x in issues if x.severity == "error"]
                    c.fill = error_fill if errs else warning_fill
                    c.comment = Comment("\n".join(f"{x.code}: {x.message}" for x in issues)[:30000], "bulkio")
                out.append(c)
            ws.append(out)
            line = row.number
        sheets.save_workbook(wb, dest)
    except BaseException:
        sheets.discard_workbook(wb)
        raise
