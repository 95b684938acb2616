"""export.py: workbook / CSV / JSONL exports of a sandbox org, read back from the real files."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bulkio.client import LightfieldClient
from bulkio.columns import export_columns, key_from_header
from bulkio.errors import ConfigError
from bulkio.events import Event, PhaseStarted, Progress
from bulkio.export import (
    PIPELINE,
    SHEET_NAMES,
    export_format,
    export_frames,
    export_objects,
    group_filters,
    object_schema,
    parse_filter,
)

EVIL = ['=HYPERLINK("http://x")', "+1 evil", "-2 minus", "@SUM(A1)"]


@pytest.fixture(scope="module")
def demo(sandbox: Any) -> Any:
    """One demo org shared by the read-only tests of this module (pacing is not under test)."""
    org = sandbox.create_org(seed="demo")
    sandbox.set_rate_limit(org.org_id, per_second=200)
    return org


@pytest.fixture(scope="module")
def lf(sandbox: Any, demo: Any) -> Any:
    with LightfieldClient(api_key=demo.api_key, base_url=sandbox.url) as client:
        yield client


@pytest.fixture(scope="module")
def pipeline(lf: LightfieldClient, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, list[Event]]:
    events: list[Event] = []
    path = tmp_path_factory.mktemp("export") / "pipeline.xlsx"
    report = export_objects(lf, "pipeline", path, on_event=events.append)
    return path, report, events


def _rows(path: Path, sheet: str) -> tuple[list[str], list[dict[str, Any]]]:
    ws = load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    headers = [str(h) for h in rows[0]]
    keys = [key_from_header(h) for h in headers]
    return headers, [dict(zip(keys, r)) for r in rows[1:]]


def _v(record: dict[str, Any], key: str) -> Any:
    entry = record["fields"].get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def test_pipeline_sheets_and_headers(lf: LightfieldClient, pipeline: tuple[Path, Any, list[Event]]) -> None:
    path, report, _ = pipeline
    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary"] + [SHEET_NAMES[o] for o in PIPELINE]
    for obj in PIPELINE:
        ws = wb[SHEET_NAMES[obj]]
        expected = [c.header for c in export_columns(object_schema(lf, obj))]
        assert [c.value for c in ws[1]] == expected, obj
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(expected)).column_letter}{ws.max_row}"
        assert ws.max_row - 1 == report.counts[obj]
    assert report.paths == [path]
    assert report.total == sum(report.counts.values()) and report.records_per_second > 0


def test_counts_equal_sandbox(sandbox: Any, demo: Any, pipeline: tuple[Path, Any, list[Event]]) -> None:
    _, report, _ = pipeline
    for obj in ("account", "contact", "opportunity", "task", "note"):
        assert report.counts[obj] == sandbox.count(demo.org_id, obj), obj
    assert report.counts["member"] == 3


def test_events(pipeline: tuple[Path, Any, list[Event]], sandbox: Any, demo: Any) -> None:
    _, report, events = pipeline
    started = {e.name: e.total for e in events if isinstance(e, PhaseStarted)}
    assert started["export:opportunity"] == sandbox.count(demo.org_id, "opportunity")
    done = sum(e.count for e in events if isinstance(e, Progress) and e.name == "export:account")
    assert done == report.counts["account"]


def test_values_labels_dates_currency_names(
    sandbox: Any, demo: Any, lf: LightfieldClient, pipeline: tuple[Path, Any, list[Event]]
) -> None:
    path, _, _ = pipeline
    opps = {r["id"]: r for r in sandbox.records(demo.org_id, "opportunity")}
    accounts = {r["id"]: _v(r, "$name") for r in sandbox.records(demo.org_id, "account")}
    members = {m["id"]: m for m in lf.members()}
    stage_labels = {o.id: o.label for o in lf.schema("opportunity").fields["$stage"].options}
    headers, rows = _rows(path, "Opportunities")
    assert len(rows) == len(opps)
    seen_date = seen_owner = False
    for row in rows:
        rec = opps[row["id"]]
        assert row["$stage"] == stage_labels[_v(rec, "$stage")]
        acc = rec["relationships"]["$account"]["values"][0]
        assert row["$account"] == acc
        assert row["$account#name"] == accounts[acc]
        owner = (rec["relationships"].get("$owner") or {}).get("values") or []
        if owner:
            name = _v(members[owner[0]], "$name")
            assert row["$owner#name"] == f"{name['firstName']} {name['lastName']}"
            seen_owner = True
        close = _v(rec, "closeDate")
        cell = row["closeDate"]
        if close:
            assert isinstance(cell, dt.datetime)
            when = dt.datetime.fromisoformat(close).astimezone(dt.UTC)
            assert cell.date() == when.date()
            seen_date = True
        else:
            assert cell is None
    assert seen_date and seen_owner
    ws = load_workbook(path)["Opportunities"]
    col = [key_from_header(h) for h in headers].index("amount") + 1
    amounts = [ws.cell(r, col) for r in range(2, ws.max_row + 1) if ws.cell(r, col).value is not None]
    assert amounts and all(c.data_type == "n" and '"$"' in c.number_format for c in amounts)
    col = [key_from_header(h) for h in headers].index("closeDate") + 1
    dates = [ws.cell(r, col) for r in range(2, ws.max_row + 1) if ws.cell(r, col).value is not None]
    assert dates and all(c.is_date and c.number_format.startswith("yyyy-mm-dd") for c in dates)


def test_contact_full_name_split_and_multi_values(
    sandbox: Any, demo: Any, pipeline: tuple[Path, Any, list[Event]]
) -> None:
    path, _, _ = pipeline
    contacts = {r["id"]: r for r in sandbox.records(demo.org_id, "contact")}
    _, rows = _rows(path, "Contacts")
    for row in rows:
        rec = contacts[row["id"]]
        name = _v(rec, "$name") or {}
        assert row["$name.firstName"] == name.get("firstName")
        assert row["$name.lastName"] == name.get("lastName")
        emails = _v(rec, "$email") or []
        assert (row["$email"] or None) == ("; ".join(emails) or None)
        accs = (rec["relationships"].get("$account") or {}).get("values") or []
        assert (row["$account"] or None) == ("; ".join(accs) or None)


@pytest.mark.usefixtures("no_list_lag")
def test_formula_injection_escaped(client: LightfieldClient, tmp_path: Path) -> None:
    for name in EVIL:
        client.create("account", {"fields": {"$name": name}})
    xlsx = tmp_path / "accounts.xlsx"
    report = export_objects(client, ["account"], xlsx)
    ws = load_workbook(xlsx)["Accounts"]
    col = [c.value for c in ws[1]].index("Name* ($name)") + 1
    cells = {ws.cell(r, col).value: ws.cell(r, col) for r in range(2, ws.max_row + 1)}
    for name in EVIL:  # text cells, as they are: never a formula, no visible '
        cell = cells[name]
        assert cell.data_type == "s"
    assert report.counts["account"] == ws.max_row - 1

    csv_path = tmp_path / "accounts.csv"
    export_objects(client, "account", csv_path)
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = {r["Name* ($name)"] for r in rows}
    assert {"'" + n for n in EVIL} <= names

    jsonl = tmp_path / "accounts.jsonl"
    export_objects(client, "account", jsonl)
    raw = {_v(json.loads(line), "$name") for line in jsonl.read_text("utf-8").splitlines()}
    assert set(EVIL) <= raw  # JSONL is for programs: no escaping


def test_csv_and_jsonl_one_file_per_object(
    lf: LightfieldClient, sandbox: Any, demo: Any, tmp_path: Path
) -> None:
    report = export_objects(lf, ["account", "contact"], tmp_path / "crm.csv")
    assert report.paths == [tmp_path / "crm-account.csv", tmp_path / "crm-contact.csv"]
    for obj, file in zip(("account", "contact"), report.paths):
        with open(file, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == [c.header for c in export_columns(lf.schema(obj))]
        assert len(rows) - 1 == sandbox.count(demo.org_id, obj) == report.counts[obj]

    report = export_objects(lf, ["opportunity", "task"], tmp_path / "crm.jsonl")
    assert [p.name for p in report.paths] == ["crm-opportunity.jsonl", "crm-task.jsonl"]
    lines = [json.loads(x) for x in report.paths[0].read_text("utf-8").splitlines()]
    assert len(lines) == sandbox.count(demo.org_id, "opportunity")
    first = lines[0]
    assert {"id", "fields", "relationships", "relationshipNames"} <= set(first)
    acc_id = first["relationships"]["$account"]["values"][0]
    accounts = {r["id"]: _v(r, "$name") for r in sandbox.records(demo.org_id, "account")}
    assert first["relationshipNames"]["$account"] == [accounts[acc_id]]


def test_filters_applied(lf: LightfieldClient, sandbox: Any, demo: Any, tmp_path: Path) -> None:
    stage = lf.schema("opportunity").fields["$stage"].options[0]
    expected = [r for r in sandbox.records(demo.org_id, "opportunity") if _v(r, "$stage") == stage.id]
    report = export_objects(
        lf, ["opportunity"], tmp_path / "lead.xlsx", filters={"opportunity": [f"$stage[equal]={stage.id}"]}
    )
    _, rows = _rows(tmp_path / "lead.xlsx", "Opportunities")
    assert report.counts["opportunity"] == len(rows) == len(expected) > 0
    assert {r["$stage"] for r in rows} == {stage.label}
    # the same filter as a flat "[OBJECT:]key[op]=value" list (what the CLI passes)
    flat = export_objects(
        lf, ["opportunity"], tmp_path / "lead.csv", filters=[f"opportunity:$stage[equal]={stage.id}"]
    )
    assert flat.counts == report.counts
    # a bare filter goes to every exported object that has the key
    frames = export_frames(lf, ["opportunity", "account"], filters={"*": [f"$stage={stage.id}"]})
    assert len(frames["opportunity"]) == len(expected)
    assert len(frames["account"]) == sandbox.count(demo.org_id, "account")


def test_export_frames_match_sheet(lf: LightfieldClient, pipeline: tuple[Path, Any, list[Event]]) -> None:
    path, _, _ = pipeline
    frames = export_frames(lf, ["account"])
    headers, rows = _rows(path, "Accounts")
    df = frames["account"]
    assert list(df.columns) == headers
    assert list(df["Record ID (id)"]) == [r["id"] for r in rows]


@pytest.mark.parametrize("name", ["keep.xlsx", "keep.csv"])
def test_atomic_write_keeps_old_file(lf: LightfieldClient, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    export_objects(lf, ["member"], target)
    before = target.read_bytes()

    def boom(event: Event) -> None:
        if isinstance(event, Progress) and event.name == "export:account":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_objects(lf, ["account"], target, on_event=boom)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_bad_input() -> None:
    assert parse_filter("$name[startsWith]=a=b") == ("$name[startsWith]", "a=b")
    assert parse_filter("$stage=Lead") == ("$stage", "Lead")
    with pytest.raises(ConfigError):
        parse_filter("no operator")
    assert group_filters(
        [
            "opportunity:amount[greaterThan]=5000",
            "$stage[equal]=Lead",
            "$name[startsWith]=a:b",
            "contact:$name=x",
        ]
    ) == {
        "opportunity": ["amount[greaterThan]=5000"],
        "*": ["$stage[equal]=Lead", "$name[startsWith]=a:b"],
        "contact": ["$name=x"],
    }
    assert group_filters("$stage=Lead") == {"*": ["$stage=Lead"]}
    assert group_filters({"account": ("$name=x",)}) == {"account": ["$name=x"]}
    assert group_filters(None) == {}
    assert export_format("a.XLSX") == "xlsx" and export_format("a.ndjson") == "jsonl"
    assert export_format("a.txt", "CSV") == "csv"
    with pytest.raises(ConfigError, match="Cannot tell the file type of 'a.txt'"):
        export_format("a.txt")
    with pytest.raises(ConfigError, match="Unknown export format 'ods'"):
        export_format("a.xlsx", "ods")


def test_unknown_object_and_filter(lf: LightfieldClient, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown object type"):
        export_objects(lf, ["gizmo"], tmp_path / "x.xlsx")
    with pytest.raises(ConfigError, match="not being exported"):
        export_objects(lf, ["account"], tmp_path / "x.xlsx", filters={"contact": ["$name=x"]})
    with pytest.raises(ConfigError):
        export_objects(lf, ["pipeline", "account"], tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_custom_object_sheet_uses_label(lf: LightfieldClient, tmp_path: Path) -> None:
    label = {o["objectType"]: o["label"] for o in lf.object_types()}["partner"]
    report = export_objects(lf, ["partner"], tmp_path / "partners.xlsx")
    wb = load_workbook(tmp_path / "partners.xlsx")
    assert wb.sheetnames == [label]
    headers = [c.value for c in wb[label][1]]
    assert headers == [c.header for c in export_columns(lf.schema("partner"))]
    assert report.counts["partner"] == wb[label].max_row - 1
