"""Resume against a CRM without idempotency keys (Close): find the creates whose fate is unknown.

A resumed run replays each intent the ledger has no outcome for. Lightfield answers a replayed
``Idempotency-Key`` from its cache, so replaying is safe there; Close has no such keys, and a
create that reached Close before the crash would be made twice. So before the replay, each such
create is looked for by its upsert key (:meth:`~bulkio.crm.base.AdoptsLostCreates.find_created`)
and, when found, *adopted*: its outcome is ``created`` with the record found, recorded in the
ledger, and it is not sent again.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .crm.base import AdoptsLostCreates
from .operations import Operation, RowOutcome


def adopt_pending(
    client: AdoptsLostCreates,
    pending: dict[int, Operation],
    ledger: Any,
    run_id: str | None,
    *,
    concurrency: int = 8,
) -> list[RowOutcome]:
    """Outcomes of the pending creates found in the CRM; those rows leave ``pending``."""
    creates = [op for op in pending.values() if op.action == "create" and op.body is not None]
    if not creates:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(creates)))) as pool:
        found = list(pool.map(lambda op: client.find_created(op.object_type, op.body or {}), creates))
    out: list[RowOutcome] = []
    for op, record in zip(creates, found, strict=True):
        if record is None:
            continue
        outcome = RowOutcome(
            row=op.row,
            outcome="created",
            record_id=record.get("id"),
            link=record.get("httpLink"),
            key=op.key,
            issues=list(op.issues),
            changes=op.changes,
            attempts=1,
        )
        if ledger is not None and run_id is not None:
            ledger.record_outcome(run_id, outcome)
        del pending[op.row]
        out.append(outcome)
    return out


__all__ = ["adopt_pending"]
