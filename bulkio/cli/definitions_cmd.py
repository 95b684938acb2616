"""``bulkio definitions``: show which fields and relationships an object has (and which types
exist), so users can see the keys a template or an import will use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..vocabulary import versioned
from .console import (
    common_options,
    connect,
    connection_options,
    echo_json,
    object_type_checked,
    with_guard,
)

if TYPE_CHECKING:
    from ..definitions import ObjectSchema


def schema_as_dict(schema: ObjectSchema) -> dict[str, Any]:
    """The JSON shape printed by ``--format json`` (one entry per field / relationship; snake_case
    keys like every bulkio JSON document, docs/json.md)."""
    required = set(schema.required)
    return versioned(
        {
            "object_type": schema.object_type,
            "fields": [
                {
                    "key": f.key,
                    "label": f.label,
                    "value_type": f.value_type,
                    "read_only": f.read_only,
                    "required": f.key in required,
                    "unique": f.unique,
                    "multiple": f.multiple,
                    "options": [{"id": o.id, "label": o.label} for o in f.options],
                }
                for f in schema.fields.values()
            ],
            "relationships": [
                {
                    "key": r.key,
                    "label": r.label,
                    "cardinality": r.cardinality.upper(),
                    "object_type": r.object_type,
                    "read_only": r.read_only,
                    "required": r.key in required,
                }
                for r in schema.relationships.values()
            ],
        }
    )


def object_types_as_dict(types: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON shape of ``--list --format json``: ``{"object_types": [{object_type, label, system}]}``."""
    return versioned(
        {
            "object_types": [
                {"object_type": t["objectType"], "label": t.get("label", ""), "system": bool(t.get("system"))}
                for t in types
            ]
        }
    )


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        click.echo("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _flags(item: dict[str, Any]) -> str:
    names = ("required", "read_only", "unique", "multiple")
    labels = {"read_only": "read-only"}
    return ", ".join(labels.get(n, n) for n in names if item.get(n))


def _options(item: dict[str, Any], limit: int = 80) -> str:
    text = ", ".join(o["label"] for o in item.get("options", []))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def print_schema(data: dict[str, Any]) -> None:
    click.echo(f"{data['object_type']}: {_count(len(data['fields']), 'field')}")
    _table(
        ("KEY", "LABEL", "TYPE", "FLAGS", "OPTIONS"),
        [(f["key"], f["label"], f["value_type"], _flags(f), _options(f)) for f in data["fields"]],
    )
    click.echo(f"\n{data['object_type']}: {_count(len(data['relationships']), 'relationship')}")
    _table(
        ("KEY", "LABEL", "CARDINALITY", "OBJECT", "FLAGS"),
        [
            (r["key"], r["label"], r["cardinality"], r["object_type"], _flags(r))
            for r in data["relationships"]
        ],
    )


@click.command("definitions", short_help="Show the fields, relationships and options of an object.")
@click.argument("object_type", metavar="[OBJECT]", required=False)
@click.option(
    "--list",
    "list_types",
    is_flag=True,
    help="List the object types of the organisation (system and custom).",
)
@connection_options
@common_options
@with_guard
def command(
    object_type: str | None,
    list_types: bool,
    api_key: str | None,
    base_url: str | None,
    sandbox_db: str | None,
    state_dir: str | None,
    quiet: bool,
    debug: bool,
    output_format: str,
) -> None:
    """Show the fields and relationships of OBJECT (account, contact, opportunity, task, note,
    or a custom object such as partner): keys, labels, value types, read-only flags and select
    options. These keys are what templates, imports and exports use.

    \b
    Examples:
      bulkio definitions account
      bulkio definitions partner --format json
      bulkio definitions --list
    """
    if not list_types and not object_type:
        raise click.UsageError("Give an OBJECT (e.g. account) or --list.")
    with connect(api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, state_dir=state_dir) as client:
        if list_types:
            types = client.all_object_types()
            if output_format == "json":
                echo_json(object_types_as_dict(types))
            else:
                _table(
                    ("OBJECT", "LABEL", "KIND"),
                    [
                        (t["objectType"], t.get("label", ""), "system" if t["system"] else "custom")
                        for t in types
                    ],
                )
            return
        assert object_type is not None
        with object_type_checked(client, object_type):
            schema = client.schema(object_type)
    data = schema_as_dict(schema)
    if output_format == "json":
        echo_json(data)
    else:
        print_schema(data)
