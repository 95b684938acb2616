"""``bulkio migrate --from close --to lightfield`` at the real (sandbox) rate limits: wall time against
the least time the two limits allow.

Starts both sandboxes. The Close org is seeded with ``--seed`` (``big``: 500 leads, 1,500 contacts,
2,000 opportunities) at Close's default limits (``--close-rate`` requests/s per endpoint group over an
8 s bucket); the Lightfield org is empty at ``--lf-rate`` writes/s (Lightfield's 25/s per category),
both answering after ``--latency-ms``. Then :func:`bulkio.migrate.migrate` runs once (every record
created) and again (nothing to write).

The floor is the sum of the two limits' minimums: Close's reads (every list page, at its read rate
after the bucket's burst) plus Lightfield's writes (one create per record at the write rate, after
its burst). Reads on the Lightfield side (scans for the upsert key, 25 records a page) use the Search
category, which runs beside the writes, so they add nothing to the floor. Nothing is asserted.

    python bench/bench_migrate.py --seed big
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bulkio.client import LightfieldClient
from bulkio.crm.close import CloseBackend
from bulkio.crm.close.backend import PAGE_SIZES
from bulkio.crm.close.sandbox import CloseSandboxServer
from bulkio.migrate import migrate
from bulkio.sandbox import SandboxServer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default="big", help="Close seed: big (4,000 records) or demo (56)")
    ap.add_argument("--close-rate", type=float, default=20.0)
    ap.add_argument("--lf-rate", type=float, default=25.0)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        CloseSandboxServer(db_path=Path(tmp) / "c.sqlite3", seed="empty") as csb,
        SandboxServer(db_path=Path(tmp) / "lf.sqlite3", seed="demo") as lsb,
    ):
        corg = csb.create_org(seed=args.seed)
        csb.set_rate_limit(corg.org_id, per_second=args.close_rate)
        csb.set_faults(corg.org_id, latency_ms=args.latency_ms)
        lorg = lsb.create_org(seed="demo", records=False)
        lsb.set_rate_limit(lorg.org_id, per_second=args.lf_rate)
        lsb.set_faults(lorg.org_id, latency_ms=args.latency_ms)
        counts = {t: csb.count(corg.org_id, t) for t in ("lead", "contact", "opportunity")}
        runs: list[tuple[str, float, Any, dict[str, Any], dict[str, Any]]] = []
        with (
            CloseBackend(api_key=corg.api_key, base_url=csb.api_url) as close,
            LightfieldClient(api_key=lorg.api_key, base_url=lsb.url) as lf,
        ):

            def create(t: str, k: str, d: dict[str, Any]) -> bool:
                return lsb.add_field(lorg.org_id, t, k, d)

            for name in ("first run", "second run"):
                c0, l0 = csb.stats(corg.org_id)["requests"], lsb.stats(lorg.org_id)
                start = time.perf_counter()
                report = migrate(
                    close,
                    lf,
                    create_field=create,
                    ledger_path=Path(tmp) / "l.db",
                    concurrency=args.concurrency,
                )
                elapsed = time.perf_counter() - start
                l1 = lsb.stats(lorg.org_id)
                runs.append(
                    (
                        name,
                        elapsed,
                        report,
                        {"close": csb.stats(corg.org_id)["requests"] - c0},
                        {"l0": l0, "l1": l1},
                    )
                )

    records = sum(counts.values())
    pages = sum(math.ceil(n / PAGE_SIZES[t]) for t, n in counts.items())
    close_burst = round(args.close_rate * 8)
    close_floor = max(0.0, pages - close_burst) / args.close_rate
    lf_floor = max(0.0, records - args.lf_rate) / args.lf_rate  # Lightfield's bucket bursts `rate`
    floor = close_floor + lf_floor
    print(
        f"\nClose {counts} at {args.close_rate:g}/s per group; Lightfield writes at {args.lf_rate:g}/s; "
        f"latency {args.latency_ms:g} ms"
    )
    print(
        f"floor: Close reads {pages} list pages → {close_floor:.1f} s (bucket {close_burst}) + Lightfield "
        f"{records} creates → {lf_floor:.1f} s = {floor:.1f} s\n"
    )
    head = f"{'run':12} {'wall s':>8} {'created':>8} {'unchanged':>10} {'failed':>7} {'Close req':>10} {'vs floor':>9}"
    print(head)
    print("-" * len(head))
    for name, elapsed, report, close_req, _ in runs:
        created = sum(c["created"] for c in report.counts.values())
        unchanged = sum(c["unchanged"] for c in report.counts.values())
        failed = sum(c["failed"] for c in report.counts.values())
        ratio = f"{elapsed / floor:.2f}x" if name == "first run" and floor > 0 else ""
        print(
            f"{name:12} {elapsed:8.1f} {created:8d} {unchanged:10d} {failed:7d} {close_req['close']:10d} {ratio:>9}"
        )
    first = runs[0][1]
    print(
        f"\nfirst run: {100 * floor / first:.1f}% of the pace the two rate limits allow (wall time {first:.1f} s)"
    )


if __name__ == "__main__":
    main()
