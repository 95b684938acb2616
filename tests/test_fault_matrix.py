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
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkio.client import LightfieldClient
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
    # Another client on the same key floods the write bucket (see NoisyNeighbour): with the
    # client's default retry policy (6 attempts) the run must still finish, because a 429 is never
    # a failed attempt.
    "another_client_floods_the_key": ({}, 100.0, {"retry": RetryPolicy()}, "429"),
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
    """Another client on the same key: it sends invalid writes as fast as it can for ``on``
    seconds, rests ``off`` seconds, and again (a sync job next to the import). While it floods it
    eats the org's write tokens, so bulkio's paced client meets a storm of 429s lasting longer than
    six retries."""

    def __init__(
        self, sandbox: Any, org: Any, *, on: float = 6.0, off: float = 1.5, threads: int = 3
    ) -> None:
        self.sandbox, self.org = sandbox, org
        self.on, self.off, self.n_threads = on, off, threads
        self.stop_flag = threading.Event()
        self.threads: list[threading.Thread] = []
        self.sent = 0

    def start(self) -> None:
        # several threads, so the flood outruns the refill even on a busy machine
        self.stop_flag.clear()
        self.threads = [threading.Thread(target=self._flood, daemon=True) for _ in range(self.n_threads)]
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=10)
        self.threads = []

    def _flood(self) -> None:
        with httpx.Client(
            base_url=self.sandbox.url,
            headers={"Authorization": f"Bearer {self.org.api_key}", "Lightfield-Version": "2026-03-01"},
        ) as http:
            while not self.stop_flag.is_set():
                until = time.monotonic() + self.on
                while time.monotonic() < until and not self.stop_flag.is_set():
                    http.post("/v1/accounts", json={"fields": {"no_such_field": 1}})
                    self.sent += 1
                self.stop_flag.wait(self.off)


def run_import(src: Path, client: Any, results: Path, ledger: Path, storm: NoisyNeighbour | None) -> Any:
    """Import under the faults. In a 429 storm the import waits as the server says, for as long as
    some of its requests get through: it never stops with RateLimitError while the storm lasts."""
    if storm is not None:
        storm.start()
    try:
        return import_file(src, "account", client=client, results_path=results, ledger_path=ledger)
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
    storm = NoisyNeighbour(sandbox, org) if case == "another_client_floods_the_key" else None
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
        assert storm is not None and storm.sent > stats.requests  # the neighbour really flooded
    elif evidence == "transport":
        assert stats.transport_errors > 0, stats


# --- several bulkio processes ----------------------------------------------------------------------


def env_for(sandbox: Any, org: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTFIELD_", "BULKIO_"))}
    env.update(LIGHTFIELD_API_KEY=org.api_key, LIGHTFIELD_BASE_URL=sandbox.url, PYTHONUNBUFFERED="1")
    return env


def bulkio(*args: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", *args]


def keyed_csv(path: Path, prefix: str, n: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id"])
        for i in range(n):
            w.writerow([f"{prefix} Co {i}", f"{prefix}-{i:04d}"])
    return path


@pytest.mark.timeout(120)
def test_two_bulkio_processes_on_one_key_share_the_pace(sandbox: Any, tmp_path: Path) -> None:
    """Two imports at once with the same key (from the same folder, so the same ledger folder):
    they draw from one file-locked bucket, so together they stay under the org's limit instead of
    each sending the whole limit (which drew 37% 429s when pacing was per process)."""
    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=20)
    n = 60
    files = [keyed_csv(tmp_path / f"{p}.csv", p, n) for p in ("PA", "PB")]
    state = tmp_path / "state"  # one user: one state folder (ledger, pacing files)
    procs = [
        subprocess.Popen(
            bulkio("import", "account", str(f), "-q"),
            cwd=tmp_path,
            env={**env_for(sandbox, org), "BULKIO_STATE_DIR": str(state)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outs = [p.communicate(timeout=100) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    keys = Counter(r["fields"]["external_id"]["value"] for r in sandbox.records(org.org_id, "account"))
    assert len(keys) == 2 * n and max(keys.values()) == 1
    stats = sandbox.stats(org.org_id)
    limited = stats["by_status"].get(429, 0)
    assert limited <= 0.05 * stats["requests"], stats  # was 37% with one bucket per process
    assert sorted(p.name for p in state.iterdir() if p.name.startswith("pace-"))


@pytest.mark.timeout(120)
def test_a_second_import_of_a_file_being_imported_is_refused(sandbox: Any, tmp_path: Path) -> None:
    """Two bulkio processes on one file: the second (also a copy of the file elsewhere) is refused
    with one line while the first writes; the first finishes; every key once, nothing failed."""
    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=10)
    n = 150
    src = keyed_csv(tmp_path / "accounts.csv", "ONE", n)
    copy = tmp_path / "elsewhere" / "accounts-copy.csv"
    copy.parent.mkdir()
    shutil.copy(src, copy)
    env = {**env_for(sandbox, org), "BULKIO_STATE_DIR": str(tmp_path / "state")}
    first = subprocess.Popen(
        bulkio("import", "account", str(src), "-q"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.monotonic()
    while sandbox.count(org.org_id, "account") < 5 and time.monotonic() - t0 < 60:
        time.sleep(0.05)
    for again in (src, copy):
        second = subprocess.run(
            bulkio("import", "account", str(again), "-q"),
            check=False,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert first.poll() is None, "the first import finished before the second one started"
        assert second.returncode == 2, (second.stdout, second.stderr)
        errors = [ln for ln in second.stderr.splitlines() if ln.startswith("Error:")]
        assert len(errors) == 1 and "is being imported into account by another bulkio process" in errors[0]
    sandbox.set_rate_limit(org.org_id, per_second=200)  # let the first one finish quickly
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, (out, err)
    keys = Counter(r["fields"]["external_id"]["value"] for r in sandbox.records(org.org_id, "account"))
    assert len(keys) == n and max(keys.values()) == 1
