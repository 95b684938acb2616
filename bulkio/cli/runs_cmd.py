"""``bulkio runs``: the runs recorded in the ledger (:func:`bulkio.history.list_runs`)."""

from __future__ import annotations

import click

from ..state import ledger_path
from ..vocabulary import versioned
from .console import echo_json, state_dir_option


@click.command("runs", short_help="List past runs: what, when, counts, and whether they were undone.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="How many runs.")
@click.option("--all", "show_all", is_flag=True, help="Every run in the ledger.")
@state_dir_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="How to print the result.",
)
def command(limit: int, show_all: bool, state_dir: str | None, output_format: str) -> None:
    """List the runs in the ledger, newest first: id, file, object, when, counts, and whether
    the run finished or was undone. Undo one with `bulkio undo RUN_ID`; continue an unfinished
    one with --resume.
    """
    from ..history import list_runs  # here: pydantic loads when the command runs, not for --help

    runs = list_runs(ledger_path(state_dir), limit=None if show_all else limit)
    if output_format == "json":
        echo_json(versioned({"runs": [r.model_dump() for r in runs]}))
        return
    if not runs:
        click.echo("No runs recorded yet.")
        return
    click.echo(f"{'run id':12}  {'started (UTC)':16}  {'object':12}  {'status':10}  counts  file")
    for r in runs:
        counts = ", ".join(f"{n} {k}" for k, n in r.counts.items() if n)
        objects = r.object_type if r.object_type != "pipeline" else "pipeline"
        status = r.status
        if r.undoes:
            status = "undo" if r.finished_at else "undo (unfinished)"
        click.echo(
            f"{r.run_id[:12]:12}  {r.started_at[:16].replace('T', ' '):16}  {objects:12}  {status:10}  "
            f"{counts or '-'}  {r.file}"
        )
        if r.object_type == "pipeline" and r.objects:
            click.echo(f"{'':12}  sheets: {', '.join(r.objects)}")
        if r.undone_by:
            click.echo(f"{'':12}  undone by {r.undone_by[:12]}")
