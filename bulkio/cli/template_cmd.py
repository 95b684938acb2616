"""``bulkio template``: write an import template (XLSX with dropdowns and a Reference sheet, or a
header-only CSV) for one object type."""

from __future__ import annotations

import click

from .console import (
    ProgressBars,
    common_options,
    connect,
    connection_options,
    echo_json,
    object_type_checked,
    with_guard,
)


@click.command("template", short_help="Write an import template (XLSX or CSV) for an object.")
@click.argument("object_type", metavar="OBJECT")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write: .xlsx (dropdowns, comments, Reference sheet) or .csv (headers).",
)
@click.option(
    "--key",
    "key_field",
    default="external_id",
    show_default=True,
    help="Unique field that identifies records on import; it becomes the first column.",
)
@click.option("--example-row", is_flag=True, help="Add one filled-in example row.")
@click.option(
    "--no-reference",
    is_flag=True,
    help="Do not list existing records and members on the Reference sheet (select options are still listed).",
)
@connection_options
@common_options
@with_guard
def command(
    object_type: str,
    output: str,
    key_field: str,
    example_row: bool,
    no_reference: bool,
    api_key: str | None,
    base_url: str | None,
    sandbox_db: str | None,
    state_dir: str | None,
    quiet: bool,
    debug: bool,
    output_format: str,
) -> None:
    """Write an import template for OBJECT (account, contact, opportunity, task, note, or a
    custom object such as partner) to the file given with -o.

    \b
    Examples:
      bulkio template opportunity -o opportunities.xlsx
      bulkio template account -o accounts.csv --example-row

    \b
    Exit codes:
      0  written
      2  nothing written (unknown object or key field, bad file name, API error)
      3  interrupted (Ctrl-C)
    """
    from ..template import make_template

    bars = ProgressBars(enabled=not quiet and output_format != "json", messages=not quiet)
    try:
        with (
            connect(api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir) as client,
            object_type_checked(client, object_type),
        ):
            info = make_template(
                client,
                object_type,
                output,
                key_field=key_field,
                example_row=example_row,
                include_reference=not no_reference,
                on_event=bars,
            )
    finally:
        bars.close()
    if output_format == "json":
        echo_json(info.to_dict())
        return
    required = sum(1 for c in info.columns if c.required)
    click.echo(f"Wrote {info.path} ({len(info.columns)} columns, {required} required).")
    click.echo(f"Fill it in, then run: bulkio import {object_type} {info.path}")
