"""Where bulkio keeps its run state: one per-user folder, not the current directory.

Why: the resume ledger and the embedded sandbox used to live in ``./.bulkio``, so ``--resume`` from
another directory found no run, started a new one and (with the sandbox) wrote into a new, empty
database. Now every piece of state lives in one folder chosen in this order:

1. an explicit ``state_dir`` argument (the CLI's ``--state-dir``);
2. the ``BULKIO_STATE_DIR`` environment variable;
3. the per-user data folder from :mod:`platformdirs` (``~/.local/share/bulkio`` on Linux,
   ``~/Library/Application Support/bulkio`` on macOS, ``%LOCALAPPDATA%\\bulkio`` on Windows).

Inside it:

* ``ledger.sqlite3`` — the resume ledger (runs are found by the input file's *content* and the
  target base URL, so a moved, copied or differently-spelled path resumes the same run);
* ``sandbox.sqlite3`` — the embedded sandbox's data;
* lock and pacing files of concurrent runs, next to the ledger (:func:`lock_path`).

Every module asks this one for paths, so moving the folder moves everything.

>>> ledger_path(state_dir="/tmp/bulkio-state")
PosixPath('/tmp/bulkio-state/ledger.sqlite3')
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

#: The environment variable that moves the state folder (after an explicit ``state_dir``).
ENV_VAR = "BULKIO_STATE_DIR"
LEDGER_FILE = "ledger.sqlite3"
SANDBOX_FILE = "sandbox.sqlite3"
#: What :func:`clear` may remove: the ledger, the embedded sandbox, or both.
Part = Literal["ledger", "sandbox", "all"]

StatePath = str | os.PathLike[str]


def state_dir(override: StatePath | None = None) -> Path:
    """The state folder: ``override``, else ``$BULKIO_STATE_DIR``, else the per-user data folder.

    Not created here (reading the path must not leave folders behind); writers create it.
    """
    if override is not None and str(override) != "":
        return Path(override).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("bulkio", appauthor=False))


_folder = state_dir


def ledger_path(state_dir: StatePath | None = None) -> Path:
    """The resume ledger inside the state folder."""
    return _folder(state_dir) / LEDGER_FILE


def sandbox_db_path(state_dir: StatePath | None = None) -> Path:
    """The embedded sandbox's SQLite file inside the state folder."""
    return _folder(state_dir) / SANDBOX_FILE


def lock_path(name: str, state_dir: StatePath | None = None) -> Path:
    """A lock or pacing file named ``name`` next to the ledger (shared by concurrent runs)."""
    return _folder(state_dir) / f"{name}.lock"


# --- list and clear -------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class RunSummary:
    """One run recorded in the ledger (what ``bulkio state list`` shows)."""

    run_id: str
    object_type: str
    input_path: str
    target: str
    started_at: str
    finished_at: str | None
    rows_done: int

    @property
    def resumable(self) -> bool:
        return self.finished_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "object_type": self.object_type,
            "input_path": self.input_path,
            # "<base url>#<key fingerprint>" (or "sandbox:<db>#…" for the embedded sandbox): no hash
            "target": self.target.split("#", 1)[0],
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "rows_done": self.rows_done,
            "resumable": self.resumable,
        }


def list_runs(state_dir: StatePath | None = None) -> list[RunSummary]:
    """Runs in the ledger, newest first (empty when there is no ledger yet). Opened read-only, so
    listing never creates or migrates a ledger."""
    path = ledger_path(state_dir)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
    try:
        rows = conn.execute(
            "SELECT r.run_id, r.object_type, r.input_path, r.target, r.started_at, r.finished_at, "
            "(SELECT COUNT(*) FROM outcomes o WHERE o.run_id = r.run_id) "
            "FROM runs r ORDER BY r.started_at DESC, r.rowid DESC"
        ).fetchall()
    except sqlite3.DatabaseError:
        return []
    finally:
        conn.close()
    return [
        RunSummary(
            run_id=r[0],
            object_type=r[1],
            input_path=r[2],
            target=r[3],
            started_at=r[4],
            finished_at=r[5],
            rows_done=int(r[6]),
        )
        for r in rows
    ]


def files(state_dir: StatePath | None = None) -> list[Path]:
    """Every file in the state folder (the ledger, the sandbox, their WAL files, locks)."""
    folder = _folder(state_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file())


def clear(part: Part = "all", state_dir: StatePath | None = None) -> list[Path]:
    """Delete the ledger (``"ledger"``: no run can be resumed afterwards and known records are
    forgotten), the embedded sandbox (``"sandbox"``: its data is gone) or both (``"all"``, which
    removes the whole folder). Returns the files removed."""
    folder = _folder(state_dir)
    if not folder.is_dir():
        return []
    if part == "all":
        removed = [p for p in folder.rglob("*") if p.is_file()]
        shutil.rmtree(folder)
        return removed
    stem = LEDGER_FILE if part == "ledger" else SANDBOX_FILE
    removed = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = folder / f"{stem}{suffix}"
        if p.exists():
            p.unlink()
            removed.append(p)
    return removed


__all__ = [
    "ENV_VAR",
    "RunSummary",
    "clear",
    "files",
    "ledger_path",
    "list_runs",
    "lock_path",
    "sandbox_db_path",
    "state_dir",
]
