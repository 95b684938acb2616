"""Validate: one :class:`~bulkio.read.SourceRow` → one :class:`CheckedRow` (typed API values plus
located issues). No network: select labels and relationship references are kept as the text the
user typed and turned into ids by :mod:`bulkio.resolve`.

Why a separate step: every cell problem is found here, with its exact place (file, sheet, row,
column letter, header, field key, raw value, expected format), before any request is made.

* ADDRESS / FULL_NAME sub-columns are assembled into one partial object per field
  (``{"city": "Berlin"}``); the planner merges it with the existing value on update, so a blank part
  never erases what is stored.
* A blank cell is absent from ``values`` (leave unchanged); ``#clear`` gives :data:`CLEAR`.
* A multi-value or reference cell of only separators (``;``, `` ; ; ``) is an error, not an
  empty list: an empty list would clear the field, which only ``#clear`` may do. Empty items
  between separators (``a;;b``, ``a;``) are dropped.
* Required-on-create keys are checked by the planner, which knows whether a row creates a record.

Numbers are checked per column (:class:`NumberColumn`), because one cell cannot say whether
``1.200`` is 1200 or 1.2. Without a locale, each NUMBER/CURRENCY column collects evidence: a cell that
only a decimal comma explains (``1.234,50``, ``3,5``) or only a decimal point (``1,234.50``). A cell
that fits both is *settled* by that evidence, or is ``ambiguous_number`` (naming ``--locale``) when the
column has none or both. Streaming decides what evidence counts: the importer validates a chunk of
rows (:data:`~bulkio.pipeline.CHUNK`) and then calls :meth:`Validator.settle`, so a cell is settled by
everything the column held up to the end of its chunk (earlier chunks and the whole of its own),
never by rows read later. A pre-scan of the whole file would see more, but reads the file twice
(slow for a large XLSX, impossible for stdin) for a case the first chunk almost always decides; the
error names the fix (``--locale``) when it does not. :meth:`Validator.check` alone decides at once,
with the evidence so far.

Fractions are checked the same way: a NUMBER value between 0 and 1 (``0.5``, or a percent-formatted
XLSX cell) in a column whose other values are 0-100, or in a field named like a percentage
(probability, percent, rate…), gets a ``looks_like_fraction`` warning; one the column cannot judge is
listed in :attr:`CheckedRow.fractions` for the planner, which asks the CRM what the field holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import values as V
from .columns import CLEAR_TOKEN, MULTI_SEPARATOR, Column
from .definitions import FieldDef, ObjectSchema
from .issues import Issue
from .values import BLANK, CLEAR
from .valuetypes.numbers import decimal_evidence

if TYPE_CHECKING:
    from .columnar import ChunkChecker

#: Value types whose cells are resolved to option ids later (kept as text here).
SELECT_TYPES = frozenset({"SINGLE_SELECT", "MULTI_SELECT"})


@dataclass(slots=True)
class CellRef:
    """Where a key's value came from: enough to locate an issue found in a later step."""

    column: str
    header: str
    raw: Any
    hint: str = ""


class CheckedRow:
    """A validated row. ``values`` maps a field or relationship key to its API value or
    :data:`CLEAR`; select fields hold label text (str / list[str]) and relationships hold
    reference text (list[str]) until :mod:`bulkio.resolve` turns them into ids in place.

    ``sources`` (where each key's value came from) is built on first use from the row's cells
    when the row came from :meth:`Validator.check_chunk`: only rows with an issue ever need it, and
    a million rows would otherwise carry ten million :class:`CellRef` objects they never use."""

    __slots__ = ("_cells", "_locate", "_sources", "fractions", "issues", "record_id", "row", "values")

    def __init__(
        self,
        row: int,
        values: dict[str, Any] | None = None,
        issues: list[Issue] | None = None,
        record_id: str | None = None,
        sources: dict[str, CellRef] | None = None,
        fractions: list[str] | None = None,
    ) -> None:
        self.row = row
        self.values: dict[str, Any] = {} if values is None else values
        self.issues: list[Issue] = [] if issues is None else issues
        self.record_id = record_id
        #: NUMBER keys holding a fraction of 1 the file alone cannot judge (the planner asks the CRM)
        self.fractions = fractions
        self._sources: dict[str, CellRef] = {} if sources is None else sources
        self._cells: list[Any] | None = None
        self._locate: Callable[[list[Any]], dict[str, CellRef]] | None = None

    @property
    def sources(self) -> dict[str, CellRef]:
        if self._cells is not None and self._locate is not None:
            self._sources = self._locate(self._cells)
            self._cells = None
        return self._sources

    @sources.setter
    def sources(self, value: dict[str, CellRef]) -> None:
        self._sources, self._cells = value, None

    def __repr__(self) -> str:
        return (
            f"CheckedRow(row={self.row}, values={self.values!r}, issues={self.issues!r}, "
            f"record_id={self.record_id!r}, fractions={self.fractions!r})"
        )

    @property
    def ok(self) -> bool:
        return not self.issues or not any(i.severity == "error" for i in self.issues)

    def issue_at(
        self,
        key: str,
        code: str,
        message: str,
        *,
        value: Any = None,
        expected: str | None = None,
        file: str | None = None,
        sheet: str | None = None,
        severity: str = "error",
    ) -> Issue:
        """Add an issue located at the column ``key`` came from (or the row when none)."""
        src = self.sources.get(key) or self.sources.get(key.split(".")[0])
        issue = Issue(
            code=code,
            message=message,
            file=file,
            sheet=sheet,
            row=self.row,
            column=src.column if src else None,
            header=src.header if src else None,
            field=key,
            value=value if value is not None else (src.raw if src else None),
            expected=expected if expected is not None else (src.hint or None if src else None),
            severity=severity,  # type: ignore[arg-type]
        )
        self.issues.append(issue)
        return issue


def split_multi(text: str) -> list[str]:
    """Split a multi-value cell on :data:`~bulkio.columns.MULTI_SEPARATOR`, dropping empty items.
    ``[]`` means the text held only separators and whitespace (see :func:`_only_separators`)."""
    return [p.strip() for p in text.split(MULTI_SEPARATOR) if p.strip()]


def _only_separators(text: str, what: str) -> str:
    """The message for a cell that splits to no item: it must not become ``[]`` (a clear)."""
    return (
        f"{text!r} holds no {what}, only separators; leave the cell blank to keep the current "
        f"value, or type {CLEAR_TOKEN} to clear it."
    )


def _text(raw: Any) -> str:
    """Cell → reference/label text: XLSX numbers without a trailing ``.0``."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


# what a column holds, decided once per run (see Validator._plan)
_ID, _REL, _PART, _SELECT, _MULTI, _FIELD, _NUMBER = range(7)
#: (cell index, letter, header, key, kind, Column, schema entry, cell parser): one importable column
PlanEntry = tuple[int, str, str, str, int, Column, Any, "Callable[[Any], V.Parsed] | None"]

#: field keys or labels that name a percentage (values 0-100)
PERCENT_LIKE = re.compile(r"probab|percent|pct|%|likelihood|win.?rate|chance|confidence", re.IGNORECASE)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class NumberColumn:
    """What one NUMBER/CURRENCY column has shown so far: decimal-mark evidence (without a locale) and
    the range of its values (for fractions). One per column per run."""

    __slots__ = (
        "auto",
        "big",
        "comma",
        "fdef",
        "fractions",
        "header",
        "pct",
        "percent_like",
        "point",
        "read",
        "read_comma",
        "read_point",
    )

    def __init__(self, fdef: FieldDef, header: str, options: V.ParseOptions) -> None:
        self.fdef, self.header = fdef, header
        #: no locale and no decimal mark given: cells that fit both marks are settled by the column
        self.auto = options.locale is None and options.decimal is None
        self.read = V.column_parser(fdef, options=options)
        self.read_point = V.column_parser(fdef, options=replace(options, decimal="."))
        self.read_comma = V.column_parser(fdef, options=replace(options, decimal=","))
        #: first (row, cell) that only a decimal point / only a decimal comma explains
        self.point: tuple[int, Any] | None = None
        self.comma: tuple[int, Any] | None = None
        #: fractions are judged for NUMBER fields not read as fractions already (``percent``)
        self.fractions = fdef.value_type == "NUMBER" and not options.percent
        self.percent_like = bool(PERCENT_LIKE.search(f"{fdef.key} {fdef.label}"))
        #: first (row, value) in 1-100 and above 100
        self.pct: tuple[int, Any] | None = None
        self.big: tuple[int, Any] | None = None

    def observe(self, row: int, raw: Any, value: Any) -> bool:
        """Note a parsed value; True when it is a fraction of 1 to judge later."""
        if not self.fractions or isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        written_pct = isinstance(raw, str) and raw.rstrip().endswith(("%", "\u066a"))
        if 1 < value <= 100 or written_pct:
            if self.pct is None:
                self.pct = (row, raw)
        elif value > 100 and self.big is None:
            self.big = (row, raw)
        return 0 < abs(value) < 1 and not written_pct

    def scale(self) -> str | None:
        """Why this column holds 0-100 values (None when the file cannot tell)."""
        if self.big is not None:
            return None
        if self.pct is not None:
            return f"other values of this column are 0-100 (row {self.pct[0]}: {_fmt(self.pct[1])})"
        if self.percent_like:
            return f"{self.fdef.label} is a percentage (0-100)"
        return None

    def decimal(self) -> str | None:
        """The decimal mark the column has settled on, None when it has not (or shows both)."""
        if self.comma is not None and self.point is None:
            return ","
        if self.point is not None and self.comma is None:
            return "."
        return None


def fraction_message(raw: Any, value: Any, why: str, header: str) -> str:
    """The ``looks_like_fraction`` message: what was read, why it looks wrong, what to do."""
    pct = _fmt(round(value * 100, 2)) if isinstance(value, (int, float)) else "?"
    return (
        f"{_fmt(raw) if not isinstance(raw, str) else repr(raw)} looks like a fraction of 1 "
        f"({pct} %), but {why}: write {pct} if {pct} % is meant; for a column of fractions use "
        f'--percent "{header}" (or the mapping\'s percent transform). Imported as {_fmt(value)}.'
    )


FRACTION_EXPECTED = "a percentage from 0 to 100 (50 for 50 %)"


def _by_column(issue: Issue) -> tuple[int, str]:
    """Sort key: issues without a column first, then by column letter (A < B < AA)."""
    letter = issue.column or ""
    return (len(letter), letter)


class Validator:
    """Checks rows of one table against one object schema.

    >>> v = Validator(schema, header_map, file="deals.csv", options=ParseOptions())  # doctest: +SKIP
    >>> checked = v.check(source_row)                                                  # doctest: +SKIP
    """

    def __init__(
        self,
        schema: ObjectSchema,
        header_map: Any,
        *,
        file: str | None = None,
        sheet: str | None = None,
        options: V.ParseOptions | None = None,
        column_options: Mapping[str, V.ParseOptions] | None = None,
    ) -> None:
        self.schema, self.file, self.sheet = schema, file, sheet
        self.options = options if options is not None else V.ParseOptions()
        #: per-column options by field key or header (a mapping's locale, --percent …)
        self.column_options = dict(column_options or {})
        self.numbers: dict[str, NumberColumn] = {}
        #: cells of the current chunk that wait for :meth:`settle` (see the module docstring)
        self._pending: list[tuple[CheckedRow, str, str, str, NumberColumn, Any]] = []
        self._fractions: list[tuple[CheckedRow, str, NumberColumn, Any, Any]] = []
        # (cell index, letter, header, Column) for every column that carries importable data
        self.columns: list[tuple[int, str, str, Column]] = []
        for mc in getattr(header_map, "importable", None) or header_map.columns:
            col = mc.column
            if col is None or col.kind in ("display", "readonly"):
                continue
            if col.kind == "relationship":
                rel = schema.relationships.get(col.field_key or col.key)
                if rel is None or rel.read_only:
                    continue
            elif col.kind in ("field", "subfield"):
                fdef = schema.fields.get(col.field_key or col.key)
                if fdef is None or fdef.read_only:
                    continue
            self.columns.append((mc.index, mc.letter, mc.header, col))
        # Per column, once per run: its kind, the schema entry and the cell parser (no per-cell
        # dispatch on the value type in check()).
        self._plan: list[PlanEntry] = []
        self._columns: ChunkChecker | None = None  # made on first use (check_chunk)
        #: ADDRESS / FULL_NAME keys, the only ones whose value can be a dict of parts
        self._compound: list[str] = []
        for index, letter, header, col in self.columns:
            key = col.field_key or col.key
            target: Any = None
            read: Callable[[Any], V.Parsed] | None = None
            if col.kind == "id":
                kind = _ID
            elif col.kind == "relationship":
                kind, target = _REL, schema.relationships[key]
            else:
                target = schema.fields[key]
                if target.value_type in ("ADDRESS", "FULL_NAME") and key not in self._compound:
                    self._compound.append(key)
                opts = self._options(key, header)
                if col.kind == "subfield":
                    kind = _PART
                    read = V.column_parser(target, part=col.part, options=opts)
                elif target.value_type in SELECT_TYPES:
                    kind = _MULTI if target.value_type == "MULTI_SELECT" else _SELECT
                elif target.value_type in ("NUMBER", "CURRENCY"):
                    kind = _NUMBER
                    self.numbers[key] = NumberColumn(target, header, opts)
                    read = self.numbers[key].read
                else:
                    kind = _FIELD
                    read = V.column_parser(target, options=opts)
            self._plan.append((index, letter, header, key, kind, col, target, read))

    def _options(self, key: str, header: str) -> V.ParseOptions:
        co = self.column_options
        return co.get(key) or co.get(header) or co.get(header.casefold()) or self.options

    def _parse_issue(
        self, row: int, letter: str, header: str, key: str, parsed: Any, raw: Any, hint: str | None
    ) -> Issue:
        """The issue of a cell its parser refused (``parsed.error_code``); ``hint`` stands in for a
        parser that says nothing of what it expected."""
        return self._issue(
            row,
            letter,
            header,
            key,
            parsed.error_code,
            parsed.message or parsed.error_code,
            raw,
            parsed.expected or hint,
        )

    def _issue(
        self,
        row: int,
        letter: str,
        header: str,
        key: str,
        code: str,
        message: str,
        raw: Any,
        expected: str | None,
    ) -> Issue:
        return Issue(
            code=code,
            message=message,
            file=self.file,
            sheet=self.sheet,
            row=row,
            column=letter,
            header=header,
            field=key,
            value=raw,
            expected=expected,
        )

    def check(self, source_row: Any, *, defer: bool = False) -> CheckedRow:
        """Validate one row; raw cells are not kept (only the few the issues need).

        With ``defer`` a number cell that fits both decimal marks (and a fraction the column may
        still judge) waits for :meth:`settle`, which the caller runs after a chunk of rows.

        This is the reference path, one parser call per cell; the importer validates a chunk
        at once with :meth:`check_chunk`, which gives the same rows."""
        cells = source_row.cells
        ncells = len(cells)
        out = CheckedRow(row=source_row.number)
        for entry in self._plan:
            index = entry[0]
            self.cell(out, entry, cells[index] if index < ncells else None, defer=defer)
        self.clear_compound(out)
        self._refile(out, source_row)
        return out

    def check_chunk(self, source_rows: Sequence[Any]) -> list[CheckedRow]:
        """Validate a chunk of rows column by column (:mod:`bulkio.columnar`): the same rows,
        issues and values as ``[self.check(r, defer=True) for r in source_rows]``, at a fraction
        of the cost. Call :meth:`settle` after it, as after deferred :meth:`check` calls."""
        if self._columns is None:
            from .columnar import ChunkChecker

            self._columns = ChunkChecker(self)
        checked = self._columns.check(source_rows)
        for out, source_row in zip(checked, source_rows, strict=True):
            self._refile(out, source_row)
        return checked

    def _refile(self, out: CheckedRow, source_row: Any) -> None:
        """Name the fallback column in the issues of a cell it filled on this row: an unknown stage of
        Pipedrive's ``Deal - Stage`` (read where ``Deal - Status`` is blank) is that column's, not the
        Status column's, and so is an account id that matches nothing."""
        filled = getattr(source_row, "filled", None)
        if not filled:
            return
        moved = {letter: filled[index] for index, letter, *_rest in self._plan if index in filled}
        if not moved:
            return
        for issue in out.issues:
            hit = moved.get(issue.column or "")
            if hit is not None:
                issue.column, issue.header = hit
        sources = out.sources
        for key, ref in list(sources.items()):
            hit = moved.get(ref.column)
            if hit is not None:
                sources[key] = CellRef(hit[0], hit[1], ref.raw, ref.hint)
        out.sources = sources

    def locate(self, cells: list[Any]) -> dict[str, CellRef]:
        """Where each key's value came from in one row's cells (what :meth:`check` records)."""
        sources: dict[str, CellRef] = {}
        ncells = len(cells)
        for index, letter, header, key, kind, col, _target, _read in self._plan:
            if kind == _ID or index >= ncells:
                continue
            raw = cells[index]
            if raw is None:
                continue
            if isinstance(raw, str):
                raw = raw.strip()
                if not raw:
                    continue
            elif isinstance(raw, float) and math.isnan(raw):
                continue
            ref = CellRef(letter, header, raw, col.hint)
            if kind == _PART:
                sources.setdefault(key, ref)
                sources[col.key] = ref
            else:
                sources[key] = ref
        return sources

    def clear_compound(self, out: CheckedRow) -> None:
        """An ADDRESS / FULL_NAME whose every given part is #clear clears the whole field."""
        values = out.values
        for key in self._compound:
            val = values.get(key)
            if isinstance(val, dict) and val and all(v is None for v in val.values()):
                values[key] = CLEAR

    def cell(self, out: CheckedRow, entry: PlanEntry, raw: Any, *, defer: bool, eager: bool = True) -> None:
        """Check one cell of ``out``'s row for the column ``entry`` of :attr:`_plan`. With ``eager``
        its :class:`CellRef` is recorded now (else ``out`` builds its sources when asked)."""
        _index, letter, header, key, kind, col, target, read = entry
        values = out.values
        # blank (None, empty text, pandas NaN) leaves the field unchanged
        if raw is None:
            return
        if isinstance(raw, str):
            stripped = raw.strip()
            if not stripped:
                return
            clear = stripped.lower() == CLEAR_TOKEN
        else:
            if isinstance(raw, float) and math.isnan(raw):
                return
            stripped, clear = raw, False
        if kind == _ID:
            out.record_id = _text(raw)
            return
        sources = out._sources if eager else None
        ref = CellRef(letter, header, stripped, col.hint) if eager else None
        if kind == _REL:
            if sources is not None and ref is not None:
                sources[key] = ref
            if clear:
                values[key] = CLEAR
                return
            text = _text(raw)
            refs = split_multi(text)
            if not refs:
                out.issues.append(
                    self._issue(
                        out.row,
                        letter,
                        header,
                        key,
                        "invalid_type",
                        _only_separators(text, f"{target.object_type} reference"),
                        raw,
                        col.hint,
                    )
                )
                return
            if not target.has_many and len(refs) > 1:
                out.issues.append(
                    self._issue(
                        out.row,
                        letter,
                        header,
                        key,
                        "invalid_type",
                        f"{target.label} takes one {target.object_type}, got {len(refs)} references.",
                        raw,
                        col.hint,
                    )
                )
                return
            values[key] = refs
            return
        if kind == _PART:
            if sources is not None and ref is not None:
                sources.setdefault(key, ref)
                sources[col.key] = ref
            parts = values.get(key)
            if parts is CLEAR:
                return
            if clear:
                value: Any = None
            else:
                assert read is not None
                parsed = read(raw)
                if parsed.error_code:
                    out.issues.append(
                        self._parse_issue(out.row, letter, header, col.key, parsed, raw, col.hint)
                    )
                    return
                value = parsed.value
                if value is BLANK:
                    return
                if value is CLEAR:
                    value = None
            if not isinstance(parts, dict):
                parts = values[key] = {}
            parts[col.part] = value
            return
        if sources is not None and ref is not None:
            sources[key] = ref
        if clear:
            values[key] = CLEAR
            return
        if kind == _SELECT:
            values[key] = _text(raw)
            return
        if kind == _MULTI:
            text = _text(raw)
            labels = split_multi(text)
            if not labels:
                out.issues.append(
                    self._issue(
                        out.row,
                        letter,
                        header,
                        key,
                        "invalid_type",
                        _only_separators(text, "option"),
                        raw,
                        col.hint,
                    )
                )
                return
            values[key] = labels
            return
        assert read is not None
        nc = self.numbers.get(key) if kind == _NUMBER else None
        evidence = decimal_evidence(stripped) if nc is not None and nc.auto and isinstance(raw, str) else None
        if nc is not None and evidence == "either":
            self._pending.append((out, letter, header, key, nc, stripped))
            if not defer:
                self.settle()
            return
        parsed = read(raw)
        if parsed.error_code:
            out.issues.append(self._parse_issue(out.row, letter, header, key, parsed, raw, col.hint))
            return
        value = parsed.value
        if value is BLANK:
            return
        values[key] = CLEAR if value is CLEAR else value
        if nc is not None and value is not CLEAR:
            self.observe(out, key, nc, stripped, value, evidence, defer=defer)

    def observe(
        self,
        out: CheckedRow,
        key: str,
        nc: NumberColumn,
        stripped: Any,
        value: Any,
        evidence: str | None,
        *,
        defer: bool,
    ) -> None:
        """What a number cell read without waiting tells its column: a decimal mark, its range."""
        if evidence == "point" and nc.point is None:
            nc.point = (out.row, stripped)
        elif evidence == "comma" and nc.comma is None:
            nc.comma = (out.row, stripped)
        if nc.observe(out.row, stripped, value):
            self._fractions.append((out, key, nc, stripped, value))
            if not defer:
                self.settle()

    def settle(self) -> None:
        """Decide the cells :meth:`check` left waiting: numbers that fit both decimal marks, by the
        evidence their column has shown so far; fractions of 1, by the column's range."""
        pending, self._pending = self._pending, []
        for out, letter, header, key, nc, raw in pending:
            mark = nc.decimal()
            if mark is None:
                out.issues.append(self._ambiguous(out.row, letter, header, key, nc, raw))
                out.issues.sort(key=_by_column)  # in column order, as if found in place
                continue
            parsed = (nc.read_comma if mark == "," else nc.read_point)(raw)
            if parsed.error_code:
                out.issues.append(self._parse_issue(out.row, letter, header, key, parsed, raw, None))
                out.issues.sort(key=_by_column)
                continue
            out.values[key] = parsed.value
            if nc.observe(out.row, raw, parsed.value):
                self._fractions.append((out, key, nc, raw, parsed.value))
        fractions, self._fractions = self._fractions, []
        for out, key, nc, raw, value in fractions:
            why = nc.scale()
            if why is not None:
                out.issue_at(
                    key,
                    "looks_like_fraction",
                    fraction_message(raw, value, why, nc.header),
                    value=raw,
                    expected=FRACTION_EXPECTED,
                    file=self.file,
                    sheet=self.sheet,
                    severity="warning",
                )
            elif nc.big is None:
                if out.fractions is None:
                    out.fractions = []
                out.fractions.append(key)

    def _ambiguous(self, row: int, letter: str, header: str, key: str, nc: NumberColumn, raw: Any) -> Issue:
        """``ambiguous_number`` for a cell the column does not settle. When a decimal point cannot
        read it (``12.345``: too many decimals) that error is kept, as without a locale before,
        with what a decimal comma would give."""
        comma, point = nc.read_comma(raw), nc.read_point(raw)
        locale_hint = "(--locale, e.g. de-DE for 1.234,50 or en-US for 1,234.50)"
        if nc.comma is not None and nc.point is not None:
            why = (
                f"this column has both decimal commas (row {nc.comma[0]}: {nc.comma[1]!r}) and decimal "
                f"points (row {nc.point[0]}: {nc.point[1]!r})"
            )
        else:
            why = "no other value of this column says which"
        if not point.ok and point.error_code:
            other = f"; with a decimal comma it is {_fmt(comma.value)}" if comma.ok else ""
            return self._issue(
                row,
                letter,
                header,
                key,
                point.error_code,
                f"{point.message or point.error_code}{other}: if so, set the file's locale {locale_hint}",
                raw,
                point.expected,
            )
        readings = [
            f"{_fmt(p.value)} with a decimal {name}"
            for p, name in ((comma, "comma"), (point, "point"))
            if p.ok
        ]
        if not comma.ok:
            readings.append(f"with a decimal comma {comma.message}")
        return self._issue(
            row,
            letter,
            header,
            key,
            "ambiguous_number",
            f"{raw!r} could be {' or '.join(readings)}; {why}. Set the locale the file was written in "
            f"{locale_hint}.",
            raw,
            "a number in the file's locale (--locale)",
        )


def validate_rows(
    rows: Iterable[Any],
    schema: ObjectSchema,
    header_map: Any,
    *,
    file: str | None = None,
    sheet: str | None = None,
    options: V.ParseOptions | None = None,
) -> Iterator[CheckedRow]:
    """Generator form: ``SourceRow``s in, ``CheckedRow``s out, one at a time."""
    validator = Validator(schema, header_map, file=file, sheet=sheet, options=options)
    for row in rows:
        yield validator.check(row)  # decided at once: see Validator.settle for chunks


__all__ = [
    "BLANK",
    "CLEAR",
    "SELECT_TYPES",
    "CellRef",
    "CheckedRow",
    "NumberColumn",
    "Validator",
    "split_multi",
    "validate_rows",
]
