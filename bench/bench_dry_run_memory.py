"""Peak memory of a dry run over a large CSV (target: 1,000,000 rows under 500 MB).

Generates an account CSV with N rows, then measures, each in a fresh subprocess so peaks don't mix:
  * bulkio: ``import_file(path, "account", dry_run=True)`` against a sandbox org (read, map, validate,
    resolve, plan, and the results CSV for every row);
  * baseline: ``pandas.read_csv(chunksize=10_000)`` over the same file, the fair streaming baseline
    (no validation at all; each chunk is dropped before the next);
  * for reference: ``pandas.read_csv`` of the whole file at once.
Prints wall time, rows/s and peak RSS of each, and bulkio's ratio to the chunked baseline.

    python bench/bench_dry_run_memory.py            # --n 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADERS = [
    "Name",
    "external_id",
    "Tier",
    "Annual Revenue",
    "Employee Count",
    "Is Customer",
    "Billing Email",
    "City",
    "Country",
    "Owner",
]
TIERS = ["Strategic", "enterprise", "Mid-Market", "SMB"]
OWNERS = ["ava@demo.lightfield.test", "Ben Seller", "cleo@demo.lightfield.test", ""]


def make_csv(path: Path, n: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for i in range(n):
            w.writerow(
                [
                    f"Company {i:07d}",
                    f"BENCH-{i:07d}",
                    rng.choice(TIERS),
                    f"{rng.randint(1, 9_999_999):,}",
                    rng.randint(1, 5000),
                    rng.choice(["yes", "no", ""]),
                    f"billing{i}@example.com",
                    "Berlin",
                    "DE",
                    rng.choice(OWNERS),
                ]
            )


CHILD_BULKIO = """
import json, resource, sys, time
from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file
from bulkio.sandbox import SandboxServer
path, results, db = sys.argv[1], sys.argv[2], sys.argv[3]
with SandboxServer(db_path=db, seed="demo") as sb:
    org = sb.create_org(seed="demo", records=False)
    sb.set_rate_limit(org.org_id, per_second=1000, burst=1000)
    with LightfieldClient(api_key=org.api_key, base_url=sb.url) as client:
        t = time.perf_counter()
        report = import_file(path, "account", client=client, dry_run=True, results_path=results)
        took = time.perf_counter() - t
print(json.dumps({"seconds": took, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "counts": report.counts.model_dump()}))
"""

CHILD_PANDAS = """
import json, resource, sys, time
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
took = time.perf_counter() - t
print(json.dumps({"seconds": took, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": len(df)}))
"""


CHILD_PANDAS_CHUNKED = """
import json, resource, sys, time
import pandas as pd
t = time.perf_counter()
rows = 0
for chunk in pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False, chunksize=10_000):
    rows += len(chunk)
took = time.perf_counter() - t
print(json.dumps({"seconds": took, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": rows}))
"""


def run_child(code: str, *args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "accounts.csv"
        t = time.perf_counter()
        make_csv(src, args.n)
        print(
            f"generated {args.n:,} rows ({src.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s"
        )
        whole = run_child(CHILD_PANDAS, str(src))
        base = run_child(CHILD_PANDAS_CHUNKED, str(src))
        ours = run_child(CHILD_BULKIO, str(src), str(Path(tmp) / "results.csv"), str(Path(tmp) / "sb.db"))

    def mb(r: dict[str, object]) -> float:
        return int(str(r["maxrss_kb"])) / 1024  # Linux reports KiB

    print(f"\n{'run':<40}{'seconds':>10}{'rows/s':>12}{'peak RSS MB':>14}")
    for name, r in (
        ("pandas.read_csv chunksize=10k (baseline)", base),
        ("pandas.read_csv whole file (reference)", whole),
        ("bulkio dry run", ours),
    ):
        print(f"{name:<40}{r['seconds']:>10.1f}{args.n / float(r['seconds']):>12,.0f}{mb(r):>14.0f}")
    print(
        f"\npeak RSS bulkio / pandas chunked: {mb(ours) / mb(base):.2f}x, / pandas whole file: "
        f"{mb(ours) / mb(whole):.2f}x   (target: bulkio < 500 MB)"
    )
    print(f"counts: {ours['counts']}")


if __name__ == "__main__":
    main()
