"""summary.py: pipeline aggregates (pure) and the Summary sheet of a pipeline export, checked
against figures computed independently from the sandbox's own data."""

from __future__ import annotations

import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bulkio.client import LightfieldClient
from bulkio.definitions import ObjectSchema
from bulkio.export import export_objects
from bulkio.summary import NO_CLOSE_DATE, NO_OWNER, TABLE_HEADERS, summarize_pipeline

SCHEMA = ObjectSchema.from_api(
    {
        "objectType": "opportunity",
        "fieldDefinitions": {
            "$name": {"label": "Name", "valueType": "TEXT", "typeConfiguration": {}},
            "$stage": {
                "label": "Stage",
                "valueType": "SINGLE_SELECT",
                "typeConfiguration": {
                    "options": [
                        {"id": "opt_lead", "label": "Lead"},
                        {"id": "opt_won", "label": "Closed Won"},
                        {"id": "opt_lost", "label": "Closed Lost"},
                    ]
                },
            },
            "amount": {"label": "Amount", "valueType": "CURRENCY", "typeConfiguration": {"currency": "EUR"}},
            "probability": {"label": "Probability", "valueType": "NUMBER", "typeConfiguration": {}},
            "closeDate": {"label": "Close date", "valueType": "DATETIME", "typeConfiguration": {}},
        },
        "relationshipDefinitions": {
            "$owner": {"label": "Owner", "cardinality": "HAS_ONE", "objectType": "member"}
        },
    }
)
MEMBERS = [
    {
        "id": "mem_a",
        "fields": {
            "$name": {"value": {"firstName": "Ann", "lastName": "Lee"}},
            "$email": {"value": "ann@x.test"},
        },
    }
]


def opp(
    stage: str,
    amount: float | None,
    prob: float | None,
    close: str | None,
    owner: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "$stage": {"value": stage},
        "amount": {"value": amount},
        "probability": {"value": prob},
        "closeDate": {"value": close},
    }
    if status:
        fields["$opportunityStatus"] = {"value": status}
    rels = {"$owner": {"values": [owner]}} if owner else {}
    return {"id": f"opp_{id(fields)}", "fields": fields, "relationships": rels}


def test_summarize_pipeline_pure() -> None:
    s = summarize_pipeline(
        [
            opp("opt_lead", 1000, 50, "2026-03-31T23:30:00-02:00", "mem_a"),  # 2026-04 in UTC
            opp("opt_lead", 500, None, None),  # no probability
            opp("opt_won", 2000, 100, "2026-01-05T00:00:00Z", "mem_a"),  # won from the stage
            opp("opt_lost", None, 10, "2026-01-20T00:00:00Z", status="LOST"),
        ],
        SCHEMA,
        MEMBERS,
    )
    assert s.currency == "EUR"
    assert (s.total.count, s.total.amount, s.total.weighted) == (4, 3500, 2500)
    assert [(r.label, r.count, r.amount, r.weighted) for r in s.by_status] == [
        ("Open", 2, 1500, 500),
        ("Won", 1, 2000, 2000),
        ("Lost", 1, 0, 0),
    ]
    assert [(r.label, r.count, r.amount) for r in s.by_stage] == [
        ("Lead", 2, 1500),
        ("Closed Won", 1, 2000),
        ("Closed Lost", 1, 0),
    ]
    assert [(r.label, r.count, r.amount) for r in s.by_owner] == [("Ann Lee", 2, 3000), (NO_OWNER, 2, 500)]
    assert [(r.label, r.count) for r in s.by_month] == [("2026-01", 2), ("2026-04", 1), (NO_CLOSE_DATE, 1)]


def test_summarize_empty() -> None:
    s = summarize_pipeline([], SCHEMA, [])
    assert s.total.count == 0 and [r.count for r in s.by_stage] == [0, 0, 0]
    assert s.by_owner == [] and s.by_month == []


# --- against the sandbox -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Any]:
    org = sandbox.create_org(seed="demo")
    sandbox.set_rate_limit(org.org_id, per_second=200)
    path = tmp_path_factory.mktemp("summary") / "pipeline.xlsx"
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        report = export_objects(lf, "pipeline", path)
    return org, path, report


def _v(record: dict[str, Any], key: str) -> Any:
    entry = record["fields"].get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def _tables(path: Path) -> dict[str, dict[str, tuple[int, float, float]]]:
    """{table header: {row label: (count, amount, weighted)}} read from the Summary sheet."""
    ws = load_workbook(path)["Summary"]
    tables: dict[str, dict[str, tuple[int, float, float]]] = {}
    current: dict[str, tuple[int, float, float]] | None = None
    for row in ws.iter_rows(values_only=True):
        label = row[0] if row else None
        if label in TABLE_HEADERS.values() and row[1] == "Count":
            current = tables.setdefault(str(label), {})
        elif label is None:
            current = None
        elif current is not None:
            current[str(label)] = (row[1], row[2], row[3])
    return tables


def test_summary_sheet_matches_sandbox_data(sandbox: Any, pipeline: tuple[Any, Path, Any]) -> None:
    org, path, report = pipeline
    records = sandbox.records(org.org_id, "opportunity")
    assert records, "the demo org has opportunities"
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        stage_labels = {o.id: o.label for o in lf.schema("opportunity").fields["$stage"].options}
        members = {m["id"]: " ".join(filter(None, (_v(m, "$name") or {}).values())) for m in lf.members()}

    by_stage: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    by_status: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    by_owner: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    by_month: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for rec in records:
        amount = _v(rec, "amount")
        prob = _v(rec, "probability")
        weighted = amount * prob / 100 if amount is not None and prob is not None else 0.0
        owner_ids = (rec["relationships"].get("$owner") or {}).get("values") or []
        close = _v(rec, "closeDate")
        month = datetime.fromisoformat(close).astimezone(UTC).strftime("%Y-%m") if close else NO_CLOSE_DATE
        status = {"OPEN": "Open", "WON": "Won", "LOST": "Lost"}[_v(rec, "$opportunityStatus")]
        keys = (
            (by_stage, stage_labels[_v(rec, "$stage")]),
            (by_status, status),
            (by_status, "Total"),
            (by_owner, members[owner_ids[0]] if owner_ids else NO_OWNER),
            (by_month, month),
        )
        for table, key in keys:
            table[key][0] += 1
            table[key][1] += amount or 0
            table[key][2] += weighted

    sheet = _tables(path)
    for header, expected in (
        ("Stage", by_stage),
        ("Status", by_status),
        ("Owner", by_owner),
        ("Expected close month", by_month),
    ):
        got = sheet[header]
        nonzero = {k: v for k, v in got.items() if v[0]}
        assert set(nonzero) == set(expected), header
        for label, (count, amount, weighted) in expected.items():
            assert got[label][0] == count, (header, label)
            assert got[label][1] == pytest.approx(amount, abs=0.01), (header, label)
            assert got[label][2] == pytest.approx(weighted, abs=0.01), (header, label)
    # every stage option is listed, in option order, even without opportunities
    assert list(sheet["Stage"]) == list(stage_labels.values())
    assert report.summary.total.count == len(records)


def test_summary_is_first_and_has_a_bar_chart(pipeline: tuple[Any, Path, Any]) -> None:
    _, path, _ = pipeline
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Summary"
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "xl/charts/chart1.xml" in names
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert "barChart" in chart and "Summary" in chart
    ws = wb["Summary"]
    assert ws["A1"].value == "Pipeline summary"
    assert ws["B2"].value == "USD"
    amount_cells = [r[2] for r in ws.iter_rows(min_row=5) if isinstance(r[2].value, (int, float))]
    assert amount_cells and all('"$"' in c.number_format for c in amount_cells)
