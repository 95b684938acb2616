"""``bulkio undo RUN_ID`` of a one-file import, over real HTTP against the sandbox: the dry run,
a repeated undo, a server without DELETE, DELETE's scope, and ``bulkio runs``. (Workbook runs,
conflicts, --force and a kill in the middle: tests/test_workbook.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.errors import ScopeError


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An undo without --results writes ``undo-<id>.results.xlsx`` in the current folder."""
    monkeypatch.chdir(tmp_path)


def _run(sandbox: Any, org: Any, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--api-key", org.api_key, "--base-url", sandbox.url])


def _accounts_csv(path: Path, org_records: list[dict[str, Any]]) -> Path:
    """Two demo accounts with a new Annual Revenue (rows 2, 3) and two new accounts (rows 4, 5)."""
    a, b = org_records[0], org_records[1]
    lines = [
        "Record ID,Name,Annual Revenue",
        f"{a['id']},{a['fields']['$name']['value']},111",
        f"{b['id']},{b['fields']['$name']['value']},222",
        ",Undo One,",
        ",Undo Two,5",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_undo_dry_run_then_undo_then_refused_twice_and_runs_lists_it(
    sandbox: Any, org: Any, tmp_path: Path
) -> None:
    before = {r["id"]: r for r in sandbox.records(org.org_id, "account")}
    demo = sorted(before.values(), key=lambda r: r["id"])
    src = _accounts_csv(tmp_path / "accounts.csv", demo)
    imported = _run(sandbox, org, "import", "account", str(src), "--format", "json")
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert (report["counts"]["created"], report["counts"]["updated"]) == (2, 2)
    run_id = report["run_id"]

    w0 = sandbox.stats(org.org_id)["writes"]
    dry = _run(sandbox, org, "undo", run_id[:10], "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert sorted(r["outcome"] for r in planned["rows"]) == [
        "would delete",
        "would delete",
        "would update",
        "would update",
    ]
    assert sandbox.stats(org.org_id)["writes"] == w0

    out = tmp_path / "undo.xlsx"
    done = _run(sandbox, org, "undo", run_id, "--results", str(out))
    assert done.exit_code == 0, done.output
    assert sandbox.stats(org.org_id)["writes"] - w0 == 4
    after = {r["id"]: r for r in sandbox.records(org.org_id, "account")}
    assert set(after) == set(before)
    for rid in (demo[0]["id"], demo[1]["id"]):
        assert after[rid]["fields"].get("annualRevenue") == before[rid]["fields"].get("annualRevenue")
    ws = openpyxl.load_workbook(out)["Undo"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted((r["Row"], r["Action"], r["Outcome"]) for r in rows) == [
        (2, "restore", "updated"),
        (3, "restore", "updated"),
        (4, "delete", "deleted"),
        (5, "delete", "deleted"),
    ]
    restored = next(r for r in rows if r["Row"] == 2)
    assert restored["Changes"].startswith("annualRevenue: 111 → ")

    again = _run(sandbox, org, "undo", run_id)
    assert again.exit_code == 2 and "undone already" in again.output

    runs = CliRunner().invoke(cli, ["runs", "--format", "json"])
    listed = {r["run_id"]: r for r in json.loads(runs.output)["runs"]}
    assert listed[run_id]["undone_by"] and listed[run_id]["counts"]["created"] == 2


def test_undo_against_a_server_without_delete_lists_records_to_remove_by_hand(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("External ID,Name\nND-1,No Delete One\nND-2,No Delete Two\n", encoding="utf-8")
    imported = _run(sandbox, empty_org, "import", "account", str(src), "--format", "json")
    run_id = json.loads(imported.stdout)["run_id"]
    sandbox.set_faults(empty_org.org_id, deletes=False)
    done = _run(sandbox, empty_org, "undo", run_id, "--format", "json", "--results", str(tmp_path / "u.csv"))
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["counts"]["skipped"] == 2 and report["counts"]["deleted"] == 0
    assert sorted(r["record_id"] for r in report["to_delete_by_hand"]) == sorted(
        r["id"] for r in sandbox.records(empty_org.org_id, "account")
    )


def test_delete_needs_its_scope(sandbox: Any, empty_org: Any) -> None:
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        rec = lf.create("account", {"fields": {"$name": "Scoped"}}, idempotency_key="scoped-1")
    read_write = sandbox.mint_key(empty_org.org_id, scopes=["accounts:read", "accounts:create"])
    with LightfieldClient(api_key=read_write, base_url=sandbox.url) as lf, pytest.raises(ScopeError):
        lf.delete("account", rec["id"])
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        lf.delete("account", rec["id"])
    assert sandbox.records(empty_org.org_id, "account") == []
