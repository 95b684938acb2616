"""A create refused because its key is taken (422 ``duplicate_value``) finds the record that holds
the key, waiting out list lag, and reports the row ``updated`` or ``unchanged`` (issue 10 §5):
when the data is there, the row is not ``failed``."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file


def accounts_csv(path: Path, n: int, edited: set[int] = frozenset()) -> Path:  # type: ignore[assignment]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id", "Employee Count"])
        for i in range(n):
            w.writerow([f"Conflict Co {i}" + (" edited" if i in edited else ""), f"CF-{i:03d}", 10 + i])
    return path


def test_a_lost_ledger_while_lists_lag_reports_rows_as_they_are(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """The first run's ledger is gone and the list does not show its records yet: every create
    meets its key taken; the rows come out unchanged (or updated where the file differs)."""
    sandbox.set_faults(empty_org.org_id, index_lag_ms=1500)
    n, edited = 20, {3, 7}
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        first = import_file(
            accounts_csv(tmp_path / "a.csv", n), "account", client=lf, ledger_path=tmp_path / "1.db"
        )
        assert first.counts.created == n
        again = import_file(
            accounts_csv(tmp_path / "b.csv", n, edited),
            "account",
            client=lf,
            ledger_path=tmp_path / "lost.db",
        )
    outcomes = {r.row - 2: r.outcome for r in again.rows}
    assert outcomes == {i: "updated" if i in edited else "unchanged" for i in range(n)}, again.flatten(
        ["row", "code"]
    )
    assert again.ok and again.counts.failed == 0
    warned = {r.row - 2 for r in again.rows if any(i.code == "matched_existing" for i in r.issues)}
    assert warned == set(range(n))
    ids = {r.row: r.record_id for r in first.rows}
    assert all(r.record_id == ids[r.row] for r in again.rows)  # matched to the records that exist
    records = sandbox.records(empty_org.org_id, "account")
    keys = Counter(r["fields"]["external_id"]["value"] for r in records)
    assert len(keys) == n and max(keys.values()) == 1
    names = {r["fields"]["external_id"]["value"]: r["fields"]["$name"]["value"] for r in records}
    assert names["CF-003"] == "Conflict Co 3 edited" and names["CF-004"] == "Conflict Co 4"


def test_a_conflict_on_another_value_still_fails(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Only the upsert key is matched: a row whose key is free but whose unique value is taken by
    another record (here: the key field chosen with --key is not the unique one) stays failed."""
    sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        lf.create("account", {"fields": {"$name": "Holder", "external_id": "TAKEN-1"}})
        src = tmp_path / "c.csv"
        src.write_text("Name,external_id\nNewcomer,TAKEN-1\n", encoding="utf-8")
        report = import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db", key_field="$name")
    assert [r.outcome for r in report.rows] == ["failed"]
    assert [i.code for i in report.rows[0].issues][-1] == "duplicate_value"
    assert sandbox.count(empty_org.org_id, "account") == 1
