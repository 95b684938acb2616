"""Import a whole workbook (or a folder of CSVs) in one run: ``bulkio import pipeline BOOK.xlsx``.

Why one run and not one import per sheet: a workbook that adds accounts, their contacts and their
deals refers from sheet to sheet to records that exist only in the same workbook, and lists lag
(API-FACTS §6), so a contact imported seconds after its account would not find it. Here:

* **Sheets are recognised by name** (Accounts, Contacts, Opportunities or Deals, Tasks, Notes,
  custom objects by their name or label, singular or plural; ``sheet_map`` for other names; a
  folder's CSV files by their file name, also ``pipeline-accounts.csv`` as ``bulkio export`` names
  them). Summary, Members and a template's helper sheets are not imported, and neither is a sheet
  named like nothing (the report says so).
* **Dependency order**: a sheet whose object refers to another sheet's object comes after it
  (accounts → contacts → opportunities → tasks and notes); where two refer to each other (an
  account's contacts, a contact's accounts), accounts come first.
* **Every sheet is prepared before anything is written** (headers, mapping, options, the
  ledger), so a sheet that cannot be imported stops the run before its first request.
* **References between sheets** resolve to rows of the same workbook by key, name, email or
  record id: each sheet hands the records it wrote (or, in a dry run, would create: under a
  placeholder id) to the next sheets' reference lookups directly, whatever lists show yet. A
  reference to a row that failed matches no record and skips its row as ``depends_on_failed``,
  naming that row (:mod:`bulkio.resolve`).
* **One run**: one workbook run in the ledger with a sheet run per sheet (``--resume`` continues
  them all, each where it stopped), one results workbook (a Summary and a sheet per input sheet,
  :func:`bulkio.results.write_results_book`), one report, one exit code. A stopping error or Ctrl-C
  ends the run after the sheet it happened in; the results workbook shows the later sheets'
  rows as ``not_written``.

>>> report = import_workbook("pipeline.xlsx", client=client, dry_run=True)   # doctest: +SKIP
>>> [(s.sheet, s.counts.updated) for s in report.sheets]                      # doctest: +SKIP
[('Accounts', 1), ('Contacts', 1), ('Opportunities', 2), ('Tasks', 1), ('Notes', 0)]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .crm.base import PipelineSource
from .errors import ConfigError, InputFileError
from .events import EventHandler, Message
from .gctune import fewer_collections
from .issues import Issue
from .operations import RowOutcome
from .phases import SheetRun, object_schema
from .plan import key_text
from .report import Counts, RunReport
from .resolve import Directory, References
from .resume import file_fingerprint, find_run_to_resume, ledger_target, run_fingerprint
from .validate import CheckedRow
from .values import CLEAR
from .vocabulary import OUTCOMES, SCHEMA_VERSION, outcome_word

if TYPE_CHECKING:
    from .operations import Operation
    from .protocols import CrmClient

#: The ledger's object type of a workbook run (its sheets are runs of their own objects).
WORKBOOK_OBJECT = "pipeline"
#: Objects in the order they are imported when references do not decide (accounts first).
ORDER = ("account", "lead", "contact", "opportunity", "task", "note")
#: Sheet (or CSV file) names people use for objects, beyond the object's own names.
ALIASES = {
    "companies": "account",
    "company": "account",
    "organizations": "account",
    "organisations": "account",
    "people": "contact",
    "persons": "contact",
    "deals": "opportunity",
    "deal": "opportunity",
}
#: Sheets of an exported workbook, a template or a results workbook that hold no records to import.
NOT_RECORDS = frozenset(
    {
        "summary",
        "members",
        "member",
        "users",
        "instructions",
        "reference",
        "readme",
        "read me",
        "lists",
        "help",
    }
)
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


class SkippedSheet(BaseModel):
    """A sheet (or file) of the input that was not imported, and why."""

    sheet: str
    reason: str


class WorkbookReport(BaseModel):
    """What a workbook import did (or, with ``dry_run``, would do): one :class:`RunReport` per
    imported sheet, in the order they ran, and the totals. ``ok`` is False when any row failed."""

    schema_version: int = SCHEMA_VERSION
    ok: bool
    file: str
    dry_run: bool = False
    run_id: str | None = None
    counts: Counts = Field(default_factory=Counts)
    sheets: list[RunReport] = Field(default_factory=list)
    skipped_sheets: list[SkippedSheet] = Field(default_factory=list)
    duration_s: float = 0.0
    rows_per_s: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    results_path: str | None = None
    errors_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (docs/json.md)."""
        return {
            **{k: v for k, v in self.model_dump(exclude={"sheets"}).items()},
            "sheets": [s.to_dict() for s in self.sheets],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)


@dataclass
class SheetPlan:
    """One sheet to import: its title, object type, and where its rows are (the workbook and the
    sheet's title, or a CSV file)."""

    title: str
    object_type: str
    path: Path
    sheet: str | None
    fingerprint: str = ""
    depends_on: list[str] = field(default_factory=list)


# --- which sheets, in which order -------------------------------------------------------------------


def _names(client: Any) -> dict[str, str]:
    """Folded sheet name → object type, for every object the backend writes."""
    names: dict[str, str] = {}

    def add(name: str, otype: str) -> None:
        folded = " ".join(name.split()).casefold()
        if folded:
            names.setdefault(folded, otype)

    if isinstance(client, PipelineSource):
        for otype, title in client.sheet_names.items():
            add(title, otype)
    else:
        from .export import SHEET_NAMES

        for otype, title in SHEET_NAMES.items():
            add(title, otype)
    for t in client.all_object_types():
        otype = str(t.get("objectType") or "")
        if not otype or otype in ("member", "list"):
            continue
        for base in (otype, str(t.get("label") or "")):
            add(base, otype)
            add(base + "s", otype)
            if base.endswith("y"):
                add(base[:-1] + "ies", otype)
    for alias, otype in ALIASES.items():
        if any(v == otype for v in names.values()):
            add(alias, otype)
    return names


def _object_of(title: str, names: dict[str, str]) -> str | None:
    """The object a sheet (or a CSV file's stem: ``accounts``, ``pipeline-accounts``) holds."""
    folded = " ".join(title.split()).casefold()
    if folded in names:
        return names[folded]
    for sep in ("-", "_", " "):
        if sep in folded:
            tail = folded.rsplit(sep, 1)[1]
            if tail in names:
                return names[tail]
    # other CRMs' export names: hubspot-crm-exports-all-deals-2024-09-02, Acme Sales contacts 2024-09-02
    found = {names[w] for w in re.split(r"[\s_.-]+", folded) if w in names}
    return found.pop() if len(found) == 1 else None


def _object_by_headers(file: Path, sheet: str | None) -> str | None:
    """The object whose export profile recognises the sheet's headers (Salesforce's ``Account.csv``
    is named for it; Close's ``… leads ….csv`` is not), when exactly one does."""
    from . import read
    from .profiles import detect_any

    try:
        with read.open_table(file, sheet=sheet) as t:
            headers = [str(h) if h is not None else "" for h in t.headers]
    except InputFileError:
        return None
    objects = {obj for _vendor, obj, _label in detect_any(headers)}
    return objects.pop() if len(objects) == 1 else None


def plan_sheets(
    client: CrmClient, path: str | Path, sheet_map: Mapping[str, str] | None = None
) -> tuple[list[SheetPlan], list[SkippedSheet]]:
    """The sheets of ``path`` (a workbook, or a folder of CSV files) to import, in dependency
    order, and the ones that are not imported (with why). ``sheet_map`` maps a sheet title (or
    file name) to an object type for names that say nothing (``{"Firmen": "account"}``)."""
    from . import read

    p = Path(path)
    names = _names(client)
    known = set(names.values())
    wanted = {" ".join(k.split()).casefold(): v for k, v in (sheet_map or {}).items()}
    for title, mapped in (sheet_map or {}).items():
        if mapped not in known:
            raise ConfigError(
                f"--sheet-map {title}={mapped}: {mapped!r} is not an object this CRM imports "
                f"({', '.join(sorted(known))})"
            )
    found: list[tuple[str, Path, str | None]] = []  # (title, file, sheet)
    if p.is_dir():
        for child in sorted(p.iterdir()):
            if child.is_file() and child.suffix.lower() in CSV_SUFFIXES and not child.name.startswith("."):
                found.append((child.stem, child, None))
        if not found:
            raise InputFileError("the folder holds no .csv files", path=str(path))
    else:
        for title, visible in read.list_sheets(p, name=str(path)):
            if visible or " ".join(title.split()).casefold() in wanted:
                found.append((title, p, title))
    plans: list[SheetPlan] = []
    skipped: list[SkippedSheet] = []
    seen: dict[str, str] = {}
    for title, file, sheet in found:
        folded = " ".join(title.split()).casefold()
        otype: str | None = wanted.get(folded) or (
            None
            if folded in NOT_RECORDS or folded.endswith(".results")
            else _object_of(title, names) or _object_by_headers(file, sheet)
        )
        if otype is None:
            why = (
                "holds no records to import"
                if folded in NOT_RECORDS or folded.endswith(".results")
                else f"not named like an object (--sheet-map '{title}=OBJECT' imports it)"
            )
            skipped.append(SkippedSheet(sheet=title, reason=why))
            continue
        if otype in seen:
            raise ConfigError(
                f"{path}: sheets {seen[otype]!r} and {title!r} both hold {otype} records; import one, "
                "or name the other in --sheet-map"
            )
        seen[otype] = title
        plans.append(SheetPlan(title, otype, file, sheet))
    return _ordered(client, plans), skipped


def _ordered(client: CrmClient, plans: list[SheetPlan]) -> list[SheetPlan]:
    """Referenced sheets before the sheets that refer to them; :data:`ORDER` breaks ties and
    cycles (accounts first)."""
    present = {p.object_type: p for p in plans}

    def rank(p: SheetPlan) -> tuple[int, str]:
        otype = p.object_type
        return (ORDER.index(otype) if otype in ORDER else ORDER.index("opportunity") + 1, otype)

    needs: dict[str, set[str]] = {}
    for p in plans:
        schema = object_schema(client, p.object_type)
        refs = {
            r.object_type
            for r in schema.relationships.values()
            if not r.read_only and r.object_type in present and r.object_type != p.object_type
        }
        needs[p.object_type] = refs
        p.depends_on = sorted(refs)
    out: list[SheetPlan] = []
    left = sorted(plans, key=rank)
    while left:
        done = {p.object_type for p in out}
        ready = [p for p in left if needs[p.object_type] <= done] or left[:1]  # a cycle: by rank
        out.append(ready[0])
        left.remove(ready[0])
    return out


# --- handing records from sheet to sheet ----------------------------------------------------------


def _identity(row: CheckedRow, key_field: str) -> dict[str, Any]:
    """What a reference may name a row's record by: its key, name (or title) and email."""
    fields: dict[str, Any] = {}
    for k in dict.fromkeys((key_field, "external_id", "$name", "$title", "$email")):
        v = row.values.get(k)
        if v is None or v is CLEAR:
            continue
        if k in (key_field, "external_id"):
            v = key_text(v)
            if v is None:
                continue
        fields[k] = {"value": v}
    return fields


def placeholder_id(object_type: str, title: str, row: int) -> str:
    """How a dry run names a record a workbook row would create (a reference to it resolves)."""
    return f"(new {object_type}: {title} row {row})"


class _Handover:
    """Hands the records a sheet wrote (or would create) to the reference lookups of the next
    sheets, and the rows that failed, so references to them are ``depends_on_failed``."""

    def __init__(self, directory: Directory, plan: SheetPlan, key_field: str, dry_run: bool) -> None:
        self.directory, self.plan, self.key_field, self.dry_run = directory, plan, key_field, dry_run
        self.waiting: dict[int, dict[str, Any]] = {}

    def planned(self, rows: Sequence[CheckedRow], ops: Sequence[Operation]) -> None:
        for row in rows:
            self.waiting[row.row] = _identity(row, self.key_field)

    def resumed(self, row: CheckedRow, outcome: RowOutcome | None) -> None:
        ident = _identity(row, self.key_field)
        if outcome is None:
            self.waiting[row.row] = ident  # a pending intent: its outcome comes from the writer
        else:
            self._hand(ident, outcome)

    def outcome(self, outcome: RowOutcome) -> None:
        ident = self.waiting.pop(outcome.row, None)
        if ident is not None:
            self._hand(ident, outcome)

    def _hand(self, ident: dict[str, Any], outcome: RowOutcome) -> None:
        if outcome.outcome in ("created", "updated", "unchanged"):
            rid = outcome.record_id
            if rid is None and self.dry_run and outcome.outcome == "created":
                rid = placeholder_id(self.plan.object_type, self.plan.title, outcome.row)
            if rid:
                self.directory.add_fresh({"id": rid, "fields": ident})
        elif ident:
            self.directory.add_failed({"fields": ident}, f"row {outcome.row} of sheet {self.plan.title}")


# --- the run ---------------------------------------------------------------------------------------


def book_fingerprint(path: Path) -> str:
    """A workbook's content hash; for a folder, of its CSV files' names and contents."""
    if not path.is_dir():
        return file_fingerprint(path)
    h = hashlib.sha256()
    for child in sorted(path.iterdir()):
        if child.is_file() and child.suffix.lower() in CSV_SUFFIXES and not child.name.startswith("."):
            h.update(child.name.encode() + b"\0" + file_fingerprint(child).encode() + b"\n")
    return "sha256:" + h.hexdigest()


def default_paths(path: Path) -> tuple[Path, Path]:
    """``book.xlsx`` → ``book.results.xlsx`` and ``book.errors.xlsx`` beside it (a folder
    ``data/`` → ``data.results.xlsx`` beside the folder)."""
    stem = path.name if path.is_dir() else path.stem
    return path.with_name(f"{stem}.results.xlsx"), path.with_name(f"{stem}.errors.xlsx")


def import_workbook(
    path: str | Path,
    *,
    client: CrmClient | None = None,
    sheet_map: Mapping[str, str] | None = None,
    key_field: str = "external_id",
    dry_run: bool = False,
    resume: bool = False,
    results_path: str | Path | None = None,
    errors_path: str | Path | None = None,
    ledger_path: str | Path | None = None,
    date_order: str | None = None,
    tz: str = "UTC",
    concurrency: int = 8,
    on_event: EventHandler | None = None,
    stop: threading.Event | None = None,
    profile: str | None = None,
    locale: str | None = None,
    phone_region: str | None = None,
    allow_duplicates: bool = False,
) -> WorkbookReport:
    """Import every sheet of a workbook (.xlsx, .xls, .ods), or every CSV file of a folder, in one
    run, and return the :class:`WorkbookReport`.

    Sheets are recognised by name (``sheet_map`` for others) and imported in dependency order;
    references between sheets find the rows of the same workbook, also records created seconds
    earlier. The results workbook goes to ``results_path`` (default ``<book>.results.xlsx``
    beside the input); ``errors_path`` gets the rows that failed or were skipped, a sheet per input
    sheet, ready to fix and import again. ``resume`` continues the last unfinished run of the same
    workbook; the other options are those of :func:`bulkio.pipeline.import_file`, for every sheet.
    """
    if client is None:
        from .config import connect

        with connect() as c:
            return import_workbook(
                path,
                client=c,
                sheet_map=sheet_map,
                key_field=key_field,
                dry_run=dry_run,
                resume=resume,
                results_path=results_path,
                errors_path=errors_path,
                ledger_path=ledger_path,
                date_order=date_order,
                tz=tz,
                concurrency=concurrency,
                on_event=on_event,
                stop=stop,
                profile=profile,
                locale=locale,
                phone_region=phone_region,
                allow_duplicates=allow_duplicates,
            )
    from . import read
    from .ledger import Ledger
    from .pipeline import _check_writable, _one_import_at_a_time
    from .results import ResultSheet, write_errors, write_results_book
    from .rowcount import count_rows
    from .state import ledger_path as default_ledger_path

    started = time.monotonic()
    stats0 = getattr(client, "stats", None)
    emit: EventHandler = on_event or (lambda e: None)
    book = Path(path)
    shown = str(path)
    if not book.exists():
        raise InputFileError("file not found", path=shown)
    plans, skipped = plan_sheets(client, book, sheet_map)
    if not plans:
        raise InputFileError(
            "no sheet is named like an object to import ("
            + "; ".join(f"{s.sheet!r}: {s.reason}" for s in skipped)
            + ")",
            path=shown,
        )
    for s in skipped:
        emit(Message(f"sheet {s.sheet!r} is not imported: {s.reason}"))
    dest_default = default_paths(book)[0]
    dest = Path(results_path) if results_path else dest_default
    if results_path and (os.fspath(results_path).endswith(("/", os.sep)) or dest.is_dir()):
        dest = dest / dest_default.name
    errors_dest = Path(errors_path) if errors_path else None
    for out in (dest, errors_dest):
        if out is None:
            continue
        if out.resolve() == book.resolve():
            raise ConfigError(f"{out} would replace the input {book}: choose another file.")
        if out.suffix.lower() not in (".xlsx", ".xlsm"):
            raise ConfigError(f"{out}: the results and errors of a workbook are a workbook; name it .xlsx")
        _check_writable(out)
    fingerprint = book_fingerprint(book)
    for plan in plans:
        plan.fingerprint = fingerprint if plan.sheet is not None else file_fingerprint(plan.path)
    lpath = Path(ledger_path) if ledger_path else default_ledger_path()
    target = ledger_target(client)
    options: dict[str, Any] = {
        "key_field": key_field,
        "sheet": None,
        "sheet_map": dict(sorted((sheet_map or {}).items())),
        "date_order": date_order,
        "tz": tz,
        "profile": "auto" if profile in (None, "auto") else profile.lower(),
        "locale": locale,
        "phone_region": phone_region,
    }
    book_fp = run_fingerprint(WORKBOOK_OBJECT, fingerprint, options)
    references = References(client, concurrency=concurrency, key_field=key_field)
    referenced = {d for p in plans for d in p.depends_on}
    runs: list[tuple[SheetPlan, SheetRun, Any]] = []
    with ExitStack() as stack:
        ledger = None
        if not dry_run or lpath.exists():
            lpath.parent.mkdir(parents=True, exist_ok=True)
            ledger = stack.enter_context(Ledger(lpath))
        parent_id: str | None = None
        resumed = False
        if ledger is not None and not dry_run:
            share = getattr(client, "share_pacing", None)
            if share is not None:
                share(lpath.parent)
            stack.enter_context(_one_import_at_a_time(lpath, client, WORKBOOK_OBJECT, fingerprint, book))
            info = (
                find_run_to_resume(ledger, WORKBOOK_OBJECT, target, shown, fingerprint, book_fp, options)
                if resume
                else None
            )
            if info is not None:
                parent_id, resumed = info.run_id, True
                emit(Message(f"resuming run {parent_id} of {shown}"))
            else:
                if resume:
                    emit(Message("no unfinished run to resume for this workbook; starting a new one"))
                parent_id = ledger.start_run(
                    input_path=read.spooled_name(book) or str(book.resolve()),
                    input_fingerprint=fingerprint,
                    object_type=WORKBOOK_OBJECT,
                    target=target,
                    options=options,
                    run_fingerprint=book_fp,
                )
        # --- prepare every sheet: nothing is written if one of them cannot be imported ---------
        children: list[str] = []
        budget = read.CellBudget()  # the workbook sheets' rows kept for the results, all sheets together
        try:
            for plan in plans:
                table = stack.enter_context(
                    read.open_table(plan.path, sheet=plan.sheet, object_type=plan.object_type, name=shown)
                )
                table.keep_rows(budget)
                run = SheetRun(
                    client,
                    plan.object_type,
                    key_field=key_field,
                    dry_run=dry_run,
                    concurrency=concurrency,
                    on_event=on_event,
                    stop=stop,
                )
                if plan.object_type in referenced:
                    run.observer = _Handover(references.directory(plan.object_type), plan, key_field, dry_run)
                header_row = getattr(table, "header_row", 1)
                sheet_options = {
                    "key_field": key_field,
                    "sheet": table.sheet,
                    "date_order": date_order,
                    "tz": tz,
                    "encoding": getattr(table, "encoding", None),
                    "delimiter": getattr(table, "delimiter", None),
                    "mapping": None,
                    "mapping_sha": None,
                    "profile": options["profile"],
                    "locale": locale,
                    "phone_region": phone_region,
                    "percent": [],
                    "match": None,
                    "header_row": header_row,
                }
                where = table.sheet or plan.title
                run.prepare(
                    source_rows=iter(table.rows),
                    headers=list(table.headers),
                    header_row=header_row,
                    file=shown if plan.sheet is not None else str(plan.path),
                    sheet=where if plan.sheet is not None else None,
                    file_issues=table.issues,
                    mapping=None,
                    date_order=date_order,
                    tz=tz,
                    ledger=ledger,
                    ledger_input=(str(book.resolve()) + f"#{where}")
                    if plan.sheet
                    else str(plan.path.resolve()),
                    fingerprint=plan.fingerprint,
                    resume=resumed,
                    options=sheet_options,
                    expected_rows=count_rows(plan.path, sheet=plan.sheet, header_row=header_row)
                    or max(0, (table.row_count_hint or 0) - header_row),
                    profile=profile,
                    locale=locale,
                    phone_region=phone_region,
                    run_fingerprint=_sheet_fingerprint(parent_id, plan),
                    allow_duplicates=allow_duplicates,
                    references=references,
                    parent_run=parent_id,
                    settle_exclude=children,
                )
                if run.run_id is not None:
                    children.append(run.run_id)
                runs.append((plan, run, table))
        except BaseException:
            if ledger is not None and not resumed:
                for run_id in [*children, *([parent_id] if parent_id else [])]:
                    ledger.discard_run(run_id)  # nothing was written under them
            raise
        # --- plan and write, sheet after sheet --------------------------------------------------
        error: BaseException | None = None
        for i, (plan, run, _table) in enumerate(runs):
            # a reference to an object whose sheet comes later (a cycle: accounts listing their
            # contacts) is linked from that sheet's side; once its sheet runs, no longer
            for j, (other, _, _) in enumerate(runs):
                if other.object_type != plan.object_type:
                    references.directory(other.object_type).later = other.title if j > i else None
            if error is not None or (stop is not None and stop.is_set()):
                run.error, run.interrupted = error, True  # never started: its rows say not_written
                run.emit(Message(f"sheet {plan.title} was not started: {run.reason()}"))
                continue
            emit(Message(f"sheet {plan.title}: {plan.object_type}"))
            with fewer_collections():  # rows live for a chunk: see bulkio.gctune
                run.write(run.operations())  # a dry run's error is raised here: nothing was written
            run.settle()
            error = run.error
        # --- report: one results workbook, then the ledger runs are finished -------------------
        parts = [_result_sheet(plan, run, table, shown, read, ResultSheet) for plan, run, table in runs]
        summary_headers, summary = _summary(runs, skipped, dry_run)
        written: str | None = None
        try:
            write_results_book(dest, parts, summary=summary, summary_headers=summary_headers)
            written = str(dest)
        except (Exception, KeyboardInterrupt) as exc:  # the run's error comes first
            if error is None:
                raise
            error.add_note(
                f"The results workbook was not written ({type(exc).__name__}: {exc}); the ledger keeps "
                "every outcome, so a resumed run continues where this one stopped."
            )
        errors_written: str | None = None
        if errors_dest is not None and written is not None:
            fresh = [_result_sheet(plan, run, table, shown, read, ResultSheet) for plan, run, table in runs]
            write_errors(errors_dest, fresh)
            errors_written = str(errors_dest)
        if error is not None:
            if written:
                error.add_note(
                    f"The results workbook {written} shows what was written (the other rows say "
                    "not_written); re-run with --resume to continue."
                )
            raise error
        if ledger is not None and parent_id is not None:
            interrupted = any(run.interrupted for _, run, _ in runs)
            for _, run, _ in runs:
                run.finish_ledger()
            if not interrupted:
                ledger.finish_run(parent_id)
    reports = [run.report(written) for _, run, _ in runs]
    counts = Counts()
    for r in reports:
        for o in OUTCOMES:
            setattr(counts, o, getattr(counts, o) + getattr(r.counts, o))
    duration = time.monotonic() - started
    s1 = getattr(client, "stats", None)

    def delta(name: str) -> int:
        return max(0, int(getattr(s1, name, 0)) - int(getattr(stats0, name, 0))) if s1 is not None else 0

    return WorkbookReport(
        ok=all(r.ok for r in reports),
        file=shown,
        dry_run=dry_run,
        run_id=parent_id,
        counts=counts,
        sheets=reports,
        skipped_sheets=skipped,
        duration_s=round(duration, 3),
        rows_per_s=round(counts.total / duration, 1) if duration > 0 else 0.0,
        requests=delta("requests"),
        rate_limited=delta("rate_limited"),
        retries=delta("retries"),
        results_path=written,
        errors_path=errors_written,
    )


def _sheet_fingerprint(parent_id: str | None, plan: SheetPlan) -> str | None:
    """A sheet run is found again (``--resume``) by its workbook run and its sheet, only."""
    if parent_id is None:
        return None
    data = f"{parent_id}\n{plan.title}\n{plan.object_type}"
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


def _result_sheet(plan: SheetPlan, run: SheetRun, table: Any, shown: str, read: Any, cls: Any) -> Any:
    """One sheet of the results (or errors) workbook: the sheet read again, row for row."""

    def rows() -> Iterator[Any]:
        kept = table.rows_kept()
        if kept is not None:  # a workbook sheet's rows as the first read kept them
            yield from kept
            return
        if _by_lines(table):  # a CSV's rows, read fast again
            from .results_csv import source_rows

            yield from source_rows(
                plan.path,
                table.headers,
                encoding=table.encoding,
                delimiter=getattr(table, "delimiter", None) or ",",
                header_row=table.header_row,
                name=shown,
                untouched=table.untouched,
            )
            return
        with read.open_table(
            plan.path,
            sheet=table.table_name or table.sheet,
            encoding=table.encoding,
            delimiter=getattr(table, "delimiter", None),
            header_row=table.header_row,
            name=shown,
        ) as again:
            yield from again.rows

    width = len(table.headers)
    return cls(
        name=plan.title if plan.sheet is not None else _sheet_title(plan),
        headers=list(table.headers),
        rows=rows(),
        lookup=run.lookup(),
        dry_run=run.dry_run,
        schema=run.schema,
        header_row=getattr(table, "header_row", 1),
        types=run.cell_types(width) if plan.sheet is None else None,
    )


def _by_lines(table: Any) -> bool:
    """A CSV file whose rows the results read again from its own lines (cheaper than keeping them)."""
    return getattr(table, "kind", None) == "csv" and bool(table.encoding)


def _sheet_title(plan: SheetPlan) -> str:
    """A CSV file's sheet in the results workbook: named like the object's sheet in an export
    (``Accounts``), so the results (and errors) workbook imports again with ``import pipeline``."""
    from .export import SHEET_NAMES

    return SHEET_NAMES.get(plan.object_type) or plan.title


def _summary(
    runs: Sequence[tuple[SheetPlan, SheetRun, Any]], skipped: Sequence[SkippedSheet], dry_run: bool
) -> tuple[list[str], list[list[Any]]]:
    """The Summary sheet: outcomes per sheet (dry-run words in a dry run) and the sheets not imported."""
    words = [outcome_word(o, dry_run=dry_run) for o in OUTCOMES]
    headers = ["Sheet", "Object", *words, "Run ID", "Note"]
    rows: list[list[Any]] = []
    totals = dict.fromkeys(OUTCOMES, 0)
    for plan, run, _ in runs:
        counts = run.store.counts()
        for o in OUTCOMES:
            totals[o] += getattr(counts, o)
        note = ""
        if run.error is not None and not run.store.stored:
            note = "not started: the run stopped before this sheet"
        elif run.interrupted:
            note = "stopped: re-run with --resume"
        rows.append([plan.title, plan.object_type, *(getattr(counts, o) for o in OUTCOMES), run.run_id, note])
    rows.append(["Total", "", *(totals[o] for o in OUTCOMES), None, ""])
    for s in skipped:
        rows.append([s.sheet, "", *([None] * len(OUTCOMES)), None, f"not imported: {s.reason}"])
    return headers, rows


def issues_of(report: WorkbookReport) -> Iterator[Issue]:
    """Every issue of every sheet (file issues first, then rows in order)."""
    for sheet in report.sheets:
        yield from sheet.issues()


__all__ = [
    "SheetPlan",
    "SkippedSheet",
    "WorkbookReport",
    "import_workbook",
    "plan_sheets",
]
