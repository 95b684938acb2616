"""Sandbox throughput: writes/s and list pages/s for one org, against a no-op baseline.

Run: ``python bench/bench_sandbox.py [N_OPPORTUNITIES]``. Prints absolute rates and each as a ratio
of the baseline (``GET /v1/auth/validate`` on the same connection pool, measured in the same run),
so numbers compare across machines. Rate limits are lifted for the bench org.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bulkio.sandbox import SandboxServer


def rate(fn, n: int, workers: int = 4) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fn, range(n)))
    return n / (time.perf_counter() - start)


def main(n_opps: int = 10_000) -> None:
    with SandboxServer(seed="demo", rate_limit=1e9) as sb:
        org = sb.create_org(records=False)
        headers = {"Authorization": f"Bearer {org.api_key}", "Lightfield-Version": "2026-03-01"}
        with httpx.Client(base_url=sb.url, headers=headers, limits=httpx.Limits(max_connections=8)) as c:
            acc = c.post("/v1/accounts", json={"fields": {"$name": "Bench"}}).json()["id"]
            base = rate(lambda i: c.get("/v1/auth/validate").raise_for_status(), 300)

            def write(i: int) -> None:
                c.post(
                    "/v1/opportunities",
                    headers={"Idempotency-Key": f"b-{i}"},
                    json={
                        "fields": {
                            "$name": f"Deal {i}",
                            "$stage": "Lead",
                            "amount": i,
                            "external_id": f"B-{i}",
                        },
                        "relationships": {"$account": acc},
                    },
                ).raise_for_status()

            t0 = time.perf_counter()
            writes = rate(write, n_opps)
            fill = time.perf_counter() - t0
            pages = rate(
                lambda i: c.get(
                    "/v1/opportunities", params={"offset": (i * 25) % n_opps, "limit": 25}
                ).raise_for_status(),
                300,
            )
            filt = rate(
                lambda i: c.get(
                    "/v1/opportunities", params={"external_id[equal]": f"B-{i}"}
                ).raise_for_status(),
                300,
            )
            scan = rate(
                lambda i: c.get(
                    "/v1/opportunities", params={"$name[startsWith]": f"Deal {i}"}
                ).raise_for_status(),
                60,
            )
            total = c.get("/v1/opportunities", params={"limit": 1}).json()["totalCount"]
    print(f"opportunities stored: {total} (filled in {fill:.1f}s)")
    print(f"baseline auth.validate : {base:8.1f} req/s  (1.00)")
    print(f"create opportunity     : {writes:8.1f} req/s  ({writes / base:.2f})")
    print(f"list page (25)         : {pages:8.1f} req/s  ({pages / base:.2f})")
    print(f"filtered list (equal)  : {filt:8.1f} req/s  ({filt / base:.2f})  unique-index lookup")
    print(f"filtered list (scan)   : {scan:8.1f} req/s  ({scan / base:.2f})  startsWith over all rows")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
