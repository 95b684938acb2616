"""Validate: one :class:`~bulkio.read.SourceRow` → one :class:`CheckedRow` (typed API values plus
located issues). No network: select labels and relationship references are kept as the text the
user typed and turned into ids by :mod:`bulkio.resolve`.

Why a separate step: every cell problem is found here, with its exact place (file, sheet, row,
column letter, header, field key, raw value, expected format), before any request is made.

* ADDRESS / FULL_NAME sub-columns are assembled into one partial object per field
  (``{"city": "Berlin"}``); the planner merges it with the existing value on update, so a blank part
  never erases what is stored.
* A blank cell is absent from ``values`` (leave unchanged); ``#clear`` gives :data:`CLEAR`.
* Required-on-create keys are checked by the planner, which knows whether a row creates a record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from . import values as V
from .columns import CLEAR_TOKEN, MULTI_SEPARATOR, Column
from .definitions import ObjectSchema
from .issues import Issue

#: The sentinel meaning "send null" (shared with values.py so both steps agree).
CLEAR: Any = getattr(V, "CLEAR", object())
BLANK: Any = getattr(V, "BLANK", object())

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

    def issue_at(self, key: str, code: str, message: str, *, value: Any = None,
                 expected: str | None = None, file: str | None = None, sheet: str | None = None,
                 severity: str = "error") -> Issue:
        """Add an issue located at the column ``key`` came from (or the row when none)."""
        src = self.sources.get(key) or self.sources.get(key.split(".")[0])
        issue = Issue(code=code, message=message, file=file, sheet=sheet, row=self.row,
                      column=src.column if src else None, header=src.header if src else None,
                      field=key, value=value if value is not None else (src.raw if src else None),
                      expected=expected if expected is not None else (src.hint or None if src else None),
                      severity=severity)  # type: ignore[arg-type]
        self.issues.append(issue)
        return issue


def is_blank(raw: Any) -> bool:
    """None, empty text, or a pandas NaN: leave the field unchanged."""
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (
        isinstance(raw, float) and math.isnan(raw))


def split_multi(text: str) -> list[str]:
    return [p.strip() for p in text.split(MULTI_SEPARATOR) if p.strip()]


def _text(raw: Any) -> str:
    """Cell → reference/label text: XLSX numbers without a trailing ``.0``."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _parse_error(parsed: Any) -> tuple[str, str, str | None] | None:
    """(code, message, expected) when ``parsed`` is an error, else None (tolerant of the shape)."""
    code = getattr(parsed, "error_code", None) or getattr(parsed, "code", None)
    if not code:
        return None
    return code, getattr(parsed, "message", None) or code, getattr(parsed, "expected", None)


class Validator:
    """Checks rows of one table against one object schema.

    >>> v = Validator(schema, header_map, file="deals.csv", options=ParseOptions())  # doctest: +SKIP
    >>> checked = v.check(source_row)                                                  # doctest: +SKIP
    """

    def __init__(self, schema: ObjectSchema, header_map: Any, *, file: str | None = None,
                 sheet: str | None = None, options: Any = None) -> None:
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

    def _issue(self, row: int, letter: str, header: str, key: str, code: str, message: str,
               raw: Any, expected: str | None) -> Issue:
        return Issue(code=code, message=message, file=self.file, sheet=self.sheet, row=row,
                     column=letter, header=header, field=key, value=raw, expected=expected)

    def check(self, source_row: Any) -> CheckedRow:
        """Validate one row; raw cells are not kept (only the few the issues need)."""
        cells = source_row.cells
        out = CheckedRow(row=source_row.number)
        for index, letter, header, col in self.columns:
            raw = cells[index] if index < len(cells) else None
            if is_blank(raw):
                continue
            key = col.field_key or col.key
            if col.kind == "id":
                out.record_id = _text(raw)
                continue
            ref = CellRef(letter, header, raw if not isinstance(raw, str) else raw.strip(), col.hint)
            clear = isinstance(raw, str) and raw.strip().lower() == CLEAR_TOKEN
            if col.kind == "relationship":
                out.sources[key] = ref
                if clear:
                    out.values[key] = CLEAR
                    continue
                refs = split_multi(_text(raw))
                rel = self.schema.relationships[key]
                if not rel.has_many and len(refs) > 1:
                    out.issues.append(self._issue(
                        out.row, letter, header, key, "invalid_type",
                        f"{rel.label} takes one {rel.object_type}, got {len(refs)} references.",
                        raw, col.hint))
                    continue
                out.values[key] = refs
                continue
            fdef = self.schema.fields[key]
            if col.kind == "subfield":
                out.sources.setdefault(key, ref)
                out.sources[col.key] = ref
                parts = out.values.get(key)
                if parts is CLEAR:
                    continue
                if clear:
                    value: Any = None
                else:
                    parsed = V.parse_cell(fdef, raw, part=col.part, options=self.options)
                    err = _parse_error(parsed)
                    if err:
                        out.issues.append(self._issue(out.row, letter, header, col.key, err[0], err[1],
                                                      raw, err[2] or col.hint))
                        continue
                    value = getattr(parsed, "value", parsed)
                    if value is BLANK:
                        continue
                    if value is CLEAR:
                        value = None
                if not isinstance(parts, dict):
                    parts = out.values[key] = {}
                parts[col.part] = value
                continue
            out.sources[key] = ref
            if clear:
                out.values[key] = CLEAR
                continue
            if fdef.value_type in SELECT_TYPES:
                text = _text(raw)
                out.values[key] = split_multi(text) if fdef.value_type == "MULTI_SELECT" else text
                continue
            parsed = V.parse_cell(fdef, raw, options=self.options)
            err = _parse_error(parsed)
            if err:
                out.issues.append(self._issue(out.row, letter, header, key, err[0], err[1], raw,
                                              err[2] or col.hint))
                continue
            value = getattr(parsed, "value", parsed)
            if value is BLANK:
                continue
            out.values[key] = CLEAR if value is CLEAR else value
        # an ADDRESS / FULL_NAME whose every given part is #clear clears the whole field
        for key, val in list(out.values.items()):
            if isinstance(val, dict) and val and all(v is None for v in val.values()):
                sdef = self.schema.fields.get(key)
                if sdef is not None and sdef.value_type in ("ADDRESS", "FULL_NAME"):
                    out.values[key] = CLEAR
        return out


def validate_rows(rows: Any, schema: ObjectSchema, header_map: Any, *, file: str | None = None,
                  sheet: str | None = None, options: Any = None) -> Any:
    """Generator form: ``SourceRow``s in, ``CheckedRow``s out, one at a time."""
    validator = Validator(schema, header_map, file=file, sheet=sheet, options=options)
    for row in rows:
        yield validator.check(row)
