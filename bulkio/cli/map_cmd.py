"""``bulkio map OBJECT [FILE] -o mapping.yaml``: one call to :func:`bulkio.draft.draft_mapping`
(or, with ``--from`` and no FILE, the profile file itself), written out to read and edit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..vocabulary import versioned
from .console import (
    EXIT_OK,
    PROFILE_CHOICES,
    common_options,
    connection_options,
    echo_json,
    guarded,
    object_type_checked,
)


@click.command("map", short_help="Draft a mapping file (headers, value maps) to edit.")
@click.argument("object_type", metavar="OBJECT")
@click.argument("file", type=click.Path(dir_okay=False, exists=True), required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the mapping [default: print it].",
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
    help="Start from this CRM's export profile (auto: the one the headers read like). Without FILE, "
    "writes the profile itself.",
)
@click.option("--sheet", default=None, help="Worksheet to read (XLSX).")
@click.option("--encoding", default=None, help="CSV encoding [default: detected].")
@click.option("--delimiter", default=None, help="CSV delimiter [default: detected].")
@connection_options
@common_options
def command(
    object_type: str,
    file: str | None,
    output: str | None,
    profile: str,
    sheet: str | None,
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
    """Draft a mapping file for importing FILE into OBJECT records.

    Every header is matched to a field (by key, label, synonym, profile or a fuzzy match, with how
    sure it is as a comment); unmatched columns are marked ignore. For each select and reference
    column, every value that matches no option or record is listed with its count and the nearest
    options. Edit the draft, then import with --mapping.

    \b
    Examples:
      bulkio map opportunity deals.csv -o deals.mapping.yaml
      bulkio map opportunity --from hubspot -o hubspot-deals.yaml
      bulkio import opportunity deals.csv --mapping deals.mapping.yaml --dry-run
    """
    from ..draft import draft_mapping, write_draft
    from ..profiles import profile_path

    with guarded(debug=debug):
        if file is None:
            if profile.lower() in ("auto", "none"):
                raise click.UsageError("give a FILE to draft from, or --from CRM to write that CRM's profile")
            text = profile_path(profile.lower(), object_type).read_text(encoding="utf-8")
            if output:
                from ..sheets import atomic_path

                with atomic_path(output) as tmp:
                    Path(tmp).write_text(text, encoding="utf-8")
                click.echo(f"wrote {output}", err=True)
            else:
                click.echo(text, nl=False)
            sys.exit(EXIT_OK)
        from .console import connect

        with connect(
            api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir
        ) as client:
            with object_type_checked(client, object_type):
                client.schema(object_type)
            draft = draft_mapping(
                file,
                object_type,
                client=client,
                profile=profile.lower(),
                sheet=sheet,
                encoding=encoding,
                delimiter=delimiter,
            )
        if draft.vendor and draft.profile is not None and draft.profile.detect is not None:
            click.echo(f"{file} reads like {draft.profile.detect.label}: drafted from that profile", err=True)
        if output:
            click.echo(f"wrote {write_draft(draft, output)}", err=True)
        elif output_format != "json":
            click.echo(draft.to_yaml(), nl=False)
        if output_format == "json":
            echo_json(versioned({**draft.to_dict(), "path": output}))
        unmapped = [c.header for c in draft.columns if c.target is None and c.how != "mapping"]
        values = sum(len(c.unresolved) for c in draft.columns)
        if unmapped:
            click.echo(
                f"{len(unmapped)} columns match no field (marked ignore): {', '.join(unmapped)}", err=True
            )
        if values:
            click.echo(f"{values} values match no option or record: see the 'check' lines", err=True)
    sys.exit(EXIT_OK)
