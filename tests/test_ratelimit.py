"""Pure logic of the pacer and the retry math, with a fake clock (no server, no sleeping)."""

from __future__ import annotations

import random
import threading
from email.utils import formatdate
from pathlib import Path

import pytest

from bulkio.ratelimit import Pacer, RateLimit, RetryPolicy, retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(config: RateLimit | None = None) -> tuple[Pacer, FakeClock]:
    clock = FakeClock()
    return Pacer("write", config, clock=clock, sleep=clock.sleep), clock


def test_burst_then_evenly_spaced() -> None:
    p, _ = pacer(RateLimit(per_second=10, burst=3, headroom=1.0))
    waits = [p.reserve()[0] for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.1, 0.2, 0.3])


def test_acquire_sleeps_and_refills_over_time() -> None:
    p, clock = pacer(RateLimit(per_second=4, burst=1, headroom=1.0))
    p.acquire()
    p.acquire()
    assert clock.slept == [pytest.approx(0.25)]
    clock.now += 10  # idle: refills only up to the burst
    assert p.tokens() == pytest.approx(1.0)


def test_default_rate_is_25_with_headroom_and_half_burst() -> None:
    p, _ = pacer()
    assert p.rate == pytest.approx(25 * 0.97)
    assert p.capacity == pytest.approx(12.5)


def test_learns_limit_from_header() -> None:
    p, _ = pacer(RateLimit(headroom=1.0))
    p.observe({"x-ratelimit-limit": "2"})
    assert p.server_limit == 2
    assert p.rate == 2
    assert p.capacity == 1  # half of 2
    assert p.tokens() <= 1


def test_configured_cap_below_server_limit_wins() -> None:
    p, _ = pacer(RateLimit(per_second=5, headroom=1.0))
    p.observe({"x-ratelimit-limit": "25"})
    assert p.rate == 5
    p.observe({"x-ratelimit-limit": "3"})
    assert p.rate == 3


def test_remaining_trims_bucket_counting_requests_still_in_flight() -> None:
    p, _ = pacer(RateLimit(per_second=10, burst=10, headroom=1.0))
    tickets = [p.reserve()[1] for _ in range(3)]  # 7 tokens left locally
    # the server answered the first request with 2 left; two more of ours are on their way
    p.observe({"x-ratelimit-remaining": "2"}, tickets[0])
    assert p.tokens() == pytest.approx(0.0)
    wait, _ = p.reserve()
    assert wait == pytest.approx(0.1)


def test_remaining_never_raises_the_bucket() -> None:
    p, _ = pacer(RateLimit(per_second=10, burst=4, headroom=1.0))
    _, ticket = p.reserve()
    p.observe({"x-ratelimit-remaining": "50"}, ticket)
    assert p.tokens() == pytest.approx(3.0)


def test_sync_remaining_can_be_turned_off() -> None:
    p, _ = pacer(RateLimit(per_second=10, burst=4, headroom=1.0, sync_remaining=False))
    _, ticket = p.reserve()
    p.observe({"x-ratelimit-remaining": "0"}, ticket)
    assert p.tokens() == pytest.approx(3.0)


def test_pause_holds_everyone_then_spaces_them() -> None:
    p, clock = pacer(RateLimit(per_second=10, burst=5, headroom=1.0))
    p.pause(1.5)
    waits = [p.reserve()[0] for _ in range(3)]
    assert waits == pytest.approx([1.6, 1.7, 1.8])
    clock.now += 5
    assert p.tokens() > 0


def test_garbage_headers_are_ignored() -> None:
    p, _ = pacer(RateLimit(headroom=1.0))
    p.observe({"x-ratelimit-limit": "lots", "x-ratelimit-remaining": ""})
    assert p.rate == 25


def test_reservations_from_many_threads_get_distinct_slots() -> None:
    """With a frozen clock every reservation must land on its own 1/rate slot."""
    p, _ = pacer(RateLimit(per_second=100, burst=1, headroom=1.0))
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            w, _ = p.reserve()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w * 100) for w in waits) == list(range(400))


# --- retry math -------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.25, backoff_max=2.0, jitter=0)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_backoff_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0, jitter=0.5, rng=random.Random(7))
    for attempt in range(1, 8):
        full = min(8.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            assert full / 2 <= policy.backoff(attempt) <= full
    assert len({policy.backoff(3) for _ in range(20)}) > 1


def test_retry_after_formats() -> None:
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after-ms": "250", "retry-after": "3"}) == 0.25
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after": "nonsense"}) is None
    assert retry_after({}) is None
    date = formatdate(2000.0, usegmt=True)
    assert retry_after({"retry-after": date}, now=1997.0) == pytest.approx(3.0)


def test_rate_limit_wait_uses_server_value_plus_small_jitter_else_backoff() -> None:
    policy = RetryPolicy(jitter=0, retry_after_jitter=0.05, backoff_base=0.5)
    for _ in range(20):
        assert 1.0 <= policy.rate_limit_wait({"retry-after": "1"}, 1) <= 1.05
    assert policy.rate_limit_wait({}, 2) == 1.0
    # no Retry-After: wait until the bucket is full again (X-RateLimit-Reset, unix seconds)
    assert 2.0 <= policy.rate_limit_wait({"x-ratelimit-reset": "1002"}, 1, now=1000.0) <= 2.05
    assert policy.rate_limit_wait({"x-ratelimit-reset": "999"}, 2, now=1000.0) == 1.0  # past: backoff
    assert policy.rate_limit_wait({"x-ratelimit-reset": "soon"}, 2, now=1000.0) == 1.0
    assert (
        1.0
        <= policy.rate_limit_wait({"retry-after": "1", "x-ratelimit-reset": "1009"}, 1, now=1000.0)
        <= 1.05
    )  # Retry-After wins


def test_unlimited_ignores_server_headers() -> None:
    from bulkio.ratelimit import UNLIMITED

    p, _ = pacer(UNLIMITED)
    p.observe({"x-ratelimit-limit": "2", "x-ratelimit-remaining": "0"}, 0)
    assert p.server_limit == 2
    assert all(p.reserve()[0] == 0 for _ in range(1000))


# --- a bucket shared between processes ---------------------------------------------------------------


def test_shared_pacers_draw_from_one_bucket(tmp_path: Path) -> None:
    """Two SharedPacers on one folder and target (as two processes would be) share the tokens:
    together they wait as long as one pacer would for the same number of requests."""
    from bulkio.ratelimit import SharedPacer

    clock = FakeClock()
    config = RateLimit(per_second=10, burst=2, headroom=1.0)
    a, b = (
        SharedPacer(
            "write", config, directory=tmp_path, target="https://x#abc", clock=clock, sleep=clock.sleep
        )
        for _ in range(2)
    )
    other_key = SharedPacer("write", config, directory=tmp_path, target="https://x#def", clock=clock)
    waits = [p.reserve()[0] for p in (a, b, a, b)]
    # (abs: the file keeps wall-clock time, which moves a little while the fake clock stands still)
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2], abs=0.02)  # burst of 2 shared, then 10/s
    assert other_key.reserve()[0] == 0.0  # another key: another bucket
    a.pause(5.0)
    assert b.reserve()[0] >= 5.0  # a 429 seen by one process holds the other back too
    names = sorted(p.name for p in tmp_path.iterdir())
    assert all("abc" not in n and "def" not in n for n in names)  # named by a hash, never the key
    assert len([n for n in names if n.endswith(".json")]) == 2
