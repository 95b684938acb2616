"""results.py: the results sheet lists every input row once, in place, with its outcome; errored
cells are marked in XLSX; text never becomes a formula; writes are atomic."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulkio.issues import Issue
from bulkio.operations import RowOutcome
from bulkio.read import SourceRow
from bulkio.results import RESULT_HEADERS, changes_text, default_results_path, issue_text, write_results

HEADERS = ["Name* ($name)", "External ID (external_id)", "Billing Email (billingEmail)"]
ROWS = [
    SourceRow(2, ["Acme", "A-1", "ap@acme.test"]),
    SourceRow(3, ['=HYPERLINK("x")', "A-2", "not an email"]),
    # row 4 was blank in the input: the results keep the row numbers aligned
    SourceRow(5, ["Globex", "A-3", None]),
]
BAD = Issue(
    code="invalid_email",
    message="Not a valid email address.",
    row=3,
    column="C",
    header="Billing Email (billingEmail)",
    field="billingEmail",
    value="not an email",
)
OUTCOMES = {
    2: RowOutcome(2, "created", record_id="acc_1", link="https://crm.lightfield.app/a/acc_1", key="A-1"),
    3: RowOutcome(3, "failed", key="A-2", issues=[BAD]),
    5: RowOutcome(5, "unchanged", record_id="acc_3", key="A-3"),
}


def test_default_results_path() -> None:
    assert default_results_path("in/deals.xlsx") == Path("in/deals.results.xlsx")
    assert default_results_path("deals.csv") == Path("deals.results.csv")
    assert default_results_path("deals.tsv") == Path("deals.results.csv")


def test_issue_and_changes_text() -> None:
    assert issue_text(BAD) == (
        "column C (Billing Email (billingEmail)): invalid_email: Not a valid email address."
    )
    warn = Issue(code="missing_key", message="No key.", field="external_id", severity="warning")
    assert issue_text(warn) == "warning: external_id: missing_key: No key."
    assert (
        changes_text({"$name": ("Old", "New"), "amount": (None, 5)})
        == "$name: Old → New; amount: (empty) → 5"
    )
    assert changes_text({"nextStep": ("Call", None)}) == "nextStep: Call → (cleared)"


def test_csv_results(tmp_path: Path) -> None:
    out = write_results(tmp_path / "r.csv", HEADERS, ROWS, OUTCOMES, delimiter=";")
    with open(out, encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    assert lines[0] == [*HEADERS, *RESULT_HEADERS]
    assert lines[1] == [
        "Acme",
        "A-1",
        "ap@acme.test",
        "created",
        "acc_1",
        "https://crm.lightfield.app/a/acc_1",
        "",
        "",
    ]
    # formula text is escaped; the error names column, header, code and message
    assert lines[2][:4] == ['\'=HYPERLINK("x")', "A-2", "not an email", "failed"]
    assert lines[2][6] == issue_text(BAD)
    assert lines[3] == [""] * 8  # the blank input row keeps its place
    assert lines[4][:5] == ["Globex", "A-3", "", "unchanged", "acc_3"]
    assert len(lines) == 5


def test_xlsx_results_mark_errored_cells(tmp_path: Path) -> None:
    rows = [SourceRow(2, ["Acme", "A-1", dt.datetime(2026, 3, 16)]), *ROWS[1:]]
    out = write_results(tmp_path / "r.xlsx", HEADERS, rows, OUTCOMES, sheet_name="Accounts")
    wb = load_workbook(out)
    ws = wb["Accounts"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H5"
    assert [c.value for c in ws[1]] == [*HEADERS, *RESULT_HEADERS]
    assert ws["C2"].value == dt.datetime(2026, 3, 16)  # values as read, typed
    assert ws["D2"].value == "created" and ws["E2"].value == "acc_1"
    # a text cell, shown as it is (no ') and never a formula
    assert ws["A3"].value == '=HYPERLINK("x")' and ws["A3"].data_type == "s"
    c3 = ws["C3"]
    assert c3.fill.start_color.rgb == "FFFFC7CE"
    assert c3.comment is not None and "invalid_email" in c3.comment.text
    assert ws["A3"].comment is None
    assert all(c.value is None for c in ws[4])
    assert ws["D5"].value == "unchanged"
    assert ws.max_row == 5


def test_dry_run_results_show_planned_changes(tmp_path: Path) -> None:
    planned = {
        2: RowOutcome(2, "updated", record_id="acc_1", changes={"$name": ("Old", "Acme")}),
        3: RowOutcome(3, "created", changes={"$name": (None, "X")}),
        5: RowOutcome(5, "unchanged", record_id="acc_3"),
    }
    out = write_results(tmp_path / "r.csv", HEADERS, ROWS, planned, dry_run=True)
    with open(out, encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][-2:] == ["Errors", "Changes"]
    assert lines[1][3] == "would update" and lines[1][-1] == "$name: Old → Acme"
    assert lines[2][3] == "would create" and lines[2][-1] == "$name: (empty) → X"
    assert lines[4][3] == "unchanged" and lines[4][-1] == ""


def test_results_write_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("old content")

    def broken():
        yield ROWS[0]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_results(target, HEADERS, broken(), OUTCOMES)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]
