"""Leads, contacts and opportunities: checking and applying writes, and their API shapes.

What is stored (:attr:`Rec.doc`) is only what was written plus who/when; everything Close derives
(labels, names, ``value_formatted``, expected and annualized values, a lead's nested contacts and
opportunities) is computed when a record is rendered, so it can never go stale.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from .rules import (
    Problems,
    check_email,
    check_url,
    format_money,
    format_phone,
    invalid,
    is_int,
    is_number,
    iso,
    normalize_phone,
    not_found,
    parse_date,
    parse_datetime,
    text_or_null,
    today,
)
from .store import LABELS, OrgData, Rec

PREFIXES = {"lead": "lead_", "contact": "cont_", "opportunity": "oppo_"}
VALUE_PERIODS = ("one_time", "monthly", "annual")
EMAIL_TYPES = ("office", "home", "direct", "mobile", "other")
PHONE_TYPES = ("office", "mobile", "home", "direct", "fax", "other")
URL_TYPES = ("url", "other")
ADDRESS_KEYS = ("label", "address_1", "address_2", "city", "state", "zipcode", "country")
ADDRESS_LABELS = ("business", "mailing", "other")
CUSTOM_TYPES = (
    "text",
    "textarea",
    "number",
    "date",
    "datetime",
    "choices",
    "user",
    "contact",
    "url",
    "hidden",
)
_ALNUM = string.ascii_letters + string.digits

#: body keys each type accepts on create (updates accept the same minus the create-only ones)
WRITABLE = {
    "lead": {"name", "url", "description", "status_id", "status", "contacts", "addresses", "date_created"},
    "contact": {"lead_id", "name", "title", "emails", "phones", "urls", "date_created"},
    "opportunity": {
        "lead_id",
        "contact_id",
        "user_id",
        "status_id",
        "status",
        "pipeline_id",
        "value",
        "value_period",
        "confidence",
        "note",
        "date_won",
        "date_created",
        "created_by",
        "attachments",
        "custom_fields",
    },
}
CREATE_ONLY = {"date_created", "created_by", "contacts"}


def new_id(prefix: str, n: int = 43) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(n))


@dataclass
class Ctx:
    """Who is writing, when, in which time zone, and how strictly keys are checked."""

    org: OrgData
    user_id: str
    tz_hours: float
    now: float
    strict_keys: bool = True


# --- custom fields ---------------------------------------------------------------------------------
def check_custom_value(org: OrgData, fdef: dict[str, Any], value: Any) -> tuple[bool, Any]:
    """One value of a custom field's type → (ok, stored form)."""
    ftype = fdef["type"]
    if ftype in ("text", "textarea", "hidden"):
        return isinstance(value, str) and len(value) <= 100_000, value
    if ftype == "number":
        return is_number(value), value
    if ftype == "date":
        d = parse_date(value)
        return d is not None, d.isoformat() if d else None
    if ftype == "datetime":
        dt = parse_datetime(value)
        return dt is not None, dt.isoformat(timespec="microseconds") if dt else None
    if ftype == "choices":
        return isinstance(value, str) and value in (fdef.get("choices") or []), value
    if ftype == "user":
        return org.user(value) is not None, value
    if ftype == "contact":
        return org.get("contact", value) is not None, value
    if ftype == "url":
        return check_url(value), value
    return False, None


def _expected(fdef: dict[str, Any]) -> str:
    ftype = fdef["type"]
    if ftype == "choices":
        return "one of " + ", ".join(repr(c) for c in fdef.get("choices") or [])
    return {
        "number": "a number",
        "date": "a date (YYYY-MM-DD)",
        "datetime": "an ISO 8601 date and time",
        "user": "the id of a user of this organization",
        "contact": "the id of a contact",
        "url": "a URL starting with http:// or https://",
    }.get(ftype, "a string")


def apply_custom(
    ctx: Ctx, otype: str, p: Problems, items: list[tuple[str, Any]], current: dict[str, Any], *, update: bool
) -> dict[str, Any]:
    """Apply ``custom.<id>`` (set, ``null`` unsets), ``custom.<id>.add`` and ``.remove``, in body order."""
    out = dict(current)
    for key, value in items:
        rest = key[len("custom.") :]
        op = None
        if rest.endswith((".add", ".remove")):
            rest, op = rest.rsplit(".", 1)
        fdef = ctx.org.custom_field(otype, rest)
        if fdef is None:
            p.add(key, f"Unknown custom field {rest!r}: use custom.<field id> (names are deprecated).")
            continue
        multi = bool(fdef.get("accepts_multiple_values"))
        if op is not None:
            if not update:
                p.add(key, f"custom.<id>.{op} works only when updating an existing object.")
                continue
            if not multi:
                p.add(key, f"custom.<id>.{op} needs a field that accepts multiple values.")
                continue
            ok, stored = check_custom_value(ctx.org, fdef, value)
            if not ok:
                p.add(key, f"Invalid value {value!r}: expected {_expected(fdef)}.")
                continue
            values = list(out.get(fdef["id"]) or [])
            if op == "add" and stored not in values:
                values.append(stored)
            elif op == "remove" and stored in values:
                values.remove(stored)
            _set(out, fdef["id"], values)
        elif value is None:
            out.pop(fdef["id"], None)
        elif multi:
            if not isinstance(value, list):
                p.add(key, f"This field accepts multiple values: send a list of {_expected(fdef)}.")
                continue
            values = []
            for item in value:
                ok, stored = check_custom_value(ctx.org, fdef, item)
                if not ok:
                    p.add(key, f"Invalid value {item!r}: expected {_expected(fdef)}.")
                    break
                if stored not in values:
                    values.append(stored)
            else:
                _set(out, fdef["id"], values)
        else:
            ok, stored = check_custom_value(ctx.org, fdef, value)
            if not ok:
                p.add(key, f"Invalid value {value!r}: expected {_expected(fdef)}.")
            else:
                out[fdef["id"]] = stored
    return out


def _set(out: dict[str, Any], fid: str, values: list[Any]) -> None:
    if values:
        out[fid] = values
    else:
        out.pop(fid, None)


def check_required_custom(ctx: Ctx, otype: str, p: Problems, custom: dict[str, Any]) -> None:
    for fdef in ctx.org.custom_fields(otype):
        required = any(a["object_type"] == otype and a.get("required") for a in fdef.get("associations", []))
        if required and custom.get(fdef["id"]) in (None, []):
            p.add(f"custom.{fdef['id']}", "This field is required.")


def split_body(
    ctx: Ctx, otype: str, body: Any, p: Problems, *, update: bool
) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Plain keys and ``custom.*`` items of a write body; unknown/read-only keys are errors when strict."""
    if not isinstance(body, dict):
        raise invalid(errors=["The request body must be a JSON object."])
    plain: dict[str, Any] = {}
    custom: list[tuple[str, Any]] = []
    allowed = WRITABLE[otype] - (CREATE_ONLY if update else set())
    for key, value in body.items():
        if key.startswith("custom."):
            custom.append((key, value))
        elif key == "custom_fields" and otype == "opportunity":
            if not isinstance(value, dict):
                p.add(key, "Expected an object of custom field ids to values.")
            else:
                custom.extend((f"custom.{k}", v) for k, v in value.items())
        elif key == "custom":
            if ctx.strict_keys:
                p.add(key, "The custom dict is deprecated: send custom.<field id> keys.")
        elif key in allowed:
            plain[key] = value
        elif ctx.strict_keys:
            known = key in WRITABLE[otype]
            p.add(key, "This field can only be set on create." if known else "Unknown or read-only field.")
    return plain, custom


# --- statuses --------------------------------------------------------------------------------------
def _pick_opp_status(ctx: Ctx, p: Problems, plain: dict[str, Any], current: str | None) -> str | None:
    """The status an opportunity write ends on (API-FACTS §4.1: pipeline first status, org first)."""
    org = ctx.org
    pipeline = None
    if "pipeline_id" in plain:
        pipeline = next((x for x in org.config["pipelines"] if x["id"] == plain["pipeline_id"]), None)
        if pipeline is None:
            p.add("pipeline_id", "Object does not exist.")
            return current
    if "status_id" in plain and "status" in plain:
        p.general("Post either status or status_id, not both.")
        return current
    status_id: str | None = None
    if "status_id" in plain:
        found = org.opp_status(plain["status_id"])
        if found is None:
            p.add("status_id", "Object does not exist.")
            return current
        status_id = found[0]["id"]
    elif "status" in plain:
        label = plain["status"]
        pool = [(s, pp) for s, pp in org.opp_statuses() if pipeline is None or pp["id"] == pipeline["id"]]
        matches = [s for s, _ in pool if isinstance(label, str) and s["label"] == label]
        if len(matches) != 1:
            p.add(
                "status", "No status with this label." if not matches else "Several statuses have this label."
            )
            return current
        status_id = matches[0]["id"]
    if status_id is not None:
        if pipeline is not None and org.opp_status(status_id)[1]["id"] != pipeline["id"]:  # type: ignore[index]
            p.add("status_id", "This status does not belong to the given pipeline.")
        return status_id
    if pipeline is not None:
        cur = org.opp_status(current)
        if cur is not None and cur[1]["id"] == pipeline["id"]:
            return current
        if not pipeline["statuses"]:
            p.add("pipeline_id", "This pipeline has no statuses.")
            return current
        return str(pipeline["statuses"][0]["id"])
    if current is None:
        first = org.opp_statuses()
        if not first:
            p.general("The organization has no opportunity statuses.")
            return None
        return str(first[0][0]["id"])
    return current


def _pick_lead_status(ctx: Ctx, p: Problems, plain: dict[str, Any], current: str | None) -> str | None:
    org = ctx.org
    if "status_id" in plain and "status" in plain:
        p.general("Post either status or status_id, not both.")
        return current
    if "status_id" in plain:
        if org.lead_status(plain["status_id"]) is None:
            p.add("status_id", "Object does not exist.")
            return current
        return str(plain["status_id"])
    if "status" in plain:
        found = [s for s in org.config["lead_statuses"] if s["label"] == plain["status"]]
        if not found:
            p.add("status", "No lead status with this label.")
            return current
        return str(found[0]["id"])
    if current is None:
        statuses = org.config["lead_statuses"]
        return str(statuses[0]["id"]) if statuses else None
    return current


def _stamp(ctx: Ctx, doc: dict[str, Any], *, created: bool, p: Problems, plain: dict[str, Any]) -> None:
    now = iso(ctx.now)
    if created:
        doc["created_by"] = ctx.user_id
        doc["date_created"] = now
        if "date_created" in plain:
            dt = parse_datetime(plain["date_created"])
            if dt is None:
                p.add("date_created", "Not a valid date and time.")
            else:
                doc["date_created"] = dt.isoformat(timespec="microseconds")
        if "created_by" in plain:
            if ctx.org.user(plain["created_by"]) is None:
                p.add("created_by", "Object does not exist.")
            else:
                doc["created_by"] = plain["created_by"]
    doc["updated_by"] = ctx.user_id
    doc["date_updated"] = now


# --- opportunities -----------------------------------------------------------------------------------
def write_opportunity(ctx: Ctx, body: Any, rec: Rec | None) -> tuple[dict[str, Any], Rec | None]:
    """Check an opportunity create (``rec`` None) or update; → the new doc and a lead to create."""
    org = ctx.org
    p = Problems()
    update = rec is not None
    plain, custom_items = split_body(ctx, "opportunity", body, p, update=update)
    doc: dict[str, Any] = (
        dict(rec.doc) if rec else {"value": None, "value_period": "one_time", "confidence": 0}
    )
    doc.setdefault("custom", {})
    new_lead: Rec | None = None
    if "lead_id" in plain:
        if plain["lead_id"] is None and not update:
            pass
        elif org.get("lead", plain["lead_id"]) is None:
            p.add("lead_id", "Object does not exist.")
        else:
            doc["lead_id"] = plain["lead_id"]
    if not doc.get("lead_id") and not p.fields.get("lead_id"):
        new_lead = Rec(new_id(PREFIXES["lead"]), "lead", ctx.now, {"name": None, "custom": {}})
        doc["lead_id"] = new_lead.id
    if "contact_id" in plain:
        cid = plain["contact_id"]
        contact = org.get("contact", cid) if cid is not None else None
        if cid is not None and contact is None:
            p.add("contact_id", "Object does not exist.")
        elif contact is not None and contact.doc.get("lead_id") != doc.get("lead_id"):
            p.add("contact_id", "This contact belongs to another lead.")
        else:
            doc["contact_id"] = cid
    elif update and doc.get("contact_id"):
        contact = org.get("contact", doc["contact_id"])
        if contact is None or contact.doc.get("lead_id") != doc.get("lead_id"):
            doc["contact_id"] = None  # the opportunity moved to another lead
    if "user_id" in plain:
        if org.user(plain["user_id"]) is None:
            p.add("user_id", "Object does not exist.")
        else:
            doc["user_id"] = plain["user_id"]
    doc.setdefault("user_id", ctx.user_id)
    if "value" in plain:
        v = plain["value"]
        if v is not None and not is_int(v):
            p.add("value", "Not a valid integer (values are in cents).")
        else:
            doc["value"] = v
    if "value_period" in plain:
        if plain["value_period"] not in VALUE_PERIODS:
            p.add("value_period", f"Not a valid choice: use one of {', '.join(VALUE_PERIODS)}.")
        else:
            doc["value_period"] = plain["value_period"]
    if "confidence" in plain:
        c = plain["confidence"]
        if not is_int(c) or not 0 <= c <= 100:
            p.add("confidence", "Not a valid integer between 0 and 100.")
        else:
            doc["confidence"] = c
    if "note" in plain:
        doc["note"] = text_or_null(p, "note", plain["note"], max_len=100_000)
    explicit_won = "date_won" in plain
    if explicit_won:
        raw = plain["date_won"]
        d = parse_date(raw)
        if d is None and raw is not None:
            dt = parse_datetime(raw)
            d = dt.date() if dt is not None else None
            if d is None:
                p.add("date_won", "Not a valid date (YYYY-MM-DD).")
        doc["date_won"] = d.isoformat() if d else None
    if "attachments" in plain and plain["attachments"] not in ([], None):
        p.add("attachments", "The sandbox stores no files: send an empty list or leave attachments out.")
    old_status = doc.get("status_id")
    doc["status_id"] = _pick_opp_status(ctx, p, plain, old_status)
    doc["custom"] = apply_custom(ctx, "opportunity", p, custom_items, doc.get("custom") or {}, update=update)
    if not update:
        check_required_custom(ctx, "opportunity", p, doc["custom"])
    _stamp(ctx, doc, created=not update, p=p, plain=plain)
    p.raise_any()
    found = org.opp_status(doc["status_id"])
    if found is not None and doc["status_id"] != old_status:
        stype = found[0]["type"]
        if stype == "won" and not explicit_won and not doc.get("date_won"):
            doc["date_won"] = today(ctx.tz_hours, ctx.now).isoformat()
        if stype == "lost":
            doc["date_lost"] = iso(ctx.now)
    doc.setdefault("date_won", None)
    doc.setdefault("date_lost", None)
    doc.setdefault("contact_id", None)
    doc.setdefault("note", None)
    if new_lead is not None:
        new_lead.doc.update(
            status_id=_pick_lead_status(ctx, Problems(), {}, None),
            created_by=ctx.user_id,
            updated_by=ctx.user_id,
            date_created=iso(ctx.now),
            date_updated=iso(ctx.now),
        )
    return doc, new_lead


def render_opportunity(org: OrgData, rec: Rec) -> dict[str, Any]:
    d = rec.doc
    found = org.opp_status(d.get("status_id"))
    status, pipeline = found if found else ({"id": d.get("status_id"), "label": "", "type": "active"}, None)
    lead = org.records.get(d.get("lead_id") or "")
    contact = org.records.get(d.get("contact_id") or "")
    value, conf, period = d.get("value"), int(d.get("confidence") or 0), d.get("value_period") or "one_time"
    expected = None if value is None else round(value * conf / 100)
    annualized = None if value is None else value * 12 if period == "monthly" else value
    annualized_expected = None if annualized is None else round(annualized * conf / 100)
    currency = org.config.get("currency", "USD")
    out: dict[str, Any] = {
        "id": rec.id,
        "organization_id": org.org_id,
        "lead_id": d.get("lead_id"),
        "lead_name": lead_display_name(lead) if lead else None,
        "contact_id": d.get("contact_id"),
        "contact_name": contact.doc.get("name") if contact else None,
        "user_id": d.get("user_id"),
        "user_name": user_name(org, d.get("user_id")),
        "status_id": status["id"],
        "status_label": status["label"],
        "status_display_name": status["label"],
        "status_type": status["type"],
        "pipeline_id": pipeline["id"] if pipeline else None,
        "pipeline_name": pipeline["name"] if pipeline else None,
        "value": value,
        "value_period": period,
        "value_currency": currency,
        "value_formatted": format_money(value, currency),
        "confidence": conf,
        "expected_value": expected,
        "annualized_value": annualized,
        "annualized_expected_value": annualized_expected,
        "date_won": d.get("date_won"),
        "date_lost": d.get("date_lost"),
        "note": d.get("note"),
        "attachments": [],
        "integration_links": [],
        "is_stalled": False,
        "stall_status": None,
        "suggested_action": None,
        "comment_summary": None,
        "created_by": d.get("created_by"),
        "created_by_name": user_name(org, d.get("created_by")),
        "updated_by": d.get("updated_by"),
        "updated_by_name": user_name(org, d.get("updated_by")),
        "date_created": d.get("date_created"),
        "date_updated": d.get("date_updated"),
    }
    out.update(_custom_keys(d))
    return out


def user_name(org: OrgData, user_id: Any) -> str | None:
    u = org.user(user_id)
    return f"{u['first_name']} {u['last_name']}".strip() if u else None


def _custom_keys(doc: dict[str, Any]) -> dict[str, Any]:
    return {f"custom.{k}": v for k, v in (doc.get("custom") or {}).items()}


# --- contacts ----------------------------------------------------------------------------------------
def _points(p: Problems, key: str, raw: Any, inner: str, types: tuple[str, ...]) -> list[dict[str, Any]]:
    """``emails`` / ``phones`` / ``urls``: a list of ``{<inner>, type}`` objects, checked and normalised."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        p.add(key, f"Expected a list of objects with {inner!r} and 'type'.")
        return []
    out = []
    extra_ok = {"email": {"is_unsubscribed"}, "phone": {"country"}, "url": set()}[inner]
    for i, item in enumerate(raw):
        where = f"{key}.{i}"
        if not isinstance(item, dict) or inner not in item:
            p.add(where, f"Expected an object with {inner!r}.")
            continue
        unknown = set(item) - {inner, "type"} - extra_ok
        if unknown:
            p.add(where, f"Unknown key {min(unknown)!r}.")
            continue
        kind = item.get("type", types[0])
        if kind not in types:
            p.add(f"{where}.type", f"Not a valid choice: use one of {', '.join(types)}.")
            continue
        value = item[inner]
        if inner == "email":
            if not check_email(value):
                p.add(f"{where}.email", "Not a valid email address.")
                continue
            out.append({"email": value.strip(), "type": kind, "is_unsubscribed": False})
        elif inner == "phone":
            e164 = normalize_phone(value)
            if e164 is None:
                p.add(f"{where}.phone", "Not a valid phone number.")
                continue
            out.append({"phone": e164, "phone_formatted": format_phone(e164), "type": kind})
        else:
            if not check_url(value):
                p.add(f"{where}.url", "Not a valid URL (include http:// or https://).")
                continue
            out.append({"url": value.strip(), "type": kind})
    return out


def write_contact(
    ctx: Ctx, body: Any, rec: Rec | None, *, nested_lead: str | None = None, prefix: str = ""
) -> tuple[dict[str, Any], Rec | None]:
    """Check a contact create/update; → the new doc and, without a lead, the lead to create."""
    org = ctx.org
    p = Problems()
    update = rec is not None
    plain, custom_items = split_body(ctx, "contact", body, p, update=update)
    doc: dict[str, Any] = (
        dict(rec.doc) if rec else {"name": None, "title": None, "emails": [], "phones": [], "urls": []}
    )
    if nested_lead is not None:
        if "lead_id" in plain:
            p.add("lead_id", "Contacts nested in a lead belong to that lead.")
        doc["lead_id"] = nested_lead
    elif "lead_id" in plain and plain["lead_id"] is not None:
        if org.get("lead", plain["lead_id"]) is None:
            p.add("lead_id", "Object does not exist.")
        else:
            doc["lead_id"] = plain["lead_id"]
    elif "lead_id" in plain and update:
        p.add("lead_id", "A contact always belongs to a lead.")
    for key in ("name", "title"):
        if key in plain:
            doc[key] = text_or_null(p, key, plain[key], max_len=1000)
    for key, inner, types in (("emails", "email", EMAIL_TYPES), ("phones", "phone", PHONE_TYPES)):
        if key in plain:
            doc[key] = _points(p, key, plain[key], inner, types)
    if "urls" in plain:
        doc["urls"] = _points(p, "urls", plain["urls"], "url", URL_TYPES)
    doc["custom"] = apply_custom(ctx, "contact", p, custom_items, doc.get("custom") or {}, update=update)
    if not update:
        check_required_custom(ctx, "contact", p, doc["custom"])
    _stamp(ctx, doc, created=not update, p=p, plain=plain)
    if prefix and (p.fields or p.errors):
        raise invalid({f"{prefix}.{k}": v for k, v in p.fields.items()}, p.errors)
    p.raise_any()
    new_lead = None
    if not doc.get("lead_id"):
        # API-FACTS §4.3: a contact posted without a lead gets a new lead named after it
        new_lead = Rec(new_id(PREFIXES["lead"]), "lead", ctx.now, {"name": doc.get("name"), "custom": {}})
        new_lead.doc.update(
            status_id=_pick_lead_status(ctx, Problems(), {}, None),
            created_by=ctx.user_id,
            updated_by=ctx.user_id,
            date_created=iso(ctx.now),
            date_updated=iso(ctx.now),
            addresses=[],
        )
        doc["lead_id"] = new_lead.id
    return doc, new_lead


def render_contact(org: OrgData, rec: Rec) -> dict[str, Any]:
    d = rec.doc
    emails = [dict(e) for e in d.get("emails") or []]
    display = d.get("name") or (emails[0]["email"] if emails else "")
    out: dict[str, Any] = {
        "id": rec.id,
        "organization_id": org.org_id,
        "lead_id": d.get("lead_id"),
        "name": d.get("name"),
        "display_name": display,
        "title": d.get("title"),
        "emails": emails,
        "phones": [dict(x) for x in d.get("phones") or []],
        "urls": [dict(x) for x in d.get("urls") or []],
        "integration_links": [],
        "subscriptions": [],
        "created_by": d.get("created_by"),
        "updated_by": d.get("updated_by"),
        "date_created": d.get("date_created"),
        "date_updated": d.get("date_updated"),
    }
    out.update(_custom_keys(d))
    return out


# --- leads -------------------------------------------------------------------------------------------
def _addresses(p: Problems, raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        p.add("addresses", "Expected a list of address objects.")
        return []
    out = []
    for i, item in enumerate(raw):
        where = f"addresses.{i}"
        if not isinstance(item, dict):
            p.add(where, "Expected an address object.")
            continue
        unknown = set(item) - set(ADDRESS_KEYS)
        if unknown:
            p.add(where, f"Unknown key {min(unknown)!r}.")
            continue
        addr: dict[str, Any] = {k: None for k in ADDRESS_KEYS}
        for k in ADDRESS_KEYS:
            addr[k] = text_or_null(p, f"{where}.{k}", item.get(k), max_len=500)
        addr["label"] = addr["label"] or "business"
        if addr["label"] not in ADDRESS_LABELS:
            p.add(f"{where}.label", f"Not a valid choice: use one of {', '.join(ADDRESS_LABELS)}.")
        country = addr["country"]
        if country is not None and (len(country) != 2 or not country.isalpha() or not country.isupper()):
            p.add(f"{where}.country", "Expected a two-letter ISO country code such as US or DE.")
        out.append(addr)
    return out


def write_lead(
    ctx: Ctx, body: Any, rec: Rec | None
) -> tuple[str, dict[str, Any], list[tuple[dict[str, Any], str]]]:
    """Check a lead create/update; → its id, the new doc and the nested contacts (doc, id) to create."""
    p = Problems()
    update = rec is not None
    plain, custom_items = split_body(ctx, "lead", body, p, update=update)
    if update and isinstance(body, dict) and "contacts" in body:
        p.fields.pop("contacts", None)
        p.add("contacts", "Nested contacts cannot be updated with PUT /lead/: use the Contact API.")
    doc: dict[str, Any] = (
        dict(rec.doc) if rec else {"name": None, "url": None, "description": None, "addresses": []}
    )
    for key, limit in (("name", 1000), ("description", 100_000)):
        if key in plain:
            doc[key] = text_or_null(p, key, plain[key], max_len=limit)
    if "url" in plain:
        if plain["url"] is not None and not check_url(plain["url"]):
            p.add("url", "Not a valid URL (include http:// or https://).")
        else:
            doc["url"] = plain["url"]
    if "addresses" in plain:
        doc["addresses"] = _addresses(p, plain["addresses"])
    doc["status_id"] = _pick_lead_status(ctx, p, plain, doc.get("status_id"))
    doc["custom"] = apply_custom(ctx, "lead", p, custom_items, doc.get("custom") or {}, update=update)
    if not update:
        check_required_custom(ctx, "lead", p, doc["custom"])
    _stamp(ctx, doc, created=not update, p=p, plain=plain)
    p.raise_any()
    nested: list[tuple[dict[str, Any], str]] = []
    lead_id = rec.id if rec else new_id(PREFIXES["lead"])
    raw_contacts = plain.get("contacts") or []
    if not isinstance(raw_contacts, list):
        raise invalid({"contacts": "Expected a list of contact objects."})
    for i, item in enumerate(raw_contacts):
        cdoc, _ = write_contact(ctx, item, None, nested_lead=lead_id, prefix=f"contacts.{i}")
        nested.append((cdoc, new_id(PREFIXES["contact"])))
    return lead_id, doc, nested


def lead_display_name(rec: Rec) -> str:
    return str(rec.doc.get("name") or "Untitled")


def render_lead(org: OrgData, rec: Rec) -> dict[str, Any]:
    d = rec.doc
    contacts = [render(org, c) for c in org.kids(rec.id, "contact")]
    status = org.lead_status(d.get("status_id")) or {"label": ""}
    emails = [e for c in contacts for e in c["emails"]]
    phones = [x for c in contacts for x in c["phones"]]
    addresses = [dict(a, tz_ids=[]) for a in d.get("addresses") or []]
    out: dict[str, Any] = {
        "id": rec.id,
        "organization_id": org.org_id,
        "name": d.get("name"),
        "display_name": lead_display_name(rec),
        "url": d.get("url"),
        "description": d.get("description"),
        "status_id": d.get("status_id"),
        "status_label": status["label"],
        "contacts": contacts,
        "contact_ids": [c["id"] for c in contacts],
        "opportunities": [render(org, o) for o in org.kids(rec.id, "opportunity")],
        "tasks": [],
        "addresses": addresses,
        "primary_email": emails[0] if emails else None,
        "primary_phone": phones[0] if phones else None,
        "primary_address_summary": _address_summary(addresses[0]) if addresses else None,
        "html_url": f"https://app.close.com/lead/{rec.id}/",
        "source": None,
        "integration_links": [],
        "created_by": d.get("created_by"),
        "created_by_name": user_name(org, d.get("created_by")),
        "updated_by": d.get("updated_by"),
        "updated_by_name": user_name(org, d.get("updated_by")),
        "date_created": d.get("date_created"),
        "date_updated": d.get("date_updated"),
    }
    out.update(_custom_keys(d))
    return out


def _address_summary(a: dict[str, Any]) -> str:
    return ", ".join(str(a[k]) for k in ("address_1", "city", "state", "zipcode", "country") if a.get(k))


RENDER = {"lead": render_lead, "contact": render_contact, "opportunity": render_opportunity}


def render(org: OrgData, rec: Rec) -> dict[str, Any]:
    """A record's API shape, cached until the org's next write (lists and searches render every
    record, and reads far outnumber writes while a client pages). Callers must not mutate it."""
    hit = org.shapes.get(rec.id)
    if hit is not None and hit[0] == org.version:
        return hit[1]
    shape = RENDER[rec.type](org, rec)
    org.shapes[rec.id] = (org.version, shape)
    return shape


def find(org: OrgData, rtype: str, rid: str) -> Rec:
    rec = org.get(rtype, rid)
    if rec is None:
        raise not_found(LABELS[rtype])
    return rec


def project(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """``_fields``: only the named keys; ``custom`` means every ``custom.*`` key, ``_all`` everything."""
    if not fields or "_all" in fields:
        return obj
    out = {}
    for name in fields:
        if name == "custom":
            out.update({k: v for k, v in obj.items() if k.startswith("custom.")})
        elif name in obj:
            out[name] = obj[name]
    return out
