"""Write throughput of ``bulkio.write.write_operations`` (with its durable ledger) against the
sandbox's write ceiling, next to the official SDK on the same number of threads, in the same run.

    python bench/bench_import_write.py            # --n 500 --rate 25 --latency-ms 150 --concurrency 8

Each on a fresh org (rate limit ``--rate``/s, latency ``--latency-ms`` ± ``--jitter-ms``):

1. baseline: the official ``lightfield`` SDK, ``--n`` creates then an update of each, from
   ``--concurrency`` threads (one client, its default retries): rows not written and 429s counted;
2. ``write_operations``: ``--n`` creates, then ``--n`` updates of those records, with a ledger;
3. for reference: a one-at-a-time loop with bulkio's client (``--baseline-n`` creates).

Prints writes/s, % of the ceiling, % sustained after the server's initial burst (target ≥95%), the
429 fraction (target ≤1%), rows not written, and bulkio's speed over the SDK on the same threads.
Nothing is asserted; read the numbers on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _baselines import sdk_creates, sdk_updates, steady_pct

from bulkio.client import LightfieldClient, RetryPolicy
from bulkio.ledger import Ledger
from bulkio.operations import Operation
from bulkio.sandbox import SandboxServer
from bulkio.write import write_operations


def _creates(n: int, prefix: str, start: int = 2) -> list[Operation]:
    return [
        Operation(
            row=row,
            action="create",
            object_type="account",
            key=f"{prefix}-{row}",
            body={
                "fields": {
                    "$name": f"Bench {prefix} {row}",
                    "external_id": f"{prefix}-{row}",
                    "employeeCount": row,
                }
            },
        )
        for row in range(start, start + n)
    ]


def _phase(
    name: str,
    n: int,
    seconds: float,
    args: argparse.Namespace,
    requests: int,
    limited: int,
    not_written: int,
    times: list[float],
    start: float,
    baseline: float | None = None,
) -> dict[str, Any]:
    done = n - not_written
    rate = done / seconds if seconds else 0.0
    row: dict[str, Any] = {
        "phase": name,
        "writes": done,
        "seconds": round(seconds, 2),
        "writes_per_s": round(rate, 2),
        "pct_of_ceiling": round(100 * rate / args.rate, 1),
        "pct_steady": round(steady_pct(times, args.rate, max(int(args.rate), 1), start), 1),
        "requests": requests,
        "429s": limited,
        "pct_429": round(100 * limited / requests, 2) if requests else 0.0,
        "not_written": not_written,
    }
    if baseline:
        row["x_sdk"] = round(rate / baseline, 2)
    return row


def _client_phase(
    name: str, n: int, seconds: float, args: argparse.Namespace, before: Any, after: Any, **kw: Any
) -> dict[str, Any]:
    return _phase(
        name,
        n,
        seconds,
        args,
        after.requests - before.requests,
        after.by_status.get(429, 0) - before.by_status.get(429, 0),
        **kw,
    )


def timed(outcomes: Any) -> tuple[list[Any], list[float]]:
    """The outcomes, and when each successful one arrived (for the steady rate)."""
    out, times = [], []
    for o in outcomes:
        out.append(o)
        if o.outcome in ("created", "updated"):
            times.append(time.perf_counter())
    return out, times


def _org(sandbox: SandboxServer, args: argparse.Namespace) -> Any:
    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=args.rate)
    sandbox.set_faults(org.org_id, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms)
    return org


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500, help="creates (and then updates) via write_operations")
    ap.add_argument("--baseline-n", type=int, default=100, help="creates in the sequential baseline")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rate", type=float, default=25.0, help="sandbox write limit per second")
    ap.add_argument("--latency-ms", type=float, default=150.0)
    ap.add_argument("--jitter-ms", type=float, default=50.0)
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(db_path=Path(tmp) / "sandbox.sqlite3", seed="demo") as sandbox,
    ):
        rows = []
        # 1. the fair baseline: the official SDK on the same number of threads, its own org
        sdk_org = _org(sandbox, args)
        c = sdk_creates(sandbox, sdk_org, args.n, args.concurrency, "SDK")
        sdk_create = _phase(
            f"SDK creates ({args.concurrency} threads)",
            args.n,
            c["seconds"],
            args,
            c["requests"],
            c["429"],
            c["not_created"],
            c["times"],
            c["start"],
        )
        time.sleep(1.0)  # let the server's bucket refill so each phase starts alike
        u = sdk_updates(sandbox, sdk_org, args.concurrency)
        sdk_update = _phase(
            f"SDK updates ({args.concurrency} threads)",
            u["updated"] + u["not_updated"],
            u["seconds"],
            args,
            u["requests"],
            u["429"],
            u["not_updated"],
            u["times"],
            u["start"],
        )
        rows += [sdk_create, sdk_update]

        org = _org(sandbox, args)
        with (
            LightfieldClient(
                api_key=org.api_key, base_url=sandbox.url, retry=RetryPolicy(max_attempts=10)
            ) as client,
            Ledger(Path(tmp) / "ledger.sqlite3") as ledger,
        ):
            # 2. write_operations: creates then updates, with the durable ledger
            target = f"{client.base_url}#{client.key_fingerprint}"
            run = ledger.start_run(
                input_path="bench.csv",
                input_fingerprint="bench",
                object_type="account",
                target=target,
                options={},
            )
            ops = _creates(args.n, "WO", start=10_000)
            before = client.stats
            t0 = time.perf_counter()
            outcomes, times = timed(
                write_operations(client, ops, ledger=ledger, run_id=run, concurrency=args.concurrency)
            )
            failed = [o for o in outcomes if o.outcome != "created"]
            rows.append(
                _client_phase(
                    "write_operations creates",
                    len(ops),
                    time.perf_counter() - t0,
                    args,
                    before,
                    client.stats,
                    not_written=len(failed),
                    times=times,
                    start=t0,
                    baseline=sdk_create["writes_per_s"],
                )
            )
            time.sleep(1.0)
            updates = [
                Operation(
                    row=o.row,
                    action="update",
                    object_type="account",
                    record_id=o.record_id,
                    key=o.key,
                    body={"fields": {"employeeCount": o.row + 1}},
                )
                for o in outcomes
                if o.record_id
            ]
            before = client.stats
            t0 = time.perf_counter()
            run2 = ledger.start_run(
                input_path="bench.csv",
                input_fingerprint="bench2",
                object_type="account",
                target=target,
                options={},
            )
            done, times = timed(
                write_operations(client, updates, ledger=ledger, run_id=run2, concurrency=args.concurrency)
            )
            not_updated = [o for o in done if o.outcome != "updated"]
            rows.append(
                _client_phase(
                    "write_operations updates",
                    len(updates),
                    time.perf_counter() - t0,
                    args,
                    before,
                    client.stats,
                    not_written=len(not_updated),
                    times=times,
                    start=t0,
                    baseline=sdk_update["writes_per_s"],
                )
            )
            failed += not_updated
            ledger.finish_run(run)
            ledger.finish_run(run2)
            time.sleep(1.0)

            # 3. for reference: one request at a time, same client
            ops = _creates(args.baseline_n, "SEQ")
            before = client.stats
            t0 = time.perf_counter()
            times = []
            for op in ops:
                client.create("account", op.body or {}, idempotency_key=f"seq-{op.row}")
                times.append(time.perf_counter())
            rows.append(
                _client_phase(
                    "sequential loop (creates)",
                    len(ops),
                    time.perf_counter() - t0,
                    args,
                    before,
                    client.stats,
                    not_written=0,
                    times=times,
                    start=t0,
                )
            )
        count = sandbox.count(org.org_id, "account")

    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(
            f"sandbox: write limit {args.rate:g}/s, latency {args.latency_ms:g}±{args.jitter_ms:g} ms; "
            f"concurrency {args.concurrency}"
        )
        header = [
            "phase",
            "writes",
            "seconds",
            "writes_per_s",
            "pct_of_ceiling",
            "pct_steady",
            "429s",
            "pct_429",
            "not_written",
            "x_sdk",
        ]
        widths = [max(len(h), *(len(str(r.get(h, ""))) for r in rows)) for h in header]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for r in rows:
            print("  ".join(str(r.get(h, "")).ljust(w) for h, w in zip(header, widths, strict=True)))
    expected = args.baseline_n + args.n
    print(f"records in sandbox: {count} (expected {expected}); failed outcomes: {len(failed)}")


if __name__ == "__main__":
    main()
