"""The importer end to end: read → map → validate → resolve → plan → write → results.

:func:`import_file` (a CSV/XLSX file) and :func:`import_frame` (a pandas DataFrame) return a
:class:`RunReport`; the CLI and the results sheet are views of it.

Streaming: rows flow through in chunks of :data:`CHUNK` (lookups are batched per chunk); each row
exists as one :class:`~bulkio.validate.CheckedRow` until it is planned, and raw cells are dropped after
validation. Operations are planned lazily while the writer consumes them, so a large file never sits
in memory. Outcomes are stored compactly (:class:`OutcomeStore`: a byte and a key pointer per plain
row); a dry run keeps field-level changes for the first :data:`KEEP_CHANGES` rows only, a run that
writes for the rows its report lists.

Resume (``resume=True``): the ledger's latest unfinished run for the same file, object and target
is continued. A changed file is refused (:class:`~bulkio.errors.LedgerError`). Rows with a recorded
outcome keep it; pending intents are re-sent unchanged (same body, same Idempotency-Key, so a request
that reached the server before the crash is answered from the idempotency cache); the rest are
planned and written.

A stopping error during the write (401/403, retries exhausted, …) is raised after the results sheet
was written with what is known (rows without an outcome say ``not_written``); the ledger keeps the
run resumable. Ctrl-C (``KeyboardInterrupt``) during the write is handled the same way: no new
request starts, those in flight finish and are recorded, the results sheet is written, and the
interrupt is re-raised (a second Ctrl-C while the results sheet is written skips it, leaving any
previous one intact, and says so in a note). A ``stop`` event ends the run early the same way,
without raising.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, PrivateAttr

from .crm.base import AdoptsLostCreates, crm_name
from .definitions import NOTE_DEFINITIONS, ObjectSchema
from .errors import ConfigError, InputFileError, LedgerError
from .events import EventHandler, Message, PhaseFinished, PhaseStarted, Progress
from .gctune import fewer_collections
from .issues import Issue
from .operations import Operation, RowOutcome
from .plan import Planner
from .resolve import References, Resolver
from .validate import Validator
from .vocabulary import SCHEMA_VERSION, OutcomeWord, outcome_word

if TYPE_CHECKING:
    import pandas as pd

    from .protocols import CrmClient
    from .results import Lookup

#: Pending intents younger than this are replayed with their Idempotency-Key on resume; the API
#: keeps keys for 24 h, so older ones are planned again instead (see ``_run_import``).
REPLAY_WINDOW = timedelta(hours=23)
#: Lists lag recent writes (API-FACTS §6; how much is not documented). An import whose references
#: point at a type bulkio created records of less than this ago checks that lists show the newest
#: of them (by its key) before resolving, waiting up to this long after that write.
LIST_SETTLE = timedelta(seconds=30)
#: ... and when the newest record cannot be looked up by its key (its key field holds another
#: value), how long after that write lists are assumed to have caught up.
LIST_SETTLE_GUESS = timedelta(seconds=3)
#: Rows planned together (reference and key lookups are batched per chunk).
CHUNK = 250
#: A dry run keeps field-level changes for this many rows (the rest are counted).
KEEP_CHANGES = 5000
#: The report lists every row up to this many; beyond, only rows with issues or failures.
MAX_REPORT_ROWS = 100_000

_CODES = {"created": 1, "updated": 2, "unchanged": 3, "failed": 4, "skipped": 5}
_NAMES = {v: k for k, v in _CODES.items()}
_SEEN = 255  # read, no outcome yet
_FAILED = _CODES["failed"]
_WOULD = {"create": "created", "update": "updated", "unchanged": "unchanged"}


# --- the report ----------------------------------------------------------------------------------


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
        self._grow(row)
        if not self.codes[row]:
            self.codes[row] = _SEEN

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
        self._grow(row)
        codes = self.codes
        old = codes[row]
        code = codes[row] = _CODES[outcome]
        if old == 0 or old == _SEEN:
            self.stored += 1
        self.keys.set(row, key)
        self.record_ids.set(row, record_id)
        self.links.set(row, link)
        if issues:
            self.issues[row] = issues
        elif row in self.issues:
            del self.issues[row]
        limit = self.report_limit
        if changes and limit is not None and self.stored > limit and not issues and code != _FAILED:
            changes = None  # a row the (truncated) report does not list
        if changes:
            self.changes[row] = changes
        elif row in self.changes:
            del self.changes[row]
        if attempts:
            self.attempts[row] = attempts
        elif row in self.attempts:
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


#: Every field of a :class:`RowReport` is set: one shared set instead of one per row (a report
#: lists up to :data:`MAX_REPORT_ROWS` rows; this halves their memory).
_ROW_FIELDS = set(RowReport.model_fields)


def _row_report(o: RowOutcome, dry_run: bool) -> RowReport:
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


# --- sources ---------------------------------------------------------------------------------


def file_fingerprint(path: str | Path) -> str:
    """sha256 of the file's bytes (streamed): resume refuses a file that changed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


class _FrameRow:
    __slots__ = ("cells", "number")

    def __init__(self, number: int, cells: list[Any]) -> None:
        self.number, self.cells = number, cells


def _frame_cell(v: Any) -> Any:
    """A DataFrame cell as the reader would give it: None for missing, Python scalars, stripped
    text, naive datetimes."""
    try:
        import pandas as pd

        if v is None or (not isinstance(v, (list, dict, str)) and pd.isna(v)):
            return None
        if isinstance(v, pd.Timestamp):
            return v.to_pydatetime()
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def _frame_rows(df: Any) -> Iterator[_FrameRow]:
    for i, values in enumerate(df.itertuples(index=False, name=None)):
        cells = [_frame_cell(v) for v in values]
        if any(c is not None for c in cells):
            yield _FrameRow(i + 2, cells)


# --- the run ---------------------------------------------------------------------------------


def _schema(client: CrmClient, object_type: str) -> ObjectSchema:
    if object_type == "note":
        return ObjectSchema.from_api(NOTE_DEFINITIONS, object_type="note")
    schema: ObjectSchema = client.schema(object_type)
    return schema


def _load_mapping(mapping: Any) -> dict[str, str | None] | None:
    if mapping is None or isinstance(mapping, dict):
        return mapping
    from . import mapping as M

    return M.load_mapping_file(mapping)


def _mapping_spec(
    mapping: Any,
    profile: str | None,
    headers: list[str],
    object_type: str,
    emit: EventHandler,
    file: str | None,
) -> tuple[Any, bool]:
    """The mapping file to use and whether it is a profile: ``mapping`` when given (a path, dict or
    MappingFile), else the ``profile`` named (``--from hubspot``), else the one the headers read
    like (unless ``profile`` is ``"none"``)."""
    from . import mapfile as MF
    from . import profiles as P

    if mapping is not None:
        if profile not in (None, "auto", "none"):
            raise ConfigError(
                "use either a mapping file or --from, not both (a profile is a mapping file: "
                "write it out with `bulkio map --from ...` and edit it)"
            )
        return MF.as_mapping(mapping), False
    if profile in (None, "auto"):
        found = P.detect_profile(headers, object_type)
        if found is None:
            others = P.detect_any(headers)
            if others:
                vendor, obj, label = others[0]
                emit(
                    Message(
                        f"{file or 'the data'} reads like {label}, which is imported as {obj}, "
                        f"not {object_type}"
                    )
                )
            return None, False
        vendor, spec = found
        label = spec.detect.label if spec.detect else vendor
        emit(
            Message(
                f"{file or 'the data'} reads like {label}: using the {P.NAMES[vendor]} profile "
                f"(--from {vendor}; `bulkio map --from {vendor} {object_type}` writes it out to edit)"
            )
        )
        return spec, True
    if profile == "none":
        return None, False
    return P.load_profile(profile, object_type, headers), True


def _peek(rows: Iterator[Any], n: int) -> tuple[list[Any], Iterator[Any]]:
    """The first ``n`` rows, and an iterator over all of them (the first ones again)."""
    import itertools

    head = list(itertools.islice(rows, n))
    return head, itertools.chain(head, rows)


def _parse_options(
    date_order: str | None, tz: str, locale: str | None = None, phone_region: str | None = None
) -> Any:
    from . import values as V

    return V.ParseOptions(
        date_order=date_order,  # type: ignore[arg-type]
        tz=tz,
        locale=locale,
        phone_region=phone_region,
    )


def _percent_columns(names: Any, header_map: Any, schema: ObjectSchema, base: Any) -> dict[str, Any]:
    """``--percent`` names (a header, field label or key) → per-column options reading fractions."""
    from dataclasses import replace

    out: dict[str, Any] = {}
    for name in names or ():
        want = str(name).strip().casefold()
        hits = {
            key
            for mc in header_map.columns
            if mc.column is not None
            and (key := mc.column.field_key or mc.column.key) in schema.fields
            and want in (mc.header.strip().casefold(), key.casefold(), schema.fields[key].label.casefold())
        }
        numbers = {k for k in hits if schema.fields[k].value_type == "NUMBER"}
        if not numbers:
            raise ConfigError(
                f"--percent {name!r}: no NUMBER column of this file has that header, label or key"
                + (f" ({', '.join(sorted(hits))} is not a NUMBER field)" if hits else "")
            )
        for key in numbers:
            out[key] = replace(base, percent=True)
    return out


class _Run:
    """State of one import run (kept together so :func:`import_file` reads as the steps)."""

    def __init__(
        self,
        client: CrmClient,
        object_type: str,
        *,
        key_field: str,
        dry_run: bool,
        concurrency: int,
        on_event: EventHandler | None,
        stop: threading.Event | None,
    ) -> None:
        self.client, self.object_type, self.key_field = client, object_type, key_field
        self.dry_run, self.concurrency, self.stop = dry_run, concurrency, stop
        self.emit: EventHandler = on_event or (lambda e: None)
        # a run that writes shows changes only in the report, which lists every row up to
        # MAX_REPORT_ROWS; a dry run's results sheet shows them too (Changes column)
        self.store = OutcomeStore(report_limit=None if dry_run else MAX_REPORT_ROWS)
        self.started = time.monotonic()
        stats = getattr(client, "stats", None)
        self.stats0 = stats
        self.kept_changes = 0

    def record(self, op: Operation, planner: Planner) -> None:
        """Store a dry run's outcome: what the operation would do."""
        word = _WOULD.get(op.action)
        if word is None:
            word = "failed" if any(i.severity == "error" for i in op.issues) else "skipped"
        changes: dict[str, tuple[Any, Any]] | None = op.changes
        if changes:
            self.kept_changes += 1
            if self.kept_changes > KEEP_CHANGES:
                changes = None
            elif self.kept_changes == KEEP_CHANGES:
                planner.keep_changes = False  # the rest are not shown: don't compute them
                self.emit(
                    Message(
                        f"dry run: field-level changes are listed for the first "
                        f"{KEEP_CHANGES:,} changed rows; later rows show their outcome only"
                    )
                )
        record_id = op.record_id
        self.store.add(
            op.row,
            word,
            record_id=record_id,
            link=planner.links.get(record_id) if record_id else None,
            key=op.key,
            issues=op.issues,
            changes=changes,
        )


def _operations(
    run: _Run,
    rows: Iterator[Any],
    validator: Validator,
    resolver: Resolver,
    planner: Planner,
    *,
    skip_rows: set[int],
    first: list[Operation],
    reader_issues: list[Issue] | None = None,
    orphans: list[Issue] | None = None,
    imported: set[str] | None = None,
) -> Iterator[Operation]:
    """Plan lazily: validate → resolve → plan per chunk; yields operations in input order.

    ``reader_issues`` is the reader's live issue list: issues located on a row are added to that
    row (an error there skips the row); those of rows never yielded go to ``orphans``. A reader
    error about a cell's value (a formula without a saved value, ``#N/A``) in a column that is not
    ``imported`` (letters) only warns: that cell is never written."""
    yield from first
    chunk: list[Any] = []  # source rows, validated together when the chunk is full
    waiting: list[Issue] = []
    taken = 0

    def row_issues(number: int) -> list[Issue]:
        nonlocal taken
        if reader_issues is None or (taken == len(reader_issues) and not waiting):
            return []  # nothing new from the reader, nothing held back: the usual row
        waiting.extend(_demoted(i, imported) for i in reader_issues[taken:] if i.row is not None)
        taken = len(reader_issues)
        mine = [i for i in waiting if i.row == number]
        if orphans is not None:
            orphans.extend(i for i in waiting if i.row is not None and i.row < number)
        waiting[:] = [i for i in waiting if i.row is not None and i.row > number]
        return mine

    def flush() -> list[Operation]:
        checked = validator.check_chunk(chunk)  # column by column (bulkio.columnar)
        for row, found in zip(checked, chunk_found, strict=True):
            if found:
                row.issues[:0] = found
        validator.settle()  # numbers that fit both decimal marks, fractions: judged per chunk
        resolver.resolve(checked)
        ops = planner.plan(checked)
        run.emit(Progress("plan", len(chunk)))
        chunk.clear()
        chunk_found.clear()
        return ops

    chunk_found: list[list[Issue]] = []
    read = 0  # rows read since the last "read" progress event (one event per chunk, not per row)
    for srow in rows:
        run.store.seen(srow.number)
        read += 1
        found = row_issues(srow.number)
        if srow.number not in skip_rows:
            chunk.append(srow)
            chunk_found.append(found)
        if read >= CHUNK or len(chunk) >= CHUNK:
            run.emit(Progress("read", read))
            read = 0
            if len(chunk) >= CHUNK:
                yield from flush()
        if run.stop is not None and run.stop.is_set():
            break
    if read:
        run.emit(Progress("read", read))
    if chunk:
        yield from flush()
    row_issues(1 << 62)  # what is left belongs to rows that were never yielded
    run.emit(PhaseFinished("read"))
    run.emit(PhaseFinished("plan"))


_CELL_VALUE_CODES = frozenset({"formula_without_value", "cell_error"})


def _demoted(issue: Issue, imported: set[str] | None) -> Issue:
    if imported is None or issue.code not in _CELL_VALUE_CODES or issue.column in imported:
        return issue
    return dataclasses.replace(
        issue, severity="warning", message=issue.message + " (the column is not imported)"
    )


def _key_issues(
    schema: ObjectSchema, key_field: str, *, file: str | None, sheet: str | None, crm: str = "lightfield"
) -> list[Issue]:
    """An unknown key field stops the run (it would match nothing and create every row again); a
    key field the CRM does not keep unique is a warning (a shared value fails as ambiguous_match).
    Close keeps no field unique, so there its key field is unique by convention, without a warning."""
    fdef = schema.fields.get(key_field)
    if fdef is None:
        if key_field == "external_id":  # objects without the custom field: rows match by Record ID
            return []
        raise ConfigError(
            f"{schema.object_type} has no field '{key_field}' to use as the key; "
            f"see: bulkio definitions {schema.object_type}"
        )
    if fdef.unique or crm != "lightfield":
        return []
    return [
        Issue(
            "key_not_unique",
            f"the key field {fdef.label} ({key_field}) is not unique in "
            f"Lightfield: a value shared by two records fails as ambiguous_match, and nothing stops "
            f"a duplicate being created elsewhere; prefer a unique field",
            file=file,
            sheet=sheet,
            field=key_field,
            expected="a unique field",
            severity="warning",
        )
    ]


#: Options that change what a run writes: a resumed run must use the same ones. Each maps to how
#: the message names it.
WRITTEN_OPTIONS = {
    "key_field": "--key",
    "sheet": "--sheet",
    "header_row": "--header-row",
    "date_order": "--date-order",
    "tz": "--tz",
    "encoding": "--encoding",
    "delimiter": "--delimiter",
    "profile": "--from",
    "locale": "--locale",
    "phone_region": "--phone-region",
    "percent": "--percent",
    "match": "--match",
}


def run_fingerprint(object_type: str, file_fingerprint: str | None, options: dict[str, Any]) -> str:
    """What a run writes, as one hash: the object type, the input file's content, the mapping's
    content and every option in :data:`WRITTEN_OPTIONS` (``options`` holds ``mapping_sha`` too).
    A run is found for ``--resume`` by this, wherever the file is by then."""
    data = {
        "object": object_type,
        "file": file_fingerprint,
        "mapping": options.get("mapping_sha"),
        **{k: options.get(k) for k in WRITTEN_OPTIONS},
    }
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def mapping_fingerprint(mapping: Any) -> str | None:
    """The mapping's content (a file's bytes, or a dict as canonical JSON), so a resume notices an
    edited mapping file, not only a renamed one."""
    if mapping is None:
        return None
    if hasattr(mapping, "model_dump"):  # a MappingFile built in code (bulkio ui, a script): its content
        mapping = mapping.model_dump(mode="json", exclude_none=True)
    if isinstance(mapping, dict):
        return (
            "sha256:" + hashlib.sha256(json.dumps(mapping, sort_keys=True, default=str).encode()).hexdigest()
        )
    try:
        return file_fingerprint(mapping)
    except OSError:
        return f"path:{mapping}"


def _target(client: Any) -> str:
    target = getattr(client, "target", None)
    return target if isinstance(target, str) else f"{client.base_url}#{client.key_fingerprint}"


def _find_run_to_resume(
    ledger: Any,
    run: _Run,
    target: str,
    file: str | None,
    fingerprint: str | None,
    fingerprint_now: str | None,
    options: dict[str, Any],
) -> Any:
    """The unfinished run ``--resume`` continues: the latest with the same run fingerprint (also
    when the file moved). None when there is none. When an unfinished run of this file exists
    that differs in the file's content, the mapping or an option, resuming it with this input
    would write other values under its keys: :class:`LedgerError` says what differs."""
    found = None
    if fingerprint_now is not None:
        found = ledger.find_run(
            object_type=run.object_type, target=target, run_fingerprint=fingerprint_now, unfinished=True
        )
    if found is not None:
        return found
    near = None
    if fingerprint:
        near = ledger.find_run(
            object_type=run.object_type, target=target, input_fingerprint=fingerprint, unfinished=True
        )
    if near is None and file is not None:
        near = ledger.find_run(
            object_type=run.object_type, target=target, input_path=str(Path(file).resolve()), unfinished=True
        )
    if near is None:
        return None
    if near.input_fingerprint != fingerprint:
        raise LedgerError(
            f"{file} changed since run {near.run_id} started (fingerprint "
            f"{near.input_fingerprint[:19]}…, now {str(fingerprint)[:19]}…); re-run without "
            "--resume to start a new import"
        )
    then, now = near.options, options
    legacy = near.run_fingerprint is None  # written by an older bulkio: compare what it stored
    mapping_key = "mapping" if legacy else "mapping_sha"
    if then.get(mapping_key) != now.get(mapping_key):
        was = then.get("mapping") or "no mapping"
        is_ = now.get("mapping") or "no mapping"
        what = (
            f"the mapping file {is_} changed since run {near.run_id} started"
            if was == is_
            else f"run {near.run_id} used {was}, this one {is_}"
        )
        raise LedgerError(
            f"Cannot resume {file}: {what}, so rows would land in other fields. Resume with the "
            "mapping the run started with, or re-run without --resume to start a new import."
        )
    for key, flag in WRITTEN_OPTIONS.items():
        if (key in then or not legacy) and then.get(key) != now.get(key):
            raise LedgerError(
                f"Cannot resume {file}: run {near.run_id} used {flag} {then.get(key)!r}, this one "
                f"{now.get(key)!r}. Resume with the same options, or re-run without --resume to start "
                "a new import."
            )
    return near


def _settle_references(ledger: Any, run: _Run, target: str, schema: ObjectSchema, header_map: Any) -> None:
    """Wait out list lag for the object types this file refers to when bulkio created records of
    them moments ago (accounts imported, then contacts naming them): references resolve through
    lists. The newest such record is looked up by its key until a list shows it (no wait at all
    when lists keep up), for at most :data:`LIST_SETTLE` after it was written; when a fresh
    retrieve does not show that key on it (a list could never find it so), until
    :data:`LIST_SETTLE_GUESS` after that write."""
    from .errors import ApiError

    referred = set()
    for mc in getattr(header_map, "columns", []) or []:
        col = mc.column
        rel = schema.relationships.get((col.field_key or col.key) if col is not None else "")
        if rel is not None:
            referred.add(rel.object_type)
    for otype in sorted(referred):
        last = ledger.last_created(target=target, object_type=otype)
        if last is None:
            continue
        key_field, key, record_id, written = last
        deadline = written + LIST_SETTLE
        if datetime.now(UTC) >= deadline:
            continue
        try:
            record = run.client.retrieve(otype, record_id)
        except ApiError as exc:
            if exc.status in (400, 404):
                continue
            raise
        value = ((record.get("fields") or {}).get(key_field) or {}).get("value")
        probe = str(value).strip() == key  # else lists cannot find it by that key: wait a while
        delay, told = 0.2, False
        while datetime.now(UTC) < (deadline if probe else written + LIST_SETTLE_GUESS):
            if probe:
                try:
                    page = run.client.list_page(
                        otype, offset=0, limit=1, filters={f"{key_field}[equal]": key}
                    )
                except ApiError as exc:
                    if exc.status not in (400, 404):
                        raise
                    probe = False  # that key cannot be looked up so
                    continue
                if page.get("data"):
                    break
            if not told:
                told = True
                run.emit(Message(f"waiting for lists to show the {otype} records written moments ago"))
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)


def _refuse_keyless_rerun(ledger: Any, run: _Run, target: str, file: str | None, fingerprint: str) -> None:
    """A file imported before whose rows had no key (tasks, notes, rows with a blank key) would
    create those rows a second time: refuse, unless ``allow_duplicates``."""
    prior = ledger.find_run(object_type=run.object_type, target=target, input_fingerprint=fingerprint)
    if prior is None:
        return
    keyless = ledger.keyless_creates(prior.run_id)
    if not keyless:
        return
    when = f"finished {prior.finished_at:%Y-%m-%d %H:%M} UTC" if prior.finished_at else "not finished"
    how = (
        "Pass --allow-duplicates (allow_duplicates=True) to create them again anyway."
        if prior.finished_at
        else "Re-run with --resume to continue that run, or pass --allow-duplicates "
        "(allow_duplicates=True) to start a new one that creates them again."
    )
    raise ConfigError(
        f"{file or 'This input'} was imported before (run {prior.run_id}, {when}): {keyless} of its "
        f"rows have no key and were created, so importing it again would create every one of them "
        f"again. {how}"
    )


def _run_import(
    run: _Run,
    *,
    source_rows: Iterator[Any],
    headers: list[str],
    header_row: int,
    file: str | None,
    sheet: str | None,
    file_issues: list[Issue],
    mapping: Any,
    date_order: str | None,
    tz: str,
    ledger: Any,
    ledger_input: str | None,
    fingerprint: str | None,
    resume: bool,
    options: dict[str, Any],
    write_results: Callable[[Lookup, ObjectSchema], str | None],
    expected_rows: int = 0,
    profile: str | None = None,
    locale: str | None = None,
    phone_region: str | None = None,
    percent: Any = (),
    match: str | None = None,
    run_fingerprint: str | None = None,
    allow_duplicates: bool = False,
) -> RunReport:
    from . import mapfile as MF
    from . import mapping as M
    from .matching import check_match, match_field
    from .transforms import compile_mapping

    client = run.client
    schema = _schema(client, run.object_type)
    if profile in (None, "auto") and crm_name(client) != "lightfield":
        profile = "none"  # the shipped profiles map other CRMs' exports onto Lightfield's fields
    spec, from_profile = _mapping_spec(mapping, profile, headers, run.object_type, run.emit, file)
    if spec is not None:
        if spec.key and run.key_field == "external_id":
            run.key_field = spec.key
        date_order = date_order or spec.options.date_order
        if spec.options.tz and tz == "UTC":
            tz = spec.options.tz
        locale = locale or spec.options.locale  # a mapping file or profile may name them
        phone_region = phone_region or spec.options.phone_region
        MF.check_mapping(spec, schema, keys=M.importable_keys(schema, run.key_field))
    header_map = M.map_headers(
        headers,
        schema,
        mapping=spec.targets() if spec is not None else None,
        key_field=run.key_field,
        file=file,
        sheet=sheet,
        header_row=header_row,
        warn_unused=not from_profile,
    )
    sample, source_rows = _peek(source_rows, M.ID_SAMPLE)
    M.check_record_id_column(
        header_map, [r.cells for r in sample], run.object_type, file=file, sheet=sheet, header_row=header_row
    )
    if spec is not None:
        transformer = compile_mapping(spec, header_map, schema, file=file, sheet=sheet)
        if transformer.active:
            source_rows = transformer.rows(source_rows, file_issues)
    # The reader's issues with a row number (ragged_row, cell_too_large, formula_without_value) belong to
    # that row: they are attached while rows stream (the list keeps growing), never fatal for the file.
    reader_issues = file_issues
    orphans: list[Issue] = []
    file_issues = [
        *(i for i in reader_issues if i.row is None),
        *header_map.issues,
        *_key_issues(schema, run.key_field, file=file, sheet=sheet, crm=crm_name(client)),
    ]
    fatal = [i for i in file_issues if i.severity == "error"]
    if fatal:
        raise InputFileError("; ".join(str(i) for i in fatal), path=file)
    # options that cannot work stop the run before it starts (nothing is recorded or written)
    parse_options = _parse_options(date_order, tz, locale, phone_region)
    column_options = _percent_columns(percent, header_map, schema, parse_options)
    if match is not None:
        match = check_match(schema, match)
        mfield = match_field(match)
        if not any(
            mc.column is not None and (mc.column.field_key or mc.column.key) == mfield
            for mc in header_map.columns
        ):
            raise ConfigError(
                f"--match {match} compares {schema.fields[mfield].label} ({mfield}), but the file has "
                "no column for it"
            )
    # the ledger's target: a backend may name itself (an embedded sandbox: by its database)
    target = _target(client)
    if isinstance(client, AdoptsLostCreates):
        client.use_key(run.object_type, run.key_field)  # no idempotency keys: lost creates are found
    run_id: str | None = None
    completed: dict[int, RowOutcome] = {}
    pending: dict[int, Operation] = {}
    known: dict[str, str] = {}
    if ledger is not None:
        known = ledger.known_records(target=target, object_type=run.object_type, key_field=run.key_field)
        _settle_references(ledger, run, target, schema, header_map)
        if not run.dry_run and ledger_input is not None:
            info = (
                _find_run_to_resume(ledger, run, target, file, fingerprint, run_fingerprint, options)
                if resume
                else None
            )
            if info is not None:
                run_id = info.run_id
                completed = ledger.completed(run_id)
                pending = ledger.pending(run_id)
                age = datetime.now(UTC) - info.started_at
                if pending and age > REPLAY_WINDOW:
                    # The API forgets Idempotency-Keys after 24 h, so a replay could create a second
                    # record. A day later the list index has long caught up: plan those rows afresh
                    # (a committed create is then found by its key and not created again).
                    run.emit(
                        Message(
                            f"run {run_id} started {age.total_seconds() / 3600:.0f} h ago: "
                            f"{len(pending)} unconfirmed rows are re-planned, not replayed"
                        )
                    )
                    pending = {}
                run.emit(
                    Message(f"resuming run {run_id}: {len(completed)} rows done, {len(pending)} to re-send")
                )
            else:
                if not allow_duplicates and fingerprint:
                    _refuse_keyless_rerun(ledger, run, target, file, fingerprint)
                if resume:
                    run.emit(Message("no unfinished run to resume for this file; starting a new one"))
                run_id = ledger.start_run(
                    input_path=ledger_input,
                    input_fingerprint=fingerprint or "",
                    object_type=run.object_type,
                    target=target,
                    options=options,
                    run_fingerprint=run_fingerprint,
                )
    validator = Validator(
        schema, header_map, file=file, sheet=sheet, options=parse_options, column_options=column_options
    )
    # references also match by the run's key field (contacts keyed by close_id find their accounts by it)
    references = References(client, concurrency=run.concurrency, key_field=run.key_field)
    resolver = Resolver(
        client, schema, references=references, file=file, sheet=sheet, concurrency=run.concurrency
    )
    planner = Planner(
        client,
        schema,
        key_field=run.key_field,
        known=known,
        header_map=header_map,
        file=file,
        sheet=sheet,
        concurrency=run.concurrency,
        match=match,
    )
    planner.expected_rows = expected_rows
    for outcome in completed.values():
        run.store.put(outcome)
        planner.note_key(outcome.key)
    for op in pending.values():
        planner.note_key(op.key)
    if pending and isinstance(client, AdoptsLostCreates):
        from .adopt import adopt_pending

        for outcome in adopt_pending(client, pending, ledger, run_id, concurrency=run.concurrency):
            completed[outcome.row] = outcome
            run.store.put(outcome)
            planner.note_key(outcome.key)
    skip_rows = set(completed) | set(pending)
    first = [pending[r] for r in sorted(pending)]

    # totals for progress bars (an ETA): the row count of the input, less rows a resume skips
    total = expected_rows or None
    run.emit(PhaseStarted("read", total))
    run.emit(PhaseStarted("plan", total - len(skip_rows) if total else None))
    ops = _operations(
        run,
        source_rows,
        validator,
        resolver,
        planner,
        skip_rows=skip_rows,
        first=first,
        reader_issues=reader_issues,
        orphans=orphans,
        imported={c.letter for c in header_map.importable},
    )
    error: BaseException | None = None
    unreported: list[RowOutcome] = []  # finished after the writer stopped handing outcomes over
    if run.dry_run:
        for op in ops:
            run.record(op, planner)
    else:
        from .write import write_operations

        run.emit(PhaseStarted("write", max(0, total - len(completed)) if total else None))
        writer = write_operations(
            client,
            ops,
            ledger=ledger,
            run_id=run_id,
            concurrency=run.concurrency,
            on_event=run.emit,
            stop=run.stop,
            unreported=unreported,
            reconcile=planner.after_conflict,
        )
        try:
            try:
                for outcome in writer:
                    if not outcome.link and outcome.record_id:
                        outcome.link = planner.links.get(outcome.record_id)
                    run.store.put(outcome)
            finally:
                # Stop the writers now (also when Ctrl-C hit this loop rather than the writer): no new
                # request starts, and those in flight finish and record their outcome in the ledger.
                writer.close()
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - reported below, then re-raised
            error = exc  # a second Ctrl-C while the writers wind down lands here too
        run.emit(PhaseFinished("write"))
    if error is not None:
        # Requests that finished while the writer stopped (and the row whose outcome was being handed
        # over) were never yielded: the writer lists them in ``unreported``, and the ledger (if any)
        # has them too. Report what was really written.
        recorded: dict[int, RowOutcome] = {}
        if ledger is not None and run_id is not None:
            try:
                recorded = ledger.completed(run_id)
            except (Exception, KeyboardInterrupt):  # noqa: BLE001 - best effort (a 2nd Ctrl-C skips it)
                recorded = {}
        for outcome in [*unreported, *recorded.values()]:
            if run.store.get(outcome.row) is None:
                if not outcome.link and outcome.record_id:
                    outcome.link = planner.links.get(outcome.record_id)
                run.store.put(outcome)
    # rows read but without an outcome (stopped / stopping error): not written
    interrupted = error is not None or (run.stop is not None and run.stop.is_set())
    if interrupted and error is None:
        for row in source_rows:  # the rest of the input, unplanned (counted in the report)
            run.store.seen(row.number)
    if isinstance(error, KeyboardInterrupt):
        reason = "the run was interrupted (Ctrl-C)"
    else:
        reason = f"the run stopped ({type(error).__name__}: {error})" if error else "the run was stopped"

    # import_file has a ledger to resume from; import_frame without one re-runs (keys match)
    again = "re-run with --resume." if ledger is not None else "re-run the import."

    def not_written(row: int) -> RowOutcome:
        return RowOutcome(
            row=row,
            outcome="failed",
            issues=[
                Issue(
                    code="not_written",
                    message=f"Not written: {reason}; {again}",
                    file=file,
                    sheet=sheet,
                    row=row,
                )
            ],
        )

    for row in run.store.missing(range(len(run.store.codes))):
        run.store.put(not_written(row))

    run.emit(PhaseStarted("results"))
    if error is None:
        results_path = write_results(run.store.get, schema)
        # Finished only once the results sheet is written: a crash before this point leaves the
        # run resumable (a resume re-sends nothing that has an outcome and writes the sheet),
        # instead of "finished" and planned afresh, which would create keyless rows again.
        if ledger is not None and run_id is not None and not interrupted:
            ledger.finish_run(run_id)
        run.emit(PhaseFinished("results"))
    else:
        # After an error or Ctrl-C the input is not read to its end here: the results sheet reads it
        # again, and every row without an outcome (even one the reader never reached) says
        # not_written. The sheet is written atomically, so a second Ctrl-C leaves the old one.
        try:
            results_path = write_results(lambda row: run.store.get(row) or not_written(row), schema)
        except (Exception, KeyboardInterrupt) as again:  # noqa: BLE001 - the run's error is raised
            error.add_note(
                f"The results sheet was not written ({type(again).__name__}"
                f"{': ' + str(again) if str(again) else ''}); the ledger keeps every outcome, "
                "so a resumed run continues where this one stopped."
            )
        else:
            run.emit(PhaseFinished("results"))
            if results_path:
                error.add_note(
                    f"The results sheet {results_path} shows what was written (the other "
                    "rows say not_written)."
                )
        raise error
    file_issues += orphans  # row issues of rows that produced no record (e.g. blank after a drop)
    report = _report(
        run, file=file, sheet=sheet, run_id=run_id, file_issues=file_issues, results_path=results_path
    )
    report._schema = schema
    from .unresolved import group_unresolved

    report.unresolved = group_unresolved(run.store.issues.values(), schema, references)
    return report


def _report(
    run: _Run,
    *,
    file: str | None,
    sheet: str | None,
    run_id: str | None,
    file_issues: list[Issue],
    results_path: str | None,
) -> RunReport:
    counts = run.store.counts()
    duration = time.monotonic() - run.started
    rows: list[RowReport] = []
    total = counts.total
    truncated = total > MAX_REPORT_ROWS
    for r in run.store.with_issues_or_failed() if truncated else range(len(run.store.codes)):
        o = run.store.get(r)
        if o is not None:
            rows.append(_row_report(o, run.dry_run))
    s0, s1 = run.stats0, getattr(run.client, "stats", None)

    def delta(name: str) -> int:
        return max(0, int(getattr(s1, name, 0)) - int(getattr(s0, name, 0))) if s1 is not None else 0

    return RunReport(
        ok=counts.failed == 0,
        object_type=run.object_type,
        file=file,
        sheet=sheet,
        dry_run=run.dry_run,
        run_id=run_id,
        counts=counts,
        duration_s=round(duration, 3),
        rows_per_s=round(total / duration, 1) if duration > 0 else 0.0,
        rate_limited=delta("rate_limited"),
        retries=delta("retries"),
        requests=delta("requests"),
        rows=rows,
        rows_truncated=truncated,
        file_issues=list(file_issues),
        results_path=results_path,
    )


# --- public entry points -------------------------------------------------------------------------


def _check_writable(dest: Path) -> None:
    """Fail before the first request, not after the last, when the results sheet cannot be written.
    A symlink is checked where it points (the temporary file is made there); standard output and
    devices are written in place."""
    from .sheets import is_special, is_stdout, resolve_output

    if is_stdout(dest) or is_special(dest):
        return
    try:
        real = resolve_output(dest)
    except IsADirectoryError:
        raise ConfigError(f"Cannot write the results sheet {dest}: it is a folder.") from None
    # messages name the path as given; a symlink's target is named when it is the problem
    where = dest if real == dest.absolute() else real
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"Cannot write the results sheet {dest}: {where.parent} is not a folder.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot write the results sheet {dest}: {exc.strerror or exc}.") from None
    if not os.access(real.parent, os.W_OK) or (real.exists() and not os.access(real, os.W_OK)):
        raise ConfigError(f"Cannot write the results sheet {dest}: permission denied.")


def results_destination(input_path: Path, results_path: str | Path | None) -> Path:
    """Where the results sheet goes: ``results_path``; inside it (named like the default,
    ``<stem>.results.<ext>``) when it is a folder or ends with a path separator (``out/``), so
    ``--results out/`` never writes a file called ``out``; else beside the input."""
    from .results import default_results_path

    default = default_results_path(input_path)
    if not results_path:
        return default
    text = os.fspath(results_path)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        return Path(text) / default.name
    return Path(text)


def import_file(
    path: str | Path,
    object_type: str,
    *,
    client: CrmClient | None = None,
    key_field: str = "external_id",
    sheet: str | None = None,
    mapping: Any = None,
    dry_run: bool = False,
    resume: bool = False,
    results_path: str | Path | None = None,
    ledger_path: str | Path | None = None,
    date_order: str | None = None,
    tz: str = "UTC",
    concurrency: int = 8,
    encoding: str | None = None,
    delimiter: str | None = None,
    on_event: EventHandler | None = None,
    stop: threading.Event | None = None,
    profile: str | None = None,
    locale: str | None = None,
    phone_region: str | None = None,
    percent: Iterable[str] = (),
    match: str | None = None,
    header_row: int | None = None,
    name: str | None = None,
    allow_duplicates: bool = False,
) -> RunReport:
    """Import a CSV/XLSX/XLS/ODS file into ``object_type`` and return the :class:`RunReport`.

    ``mapping`` is a mapping file (path), a dict or a :class:`~bulkio.mapfile.MappingFile`;
    ``profile`` names another CRM's export profile (``"hubspot"``, ``"salesforce"``, ``"close"``,
    ``"pipedrive"``); without either, a profile is used when the headers read like exactly one
    (``profile="none"`` turns that off).

    ``locale`` (``de-DE``) reads numbers, currencies and dates as that locale writes them;
    ``phone_region`` (``GB``) reads phone numbers without a country code; ``percent`` names NUMBER
    columns whose values are fractions of 1 (0.5 → 50); ``match`` (``name``, ``domain``, ``email``)
    updates existing records that have no key instead of creating duplicates (:mod:`bulkio.matching`).

    Without ``client`` it connects with :func:`bulkio.config.connect` (the API with a key, else the
    embedded sandbox). The results sheet goes to ``results_path`` (default ``<stem>.results.<ext>``
    beside the input); the resume ledger to ``ledger_path`` (default: ``ledger.sqlite3`` in the
    per-user state folder, :func:`bulkio.state.ledger_path`). ``resume`` finds the run by the
    file's content and the target, so it works from any directory.
    ``path`` may be ``"-"`` (standard input), a pipe or a device: it is read once into a temporary
    file, and the results sheet defaults to ``stdin.results.<ext>`` in the current folder.
    ``header_row`` (the spreadsheet row number) overrides the header detection; ``name`` is how
    the file is called in messages and the report.

    >>> report = import_file("samples/accounts.csv", "account", dry_run=True)   # doctest: +SKIP
    >>> report.counts.created, report.ok                                        # doctest: +SKIP
    (5, True)
    """
    if client is None:
        from .config import connect

        with connect() as c:
            return import_file(
                path,
                object_type,
                client=c,
                key_field=key_field,
                sheet=sheet,
                mapping=mapping,
                dry_run=dry_run,
                resume=resume,
                results_path=results_path,
                ledger_path=ledger_path,
                date_order=date_order,
                tz=tz,
                concurrency=concurrency,
                encoding=encoding,
                delimiter=delimiter,
                on_event=on_event,
                stop=stop,
                profile=profile,
                locale=locale,
                phone_region=phone_region,
                percent=percent,
                match=match,
                header_row=header_row,
                name=name,
                allow_duplicates=allow_duplicates,
            )
    from . import read
    from .ledger import Ledger
    from .results import default_results_path
    from .results import write_results as _write
    from .rowcount import count_rows
    from .sheets import is_stdout
    from .state import ledger_path as default_ledger_path

    if read.needs_spool(path):
        with read.spooled(path) as (real, shown):
            kind = read.sniff_kind(real)
            # in the current folder, named stdin (for -, /dev/stdin) or after the pipe
            stem = Path(shown).stem.strip("<>") or "stdin"
            default = Path(f"{stem}.results.{'csv' if kind == 'csv' else 'xlsx'}")
            return import_file(
                real,
                object_type,
                client=client,
                key_field=key_field,
                sheet=sheet,
                mapping=mapping,
                dry_run=dry_run,
                resume=resume,
                results_path=results_path or default,
                ledger_path=ledger_path,
                date_order=date_order,
                tz=tz,
                concurrency=concurrency,
                encoding=encoding,
                delimiter=delimiter,
                on_event=on_event,
                stop=stop,
                profile=profile,
                locale=locale,
                phone_region=phone_region,
                percent=percent,
                match=match,
                header_row=header_row,
                name=name or shown,
                allow_duplicates=allow_duplicates,
            )
    path = Path(path)
    shown = name or str(path)
    if not path.exists():
        raise InputFileError("file not found", path=shown)
    dest = results_destination(path, results_path)
    if not is_stdout(dest) and dest.resolve() == path.resolve():
        raise ConfigError(
            f"The results sheet would replace the input file {path}: choose another "
            f"results file (e.g. {default_results_path(path).name})."
        )
    _check_writable(dest)
    fingerprint = file_fingerprint(path)
    run = _Run(
        client,
        object_type,
        key_field=key_field,
        dry_run=dry_run,
        concurrency=concurrency,
        on_event=on_event,
        stop=stop,
    )
    lpath = Path(ledger_path) if ledger_path else default_ledger_path()
    with ExitStack() as stack:
        stack.enter_context(fewer_collections())  # rows live for a chunk: see bulkio.gctune
        # no sheet named: the one named like the object (an exported workbook opens on Summary)
        table = stack.enter_context(
            read.open_table(
                path,
                sheet=sheet,
                encoding=encoding,
                delimiter=delimiter,
                object_type=object_type,
                header_row=header_row,
                name=shown,
            )
        )
        ledger = None
        if not dry_run or lpath.exists():
            lpath.parent.mkdir(parents=True, exist_ok=True)
            ledger = stack.enter_context(Ledger(lpath))
        sheet_name = table.sheet
        used_delimiter = getattr(table, "delimiter", None) or ","

        def write_results(get: Lookup, schema: ObjectSchema) -> str:
            with read.open_table(
                path,
                sheet=table.table_name or sheet_name,
                encoding=table.encoding,
                delimiter=getattr(table, "delimiter", None),
                header_row=table.header_row,
                name=shown,
            ) as again:
                _write(
                    dest,
                    again.headers,
                    again.rows,
                    get,
                    dry_run=dry_run,
                    schema=schema,
                    header_row=getattr(again, "header_row", 1),
                    delimiter=used_delimiter,
                    sheet_name=sheet_name or "Results",
                )
            return str(dest)

        options = {
            "key_field": key_field,
            "sheet": sheet_name,
            "date_order": date_order,
            "tz": tz,
            "encoding": getattr(table, "encoding", None),
            "delimiter": getattr(table, "delimiter", None),
            "mapping": str(mapping) if mapping is not None and not isinstance(mapping, dict) else mapping,
            "mapping_sha": mapping_fingerprint(mapping),
            "profile": "auto" if profile in (None, "auto") else profile.lower(),  # None is auto
            "locale": locale,
            "phone_region": phone_region,
            "percent": list(percent),
            "match": match,
            "header_row": table.header_row,
        }
        if ledger is not None and not dry_run:
            # one bucket with every other bulkio process on this key, next to the ledger
            share = getattr(client, "share_pacing", None)
            if share is not None:
                share(lpath.parent)
            stack.enter_context(_one_import_at_a_time(lpath, client, object_type, fingerprint, path))
        return _run_import(
            run,
            source_rows=iter(table.rows),
            headers=list(table.headers),
            header_row=getattr(table, "header_row", 1),
            file=shown,
            sheet=sheet_name,
            file_issues=table.issues,
            mapping=mapping,
            date_order=date_order,
            tz=tz,
            ledger=ledger,
            ledger_input=read.spooled_name(path) or str(path.resolve()),
            fingerprint=fingerprint,
            resume=resume,
            options=options,
            write_results=write_results,
            expected_rows=count_rows(path, sheet=sheet_name, header_row=getattr(table, "header_row", 1))
            or max(0, (table.row_count_hint or 0) - getattr(table, "header_row", 1)),
            profile=profile,
            locale=locale,
            phone_region=phone_region,
            percent=percent,
            match=match,
            run_fingerprint=run_fingerprint(object_type, fingerprint, options),
            allow_duplicates=allow_duplicates,
        )
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def _one_import_at_a_time(
    ledger_path: Path, client: Any, object_type: str, fingerprint: str, path: Path
) -> Iterator[None]:
    """Hold an OS file lock (next to the ledger) for this file's content, object type and target
    while it is imported: a second import of the same file at the same time, from any process
    (also a ``--resume``), is refused with one line instead of racing the first one."""
    from filelock import FileLock, Timeout

    folder = ledger_path.parent / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    ident = hashlib.sha256(f"{_target(client)}\n{object_type}\n{fingerprint}".encode()).hexdigest()[:24]
    lock = FileLock(str(folder / f"import-{ident}.lock"), timeout=0, thread_local=False)
    info = folder / f"import-{ident}.json"
    try:
        lock.acquire()
    except Timeout:
        holder = ""
        try:
            who = json.loads(info.read_text(encoding="utf-8"))
            holder = f" (process {who['pid']}, since {who['started']})"
        except (OSError, ValueError, KeyError, TypeError):
            pass
        raise ConfigError(
            f"{path} is being imported into {object_type} by another bulkio process{holder}: wait "
            "for it to finish (or stop it), then re-run; --resume continues it if it was stopped."
        ) from None
    try:
        with contextlib.suppress(OSError):
            info.write_text(
                json.dumps({"pid": os.getpid(), "started": datetime.now(UTC).isoformat(timespec="seconds")}),
                encoding="utf-8",
            )
        yield
    finally:
        with contextlib.suppress(OSError):
            info.unlink()
        lock.release()


def import_frame(
    df: pd.DataFrame,
    object_type: str,
    *,
    client: CrmClient,
    key_field: str = "external_id",
    mapping: Any = None,
    dry_run: bool = False,
    results_path: str | Path | None = None,
    ledger_path: str | Path | None = None,
    date_order: str | None = None,
    tz: str = "UTC",
    concurrency: int = 8,
    on_event: EventHandler | None = None,
    stop: threading.Event | None = None,
    profile: str | None = None,
    locale: str | None = None,
    phone_region: str | None = None,
    percent: Iterable[str] = (),
    match: str | None = None,
    resume: bool = False,
    input_name: str | None = None,
    fingerprint: str | None = None,
) -> RunReport:
    """Import a pandas DataFrame (columns = headers; row numbers = index position + 2, as if the
    frame were a sheet under its header). A results sheet is written only with ``results_path``;
    the ledger (for known records and durability) only with ``ledger_path``.

    ``resume`` needs a stable ``input_name`` (what the ledger finds the run by, e.g.
    ``"close-migration:lead"``) and the frame's ``fingerprint`` (a changed frame is refused), as a
    file has its path and content hash.

    >>> report = import_frame(df, "account", client=lf)   # doctest: +SKIP
    """
    from .ledger import Ledger
    from .results import write_results as _write

    headers = [str(c) for c in df.columns]
    run = _Run(
        client,
        object_type,
        key_field=key_field,
        dry_run=dry_run,
        concurrency=concurrency,
        on_event=on_event,
        stop=stop,
    )

    def write_results(get: Lookup, schema: ObjectSchema) -> str | None:
        if results_path is None:
            return None
        _write(results_path, headers, _frame_rows(df), get, dry_run=dry_run, schema=schema)
        return str(results_path)

    with ExitStack() as stack:
        stack.enter_context(fewer_collections())  # rows live for a chunk: see bulkio.gctune
        ledger = stack.enter_context(Ledger(ledger_path)) if ledger_path else None
        if fingerprint is None:
            fingerprint = hashlib.sha256(json.dumps([headers, len(df)], default=str).encode()).hexdigest()
        if resume and (ledger is None or input_name is None):
            raise ConfigError("import_frame(resume=True) needs a ledger_path and an input_name")
        return _run_import(
            run,
            source_rows=_frame_rows(df),
            headers=headers,
            header_row=1,
            file=None,
            sheet=None,
            file_issues=[],
            mapping=mapping,
            date_order=date_order,
            tz=tz,
            ledger=ledger,
            ledger_input=(input_name or f"<DataFrame {id(df):x}>") if ledger else None,
            fingerprint=fingerprint,
            resume=resume,
            allow_duplicates=True,  # a frame is recognised by what its caller says, not its content
            options={"key_field": key_field, "locale": locale, "phone_region": phone_region, "match": match},
            write_results=write_results,
            expected_rows=len(df),
            profile=profile,
            locale=locale,
            phone_region=phone_region,
            percent=percent,
            match=match,
        )
    raise AssertionError("unreachable")  # pragma: no cover
