"""Close writes through bulkio's importer against the Close sandbox's rate limit, and a naive loop
with the official ``closeio`` client as baseline.

Starts a Close sandbox whose orgs allow ``--rate`` requests/second per endpoint group over an
``--window``-second bucket (Close's model: ``limit = rate × window``, refilled continuously, so a
full bucket lets the first ``limit`` requests through at once) and answer after ``--latency-ms``
(+ up to ``--jitter-ms``). Then, each on a fresh empty org:

1. bulkio: ``import_file`` of ``--n`` new leads (a CSV) through the Close backend (pacing per
   endpoint group learnt from the ``RateLimit`` header) — target: ≥95% of the rate limit (writes/s
   over the run, the clock started after the configuration was read), with ≤1% of requests answered
   429. Also shown: the share of the best a client could do by spending the bucket's initial burst
   too, ``n / ((n - limit) / rate)`` (bulkio paces at the refill rate from the start);
2. baseline: the official ``closeio`` client, a sequential ``for`` loop posting the same leads.

Prints both rates, 429 counts and the ratio. Nothing is asserted.

    python bench/bench_close_write.py --n 600
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bulkio.crm.close import CloseBackend
from bulkio.crm.close.sandbox import CloseSandboxServer
from bulkio.pipeline import import_file


def fresh_org(sb: CloseSandboxServer, args: argparse.Namespace) -> Any:
    org = sb.create_org(seed="demo", records=False)
    sb.set_rate_limit(org.org_id, per_second=args.rate, window=args.window)
    sb.set_faults(org.org_id, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms)
    return org


def run_bulkio(sb: CloseSandboxServer, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    org = fresh_org(sb, args)
    src = tmp / "leads.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["External ID", "Name", "URL"])
        for i in range(args.n):
            w.writerow([f"B-{i:05d}", f"Bench Co {i}", f"https://bench{i}.example.com"])
    with CloseBackend(api_key=org.api_key, base_url=sb.api_url) as close:
        close.schema("lead")  # configuration fetched before the clock starts, as a warm CLI would
        start = time.perf_counter()
        report = import_file(
            src,
            "lead",
            client=close,
            results_path=tmp / "r.csv",
            ledger_path=tmp / "l.db",
            concurrency=args.concurrency,
        )
        elapsed = time.perf_counter() - start
    server = sb.stats(org.org_id)
    writes = server["by_group"].get("lead:write", 0)
    return {
        "name": f"bulkio import ({args.concurrency} threads)",
        "elapsed": elapsed,
        "created": report.counts.created,
        "failed": report.counts.failed,
        "writes": writes,
        "requests": server["requests"],
        "429": server["by_status"].get(429, 0),
    }


def run_closeio(sb: CloseSandboxServer, args: argparse.Namespace) -> dict[str, Any]:
    import closeio_api

    org = fresh_org(sb, args)
    api = closeio_api.Client(api_key=org.api_key)
    api.base_url = sb.api_url + "/"
    failures = 0
    start = time.perf_counter()
    for i in range(args.n):
        try:
            api.post("lead", {"name": f"Naive Co {i}", "url": f"https://naive{i}.example.com"})
        except Exception:  # noqa: BLE001 - counted, not raised, in a benchmark
            failures += 1
    elapsed = time.perf_counter() - start
    server = sb.stats(org.org_id)
    return {
        "name": "official closeio client, sequential",
        "elapsed": elapsed,
        "created": sb.count(org.org_id, "lead"),
        "failed": failures,
        "writes": server["by_group"].get("lead:write", 0),
        "requests": server["requests"],
        "429": server["by_status"].get(429, 0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=600, help="leads to create per run")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rate", type=float, default=20.0, help="requests/second per endpoint group")
    ap.add_argument("--window", type=float, default=8.0, help="seconds the bucket's limit counts over")
    ap.add_argument("--latency-ms", type=float, default=150.0)
    ap.add_argument("--jitter-ms", type=float, default=50.0)
    ap.add_argument("--skip-closeio", action="store_true", help="only measure bulkio")
    args = ap.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        CloseSandboxServer(db_path=Path(tmp) / "c.sqlite3", seed="empty") as sb,
    ):
        results = [run_bulkio(sb, args, Path(tmp))]
        if not args.skip_closeio:
            results.append(run_closeio(sb, args))

    limit = round(args.rate * args.window)
    best = args.n / max((args.n - limit) / args.rate, 1e-9)
    print(
        f"\nClose limit {args.rate:g}/s per group over {args.window:g} s (bucket {limit}), latency "
        f"{args.latency_ms:g}±{args.jitter_ms:g} ms, n={args.n}; best possible {best:.1f} writes/s\n"
    )
    head = (
        f"{'run':38} {'s':>7} {'writes/s':>9} {'% limit':>8} {'% best':>7} "
        f"{'requests':>9} {'429s':>5} {'429 %':>6} {'created':>8} {'failed':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        rate = r["created"] / r["elapsed"]
        r["rate"] = rate
        print(
            f"{r['name']:38} {r['elapsed']:7.2f} {rate:9.2f} {100 * rate / args.rate:7.1f}% "
            f"{100 * rate / best:6.1f}% {r['requests']:9d} {r['429']:5d} "
            f"{100 * r['429'] / max(r['requests'], 1):5.2f}% {r['created']:8d} {r['failed']:7d}"
        )
    if len(results) == 2:
        print(f"\nbulkio / closeio throughput ratio: {results[0]['rate'] / results[1]['rate']:.2f}x")
    b = results[0]
    share = b["rate"] / args.rate
    print(
        f"bulkio: {100 * share:.1f}% of the rate limit (target ≥95%: {'ok' if share >= 0.95 else 'BELOW TARGET'}; "
        f"{100 * b['rate'] / best:.1f}% of the burst-aware best), 429 share "
        f"{100 * b['429'] / max(b['requests'], 1):.2f}% (target ≤1%: "
        f"{'ok' if b['429'] <= 0.01 * b['requests'] else 'ABOVE TARGET'})"
    )


if __name__ == "__main__":
    main()
