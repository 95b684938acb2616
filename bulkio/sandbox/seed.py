"""Org seeds: the definitions, members and records a new org starts with.

A seed is ``"demo"`` (the bundled ``seed_demo.json``), a path to a JSON file, or a dict of the same
format::

    {"name": str, "members": [{"id", "email", "firstName", "lastName", "role"}],
     "objects": {"<type>": {"label", "collection"?, "custom"?, "idPrefix", "required": [keys],
                            "closedFields"?, "noDefinitions"?, "updateOps"?,
                            "fields": {key: <field definition as the API returns it>},
                            "relationships": {key: {label, description, cardinality, objectType,
                                                    readOnly?, inverse?: <key on the target>}}}},
     "records": "demo" | {"<type>": [{"id"?, "fields", "relationships", "externalId"?}]}}

``records: "demo"`` generates the documented demo data with a seeded RNG (same content every
time; ids are random per org). Explicit records are stored as given (values in stored form) and
their reverse links are filled in. Every org also has the built-in ``member`` and ``list`` types;
explicit records may include lists (``{"list": [{"fields": {"$name", "$objectType": "$account"},
"relationships": {"$accounts": [ids]}}]}``).
"""

from __future__ import annotations

import copy
import json
import random
import secrets
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from .rules import format_datetime, iso
from .store import LIST_DEF, ObjectDef, Record

DEMO_PATH = Path(__file__).with_name("seed_demo.json")
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_B32) for _ in range(20))


def load_seed(seed: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """The seed document for ``"demo"``, a JSON path, or a dict (copied)."""
    if seed is None or seed == "demo":
        return json.loads(DEMO_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    if isinstance(seed, dict):
        return copy.deepcopy(seed)
    return json.loads(Path(seed).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def build_records(doc: dict[str, Any], *, records: bool = True) -> list[Record]:
    """Members always; the doc's records only when ``records`` is true."""
    now = time.time()
    out: list[Record] = []
    for i, m in enumerate(doc.get("members") or []):
        ts = now - 400 * 86400 + i
        out.append(
            Record(
                m["id"],
                "member",
                iso(ts),
                ts,
                iso(ts),
                None,
                {
                    "$email": m["email"],
                    "$name": {"firstName": m.get("firstName"), "lastName": m.get("lastName")},
                    "$role": m.get("role", "Member"),
                    **({"$profileImage": m["profileImage"]} if m.get("profileImage") else {}),
                },
                {},
            )
        )
    spec = doc.get("records")
    if not records or not spec:
        return out
    objects = {k: ObjectDef.from_doc(k, v) for k, v in (doc.get("objects") or {}).items()}
    objects["list"] = LIST_DEF  # explicit records may include lists (membership in ``relationships``)
    if spec == "demo":
        recs = _demo(objects, [m["id"] for m in doc.get("members") or []], now)
    else:
        recs = []
        for otype, items in spec.items():
            odef = objects[otype]
            for j, item in enumerate(items):
                ts = now - 86400 * 30 + j + len(recs)
                created = item.get("createdAt")
                recs.append(
                    Record(
                        item.get("id") or new_id(odef.id_prefix),
                        otype,
                        created or iso(ts),
                        ts,
                        created or iso(ts),
                        item.get("externalId"),
                        dict(item.get("fields") or {}),
                        {
                            k: ([v] if isinstance(v, str) else list(v))
                            for k, v in (item.get("relationships") or {}).items()
                            if v
                        },
                    )
                )
    link_reverse(objects, recs)
    return out + recs


def link_reverse(objects: dict[str, ObjectDef], recs: list[Record]) -> None:
    """Fill each relationship's inverse side (opportunity $account → account $opportunity, …)."""
    by_id = {r.id: r for r in recs}
    for r in recs:
        odef = objects.get(r.type)
        if odef is None:
            continue
        for key, ids in list(r.rels.items()):
            inverse = (odef.rels.get(key) or {}).get("inverse")
            if not inverse:
                continue
            for target_id in ids:
                t = by_id.get(target_id)
                if t is not None and r.id not in t.rels.setdefault(inverse, []):
                    t.rels[inverse].append(r.id)


# --- the demo org ---------------------------------------------------------------------------------
COMPANIES = [
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Industries",
    "Wayne Logistics",
    "Hooli",
    "Pied Piper",
    "Soylent Foods",
    "Wonka Retail",
    "Tyrell Systems",
    "Cyberdyne",
    "Massive Dynamic",
    "Aperture Labs",
    "Vandelay Imports",
    "Oscorp",
    "Gringotts Fintech",
    "Monarch Media",
    "Blue Sun",
    "Nakatomi Trading",
    "Dunder Paper",
    "Prestige Worldwide",
    "Bluth Homes",
    "Sterling Cooper",
    "Los Pollos Supply",
]
FIRST = [
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kara",
    "Luis",
    "Maya",
    "Nils",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Anders",
    "Bauer",
    "Costa",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
]
CITIES = [
    ("San Francisco", "CA", "US"),
    ("New York", "NY", "US"),
    ("Austin", "TX", "US"),
    ("London", None, "GB"),
    ("Berlin", None, "DE"),
    ("Toronto", "ON", "CA"),
    ("Paris", None, "FR"),
]
TITLES = [
    "CEO",
    "CTO",
    "VP Sales",
    "Head of Operations",
    "Procurement Lead",
    "Engineering Manager",
    "CFO",
    "IT Director",
    "Product Manager",
    "RevOps Analyst",
]
STAGE_PROB = {
    "opt_stage_lead": 10,
    "opt_stage_qualified": 25,
    "opt_stage_proposal": 50,
    "opt_stage_negotiation": 75,
    "opt_stage_closed_won": 100,
    "opt_stage_closed_lost": 0,
}
TASKS = [
    "Send proposal",
    "Schedule demo",
    "Follow up on pricing",
    "Book kickoff call",
    "Share case study",
    "Review security questionnaire",
    "Confirm budget",
    "Intro to legal",
]
STATUS = ["TODO", "IN_PROGRESS", "COMPLETE", "CANCELLED"]


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _opts(odef: ObjectDef, key: str) -> list[str]:
    return [o["id"] for o in odef.fields[key]["typeConfiguration"]["options"]]


def _demo(objects: dict[str, ObjectDef], members: list[str], now: float) -> list[Record]:
    """~25 accounts, 50 contacts, 40 opportunities, 30 tasks, 20 notes, 5 partners."""
    rng = random.Random(20260301)
    recs: list[Record] = []
    clock = [now - 120 * 86400]

    def make(
        otype: str, fields: dict[str, Any], rels: dict[str, list[str]], external_id: str | None = None
    ) -> Record:
        clock[0] += rng.uniform(600, 7200)
        ts = clock[0]
        upd = ts + rng.choice([0, 0, 3600, 86400])
        fields = {k: v for k, v in fields.items() if v is not None}
        rec = Record(
            new_id(objects[otype].id_prefix),
            otype,
            iso(ts),
            ts,
            iso(min(upd, now)),
            external_id,
            fields,
            {k: v for k, v in rels.items() if v},
        )
        recs.append(rec)
        return rec

    def date(days_from_now: float) -> str:
        from datetime import datetime

        return format_datetime(datetime.fromtimestamp(now + days_from_now * 86400, UTC))

    acc, con, opp = objects["account"], objects["contact"], objects["opportunity"]
    accounts: list[Record] = []
    for i, name in enumerate(COMPANIES):
        s = _slug(name)
        city, state, country = rng.choice(CITIES)
        customer = rng.random() < 0.4
        accounts.append(
            make(
                "account",
                {
                    "$name": name,
                    "$website": [f"https://{s}.example.com"],
                    "$industry": rng.sample(_opts(acc, "$industry"), rng.randint(1, 2)),
                    "$headcount": rng.choice(_opts(acc, "$headcount")),
                    "$lastFundingType": rng.choice(_opts(acc, "$lastFundingType")) if i % 4 else None,
                    "$primaryAddress": {
                        "street": f"{rng.randint(1, 999)} Market St",
                        "street2": None,
                        "city": city,
                        "state": state,
                        "postalCode": f"{rng.randint(10000, 99999)}",
                        "country": country,
                        "latitude": None,
                        "longitude": None,
                    },
                    "$linkedIn": f"https://linkedin.com/company/{s}",
                    "$twitter": f"https://x.com/{s}" if i % 3 == 0 else None,
                    "$howTheyMakeMoney": f"{name} sells software subscriptions." if i % 5 == 0 else None,
                    "$accountStatus": "Customer" if customer else "Prospect",
                    "external_id": f"ACC-{i + 1:04d}" if i < len(COMPANIES) - 3 else None,
                    "tier": rng.choice(_opts(acc, "tier")),
                    "annualRevenue": rng.randint(5, 500) * 100000,
                    "employeeCount": rng.randint(8, 5000),
                    "renewalDate": date(rng.randint(10, 300)) if customer else None,
                    "isCustomer": customer,
                    "phone": [f"+1415555{1000 + i:04d}"],
                    "billingEmail": f"billing@{s}.example.com" if i % 2 == 0 else None,
                    "profileHtml": f"<p>{name}</p>" if i % 6 == 0 else None,
                },
                {"$owner": [rng.choice(members)]} if members else {},
                external_id=f"sf-{i + 1:04d}" if i < 3 else None,
            )
        )
    contacts: list[Record] = []
    for i in range(50):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        account = accounts[i % len(accounts)]
        domain = _slug(account.fields["$name"]) + ".example.com"
        contacts.append(
            make(
                "contact",
                {
                    "$name": {"firstName": first, "lastName": last},
                    "$email": [f"{first.lower()}.{last.lower()}@{domain}"],
                    "external_id": f"CON-{i + 1:04d}" if i < 47 else None,
                    "jobTitle": rng.choice(TITLES),
                    "phone": [f"+1212555{2000 + i:04d}"] if i % 3 else None,
                    "linkedin": f"https://linkedin.com/in/{first.lower()}-{last.lower()}",
                    "doNotContact": i % 10 == 0,
                    "lastContactedAt": date(-rng.randint(1, 90)) if i % 4 else None,
                    "leadSource": rng.choice(_opts(con, "leadSource")),
                },
                {"$account": [account.id]},
            )
        )
    stages = _opts(opp, "$stage")
    opps: list[Record] = []
    for i in range(40):
        account = accounts[(i * 3) % len(accounts)]
        stage = stages[i % len(stages)]
        champs = [c.id for c in contacts if account.id in c.rels.get("$account", [])]
        status = (
            "WON" if stage.endswith("closed_won") else "LOST" if stage.endswith("closed_lost") else "OPEN"
        )
        product = rng.sample(_opts(opp, "products"), rng.randint(1, 3))
        opps.append(
            make(
                "opportunity",
                {
                    "$name": f"{account.fields['$name']} - deal {i + 1}",
                    "$stage": stage,
                    "$opportunityStatus": status,
                    "external_id": f"OPP-{i + 1:04d}" if i < 37 else None,
                    "amount": rng.randint(5, 250) * 1000,
                    "probability": STAGE_PROB.get(stage, 50),
                    "closeDate": date(rng.randint(-60, 120)),
                    "source": rng.choice(_opts(opp, "source")),
                    "products": product,
                    "nextStep": rng.choice(TASKS) if status == "OPEN" else None,
                    "summary": f"Deal {i + 1} with {account.fields['$name']}." if i % 4 == 0 else None,
                },
                {
                    "$account": [account.id],
                    "$owner": [rng.choice(members)] if members else [],
                    "$createdBy": [members[0]] if members else [],
                    "$champion": champs[:1],
                    "$evaluator": champs[1:2],
                },
            )
        )
    for i in range(30):
        o = opps[i % len(opps)]
        make(
            "task",
            {
                "$title": rng.choice(TASKS),
                "$status": STATUS[i % 4],
                "$description": f"Task {i + 1} for {o.fields['$name']}." if i % 2 else None,
                "$dueAt": date(rng.randint(-10, 30)),
            },
            {
                "$assignedTo": [rng.choice(members)] if members else [],
                "$account": o.rels["$account"],
                "$opportunity": [o.id] if i % 3 else [],
                "$createdBy": [members[0]] if members else [],
            },
        )
    for i in range(20):
        o = opps[(i * 2) % len(opps)]
        make(
            "note",
            {"$title": f"Call notes {i + 1}", "$content": f"## Summary\n\nSpoke about {o.fields['$name']}."},
            {"$account": o.rels["$account"], "$opportunity": [o.id] if i % 2 == 0 else []},
        )
    if "partner" in objects:
        for i, (name, kind) in enumerate(
            [
                ("Northwind Resellers", "Reseller"),
                ("Contoso Consulting", "Agency"),
                ("Fabrikam Tech", "Technology"),
                ("Tailspin Referrals", "Referral"),
                ("Adventure Works", "Reseller"),
            ]
        ):
            kinds = {
                o["label"]: o["id"]
                for o in objects["partner"].fields["partnerType"]["typeConfiguration"]["options"]
            }
            make(
                "partner",
                {
                    "$name": name,
                    "external_id": f"PAR-{i + 1:04d}",
                    "website": f"https://{_slug(name)}.example.com",
                    "partnerType": kinds[kind],
                    "commission": rng.choice([5, 7.5, 10, 12.5]),
                },
                {"account": [a.id for a in rng.sample(accounts, 2)]},
            )
    return recs
