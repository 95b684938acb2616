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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import values as V
from .columns import CLEAR_TOKEN, MULTI_SEPARATOR, Column
from .definitions import ObjectSchema
from .issues import Issue
from .values import BLANK, CLEAR

#: Value types whose cells are resolved to option ids later (kept as text here).
SELECT_TYPES = frozenset({"SINGLE_SELECT", "MULTI_SELECT"})


@dataclass(slots=True)
class CellRef:
    """Where a key's value came from: enough to locate an issue found in a later step."""

    column: str
    header: str
    raw: Any
    hint: str = ""


@dataclass(slots=True)
class CheckedRow:
    """A validated row. ``values`` maps a field or relationship key to its API value or
    :data:`CLEAR`; select fields hold label text (str / list[str]) and relationships hold
    reference text (list[str]) until :mod:`bulkio.resolve` turns them into ids in place."""

    row: int
    values: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    record_id: str | None = None
    sources: dict[str, CellRef] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

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
_ID, _REL, _PART, _SELECT, _MULTI, _FIELD = range(6)


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
    ) -> None:
        self.schema, self.file, self.sheet = schema, file, sheet
        self.options = options if options is not None else V.ParseOptions()
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
        self._plan: list[tuple[int, str, str, str, int, Column, Any, Callable[[Any], V.Parsed] | None]] = []
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
                if col.kind == "subfield":
                    kind = _PART
                    read = V.column_parser(target, part=col.part, options=self.options)
                elif target.value_type in SELECT_TYPES:
                    kind = _MULTI if target.value_type == "MULTI_SELECT" else _SELECT
                else:
                    kind = _FIELD
                    read = V.column_parser(target, options=self.options)
            self._plan.append((index, letter, header, key, kind, col, target, read))

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

    def check(self, source_row: Any) -> CheckedRow:
        """Validate one row; raw cells are not kept (only the few the issues need)."""
        cells = source_row.cells
        ncells = len(cells)
        out = CheckedRow(row=source_row.number)
        values, sources = out.values, out.sources
        for index, letter, header, key, kind, col, target, read in self._plan:
            raw = cells[index] if index < ncells else None
            # blank (None, empty text, pandas NaN) leaves the field unchanged
            if raw is None:
                continue
            if isinstance(raw, str):
                stripped = raw.strip()
                if not stripped:
                    continue
                clear = stripped.lower() == CLEAR_TOKEN
            else:
                if isinstance(raw, float) and math.isnan(raw):
                    continue
                stripped, clear = raw, False
            if kind == _ID:
                out.record_id = _text(raw)
                continue
            ref = CellRef(letter, header, stripped, col.hint)
            if kind == _REL:
                sources[key] = ref
                if clear:
                    values[key] = CLEAR
                    continue
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
                    continue
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
                    continue
                values[key] = refs
                continue
            if kind == _PART:
                sources.setdefault(key, ref)
                sources[col.key] = ref
                parts = values.get(key)
                if parts is CLEAR:
                    continue
                if clear:
                    value: Any = None
                else:
                    assert read is not None
                    parsed = read(raw)
                    if parsed.error_code:
                        out.issues.append(
                            self._issue(
                                out.row,
                                letter,
                                header,
                                col.key,
                                parsed.error_code,
                                parsed.message or parsed.error_code,
                                raw,
                                parsed.expected or col.hint,
                            )
                        )
                        continue
                    value = parsed.value
                    if value is BLANK:
                        continue
                    if value is CLEAR:
                        value = None
                if not isinstance(parts, dict):
                    parts = values[key] = {}
                parts[col.part] = value
                continue
            sources[key] = ref
            if clear:
                values[key] = CLEAR
                continue
            if kind == _SELECT:
                values[key] = _text(raw)
                continue
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
                    continue
                values[key] = labels
                continue
            assert read is not None
            parsed = read(raw)
            if parsed.error_code:
                out.issues.append(
                    self._issue(
                        out.row,
                        letter,
                        header,
                        key,
                        parsed.error_code,
                        parsed.message or parsed.error_code,
                        raw,
                        parsed.expected or col.hint,
                    )
                )
                continue
            value = parsed.value
            if value is BLANK:
                continue
            values[key] = CLEAR if value is CLEAR else value
        # an ADDRESS / FULL_NAME whose every given part is #clear clears the whole field
        for key in self._compound:
            val = values.get(key)
            if isinstance(val, dict) and val and all(v is None for v in val.values()):
                values[key] = CLEAR
        return out


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
        yield validator.check(row)


__all__ = [
    "BLANK",
    "CLEAR",
    "SELECT_TYPES",
    "CellRef",
    "CheckedRow",
    "Validator",
    "split_multi",
    "validate_rows",
]
