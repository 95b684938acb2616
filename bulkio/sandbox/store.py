"""SQLite persistence for the sandbox, with the live data of each org held in memory.

Why memory + SQLite: list endpoints filter and page over every record of a type, and doing that
from Python dicts is fast (10,000 opportunities page in milliseconds) while SQLite (one WAL file,
all orgs in it) keeps the data across restarts and CLI invocations. Every write goes through
:meth:`Store.save`, which commits the touched records and the idempotency entry in one transaction.
An org's records are loaded lazily on first use, so opening a big db is instant.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .profile import STRICT, Profile

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, doc TEXT NOT NULL,
                                 created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key_hash TEXT PRIMARY KEY, org_id TEXT NOT NULL, scopes TEXT NOT NULL,
                                 member_id TEXT, created REAL NOT NULL, session INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS records (
    org_id TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, created TEXT NOT NULL,
    created_ts REAL NOT NULL, updated TEXT NOT NULL, external_id TEXT, fields TEXT NOT NULL,
    rels TEXT NOT NULL, PRIMARY KEY (org_id, id));
CREATE INDEX IF NOT EXISTS records_by_type ON records (org_id, type, created_ts);
CREATE TABLE IF NOT EXISTS idempotency (
    org_id TEXT NOT NULL, operation TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT NULL,
    body BLOB NOT NULL, created REAL NOT NULL, request TEXT, PRIMARY KEY (org_id, operation, key));
"""
#: Columns added after the first release, with their definitions (added to older files on open).
_ADDED_COLUMNS = (
    ("keys", "session", "INTEGER NOT NULL DEFAULT 0"),
    ("idempotency", "request", "TEXT"),
)

IDEMPOTENCY_TTL = 24 * 3600.0


@dataclass(slots=True)
class Record:
    """One stored entity; ``fields`` holds only set values, ``rels`` every linked id list."""

    id: str
    type: str
    created: str
    created_ts: float
    updated: str
    external_id: str | None
    fields: dict[str, Any]
    rels: dict[str, list[str]]
    #: normalised filter texts per field key, filled lazily by list filters; cleared on update
    norm: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ObjectDef:
    """One object type of an org, parsed from the seed document."""

    type: str
    label: str
    collection: str
    custom: bool
    id_prefix: str
    required: tuple[str, ...]
    fields: dict[str, dict[str, Any]]
    rels: dict[str, dict[str, Any]]
    closed_fields: bool = False
    no_definitions: bool = False
    update_ops: tuple[str, ...] = ("add", "remove", "replace")

    @classmethod
    def from_doc(cls, otype: str, d: dict[str, Any]) -> ObjectDef:
        custom = bool(d.get("custom"))
        return cls(
            type=otype,
            label=d.get("label", otype),
            collection=d.get("collection") or otype,
            custom=custom,
            id_prefix=d.get("idPrefix") or ("obj_" if custom else f"{otype[:3]}_"),
            required=tuple(d.get("required") or ()),
            fields=dict(d.get("fields") or {}),
            rels=dict(d.get("relationships") or {}),
            closed_fields=bool(d.get("closedFields")),
            no_definitions=bool(d.get("noDefinitions")),
            update_ops=tuple(d.get("updateOps") or ("add", "remove", "replace")),
        )


MEMBER_DEF = ObjectDef(
    type="member",
    label="Member",
    collection="members",
    custom=False,
    id_prefix="mem_",
    required=(),
    fields={
        "$email": {"label": "Email", "valueType": "EMAIL", "typeConfiguration": {}},
        "$name": {"label": "Name", "valueType": "FULL_NAME", "typeConfiguration": {}},
        "$profileImage": {"label": "Profile Image", "valueType": "URL", "typeConfiguration": {}},
        "$role": {"label": "Role", "valueType": "TEXT", "typeConfiguration": {}},
    },
    rels={},
)

#: list ``$objectType`` (bare form) → the membership relationship key on list writes
LIST_MEMBER_KEYS = {"account": "$accounts", "contact": "$contacts", "opportunity": "$opportunities"}

LIST_DEF = ObjectDef(
    type="list",
    label="List",
    collection="lists",
    custom=False,
    id_prefix="list_",
    required=("$name", "$objectType"),
    fields={
        "$name": {"label": "Name", "valueType": "TEXT", "typeConfiguration": {}},
        "$objectType": {"label": "Object type", "valueType": "TEXT", "typeConfiguration": {}},
    },
    rels={
        key: {"label": f"{otype.capitalize()} members", "cardinality": "HAS_MANY", "objectType": otype}
        for otype, key in LIST_MEMBER_KEYS.items()
    },
    closed_fields=True,
    no_definitions=True,
    update_ops=("add", "remove"),
)


@dataclass
class OrgData:
    """The in-memory state of one org."""

    org_id: str
    name: str
    doc: dict[str, Any]
    objects: dict[str, ObjectDef]
    records: dict[str, Record] = field(default_factory=dict)
    ordered: dict[str, list[Record]] = field(default_factory=dict)
    unique: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    last_ts: float = 0.0
    derived_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    #: the sandbox's profile (how unique values and filters compare, which labels writes take)
    profile: Profile = STRICT

    @classmethod
    def from_doc(cls, org_id: str, name: str, doc: dict[str, Any], profile: Profile = STRICT) -> OrgData:
        objects = {k: ObjectDef.from_doc(k, v) for k, v in (doc.get("objects") or {}).items()}
        objects["member"] = MEMBER_DEF
        objects["list"] = LIST_DEF
        return cls(org_id=org_id, name=name, doc=doc, objects=objects, profile=profile)

    def by_collection(self, collection: str) -> ObjectDef | None:
        for o in self.objects.values():
            if not o.custom and o.collection == collection:
                return o
        return None

    def add(self, rec: Record) -> None:
        """Insert a new record (kept newest-last per type) and index its unique values."""
        self.records[rec.id] = rec
        lst = self.ordered.setdefault(rec.type, [])
        if lst and (lst[-1].created_ts, lst[-1].id) > (rec.created_ts, rec.id):
            lst.append(rec)
            lst.sort(key=lambda r: (r.created_ts, r.id))
        else:
            lst.append(rec)
        self.last_ts = max(self.last_ts, rec.created_ts)
        self.index_unique(rec, None)

    def remove(self, rec: Record) -> None:
        """Take a deleted record out of the org (its unique values are free again)."""
        self.records.pop(rec.id, None)
        lst = self.ordered.get(rec.type)
        if lst is not None and rec in lst:
            lst.remove(rec)
        odef = self.objects.get(rec.type)
        for key, fdef in odef.fields.items() if odef is not None else ():
            if not (fdef.get("typeConfiguration") or {}).get("unique"):
                continue
            idx = self.unique.get((rec.type, key), {})
            for v in unique_values(rec.fields.get(key), exact=self.profile.case_sensitive):
                if idx.get(v) == rec.id:
                    del idx[v]

    def index_unique(self, rec: Record, old_fields: dict[str, Any] | None) -> None:
        odef = self.objects.get(rec.type)
        if odef is None:
            return
        for key, fdef in odef.fields.items():
            if not (fdef.get("typeConfiguration") or {}).get("unique"):
                continue
            idx = self.unique.setdefault((rec.type, key), {})
            exact = self.profile.case_sensitive
            if old_fields is not None:
                for v in unique_values(old_fields.get(key), exact=exact):
                    if idx.get(v) == rec.id:
                        del idx[v]
            for v in unique_values(rec.fields.get(key), exact=exact):
                idx[v] = rec.id

    def derived(self, otype: str) -> frozenset[str]:
        """Read-only reverse links of a type: rebuilt from the other side, never persisted."""
        found = self.derived_cache.get(otype)
        if found is None:
            odef = self.objects.get(otype)
            found = (
                frozenset(k for k, rd in odef.rels.items() if rd.get("readOnly") and rd.get("inverse"))
                if odef
                else frozenset()
            )
            self.derived_cache[otype] = found
        return found

    def rebuild_derived(self) -> None:
        """Fill every derived reverse link from the forward side (after loading from SQLite)."""
        for rec in self.records.values():
            for key in self.derived(rec.type):
                rec.rels.pop(key, None)
        for otype, recs in self.ordered.items():
            odef = self.objects.get(otype)
            if odef is None:
                continue
            for key, rd in odef.rels.items():
                inverse = rd.get("inverse")
                if rd.get("readOnly") or not inverse or inverse not in self.derived(rd["objectType"]):
                    continue
                for rec in recs:
                    for tid in rec.rels.get(key, ()):
                        t = self.records.get(tid)
                        if t is not None:
                            t.rels.setdefault(inverse, []).append(rec.id)

    def next_ts(self) -> float:
        """A creation time strictly after every earlier one, so newest-first order is total."""
        now = time.time()
        ts = max(now, self.last_ts + 1e-6)
        self.last_ts = ts
        return ts


def unique_values(value: Any, *, exact: bool = False) -> list[str]:
    """Index keys of a unique field's value: as stored (``exact``, the strict profile), else
    case-insensitive with whitespace collapsed."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if exact:
        return [str(v) for v in items]
    return [" ".join(str(v).split()).casefold() for v in items]


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (0600), or tighten an existing file we own:
    the db holds every org's data and key hashes."""
    if str(path) in ("", ":memory:"):
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        if os.stat(path).st_uid == os.getuid() and os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except (OSError, AttributeError):  # a read-only place, or no getuid (Windows): SQLite decides
        pass


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Store:
    """The SQLite file plus the in-memory org cache. All methods are serialised by ``lock``."""

    def __init__(self, path: str | Path, *, profile: Profile = STRICT) -> None:
        self.path = Path(path)
        self.profile = profile
        self.lock = threading.RLock()
        _private_file(self.path)
        self.conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        for table, column, decl in _ADDED_COLUMNS:
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        # Older files kept the default org's key in plain text: it stays valid (its hash is in
        # ``keys``), but the text goes.
        self.conn.execute("DELETE FROM meta WHERE key = 'default_api_key'")
        self.orgs: dict[str, OrgData] = {}
        self.keys: dict[str, tuple[str, list[str], str | None]] = {}
        for kh, org_id, scopes, member in self.conn.execute(
            "SELECT key_hash, org_id, scopes, member_id FROM keys"
        ):
            self.keys[kh] = (org_id, json.loads(scopes), member)

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
    def add_org(self, org_id: str, name: str, doc: dict[str, Any], records: Iterable[Record]) -> OrgData:
        org = OrgData.from_doc(org_id, name, doc, self.profile)
        recs = list(records)
        for r in recs:
            org.add(r)
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                self.conn.execute(
                    "INSERT INTO orgs(id, name, doc, created) VALUES (?, ?, ?, ?)",
                    (org_id, name, json.dumps(doc), time.time()),
                )
                self._write_records(org, recs)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.orgs[org_id] = org
        return org

    def org(self, org_id: str) -> OrgData | None:
        """The org's state, loading it from SQLite the first time it is used."""
        with self.lock:
            org = self.orgs.get(org_id)
            if org is not None:
                return org
            row = self.conn.execute("SELECT name, doc FROM orgs WHERE id=?", (org_id,)).fetchone()
            if row is None:
                return None
            org = OrgData.from_doc(org_id, row[0], json.loads(row[1]), self.profile)
            rows = self.conn.execute(
                "SELECT id, type, created, created_ts, updated, external_id, fields, rels FROM records "
                "WHERE org_id=? ORDER BY type, created_ts, id",
                (org_id,),
            )
            for rid, rtype, created, cts, updated, ext, f, r in rows:
                rec = Record(rid, rtype, created, cts, updated, ext, json.loads(f), json.loads(r))
                org.records[rid] = rec
                org.ordered.setdefault(rtype, []).append(rec)
                org.last_ts = max(org.last_ts, cts)
                org.index_unique(rec, None)
            org.rebuild_derived()
            self.orgs[org_id] = org
            return org

    def forget(self, org_id: str) -> None:
        """Drop the org's in-memory state; the next use reloads it from SQLite (a write that
        failed half-way leaves no trace)."""
        with self.lock:
            self.orgs.pop(org_id, None)

    def add_key(
        self, key: str, org_id: str, scopes: list[str], member_id: str | None, *, session: bool = False
    ) -> None:
        """Store the key's SHA-256 only. ``session`` keys live while one process serves and are
        removed by :meth:`drop_key` when it closes."""
        with self.lock:
            kh = hash_key(key)
            self.conn.execute(
                "INSERT INTO keys(key_hash, org_id, scopes, member_id, created, session) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (kh, org_id, json.dumps(scopes), member_id, time.time(), int(session)),
            )
            self.keys[kh] = (org_id, list(scopes), member_id)

    def drop_key(self, key: str) -> None:
        with self.lock:
            kh = hash_key(key)
            self.conn.execute("DELETE FROM keys WHERE key_hash = ?", (kh,))
            self.keys.pop(kh, None)

    def lookup_key(self, key: str) -> tuple[str, list[str], str | None] | None:
        kh = hash_key(key)
        found = self.keys.get(kh)
        if found is None:
            # minted by another process since this one started (`bulkio sandbox mint-key`
            # next to a running `bulkio sandbox serve`)
            with self.lock:
                row = self.conn.execute(
                    "SELECT org_id, scopes, member_id FROM keys WHERE key_hash=?", (kh,)
                ).fetchone()
                if row is not None:
                    found = self.keys[kh] = (row[0], json.loads(row[1]), row[2])
        return found

    # --- writes ----------------------------------------------------------------------------------
    def _write_records(self, org: OrgData, recs: Iterable[Record]) -> None:
        rows = []
        for r in recs:
            derived = org.derived(r.type)
            rels = {k: v for k, v in r.rels.items() if k not in derived} if derived else r.rels
            rows.append(
                (
                    org.org_id,
                    r.id,
                    r.type,
                    r.created,
                    r.created_ts,
                    r.updated,
                    r.external_id,
                    json.dumps(r.fields),
                    json.dumps(rels),
                )
            )
        self.conn.executemany(
            "INSERT OR REPLACE INTO records(org_id, id, type, created, created_ts, updated, external_id, "
            "fields, rels) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def save(
        self,
        org: OrgData,
        recs: Iterable[Record],
        idem: tuple[str, str, int, bytes] | None = None,
        request: str | None = None,
    ) -> None:
        """Commit the touched records and (optionally) the idempotent response in one transaction."""
        org_id = org.org_id
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                self._write_records(org, recs)
                if idem is not None:
                    op, key, status, body = idem
                    self.conn.execute(
                        "INSERT OR REPLACE INTO idempotency(org_id, operation, key, status, body, created, "
                        "request) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (org_id, op, key, status, body, time.time(), request),
                    )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def delete(self, org: OrgData, rec: Record, touched: Iterable[Record]) -> None:
        """Commit a deletion: the record's row goes, the records whose links named it are
        rewritten, in one transaction."""
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                self.conn.execute("DELETE FROM records WHERE org_id=? AND id=?", (org.org_id, rec.id))
                self._write_records(org, touched)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def idempotent_response(self, org_id: str, op: str, key: str) -> tuple[int, bytes, str | None] | None:
        """The stored answer to ``key`` (status, body, request fingerprint), within the 24 h TTL."""
        with self.lock:
            row = self.conn.execute(
                "SELECT status, body, created, request FROM idempotency "
                "WHERE org_id=? AND operation=? AND key=?",
                (org_id, op, key),
            ).fetchone()
        if row is None or time.time() - row[2] > IDEMPOTENCY_TTL:
            return None
        return int(row[0]), bytes(row[1]), row[3]
