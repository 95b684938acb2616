"""The run report and the compact per-row outcome store every run fills.

:class:`RunReport` (with :class:`Counts` and one :class:`RowReport` per row) is what an import
returns; the CLI, ``--format json`` and the results sheet are views of it. :class:`OutcomeStore`
keeps the outcomes of a run by row while it runs (a byte and a few pointers per row), so a
million-row run stays small; :func:`row_report` turns one stored outcome into a report row.

Imports point one way: the entry points (:mod:`bulkio.pipeline`, :mod:`bulkio.workbook`,
:mod:`bulkio.undo`) → the run phases (:mod:`bulkio.phases`) → this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from datetime import time as dt_time
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from .definitions import ObjectSchema
from .issues import Issue
from .operations import RowOutcome
from .vocabulary import SCHEMA_VERSION, OutcomeWord, outcome_word

#: The report lists every row up to this many; beyond, only rows with issues or failures.
MAX_REPORT_ROWS = 100_000

_CODES = {"created": 1, "updated": 2, "unchanged": 3, "failed": 4, "skipped": 5}
_NAMES = {v: k for k, v in _CODES.items()}
_SEEN = 255  # read, no outcome yet
_FAILED = _CODES["failed"]


class Counts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed + self.skipped


class RowReport(BaseModel):
    """One input row's outcome (for a dry run: what would happen, ``would create`` …; the words are
    those of :mod:`bulkio.vocabulary`). ``issues`` are :class:`~bulkio.issues.Issue` objects
    (``row.issues[0].code``); in JSON each is an object with the same attribute names."""

    row: int
    outcome: OutcomeWord
    record_id: str | None = None
    link: str | None = None
    key: str | None = None
    issues: list[Issue] = Field(default_factory=list)
    changes: dict[str, list[Any]] = Field(default_factory=dict)


class RunReport(BaseModel):
    """What an import did (or, with ``dry_run``, would do). ``counts`` are keyed by the outcomes of
    a run that writes (``counts.failed`` of a dry run counts the rows that would fail).

    >>> report.rows[0].outcome, report.rows[0].issues[0].code      # doctest: +SKIP
    ('would fail', 'invalid_email')
    """

    schema_version: int = SCHEMA_VERSION
    ok: bool
    object_type: str
    file: str | None = None
    sheet: str | None = None
    dry_run: bool = False
    run_id: str | None = None
    counts: Counts = Field(default_factory=Counts)
    duration_s: float = 0.0
    rows_per_s: float = 0.0
    rate_limited: int = 0
    retries: int = 0
    requests: int = 0
    rows: list[RowReport] = Field(default_factory=list)
    rows_truncated: bool = False
    file_issues: list[Issue] = Field(default_factory=list)
    #: values that matched no option, record or value-map entry, grouped by column and value
    #: (see :func:`bulkio.unresolved.group_unresolved`)
    unresolved: list[dict[str, Any]] = Field(default_factory=list)
    results_path: str | None = None
    #: the rows that failed (or were skipped), to fix and import again (``errors_path=``)
    errors_path: str | None = None
    _schema: ObjectSchema | None = PrivateAttr(default=None)

    def changes_text(self, row: RowReport) -> str:
        """``$stage: Lead → Proposal; …`` with option labels (for printing a plan)."""
        from .results import changes_text

        return changes_text({k: (v[0], v[1]) for k, v in row.changes.items()}, self._schema)

    def issues(self) -> Iterator[Issue]:
        """File issues first, then row issues in row order."""
        yield from self.file_issues
        for r in self.rows:
            yield from r.issues

    def flatten(self, fields: list[str] | None = None) -> list[list[Any]]:
        """Every issue as a list of the given attributes (frictionless style), for tests:
        ``report.flatten(["row", "column", "code"])``."""
        names = fields or ["row", "column", "code"]
        return [[getattr(i, n) for n in names] for i in self.issues()]

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (docs/json.md): issues as objects, values as JSON (dates as
        ISO 8601 text; anything else unusual as its text)."""
        data: dict[str, Any] = json.loads(json.dumps(self.model_dump(), default=_json_value))
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date, dt_time)):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


class _Column:
    """One optional text per row (key, record id, link): a list indexed by row, created with the first
    value, so a column no row uses costs nothing and a used one a pointer per row (the strings are
    the planner's and the writer's, not copies)."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[str | None] | None = None

    def set(self, row: int, value: str | None) -> None:
        values = self.values
        if values is None:
            if value is None:
                return
            values = self.values = []
        n = len(values)
        if row >= n:
            if value is None:
                return
            values.extend([None] * (row + 1 - n))
        values[row] = value

    def get(self, row: int) -> str | None:
        values = self.values
        return values[row] if values is not None and row < len(values) else None


class OutcomeStore:
    """Outcomes by row, compact (a million-row run stays small): one byte per row for the outcome;
    key, record id and link in per-row :class:`_Column` lists (a pointer per row, once some row has
    one); issues, changes and attempts only for the rows that have them. No :class:`RowOutcome` is
    kept: :meth:`get` builds one.

    With ``report_limit`` (a run that writes: its results sheet has no Changes column), once more
    rows than that have an outcome the report lists only rows with issues or failures
    (:data:`MAX_REPORT_ROWS`), so changes are kept for those rows only."""

    def __init__(self, report_limit: int | None = None) -> None:
        self.codes = bytearray()
        self.keys, self.record_ids, self.links = _Column(), _Column(), _Column()
        self.issues: dict[int, list[Issue]] = {}
        self.changes: dict[int, dict[str, tuple[Any, Any]]] = {}
        self.attempts: dict[int, int] = {}
        self.stored = 0  # rows with an outcome
        self.report_limit = report_limit

    def _grow(self, row: int) -> None:
        if row >= len(self.codes):
            self.codes.extend(bytes(row + 1 - len(self.codes)))

    def seen(self, row: int) -> None:
        """A row was read (it will get an outcome, or ``not_written``)."""
        codes = self.codes
        n = len(codes)
        if row == n:  # the usual row: the next one
            codes.append(_SEEN)
            return
        if row > n:
            codes.extend(bytes(row + 1 - n))
        if not codes[row]:
            codes[row] = _SEEN

    def add(
        self,
        row: int,
        outcome: str,
        *,
        record_id: str | None = None,
        link: str | None = None,
        key: str | None = None,
        issues: list[Issue] | None = None,
        changes: dict[str, tuple[Any, Any]] | None = None,
        attempts: int = 0,
    ) -> None:
        """Store one row's outcome (the fields of a :class:`RowOutcome`, without building one)."""
        codes = self.codes
        if row >= len(codes):
            codes.extend(bytes(row + 1 - len(codes)))
        old = codes[row]
        code = codes[row] = _CODES[outcome]
        if old == 0 or old == _SEEN:
            self.stored += 1
        # a column no row has used yet needs no call for a row without a value
        if key is not None or self.keys.values is not None:
            self.keys.set(row, key)
        if record_id is not None or self.record_ids.values is not None:
            self.record_ids.set(row, record_id)
        if link is not None or self.links.values is not None:
            self.links.set(row, link)
        if issues:
            self.issues[row] = issues
        elif self.issues and row in self.issues:
            del self.issues[row]
        limit = self.report_limit
        if changes and limit is not None and self.stored > limit and not issues and code != _FAILED:
            changes = None  # a row the (truncated) report does not list
        if changes:
            self.changes[row] = changes
        elif self.changes and row in self.changes:
            del self.changes[row]
        if attempts:
            self.attempts[row] = attempts
        elif self.attempts and row in self.attempts:
            del self.attempts[row]
        if limit is not None and self.stored == limit + 1:
            self.changes = {r: c for r, c in self.changes.items() if r in self.issues or codes[r] == _FAILED}

    def put(self, outcome: RowOutcome) -> None:
        self.add(
            outcome.row,
            outcome.outcome,
            record_id=outcome.record_id,
            link=outcome.link,
            key=outcome.key,
            issues=outcome.issues,
            changes=outcome.changes,
            attempts=outcome.attempts,
        )

    def get(self, row: int) -> RowOutcome | None:
        code = self.codes[row] if row < len(self.codes) else 0
        if code == 0 or code == _SEEN:
            return None
        issues, changes = self.issues.get(row), self.changes.get(row)
        return RowOutcome(
            row=row,
            outcome=_NAMES[code],  # type: ignore[arg-type]
            record_id=self.record_ids.get(row),
            link=self.links.get(row),
            key=self.keys.get(row),
            issues=[] if issues is None else issues,
            changes={} if changes is None else changes,
            attempts=self.attempts.get(row, 0),
        )

    def missing(self, rows: Iterable[int]) -> list[int]:
        return [r for r in rows if r < len(self.codes) and self.codes[r] == _SEEN]

    def with_issues_or_failed(self) -> list[int]:
        """Rows with issues or a ``failed`` outcome, in order (what a truncated report lists)."""
        rows = set(self.issues)
        codes, i = self.codes, self.codes.find(_FAILED)
        while i >= 0:
            rows.add(i)
            i = codes.find(_FAILED, i + 1)
        return sorted(rows)

    def counts(self) -> Counts:
        c = Counts()
        for code, name in _NAMES.items():
            setattr(c, name, self.codes.count(code))
        return c

    def plain_codes(self) -> tuple[bytearray, dict[int, str]]:
        """Each row's outcome code where the row has nothing but its outcome and perhaps changes
        (no record id, link or issues), else 0; and the codes' outcome names. The results sheet's
        columns of such rows are their outcome's and the text of :attr:`changes`, with no
        :meth:`get` (a dry run's creates are such rows)."""
        codes = bytearray(self.codes)
        for row in self.issues:
            codes[row] = 0
        for column in (self.record_ids, self.links):
            for row, value in enumerate(column.values or ()):
                if value is not None:
                    codes[row] = 0
        return codes, dict(_NAMES)


#: Every field of a :class:`RowReport` is set: one shared set instead of one per row (a report
#: lists up to :data:`MAX_REPORT_ROWS` rows; this halves their memory).
_ROW_FIELDS = set(RowReport.model_fields)


def row_report(o: RowOutcome, dry_run: bool) -> RowReport:
    # the values already have the model's types: built without validating (same speed, no copies)
    return RowReport.model_construct(
        _ROW_FIELDS,
        row=o.row,
        outcome=outcome_word(o.outcome, dry_run=dry_run),
        record_id=o.record_id,
        link=o.link,
        key=o.key,
        issues=list(o.issues),
        changes={k: [old, new] for k, (old, new) in o.changes.items()},
    )


_set = object.__setattr__


def _constructed(values: dict[str, Any]) -> RowReport:
    """What ``RowReport.model_construct(_ROW_FIELDS, **values)`` builds when ``values`` holds every
    field: the instance state pydantic's model_construct sets, without its per-field loop (a
    report lists up to :data:`MAX_REPORT_ROWS` rows). :func:`_fast_construct_works` checks it
    against model_construct once; :func:`row_reports` falls back to model_construct otherwise."""
    m = RowReport.__new__(RowReport)
    _set(m, "__dict__", values)
    _set(m, "__pydantic_fields_set__", _ROW_FIELDS)
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


def _fast_construct_works() -> bool:
    values: dict[str, Any] = {
        "row": 2,
        "outcome": "created",
        "record_id": "r",
        "link": None,
        "key": "k",
        "issues": [],
        "changes": {"a": [None, 1]},
    }
    slow = RowReport.model_construct(_ROW_FIELDS, **values)
    try:
        fast = _constructed(dict(values))
        return bool(
            list(values) == list(RowReport.model_fields)
            and fast == slow
            and fast.__dict__ == slow.__dict__
            and fast.model_fields_set == slow.model_fields_set
            and fast.__pydantic_extra__ == slow.__pydantic_extra__
            and fast.__pydantic_private__ == slow.__pydantic_private__
            and not RowReport.__pydantic_post_init__
            and fast.model_dump() == slow.model_dump()
        )
    except Exception:  # noqa: BLE001 - another pydantic: use model_construct
        return False


_FAST_CONSTRUCT = _fast_construct_works()


def row_reports(store: OutcomeStore, rows: Iterable[int], dry_run: bool) -> list[RowReport]:
    """:func:`row_report` of each of ``rows`` that has an outcome, in order, read from the store
    directly (no :class:`RowOutcome` in between: the report of a 100,000-row run lists them all)."""
    codes, n = store.codes, len(store.codes)
    words = {code: outcome_word(name, dry_run=dry_run) for code, name in _NAMES.items()}  # type: ignore[arg-type]
    keys, ids, links = store.keys.values or [], store.record_ids.values or [], store.links.values or []
    nk, ni, nl = len(keys), len(ids), len(links)
    issues, changes = store.issues, store.changes
    build = _constructed if _FAST_CONSTRUCT else (lambda v: RowReport.model_construct(_ROW_FIELDS, **v))
    out: list[RowReport] = []
    for r in rows:
        code = codes[r] if r < n else 0
        if code == 0 or code == _SEEN:
            continue
        found, changed = issues.get(r), changes.get(r)
        out.append(
            build(
                {
                    "row": r,
                    "outcome": words[code],
                    "record_id": ids[r] if r < ni else None,
                    "link": links[r] if r < nl else None,
                    "key": keys[r] if r < nk else None,
                    "issues": list(found) if found else [],
                    "changes": {k: [old, new] for k, (old, new) in changed.items()} if changed else {},
                }
            )
        )
    return out
