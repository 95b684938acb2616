"""Planning cost of an untouched re-import: N accounts already in the org, the same N rows imported
again as a dry run (0 writes expected). bulkio scans the object once (~N/25 list pages) instead of
looking every row up; the baseline is the naive find-or-create loop (one ``external_id[equal]``
filter request per row), measured on a sample of rows in the same run and extrapolated to N.

Both phases run at the sandbox's default rate limit (25 requests/s per category), like the real API;
seeding uses a raised limit. Usage: ``python bench/bench_plan.py [--n 10000] [--naive-sample 250]``.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file
from bulkio.ratelimit import UNLIMITED
from bulkio.sandbox import SandboxServer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--naive-sample", type=int, default=250)
    args = ap.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(seed="demo") as sb:
        org = sb.create_org(seed="demo", records=False)
        rows = [(f"Bench Co {i:05d}", f"BENCH-{i:05d}") for i in range(n)]
        # --- seed quickly: raised limit, unpaced client, 8 threads -----------------------------
        sb.set_rate_limit(org.org_id, per_second=1e6, burst=1_000_000)
        t0 = time.perf_counter()
        with (
            LightfieldClient(api_key=org.api_key, base_url=sb.url, rate_limit=UNLIMITED) as lf,
            ThreadPoolExecutor(8) as pool,
        ):
            list(
                pool.map(
                    lambda r: lf.create(
                        "account", {"fields": {"$name": r[0], "external_id": r[1]}}, idempotency_key=r[1]
                    ),
                    rows,
                )
            )
        print(f"seeded {sb.count(org.org_id, 'account')} accounts in {time.perf_counter() - t0:.1f} s")
        sb.set_rate_limit(org.org_id, per_second=25)
        src = Path(tmp) / "accounts.csv"
        with open(src, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["Name", "external_id"])
            w.writerows(rows)
        # --- bulkio: dry-run plan of the same rows ---------------------------------------------
        with LightfieldClient(api_key=org.api_key, base_url=sb.url) as lf:
            writes_before = sb.stats(org.org_id)["writes"]
            t0 = time.perf_counter()
            report = import_file(
                src,
                "account",
                client=lf,
                dry_run=True,
                results_path=Path(tmp) / "r.csv",
                ledger_path=Path(tmp) / "l.db",
            )
            bulkio_s = time.perf_counter() - t0
            assert sb.stats(org.org_id)["writes"] == writes_before
            bulkio_requests = report.requests
            # --- baseline: one filter request per row, on a sample -----------------------------
            sample = rows[: args.naive_sample]
            before = lf.stats.requests
            t0 = time.perf_counter()
            found = 0
            for _, key in sample:
                found += len(list(lf.list("account", filters={"external_id[equal]": key})))
            naive_sample_s = time.perf_counter() - t0
            naive_requests_sample = lf.stats.requests - before
        naive_s = naive_sample_s * n / len(sample)
        naive_requests = naive_requests_sample * n // len(sample)
        print(
            f"\nuntouched re-import of {n} rows (dry run): {report.counts.unchanged} unchanged, "
            f"{report.counts.created} create, {report.counts.failed} failed, 0 writes"
        )
        print(f"{'':24}{'requests':>10}{'seconds':>10}{'rows/s':>10}")
        print(f"{'bulkio plan (scan)':24}{bulkio_requests:>10}{bulkio_s:>10.1f}{n / bulkio_s:>10.0f}")
        print(
            f"{'naive per-row filter':24}{naive_requests:>10}{naive_s:>10.1f}{n / naive_s:>10.0f}"
            f"   (measured on {len(sample)} rows, {found} found, extrapolated)"
        )
        print(
            f"ratio: {naive_requests / max(1, bulkio_requests):.1f}x fewer requests, "
            f"{naive_s / bulkio_s:.1f}x faster"
        )


if __name__ == "__main__":
    main()
