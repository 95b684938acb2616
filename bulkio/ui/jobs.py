"""Dry runs, imports, retries and undo, run on a thread while the page polls their progress.

Each is one call of the library (:func:`bulkio.import_file` with the page's mapping, ``dry_run``,
``resume``, ``on_event`` and ``stop``); this module turns its events into numbers the page shows
(rows done, the write pace against the rate limit, an ETA) and its :class:`~bulkio.RunReport` into
grid rows (outcome, before → after per field, issues).

* **What is imported**: the file as opened when nothing was edited (so ``bulkio import --resume``
  continues the same run from the command line), else a copy with the edits
  (:meth:`Workspace.save_copy`); the original is never written.
* **Pause** sets the run's ``stop`` event: no new request starts, the rows not reached say
  ``not_written``, and the ledger keeps the run open. **Resume** imports the same file with
  ``resume=True``, which continues it.
* **Retry failed rows** imports a copy of only the rows that failed (with any fixes made since).
* **A workbook** is imported sheet by sheet, records before the records that refer to them.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BulkioError
from ..events import Event, Message, PhaseFinished, PhaseStarted, Progress, RateLimited, Retrying
from ..pipeline import RowReport, RunReport, import_file
from .workspace import IMPORT_ORDER, Sheet, Workspace, issue_json

#: Messages kept per job (the newest).
MAX_MESSAGES = 50


@dataclass
class _Phase:
    total: int | None = None
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None


def ordered(sheets: list[Sheet]) -> list[Sheet]:
    """Sheets in import order: accounts, contacts, then what refers to them (custom objects last)."""
    rank = {o: i for i, o in enumerate(IMPORT_ORDER)}
    return sorted(sheets, key=lambda s: (rank.get(s.object_type or "", len(rank)), s.id))


class Job:
    """One run the page started. ``kind`` is ``dry_run``, ``import``, ``retry`` or ``undo``."""

    def __init__(
        self,
        ws: Workspace,
        kind: str,
        sheets: list[Sheet],
        *,
        parent: Job | None = None,
        rows: dict[str, list[int]] | None = None,
    ) -> None:
        self.id = secrets.token_hex(6)
        self.ws, self.kind, self.parent = ws, kind, parent
        self.sheets = ordered(sheets)
        self.dry_run = kind == "dry_run"
        self.status = "running"
        self.error: str | None = None
        self.messages: list[str] = []
        self.phases: dict[str, _Phase] = {}
        self.phase: str | None = None
        self.rate_limited = 0
        self.retries = 0
        self.current: str | None = None
        self.started = time.monotonic()
        self.finished: float | None = None
        self.reports: dict[str, RunReport] = {}
        self.outcomes: dict[str, dict[int, RowReport]] = {}
        self.finished_sheets: set[str] = set()
        self.inputs: dict[str, Path] = {}
        self.rows = rows  # a retry: sheet id → positions of the rows in its input
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.undo_of: Job | None = None
        self.retried: list[Job] = []  # retries of this import, whose runs an undo takes back too
        self.undone: set[tuple[str, str]] = set()  # (sheet id, run id) an undo took back

    # --- running ------------------------------------------------------------------------------
    def start(self, *, resume: bool = False) -> Job:
        self.status, self.error = "running", None
        self.stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(resume,), name=f"bulkio-ui-{self.kind}", daemon=True
        )
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def on_event(self, event: Event) -> None:
        if isinstance(event, PhaseStarted):
            self.phase = event.name
            self.phases[f"{self.current}:{event.name}"] = _Phase(total=event.total)
        elif isinstance(event, Progress):
            ph = self.phases.setdefault(f"{self.current}:{event.name}", _Phase())
            ph.done += event.count
        elif isinstance(event, PhaseFinished):
            done = self.phases.get(f"{self.current}:{event.name}")
            if done is not None:
                done.finished = time.monotonic()
        elif isinstance(event, RateLimited):
            self.rate_limited += 1
        elif isinstance(event, Retrying):
            self.retries += 1
        elif isinstance(event, Message):
            self.messages.append(event.text)
            del self.messages[:-MAX_MESSAGES]

    def _input(self) -> Path:
        """The file this job imports: a copy of some rows (retry), a copy with the edits, or the
        file as opened."""
        if self.rows is not None:
            return self.ws.save_copy(
                self.ws.folder / f"retry-{self.id}{'.csv' if self.ws.kind == 'csv' else '.xlsx'}",
                rows=self.rows,
            )
        if self.ws.edited:
            return self.ws.save_copy()
        return self.ws.path

    def _run(self, resume: bool) -> None:
        if self.undo_of is not None:
            self._undo()
            return
        try:
            path = self.inputs.get("*") or self._input()
            self.inputs["*"] = path
            for s in self.sheets:
                if s.id in self.finished_sheets:
                    continue
                if s.object_type is None:
                    raise ValueError(f"choose the object of {s.sheet or self.ws.name} first")
                self.current = s.id
                report = self._import(s, path, resume=resume)
                self.reports[s.id] = report
                self.outcomes[s.id] = self._outcomes(s, path, report)
                if self.stop.is_set():
                    self.status = "paused"
                    return
                self.finished_sheets.add(s.id)
            self.status = "done"
            if self.parent is not None:
                self.parent.merge(self)
            if self.dry_run:
                for s in self.sheets:
                    self._issues_to_grid(s)
        except Exception as exc:  # noqa: BLE001 - the page shows it; the ledger keeps the run resumable
            self.status = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished = time.monotonic()

    def _undo(self) -> None:
        """Take the import back: the library's undo for each sheet's run (its retries' runs first,
        newest first), the last sheet first. Called again after a pause, it continues."""
        parent = self.undo_of
        assert parent is not None
        try:
            undo = undo_function()
            for s in reversed(self.sheets):
                runs = [*reversed(parent.retried), parent]
                for job in runs:
                    run_id = job.reports[s.id].run_id if s.id in job.reports else None
                    if run_id is None or (s.id, run_id) in self.undone:
                        continue
                    self.current = s.id
                    report = undo(
                        run_id,
                        client=self.ws.client,
                        on_event=self.on_event,
                        stop=self.stop,
                        results_path=self.ws.folder / f"undo-{self.id}-{s.id}-{run_id[:8]}.xlsx",
                    )
                    self.reports[s.id] = report
                    mine = job._outcomes(s, job.inputs["*"], report)
                    self.outcomes.setdefault(s.id, {}).update(mine)
                    if self.stop.is_set():
                        self.status = "paused"
                        return
                    self.undone.add((s.id, run_id))
                self.finished_sheets.add(s.id)
            self.status = "done"
        except Exception as exc:  # noqa: BLE001 - the page shows it; the undo run is resumable
            self.status = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished = time.monotonic()

    def _import(self, s: Sheet, path: Path, *, resume: bool) -> RunReport:
        from ..results import default_results_path

        results = default_results_path(path)
        if self.dry_run or self.rows is not None or self.ws.uploaded or not _writable(results.parent):
            results = self.ws.folder / f"{self.kind}-{self.id}-{s.id}{results.suffix}"
        if self.ws.is_workbook:
            results = results.with_name(f"{results.stem}-{s.sheet or s.id}{results.suffix}")
        return import_file(
            path,
            s.object_type or "",
            client=self.ws.client,
            sheet=s.sheet,
            mapping=s.spec,
            dry_run=self.dry_run,
            resume=resume,
            results_path=results,
            on_event=self.on_event,
            stop=self.stop,
            locale=s.options.get("locale"),
            date_order=s.options.get("date_order"),
            phone_region=s.options.get("phone_region"),
            name=self.ws.name,
        )

    def _outcomes(self, s: Sheet, path: Path, report: RunReport) -> dict[int, RowReport]:
        """Report rows by position in the sheet's working copy."""
        if path != self.ws.path:  # a copy: its rows are the sheet's rows (or those retried), in order
            ns = self.rows.get(s.id, []) if self.rows is not None else None
            out = {}
            for r in report.rows:
                n = s.copy_position(r.row, ns)
                if n is not None:
                    out[n] = r
            return out
        where = s.store.positions([r.row for r in report.rows])
        return {where[r.row]: r for r in report.rows if r.row in where}

    def _issues_to_grid(self, s: Sheet) -> None:
        """A dry run knows more than the grid's checks (a required field of a row that creates a
        record, a possible duplicate): its issues become the grid's for the rows it saw."""
        checker = s.checker
        if checker is None or s.id not in self.outcomes:
            return
        s.store.set_issues({n: list(r.issues) for n, r in self.outcomes[s.id].items()}, checker.col_of)

    def merge(self, retry: Job) -> None:
        """A retry's outcomes replace this job's for the rows it retried."""
        self.retried.append(retry)
        for sid, outcomes in retry.outcomes.items():
            self.outcomes.setdefault(sid, {}).update(outcomes)

    def pause(self) -> None:
        self.stop.set()

    def resume(self) -> Job:
        if self.status != "paused":
            raise ValueError(f"the run is {self.status}, not paused")
        return self.start(resume=True)

    # --- views --------------------------------------------------------------------------------
    def progress(self) -> dict[str, Any]:
        """Rows done per phase, the write pace and the rate limit, an ETA, counts so far."""
        write = self.phases.get(f"{self.current}:write")
        plan = self.phases.get(f"{self.current}:plan")
        rate = eta = None
        if write is not None and write.done:
            spent = (write.finished or time.monotonic()) - write.started
            rate = write.done / spent if spent > 0 else None
            if rate and write.total:
                eta = max(0.0, (write.total - write.done) / rate)
        pacer = getattr(self.ws.client, "pacers", {}).get("write") if not self.dry_run else None
        limit = getattr(pacer, "server_limit", None) or getattr(pacer, "rate", None)
        counts: dict[str, int] = {}
        for rows in self.outcomes.values():
            for r in rows.values():
                counts[r.outcome] = counts.get(r.outcome, 0) + 1
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "error": self.error,
            "phase": self.phase,
            "sheet": self.current,
            "sheets": [s.id for s in self.sheets],
            "write": {"done": write.done, "total": write.total} if write is not None else None,
            "plan": {"done": plan.done, "total": plan.total} if plan is not None else None,
            "rows_per_s": round(rate, 1) if rate else None,
            "rate_limit_per_s": round(float(limit), 1) if limit else None,
            "eta_s": round(eta, 1) if eta is not None else None,
            "rate_limited": self.rate_limited,
            "retries": self.retries,
            "messages": list(self.messages),
            "counts": counts,
            "run_ids": {sid: r.run_id for sid, r in self.reports.items() if r.run_id},
            "results": {sid: r.results_path for sid, r in self.reports.items() if r.results_path},
            "input": str(self.inputs.get("*")) if "*" in self.inputs and not self.ws.uploaded else None,
            "seconds": round((self.finished or time.monotonic()) - self.started, 1),
            "failed_rows": sum(1 for rows in self.outcomes.values() for r in rows.values() if _failed(r)),
        }

    def rows_page(self, sid: str, offset: int, limit: int, *, outcome: str | None = None) -> dict[str, Any]:
        """Result rows of one sheet in order, with the sheet's cells: outcome, record, changes
        (before → after per field, option labels shown) and issues. ``outcome`` filters
        (``created``, ``updated``, ``unchanged``, ``failed``, ``skipped``; a dry run's words too)."""
        s = self.ws.sheet(sid)
        rows = self.outcomes.get(sid, {})
        ns = sorted(n for n, r in rows.items() if outcome is None or _word(r.outcome) == _word(outcome))
        part = ns[offset : offset + limit]
        cells = {n: (number, c) for n, number, c in s.store.rows_at(part)}
        report = self.reports.get(sid)
        references = s.checker.references if s.checker else None
        _learn_names(report, [rows[n] for n in part], references)
        out = []
        for n in part:
            r = rows[n]
            number, c = cells.get(n, (r.row, []))
            out.append(
                {
                    "n": n,
                    "number": number,
                    "outcome": r.outcome,
                    "record_id": r.record_id,
                    "link": r.link,
                    "changes": _changes(report, r, references),
                    "issues": [
                        issue_json(i, s.checker.col_of(i.column) if s.checker else -1) for i in r.issues
                    ],
                    "cells": [None if v is None else str(v) for v in c[: len(s.headers)]],
                }
            )
        return {"offset": offset, "limit": limit, "total": len(ns), "rows": out}


def undo_function() -> Any:
    """The library's undo (issue 11: ``bulkio undo RUN_ID``), called as
    ``undo(run_id, client=…, on_event=…, stop=…) → RunReport``; None when this bulkio has none."""
    from ..undo import undo

    return undo


def _word(outcome: str) -> str:
    """``would create`` → ``created``: one filter for a run and a dry run."""
    return {
        "would create": "created",
        "would update": "updated",
        "would fail": "failed",
        "would skip": "skipped",
    }.get(outcome, outcome)


def _failed(r: RowReport) -> bool:
    return _word(r.outcome) == "failed"


def _changes(report: RunReport | None, r: RowReport, references: Any = None) -> list[dict[str, Any]]:
    """Each changed field: its label, the value before and the value after, as sheets show them
    (option labels; related records by name where the page's lookups know it)."""
    from ..results import changes_text

    schema = report._schema if report is not None else None
    out = []
    for key, pair in r.changes.items():
        old, new = (pair[0], pair[1]) if len(pair) == 2 else (None, pair[-1])
        rel = schema.relationships.get(key) if schema is not None else None
        if rel is not None:
            directory = getattr(references, "directories", {}).get(rel.object_type)
            names = getattr(directory, "names", {})
            before, after = _named(old, names), _named(new, names)
            label = rel.label or key
        else:
            text = changes_text({key: (old, new)}, schema)[len(key) + 2 :]
            before, _, after = text.partition(" → ")
            label = schema.fields[key].label if schema is not None and key in schema.fields else key
        out.append({"field": key, "label": label, "before": before, "after": after, "created": old is None})
    return out


#: Related records looked up by id per page of results, to show their names (records the run itself
#: created are not in the page's lookups yet).
NAME_LOOKUPS = 20


def _learn_names(report: RunReport | None, rows: list[RowReport], references: Any) -> None:
    schema = report._schema if report is not None else None
    if schema is None or references is None:
        return
    wanted: dict[str, set[str]] = {}
    for r in rows:
        for key, pair in r.changes.items():
            rel = schema.relationships.get(key)
            if rel is None:
                continue
            for value in pair:
                for rid in value if isinstance(value, list) else [value]:
                    if isinstance(rid, str) and rid:
                        wanted.setdefault(rel.object_type, set()).add(rid)
    for otype, ids in wanted.items():
        directory = references.directory(otype)
        unknown = sorted(i for i in ids if i not in directory.names)[:NAME_LOOKUPS]
        if unknown:
            try:
                directory.prefetch(set(unknown))
            except BulkioError:
                continue  # names are a nicety: the ids still show


def _named(value: Any, names: dict[str, str]) -> str:
    """Record ids as their names (``Ava Admin``), the id itself when the name is not known."""
    if value is None or value == []:
        return "(empty)"
    ids = value if isinstance(value, list) else [value]
    return "; ".join(names.get(str(i), str(i)) for i in ids)


def _writable(folder: Path) -> bool:
    import os

    return folder.is_dir() and os.access(folder, os.W_OK)
