"""The sandbox's state and operations, independent of HTTP: orgs, keys, records, settings.

:class:`Sandbox` is what :func:`~bulkio.sandbox.app.create_app` serves and what
:class:`~bulkio.sandbox.server.SandboxServer` exposes to tests (``create_org``, ``count`` …).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .limits import OrgRuntime, default_burst, default_rate, faults_from_env
from .profile import Profile, get_profile
from .query import build_filters, page_bounds, relationship_slug, select
from .rules import HttpError, apply_write, bad, iso
from .seed import build_records, load_seed, new_id
from .store import LIST_DEF, LIST_MEMBER_KEYS, ObjectDef, OrgData, Record, Store

HTTP_LINK = "https://crm.lightfield.app/sandbox"
KEY_PREFIX = "sk_lf_sandbox_"
Params = list[tuple[str, str]]  # parsed query string
#: Every scope the API documents (API-FACTS §10: the 26 of AE-SCOPES / SPEC descriptions), and
#: ``<object>:delete`` for the DELETE operation of the newer docs (API-FACTS §12.12), which no
#: scope list names: the sandbox follows the ``<object>:<verb>`` pattern (docs/sandbox.md).
SCOPES = (
    frozenset(
        f"{obj}:{verb}"
        for obj in ("accounts", "contacts", "opportunities", "meetings", "tasks", "notes", "lists")
        for verb in ("create", "update", "read")
    )
    | {"files:create", "files:read", "emails:create", "emails:read", "members:read"}
    | {f"{obj}:delete" for obj in ("accounts", "contacts", "opportunities", "tasks", "notes")}
)


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes as given, or ValueError naming the first unknown one (with a did-you-mean):
    a misspelt scope would otherwise mint a key that silently lacks what was meant."""
    import difflib

    for scope in scopes:
        if scope not in SCOPES:
            close = difflib.get_close_matches(scope, sorted(SCOPES), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ValueError(
                f"Unknown scope '{scope}'.{hint} Scopes look like accounts:read, "
                "opportunities:create, members:read."
            )
    return list(dict.fromkeys(scopes))


@dataclass(frozen=True)
class Org:
    """An org created in the sandbox and a full-access key for it."""

    org_id: str
    api_key: str

    def __repr__(self) -> str:  # keys stay out of test output
        return f"Org(org_id={self.org_id!r})"


def mint_key_value() -> str:
    return KEY_PREFIX + secrets.token_hex(20)


class Sandbox:
    """All orgs in one SQLite file. Thread-safe: every public method takes the store lock.

    The file keeps keys as SHA-256 hashes only. The default org's key (:attr:`api_key`) is a
    session key: minted when first asked for, valid while this object is open, removed by
    :meth:`close`; :meth:`mint_key` makes lasting ones.
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        seed: str | Path | dict[str, Any] | None = "demo",
        rate_limit: float | None = None,
        profile: str | Profile | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bulkio-sandbox-")
            db_path = Path(self._tmp.name) / "sandbox.sqlite3"
        self.profile = get_profile(profile)
        self.store = Store(db_path, profile=self.profile)
        self.rate = float(rate_limit) if rate_limit is not None else default_rate()
        self.runtimes: dict[str, OrgRuntime] = {}
        self._session_key: str | None = None
        with self.store.lock:
            org_id = self.store.get_meta("default_org_id")
            if org_id is None:
                org = self.create_org(seed if seed is not None else "demo", records=seed is not None)
                self.store.set_meta("default_org_id", org.org_id)
                self.store.drop_key(org.api_key)  # the default org gets session keys (``api_key``)
                org_id = org.org_id
        self.default_org_id: str = org_id
        env_faults = faults_from_env()
        if env_faults:
            self.runtime(org_id).faults.update(**env_faults)

    @property
    def api_key(self) -> str:
        """A full-access key of the default org, valid until :meth:`close` (minted on first use)."""
        with self.store.lock:
            if self._session_key is None:
                key = mint_key_value()
                self.store.add_key(
                    key, self.default_org_id, [], self._owner(self.default_org_id), session=True
                )
                self._session_key = key
            return self._session_key

    def _owner(self, org_id: str) -> str | None:
        return next((r.id for r in self.org(org_id).ordered.get("member", [])), None)

    def close(self) -> None:
        with self.store.lock:
            if self._session_key is not None:
                with contextlib.suppress(sqlite3.Error):  # a read-only db: the hash stays, harmless
                    self.store.drop_key(self._session_key)
                self._session_key = None
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    # --- orgs, keys, settings --------------------------------------------------------------------
    def create_org(
        self,
        seed: str | Path | dict[str, Any] | None = "demo",
        *,
        records: bool = True,
        rate_limit: float | None = None,
    ) -> Org:
        doc = load_seed(seed)
        recs = build_records(doc, records=records)
        seed_doc = {k: v for k, v in doc.items() if k != "records"}
        org_id = "org_" + secrets.token_hex(8)
        self.store.add_org(org_id, str(doc.get("name") or "Sandbox org"), seed_doc, recs)
        owner = (doc.get("members") or [{}])[0].get("id")
        key = mint_key_value()
        self.store.add_key(key, org_id, [], owner)
        if rate_limit is not None:
            self.runtime(org_id).set_rate(rate_limit)
        return Org(org_id, key)

    def mint_key(self, org_id: str | None = None, scopes: list[str] | None = None) -> str:
        """A lasting key for the org (stored hashed), limited to ``scopes`` (none: full access).
        An unknown scope raises ValueError."""
        wanted = check_scopes(list(scopes or []))
        org = self.org(org_id)
        key = mint_key_value()
        self.store.add_key(key, org.org_id, wanted, self._owner(org.org_id))
        return key

    def org(self, org_id: str | None) -> OrgData:
        org = self.store.org(org_id or self.default_org_id)
        if org is None:
            raise KeyError(f"no org {org_id!r}")
        return org

    def runtime(self, org_id: str | None) -> OrgRuntime:
        oid = org_id or self.default_org_id
        with self.store.lock:
            rt = self.runtimes.get(oid)
            if rt is None:
                rt = self.runtimes[oid] = OrgRuntime(self.rate, default_burst(self.rate))
                rt.faults.index_lag_ms = self.profile.index_lag_ms
            return rt

    def set_faults(self, org_id: str | None = None, **kw: Any) -> None:
        self.org(org_id)
        self.runtime(org_id).faults.update(**kw)

    def set_rate_limit(
        self, org_id: str | None = None, *, per_second: float, burst: int | None = None
    ) -> None:
        self.org(org_id)
        self.runtime(org_id).set_rate(per_second, burst)

    def add_field(self, org_id: str | None, object_type: str, key: str, definition: dict[str, Any]) -> bool:
        """Add a custom field definition to an org's object type; False when the key exists. The real
        API cannot (fields are made in Lightfield's settings): ``bulkio migrate`` adds its
        ``close_id`` key field and the fields Close data needs here, in the sandbox only."""
        import json

        with self.store.lock:
            org = self.org(org_id)
            odef = org.objects[object_type]
            if key in odef.fields or key in odef.rels:
                return False
            odef.fields[key] = dict(definition)
            org.doc.setdefault("objects", {}).setdefault(object_type, {}).setdefault("fields", {})[key] = (
                dict(definition)
            )
            self.store.conn.execute("UPDATE orgs SET doc=? WHERE id=?", (json.dumps(org.doc), org.org_id))
            org.derived_cache.clear()
            return True

    def count(self, org_id: str | None, object_type: str) -> int:
        with self.store.lock:
            return len(self.org(org_id).ordered.get(object_type, []))

    def records(self, org_id: str | None, object_type: str) -> list[dict[str, Any]]:
        with self.store.lock:
            org = self.org(org_id)
            odef = org.objects[object_type]
            return [entity(org, odef, r) for r in reversed(org.ordered.get(object_type, []))]

    def stats(self, org_id: str | None = None) -> dict[str, Any]:
        return self.runtime(org_id).stats()

    # --- operations (called with the lock held by the app) --------------------------------------
    def create(
        self, org: OrgData, odef: ObjectDef, body: Any, member_id: str | None
    ) -> tuple[dict[str, Any], list[Record]]:
        fields, rels = apply_write(org, odef, body, None, member_id)
        ts = org.next_ts()
        rec = Record(new_id(odef.id_prefix), odef.type, iso(ts), ts, iso(ts), None, fields, rels)
        touched = _sync_links(org, odef, rec, {})
        org.add(rec)
        return entity(org, odef, rec), [rec, *touched]

    def update(
        self, org: OrgData, odef: ObjectDef, rec: Record, body: Any, member_id: str | None
    ) -> tuple[dict[str, Any], list[Record]]:
        fields, rels = apply_write(org, odef, body, rec, member_id)
        if fields == rec.fields and rels == rec.rels:
            return entity(org, odef, rec), []
        old_fields, old_rels = rec.fields, rec.rels
        rec.fields, rec.rels = fields, rels
        rec.norm.clear()
        rec.updated = iso(max(org.next_ts(), rec.created_ts))
        org.index_unique(rec, old_fields)
        touched = _sync_links(org, odef, rec, old_rels)
        return entity(org, odef, rec), [rec, *touched]

    def delete(self, org: OrgData, odef: ObjectDef, rec: Record) -> tuple[dict[str, Any], list[Record]]:
        """Remove ``rec`` and every link to it (other records' relationships, forward and
        reverse); returns the answer and the linked records to persist."""
        touched: dict[str, Record] = {}
        for other in org.records.values():
            if other.id == rec.id:
                continue
            changed = False
            for key, ids in list(other.rels.items()):
                if rec.id in ids:
                    ids[:] = [i for i in ids if i != rec.id]
                    if not ids:
                        del other.rels[key]
                    changed = True
            if changed:
                touched[other.id] = other
        org.remove(rec)
        return {"id": rec.id, "object": odef.type, "deleted": True}, list(touched.values())

    def find(self, org: OrgData, odef: ObjectDef, record_id: str) -> Record:
        rec = org.records.get(record_id)
        if rec is None or rec.type != odef.type:
            raise HttpError(404, f"No resource found in '{odef.collection}' with the given ID.")
        return rec

    def list(
        self,
        org: OrgData,
        odef: ObjectDef,
        params: list[tuple[str, str]],
        *,
        filters: bool,
        index_lag_ms: float,
    ) -> dict[str, Any]:
        offset, limit = page_bounds(params)
        trashed, params = _status(params)
        preds, candidates = build_filters(org, odef, params) if filters else ([], None)
        if not filters:
            _no_filters(params, odef.collection)
        cutoff = None
        if index_lag_ms > 0:
            cutoff = time.time() - index_lag_ms / 1000
        pool = org.ordered.get(odef.type, [])
        if candidates is not None:
            pool = sorted(
                (org.records[i] for i in candidates if org.records[i].type == odef.type),
                key=lambda r: (r.created_ts, r.id),
            )
        page, total = select([] if trashed else pool, preds, offset, limit, cutoff)
        return {"object": "list", "data": [entity(org, odef, r) for r in page], "totalCount": total}

    def list_members(self, org: OrgData, lst: Record, mdef: ObjectDef, params: Params) -> dict[str, Any]:
        """``GET /v1/lists/{listId}/<collection>``: the members as full entities, newest first."""
        offset, limit = page_bounds(params)
        trashed, params = _status(params)
        _no_filters(params, "lists")
        holds = str(lst.fields.get("$objectType", "")).removeprefix("$")
        if holds != mdef.type:
            raise bad(
                f"List '{lst.id}' holds {holds} records, not {mdef.collection}.",
                "invalid_configuration",
                "listId",
            )
        ids = [] if trashed else lst.rels.get(LIST_MEMBER_KEYS[mdef.type], [])
        pool = sorted(
            (r for r in map(org.records.get, ids) if r is not None and r.type == mdef.type),
            key=lambda r: (r.created_ts, r.id),
        )
        page, total = select(pool, [], offset, limit, None)
        return {"object": "list", "data": [entity(org, mdef, r) for r in page], "totalCount": total}


def _status(params: list[tuple[str, str]]) -> tuple[bool, list[tuple[str, str]]]:
    """Newer SDKs send ``status=active|trashed``; the sandbox has no trash, so ``trashed`` is empty."""
    trashed = any(n == "status" and v == "trashed" for n, v in params)
    return trashed, [(n, v) for n, v in params if n != "status" or v not in ("active", "trashed")]


def _no_filters(params: list[tuple[str, str]], collection: str) -> None:
    extra = [n for n, _ in params if n not in ("offset", "limit")]
    if extra:
        raise HttpError(
            400,
            f"Unrecognized filter field '{extra[0]}' for '{collection}'.",
            code="unknown_field",
            param=extra[0],
        )


def _sync_links(org: OrgData, odef: ObjectDef, rec: Record, old_rels: dict[str, list[str]]) -> list[Record]:
    """Keep inverse relationships in step with what ``rec`` now links to.

    Returns the linked records that must be persisted: derived (read-only) reverse links live only
    in memory and are rebuilt on load, so a hot account with 10,000 opportunities is not rewritten
    on every opportunity create.
    """
    touched: dict[str, Record] = {}
    for key, rdef in odef.rels.items():
        inverse = rdef.get("inverse")
        if not inverse:
            continue
        before, after = old_rels.get(key, []), rec.rels.get(key, [])
        if before == after:
            continue
        persist = inverse not in org.derived(rdef["objectType"])
        for tid in after:
            if tid in before:
                continue
            t = org.records.get(tid)
            if t is not None:
                lst = t.rels.setdefault(inverse, [])
                if rec.id not in lst:
                    lst.append(rec.id)
                    if persist:
                        touched[tid] = t
        for tid in before:
            if tid in after:
                continue
            t = org.records.get(tid)
            if t is not None and rec.id in t.rels.get(inverse, []):
                t.rels[inverse].remove(rec.id)
                if not t.rels[inverse]:
                    del t.rels[inverse]
                if persist:
                    touched[tid] = t
    touched.pop(rec.id, None)
    return list(touched.values())


def entity(org: OrgData, odef: ObjectDef, rec: Record) -> dict[str, Any]:
    """The API shape of a record: every defined field and relationship is present."""
    path = f"objects/{odef.type}" if odef.custom else odef.collection
    if odef.type == LIST_DEF.type:
        # ListRetrieveResponse: no updatedAt, externalId or relationships (members are read apart)
        return {
            "id": rec.id,
            "createdAt": rec.created,
            "httpLink": f"{HTTP_LINK}/{path}/{rec.id}",
            "fields": {
                k: {"value": rec.fields.get(k), "valueType": fd["valueType"]} for k, fd in odef.fields.items()
            },
        }
    if odef.type == "member":
        # the 2026-03-01 contract has ``{}``; the newer official SDK requires ``$user``
        rels: dict[str, Any] = {
            "$user": {
                "cardinality": "HAS_ONE",
                "objectType": "user",
                "values": ["usr_" + rec.id.removeprefix("mem_")],
            }
        }
    else:
        rels = {
            k: {
                "cardinality": rd["cardinality"].lower(),
                "objectType": rd["objectType"],
                "values": list(rec.rels.get(k, ())),
            }
            for k, rd in odef.rels.items()
        }
    out: dict[str, Any] = {
        "id": rec.id,
        "createdAt": rec.created,
        "updatedAt": rec.updated,
        "httpLink": f"{HTTP_LINK}/{path}/{rec.id}",
    }
    if odef.type != "member":  # the member schema has no externalId
        out["externalId"] = rec.external_id
    out["fields"] = {
        k: {"value": rec.fields.get(k), "valueType": fd["valueType"]} for k, fd in odef.fields.items()
    }
    out["relationships"] = rels
    return out


def definitions(odef: ObjectDef) -> dict[str, Any]:
    """``GET …/definitions``: API-FACTS §4.1 plus the ``slug``/``system`` extras from the docs."""
    fields = {}
    for key, fd in odef.fields.items():
        out = {
            "id": fd.get("id") or f"ad_{odef.type}_{key.lstrip('$')}",
            "slug": key.lstrip("$"),
            "label": fd["label"],
            "description": fd.get("description"),
            "valueType": fd["valueType"],
            "readOnly": bool(fd.get("readOnly")),
            "system": key.startswith("$"),
            "typeConfiguration": dict(fd.get("typeConfiguration") or {}),
        }
        fields[key] = out
    rels = {}
    for key, rd in odef.rels.items():
        rels[key] = {
            "id": rd.get("id") or f"rd_{odef.type}_{key.lstrip('$')}",
            "slug": relationship_slug(odef.type, key),
            "label": rd["label"],
            "description": rd.get("description"),
            "cardinality": rd["cardinality"].upper(),
            "objectType": rd["objectType"],
            "readOnly": bool(rd.get("readOnly")),
            "system": key.startswith("$"),
        }
    return {"objectType": odef.type, "fieldDefinitions": fields, "relationshipDefinitions": rels}


def object_types(org: OrgData) -> dict[str, Any]:
    data = [{"objectType": o.type, "label": o.label} for o in org.objects.values() if o.custom]
    return {"object": "list", "data": data, "totalCount": len(data)}
