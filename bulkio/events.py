"""Progress events the library emits. Library code never draws progress bars: it calls an
``on_event`` callback (if given) with one of these, and the CLI turns them into tqdm bars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class PhaseStarted:
    """A phase begins: ``name`` is read | plan | write | export | results; ``total`` if known."""

    name: str
    total: int | None = None


@dataclass(slots=True, frozen=True)
class Progress:
    """``count`` more units of work done in phase ``name`` (rows, records, pages)."""

    name: str
    count: int = 1


@dataclass(slots=True, frozen=True)
class PhaseFinished:
    name: str


@dataclass(slots=True, frozen=True)
class RateLimited:
    """The API answered 429; the client waits ``wait_seconds`` before sending again (a 429 is never
    a failed attempt). ``stalled_seconds``: how long no request of the client has succeeded; the
    client gives up at ``RetryPolicy.max_wait``."""

    category: str
    wait_seconds: float
    stalled_seconds: float = 0.0


@dataclass(slots=True, frozen=True)
class Retrying:
    """A request is retried (same Idempotency-Key) after ``reason`` (status or exception name)."""

    method: str
    path: str
    attempt: int
    reason: str
    wait_seconds: float


@dataclass(slots=True, frozen=True)
class Message:
    """A human-readable note for the user (e.g. 'resuming run 3f2a: 812 rows already written')."""

    text: str


Event = PhaseStarted | Progress | PhaseFinished | RateLimited | Retrying | Message
EventHandler = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The default handler: drop every event."""
