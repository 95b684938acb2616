"""``bulkio map``: draft a mapping file from a file's headers and values, to read and edit.

Every header is matched (bulkio header, key, label, synonym, a profile, or a fuzzy match with
rapidfuzz) and the draft says how and how sure (a YAML comment); a column that matches nothing is
written as ``ignore`` with the nearest fields. For every select and reference column, each distinct
value that matches no option or record is listed with its count and written into the column's
value map with the nearest option as a guess marked ``check``. The draft is an ordinary mapping
file: ``bulkio import OBJECT FILE --mapping draft.yaml`` reads it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .definitions import ObjectSchema
from .mapfile import ColumnSpec, MappingFile, check_mapping
from .transforms import fold
from .unresolved import nearest

#: A header matched fuzzily at or above this score (0-100) is proposed; below it is ``ignore``.
FUZZY_PROPOSE = 85.0
#: A value guessed at or above this score is written as an entry; below, the entry is commented out.
VALUE_GUESS = 85.0
_SURE = {
    "mapping": "from the profile",
    "header": "bulkio header",
    "key": "key",
    "label": "label",
    "slug": "key",
    "fuzzy": "label (spacing/case)",
    "synonym": "synonym",
    "similar": "similar name; check",
    "foreign-id": "another CRM's ids: the key; check",
}


@dataclass
class ValueNote:
    """One distinct source value of a column that matched nothing."""

    value: str
    count: int
    guess: str | None
    nearest: list[tuple[str, float]]


@dataclass
class ColumnDraft:
    """What the draft says about one header."""

    header: str
    target: str | None
    how: str
    score: float
    spec: ColumnSpec | None = None
    unresolved: list[ValueNote] = field(default_factory=list)
    nearest: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Draft:
    """A drafted mapping: :meth:`to_yaml` writes it."""

    object_type: str
    file: str
    columns: list[ColumnDraft]
    profile: MappingFile | None = None
    vendor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The draft as data (``bulkio map --format json``): each header, its target (None =
        ignored), how it matched and how sure, and the values that matched nothing."""
        return {
            "object_type": self.object_type,
            "file": self.file,
            "profile": self.vendor,
            "columns": [
                {
                    "header": c.header,
                    "target": c.target,
                    "how": c.how,
                    "score": round(c.score, 3),
                    "nearest": [n for n, _ in c.nearest],
                    "unresolved": [
                        {
                            "value": v.value,
                            "count": v.count,
                            "guess": v.guess,
                            "nearest": [n for n, _ in v.nearest],
                        }
                        for v in c.unresolved
                    ],
                }
                for c in self.columns
            ],
        }

    def to_yaml(self) -> str:
        q = json.dumps  # a JSON string is a valid YAML scalar
        lines = [
            f"# bulkio mapping for {self.object_type}, drafted by `bulkio map` from {Path(self.file).name}.",
            (
                "# Read every line marked 'check', then: bulkio import "
                f"{self.object_type} {Path(self.file).name} --mapping THIS_FILE --dry-run"
            ),
            "# The format (value maps, transforms, derived columns): docs/mapping.md",
            "version: 1",
            f"object: {self.object_type}",
        ]
        p = self.profile
        if p is not None:
            if p.source:
                lines.append(f"source: {q(p.source)}")
            if p.key:
                lines.append(f"key: {q(p.key)}")
            opts = p.options.model_dump(exclude_none=True)
            if opts:
                lines.append(f"options: {q(opts)}")
        lines.append("columns:")
        for c in self.columns:
            spec = c.spec
            if c.target is None and spec is not None and spec.skip_rows:
                lines.append(f"  {q(c.header)}:")
                lines.append("    field: ignore   # from the profile")
                lines.append(f"    skip_rows: {q(list(spec.skip_rows))}")
                continue
            if c.target is None:
                near = ", ".join(f"{n} {s:.0f}%" for n, s in c.nearest) or "none"
                why = (
                    "from the profile"
                    if c.how == "mapping"
                    else f"unmapped: no field matched (nearest: {near})"
                )
                lines.append(f"  {q(c.header)}: ignore   # {why}")
                continue
            sure = f"{_SURE.get(c.how, c.how)}, {c.score:.0f}%"
            extra = spec is not None and (
                spec.transform
                or spec.values
                or spec.default
                or spec.unmapped != "pass"
                or spec.fallback
                or spec.currency_from
                or spec.skip_rows
            )
            if not extra and not c.unresolved:
                lines.append(f"  {q(c.header)}: {q(c.target)}   # {sure}")
                continue
            lines.append(f"  {q(c.header)}:")
            lines.append(f"    field: {q(c.target)}   # {sure}")
            if spec is not None and spec.transform:
                steps = [s.model_dump(exclude_none=True) for s in spec.transform]
                lines.append(f"    transform: {q(steps)}")
            values = dict(spec.values) if spec is not None else {}
            if values or c.unresolved:
                lines.append("    values:")
                for k, v in values.items():
                    lines.append(f"      {q(k)}: {q(v)}")
                for n in c.unresolved:
                    near = ", ".join(f"{name} {s:.0f}%" for name, s in n.nearest) or "no option is close"
                    if n.guess is not None:
                        lines.append(
                            f"      {q(n.value)}: {q(n.guess)}   # ×{n.count}; check (nearest: {near})"
                        )
                    else:
                        lines.append(
                            f"      # {q(n.value)}: ...   # ×{n.count}, matches nothing (nearest: {near})"
                        )
            if spec is not None and spec.default is not None:
                lines.append(f"    default: {q(spec.default)}")
            if spec is not None and spec.unmapped != "pass":
                lines.append(f"    unmapped: {spec.unmapped}")
            if spec is not None and spec.fallback:
                lines.append("    fallback: true")
            if spec is not None and spec.currency_from:
                lines.append(f"    currency_from: {q(spec.currency_from)}")
            if spec is not None and spec.skip_rows:
                lines.append(f"    skip_rows: {q(list(spec.skip_rows))}")
        if p is not None and p.derived:
            lines.append("derived:")
            for d in p.derived:
                lines.append(
                    f"  - {q(d.model_dump(exclude_none=True, exclude_defaults=True) | {'field': d.field})}"
                )
        return "\n".join(lines) + "\n"


def _catalog_names(schema: ObjectSchema, key_field: str) -> dict[str, str]:
    """Name → key for fuzzy matching of headers (labels, keys, synonyms)."""
    from . import mapping as M

    out: dict[str, str] = {}
    keys = M.importable_keys(schema, key_field)
    for k in sorted(keys):
        col = M.column_for(schema, k, key_field)
        if col is None:
            continue
        out.setdefault(col.label, k)
        out.setdefault(k.lstrip("$"), k)
    for k, words in M.SYNONYMS.get(schema.object_type, {}).items():
        if k in keys:
            for w in words:
                out.setdefault(w, k)
    return out


def draft_mapping(
    path: str | Path,
    object_type: str,
    *,
    client: Any,
    profile: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    key_field: str = "external_id",
    max_rows: int | None = None,
) -> Draft:
    """Draft a mapping for ``path`` (see the module doc). ``profile`` is a vendor name, ``"auto"``
    (the profile the headers read like) or None/"none" (no profile). ``max_rows`` reads only the
    first rows for the value lists (``bulkio ui`` drafts a million-row file from a sample and
    counts values over the whole file while the page is open).

    >>> print(draft_mapping("deals.csv", "opportunity", client=lf).to_yaml())   # doctest: +SKIP
    """
    from . import mapping as M
    from . import profiles as P
    from . import read
    from . import values as V
    from .resolve import References

    schema: ObjectSchema = client.schema(object_type)
    spec: MappingFile | None = None
    vendor: str | None = None
    with read.open_table(
        path, sheet=sheet, encoding=encoding, delimiter=delimiter, object_type=object_type
    ) as t:
        headers = [str(h) if h is not None else "" for h in t.headers]
        if profile not in (None, "none", "auto"):
            vendor, spec = profile, P.load_profile(profile, object_type, headers)
        elif profile == "auto":
            found = P.detect_profile(headers, object_type)
            if found is not None:
                vendor, spec = found
        if spec is not None:
            check_mapping(spec, schema, keys=M.importable_keys(schema, key_field))
        hm = M.map_headers(
            headers, schema, mapping=spec.targets() if spec else None, key_field=key_field, warn_unused=False
        )
        rows = [list(r.cells) for r in itertools.islice(t.rows, max_rows)]
    id_col = hm.by_key.get(M.ID_KEY)
    M.check_record_id_column(hm, rows[: M.ID_SAMPLE], object_type)
    foreign = id_col if id_col is not None and M.ID_KEY not in hm.by_key else None
    names = _catalog_names(schema, key_field)
    # references match by the key field too (a Close workbook refers to leads by the Close ids in close_id)
    references = References(client, key_field=(spec.key if spec is not None and spec.key else "external_id"))
    drafts: list[ColumnDraft] = []
    behind = {m.index: m for m in hm.fallbacks.values()}  # fallback columns, with their field
    behind.update({m.index: m for extra in hm.joins.values() for m in extra})  # and joined ones
    for mc in hm.columns:
        mc = behind.get(mc.index, mc) if mc.how in ("fallback", "joined") else mc
        header = mc.header
        if not header.strip():
            continue
        entry = M.explicit_entry(header, spec.targets()) if spec is not None else None
        col_spec = spec.columns[entry] if spec is not None and entry is not None else None
        if foreign is not None and mc.index == foreign.index and key_field not in hm.by_key:
            d = ColumnDraft(header, key_field, "foreign-id", 100.0)
        elif mc.column is not None and mc.column.kind in M.IMPORT_KINDS:
            d = ColumnDraft(header, mc.column.key, mc.how or "?", 100.0, col_spec)
        elif mc.how == "mapping":
            d = ColumnDraft(header, None, "mapping", 100.0, col_spec)
        else:
            near = nearest(header, list(names), limit=3, cutoff=50, strict=True)
            best = near[0] if near else None
            taken = {c.target for c in drafts} | set(hm.by_key)
            if best is not None and best[1] >= FUZZY_PROPOSE and names[best[0]] not in taken:
                d = ColumnDraft(header, names[best[0]], "similar", best[1])
            else:
                d = ColumnDraft(
                    header, None, "none", 0.0, nearest=[(f"{n} ({names[n]})", s) for n, s in near]
                )
        drafts.append(d)
        if d.target is None:
            continue
        fdef = schema.fields.get(d.target)
        rel = schema.relationships.get(d.target)
        is_select = fdef is not None and fdef.value_type in ("SINGLE_SELECT", "MULTI_SELECT")
        if not is_select and rel is None:
            continue
        multi = (fdef is not None and fdef.value_type == "MULTI_SELECT") or (rel is not None and rel.has_many)
        counts: Counter[str] = Counter()
        table = {fold(k): v for k, v in (col_spec.values if col_spec else {}).items()}
        for r in rows:
            raw = r[mc.index] if mc.index < len(r) else None
            if raw is None or not str(raw).strip():
                continue
            text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
            for item in [p.strip() for p in text.split(";") if p.strip()] if multi else [text]:
                counts[item] += 1
        misses: list[tuple[str, int]] = []
        if col_spec is not None and col_spec.unmapped == "blank":  # unlisted values are left blank
            counts = Counter({v: n for v, n in counts.items() if fold(v) in table})
        for value, n in counts.most_common():
            mapped = table.get(fold(value), col_spec.default if col_spec else None) or value
            if is_select:
                assert fdef is not None
                if V.match_option(fdef, mapped).option_id is None:
                    misses.append((value, n))
        if rel is not None:
            directory = references.directory(rel.object_type)
            wanted = {table.get(fold(v)) or v for v in counts}
            directory.prefetch(wanted)
            misses = [
                (v, n) for v, n in counts.most_common() if len(directory.lookup(table.get(fold(v)) or v)) != 1
            ]
            choices = list(directory.names.values()) + list(directory.by_email)
        else:
            assert fdef is not None
            choices = [o.label for o in fdef.options]
        for value, n in misses:
            pool = [c for c in choices if ("@" in c) == ("@" in value)] or choices
            near = nearest(value, pool, limit=3, cutoff=30)
            guess = near[0][0] if near and near[0][1] >= VALUE_GUESS and is_select else None
            if rel is not None and near and near[0][1] >= 90:
                guess = near[0][0]
            d.unresolved.append(ValueNote(value, n, guess, near))
    return Draft(object_type, str(path), drafts, spec, vendor)


def write_draft(draft: Draft, dest: str | Path) -> str:
    """Write the draft (atomically) and return its path."""
    from .sheets import atomic_path

    dest = Path(dest)
    with atomic_path(dest) as tmp:
        Path(tmp).write_text(draft.to_yaml(), encoding="utf-8")
    return str(dest)


__all__ = ["ColumnDraft", "Draft", "ValueNote", "draft_mapping", "write_draft"]
