"""Fair baselines shared by the write benchmarks.

* :func:`sdk_creates`: the official ``lightfield`` SDK creating the same accounts **on the same
  number of threads** as bulkio (one shared client, its default retries), on a fresh org with the
  same limits: the comparison a user would make. It reports the 429 answers it drew and the rows it
  never created (retries exhausted), not only its speed.
* :func:`steady_pct`: share of the write ceiling sustained *after* the server's initial burst. The
  sandbox's bucket starts full (``burst`` tokens), so a client can land the first ``burst`` writes
  at once, which lifts a plain writes/s figure above what the limit allows. The steady rate leaves
  out the first ``2 × burst / rate`` seconds (2 s at 25/s: any client has spent the burst by then)
  and counts the writes completed in the rest of the run.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def steady_pct(times: list[float], rate: float, burst: int, start: float) -> float:
    """Percent of ``rate`` sustained once the burst is spent: the writes completed after
    ``start + 2 × burst / rate`` seconds, over that window (``times``: completion time of every
    successful write, ``start``: when the run began, same clock)."""
    if rate <= 0 or not times:
        return 0.0
    since = start + 2 * burst / rate
    after = [t for t in times if t > since]
    span = max(times) - since
    return 100.0 * len(after) / span / rate if span > 0 and after else 0.0


def sdk_creates(sandbox: Any, org: Any, n: int, threads: int, prefix: str) -> dict[str, Any]:
    """Create ``n`` accounts with the official SDK from ``threads`` threads; server-side counts."""
    import lightfield

    sdk = lightfield.Lightfield(api_key=org.api_key, base_url=sandbox.url)
    errors: list[str] = []
    times: list[float] = []

    def make(i: int) -> None:
        try:
            sdk.account.create(fields={"$name": f"{prefix} {i}", "external_id": f"{prefix}-{i}"})
            times.append(time.perf_counter())
        except Exception as exc:  # noqa: BLE001 - counted, not raised, in a benchmark
            errors.append(type(exc).__name__)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, range(n)))
    seconds = time.perf_counter() - t0
    sdk.close()
    stats = sandbox.stats(org.org_id)
    created = int(sandbox.count(org.org_id, "account"))
    return {
        "name": f"official SDK ({threads} threads)",
        "seconds": seconds,
        "start": t0,
        "times": times,
        "created": created,
        "not_created": n - created,
        "errors": len(errors),
        "error_types": sorted(set(errors)),
        "requests": int(stats["requests"]),
        "429": int(stats["by_status"].get(429, 0)),
    }


def sdk_updates(sandbox: Any, org: Any, threads: int) -> dict[str, Any]:
    """Update every account of ``org`` once with the official SDK from ``threads`` threads; counts the
    requests and 429s drawn from here on, and the updates that never landed."""
    import lightfield

    ids = [r["id"] for r in sandbox.records(org.org_id, "account")]
    sdk = lightfield.Lightfield(api_key=org.api_key, base_url=sandbox.url)
    before = sandbox.stats(org.org_id)
    errors: list[str] = []
    times: list[float] = []

    def update(i: int) -> None:
        try:
            sdk.account.update(ids[i], fields={"employeeCount": i + 1})
            times.append(time.perf_counter())
        except Exception as exc:  # noqa: BLE001 - counted, not raised, in a benchmark
            errors.append(type(exc).__name__)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(update, range(len(ids))))
    seconds = time.perf_counter() - t0
    sdk.close()
    after = sandbox.stats(org.org_id)
    return {
        "name": f"official SDK ({threads} threads)",
        "seconds": seconds,
        "start": t0,
        "times": times,
        "updated": len(ids) - len(errors),
        "not_updated": len(errors),
        "requests": int(after["requests"]) - int(before["requests"]),
        "429": int(after["by_status"].get(429, 0)) - int(before["by_status"].get(429, 0)),
    }
