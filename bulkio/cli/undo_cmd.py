"""``bulkio undo RUN_ID``: one call to :func:`bulkio.undo.undo_run`, rendered.

Exit codes: 0 every step done (or nothing to do), 1 some steps failed, 2 the undo could not start
(no such run, a run that did not finish or was undone already, another CRM), 3 interrupted.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..vocabulary import outcome_word
from .console import (
    EXIT_OK,
    EXIT_ROWS_FAILED,
    INTERRUPTED,
    ProgressBars,
    common_options,
    connection_options,
    echo_table,
    guarded,
)

if TYPE_CHECKING:  # the library is imported when the command runs (bulkio --help stays fast)
    from ..undo import UndoReport

#: Steps printed (the results sheet has all of them).
SHOWN = 20
INTERRUPTED_UNDO = "Interrupted. Re-run with --resume to continue the undo where it stopped."


def _print(report: UndoReport) -> None:
    from ..results import errors_text
    from ..undo import UNDO_OUTCOMES

    if report.dry_run:
        click.echo("Dry run: nothing was written to the CRM. Planned:")
    shown = 0
    for r in report.rows:
        if r.outcome == "unchanged" and not r.issues:
            continue
        if shown >= SHOWN:
            click.echo(f"… and more (see {report.results_path})")
            break
        shown += 1
        where = f"{r.sheet} row {r.input_row}" if r.sheet else f"row {r.input_row}"
        click.echo(f"{where}: {r.action} {r.record_id or ''}: {r.outcome}")
        if r.changes_text:
            click.echo("    " + r.changes_text)
        if r.issues:
            click.echo("    " + errors_text(r.issues))
    if report.to_delete_by_hand:
        click.echo("")
        click.echo("This CRM does not delete records through its API; remove these by hand:", err=True)
        for rec in report.to_delete_by_hand:
            click.echo(f"  {rec['object_type']} {rec['record_id']}  {rec.get('link') or ''}", err=True)
    click.echo("")
    c = report.counts
    rows: list[tuple[str, object]] = [("undoes", report.undoes), ("file", report.file)]
    rows += [(outcome_word(name, dry_run=report.dry_run), getattr(c, name)) for name in UNDO_OUTCOMES]
    rows += [
        ("duration", f"{report.duration_s:.2f} s"),
        ("requests", report.requests),
        ("results", report.results_path),
    ]
    if report.run_id:
        rows.append(("run id", report.run_id))
    echo_table(rows)


@click.command("undo", short_help="Take a run back: restore updated fields, delete created records.")
@click.argument("run_id")
@click.option("--dry-run", is_flag=True, help="Plan the undo and show it; write nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Also write back fields changed after the run, delete created records edited since, and undo "
    "a run that did not finish or was undone already.",
)
@click.option("--resume", is_flag=True, help="Continue an undo that was interrupted.")
@click.option(
    "--results",
    "results_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the undo's results sheet (.xlsx or .csv) [default: undo-<run id>.results.xlsx].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Parallel requests (the rate limit still applies).",
)
@connection_options
@common_options
def command(
    run_id: str,
    dry_run: bool,
    force: bool,
    resume: bool,
    results_path: str | None,
    concurrency: int,
    api_key: str | None,
    base_url: str | None,
    sandbox_db: str | None,
    state_dir: str | None,
    quiet: bool,
    debug: bool,
    output_format: str,
) -> None:
    """Take back the run RUN_ID (`bulkio runs` lists them; a unique prefix will do): fields it
    updated get their values from before the run, records it created are deleted. A field
    someone changed after the run is a conflict, reported and left alone unless --force. A
    workbook run is undone sheet by sheet, the last first.

    \b
    Examples:
      bulkio runs
      bulkio undo 3f2a9c0b --dry-run
      bulkio undo 3f2a9c0b
      bulkio undo 3f2a9c0b --resume

    \b
    Exit codes:
      0  undone (or nothing to undo)
      1  some steps failed (see the results sheet)
      2  the undo could not start (no such run, not finished, undone already)
      3  interrupted (Ctrl-C; --resume continues it)
    """
    from ..state import ledger_path
    from ..undo import undo_run
    from .console import connect

    bars = ProgressBars(enabled=not quiet and output_format != "json", messages=not quiet)
    with guarded(debug=debug, interrupted=INTERRUPTED if dry_run else INTERRUPTED_UNDO):
        try:
            with connect(
                api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir
            ) as client:
                report = undo_run(
                    run_id,
                    client=client,
                    dry_run=dry_run,
                    force=force,
                    resume=resume,
                    results_path=results_path,
                    ledger_path=ledger_path(state_dir),
                    concurrency=concurrency,
                    on_event=bars,
                )
        finally:
            bars.close()
        if output_format == "json":
            click.echo(report.to_json())
        else:
            _print(report)
    sys.exit(EXIT_OK if report.ok else EXIT_ROWS_FAILED)
