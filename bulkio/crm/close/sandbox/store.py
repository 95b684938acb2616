"""SQLite persistence for the Close sandbox, with each org's live data held in memory.

Same reasoning as the Lightfield sandbox: lists, aggregates and searches run over every record of
a type, which Python dicts do in milliseconds, while one SQLite file (WAL) keeps all orgs across
restarts and CLI runs. An org's configuration (users, statuses, pipelines, custom field
definitions, currency) is one JSON document; each lead, contact and opportunity is one row. Every
write commits the records it touched in one transaction, before the answer is sent.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (id TEXT PRIMARY KEY, config TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key_hash TEXT PRIMARY KEY, org_id TEXT NOT NULL, user_id TEXT NOT NULL,
                                 created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS records (org_id TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
                                    ts REAL NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (org_id, id));
CREATE INDEX IF NOT EXISTS records_by_type ON records (org_id, type, ts);
CREATE TABLE IF NOT EXISTS exports (org_id TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
                                    body BLOB NOT NULL, PRIMARY KEY (org_id, id));
"""

#: the record types the sandbox stores, in the order a lead owns them
TYPES = ("lead", "contact", "opportunity")
LABELS = {"lead": "Lead", "contact": "Contact", "opportunity": "Opportunity"}


@dataclass(slots=True)
class Rec:
    """One stored lead, contact or opportunity: ``doc`` holds what was written, nothing derived."""

    id: str
    type: str
    ts: float  # creation time: list order and index lag
    doc: dict[str, Any]


@dataclass
class OrgData:
    """The in-memory state of one org."""

    org_id: str
    config: dict[str, Any]
    records: dict[str, Rec] = field(default_factory=dict)
    ordered: dict[str, list[Rec]] = field(default_factory=lambda: {t: [] for t in TYPES})
    #: lead id → its contacts / opportunities, in creation order
    children: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_ts: float = 0.0
    #: bumped by every committed write: rendered shapes of an older version are stale
    version: int = 0
    shapes: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    # --- records ---------------------------------------------------------------------------------
    def add(self, rec: Rec) -> None:
        self.records[rec.id] = rec
        lst = self.ordered[rec.type]
        lst.append(rec)
        if len(lst) > 1 and (lst[-2].ts, lst[-2].id) > (rec.ts, rec.id):
            lst.sort(key=lambda r: (r.ts, r.id))
        self.last_ts = max(self.last_ts, rec.ts)
        self.link(rec)

    def remove(self, rec: Rec) -> None:
        self.unlink(rec)
        self.records.pop(rec.id, None)
        self.shapes.pop(rec.id, None)
        self.ordered[rec.type].remove(rec)

    def link(self, rec: Rec) -> None:
        lead_id = rec.doc.get("lead_id")
        if rec.type != "lead" and lead_id:
            kids = self.children.setdefault(lead_id, {"contact": [], "opportunity": []})[rec.type]
            if rec.id not in kids:
                kids.append(rec.id)

    def unlink(self, rec: Rec) -> None:
        lead_id = rec.doc.get("lead_id")
        if rec.type != "lead" and lead_id and lead_id in self.children:
            kids = self.children[lead_id][rec.type]
            if rec.id in kids:
                kids.remove(rec.id)

    def kids(self, lead_id: str, rtype: str) -> list[Rec]:
        ids = (self.children.get(lead_id) or {}).get(rtype, [])
        return [self.records[i] for i in ids if i in self.records]

    def get(self, rtype: str, rid: Any) -> Rec | None:
        rec = self.records.get(rid) if isinstance(rid, str) else None
        return rec if rec is not None and rec.type == rtype else None

    def next_ts(self) -> float:
        """A creation time strictly after every earlier one, so the order is total."""
        ts = max(time.time(), self.last_ts + 1e-6)
        self.last_ts = ts
        return ts

    # --- configuration lookups -------------------------------------------------------------------
    def user(self, user_id: Any) -> dict[str, Any] | None:
        return next((u for u in self.config["users"] if u["id"] == user_id), None)

    def opp_statuses(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every opportunity status with its pipeline, pipelines and statuses in order."""
        return [(s, p) for p in self.config["pipelines"] for s in p["statuses"]]

    def opp_status(self, status_id: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return next(((s, p) for s, p in self.opp_statuses() if s["id"] == status_id), None)

    def lead_status(self, status_id: Any) -> dict[str, Any] | None:
        return next((s for s in self.config["lead_statuses"] if s["id"] == status_id), None)

    def custom_fields(self, object_type: str) -> list[dict[str, Any]]:
        """The custom fields values of ``object_type`` can hold: its own, then associated shared ones."""
        own = list(self.config["custom_fields"].get(object_type, []))
        shared = [
            f
            for f in self.config["custom_fields"].get("shared", [])
            if any(a["object_type"] == object_type for a in f.get("associations", []))
        ]
        return own + shared

    def custom_field(self, object_type: str, field_id: str) -> dict[str, Any] | None:
        return next((f for f in self.custom_fields(object_type) if f["id"] == field_id), None)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Store:
    """The SQLite file plus the in-memory org cache. Callers hold ``lock`` around every use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.orgs: dict[str, OrgData] = {}
        self.keys: dict[str, tuple[str, str]] = {}

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # --- meta ------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # --- orgs and keys ---------------------------------------------------------------------------
    def add_org(self, org: OrgData) -> OrgData:
        """Persist a new org built in memory (configuration and records) in one transaction."""
        org_id, config = org.org_id, org.config
        with self.lock:

            def work() -> None:
                self.conn.execute(
                    "INSERT INTO orgs(id, config, created) VALUES (?, ?, ?)",
                    (org_id, json.dumps(config), time.time()),
                )
                self._write(org, org.records.values(), ())

            self._transaction(work)
            self.orgs[org_id] = org
        return org

    def org(self, org_id: str) -> OrgData | None:
        """The org's state, loaded from SQLite the first time it is used."""
        with self.lock:
            org = self.orgs.get(org_id)
            if org is not None:
                return org
            row = self.conn.execute("SELECT config FROM orgs WHERE id=?", (org_id,)).fetchone()
            if row is None:
                return None
            org = OrgData(org_id, json.loads(row[0]))
            rows = self.conn.execute(
                "SELECT id, type, ts, doc FROM records WHERE org_id=? ORDER BY ts, id", (org_id,)
            )
            recs = [Rec(rid, rtype, ts, json.loads(doc)) for rid, rtype, ts, doc in rows]
            for rec in recs:  # leads first is not guaranteed by ts order, so index after loading
                org.records[rec.id] = rec
                org.ordered[rec.type].append(rec)
                org.last_ts = max(org.last_ts, rec.ts)
            for rec in recs:
                org.link(rec)
            for eid, doc in self.conn.execute("SELECT id, doc FROM exports WHERE org_id=?", (org_id,)):
                org.exports[eid] = json.loads(doc)
            self.orgs[org_id] = org
            return org

    def add_key(self, key: str, org_id: str, user_id: str) -> None:
        with self.lock:
            kh = hash_key(key)
            self.conn.execute(
                "INSERT INTO keys(key_hash, org_id, user_id, created) VALUES (?, ?, ?, ?)",
                (kh, org_id, user_id, time.time()),
            )
            self.keys[kh] = (org_id, user_id)

    def lookup_key(self, key: str) -> tuple[str, str] | None:
        """(org id, user id) of a key, also one minted by another process on the same file."""
        kh = hash_key(key)
        found = self.keys.get(kh)
        if found is None:
            with self.lock:
                row = self.conn.execute("SELECT org_id, user_id FROM keys WHERE key_hash=?", (kh,)).fetchone()
                if row is not None:
                    found = self.keys[kh] = (row[0], row[1])
        return found

    # --- writes ----------------------------------------------------------------------------------
    def _transaction(self, work: Callable[[], None]) -> None:
        self.conn.execute("BEGIN")
        try:
            work()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _write(self, org: OrgData, upserts: Iterable[Rec], deletes: Iterable[str]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO records(org_id, id, type, ts, doc) VALUES (?, ?, ?, ?, ?)",
            [(org.org_id, r.id, r.type, r.ts, json.dumps(r.doc)) for r in upserts],
        )
        self.conn.executemany(
            "DELETE FROM records WHERE org_id=? AND id=?", [(org.org_id, rid) for rid in deletes]
        )

    def save(
        self, org: OrgData, upserts: Iterable[Rec] = (), deletes: Iterable[str] = (), *, config: bool = False
    ) -> None:
        """Commit touched records, deleted ids and (when it changed) the org's configuration."""
        ups, dels = list(upserts), list(deletes)
        with self.lock:
            org.version += 1

            def work() -> None:
                self._write(org, ups, dels)
                if config:
                    self.conn.execute(
                        "UPDATE orgs SET config=? WHERE id=?", (json.dumps(org.config), org.org_id)
                    )

            self._transaction(work)

    def save_export(self, org: OrgData, doc: dict[str, Any], body: bytes) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO exports(org_id, id, doc, body) VALUES (?, ?, ?, ?)",
                (org.org_id, doc["id"], json.dumps(doc), body),
            )
            org.exports[doc["id"]] = doc

    def export_body(self, org_id: str, export_id: str) -> bytes | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT body FROM exports WHERE org_id=? AND id=?", (org_id, export_id)
            ).fetchone()
        return bytes(row[0]) if row else None

    def export_org(self, export_id: str) -> str | None:
        """The org an export belongs to (download links carry no API key)."""
        with self.lock:
            row = self.conn.execute("SELECT org_id FROM exports WHERE id=?", (export_id,)).fetchone()
        return row[0] if row else None
