"""The phases of a run: prepare → plan → write → settle → report, for one sheet (or file, or
DataFrame). :func:`bulkio.pipeline.import_file` drives them for one file, and
:func:`bulkio.workbook.import_workbook` for each sheet of a workbook in turn, sharing one ledger
run, one reference cache and one results workbook.

* **prepare** (:meth:`SheetRun.prepare`): the schema, the mapping (a file, a profile, or none),
  the header map, the validator, resolver and planner; the ledger run (a new one, or the one
  ``--resume`` continues, with its completed and pending rows).
* **plan** (:meth:`SheetRun.operations`): rows stream through validate → resolve → plan in chunks
  of :data:`CHUNK` (lookups are batched per chunk), lazily, while the writer consumes them.
* **write** (:meth:`SheetRun.write`): a dry run records what each operation would do; a run that
  writes hands the operations to :func:`bulkio.write.write_operations`. A stopping error or Ctrl-C
  is kept, not raised, so the next phases still run.
* **settle** (:meth:`SheetRun.settle`): after an error, outcomes the writer could not hand over
  come from the ledger; every row read without an outcome says ``not_written``.
* **report** (:meth:`SheetRun.finish`, :meth:`SheetRun.report`): the results sheet is written,
  then the ledger run is marked finished (a crash before that leaves it resumable), and the
  :class:`~bulkio.report.RunReport` is built. The error of the write phase is raised here, after
  the results sheet shows what was written.

Streaming: each row exists as one :class:`~bulkio.validate.CheckedRow` until it is planned, and raw
cells are dropped after validation. Outcomes are stored compactly (:class:`~bulkio.report.OutcomeStore`);
a dry run keeps field-level changes for the first :data:`KEEP_CHANGES` rows only, a run that writes
for the rows its report lists.

Resume: the ledger's latest unfinished run with the same run fingerprint is continued. Rows with a
recorded outcome keep it; pending intents are re-sent unchanged (same body, same Idempotency-Key, so
a request that reached the server before the crash is answered from the idempotency cache); the rest
are planned and written.

A :class:`RowObserver` sees every planned row and every outcome: a workbook uses it to make the
records one sheet created findable by the next sheet's references at once (lists lag), and to skip
rows whose reference points at a row that failed (``depends_on_failed``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from .crm.base import AdoptsLostCreates, crm_name
from .definitions import NOTE_DEFINITIONS, ObjectSchema
from .errors import ConfigError, InputFileError
from .events import EventHandler, Message, PhaseFinished, PhaseStarted, Progress
from .gctune import fewer_collections
from .issues import Issue
from .operations import Operation, RowOutcome
from .plan import Planner
from .prepare import (
    key_issues,
    mapping_spec,
    name_columns,
    names_for_ids,
    parse_options,
    peek,
    percent_columns,
    skip_repeated_headers,
)
from .report import MAX_REPORT_ROWS, OutcomeStore, RowReport, RunReport, row_reports
from .resolve import DEPENDS_ON_FAILED, References, Resolver
from .resume import (
    REPLAY_WINDOW,
    find_run_to_resume,
    ledger_target,
    refuse_keyless_rerun,
    settle_matches,
    settle_references,
)
from .validate import CheckedRow, Validator
from .vocabulary import Outcome

if TYPE_CHECKING:
    from .protocols import CrmClient
    from .results import Lookup

#: Rows planned together (reference and key lookups are batched per chunk).
CHUNK = 250
#: A dry run keeps field-level changes for this many rows (the rest are counted).
KEEP_CHANGES = 5000

_WOULD: dict[str, Outcome] = {"create": "created", "update": "updated", "unchanged": "unchanged"}
#: The reader's issues of a row that has none (shared: never changed)
_NO_ISSUES: list[Issue] = []


class RowObserver(Protocol):
    """What a driver of several sheets learns while one runs (see :mod:`bulkio.workbook`)."""

    def planned(self, rows: Sequence[CheckedRow], ops: Sequence[Operation]) -> None:
        """A chunk was validated, resolved and planned (``ops[i]`` is ``rows[i]``'s)."""

    def resumed(self, row: CheckedRow, outcome: RowOutcome | None) -> None:
        """A row a resumed run does not plan again: its outcome, or None for a pending intent
        (whose outcome comes from the writer)."""

    def outcome(self, outcome: RowOutcome) -> None:
        """A row got its outcome (also the outcomes a resumed run starts with)."""


def object_schema(client: CrmClient, object_type: str) -> ObjectSchema:
    """The schema of ``object_type`` (notes have no definitions endpoint: the contract's shape)."""
    if object_type == "note":
        return ObjectSchema.from_api(NOTE_DEFINITIONS, object_type="note")
    schema: ObjectSchema = client.schema(object_type)
    return schema


_CELL_VALUE_CODES = frozenset({"formula_without_value", "cell_error"})


def _demoted(issue: Issue, imported: set[str] | None) -> Issue:
    if imported is None or issue.code not in _CELL_VALUE_CODES or issue.column in imported:
        return issue
    return dataclasses.replace(
        issue, severity="warning", message=issue.message + " (the column is not imported)"
    )


# --- the run ---------------------------------------------------------------------------------------


class SheetRun:
    """One sheet (or file, or DataFrame) through the phases; its state kept together so the
    drivers read as the phases."""

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
        self.stats0 = getattr(client, "stats", None)
        self.kept_changes = 0
        self.observer: RowObserver | None = None
        # set by prepare()
        self.file: str | None = None
        self.sheet: str | None = None
        self.ledger: Any = None
        self.run_id: str | None = None
        self.schema: ObjectSchema | None = None
        self.header_map: Any = None
        self.validator: Validator | None = None
        self.resolver: Resolver | None = None
        self.references: References | None = None
        self.planner: Planner | None = None
        self.completed: dict[int, RowOutcome] = {}
        self.pending: dict[int, Operation] = {}
        self.skip_rows: set[int] = set()
        self.file_issues: list[Issue] = []
        self.reader_issues: list[Issue] = []
        self.orphans: list[Issue] = []
        self.source_rows: Iterator[Any] = iter(())
        self.expected_rows = 0
        # set by write() and settle()
        self.error: BaseException | None = None
        self.unreported: list[RowOutcome] = []
        self.interrupted = False

    # --- outcomes --------------------------------------------------------------------------------
    def put(self, outcome: RowOutcome) -> None:
        """Store a row's outcome (and tell the observer)."""
        self.store.put(outcome)
        if self.observer is not None:
            self.observer.outcome(outcome)

    def record(self, op: Operation) -> None:
        """Store a dry run's outcome: what the operation would do."""
        planner = self.planner
        assert planner is not None
        word: Outcome | None = _WOULD.get(op.action)
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
        if record_id is None and not changes and not op.issues:  # the usual row: what add defaults to
            self.store.add(op.row, word, key=op.key)
        else:
            self.store.add(
                op.row,
                word,
                record_id=record_id,
                link=planner.links.get(record_id) if record_id else None,
                key=op.key,
                issues=op.issues,
                changes=changes,
            )
        if self.observer is not None:
            self.observer.outcome(
                RowOutcome(row=op.row, outcome=word, record_id=record_id, key=op.key, issues=op.issues)
            )

    # --- phase 1: prepare ------------------------------------------------------------------------
    def prepare(
        self,
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
        expected_rows: int = 0,
        profile: str | None = None,
        locale: str | None = None,
        phone_region: str | None = None,
        percent: Any = (),
        match: str | None = None,
        run_fingerprint: str | None = None,
        allow_duplicates: bool = False,
        references: References | None = None,
        parent_run: str | None = None,
        settle_exclude: Iterable[str] = (),
    ) -> None:
        """Everything before the first row is planned: nothing is written when this raises.

        ``parent_run`` makes the ledger run a sheet of that workbook run (found again for
        ``--resume`` by its run fingerprint only); ``references`` is the workbook's shared
        reference cache; ``settle_exclude`` the workbook's earlier sheet runs, whose records need
        no wait for lists."""
        from . import mapfile as MF
        from . import mapping as M
        from .matching import check_match, match_field
        from .transforms import compile_mapping

        client = self.client
        self.file, self.sheet, self.ledger, self.expected_rows = file, sheet, ledger, expected_rows
        schema = self.schema = object_schema(client, self.object_type)
        if profile in (None, "auto") and crm_name(client) != "lightfield":
            profile = "none"  # the shipped profiles map other CRMs' exports onto Lightfield's fields
        spec, from_profile = mapping_spec(mapping, profile, headers, self.object_type, self.emit, file)
        if spec is not None:
            if spec.key and self.key_field == "external_id":
                self.key_field = spec.key
            date_order = date_order or spec.options.date_order
            if spec.options.tz and tz == "UTC":
                tz = spec.options.tz
            locale = locale or spec.options.locale  # a mapping file or profile may name them
            phone_region = phone_region or spec.options.phone_region
            match = match or spec.options.match
            MF.check_mapping(spec, schema, keys=M.importable_keys(schema, self.key_field))
        header_map = self.header_map = M.map_headers(
            headers,
            schema,
            mapping=spec.targets() if spec is not None else None,
            key_field=self.key_field,
            file=file,
            sheet=sheet,
            header_row=header_row,
            warn_unused=not from_profile,
            match=match,
        )
        sample, source_rows = peek(source_rows, M.ID_SAMPLE)
        M.check_record_id_column(
            header_map,
            [r.cells for r in sample],
            self.object_type,
            file=file,
            sheet=sheet,
            header_row=header_row,
        )
        if date_order is None and locale is None:  # 12/03/2024 next to 28/02/2024: day first
            date_order = M.date_order_from_sample(header_map, schema, [r.cells for r in sample], file=file)
            ahead = M.ID_SAMPLE  # rows asked for
            most = min(M.DATE_ORDER_ROWS, M.DATE_ORDER_CELLS // max(1, len(headers)))
            while (
                date_order is None
                and len(sample) == ahead  # the file goes on
                and ahead < most
                and M.ambiguous_dates(header_map, schema, [r.cells for r in sample])
            ):  # only ambiguous dates so far: read further ahead for one that decides
                ahead = min(ahead * 10, most)
                sample, source_rows = peek(source_rows, ahead)
                date_order = M.date_order_from_sample(
                    header_map, schema, [r.cells for r in sample], file=file
                )
        source_rows = skip_repeated_headers(source_rows, headers, file_issues, file=file, sheet=sheet)
        transformer = compile_mapping(spec, header_map, schema, file=file, sheet=sheet)  # also without a spec
        if transformer.active:
            source_rows = transformer.rows(source_rows, file_issues)
        if names := name_columns(header_map):
            source_rows = names_for_ids(source_rows, names)
        self.source_rows = source_rows
        # The reader's issues with a row number (ragged_row, cell_too_large, formula_without_value)
        # belong to that row: they are attached while rows stream (the list keeps growing), never
        # fatal for the file.
        self.reader_issues = file_issues
        self.file_issues = [
            *(i for i in file_issues if i.row is None),
            *header_map.issues,
            *key_issues(schema, self.key_field, file=file, sheet=sheet, crm=crm_name(client)),
        ]
        fatal = [i for i in self.file_issues if i.severity == "error"]
        if fatal:
            raise InputFileError("; ".join(str(i) for i in fatal), path=file)
        # options that cannot work stop the run before it starts (nothing is recorded or written)
        options_ = parse_options(date_order, tz, locale, phone_region)
        column_options = percent_columns(percent, header_map, schema, options_)
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
        target = ledger_target(client)
        if isinstance(client, AdoptsLostCreates):
            client.use_key(self.object_type, self.key_field)  # no idempotency keys: lost creates are found
        known: dict[str, str] = {}
        if spec is not None and ledger is None:  # (with a ledger: once the references have settled)
            MF.check_references(spec, schema, References(client, key_field=self.key_field), headers=headers)
        if ledger is not None:
            known = ledger.known_records(
                target=target, object_type=self.object_type, key_field=self.key_field
            )
            settle_references(ledger, client, self.emit, target, schema, header_map, settle_exclude)
            if match is not None:
                settle_matches(ledger, client, self.emit, target, schema, match)
            if spec is not None:  # value maps onto records (owner aliases) must name records that exist
                MF.check_references(
                    spec, schema, References(client, key_field=self.key_field), headers=headers
                )
            if not self.dry_run and ledger_input is not None:
                self._open_ledger_run(
                    ledger,
                    target=target,
                    ledger_input=ledger_input,
                    fingerprint=fingerprint,
                    resume=resume,
                    options=options,
                    run_fingerprint=run_fingerprint,
                    allow_duplicates=allow_duplicates
                    or match is not None,  # --match: rows find their records
                    parent_run=parent_run,
                )
        self.validator = Validator(
            schema, header_map, file=file, sheet=sheet, options=options_, column_options=column_options
        )
        # references also match by the run's key field (contacts keyed by close_id find their
        # accounts by it); a workbook shares one cache across its sheets
        self.references = references or References(
            client, concurrency=self.concurrency, key_field=self.key_field
        )
        self.resolver = Resolver(
            client, schema, references=self.references, file=file, sheet=sheet, concurrency=self.concurrency
        )
        planner = self.planner = Planner(
            client,
            schema,
            key_field=self.key_field,
            known=known,
            header_map=header_map,
            file=file,
            sheet=sheet,
            concurrency=self.concurrency,
            match=match,
        )
        planner.expected_rows = expected_rows
        planner.bodies = not self.dry_run
        for outcome in self.completed.values():
            self.put(outcome)
            planner.note_key(outcome.key)
        for op in self.pending.values():
            planner.note_key(op.key)
        if self.pending and isinstance(client, AdoptsLostCreates):
            from .adopt import adopt_pending

            for outcome in adopt_pending(
                client, self.pending, ledger, self.run_id, concurrency=self.concurrency
            ):
                self.completed[outcome.row] = outcome
                self.put(outcome)
                planner.note_key(outcome.key)
        self.skip_rows = set(self.completed) | set(self.pending)

    def _open_ledger_run(
        self,
        ledger: Any,
        *,
        target: str,
        ledger_input: str,
        fingerprint: str | None,
        resume: bool,
        options: dict[str, Any],
        run_fingerprint: str | None,
        allow_duplicates: bool,
        parent_run: str | None,
    ) -> None:
        """The ledger run: the one ``--resume`` continues (its completed and pending rows), else a
        new one."""
        info = (
            find_run_to_resume(
                ledger,
                self.object_type,
                target,
                self.file,
                fingerprint,
                run_fingerprint,
                options,
                exact=parent_run is not None,
            )
            if resume
            else None
        )
        if info is not None:
            self.run_id = info.run_id
            self.completed = ledger.completed(info.run_id)
            self.pending = ledger.pending(info.run_id)
            age = datetime.now(UTC) - info.started_at
            if self.pending and age > REPLAY_WINDOW:
                # The API forgets Idempotency-Keys after 24 h, so a replay could create a second
                # record. A day later the list index has long caught up: plan those rows afresh
                # (a committed create is then found by its key and not created again).
                self.emit(
                    Message(
                        f"run {info.run_id} started {age.total_seconds() / 3600:.0f} h ago: "
                        f"{len(self.pending)} unconfirmed rows are re-planned, not replayed"
                    )
                )
                self.pending = {}
            what = f"sheet {self.sheet} of run {parent_run}" if parent_run else f"run {info.run_id}"
            self.emit(
                Message(f"resuming {what}: {len(self.completed)} rows done, {len(self.pending)} to re-send")
            )
            return
        if not allow_duplicates and fingerprint:
            refuse_keyless_rerun(ledger, self.object_type, target, self.file, fingerprint)
        if resume and parent_run is None:
            self.emit(Message("no unfinished run to resume for this file; starting a new one"))
        self.run_id = ledger.start_run(
            input_path=ledger_input,
            input_fingerprint=fingerprint or "",
            object_type=self.object_type,
            target=target,
            options=options,
            run_fingerprint=run_fingerprint,
            parent_run=parent_run,
        )

    # --- phase 2: plan ---------------------------------------------------------------------------
    def operations(self) -> Iterator[Operation]:
        """The operations of every row, planned lazily (see :meth:`_operations`); the progress
        phases start now, before the writer starts consuming them."""
        total = self.expected_rows or None
        self.emit(PhaseStarted("read", total))
        self.emit(PhaseStarted("plan", total - len(self.skip_rows) if total else None))
        return self._operations()

    def _operations(self) -> Iterator[Operation]:
        """Plan lazily: validate → resolve → plan per chunk; yields operations in input order
        (the pending intents of a resumed run first).

        The reader's issues located on a row are added to that row (an error there skips the
        row); those of rows never yielded go to ``orphans``. A reader error about a cell's value (a
        formula without a saved value, ``#N/A``) in a column that is not imported only warns: that
        cell is never written."""
        validator, resolver, planner = self.validator, self.resolver, self.planner
        assert validator is not None and resolver is not None and planner is not None
        header_map = self.header_map
        imported = {c.letter for c in header_map.importable} if header_map is not None else None
        reader_issues = self.reader_issues
        orphans = self.orphans
        observer = self.observer
        yield from (self.pending[r] for r in sorted(self.pending))
        chunk: list[Any] = []  # source rows, validated together when the chunk is full
        chunk_found: list[list[Issue]] = []  # the reader's issues of each row of the chunk
        waiting: list[Issue] = []
        taken = 0

        def row_issues(number: int) -> list[Issue]:
            nonlocal taken
            if taken == len(reader_issues) and not waiting:
                return []  # nothing new from the reader, nothing held back: the usual row
            waiting.extend(_demoted(i, imported) for i in reader_issues[taken:] if i.row is not None)
            taken = len(reader_issues)
            mine = [i for i in waiting if i.row == number]
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
            ops = [_held(op) if op.issues else op for op in planner.plan(checked)]
            if observer is not None:
                observer.planned(checked, ops)
            self.emit(Progress("plan", len(chunk)))
            chunk.clear()
            chunk_found.clear()
            return ops

        read = 0  # rows read since the last "read" progress event (one event per chunk, not per row)
        seen, skip_rows, stop = self.store.seen, self.skip_rows, self.stop
        for srow in self.source_rows:
            number = srow.number
            seen(number)
            read += 1
            # row_issues' usual answer, without the call: nothing new from the reader, nothing held
            found = _NO_ISSUES if taken == len(reader_issues) and not waiting else row_issues(number)
            if skip_rows and number in skip_rows:
                if observer is not None:  # what it was, for the sheets that refer to it
                    observer.resumed(validator.check(srow), self.store.get(number))
            else:
                chunk.append(srow)
                chunk_found.append(found)
            if read >= CHUNK or len(chunk) >= CHUNK:
                self.emit(Progress("read", read))
                read = 0
                if len(chunk) >= CHUNK:
                    yield from flush()
            if stop is not None and stop.is_set():
                break
        if read:
            self.emit(Progress("read", read))
        if chunk:
            yield from flush()
        row_issues(1 << 62)  # what is left belongs to rows that were never yielded
        # rows left out on purpose (skip_rows, a repeated header, a group's title) are skipped rows
        # of the results sheet with the reason, not "not processed" ones
        kept: list[Issue] = []
        for issue in orphans:
            if issue.code in LEFT_OUT and issue.row is not None and self.store.get(issue.row) is None:
                self.store.put(RowOutcome(row=issue.row, outcome="skipped", issues=[issue]))
            else:
                kept.append(issue)
        orphans[:] = kept
        self.emit(PhaseFinished("read"))
        self.emit(PhaseFinished("plan"))

    # --- phase 3: write --------------------------------------------------------------------------
    def write(self, ops: Iterable[Operation]) -> None:
        """Record (dry run) or carry out the operations. A stopping error or Ctrl-C is kept in
        :attr:`error` (raised by :meth:`finish`, after the results sheet was written)."""
        planner = self.planner
        assert planner is not None
        if self.dry_run:  # an error here stops the run at once: nothing was written
            record = self.record
            for op in ops:
                record(op)
            return
        from .write import write_operations

        total = self.expected_rows or None
        self.emit(PhaseStarted("write", max(0, total - len(self.completed)) if total else None))
        writer = write_operations(
            self.client,
            ops,
            ledger=self.ledger,
            run_id=self.run_id,
            concurrency=self.concurrency,
            on_event=self.emit,
            stop=self.stop,
            unreported=self.unreported,
            reconcile=planner.after_conflict,
        )
        try:
            try:
                for outcome in writer:
                    if not outcome.link and outcome.record_id:
                        outcome.link = planner.links.get(outcome.record_id)
                    self.put(outcome)
            finally:
                # Stop the writers now (also when Ctrl-C hit this loop rather than the writer): no new
                # request starts, and those in flight finish and record their outcome in the ledger.
                writer.close()
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - reported, then re-raised
            self.error = exc  # a second Ctrl-C while the writers wind down lands here too
        self.emit(PhaseFinished("write"))

    # --- phase 4: settle -------------------------------------------------------------------------
    def settle(self) -> None:
        """After an error, take the outcomes the writer could not hand over (and those the ledger
        has); after a stop, count the unread rest of the input; every row read without an outcome
        then says ``not_written``."""
        planner = self.planner
        if self.error is not None:
            # Requests that finished while the writer stopped (and the row whose outcome was being
            # handed over) were never yielded: the writer lists them in ``unreported``, and the ledger
            # (if any) has them too. Report what was really written.
            recorded: dict[int, RowOutcome] = {}
            if self.ledger is not None and self.run_id is not None:
                try:
                    recorded = self.ledger.completed(self.run_id)
                except (Exception, KeyboardInterrupt):  # noqa: BLE001 - best effort (a 2nd Ctrl-C skips it)
                    recorded = {}
            for outcome in [*self.unreported, *recorded.values()]:
                if self.store.get(outcome.row) is None:
                    if not outcome.link and outcome.record_id and planner is not None:
                        outcome.link = planner.links.get(outcome.record_id)
                    self.put(outcome)
        self.interrupted = self.error is not None or (self.stop is not None and self.stop.is_set())
        if self.interrupted and self.error is None:
            for row in self.source_rows:  # the rest of the input, unplanned (counted in the report)
                self.store.seen(row.number)
        for row in self.store.missing(range(len(self.store.codes))):
            self.put(self.not_written(row))

    def reason(self) -> str:
        """Why rows were not written (for ``not_written``)."""
        error = self.error
        if isinstance(error, KeyboardInterrupt):
            return "the run was interrupted (Ctrl-C)"
        return f"the run stopped ({type(error).__name__}: {error})" if error else "the run was stopped"

    def not_written(self, row: int, reason: str | None = None) -> RowOutcome:
        """The outcome of a row the run stopped before (``--resume`` continues it)."""
        # import_file has a ledger to resume from; import_frame without one re-runs (keys match)
        again = "re-run with --resume." if self.ledger is not None else "re-run the import."
        return RowOutcome(
            row=row,
            outcome="failed",
            issues=[
                Issue(
                    code="not_written",
                    message=f"Not written: {reason or self.reason()}; {again}",
                    file=self.file,
                    sheet=self.sheet,
                    row=row,
                )
            ],
        )

    # --- phase 5: report -------------------------------------------------------------------------
    def lookup(self) -> Lookup:
        """Outcomes by row for the results sheet (after an error, a row the run never reached
        says ``not_written``)."""
        if self.error is None and not self.interrupted:
            return self.store.get
        return lambda row: self.store.get(row) or self.not_written(row)

    def finish(self, write_results: Callable[[Lookup, ObjectSchema], str | None]) -> str | None:
        """Write the results sheet, then mark the ledger run finished; raise the write phase's
        error (with a note naming the results sheet) if there was one."""
        schema = self.schema
        assert schema is not None
        self.emit(PhaseStarted("results"))
        error = self.error
        if error is None:
            results_path = write_results(self.lookup(), schema)
            # Finished only once the results sheet is written: a crash before this point leaves the
            # run resumable (a resume re-sends nothing that has an outcome and writes the sheet),
            # instead of "finished" and planned afresh, which would create keyless rows again.
            self.finish_ledger()
            self.emit(PhaseFinished("results"))
            return results_path
        # After an error or Ctrl-C the input is not read to its end here: the results sheet reads it
        # again, and every row without an outcome (even one the reader never reached) says
        # not_written. The sheet is written atomically, so a second Ctrl-C leaves the old one.
        try:
            results_path = write_results(self.lookup(), schema)
        except (Exception, KeyboardInterrupt) as again:  # noqa: BLE001 - the run's error is raised
            error.add_note(
                f"The results sheet was not written ({type(again).__name__}"
                f"{': ' + str(again) if str(again) else ''}); the ledger keeps every outcome, "
                "so a resumed run continues where this one stopped."
            )
        else:
            self.emit(PhaseFinished("results"))
            if results_path:
                error.add_note(
                    f"The results sheet {results_path} shows what was written (the other "
                    "rows say not_written)."
                )
        raise error

    def finish_ledger(self) -> None:
        """Mark the ledger run finished (no longer offered for resume), unless it was interrupted."""
        if self.ledger is not None and self.run_id is not None and not self.interrupted:
            self.ledger.finish_run(self.run_id)

    def cell_types(self, width: int) -> list[str | None]:
        """Per input column: ``"number"``/``"date"`` for a column mapped to such a field, so an
        XLSX results sheet of a CSV shows those cells as numbers and dates."""
        out: list[str | None] = [None] * width
        schema, header_map = self.schema, self.header_map
        if schema is None or header_map is None:
            return out
        for mc in header_map.columns:
            col = mc.column
            if col is None or mc.index >= width or col.part is not None:
                continue
            fdef = schema.fields.get(col.field_key or col.key)
            if fdef is None:
                continue
            if fdef.value_type in ("NUMBER", "CURRENCY"):
                out[mc.index] = "number"
            elif fdef.value_type == "DATETIME":
                out[mc.index] = "date"
        return out

    def report(self, results_path: str | None) -> RunReport:
        """The :class:`RunReport` of this sheet."""
        from .unresolved import group_unresolved

        self.file_issues += self.orphans  # row issues of rows that produced no record
        counts = self.store.counts()
        duration = time.monotonic() - self.started
        total = counts.total
        truncated = total > MAX_REPORT_ROWS
        store = self.store
        rows: list[RowReport] = row_reports(
            store, store.with_issues_or_failed() if truncated else range(len(store.codes)), self.dry_run
        )
        s0, s1 = self.stats0, getattr(self.client, "stats", None)

        def delta(name: str) -> int:
            return max(0, int(getattr(s1, name, 0)) - int(getattr(s0, name, 0))) if s1 is not None else 0

        report = RunReport(
            ok=counts.failed == 0,
            object_type=self.object_type,
            file=self.file,
            sheet=self.sheet,
            dry_run=self.dry_run,
            run_id=self.run_id,
            counts=counts,
            duration_s=round(duration, 3),
            rows_per_s=round(total / duration, 1) if duration > 0 else 0.0,
            rate_limited=delta("rate_limited"),
            retries=delta("retries"),
            requests=delta("requests"),
            rows=rows,
            rows_truncated=truncated,
            file_issues=list(self.file_issues),
            results_path=results_path,
        )
        report._schema = schema = self.schema
        assert schema is not None
        report.unresolved = group_unresolved(store.issues.values(), schema, self.references)
        return report


#: Codes of the reader's warnings on rows it leaves out on purpose: each such row is skipped.
LEFT_OUT = frozenset({"skipped_row", "repeated_header", "section_title"})


def _held(op: Operation) -> Operation:
    """A row whose reference names a row of the same workbook that failed is not written: it is
    ``skipped`` with that ``depends_on_failed`` warning. (The reference's field then counts as
    missing, which is no error of its own; a row with other errors fails anyway.)"""
    held = {i.field for i in op.issues if i.code == DEPENDS_ON_FAILED}
    if not held:
        return op
    issues = [i for i in op.issues if not (i.code == "required_field_missing" and i.field in held)]
    return Operation(
        row=op.row,
        action="skip",
        object_type=op.object_type,
        record_id=op.record_id,
        key=op.key,
        issues=issues,
    )


def run_sheet(
    run: SheetRun, write_results: Callable[[Lookup, ObjectSchema], str | None], **prepare: Any
) -> RunReport:
    """Every phase of one sheet: prepare → plan → write → settle → report."""
    with fewer_collections():  # rows live for a chunk: see bulkio.gctune
        run.prepare(**prepare)
        run.write(run.operations())
        run.settle()
        results_path = run.finish(write_results)
        return run.report(results_path)


__all__ = [
    "CHUNK",
    "KEEP_CHANGES",
    "RowObserver",
    "SheetRun",
    "object_schema",
    "run_sheet",
]
