"""One set of words for what happened to a row, and one shape for JSON output.

Why a module of its own: the console, the run report, ``--format json`` and the results sheet used to
say different things about the same row ("skip (errors)", "failed", "would create"). Every view now
takes its words from here.

Outcomes of a run that writes: ``created``, ``updated``, ``unchanged``, ``failed``, ``skipped``
(and ``deleted``, which only an undo has: :mod:`bulkio.undo`).
A dry run says what *would* happen with the same verbs behind "would": ``would create``,
``would update``, ``unchanged``, ``would fail``, ``would skip``. Counts are keyed by the first list
in both modes (``counts.created`` of a dry run is the number of rows that would be created).

Every ``--format json`` document carries ``schema_version`` (:data:`SCHEMA_VERSION`, bumped on an
incompatible change) and uses snake_case keys, ``duration_s`` for durations and ``*_per_s`` for
rates (docs/json.md).

>>> outcome_word("created", dry_run=True), outcome_word("failed", dry_run=False)
('would create', 'failed')
"""

from __future__ import annotations

from typing import Any, Literal, get_args

#: The version of every JSON document bulkio prints (``--format json``) or returns as a dict.
SCHEMA_VERSION = 1

Outcome = Literal["created", "updated", "unchanged", "failed", "skipped", "deleted"]
DryRunOutcome = Literal[
    "would create", "would update", "unchanged", "would fail", "would skip", "would delete"
]
#: Every word an outcome column or ``outcome`` key can hold.
OutcomeWord = Outcome | DryRunOutcome

#: The outcomes of an import, in the order counts are shown (an undo also has ``deleted``).
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "failed", "skipped")
DRY_RUN_WORDS: dict[Outcome, DryRunOutcome] = {
    "created": "would create",
    "updated": "would update",
    "unchanged": "unchanged",
    "failed": "would fail",
    "skipped": "would skip",
    "deleted": "would delete",
}
#: A dry-run word back to the outcome it stands for.
FROM_DRY_RUN: dict[str, Outcome] = {v: k for k, v in DRY_RUN_WORDS.items()}


def outcome_word(outcome: Outcome, *, dry_run: bool) -> OutcomeWord:
    """The word every view shows for ``outcome`` (``would …`` in a dry run)."""
    return DRY_RUN_WORDS[outcome] if dry_run else outcome


#: The formats ``bulkio export`` writes (:data:`bulkio.export.FORMATS`; here so the CLI can offer
#: them without importing the exporter).
EXPORT_FORMATS: tuple[str, ...] = ("xlsx", "csv", "jsonl")


def base_outcome(word: str) -> Outcome:
    """``"would fail"`` → ``"failed"``; a run's own word is returned as it is.

    >>> base_outcome("would fail"), base_outcome("updated")
    ('failed', 'updated')
    """
    if word in FROM_DRY_RUN:
        return FROM_DRY_RUN[word]
    if word in get_args(Outcome):
        return word  # type: ignore[return-value]
    raise ValueError(f"not an outcome word: {word!r}")


def versioned(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``schema_version`` first (the shape of every JSON document bulkio prints)."""
    return {"schema_version": SCHEMA_VERSION, **{k: v for k, v in data.items() if k != "schema_version"}}


__all__ = [
    "DRY_RUN_WORDS",
    "EXPORT_FORMATS",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "DryRunOutcome",
    "Outcome",
    "OutcomeWord",
    "base_outcome",
    "outcome_word",
    "versioned",
]
