"""Close sandbox throughput: creates/s, list pages/s and searches/s, against a no-op baseline.

Run: ``python bench/bench_close_sandbox.py [N_OPPORTUNITIES]``. Prints absolute rates and each as a
ratio of the baseline (``GET /me/`` on the same connection pool, measured in the same run), so
numbers compare across machines. Rate limits are lifted for the bench org; the pages are read from
an org holding N opportunities, each page with the full aggregate block Close computes.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bulkio.crm.close.sandbox import CloseSandboxServer


def rate(fn: Any, n: int, workers: int = 4) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fn, range(n)))
    return n / (time.perf_counter() - start)


def main(n_opps: int = 5_000) -> None:
    with CloseSandboxServer(seed="empty") as sb:
        org = sb.create_org(seed="empty")
        sb.set_rate_limit(org.org_id, per_second=1e6, search_per_second=1e6)
        limits = httpx.Limits(max_connections=8)
        with httpx.Client(base_url=sb.api_url, auth=(org.api_key, ""), limits=limits) as c:
            lead = c.post("/lead/", json={"name": "Bench"}).json()["id"]
            base = rate(lambda i: c.get("/me/").raise_for_status(), 300)

            def create(i: int) -> None:
                c.post(
                    "/opportunity/",
                    json={
                        "lead_id": lead,
                        "value": 1000 + i,
                        "value_period": ("one_time", "monthly", "annual")[i % 3],
                        "confidence": i % 101,
                        "custom.cf_DemoOppExternalId": f"B-{i}",
                    },
                ).raise_for_status()

            t0 = time.perf_counter()
            creates = rate(create, n_opps)
            fill = time.perf_counter() - t0
            pages = rate(
                lambda i: c.get(
                    "/opportunity/", params={"_skip": (i * 100) % n_opps, "_limit": 100}
                ).raise_for_status(),
                100,
            )
            grouped = rate(
                lambda i: c.get(
                    "/opportunity/", params={"_group_by": "user_id", "_limit": 100}
                ).raise_for_status(),
                30,
            )
            searches = rate(
                lambda i: c.post(
                    "/data/search/",
                    json={
                        "query": {
                            "type": "field_condition",
                            "field": {"type": "custom_field", "custom_field_id": "cf_DemoOppExternalId"},
                            "condition": {"type": "term", "values": [f"B-{i}"]},
                        }
                    },
                ).raise_for_status(),
                30,
            )
            total = c.get("/opportunity/", params={"_limit": 0}).json()["total_results"]
    print(f"opportunities stored: {total} (filled in {fill:.1f}s)")
    print(f"baseline GET /me/           : {base:8.1f} req/s  (1.00)")
    print(f"create opportunity          : {creates:8.1f} req/s  ({creates / base:.2f})")
    print(f"list page (100, aggregates) : {pages:8.1f} req/s  ({pages / base:.2f})")
    print(f"grouped page (_group_by)    : {grouped:8.1f} req/s  ({grouped / base:.2f})")
    print(f"search by custom field      : {searches:8.1f} req/s  ({searches / base:.2f})  scans every record")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000)
