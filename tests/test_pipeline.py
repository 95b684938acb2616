"""pipeline.py end to end over real HTTP against fresh sandbox orgs: the messy file's exact issues,
create → re-run unchanged with zero writes, updates send only edited fields, dry runs write nothing,
resume after an interruption, a changed file refused, and DataFrames."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from bulkio.client import LightfieldClient
from bulkio.errors import ConfigError, LedgerError
from bulkio.events import Progress
from bulkio.pipeline import RunReport, import_file, import_frame

MESSY_OUTCOMES = {
    2: "created",
    3: "created",
    4: "failed",
    5: "failed",
    6: "failed",
    7: "failed",
    8: "failed",
    9: "created",
    10: "failed",
    11: "created",
    12: "updated",
    13: "unchanged",
    14: "updated",
    15: "failed",
    16: "created",
}
MESSY_ISSUES = [
    [4, "B", "unknown_option"],
    [5, "C", "relationship_entity_missing"],
    [6, "C", "ambiguous_reference"],
    [7, "F", "duplicate_key"],
    [8, "G", "relationship_entity_missing"],
    [10, "E", "ambiguous_date"],
    [15, "A", "required_field_missing"],
    [16, "F", "missing_key"],
]


def writes(sandbox: Any, org: Any) -> int:
    return int(sandbox.stats(org.org_id)["writes"])


def accounts_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name* ($name)", "External ID (external_id)", "Tier (tier)"])
        w.writerows(rows)
    return path


ACCOUNTS = [(f"Pipe Co {i}", f"PIPE-{i:03d}", "SMB" if i % 2 else "Enterprise") for i in range(12)]


def by_row(report: RunReport) -> dict[int, str]:
    return {r.row: r.outcome for r in report.rows}


@pytest.mark.usefixtures("no_list_lag")  # the second "Hooli" below is found by a list at once
@pytest.mark.parametrize("name", ["messy_opportunities.csv", "messy_opportunities.xlsx"])
def test_messy_file_exact_outcomes(
    name: str, sandbox: Any, org: Any, client: LightfieldClient, data_dir: Path, tmp_path: Path
) -> None:
    client.create("account", {"fields": {"$name": "Hooli"}})  # a second "Hooli": ambiguous by name
    src = tmp_path / name
    shutil.copy(data_dir / "import" / name, src)
    before = writes(sandbox, org)
    report = import_file(src, "opportunity", client=client, ledger_path=tmp_path / "l.db")
    assert by_row(report) == MESSY_OUTCOMES
    row_issues = [i for i in report.flatten(["row", "column", "code"]) if i[0] is not None]
    assert row_issues == MESSY_ISSUES
    if name.endswith(".csv"):  # the cp1252 file is read, and said so
        assert [i.code for i in report.file_issues] == ["encoding_guessed"]
    assert not report.ok and report.counts.model_dump() == {
        "created": 5,
        "updated": 2,
        "unchanged": 1,
        "failed": 7,
        "skipped": 0,
    }
    assert writes(sandbox, org) - before == 7  # 5 creates + 2 updates, nothing else
    rows = {r.row: r for r in report.rows}
    assert rows[12].changes == {"amount": [148000, None]}  # #clear
    assert list(rows[14].changes) == ["$stage"]  # one field updated
    created = client.retrieve("opportunity", rows[11].record_id)
    assert created["fields"]["$name"]["value"] == "Café Olé expansion"
    assert client.retrieve("opportunity", rows[9].record_id)["fields"]["amount"]["value"] == 1200.5
    assert (
        client.retrieve("opportunity", rows[3].record_id)["fields"]["$stage"]["value"]
        == "opt_stage_closed_won"
    )
    assert report.results_path and Path(report.results_path).exists()


def test_create_then_rerun_is_unchanged_with_zero_writes(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    src = accounts_csv(tmp_path / "accounts.csv", ACCOUNTS)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        first = import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db")
        assert first.ok and first.counts.created == len(ACCOUNTS)
        assert sandbox.count(empty_org.org_id, "account") == len(ACCOUNTS)
        before = writes(sandbox, empty_org)
        again = import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db")
    assert again.ok and again.counts.unchanged == len(ACCOUNTS)
    assert writes(sandbox, empty_org) == before
    assert [r.record_id for r in again.rows] == [r.record_id for r in first.rows]
    assert all(r.link for r in again.rows)


def test_update_sends_only_edited_fields(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    src = accounts_csv(tmp_path / "accounts.csv", ACCOUNTS)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db")
        edited = list(ACCOUNTS)
        edited[3] = (edited[3][0] + " Renamed", edited[3][1], edited[3][2])
        edited[7] = (edited[7][0], edited[7][1], "Strategic")
        accounts_csv(src, edited)
        before = writes(sandbox, empty_org)
        report = import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db")
        assert writes(sandbox, empty_org) - before == 2
        rows = {r.row: r for r in report.rows}
        assert rows[5].outcome == "updated" and rows[5].changes == {
            "$name": ["Pipe Co 3", "Pipe Co 3 Renamed"]
        }
        assert rows[9].outcome == "updated" and list(rows[9].changes) == ["tier"]
        assert report.counts.unchanged == len(ACCOUNTS) - 2
        rec = lf.retrieve("account", rows[9].record_id)
        assert rec["fields"]["tier"]["value"] == "opt_tier_strategic"
        assert rec["fields"]["$name"]["value"] == "Pipe Co 7"


def test_dry_run_writes_nothing(sandbox: Any, org: Any, client: LightfieldClient, tmp_path: Path) -> None:
    src = accounts_csv(tmp_path / "accounts.csv", ACCOUNTS[:3])
    before = writes(sandbox, org)
    report = import_file(src, "account", client=client, dry_run=True, ledger_path=tmp_path / "l.db")
    assert writes(sandbox, org) == before
    assert report.dry_run and report.run_id is None and report.counts.created == 3
    assert report.rows[0].changes["$name"] == [None, "Pipe Co 0"]
    assert not (tmp_path / "l.db").exists()
    with open(report.results_path or "", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][-5:] == ["Outcome", "Record ID", "Link", "Errors", "Changes"]
    assert lines[1][3] == "would create" and "$name: (empty) → Pipe Co 0" in lines[1][-1]


def test_xlsx_results_sheet(
    sandbox: Any, org: Any, client: LightfieldClient, data_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "messy.xlsx"
    shutil.copy(data_dir / "import" / "messy_opportunities.xlsx", src)
    report = import_file(src, "opportunity", client=client, dry_run=True)
    out = tmp_path / "messy.results.xlsx"
    assert report.results_path == str(out)
    ws = load_workbook(out).active
    assert ws.freeze_panes == "A2"
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["Name", "Stage", "Account"] and headers[8:] == [
        "Outcome",
        "Record ID",
        "Link",
        "Errors",
        "Changes",
    ]
    assert ws.max_row == 16
    assert ws["E2"].value.year == 2026  # the Excel date, as read
    assert ws["B4"].fill.start_color.rgb == "FFFFC7CE" and "unknown_option" in ws["B4"].comment.text
    assert ws["I4"].value == "would fail" and ws["L4"].value.startswith("column B (Stage): unknown_option")
    assert ws["I13"].value == "unchanged" and ws["J13"].value.startswith("opp_")
    assert ws["M14"].value == "$stage: Closed Won → Negotiation"


class Boom(Exception):
    pass


def test_resume_after_interruption(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    rows = [(f"Resume Co {i}", f"RES-{i:03d}", "SMB") for i in range(40)]
    src = accounts_csv(tmp_path / "accounts.csv", rows)
    ledger = tmp_path / "l.db"
    written = 0

    def explode(event: Any) -> None:
        nonlocal written
        if isinstance(event, Progress) and event.name == "write":
            written += 1
            if written == 10:
                raise Boom("simulated crash")

    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        with pytest.raises(Boom) as stopped:
            import_file(src, "account", client=lf, ledger_path=ledger, concurrency=4, on_event=explode)
        assert stopped.value.__notes__ == [
            (
                f"The results sheet {tmp_path / 'accounts.results.csv'} shows what was written (the other "
                "rows say not_written)."
            )
        ]
        partial = sandbox.count(empty_org.org_id, "account")
        assert 10 <= partial < 40
        with open(tmp_path / "accounts.results.csv", encoding="utf-8") as fh:
            interrupted = list(csv.DictReader(fh))
        assert len(interrupted) == 40 and any(
            r["Outcome"] == "failed" and "not_written" in r["Errors"] for r in interrupted
        )
        report = import_file(src, "account", client=lf, ledger_path=ledger, resume=True)
    assert report.ok and len(report.rows) == 40
    assert sorted(r.row for r in report.rows) == list(range(2, 42))
    assert sandbox.count(empty_org.org_id, "account") == 40  # no duplicates
    keys = [r["fields"]["external_id"]["value"] for r in sandbox.records(empty_org.org_id, "account")]
    assert sorted(keys) == sorted(k for _, k, _ in rows)
    assert {r.outcome for r in report.rows} == {"created"}
    ids = {r.record_id for r in report.rows}
    assert len(ids) == 40


def check_interrupted_results(sandbox: Any, org: Any, results: Path, rows: list[tuple[str, str, str]]) -> int:
    """The results sheet of an interrupted run lists every input row once, in order, and truthfully:
    a row whose record the server holds says created (with that record's id), every other row
    failed/not_written. Returns the number of created rows."""
    in_sandbox = {
        r["fields"]["external_id"]["value"]: r["id"] for r in sandbox.records(org.org_id, "account")
    }
    with open(results, encoding="utf-8") as fh:
        sheet = list(csv.DictReader(fh))
    assert [r["External ID (external_id)"] for r in sheet] == [k for _, k, _ in rows]
    for r in sheet:
        key = r["External ID (external_id)"]
        if key in in_sandbox:
            assert (r["Outcome"], r["Record ID"]) == ("created", in_sandbox[key]), r
        else:
            assert r["Outcome"] == "failed" and r["Errors"].startswith("not_written"), r
            assert "interrupted (Ctrl-C)" in r["Errors"], r
    return sum(r["Outcome"] == "created" for r in sheet)


def check_resumed(sandbox: Any, org: Any, report: RunReport, rows: list[tuple[str, str, str]]) -> None:
    assert report.ok and sorted(r.row for r in report.rows) == list(range(2, len(rows) + 2))
    assert {r.outcome for r in report.rows} == {"created"}
    keys = [r["fields"]["external_id"]["value"] for r in sandbox.records(org.org_id, "account")]
    assert sorted(keys) == sorted(k for _, k, _ in rows)  # one record per key: no duplicates
    assert sandbox.count(org.org_id, "account") == len(rows)
    assert sorted(r.record_id for r in report.rows) == sorted(
        r["id"] for r in sandbox.records(org.org_id, "account")
    )


def test_ctrl_c_during_the_write_writes_results_then_resume_finishes(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """Ctrl-C (KeyboardInterrupt) mid-write: requests in flight finish, the results sheet is written
    with what the server really holds (also rows whose outcome was never handed back), and the
    interrupt propagates naming the sheet; ``resume=True`` then finishes without duplicates."""
    rows = [(f"Ctrl Co {i}", f"CTRL-{i:03d}", "SMB") for i in range(40)]
    src = accounts_csv(tmp_path / "accounts.csv", rows)
    results = tmp_path / "accounts.results.csv"
    ledger = tmp_path / "l.db"
    written = 0

    def ctrl_c(event: Any) -> None:
        nonlocal written
        if isinstance(event, Progress) and event.name == "write":
            written += 1
            if written == 10:
                raise KeyboardInterrupt

    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        with pytest.raises(KeyboardInterrupt) as stopped:
            import_file(src, "account", client=lf, ledger_path=ledger, concurrency=4, on_event=ctrl_c)
        assert stopped.value.__notes__ == [
            f"The results sheet {results} shows what was written (the other rows say not_written)."
        ]
        created = check_interrupted_results(sandbox, empty_org, results, rows)
        assert 10 <= created == sandbox.count(empty_org.org_id, "account") < 40
        report = import_file(src, "account", client=lf, ledger_path=ledger, resume=True)
    check_resumed(sandbox, empty_org, report, rows)


def test_ctrl_c_without_a_ledger_still_reports_requests_that_finished(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """import_frame without ``ledger_path``: requests in flight when Ctrl-C lands finish after the
    writer stopped handing outcomes over. With no ledger to recover them from, the results sheet
    must still say created (with the record id) for every record the server holds, never
    not_written."""
    sandbox.set_rate_limit(empty_org.org_id, per_second=500)
    sandbox.set_faults(empty_org.org_id, latency_ms=60)  # several requests in flight at the Ctrl-C
    rows = [(f"Frame Co {i}", f"FRAME-{i:03d}", "SMB") for i in range(40)]
    df = pd.DataFrame(rows, columns=["Name* ($name)", "External ID (external_id)", "Tier (tier)"])
    results = tmp_path / "frame.results.csv"
    written = 0

    def ctrl_c(event: Any) -> None:
        nonlocal written
        if isinstance(event, Progress) and event.name == "write":
            written += 1
            if written == 5:
                raise KeyboardInterrupt

    try:
        with (
            LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf,
            pytest.raises(KeyboardInterrupt),
        ):
            import_frame(df, "account", client=lf, results_path=results, concurrency=8, on_event=ctrl_c)
    finally:
        sandbox.set_faults(empty_org.org_id, latency_ms=0)
    created = check_interrupted_results(sandbox, empty_org, results, rows)
    assert 5 <= created == sandbox.count(empty_org.org_id, "account") < 40
    with open(results, encoding="utf-8") as fh:
        errors = [r["Errors"] for r in csv.DictReader(fh) if r["Outcome"] == "failed"]
    # a DataFrame run has no ledger, hence no --resume to point at
    assert errors and all(e.endswith("re-run the import.") and "--resume" not in e for e in errors)


def test_ctrl_c_while_planning_marks_unread_rows_not_written(
    sandbox: Any, empty_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a later chunk is read and planned: rows never read still appear in the results
    sheet (not_written), and the resumed run plans and writes them."""
    from bulkio import phases

    monkeypatch.setattr(phases, "CHUNK", 10)
    rows = [(f"Plan Co {i}", f"PLAN-{i:03d}", "SMB") for i in range(35)]
    src = accounts_csv(tmp_path / "accounts.csv", rows)
    results = tmp_path / "accounts.results.csv"
    planned = 0

    def ctrl_c(event: Any) -> None:
        nonlocal planned
        if isinstance(event, Progress) and event.name == "plan":
            planned += 1
            if planned == 2:
                raise KeyboardInterrupt

    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        with pytest.raises(KeyboardInterrupt):
            import_file(
                src, "account", client=lf, ledger_path=tmp_path / "l.db", concurrency=2, on_event=ctrl_c
            )
        created = check_interrupted_results(sandbox, empty_org, results, rows)
        assert 1 <= created <= 10  # only the first chunk was planned
        report = import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db", resume=True)
    check_resumed(sandbox, empty_org, report, rows)


def test_second_ctrl_c_while_writing_results_keeps_the_old_sheet(
    sandbox: Any, empty_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second Ctrl-C while the results sheet is written: no half-written sheet (the previous
    one stays), no temporary file, and the first interrupt propagates saying the sheet was not
    written; resume still finishes the run."""
    from bulkio import results as R

    rows = [(f"Twice Co {i}", f"TWICE-{i:03d}", "SMB") for i in range(30)]
    src = accounts_csv(tmp_path / "accounts.csv", rows)
    results = tmp_path / "accounts.results.csv"
    results.write_text("the previous results\n", encoding="utf-8")
    first: list[BaseException] = []

    def ctrl_c(event: Any) -> None:
        if isinstance(event, Progress) and event.name == "write" and not first:
            first.append(KeyboardInterrupt("first"))
            raise first[0]

    original = R.outcome_cells
    cells = {"n": 0}

    def outcome_cells(*args: Any, **kwargs: Any) -> Any:
        cells["n"] += 1
        if cells["n"] == 5:
            raise KeyboardInterrupt("second")
        return original(*args, **kwargs)

    monkeypatch.setattr(R, "outcome_cells", outcome_cells)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        with pytest.raises(KeyboardInterrupt) as stopped:
            import_file(
                src, "account", client=lf, ledger_path=tmp_path / "l.db", concurrency=2, on_event=ctrl_c
            )
        assert stopped.value is first[0]
        assert stopped.value.__notes__ == [
            (
                "The results sheet was not written (KeyboardInterrupt: second); the ledger keeps every "
                "outcome, so a resumed run continues where this one stopped."
            )
        ]
        assert results.read_text(encoding="utf-8") == "the previous results\n"
        assert [p.name for p in tmp_path.iterdir() if "tmp" in p.name] == []  # no temporary file left
        monkeypatch.setattr(R, "outcome_cells", original)
        report = import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db", resume=True)
    check_resumed(sandbox, empty_org, report, rows)


def test_resume_after_a_day_replans_unconfirmed_rows(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Idempotency-Keys expire after 24 h, so a resume a day later must not replay pending creates
    (a replay could create a second record): it plans them again and finds what was committed."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from bulkio.events import Message

    rows = [(f"Late Co {i}", f"LATE-{i:03d}", "SMB") for i in range(12)]
    src = accounts_csv(tmp_path / "accounts.csv", rows)
    ledger = tmp_path / "l.db"
    seen = {"n": 0}

    def explode(event: Any) -> None:
        if isinstance(event, Progress) and event.name == "write":
            seen["n"] += 1
            if seen["n"] == 6:
                raise Boom("crash")

    # a day later the list index has long caught up: no list lag here
    sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        with pytest.raises(Boom):
            import_file(src, "account", client=lf, ledger_path=ledger, concurrency=1, on_event=explode)
        # Three rows were committed but their outcome never reached the ledger (the process died
        # between the answer and the write-ahead record), and the run started two days ago.
        db = sqlite3.connect(ledger)
        done = [r for (r,) in db.execute("SELECT row FROM outcomes ORDER BY row LIMIT 3")]
        db.execute(f"DELETE FROM outcomes WHERE row IN ({','.join('?' * len(done))})", done)
        db.execute("DELETE FROM records")
        db.execute("UPDATE runs SET started_at = ?", ((datetime.now(UTC) - timedelta(days=2)).isoformat(),))
        db.commit()
        db.close()
        messages: list[str] = []
        report = import_file(
            src,
            "account",
            client=lf,
            ledger_path=ledger,
            resume=True,
            on_event=lambda e: messages.append(e.text) if isinstance(e, Message) else None,
        )
    assert any("re-planned, not replayed" in m for m in messages), messages
    assert sandbox.count(empty_org.org_id, "account") == 12  # nothing created twice
    by_row = {r.row: r.outcome for r in report.rows}
    assert [by_row[r] for r in done] == ["unchanged"] * 3  # found by key, not re-sent
    assert report.ok and len(report.rows) == 12


def test_resume_refuses_a_changed_file(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    src = accounts_csv(tmp_path / "accounts.csv", ACCOUNTS)
    stop_after = {"n": 0}

    def explode(event: Any) -> None:
        if isinstance(event, Progress) and event.name == "write":
            stop_after["n"] += 1
            if stop_after["n"] == 3:
                raise Boom("crash")

    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        with pytest.raises(Boom):
            import_file(
                src, "account", client=lf, ledger_path=tmp_path / "l.db", concurrency=1, on_event=explode
            )
        accounts_csv(src, ACCOUNTS[:-1])
        with pytest.raises(LedgerError, match="changed since run .* re-run without --resume"):
            import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db", resume=True)


def test_import_frame(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "Name": ["Frame A", "Frame B", None],
            "external_id": ["FR-1", "FR-2", "FR-3"],
            "Employee Count": [10, None, 5],
        }
    )
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        report = import_frame(df, "account", client=lf, results_path=tmp_path / "frame.results.csv")
        assert by_row(report) == {2: "created", 3: "created", 4: "failed"}
        assert report.flatten(["row", "column", "code"]) == [[4, "A", "required_field_missing"]]
        rec = lf.retrieve("account", report.rows[0].record_id)
        assert rec["fields"]["employeeCount"]["value"] == 10
        again = import_frame(df.iloc[:2], "account", client=lf)
        assert by_row(again) == {2: "unchanged", 3: "unchanged"}
    with open(tmp_path / "frame.results.csv", encoding="utf-8") as fh:
        assert [r["Outcome"] for r in csv.DictReader(fh)] == ["created", "created", "failed"]


@pytest.mark.parametrize("dry_run", [False, True])
def test_results_path_must_not_be_the_input(
    dry_run: bool, sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """The results sheet is written by re-reading the input: the same path would replace the
    user's file with the results (and a later --resume would refuse the changed file)."""
    src = accounts_csv(tmp_path / "accounts.csv", ACCOUNTS[:3])
    before = src.read_bytes()
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        for same in (src, tmp_path / "." / "accounts.csv"):
            with pytest.raises(
                ConfigError,
                match="The results sheet would replace the input file .*"
                r"accounts\.results\.csv",
            ):
                import_file(
                    src,
                    "account",
                    client=lf,
                    results_path=same,
                    dry_run=dry_run,
                    ledger_path=tmp_path / "l.db",
                )
    assert src.read_bytes() == before
    assert writes(sandbox, empty_org) == 0


def test_dry_run_lists_changes_up_to_the_cap_and_says_so(
    sandbox: Any, org: Any, client: LightfieldClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkio import phases
    from bulkio.events import Message

    monkeypatch.setattr(phases, "KEEP_CHANGES", 2)
    src = accounts_csv(tmp_path / "accounts.csv", ACCOUNTS[:4])
    events: list[Any] = []
    report = import_file(src, "account", client=client, dry_run=True, on_event=events.append)
    assert report.counts.created == 4
    notes = [e.text for e in events if isinstance(e, Message)]
    assert notes == [
        (
            "dry run: field-level changes are listed for the first 2 changed rows; later rows "
            "show their outcome only"
        )
    ]
    with open(report.results_path or "", encoding="utf-8") as fh:
        changes = [line[-1] for line in list(csv.reader(fh))[1:]]
    assert [bool(c) for c in changes] == [True, True, False, False]


def test_an_exported_workbook_imports_from_the_object_sheet(
    sandbox: Any, org: Any, client: LightfieldClient, tmp_path: Path
) -> None:
    """No ``sheet=``: the sheet named like the object is read, not the first (the Summary)."""
    from bulkio.export import export_objects

    export_objects(client, "pipeline", tmp_path / "pipeline.xlsx")
    before = writes(sandbox, org)
    report = import_file(tmp_path / "pipeline.xlsx", "account", client=client, dry_run=True)
    assert report.sheet == "Accounts"
    assert report.counts.unchanged == sandbox.count(org.org_id, "account") > 0
    assert report.counts.created == report.counts.failed == 0
    assert writes(sandbox, org) == before


def test_key_field_must_exist_and_should_be_unique(
    sandbox: Any, org: Any, client: LightfieldClient, tmp_path: Path
) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("Name,Billing Email\nKeyed Co,billing@keyed.test\n", encoding="utf-8")
    before = writes(sandbox, org)
    with pytest.raises(ConfigError, match="account has no field 'nosuch' to use as the key"):
        import_file(src, "account", client=client, key_field="nosuch", ledger_path=tmp_path / "l.db")
    assert writes(sandbox, org) == before
    assert not (tmp_path / "accounts.results.csv").exists()
    report = import_file(src, "account", client=client, key_field="billingEmail", dry_run=True)
    assert [(i.code, i.severity, i.field) for i in report.file_issues] == [
        ("key_not_unique", "warning", "billingEmail")
    ]
    assert report.counts.created == 1
    unique = import_file(src, "account", client=client, dry_run=True)  # external_id: unique, no warning
    assert all(i.code != "key_not_unique" for i in unique.file_issues)
