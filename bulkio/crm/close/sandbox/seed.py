"""Org seeds for the Close sandbox: configuration plus records.

A seed is ``"demo"`` (the bundled ``seed_demo.json``: 3 users, 4 lead statuses, a *Sales* and a
*Renewals* pipeline, custom fields of every documented type, 12 leads, 20 contacts,
24 opportunities), ``"big"`` (the same configuration with 500 leads, 1,500 contacts and 2,000
opportunities, for migration tests), ``"empty"`` (the demo configuration, no records), a path to a
JSON file, or a dict, all of this format::

    {"name": str, "currency": "USD", "date_created": iso,
     "users": [{"id": "user_…", "first_name", "last_name", "email"}],          # first = key owner
     "lead_statuses": [{"id": "stat_…", "label"}],                                # first = default
     "pipelines": [{"id": "pipe_…", "name", "statuses": [{"id": "stat_…", "label",
                                                          "type": "active|won|lost"}]}],
     "custom_fields": {"lead"|"contact"|"opportunity": [<definition as GET /custom_field/… shows it>],
                       "shared": [<definition> + "associations": [{"object_type", "required"}]]},
     "records": {"generate": {"leads": n, "contacts": n, "opportunities": n, "seed": int}}
              | {"lead": [<POST /lead/ body>], "contact": [<POST /contact/ body>],
                 "opportunity": [<POST /opportunity/ body>]}}

Explicit records are API request bodies and go through the same checks as a POST; a contact or
opportunity names its lead with ``"lead_ref": <index into the lead list>`` (or a ``lead_id``) and
an opportunity its contact with ``"contact_ref"``; ``"user_ref"`` picks the acting user by index.
Generated records are the same bodies made by a seeded RNG: the content is identical every time,
the ids are random per org, and dates count back from a fixed day (2026-11-30).
"""

from __future__ import annotations

import copy
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DEMO_PATH = Path(__file__).with_name("seed_demo.json")
ANCHOR = date(2026, 11, 30)
BIG = {"leads": 500, "contacts": 1500, "opportunities": 2000, "seed": 12}

COMPANY_A = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Pied Piper",
    "Soylent",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Massive",
    "Aperture",
    "Vandelay",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Blue Sun",
    "Nakatomi",
    "Dunder",
    "Bluth",
    "Sterling",
    "Müller & Söhne",
    "Société Générale Démo",
    "Zoë's",
]
COMPANY_B = ["Corp", "Labs", "Health", "Logistics", "Foods", "Retail", "Systems", "Media", "Trading", "GmbH"]
FIRST = [
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Greta",
    "Hiro",
    "Inès",
    "Jonas",
    "Kara",
    "Luis",
]
FIRST += ["Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Viktor", "Wen", "Zoë"]
LAST = ["Anders", "Bauer", "Costa", "Diaz", "Evans", "Fischer", "García", "Hughes", "Ito", "Jensen"]
LAST += ["Kowalski", "López", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt", "O'Brien"]
TITLES = ["CEO", "CTO", "VP Sales", "Head of Ops", "Buyer", "Founder", None]
NOTES = [None, "Budget approved", "Needs legal review", "important: exec sponsor", "Follow up in Q3"]


def load_seed(seed: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """The seed document for a name (``demo``, ``big``, ``empty``), a JSON path or a dict (copied)."""
    if isinstance(seed, dict):
        return copy.deepcopy(seed)
    if seed is None or seed in ("demo", "big", "empty"):
        doc: dict[str, Any] = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
        if seed == "big":
            doc["records"] = {"generate": dict(BIG)}
            doc["name"] = "Big Co (Close sandbox)"
        elif seed == "empty":
            doc.pop("records", None)
        return doc
    return json.loads(Path(seed).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def record_bodies(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The seed's records as request bodies per type (generated ones built here)."""
    spec = doc.get("records") or {}
    if "generate" in spec:
        return generate(doc, **spec["generate"])
    return {t: [dict(b) for b in spec.get(t) or []] for t in ("lead", "contact", "opportunity")}


def _field(doc: dict[str, Any], kind: str, name: str) -> dict[str, Any] | None:
    pool = list(doc.get("custom_fields", {}).get(kind, []))
    pool += [
        f
        for f in doc.get("custom_fields", {}).get("shared", [])
        if any(a["object_type"] == kind for a in f.get("associations", []))
    ]
    return next((f for f in pool if f["name"] == name), None)


def _set(body: dict[str, Any], f: dict[str, Any] | None, value: Any) -> None:
    if f is not None and value is not None:
        body[f"custom.{f['id']}"] = value


def generate(
    doc: dict[str, Any], *, leads: int, contacts: int, opportunities: int, seed: int = 7
) -> dict[str, list[dict[str, Any]]]:
    """Realistic, deterministic bodies: every field type, every value period and status type, and
    the awkward cases a migration meets (an unnamed lead, a one-word contact name, accents,
    opportunities without a value or a contact, values with cents)."""
    rng = random.Random(seed)
    users = [u["id"] for u in doc.get("users", [])]
    statuses = [(s, p) for p in doc.get("pipelines", []) for s in p["statuses"]]
    out: dict[str, list[dict[str, Any]]] = {"lead": [], "contact": [], "opportunity": []}
    ext = {k: _field(doc, k, "External ID") for k in ("lead", "contact", "opportunity")}
    industry, tier = _field(doc, "lead", "Industry"), _field(doc, "lead", "Tier")
    employees, renewal = _field(doc, "lead", "Employees"), _field(doc, "lead", "Renewal Date")
    manager, region = _field(doc, "lead", "Account Manager"), _field(doc, "lead", "Region")
    channel, last_met = _field(doc, "contact", "Preferred Channel"), _field(doc, "contact", "Last Met")
    products, forecast = (
        _field(doc, "opportunity", "Products"),
        _field(doc, "opportunity", "Forecast Category"),
    )
    reason, signed = _field(doc, "opportunity", "Close Reason"), _field(doc, "opportunity", "Signed On")
    engineer, opp_region = _field(doc, "opportunity", "Sales Engineer"), _field(doc, "opportunity", "Region")

    def when(days_back: int) -> str:
        d = ANCHOR - timedelta(days=days_back)
        return f"{d.isoformat()}T{rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:00+00:00"

    for i in range(leads):
        body: dict[str, Any] = {"date_created": when(700 - (i * 600) // max(leads, 1))}
        if i != 3:  # lead 3 has no name: it shows as "Untitled"
            body["name"] = (
                f"{COMPANY_A[i % len(COMPANY_A)]} {COMPANY_B[(i // len(COMPANY_A)) % len(COMPANY_B)]}"
            )
            if i >= len(COMPANY_A) * len(COMPANY_B):
                body["name"] += f" {i // (len(COMPANY_A) * len(COMPANY_B)) + 1}"
        if i % 3 != 1:
            body["url"] = f"https://{_slug(body.get('name') or 'untitled')}.example.com"
        if i % 4 == 0:
            body["description"] = "Imported from the old CRM"
        if doc.get("lead_statuses"):
            body["status_id"] = doc["lead_statuses"][i % len(doc["lead_statuses"])]["id"]
        if i % 5 != 4:
            body["addresses"] = [
                {"label": "business", "address_1": f"{i + 1} Main St", "city": rng.choice(["Austin", "Berlin"]),
                 "zipcode": f"{10000 + i}", "country": rng.choice(["US", "DE", "FR"])}
            ]  # fmt: skip
        _set(body, ext["lead"], f"CL-L-{i + 1:04d}")
        if industry is not None:
            _set(body, industry, rng.sample(industry["choices"], rng.choice((0, 1, 1, 2))) or None)
        _set(body, tier, rng.choice([None, *tier["choices"]]) if tier else None)
        _set(body, employees, rng.choice([None, 12, 85, 430, 2500, 12.5]))
        _set(body, renewal, (ANCHOR + timedelta(days=rng.randrange(400))).isoformat() if i % 2 else None)
        _set(body, manager, rng.choice(users) if users and i % 3 == 0 else None)
        _set(body, region, rng.choice(region["choices"]) if region and i % 2 == 0 else None)
        body["user_ref"] = i % max(len(users), 1)
        out["lead"].append(body)

    for j in range(contacts):
        lead_i = j % leads if leads else 0
        first, last = FIRST[j % len(FIRST)], LAST[(j * 7) % len(LAST)]
        name = first if j == 5 else f"{first} {last}"  # contact 5 is a mononym
        body = {"lead_ref": lead_i, "name": name, "date_created": when(650 - (j * 600) // max(contacts, 1))}
        title = TITLES[j % len(TITLES)]
        if title:
            body["title"] = title
        if j % 6 != 2:
            body["emails"] = [{"email": f"{_slug(first)}.{_slug(last)}{j}@example.com", "type": "office"}]
        if j % 2 == 0:
            body["phones"] = [
                {"phone": f"+1 512 555 {1000 + j % 9000:04d}", "type": rng.choice(["office", "mobile"])}
            ]
        _set(body, ext["contact"], f"CL-C-{j + 1:04d}")
        _set(body, channel, rng.choice([None, *channel["choices"]]) if channel else None)
        _set(body, last_met, when(rng.randrange(300)) if j % 4 == 0 else None)
        body["user_ref"] = j % max(len(users), 1)
        out["contact"].append(body)

    contacts_of: dict[int, list[int]] = {}
    for j, c in enumerate(out["contact"]):
        contacts_of.setdefault(c["lead_ref"], []).append(j)
    periods = ["one_time"] * 6 + ["monthly"] * 3 + ["annual"] * 2
    for k in range(opportunities):
        lead_i = (k * 3) % leads if leads else 0
        status, _pipeline = statuses[k % len(statuses)] if statuses else ({"type": "active"}, None)
        body = {"lead_ref": lead_i, "date_created": when(600 - (k * 580) // max(opportunities, 1))}
        if statuses:
            body["status_id"] = status["id"]
        body["value_period"] = periods[k % len(periods)]
        if k % 17 != 5:  # some opportunities have no value
            body["value"] = rng.choice([50_000, 120_000, 250_000, 990_000, 1_234_567, 4_500_000, 100_00])
        body["confidence"] = {"won": 100, "lost": 0}.get(status["type"], rng.choice([10, 25, 50, 75, 90]))
        if status["type"] == "won":
            body["date_won"] = (ANCHOR - timedelta(days=rng.randrange(540))).isoformat()
        if users:
            body["user_id"] = users[k % len(users)]
        note = NOTES[k % len(NOTES)]
        if note:
            body["note"] = note
        choices = contacts_of.get(lead_i) or []
        if choices and k % 4 != 3:
            body["contact_ref"] = choices[k % len(choices)]
        _set(body, ext["opportunity"], f"CL-O-{k + 1:04d}")
        if products is not None:
            _set(body, products, rng.sample(products["choices"], rng.choice((0, 1, 2, 3))) or None)
        _set(body, forecast, rng.choice([None, *forecast["choices"]]) if forecast else None)
        _set(body, reason, "Price" if status["type"] == "lost" else None)
        _set(body, signed, body.get("date_won"))
        _set(body, engineer, rng.choice(users) if users and k % 5 == 0 else None)
        _set(body, opp_region, rng.choice(opp_region["choices"]) if opp_region and k % 3 == 0 else None)
        body["user_ref"] = k % max(len(users), 1)
        out["opportunity"].append(body)
    return out


def _slug(text: str) -> str:
    ascii_text = text.encode("ascii", "ignore").decode().lower()
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_text).strip("-") or "x"
