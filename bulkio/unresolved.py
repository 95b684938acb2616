"""Unresolved values grouped by column and value: ``Stage: 'Appointment Scheduled' ×18 — no such
option; nearest: Lead, Qualified``.

Why: an export from another CRM repeats a handful of stage, owner and industry values over hundreds
of rows. One error per row hides the three values to map; a group per (column, value) with its
count and the nearest options is the to-do list for a value map (``bulkio map`` writes it as one).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import Any

from .definitions import ObjectSchema
from .issues import Issue

#: Issue codes that mean "this value matched nothing it could be".
UNRESOLVED_CODES = frozenset(
    {
        "unknown_option",
        "ambiguous_option",
        "relationship_entity_missing",
        "ambiguous_reference",
        "unmapped_value",
    }
)
_WHAT = {
    "unknown_option": "no such option",
    "ambiguous_option": "matches several options",
    "relationship_entity_missing": "no such record",
    "ambiguous_reference": "matches several records",
    "unmapped_value": "not in the value map",
}
#: Rows listed per group (the count says how many there are).
ROWS_SHOWN = 5


def nearest(
    value: str, choices: Iterable[str], *, limit: int = 3, cutoff: float = 40.0, strict: bool = False
) -> list[tuple[str, float]]:
    """The closest ``choices`` to ``value`` with a 0–100 score (rapidfuzz WRatio, case-insensitive;
    ``strict``: token_sort_ratio, which does not reward a short choice contained in a long value)."""
    from rapidfuzz import fuzz, process, utils

    options = list(dict.fromkeys(c for c in choices if c))
    if not options or not value:
        return []
    hits = process.extract(
        value,
        options,
        scorer=fuzz.token_sort_ratio if strict else fuzz.WRatio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=cutoff,
    )
    return [(h[0], round(float(h[1]), 1)) for h in hits]


def candidates_for(key: str, schema: ObjectSchema, references: Any = None) -> list[str]:
    """What a value of ``key`` could have been: option labels, or names/emails of known records."""
    fdef = schema.fields.get(key)
    if fdef is not None:
        return [o.label for o in fdef.options]
    rel = schema.relationships.get(key)
    if rel is None or references is None:
        return []
    directory = getattr(references, "directories", {}).get(rel.object_type)
    if directory is None:
        return []
    names = list(getattr(directory, "names", {}).values())
    emails = list(getattr(directory, "by_email", {}).keys())
    return names + emails


def group_unresolved(
    issues_by_row: Iterable[list[Issue]], schema: ObjectSchema, references: Any = None
) -> list[dict[str, Any]]:
    """One entry per (column, field, code, value), most frequent first: ``column``, ``header``,
    ``field``, ``code``, ``value``, ``count``, ``rows`` (the first few), ``nearest`` and a one-line
    ``message``."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for issues in issues_by_row:
        for i in issues:
            if i.code not in UNRESOLVED_CODES:
                continue
            value = _value_of(i)
            key = (i.column, i.header, i.field, i.code, value)
            g = groups.get(key)
            if g is None:
                g = groups[key] = {
                    "column": i.column,
                    "header": i.header,
                    "field": i.field,
                    "code": i.code,
                    "value": value,
                    "count": 0,
                    "rows": [],
                }
            g["count"] += 1
            if len(g["rows"]) < ROWS_SHOWN and i.row is not None:
                g["rows"].append(i.row)
    out = sorted(groups.values(), key=lambda g: (-g["count"], str(g["header"]), str(g["value"])))
    cache: dict[str, list[str]] = {}
    for g in out:
        fkey = str(g["field"] or "")
        if fkey not in cache:
            cache[fkey] = candidates_for(fkey, schema, references)
        value = str(g["value"])
        choices = [c for c in cache[fkey] if ("@" in c) == ("@" in value)] or cache[fkey]
        near = nearest(value, choices)
        g["nearest"] = [n for n, _ in near]
        g["message"] = describe(g)
    return out


#: The first quoted value of a message, as ``repr`` writes it: ``'Lead'``, ``"O'Neil"``, ``'a\\'b"c'``.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')


def _value_of(issue: Issue) -> str:
    """The one value that failed (a multi-value cell's item, from the message, else the cell).
    Messages quote it with ``repr``, which switches to double quotes for ``O'Neil``: the literal is
    read back whole, not cut at its apostrophe."""
    m = _QUOTED.search(issue.message)
    if m is not None:
        try:
            value = ast.literal_eval(m.group(0))
        except (ValueError, SyntaxError):
            value = m.group(0)[1:-1]
        return str(value)
    return "" if issue.value is None else str(issue.value)


def describe(group: dict[str, Any]) -> str:
    """``Stage: 'Appointment Scheduled' ×18 — no such option; nearest: Lead, Qualified``."""
    where = (group.get("header") or group.get("field") or "?").strip()
    text = f"{where}: {group['value']!r} ×{group['count']} — {_WHAT.get(group['code'], group['code'])}"
    if group.get("nearest"):
        text += "; nearest: " + ", ".join(group["nearest"])
    return text


__all__ = ["UNRESOLVED_CODES", "candidates_for", "describe", "group_unresolved", "nearest"]
