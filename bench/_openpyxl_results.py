"""The results workbook as bulkio wrote it before :mod:`bulkio.xlsx_stream`: openpyxl's write-only
mode, cell by cell (``bulkio/results.py`` at fd52e26). The baseline of
``bench/bench_results_xlsx.py``, and the reference ``tests/test_xlsx_stream.py`` compares the
streaming writer's sheets with (same values, types, formats, fills, comments, layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bulkio import sheets
from bulkio.issues import Issue
from bulkio.results import (
    _WIDTHS,
    ERROR_RGB,
    ERRORS_HEADER,
    RESULT_HEADERS,
    SUMMARY_SHEET,
    WARNING_RGB,
    WIDTH_ROWS,
    ResultSheet,
    _failed,
    _fit,
    _peek,
    _typed,
    errors_text,
    outcome_cells,
)


def write_book(
    dest: str | Path,
    parts: Sequence[ResultSheet],
    *,
    errors_only: bool = False,
    summary: Sequence[Sequence[Any]] = (),
    summary_headers: Sequence[str] = (),
) -> Path:
    """``write_results`` (one part), ``write_results_book`` (``summary_headers``) or
    ``write_errors`` (``errors_only``), XLSX, as they were written with openpyxl."""
    dest = Path(dest)
    wb = sheets.new_workbook(write_only=True)
    try:
        if summary_headers:
            sheets.write_table(wb.create_sheet(SUMMARY_SHEET), summary_headers, summary)
        for part in parts:
            _xlsx_sheet(wb, part, errors_only=errors_only)
        sheets.save_workbook(wb, dest)
    except BaseException:
        sheets.discard_workbook(wb)
        raise
    return dest


def _xlsx_sheet(wb: Any, part: ResultSheet, *, errors_only: bool = False) -> None:
    """Append one results (or errors) sheet to a write-only workbook."""
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils import column_index_from_string

    error_fill = PatternFill("solid", start_color=ERROR_RGB, end_color=ERROR_RGB)
    warning_fill = PatternFill("solid", start_color=WARNING_RGB, end_color=WARNING_RGB)
    ws = wb.create_sheet(part.name[:31])
    width, get, dry_run, schema = len(part.headers), part.lookup, part.dry_run, part.schema
    added: tuple[str, ...] = (ERRORS_HEADER,) if errors_only else RESULT_HEADERS
    headers = [*part.headers, *added]
    # widths from the header and the first rows (a write-only sheet takes them before any row)
    first, rest = _peek(part.rows, WIDTH_ROWS)
    longest = [len(str(h)) for h in headers[:width]]
    for row in first:
        for i, value in enumerate(row.cells[:width]):
            if value is not None:
                longest[i] = max(longest[i], len(str(value)))
    widths = [max(10.0, min(40.0, n * 1.1)) for n in longest] + [0.0] * len(added)
    for i, name in enumerate(added):
        widths[width + i] = _WIDTHS.get(name, 14.0)
    sheets.set_column_widths(ws, widths)
    header_row = 1 if errors_only else part.header_row
    ws.freeze_panes = f"A{header_row + 1}"
    for _ in range(1, header_row):
        ws.append([])
    ws.append(sheets.header_cells(ws, headers))
    types = list(part.types or ())
    kinds = [types[i] if i < len(types) else None for i in range(width)]
    typed = any(kinds)
    text_cell, xlsx_value, default_format = sheets.xlsx_text, sheets.xlsx_value, sheets.default_format
    line = header_row
    for row in rest:
        outcome = get(row.number)
        if errors_only:
            if not _failed(outcome):
                continue
        else:
            while line + 1 < row.number:
                ws.append([])
                line += 1
        marks: dict[int, list[Issue]] = {}
        for issue in outcome.issues if outcome else ():
            if issue.column:
                try:
                    idx = column_index_from_string(issue.column) - 1
                except ValueError:
                    continue
                if idx < width:
                    marks.setdefault(idx, []).append(issue)
        cells = _fit(row.cells, width)
        if typed:
            cells = [_typed(v, k) for v, k in zip(cells, kinds, strict=True)]
        extra = (
            [errors_text(outcome.issues) if outcome and outcome.issues else ""]
            if errors_only
            else outcome_cells(outcome, dry_run=dry_run, schema=schema)
        )
        out: list[Any] = []
        for i, value in enumerate(cells + extra):
            issues = marks.get(i)
            if isinstance(value, str):
                v = text_cell(ws, value)
                fmt = None
            else:
                v = xlsx_value(value)
                fmt = None if v is None or isinstance(v, (str, bool)) else default_format(v)
                if isinstance(v, str):
                    v = text_cell(ws, v)
            if not issues and fmt is None:
                out.append(v)
                continue
            if isinstance(v, Cell):
                c = v
            else:
                c = WriteOnlyCell(ws, value=v)
            if fmt:
                c.number_format = fmt
            if issues:
                errs = [x for x in issues if x.severity == "error"]
                c.fill = error_fill if errs else warning_fill
                c.comment = Comment("\n".join(f"{x.code}: {x.message}" for x in issues)[:30000], "bulkio")
            out.append(c)
        ws.append(out)
        line = line + 1 if errors_only else row.number
    sheets.finish_sheet(ws, len(headers), max(line, header_row) - header_row, header_row=header_row)
