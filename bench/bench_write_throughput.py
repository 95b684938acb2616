"""Write throughput of bulkio's client against a known ceiling, and the official SDK on the same
number of threads as the fair baseline.

Starts a sandbox whose orgs allow ``--rate`` writes/second (token bucket, burst = rate) and answer
after ``--latency-ms`` (+ up to ``--jitter-ms``). Then, each on a fresh empty org:

1. bulkio: ``LightfieldClient`` (default pacing and retries) creating ``--n`` accounts from a
   thread pool of ``--concurrency`` — targets: ≥95% of the ceiling, ≤1% of requests answered 429;
2. baseline: the official ``lightfield`` SDK creating the same accounts from the same number of
   threads (one client, its default retries) — with its 429 count and the rows it never created;
3. for reference: the SDK in a sequential ``for`` loop (``--skip-sequential`` leaves it out).

"% steady" is the share of the ceiling sustained after the server's initial burst (the bucket starts
full, so the first ``burst`` writes can land at once and inflate a plain writes/s figure): the
writes completed after the first 2 × burst / rate seconds, over the rest of the run. Nothing is
asserted.

    python bench/bench_write_throughput.py --n 500
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _baselines import sdk_creates, steady_pct

from bulkio.client import LightfieldClient
from bulkio.sandbox import SandboxServer


def fresh_org(sb: SandboxServer, args: argparse.Namespace) -> Any:
    org = sb.create_org(seed="demo", records=False)
    sb.set_rate_limit(org.org_id, per_second=args.rate)
    sb.set_faults(org.org_id, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms)
    return org


def run_bulkio(sb: SandboxServer, args: argparse.Namespace) -> dict[str, Any]:
    org = fresh_org(sb, args)
    failures = 0
    with LightfieldClient(api_key=org.api_key, base_url=sb.url) as lf:
        times: list[float] = []

        def make(i: int) -> bool:
            try:
                lf.create("account", {"fields": {"$name": f"Bench {i}"}}, idempotency_key=f"b-{i}")
                times.append(time.perf_counter())
                return True
            except Exception:  # noqa: BLE001 - counted, not raised, in a benchmark
                return False

        start = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            ok = list(pool.map(make, range(args.n)))
        elapsed = time.perf_counter() - start
        failures = ok.count(False)
        stats = lf.stats
    server = sb.stats(org.org_id)
    return {
        "name": f"bulkio client ({args.concurrency} threads)",
        "elapsed": elapsed,
        "start": start,
        "times": times,
        "created": sb.count(org.org_id, "account"),
        "failed": failures,
        "requests": server["requests"],
        "429": server["by_status"].get(429, 0),
        "client_429": stats.rate_limited,
    }


def run_sdk_sequential(sb: SandboxServer, args: argparse.Namespace) -> dict[str, Any]:
    import lightfield

    org = fresh_org(sb, args)
    sdk = lightfield.Lightfield(api_key=org.api_key, base_url=sb.url)
    failures = 0
    times: list[float] = []
    start = time.perf_counter()
    for i in range(args.n):
        try:
            sdk.account.create(fields={"$name": f"Naive {i}"})
            times.append(time.perf_counter())
        except Exception:  # noqa: BLE001 - counted, not raised, in a benchmark
            failures += 1
    elapsed = time.perf_counter() - start
    sdk.close()
    server = sb.stats(org.org_id)
    return {
        "name": "official SDK, sequential loop",
        "elapsed": elapsed,
        "start": start,
        "times": times,
        "created": sb.count(org.org_id, "account"),
        "failed": failures,
        "requests": server["requests"],
        "429": server["by_status"].get(429, 0),
    }


def run_sdk_threads(sb: SandboxServer, args: argparse.Namespace) -> dict[str, Any]:
    r = sdk_creates(sb, fresh_org(sb, args), args.n, args.concurrency, "Sdk")
    return {**r, "elapsed": r["seconds"], "failed": r["errors"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=500, help="accounts to create per run")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rate", type=float, default=25.0, help="sandbox write ceiling per second")
    ap.add_argument("--latency-ms", type=float, default=150.0)
    ap.add_argument("--jitter-ms", type=float, default=50.0)
    ap.add_argument("--skip-sdk", action="store_true", help="only measure bulkio")
    ap.add_argument("--skip-sequential", action="store_true", help="leave out the SDK's sequential loop")
    args = ap.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(db_path=Path(tmp) / "bench.sqlite3", seed="demo") as sb,
    ):
        results = [run_bulkio(sb, args)]
        if not args.skip_sdk:
            results.append(run_sdk_threads(sb, args))
            if not args.skip_sequential:
                results.append(run_sdk_sequential(sb, args))

    burst = max(int(args.rate), 1)
    print(
        f"\nwrite ceiling {args.rate:g}/s (burst {burst}), latency {args.latency_ms:g}±"
        f"{args.jitter_ms:g} ms, n={args.n}, {args.concurrency} threads\n"
    )
    head = (
        f"{'run':34} {'s':>7} {'writes/s':>9} {'% ceiling':>10} {'% steady':>9} "
        f"{'requests':>9} {'429s':>5} {'429 %':>6} {'created':>8} {'not created':>12}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        rate = r["created"] / r["elapsed"]
        r["rate"] = rate
        print(
            f"{r['name']:34} {r['elapsed']:7.2f} {rate:9.2f} {100 * rate / args.rate:9.1f}% "
            f"{steady_pct(r['times'], args.rate, burst, r['start']):8.1f}% {r['requests']:9d} "
            f"{r['429']:5d} {100 * r['429'] / max(r['requests'], 1):5.2f}% {r['created']:8d} "
            f"{args.n - r['created']:12d}"
        )
    if len(results) >= 2:
        b, sdk = results[0], results[1]
        print(
            f"\nbulkio / SDK on {args.concurrency} threads: {b['rate'] / sdk['rate']:.2f}x the throughput; "
            f"429s {b['429']} vs {sdk['429']}; rows not created {args.n - b['created']} vs "
            f"{args.n - sdk['created']}"
        )
    b = results[0]
    steady = steady_pct(b["times"], args.rate, burst, b["start"])
    verdict_rate = "ok" if steady >= 95 else "BELOW TARGET"
    verdict_429 = "ok" if b["429"] <= 0.01 * b["requests"] else "ABOVE TARGET"
    print(
        f"bulkio: {steady:.1f}% of the ceiling after the burst (target ≥95%: {verdict_rate}), "
        f"429 share {100 * b['429'] / max(b['requests'], 1):.2f}% (target ≤1%: {verdict_429})"
    )


if __name__ == "__main__":
    main()
