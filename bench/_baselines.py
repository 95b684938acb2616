"""Fair baselines shared by the write benchmarks.

* :func:`sdk_creates`: the official ``lightfield`` SDK creating the same accounts **on the same
  number of threads** as bulkio (one shared client, its default retries), on a fresh org with the
  same limits: the comparison a user would make. It reports the 429 answers it drew and the rows it
  never created (retries exhausted), not only its speed.
* :func:`steady_pct`: share of the write ceiling reached *without* the server's initial burst. The
  sandbox's bucket starts full (``burst`` tokens), so the first ``burst`` writes cost no time and
  lift a plain writes/s figure above what the limit allows; ``(done - burst) / seconds`` is what the
  client sustains.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def steady_pct(done: int, seconds: float, rate: float, burst: int) -> float:
    """Percent of ``rate`` sustained after the first ``burst`` writes."""
    if seconds <= 0:
        return 0.0
    return 100.0 * max(done - burst, 0) / seconds / rate


def sdk_creates(sandbox: Any, org: Any, n: int, threads: int, prefix: str) -> dict[str, Any]:
    """Create ``n`` accounts with the official SDK from ``threads`` threads; server-side counts."""
    import lightfield

    sdk = lightfield.Lightfield(api_key=org.api_key, base_url=sandbox.url)
    errors: list[str] = []

    def make(i: int) -> None:
        try:
            sdk.account.create(fields={"$name": f"{prefix} {i}", "external_id": f"{prefix}-{i}"})
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

    def update(i: int) -> None:
        try:
            sdk.account.update(ids[i], fields={"employeeCount": i + 1})
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
        "updated": len(ids) - len(errors),
        "not_updated": len(errors),
        "requests": int(after["requests"]) - int(before["requests"]),
        "429": int(after["by_status"].get(429, 0)) - int(before["by_status"].get(429, 0)),
    }
