"""Columnar validation: a chunk of rows checked one column at a time.

:meth:`bulkio.validate.Validator.check` reads a row cell by cell, calling the value type's parser for
each one. Most of that work repeats: a column of a million rows holds a few hundred distinct dates,
stages, owners and account names, and its amounts have one or two shapes. :class:`ChunkChecker`
turns a chunk of rows into columns (one ``zip``) and checks each column with what fits its kind:

* text and select-label columns need no parser at all: the reader has stripped the cell, and the
  value is the cell;
* every other column remembers what each distinct cell read as (``MEMO_LIMIT`` cells per column):
  a cell the column has seen before costs one dictionary lookup, not a parse;
* NUMBER and CURRENCY columns read the shapes that make up nearly every amount (``1234``,
  ``1,234.50``, ``$1,234.50``) with one anchored ASCII pattern and ``int``/``float`` (both exact for
  at most 15 digits and 2 decimals), and fall back to the parser for anything else;
* a cell of any other Python type (a workbook's dates and numbers, a DataFrame's values) goes to the
  per-cell path, :meth:`Validator.cell`, unchanged.

The result is, row for row, what ``[validator.check(row, defer=True) for row in chunk]`` gives: the
same values, the same issues in the same order, the same cells waiting for
:meth:`~bulkio.validate.Validator.settle` (numbers that fit both decimal marks, fractions of 1).
``tests/test_columnar.py`` checks that with hypothesis for every value type and option that changes
parsing. Rows keep their cells, not a :class:`~bulkio.validate.CellRef` per value: the few rows
with an issue build their sources when asked (:attr:`CheckedRow.sources`).

Why not pyarrow or polars: measured on the benchmark's opportunity file (``bench/README.md``),
the per-column memo and the amount pattern leave validation a small share of a dry run; a
vectorised engine would add a large dependency and import time to read amounts 2-3× faster, and
every value would still have to become a Python object for the planner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import zip_longest
from typing import Any

from . import values as V
from .columns import CLEAR_TOKEN
from .validate import (
    _FIELD,
    _ID,
    _MULTI,
    _NUMBER,
    _PART,
    _REL,
    _SELECT,
    CheckedRow,
    PlanEntry,
    Validator,
    _only_separators,
    split_multi,
)
from .values import BLANK, CLEAR
from .valuetypes.common import _parse_text
from .valuetypes.numbers import _CURRENCY_SYMBOLS, decimal_evidence

#: Distinct cells remembered per column; a column of all-different values (names, ids) starts over
#: when it has this many (it gains nothing from the memo, and memory stays flat).
MEMO_LIMIT = 8192

#: An amount the way nearly every sheet writes one: optional ``$``, digits grouped by commas in
#: threes (no leading zero) or not grouped (at most 15 digits), at most two decimals. ASCII digits
#: only (``\\d`` would take any script's digits, which the parser reads its own way).
_AMOUNT = re.compile(r"(\$?)([1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]{1,15})(?:\.([0-9]{1,2}))?")

Handler = Callable[[Sequence[Any], list[CheckedRow]], None]


def _fresh(value: Any) -> Any:
    """A value remembered for a column, as the row's own (lists and dicts are copied)."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


class ChunkChecker:
    """Checks chunks of rows for one :class:`~bulkio.validate.Validator`, column by column."""

    def __init__(self, validator: Validator) -> None:
        self.v = validator
        self.handlers: list[tuple[int, Handler]] = []
        for entry in validator._plan:
            self.handlers.append((entry[0], self._handler(entry)))

    # --- the chunk ---------------------------------------------------------------------------
    def check(self, source_rows: Sequence[Any]) -> list[CheckedRow]:
        v = self.v
        locate = v.locate
        outs: list[CheckedRow] = []
        lists: list[list[Any]] = []
        for r in source_rows:
            out = CheckedRow(r.number)
            out._cells, out._locate = r.cells, locate
            outs.append(out)
            lists.append(r.cells)
        if not outs:
            return outs
        width = len(lists[0])
        if all(len(c) == width for c in lists):
            columns = list(zip(*lists, strict=True))
        else:
            columns = list(zip_longest(*lists))
            width = len(columns)
        blank = (None,) * len(outs)
        for index, handler in self.handlers:
            handler(columns[index] if index < width else blank, outs)
        if v._compound:
            for out in outs:
                v.clear_compound(out)
        return outs

    # --- one handler per column --------------------------------------------------------------
    def _handler(self, entry: PlanEntry) -> Handler:
        kind, target, read = entry[4], entry[6], entry[7]
        if kind == _ID:
            return self._ids(entry)
        if kind == _REL:
            return self._references(entry)
        if kind == _SELECT:
            return self._as_text(entry)
        if kind == _MULTI:
            return self._labels(entry)
        if kind == _NUMBER:
            return self._numbers(entry)
        if kind == _FIELD and V._parser_for(target, None) is _parse_text:
            return self._as_text(entry)
        if kind == _PART:
            return self._per_cell((*entry[:7], self._memo_read(read)))
        return self._parsed(entry)

    def _per_cell(self, entry: PlanEntry) -> Handler:
        cell = self.v.cell

        def run(column: Sequence[Any], outs: list[CheckedRow]) -> None:
            for out, raw in zip(outs, column, strict=True):
                if raw is not None:
                    cell(out, entry, raw, defer=True, eager=False)

        return run

    def _memo_read(self, read: Callable[[Any], V.Parsed] | None) -> Callable[[Any], V.Parsed] | None:
        if read is None:
            return None
        memo: dict[str, V.Parsed] = {}

        def remembered(raw: Any) -> V.Parsed:
            if raw.__class__ is not str:
                return read(raw)
            hit = memo.get(raw)
            if hit is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                hit = memo[raw] = read(raw)
            return hit

        return remembered

    def _ids(self, entry: PlanEntry) -> Handler:
        cell = self.v.cell

        def run(column: Sequence[Any], outs: list[CheckedRow]) -> None:
            for out, raw in zip(outs, column, strict=True):
                if raw is None:
                    continue
                if raw.__class__ is str:
                    s = raw.strip()
                    if s:
                        out.record_id = s
                else:
                    cell(out, entry, raw, defer=True, eager=False)

        return run

    def _as_text(self, entry: PlanEntry) -> Handler:
        """TEXT-like fields and single-select labels: the stripped cell is the value."""
        key = entry[3]
        cell = self.v.cell

        def run(column: Sequence[Any], outs: list[CheckedRow]) -> None:
            for out, raw in zip(outs, column, strict=True):
                if raw is None:
                    continue
                if raw.__class__ is str:
                    s = raw.strip()
                    if not s:
                        continue
                    if s[0] == "#" and s.lower() == CLEAR_TOKEN:
                        out.values[key] = CLEAR
                    else:
                        out.values[key] = s
                else:
                    cell(out, entry, raw, defer=True, eager=False)

        return run

    def _labels(self, entry: PlanEntry) -> Handler:
        """MULTI_SELECT labels: each distinct cell split once."""
        _, letter, header, key, _, col, _, _ = entry
        v, cell = self.v, self.v.cell
        memo: dict[str, list[str]] = {}

        def run(column: Sequence[Any], outs: list[CheckedRow]) -> None:
            for out, raw in zip(outs, column, strict=True):
                if raw is None:
                    continue
                if raw.__class__ is not str:
                    cell(out, entry, raw, defer=True, eager=False)
                    continue
                s = raw.strip()
                if not s:
                    continue
                if s[0] == "#" and s.lower() == CLEAR_TOKEN:
                    out.values[key] = CLEAR
                    continue
                labels = memo.get(s)
                if labels is None:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    labels = memo[s] = split_multi(s)
                if labels:
                    out.values[key] = list(labels)
                else:
                    out.issues.append(
                        v._issue(
                            out.row,
                            letter,
                            header,
                            key,
                            "invalid_type",
                            _only_separators(s, "option"),
                            raw,
                            col.hint,
                        )
                    )

        return run

    def _references(self, entry: PlanEntry) -> Handler:
        """Relationship references: each distinct cell split (and counted) once."""
        _, letter, header, key, _, col, target, _ = entry
        v, cell = self.v, self.v.cell
        memo: dict[str, list[str]] = {}

        def run(column: Sequence[Any], outs: list[CheckedRow]) -> None:
            for out, raw in zip(outs, column, strict=True):
                if raw is None:
                    continue
                if raw.__class__ is not str:
                    cell(out, entry, raw, defer=True, eager=False)
                    continue
                s = raw.strip()
                if not s:
                    continue
                if s[0] == "#" and s.lower() == CLEAR_TOKEN:
                    out.values[key] = CLEAR
                    continue
                refs = memo.get(s)
                if refs is None:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    refs = memo[s] = split_multi(s)
                if refs and (len(refs) == 1 or target.has_many):
                    out.values[key] = list(refs)
                    continue
                message = (
                    _only_separators(s, f"{target.object_type} reference")
                    if not refs
                    else f"{target.label} takes one {target.object_type}, got {len(refs)} references."
                )
                out.issues.append(
                    v._issue(out.row, letter, header, key, "invalid_type", message, raw, col.hint)
                )

        return run

    def _parsed(self, entry: PlanEntry) -> Handler:
        """Any other field: each distinct cell read once by the value type's parser."""
        _, letter, header, key, _, col, _, read = entry
        assert read is not None
        v, cell = self.v, self.v.cell
        memo: dict[str, V.Parsed] = {}

        def run(column: Sequence[Any], outs: list[CheckedRow]) -> None:
            for out, raw in zip(outs, column, strict=True):
                if raw is None:
                    continue
                if raw.__class__ is not str:
                    cell(out, entry, raw, defer=True, eager=False)
                    continue
                s = raw.strip()
                if not s:
                    continue
                if s[0] == "#" and s.lower() == CLEAR_TOKEN:
                    out.values[key] = CLEAR
                    continue
                parsed = memo.get(raw)
                if parsed is None:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    parsed = memo[raw] = read(raw)
                if parsed.error_code:
                    out.issues.append(v._parse_issue(out.row, letter, header, key, parsed, raw, col.hint))
                    continue
                value = parsed.value
                if value is not BLANK:
                    if value is CLEAR:
                        out.values[key] = CLEAR
                    else:  # _fresh, without the call for the usual (immutable) value
                        out.values[key] = _fresh(value) if isinstance(value, (list, dict)) else value

        return run

    def _numbers(self, entry: PlanEntry) -> Handler:
        """NUMBER / CURRENCY: plain amounts by :data:`_AMOUNT`, the rest by the parser (once per
        distinct cell); decimal-mark evidence and fractions are noted as :meth:`Validator.cell`
        notes them."""
        _, letter, header, key, _, col, fdef, read = entry
        assert read is not None
        v, cell = self.v, self.v.cell
        nc = v.numbers[key]
        auto = nc.auto
        opts = v._options(key, header)
        # the shapes read here mean the same with a decimal point given or settled by the cell
        fast = (
            opts.locale is None
            and opts.decimal in (None, ".")
            and not (opts.percent and fdef.value_type == "NUMBER")
        )
        field_cur = (fdef.type_configuration.currency or "").upper() or None
        dollar = fdef.value_type == "CURRENCY" and (field_cur is None or field_cur in _CURRENCY_SYMBOLS["$"])
        observe, fractions = v.observe, nc.fractions
        memo: dict[str, tuple[str | None, V.Parsed | None]] = {}
        amount = _AMOUNT.fullmatch
        # cell → (value, shows a decimal point) for the amounts _AMOUNT reads: a column of a few
        # distinct values (a probability) reads each once; one of all-different amounts stops
        # remembering after a chunk that found almost nothing again
        plain: dict[str, tuple[Any, bool]] = {}
        remember = [True]

        def run(column: Sequence[Any], outs: list[CheckedRow]) -> None:
            pending, waiting = v._pending, v._fractions  # settle() starts new lists: take them now
            keep = remember[0]
            hits = misses = 0
            for out, raw in zip(outs, column, strict=True):
                if raw is None:
                    continue
                if raw.__class__ is not str:
                    cell(out, entry, raw, defer=True, eager=False)
                    continue
                known = plain.get(raw) if keep else None
                if known is not None:  # read by _AMOUNT before: no space to strip, no #clear
                    hits += 1
                    value: Any = known[0]
                    out.values[key] = value
                    if auto and nc.point is None and known[1]:
                        nc.point = (out.row, raw)
                    if fractions:
                        if 1 < value <= 100:
                            if nc.pct is None:
                                nc.pct = (out.row, raw)
                        elif value > 100:
                            if nc.big is None:
                                nc.big = (out.row, raw)
                        elif 0 < value < 1:
                            waiting.append((out, key, nc, raw, value))
                    continue
                if fast:  # a cell the pattern reads has no space to strip and is no #clear
                    m = amount(raw)
                    if m is not None and (dollar or not m.group(1)):
                        _, whole, frac = m.groups()
                        commas = whole.count(",")
                        if commas != 1 or frac is not None:  # "1,234" fits both marks: the parser's
                            digits = whole.replace(",", "") if commas else whole
                            if len(digits) <= 15:
                                value = (
                                    int(digits)
                                    if frac is None or not frac.strip("0")
                                    else float(f"{digits}.{frac}")
                                )
                                out.values[key] = value
                                if keep:
                                    misses += 1
                                    if len(plain) >= MEMO_LIMIT:
                                        plain.clear()
                                    plain[raw] = (value, bool(commas) or frac is not None)
                                # what Validator.observe notes, for a plain non-negative amount
                                if auto and nc.point is None and (commas or frac is not None):
                                    nc.point = (out.row, raw)
                                if fractions:
                                    if 1 < value <= 100:
                                        if nc.pct is None:
                                            nc.pct = (out.row, raw)
                                    elif value > 100:
                                        if nc.big is None:
                                            nc.big = (out.row, raw)
                                    elif 0 < value < 1:
                                        waiting.append((out, key, nc, raw, value))
                                continue
                s = raw.strip()
                if not s:
                    continue
                if s[0] == "#" and s.lower() == CLEAR_TOKEN:
                    out.values[key] = CLEAR
                    continue
                hit = memo.get(raw)
                if hit is None:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    ev = decimal_evidence(s) if auto else None
                    hit = memo[raw] = (ev, None if ev == "either" else read(raw))
                evidence, parsed = hit
                if parsed is None:  # fits both decimal marks: the column settles it (settle)
                    pending.append((out, letter, header, key, nc, s))
                    continue
                if parsed.error_code:
                    out.issues.append(v._parse_issue(out.row, letter, header, key, parsed, raw, col.hint))
                    continue
                value = parsed.value
                if value is BLANK:
                    continue
                out.values[key] = CLEAR if value is CLEAR else value
                if value is not CLEAR:
                    observe(out, key, nc, s, value, evidence, defer=True)
            if keep and misses > 8 * hits:
                remember[0] = False
                plain.clear()

        return run


__all__ = ["MEMO_LIMIT", "ChunkChecker"]
