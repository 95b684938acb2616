"""List endpoints: pagination bounds and ``key[op]=value`` filters.

Operators per value type follow the docs' list-endpoint page: NUMBER/CURRENCY/DATETIME take
``equal`` and the ``greaterThan`` family; TEXT/FULL_NAME/SOCIAL_HANDLE/ADDRESS ``equal`` and
``startsWith``; CHECKBOX/SINGLE_SELECT ``equal``; EMAIL/TELEPHONE/URL ``contains``; MULTI_SELECT,
MARKDOWN and HTML are not filterable. Without ``[op]`` the default is ``equal`` where allowed, else
``contains``; ``-op`` negates. Text comparisons ignore case (like a search index) in the lenient
profile and are exact in the strict one (``docs/sandbox.md``). Relationships
filter by their definition slug (``$task-account``) or their key, with ``contains``/``equal``
meaning "links to this id". Several filters AND together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from .rules import bad, collapse, match_option, normalize_phone, parse_datetime
from .store import ObjectDef, OrgData, Record, unique_values

ORDER_OPS = ("equal", "greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual")
OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "NUMBER": ORDER_OPS,
    "CURRENCY": ORDER_OPS,
    "DATETIME": ORDER_OPS,
    "TEXT": ("equal", "startsWith"),
    "FULL_NAME": ("equal", "startsWith"),
    "SOCIAL_HANDLE": ("equal", "startsWith"),
    "ADDRESS": ("equal", "startsWith"),
    "CHECKBOX": ("equal",),
    "SINGLE_SELECT": ("equal",),
    "EMAIL": ("contains",),
    "TELEPHONE": ("contains",),
    "URL": ("contains",),
}
RELATIONSHIP_OPS = ("contains", "equal")
FILTER_RE = re.compile(r"^(?P<key>[^\[\]]+)(?:\[(?P<op>-?[A-Za-z]+)\])?$")
MAX_LIMIT = 25
#: The contract's ``offset`` maximum (``Number.MAX_SAFE_INTEGER``).
MAX_OFFSET = 2**53 - 1
#: A query integer: ASCII digits, an optional leading minus (so ``-1`` is "too small", not "not a number").
INTEGER_RE = re.compile(r"-?[0-9]{1,100}")
#: A number filter value: JSON's number grammar.
NUMBER_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")

Predicate = Callable[[Record], bool]


def relationship_slug(otype: str, key: str) -> str:
    """``$task-account`` for task ``$account``; ``partner-account`` for custom ``account``."""
    prefix = "$" if key.startswith("$") else ""
    return f"{prefix}{otype}-{key.lstrip('$')}"


def page_bounds(params: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """``offset`` ≥ 0 (default 0) and ``limit`` 1–25 (default 25), else 400 ``invalid_type``."""
    offset, limit = 0, MAX_LIMIT
    seen: set[str] = set()
    for name, raw in params:
        if name not in ("offset", "limit"):
            continue
        if name in seen:
            raise bad(f"'{name}' may be given once.", "invalid_type", name)
        seen.add(name)
        # plain ASCII digits only: Python's int() would also take " 5", "+5", "1_0" and "٥"
        if not INTEGER_RE.fullmatch(raw):
            raise bad(f"'{name}' must be an integer.", "invalid_type", name)
        val = int(raw)
        if name == "offset":
            if val < 0:
                raise bad("'offset' must be 0 or more.", "invalid_type", "offset")
            if val > MAX_OFFSET:
                raise bad(f"'offset' must be at most {MAX_OFFSET}.", "invalid_type", "offset")
            offset = val
        else:
            if not 1 <= val <= MAX_LIMIT:
                raise bad(f"'limit' must be between 1 and {MAX_LIMIT}.", "invalid_type", "limit")
            limit = val
    return offset, limit


def build_filters(
    org: OrgData, odef: ObjectDef, params: Iterable[tuple[str, str]]
) -> tuple[list[Predicate], set[str] | None]:
    """Predicates for the filters, plus candidate ids when a unique field is matched exactly.

    ``external_id[equal]=X`` is how importers find existing records, so it is answered from the
    unique index instead of a scan.
    """
    preds: list[Predicate] = []
    candidates: set[str] | None = None
    rel_slugs = {relationship_slug(odef.type, k): k for k in odef.rels}
    for name, raw in params:
        if name in ("offset", "limit"):
            continue
        m = FILTER_RE.match(name)
        if m is None:
            raise bad(f"Malformed filter '{name}'.", "invalid_type", name)
        key, op = m.group("key"), m.group("op")
        negate = bool(op and op.startswith("-"))
        op = op.lstrip("-") if op else None
        if key in odef.fields:
            fdef = odef.fields[key]
            allowed = OPS_BY_TYPE.get(fdef["valueType"], ())
            if not allowed:
                raise bad(f"Field '{key}' ({fdef['valueType']}) cannot be filtered.", "invalid_filter", name)
            op = op or ("equal" if "equal" in allowed else allowed[0])
            if op not in allowed:
                raise bad(
                    f"Operator '{op}' is not supported for field '{key}' ({fdef['valueType']}); "
                    f"use one of {', '.join(allowed)}.",
                    "invalid_filter",
                    name,
                )
            pred = _field_predicate(
                key, fdef, op, raw, name, exact=org.profile.case_sensitive, otype=odef.type
            )
            if op == "equal" and not negate and (fdef.get("typeConfiguration") or {}).get("unique"):
                norm = unique_values(raw, exact=org.profile.case_sensitive)[0]
                hit = org.unique.get((odef.type, key), {}).get(norm)
                found = {hit} if hit else set()
                candidates = found if candidates is None else candidates & found
        elif key in rel_slugs or key in odef.rels:
            rkey = rel_slugs.get(key, key)
            op = op or "contains"
            if op not in RELATIONSHIP_OPS:
                raise bad(
                    f"Operator '{op}' is not supported for relationship '{key}'.", "invalid_filter", name
                )
            wanted = raw.strip()
            pred = _rel_predicate(rkey, wanted)
        else:
            raise bad(f"Unrecognized filter field '{key}' for '{odef.collection}'.", "unknown_field", name)
        preds.append(_negate(pred) if negate else pred)
    return preds, candidates


def _negate(pred: Predicate) -> Predicate:
    return lambda r: not pred(r)


def _rel_predicate(rkey: str, wanted: str) -> Predicate:
    return lambda r: wanted in r.rels.get(rkey, ())


def _field_predicate(
    key: str, fdef: dict[str, Any], op: str, raw: str, param: str, *, exact: bool = False, otype: str = ""
) -> Predicate:
    """``exact`` (strict profile): text compares case and whitespace as stored; select filters
    take option ids, and labels only for opportunity ``$stage`` (case-insensitive, P-FILT)."""
    vt = fdef["valueType"]
    if vt in ("NUMBER", "CURRENCY"):
        # a JSON number, finite: float() would also take "nan", "inf", "1_0", " 5" and "٥"
        want_n = float(raw) if NUMBER_RE.fullmatch(raw) else math.inf
        if not math.isfinite(want_n):
            raise bad(f"Filter '{param}' needs a number.", "invalid_type", param)
        return _ordered(key, op, want_n, lambda v: float(v))
    if vt == "DATETIME":
        want_d = parse_datetime(raw)
        if want_d is None:
            raise bad(f"Filter '{param}' needs an ISO 8601 date-time.", "invalid_type", param)
        return _ordered(key, op, want_d, lambda v: parse_datetime(v))
    if vt == "CHECKBOX":
        low = raw if exact else raw.strip().lower()
        if low not in ("true", "false"):
            raise bad(f"Filter '{param}' needs true or false.", "invalid_type", param)
        want_b = low == "true"
        return lambda r: bool(r.fields.get(key, False)) is want_b
    if vt == "SINGLE_SELECT":
        stage = otype == "opportunity" and key == "$stage"
        opt = match_option(fdef, raw, labels=stage or not exact, exact=exact and not stage)
        return lambda r: opt is not None and r.fields.get(key) == opt
    if vt in ("EMAIL", "URL", "TELEPHONE"):
        if vt == "TELEPHONE":
            norm = normalize_phone(raw)
            needle = re.sub(r"\D", "", norm.split(";")[0] if norm else raw)
            return lambda r: (
                bool(needle) and any(needle in re.sub(r"\D", "", str(v)) for v in _as_list(r.fields.get(key)))
            )
        if exact:
            return lambda r: any(raw in str(v) for v in _as_list(r.fields.get(key)))
        low_needle = raw.strip().casefold()
        return lambda r: any(low_needle in str(v).casefold() for v in _as_list(r.fields.get(key)))
    # TEXT, SOCIAL_HANDLE, FULL_NAME, ADDRESS: compare text (ignoring case unless ``exact``)
    fold = _exact if exact else collapse
    want = fold(raw)

    def texts(r: Record) -> list[str]:
        cached = r.norm.get(key)
        if cached is None:
            cached = r.norm[key] = _texts(vt, r.fields.get(key), fold)
        return cached

    if op == "equal":
        return lambda r: want in texts(r)
    if want == "":
        return lambda r: any(t != "" for t in texts(r))
    return lambda r: any(t.startswith(want) for t in texts(r))


def _exact(text: str) -> str:
    return text


def _texts(vt: str, v: Any, fold: Callable[[str], str] = collapse) -> list[str]:
    """The strings a TEXT-like filter compares against (``fold``ed: case-folded and whitespace
    collapsed, or as stored)."""
    if v is None:
        return []
    if vt == "FULL_NAME":
        parts = [v.get("firstName") or "", v.get("lastName") or ""]
        return [fold(" ".join(p for p in parts if p)), *(fold(p) for p in parts if p)]
    if vt == "ADDRESS":
        return [fold(str(x)) for x in v.values() if x not in (None, "")]
    return [fold(str(v))]


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _ordered(key: str, op: str, want: Any, conv: Callable[[Any], Any]) -> Predicate:
    def pred(r: Record) -> bool:
        v = r.fields.get(key)
        if v is None:
            return False
        have = conv(v)
        if have is None:
            return False
        if op == "equal":
            return bool(have == want)
        if op == "greaterThan":
            return bool(have > want)
        if op == "greaterThanOrEqual":
            return bool(have >= want)
        if op == "lessThan":
            return bool(have < want)
        return bool(have <= want)

    return pred


def select(
    records: list[Record], preds: list[Predicate], offset: int, limit: int, created_before: float | None
) -> tuple[list[Record], int]:
    """Newest first (createdAt desc, then id desc); returns the page and the total match count."""
    if not preds:
        end = len(records)
        if created_before is not None:
            while end > 0 and records[end - 1].created_ts > created_before:
                end -= 1
        total = end
        start = max(end - offset - limit, 0)
        stop = max(end - offset, 0)
        return list(reversed(records[start:stop])), total
    pool = (
        reversed(records)
        if created_before is None
        else (r for r in reversed(records) if r.created_ts <= created_before)
    )
    if len(preds) == 1:
        only = preds[0]
        matched = [r for r in pool if only(r)]
    else:
        matched = [r for r in pool if all(p(r) for p in preds)]
    return matched[offset : offset + limit], len(matched)
