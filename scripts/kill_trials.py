"""Kill trials: SIGKILL ``bulkio import`` at random points, then ``--resume``, and count what went wrong.

The figures in README "Guarantees" come from this script. Each trial imports a fresh file into a
fresh org of a strict sandbox (list lag on), kills the process at a random moment of its write
(from "nothing written yet" to "only the results sheet left"), moves the file to another folder in
half of the trials, resumes, and checks: every input row exists exactly once in the CRM (no
duplicate, nothing lost), the resume exited 0, and the results sheet lists every row once as
``created``. Accounts have a key (external_id); tasks have none, so only the ledger prevents
duplicates there.

    python scripts/kill_trials.py --trials 20        # 20 account trials + 20 task trials

Prints one line per trial and a summary; exits 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bulkio.sandbox import SandboxServer

ROWS = 150


def write_file(path: Path, kind: str, n: int) -> list[str]:
    """The input; returns the identity of every row (external_id, or the task title)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if kind == "account":
            w.writerow(["Name", "external_id"])
            ids = [f"KT-{i:04d}" for i in range(n)]
            w.writerows([f"Kill Co {i}", k] for i, k in enumerate(ids))
        else:
            w.writerow(["Title", "Status", "Assigned To"])
            ids = [f"Kill task {i:04d}" for i in range(n)]
            w.writerows([t, "To do", "ava@demo.lightfield.test"] for t in ids)
    return ids


def identities(sb: SandboxServer, org: Any, kind: str) -> list[str]:
    key = ("fields", "external_id") if kind == "account" else ("fields", "$title")
    return [r[key[0]][key[1]]["value"] for r in sb.records(org.org_id, kind)]


def settle(sb: SandboxServer, org: Any, kind: str) -> int:
    """Wait until requests the killed process left in flight have finished."""
    count, deadline = sb.count(org.org_id, kind), time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = sb.count(org.org_id, kind)
        if again == count and sb.stats(org.org_id)["in_flight"] == 0:
            break
        count = again
    return count


def trial(
    sb: SandboxServer, kind: str, fraction: float, move: bool, work: Path, bulkio_path: str | None = None
) -> tuple[bool, str]:
    org = sb.create_org(seed="demo", records=False)
    sb.set_rate_limit(org.org_id, per_second=100)
    sb.set_faults(org.org_id, latency_ms=10, jitter_ms=10)
    src = work / f"{kind}s.csv"
    ids = write_file(src, kind, ROWS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTFIELD_", "BULKIO_"))}
    env.update(
        LIGHTFIELD_API_KEY=org.api_key, LIGHTFIELD_BASE_URL=sb.url, BULKIO_STATE_DIR=str(work / "state")
    )
    if bulkio_path:  # compare another checkout's importer against this sandbox
        env["PYTHONPATH"] = bulkio_path
    cmd = [sys.executable, "-m", "bulkio", "import", kind]
    proc = subprocess.Popen(
        [*cmd, str(src), "--results", "results.csv", "-q"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < 60:
        if sb.count(org.org_id, kind) >= int(ROWS * fraction):
            break
        time.sleep(0.002)
    finished_first = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    at = settle(sb, org, kind)
    if move:
        moved = work / "moved" / f"renamed-{kind}s.csv"
        moved.parent.mkdir()
        src.rename(moved)
        src = moved
    done = subprocess.run(
        [*cmd, str(src), "--resume", "--results", "results.csv", "-q"],
        check=False,
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    got = Counter(identities(sb, org, kind))
    dupes = sum(n - 1 for n in got.values() if n > 1)
    lost = len(set(ids) - set(got))
    with open(work / "results.csv", encoding="utf-8-sig", newline="") as fh:
        outcomes = [r.get("Outcome") for r in csv.DictReader(fh)]
    ok = done.returncode == 0 and dupes == 0 and lost == 0 and outcomes == ["created"] * ROWS
    note = (
        f"{kind:8s} killed at {at:3d}/{ROWS}{' (had finished)' if finished_first else ''}"
        f"{', file moved' if move else ''}: resume exit {done.returncode}, duplicates {dupes}, lost {lost}"
    )
    return ok, note + ("" if ok else f"  FAILED {done.stderr.strip()[:300]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="trials per object type")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--kinds", default="account,task", help="object types to try (comma-separated)")
    parser.add_argument(
        "--bulkio-path",
        default=None,
        help="run the imports from this checkout (PYTHONPATH), e.g. an older one",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results: list[bool] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(profile="strict") as sb:
        for kind in args.kinds.split(","):
            for i in range(args.trials):
                # the last fifth of the trials kill very late: rows written, results sheet pending
                fraction = rng.uniform(0.95, 1.0) if i >= args.trials * 4 // 5 else rng.uniform(0.0, 0.95)
                work = Path(tmp) / f"{kind}-{i}"
                work.mkdir()
                ok, note = trial(sb, kind, fraction, move=i % 2 == 1, work=work, bulkio_path=args.bulkio_path)
                results.append(ok)
                print(note, flush=True)
    bad = results.count(False)
    print(
        f"\n{len(results)} kill trials ({args.trials} per type: {args.kinds}; {ROWS} rows each) "
        f"in {time.monotonic() - t0:.0f} s: {len(results) - bad} passed, {bad} failed"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
