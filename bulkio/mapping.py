"""Match a file's column headers to an object's fields and relationships.

People import sheets bulkio wrote (``Stage* ($stage)``) and sheets they made themselves
(``First Name``, ``E-mail``, ``City``). :func:`map_headers` tries, for each header, in order:

1. an explicit mapping (header -> key, a dict or a file read by :func:`load_mapping_file`);
2. bulkio's own ``Label (key)`` header format;
3. the exact key (``$stage``, ``external_id``), the exact label, the key without ``$``;
4. a case-, space- and punctuation-insensitive match of the label or key, including part names of
   ADDRESS/FULL_NAME fields (``first name`` -> ``$name.firstName``, ``City`` ->
   ``$primaryAddress.city``), ``Record ID``/``id`` -> the record ID — only when exactly one
   column matches.

Display columns (``Account name ($account#name)``) are recognised and ignored silently; read-only
fields and reverse links are ignored with a ``read_only_column`` warning. A header that matches
nothing is an ``unknown_column`` **warning** (the column is ignored and the run continues; a typo
in an optional column should not block an import) with did-you-mean suggestions. Two columns for
the same key are a ``duplicate_header`` error (the first one wins).
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .columns import ID_KEY, SPLIT_TYPES, Column, export_columns, header_text, key_from_header
from .definitions import ObjectSchema
from .errors import ConfigError, InputFileError
from .issues import Issue
from .read import column_letter

#: Column kinds whose cells are imported.
IMPORT_KINDS = frozenset({"id", "field", "subfield", "relationship"})
#: Did-you-mean suggestions are computed for this many unknown columns (difflib is slow on
#: files with thousands of junk columns).
MAX_SUGGESTIONS = 200
_ID_ALIASES = ("recordid", "id", "lightfieldid", "recordidid")
_NON_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class MappedColumn:
    """One column of the file: position, header, and the :class:`Column` it maps to (None when
    ignored). ``how`` says which rule matched: mapping, header, key, label, slug or fuzzy."""

    index: int
    letter: str
    header: str
    column: Column | None
    how: str | None = None

    @property
    def key(self) -> str | None:
        return self.column.key if self.column else None

    @property
    def importable(self) -> bool:
        return self.column is not None and self.column.kind in IMPORT_KINDS


@dataclass
class HeaderMap:
    """The result of :func:`map_headers`. ``by_key`` holds the importable columns (fields,
    sub-fields, relationships and ``id``) by key, first occurrence only."""

    columns: list[MappedColumn]
    issues: list[Issue] = field(default_factory=list)
    by_key: dict[str, MappedColumn] = field(default_factory=dict)
    key_field: str = "external_id"

    @property
    def importable(self) -> list[MappedColumn]:
        return [c for c in self.columns if c.importable and self.by_key.get(c.key or "") is c]

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


letter = column_letter


def _norm(text: str) -> str:
    return _NON_ALNUM.sub("", text.casefold())


# --- candidate columns -------------------------------------------------------------------------


@dataclass(slots=True)
class _Catalog:
    by_key: dict[str, Column]
    exact_label: dict[str, list[Column]]
    fuzzy: dict[str, list[Column]]


def _add(index: dict[str, list[Column]], alias: str, col: Column) -> None:
    if not alias:
        return
    bucket = index.setdefault(alias, [])
    if all(c.key != col.key for c in bucket):
        bucket.append(col)


def _catalog(schema: ObjectSchema, key_field: str) -> _Catalog:
    cols = list(export_columns(schema, key_field=key_field))
    # whole ADDRESS/FULL_NAME fields ("Name" for a contact) and read-only reverse links
    for f in schema.fields.values():
        if f.value_type in SPLIT_TYPES and not f.read_only:
            cols.append(
                Column(
                    f.key,
                    header_text(f.label, f.key),
                    f.label,
                    "field",
                    f.key,
                    None,
                    f.value_type,
                    f.key in schema.required,
                    False,
                )
            )
    for r in schema.relationships.values():
        if r.read_only:
            cols.append(
                Column(r.key, header_text(r.label, r.key, read_only=True), r.label, "readonly", r.key)
            )
    by_key: dict[str, Column] = {}
    for c in cols:
        by_key.setdefault(c.key, c)
    exact: dict[str, list[Column]] = {}
    fuzzy: dict[str, list[Column]] = {}
    obj = schema.object_type
    for c in by_key.values():
        if c.kind == "display":
            continue  # only matched by its bulkio header or exact key
        _add(exact, c.label, c)
        names = [c.key, c.key.lstrip("$"), c.label]
        if c.kind == "id":
            names += list(_ID_ALIASES)
        if c.kind == "subfield" and c.field_key and c.part:
            parent = schema.fields[c.field_key]
            part_label = dict(SPLIT_TYPES[parent.value_type])[c.part]
            words = parent.label.split()
            names += [
                c.part,
                part_label,
                f"{parent.label} {part_label}",
                f"{words[-1] if words else ''} {part_label}",
                f"{parent.key} {c.part}",
            ]
        if c.kind == "relationship":
            names += [f"{c.label} name", f"{c.label} id", f"{c.key} id"]
        if c.kind in ("field", "subfield"):
            names += [f"{obj} {n}" for n in (c.label, c.key.lstrip("$"))]
        for n in names:
            _add(fuzzy, _norm(n), c)
    return _Catalog(by_key, exact, fuzzy)


def _match(header: str, cat: _Catalog) -> tuple[Column | None, str | None, list[Column]]:
    """(column, rule, ambiguous candidates) for one header."""
    h = header.strip()
    key = key_from_header(h)
    if key and key in cat.by_key:
        return cat.by_key[key], "header", []
    if h in cat.by_key:
        return cat.by_key[h], "key", []
    label = h.rstrip("*").strip()
    hits = cat.exact_label.get(label, [])
    if len(hits) == 1:
        return hits[0], "label", []
    slug = "$" + h
    if slug in cat.by_key and cat.by_key[slug].kind != "display":
        return cat.by_key[slug], "slug", []
    # the label part of a foreign bulkio header ("Stage* ($stage_old)") still counts fuzzily
    text = h[: h.rfind("(")] if key else h
    hits = cat.fuzzy.get(_norm(text.replace("[read-only]", "")), [])
    if len(hits) == 1:
        return hits[0], "fuzzy", []
    return None, None, hits


def _suggest(header: str, cat: _Catalog, ambiguous: list[Column]) -> str:
    if ambiguous:
        opts = ambiguous
    else:
        names = dict(cat.fuzzy)
        close = difflib.get_close_matches(_norm(header), list(names), n=6, cutoff=0.6)
        seen: dict[str, Column] = {}
        for n in close:
            for c in names[n]:
                if c.kind in IMPORT_KINDS:
                    seen.setdefault(c.key, c)
        opts = list(seen.values())[:3]
    if not opts:
        return ""
    shown = " or ".join(f'"{c.label}" ({c.key})' for c in opts)
    return f"; {'it could be' if ambiguous else 'did you mean'} {shown}?"


# --- mapping files -----------------------------------------------------------------------------


def load_mapping_file(path: str | os.PathLike[str]) -> dict[str, str | None]:
    """Read a header -> key mapping from JSON (``{"Header": "$key"}``), YAML (same shape) or a
    two-column CSV (``header,key``). A null/empty key means "ignore this column".

    >>> load_mapping_file("mapping.json")   # doctest: +SKIP
    {'Company': '$name', 'Notes': None}
    """
    p = Path(path)
    name = str(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read the mapping file ({exc})", path=name) from None
    suffix = p.suffix.lower()
    data: Any
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml  # optional; PyYAML is present wherever YAML mappings are used

            data = yaml.safe_load(text)
        elif suffix in (".csv", ".tsv", ".txt"):
            delim = "\t" if suffix == ".tsv" or ("\t" in text and "," not in text) else ","
            rows = [r for r in csv.reader(text.splitlines(), delimiter=delim) if any(x.strip() for x in r)]
            if rows and [x.strip().casefold() for x in rows[0][:2]] in (
                ["header", "key"],
                ["column", "field"],
                ["header", "field"],
            ):
                rows = rows[1:]
            if any(len(r) < 1 or len(r) > 2 for r in rows):
                raise ValueError("each row must be: header, key")
            data = {r[0].strip(): (r[1].strip() if len(r) > 1 else None) for r in rows}
        else:
            raise InputFileError("mapping files must be .json, .yaml/.yml or .csv", path=name)
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - json/yaml/csv errors alike
        raise InputFileError(f"cannot parse the mapping file ({exc})", path=name) from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if isinstance(data, list):
        try:
            data = {d["header"]: d.get("key") for d in data}
        except (TypeError, KeyError):
            raise InputFileError("a mapping list must hold {header, key} objects", path=name) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()
    ):
        raise InputFileError('expected a mapping of header -> key, e.g. {"Company": "$name"}', path=name)
    return {k: (v.strip() or None) if isinstance(v, str) else None for k, v in data.items()}


def _explicit_entry(header: str, mapping: dict[str, str | None]) -> str | None:
    """The mapping's entry (its header text) for ``header``, or None."""
    if header in mapping:
        return header
    h = header.strip()
    if h in mapping:
        return h
    n = _norm(h)
    for k in mapping:
        if _norm(k) == n:
            return k
    return None


# --- the mapper --------------------------------------------------------------------------------


def map_headers(
    headers: list[str],
    schema: ObjectSchema,
    *,
    mapping: dict[str, str | None] | None = None,
    key_field: str = "external_id",
    file: str | None = None,
    sheet: str | None = None,
    header_row: int = 1,
) -> HeaderMap:
    """Map each header to a column of ``schema``; problems come back as issues, not exceptions
    (except a mapping that names a key the object does not have: :class:`ConfigError`).

    >>> hm = map_headers(["Name", "Stage", "Amount"], opportunity_schema)   # doctest: +SKIP
    >>> [c.key for c in hm.columns]
    ['$name', '$stage', 'amount']
    """
    cat = _catalog(schema, key_field)
    mapping = mapping or {}
    for k, v in mapping.items():
        if v is not None and v not in cat.by_key:
            close = difflib.get_close_matches(v, list(cat.by_key), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"the mapping sends column {k!r} to {v!r}, which is not a field or "
                f"relationship of {schema.object_type}{hint}"
            )
    result = HeaderMap(columns=[], key_field=key_field)

    def issue(code: str, message: str, idx: int, header: str, col: Column | None, **kw: Any) -> None:
        result.issues.append(
            Issue(
                code,
                message,
                file=file,
                sheet=sheet,
                row=header_row,
                column=letter(idx),
                header=header,
                field=col.key if col else None,
                **kw,
            )
        )

    suggestions_left = MAX_SUGGESTIONS
    used_entries: set[str] = set()
    for idx, raw in enumerate(headers):
        header = "" if raw is None else str(raw)
        col: Column | None
        ambiguous: list[Column]
        entry = _explicit_entry(header, mapping)
        found, target = entry is not None, mapping.get(entry) if entry is not None else None
        if entry is not None:
            used_entries.add(entry)
        if found:
            col, how, ambiguous = (cat.by_key[target] if target else None), "mapping", []
        elif not header.strip():
            col, how, ambiguous = None, None, []
        else:
            col, how, ambiguous = _match(header, cat)
        if col is None:
            result.columns.append(MappedColumn(idx, letter(idx), header, None, how))
            if not found and header.strip():
                hint = ""
                if ambiguous or suggestions_left > 0:
                    suggestions_left -= 1
                    hint = _suggest(header, cat, ambiguous)
                issue(
                    "unknown_column",
                    f'column "{header.strip()}" does not match any field or '
                    f"relationship of {schema.object_type}; it is ignored" + hint,
                    idx,
                    header,
                    None,
                    expected="a field label or key (see the template)",
                    severity="warning",
                )
            continue
        if col.kind == "readonly":
            issue(
                "read_only_column",
                f'"{col.label}" ({col.key}) is read-only; the column is ignored',
                idx,
                header,
                col,
                severity="warning",
            )
        elif col.kind in IMPORT_KINDS:
            first = result.by_key.get(col.key)
            if first is not None:
                issue(
                    "duplicate_header",
                    f'column "{header.strip()}" maps to {col.key} like column '
                    f'{first.letter} "{first.header.strip()}"; only column {first.letter} is used',
                    idx,
                    header,
                    col,
                    expected="one column per field",
                )
                result.columns.append(MappedColumn(idx, letter(idx), header, None, how))
                continue
        mc = MappedColumn(idx, letter(idx), header, col, how)
        result.columns.append(mc)
        if col.kind in IMPORT_KINDS:
            result.by_key[col.key] = mc
    texts = [str(h).strip() for h in headers if h is not None and str(h).strip()]
    for entry in mapping:
        if entry in used_entries:
            continue
        close = difflib.get_close_matches(entry, texts, n=2)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        result.issues.append(
            Issue(
                "unused_mapping",
                f"the mapping names column {entry!r}, which is not in the file; the entry is unused{hint}",
                file=file,
                sheet=sheet,
                row=header_row,
                field=mapping[entry],
                expected="a header of the file",
                severity="warning",
            )
        )
    if key_field not in result.by_key and ID_KEY not in result.by_key:
        has_field = key_field in schema.fields
        key_label = schema.fields[key_field].label if has_field else key_field
        result.issues.append(
            Issue(
                "missing_key_column",
                f"no column for the upsert key {key_field}"
                + ("" if has_field else f" ({schema.object_type} has no such field)")
                + " and no Record ID column; every row will create a new record",
                file=file,
                sheet=sheet,
                row=header_row,
                field=key_field,
                expected=f"a column {header_text(key_label, key_field)} or Record ID (id)",
                severity="warning",
            )
        )
    return result


__all__ = ["HeaderMap", "MappedColumn", "letter", "load_mapping_file", "map_headers"]
