"""``bulkio export`` through CliRunner against the sandbox; its JSON output equals the library's."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.export import export_objects


@pytest.fixture
def env(sandbox: Any, org: Any) -> dict[str, str]:
    sandbox.set_rate_limit(org.org_id, per_second=200)  # pacing is not under test here
    return {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}


def run(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(cli, ["export", *args], env=env, catch_exceptions=False)


def test_pipeline_json_equals_library(env: dict[str, str], client: LightfieldClient, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.xlsx"
    result = run(["pipeline", "-o", str(out), "--format", "json", "-q"], env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    lib = export_objects(client, "pipeline", tmp_path / "lib.xlsx").to_dict()
    for key in ("ok", "format", "counts", "sheets", "total", "summary"):
        assert data[key] == lib[key], key
    assert data["paths"] == [str(out)]
    assert load_workbook(out).sheetnames[0] == "Summary"


def test_table_output_and_csv_format(env: dict[str, str], sandbox: Any, org: Any, tmp_path: Path) -> None:
    out = tmp_path / "accounts.txt"
    result = run(["account", "-o", str(out), "--to", "csv", "-q"], env)
    assert result.exit_code == 0, result.output
    n = sandbox.count(org.org_id, "account")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Accounts", str(n)]
    assert any(line.startswith("Records/s") for line in lines)
    assert lines[-1].split() == ["Wrote", str(out)]
    with open(out, encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == n + 1


def test_filters(
    env: dict[str, str], client: LightfieldClient, sandbox: Any, org: Any, tmp_path: Path
) -> None:
    stage = client.schema("opportunity").fields["$stage"].options[0]
    expected = sum(
        1 for r in sandbox.records(org.org_id, "opportunity") if r["fields"]["$stage"]["value"] == stage.id
    )
    out = tmp_path / "opps.jsonl"
    result = run(
        [
            "opportunity",
            "account",
            "-o",
            str(out),
            "--format",
            "json",
            "-q",
            "--filter",
            f"opportunity:$stage[equal]={stage.id}",
        ],
        env,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == {"opportunity": expected, "account": sandbox.count(org.org_id, "account")}
    assert data["paths"] == [str(tmp_path / "opps-opportunity.jsonl"), str(tmp_path / "opps-account.jsonl")]
    # a bare filter applies to the objects that have the field
    result = run(
        [
            "opportunity",
            "account",
            "-o",
            str(tmp_path / "x.csv"),
            "--format",
            "json",
            "-q",
            "--filter",
            f"$stage={stage.id}",
        ],
        env,
    )
    assert json.loads(result.stdout)["counts"]["opportunity"] == expected


@pytest.mark.parametrize(
    "args, message",
    [
        (["gizmo", "-o", "x.xlsx"], "Error: Unknown object type gizmo"),
        (["account", "-o", "x.xlsx", "--filter", "nonsense"], "Error: Bad filter 'nonsense'"),
        (["account", "-o", "x.xlsx", "--filter", "$stage=x"], "Error: No exported object has the field"),
        (
            ["opportunity", "-o", "x.xlsx", "--filter", "stage=Lead"],
            "Error: No exported object has the field of filter stage=Lead (did you mean $stage?)",
        ),
        (["pipeline", "account", "-o", "x.xlsx"], "Error: 'pipeline' exports the whole pipeline"),
    ],
)
def test_errors_exit_2(
    env: dict[str, str], tmp_path: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(args, env)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert not (tmp_path / "x.xlsx").exists()


def test_file_type_from_suffix_or_to(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    unknown = run(["account", "-o", "accounts.txt"], env)
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith(
        "Error: Cannot tell the file type of 'accounts.txt': name it "
        ".xlsx, .csv or .jsonl, or choose the format (--to xlsx|csv|jsonl)."
    )
    assert list(tmp_path.iterdir()) == []
    # --to wins over the suffix; --format only changes what is printed
    result = run(["account", "-o", "accounts.csv", "--to", "JSONL", "--format", "json", "-q"], env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "jsonl"
    assert json.loads((tmp_path / "accounts.csv").read_text(encoding="utf-8").splitlines()[0])["id"]


def test_format_is_the_printed_summary_only(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["account", "-o", str(tmp_path / "x.csv"), "--format", "csv"], env)
    assert result.exit_code == 2
    assert "Invalid value for '--format': 'csv' is not one of 'table', 'json'." in result.output
    assert not (tmp_path / "x.csv").exists()


def test_ctrl_c_exits_3_and_replaces_no_file(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the second of two CSV files streams: exit 3, no --resume advice (export has
    none), and neither file replaced (the first, already complete, is not renamed into place alone)."""
    from bulkio import sheets

    old = tmp_path / "crm-account.csv"
    old.write_text("the previous export\n", encoding="utf-8")
    original = sheets.write_csv_rows
    calls: list[Any] = []

    def write_csv_rows(fh: Any, headers: Any, rows: Any) -> int:
        calls.append(fh)
        if len(calls) < 2:
            return original(fh, headers, rows)

        def some_then_ctrl_c() -> Any:
            for i, row in enumerate(rows):
                if i == 3:
                    raise KeyboardInterrupt
                yield row

        return original(fh, headers, some_then_ctrl_c())

    monkeypatch.setattr(sheets, "write_csv_rows", write_csv_rows)
    result = run(["account", "contact", "-o", str(tmp_path / "crm.csv"), "-q"], env)
    assert result.exit_code == 3
    assert result.stderr == "Interrupted; nothing was written.\n"
    assert len(calls) == 2
    assert old.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm-account.csv"]  # no temporary files


def test_an_os_error_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    result = run(["account", "-o", str(tmp_path / "taken" / "accounts.csv"), "-q"], env)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: [Errno ") and "taken" in result.stderr
    assert "Traceback" not in result.output
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "a file, not a folder"
