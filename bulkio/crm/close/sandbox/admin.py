"""The org's configuration over HTTP: ``/me/``, users, the organization, lead and opportunity
statuses, pipelines, and custom field definitions (lead, contact, opportunity and shared fields).

Rules from API-FACTS §4.5/§4.6: an opportunity status is created in a pipeline with a type
``active|won|lost``; a status in use, or a pipeline that still has statuses, cannot be deleted;
``PUT /pipeline/{id}/`` renames, reorders, or moves a status in from another pipeline. Custom field
types are ``text, number, date, choices, user`` (documented) plus ``datetime, textarea, contact,
url, hidden`` (UNVERIFIED, accepted); ``choices`` and ``user`` fields may accept multiple values;
deleting a field removes its values everywhere.
"""

from __future__ import annotations

from typing import Any

from .objects import CUSTOM_TYPES, new_id
from .rules import Problems, invalid, iso, not_found
from .store import OrgData, Rec

OBJECT_TYPES = ("lead", "contact", "opportunity")
STATUS_TYPES = ("active", "won", "lost")
SHARED_TARGETS = ("lead", "contact", "opportunity")


def render_user(org: OrgData, user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": user["id"],
        "first_name": user.get("first_name"),
        "last_name": user.get("last_name"),
        "display_name": f"{user.get('first_name', '')} {user.get('last_name', '')}".strip(),
        "email": user.get("email"),
        "image": None,
        "organizations": [org.org_id],
        "date_created": user.get("date_created"),
        "date_updated": user.get("date_updated"),
    }


def me(org: OrgData, user_id: str) -> dict[str, Any]:
    user = org.user(user_id)
    if user is None:
        raise not_found("User")
    out = render_user(org, user)
    out["organization_id"] = org.org_id
    out["organizations"] = [{"id": org.org_id, "name": org.config.get("name")}]
    return out


def organization(org: OrgData, org_id: str) -> dict[str, Any]:
    if org_id != org.org_id:
        raise not_found("Organization")
    return {
        "id": org.org_id,
        "name": org.config.get("name"),
        "currency": org.config.get("currency", "USD"),
        "date_created": org.config.get("date_created"),
        "date_updated": org.config.get("date_created"),
        "lead_statuses": [dict(s) for s in org.config["lead_statuses"]],
    }


def render_opp_status(status: dict[str, Any], pipeline: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": status["id"],
        "label": status["label"],
        "type": status["type"],
        "pipeline_id": pipeline["id"],
    }


def render_pipeline(org: OrgData, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p["id"],
        "name": p["name"],
        "organization_id": org.org_id,
        "statuses": [{"id": s["id"], "label": s["label"], "type": s["type"]} for s in p["statuses"]],
        "created_by": p.get("created_by"),
        "updated_by": p.get("updated_by"),
        "date_created": p.get("date_created"),
        "date_updated": p.get("date_updated"),
    }


def _body(body: Any, allowed: set[str]) -> tuple[dict[str, Any], Problems]:
    p = Problems()
    if not isinstance(body, dict):
        raise invalid(errors=["The request body must be a JSON object."])
    for k in body:
        if k not in allowed:
            p.add(k, "Unknown or read-only field.")
    return body, p


def _label(p: Problems, body: dict[str, Any], key: str, required: bool) -> str | None:
    v = body.get(key)
    if v is None:
        if required:
            p.add(key, "This field is required.")
        return None
    if not isinstance(v, str) or not v.strip():
        p.add(key, "Not a valid string.")
        return None
    return v.strip()


# --- lead statuses --------------------------------------------------------------------------------------
def create_lead_status(org: OrgData, body: Any) -> dict[str, Any]:
    data, p = _body(body, {"label"})
    label = _label(p, data, "label", True)
    if label and any(s["label"] == label for s in org.config["lead_statuses"]):
        p.add("label", "A lead status with this label already exists.")
    p.raise_any()
    status = {"id": new_id("stat_"), "label": label}
    org.config["lead_statuses"].append(status)
    return dict(status)


def update_lead_status(org: OrgData, status_id: str, body: Any) -> dict[str, Any]:
    status = org.lead_status(status_id)
    if status is None:
        raise not_found("LeadStatus")
    data, p = _body(body, {"label"})
    label = _label(p, data, "label", False)
    p.raise_any()
    if label:
        status["label"] = label
    return dict(status)


def delete_lead_status(org: OrgData, status_id: str) -> None:
    status = org.lead_status(status_id)
    if status is None:
        raise not_found("LeadStatus")
    if any(r.doc.get("status_id") == status_id for r in org.ordered["lead"]):
        raise invalid(errors=["This status is used by leads: change their status first."])
    org.config["lead_statuses"].remove(status)


# --- opportunity statuses and pipelines -------------------------------------------------------------
def create_opp_status(org: OrgData, body: Any) -> dict[str, Any]:
    data, p = _body(body, {"label", "type", "pipeline_id"})
    label = _label(p, data, "label", True)
    stype = data.get("type")
    if stype not in STATUS_TYPES:
        p.add("type", f"Not a valid choice: use one of {', '.join(STATUS_TYPES)}.")
    pipeline = next((x for x in org.config["pipelines"] if x["id"] == data.get("pipeline_id")), None)
    if pipeline is None:
        p.add(
            "pipeline_id",
            "This field is required." if "pipeline_id" not in data else "Object does not exist.",
        )
    elif label and any(s["label"] == label for s in pipeline["statuses"]):
        p.add("label", "A status with this label already exists in this pipeline.")
    p.raise_any()
    assert pipeline is not None
    status = {"id": new_id("stat_"), "label": label, "type": stype}
    pipeline["statuses"].append(status)
    return render_opp_status(status, pipeline)


def update_opp_status(org: OrgData, status_id: str, body: Any) -> dict[str, Any]:
    found = org.opp_status(status_id)
    if found is None:
        raise not_found("OpportunityStatus")
    data, p = _body(body, {"label"})
    label = _label(p, data, "label", False)
    p.raise_any()
    if label:
        found[0]["label"] = label
    return render_opp_status(*found)


def delete_opp_status(org: OrgData, status_id: str) -> None:
    found = org.opp_status(status_id)
    if found is None:
        raise not_found("OpportunityStatus")
    if any(r.doc.get("status_id") == status_id for r in org.ordered["opportunity"]):
        raise invalid(errors=["This status is used by opportunities: change their status first."])
    found[1]["statuses"].remove(found[0])


def create_pipeline(org: OrgData, body: Any, user_id: str, now: float) -> dict[str, Any]:
    data, p = _body(body, {"name", "statuses"})
    name = _label(p, data, "name", True)
    pipeline: dict[str, Any] = {
        "id": new_id("pipe_", 22),
        "name": name,
        "statuses": [],
        "created_by": user_id,
        "updated_by": user_id,
        "date_created": iso(now),
        "date_updated": iso(now),
    }
    statuses = data.get("statuses") or []
    if not isinstance(statuses, list):
        p.add("statuses", "Expected a list of {label, type} objects.")
        statuses = []
    for i, s in enumerate(statuses):
        if (
            not isinstance(s, dict)
            or s.get("type") not in STATUS_TYPES
            or not isinstance(s.get("label"), str)
        ):
            p.add(f"statuses.{i}", "Expected {label, type} with type active, won or lost.")
            continue
        pipeline["statuses"].append({"id": new_id("stat_"), "label": s["label"], "type": s["type"]})
    p.raise_any()
    org.config["pipelines"].append(pipeline)
    return render_pipeline(org, pipeline)


def find_pipeline(org: OrgData, pipeline_id: str) -> dict[str, Any]:
    found: dict[str, Any] | None = next((x for x in org.config["pipelines"] if x["id"] == pipeline_id), None)
    if found is None:
        raise not_found("Pipeline")
    return found


def update_pipeline(org: OrgData, pipeline_id: str, body: Any, user_id: str, now: float) -> dict[str, Any]:
    pipeline = find_pipeline(org, pipeline_id)
    data, p = _body(body, {"name", "statuses"})
    name = _label(p, data, "name", False)
    new_order: list[dict[str, Any]] | None = None
    moved: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if "statuses" in data:
        if not isinstance(data["statuses"], list):
            p.add("statuses", "Expected a list of {id} objects.")
        else:
            new_order = []
            for i, item in enumerate(data["statuses"]):
                found = org.opp_status(item.get("id")) if isinstance(item, dict) else None
                if found is None:
                    p.add(f"statuses.{i}", "Object does not exist.")
                    continue
                new_order.append(found[0])
                if found[1] is not pipeline:
                    moved.append(found)
            ids = {s["id"] for s in new_order}
            if any(s["id"] not in ids for s in pipeline["statuses"]):
                p.add("statuses", "List every status of this pipeline (statuses cannot be dropped here).")
    p.raise_any()
    if name:
        pipeline["name"] = name
    if new_order is not None:
        for status, source in moved:
            source["statuses"].remove(status)
        pipeline["statuses"] = new_order
    pipeline["updated_by"], pipeline["date_updated"] = user_id, iso(now)
    return render_pipeline(org, pipeline)


def delete_pipeline(org: OrgData, pipeline_id: str) -> None:
    pipeline = find_pipeline(org, pipeline_id)
    if pipeline["statuses"]:
        raise invalid(errors=["Only a pipeline without statuses can be deleted."])
    org.config["pipelines"].remove(pipeline)


# --- custom fields ------------------------------------------------------------------------------------------
def render_field(org: OrgData, f: dict[str, Any], *, shared: bool) -> dict[str, Any]:
    out = {
        "id": f["id"],
        "name": f["name"],
        "description": f.get("description"),
        "type": f["type"],
        "choices": list(f["choices"]) if f.get("choices") is not None else None,
        "accepts_multiple_values": bool(f.get("accepts_multiple_values")),
        "editable_with_roles": list(f.get("editable_with_roles") or []),
        "organization_id": org.org_id,
        "created_by": f.get("created_by"),
        "updated_by": f.get("updated_by"),
        "date_created": f.get("date_created"),
        "date_updated": f.get("date_updated"),
    }
    if shared:
        out["associations"] = [dict(a) for a in f.get("associations", [])]
    return out


def _field_body(p: Problems, data: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(current or {})
    name = _label(p, data, "name", current is None)
    if name:
        out["name"] = name
    if "type" in data or current is None:
        if data.get("type") not in CUSTOM_TYPES:
            p.add("type", f"Not a valid choice: use one of {', '.join(CUSTOM_TYPES)}.")
        else:
            out["type"] = data["type"]
    if "description" in data:
        out["description"] = data["description"] if isinstance(data["description"], str) else None
    if "accepts_multiple_values" in data:
        if not isinstance(data["accepts_multiple_values"], bool):
            p.add("accepts_multiple_values", "Expected true or false.")
        else:
            out["accepts_multiple_values"] = data["accepts_multiple_values"]
    if out.get("accepts_multiple_values") and out.get("type") not in ("choices", "user", "contact"):
        p.add("accepts_multiple_values", "Only choices, user and contact fields accept multiple values.")
    if "choices" in data:
        ch = data["choices"]
        if (
            not isinstance(ch, list)
            or not all(isinstance(c, str) and c for c in ch)
            or len(set(ch)) != len(ch)
        ):
            p.add("choices", "Expected a list of distinct, non-empty strings.")
        else:
            out["choices"] = list(ch)
    if out.get("type") == "choices" and not out.get("choices"):
        p.add("choices", "A choices field needs at least one choice.")
    if out.get("type") != "choices":
        out["choices"] = None
    if "editable_with_roles" in data:
        roles = _roles(data["editable_with_roles"])
        if roles is None:
            p.add("editable_with_roles", "Expected a list of role ids.")
        else:
            out["editable_with_roles"] = roles
    return out


def _roles(value: Any) -> list[str] | None:
    """``editable_with_roles``: a list of role ids (``null`` = none); anything else is None."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(r, str) for r in value):
        return list(value)
    return None


FIELD_KEYS = {"name", "type", "description", "accepts_multiple_values", "choices", "editable_with_roles"}


def fields_of(org: OrgData, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = org.config["custom_fields"].setdefault(kind, [])
    return found


def find_field(org: OrgData, kind: str, field_id: str) -> dict[str, Any]:
    found = next((f for f in fields_of(org, kind) if f["id"] == field_id), None)
    if found is None:
        raise not_found("CustomField")
    return found


def create_field(org: OrgData, kind: str, body: Any, user_id: str, now: float) -> dict[str, Any]:
    data, p = _body(body, FIELD_KEYS | ({"associations"} if kind == "shared" else set()))
    f = _field_body(p, data, None)
    if f.get("name") and any(x["name"] == f["name"] for x in fields_of(org, kind)):
        p.add("name", "A custom field with this name already exists.")
    p.raise_any()
    f.update(
        id=new_id("cf_"),
        created_by=user_id,
        updated_by=user_id,
        date_created=iso(now),
        date_updated=iso(now),
    )
    f.setdefault("accepts_multiple_values", False)
    f.setdefault("description", None)
    f.setdefault("editable_with_roles", [])
    if kind == "shared":
        f["associations"] = []
    fields_of(org, kind).append(f)
    return render_field(org, f, shared=kind == "shared")


def update_field(
    org: OrgData, kind: str, field_id: str, body: Any, user_id: str, now: float
) -> tuple[dict[str, Any], list[Rec]]:
    f = find_field(org, kind, field_id)
    data, p = _body(body, FIELD_KEYS)
    new = _field_body(p, data, f)
    if new.get("name") != f["name"] and any(x["name"] == new["name"] for x in fields_of(org, kind)):
        p.add("name", "A custom field with this name already exists.")
    p.raise_any()
    new.update(updated_by=user_id, date_updated=iso(now))
    type_changed = new["type"] != f["type"] or bool(new.get("accepts_multiple_values")) != bool(
        f.get("accepts_multiple_values")
    )
    f.clear()
    f.update(new)
    # values that no longer fit the field are dropped (the real API converts asynchronously)
    touched = _drop_values(org, field_id) if type_changed else []
    return render_field(org, f, shared=kind == "shared"), touched


def delete_field(org: OrgData, kind: str, field_id: str) -> list[Rec]:
    f = find_field(org, kind, field_id)
    fields_of(org, kind).remove(f)
    return _drop_values(org, field_id)


def _drop_values(org: OrgData, field_id: str) -> list[Rec]:
    touched = []
    for rec in org.records.values():
        custom = rec.doc.get("custom") or {}
        if field_id in custom:
            del custom[field_id]
            touched.append(rec)
    return touched


def associate(org: OrgData, field_id: str, body: Any) -> dict[str, Any]:
    f = find_field(org, "shared", field_id)
    data, p = _body(body, {"object_type", "editable_with_roles", "required"})
    ot = data.get("object_type")
    if ot not in SHARED_TARGETS:
        p.add("object_type", f"Not a valid choice: use one of {', '.join(SHARED_TARGETS)}.")
    elif any(a["object_type"] == ot for a in f["associations"]):
        p.add("object_type", "The field is already associated with this object type.")
    if "required" in data and not isinstance(data["required"], bool):
        p.add("required", "Expected true or false.")
    roles = _roles(data.get("editable_with_roles"))
    if roles is None:
        p.add("editable_with_roles", "Expected a list of role ids.")
    p.raise_any()
    assoc = {
        "object_type": ot,
        "editable_with_roles": roles or [],
        "required": bool(data.get("required", False)),
    }
    f["associations"].append(assoc)
    return dict(assoc)


def dissociate(org: OrgData, field_id: str, object_type: str) -> list[Rec]:
    f = find_field(org, "shared", field_id)
    assoc = next((a for a in f["associations"] if a["object_type"] == object_type), None)
    if assoc is None:
        raise not_found("CustomFieldAssociation")
    f["associations"].remove(assoc)
    touched = []
    for rec in org.ordered.get(object_type, []):
        if field_id in (rec.doc.get("custom") or {}):
            del rec.doc["custom"][field_id]
            touched.append(rec)
    return touched
