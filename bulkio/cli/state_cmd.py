"""``bulkio state``: where run state lives (resume ledger, embedded sandbox), what it holds, and
clearing it (:mod:`bulkio.state`)."""

from __future__ import annotations

from typing import Any

import click

from .. import state
from ..vocabulary import versioned
from .console import echo_json, echo_table, state_dir_option

_FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="How to print the result.",
)


@click.group("state", short_help="Show, list or clear run state (resume ledger, embedded sandbox).")
def command() -> None:
    """Run state lives in one per-user folder, not in the current directory: the resume ledger
    (ledger.sqlite3), the embedded sandbox (sandbox.sqlite3) and lock files. --state-dir or
    BULKIO_STATE_DIR moves it.

    \b
    Examples:
      bulkio state path
      bulkio state list
      bulkio state clear --ledger --yes
    """


@command.command("path")
@state_dir_option
@_FORMAT
def path_cmd(state_dir: str | None, output_format: str) -> None:
    """Print the state folder."""
    folder = state.state_dir(state_dir)
    if output_format == "json":
        echo_json(
            versioned(
                {
                    "state_dir": str(folder),
                    "ledger": str(state.ledger_path(state_dir)),
                    "sandbox_db": str(state.sandbox_db_path(state_dir)),
                    "exists": folder.is_dir(),
                }
            )
        )
    else:
        click.echo(str(folder))


@command.command("list")
@state_dir_option
@_FORMAT
def list_cmd(state_dir: str | None, output_format: str) -> None:
    """List the files in the state folder and the import runs recorded in the ledger (newest
    first; unfinished runs can be continued with --resume)."""
    folder = state.state_dir(state_dir)
    files = state.files(state_dir)
    runs = state.list_runs(state_dir)
    if output_format == "json":
        echo_json(
            versioned(
                {
                    "state_dir": str(folder),
                    "files": [{"path": str(p), "bytes": p.stat().st_size} for p in files],
                    "runs": [r.to_dict() for r in runs],
                }
            )
        )
        return
    click.echo(f"State folder: {folder}")
    if not files:
        click.echo("(empty)")
        return
    echo_table([(p.name, f"{p.stat().st_size:,} bytes") for p in files])
    if runs:
        click.echo("")
        click.echo("Runs (newest first):")
        for r in runs:
            status = "unfinished: --resume continues it" if r.resumable else f"finished {r.finished_at}"
            info: dict[str, Any] = r.to_dict()
            click.echo(
                f"  {r.run_id[:12]}  {r.started_at}  {r.object_type}  {r.input_path}  "
                f"{info['target']}  {r.rows_done} rows  ({status})"
            )


@command.command("clear")
@state_dir_option
@click.option("--ledger", "part", flag_value="ledger", help="Only the resume ledger.")
@click.option("--sandbox", "part", flag_value="sandbox", help="Only the embedded sandbox's data.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_FORMAT
def clear_cmd(state_dir: str | None, part: str | None, yes: bool, output_format: str) -> None:
    """Delete run state: everything, or only the ledger (no run can be resumed afterwards) or
    only the embedded sandbox (its records are gone; it is seeded again on next use)."""
    what: state.Part = "ledger" if part == "ledger" else "sandbox" if part == "sandbox" else "all"
    folder = state.state_dir(state_dir)
    if not yes:
        label = {"all": "all run state", "ledger": "the resume ledger", "sandbox": "the embedded sandbox"}
        click.confirm(f"Delete {label[what]} in {folder}?", abort=True, err=True)
    removed = state.clear(what, state_dir)
    if output_format == "json":
        echo_json(versioned({"state_dir": str(folder), "removed": [str(p) for p in removed]}))
    else:
        click.echo(f"Removed {len(removed)} file{'' if len(removed) == 1 else 's'} from {folder}.")
