"""Two bulkio writers on one API key: one shared, file-locked pacing bucket vs one bucket each.

Both writers create ``--n`` accounts at the same time against one sandbox org limited to ``--rate``
writes/s (latency added per request). Baseline: each client paces itself (what bulkio did before
the shared bucket): together they offer twice the limit and meet 429s. bulkio: both clients pace
through ``LightfieldClient(pace_dir=…)`` (as every import does, next to its ledger). Also measured:
the cost of one ``reserve()`` of the shared bucket (an OS file lock, a read and a write of a small
file) vs the in-memory one.

    python bench/bench_shared_pacing.py [--n 200 --rate 25 --latency-ms 30]

Prints writes/s of both writers together as a share of the ceiling, and the 429 share of requests.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bulkio.client import LightfieldClient
from bulkio.operations import Operation
from bulkio.ratelimit import Pacer, RateLimit, SharedPacer
from bulkio.sandbox import SandboxServer
from bulkio.write import write_operations


def run_pair(sb: SandboxServer, n: int, rate: float, latency: float, pace_dir: Path | None) -> dict[str, Any]:
    org = sb.create_org(seed="demo", records=False)
    sb.set_rate_limit(org.org_id, per_second=rate)
    sb.set_faults(org.org_id, latency_ms=latency, jitter_ms=latency / 3)
    clients = [LightfieldClient(api_key=org.api_key, base_url=sb.url, pace_dir=pace_dir) for _ in range(2)]
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        ops = [
            Operation(
                row=r + 2,
                action="create",
                object_type="account",
                body={"fields": {"$name": f"P{i}-{r}", "external_id": f"P{i}-{r:05d}"}},
            )
            for r in range(n)
        ]
        try:
            for _ in write_operations(clients[i], ops, concurrency=8):
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t0 = time.monotonic()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for c in clients:
        c.close()
    stats = sb.stats(org.org_id)
    limited = stats["by_status"].get(429, 0)
    return {
        "writes/s": round(2 * n / elapsed, 2),
        "pct_ceiling": round(100 * 2 * n / elapsed / rate, 1),
        "429s": limited,
        "pct_429": round(100 * limited / max(1, stats["requests"]), 1),
        "errors": len(errors),
    }


def reserve_cost(tmp: Path, k: int = 20000) -> tuple[float, float]:
    fast = RateLimit(per_second=1e9, burst=1e9, headroom=1.0)
    local = Pacer("write", fast)
    shared = SharedPacer("write", fast, directory=tmp, target="bench#x")
    out = []
    for p in (local, shared):
        t0 = time.perf_counter()
        for _ in range(k):
            p.reserve()
        out.append((time.perf_counter() - t0) / k * 1e6)
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200, help="creates per writer")
    ap.add_argument("--rate", type=float, default=25.0)
    ap.add_argument("--latency-ms", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(profile="strict") as sb:
        base = run_pair(sb, args.n, args.rate, args.latency_ms, None)
        shared = run_pair(sb, args.n, args.rate, args.latency_ms, Path(tmp) / "state")
        local_us, shared_us = reserve_cost(Path(tmp) / "cost")
    print(f"two writers x {args.n} creates, org limit {args.rate:g}/s, {args.latency_ms:g} ms latency")
    print(f"{'':24s}{'writes/s':>10s}{'% ceiling':>11s}{'429s':>7s}{'% 429':>8s}{'errors':>8s}")
    for name, r in (("one bucket per client", base), ("shared bucket (bulkio)", shared)):
        print(
            f"{name:24s}{r['writes/s']:>10}{r['pct_ceiling']:>11}{r['429s']:>7}{r['pct_429']:>8}{r['errors']:>8}"
        )
    print(f"reserve(): {local_us:.1f} µs in memory, {shared_us:.1f} µs shared ({shared_us / local_us:.0f}×)")


if __name__ == "__main__":
    main()
