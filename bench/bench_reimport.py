"""Re-import of 1,000 unchanged rows (issue 13: ≤ 1.05× a hand-written pandas + httpx script that
sends the same requests).

N accounts (name, website, tier, employee count, annual revenue, customer flag, external id) are
created in a sandbox org; then the same rows, as a CSV a user would re-import, go through:

* **bulkio**: ``import_file(path, "account", client=…)``, a real import (not a dry run): the
  ledger, the results file, the plan (one scan of the accounts, compared field by field), 0 writes;
* **baseline**: a hand-written script: ``pandas.read_csv``, ``httpx`` GETs the definitions (for
  the tier's option ids) and pages through every account (25 a page, as the API allows), compares
  each row with its record, and would PATCH what differs (nothing does).

Each run is a fresh process (the sandbox runs in this one), timed after its imports and with them,
against the org's read limit and ``--latency-ms`` ± ``--jitter-ms`` of added
latency per request, runs alternating, ``--repeat`` times; the table shows the medians.

    python bench/bench_reimport.py            # --n 1000 --latency-ms 150 --jitter-ms 50 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TIERS = ["Strategic", "Enterprise", "Mid-Market", "SMB"]

CHILD_BULKIO = """
import json, sys, time
t0 = time.perf_counter()
from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file
path, results, ledger, url, key = sys.argv[1:6]
t1 = time.perf_counter()
with LightfieldClient(api_key=key, base_url=url) as client:
    report = import_file(path, "account", client=client, results_path=results, ledger_path=ledger)
t2 = time.perf_counter()
print(json.dumps({"work": t2 - t1, "imports": t1 - t0, "counts": report.counts.model_dump(),
                  "requests": client.stats.requests}))
"""

CHILD_BASELINE = """
import json, sys, time
t0 = time.perf_counter()
import httpx
import pandas as pd
path, url, key = sys.argv[1:4]
t1 = time.perf_counter()
headers = {"Authorization": f"Bearer {key}", "Lightfield-Version": "2026-03-01"}
requests = writes = 0
with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
    def call(method, path, **kw):
        global requests
        while True:
            requests += 1
            r = http.request(method, path, **kw)
            if r.status_code != 429:
                r.raise_for_status()
                return r.json()
            time.sleep(float(r.headers.get("Retry-After", "1")))
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    defs = call("GET", "/v1/accounts/definitions")["fieldDefinitions"]
    tier_ids = {o["label"].lower(): o["id"] for o in defs["tier"]["typeConfiguration"]["options"]}
    by_key, offset = {}, 0
    while True:
        page = call("GET", "/v1/accounts", params={"offset": offset, "limit": 25})["data"]
        for rec in page:
            ext = (rec["fields"].get("external_id") or {}).get("value")
            if ext:
                by_key[ext] = rec
        if len(page) < 25:
            break
        offset += 25
    for row in df.to_dict("records"):
        want = {
            "$name": row["Name"],
            "$website": [row["Website"]] if row["Website"] else None,  # URL fields hold a list
            "tier": tier_ids.get(row["Tier"].lower()) if row["Tier"] else None,
            "employeeCount": float(row["Employee Count"]) if row["Employee Count"] else None,
            "annualRevenue": float(row["Annual Revenue"]) if row["Annual Revenue"] else None,
            "isCustomer": row["Is Customer"].lower() == "true",
        }
        rec = by_key.get(row["External ID"])
        if rec is None:
            call("POST", "/v1/accounts", json={"fields": {**want, "external_id": row["External ID"]}})
            writes += 1
            continue
        have = {k: (rec["fields"].get(k) or {}).get("value") for k in want}
        changed = {k: v for k, v in want.items() if have[k] != v and not (v is None and have[k] in (None, False, []))}
        if changed:
            call("POST", f"/v1/accounts/{rec['id']}", json={"fields": changed})
            writes += 1
t2 = time.perf_counter()
print(json.dumps({"work": t2 - t1, "imports": t1 - t0, "requests": requests, "writes": writes,
                  "rows": len(df)}))
"""


def run_child(code: str, *args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)

    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--latency-ms", type=float, default=150.0)
    ap.add_argument("--jitter-ms", type=float, default=50.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from bulkio.client import LightfieldClient
    from bulkio.ratelimit import UNLIMITED
    from bulkio.sandbox import SandboxServer

    n = args.n
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(seed="demo", db_path=Path(tmp) / "sb.db") as sb:
        org = sb.create_org(seed="demo", records=False)
        sb.set_rate_limit(org.org_id, per_second=1e6, burst=1_000_000)
        sb.set_faults(org.org_id, index_lag_ms=0)  # lists show what was just written (no lag to wait out)
        rows = [
            [
                f"Bench Co {i:05d}",
                f"https://co{i}.example.com" if i % 4 else "",
                TIERS[i % 4] if i % 5 else "",
                str(10 + i),
                f"{1000 * i + 0.5}" if i % 3 else "",
                "true" if i % 2 else "false",
                f"BENCH-{i:05d}",
            ]
            for i in range(n)
        ]
        with LightfieldClient(api_key=org.api_key, base_url=sb.url, rate_limit=UNLIMITED) as lf:
            tier_ids = {o.label: o.id for o in lf.schema("account").fields["tier"].options}

            def create(r: list[str]) -> None:
                fields: dict[str, object] = {"$name": r[0], "employeeCount": int(r[3]), "external_id": r[6]}
                fields["isCustomer"] = r[5] == "true"
                if r[1]:
                    fields["$website"] = r[1]
                if r[2]:
                    fields["tier"] = tier_ids[r[2]]
                if r[4]:
                    fields["annualRevenue"] = float(r[4])
                lf.create("account", {"fields": fields}, idempotency_key=r[6])

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(create, rows))
        src = Path(tmp) / "accounts.csv"
        with src.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(
                ["Name", "Website", "Tier", "Employee Count", "Annual Revenue", "Is Customer", "External ID"]
            )
            w.writerows(rows)
        sb.set_rate_limit(org.org_id, per_second=25)  # the API's limits, as a user meets them
        sb.set_faults(org.org_id, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms)
        writes_before = int(sb.stats(org.org_id)["writes"])
        ours: list[dict[str, object]] = []
        base: list[dict[str, object]] = []
        for i in range(args.repeat):
            time.sleep(1.0)  # a full bucket for each run
            base.append(run_child(CHILD_BASELINE, str(src), sb.url, org.api_key))
            time.sleep(1.0)
            ours.append(
                run_child(
                    CHILD_BULKIO,
                    str(src),
                    str(Path(tmp) / f"results{i}.csv"),
                    str(Path(tmp) / f"ledger{i}.sqlite3"),
                    sb.url,
                    org.api_key,
                )
            )
        writes_after = int(sb.stats(org.org_id)["writes"])

    def med(runs: list[dict[str, object]], k: str) -> float:
        return statistics.median(float(str(r[k])) for r in runs)

    def whole(runs: list[dict[str, object]]) -> float:
        return statistics.median(float(str(r["work"])) + float(str(r["imports"])) for r in runs)

    print(
        f"{n:,} unchanged accounts; read limit 25/s, latency {args.latency_ms:g}±{args.jitter_ms:g} ms; "
        f"medians of {args.repeat} alternating runs, each a fresh process\n"
    )
    print(f"{'run':<44}{'work s':>8}{'+ imports s':>13}{'requests':>10}{'writes':>8}")
    for name, runs in (
        ("baseline: pandas + httpx script", base),
        ("bulkio import_file (ledger, results)", ours),
    ):
        writes = runs[0].get("writes", "0")
        print(
            f"{name:<44}{med(runs, 'work'):>8.2f}{whole(runs):>13.2f}{runs[0]['requests']!s:>10}{writes!s:>8}"
        )
    print(
        f"\nbulkio / baseline: {med(ours, 'work') / med(base, 'work'):.3f}× the wall time after imports, "
        f"{whole(ours) / whole(base):.3f}× with imports (target ≤ 1.05×); bulkio counts "
        f"{ours[0]['counts']}; the sandbox saw {writes_after - writes_before} writes in these runs"
    )


if __name__ == "__main__":
    main()
