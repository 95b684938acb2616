"""The import run ledger: a small SQLite file that makes an interrupted import resumable without
writing any row twice.

Why it exists: a crash (or Ctrl-C, or a stopping API error) can happen after a create request reached
the server but before bulkio learned the new record's id. The writer therefore records each row's
*intent* (the exact request body and its Idempotency-Key) durably **before** sending, and the
*outcome* after. On resume, intents without an outcome are re-sent unchanged: the API answers a
replayed key from its idempotency cache (24 h) instead of creating a second record. An intent with a
``follow_up`` (a note update sent as two requests) gets its outcome only after both requests; a
resume replays both with their own keys, the first answered from the cache if it already ran.

It also remembers which record id each upsert key was written to (``known_records``), because list
results lag recent writes (API-FACTS §6): a record created a few seconds ago is still matched.

The file holds no secrets: ``target`` is ``"<base_url>#<key fingerprint>"``, never the API key.

>>> with Ledger(tmp / "ledger.sqlite3") as ledger:                      # doctest: +SKIP
...     run = ledger.start_run(input_path="accounts.csv", input_fingerprint="sha256:…",
...                            object_type="account", target=target, options={"key_field": "external_id"})
...     ledger.record_intent(run, op); ...; ledger.record_outcome(run, outcome)
...     ledger.finish_run(run)
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from .errors import LedgerError
from .issues import Issue
from .operations import Operation, RowOutcome

#: The default ledger lives in the per-user state folder: :func:`bulkio.state.ledger_path`.
#: ``PRAGMA application_id`` of a bulkio ledger ("bklg"): tells our file from any other SQLite file.
APPLICATION_ID = 0x626B6C67
#: Bumped on every incompatible schema change; older files are migrated, newer ones refused.
#: 2: ``runs.run_fingerprint`` (file + mapping + options), so a run is found by what it writes.
#: Columns added since without a bump (older bulkio reads and writes such a file unchanged; this
#: one adds them on open): ``runs.parent_run`` (a workbook's sheet runs point at the workbook
#: run) and ``runs.undoes`` (an undo run names the run it takes back).
SCHEMA_VERSION = 2
#: Columns added to ``runs`` after schema 2, with their definitions (added to older files on open).
_ADDED_RUN_COLUMNS = (("parent_run", "TEXT"), ("undoes", "TEXT"))
#: The option names a run's upsert key field is read from (first present wins), for known_records.
KEY_FIELD_OPTIONS = ("key_field", "key")
DEFAULT_KEY_FIELD = "external_id"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id            TEXT PRIMARY KEY,
    input_path        TEXT NOT NULL,
    input_fingerprint TEXT NOT NULL,
    object_type       TEXT NOT NULL,
    target            TEXT NOT NULL,
    key_field         TEXT NOT NULL,
    options           TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    run_fingerprint   TEXT,
    parent_run        TEXT,
    undoes            TEXT
);
CREATE INDEX IF NOT EXISTS runs_lookup ON runs (input_path, object_type, target, started_at);
CREATE TABLE IF NOT EXISTS intents (
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    row         INTEGER NOT NULL,
    operation   TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, row)
);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    row         INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    record_id   TEXT,
    key         TEXT,
    data        TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, row)
);
CREATE TABLE IF NOT EXISTS records (
    target      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    key_field   TEXT NOT NULL,
    key_value   TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (target, object_type, key_field, key_value)
);
"""


@dataclass(slots=True, frozen=True)
class RunInfo:
    """A recorded run. ``rows_done`` counts rows with a recorded outcome; ``finished_at`` is None
    while the run can be resumed."""

    run_id: str
    input_fingerprint: str
    options: dict[str, Any]
    started_at: datetime
    rows_done: int
    input_path: str = ""
    run_fingerprint: str | None = None
    finished_at: datetime | None = None
    object_type: str = ""
    target: str = ""
    #: the workbook run this is a sheet of (None for a run of its own)
    parent_run: str | None = None
    #: the run this undo run takes back (None for an import)
    undoes: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


# --- (de)serialising the operation values --------------------------------------------------------


def _changes_to_json(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {k: [old, new] for k, (old, new) in changes.items()}


def _changes_from_json(data: dict[str, list[Any]] | None) -> dict[str, tuple[Any, Any]]:
    return {k: (v[0], v[1]) for k, v in (data or {}).items()}


def _issues_from_json(data: list[dict[str, Any]] | None) -> list[Issue]:
    return [Issue(**item) for item in (data or [])]


def operation_to_dict(op: Operation) -> dict[str, Any]:
    """The JSON form of an :class:`Operation` as stored in the ledger (round-trips exactly)."""
    return {
        "row": op.row,
        "action": op.action,
        "object_type": op.object_type,
        "record_id": op.record_id,
        "key": op.key,
        "body": op.body,
        "changes": _changes_to_json(op.changes),
        "idempotency_key": op.idempotency_key,
        "issues": [i.to_dict() for i in op.issues],
        "follow_up": op.follow_up,
    }


def operation_from_dict(data: dict[str, Any]) -> Operation:
    return Operation(
        row=data["row"],
        action=data["action"],
        object_type=data["object_type"],
        record_id=data.get("record_id"),
        key=data.get("key"),
        body=data.get("body"),
        changes=_changes_from_json(data.get("changes")),
        idempotency_key=data.get("idempotency_key"),
        issues=_issues_from_json(data.get("issues")),
        follow_up=data.get("follow_up"),
    )


def outcome_to_dict(outcome: RowOutcome) -> dict[str, Any]:
    """The JSON form of a :class:`RowOutcome` as stored in the ledger (round-trips exactly)."""
    return {
        "row": outcome.row,
        "outcome": outcome.outcome,
        "record_id": outcome.record_id,
        "link": outcome.link,
        "key": outcome.key,
        "issues": [i.to_dict() for i in outcome.issues],
        "changes": _changes_to_json(outcome.changes),
        "attempts": outcome.attempts,
    }


def outcome_from_dict(data: dict[str, Any]) -> RowOutcome:
    return RowOutcome(
        row=data["row"],
        outcome=data["outcome"],
        record_id=data.get("record_id"),
        link=data.get("link"),
        key=data.get("key"),
        issues=_issues_from_json(data.get("issues")),
        changes=_changes_from_json(data.get("changes")),
        attempts=data.get("attempts", 0),
    )


# --- the ledger ----------------------------------------------------------------------------------


class Ledger:
    """One SQLite file (WAL mode), safe to share between the writer's threads.

    Every ``record_*`` call is its own committed transaction with ``synchronous=FULL``, so an intent
    is on disk before the request it describes is sent, and survives a crash of the process or OS
    (``record_outcomes`` commits many rows that sent no request at once).
    One connection guarded by a lock: the writes are tiny and the API rate limit (25/s) is far below
    what SQLite commits per second, so a connection per thread would buy nothing.
    """

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"Cannot open the resume ledger {self.path}: {exc}") from exc
        try:
            self._setup(durable)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise LedgerError(
                f"{self.path} is not a bulkio ledger or is corrupt ({exc}). Move it away or delete it to "
                "start fresh (runs recorded in it can then no longer be resumed)."
            ) from exc
        except LedgerError:
            self._conn.close()
            raise

    def _setup(self, durable: bool) -> None:
        conn = self._conn
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app_id == 0 and not tables:
            # A new (or empty) file: claim it.
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        elif app_id != APPLICATION_ID:
            raise LedgerError(
                f"{self.path} is an SQLite file but not a bulkio ledger (it holds tables "
                f"{', '.join(sorted(tables)) or 'none'}). Choose another --ledger path."
            )
        elif version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.path} was written by a newer bulkio (ledger schema {version}, this version "
                f"reads up to {SCHEMA_VERSION}). Upgrade bulkio or use another --ledger path."
            )
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() not in ("wal", "memory"):
            raise LedgerError(f"Cannot switch the ledger {self.path} to WAL mode (got {mode}).")
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(_SCHEMA)
        columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        if "run_fingerprint" not in columns:  # schema 1: runs were found by path only
            conn.execute("ALTER TABLE runs ADD COLUMN run_fingerprint TEXT")
        for name, definition in _ADDED_RUN_COLUMNS:
            if name not in columns:
                conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {definition}")
        conn.execute("CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run)")
        conn.execute("CREATE INDEX IF NOT EXISTS runs_by_fingerprint ON runs (run_fingerprint, started_at)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise LedgerError(f"The ledger {self.path} is corrupt ({check}). Move it away or delete it.")

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            try:
                self._conn.execute(sql, params)
            except sqlite3.IntegrityError as exc:
                raise LedgerError(f"Ledger {self.path}: {exc} (unknown run id?)") from exc
            except sqlite3.Error as exc:
                raise LedgerError(f"Cannot write the resume ledger {self.path}: {exc}") from exc

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise LedgerError(f"Cannot read the resume ledger {self.path}: {exc}") from exc

    # --- runs --------------------------------------------------------------------------------
    def start_run(
        self,
        *,
        input_path: str,
        input_fingerprint: str,
        object_type: str,
        target: str,
        options: dict[str, Any],
        run_fingerprint: str | None = None,
        parent_run: str | None = None,
        undoes: str | None = None,
    ) -> str:
        """Open a new run and return its id. ``options`` (JSON-able) are stored for resume; the upsert
        key field is read from ``options["key_field"]`` (or ``"key"``; default ``external_id``).
        ``run_fingerprint`` (file + mapping + every option that changes what is written) is how
        :meth:`find_run` finds the run again, wherever the file is by then. ``parent_run`` makes
        it a sheet of a workbook run; ``undoes`` makes it the undo of that run."""
        run_id = uuid.uuid4().hex
        key_field = next((str(options[k]) for k in KEY_FIELD_OPTIONS if options.get(k)), DEFAULT_KEY_FIELD)
        self._write(
            "INSERT INTO runs (run_id, input_path, input_fingerprint, object_type, target, key_field, "
            "options, started_at, run_fingerprint, parent_run, undoes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                str(input_path),
                input_fingerprint,
                object_type,
                target,
                key_field,
                _dumps(options),
                _now(),
                run_fingerprint,
                parent_run,
                undoes,
            ),
        )
        return run_id

    _RUN_COLUMNS = (
        "r.run_id, r.input_fingerprint, r.options, r.started_at, "
        "(SELECT COUNT(*) FROM outcomes o WHERE o.run_id = r.run_id), r.input_path, r.run_fingerprint, "
        "r.finished_at, r.object_type, r.target, r.parent_run, r.undoes"
    )

    def _runs(self, where: str, params: tuple[Any, ...], *, limit: int = 1) -> list[RunInfo]:
        rows = self._read(
            f"SELECT {self._RUN_COLUMNS} FROM runs r WHERE {where} "
            f"ORDER BY r.started_at DESC, r.rowid DESC LIMIT {int(limit)}",
            params,
        )
        return [
            RunInfo(
                run_id=run_id,
                input_fingerprint=fingerprint,
                options=json.loads(options),
                started_at=datetime.fromisoformat(started_at),
                rows_done=int(done),
                input_path=path,
                run_fingerprint=run_fp,
                finished_at=datetime.fromisoformat(finished) if finished else None,
                object_type=otype,
                target=target,
                parent_run=parent,
                undoes=undoes,
            )
            for (
                run_id,
                fingerprint,
                options,
                started_at,
                done,
                path,
                run_fp,
                finished,
                otype,
                target,
                parent,
                undoes,
            ) in rows
        ]

    def find_run(
        self,
        *,
        object_type: str,
        target: str,
        run_fingerprint: str | None = None,
        input_fingerprint: str | None = None,
        input_path: str | None = None,
        unfinished: bool | None = None,
    ) -> RunInfo | None:
        """The latest run of ``object_type`` against ``target`` matching every criterion given: the
        run fingerprint, the input file's content, its path, (un)finished."""
        where, params = ["r.object_type = ?", "r.target = ?"], [object_type, target]
        for column, value in (
            ("run_fingerprint", run_fingerprint),
            ("input_fingerprint", input_fingerprint),
            ("input_path", input_path),
        ):
            if value is not None:
                where.append(f"r.{column} = ?")
                params.append(str(value))
        if unfinished is not None:
            where.append("r.finished_at IS NULL" if unfinished else "r.finished_at IS NOT NULL")
        found = self._runs(" AND ".join(where), tuple(params))
        return found[0] if found else None

    def run(self, run_id: str) -> RunInfo | None:
        """The run with this id, or with this unique id prefix (at least 6 characters: what
        ``bulkio runs`` shows)."""
        found = self._runs("r.run_id = ?", (run_id,))
        if not found and 6 <= len(run_id) < 32 and all(c in "0123456789abcdef" for c in run_id):
            found = self._runs("r.run_id LIKE ?", (run_id + "%",), limit=2)
            if len(found) > 1:
                raise LedgerError(f"run id {run_id!r} is ambiguous: give more of it (bulkio runs lists them)")
        return found[0] if found else None

    def sheet_runs(self, run_id: str) -> list[RunInfo]:
        """The sheet runs of a workbook run, in the order they were started."""
        return list(reversed(self._runs("r.parent_run = ?", (run_id,), limit=1000)))

    def undo_of(self, run_id: str, *, finished: bool | None = None) -> RunInfo | None:
        """The latest undo run of ``run_id`` (only finished or unfinished ones, if given)."""
        where = "r.undoes = ?"
        if finished is not None:
            where += " AND r.finished_at IS NOT NULL" if finished else " AND r.finished_at IS NULL"
        found = self._runs(where, (run_id,))
        return found[0] if found else None

    def intents(self, run_id: str) -> dict[int, Operation]:
        """Every intent recorded in the run (with or without an outcome), by row."""
        rows = self._read("SELECT row, operation FROM intents WHERE run_id = ? ORDER BY row", (run_id,))
        return {row: operation_from_dict(json.loads(data)) for row, data in rows}

    def keyless_creates(self, run_id: str) -> int:
        """Rows of the run created (or possibly created: a pending intent) without an upsert key:
        importing the same rows again would create them again."""
        done = self._read(
            "SELECT COUNT(*) FROM outcomes WHERE run_id = ? AND outcome = 'created' AND key IS NULL",
            (run_id,),
        )[0][0]
        pending = sum(1 for op in self.pending(run_id).values() if op.action == "create" and not op.key)
        return int(done) + pending

    def find_resumable(
        self, *, input_path: str, object_type: str, target: str, input_fingerprint: str | None = None
    ) -> RunInfo | None:
        """The latest unfinished run for this input, object type and target (or ``None``).

        With ``input_fingerprint`` a run of the same *content* is found first, wherever the file is
        now (moved, copied, another spelling of its path); else the latest run of the same path,
        whose fingerprint then tells the caller that the file changed. (The importer finds runs by
        their whole fingerprint, :meth:`find_run`.)"""
        found = None
        if input_fingerprint:
            found = self.find_run(
                object_type=object_type, target=target, input_fingerprint=input_fingerprint, unfinished=True
            )
        return found or self.find_run(
            object_type=object_type, target=target, input_path=input_path, unfinished=True
        )

    def discard_run(self, run_id: str) -> None:
        """Forget a run under which nothing was recorded (a workbook run whose sheets could not
        all be prepared); a run with intents or outcomes is kept."""
        self._write(
            "DELETE FROM runs WHERE run_id = ? AND NOT EXISTS (SELECT 1 FROM intents WHERE run_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM outcomes WHERE run_id = ?)",
            (run_id, run_id, run_id),
        )

    def finish_run(self, run_id: str) -> None:
        """Mark the run complete: it is no longer offered for resume."""
        self._write("UPDATE runs SET finished_at = ? WHERE run_id = ?", (_now(), run_id))

    # --- rows --------------------------------------------------------------------------------
    def record_intent(self, run_id: str, op: Operation) -> None:
        """Durably record what is about to be sent, BEFORE sending it (same body, same key on resume)."""
        self._write(
            "INSERT OR REPLACE INTO intents (run_id, row, operation, recorded_at) VALUES (?, ?, ?, ?)",
            (run_id, op.row, _dumps(operation_to_dict(op)), _now()),
        )

    def record_outcome(self, run_id: str, outcome: RowOutcome) -> None:
        """Record what happened to a row; created/updated rows also update ``known_records``, and a
        record an undo deleted is forgotten there."""
        data = _dumps(outcome_to_dict(outcome))
        now = _now()
        with self._lock:
            own = not self._conn.in_transaction  # inside record_outcomes: its transaction
            try:
                if own:
                    self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO outcomes (run_id, row, outcome, record_id, key, data, "
                        "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (run_id, outcome.row, outcome.outcome, outcome.record_id, outcome.key, data, now),
                    )
                    if outcome.record_id and outcome.outcome == "deleted":  # an undo's
                        self._conn.execute(
                            "DELETE FROM records WHERE record_id = ? AND target = "
                            "(SELECT target FROM runs WHERE run_id = ?)",
                            (outcome.record_id, run_id),
                        )
                    if (
                        outcome.record_id
                        and outcome.key
                        and outcome.outcome in ("created", "updated", "unchanged")
                    ):
                        self._conn.execute(
                            "INSERT OR REPLACE INTO records (target, object_type, key_field, key_value, "
                            "record_id, run_id, recorded_at) SELECT target, object_type, key_field, ?, ?, "
                            "run_id, ? FROM runs WHERE run_id = ?",
                            (outcome.key, outcome.record_id, now, run_id),
                        )
                except BaseException:
                    if own:
                        self._conn.execute("ROLLBACK")
                    raise
                if own:
                    self._conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                raise LedgerError(f"Ledger {self.path}: {exc} (unknown run id?)") from exc
            except sqlite3.Error as exc:
                raise LedgerError(f"Cannot write the resume ledger {self.path}: {exc}") from exc

    def record_outcomes(self, run_id: str, outcomes: Iterable[RowOutcome]) -> None:
        """Record many outcomes in one transaction (one fsync): for rows that sent no request
        (unchanged, skipped), which need no intent on disk before anything happens. Lost in a
        crash, such a row is planned again on resume, to the same outcome."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for outcome in outcomes:
                        self.record_outcome(run_id, outcome)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise LedgerError(f"Cannot write the resume ledger {self.path}: {exc}") from exc

    def pending(self, run_id: str) -> dict[int, Operation]:
        """Intents recorded without an outcome: requests that may or may not have reached the server.
        Re-send them unchanged (same body and Idempotency-Key)."""
        rows = self._read(
            "SELECT i.row, i.operation FROM intents i LEFT JOIN outcomes o "
            "ON o.run_id = i.run_id AND o.row = i.row WHERE i.run_id = ? AND o.row IS NULL ORDER BY i.row",
            (run_id,),
        )
        return {row: operation_from_dict(json.loads(data)) for row, data in rows}

    def completed(self, run_id: str) -> dict[int, RowOutcome]:
        """Every row of the run with a recorded outcome, by row number."""
        rows = self._read("SELECT row, data FROM outcomes WHERE run_id = ? ORDER BY row", (run_id,))
        return {row: outcome_from_dict(json.loads(data)) for row, data in rows}

    def last_created_record(
        self, *, target: str, object_type: str, exclude_runs: tuple[str, ...] = ()
    ) -> tuple[str, datetime, str, str | None] | None:
        """The record of ``object_type`` bulkio created last under ``target``, with a key or
        without: (record id, when, the run's key field, the record's key or None), not counting
        the runs in ``exclude_runs``. Lists lag recent writes; a lookup of it tells whether they
        caught up."""
        skip = f" AND o.run_id NOT IN ({', '.join('?' * len(exclude_runs))})" if exclude_runs else ""
        rows = self._read(
            "SELECT o.record_id, o.recorded_at, r.key_field, o.key FROM outcomes o "
            "JOIN runs r ON r.run_id = o.run_id WHERE r.target = ? AND r.object_type = ? "
            f"AND o.outcome = 'created' AND o.record_id IS NOT NULL{skip} "
            "ORDER BY o.recorded_at DESC LIMIT 1",
            (target, object_type, *exclude_runs),
        )
        if not rows:
            return None
        record_id, at, key_field, key = rows[0]
        return str(record_id), datetime.fromisoformat(at), str(key_field), None if key is None else str(key)

    def known_records(self, *, target: str, object_type: str, key_field: str) -> dict[str, str]:
        """Key value -> record id for every record bulkio wrote under this target (latest write wins)."""
        rows = self._read(
            "SELECT key_value, record_id FROM records WHERE target = ? AND object_type = ? AND key_field = ?",
            (target, object_type, key_field),
        )
        return {key: record_id for key, record_id in rows}
