"""``bulkio export``: records to a workbook, CSV or JSONL files (one call to
:func:`bulkio.export.export_objects`, rendered)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..vocabulary import EXPORT_FORMATS as FORMATS
from .console import (
    EXIT_OK,
    ProgressBars,
    common_options,
    connect,
    connection_options,
    echo_json,
    echo_table,
    with_guard,
)

if TYPE_CHECKING:  # the library is imported when the command runs (bulkio --help stays fast)
    from ..export import ExportReport


def _print_summary(report: ExportReport, *, err: bool = False) -> None:
    from ..sheets import is_stdout

    rows: list[tuple[str, Any]] = [(report.sheets.get(o, o), n) for o, n in report.counts.items()]
    rows += [
        ("Total records", report.total),
        ("Duration", f"{report.duration_s:.2f} s"),
        ("Records/s", f"{report.records_per_s:.0f}"),
    ]
    rows += [("Wrote", "standard output" if is_stdout(p) else str(p)) for p in report.paths]
    echo_table(rows, err=err)
    for msg in report.messages:
        click.echo(f"Note: {msg}", err=True)


@click.command("export", short_help="Export records (or the whole pipeline) to XLSX, CSV or JSONL.")
@click.argument("objects", nargs=-1, required=True, metavar="OBJECT... | pipeline")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Target file: .xlsx, .csv or .jsonl. Several objects in CSV/JSONL become "
    "<stem>-<object>.csv files next to it. '-' writes to standard output (with --to; the "
    "summary then goes to stderr).",
)
@click.option(
    "--to",
    "file_format",
    type=click.Choice(FORMATS, case_sensitive=False),
    default=None,
    help="File type to write [default: from the -o suffix].",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="[OBJECT:]KEY[OP]=VALUE",
    help="API list filter, e.g. '$stage[equal]=Lead' or "
    "'opportunity:amount[greaterThan]=5000'. Repeat to AND several.",
)
@click.option(
    "--key",
    "key_field",
    default="external_id",
    show_default=True,
    help="Upsert key field, placed first among the columns.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Pages fetched at the same time (the client keeps under the Search limit).",
)
@connection_options
@common_options
@with_guard
def command(
    objects: tuple[str, ...],
    output: str,
    file_format: str | None,
    filters: tuple[str, ...],
    key_field: str,
    concurrency: int,
    api_key: str | None,
    base_url: str | None,
    sandbox_db: str | None,
    state_dir: str | None,
    quiet: bool,
    debug: bool,
    output_format: str,
) -> None:
    """Export OBJECT types (or the whole pipeline) to a spreadsheet that re-imports as it is.

    'pipeline' writes a Summary sheet, then Opportunities, Accounts, Contacts, Tasks, Notes
    and Members. The file type comes from the -o suffix (or --to); --format only chooses how
    the summary is printed.

    \b
    Examples:
      bulkio export pipeline -o pipeline.xlsx
      bulkio export opportunity -o open.csv --filter '$stage[equal]=Proposal'
      bulkio export account contact -o crm.jsonl --format json
      bulkio export opportunity -o - --to csv | head

    \b
    Exit codes:
      0  written
      2  nothing written (bad option, unknown object or filter, API error)
      3  interrupted (Ctrl-C)
    """
    from ..export import export_objects
    from ..sheets import same_as_stdout

    bars = ProgressBars(enabled=not quiet and output_format != "json", messages=not quiet)
    try:
        with connect(
            api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir
        ) as client:
            report = export_objects(
                client,
                objects,
                output,
                format=file_format,
                filters=filters,
                key_field=key_field,
                concurrency=concurrency,
                on_event=bars,
            )
    finally:
        bars.close()
    # with -o - (or /dev/stdout) the data owns stdout: the summary goes to stderr
    err = same_as_stdout(output)
    if output_format == "json":
        echo_json(report.to_dict(), err=err)
    else:
        _print_summary(report, err=err)
    click.get_current_context().exit(EXIT_OK)
