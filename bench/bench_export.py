"""Export throughput and memory of ``bulkio.export.export_objects`` against the Search ceiling,
next to a sequential-paging baseline measured in the same run.

    python bench/bench_export.py            # --n 10000 --accounts 2000 --rate 25 --latency-ms 40

A sandbox runs in a child process (so the numbers below are the exporter's own): one fresh org
seeded directly with ``--n`` opportunities and ``--accounts`` accounts, Search limit ``--rate``/s,
each answer delayed ``--latency-ms`` ± ``--jitter-ms``. Then ``opportunity`` is exported to XLSX,
each time with a new client:

1. baseline: sequential paging (``concurrency=1``);
2. bulkio default (``--concurrency``, 8);
3. the same with tracemalloc on, for the traced memory peak only (tracemalloc makes Python ~3x
   slower, so that run's speed is not comparable, and by default it exports only the 1,111
   opportunities named "Bench deal 1…" to stay short; ``--trace-filter ''`` traces all,
   ``--no-tracemalloc`` skips it). The account-name map is built in full either way.

The export lists the opportunities *and* the accounts (for the ``Account name`` column) and the
members, so it prints both opportunities/s and all records fetched/s next to the ceiling of
``rate × 25`` records/s (25 per page), the peak RSS (psutil, sampled every 20 ms in a thread) and
its growth during the export, and the tracemalloc peak. Nothing is asserted; read the numbers on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any, Self

import psutil

from bulkio.client import LightfieldClient
from bulkio.export import export_objects

PAGE = 25


def _seed_doc(n: int, n_accounts: int) -> dict[str, Any]:
    """The demo org's definitions and members with generated accounts and opportunities."""
    from bulkio.sandbox.seed import load_seed

    doc = load_seed("demo")
    members = [m["id"] for m in doc["members"]]
    opp_def = doc["objects"]["opportunity"]["fields"]
    stages = [o["id"] for o in opp_def["$stage"]["typeConfiguration"]["options"]]
    sources = [o["id"] for o in opp_def["source"]["typeConfiguration"]["options"]]
    rng = random.Random(7)
    accounts = [
        {
            "id": f"acc_bench{i:06d}",
            "fields": {"$name": f"Bench Account {i}", "external_id": f"BA-{i:06d}"},
            "relationships": {"$owner": rng.choice(members)},
        }
        for i in range(n_accounts)
    ]
    opps = []
    for i in range(n):
        stage = stages[i % len(stages)]
        status = (
            "WON" if stage.endswith("closed_won") else "LOST" if stage.endswith("closed_lost") else "OPEN"
        )
        opps.append(
            {
                "fields": {
                    "$name": f"Bench deal {i}",
                    "$stage": stage,
                    "$opportunityStatus": status,
                    "external_id": f"BO-{i:06d}",
                    "amount": rng.randint(5, 250) * 1000,
                    "probability": rng.choice([10, 25, 50, 75, 90]),
                    "closeDate": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z",
                    "source": rng.choice(sources),
                    "nextStep": "=follow up" if i % 50 == 0 else "Call",
                },
                "relationships": {"$account": accounts[i % n_accounts]["id"], "$owner": rng.choice(members)},
            }
        )
    return {**doc, "records": {"account": accounts, "opportunity": opps}}


def serve(args: argparse.Namespace) -> None:
    """Child process: sandbox + seeded org; prints its address, lives until stdin closes."""
    from bulkio.sandbox import SandboxServer

    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(db_path=Path(tmp) / "sandbox.sqlite3", seed="demo") as sandbox,
    ):
        t0 = time.perf_counter()
        org = sandbox.create_org(seed=_seed_doc(args.n, args.accounts))
        seeded = time.perf_counter() - t0
        sandbox.set_rate_limit(org.org_id, per_second=args.rate)
        if args.latency_ms:
            sandbox.set_faults(org.org_id, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms)
        print(
            json.dumps(
                {
                    "url": sandbox.url,
                    "api_key": org.api_key,
                    "seconds": seeded,
                    "opportunities": sandbox.count(org.org_id, "opportunity"),
                    "accounts": sandbox.count(org.org_id, "account"),
                }
            ),
            flush=True,
        )
        sys.stdin.read()


class PeakRss:
    """Samples this process's RSS in a thread; ``peak`` in bytes."""

    def __init__(self, interval: float = 0.02) -> None:
        self.proc, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def run_export(
    url: str, key: str, out: Path, concurrency: int, *, trace: bool = False, filters: list[str] | None = None
) -> dict[str, Any]:
    """One export with a fresh client. ``trace`` turns tracemalloc on, which slows Python down
    about 3x, so its timing is not comparable: that run only reports the traced peak."""
    with LightfieldClient(api_key=key, base_url=url) as client:
        client.schema("opportunity")  # definitions are not part of the timing
        rss0 = psutil.Process().memory_info().rss
        if trace:
            tracemalloc.start()
        with PeakRss() as rss:
            before = client.stats
            t0 = time.perf_counter()
            report = export_objects(
                client,
                ["opportunity"],
                out,
                concurrency=concurrency,
                filters={"opportunity": filters} if filters else None,
            )
            seconds = time.perf_counter() - t0
            after = client.stats
        traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
    requests = after.requests - before.requests
    n = report.counts["opportunity"]
    return {
        "run": f"concurrency={concurrency}" + (" +tracemalloc" if trace else ""),
        "opportunities": n,
        "seconds": round(seconds, 2),
        "opps_per_s": round(n / seconds, 1),
        "requests": requests,
        "pages_per_s": round(requests / seconds, 1),
        "fetched_per_s": 0.0,
        "pct_of_ceiling": 0.0,
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "rss_growth_mb": round((rss.peak - rss0) / 2**20, 1),
        "tracemalloc_peak_mb": round(traced_peak / 2**20, 1) if trace else "",
        "file_mb": round(out.stat().st_size / 2**20, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10000, help="opportunities to seed and export")
    ap.add_argument("--accounts", type=int, default=2000, help="accounts (names for the sheet)")
    ap.add_argument("--rate", type=float, default=25.0, help="sandbox Search limit per second")
    ap.add_argument("--latency-ms", type=float, default=40.0)
    ap.add_argument("--jitter-ms", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="skip the third run (tracemalloc on, ~3x slower, memory only)",
    )
    ap.add_argument(
        "--trace-filter",
        default="$name[startsWith]=Bench deal 1",
        help="filter of the tracemalloc run (default: 1,111 of 10,000 opportunities, "
        "to keep the run short; '' = all)",
    )
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args)
        return

    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--n",
            str(args.n),
            "--accounts",
            str(args.accounts),
            "--rate",
            str(args.rate),
            "--latency-ms",
            str(args.latency_ms),
            "--jitter-ms",
            str(args.jitter_ms),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        ceiling = args.rate * PAGE
        print(
            f"seeded {info['opportunities']} opportunities + {info['accounts']} accounts in "
            f"{info['seconds']:.1f}s; Search limit {args.rate:g}/s -> ceiling {ceiling:g} records/s; "
            f"latency {args.latency_ms:g}±{args.jitter_ms:g} ms",
            file=sys.stderr,
        )
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            runs = ([] if args.skip_baseline else [(1, False)]) + [(args.concurrency, False)]
            runs += [] if args.no_tracemalloc else [(args.concurrency, True)]
            for i, (conc, trace) in enumerate(runs):
                time.sleep(1.0)  # let the server's bucket refill so each run starts alike
                rows.append(
                    run_export(
                        info["url"],
                        info["api_key"],
                        Path(tmp) / f"opps-{i}.xlsx",
                        conc,
                        trace=trace,
                        filters=[args.trace_filter] if trace and args.trace_filter else None,
                    )
                )
        # every record listed: the opportunities, the accounts (names) and 3 members
        for row in rows:
            fetched = row["opportunities"] + info["accounts"] + 3
            row["fetched_per_s"] = round(fetched / row["seconds"], 1)
            row["pct_of_ceiling"] = (
                "" if "tracemalloc" in row["run"] else round(100 * fetched / row["seconds"] / ceiling, 1)
            )
        if not args.skip_baseline:
            rows[1]["x_baseline"] = round(rows[0]["seconds"] / rows[1]["seconds"], 2)
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    cols = list(dict.fromkeys(k for row in rows for k in row))
    print("  ".join(c.rjust(max(len(c), 8)) for c in cols))
    for row in rows:
        print("  ".join(str(row.get(c, "")).rjust(max(len(c), 8)) for c in cols))


if __name__ == "__main__":
    main()
