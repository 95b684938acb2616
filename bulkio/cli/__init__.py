"""The ``bulkio`` command line: a thin layer over the library.

Each command lives in its own module here (``template_cmd``, ``import_cmd``, ``export_cmd``,
``sandbox_cmd``, ``definitions_cmd``): it parses options, makes one library call, renders the
result with :mod:`bulkio.cli.console`, and picks the exit code
(0 ok, 1 some rows failed, 2 the run could not start or stopped on an error, 3 interrupted).
"""

from __future__ import annotations

import importlib

import click

from .. import __version__

COMMAND_MODULES = (
    "sandbox_cmd",
    "definitions_cmd",
    "template_cmd",
    "import_cmd",
    "export_cmd",
    "state_cmd",
    "map_cmd",
    "migrate_cmd",
    "undo_cmd",
    "runs_cmd",
    "ui_cmd",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="bulkio")
def cli() -> None:
    """Move CRM data between spreadsheets and the Lightfield API.

    Without LIGHTFIELD_API_KEY, every command runs against the embedded sandbox
    (a local Lightfield-compatible server). Its data and the resume ledger live in
    one per-user state folder (`bulkio state path`; --state-dir or BULKIO_STATE_DIR
    moves it).

    \b
    Typical session:
      bulkio template opportunity -o opportunities.xlsx
      bulkio import opportunity opportunities.xlsx --dry-run
      bulkio import opportunity opportunities.xlsx --results results.xlsx
      bulkio export pipeline -o pipeline.xlsx

    \b
    Exit codes (every command; details in its --help):
      0  ok
      1  some rows failed (import; see the results sheet)
      2  could not start, or stopped on an error
      3  interrupted (Ctrl-C)
    """


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # a command not written yet
        if exc.name != f"{__name__}.{_name}":
            raise
        continue
    cli.add_command(_module.command)


def main() -> None:
    try:
        cli(prog_name="bulkio")
    finally:
        # The process ends now. Collect once (cycles still get their finalizers), then freeze what
        # is left: interpreter shutdown otherwise walks every object of the run again in several
        # full passes (~0.1 s of a short command; bulkio.gctune has the longer story).
        import gc

        gc.collect()
        gc.freeze()
