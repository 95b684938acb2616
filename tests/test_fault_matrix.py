"""The fault matrix, end to end through :func:`bulkio.pipeline.import_file`.

Each case imports ~100 accounts into a fresh sandbox org with one kind of fault switched on
(5xx answers, writes committed but their answer dropped, a 429 storm, answers slower than the
client's timeout, connection resets), then re-imports the file with 25 names edited, under the
same faults. After each run:

* the sandbox holds exactly one record per distinct key — nothing lost, nothing duplicated;
* the report and the results file list every input row exactly once;
* every outcome is true: a "created"/"updated" row names a record that exists, carries that
  row's key and (after the edit) that row's name; the unedited rows are "unchanged".
"""

from __future__ import annotations

import csv
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkio.client import LightfieldClient
from bulkio.errors import RateLimitError
from bulkio.pipeline import import_file
from bulkio.ratelimit import RateLimit, RetryPolicy

N_ROWS = 100
EDITED = set(range(0, N_ROWS, 4))  # 25 rows get a new name in the second run

#: Faults off (set_faults only changes the switches it is given).
NO_FAULTS = {
    "error_rate": 0.0,
    "drop_rate": 0.0,
    "reset_rate": 0.0,
    "latency_ms": 0.0,
    "jitter_ms": 0.0,
    "index_lag_ms": 0.0,
}
#: A fast org, so the cases are bound by the faults rather than by the 25/s default ceiling.
FAST = 200.0

#: case -> (sandbox faults, sandbox rate, client options, evidence that the fault really happened)
CASES: dict[str, tuple[dict[str, Any], float, dict[str, Any], str | None]] = {
    "5xx_10pct": ({"error_rate": 0.10}, FAST, {}, "5xx"),
    "drop_after_commit_2pct": ({"drop_rate": 0.02}, FAST, {}, None),
    "drop_after_commit_10pct": ({"drop_rate": 0.10}, FAST, {}, "transport"),
    # Another process on the same key floods the write bucket (see noisy_neighbour).
    "429_storm": ({}, 100.0, {}, "429"),
    "slow_beyond_timeout": ({"latency_ms": 50, "jitter_ms": 150}, FAST, {"timeout": 0.15}, "transport"),
    "connection_resets_5pct": ({"reset_rate": 0.05}, FAST, {}, "transport"),
    # List results hide records younger than 10 s: the re-import must still match every record
    # (through the ledger's known_records + retrieve), not create it again.
    "index_lag_10s": ({"index_lag_ms": 10000}, FAST, {}, None),
    "everything_at_once": (
        {"error_rate": 0.05, "drop_rate": 0.03, "reset_rate": 0.03, "latency_ms": 5, "jitter_ms": 5},
        40.0,
        {},
        "5xx",
    ),
}


class NoisyNeighbour:
    """Another client on the same key sending invalid writes as fast as it can: it eats the
    org's write tokens, so bulkio's paced client still meets a storm of 429s."""

    def __init__(self, sandbox: Any, org: Any) -> None:
        self.sandbox, self.org = sandbox, org
        self.stop_flag = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.stop_flag.clear()
        self.thread = threading.Thread(target=self._flood, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_flag.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
            self.thread = None

    def _flood(self) -> None:
        with httpx.Client(
            base_url=self.sandbox.url,
            headers={"Authorization": f"Bearer {self.org.api_key}", "Lightfield-Version": "2026-03-01"},
        ) as http:
            while not self.stop_flag.is_set():
                http.post("/v1/accounts", json={"fields": {"no_such_field": 1}})


def run_import(src: Path, client: Any, results: Path, ledger: Path, storm: NoisyNeighbour | None) -> Any:
    """Import under the faults. In a 429 storm the client may spend every retry on one request:
    the run then stops with RateLimitError (rows not written are reported, never dropped) and,
    once the storm is over, ``resume=True`` finishes it — that is the guarantee under test."""
    if storm is not None:
        storm.start()
    try:
        return import_file(src, "account", client=client, results_path=results, ledger_path=ledger)
    except RateLimitError:
        if storm is None:
            raise
        storm.stop()
        return import_file(
            src, "account", client=client, results_path=results, ledger_path=ledger, resume=True
        )
    finally:
        if storm is not None:
            storm.stop()


def write_file(path: Path, *, edited: bool) -> dict[int, tuple[str, str]]:
    """Row number -> (key, name)."""
    rows: dict[int, tuple[str, str]] = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id"])
        for i in range(N_ROWS):
            key = f"FM-{i:04d}"
            name = f"Fault Co {i}" + (" edited" if edited and i in EDITED else "")
            rows[i + 2] = (key, name)
            w.writerow([name, key])
    return rows


def sandbox_accounts(sandbox: Any, org: Any) -> dict[str, dict[str, Any]]:
    """external_id -> record, asserting there is no duplicate key."""
    records = sandbox.records(org.org_id, "account")
    keys = [r["fields"]["external_id"]["value"] for r in records]
    dupes = [k for k, n in Counter(keys).items() if n > 1]
    assert dupes == [], f"duplicate external_id values: {dupes}"
    return {r["fields"]["external_id"]["value"]: r for r in records}


def results_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def check_run(
    report: Any,
    results: Path,
    rows: dict[int, tuple[str, str]],
    accounts: dict[str, dict[str, Any]],
    expected: dict[int, str],
) -> None:
    assert set(accounts) == {k for k, _ in rows.values()}
    got = sorted((r.row, r.outcome) for r in report.rows)
    assert got == sorted(expected.items())
    for r in report.rows:
        key, name = rows[r.row]
        record = accounts[key]
        assert r.record_id == record["id"], (r.row, r.outcome)
        assert record["fields"]["$name"]["value"] == name, (r.row, r.outcome)
    sheet = results_rows(results)
    assert [s["external_id"] for s in sheet] == [rows[n][0] for n in sorted(rows)]
    outcome = next(h for h in sheet[0] if h.strip().lower() == "outcome")
    assert [s[outcome].lower() for s in sheet] == [expected[n] for n in sorted(rows)]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("case", list(CASES))
def test_fault_case(case: str, sandbox: Any, tmp_path: Path) -> None:
    faults, rate, client_options, evidence = CASES[case]
    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=rate)
    options: dict[str, Any] = {
        "timeout": 5.0,
        "rate_limit": RateLimit(),
        "retry": RetryPolicy(max_attempts=12, backoff_base=0.01, backoff_max=0.2),
    }
    options.update(client_options)
    src, results, ledger = tmp_path / "accounts.csv", tmp_path / "results.csv", tmp_path / "ledger.db"
    storm = NoisyNeighbour(sandbox, org) if case == "429_storm" else None
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url, **options) as client:
        sandbox.set_faults(org.org_id, **faults)
        rows = write_file(src, edited=False)
        report = run_import(src, client, results, ledger, storm)
        sandbox.set_faults(org.org_id, **NO_FAULTS)  # read the truth without faults
        check_run(report, results, rows, sandbox_accounts(sandbox, org), {n: "created" for n in rows})

        sandbox.set_faults(org.org_id, **faults)
        rows = write_file(src, edited=True)
        report = run_import(src, client, results, ledger, storm)
        sandbox.set_faults(org.org_id, **NO_FAULTS)
        check_run(
            report,
            results,
            rows,
            sandbox_accounts(sandbox, org),
            {n: "updated" if n - 2 in EDITED else "unchanged" for n in rows},
        )
        stats = client.stats
    # The fault really happened (so the run above proved something).
    if evidence == "5xx":
        assert sum(n for status, n in stats.by_status.items() if status >= 500) > 0, stats
    elif evidence == "429":
        assert stats.rate_limited > 0, stats
    elif evidence == "transport":
        assert stats.transport_errors > 0, stats
