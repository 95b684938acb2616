"""``bulkio export``: records to a workbook, CSV or JSONL files (a call to
:func:`bulkio.export.export_objects`)."""

from __future__ import annotations

from typing import Any

import click

from ..config import connect
from ..export import FORMATS, export_objects
from .console import EXIT_OK, ProgressBars, connection_options, echo_json, echo_table, with_guard

OUTPUT_FORMATS = ("table", "json")


def _split_filters(filters: tuple[str, ...]) -> dict[str, list[str]]:
    """``OBJECT:key[op]=value`` targets one object; a bare ``key[op]=value`` goes under ``"*"``:
    every exported object that has the key."""
    out: dict[str, list[str]] = {}
    for text in filters:
        head, sep, rest = text.partition(":")
        if sep and head and not head.startswith("$") and not any(ch in head for ch in "[]="):
            out.setdefault(head, []).append(rest)
        else:
            out.setdefault("*", []).append(text)
    return out


@click.command("export")
@click.argument("objects", nargs=-1, required=True, metavar="OBJECT... | pipeline")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Target file: .xlsx, .csv or .jsonl. Several objects in CSV/JSONL become "
                   "<stem>-<object>.csv files next to it.")
@click.option("--filter", "filters", multiple=True, metavar="[OBJECT:]KEY[OP]=VALUE",
              help="API list filter, e.g. '$stage[equal]=Lead' or "
                   "'opportunity:amount[greaterThan]=5000'. Repeat to AND several.")
@click.option("--key", "key_field", default="external_id", show_default=True,
              help="Upsert key field, placed first among the columns.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Pages fetched at the same time (the client keeps under the Search limit).")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS + OUTPUT_FORMATS),
              help="File format xlsx|csv|jsonl (default: from the -o suffix) and/or how to print "
                   "the summary, table|json (default table). Repeatable: --format csv --format json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@connection_options
@with_guard
def command(objects: tuple[str, ...], output: str, filters: tuple[str, ...], key_field: str,
            concurrency: int, formats: tuple[str, ...], quiet: bool, debug: bool,
            api_key: str | None, base_url: str | None, sandbox_db: str | None) -> None:
    """Export OBJECT types (or the whole pipeline) to a spreadsheet that re-imports as it is.

    \b
    Examples:
      bulkio export pipeline -o pipeline.xlsx
      bulkio export opportunity -o open.csv --filter '$stage[equal]=Proposal'
      bulkio export account contact -o crm.jsonl --format json
    """
    file_formats = [f for f in formats if f in FORMATS]
    printed = [f for f in formats if f in OUTPUT_FORMATS]
    if len(file_formats) > 1 or len(printed) > 1:
        raise click.UsageError("Give at most one file format (xlsx|csv|jsonl) and one output "
                               "format (table|json).")
    objs = list(objects)
    bars = ProgressBars(enabled=not quiet)
    try:
        with connect(api_key=api_key, base_url=base_url, sandbox_db=sandbox_db) as client:
            report = export_objects(client, objs if objs != ["pipeline"] else "pipeline", output,
                                    format=file_formats[0] if file_formats else None,
                                    filters=_split_filters(filters) or None,
                                    key_field=key_field, concurrency=concurrency, on_event=bars)
    finally:
        bars.close()
    data: dict[str, Any] = report.to_dict()
    if printed and printed[0] == "json":
        echo_json(data)
    else:
        rows: list[tuple[str, Any]] = [(f"{report.sheets.get(o, o)}", n)
                                       for o, n in report.counts.items()]
        rows += [("Total records", report.total), ("Duration", f"{report.duration:.2f} s"),
                 ("Records/s", f"{report.records_per_second:.0f}")]
        rows += [("Wrote", str(p)) for p in report.paths]
        echo_table(rows)
        for msg in report.messages:
            click.echo(f"Note: {msg}", err=True)
    click.get_current_context().exit(EXIT_OK)
