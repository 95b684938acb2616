"""``POST /data/search/``: Close's Advanced Filtering over leads, contacts and opportunities.

A query is a tree (API-FACTS §6): ``and``/``or`` with ``queries``, ``object_type``, ``id``,
``text`` (any text field), ``field_condition`` on a ``regular_field`` or ``custom_field``
(``custom_field_id``) with a ``text``, ``term``, ``reference``, ``number_range``, ``moment_range``,
``boolean``, ``exists`` or ``current_user`` condition, and ``has_related`` between a lead and its
contacts/opportunities/addresses and a contact and its emails/phones/urls. ``negate: true`` works
on every node. The answer is ``{"data": [{"__object_type", "id", …_fields}], "cursor"}``, pages
follow a cursor in the body (expires after 30 s; at most 10,000 objects per sequence), and
``include_counts`` adds ``count: {total, limited}``. Anything the sandbox does not understand is a
400, never ignored: a lookup that quietly matched everything would be worse than an error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from .objects import render
from .rules import bad_request, parse_date, parse_datetime
from .store import OrgData, Rec

SEARCH_TYPES = ("lead", "contact", "opportunity")
MAX_LIMIT = 200
DEFAULT_LIMIT = 100
MAX_SEQUENCE = 10_000
#: the regular fields each object type can be filtered on (D-AF "commonly used fields" + opportunity)
REGULAR = {
    "lead": {
        "id",
        "name",
        "display_name",
        "description",
        "url",
        "status_id",
        "status_label",
        "created_by",
        "updated_by",
        "date_created",
        "date_updated",
        "addresses_count",
        "all_urls_count",
        "contacts_count",
        "opportunities_count",
    },
    "contact": {
        "id",
        "name",
        "title",
        "lead_id",
        "created_by",
        "updated_by",
        "date_created",
        "date_updated",
        "emails_count",
        "phones_count",
        "urls_count",
    },
    "opportunity": {
        "id",
        "lead_id",
        "contact_id",
        "user_id",
        "status_id",
        "status_label",
        "status_type",
        "pipeline_id",
        "value",
        "value_period",
        "confidence",
        "note",
        "date_won",
        "date_lost",
        "date_created",
        "date_updated",
        "created_by",
        "updated_by",
        "expected_value",
        "annualized_value",
    },
    "contact_email": {"email", "type"},
    "contact_phone": {"phone", "type"},
    "contact_url": {"url", "type"},
    "address": {"address_1", "address_2", "city", "state", "zipcode", "country", "label"},
}
#: (this, related) pairs ``has_related`` can follow, and how
RELATED: dict[tuple[str, str], str] = {
    ("lead", "contact"): "kids",
    ("lead", "opportunity"): "kids",
    ("contact", "lead"): "parent",
    ("opportunity", "lead"): "parent",
    ("opportunity", "contact"): "contact",
    ("lead", "address"): "addresses",
    ("contact", "contact_email"): "emails",
    ("contact", "contact_phone"): "phones",
    ("contact", "contact_url"): "urls",
}
TEXT_FIELDS = {
    "lead": ("display_name", "description", "url"),
    "contact": ("name", "title"),
    "opportunity": ("note", "lead_name", "contact_name"),
}
WORD = re.compile(r"\w+", re.UNICODE)

# an object being matched: (object type, its API shape, the record behind it if any)
Obj = tuple[str, dict[str, Any], Rec | None]
Pred = Callable[[Obj], bool]


class Search:
    """Compiles one query against one org; ``user_id`` is the caller (``current_user``)."""

    def __init__(self, org: OrgData, user_id: str) -> None:
        self.org = org
        self.user_id = user_id

    def shape(self, rec: Rec) -> dict[str, Any]:
        return render(self.org, rec)

    # --- compile ------------------------------------------------------------------------------------
    def compile(self, node: Any) -> Pred:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise bad_request("Every query node must be an object with a 'type'.")
        pred = self._compile(node)
        if node.get("negate") is True:
            return lambda o: not pred(o)
        if node.get("negate") not in (None, False):
            raise bad_request("'negate' must be true or false.")
        return pred

    def _compile(self, node: dict[str, Any]) -> Pred:
        kind = node["type"]
        if kind in ("and", "or"):
            subs = node.get("queries")
            if not isinstance(subs, list):
                raise bad_request(f"An {kind!r} query needs a 'queries' list.")
            parts = [self.compile(q) for q in subs]
            return (
                (lambda o: all(p(o) for p in parts))
                if kind == "and"
                else (lambda o: any(p(o) for p in parts))
            )
        if kind == "object_type":
            ot = node.get("object_type")
            if ot not in SEARCH_TYPES:
                raise bad_request(f"object_type must be one of {', '.join(SEARCH_TYPES)}.")
            return lambda o: o[0] == ot
        if kind == "id":
            value = node.get("value")
            return lambda o: o[1].get("id") == value
        if kind == "match_all":
            return lambda o: True
        if kind == "text":
            cond = self._text_condition(node)
            return lambda o: any(cond(o[1].get(f)) for f in TEXT_FIELDS.get(o[0], ()))
        if kind == "field_condition":
            return self._field_condition(node)
        if kind == "has_related":
            return self._has_related(node)
        raise bad_request(f"Unknown query type {kind!r}.")

    def _field_condition(self, node: dict[str, Any]) -> Pred:
        field = node.get("field")
        cond_node = node.get("condition")
        if not isinstance(field, dict) or not isinstance(cond_node, dict):
            raise bad_request("A field_condition needs a 'field' and a 'condition' object.")
        cond = self._condition(cond_node)
        if field.get("type") == "regular_field":
            ot, name = field.get("object_type"), field.get("field_name")
            if (
                not isinstance(ot, str)
                or not isinstance(name, str)
                or ot not in REGULAR
                or name not in REGULAR[ot]
            ):
                raise bad_request(f"Unknown regular field {ot!r}.{name!r}.")

            def regular(o: Obj) -> bool:
                if o[0] != ot:
                    return False
                return cond(_field_value(o, name))

            return regular
        if field.get("type") == "custom_field":
            fid = field.get("custom_field_id")
            known = any(
                f["id"] == fid for t in ("lead", "contact", "opportunity") for f in self.org.custom_fields(t)
            )
            if not known:
                raise bad_request(f"Unknown custom_field_id {fid!r}.")
            return lambda o: o[0] in SEARCH_TYPES and cond(o[1].get(f"custom.{fid}"))
        raise bad_request("field.type must be 'regular_field' or 'custom_field'.")

    def _text_condition(self, node: dict[str, Any]) -> Callable[[Any], bool]:
        value, mode = node.get("value"), node.get("mode", "full_words")
        if not isinstance(value, str) or not value.strip():
            raise bad_request("A text condition needs a non-empty 'value'.")
        if mode not in ("full_words", "phrase", "beginning_of_words"):
            raise bad_request("text mode must be full_words, phrase or beginning_of_words.")
        words = [w.casefold() for w in WORD.findall(value)]

        def match(v: Any) -> bool:
            for item in v if isinstance(v, list) else [v]:
                if not isinstance(item, str):
                    continue
                have = [w.casefold() for w in WORD.findall(item)]
                if mode == "full_words" and all(w in have for w in words):
                    return True
                if mode == "beginning_of_words" and all(any(h.startswith(w) for h in have) for w in words):
                    return True
                if mode == "phrase" and any(have[i : i + len(words)] == words for i in range(len(have))):
                    return True
            return False

        return match

    def _condition(self, node: dict[str, Any]) -> Callable[[Any], bool]:
        kind = node.get("type")
        if kind == "text":
            return self._text_condition(node)
        if kind == "term":
            values = node.get("values")
            if not isinstance(values, list) or not all(
                isinstance(x, str | int | float) and x is not None for x in values
            ):
                raise bad_request("A term condition needs a 'values' list of strings or numbers.")
            wanted = set(map(_term, values))
            return lambda v: any(
                _term(x) in wanted for x in (v if isinstance(v, list) else [v]) if x is not None
            )
        if kind == "reference":
            ids = node.get("object_ids")
            if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
                raise bad_request("A reference condition needs an 'object_ids' list of ids.")
            wanted_ids = set(ids)
            return lambda v: any(x in wanted_ids for x in (v if isinstance(v, list) else [v]))
        if kind == "current_user":
            return lambda v: v == self.user_id
        if kind == "exists":
            return lambda v: v not in (None, "", [])
        if kind == "boolean":
            want = node.get("value")
            if not isinstance(want, bool):
                raise bad_request("A boolean condition needs a true/false 'value'.")
            return lambda v: v is want
        if kind == "number_range":
            bounds = _bounds(node, _number)
            return lambda v: _in_range(_number_of(v), bounds)
        if kind == "moment_range":
            bounds = _bounds(node, _moment)
            return lambda v: _in_range(_moment_of(v), bounds)
        raise bad_request(f"Unknown condition type {kind!r}.")

    def _has_related(self, node: dict[str, Any]) -> Pred:
        this, other = node.get("this_object_type"), node.get("related_object_type")
        if not isinstance(this, str) or not isinstance(other, str):
            raise bad_request("has_related needs 'this_object_type' and 'related_object_type' names.")
        how = RELATED.get((this, other))
        if how is None:
            raise bad_request(f"has_related does not link {this!r} to {other!r}.")
        inner = self.compile(node.get("related_query") or {"type": "match_all"})
        org = self

        def related(o: Obj) -> Iterable[Obj]:
            rec = o[2]
            if rec is None:
                return []
            if how == "kids":
                return [(str(other), org.shape(r), r) for r in org.org.kids(rec.id, str(other))]
            if how == "parent":
                lead = org.org.get("lead", rec.doc.get("lead_id"))
                return [("lead", org.shape(lead), lead)] if lead else []
            if how == "contact":
                c = org.org.get("contact", rec.doc.get("contact_id"))
                return [("contact", org.shape(c), c)] if c else []
            items = rec.doc.get(how) or []
            return [(str(other), dict(i), None) for i in items]

        return lambda o: o[0] == this and any(inner(r) for r in related(o))


def _field_value(o: Obj, name: str) -> Any:
    shape = o[1]
    if name.endswith("_count") and o[2] is not None:
        base = name[: -len("_count")]
        if base == "all_urls":
            return (1 if shape.get("url") else 0) + sum(
                len(c.get("urls") or []) for c in shape.get("contacts") or []
            )
        return len(shape.get(base) or [])
    return shape.get(name)


def _term(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) and "@" in v else v


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise bad_request(f"number_range bounds must be numbers, got {v!r}.")
    return float(v)


def _number_of(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _moment(v: Any) -> float:
    if isinstance(v, dict):  # {"type": "fixed_utc"|"fixed_local_date", "value": ...}
        v = v.get("value")
    dt = parse_datetime(v)
    if dt is None:
        raise bad_request(f"moment_range bounds must be ISO 8601 dates or date-times, got {v!r}.")
    return dt.timestamp()


def _moment_of(v: Any) -> float | None:
    if not isinstance(v, str):
        return None
    d = parse_date(v)
    if d is not None:
        return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()
    dt = parse_datetime(v)
    return dt.timestamp() if dt else None


BOUND_KEYS = {
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "after": "gt",
    "on_or_after": "gte",
    "before": "lt",
    "on_or_before": "lte",
}


def _bounds(node: dict[str, Any], conv: Callable[[Any], float]) -> list[tuple[str, float]]:
    out = []
    for k, v in node.items():
        if k == "type":
            continue
        if k not in BOUND_KEYS:
            raise bad_request(f"Unknown range bound {k!r}.")
        if v is not None:
            out.append((BOUND_KEYS[k], conv(v)))
    if not out:
        raise bad_request("A range condition needs at least one bound.")
    return out


def _in_range(v: float | None, bounds: list[tuple[str, float]]) -> bool:
    if v is None:
        return False
    checks = {"gt": v.__gt__, "gte": v.__ge__, "lt": v.__lt__, "lte": v.__le__}
    return all(checks[op](b) for op, b in bounds)


# --- cursors -------------------------------------------------------------------------------------------
def _fingerprint(body: dict[str, Any]) -> str:
    keep = {k: body.get(k) for k in ("query", "sort", "results_limit", "_fields")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def _cursor(offset: int, fingerprint: str, started: float) -> str:
    raw = json.dumps([offset, fingerprint, started]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(cursor: str, fingerprint: str, ttl: float) -> tuple[int, float]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset, fp, started = json.loads(raw)
        offset, started = int(offset), float(started)
    except (ValueError, TypeError):
        raise bad_request("Invalid cursor.") from None
    if fp != fingerprint:
        raise bad_request("This cursor belongs to a different query.")
    if time.time() - started > ttl:
        raise bad_request("The cursor has expired: start the search again.")
    return offset, started


def _sort(objs: list[Obj], sort: Any) -> None:
    if sort in (None, []):
        objs.sort(key=lambda o: (o[1].get("date_created") or "", o[1]["id"]), reverse=True)
        return
    if not isinstance(sort, list):
        raise bad_request("'sort' must be a list.")
    for item in reversed(sort):
        field = item.get("field") if isinstance(item, dict) else None
        direction = item.get("direction", "asc") if isinstance(item, dict) else None
        if not isinstance(field, dict) or direction not in ("asc", "desc"):
            raise bad_request("Each sort item needs a 'field' and a direction 'asc' or 'desc'.")
        if field.get("type") == "custom_field":
            key = f"custom.{field.get('custom_field_id')}"
        elif (
            field.get("type") == "regular_field"
            and isinstance(field.get("field_name"), str)
            and field["field_name"] in REGULAR.get(str(field.get("object_type")), ())
        ):
            key = str(field["field_name"])
        else:
            raise bad_request("Only regular or custom fields of the searched object can be sorted.")
        objs.sort(key=_sort_on(key), reverse=direction == "desc")


def _sort_on(key: str) -> Callable[[Obj], Any]:
    """Nulls first ascending, last descending."""

    def value(o: Obj) -> Any:
        v = o[1].get(key)
        return (v is not None, v if v is not None else 0)

    return value


def run_search(
    org: OrgData, user_id: str, body: Any, cutoff: float | None, cursor_ttl: float
) -> dict[str, Any]:
    """One page of results for a ``/data/search/`` body."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
        raise bad_request("The body needs a 'query' object.")
    unknown = set(body) - {"query", "cursor", "_limit", "_fields", "sort", "results_limit", "include_counts"}
    if unknown:
        raise bad_request(f"Unknown search parameter {min(unknown)!r}.")
    limit = body.get("_limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_LIMIT:
        raise bad_request(f"_limit must be an integer from 0 to {MAX_LIMIT}.")
    results_limit = body.get("results_limit")
    if results_limit is not None and (not isinstance(results_limit, int) or results_limit < 0):
        raise bad_request("results_limit must be a non-negative integer.")
    fields = body.get("_fields")
    if fields is not None and (
        not isinstance(fields, dict) or not all(isinstance(v, list) for v in fields.values())
    ):
        raise bad_request("_fields must map object types to lists of field names.")
    search = Search(org, user_id)
    pred = search.compile(body["query"])
    types = _types_in(body["query"]) or ["lead"]
    objs: list[Obj] = []
    for rtype in types:
        for rec in org.ordered[rtype]:
            if cutoff is not None and rec.ts > cutoff:
                continue
            obj = (rtype, search.shape(rec), rec)
            if pred(obj):
                objs.append(obj)
    _sort(objs, body.get("sort"))
    total = len(objs)
    if results_limit is not None:
        objs = objs[:results_limit]
    fp = _fingerprint(body)
    offset, started = 0, time.time()
    if body.get("cursor"):
        offset, started = _uncursor(str(body["cursor"]), fp, cursor_ttl)
    end = min(offset + limit, len(objs), MAX_SEQUENCE)
    page = objs[offset:end]
    data = []
    for rtype, shape, _ in page:
        row = {"__object_type": rtype, "id": shape["id"]}
        for name in (fields or {}).get(rtype, []):
            if name == "custom":
                row.update({k: v for k, v in shape.items() if k.startswith("custom.")})
            elif name in shape:
                row[name] = shape[name]
        data.append(row)
    out: dict[str, Any] = {
        "data": data,
        "cursor": _cursor(end, fp, started) if end < min(len(objs), MAX_SEQUENCE) and limit else None,
    }
    if body.get("include_counts"):
        out["count"] = {"total": total, "limited": len(objs)}
    return out


def _types_in(node: Any) -> list[str]:
    """The object types a query asks for (its ``object_type`` nodes outside ``has_related``)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "object_type" and node.get("object_type") in SEARCH_TYPES:
            found.append(node["object_type"])
        elif node.get("type") in ("and", "or"):
            for q in node.get("queries") or []:
                found.extend(t for t in _types_in(q) if t not in found)
    return found


def matching_leads(org: OrgData, user_id: str, s_query: Any) -> list[Rec]:
    """Leads an export's ``s_query`` selects (all leads without one)."""
    if s_query in (None, {}):
        return list(org.ordered["lead"])
    search = Search(org, user_id)
    pred = search.compile(s_query)
    return [r for r in org.ordered["lead"] if pred(("lead", search.shape(r), r))]
