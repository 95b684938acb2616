"""Export → import round trip: an exported workbook re-imports with zero writes, and editing five
cells changes exactly those five fields and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bulkio.client import LightfieldClient
from bulkio.columns import key_from_header
from bulkio.export import SHEET_NAMES, export_objects
from bulkio.pipeline import import_file

pipeline = pytest.importorskip("bulkio.pipeline")

OBJECTS = ("account", "contact", "opportunity", "task", "note")


def counts(report: Any) -> dict[str, int]:
    """created / updated / unchanged / failed / skipped of a RunReport."""
    c = getattr(report, "counts", None)
    c = c.model_dump() if hasattr(c, "model_dump") else c
    if isinstance(c, dict):
        return {k: int(v) for k, v in c.items()}
    return {k: int(getattr(report, k)) for k in ("created", "updated", "unchanged", "failed", "skipped")}


def snapshot(sandbox: Any, org_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {o: {r["id"]: r for r in sandbox.records(org_id, o)} for o in OBJECTS}


def import_all(path: Path, client: LightfieldClient) -> dict[str, dict[str, int]]:
    out = {}
    for obj in OBJECTS:
        report = pipeline.import_file(
            path,
            obj,
            client=client,
            sheet=SHEET_NAMES[obj],
            results_path=path.with_name(f"results-{obj}.xlsx"),
            ledger_path=path.with_name("ledger.sqlite3"),
        )
        out[obj] = counts(report)
    return out


def _v(record: dict[str, Any], key: str) -> Any:
    entry = record["fields"].get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def _col(ws: Any, key: str) -> int:
    return [key_from_header(str(c.value)) for c in ws[1]].index(key) + 1


def _other(options: list[Any], current_id: str | None, exclude: tuple[str, ...] = ()) -> Any:
    return next(o for o in options if o.id != current_id and o.label not in exclude)


def test_roundtrip_zero_writes_then_exactly_five_changes(
    sandbox: Any, org: Any, client: LightfieldClient, tmp_path: Path
) -> None:
    sandbox.set_rate_limit(org.org_id, per_second=200)  # pacing is not under test here
    path = tmp_path / "pipeline.xlsx"
    export_objects(client, "pipeline", path)
    before = snapshot(sandbox, org.org_id)
    writes_before = sandbox.stats(org.org_id).get("writes")

    result = import_all(path, client)
    for obj, c in result.items():
        assert (c["created"], c["updated"], c["failed"]) == (0, 0, 0), (obj, c)
        assert c["unchanged"] == len(before[obj]), (obj, c)
    assert snapshot(sandbox, org.org_id) == before
    assert sandbox.stats(org.org_id).get("writes") == writes_before

    # --- edit exactly five cells ------------------------------------------------------------
    wb = load_workbook(path)
    edits: dict[tuple[str, str], Any] = {}  # (record id, field key) -> expected API value

    ws = wb["Opportunities"]
    stage = client.schema("opportunity").fields["$stage"]
    rid = ws.cell(2, 1).value
    current = _v(before["opportunity"][rid], "$stage")
    new_stage = _other(stage.options, current, exclude=("Closed Won", "Closed Lost"))
    ws.cell(2, _col(ws, "$stage")).value = new_stage.label
    edits[(rid, "$stage")] = new_stage.id
    rid = ws.cell(3, 1).value
    amount = (_v(before["opportunity"][rid], "amount") or 0) + 1234
    ws.cell(3, _col(ws, "amount")).value = amount
    edits[(rid, "amount")] = amount

    ws = wb["Contacts"]
    rid = ws.cell(2, 1).value
    ws.cell(2, _col(ws, "jobTitle")).value = "VP Round Trips"
    edits[(rid, "jobTitle")] = "VP Round Trips"

    ws = wb["Accounts"]
    tier = client.schema("account").fields["tier"]
    rid = ws.cell(2, 1).value
    new_tier = _other(tier.options, _v(before["account"][rid], "tier"))
    ws.cell(2, _col(ws, "tier")).value = new_tier.label
    edits[(rid, "tier")] = new_tier.id

    ws = wb["Tasks"]
    status = client.schema("task").fields["$status"]
    rid = ws.cell(2, 1).value
    new_status = _other(status.options, _v(before["task"][rid], "$status"))
    ws.cell(2, _col(ws, "$status")).value = new_status.label
    edits[(rid, "$status")] = new_status.id
    wb.save(path)

    result = import_all(path, client)
    assert {o: c["updated"] for o, c in result.items()} == {
        "account": 1,
        "contact": 1,
        "opportunity": 2,
        "task": 1,
        "note": 0,
    }
    assert all(c["created"] == c["failed"] == 0 for c in result.values())

    after = snapshot(sandbox, org.org_id)
    changed_records = {rid for rid, _ in edits}
    seen: set[tuple[str, str]] = set()
    for obj in OBJECTS:
        assert set(after[obj]) == set(before[obj])
        for rid, old in before[obj].items():
            new = after[obj][rid]
            assert new["relationships"] == old["relationships"], (obj, rid)
            if rid not in changed_records:
                assert new == old, (obj, rid)
                continue
            assert new["updatedAt"] != old["updatedAt"]
            for key in set(old["fields"]) | set(new["fields"]):
                if _v(new, key) != _v(old, key):
                    if key == "$opportunityStatus":
                        continue  # derived from the stage (same OPEN/WON/LOST by choice above)
                    assert (rid, key) in edits, (obj, rid, key, _v(old, key), _v(new, key))
                    assert _v(new, key) == edits[(rid, key)]
                    seen.add((rid, key))
    assert seen == set(edits)


@pytest.mark.usefixtures("no_list_lag")  # exported right after it was written
@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_export_keeps_sub_seconds_so_reimport_changes_nothing(
    client: LightfieldClient, tmp_path: Path, ext: str
) -> None:
    from bulkio.sheets import csv_value

    stamps = ["2026-03-16T12:00:00.123Z", "2026-03-16T12:00:00.500+00:00", "2026-03-16T12:00:07Z"]
    for i, stamp in enumerate(stamps):
        client.create(
            "account", {"fields": {"$name": f"Sub {i}", "external_id": f"SUB-{i}", "renewalDate": stamp}}
        )
    out = tmp_path / f"accounts.{ext}"
    export_objects(client, ["account"], out)
    report = import_file(out, "account", client=client, ledger_path=tmp_path / "l.db")
    assert report.counts.updated == 0 and report.counts.unchanged >= len(stamps), report.flatten(
        ["row", "code"]
    )
    import datetime as dt

    assert csv_value(dt.datetime(2026, 3, 16, 12, 0, 0, 123000)) == "2026-03-16 12:00:00.123"
    assert csv_value(dt.datetime(2026, 3, 16, 12, 0, 0, 123456)) == "2026-03-16 12:00:00.123456"
    assert csv_value(dt.datetime(2026, 3, 16, 12, 0, 7)) == "2026-03-16 12:00:07"
    assert csv_value(dt.datetime(2026, 3, 16, 12, 0)) == "2026-03-16 12:00"
