"""The values that flow from planning to writing to the results sheet.

``plan`` turns each input row into one :class:`Operation`; ``write`` carries it out (or not) and
returns one :class:`RowOutcome` per row; ``results`` and the run report are views of the outcomes.
Every input row yields exactly one operation and exactly one outcome, in input order (an operation
is one request, or two for a note update with a ``follow_up``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .issues import Issue
from .vocabulary import Outcome

#: ``delete`` is an undo's (:mod:`bulkio.undo`): an import never deletes.
Action = Literal["create", "update", "unchanged", "skip", "delete"]

__all__ = ["Action", "Operation", "Outcome", "RowOutcome"]


@dataclass(slots=True)
class Operation:
    """What to do with one input row.

    ``body`` is the exact API request body (``{"fields": {...}, "relationships": {...}}``) for
    create/update, containing only changed keys on update. ``changes`` maps each changed key to
    ``(old, new)`` API values, for dry-run display. ``idempotency_key`` is deterministic for the
    (run, row, body) triple, so a retry or a resumed run re-sends the same key.

    ``follow_up`` is a second request body for the same record, sent only after ``body`` succeeded.
    It exists for note updates: a note relationship key takes exactly one of ``add`` / ``remove``
    per request, so moving a note from account A to B is ``body`` = fields + ``{"add": [B]}``, then
    ``follow_up`` = ``{"remove": [A]}`` (add first: the note is never left unlinked). Each request
    gets its own Idempotency-Key derived from ``idempotency_key`` (:func:`bulkio.write.request_keys`);
    the row counts as written only when both succeeded.
    """

    row: int
    action: Action
    object_type: str
    record_id: str | None = None
    key: str | None = None
    body: dict[str, Any] | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    idempotency_key: str | None = None
    issues: list[Issue] = field(default_factory=list)
    follow_up: dict[str, Any] | None = None


@dataclass(slots=True)
class RowOutcome:
    """What happened to one input row. ``issues`` hold every error and warning for the row
    (local validation, resolution, planning, and API rejections)."""

    row: int
    outcome: Outcome
    record_id: str | None = None
    link: str | None = None
    key: str | None = None
    issues: list[Issue] = field(default_factory=list)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"
