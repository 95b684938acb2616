"""The importer's entry points: :func:`import_file` (a CSV/XLSX/XLS/ODS file) and
:func:`import_frame` (a pandas DataFrame) drive the run phases of :mod:`bulkio.phases` (prepare →
plan → write → settle → report) for one sheet and return a :class:`~bulkio.report.RunReport`; the CLI
and the results sheet are views of it. A whole workbook (every sheet, in dependency order, one run)
is :func:`bulkio.workbook.import_workbook`.

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
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .definitions import ObjectSchema
from .errors import ConfigError, InputFileError
from .events import EventHandler
from .phases import CHUNK, KEEP_CHANGES, SheetRun, run_sheet
from .report import MAX_REPORT_ROWS, Counts, OutcomeStore, RowReport, RunReport
from .resume import (
    LIST_SETTLE,
    LIST_SETTLE_GUESS,
    REPLAY_WINDOW,
    WRITTEN_OPTIONS,
    file_fingerprint,
    ledger_target,
    mapping_fingerprint,
    run_fingerprint,
)

if TYPE_CHECKING:
    import pandas as pd

    from .protocols import CrmClient
    from .results import Lookup

__all__ = [
    "CHUNK",
    "KEEP_CHANGES",
    "LIST_SETTLE",
    "LIST_SETTLE_GUESS",
    "MAX_REPORT_ROWS",
    "REPLAY_WINDOW",
    "WRITTEN_OPTIONS",
    "Counts",
    "OutcomeStore",
    "RowReport",
    "RunReport",
    "file_fingerprint",
    "import_file",
    "import_frame",
    "mapping_fingerprint",
    "results_destination",
    "run_fingerprint",
]


# --- sources ---------------------------------------------------------------------------------


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


def _run_import(
    run: SheetRun, *, write_results: Callable[[Lookup, ObjectSchema], str | None], **prepare: Any
) -> RunReport:
    """One sheet through every phase (:func:`bulkio.phases.run_sheet`)."""
    return run_sheet(run, write_results, **prepare)


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
    errors_path: str | Path | None = None,
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
    beside the input); ``errors_path`` gets only the rows that failed (or were skipped), in the
    input's own columns plus ``Errors``, ready to fix and import again; the resume ledger to ``ledger_path`` (default: ``ledger.sqlite3`` in the
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
                errors_path=errors_path,
            )
    from . import read
    from .ledger import Ledger
    from .results import default_results_path, is_xlsx
    from .results import write_results as _write
    from .results_csv import source_rows, write_csv_results
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
                errors_path=errors_path,
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
    errors_dest = Path(errors_path) if errors_path else None
    if errors_dest is not None:
        if errors_dest.resolve() == path.resolve():
            raise ConfigError(f"The errors file would replace the input file {path}: choose another file.")
        _check_writable(errors_dest)
    fingerprint = file_fingerprint(path)
    run = SheetRun(
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
        # a CSV's results come from its own lines (read as this encoding)
        csv_encoding = table.encoding if table.kind == "csv" else None
        if not csv_encoding or is_xlsx(dest):  # rows for an XLSX results sheet, up to read.KEEP_CELLS
            table.keep_rows()

        def reread() -> Any:
            return read.open_table(
                path,
                sheet=table.table_name or sheet_name,
                encoding=table.encoding,
                delimiter=getattr(table, "delimiter", None),
                header_row=table.header_row,
                name=shown,
            )

        @contextmanager
        def rows_again() -> Iterator[tuple[list[str], Iterable[Any], int]]:
            """The input's header, rows and header row, read a second time for the results: a
            CSV's by its own lines (:func:`bulkio.results_csv.source_rows`), a workbook's as the
            first read kept them (:class:`bulkio.read.KeptRows`), else by the reader."""
            kept = table.rows_kept()
            if kept is not None:
                yield table.headers, kept, table.header_row
                return
            if csv_encoding:
                rows = source_rows(
                    path,
                    table.headers,
                    encoding=csv_encoding,
                    delimiter=used_delimiter,
                    header_row=table.header_row,
                    name=shown,
                    untouched=table.untouched,
                )
                try:
                    yield table.headers, rows, table.header_row
                finally:
                    rows.close()  # the file, also when the writer stopped early
                return
            with reread() as again:
                yield again.headers, again.rows, getattr(again, "header_row", 1)

        def write_results(get: Lookup, schema: ObjectSchema) -> str:
            if csv_encoding and not is_xlsx(dest):
                # CSV in, CSV out: the input's own lines, with the outcome columns added
                write_csv_results(
                    dest,
                    path,
                    table.headers,
                    get,
                    encoding=csv_encoding,
                    delimiter=used_delimiter,
                    header_row=table.header_row,
                    dry_run=dry_run,
                    schema=schema,
                    name=shown,
                    untouched=table.untouched,
                )
            else:
                with rows_again() as (headers, rows, first_row):
                    _write(
                        dest,
                        headers,
                        rows,
                        get,
                        dry_run=dry_run,
                        schema=schema,
                        header_row=first_row,
                        delimiter=used_delimiter,
                        sheet_name=sheet_name or "Results",
                        # a CSV's numbers and dates as number and date cells
                        types=run.cell_types(len(headers)) if csv_encoding else None,
                    )
            if errors_dest is not None:
                from .results import ResultSheet, write_errors

                with rows_again() as (headers, rows, _):
                    part = ResultSheet(sheet_name or "Errors", list(headers), rows, get, dry_run)
                    write_errors(errors_dest, [part], delimiter=used_delimiter)
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
        report = _run_import(
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
        report.errors_path = str(errors_dest) if errors_dest is not None else None
        return report
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
    ident = hashlib.sha256(f"{ledger_target(client)}\n{object_type}\n{fingerprint}".encode()).hexdigest()[:24]
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
    run = SheetRun(
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
