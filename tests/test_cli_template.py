"""``bulkio template``: exit codes, messages and the written file (CliRunner, real sandbox)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulkio.cli import cli
from bulkio.template import make_template


@pytest.fixture
def run(sandbox: Any, org: Any):
    def invoke(*args: str) -> Any:
        runner = CliRunner()
        return runner.invoke(
            cli,
            ["template", *args, "--api-key", org.api_key, "--base-url", sandbox.url],
            env={"LIGHTFIELD_API_KEY": None, "LIGHTFIELD_BASE_URL": None},
        )

    return invoke


def test_xlsx(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "opps.xlsx"
    result = run("opportunity", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Wrote {out} (14 columns, 3 required).\nFill it in, then run: bulkio import opportunity {out}\n"
    )
    wb = load_workbook(out)
    assert wb.sheetnames == ["Opportunities", "Instructions", "Reference"]
    assert wb["Opportunities"]["C1"].value == "Stage* ($stage)"


def test_csv_example_row_and_key(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "accounts.csv"
    result = run("account", "-o", str(out), "--example-row", "--key", "billingEmail")
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Billing Email (billingEmail),Name* ($name),")


def test_no_reference(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = run("task", "-o", str(out), "--no-reference", "-q")
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out)["Reference"].iter_rows(values_only=True))
    assert not any(r[0] == "Members" for r in rows)
    assert ("$status", "Status", "TODO", "To do") in rows


def test_json_equals_library(run: Any, client: Any, tmp_path: Path) -> None:
    out = tmp_path / "p.xlsx"
    result = run("partner", "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    lib = make_template(client, "partner", tmp_path / "lib" / "p.xlsx").to_dict()
    cli_data = json.loads(result.output)
    assert cli_data["path"] == str(out)
    assert {**cli_data, "path": None} == {**lib, "path": None}


def test_bad_extension(run: Any, tmp_path: Path) -> None:
    result = run("account", "-o", str(tmp_path / "a.ods"))
    assert result.exit_code == 2
    assert "Error: Cannot write a template to a.ods: use a .xlsx or .csv file name" in result.output
    assert list(tmp_path.iterdir()) == []


def test_unknown_object(run: Any, tmp_path: Path) -> None:
    result = run("unicorn", "-o", str(tmp_path / "u.xlsx"))
    assert result.exit_code == 2
    assert result.output == (
        "Error: Unknown object type 'unicorn'. Run `bulkio definitions --list` to see the types.\n"
    )
    typo = run("acount", "-o", str(tmp_path / "u.xlsx"))
    assert typo.exit_code == 2 and "Did you mean 'account'" in typo.output
    assert "404" not in typo.output
    assert list(tmp_path.iterdir()) == []


def test_unknown_key(run: Any, tmp_path: Path) -> None:
    result = run("account", "-o", str(tmp_path / "a.xlsx"), "--key", "nope")
    assert result.exit_code == 2
    assert result.output == (
        "Error: account has no field 'nope' to use as the key; see: bulkio definitions account\n"
    )


def test_missing_output(run: Any) -> None:
    result = run("account")
    assert result.exit_code == 2
    assert "Missing option '-o' / '--output'" in result.output


def test_embedded_sandbox_without_key(tmp_path: Path) -> None:
    out = tmp_path / "n.xlsx"
    result = CliRunner().invoke(
        cli,
        ["template", "note", "-o", str(out), "-q", "--sandbox-db", str(tmp_path / "sb.sqlite3")],
        env={"LIGHTFIELD_API_KEY": None, "LIGHTFIELD_BASE_URL": None},
    )
    assert result.exit_code == 0, result.output
    assert "(4 columns, 1 required)" in result.output


def test_ctrl_c_exits_3_saying_nothing_was_written(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkio import sheets

    def save_workbook(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(sheets, "save_workbook", save_workbook)
    out = tmp_path / "opps.xlsx"
    result = run("opportunity", "-o", str(out), "-q")
    assert result.exit_code == 3
    assert result.stderr == "Interrupted; nothing was written.\n"
    assert list(tmp_path.iterdir()) == []
