"""The Close sandbox's state and operations, independent of HTTP: orgs, keys, records, settings.

:class:`CloseSandbox` is what :func:`~bulkio.crm.close.sandbox.app.create_app` serves and what
:class:`~bulkio.crm.close.sandbox.server.CloseSandboxServer` exposes to tests (``create_org``,
``count`` …). Its record operations expect the store lock to be held (the app takes it).
"""

from __future__ import annotations

import copy
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .limits import OrgRuntime, default_rate, faults_from_env
from .objects import Ctx, find, new_id, render, write_contact, write_lead, write_opportunity
from .rules import iso, parse_datetime
from .seed import load_seed, record_bodies
from .store import OrgData, Rec, Store

KEY_PREFIX = "api_sandbox_"


@dataclass(frozen=True)
class Org:
    """An org created in the sandbox, a key of its first user, and that user."""

    org_id: str
    api_key: str
    user_id: str

    def __repr__(self) -> str:  # keys stay out of test output
        return f"Org(org_id={self.org_id!r}, user_id={self.user_id!r})"


def mint_key_value() -> str:
    return KEY_PREFIX + secrets.token_hex(20)


class CloseSandbox:
    """All orgs in one SQLite file. Thread-safe: public methods take the store lock."""

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        seed: str | Path | dict[str, Any] | None = "demo",
        rate_limit: float | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bulkio-close-sandbox-")
            db_path = Path(self._tmp.name) / "close-sandbox.sqlite3"
        self.store = Store(db_path)
        self.rate = float(rate_limit) if rate_limit is not None else default_rate()
        self.runtimes: dict[str, OrgRuntime] = {}
        with self.store.lock:
            secret = self.store.get_meta("download_secret")
            if secret is None:
                secret = secrets.token_hex(32)
                self.store.set_meta("download_secret", secret)
            self.secret = bytes.fromhex(secret)
            org_id = self.store.get_meta("default_org_id")
            key = self.store.get_meta("default_api_key")
            if org_id is None or key is None:
                org = self.create_org(seed if seed is not None else "demo")
                self.store.set_meta("default_org_id", org.org_id)
                self.store.set_meta("default_api_key", org.api_key)
                org_id, key = org.org_id, org.api_key
        self.default_org_id: str = org_id
        self.api_key: str = key
        env_faults = faults_from_env()
        if env_faults:
            self.runtime(org_id).faults.update(**env_faults)

    def close(self) -> None:
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    # --- orgs, keys, settings ------------------------------------------------------------------------
    def create_org(
        self,
        seed: str | Path | dict[str, Any] | None = "demo",
        *,
        records: bool = True,
        rate_limit: float | None = None,
    ) -> Org:
        """A new org from a seed (see :mod:`.seed`); ``records=False`` keeps only its configuration."""
        doc = load_seed(seed)
        bodies = record_bodies(doc) if records else {}
        config = {k: v for k, v in doc.items() if k != "records"}
        config.setdefault("currency", "USD")
        config.setdefault("date_created", iso(time.time()))
        for key in ("users", "lead_statuses", "pipelines"):
            config.setdefault(key, [])
        config.setdefault("custom_fields", {})
        if not config["users"]:
            config["users"] = [{"id": new_id("user_"), "first_name": "Sandbox", "last_name": "User",
                                "email": "user@sandbox.close.test"}]  # fmt: skip
        org_id = "orga_" + secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")
        with self.store.lock:
            org = OrgData(org_id, config)
            self._seed_records(org, bodies)
            self.store.add_org(org)
            user_id = config["users"][0]["id"]
            key = mint_key_value()
            self.store.add_key(key, org_id, user_id)
        if rate_limit is not None:
            self.runtime(org_id).set_rate(rate_limit)
        return Org(org_id, key, user_id)

    def _seed_records(self, org: OrgData, bodies: dict[str, list[dict[str, Any]]]) -> None:
        """Apply seed bodies through the same checks as a POST, leads first."""
        users = org.config["users"]
        made: dict[str, list[str]] = {"lead": [], "contact": [], "opportunity": []}
        seq = 0
        for rtype in ("lead", "contact", "opportunity"):
            for body in bodies.get(rtype, []):
                body = dict(body)
                user = users[int(body.pop("user_ref", 0)) % len(users)]["id"]
                if "lead_ref" in body:
                    body["lead_id"] = made["lead"][int(body.pop("lead_ref"))]
                if "contact_ref" in body:
                    body["contact_id"] = made["contact"][int(body.pop("contact_ref"))]
                created = parse_datetime(body.get("date_created")) if body.get("date_created") else None
                now = created.timestamp() if created else time.time()
                ctx = Ctx(org, user, 0.0, now)
                _, touched = self.create(ctx, rtype, body)
                seq += 1
                for rec in touched:  # seeded records are as old as their date_created
                    rec.ts = now + seq * 1e-6
                made[rtype].append(touched[0].id)
        for lst in org.ordered.values():
            lst.sort(key=lambda r: (r.ts, r.id))
        org.last_ts = max((r.ts for r in org.records.values()), default=0.0)
        org.shapes.clear()  # rendered while the seed was half applied

    def mint_key(self, org_id: str | None = None, user_id: str | None = None) -> str:
        """A new key for a user of the org (its first user by default)."""
        org = self.org(org_id)
        uid = user_id or org.config["users"][0]["id"]
        if org.user(uid) is None:
            raise KeyError(f"no user {uid!r} in org {org.org_id!r}")
        key = mint_key_value()
        self.store.add_key(key, org.org_id, uid)
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
                rt = self.runtimes[oid] = OrgRuntime(self.rate)
            return rt

    def set_faults(self, org_id: str | None = None, **kw: Any) -> None:
        self.org(org_id)
        self.runtime(org_id).faults.update(**kw)

    def set_options(self, org_id: str | None = None, **kw: Any) -> None:
        self.org(org_id)
        self.runtime(org_id).options.update(**kw)

    def set_rate_limit(
        self,
        org_id: str | None = None,
        *,
        per_second: float,
        window: float | None = None,
        search_per_second: float | None = None,
    ) -> None:
        self.org(org_id)
        self.runtime(org_id).set_rate(per_second, window, search_per_second)

    def count(self, org_id: str | None, object_type: str) -> int:
        with self.store.lock:
            return len(self.org(org_id).ordered[object_type])

    def records(self, org_id: str | None, object_type: str) -> list[dict[str, Any]]:
        """API shapes of every record of a type, oldest first (direct reads for assertions)."""
        with self.store.lock:
            org = self.org(org_id)
            return [copy.deepcopy(render(org, r)) for r in org.ordered[object_type]]

    def stats(self, org_id: str | None = None) -> dict[str, Any]:
        return self.runtime(org_id).stats()

    # --- record operations (store lock held) -----------------------------------------------------------
    def create(self, ctx: Ctx, rtype: str, body: Any) -> tuple[dict[str, Any], list[Rec]]:
        """Create one record (and a lead it needs, and a lead's nested contacts); → shape, touched."""
        org = ctx.org
        org.version += 1  # shapes rendered before this write are stale from here on
        touched: list[Rec] = []
        if rtype == "lead":
            lead_id, doc, nested = write_lead(ctx, body, None)
            rec = Rec(lead_id, "lead", org.next_ts(), doc)
            org.add(rec)
            touched.append(rec)
            for cdoc, cid in nested:
                c = Rec(cid, "contact", org.next_ts(), cdoc)
                org.add(c)
                touched.append(c)
            return render(org, rec), touched
        writer = write_contact if rtype == "contact" else write_opportunity
        doc, new_lead = writer(ctx, body, None)
        rec = Rec(new_id("cont_" if rtype == "contact" else "oppo_"), rtype, org.next_ts(), doc)
        touched.append(rec)
        if new_lead is not None:
            new_lead.ts = org.next_ts()
            org.add(new_lead)
            touched.append(new_lead)
        org.add(rec)
        return render(org, rec), touched

    def update(self, ctx: Ctx, rtype: str, rid: str, body: Any) -> tuple[dict[str, Any], list[Rec]]:
        org = ctx.org
        rec = find(org, rtype, rid)
        if rtype == "lead":
            _, doc, _ = write_lead(ctx, body, rec)
            new_lead = None
        else:
            writer = write_contact if rtype == "contact" else write_opportunity
            doc, new_lead = writer(ctx, body, rec)
        if _same(doc, rec.doc):
            return render(org, rec), []
        org.version += 1
        org.unlink(rec)
        rec.doc = doc
        org.link(rec)
        touched = [rec]
        if new_lead is not None:  # pragma: no cover - updates always keep a lead
            org.add(new_lead)
            touched.append(new_lead)
        if rtype == "contact":  # an opportunity whose contact moved to another lead lets it go
            for opp in org.ordered["opportunity"]:
                if opp.doc.get("contact_id") == rec.id and opp.doc.get("lead_id") != doc.get("lead_id"):
                    opp.doc["contact_id"] = None
                    touched.append(opp)
        return render(org, rec), touched

    def delete(self, ctx: Ctx, rtype: str, rid: str) -> tuple[list[Rec], list[str]]:
        """Delete a record; a lead takes its contacts and opportunities with it. → touched, deleted ids."""
        org = ctx.org
        rec = find(org, rtype, rid)
        org.version += 1
        doomed = [rec]
        if rtype == "lead":
            doomed += org.kids(rec.id, "contact") + org.kids(rec.id, "opportunity")
        touched: list[Rec] = []
        gone = {r.id for r in doomed}
        if rtype == "contact":
            for opp in org.kids(rec.doc.get("lead_id") or "", "opportunity"):
                if opp.doc.get("contact_id") == rec.id:
                    opp.doc["contact_id"] = None
                    touched.append(opp)
        for r in doomed:
            org.remove(r)
        if rtype == "lead":
            org.children.pop(rec.id, None)
        # custom fields of type contact that pointed at a deleted contact are unset
        for other in org.records.values():
            custom = other.doc.get("custom") or {}
            for fid, value in list(custom.items()):
                hit = (
                    value in gone
                    if isinstance(value, str)
                    else isinstance(value, list) and bool(gone & set(value))
                )
                if hit:
                    kept = [v for v in value if v not in gone] if isinstance(value, list) else None
                    if kept:
                        custom[fid] = kept
                    else:
                        del custom[fid]
                    touched.append(other)
        return touched, sorted(gone)


def _same(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Equal apart from the update stamp: such a PUT changes nothing and keeps ``date_updated``."""
    skip = ("date_updated", "updated_by")
    return {k: v for k, v in new.items() if k not in skip} == {k: v for k, v in old.items() if k not in skip}
