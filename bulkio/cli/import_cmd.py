"""``bulkio import OBJECT FILE``: one call to :func:`bulkio.pipeline.import_file`, rendered;
``bulkio import pipeline BOOK.xlsx|DIR/``: one call to :func:`bulkio.workbook.import_workbook`.

Exit codes: 0 every row ok, 1 some rows failed (see the results sheet), 2 the run could not start
or stopped on an error (bad file, auth, a changed file on ``--resume``…), 3 interrupted.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any

import click

from ..vocabulary import OUTCOMES, outcome_word
from .console import (
    EXIT_OK,
    EXIT_ROWS_FAILED,
    INTERRUPTED,
    PROFILE_CHOICES,
    ProgressBars,
    common_options,
    connection_options,
    echo_table,
    guarded,
    object_type_checked,
)

if TYPE_CHECKING:  # the library is imported when the command runs (bulkio --help stays fast)
    from ..pipeline import RunReport
    from ..workbook import WorkbookReport

#: What Ctrl-C prints for an import that may have written (a dry run prints ``INTERRUPTED``).
INTERRUPTED_IMPORT = "Interrupted. Re-run with --resume to continue where this run stopped."
#: Rows of the plan a dry run prints (the results sheet has all of them).
PLAN_ROWS = 20
#: Groups of unresolved values printed (the JSON report has all of them).
UNRESOLVED_SHOWN = 30


def _count_rows(report: RunReport | WorkbookReport) -> list[tuple[str, Any]]:
    """The counts under the words every view uses (``would create`` … in a dry run)."""
    return [(outcome_word(o, dry_run=report.dry_run), getattr(report.counts, o)) for o in OUTCOMES]


def _run_facts(report: RunReport | WorkbookReport) -> list[tuple[str, Any]]:
    """How the run went, below the counts of a sheet's or a workbook's summary."""
    return [
        ("duration", f"{report.duration_s:.2f} s"),
        ("rows/s", report.rows_per_s),
        ("requests", report.requests),
        ("429s", report.rate_limited),
        ("retries", report.retries),
        ("results", report.results_path),
    ]


def _print_summary(report: RunReport) -> None:
    from ..results import errors_text

    c = report.counts
    if report.dry_run:
        click.echo("Dry run: nothing was written to the CRM. Planned:")
        echo_table(_count_rows(report))
        click.echo("")
        shown = 0
        for r in report.rows:
            if shown >= PLAN_ROWS:
                break
            if r.outcome == "unchanged" and not r.issues:
                continue
            shown += 1
            line = f"row {r.row}: {r.outcome}"
            if r.key:
                line += f" [{r.key}]"
            if r.record_id:
                line += f" {r.record_id}"
            click.echo(line)
            if r.changes:
                click.echo("    " + report.changes_text(r))
            for issue in r.issues:
                click.echo(
                    f"    {issue.severity}: {issue.code}: {issue.message}"
                    + (
                        f" (column {issue.column}" + (f" {issue.header!r})" if issue.header else ")")
                        if issue.column
                        else ""
                    )
                )
        remaining = sum(1 for r in report.rows if r.outcome != "unchanged" or r.issues) - shown
        if remaining > 0:
            click.echo(f"… and {remaining} more rows (see the results sheet)")
        click.echo("")
    else:
        failed_rows = [r for r in report.rows if r.outcome == "failed"]
        for r in failed_rows[:PLAN_ROWS]:
            text = errors_text(r.issues)
            click.echo(f"row {r.row}: failed: {text}", err=True)
        if len(failed_rows) > PLAN_ROWS:
            click.echo(
                f"… and {len(failed_rows) - PLAN_ROWS} more failed rows (see the results sheet)", err=True
            )
    for issue in report.file_issues:
        click.echo(f"{issue.severity}: {issue.code}: {issue.message}", err=True)
    if report.unresolved:
        click.echo(
            "Values that matched nothing (map them with a value map; `bulkio map` drafts one):", err=True
        )
        for group in report.unresolved[:UNRESOLVED_SHOWN]:
            click.echo(f"  {group['message']}", err=True)
        if len(report.unresolved) > UNRESOLVED_SHOWN:
            click.echo(
                f"  … and {len(report.unresolved) - UNRESOLVED_SHOWN} more (see --format json)", err=True
            )
    if not (c.created or c.updated or c.unchanged or c.failed or c.skipped):
        click.echo("warning: the file has no data rows below its header; nothing to import.", err=True)
    rows: list[tuple[str, Any]] = [("object", report.object_type), ("file", report.file)]
    if report.sheet:
        rows.append(("sheet", report.sheet))
    if not report.dry_run:
        rows += _count_rows(report)
    rows += _run_facts(report)
    if report.run_id:
        rows.append(("run id", report.run_id))
    echo_table(rows)


def _print_workbook(report: WorkbookReport) -> None:
    """Per sheet: its outcomes, then the rows that failed (or, in a dry run, the plan)."""
    if report.dry_run:
        click.echo("Dry run: nothing was written to the CRM. Planned:")
    words = [outcome_word(o, dry_run=report.dry_run) for o in OUTCOMES]
    width = max(len(s.sheet or s.object_type) for s in report.sheets)
    click.echo(f"{'sheet'.ljust(width)}  " + "  ".join(words))
    for s in report.sheets:
        counts = "  ".join(
            str(getattr(s.counts, o)).rjust(len(w)) for o, w in zip(OUTCOMES, words, strict=True)
        )
        click.echo(f"{(s.sheet or s.object_type).ljust(width)}  {counts}")
    for skipped in report.skipped_sheets:
        click.echo(f"{skipped.sheet.ljust(width)}  not imported: {skipped.reason}")
    click.echo("")
    shown = 0
    for s in report.sheets:
        for r in s.rows:
            quiet = r.outcome == "unchanged" or (r.outcome in ("created", "updated") and not report.dry_run)
            if quiet and not any(i.severity == "error" for i in r.issues):
                continue
            if shown >= PLAN_ROWS:
                break
            shown += 1
            line = f"{s.sheet or s.object_type} row {r.row}: {r.outcome}" + (f" [{r.key}]" if r.key else "")
            click.echo(line, err=not report.dry_run)
            if report.dry_run and r.changes:
                click.echo("    " + s.changes_text(r))
            for issue in r.issues:
                click.echo(f"    {issue.severity}: {issue.code}: {issue.message}", err=not report.dry_run)
        for issue in s.file_issues:
            if issue.severity == "error":
                click.echo(
                    f"{s.sheet or s.object_type}: {issue.severity}: {issue.code}: {issue.message}", err=True
                )
    rows: list[tuple[str, Any]] = [("file", report.file)]
    if not report.dry_run:
        rows += _count_rows(report)
    rows += _run_facts(report)
    if report.errors_path:
        rows.append(("errors", report.errors_path))
    if report.run_id:
        rows.append(("run id", report.run_id))
    echo_table(rows)


def _sheet_map(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, otype = value.rpartition("=")
        if not sep or not name.strip() or not otype.strip():
            raise click.BadParameter(f"{value!r}: write it as SHEET=OBJECT (e.g. Firmen=account)")
        out[name.strip()] = otype.strip()
    return out


#: Options of ``import OBJECT FILE`` that ``import pipeline`` does not take (one file, one mapping).
_SINGLE_SHEET_ONLY = {
    "sheet": "--sheet",
    "header_row": "--header-row",
    "mapping": "--mapping",
    "percent": "--percent",
    "match": "--match",
    "encoding": "--encoding",
    "delimiter": "--delimiter",
}


@click.command("import", short_help="Import a CSV, XLSX, XLS or ODS file: create or update records.")
@click.argument("object_type", metavar="OBJECT")
@click.argument("file", type=click.Path(allow_dash=True))
@click.option(
    "--dry-run", is_flag=True, help="Validate and plan only: show what would change, write nothing."
)
@click.option(
    "--key",
    "key_field",
    default="external_id",
    show_default=True,
    help="Unique field that matches rows to existing records.",
)
@click.option(
    "--sheet",
    default=None,
    help="Worksheet or Excel Table to read [default: the one named like OBJECT, "
    "e.g. Opportunities, else the first data sheet].",
)
@click.option(
    "--header-row",
    type=click.IntRange(min=1),
    default=None,
    help="Row number of the header [default: found among the first rows, below titles and notes].",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Mapping file (YAML/JSON/CSV): targets, value maps, transforms (docs/mapping.md).",
)
@click.option(
    "--from",
    "profile",
    type=click.Choice(
        PROFILE_CHOICES,
        case_sensitive=False,
    ),
    default="auto",
    show_default=True,
    help="The CRM the file was exported from: its profile maps headers, ids, owners, stages, numbers "
    "and dates. auto: the profile the headers read like, if exactly one; none: no profile.",
)
@click.option(
    "--results",
    "results_path",
    type=click.Path(),
    default=None,
    help="Where to write the results sheet [default: <file>.results.<ext>]; a folder (or a path "
    "ending in /) gets <file>.results.<ext> inside it; '-' writes it (CSV) to standard output and "
    "the summary to stderr.",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the rows that failed (or were skipped) to this file, in the input's own "
    "columns plus Errors: fix them there and import that file.",
)
@click.option(
    "--sheet-map",
    "sheet_map",
    multiple=True,
    metavar="SHEET=OBJECT",
    help="import pipeline: the object a sheet (or CSV file) holds when its name does not say "
    "(Firmen=account); repeatable.",
)
@click.option("--resume", is_flag=True, help="Continue the last unfinished run of this file.")
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Import a file again although rows without a key (tasks, notes) were created from it "
    "before: they are created again.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    metavar="SECONDS",
    help="Give up after this long rate limited (429) without any request succeeding.",
)
@click.option(
    "--date-order",
    type=click.Choice(["YMD", "DMY", "MDY"], case_sensitive=False),
    default=None,
    help="How to read dates like 03/04/2026 (otherwise they are rejected as ambiguous).",
)
@click.option("--tz", default="UTC", show_default=True, help="Time zone of dates without an offset.")
@click.option(
    "--locale",
    default=None,
    metavar="TAG",
    help="Locale the file was written in (de-DE, fr-FR, de-CH, en-US, en-IN…): decimal and "
    "thousands separators, currency symbols, date order and the phone region. Without it, numbers "
    "like 1.200 are errors unless the column settles them.",
)
@click.option(
    "--phone-region",
    default=None,
    metavar="CC",
    help="Country of phone numbers written without a country code (US, GB, DE…) [default: the locale's].",
)
@click.option(
    "--percent",
    multiple=True,
    metavar="COLUMN",
    help="A NUMBER column whose values are fractions of 1 (0.5 = 50 %), by header, label or key; repeatable.",
)
@click.option(
    "--match",
    type=click.Choice(["name", "domain", "email"]),
    default=None,
    help="Update records that exist without a key when their name (accounts: ignoring case, "
    "punctuation and Inc/GmbH/Ltd…), website domain or email matches, instead of creating duplicates.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Parallel requests (the rate limit still applies).",
)
@click.option(
    "--encoding",
    default=None,
    help="CSV encoding, e.g. cp1252 or cp932 [default: detected; utf-8+cp1252 reads a UTF-8 file "
    "with stray Windows-1252 bytes].",
)
@click.option("--delimiter", default=None, help="CSV delimiter [default: detected].")
@connection_options
@common_options
def command(
    object_type: str,
    file: str,
    dry_run: bool,
    key_field: str,
    sheet: str | None,
    header_row: int | None,
    mapping: str | None,
    profile: str,
    results_path: str | None,
    errors_path: str | None,
    sheet_map: tuple[str, ...],
    resume: bool,
    allow_duplicates: bool,
    max_wait: float,
    date_order: str | None,
    tz: str,
    locale: str | None,
    phone_region: str | None,
    percent: tuple[str, ...],
    match: str | None,
    concurrency: int,
    encoding: str | None,
    delimiter: str | None,
    api_key: str | None,
    base_url: str | None,
    sandbox_db: str | None,
    state_dir: str | None,
    quiet: bool,
    debug: bool,
    output_format: str,
) -> None:
    """Import FILE (CSV, XLSX, XLS or ODS) into OBJECT records: create new ones, update changed ones.

    Rows match existing records by the Record ID column, then by --key (external_id), then
    (with --match) by name, website domain or email. Every row's outcome goes to the results
    sheet; blank cells leave fields unchanged and #clear clears them. FILE - reads standard
    input (results: stdin.results.csv here).

    OBJECT pipeline imports every sheet of a workbook (or every CSV file of a folder) in one
    run: sheets named like objects (Accounts, Contacts, Opportunities, Tasks, Notes, custom
    objects; --sheet-map for other names), in dependency order, references between sheets
    resolved to rows of the same workbook; one results workbook with a Summary.

    \b
    Examples:
      bulkio import opportunity deals.xlsx --dry-run
      bulkio import account accounts.csv --results accounts.results.csv
      bulkio import opportunity deals.xlsx --resume
      bulkio import opportunity hubspot-deals.csv --from hubspot --dry-run
      bulkio import pipeline pipeline.xlsx --dry-run
      bulkio import pipeline exports/ --sheet-map Firmen=account --errors fix.xlsx
      bulkio import account firmen.csv --locale de-DE --match name
      hubspot-export | bulkio import contact - --dry-run

    \b
    Exit codes:
      0  every row ok
      1  some rows failed (see the results sheet)
      2  the run could not start (bad file or option, auth, a changed file on
         --resume) or stopped on an error (--resume continues it)
      3  interrupted (Ctrl-C; --resume continues it)
    """
    from pathlib import Path

    from ..pipeline import import_file
    from ..ratelimit import RetryPolicy
    from ..sheets import is_stdout
    from ..state import ledger_path
    from ..workbook import import_workbook
    from .console import connect

    workbook = object_type.strip().casefold() == "pipeline"
    if workbook:
        given = {
            "sheet": sheet,
            "header_row": header_row,
            "mapping": mapping,
            "percent": percent,
            "match": match,
            "encoding": encoding,
            "delimiter": delimiter,
        }
        used = [flag for name, flag in _SINGLE_SHEET_ONLY.items() if given[name]]
        if used:
            raise click.UsageError(
                f"{', '.join(used)}: not for import pipeline (every sheet is read as it is); "
                "import one sheet with `bulkio import OBJECT FILE --sheet NAME` to use it"
            )
    elif sheet_map:
        raise click.UsageError("--sheet-map is for import pipeline (a workbook or a folder of CSVs)")
    elif Path(file).is_dir():
        raise click.UsageError(f"{file} is a folder: import it with `bulkio import pipeline {file}`")
    bars = ProgressBars(enabled=not quiet and output_format != "json", messages=not quiet)
    # Ctrl-C: the library writes the results sheet and names it in a note, which guarded() prints
    with guarded(debug=debug, interrupted=INTERRUPTED if dry_run else INTERRUPTED_IMPORT):
        if workbook:
            mapped = _sheet_map(sheet_map)
            try:
                retry = RetryPolicy(max_wait=max_wait)
                with connect(
                    api_key=api_key,
                    base_url=base_url,
                    sandbox_db=sandbox_db,
                    state_dir=state_dir,
                    retry=retry,
                ) as client:
                    book = import_workbook(
                        file,
                        client=client,
                        sheet_map=mapped,
                        key_field=key_field,
                        dry_run=dry_run,
                        resume=resume,
                        results_path=results_path,
                        errors_path=errors_path,
                        ledger_path=ledger_path(state_dir),
                        date_order=date_order,
                        tz=tz,
                        concurrency=concurrency,
                        on_event=bars,
                        profile=profile.lower(),
                        locale=locale,
                        phone_region=phone_region,
                        allow_duplicates=allow_duplicates,
                    )
            finally:
                bars.close()
            if output_format == "json":
                click.echo(book.to_json())
            else:
                _print_workbook(book)
            sys.exit(EXIT_OK if book.ok else EXIT_ROWS_FAILED)
        try:
            retry = RetryPolicy(max_wait=max_wait)
            with connect(
                api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir, retry=retry
            ) as client:
                with object_type_checked(client, object_type):
                    client.schema(object_type)  # cached: import_file reuses it
                report = import_file(
                    file,
                    object_type,
                    client=client,
                    key_field=key_field,
                    sheet=sheet,
                    mapping=mapping,
                    dry_run=dry_run,
                    resume=resume,
                    results_path=results_path,
                    errors_path=errors_path,
                    ledger_path=ledger_path(state_dir),
                    date_order=date_order,
                    tz=tz,
                    locale=locale,
                    phone_region=phone_region,
                    percent=percent,
                    match=match,
                    concurrency=concurrency,
                    encoding=encoding,
                    delimiter=delimiter,
                    on_event=bars,
                    profile=profile.lower(),
                    header_row=header_row,
                    allow_duplicates=allow_duplicates,
                )
        finally:
            bars.close()
        # --results - puts the results sheet (CSV) on stdout: the summary goes to stderr
        to_stderr = results_path is not None and is_stdout(results_path)
        with contextlib.redirect_stdout(sys.stderr) if to_stderr else contextlib.nullcontext():
            if output_format == "json":
                click.echo(report.to_json())
            else:
                _print_summary(report)
    sys.exit(EXIT_OK if report.ok else EXIT_ROWS_FAILED)
