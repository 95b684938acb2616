"""Close as a source: ``bulkio export pipeline --crm close``. The workbook has a Summary, then
Opportunities, Leads, Contacts and Users; the Summary's figures equal Close's own aggregates
(``total_value_*``, ``expected_value_*``, ``_group_by`` user / month / quarter won) for the same
filter; the sheets re-import into Close unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulkio.cli import cli
from bulkio.crm.close import CloseBackend
from bulkio.crm.close.sandbox import CloseSandboxServer, Org
from bulkio.crm.close.summary import AGGREGATES
from bulkio.export import export_objects
from bulkio.pipeline import import_file

PERIODS = ("one_time", "monthly", "annual")


def summary_tables(path: Path) -> dict[str, Any]:
    """The Summary sheet read back: check line, period table, and the three group tables (cents)."""
    # read-only mode gives an empty row as (): pad every row to the sheet's width
    rows = [
        tuple(r) + (None,) * 10
        for r in load_workbook(path, read_only=True)["Summary"].iter_rows(values_only=True)
    ]
    out: dict[str, Any] = {"check": next(r[1] for r in rows if r[0] == "Check"), "groups": {}}
    i = next(n for n, r in enumerate(rows) if r[0] == "Value period")
    periods = {}
    for r in rows[i + 1 : i + 5]:
        periods[r[0]] = (r[1], round(r[2] * 100), round(r[3] * 100))
    out["periods"] = periods
    for title in ("User", "Month won", "Quarter won"):
        start = next(n for n, r in enumerate(rows) if r[0] == title) + 1
        table = {}
        for r in rows[start:]:
            if r[0] is None:
                break
            table[r[0]] = (r[1], *[round(v * 100) for v in r[2:10]])
        out["groups"][title] = table
    return out


def api_groups(api: httpx.Client, params: dict[str, str], group_by: str) -> dict[Any, tuple[int, ...]]:
    """Close's ``_group_by`` answer, pages merged by group key: key -> (count, aggregates...)."""
    groups: dict[Any, tuple[int, ...]] = {}
    skip = 0
    while True:
        body = api.get(
            "/opportunity/", params={**params, "_group_by": group_by, "_skip": skip, "_limit": 250}
        )
        assert body.status_code == 200, body.text
        data = body.json()
        for g in data["data"]:
            label = g.get("user_name") if group_by == "user_id" else g["key"]
            groups[label] = (g["total_results"], *[g[a] for a in AGGREGATES])
        if not data["has_more"]:
            return groups
        skip += 250


@pytest.mark.parametrize(
    "filters",
    [
        [],
        ["opportunity:status_type=won"],
        ["$user[equal]=user_DemoBen"],
        ["opportunity:value_period=monthly"],
    ],
    ids=["all", "won", "ben", "monthly"],
)
def test_summary_equals_closes_own_aggregates(
    filters: list[str], close_backend: CloseBackend, close_api: httpx.Client, tmp_path: Path
) -> None:
    report = export_objects(close_backend, "pipeline", tmp_path / "close.xlsx", filters=filters)
    params = {
        "opportunity:status_type=won": {"status_type": "won"},
        "$user[equal]=user_DemoBen": {"user_id": "user_DemoBen"},
        "opportunity:value_period=monthly": {"value_period": "monthly"},
    }.get(filters[0] if filters else "", {})
    api = close_api.get("/opportunity/", params={**params, "_limit": 1}).json()
    assert report.counts["opportunity"] == api["total_results"] > 0
    tables = summary_tables(tmp_path / "close.xlsx")
    assert tables["check"].startswith("equal to Close's own totals")
    assert report.summary.to_dict()["matches_close_totals"] is True
    labels = {"one_time": "One-time", "monthly": "Monthly", "annual": "Annual"}
    for period in PERIODS:
        count, total, expected = tables["periods"][labels[period]]
        assert count == api["count_by_value_period"].get(period, 0)
        assert total == api[f"total_value_{period}"] and expected == api[f"expected_value_{period}"]
    assert tables["periods"]["Annualized (monthly × 12)"] == (
        api["total_results"],
        api["total_value_annualized"],
        api["expected_value_annualized"],
    )
    assert tables["groups"]["User"] == api_groups(close_api, params, "user_id")
    for title, group_by in (("Month won", "date_won__month"), ("Quarter won", "date_won__quarter")):
        theirs = {
            ("(not won)" if k is None else k): v for k, v in api_groups(close_api, params, group_by).items()
        }
        assert tables["groups"][title] == theirs


def test_pipeline_workbook_sheets_and_round_trip(
    close_sandbox: CloseSandboxServer, close_org: Org, close_backend: CloseBackend, tmp_path: Path
) -> None:
    path = tmp_path / "close.xlsx"
    report = export_objects(close_backend, "pipeline", path)
    assert load_workbook(path, read_only=True).sheetnames == [
        "Summary",
        "Opportunities",
        "Leads",
        "Contacts",
        "Users",
    ]
    assert report.counts == {
        "opportunity": close_sandbox.count(close_org.org_id, "opportunity"),
        "lead": close_sandbox.count(close_org.org_id, "lead"),
        "contact": close_sandbox.count(close_org.org_id, "contact"),
        "member": 3,
    }
    ws = load_workbook(path, read_only=True)["Opportunities"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    value, lead_name = header.index("Value ($value)"), header.index("Lead name ($lead#name)")
    raw = {r["id"]: r for r in close_sandbox.records(close_org.org_id, "opportunity")}
    for row in rows[1:]:
        close = raw[row[0]]
        assert (row[value] is None and close["value"] is None) or round(row[value] * 100) == close["value"]
        assert row[lead_name] == close["lead_name"]
    for otype in ("lead", "contact", "opportunity"):
        again = import_file(path, otype, client=close_backend, dry_run=True)
        assert again.counts.unchanged == report.counts[otype] and again.ok, again.flatten(["row", "code"])


def test_cli_export_with_crm_close(
    close_sandbox: CloseSandboxServer, close_org: Org, close_backend: CloseBackend, tmp_path: Path
) -> None:
    env = {"CLOSE_API_KEY": close_org.api_key, "CLOSE_BASE_URL": close_sandbox.api_url}
    out = tmp_path / "won.xlsx"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "pipeline",
            "--crm",
            "close",
            "-o",
            str(out),
            "--filter",
            "opportunity:status_type=won",
            "--format",
            "json",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    library = export_objects(
        close_backend, "pipeline", tmp_path / "lib.xlsx", filters=["opportunity:status_type=won"]
    )
    assert printed["counts"] == library.counts
    assert printed["summary"]["total"] == library.summary.to_dict()["total"]
    bad = CliRunner().invoke(
        cli, ["export", "account", "--crm", "close", "-o", str(tmp_path / "a.xlsx")], env=env
    )
    assert bad.exit_code == 2 and "Unknown object type account" in bad.output
