"""``bulkio migrate --from close --to lightfield``: one call to :func:`bulkio.migrate.migrate`, rendered.

Both CRMs connect as every command does: ``CLOSE_API_KEY`` / ``CLOSE_BASE_URL`` for Close,
``LIGHTFIELD_API_KEY`` / ``LIGHTFIELD_BASE_URL`` for Lightfield; without a key, that CRM's embedded
sandbox (where bulkio also creates the fields the migration needs).
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

import click

from .console import (
    EXIT_OK,
    EXIT_ROWS_FAILED,
    ProgressBars,
    common_options,
    echo_json,
    echo_table,
    guarded,
    state_dir_option,
)

INTERRUPTED_MIGRATION = "Interrupted. Re-run with --resume to continue where the migration stopped."


def _mappings(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or name.strip() not in ("lead", "contact", "opportunity") or not path.strip():
            raise click.BadParameter(
                f"{item!r}: write OBJECT=FILE with OBJECT one of lead, contact, opportunity",
                param_hint="--mapping",
            )
        out[name.strip()] = path.strip()
    return out


@click.command("migrate", short_help="Migrate Close's leads, contacts and opportunities into Lightfield.")
@click.option(
    "--from", "source", type=click.Choice(["close"]), required=True, help="The CRM to migrate from."
)
@click.option(
    "--to", "target", type=click.Choice(["lightfield"]), required=True, help="The CRM to migrate to."
)
@click.option("--dry-run", is_flag=True, help="Plan only: what would be created and updated; write nothing.")
@click.option("--resume", is_flag=True, help="Continue the last unfinished migration between the two orgs.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    default="migration-report.xlsx",
    show_default=True,
    help="The report workbook: counts, unmapped values, failures, and the field, stage and user maps.",
)
@click.option(
    "--mapping",
    "mappings",
    multiple=True,
    metavar="OBJECT=FILE",
    help="Use this mapping file for a Close object (lead, contact, opportunity) instead of the drafted "
    "one (write the drafts with --write-mappings, or draft from a workbook with bulkio map).",
)
@click.option(
    "--write-mappings",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the drafted mappings (close-<object>.yaml) to this folder to read and edit, and stop.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Parallel requests (each CRM's rate limit still applies).",
)
@click.option(
    "--close-sandbox-db",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file of the embedded Close sandbox (without CLOSE_API_KEY) [default: "
    "close-sandbox.sqlite3 in the state folder].",
)
@click.option(
    "--sandbox-db",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file of the embedded Lightfield sandbox (without LIGHTFIELD_API_KEY) [default: "
    "sandbox.sqlite3 in the state folder].",
)
@state_dir_option
@common_options
def command(
    source: str,
    target: str,
    dry_run: bool,
    resume: bool,
    report_path: str,
    mappings: tuple[str, ...],
    write_mappings: str | None,
    concurrency: int,
    close_sandbox_db: str | None,
    sandbox_db: str | None,
    state_dir: str | None,
    quiet: bool,
    debug: bool,
    output_format: str,
) -> None:
    """Migrate Close's leads (as accounts), contacts and opportunities into Lightfield.

    Every Close id is kept in a close_id field on the Lightfield side, the key: a second run
    changes nothing, and --resume finishes a run that was killed, without duplicates. The report
    workbook lists the counts per object, every value that did not map and every failure with its
    reason.

    \b
    Examples:
      bulkio migrate --from close --to lightfield --dry-run
      bulkio migrate --from close --to lightfield --report migration.xlsx
      bulkio migrate --from close --to lightfield --write-mappings maps/
      bulkio migrate --from close --to lightfield --mapping opportunity=maps/close-opportunity.yaml

    \b
    Exit codes:
      0  migrated (or planned) without a failed record
      1  some records failed (see the report's Failures sheet)
      2  could not start (a missing close_id field, a bad key or mapping) or stopped on an error
      3  interrupted (Ctrl-C; --resume continues it)
    """
    from ..config import connect as connect_lightfield
    from ..config import embedded_sandbox
    from ..crm.close.config import connect_close
    from ..migrate import draft_mappings, migrate
    from ..migrate import write_mappings as write_drafts
    from ..state import ledger_path

    bars = ProgressBars(enabled=not quiet and output_format != "json", messages=not quiet)
    with guarded(debug=debug, interrupted=INTERRUPTED_MIGRATION):
        given = _mappings(mappings)
        with ExitStack() as stack:
            close = stack.enter_context(connect_close(sandbox_db=close_sandbox_db, state_dir=state_dir))
            lightfield = stack.enter_context(connect_lightfield(sandbox_db=sandbox_db, state_dir=state_dir))
            server = embedded_sandbox(lightfield)
            create_field: Any = None
            if server is not None:

                def create_field(object_type: str, key: str, definition: dict[str, Any]) -> bool:
                    return bool(server.add_field(None, object_type, key, definition))

            if write_mappings:
                drafted, _ = draft_mappings(close, lightfield, can_create=create_field is not None)
                for path in write_drafts(drafted, write_mappings):
                    click.echo(f"wrote {path}", err=True)
                sys.exit(EXIT_OK)
            try:
                report = migrate(
                    close,
                    lightfield,
                    dry_run=dry_run,
                    resume=resume,
                    mappings=given,
                    report_path=report_path,
                    ledger_path=ledger_path(state_dir),
                    create_field=create_field,
                    concurrency=concurrency,
                    on_event=bars,
                )
            finally:
                bars.close()
        if output_format == "json":
            echo_json(report.to_dict())
        else:
            _print_summary(report)
    sys.exit(EXIT_OK if report.ok else EXIT_ROWS_FAILED)


def _print_summary(report: Any) -> None:
    if report.dry_run:
        click.echo("Dry run: nothing was written to Lightfield. Planned:")
    for message in report.messages:
        click.echo(f"Note: {message}", err=True)
    for failure in report.failures[:20]:
        click.echo(f"{failure['object']} {failure['close_id']}: failed: {failure['reason']}", err=True)
    if len(report.failures) > 20:
        click.echo(f"… and {len(report.failures) - 20} more failures (see the report)", err=True)
    words = ("created", "updated", "unchanged", "failed", "skipped")
    rows: list[tuple[str, Any]] = []
    for close_type, counts in report.counts.items():
        done = ", ".join(
            f"{counts.get(w, 0)} {'would be ' if report.dry_run and w in words[:2] else ''}{w}" for w in words
        )
        rows.append((f"{close_type} ({report.source_counts.get(close_type, 0)} in Close)", done))
    rows += [
        ("values not migrated", sum(int(u.get("count") or 0) for u in report.unmapped)),
        ("fields created", ", ".join(report.created_fields) or "none"),
        ("duration", f"{report.duration_s:.2f} s"),
        ("report", report.report_path),
    ]
    echo_table(rows)
