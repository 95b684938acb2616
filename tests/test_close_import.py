"""Close as a target: templates, imports and results sheets through the neutral stages, over real
HTTP against the Close sandbox (money in cents, statuses within a pipeline, leads by name/key/id,
users by email or name, custom fields by type), and the same through the CLI with ``--crm close``."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulkio.cli import cli
from bulkio.crm.close import CloseBackend
from bulkio.crm.close.sandbox import CloseSandboxServer, Org
from bulkio.pipeline import import_file
from bulkio.template import make_template

DATA = Path(__file__).parent / "data" / "close"


def by_key(sandbox: CloseSandboxServer, org: Org, otype: str, field: str) -> dict[str, dict[str, Any]]:
    """Close records by their External ID custom field (no duplicates allowed)."""
    out: dict[str, dict[str, Any]] = {}
    for r in sandbox.records(org.org_id, otype):
        key = r.get(f"custom.{field}")
        if key is not None:
            assert key not in out, f"duplicate {otype} {key}"
            out[key] = r
    return out


def flat(report: Any) -> list[list[Any]]:
    return report.flatten(["row", "column", "code"])


def test_import_leads_then_opportunities(
    close_sandbox: CloseSandboxServer, close_org: Org, close_backend: CloseBackend, tmp_path: Path
) -> None:
    leads = import_file(
        DATA / "leads.csv",
        "lead",
        client=close_backend,
        results_path=tmp_path / "leads.results.csv",
        ledger_path=tmp_path / "ledger.db",
    )
    assert leads.counts.model_dump() == {
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "failed": 2,
        "skipped": 0,
    }
    assert flat(leads) == [[4, "I", "unknown_option"], [5, "C", "invalid_url"]]
    saved = by_key(close_sandbox, close_org, "lead", "cf_DemoLeadExternalId")
    nw = saved["NL-001"]
    assert nw["name"] == "Northwind Traders" and nw["url"] == "https://northwind.example.com"
    assert nw["status_label"] == "Potential"
    assert nw["addresses"][0] | {"tz_ids": []} == {
        "label": "business",
        "address_1": "1 Harbour Rd",
        "address_2": None,
        "city": "Seattle",
        "state": None,
        "zipcode": None,
        "country": "US",
        "tz_ids": [],
    }
    assert nw["custom.cf_DemoLeadIndustry"] == ["Retail", "Media"]
    assert nw["custom.cf_DemoLeadTier"] == "Mid-Market"
    assert nw["custom.cf_DemoLeadEmployees"] == 250
    assert nw["custom.cf_DemoLeadRenewal"] == "2027-03-31"
    assert nw["custom.cf_DemoLeadManager"] == "user_DemoBen"
    contoso = saved["NL-002"]
    assert contoso["custom.cf_DemoLeadEmployees"] == 1200
    assert contoso["custom.cf_DemoLeadManager"] == "user_DemoCleo"
    assert contoso["url"].endswith("contoso.example.com")
    assert saved["CL-L-0002"]["name"] == "Globex Corporation"
    assert "NL-003" not in saved and "NL-004" not in saved
    with open(tmp_path / "leads.results.csv", encoding="utf-8-sig", newline="") as fh:
        sheet = list(csv.DictReader(fh))
    assert [r["Outcome"] for r in sheet] == ["created", "created", "failed", "failed", "updated"]
    assert sheet[0]["Record ID"] == nw["id"]

    opps = import_file(
        DATA / "opportunities.csv",
        "opportunity",
        client=close_backend,
        results_path=tmp_path / "opps.results.xlsx",
        ledger_path=tmp_path / "ledger.db",
    )
    assert opps.counts.created == 3 and opps.counts.failed == 2
    assert flat(opps) == [[5, "D", "ambiguous_option"], [6, "B", "relationship_entity_missing"]]
    saved_opps = by_key(close_sandbox, close_org, "opportunity", "cf_DemoOppExternalId")
    first = saved_opps["NO-001"]
    assert (
        first["value"] == 1250050 and first["value_period"] == "annual"
    )  # units in the sheet, cents in Close
    assert first["confidence"] == 60 and first["user_id"] == "user_DemoBen"
    assert first["lead_id"] == nw["id"] and first["status_label"] == "Proposal Sent"
    assert first["custom.cf_DemoOppProducts"] == ["Core", "Analytics"]
    assert first["custom.cf_DemoOppForecast"] == "Commit" and first["note"] == "First deal"
    renewal = saved_opps["NO-002"]  # "Won" within the row's pipeline
    assert (renewal["status_id"], renewal["pipeline_name"]) == ("stat_DemoRenewed", "Renewals")
    assert renewal["value"] == 9999 and renewal["date_won"] == "2026-11-02"
    assert renewal["lead_id"] == contoso["id"] and renewal["user_id"] == "user_DemoCleo"
    sales = saved_opps["NO-003"]  # "Sales: Won" names the pipeline in one cell
    assert sales["status_id"] == "stat_DemoWon" and sales["value"] == 100000
    alice = next(c for c in close_sandbox.records(close_org.org_id, "contact") if c["name"] == "Alice Anders")
    assert sales["contact_id"] == alice["id"] and sales["lead_id"] == alice["lead_id"]
    wb = load_workbook(tmp_path / "opps.results.xlsx", read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert [r[13] for r in rows[1:]] == ["created", "created", "created", "failed", "failed"]

    # a second run of both files writes nothing
    again = import_file(DATA / "leads.csv", "lead", client=close_backend, results_path=tmp_path / "l2.csv")
    assert again.counts.unchanged == 3 and again.counts.created == again.counts.updated == 0
    again = import_file(
        DATA / "opportunities.csv", "opportunity", client=close_backend, results_path=tmp_path / "o2.csv"
    )
    assert again.counts.unchanged == 3 and again.counts.created == again.counts.updated == 0


def test_updates_keep_what_the_sheet_does_not_hold(
    close_sandbox: CloseSandboxServer, close_org: Org, close_backend: CloseBackend, tmp_path: Path
) -> None:
    """A lead's second address and an e-mail's type survive an update of the first address / the
    e-mail list; a cleared custom field is unset in Close."""
    lead = close_backend.create(
        "lead", {"fields": {"$name": "Two Sites", "external_id": "TS-1", "tier": "SMB"}}
    )
    close_backend.client.put(
        f"lead/{lead['id']}/",
        {
            "addresses": [
                {"label": "business", "city": "Austin", "country": "US"},
                {"label": "mailing", "city": "Boston", "country": "US"},
            ]
        },
    )
    contact = close_backend.client.post(
        "contact/",
        {"lead_id": lead["id"], "name": "Ann", "emails": [{"email": "ann@example.com", "type": "home"}]},
    )
    src = tmp_path / "leads.csv"
    src.write_text("External ID,Address: City,Tier\nTS-1,Dallas,#clear\n", encoding="utf-8")
    report = import_file(src, "lead", client=close_backend, results_path=tmp_path / "r.csv")
    assert report.counts.updated == 1, report.flatten(["row", "code", "message"])
    raw = close_backend.client.get(f"lead/{lead['id']}/")
    assert [(a["label"], a["city"]) for a in raw["addresses"]] == [
        ("business", "Dallas"),
        ("mailing", "Boston"),
    ]
    assert "custom.cf_DemoLeadTier" not in raw
    src = tmp_path / "contacts.csv"
    src.write_text(
        f"Record ID (id),Email\n{contact['id']},ann@example.com;ann@work.example.com\n", encoding="utf-8"
    )
    report = import_file(src, "contact", client=close_backend, results_path=tmp_path / "c.csv")
    assert report.counts.updated == 1, report.flatten(["row", "code", "message"])
    emails = close_backend.client.get(f"contact/{contact['id']}/")["emails"]
    assert [(e["email"], e["type"]) for e in emails] == [
        ("ann@example.com", "home"),
        ("ann@work.example.com", "office"),
    ]


def test_close_rejection_points_at_the_column(close_backend: CloseBackend, tmp_path: Path) -> None:
    """Close's own validation (confidence 0-100) fails the row, located at the column."""
    src = tmp_path / "opps.csv"
    src.write_text("External ID,Lead,Confidence\nX-1,CL-L-0001,150\nX-2,CL-L-0001,15\n", encoding="utf-8")
    report = import_file(src, "opportunity", client=close_backend, results_path=tmp_path / "r.csv")
    assert report.counts.created == 1 and report.counts.failed == 1
    issue = report.rows[0].issues[0]
    assert (issue.row, issue.field, issue.value) == (2, "$confidence", 150)
    assert "between 0 and 100" in issue.message


def test_close_template_lists_statuses_users_and_leads(close_backend: CloseBackend, tmp_path: Path) -> None:
    info = make_template(close_backend, "opportunity", tmp_path / "t.xlsx")
    assert info.headers[:3] == ["External ID (external_id)", "Status ($status)", "Pipeline ($pipeline)"]
    assert "Value ($value)" in info.headers and "Lead* ($lead)" in info.headers
    wb = load_workbook(tmp_path / "t.xlsx")
    ref = [c for row in wb["Reference"].iter_rows(values_only=True) for c in row if c]
    assert "Renewals: Won" in ref and "Sales: Won" in ref
    assert "ben@demo.close.test" in ref and "Acme Corp" in ref


def test_cli_import_with_crm_close_equals_the_library(
    close_sandbox: CloseSandboxServer, close_org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "leads.csv", tmp_path / "leads.csv")
    env = {
        "CLOSE_API_KEY": close_org.api_key,
        "CLOSE_BASE_URL": close_sandbox.api_url,
        "LIGHTFIELD_API_KEY": "",
    }
    runner = CliRunner()
    dry = runner.invoke(
        cli, ["import", "lead", "leads.csv", "--crm", "close", "--dry-run", "--format", "json"], env=env
    )
    assert dry.exit_code == 1, dry.output
    planned = json.loads(dry.stdout)
    with CloseBackend(api_key=close_org.api_key, base_url=close_sandbox.api_url) as backend:
        library = import_file(tmp_path / "leads.csv", "lead", client=backend, dry_run=True)
    assert planned["counts"] == library.counts.model_dump()
    assert [r["outcome"] for r in planned["rows"]] == [r.outcome for r in library.rows]
    # BULKIO_CRM picks the CRM too; the import writes and exits 1 (two rows are bad by design)
    result = runner.invoke(cli, ["import", "lead", "leads.csv"], env={**env, "BULKIO_CRM": "close"})
    assert result.exit_code == 1, result.output
    assert len(by_key(close_sandbox, close_org, "lead", "cf_DemoLeadExternalId")) == 12 + 2
    wrong = runner.invoke(cli, ["import", "account", "leads.csv", "--crm", "close"], env=env)
    assert wrong.exit_code == 2 and "Close calls it 'lead'" in wrong.output
