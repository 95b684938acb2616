"""Past runs, as ``bulkio runs`` lists them: what each import (or workbook import, or undo) was,
when, what it did, and whether it was undone.

The ledger (:mod:`bulkio.ledger`) is opened read-only, so listing never creates or migrates one.
A workbook run is one entry (its sheet runs are counted into it, their objects named); an undo
is an entry of its own that names the run it took back.

>>> [(r.run_id[:12], r.object_type, r.counts["created"], r.undone_by) for r in list_runs()]  # doctest: +SKIP
[('3f2a9c0b1d2e', 'pipeline', 4, None), ('77aa01c2d3e4', 'account', 2, '9c0b…')]
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .state import StatePath
from .state import ledger_path as default_ledger_path

#: Outcomes counted per run (an undo's ``deleted`` too).
COUNTED = ("created", "updated", "unchanged", "failed", "skipped", "deleted")


class RunEntry(BaseModel):
    """One run recorded in the ledger."""

    run_id: str
    #: the object imported; ``pipeline`` for a workbook (its sheets' objects in ``objects``),
    #: ``undo`` for an undo
    object_type: str
    objects: list[str] = Field(default_factory=list)
    file: str
    #: the CRM written to (its base URL; never the key)
    target: str
    started_at: str
    finished_at: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    #: the undo run that took this run back (finished), if any
    undone_by: str | None = None
    #: for an undo: the run it took back
    undoes: str | None = None

    @property
    def status(self) -> str:
        if self.undone_by:
            return "undone"
        return "finished" if self.finished_at else "unfinished"


def list_runs(
    ledger_path: str | Path | None = None,
    *,
    state_dir: StatePath | None = None,
    limit: int | None = 50,
) -> list[RunEntry]:
    """The runs in the ledger, newest first (``limit`` of them; None: all). Empty when there is
    no ledger yet."""
    path = Path(ledger_path) if ledger_path else default_ledger_path(state_dir)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        parent = "r.parent_run" if "parent_run" in columns else "NULL"
        undoes = "r.undoes" if "undoes" in columns else "NULL"
        rows = conn.execute(
            f"SELECT r.run_id, r.object_type, r.input_path, r.target, r.started_at, r.finished_at, "
            f"{undoes}, r.options FROM runs r WHERE {parent} IS NULL "
            "ORDER BY r.started_at DESC, r.rowid DESC" + (f" LIMIT {int(limit)}" if limit else "")
        ).fetchall()
        children: dict[str, list[tuple[str, str]]] = {}
        if parent != "NULL":
            for run_id, otype, parent_id in conn.execute(
                "SELECT run_id, object_type, parent_run FROM runs WHERE parent_run IS NOT NULL "
                "ORDER BY started_at, rowid"
            ):
                children.setdefault(parent_id, []).append((run_id, otype))
        counts: dict[str, dict[str, int]] = {}
        for run_id, outcome, n in conn.execute(
            "SELECT run_id, outcome, COUNT(*) FROM outcomes GROUP BY run_id, outcome"
        ):
            counts.setdefault(run_id, {})[outcome] = int(n)
    except sqlite3.DatabaseError:
        return []
    finally:
        conn.close()
    undone = {r[6]: r[0] for r in reversed(rows) if r[6] and r[5]}  # finished undos, latest wins
    out: list[RunEntry] = []
    for run_id, otype, input_path, target, started, finished, undo_of, options in rows:
        parts = children.get(run_id) or [(run_id, otype)]
        total = dict.fromkeys(COUNTED, 0)
        for part_id, _ in parts:
            for outcome, n in counts.get(part_id, {}).items():
                total[outcome] = total.get(outcome, 0) + n
        try:
            opts: dict[str, Any] = json.loads(options or "{}")
        except ValueError:
            opts = {}
        out.append(
            RunEntry(
                run_id=run_id,
                object_type=otype,
                objects=[o for _, o in parts] if run_id in children else [otype],
                file=str(opts.get("undoes") and f"undo of {opts['undoes']}" or input_path),
                target=str(target).split("#", 1)[0],
                started_at=started,
                finished_at=finished,
                counts=total,
                undone_by=undone.get(run_id),
                undoes=undo_of,
            )
        )
    return out


__all__ = ["RunEntry", "list_runs"]
