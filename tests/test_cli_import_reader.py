"""`bulkio import` on files as people make them: standard input (``-``, ``/dev/stdin``, a pipe),
``--header-row``, .xls and .ods, formulas without saved values and error values in imported and
ignored columns."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.errors import InputFileError
from bulkio.read import STDIN_NAME, open_table, spooled, spooled_name

DATA = Path(__file__).parent / "data" / "read"
CSV = b"Name,external_id\nPiped Co,PIPE-1\nPiped Two,PIPE-2\n"


def env_of(sandbox: Any, org: Any) -> dict[str, str]:
    return {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}


def run(sandbox: Any, org: Any, args: list[str], stdin: bytes | None = None) -> Any:
    return CliRunner().invoke(cli, ["import", *args, "-q"], env=env_of(sandbox, org), input=stdin)


def rows_of(result: Any) -> dict[int, dict[str, Any]]:
    assert "Traceback" not in result.output, result.output
    return {r["row"]: r for r in json.loads(result.stdout)["rows"]}


# --- standard input ----------------------------------------------------------------------------------


def test_csv_on_stdin_imports_and_writes_stdin_results(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(sandbox, org, ["account", "-", "--format", "json"], stdin=CSV)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["file"] == STDIN_NAME and report["counts"]["created"] == 2
    assert report["results_path"] == "stdin.results.csv"
    assert (tmp_path / "stdin.results.csv").read_text().splitlines()[1].startswith("Piped Co,PIPE-1,created")
    again = run(sandbox, org, ["account", "-"], stdin=CSV)  # the same data again: nothing to write
    assert again.exit_code == 0 and "unchanged  2" in again.output
    assert {p.name for p in tmp_path.iterdir()} <= {"stdin.results.csv", ".bulkio"}  # no spool left here


def test_xlsx_on_stdin_and_an_explicit_results_path(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = (DATA / "formulas_libreoffice.xlsx").read_bytes()
    result = run(sandbox, org, ["account", "-", "--dry-run", "--format", "json"], stdin=data)
    rows = rows_of(result)
    assert sorted(rows) == [3, 4, 5, 6] and json.loads(result.stdout)["sheet"] == "Accounts"
    assert (tmp_path / "stdin.results.xlsx").exists()
    result = run(sandbox, org, ["account", "-", "--dry-run", "--results", "out/piped.csv"], stdin=CSV)
    assert result.exit_code == 0 and (tmp_path / "out" / "piped.csv").exists()


def test_empty_stdin_is_one_clear_line(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(sandbox, org, ["account", "-", "--dry-run"], stdin=b"")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: <stdin>: is empty: expected a header row with column names"


def test_spooled_input_is_a_file_while_open_and_gone_after() -> None:
    with spooled("-", stdin=io.BytesIO(CSV)) as (path, name):
        assert name == STDIN_NAME and spooled_name(path) == STDIN_NAME and path.read_bytes() == CSV
        with open_table(path, name=name) as t:
            assert [r.cells for r in t.rows] == [["Piped Co", "PIPE-1"], ["Piped Two", "PIPE-2"]]
    assert not path.exists() and spooled_name(path) is None
    with (
        pytest.raises(InputFileError, match="input is larger than 10 bytes"),
        spooled("-", stdin=io.BytesIO(CSV), limits=_tiny()),
    ):
        pass


def _tiny() -> Any:
    from bulkio.read_guard import ReadLimits

    return ReadLimits(max_stdin_bytes=10)


@pytest.mark.timeout(60)
def test_dev_stdin_and_a_named_pipe_in_a_real_process(sandbox: Any, org: Any, tmp_path: Path) -> None:
    env = {**os.environ, **env_of(sandbox, org)}
    cmd = [sys.executable, "-m", "bulkio", "import", "account"]
    proc = subprocess.run(
        [*cmd, "/dev/stdin", "--dry-run", "--format", "json", "-q"],
        input=CSV,
        capture_output=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["file"] == "/dev/stdin" and len(report["rows"]) == 2
    assert (tmp_path / "stdin.results.csv").exists()

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(CSV))
    writer.start()
    proc = subprocess.run(
        [*cmd, str(fifo), "--dry-run", "--format", "json", "-q"],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    writer.join(10)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["file"] == str(fifo)
    assert (tmp_path / "pipe.results.csv").exists()


# --- header row, workbooks, cell errors ---------------------------------------------------------------


def test_header_found_below_a_title_and_header_row_option(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = Path(shutil.copy(DATA / "title_rows.csv", tmp_path))
    result = run(sandbox, org, ["account", str(src), "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(rows_of(result)) == [5, 6]
    assert [(i["code"], i["row"]) for i in report["file_issues"]] == [("header_not_first", 4)]
    result = run(
        sandbox,
        org,
        ["account", str(src), "--dry-run", "--header-row", "4", "--format", "json"],
    )
    assert sorted(rows_of(result)) == [5, 6] and json.loads(result.stdout)["file_issues"] == []
    result = run(sandbox, org, ["account", str(src), "--dry-run", "--header-row", "0"])
    assert result.exit_code == 2 and "--header-row" in result.output
    results = (tmp_path / "title_rows.results.csv").read_text().splitlines()
    assert results[3].startswith("Name,external_id,City,") and results[4].startswith("Acme,ACC-1,Berlin")


@pytest.mark.parametrize("name", ["book.xls", "book.ods", "formulas_libreoffice.xlsx"])
def test_libreoffice_workbooks_import(
    sandbox: Any, empty_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    src = Path(shutil.copy(DATA / name, tmp_path))
    result = run(sandbox, empty_org, ["account", str(src), "--dry-run", "--format", "json"])
    rows = rows_of(result)
    assert result.exit_code == 0, result.output  # the #N/A is in a column that is not imported
    assert [rows[n]["changes"]["$name"][1] for n in (3, 4, 5, 6)] == ["Acme", "Beta", "Gamma", "Gamma"]
    [warning] = [i for i in rows[4]["issues"] if i["code"] == "cell_error"]
    assert (warning["severity"], warning["column"], warning["value"]) == ("warning", "F", "#N/A")
    assert "not imported" in warning["message"]
    assert [i["code"] for i in rows[6]["issues"]] == ["merged_cells", "possible_duplicate"]  # Gamma twice
    assert (tmp_path / f"{Path(name).stem}.results.xlsx").exists()


def test_formula_without_value_fails_its_row_only_where_the_column_is_imported(
    sandbox: Any, empty_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "external_id", "Employee Count", "Helper"])
    ws.append(["Acme", "FX-1", 10, "=C2*2"])
    ws.append(['=PROPER("beta inc")', "FX-2", 20, None])
    ws.append(["Gamma", "FX-3", "=10+20", None])
    wb.save(tmp_path / "f.xlsx")
    result = run(sandbox, empty_org, ["account", str(tmp_path / "f.xlsx"), "--dry-run", "--format", "json"])
    rows = rows_of(result)
    assert result.exit_code == 1
    assert [rows[n]["outcome"] for n in (2, 3, 4)] == ["would create", "would fail", "would fail"]
    assert [(i["code"], i["severity"], i["column"]) for i in rows[2]["issues"]] == [
        ("formula_without_value", "warning", "D")
    ]
    assert [(i["code"], i["severity"], i["column"]) for i in rows[3]["issues"]] == [
        ("formula_without_value", "error", "A")
    ]
    assert [(i["code"], i["severity"], i["column"]) for i in rows[4]["issues"]] == [
        ("formula_without_value", "error", "C")
    ]
    assert "employeeCount" not in rows[4]["changes"]


def test_a_table_named_with_sheet_is_imported_and_its_results_line_up(
    sandbox: Any, empty_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl.worksheet.table import Table

    monkeypatch.chdir(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["A1"] = "Two tables below"
    for r, row in enumerate([["Name", "external_id"], ["Table Co", "T-1"], ["Table Two", "T-2"]], start=3):
        ws.cell(r, 2, row[0])
        ws.cell(r, 3, row[1])
    ws.add_table(Table(displayName="Notes", ref="B3:C5"))
    for r, row in enumerate([["Name", "external_id"], ["Other Co", "O-1"]], start=3):
        ws.cell(r, 6, row[0])
        ws.cell(r, 7, row[1])
    ws.add_table(Table(displayName="Accounts2", ref="F3:G4"))
    wb.save(tmp_path / "t.xlsx")
    result = run(
        sandbox, empty_org, ["account", "t.xlsx", "--sheet", "accounts2", "--dry-run", "--format", "json"]
    )
    rows = rows_of(result)
    assert result.exit_code == 0 and [r["changes"]["$name"][1] for r in rows.values()] == ["Other Co"]
    results = openpyxl.load_workbook(tmp_path / "t.results.xlsx", read_only=True)
    cells = [list(r) for r in results.active.iter_rows(values_only=True)]
    assert cells[2][5:8] == ["Name", "external_id", "Outcome"]
    assert cells[3][5:8] == ["Other Co", "O-1", "would create"]
    result = run(sandbox, empty_org, ["account", "t.xlsx", "--dry-run", "--format", "json"])
    assert [r["changes"]["$name"][1] for r in rows_of(result).values()] == ["Table Co", "Table Two"]
    assert [i["code"] for i in json.loads(result.stdout)["file_issues"]] == ["several_tables"]
