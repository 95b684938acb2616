"""``bulkio import pipeline``: a whole workbook in one run, over real HTTP against the sandbox.

The session sandbox is strict (list lag), and these tests make the lag longer than a run: records
created in the same run are found only because the workbook hands them from sheet to sheet.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.export import export_objects
from bulkio.undo import undo_run
from bulkio.workbook import import_workbook

#: Longer than any run here: a list never shows what the run created (lists lag, API-FACTS §6).
LONG_LAG_MS = 60_000.0


def _book(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


CLOSE = dt.datetime(2026, 9, 30)


def _new_book(path: Path) -> Path:
    """Accounts, contacts, deals and a task that refer to each other by key, name, email and record
    name; account row 4 has no name (fails), and the rows that refer to it depend on it."""
    return _book(
        path,
        {
            # sheets out of order on purpose: the run orders them by their references
            "Tasks": [
                ["Title", "Status", "Assigned To", "Opportunity", "Account"],
                ["Call Ann", "To do", "cleo@demo.lightfield.test", "Acme expansion", "Acme Rockets"],
            ],
            "Deals": [
                ["External ID", "Name", "Stage", "Amount", "Account", "Champion", "Close Date"],
                ["D-1", "Acme expansion", "Lead", 1000, "A-1", "ann@acme.example.com", CLOSE],
                ["D-2", "Bolt pilot", "Proposal", 2500.5, "Bolt Labs", "C-2", CLOSE],
                ["D-3", "Broken deal", "Lead", 5, "A-3", None, None],
            ],
            "Accounts": [
                ["External ID", "Name", "Website"],
                ["A-1", "Acme Rockets", "https://acme.example.com"],
                ["A-2", "Bolt Labs", "https://bolt.example.com"],
                ["A-3", None, "https://broken.example.com"],
            ],
            "Contacts": [
                ["External ID", "First name", "Last name", "Email", "Accounts"],
                ["C-1", "Ann", "Archer", "ann@acme.example.com", "Acme Rockets"],
                ["C-2", "Bo", "Baker", "bo@bolt.example.com", "A-2"],
                ["C-3", "Cy", "Crane", "cy@broken.example.com", "A-3"],
            ],
        },
    )


def _by_key(sandbox: Any, org: Any, object_type: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in sandbox.records(org.org_id, object_type):
        key = r["fields"].get("external_id", {}).get("value") or r["fields"].get("$title", {}).get("value")
        if key is None:  # a demo record: no external id
            continue
        assert key not in out, f"duplicate {object_type} {key}"
        out[key] = r
    return out


def _rel(record: dict[str, Any], key: str) -> list[str]:
    return list(record["relationships"][key]["values"])


def test_new_workbook_in_dependency_order_with_references_to_rows_of_the_same_run(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """A dry run plans every sheet (references to rows it would create count as resolvable) and
    writes nothing; the run then creates accounts → contacts → deals → task, each reference
    pointing at the record created seconds earlier although no list shows it yet; rows that refer
    to the failed account are skipped as depends_on_failed, naming it. An undo takes it all back."""
    sandbox.set_faults(empty_org.org_id, index_lag_ms=LONG_LAG_MS)
    book = _new_book(tmp_path / "book.xlsx")
    ledger = tmp_path / "ledger.db"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        dry = import_workbook(book, client=lf, ledger_path=ledger, dry_run=True)
        assert sandbox.stats(empty_org.org_id)["writes"] == 0
        assert [s.sheet for s in dry.sheets] == ["Accounts", "Contacts", "Deals", "Tasks"]
        assert [(s.sheet, r.row, r.outcome) for s in dry.sheets for r in s.rows] == [
            ("Accounts", 2, "would create"),
            ("Accounts", 3, "would create"),
            ("Accounts", 4, "would fail"),
            ("Contacts", 2, "would create"),
            ("Contacts", 3, "would create"),
            ("Contacts", 4, "would skip"),
            ("Deals", 2, "would create"),
            ("Deals", 3, "would create"),
            ("Deals", 4, "would skip"),
            ("Tasks", 2, "would create"),
        ]

        report = import_workbook(book, client=lf, ledger_path=ledger)
        assert not report.ok
        assert report.counts.model_dump() == {
            "created": 7,
            "updated": 0,
            "unchanged": 0,
            "failed": 1,
            "skipped": 2,
        }
        skipped = [(s.sheet, r) for s in report.sheets for r in s.rows if r.outcome == "skipped"]
        for sheet, r in skipped:
            (issue,) = [i for i in r.issues if i.code == "depends_on_failed"]
            assert "row 4 of sheet Accounts" in issue.message, (sheet, issue.message)
        assert sandbox.stats(empty_org.org_id)["writes"] == 7

        accounts = _by_key(sandbox, empty_org, "account")
        contacts = _by_key(sandbox, empty_org, "contact")
        deals = _by_key(sandbox, empty_org, "opportunity")
        tasks = _by_key(sandbox, empty_org, "task")
        assert sorted(accounts) == ["A-1", "A-2"]
        assert sorted(contacts) == ["C-1", "C-2"]
        assert sorted(deals) == ["D-1", "D-2"]
        a1, a2 = accounts["A-1"]["id"], accounts["A-2"]["id"]
        assert _rel(contacts["C-1"], "$account") == [a1]  # by name
        assert _rel(contacts["C-2"], "$account") == [a2]  # by key
        assert _rel(deals["D-1"], "$account") == [a1]
        assert _rel(deals["D-1"], "$champion") == [contacts["C-1"]["id"]]  # by email
        assert _rel(deals["D-2"], "$account") == [a2]
        assert _rel(deals["D-2"], "$champion") == [contacts["C-2"]["id"]]
        assert _rel(tasks["Call Ann"], "$opportunity") == [deals["D-1"]["id"]]
        assert _rel(tasks["Call Ann"], "$account") == [a1]

        # results: one workbook, a Summary and a sheet per input sheet, filters and a frozen header
        wb = openpyxl.load_workbook(report.results_path or "")
        assert wb.sheetnames[0] == "Summary"
        assert set(wb.sheetnames[1:]) == {"Accounts", "Contacts", "Deals", "Tasks"}
        deals_ws = wb["Deals"]
        assert deals_ws.auto_filter.ref and deals_ws.freeze_panes == "A2"
        header = [c.value for c in deals_ws[1]]
        amount = [r[header.index("Amount")] for r in deals_ws.iter_rows(min_row=2, values_only=True)]
        assert amount == [1000, 2500.5, 5]  # numbers stay numbers, dates dates
        close = [r[header.index("Close Date")] for r in deals_ws.iter_rows(min_row=2, values_only=True)]
        assert close == [CLOSE, CLOSE, None]

        # undo a create run: everything it created goes, deals before the accounts they belong to
        undone = undo_run(
            report.run_id or "", client=lf, ledger_path=ledger, results_path=tmp_path / "u.xlsx"
        )
        assert undone.ok and undone.counts.deleted == 7
        for otype in ("account", "contact", "opportunity", "task"):
            assert sandbox.records(empty_org.org_id, otype) == []


def _cells(ws: Any) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value}


def _row_of(ws: Any, column: int, value: Any) -> int:
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, column).value == value:
            return r
    raise AssertionError(f"{value!r} not in column {column} of {ws.title}")


def test_exported_workbook_round_trip_edit_add_and_undo(sandbox: Any, org: Any, tmp_path: Path) -> None:
    """Export → re-import as it is: 0 writes. Edit 5 cells across 3 sheets and add an account and a
    deal for it: exactly those 5 fields are written and both records created, the account first.
    Then someone edits one of the fields the run wrote; undo leaves that one alone (a conflict)
    and takes back the rest; undo --force takes back the conflict too."""
    sandbox.set_faults(org.org_id, index_lag_ms=LONG_LAG_MS)
    ledger = tmp_path / "ledger.db"
    book = tmp_path / "pipeline.xlsx"
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        export_objects(lf, "pipeline", book)
        w0 = sandbox.stats(org.org_id)["writes"]
        same = import_workbook(book, client=lf, ledger_path=ledger)
        assert same.ok, [(s.sheet, r.row, r.issues) for s in same.sheets for r in s.rows if r.issues]
        assert same.counts.unchanged == 165 and same.counts.total == 165
        assert sandbox.stats(org.org_id)["writes"] == w0

        wb = openpyxl.load_workbook(book)
        acc, con, opp = wb["Accounts"], wb["Contacts"], wb["Opportunities"]
        ac, cc, oc = _cells(acc), _cells(con), _cells(opp)
        acc_row, con_row, opp_row1, opp_row2 = 2, 3, 2, 4
        acc_id = acc.cell(acc_row, ac["Record ID (id)"]).value
        con_id = con.cell(con_row, cc["Record ID (id)"]).value
        opp1 = opp.cell(opp_row1, oc["Record ID (id)"]).value
        opp2 = opp.cell(opp_row2, oc["Record ID (id)"]).value
        before = {
            (acc_id, "$website"): acc.cell(acc_row, ac["Website ($website)"]).value,
            (acc_id, "annualRevenue"): acc.cell(acc_row, ac["Annual Revenue (annualRevenue)"]).value,
            (con_id, "jobTitle"): con.cell(con_row, cc["Job Title (jobTitle)"]).value,
            (opp1, "amount"): opp.cell(opp_row1, oc["Amount (amount)"]).value,
            (opp2, "nextStep"): opp.cell(opp_row2, oc["Next Step (nextStep)"]).value,
        }
        acc.cell(acc_row, ac["Website ($website)"]).value = "https://edited.example.com"
        acc.cell(acc_row, ac["Annual Revenue (annualRevenue)"]).value = 1234567
        con.cell(con_row, cc["Job Title (jobTitle)"]).value = "Chief Edited Officer"
        opp.cell(opp_row1, oc["Amount (amount)"]).value = 424242
        opp.cell(opp_row2, oc["Next Step (nextStep)"]).value = "Send the edited contract"
        new_acc = acc.max_row + 1
        acc.cell(new_acc, ac["External ID (external_id)"]).value = "NEW-ACC-1"
        acc.cell(new_acc, ac["Name* ($name)"]).value = "Zeta Works"
        new_opp = opp.max_row + 1
        opp.cell(new_opp, oc["External ID (external_id)"]).value = "NEW-OPP-1"
        opp.cell(new_opp, oc["Name* ($name)"]).value = "Zeta Works - first deal"
        opp.cell(new_opp, oc["Stage* ($stage)"]).value = "Lead"
        opp.cell(new_opp, oc["Account name ($account#name)"]).value = "Zeta Works"  # where names are
        wb.save(book)

        w1 = sandbox.stats(org.org_id)["writes"]
        edited = import_workbook(book, client=lf, ledger_path=ledger)
        assert edited.ok, [(s.sheet, r.row, r.issues) for s in edited.sheets for r in s.rows if r.issues]
        assert sandbox.stats(org.org_id)["writes"] - w1 == 6  # 4 records updated, 2 created
        changed = {
            (r.record_id, k): v
            for s in edited.sheets
            for r in s.rows
            if r.outcome == "updated"
            for k, v in r.changes.items()
        }
        assert sorted(changed) == sorted(before), changed
        created = [(s.sheet, r.key) for s in edited.sheets for r in s.rows if r.outcome == "created"]
        assert created == [("Accounts", "NEW-ACC-1"), ("Opportunities", "NEW-OPP-1")]
        zeta = _by_key(sandbox, org, "account")["NEW-ACC-1"]
        deal = _by_key(sandbox, org, "opportunity")["NEW-OPP-1"]
        assert _rel(deal, "$account") == [zeta["id"]]
        # the results say what changed, as a dry run does
        res = openpyxl.load_workbook(edited.results_path or "")["Opportunities"]
        rh = [c.value for c in res[1]]
        by_id = {r[rh.index("Record ID (id)")]: r for r in res.iter_rows(min_row=2, values_only=True)}
        assert by_id[opp1][rh.index("Changes")] == f"amount: {before[(opp1, 'amount')]} → 424242"
        assert by_id[opp2][rh.index("Changes")] == (
            f"nextStep: {before[(opp2, 'nextStep')]} → Send the edited contract"
        )
        assert by_id[opp1][rh.index("Amount (amount)")] == 424242

        # someone edits a field the run wrote; then undo
        lf.update("opportunity", opp1, {"fields": {"amount": 777}})
        undone = undo_run(
            edited.run_id or "", client=lf, ledger_path=ledger, results_path=tmp_path / "u1.xlsx"
        )
        conflicts = [r for r in undone.rows if any(i.code == "undo_conflict" for i in r.issues)]
        assert [r.record_id for r in conflicts] == [opp1]
        assert undone.counts.deleted == 2
        now = {
            r["id"]: r for t in ("account", "contact", "opportunity") for r in sandbox.records(org.org_id, t)
        }
        assert "NEW-ACC-1" not in _by_key(sandbox, org, "account")
        assert "NEW-OPP-1" not in _by_key(sandbox, org, "opportunity")
        for (rid, key), value in before.items():
            got = now[rid]["fields"][key]["value"]
            got = got[0] if isinstance(got, list) and len(got) == 1 else got  # $website: a list
            assert got == (777 if (rid, key) == (opp1, "amount") else value), (rid, key, got)

        forced = undo_run(
            edited.run_id or "", client=lf, ledger_path=ledger, force=True, results_path=tmp_path / "u2.xlsx"
        )
        assert forced.ok
        assert lf.retrieve("opportunity", opp1)["fields"]["amount"]["value"] == before[(opp1, "amount")]


def _slow(sandbox: Any, org: Any) -> None:
    sandbox.set_rate_limit(org.org_id, per_second=40)
    sandbox.set_faults(org.org_id, latency_ms=20, index_lag_ms=LONG_LAG_MS)


def _env(sandbox: Any, org: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTFIELD_", "BULKIO_"))}
    env.update(LIGHTFIELD_API_KEY=org.api_key, LIGHTFIELD_BASE_URL=sandbox.url, PYTHONUNBUFFERED="1")
    env["BULKIO_STATE_DIR"] = os.environ["BULKIO_STATE_DIR"]
    return env


def _kill_when(proc: subprocess.Popen[bytes], ready: Any, deadline: float = 60.0) -> None:
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < deadline and not ready():
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"


N = 40


def _big_book(path: Path) -> Path:
    return _book(
        path,
        {
            "Accounts": [["External ID", "Name"], *[[f"K-A{i}", f"Kill Co {i}"] for i in range(N)]],
            "Contacts": [
                ["External ID", "First name", "Last name", "Email", "Accounts"],
                *[[f"K-C{i}", "Kim", f"No{i}", f"kim{i}@kill.example.com", f"K-A{i}"] for i in range(N)],
            ],
            "Opportunities": [
                ["External ID", "Name", "Stage", "Account", "Champion"],
                *[[f"K-D{i}", f"Kill deal {i}", "Lead", f"Kill Co {i}", f"K-C{i}"] for i in range(N)],
            ],
        },
    )


@pytest.mark.timeout(240)
def test_kill_9_mid_workbook_then_resume_and_kill_mid_undo_then_resume(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """``bulkio import pipeline`` killed with SIGKILL in the middle of its second sheet; --resume
    finishes it: every row once, no duplicates, every reference to a record of the first part of
    the run. Then ``bulkio undo`` killed in the middle; ``undo --resume`` takes the rest back.
    ``bulkio runs`` shows both runs and that the import was undone."""
    org = empty_org
    _slow(sandbox, org)
    book = _big_book(tmp_path / "book.xlsx")
    env = _env(sandbox, org)
    cmd = [sys.executable, "-m", "bulkio"]
    proc = subprocess.Popen(
        [*cmd, "import", "pipeline", str(book), "-q"], cwd=tmp_path, env=env, stdout=subprocess.PIPE
    )
    _kill_when(proc, lambda: sandbox.count(org.org_id, "contact") >= N // 3)
    assert sandbox.count(org.org_id, "opportunity") == 0
    done = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [*cmd, "import", "pipeline", str(book), "--resume", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    accounts = _by_key(sandbox, org, "account")
    contacts = _by_key(sandbox, org, "contact")
    deals = _by_key(sandbox, org, "opportunity")
    assert len(accounts) == len(contacts) == len(deals) == N
    for i in range(N):
        a, c = accounts[f"K-A{i}"]["id"], contacts[f"K-C{i}"]["id"]
        assert _rel(contacts[f"K-C{i}"], "$account") == [a]
        assert _rel(deals[f"K-D{i}"], "$account") == [a]
        assert _rel(deals[f"K-D{i}"], "$champion") == [c]
    import json

    run_id = json.loads(done.stdout)["run_id"]

    proc = subprocess.Popen(
        [*cmd, "undo", run_id, "-q"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _kill_when(proc, lambda: sandbox.count(org.org_id, "opportunity") <= N // 2)
    assert sandbox.count(org.org_id, "account") == N
    again = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [*cmd, "undo", run_id, "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stdout + again.stderr
    for otype in ("account", "contact", "opportunity"):
        assert sandbox.count(org.org_id, otype) == 0, otype

    runs = CliRunner().invoke(cli, ["runs", "--format", "json"])
    assert runs.exit_code == 0, runs.output
    listed = json.loads(runs.output)["runs"]
    imported = next(r for r in listed if r["run_id"] == run_id)
    assert imported["undone_by"] and imported["objects"] == ["account", "contact", "opportunity"]
    assert imported["counts"]["created"] == 3 * N
    assert any(r["undoes"] == run_id and r["finished_at"] for r in listed)
    table = CliRunner().invoke(cli, ["runs"])
    assert run_id[:12] in table.output and "undone" in table.output


def test_folder_of_csvs_with_sheet_map_and_errors_file_that_reimports(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """A folder of CSVs is a workbook (file names say the object; --sheet-map for the others);
    --errors writes only the failed and skipped rows in their input's own columns, a sheet per
    object; fixed there, that file imports as it is and completes the run's work. (The suite's
    list lag: the second run waits for lists to show what the first created, issue 10.)"""
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "Firmen.csv").write_text(
        "External ID,Name,Annual Revenue\nF-1,Fjord AS,1000000\nF-2,,250\n", encoding="utf-8"
    )
    (folder / "deals.csv").write_text(
        "External ID,Name,Stage,Account,Close Date\n"
        "FD-1,Fjord deal,Lead,F-1,2026-03-01\nFD-2,Orphan deal,Lead,F-2,2026-04-01\n",
        encoding="utf-8",
    )
    errors = tmp_path / "fix.xlsx"
    result = CliRunner().invoke(
        cli,
        [
            "import",
            "pipeline",
            str(folder),
            "--sheet-map",
            "Firmen=account",
            "--errors",
            str(errors),
            "--api-key",
            empty_org.api_key,
            "--base-url",
            sandbox.url,
            "-q",
        ],
    )
    assert result.exit_code == 1, result.output
    wb = openpyxl.load_workbook(errors)
    assert wb.sheetnames == ["Accounts", "Opportunities"]
    firmen = list(wb["Accounts"].iter_rows(values_only=True))
    assert firmen[0][:3] == ("External ID", "Name", "Annual Revenue")
    assert [r[:3] for r in firmen[1:]] == [("F-2", None, 250)]
    deals = list(wb["Opportunities"].iter_rows(values_only=True))
    assert [r[0] for r in deals[1:]] == ["FD-2"]
    assert isinstance(deals[1][deals[0].index("Close Date")], dt.datetime | dt.date | str)

    wb["Accounts"].cell(2, 2).value = "Fixed Fjord"
    wb.save(errors)
    again = CliRunner().invoke(
        cli,
        [
            "import",
            "pipeline",
            str(errors),
            "--api-key",
            empty_org.api_key,
            "--base-url",
            sandbox.url,
            "--format",
            "json",
        ],
    )
    assert again.exit_code == 0, again.output
    assert "Errors" not in again.output  # bulkio's own column is not a column it warns about
    accounts = _by_key(sandbox, empty_org, "account")
    deals_now = _by_key(sandbox, empty_org, "opportunity")
    assert sorted(accounts) == ["F-1", "F-2"] and sorted(deals_now) == ["FD-1", "FD-2"]
    assert _rel(deals_now["FD-2"], "$account") == [accounts["F-2"]["id"]]
    assert Counter(a["fields"]["$name"]["value"] for a in accounts.values()) == Counter(
        ["Fjord AS", "Fixed Fjord"]
    )


def test_accounts_naming_contacts_of_a_later_sheet_are_linked_from_the_contacts_side(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """bulkio's own export lists each account's contacts and each contact's accounts: imported into
    an empty org, the accounts come first and cannot find contacts yet. That is a warning
    (linked_from_later_sheet), not a failure: the contacts' rows make the links. A contact naming
    an account that is nowhere (its sheet came earlier) fails as always."""
    sandbox.set_faults(empty_org.org_id, index_lag_ms=LONG_LAG_MS)
    book = _book(
        tmp_path / "book.xlsx",
        {
            "Accounts": [
                ["External ID", "Name", "Contacts"],
                ["L-A1", "Loop One", "L-C1; L-C2"],
                ["L-A2", "Loop Two", None],
            ],
            "Contacts": [
                ["External ID", "First name", "Last name", "Accounts"],
                ["L-C1", "Lia", "One", "L-A1"],
                ["L-C2", "Lou", "Two", "L-A1; L-A2"],
                ["L-C3", "Lee", "Three", "L-A9"],
            ],
        },
    )
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        report = import_workbook(book, client=lf, ledger_path=tmp_path / "ledger.db")
    accounts_sheet, contacts_sheet = report.sheets
    assert [r.outcome for r in accounts_sheet.rows] == ["created", "created"]
    issues = accounts_sheet.rows[0].issues
    assert [(i.code, i.severity) for i in issues] == [("linked_from_later_sheet", "warning")] * 2
    assert [r.outcome for r in contacts_sheet.rows] == ["created", "created", "failed"]
    assert contacts_sheet.rows[2].issues[0].code == "relationship_entity_missing"
    accounts = _by_key(sandbox, empty_org, "account")
    contacts = _by_key(sandbox, empty_org, "contact")
    a1, a2 = accounts["L-A1"]["id"], accounts["L-A2"]["id"]
    assert sorted(_rel(accounts["L-A1"], "$contact")) == sorted(
        [contacts["L-C1"]["id"], contacts["L-C2"]["id"]]
    )
    assert sorted(_rel(contacts["L-C2"], "$account")) == sorted([a1, a2])
