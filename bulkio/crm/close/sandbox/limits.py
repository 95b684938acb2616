"""Close's rate limits (per endpoint group, per key and 3× per org), fault switches and the
switches for points the sources leave open (API-FACTS UNVERIFIED/CONFLICT).

All of it is in memory: these are test and demo settings, not data, so they reset when the
server restarts (``BULKIO_CLOSE_SANDBOX_*`` environment variables re-apply faults to the default
org).
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from dataclasses import dataclass, field, fields
from typing import Any

#: API-FACTS §2: the docs' illustration is 20 requests/s per key and 3× that per org
DEFAULT_RATE = 20.0
#: the window a bucket's limit is counted over: ``limit=160`` on /me/ with ``reset`` up to 8 (MA)
DEFAULT_WINDOW = 8.0
#: /data/search/ has its own tight bucket: ``limit=16`` observed (MA), i.e. 2/s over the window
DEFAULT_SEARCH_RATE = 2.0
ORG_FACTOR = 3


@dataclass
class Bucket:
    """Token bucket: ``limit`` requests per ``window`` seconds, refilled continuously."""

    limit: int
    window: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.limit)

    @property
    def rate(self) -> float:
        return self.limit / self.window

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(float(self.limit), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def reset_in(self) -> float:
        """Seconds until the bucket is full again (``reset`` of the RateLimit header)."""
        return (self.limit - self.tokens) / self.rate

    def wait(self) -> float:
        """Seconds until one request is allowed again."""
        return max(0.0, (1.0 - self.tokens) / self.rate)


def group_hash(group: str) -> str:
    """``rate_endpoint_group`` is an opaque 32-hex id in the recorded 429 body."""
    return hashlib.md5(group.encode()).hexdigest()  # an opaque id, not security


@dataclass
class Options:
    """Switches for behaviour the sources leave open; defaults are the strict reading.

    * ``rate_limit_body``: ``"wrapped"`` ``{"error": {..., "rate_reset": 1.25}}`` (what current
      clients read) or ``"flat"`` (the 2017 recording: top-level keys, ``rate_reset`` a string).
    * ``ratelimit_separator``: ``", "`` (docs, official client) or ``"; "`` (observed 2025).
    * ``ratelimit_reset``: ``"decimal"`` (docs: seconds with decimals) or ``"integer"`` (observed;
      the official client's regex reads only digits).
    * ``strict_keys``: unknown, read-only or deprecated body keys are a 400 (``False``: ignored).
    * ``max_skip``: the largest ``_skip`` lists take (Close has one per resource, unpublished).
    * ``export_delay_ms``: how long an export stays ``in_progress`` before it is ``done``.
    * ``cursor_ttl_s``: ``/data/search/`` cursors expire after this many seconds (docs: 30).
    * ``legacy_headers``: also send ``X-Rate-Limit-Limit/-Remaining/-Reset`` (2017 cassettes).
    """

    rate_limit_body: str = "wrapped"
    ratelimit_separator: str = ", "
    ratelimit_reset: str = "decimal"
    strict_keys: bool = True
    max_skip: int = 10_000
    export_delay_ms: float = 300.0
    cursor_ttl_s: float = 30.0
    legacy_headers: bool = False

    def update(self, **kw: Any) -> None:
        names = {f.name for f in fields(self)}
        for k, v in kw.items():
            if k not in names:
                raise TypeError(f"unknown option {k!r}; options are {', '.join(sorted(names))}")
            setattr(self, k, v)
        if self.rate_limit_body not in ("wrapped", "flat"):
            raise ValueError("rate_limit_body must be 'wrapped' or 'flat'")
        if self.ratelimit_reset not in ("decimal", "integer"):
            raise ValueError("ratelimit_reset must be 'decimal' or 'integer'")


@dataclass
class Faults:
    """Fault switches of one org (see :meth:`CloseSandboxServer.set_faults`).

    ``error_rate``: answer 500/503 before running; ``drop_rate``: run a write, commit it, then cut
    the answer; ``reset_rate``: cut the connection before running; ``rate_429``: answer 429 as if
    the limit were spent (a storm); ``latency_ms``/``jitter_ms``: delay every answer;
    ``index_lag_ms``: lists, searches and exports do not see records younger than this.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    reset_rate: float = 0.0
    rate_429: float = 0.0
    index_lag_ms: float = 0.0
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
        extra = self.rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0.0
        return max(self.latency_ms + extra, 0.0) / 1000


FAULT_NAMES = ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "reset_rate", "rate_429", "index_lag_ms")


def faults_from_env() -> dict[str, float]:
    out: dict[str, float] = {}
    for name in FAULT_NAMES:
        raw = os.environ.get(f"BULKIO_CLOSE_SANDBOX_{name.upper()}")
        if raw:
            out[name] = float(raw)
    return out


def default_rate() -> float:
    raw = os.environ.get("BULKIO_CLOSE_SANDBOX_RATE")
    return float(raw) if raw else DEFAULT_RATE


@dataclass
class Verdict:
    """One rate-limit check: allowed or not, and the bucket closest to being hit."""

    ok: bool
    bucket: Bucket
    kind: str  # "key" | "org"
    group: str


@dataclass
class OrgRuntime:
    """Per-org limits, faults, switches and counters."""

    rate: float
    window: float = DEFAULT_WINDOW
    search_rate: float = DEFAULT_SEARCH_RATE
    key_buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    org_buckets: dict[str, Bucket] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    options: Options = field(default_factory=Options)
    requests: int = 0
    writes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)

    def set_rate(
        self, per_second: float, window: float | None = None, search_per_second: float | None = None
    ) -> None:
        self.rate = float(per_second)
        if window is not None:
            self.window = float(window)
        if search_per_second is not None:
            self.search_rate = float(search_per_second)
        self.key_buckets.clear()
        self.org_buckets.clear()

    def limit_of(self, group: str) -> int:
        """Requests per window for one key in ``group`` (at least one)."""
        rate = self.search_rate if group == "search" else self.rate
        return max(1, round(rate * self.window))

    def peek(self, key_hash: str, group: str) -> Bucket:
        """The key's bucket for ``group``, refilled, without spending: the RateLimit header of an
        answer that runs nothing (an unknown path, a method the path does not take)."""
        bucket = self.key_buckets.get((key_hash, group))
        if bucket is None:
            return Bucket(self.limit_of(group), self.window)
        bucket.refill(time.monotonic())
        return bucket

    def check(self, key_hash: str, group: str) -> Verdict:
        """Spend one request of the key's and the org's bucket for ``group``, if both allow it."""
        now = time.monotonic()
        limit = self.limit_of(group)
        kb = self.key_buckets.get((key_hash, group))
        if kb is None:
            kb = self.key_buckets[(key_hash, group)] = Bucket(limit, self.window)
        ob = self.org_buckets.get(group)
        if ob is None:
            ob = self.org_buckets[group] = Bucket(limit * ORG_FACTOR, self.window)
        kb.refill(now)
        ob.refill(now)
        if kb.tokens < 1.0:
            return Verdict(False, kb, "key", group)
        if ob.tokens < 1.0:
            return Verdict(False, ob, "org", group)
        kb.tokens -= 1.0
        ob.tokens -= 1.0
        closest = kb if kb.tokens / kb.limit <= ob.tokens / ob.limit else ob
        return Verdict(True, closest, "key" if closest is kb else "org", group)

    def record(self, group: str | None, status: int) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if group:
            self.by_group[group] = self.by_group.get(group, 0) + 1

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "writes": self.writes,
            "by_status": dict(self.by_status),
            "by_group": dict(self.by_group),
        }


def rate_headers(bucket: Bucket, options: Options, *, refused: bool) -> dict[str, str]:
    """``RateLimit: limit=…, remaining=…, reset=…`` (+ ``Retry-After`` on a 429)."""
    reset = bucket.wait() if refused else bucket.reset_in()
    if options.ratelimit_reset == "integer":
        shown = str(int(-(-reset // 1)) if reset > 0 else 0)
    else:
        shown = f"{reset:.3f}".rstrip("0").rstrip(".") or "0"
    sep = options.ratelimit_separator
    headers = {
        "RateLimit": f"limit={bucket.limit}{sep}remaining={max(int(bucket.tokens), 0)}{sep}reset={shown}"
    }
    if options.legacy_headers:
        headers["X-Rate-Limit-Limit"] = str(bucket.limit)
        headers["X-Rate-Limit-Remaining"] = str(max(int(bucket.tokens), 0))
        headers["X-Rate-Limit-Reset"] = f"{reset:.6f}"
    if refused:
        headers["Retry-After"] = str(max(1, int(-(-reset // 1))))
    return headers


def rate_body(verdict: Verdict, options: Options) -> dict[str, Any]:
    """The 429 body: wrapped in ``error`` (default) or flat as recorded in 2017."""
    wait = verdict.bucket.wait()
    inner: dict[str, Any] = {
        "message": "API call count exceeded for this period",
        "rate_endpoint_group": group_hash(verdict.group),
        "rate_limit": verdict.bucket.limit,
        "rate_limit_type": verdict.kind,
        "rate_reset": round(wait, 6),
        "rate_window": int(window) if (window := float(verdict.bucket.window)).is_integer() else window,
    }
    if options.rate_limit_body == "flat":
        inner["rate_reset"] = f"{wait:.6f}"
        return inner
    return {"error": inner}
