"""``GET /lead/``, ``/contact/`` and ``/opportunity/``: filters, ``_order_by``, ``_skip``/``_limit``,
``_fields``, and the opportunity aggregates and ``_group_by`` exactly as the Close Opportunities page
specifies them (seed 004):

* every opportunity list answer carries ``total_results``, ``count_by_value_period`` and
  ``total_value_*`` / ``expected_value_*`` for ``one_time``, ``monthly``, ``annual`` and
  ``annualized`` over *all* matches, whatever the page;
* ``_group_by`` (``user_id``, ``date_won__week|month|quarter|year``, ``-`` reverses the group order)
  turns ``data`` into groups ``{key, objects, total_results, <aggregates>, year|month|…}``;
  pagination counts objects, not groups, so a group can continue on the next page.

Unknown query parameters are a 400: a filter silently ignored would hand a client every record.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from .objects import project, render
from .rules import bad_request, parse_date, parse_datetime
from .store import OrgData, Rec

Params = list[tuple[str, str]]
#: API-FACTS §3: the page sizes known to work (Airbyte); larger ``_limit`` is a 400
MAX_LIMIT = {"lead": 200, "contact": 100, "opportunity": 250}
CONFIG_MAX_LIMIT = 1000
PERIODS = ("one_time", "monthly", "annual")
#: A query integer: ASCII digits, an optional leading minus (so ``-1`` is "negative", not "not a number").
INTEGER_RE = re.compile(r"-?[0-9]{1,100}")
ORDER_KEYS = (
    "date_won",
    "date_updated",
    "date_created",
    "confidence",
    "user_name",
    "value",
    "annualized_value",
    "annualized_expected_value",
)
GROUP_KEYS = ("user_id", "date_won__week", "date_won__month", "date_won__quarter", "date_won__year")
OPP_IN_FILTERS = ("user_id", "status_id", "status_label", "status_type", "value_period", "status")
DATE_FIELDS = ("date_won", "date_created", "date_updated")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
Pred = Callable[[Rec, dict[str, Any]], bool]


def _equals(key: str, value: str) -> Pred:
    return lambda r, o: o.get(key) == value


def _within(key: str, values: set[str]) -> Pred:
    return lambda r, o: o.get(key) in values


def _stalled(want: bool) -> Pred:
    return lambda r, o: o["is_stalled"] is want


def _never(r: Rec, o: dict[str, Any]) -> bool:
    return False


def paging(params: Params, max_limit: int, max_skip: int) -> tuple[int, int]:
    """``_skip`` (default 0) and ``_limit`` (default 100), each checked."""
    values = dict(params)
    out = []
    for name, default, top in (("_skip", 0, max_skip), ("_limit", 100, max_limit)):
        raw = values.get(name)
        if raw is None:
            out.append(default)
            continue
        # plain ASCII digits only: Python's int() would also take " 5", "+5", "1_0" and "٥"
        if not INTEGER_RE.fullmatch(raw):
            raise bad_request(f"{name} must be an integer, got {raw[:40]!r}.")
        n = int(raw)
        if n < 0:
            raise bad_request(f"{name} must not be negative.")
        if n > top:
            raise bad_request(f"Maximum {name} for this resource is {top}.")
        out.append(n)
    return out[0], out[1]


def field_list(params: Params) -> list[str] | None:
    raw = dict(params).get("_fields")
    if raw is None:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


def visible(pool: list[Rec], cutoff: float | None) -> list[Rec]:
    """Index lag: records created after ``cutoff`` are not listed or found yet."""
    return pool if cutoff is None else [r for r in pool if r.ts <= cutoff]


def list_simple(
    org: OrgData, rtype: str, params: Params, cutoff: float | None, max_skip: int
) -> dict[str, Any]:
    """Leads (no filters: use /data/search/) and contacts (``lead_id``), newest first."""
    allowed = {"_skip", "_limit", "_fields"} | ({"lead_id"} if rtype == "contact" else set())
    _reject_unknown(params, allowed, rtype)
    skip, limit = paging(params, MAX_LIMIT[rtype], max_skip)
    pool = visible(org.ordered[rtype], cutoff)
    lead_id = dict(params).get("lead_id")
    if lead_id is not None:
        pool = [r for r in pool if r.doc.get("lead_id") == lead_id]
    ordered = sorted(pool, key=lambda r: (r.doc.get("date_created") or "", r.ts), reverse=True)
    page = ordered[skip : skip + limit]
    fields = field_list(params)
    return {"has_more": skip + limit < len(ordered), "data": [project(render(org, r), fields) for r in page]}


def _reject_unknown(params: Params, allowed: set[str], what: str) -> None:
    for name, _ in params:
        if name not in allowed:
            if name in ("query", "lead_query"):
                raise bad_request(f"The {name!r} parameter is deprecated; use the Advanced Filtering API.")
            raise bad_request(f"Unknown query parameter {name!r} for {what} lists.")


# --- opportunities ---------------------------------------------------------------------------------
def _local_bound(raw: str, tz_hours: float) -> datetime:
    """A date-time bound; a bare date is that day in the caller's ``X-TZ-Offset``."""
    d = parse_date(raw)
    if d is not None:
        tz = timezone(timedelta(hours=tz_hours))
        start = datetime(d.year, d.month, d.day, tzinfo=tz)
        try:
            return start.astimezone(UTC)
        except OverflowError:  # 0001-01-01 at +14:00 is in year 0 in UTC
            raise bad_request(f"Not a date this API can compare: {raw!r}.") from None
    dt = parse_datetime(raw)
    if dt is None:
        raise bad_request(f"Not a valid date or date-time: {raw!r}.")
    return dt


def opportunity_filters(org: OrgData, params: Params, tz_hours: float) -> list[Pred]:
    """Predicates over (record, rendered opportunity) for the documented list filters."""
    preds: list[Pred] = []
    allowed_plain = {"lead_id", "organization_id", "is_stalled", *OPP_IN_FILTERS}
    for name, raw in params:
        if name in ("_skip", "_limit", "_fields", "_order_by", "_group_by"):
            continue
        base, _, op = name.partition("__")
        if name in allowed_plain:
            if name == "organization_id":
                if raw != org.org_id:
                    preds.append(_never)
                continue
            if name == "is_stalled":
                if raw.lower() not in ("true", "false"):
                    raise bad_request("is_stalled must be true or false.")
                preds.append(_stalled(raw.lower() == "true"))
                continue
            preds.append(_equals("status_label" if name == "status" else name, raw))
        elif op == "in" and base in OPP_IN_FILTERS:
            wanted = {v.strip() for v in raw.split(",") if v.strip()}
            preds.append(_within("status_label" if base == "status" else base, wanted))
        elif base in DATE_FIELDS and op in COMPARE:
            preds.append(_date_pred(base, op, raw, tz_hours))
        elif name in ("query", "lead_query", "lead_saved_search_id"):
            preds.append(_query_pred(name, raw))
        else:
            raise bad_request(f"Unknown query parameter {name!r} for opportunity lists.")
    return preds


def _date_pred(field: str, op: str, raw: str, tz_hours: float) -> Pred:
    if field == "date_won":
        bound = parse_date(raw)
        if bound is None:
            raise bad_request(f"date_won filters take a date (YYYY-MM-DD), got {raw!r}.")
        cmp = COMPARE[op]

        def won(r: Rec, o: dict[str, Any]) -> bool:
            v = o.get("date_won")
            return v is not None and bool(cmp(date.fromisoformat(v), bound))

        return won
    lo = _local_bound(raw, tz_hours)
    if op == "" and parse_date(raw) is not None:
        hi = lo + timedelta(days=1)
        return lambda r, o: lo <= _dt(o[field]) < hi
    if op == "":
        return lambda r, o: _dt(o[field]) == lo
    if parse_date(raw) is not None and op in ("gt", "lte"):
        lo = lo + timedelta(days=1)  # after / up to the whole local day
        op = "gte" if op == "gt" else "lt"
    cmp2 = COMPARE[op]
    return lambda r, o: bool(cmp2(_dt(o[field]), lo))


def _dt(text: str) -> datetime:
    return parse_datetime(text) or datetime.min.replace(tzinfo=UTC)


def _query_pred(name: str, raw: str) -> Pred:
    """Only ``note:<words>`` of the opportunity query language; the rest is refused, not ignored."""
    if name != "query":
        raise bad_request(f"{name!r} is not supported by the sandbox; use the Advanced Filtering API.")
    text = raw.strip()
    if not text.lower().startswith("note:"):
        raise bad_request("The sandbox understands only query=note:<words> for opportunities.")
    words = text[5:].strip().strip('"').lower().split()
    return lambda r, o: all(w in (o.get("note") or "").lower() for w in words)


def aggregates(opps: list[dict[str, Any]]) -> dict[str, Any]:
    """The seed's aggregate block over rendered opportunities (sums of their own cent fields)."""
    counts: dict[str, int] = {}
    totals = dict.fromkeys(PERIODS, 0)
    expected = dict.fromkeys(PERIODS, 0)
    total_annualized = expected_annualized = 0
    for o in opps:
        period = o["value_period"]
        counts[period] = counts.get(period, 0) + 1
        totals[period] += o["value"] or 0
        expected[period] += o["expected_value"] or 0
        total_annualized += o["annualized_value"] or 0
        expected_annualized += o["annualized_expected_value"] or 0
    out: dict[str, Any] = {"total_results": len(opps), "count_by_value_period": counts}
    for p in PERIODS:
        out[f"total_value_{p}"] = totals[p]
    out["total_value_annualized"] = total_annualized
    for p in PERIODS:
        out[f"expected_value_{p}"] = expected[p]
    out["expected_value_annualized"] = expected_annualized
    return out


def _sort_key(name: str) -> Callable[[dict[str, Any]], Any]:
    """Nulls sort first ascending (last descending); ties break on creation time and id."""

    def key(o: dict[str, Any]) -> Any:
        v = o.get(name)
        if isinstance(v, str):
            v = v.casefold() if name == "user_name" else v
        return (v is not None, v if v is not None else 0, o["date_created"], o["id"])

    return key


def _group_of(o: dict[str, Any], by: str) -> tuple[Any, dict[str, Any]]:
    """(sort key, group fields) of one opportunity; an opportunity not won is in the ``None`` group."""
    if by == "user_id":
        return ((o["user_name"] or "").casefold(), o["user_id"]), {
            "key": o["user_id"],
            "user_id": o["user_id"],
            "user_name": o["user_name"],
        }
    unit = by.split("__")[1]
    if o["date_won"] is None:
        empty: dict[str, Any] = {"key": None, "year": None}
        if unit == "week":
            empty = {"key": None, "weekyear": None, "week": None}
        elif unit != "year":
            empty[unit] = None
        return (1, ()), empty
    d = date.fromisoformat(o["date_won"])
    if unit == "year":
        return (0, (d.year,)), {"key": str(d.year), "year": d.year}
    if unit == "month":
        return (0, (d.year, d.month)), {"key": f"{d.year}-{d.month:02d}", "year": d.year, "month": d.month}
    if unit == "quarter":
        q = (d.month - 1) // 3 + 1
        return (0, (d.year, q)), {"key": f"{d.year}-Q{q}", "year": d.year, "quarter": q}
    wy, wk, _ = d.isocalendar()
    return (0, (wy, wk)), {"key": f"{wy}-W{wk:02d}", "weekyear": wy, "week": wk}


def matching_opportunities(
    org: OrgData, params: Params, tz_hours: float, cutoff: float | None
) -> list[dict[str, Any]]:
    """Every opportunity the filters select, rendered, in ``_order_by`` order (newest first by default)."""
    preds = opportunity_filters(org, params, tz_hours)
    matches = []
    for rec in visible(org.ordered["opportunity"], cutoff):
        o = render(org, rec)
        if all(p(rec, o) for p in preds):
            matches.append(o)
    order = dict(params).get("_order_by")
    if order:
        name = order.removeprefix("-")
        if name not in ORDER_KEYS:
            raise bad_request(f"_order_by must be one of {', '.join(ORDER_KEYS)} (with - for descending).")
        matches.sort(key=_sort_key(name), reverse=order.startswith("-"))
    else:
        matches.sort(key=lambda o: (o["date_created"], o["id"]), reverse=True)
    return matches


def list_opportunities(
    org: OrgData, params: Params, tz_hours: float, cutoff: float | None, max_skip: int
) -> dict[str, Any]:
    skip, limit = paging(params, MAX_LIMIT["opportunity"], max_skip)
    matches = matching_opportunities(org, params, tz_hours, cutoff)
    values = dict(params)
    fields = field_list(params)
    out: dict[str, Any] = {}
    group = values.get("_group_by")
    if not group:
        page = matches[skip : skip + limit]
        out["has_more"] = skip + limit < len(matches)
        out["data"] = [project(o, fields) for o in page]
        out.update(aggregates(matches))
        return out
    by = group.lstrip("-")
    if by not in GROUP_KEYS:
        raise bad_request(f"_group_by must be one of {', '.join(GROUP_KEYS)} (with - to reverse).")
    reverse = group.startswith("-")
    keyed = [(_group_of(o, by), o) for o in matches]
    # the sort is stable: the _order_by order survives inside each group
    keyed.sort(key=lambda item: item[0][0], reverse=reverse)
    if reverse:  # keep the not-won group last and the in-group order as asked
        keyed.sort(key=lambda item: item[0][0][0] == 1 if by != "user_id" else False)
    members: dict[Any, list[dict[str, Any]]] = {}
    for (_, info), o in keyed:
        members.setdefault(info["key"], []).append(o)
    page_items = keyed[skip : skip + limit]
    groups: list[dict[str, Any]] = []
    for (_, info), o in page_items:
        if not groups or groups[-1]["key"] != info["key"]:
            groups.append({**info, "objects": [], **aggregates(members[info["key"]])})
        groups[-1]["objects"].append(project(o, fields))
    out["has_more"] = skip + limit < len(keyed)
    out["data"] = groups
    out.update(aggregates(matches))
    return out


def page_of(items: list[dict[str, Any]], params: Params, *, max_skip: int) -> dict[str, Any]:
    """Configuration lists (statuses, users, custom fields, exports): ``_skip``/``_limit``/``_fields``."""
    _reject_unknown(params, {"_skip", "_limit", "_fields", "_order_by"}, "these")
    skip, limit = paging(params, CONFIG_MAX_LIMIT, max_skip)
    fields = field_list(params)
    return {
        "has_more": skip + limit < len(items),
        "data": [project(i, fields) for i in items[skip : skip + limit]],
    }
