"""Every ``--format json`` output has ``schema_version`` and snake_case keys, and validates against
the JSON Schema documented in docs/json.md (docs/json-schema.json), checked on real outputs of every
command; the outcome words are the same in the console, the JSON report and the results sheet."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from bulkio.cli import cli
from bulkio.vocabulary import DRY_RUN_WORDS, OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
DEALS = Path(__file__).parent / "data" / "exports" / "hubspot" / "hubspot-deals.csv"
SCHEMA = json.loads((ROOT / "docs" / "json-schema.json").read_text(encoding="utf-8"))
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{name}"})


def property_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        yield from node.get("properties", {})
        for value in node.values():
            yield from property_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from property_names(value)


def json_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found |= json_commands(cmd, (*prefix, name))
        elif any(p.name == "output_format" for p in cmd.params):
            found.add((*prefix, name))
    return found


def test_schema_itself() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    names = set(property_names(SCHEMA))
    assert names and all(SNAKE.match(n) for n in names), sorted(n for n in names if not SNAKE.match(n))
    assert "duration" not in names and "duration_s" in names
    for name, definition in SCHEMA["$defs"].items():
        if definition.get("type") == "object" and name not in ("issue", "summary_row", "close_aggregates"):
            assert definition["required"][0] == "schema_version", name


def test_every_json_output_validates(
    sandbox: Any,
    org: Any,
    close_sandbox: Any,
    close_org: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    # Close (--crm close, bulkio migrate): the Close org, and the key field a migration needs
    env.update(CLOSE_API_KEY=close_org.api_key, CLOSE_BASE_URL=close_sandbox.api_url)
    for otype in ("account", "contact", "opportunity"):
        sandbox.add_field(
            org.org_id,
            otype,
            "close_id",
            {"label": "Close ID", "valueType": "TEXT", "typeConfiguration": {"unique": True}},
        )
    (tmp_path / "accounts.csv").write_text(
        "Name,external_id,Billing Email,Tier,Renewal Date\n"
        "Json Co,JSON-1,a@example.com,SMB,2026-03-16\n"
        "Bad Co,JSON-2,not-an-email,Gold,03/04/2026\n"
        ",,,,\n"
        "Acme Corp,ACC-0001,,,\n",
        encoding="utf-8",
    )
    # (schema, arguments, exit code): the imports exit 1 as row 3 has bad cells
    runs: list[tuple[str, list[str], int]] = [
        ("import", ["import", "account", "accounts.csv", "--dry-run", "-q"], 1),
        ("import", ["import", "account", "accounts.csv", "--results", "r.xlsx", "-q"], 1),
        ("export", ["export", "pipeline", "-o", "p.xlsx", "-q"], 0),
        ("export", ["export", "account", "contact", "-o", "crm.csv", "-q"], 0),
        ("template", ["template", "opportunity", "-o", "t.xlsx", "-q"], 0),
        ("definitions", ["definitions", "account"], 0),
        ("map", ["map", "opportunity", str(DEALS), "-o", "deals.yaml"], 0),
        ("object_types", ["definitions", "--list"], 0),
        ("workbook", ["import", "pipeline", "p.xlsx", "--dry-run", "-q"], 0),
        ("undo", ["undo", "LAST-IMPORT", "--dry-run", "-q"], 0),
        ("runs", ["runs"], 0),
        ("state_path", ["state", "path"], 0),
        ("state_list", ["state", "list"], 0),
        ("state_clear", ["state", "clear", "--ledger", "--yes"], 0),
        ("export", ["export", "pipeline", "--crm", "close", "-o", "close.xlsx", "-q"], 0),
        (
            "migrate",
            ["migrate", "--from", "close", "--to", "lightfield", "--dry-run", "--report", "m.xlsx", "-q"],
            0,
        ),
    ]
    covered: set[tuple[str, ...]] = set()
    outputs: dict[str, list[dict[str, Any]]] = {}
    for name, args, code in runs:
        if "LAST-IMPORT" in args:  # the run id of the import above (with --results r.xlsx)
            args = [outputs["import"][1]["run_id"] if a == "LAST-IMPORT" else a for a in args]
        result = CliRunner().invoke(cli, [*args, "--format", "json"], env=env)
        assert result.exit_code == code, (args, result.output)
        data = json.loads(result.stdout)
        errors = sorted(validator(name).iter_errors(data), key=str)
        assert not errors, (args, [f"{list(e.absolute_path)}: {e.message}" for e in errors])
        assert data["schema_version"] == 1
        covered.add(tuple(args[:2]) if args[0] == "state" else (args[0],))
        outputs.setdefault(name, []).append(data)
    assert covered == json_commands(cli)  # every command that prints JSON is checked

    # the report carries the issues and the outcome words of both kinds of run
    dry, real = outputs["import"]
    assert [r["outcome"] for r in dry["rows"]] == ["would create", "would fail", "unchanged"]
    assert [r["outcome"] for r in real["rows"]] == ["created", "failed", "unchanged"]
    assert {i["code"] for i in dry["rows"][1]["issues"]} >= {"invalid_email", "unknown_option"}


def test_one_vocabulary_in_console_report_and_results_sheet(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: one dry run said "skip (errors)" in the console, "failed" in the report and
    "would create" in the results sheet for the same row. Now all three say the same word."""
    monkeypatch.chdir(tmp_path)
    env = {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    (tmp_path / "a.csv").write_text(
        "Name,external_id,Billing Email\nNew Co,VOC-1,a@example.com\nBad Co,VOC-2,nope\n", encoding="utf-8"
    )
    args = ["import", "account", "a.csv", "--dry-run", "--results", "r.csv", "-q"]
    table = CliRunner().invoke(cli, args, env=env)
    as_json = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"], env=env).stdout)
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as fh:
        sheet = [r["Outcome"] for r in csv.DictReader(fh)]
    report = [r["outcome"] for r in as_json["rows"]]
    console = [
        line.split(": ", 1)[1].split(" [")[0] for line in table.stdout.splitlines() if line.startswith("row ")
    ]
    assert sheet == report == console == ["would create", "would fail"]
    counts = dict(line.rsplit(None, 1) for line in table.stdout.splitlines()[1:6])
    assert counts == {DRY_RUN_WORDS[o]: str(as_json["counts"][o]) for o in OUTCOMES}
    assert "skip (error" not in table.stdout
