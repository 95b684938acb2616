"""The asynchronous Export API: ``POST /export/lead/`` and ``/export/opportunity/`` start an export,
``GET /export/{id}/`` reports ``created → in_progress → done`` and, once done, a short-lived signed
``download_url`` that serves the file gzip-compressed (``Content-Encoding: gzip``), as Close's S3
links do (API-FACTS §3).

The file is built when the export is requested (a snapshot), stored in SQLite, and revealed after
``export_delay_ms``. Columns of CSV files are the documented ``fields`` lists; how Close flattens
nested values and custom fields into CSV is UNVERIFIED, so the sandbox writes nested values as JSON
and custom fields as ``custom.<field name>`` columns. Values stay as the API gives them (cents).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
from datetime import UTC
from typing import Any

from .listing import matching_opportunities
from .objects import new_id, render
from .rules import Problems, invalid, iso, not_found, parse_datetime
from .search import matching_leads
from .store import OrgData

LEAD_TYPES = ("leads", "contacts", "lead_opps")
FORMATS = ("csv", "json")
DATE_FORMATS = ("original", "iso8601", "excel")
#: the documented default ``fields`` of each export type (AE-x exports)
DEFAULT_FIELDS = {
    "leads": [
        "addresses",
        "contacts",
        "created_by",
        "created_by_name",
        "custom",
        "date_created",
        "date_updated",
        "description",
        "display_name",
        "id",
        "name",
        "status_id",
        "status_label",
        "updated_by",
        "updated_by_name",
        "url",
    ],
    "contacts": [
        "created_by",
        "date_created",
        "date_updated",
        "emails",
        "id",
        "lead_id",
        "name",
        "phones",
        "title",
        "updated_by",
        "urls",
    ],
    "opps": [
        "confidence",
        "contact_id",
        "created_by",
        "created_by_name",
        "date_created",
        "date_updated",
        "date_won",
        "id",
        "lead_id",
        "lead_name",
        "note",
        "status_id",
        "status_label",
        "status_type",
        "updated_by",
        "updated_by_name",
        "user_id",
        "user_name",
        "value",
        "value_period",
    ],
}
DEFAULT_FIELDS["lead_opps"] = DEFAULT_FIELDS["opps"]
URL_TTL = 60  # X-Amz-Expires in the documented example


def _flags(p: Problems, data: dict[str, Any], allowed: set[str]) -> None:
    for k in data:
        if k not in allowed:
            p.add(k, "Unknown field.")
    for k in ("send_done_email", "include_activities", "include_smart_fields", "include_addresses"):
        if k in data and not isinstance(data[k], bool):
            p.add(k, "Expected true or false.")
    if data.get("format") not in FORMATS:
        p.add("format", "This field is required: csv or json.")
    if data.get("date_format", "original") not in DATE_FORMATS:
        p.add("date_format", f"Not a valid choice: use one of {', '.join(DATE_FORMATS)}.")
    fields = data.get("fields")
    if fields is not None and (not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)):
        p.add("fields", "Expected a list of field names.")


def start_lead_export(
    org: OrgData, user_id: str, body: Any, now: float, cutoff: float | None
) -> tuple[dict[str, Any], bytes]:
    if not isinstance(body, dict):
        raise invalid(errors=["The request body must be a JSON object."])
    p = Problems()
    allowed = {
        "format",
        "type",
        "s_query",
        "results_limit",
        "sort",
        "date_format",
        "fields",
        "include_activities",
        "include_smart_fields",
        "include_addresses",
        "include_custom_objects",
        "send_done_email",
    }
    _flags(p, body, allowed)
    etype = body.get("type")
    if etype not in LEAD_TYPES:
        p.add("type", f"This field is required: one of {', '.join(LEAD_TYPES)}.")
    if body.get("include_activities") and (body.get("format") != "json" or etype != "leads"):
        p.add("include_activities", "Activities can be exported only with format json and type leads.")
    limit = body.get("results_limit")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        p.add("results_limit", "Expected a non-negative integer.")
    p.raise_any()
    leads = [r for r in matching_leads(org, user_id, body.get("s_query")) if cutoff is None or r.ts <= cutoff]
    leads.sort(key=lambda r: (r.doc.get("date_created") or "", r.id), reverse=True)
    if limit is not None:
        leads = leads[:limit]
    if etype == "leads":
        docs = [render(org, r) for r in leads]
    else:
        kind = "contact" if etype == "contacts" else "opportunity"
        docs = [render(org, k) for r in leads for k in org.kids(r.id, kind)]
    doc = _export_doc(org, user_id, body, str(etype), now, len(docs))
    doc.update(s_query=body.get("s_query"), results_limit=limit, sort=body.get("sort") or [])
    return doc, _file(org, doc, docs)


def start_opportunity_export(
    org: OrgData, user_id: str, body: Any, now: float, tz_hours: float, cutoff: float | None
) -> tuple[dict[str, Any], bytes]:
    if not isinstance(body, dict):
        raise invalid(errors=["The request body must be a JSON object."])
    p = Problems()
    _flags(p, body, {"format", "params", "date_format", "fields", "send_done_email"})
    params = body.get("params") or {}
    if not isinstance(params, dict):
        p.add("params", "Expected an object of opportunity list filters.")
    p.raise_any()
    query = [(str(k), str(v)) for k, v in params.items() if k not in ("_skip", "_limit", "_fields")]
    if any(k == "_group_by" for k, _ in query):
        raise invalid({"params": "_group_by cannot be used in an export."})
    docs = matching_opportunities(org, query, tz_hours, cutoff)
    doc = _export_doc(org, user_id, body, "opps", now, len(docs))
    doc["params"] = dict(params)
    return doc, _file(org, doc, docs)


def _export_doc(
    org: OrgData, user_id: str, body: dict[str, Any], etype: str, now: float, n: int
) -> dict[str, Any]:
    return {
        "id": new_id("expo_"),
        "organization_id": org.org_id,
        "created_by": user_id,
        "updated_by": user_id,
        "date_created": iso(now),
        "date_updated": iso(now),
        "type": etype,
        "format": body["format"],
        "date_format": body.get("date_format", "original"),
        "fields": list(body.get("fields") or DEFAULT_FIELDS[etype]),
        "send_done_email": body.get("send_done_email", True),
        "n_docs": n,
        "_started": now,
    }


def _date(value: str, style: str) -> str:
    dt = parse_datetime(value)
    if dt is None or len(value) == 10:
        return value
    if style == "iso8601":
        return dt.replace(microsecond=0).isoformat()
    if style == "excel":
        return dt.astimezone(UTC).strftime("%Y-%m-%d %I:%M:%S %p")
    return dt.isoformat(sep=" ", timespec="microseconds")


def _file(org: OrgData, doc: dict[str, Any], docs: list[dict[str, Any]]) -> bytes:
    """The gzip-compressed export file."""
    fields = doc["fields"]
    if doc["format"] == "json":
        rows = [
            {k: v for k, v in d.items() if k in fields or (k.startswith("custom.") and "custom" in fields)}
            for d in docs
        ]
        if doc["type"] == "leads" and fields == DEFAULT_FIELDS["leads"]:
            rows = docs  # JSON leads are the full superset (contacts, opportunities, custom fields)
        raw = json.dumps(rows, ensure_ascii=False).encode()
        return gzip.compress(raw, mtime=0)
    kind = {"leads": "lead", "contacts": "contact"}.get(doc["type"], "opportunity")
    names = {f["id"]: f["name"] for f in org.custom_fields(kind)}
    columns = [f for f in fields if f != "custom"]
    custom_cols = (
        [f"custom.{names[i]}" for i in names] if "custom" in fields or doc["type"] != "leads" else []
    )
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns + custom_cols)
    for d in docs:
        row = []
        for c in columns:
            v = d.get(c)
            if isinstance(v, (list, dict)):
                v = json.dumps(v, ensure_ascii=False)
            elif isinstance(v, str) and c.startswith("date_"):
                v = _date(v, doc["date_format"])
            row.append("" if v is None else v)
        for fid in names:
            v = d.get(f"custom.{fid}")
            row.append("" if v is None else json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
        writer.writerow(row)
    return gzip.compress(buf.getvalue().encode("utf-8"), mtime=0)


def signature(secret: bytes, export_id: str, stamp: int) -> str:
    return hmac.new(secret, f"{export_id}:{stamp}".encode(), hashlib.sha256).hexdigest()


def render_export(
    doc: dict[str, Any], now: float, delay_s: float, base_url: str, secret: bytes
) -> dict[str, Any]:
    """The export as ``GET /export/{id}/`` shows it at ``now``."""
    elapsed = now - doc["_started"]
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    n = doc["n_docs"]
    if elapsed >= delay_s:
        stamp = int(now)
        sig = signature(secret, doc["id"], stamp)
        out.update(
            status="done",
            n_docs_processed=n,
            download_url=(
                f"{base_url}/_sandbox/exports/{doc['id']}.{doc['format']}.gz"
                f"?X-Amz-Date={stamp}&X-Amz-Expires={URL_TTL}&X-Amz-Signature={sig}"
            ),
            date_updated=iso(doc["_started"] + delay_s),
        )
    else:
        out.update(
            status="in_progress" if elapsed > 0 else "created",
            n_docs_processed=int(n * elapsed / delay_s) if delay_s > 0 else n,
            download_url=None,
        )
    return out


def fresh(doc: dict[str, Any]) -> dict[str, Any]:
    """The answer to the POST: always ``created``, no download yet, nothing processed."""
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out.update(status="created", n_docs=None, n_docs_processed=0, download_url=None)
    return out


def check_download(secret: bytes, export_id: str, query: dict[str, str], now: float) -> int:
    """0 when a download link is valid, else the S3-like status to answer (403)."""
    try:
        stamp = int(query.get("X-Amz-Date", ""))
        ttl = int(query.get("X-Amz-Expires", ""))
    except ValueError:
        return 403
    given = query.get("X-Amz-Signature", "").encode("utf-8", "replace")  # bytes: str must be ASCII
    if not hmac.compare_digest(given, signature(secret, export_id, stamp).encode()):
        return 403
    if ttl != URL_TTL or now > stamp + ttl:
        return 403
    return 0


def list_exports(org: OrgData) -> list[dict[str, Any]]:
    return sorted(org.exports.values(), key=lambda d: d["date_created"], reverse=True)


def find_export(org: OrgData, export_id: str) -> dict[str, Any]:
    doc = org.exports.get(export_id)
    if doc is None:
        raise not_found("Export")
    return doc
