"""The page's working copy of one sheet: rows in SQLite, edits beside them, issues per cell.

Why SQLite: a million-row file must open at once and page in constant memory. The reader
(:func:`bulkio.read.open_table`, with every guard of the CLI) streams the rows into a database file
in the background; the first page is served as soon as its rows are in, and any later page is one
indexed query. Edits never touch the rows as read: they are kept in their own table and laid over
the rows when a page, a check or a saved copy reads them, so the original file is never changed and
an edit can be undone by clearing it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..issues import Issue

#: Rows inserted per transaction while loading (readers see them after each batch).
LOAD_BATCH = 5000
#: How long a page request waits for the background load to reach its rows.
PAGE_WAIT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, number INTEGER NOT NULL, cells TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS edits (n INTEGER NOT NULL, col INTEGER NOT NULL, value TEXT,
                                  PRIMARY KEY (n, col));
CREATE TABLE IF NOT EXISTS issues (n INTEGER NOT NULL, col INTEGER NOT NULL, severity TEXT NOT NULL,
                                   code TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rows_number ON rows (number);
CREATE INDEX IF NOT EXISTS issues_n ON issues (n);
CREATE INDEX IF NOT EXISTS issues_code ON issues (code, severity, n);
"""


def _encode(value: Any) -> Any:
    """JSON for what a workbook cell can hold beyond JSON: dates and times keep their type."""
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": value.total_seconds()}
    return str(value)


def _decode(obj: dict[str, Any]) -> Any:
    if "$dt" in obj:
        return dt.datetime.fromisoformat(obj["$dt"])
    if "$d" in obj:
        return dt.date.fromisoformat(obj["$d"])
    if "$t" in obj:
        return dt.time.fromisoformat(obj["$t"])
    if "$td" in obj:
        return dt.timedelta(seconds=obj["$td"])
    return obj


def dumps(cells: list[Any]) -> str:
    return json.dumps(cells, default=_encode, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


def shown(value: Any) -> str | None:
    """A cell as the grid shows it (and as an edit starts from)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class RowStore:
    """Rows of one sheet (``n`` = 0-based position, ``number`` = the spreadsheet row), their edits
    and the issues the last check found. Thread-safe: one connection behind a lock."""

    def __init__(self, path: str | Path, headers: list[str]) -> None:
        self.path = Path(path)
        self.headers = list(headers)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # a scratch copy: the original file is the truth
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._grew = threading.Condition(self._lock)
        self.loaded = 0
        self.done = False
        self.error: str | None = None
        self.reader_issues: list[Issue] = []
        self.load_seconds = 0.0
        #: bumped by every edit (a copy made at the same version holds the same rows)
        self.version = 0
        #: bumped whenever issues are written
        self.issues_version = 0

    # --- loading ----------------------------------------------------------------------------
    def load(self, rows: Iterable[Any], *, stop: threading.Event | None = None) -> None:
        """Insert ``SourceRow``s in batches (called on a background thread)."""
        started = time.monotonic()
        batch: list[tuple[int, int, str]] = []
        n = 0
        try:
            for row in rows:
                batch.append((n, row.number, dumps(row.cells)))
                n += 1
                if len(batch) >= (200 if n <= 200 else LOAD_BATCH):  # the first page goes in at once
                    self._insert(batch)
                    batch = []
                    if stop is not None and stop.is_set():
                        return
            if batch:
                self._insert(batch)
        except Exception as exc:  # noqa: BLE001 - shown on the page; the rows so far stay usable
            self.error = str(exc)
        finally:
            self.load_seconds = time.monotonic() - started
            with self._grew:
                self.done = True
                self._grew.notify_all()

    def _insert(self, batch: list[tuple[int, int, str]]) -> None:
        with self._grew:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO rows (n, number, cells) VALUES (?, ?, ?)", batch)
            self._db.execute("COMMIT")
            self.loaded = batch[-1][0] + 1
            self._grew.notify_all()

    def wait_for(self, count: int, timeout: float = PAGE_WAIT_S) -> None:
        """Block until ``count`` rows are loaded, the load ended, or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        with self._grew:
            while self.loaded < count and not self.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._grew.wait(left)

    # --- reading ----------------------------------------------------------------------------
    def _overlay(self, n: int, cells: list[Any], edits: dict[int, Any] | None) -> list[Any]:
        if not edits:
            return cells
        width = max(len(self.headers), len(cells))
        cells = [*cells, *([None] * (width - len(cells)))]
        for col, value in edits.items():
            if col < width:
                cells[col] = value
        return cells

    def _edits_for(self, lo: int, hi: int) -> dict[int, dict[int, Any]]:
        out: dict[int, dict[int, Any]] = {}
        for n, col, value in self._db.execute(
            "SELECT n, col, value FROM edits WHERE n >= ? AND n < ?", (lo, hi)
        ):
            out.setdefault(n, {})[col] = None if value is None else json.loads(value)
        return out

    def rows(self, offset: int, limit: int) -> list[tuple[int, int, list[Any]]]:
        """``(n, number, cells)`` for rows ``offset``…, edits laid over."""
        self.wait_for(offset + limit)
        with self._lock:
            got = self._db.execute(
                "SELECT n, number, cells FROM rows WHERE n >= ? ORDER BY n LIMIT ?", (offset, limit)
            ).fetchall()
            edits = self._edits_for(offset, offset + limit) if got else {}
        return [(n, number, self._overlay(n, loads(cells), edits.get(n))) for n, number, cells in got]

    def rows_at(self, ns: list[int]) -> list[tuple[int, int, list[Any]]]:
        if not ns:
            return []
        self.wait_for(max(ns) + 1)
        marks = ",".join("?" * len(ns))
        with self._lock:
            got = self._db.execute(
                f"SELECT n, number, cells FROM rows WHERE n IN ({marks}) ORDER BY n",
                ns,
            ).fetchall()
            edits: dict[int, dict[int, Any]] = {}
            for n, col, value in self._db.execute(
                f"SELECT n, col, value FROM edits WHERE n IN ({marks})",
                ns,
            ):
                edits.setdefault(n, {})[col] = None if value is None else json.loads(value)
        return [(n, number, self._overlay(n, loads(cells), edits.get(n))) for n, number, cells in got]

    def row(self, n: int) -> tuple[int, int, list[Any]] | None:
        got = self.rows_at([n])
        return got[0] if got else None

    def positions(self, numbers: list[int]) -> dict[int, int]:
        """Spreadsheet row number → position, for the rows of a report on the original file."""
        out: dict[int, int] = {}
        with self._lock:
            for i in range(0, len(numbers), 500):
                part = numbers[i : i + 500]
                marks = ",".join("?" * len(part))
                for n, number in self._db.execute(
                    f"SELECT n, number FROM rows WHERE number IN ({marks})",
                    part,
                ):
                    out[number] = n
        return out

    def original(self, n: int) -> list[Any] | None:
        with self._lock:
            got = self._db.execute("SELECT cells FROM rows WHERE n = ?", (n,)).fetchone()
        return None if got is None else list(loads(got[0]))

    def iter_rows(self, batch: int = 2000) -> Iterator[tuple[int, int, list[Any]]]:
        """Every row in order, edits laid over (waits for the load to finish as it goes)."""
        offset = 0
        while True:
            got = self.rows(offset, batch)
            if not got:
                if self.done:
                    return
                self.wait_for(offset + 1)
                if self.loaded <= offset and self.done:
                    return
                continue
            yield from got
            offset = got[-1][0] + 1

    # --- edits ------------------------------------------------------------------------------
    def edit(self, n: int, col: int, value: str | None) -> None:
        """Set one cell; setting it back to what the file holds removes the edit."""
        original = self.original(n)
        if original is None:
            raise KeyError(f"no row {n}")
        was = original[col] if col < len(original) else None
        with self._lock:
            self.version += 1
            if shown(was) == value or (was is None and value in (None, "")):
                self._db.execute("DELETE FROM edits WHERE n = ? AND col = ?", (n, col))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO edits (n, col, value) VALUES (?, ?, ?)",
                    (n, col, json.dumps(value if value != "" else None)),
                )

    def replace_in_column(
        self,
        col: int,
        find: str,
        replace: str,
        *,
        whole: bool = False,
        on_row: Callable[[int], None] | None = None,
    ) -> list[int]:
        """Find-and-replace in one column (text match, case-sensitive; ``whole``: the whole cell);
        returns the rows changed."""
        changed: list[int] = []
        for n, _number, cells in self.iter_rows():
            value = shown(cells[col]) if col < len(cells) else None
            if value is None or find == "":
                continue
            new = (replace if value == find else value) if whole else value.replace(find, replace)
            if new != value:
                self.edit(n, col, new)
                changed.append(n)
                if on_row is not None:
                    on_row(n)
        return changed

    def edited(self, ns: list[int] | None = None) -> dict[int, set[int]]:
        """Edited cells (``n → columns``), of these rows or of all."""
        out: dict[int, set[int]] = {}
        with self._lock:
            if ns is None:
                got = self._db.execute("SELECT n, col FROM edits").fetchall()
            elif not ns:
                got = []
            else:
                marks = ",".join("?" * len(ns))
                got = self._db.execute(
                    f"SELECT n, col FROM edits WHERE n IN ({marks})",
                    ns,
                ).fetchall()
        for n, col in got:
            out.setdefault(n, set()).add(col)
        return out

    def edit_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM edits").fetchone()[0])

    # --- issues -----------------------------------------------------------------------------
    def set_issues(self, rows: dict[int, list[Issue]], col_of: Callable[[str | None], int]) -> None:
        """Replace the issues of these rows (``n → issues``); ``col_of`` turns an issue's column
        letter into the cell index (-1: the row as a whole)."""
        if not rows:
            return
        values = [
            (n, col_of(i.column), i.severity, i.code, json.dumps(i.to_dict(), default=str))
            for n, items in rows.items()
            for i in items
        ]
        with self._lock:
            self.issues_version += 1
            self._db.execute("BEGIN")
            ns = list(rows)
            for k in range(0, len(ns), 500):
                part = ns[k : k + 500]
                marks = ",".join("?" * len(part))
                self._db.execute(f"DELETE FROM issues WHERE n IN ({marks})", part)
            self._db.executemany(
                "INSERT INTO issues (n, col, severity, code, data) VALUES (?, ?, ?, ?, ?)", values
            )
            self._db.execute("COMMIT")

    def clear_issues(self) -> None:
        with self._lock:
            self.issues_version += 1
            self._db.execute("DELETE FROM issues")

    def issues_at(self, ns: list[int]) -> dict[int, list[tuple[int, Issue]]]:
        """``n → [(cell index, issue)]`` for these rows."""
        if not ns:
            return {}
        marks = ",".join("?" * len(ns))
        out: dict[int, list[tuple[int, Issue]]] = {}
        with self._lock:
            got = self._db.execute(
                f"SELECT n, col, data FROM issues WHERE n IN ({marks}) ORDER BY rowid",
                ns,
            ).fetchall()
        for n, col, data in got:
            out.setdefault(n, []).append((col, Issue(**json.loads(data))))
        return out

    def issues_with(self, codes: Iterable[str]) -> Iterator[list[Issue]]:
        """Issues of these codes, one list per row (for :func:`bulkio.unresolved.group_unresolved`)."""
        codes = list(codes)
        marks = ",".join("?" * len(codes))
        with self._lock:
            got = self._db.execute(
                f"SELECT n, data FROM issues WHERE code IN ({marks}) ORDER BY n",
                codes,
            ).fetchall()
        current: int | None = None
        items: list[Issue] = []
        for n, data in got:
            if n != current and items:
                yield items
                items = []
            current = n
            items.append(Issue(**json.loads(data)))
        if items:
            yield items

    def kinds(self) -> list[dict[str, Any]]:
        """Issue kinds with how many rows have each, errors first."""
        with self._lock:
            got = self._db.execute(
                "SELECT code, severity, COUNT(DISTINCT n) FROM issues GROUP BY code, severity "
                "ORDER BY severity = 'warning', COUNT(DISTINCT n) DESC, code"
            ).fetchall()
        return [{"code": c, "severity": s, "rows": k} for c, s, k in got]

    def count_with_issues(self, *, code: str | None = None, severity: str | None = "error") -> int:
        where, args = self._where(code, severity)
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(DISTINCT n) FROM issues{where}", args).fetchone()[0])

    def rows_with_issues(
        self, offset: int, limit: int, *, code: str | None = None, severity: str | None = "error"
    ) -> list[int]:
        where, args = self._where(code, severity)
        with self._lock:
            got = self._db.execute(
                f"SELECT DISTINCT n FROM issues{where} ORDER BY n LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [n for (n,) in got]

    @staticmethod
    def _where(code: str | None, severity: str | None) -> tuple[str, list[Any]]:
        parts, args = [], []
        if code:
            parts.append("code = ?")
            args.append(code)
        if severity:
            parts.append("severity = ?")
            args.append(severity)
        return (" WHERE " + " AND ".join(parts) if parts else ""), args

    def close(self) -> None:
        with self._lock:
            self._db.close()
