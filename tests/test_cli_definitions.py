"""``bulkio definitions`` over CliRunner against the sandbox; JSON output equals the library call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.cli.definitions_cmd import object_types_as_dict, schema_as_dict
from bulkio.client import LightfieldClient

NO_ENV = {"LIGHTFIELD_API_KEY": None, "LIGHTFIELD_BASE_URL": None}


def run(sandbox: Any, org: Any, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["definitions", *args, "--api-key", org.api_key, "--base-url", sandbox.url], env=NO_ENV
    )


def test_table_lists_fields_flags_options_and_relationships(sandbox: Any, org: Any) -> None:
    result = run(sandbox, org, "account")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("account: ") and lines[0].endswith(" fields")
    name = next(line for line in lines if line.split()[:1] == ["$name"])
    assert "TEXT" in name and "required" in name
    tier = next(line for line in lines if line.split()[:1] == ["tier"])
    assert "SINGLE_SELECT" in tier and "Strategic, Enterprise, Mid-Market, SMB" in tier
    money = next(line for line in lines if line.split()[:1] == ["$howTheyMakeMoney"])
    assert "read-only" in money
    assert any(line.startswith("account: ") and "relationships" in line for line in lines)
    opp = next(line for line in lines if line.split()[:1] == ["$opportunity"])
    assert "HAS_MANY" in opp and "read-only" in opp
    assert org.api_key not in result.output


def test_json_equals_library(sandbox: Any, org: Any) -> None:
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        for otype in ("partner", "note", "opportunity"):
            result = run(sandbox, org, otype, "--format", "json")
            assert result.exit_code == 0, result.output
            assert json.loads(result.output) == schema_as_dict(lf.schema(otype))
        result = run(sandbox, org, "--list", "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == object_types_as_dict(lf.all_object_types())
    listed = {t["object_type"]: t["system"] for t in json.loads(result.output)["object_types"]}
    assert listed["account"] is True and listed["partner"] is False


def test_list_table(sandbox: Any, org: Any) -> None:
    result = run(sandbox, org, "--list")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[-1] for line in result.output.splitlines()[1:]}
    assert rows["account"] == "system" and rows["partner"] == "custom" and rows["note"] == "system"


def test_unknown_object_and_missing_argument(sandbox: Any, org: Any) -> None:
    result = run(sandbox, org, "nope")
    assert result.exit_code == 2
    assert (
        "Error: Unknown object type 'nope'. Did you mean 'note'? Run `bulkio definitions --list`"
        in result.output
    )
    plural = run(sandbox, org, "Opportunities")
    assert plural.exit_code == 2 and "Did you mean 'opportunity'?" in plural.output
    member = run(sandbox, org, "member")
    assert member.exit_code == 2 and "Members are read-only through the API" in member.output
    result = run(sandbox, org)
    assert result.exit_code == 2
    assert "Give an OBJECT (e.g. account) or --list." in result.output


def test_bad_key_is_one_line_error(sandbox: Any) -> None:
    result = CliRunner().invoke(
        cli, ["definitions", "account", "--api-key", "sk_lf_nope", "--base-url", sandbox.url], env=NO_ENV
    )
    assert result.exit_code == 2
    assert result.output.startswith("Error: 401 unauthorized")
    assert "sk_lf_nope" not in result.output


def test_embedded_sandbox_without_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["definitions", "contact", "--format", "json", "--sandbox-db", str(tmp_path / "sb.sqlite3")],
        env=NO_ENV,
    )
    assert result.exit_code == 0, result.output
    keys = {f["key"] for f in json.loads(result.output)["fields"]}
    assert {"$name", "$email", "jobTitle", "leadSource"} <= keys
