"""Crash and resume: ``bulkio import`` killed with SIGKILL at random points, then ``--resume``.

The importer runs as a real subprocess (``python -m bulkio import …``) talking HTTP to the
session's sandbox with ``LIGHTFIELD_API_KEY`` / ``LIGHTFIELD_BASE_URL``; the org is slowed down
(latency + a modest write rate) so the write phase lasts a few seconds and the kill lands in the
middle of it. After ``--resume``: exit 0 (or 1 for exactly the rows that are bad by design), the
sandbox holds one record per distinct key (no duplicate ``external_id``), and the results file lists
every input row exactly once with a truthful outcome.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

N_ROWS = 240
#: Rows that are bad by design: a duplicate key (row 50 repeats row 10's key) and a bad email.
DUPLICATE_ROW, BAD_EMAIL_ROW = 50, 120
TRIALS = 4


def write_input(path: Path) -> dict[int, str]:
    """The input CSV; returns spreadsheet row -> key for every row."""
    keys: dict[int, str] = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id", "Billing Email"])
        for i in range(N_ROWS):
            row = i + 2
            key = f"CR-{i:04d}"
            email = f"billing{i}@example.com"
            if row == DUPLICATE_ROW:
                key = keys[10]
            if row == BAD_EMAIL_ROW:
                email = "not an email"
            keys[row] = key
            w.writerow([f"Crash Co {i}", key, email])
    return keys


def env_for(sandbox: Any, org: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTFIELD_", "BULKIO_"))}
    env.update(LIGHTFIELD_API_KEY=org.api_key, LIGHTFIELD_BASE_URL=sandbox.url, PYTHONUNBUFFERED="1")
    env["BULKIO_STATE_DIR"] = os.environ["BULKIO_STATE_DIR"]  # this test's state folder (conftest)
    return env


def bulkio(*args: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", *args]


def external_ids(sandbox: Any, org: Any) -> list[str]:
    return [r["fields"]["external_id"]["value"] for r in sandbox.records(org.org_id, "account")]


def kill_when(
    proc: subprocess.Popen[bytes], sandbox: Any, org: Any, *, at_count: int, deadline: float = 30.0
) -> int:
    """SIGKILL ``proc`` once the org holds ``at_count`` accounts (0 = as soon as it started).
    Returns the count at the moment of the kill."""
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < deadline:
        n = sandbox.count(org.org_id, "account")
        if n >= at_count:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return sandbox.count(org.org_id, "account")


def read_results(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def outcome_column(rows: list[dict[str, str]]) -> str:
    return next(h for h in rows[0] if h.strip().lower() == "outcome")


def record_id_column(rows: list[dict[str, str]]) -> str:
    return next(h for h in rows[0] if h.strip().lower().startswith("record id"))


def check_after_resume(sandbox: Any, org: Any, keys: dict[int, str], results: Path) -> None:
    ids = external_ids(sandbox, org)
    dupes = [k for k, n in Counter(ids).items() if n > 1]
    assert dupes == [], f"duplicate external_id in the sandbox: {dupes[:5]}"
    good_keys = {k for row, k in keys.items() if row != BAD_EMAIL_ROW}
    assert set(ids) == good_keys
    assert sandbox.count(org.org_id, "account") == len(good_keys)

    rows = read_results(results)
    # Every input row exactly once, in input order.
    assert [r["external_id"] for r in rows] == [keys[n] for n in sorted(keys)]
    oc, rc = outcome_column(rows), record_id_column(rows)
    by_key = {r["fields"]["external_id"]["value"]: r["id"] for r in sandbox.records(org.org_id, "account")}
    for number, r in zip(sorted(keys), rows):
        if number in (DUPLICATE_ROW, BAD_EMAIL_ROW):
            assert r[oc].lower() == "failed", (number, r)
        else:
            assert r[oc].lower() == "created", (number, r)
            assert r[rc] == by_key[keys[number]], (number, r)


@pytest.mark.timeout(240)
def test_sigkill_then_resume_never_loses_or_duplicates(sandbox: Any, tmp_path: Path) -> None:
    rng = random.Random(20260301)
    # Kill points: as soon as the process starts (before any write), then at random write counts.
    kill_points = [0] + sorted(rng.randrange(5, N_ROWS - 20) for _ in range(TRIALS - 1))
    for trial, at_count in enumerate(kill_points):
        org = sandbox.create_org(seed="demo", records=False)
        sandbox.set_rate_limit(org.org_id, per_second=120)
        sandbox.set_faults(org.org_id, latency_ms=15)
        work = tmp_path / f"trial{trial}"
        work.mkdir()
        src = work / "accounts.csv"
        keys = write_input(src)
        results = work / "results.csv"
        env = env_for(sandbox, org)

        proc = subprocess.Popen(
            bulkio("import", "account", str(src), "--results", str(results), "-q"),
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if at_count == 0:
            time.sleep(rng.uniform(0.2, 0.8))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            killed_at = sandbox.count(org.org_id, "account")
        else:
            killed_at = kill_when(proc, sandbox, org, at_count=at_count)
        assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
        assert killed_at < len(set(keys.values())), f"trial {trial}: every row written before the kill"

        done = subprocess.run(
            bulkio("import", "account", str(src), "--resume", "--results", str(results), "-q"),
            check=False,
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, (trial, done.stdout, done.stderr)  # exactly the 2 bad rows fail
        assert "Traceback" not in done.stderr
        check_after_resume(sandbox, org, keys, results)


def settled_count(sandbox: Any, org: Any) -> int:
    """The account count once the killed process's last requests (already inside the server when
    the process died) have finished: a request in flight still commits after its client is gone."""
    deadline = time.monotonic() + 10
    count = sandbox.count(org.org_id, "account")
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = sandbox.count(org.org_id, "account")
        if again == count and sandbox.stats(org.org_id)["in_flight"] == 0:
            return again
        count = again
    return count


@pytest.mark.timeout(120)
def test_resume_refuses_a_changed_input_file(sandbox: Any, tmp_path: Path) -> None:
    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=120)
    sandbox.set_faults(org.org_id, latency_ms=15)
    src = tmp_path / "accounts.csv"
    keys = write_input(src)
    env = env_for(sandbox, org)
    proc = subprocess.Popen(
        bulkio("import", "account", str(src), "-q"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    kill_when(proc, sandbox, org, at_count=40)
    assert proc.returncode == -signal.SIGKILL
    before = settled_count(sandbox, org)

    with open(src, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(["Late Co", "CR-LATE", "late@example.com"])
    done = subprocess.run(
        bulkio("import", "account", str(src), "--resume", "-q"),
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and "changed" in lines[0] and src.name in lines[0], done.stderr
    assert sandbox.count(org.org_id, "account") == before  # nothing written by the refused resume
    assert len(keys) == N_ROWS


def bulkio_ctrl_c_able(*args: str) -> list[str]:
    """``bulkio(*args)``, such that SIGINT raises KeyboardInterrupt as in a terminal. A test runner
    started in the background may have SIGINT ignored, which its children inherit and Python then
    keeps: only in that case does the command install Python's default handler itself."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        return bulkio(*args)
    code = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from bulkio.cli import main; main()"
    )
    return [sys.executable, "-c", code, *args]


@pytest.mark.timeout(120)
def test_sigint_writes_results_exits_3_then_resume_finishes(sandbox: Any, tmp_path: Path) -> None:
    """A real Ctrl-C (SIGINT) in the middle of the write: no new request starts, those in flight
    finish, the results sheet lists every row once (truthfully: created with the server's id, or
    not_written), stderr says how to resume and names the sheet, exit code 3. ``--resume`` then
    finishes with one record per key."""
    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=120)
    sandbox.set_faults(org.org_id, latency_ms=15)
    src, results = tmp_path / "accounts.csv", tmp_path / "results.csv"
    keys = write_input(src)
    env = env_for(sandbox, org)
    proc = subprocess.Popen(
        bulkio_ctrl_c_able("import", "account", str(src), "--results", str(results), "-q"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < 30 and sandbox.count(org.org_id, "account") < 40:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert err.splitlines() == [
        "Interrupted. Re-run with --resume to continue where this run stopped.",
        f"The results sheet {results} shows what was written (the other rows say not_written).",
    ]

    rows = read_results(results)
    assert [r["external_id"] for r in rows] == [keys[n] for n in sorted(keys)]
    oc, rc = outcome_column(rows), record_id_column(rows)
    by_key = {r["fields"]["external_id"]["value"]: r["id"] for r in sandbox.records(org.org_id, "account")}
    assert 40 <= len(by_key) < len(set(keys.values())), "the SIGINT did not land mid-write"
    created = [r for r in rows if r[oc] == "created"]
    assert sorted(r[rc] for r in created) == sorted(by_key.values())  # what the server holds, no more
    for number, r in zip(sorted(keys), rows):
        if r[oc] != "created" and number not in (DUPLICATE_ROW, BAD_EMAIL_ROW):
            assert r[oc] == "failed" and "not_written" in r["Errors"], (number, r)

    done = subprocess.run(
        bulkio("import", "account", str(src), "--resume", "--results", str(results), "-q"),
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)  # exactly the 2 bad rows fail
    check_after_resume(sandbox, org, keys, results)


def write_tasks(path: Path, n: int) -> list[str]:
    """A task file: tasks have no key, so only the ledger stands between a resume and duplicates."""
    titles = [f"Crash task {i:03d}" for i in range(n)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Title", "Status", "Assigned To"])
        for t in titles:
            w.writerow([t, "To do", "ben@demo.lightfield.test"])
    return titles


def task_titles(sandbox: Any, org: Any) -> list[str]:
    return sorted(r["fields"]["$title"]["value"] for r in sandbox.records(org.org_id, "task"))


@pytest.mark.timeout(240)
def test_sigkill_then_resume_keyless_rows_never_duplicates(sandbox: Any, tmp_path: Path) -> None:
    """Tasks have no key. SIGKILL at random points (also as good as done, when only the results
    sheet is left to write), move the file, then --resume: every task exists exactly once."""
    rng = random.Random(20261203)
    n = 120
    for trial, fraction in enumerate([0.1, rng.uniform(0.3, 0.7), 0.97]):
        org = sandbox.create_org(seed="demo", records=False)
        sandbox.set_rate_limit(org.org_id, per_second=120)
        sandbox.set_faults(org.org_id, latency_ms=15)
        work = tmp_path / f"tasks{trial}"
        work.mkdir()
        src = work / "tasks.csv"
        titles = write_tasks(src, n)
        env = env_for(sandbox, org)
        proc = subprocess.Popen(
            bulkio("import", "task", str(src), "--results", "results.csv", "-q"),
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < 30:
            if sandbox.count(org.org_id, "task") >= int(n * fraction):
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        settled = settled_task_count(sandbox, org)
        moved = work / "moved" / "tasks-renamed.csv"
        moved.parent.mkdir()
        src.rename(moved)
        done = subprocess.run(
            bulkio("import", "task", str(moved), "--resume", "--results", "results.csv", "-q"),
            check=False,
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (trial, settled, done.stdout, done.stderr)
        assert task_titles(sandbox, org) == titles, f"trial {trial}: killed at {settled} tasks"
        rows = read_results(work / "results.csv")
        assert [r[outcome_column(rows)] for r in rows] == ["created"] * n


def settled_task_count(sandbox: Any, org: Any) -> int:
    deadline = time.monotonic() + 10
    count = sandbox.count(org.org_id, "task")
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = sandbox.count(org.org_id, "task")
        if again == count and sandbox.stats(org.org_id)["in_flight"] == 0:
            return again
        count = again
    return count
