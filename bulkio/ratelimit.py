"""Client-side pacing and retry math: a thread-safe token bucket per rate category, and the
backoff / Retry-After arithmetic the client uses between attempts.

Lightfield limits each organisation per category (Write, Read, Search; 25 requests/second each)
and reports its bucket on every answer (``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``).
Waiting for 429s wastes a round trip and a ``Retry-After`` second each time, so bulkio paces
itself *ahead* of the server instead: a local bucket refills at (a little under) the server's
rate, learns the rate from ``X-RateLimit-Limit``, and shrinks to ``X-RateLimit-Remaining`` when
the server knows better (another process using the same key, a lowered limit).

Everything here is pure logic with an injectable clock, so it is unit-tested without a server.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Category = Literal["write", "read", "search"]
CATEGORIES: tuple[Category, ...] = ("write", "read", "search")

#: The documented per-category ceiling, used until the server tells us its own.
DEFAULT_PER_SECOND = 25.0


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    """How fast the client may send, per category.

    ``per_second=None`` means "learn it from ``X-RateLimit-Limit``" (25 until the first answer);
    a number caps the rate (the lower of it and the server's limit wins). ``headroom`` is the
    fraction of the limit actually used, so network jitter does not push requests over it;
    ``burst`` is how many requests may go at once after an idle spell (default: half the limit,
    which leaves the server's own bucket some slack for requests that arrive bunched up).

    >>> RateLimit(per_second=10).target(25.0)
    9.7
    """

    per_second: float | None = None
    burst: float | None = None
    headroom: float = 0.97
    #: Follow X-RateLimit-Remaining (turn off only to measure the server's own limiter).
    sync_remaining: bool = True
    #: Lower the rate to X-RateLimit-Limit when the server advertises less than ``per_second``.
    follow_server: bool = True

    def target(self, server_limit: float | None) -> float:
        """Requests/second to aim for given the server's advertised limit (if known)."""
        return round(self._limit(server_limit) * self.headroom, 6)

    def _limit(self, server_limit: float | None) -> float:
        limits = [x for x in (self.per_second, server_limit if self.follow_server else None) if x]
        return min(limits) if limits else DEFAULT_PER_SECOND

    def burst_for(self, server_limit: float | None) -> float:
        if self.burst is not None:
            return max(1.0, float(self.burst))
        return max(1.0, self._limit(server_limit) / 2)


#: Pacing off: a bucket so large it never waits, whatever the server advertises (for measuring
#: the server's own limiter, or 429 handling alone).
UNLIMITED = RateLimit(per_second=1e9, burst=1e9, headroom=1.0, sync_remaining=False, follow_server=False)


class Pacer:
    """A token bucket shared by every thread that sends requests of one category.

    :meth:`reserve` books the next free slot and returns how long to wait for it; tokens may go
    negative, which is how waiting threads queue up in order without busy-waiting. A 429 moves
    the refill start into the future (:meth:`pause`), so nobody sends before ``Retry-After``.
    """

    def __init__(
        self,
        category: str,
        config: RateLimit | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.category = category
        self.config = config or RateLimit()
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self.server_limit: float | None = None
        self.rate = self.config.target(None)
        self.capacity = self.config.burst_for(None)
        self._tokens = self.capacity
        self._last = clock()
        self._issued = 0  # reservations handed out so far (tickets)

    # --- core ---------------------------------------------------------------------------------
    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Hold the bucket (threads of this process; :class:`SharedPacer`: every process)."""
        with self._lock:
            yield

    def _refill(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now

    def reserve(self) -> tuple[float, int]:
        """Take one token; return (seconds to wait before sending, ticket number)."""
        with self._guard():
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            self._issued += 1
            wait = max(0.0, self._last - now) + max(0.0, -self._tokens) / self.rate
            return wait, self._issued

    def acquire(self) -> int:
        """Block until this thread may send one request; returns its ticket for :meth:`observe`."""
        wait, ticket = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return ticket

    def tokens(self) -> float:
        """Tokens available now (negative: that many requests are already queued)."""
        with self._guard():
            self._refill(self._clock())
            return self._tokens

    # --- feedback from the server ------------------------------------------------------------
    def observe(self, headers: Mapping[str, str], ticket: int | None = None) -> None:
        """Learn from an answer's ``X-RateLimit-*`` headers.

        ``Limit`` sets the rate (unless the configured cap is lower). ``Remaining`` is what the
        server had left when it answered ``ticket``; requests reserved after that ticket may still
        be on their way, so the local bucket is trimmed to ``Remaining - in_flight_after``.
        """
        limit = _float(headers.get("x-ratelimit-limit"))
        remaining = _float(headers.get("x-ratelimit-remaining"))
        with self._guard():
            now = self._clock()
            self._refill(now)
            if limit and limit > 0 and limit != self.server_limit:
                self.server_limit = limit
                self.rate = self.config.target(limit)
                self.capacity = self.config.burst_for(limit)
                self._tokens = min(self._tokens, self.capacity)
            if remaining is not None and self.config.sync_remaining:
                behind = self._issued - ticket if ticket is not None else 0
                self._tokens = min(self._tokens, remaining - behind)

    def pause(self, seconds: float) -> None:
        """Nobody in this category sends for ``seconds`` (after a 429), then refill restarts."""
        with self._guard():
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)
            self._last = max(self._last, now + max(0.0, seconds))

    def __repr__(self) -> str:
        return f"Pacer({self.category!r}, rate={self.rate:g}/s, capacity={self.capacity:g})"


def pacing_id(target: str) -> str:
    """A file-name-safe id for a pacing target (``<base url>#<key fingerprint>``): a hash, so the
    pacing folder names neither the key nor the server."""
    return hashlib.sha256(target.encode("utf-8")).hexdigest()[:24]


class SharedPacer(Pacer):
    """A :class:`Pacer` whose bucket lives in a small file, so every bulkio process on the machine
    that talks to the same base URL with the same key draws from one bucket.

    Why: the API limits the organisation, not the process. Two imports on one key, each pacing
    itself to 25/s, send 50/s and meet a storm of 429s. Every :meth:`reserve`, :meth:`observe` and
    :meth:`pause` takes an OS file lock (``filelock``; released by the OS if a process dies), reads
    the bucket (tokens, refill time as wall-clock seconds, tickets issued, the server's limit),
    updates it and writes it back — about a tenth of a millisecond, against the 40 ms between two
    requests at 25/s. The files sit in ``directory`` (the folder of the resume ledger), named by
    :func:`pacing_id` and the category.
    """

    def __init__(
        self,
        category: str,
        config: RateLimit | None = None,
        *,
        directory: str | Path,
        target: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(category, config, clock=clock, sleep=sleep)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"pace-{pacing_id(target)}-{category}"
        self.path = self.directory / f"{stem}.json"
        from filelock import FileLock  # here: it imports asyncio (~50 ms) for its async locks

        self._flock = FileLock(str(self.directory / f"{stem}.lock"), thread_local=False)
        self._fd: int | None = None

    @contextmanager
    def _guard(self) -> Iterator[None]:
        with self._lock, self._flock:
            self._load()
            try:
                yield
            finally:
                self._save()

    #: The state is rewritten in place, padded to this size (no truncate: a torn write by a killed
    #: process leaves text _load ignores).
    STATE_SIZE = 256

    def _handle(self) -> int | None:
        """The state file, opened once and kept open (opening and truncating it for every request
        costs ten times what reading and writing it in place does)."""
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None  # a read-only folder: this process still paces itself
        return self._fd

    def _load(self) -> None:
        fd = self._handle()
        if fd is None:
            return
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            state: dict[str, Any] = json.loads(os.read(fd, self.STATE_SIZE).rstrip(b" \0") or b"null")
            tokens, last_wall = float(state["tokens"]), float(state["last_wall"])
            issued, limit = int(state["issued"]), state.get("server_limit")
        except (OSError, ValueError, KeyError, TypeError):
            return  # no bucket yet, or a torn write: keep this process's view
        self._tokens = tokens
        self._last = self._clock() - (time.time() - last_wall)
        self._issued = issued
        if limit and limit != self.server_limit:
            self.server_limit = float(limit)
            self.rate = self.config.target(self.server_limit)
            self.capacity = self.config.burst_for(self.server_limit)
        self._tokens = min(self._tokens, self.capacity)

    def _save(self) -> None:
        fd = self._handle()
        if fd is None:
            return
        state = {
            "tokens": self._tokens,
            "last_wall": time.time() - (self._clock() - self._last),
            "issued": self._issued,
            "server_limit": self.server_limit,
        }
        data = json.dumps(state).encode().ljust(self.STATE_SIZE)
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, data)
        except OSError:
            pass

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __repr__(self) -> str:
        return f"SharedPacer({self.category!r}, rate={self.rate:g}/s, file={self.path.name})"


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


# --- retries ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """When and how long to retry a failed request.

    ``max_attempts`` counts the first try and every failure except 429. A 429 is not a failure:
    the request waits what the server asks (``Retry-After-Ms`` or ``Retry-After``, else until
    ``X-RateLimit-Reset``) plus a little jitter, and is sent again, for as long as the client makes
    progress; it gives up (:class:`~bulkio.errors.RateLimitError`) only once ``max_wait`` seconds
    passed without any request of the client succeeding (another client flooding the same key for
    that long). 5xx, timeouts and dropped connections back off exponentially from ``backoff_base``
    up to ``backoff_max`` with jitter, so threads that failed together do not come back together.

    >>> RetryPolicy(backoff_base=0.5, jitter=0).backoff(3)
    2.0
    """

    max_attempts: int = 6
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    retry_statuses: tuple[int, ...] = (429, 500, 502, 503, 504)
    #: Fraction of each backoff that is randomised (0 = deterministic, 1 = "full jitter").
    jitter: float = 0.5
    #: Extra random wait added to a server-given Retry-After, in seconds.
    retry_after_jitter: float = 0.05
    #: Seconds of 429s without progress after which a request gives up (0: at the first 429).
    max_wait: float = 600.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        full = float(min(self.backoff_max, self.backoff_base * 2.0 ** max(0, attempt - 1)))
        if self.jitter <= 0:
            return full
        return float(full * (1 - self.jitter) + self.rng.uniform(0, full * self.jitter))

    def rate_limit_wait(self, headers: Mapping[str, str], attempt: int, *, now: float | None = None) -> float:
        """Seconds to wait after a 429: the server's Retry-After(-Ms), else until its
        X-RateLimit-Reset (when the bucket is full again), else the backoff."""
        server = retry_after(headers, now=now)
        if server is None:
            server = reset_wait(headers, now=now)
        if server is None:
            return self.backoff(attempt)
        return float(min(server, max(self.max_wait, 1.0)) + self.rng.uniform(0, self.retry_after_jitter))


NO_RETRY = RetryPolicy(max_attempts=1, max_wait=0.0)


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Parse ``Retry-After-Ms`` (milliseconds), else ``Retry-After`` (seconds or an HTTP date)."""
    ms = _float(headers.get("retry-after-ms"))
    if ms is not None and ms >= 0:
        return ms / 1000
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _float(raw)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def reset_wait(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (unix seconds at which the bucket is full again), for a
    429 that carries no Retry-After; None when absent, unparsable or already past."""
    reset = _float(headers.get("x-ratelimit-reset"))
    if reset is None:
        return None
    wait = reset - (time.time() if now is None else now)
    return wait if wait > 0 else None
