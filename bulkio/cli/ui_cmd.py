"""``bulkio ui [FILE]``: one call to :func:`bulkio.ui.serve` (a local page over the same library)."""

from __future__ import annotations

import click

from .console import connection_options, guarded


@click.command("ui", short_help="Open a local web page to map, review, fix and import a file.")
@click.argument("file", type=click.Path(dir_okay=False, exists=True), required=False)
@click.option("--object", "object_type", default=None, help="The object FILE goes to [default: detected].")
@click.option("--sheet", default=None, help="Open only this worksheet [default: every data sheet].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0: a free one).",
)
@click.option("--no-browser", is_flag=True, help="Print the address instead of opening a browser.")
@connection_options
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def command(
    file: str | None,
    object_type: str | None,
    sheet: str | None,
    port: int,
    no_browser: bool,
    api_key: str | None,
    base_url: str | None,
    sandbox_db: str | None,
    state_dir: str | None,
    debug: bool,
) -> None:
    """Open a page in your browser to import FILE (or a file you open there): map its columns and
    values, review every row with its errors on their cells, fix cells, see the dry run against the
    CRM (before → after), import with live progress, pause and resume, retry failed rows, and save
    the mapping as a recipe (a mapping file the CLI reads with --mapping).

    The page listens on 127.0.0.1 only and needs the token in the printed address; the API key
    stays in this process. Stop it with Ctrl-C.

    \b
    Examples:
      bulkio ui hubspot-deals.csv
      bulkio ui pipeline.xlsx --port 8765 --no-browser
    """
    from ..ui import UiServer
    from .console import connect

    with (
        guarded(debug=debug),
        connect(api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir) as client,
    ):
        server = UiServer(
            client, file=file, object_type=object_type, sheet=sheet, port=port, state_dir=state_dir
        )
        server.start()
        click.echo(f"bulkio ui is at {server.url}", err=True)
        click.echo("(open it in a browser on this computer; Ctrl-C stops it)", err=True)
        server.serve_forever(open_browser=not no_browser)
