"""Per-org rate limits (token buckets per category), idempotency in-flight tracking, fault switches.

Everything here is in memory: limits and faults are test/demo settings, not data, so they reset
when the server restarts (environment variables re-apply them to the default org).
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RATE = 25.0
CATEGORIES = ("Write", "Read", "Search")


@dataclass
class Bucket:
    """Token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    rate: float
    capacity: int
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.capacity)

    def _refill(self, now: float) -> None:
        self.tokens = min(float(self.capacity), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> tuple[bool, dict[str, str], float]:
        """Try to spend one token: (allowed, headers, seconds to wait when refused)."""
        now = time.monotonic()
        self._refill(now)
        wait = 0.0
        ok = self.tokens >= 1.0
        if ok:
            self.tokens -= 1.0
        else:
            wait = (1.0 - self.tokens) / self.rate
        full_in = (self.capacity - self.tokens) / self.rate
        headers = {
            "X-RateLimit-Limit": str(self.capacity),
            "X-RateLimit-Remaining": str(max(int(self.tokens), 0)),
            "X-RateLimit-Reset": str(math.ceil(time.time() + full_in)),
        }
        return ok, headers, wait


def default_burst(rate: float) -> int:
    """Bucket capacity when none is given: one second's worth of tokens (at least one)."""
    return max(int(rate), 1)


def limit_headers(capacity: int) -> dict[str, str]:
    """Headers for responses that spend no token (auth failures, version header)."""
    return {
        "X-RateLimit-Limit": str(capacity),
        "X-RateLimit-Remaining": str(capacity),
        "X-RateLimit-Reset": str(math.ceil(time.time())),
    }


def default_rate() -> float:
    raw = os.environ.get("BULKIO_SANDBOX_RATE")
    return float(raw) if raw else DEFAULT_RATE


@dataclass
class Faults:
    """Fault switches of one org (see :meth:`SandboxServer.set_faults`)."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    reset_rate: float = 0.0
    index_lag_ms: float = 0.0
    #: False: a server without ``DELETE`` (the contract has none; newer docs do): 404 like any
    #: path the API does not serve
    deletes: bool = True
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random)

    def update(self, **kw: Any) -> None:
        for k, v in kw.items():
            if k == "rng" or not hasattr(self, k):
                raise TypeError(f"unknown fault switch {k!r}")
            setattr(self, k, v)
        if "seed" in kw:
            self.rng = random.Random(kw["seed"])

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def delay(self) -> float:
        if self.latency_ms <= 0 and self.jitter_ms <= 0:
            return 0.0
        return max(self.latency_ms + (self.rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0), 0) / 1000


def faults_from_env() -> dict[str, float]:
    out: dict[str, float] = {}
    for name in ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "reset_rate", "index_lag_ms"):
        raw = os.environ.get(f"BULKIO_SANDBOX_{name.upper()}")
        if raw:
            out[name] = float(raw)
    return out


@dataclass
class OrgRuntime:
    """Per-org limits, faults, stats and in-flight idempotency keys."""

    rate: float
    burst: int
    buckets: dict[str, Bucket] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    in_flight: set[tuple[str, str]] = field(default_factory=set)
    requests: int = 0
    writes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)

    def set_rate(self, per_second: float, burst: int | None = None) -> None:
        self.rate = per_second
        self.burst = burst if burst is not None else default_burst(per_second)
        self.buckets.clear()

    def bucket(self, category: str) -> Bucket:
        b = self.buckets.get(category)
        if b is None:
            b = self.buckets[category] = Bucket(self.rate, self.burst)
        return b

    def record(self, category: str | None, status: int) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if category:
            self.by_category[category] = self.by_category.get(category, 0) + 1

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": dict(self.by_status),
            "writes": self.writes,
            "by_category": dict(self.by_category),
            "in_flight": len(self.in_flight),
        }
