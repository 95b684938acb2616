"""Take a run back: ``bulkio undo RUN_ID`` (:func:`undo_run`).

Why it can: the ledger keeps, for every row a run wrote, the record and what changed
(``changes``: field → (before, after), recorded with the row's intent, before its request was
sent, and again with its outcome). So an undo needs nothing but the ledger and the CRM:

* **fields the run updated** return to their values from before the run;
* **records the run created** are deleted (``DELETE``: Close has it, Lightfield's newer docs do
  and the sandbox serves it, API-FACTS §12.12). Against a server that answers a DELETE with 404
  or 405 for a record that exists, the row is ``skipped`` and the report lists the record to
  remove by hand (:attr:`UndoReport.to_delete_by_hand`);
* **a field someone changed after the run** (it no longer holds what the run wrote) is a
  conflict (``undo_conflict``): reported and left alone, unless ``force``. A record the run
  created that was edited since, or that records the run did not create now link to, is not
  deleted unless ``force``. A field that already holds its value from before is ``unchanged``.

Every record is read fresh (``retrieve``: lists lag) just before its undo is planned; reads and
writes overlap as in an import. A workbook run is undone sheet by sheet in reverse order (deals
before the accounts they belong to).

An undo is a run like any other: it has its own run in the ledger (``undoes`` names the run it
takes back), each step's intent is recorded before its request (a restore carries its own
Idempotency-Key; deleting twice deletes once), ``resume`` continues a killed undo, and a results
sheet lists every step: the sheet and row of the run it undoes, the record, what the undo did and
what it changed (``$stage: Proposal → Lead``). A dry run plans the same and writes nothing.

>>> report = undo_run("3f2a9c…", client=client, dry_run=True)     # doctest: +SKIP
>>> report.counts.deleted, report.counts.updated, report.counts.skipped
(3, 5, 1)
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .crm.base import Deletes
from .definitions import CREATE_ONLY_RELATIONSHIPS, UPDATE_OPS, ObjectSchema
from .errors import ApiError, ConfigError, LedgerError
from .events import EventHandler, Message, PhaseFinished, PhaseStarted, Progress
from .issues import Issue
from .operations import Action, Operation, RowOutcome
from .phases import object_schema
from .plan import normalize
from .resolve import field_value
from .resume import ledger_target
from .vocabulary import SCHEMA_VERSION, Outcome, OutcomeWord, outcome_word

if TYPE_CHECKING:
    from .ledger import Ledger, RunInfo
    from .protocols import CrmClient
    from .report import RunReport

#: The ledger's object type of an undo run.
UNDO_OBJECT = "undo"
#: Records read (and undo steps planned) together.
CHUNK = 100
#: The outcomes of an undo, in the order counts are shown.
UNDO_OUTCOMES: tuple[Outcome, ...] = ("deleted", "updated", "unchanged", "skipped", "failed")
RESULT_HEADERS = ("Sheet", "Row", "Object", "Record ID", "Link", "Action", "Outcome", "Errors", "Changes")


class UndoCounts(BaseModel):
    deleted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.deleted + self.updated + self.unchanged + self.skipped + self.failed


class UndoRow(BaseModel):
    """One step of an undo: a row of the run it takes back, and what the undo did to its record.
    ``changes`` are field → [now, back to] (a deleted record: what it held)."""

    row: int
    sheet: str | None = None
    object_type: str
    input_row: int
    record_id: str | None = None
    link: str | None = None
    action: str
    outcome: OutcomeWord
    issues: list[Issue] = Field(default_factory=list)
    changes: dict[str, list[Any]] = Field(default_factory=dict)
    #: ``changes`` as the results sheet shows them (option labels: ``$stage: Proposal → Lead``)
    changes_text: str = ""


class UndoReport(BaseModel):
    """What an undo did (or, with ``dry_run``, would do)."""

    schema_version: int = SCHEMA_VERSION
    ok: bool
    run_id: str | None = None
    undoes: str
    file: str
    dry_run: bool = False
    counts: UndoCounts = Field(default_factory=UndoCounts)
    rows: list[UndoRow] = Field(default_factory=list)
    #: records the CRM would not delete through its API: remove them by hand
    to_delete_by_hand: list[dict[str, str | None]] = Field(default_factory=list)
    duration_s: float = 0.0
    requests: int = 0
    results_path: str | None = None

    def to_json(self) -> str:
        import json

        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False, default=str)


@dataclass(slots=True)
class _Step:
    """A row the run wrote, to take back."""

    row: int  # the undo run's row (the results sheet's row)
    sheet: str | None
    object_type: str
    input_row: int
    record_id: str | None
    key: str | None
    link: str | None
    action: str  # delete | restore | unknown
    changes: dict[str, tuple[Any, Any]]


# --- which rows, from the ledger ------------------------------------------------------------------


def _parts(ledger: Ledger, info: RunInfo) -> list[RunInfo]:
    """The runs that wrote: a workbook run's sheet runs (in reverse: the last sheet is undone
    first), or the run itself."""
    children = ledger.sheet_runs(info.run_id)
    return list(reversed(children)) if children else [info]


def _steps(ledger: Ledger, parts: Sequence[RunInfo], *, force: bool) -> tuple[list[_Step], set[str]]:
    """Every row to take back, in a fixed order (the undo's row numbers), and the ids of the
    records the run created."""
    steps: list[_Step] = []
    created: set[str] = set()
    for part in parts:
        sheet = part.options.get("sheet") if part.parent_run else None
        done = ledger.completed(part.run_id)
        pending = ledger.pending(part.run_id) if force else {}
        for row in sorted(set(done) | set(pending)):
            outcome = done.get(row)
            if outcome is not None:
                if not outcome.record_id or outcome.outcome not in ("created", "updated"):
                    continue
                if outcome.outcome == "updated" and not outcome.changes:
                    continue
                action = "delete" if outcome.outcome == "created" else "restore"
                if action == "delete":
                    created.add(outcome.record_id)
                record_id: str | None = outcome.record_id
                key, link, changes = outcome.key, outcome.link, outcome.changes
            else:  # a request whose answer the run never got (force only)
                op = pending[row]
                action = "restore" if op.action == "update" else "unknown"
                record_id, key, link, changes = op.record_id, op.key, None, op.changes
            steps.append(
                _Step(
                    row=len(steps) + 2,
                    sheet=sheet,
                    object_type=part.object_type,
                    input_row=row,
                    record_id=record_id,
                    key=key,
                    link=link,
                    action=action,
                    changes=dict(changes),
                )
            )
    return steps, created


# --- planning each step against the record as it is now --------------------------------------------


def _rel_ids(record: dict[str, Any], key: str) -> list[str]:
    rel = (record.get("relationships") or {}).get(key) or {}
    return list(rel.get("values") or []) if isinstance(rel, dict) else []


def _same_ids(a: Any, b: Any, has_many: bool) -> bool:
    left, right = list(a or []), list(b or [])
    return set(left) == set(right) if has_many else left[:1] == right[:1]


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "(empty)"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


def _op(step: _Step, action: Action, **kw: Any) -> Operation:
    return Operation(
        row=step.row,
        action=action,
        object_type=step.object_type,
        record_id=step.record_id,
        key=step.key,
        **kw,
    )


class _Planner:
    """Plans each step against a fresh read of its record."""

    def __init__(self, client: Any, *, force: bool, created: set[str], dry_run: bool) -> None:
        self.client, self.force, self.created, self.dry_run = client, force, created, dry_run
        self.schemas: dict[str, ObjectSchema] = {}
        self.can_delete = isinstance(client, Deletes)

    def schema(self, object_type: str) -> ObjectSchema:
        found = self.schemas.get(object_type)
        if found is None:
            found = self.schemas[object_type] = object_schema(self.client, object_type)
        return found

    def read(self, step: _Step) -> dict[str, Any] | None:
        if not step.record_id:
            return None
        try:
            return dict(self.client.retrieve(step.object_type, step.record_id))
        except ApiError as exc:
            if exc.status in (400, 404):
                return None
            raise

    def issue(self, step: _Step, code: str, message: str, **kw: Any) -> Issue:
        return Issue(
            code=code, message=message, sheet=step.sheet, row=step.input_row, severity="warning", **kw
        )

    def plan(self, step: _Step, record: dict[str, Any] | None) -> Operation:
        if step.action == "unknown":
            issue = self.issue(
                step,
                "fate_unknown",
                f"the run stopped before it learned whether row {step.input_row} created its record"
                + (f" (key {step.key})" if step.key else "")
                + "; look for it in the CRM",
            )
            return _op(
                step,
                "skip",
                issues=[issue],
            )
        if record is None:
            if step.action == "delete":
                return _op(
                    step,
                    "unchanged",
                )
            issue = self.issue(
                step, "record_gone", f"{step.record_id} no longer exists (deleted since the run)"
            )
            return _op(
                step,
                "skip",
                issues=[issue],
            )
        link = record.get("httpLink")
        if link:
            step.link = link
        if step.action == "delete":
            return self._delete(step, record)
        return self._restore(step, record)

    def _delete(self, step: _Step, record: dict[str, Any]) -> Operation:
        schema = self.schema(step.object_type)
        issues: list[Issue] = []
        for key, (_, wrote) in step.changes.items():
            rel = schema.relationships.get(key)
            if rel is not None:
                now_ids = _rel_ids(record, key)
                if not _same_ids(now_ids, wrote, rel.has_many):
                    issues.append(self._conflict(step, key, wrote, now_ids))
                continue
            fdef = schema.fields.get(key)
            if fdef is None:
                continue
            now = field_value(record, key)
            if normalize(fdef, now) != normalize(fdef, wrote):
                issues.append(self._conflict(step, key, wrote, now))
        for key, rel in schema.relationships.items():
            if rel.object_type == "member" or key in step.changes:
                continue
            others = [i for i in _rel_ids(record, key) if i not in self.created]
            if others:
                issues.append(
                    self.issue(
                        step,
                        "undo_conflict",
                        f"{step.record_id} is linked from {', '.join(others[:5])} ({key}), which the run "
                        "did not create: deleting it would leave them without it",
                        field=key,
                        value="; ".join(others),
                    )
                )
        changes = {k: (wrote, None) for k, (_, wrote) in step.changes.items()}
        if issues and not self.force:
            return _op(
                step,
                "skip",
                issues=issues,
                changes=changes,
            )
        if not self.can_delete:
            return _op(
                step,
                "skip",
                issues=[*issues, self._by_hand(step)],
                changes=changes,
            )
        return _op(
            step,
            "delete",
            issues=issues,
            changes=changes,
        )

    def _by_hand(self, step: _Step) -> Issue:
        where = f" ({step.link})" if step.link else ""
        return self.issue(
            step,
            "delete_unsupported",
            f"this CRM does not delete records through its API: remove {step.record_id}{where} by hand",
        )

    def _conflict(self, step: _Step, key: str, wrote: Any, now: Any) -> Issue:
        how = "written back anyway (--force)" if self.force else "left as it is (--force writes it back)"
        return self.issue(
            step,
            "undo_conflict",
            f"{key} was changed after the run: the run wrote {_shown(wrote)}, it now holds {_shown(now)}; {how}",
            field=key,
            value=now if not isinstance(now, (dict, list)) else str(now),
        )

    def _restore(self, step: _Step, record: dict[str, Any]) -> Operation:
        otype = step.object_type
        schema = self.schema(otype)
        ops = UPDATE_OPS.get(otype, ("add", "remove", "replace"))
        create_only = CREATE_ONLY_RELATIONSHIPS.get(otype, frozenset())
        fields: dict[str, Any] = {}
        rels: dict[str, Any] = {}
        removes: dict[str, Any] = {}
        changes: dict[str, tuple[Any, Any]] = {}
        issues: list[Issue] = []
        for key, (before, after) in step.changes.items():
            rel = schema.relationships.get(key)
            if rel is not None:
                now_ids = _rel_ids(record, key)
                before_ids = list(before or [])
                if _same_ids(now_ids, before_ids, rel.has_many):
                    continue
                if not _same_ids(now_ids, after, rel.has_many):
                    issues.append(self._conflict(step, key, after, now_ids))
                    if not self.force:
                        continue
                if key in create_only or rel.read_only:
                    issues.append(
                        self.issue(step, "undo_conflict", f"{key} cannot be changed back through the API")
                    )
                    continue
                if "replace" in ops:
                    rels[key] = {"replace": before_ids or None}
                else:  # notes: one of add / remove per key and request
                    add = [i for i in before_ids if i not in now_ids]
                    remove = [i for i in now_ids if i not in before_ids]
                    if add:
                        rels[key] = {"add": add}
                        if remove:
                            removes[key] = {"remove": remove}
                    else:
                        rels[key] = {"remove": remove}
                changes[key] = (now_ids or None, before_ids or None)
                continue
            fdef = schema.fields.get(key)
            if fdef is None or fdef.read_only:
                continue
            now = field_value(record, key)
            if normalize(fdef, now) == normalize(fdef, before):
                continue
            if normalize(fdef, now) != normalize(fdef, after):
                issues.append(self._conflict(step, key, after, now))
                if not self.force:
                    continue
            fields[key] = before
            changes[key] = (now, before)
        if not fields and not rels:
            return _op(step, "skip" if issues and not self.force else "unchanged", issues=issues)
        body: dict[str, Any] = {"fields": fields}
        if rels:
            body["relationships"] = rels
        return _op(
            step,
            "update",
            body=body,
            changes=changes,
            issues=issues,
            follow_up={"relationships": removes} if removes else None,
        )


class _Undoing:
    """The client as the writer sees it during an undo: a DELETE that a server does not serve
    (404 or 405 for a record that a read still finds) becomes ``delete_unsupported``, and is
    not sent again; a record already gone counts as deleted (a replayed step after a crash)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.unsupported: str | None = None
        self._lock = threading.Lock()

    def create(self, object_type: str, body: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
        raise AssertionError("an undo creates nothing")

    def update(
        self, object_type: str, record_id: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        return self.client.update(object_type, record_id, body, idempotency_key=idempotency_key)

    def delete(self, object_type: str, record_id: str) -> None:
        if self.unsupported is not None:
            raise self._refusal(object_type, record_id)
        try:
            self.client.delete(object_type, record_id)
        except ApiError as exc:
            if exc.status not in (404, 405):
                raise
            try:
                self.client.retrieve(object_type, record_id)
            except ApiError as again:
                if again.status in (400, 404):
                    return  # gone: deleted by an earlier attempt, or by someone
                raise
            with self._lock:
                self.unsupported = f"{exc.method or 'DELETE'} answered {exc.status}"
            raise self._refusal(object_type, record_id) from None

    def _refusal(self, object_type: str, record_id: str) -> ApiError:
        return ApiError(
            f"this CRM does not delete records through its API ({self.unsupported}): remove "
            f"{record_id} by hand",
            status=405,
            type="invalid_request_error",
            code="delete_unsupported",
        )


# --- the run ---------------------------------------------------------------------------------------


def _chunks(steps: Iterable[_Step], n: int) -> Iterator[list[_Step]]:
    it = iter(steps)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def undo_run(
    run_id: str,
    *,
    client: CrmClient | None = None,
    dry_run: bool = False,
    force: bool = False,
    resume: bool | None = False,
    results_path: str | Path | None = None,
    ledger_path: str | Path | None = None,
    concurrency: int = 8,
    on_event: EventHandler | None = None,
    stop: threading.Event | None = None,
) -> UndoReport:
    """Take back the run ``run_id`` (or a unique prefix of it, as ``bulkio runs`` shows it) and
    return the :class:`UndoReport`.

    Without ``force`` a run that did not finish, a run already undone, and every conflict (a
    field changed after the run, a created record edited or linked to since) are refused or left
    alone; with it, conflicting fields get their values from before the run anyway, and a
    run's rows whose answer it never got are undone where the CRM shows they were written. The
    results sheet goes to ``results_path`` (default ``undo-<run id>.results.xlsx`` in the current
    folder; ``.csv`` for CSV). ``resume=None`` continues an unfinished undo of the run if there is
    one and starts a new one quietly if not (a page's Resume button)."""
    if client is None:
        from .config import connect

        with connect() as c:
            return undo_run(
                run_id,
                client=c,
                dry_run=dry_run,
                force=force,
                resume=resume,
                results_path=results_path,
                ledger_path=ledger_path,
                concurrency=concurrency,
                on_event=on_event,
                stop=stop,
            )
    from .ledger import Ledger
    from .results import changes_text
    from .state import ledger_path as default_ledger_path

    started = time.monotonic()
    stats0 = getattr(client, "stats", None)
    emit: EventHandler = on_event or (lambda e: None)
    lpath = Path(ledger_path) if ledger_path else default_ledger_path()
    if not lpath.exists():
        raise LedgerError(f"No runs are recorded ({lpath} does not exist): there is nothing to undo.")
    with Ledger(lpath) as ledger:
        info = ledger.run(run_id.strip())
        if info is None:
            raise ConfigError(f"No run {run_id!r} in the ledger {lpath}; `bulkio runs` lists the runs.")
        _check(ledger, info, client, force=force)
        parts = _parts(ledger, info)
        steps, created = _steps(ledger, parts, force=force)
        dest = Path(results_path) if results_path else Path(f"undo-{info.run_id[:12]}.results.xlsx")
        from .pipeline import _check_writable

        _check_writable(dest)
        target = ledger_target(client)
        undo_id: str | None = None
        completed: dict[int, RowOutcome] = {}
        pending: dict[int, Operation] = {}
        if not dry_run:
            fingerprint = "sha256:" + hashlib.sha256(f"undo\n{info.run_id}\n{force}".encode()).hexdigest()
            found = (
                ledger.find_run(
                    object_type=UNDO_OBJECT, target=target, run_fingerprint=fingerprint, unfinished=True
                )
                if resume or resume is None
                else None
            )
            if found is not None:
                undo_id = found.run_id
                completed, pending = ledger.completed(undo_id), ledger.pending(undo_id)
                emit(
                    Message(
                        f"resuming undo {undo_id}: {len(completed)} steps done, {len(pending)} to re-send"
                    )
                )
            else:
                if resume is True:
                    emit(Message(f"no unfinished undo of run {info.run_id} to resume; starting a new one"))
                undo_id = ledger.start_run(
                    input_path=f"undo:{info.run_id}",
                    input_fingerprint=info.run_id,
                    object_type=UNDO_OBJECT,
                    target=target,
                    options={"undoes": info.run_id, "force": force},
                    run_fingerprint=fingerprint,
                    undoes=info.run_id,
                )
        by_row = {s.row: s for s in steps}
        planner = _Planner(client, force=force, created=created, dry_run=dry_run)
        outcomes: dict[int, RowOutcome] = dict(completed)
        emit(PhaseStarted("undo", len(steps)))

        def operations() -> Iterator[Operation]:
            yield from (pending[r] for r in sorted(pending))
            todo = [s for s in steps if s.row not in completed and s.row not in pending]
            with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
                for chunk in _chunks(todo, CHUNK):
                    records = list(pool.map(planner.read, chunk))
                    for step, record in zip(chunk, records, strict=True):
                        yield planner.plan(step, record)
                    if stop is not None and stop.is_set():
                        return

        error: BaseException | None = None
        if dry_run:
            for op in operations():
                outcomes[op.row] = _would(op)
                emit(Progress("undo"))
        else:
            from .write import write_operations

            undoing = _Undoing(client)
            unreported: list[RowOutcome] = []
            writer = write_operations(
                undoing,
                operations(),
                ledger=ledger,
                run_id=undo_id,
                concurrency=concurrency,
                on_event=emit,
                stop=stop,
                unreported=unreported,
            )
            try:
                try:
                    for outcome in writer:
                        outcomes[outcome.row] = outcome
                        emit(Progress("undo"))
                finally:
                    writer.close()
            except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - raised after the results sheet
                error = exc
                for outcome in [*unreported, *ledger.completed(undo_id or "").values()]:
                    outcomes.setdefault(outcome.row, outcome)
        emit(PhaseFinished("undo"))
        interrupted = error is not None or (stop is not None and stop.is_set())
        rows = [_row(by_row[s.row], outcomes.get(s.row), dry_run, interrupted) for s in steps]
        for r in rows:
            if r.changes:
                r.changes_text = changes_text(
                    {k: (v[0], v[1]) for k, v in r.changes.items()}, planner.schemas.get(r.object_type)
                )
        _write_results(dest, rows)
        if error is not None:
            error.add_note(
                f"The results sheet {dest} shows what was undone; `bulkio undo {info.run_id} --resume` "
                "continues."
            )
            raise error
        if undo_id is not None and not interrupted:
            ledger.finish_run(undo_id)
    counts = UndoCounts()
    for r in rows:
        word = r.outcome.removeprefix("would ")
        name = {"delete": "deleted", "update": "updated", "fail": "failed", "skip": "skipped"}.get(word, word)
        setattr(counts, name, getattr(counts, name) + 1)
    by_hand = [
        {"object_type": r.object_type, "record_id": r.record_id, "link": r.link}
        for r in rows
        if any(i.code == "delete_unsupported" for i in r.issues)
    ]
    s1 = getattr(client, "stats", None)
    requests = max(0, int(getattr(s1, "requests", 0)) - int(getattr(stats0, "requests", 0))) if s1 else 0
    return UndoReport(
        ok=counts.failed == 0,
        run_id=undo_id,
        undoes=info.run_id,
        file=info.input_path,
        dry_run=dry_run,
        counts=counts,
        rows=rows,
        to_delete_by_hand=by_hand,
        duration_s=round(time.monotonic() - started, 3),
        requests=requests,
        results_path=str(dest),
    )


def _check(ledger: Ledger, info: RunInfo, client: Any, *, force: bool) -> None:
    """Refuse what an undo cannot or should not take back (``force`` lets the last two through)."""
    if info.parent_run:
        raise ConfigError(
            f"Run {info.run_id} is the sheet {info.options.get('sheet')!r} of the workbook run "
            f"{info.parent_run}: undo that run (bulkio undo {info.parent_run})."
        )
    if info.undoes:
        raise ConfigError(
            f"Run {info.run_id} is the undo of run {info.undoes}; to write that run's rows again, "
            "import its file again."
        )
    target = ledger_target(client)
    if info.target != target:
        raise ConfigError(
            f"Run {info.run_id} wrote to {info.target.split('#', 1)[0]} with another key or CRM than "
            f"this one ({target.split('#', 1)[0]}): connect to the CRM the run wrote to."
        )
    unfinished = [r for r in [info, *ledger.sheet_runs(info.run_id)] if r.finished_at is None]
    if unfinished and not force:
        raise ConfigError(
            f"Run {info.run_id} did not finish: continue it with --resume first and then undo it, or "
            "undo what it recorded with --force."
        )
    done = ledger.undo_of(info.run_id, finished=True)
    if done is not None and not force:
        when = f"{done.finished_at:%Y-%m-%d %H:%M} UTC" if done.finished_at else ""
        raise ConfigError(
            f"Run {info.run_id} was undone already (undo run {done.run_id}, {when}); --force undoes it "
            "again (fields get their values from before the run again)."
        )


def _would(op: Operation) -> RowOutcome:
    """A dry run's outcome of a planned step."""
    outcome = {"delete": "deleted", "update": "updated", "unchanged": "unchanged"}.get(op.action)
    word = outcome or ("failed" if any(i.severity == "error" for i in op.issues) else "skipped")
    return RowOutcome(
        row=op.row,
        outcome=word,  # type: ignore[arg-type]
        record_id=op.record_id,
        key=op.key,
        issues=list(op.issues),
        changes=op.changes,
    )


def _row(step: _Step, outcome: RowOutcome | None, dry_run: bool, interrupted: bool) -> UndoRow:
    if outcome is None:
        issue = Issue(
            code="not_written",
            message="Not undone: the undo stopped before this step; re-run it with --resume."
            if interrupted
            else "Not undone.",
            sheet=step.sheet,
            row=step.input_row,
        )
        outcome = RowOutcome(row=step.row, outcome="failed", record_id=step.record_id, issues=[issue])
    issues = list(outcome.issues)
    word: Any = outcome.outcome
    if word == "failed" and any(i.code == "delete_unsupported" for i in issues):
        word = "skipped"  # not a failure of the data: the record is listed to remove by hand
        issues = [
            Issue(
                code="delete_unsupported",
                message=i.message,
                sheet=step.sheet,
                row=step.input_row,
                severity="warning",
            )
            if i.code == "delete_unsupported"
            else i
            for i in issues
        ]
    if word == "unchanged" and step.action == "delete" and not issues:
        issues = [
            Issue(
                code="record_gone",
                message=f"{step.record_id} was deleted already",
                sheet=step.sheet,
                row=step.input_row,
                severity="warning",
            )
        ]
    return UndoRow(
        row=step.row,
        sheet=step.sheet,
        object_type=step.object_type,
        input_row=step.input_row,
        record_id=outcome.record_id or step.record_id,
        link=step.link,
        action="delete" if step.action == "delete" else "restore",
        outcome=outcome_word(word, dry_run=dry_run),
        issues=issues,
        changes={k: [a, b] for k, (a, b) in outcome.changes.items()},
    )


def _write_results(dest: Path, rows: Sequence[UndoRow]) -> None:
    """The undo's results sheet: one row per step (XLSX, or CSV by the name)."""
    from . import sheets
    from .results import errors_text

    table = [
        [
            r.sheet,
            r.input_row,
            r.object_type,
            r.record_id,
            r.link,
            r.action,
            r.outcome,
            errors_text(r.issues),
            r.changes_text,
        ]
        for r in rows
    ]
    if dest.suffix.lower() in (".xlsx", ".xlsm"):
        wb = sheets.new_workbook(write_only=True)
        try:
            sheets.write_table(wb.create_sheet("Undo"), RESULT_HEADERS, table)
            sheets.save_workbook(wb, dest)
        except BaseException:
            sheets.discard_workbook(wb)
            raise
    else:
        sheets.write_csv(dest, RESULT_HEADERS, table)


def undo(
    run_id: str,
    *,
    client: CrmClient | None = None,
    on_event: EventHandler | None = None,
    stop: threading.Event | None = None,
    dry_run: bool = False,
    force: bool = False,
    results_path: str | Path | None = None,
    ledger_path: str | Path | None = None,
) -> RunReport:
    """:func:`undo_run` reported as an import is (a :class:`~bulkio.report.RunReport` whose rows are
    the undone run's input rows), for callers that show import reports: ``bulkio ui``'s Undo
    button. An undo stopped by ``stop`` continues where it stopped when called again."""
    from .report import Counts, RowReport, RunReport

    rep = undo_run(
        run_id,
        client=client,
        dry_run=dry_run,
        force=force,
        resume=None,
        results_path=results_path,
        ledger_path=ledger_path,
        on_event=on_event,
        stop=stop,
    )
    c = rep.counts
    counts = Counts(updated=c.updated, unchanged=c.unchanged, failed=c.failed, skipped=c.skipped)
    rows = [
        RowReport(
            row=r.input_row,
            outcome=r.outcome,
            record_id=r.record_id,
            link=r.link,
            issues=r.issues,
            changes=r.changes,
        )
        for r in rep.rows
    ]
    objects = {r.object_type for r in rep.rows}
    return RunReport(
        ok=rep.ok,
        object_type=objects.pop() if len(objects) == 1 else UNDO_OBJECT,
        file=rep.file,
        dry_run=rep.dry_run,
        run_id=rep.run_id,
        counts=counts,
        duration_s=rep.duration_s,
        requests=rep.requests,
        rows=rows,
        results_path=rep.results_path,
    )


__all__ = ["UndoCounts", "UndoReport", "UndoRow", "undo", "undo_run"]
