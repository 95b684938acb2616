"""Export records to a workbook (or CSV / JSONL files) that re-imports as it is.

Every object sheet has exactly the columns of :func:`bulkio.columns.export_columns`: the record
id, the template columns (ADDRESS / FULL_NAME split into parts), a display column with readable
names after each relationship, then read-only fields. Values go through
:func:`bulkio.values.format_value` (select labels, real Excel dates, lists joined with ``"; "``),
and every text cell through formula escaping (:mod:`bulkio.sheets`).

Records stream from :meth:`CrmClient.list_all <bulkio.protocols.CrmClient.list_all>` into a write-only workbook. The names shown
in display columns need id -> name maps of the related types (accounts, contacts, members,
opportunities…); each type is listed at most once per export and, when the same type is also one
of the exported sheets, its records are kept and reused instead of being listed again.

Formats:

* ``xlsx`` one workbook, one sheet per object (``pipeline`` adds a Summary sheet first);
* ``csv`` one UTF-8 (BOM) file per object: the path itself for one object, else
  ``<stem>-<object>.csv`` next to it; text cells are formula-escaped like in XLSX;
* ``jsonl`` one file per object (named like CSV), one API record per line exactly as the API
  returned it plus a ``"relationshipNames"`` key (``{"$owner": ["Ava Admin"]}``). JSONL is for
  programs, so nothing is formula-escaped.

A ``pipeline`` export in CSV or JSONL writes the object files only; its summary figures are in
:attr:`ExportReport.summary` (and in ``bulkio export … --format json``).

Every file is written to a temporary file and renamed into place (:func:`bulkio.sheets.atomic_path`),
so an interrupted export never replaces a good file with half of one; the files of a multi-object
CSV/JSONL export are renamed together once all are complete, so an interruption leaves none of them
replaced. A symlink is followed (its target gets the export), a device or FIFO is written in place,
and ``-`` is standard output: CSV (one object, UTF-8 without BOM) and JSON Lines (every object in one
stream) as records arrive, XLSX once the workbook is complete.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from . import sheets
from .columns import MULTI_SEPARATOR, Column, export_columns
from .crm.base import PipelineSource, crm_name
from .definitions import SYSTEM_OBJECTS, ObjectSchema
from .errors import ApiError, ConfigError
from .events import EventHandler, Message, PhaseFinished, PhaseStarted, Progress
from .summary import PipelineSummary, member_name, summarize_pipeline, write_summary_sheet
from .vocabulary import EXPORT_FORMATS, versioned

if TYPE_CHECKING:
    import pandas as pd

    from .protocols import CrmClient

ExportFormat = Literal["xlsx", "csv", "jsonl"]
FORMATS: tuple[str, ...] = EXPORT_FORMATS
#: The objects of ``bulkio export pipeline``, in sheet order (after the Summary sheet).
PIPELINE: tuple[str, ...] = ("opportunity", "account", "contact", "task", "note", "member")
SHEET_NAMES: dict[str, str] = {
    "opportunity": "Opportunities",
    "account": "Accounts",
    "contact": "Contacts",
    "task": "Tasks",
    "note": "Notes",
    "member": "Members",
}
SUMMARY_SHEET = "Summary"
#: Records per Progress event (one API page).
PROGRESS_BATCH = 25
JOIN = MULTI_SEPARATOR + " "

#: Members have no definitions endpoint; their shape is fixed by the contract (all read-only).
MEMBER_DEFINITIONS: dict[str, Any] = {
    "objectType": "member",
    "fieldDefinitions": {
        "$name": {"label": "Name", "valueType": "FULL_NAME", "readOnly": True, "typeConfiguration": {}},
        "$email": {"label": "Email", "valueType": "EMAIL", "readOnly": True, "typeConfiguration": {}},
        "$role": {"label": "Role", "valueType": "TEXT", "readOnly": True, "typeConfiguration": {}},
        "$profileImage": {
            "label": "Profile image",
            "valueType": "URL",
            "readOnly": True,
            "typeConfiguration": {},
        },
    },
    "relationshipDefinitions": {},
}

_FILTER = re.compile(r"^\s*([^\[\]=]+?(?:\[[^\]]*\])?)\s*=(.*)$", re.DOTALL)
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(slots=True)
class ExportReport:
    """What an export wrote: records per object, the file(s), how long it took."""

    format: str
    paths: list[Path]
    counts: dict[str, int]
    sheets: dict[str, str]
    duration_s: float
    #: the pipeline's Summary: :class:`~bulkio.summary.PipelineSummary` for Lightfield, the
    #: backend's own for another CRM (Close: :class:`~bulkio.crm.close.summary.CloseSummary`)
    summary: Any = None
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return True

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def records_per_s(self) -> float:
        return self.total / self.duration_s if self.duration_s > 0 else 0.0

    # the names before 0.2 (same values)
    @property
    def duration(self) -> float:
        return self.duration_s

    @property
    def records_per_second(self) -> float:
        return self.records_per_s

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (docs/json.md)."""
        return versioned(
            {
                "ok": self.ok,
                "format": self.format,
                "paths": [str(p) for p in self.paths],
                "counts": dict(self.counts),
                "sheets": dict(self.sheets),
                "total": self.total,
                "duration_s": round(self.duration_s, 3),
                "records_per_s": round(self.records_per_s, 1),
                "summary": self.summary.to_dict() if self.summary else None,
                "messages": list(self.messages),
            }
        )


# --- filters ------------------------------------------------------------------------------------


def parse_filter(text: str) -> tuple[str, str]:
    """``"$stage[equal]=Lead"`` -> ``("$stage[equal]", "Lead")`` (the value may contain ``=``).

    >>> parse_filter("amount[greaterThan]=5000")
    ('amount[greaterThan]', '5000')
    """
    m = _FILTER.match(text)
    if not m or not m.group(1).strip():
        raise ConfigError(f"Bad filter {text!r}: write key[operator]=value, e.g. '$stage[equal]=Lead'.")
    return m.group(1).strip(), m.group(2)


def _filter_params(items: Iterable[str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(parse_filter(s) for s in (items or ()))


Filters = Mapping[str, Sequence[str]] | Sequence[str]


def group_filters(filters: Filters | None) -> dict[str, list[str]]:
    """Filters by object type. ``OBJECT:key[op]=value`` targets one object; a bare ``key[op]=value``
    goes under ``"*"`` (every exported object that has the key). A mapping is taken as it is.

    >>> group_filters(["opportunity:amount[greaterThan]=5000", "$stage[equal]=Lead"])
    {'opportunity': ['amount[greaterThan]=5000'], '*': ['$stage[equal]=Lead']}
    """
    if isinstance(filters, Mapping):
        return {k: list(v) for k, v in filters.items()}
    out: dict[str, list[str]] = {}
    for text in [filters] if isinstance(filters, str) else filters or ():
        head, sep, rest = text.partition(":")
        if sep and head and not head.startswith("$") and not any(ch in head for ch in "[]="):
            out.setdefault(head, []).append(rest)
        else:
            out.setdefault("*", []).append(text)
    return out


# --- record access ------------------------------------------------------------------------------


def _field_value(record: Mapping[str, Any], key: str) -> Any:
    entry = (record.get("fields") or {}).get(key)
    return entry.get("value") if isinstance(entry, dict) else entry


def _rel_ids(record: Mapping[str, Any], key: str) -> list[str]:
    rel = (record.get("relationships") or {}).get(key)
    if isinstance(rel, dict):
        return [str(v) for v in rel.get("values") or []]
    if isinstance(rel, list):
        return [str(v) for v in rel]
    return [str(rel)] if rel else []


def record_name(object_type: str, record: Mapping[str, Any]) -> str:
    """The readable name shown in display columns: member/contact full name (else email),
    account/opportunity/custom ``$name``, task/note ``$title`` (else a ``$displayName``: Close leads)."""
    if object_type == "member":
        return member_name(dict(record))
    for key in ("$name", "$title", "name", "title", "$displayName"):
        value = _field_value(record, key)
        if isinstance(value, dict):
            value = " ".join(str(p) for p in (value.get("firstName"), value.get("lastName")) if p)
        if value:
            return str(value)
    email = _field_value(record, "$email")
    if isinstance(email, list):
        email = email[0] if email else None
    return str(email) if email else ""


class _Source:
    """Lists records for one export: each type at most once, records kept only for types that are
    both exported (without filters) and needed for names."""

    def __init__(
        self, client: CrmClient, *, concurrency: int, on_event: EventHandler | None, keep: set[str]
    ) -> None:
        self.client, self.concurrency, self.on_event, self.keep = client, concurrency, on_event, keep
        self._records: dict[str, list[dict[str, Any]]] = {}
        self._filtered: dict[tuple[str, tuple[tuple[str, str], ...]], list[dict[str, Any]]] = {}
        self._names: dict[str, dict[str, str]] = {}
        self.messages: list[str] = []

    def _emit(self, event: Any) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _stream(
        self, object_type: str, filters: tuple[tuple[str, str], ...] = ()
    ) -> Iterator[dict[str, Any]]:
        if object_type == "member":
            yield from self.client.members()
            return
        yield from self.client.list_all(
            object_type, filters=list(filters) or None, concurrency=self.concurrency
        )

    def cached(self, object_type: str) -> list[dict[str, Any]] | None:
        return self._records.get(object_type)

    def fetch(self, object_type: str) -> list[dict[str, Any]]:
        """Every record of the type, listed once and kept."""
        if object_type not in self._records:
            phase = f"fetch:{object_type}"
            self._emit(PhaseStarted(phase))
            records = []
            for rec in self._stream(object_type):
                records.append(rec)
                if len(records) % PROGRESS_BATCH == 0:
                    self._emit(Progress(phase, PROGRESS_BATCH))
            self._emit(Progress(phase, len(records) % PROGRESS_BATCH))
            self._emit(PhaseFinished(phase))
            self._records[object_type] = records
        return self._records[object_type]

    def names(self, object_type: str) -> dict[str, str]:
        """id -> readable name for every record of the type (empty if the type cannot be listed)."""
        if object_type in self._names:
            return self._names[object_type]
        try:
            if object_type in self.keep or object_type in self._records:
                records: Iterable[dict[str, Any]] = self.fetch(object_type)
            else:
                records = self._stream(object_type)
            names = {str(r.get("id")): record_name(object_type, r) for r in records}
        except ApiError as exc:
            if exc.status not in (400, 403, 404):
                raise
            names = {}
            text = f"names of {object_type} records are not shown: {exc.message}"
            self.messages.append(text)
            self._emit(Message(text))
        self._names[object_type] = names
        return names

    def fetch_filtered(self, object_type: str, filters: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
        """The matching records, listed once and kept (the pipeline's filtered opportunities feed
        both the Summary and the Opportunities sheet)."""
        if not filters:
            return self.fetch(object_type)
        key = (object_type, filters)
        if key not in self._filtered:
            self._filtered[key] = list(self._stream(object_type, filters))
        return self._filtered[key]

    def _kept(self, object_type: str, filters: tuple[tuple[str, str], ...]) -> list[dict[str, Any]] | None:
        if filters:
            return self._filtered.get((object_type, filters))
        return self._records.get(object_type)

    def total(self, object_type: str, filters: tuple[tuple[str, str], ...]) -> int | None:
        cached = self._kept(object_type, filters)
        if cached is not None:
            return len(cached)
        if object_type == "member":
            return None
        page = self.client.list_page(object_type, offset=0, limit=1, filters=list(filters) or None)
        return int(page.get("totalCount") or 0)

    def records(self, object_type: str, filters: tuple[tuple[str, str], ...]) -> Iterator[dict[str, Any]]:
        cached = self._kept(object_type, filters)
        return iter(cached) if cached is not None else self._stream(object_type, filters)


# --- rows ---------------------------------------------------------------------------------------


def object_schema(client: CrmClient, object_type: str) -> ObjectSchema:
    """The schema an export uses (Lightfield members have a fixed, read-only one)."""
    if object_type == "member" and crm_name(client) == "lightfield":
        return ObjectSchema.from_api(MEMBER_DEFINITIONS, object_type="member")
    return client.schema(object_type)


def _join(values: Sequence[str]) -> str | None:
    return JOIN.join(values) if values else None


def row_builder(
    schema: ObjectSchema, columns: Sequence[Column], names: Mapping[str, Mapping[str, str]]
) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A function turning one API record into the row of cell values for ``columns`` (unescaped:
    the writers escape text). ``names`` maps a related object type to its id -> name map."""
    from .values import format_value

    getters: list[Callable[[Mapping[str, Any]], Any]] = []
    for c in columns:
        if c.kind == "id":
            getters.append(lambda r: r.get("id"))
        elif c.kind in ("field", "readonly", "subfield"):
            fdef = schema.fields[c.field_key or c.key]

            def get_field(r: Mapping[str, Any], f: Any = fdef, part: str | None = c.part) -> Any:
                value = _field_value(r, f.key)
                if value is None:
                    return None
                return format_value(f, value, part=part)

            getters.append(get_field)
        elif c.kind == "relationship":

            def get_ids(r: Mapping[str, Any], k: str = c.key) -> Any:
                return _join(_rel_ids(r, k))

            getters.append(get_ids)
        elif c.kind == "display":
            rel = schema.relationships[c.field_key or ""]
            target = names.get(rel.object_type, {})

            def get_names(r: Mapping[str, Any], k: str = rel.key, m: Mapping[str, str] = target) -> Any:
                return _join([m[i] for i in _rel_ids(r, k) if m.get(i)])

            getters.append(get_names)
        else:  # pragma: no cover - every kind is handled above
            getters.append(lambda r: None)
    return lambda record: [g(record) for g in getters]


def _formats(schema: ObjectSchema, columns: Sequence[Column]) -> list[str | None]:
    """Currency columns get the field's currency format; dates are formatted by sheets."""
    out: list[str | None] = []
    for c in columns:
        f = schema.fields.get(c.field_key or "") if c.kind in ("field", "readonly") else None
        out.append(
            sheets.currency_format(f.type_configuration.currency)
            if f is not None and f.value_type == "CURRENCY"
            else None
        )
    return out


def _relationship_targets(schema: ObjectSchema, columns: Sequence[Column]) -> list[str]:
    targets: list[str] = []
    for c in columns:
        if c.kind == "display":
            t = schema.relationships[c.field_key or ""].object_type
            if t not in targets:
                targets.append(t)
    return targets


# --- plan of one export -------------------------------------------------------------------------


@dataclass(slots=True)
class _Sheet:
    object_type: str
    title: str
    schema: ObjectSchema
    columns: list[Column]
    filters: tuple[tuple[str, str], ...]


def _resolve_objects(
    objects: Sequence[str] | str, pipeline: Sequence[str] = PIPELINE
) -> tuple[list[str], bool]:
    if isinstance(objects, str):
        objects = [objects]
    objs = [o.strip() for o in objects if o and o.strip()]
    if objs == ["pipeline"]:
        return list(pipeline), True
    if "pipeline" in objs:
        raise ConfigError(
            "'pipeline' exports the whole pipeline on its own; do not combine it with other object types."
        )
    if not objs:
        raise ConfigError("Name at least one object type to export (or 'pipeline').")
    seen: list[str] = []
    for o in objs:
        if o not in seen:
            seen.append(o)
    return seen, False


def _sheet_title(label: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub(" ", label).strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _plan(client: CrmClient, objects: list[str], filters: Filters | None, key_field: str) -> list[_Sheet]:
    # a backend with its own pipeline (Close) names its object types there; Lightfield's are fixed
    system = set(client.pipeline_objects) if isinstance(client, PipelineSource) else set(SYSTEM_OBJECTS)
    names = client.sheet_names if isinstance(client, PipelineSource) else SHEET_NAMES
    custom = [o for o in objects if o not in system]
    labels: dict[str, str] = {}
    if custom:
        labels = {
            str(o.get("objectType")): str(o.get("label") or o.get("objectType"))
            for o in client.object_types()
        }
        unknown = [o for o in custom if o not in labels]
        if unknown:
            known = ", ".join(sorted([t for t in system] + list(labels)))
            raise ConfigError(
                f"Unknown object type {', '.join(unknown)}: choose one of {known} (or 'pipeline')."
            )
    by_object = group_filters(filters)
    shared = _filter_params(by_object.pop("*", None))
    unknown_filters = set(by_object) - set(objects)
    if unknown_filters:
        raise ConfigError(
            f"Filters given for {', '.join(sorted(unknown_filters))}, which is not being exported."
        )
    used: set[str] = {SUMMARY_SHEET.lower()}
    plan = []
    matched: set[tuple[str, str]] = set()
    for o in objects:
        schema = object_schema(client, o)
        title = _sheet_title(names.get(o) or labels.get(o, o), used)
        own = _filter_params(by_object.get(o))
        mine = tuple(
            f
            for f in shared
            if _filter_key(f[0]) in schema.fields or _filter_key(f[0]) in schema.relationships
        )
        matched.update(mine)
        plan.append(_Sheet(o, title, schema, export_columns(schema, key_field=key_field), own + mine))
    missing = [(k, v) for k, v in shared if (k, v) not in matched]
    if missing:
        keys = sorted({k for sh in plan for k in (*sh.schema.fields, *sh.schema.relationships)})
        close = difflib.get_close_matches(_filter_key(missing[0][0]), keys, n=2, cutoff=0.75)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise ConfigError(
            f"No exported object has the field of filter "
            f"{', '.join(f'{k}={v}' for k, v in missing)}{hint}; see `bulkio definitions "
            "OBJECT` for the keys, or name the filter's object "
            "(opportunity:$stage[equal]=Lead)."
        )
    return plan


def _filter_key(param: str) -> str:
    """``"$stage[-equal]"`` -> ``"$stage"``."""
    return param.split("[", 1)[0].strip()


#: File suffixes that name an export format.
SUFFIXES: dict[str, str] = {".xlsx": "xlsx", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def export_format(path: str | Path, fmt: str | None = None) -> str:
    """The file format of an export: ``fmt`` when given, else from the path's suffix.

    >>> export_format("pipeline.xlsx"), export_format("out.txt", "csv")
    ('xlsx', 'csv')
    """
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise ConfigError(f"Unknown export format {fmt!r}: use one of {', '.join(FORMATS)}.")
        return fmt
    if sheets.is_stdout(path):
        raise ConfigError(
            "Writing to standard output (-o -) needs the file type: add --to csv, jsonl or xlsx."
        )
    found = SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise ConfigError(
            f"Cannot tell the file type of {Path(path).name!r}: name it .xlsx, .csv or "
            ".jsonl, or choose the format (--to xlsx|csv|jsonl)."
        )
    return found


def _file_for(path: Path, object_type: str, fmt: str, single: bool) -> Path:
    if single:
        return path
    return path.with_name(f"{path.stem}-{object_type}.{fmt}")


# --- writers ------------------------------------------------------------------------------------


def _counted(
    records: Iterator[dict[str, Any]], phase: str, on_event: EventHandler | None, counter: list[int]
) -> Iterator[dict[str, Any]]:
    """Pass records through, counting them and emitting Progress per page-sized batch."""
    n = 0
    for rec in records:
        n += 1
        counter[0] = n
        if on_event is not None and n % PROGRESS_BATCH == 0:
            on_event(Progress(phase, PROGRESS_BATCH))
        yield rec
    if on_event is not None and n % PROGRESS_BATCH:
        on_event(Progress(phase, n % PROGRESS_BATCH))


def _write_jsonl(
    fh: TextIO, records: Iterable[dict[str, Any]], sheet: _Sheet, names: Mapping[str, Mapping[str, str]]
) -> int:
    rels = [(r.key, names.get(r.object_type, {})) for r in sheet.schema.relationships.values()]
    n = 0
    for rec in records:
        resolved = {}
        for key, m in rels:
            ids = _rel_ids(rec, key)
            if ids and m:
                resolved[key] = [m.get(i, "") for i in ids]
        fh.write(json.dumps({**rec, "relationshipNames": resolved}, ensure_ascii=False, default=str))
        fh.write("\n")
        n += 1
    return n


# --- the public functions -----------------------------------------------------------------------


def export_objects(
    client: CrmClient,
    objects: Sequence[str] | str,
    path: str | Path,
    *,
    format: str | None = None,
    filters: Filters | None = None,
    key_field: str = "external_id",
    concurrency: int = 8,
    on_event: EventHandler | None = None,
) -> ExportReport:
    """Export object types (or ``"pipeline"``) to ``path``; return an :class:`ExportReport`.

    ``format`` is ``xlsx``, ``csv`` or ``jsonl`` (default: from the path's suffix,
    :func:`export_format`). ``filters`` are API list filters (ANDed): ``[OBJECT:]key[op]=value``
    strings, or a mapping of object type to ``key[op]=value`` strings; without an object (or under
    ``"*"``) a filter applies to every exported object whose definitions have the key
    (:func:`group_filters`).
    ``pipeline`` = a Summary sheet, then Opportunities, Accounts, Contacts, Tasks, Notes, Members.

    >>> with connect() as lf:                                      # doctest: +SKIP
    ...     report = export_objects(lf, "pipeline", "pipeline.xlsx")
    >>> report.counts["opportunity"], report.paths
    """
    started = time.perf_counter()
    target = Path(path)
    fmt = export_format(target, format)
    objs, pipeline = _resolve_objects(objects, _pipeline_objects(client))
    plan = _plan(client, objs, filters, key_field)
    needed = {t for s in plan for t in _relationship_targets(s.schema, s.columns)}
    keep = {s.object_type for s in plan if not s.filters and s.object_type in needed}
    if pipeline:
        keep.add("opportunity")
    source = _Source(client, concurrency=concurrency, on_event=on_event, keep=keep)
    names = {t: source.names(t) for t in sorted(needed)}

    summary = None
    opp_sheet = next((s for s in plan if s.object_type == "opportunity"), None)
    if pipeline and opp_sheet is not None:
        opps = source.fetch_filtered("opportunity", opp_sheet.filters)
        if isinstance(client, PipelineSource):
            summary = client.summarize_pipeline(opps, list(opp_sheet.filters) or None)
        else:
            summary = summarize_pipeline(opps, opp_sheet.schema, source.fetch("member"))

    counts: dict[str, int] = {}
    paths: list[Path] = []
    if fmt == "xlsx":
        paths.append(_export_xlsx(target, plan, source, names, summary, counts, on_event))
    else:
        single = len(plan) == 1
        to_stdout = sheets.is_stdout(target)
        if to_stdout and fmt == "csv" and not single:
            raise ConfigError(
                "CSV to standard output (-o -) takes one object type: export them one at a time, "
                "or use --to jsonl (one record per line, every object) or --to xlsx."
            )
        # Each file goes to a temporary file; all are renamed into place together at the end, so an
        # interrupted export of several objects replaces none of their files rather than some.
        # Standard output is one stream for every object (JSON Lines), written as records arrive.
        with ExitStack() as renames:
            streams: dict[str, TextIO] = {}
            for sheet in plan:
                file = target if to_stdout else _file_for(target, sheet.object_type, fmt, single)
                fh = streams.get(str(file))
                if fh is None:
                    # CSV files get a BOM so Excel reads them as UTF-8; a pipe gets plain UTF-8
                    encoding = sheets.CSV_ENCODING if fmt == "csv" and not to_stdout else "utf-8"
                    newline = "" if fmt == "csv" else "\n"
                    fh = renames.enter_context(sheets.open_output(file, encoding=encoding, newline=newline))
                    streams[str(file)] = fh
                phase = f"export:{sheet.object_type}"
                _emit(on_event, PhaseStarted(phase, total=source.total(sheet.object_type, sheet.filters)))
                counter = [0]
                records = _counted(
                    iter(source.records(sheet.object_type, sheet.filters)), phase, on_event, counter
                )
                if fmt == "csv":
                    build = row_builder(sheet.schema, sheet.columns, names)
                    sheets.write_csv_rows(fh, [c.header for c in sheet.columns], (build(r) for r in records))
                else:
                    _write_jsonl(fh, records, sheet, names)
                counts[sheet.object_type] = counter[0]
                _emit(on_event, PhaseFinished(phase))
                if file not in paths:
                    paths.append(file)
    return ExportReport(
        format=fmt,
        paths=paths,
        counts=counts,
        sheets={s.object_type: s.title for s in plan},
        duration_s=time.perf_counter() - started,
        summary=summary,
        messages=source.messages,
    )


def _pipeline_objects(client: Any) -> tuple[str, ...]:
    """The objects of ``export pipeline`` for this backend (Lightfield: :data:`PIPELINE`)."""
    return tuple(client.pipeline_objects) if isinstance(client, PipelineSource) else PIPELINE


def _emit(on_event: EventHandler | None, event: Any) -> None:
    if on_event is not None:
        on_event(event)


def _export_xlsx(
    target: Path,
    plan: list[_Sheet],
    source: _Source,
    names: Mapping[str, Mapping[str, str]],
    summary: Any,
    counts: dict[str, int],
    on_event: EventHandler | None,
) -> Path:
    wb = sheets.new_workbook(write_only=True)
    try:
        if isinstance(summary, PipelineSummary):
            write_summary_sheet(
                wb.create_sheet(SUMMARY_SHEET), summary, money_format=sheets.currency_format(summary.currency)
            )
        elif summary is not None:  # another CRM's Summary lays itself out
            summary.write_sheet(
                wb.create_sheet(SUMMARY_SHEET), money_format=sheets.currency_format(summary.currency)
            )
        for sheet in plan:
            ws = wb.create_sheet(sheet.title)
            phase = f"export:{sheet.object_type}"
            _emit(on_event, PhaseStarted(phase, total=source.total(sheet.object_type, sheet.filters)))
            build = row_builder(sheet.schema, sheet.columns, names)
            counter = [0]
            records = _counted(
                iter(source.records(sheet.object_type, sheet.filters)), phase, on_event, counter
            )
            required = [i for i, c in enumerate(sheet.columns) if c.required]
            counts[sheet.object_type] = sheets.write_table(
                ws,
                [c.header for c in sheet.columns],
                (build(r) for r in records),
                formats=_formats(sheet.schema, sheet.columns),
                required=required,
            )
            _emit(on_event, PhaseFinished(phase))
        return sheets.save_workbook(wb, target)
    except BaseException:
        sheets.discard_workbook(wb)
        raise


def export_frames(
    client: CrmClient,
    objects: Sequence[str] | str,
    *,
    filters: Filters | None = None,
    key_field: str = "external_id",
    concurrency: int = 8,
    on_event: EventHandler | None = None,
) -> dict[str, pd.DataFrame]:
    """One pandas DataFrame per object type, with the same columns (headers) and values as the
    exported sheet, in pandas' own types (:func:`column_dtype`): ``datetime64[ns, UTC]`` for dates,
    nullable ``Float64`` / ``Int64`` for numbers and money, ``boolean`` for checkboxes,
    ``category`` (the field's options, in their order) for single selects, ``string`` for the rest.
    Values are not formula-escaped (no spreadsheet is involved).

    >>> frames = export_frames(lf, ["account", "opportunity"])     # doctest: +SKIP
    >>> frames["opportunity"]["Stage* ($stage)"].value_counts()
    """
    import pandas as pd

    objs, _ = _resolve_objects(objects, _pipeline_objects(client))
    plan = _plan(client, objs, filters, key_field)
    needed = {t for s in plan for t in _relationship_targets(s.schema, s.columns)}
    keep = {s.object_type for s in plan if not s.filters and s.object_type in needed}
    source = _Source(client, concurrency=concurrency, on_event=on_event, keep=keep)
    names = {t: source.names(t) for t in sorted(needed)}
    frames: dict[str, pd.DataFrame] = {}
    for sheet in plan:
        phase = f"export:{sheet.object_type}"
        _emit(on_event, PhaseStarted(phase, total=source.total(sheet.object_type, sheet.filters)))
        build = row_builder(sheet.schema, sheet.columns, names)
        counter = [0]
        rows = [
            build(r)
            for r in _counted(
                iter(source.records(sheet.object_type, sheet.filters)), phase, on_event, counter
            )
        ]
        frames[sheet.object_type] = pd.DataFrame(
            {
                c.header: _typed_column([row[i] for row in rows], c, sheet.schema)
                for i, c in enumerate(sheet.columns)
            }
        )
        _emit(on_event, PhaseFinished(phase))
    return frames


def column_dtype(column: Column, schema: ObjectSchema) -> str:
    """The pandas dtype :func:`export_frames` gives a column, by the field's value type: ``datetime``
    (``datetime64[ns, UTC]``), ``number`` (``Int64`` when every value is whole, else ``Float64``),
    ``currency`` (``Float64``), ``boolean``, ``category`` (single select) or ``string``."""
    if column.kind not in ("field", "readonly"):
        return "string"  # ids, relationship ids, names, address and name parts
    fdef = schema.fields.get(column.field_key or column.key)
    vt = fdef.value_type if fdef is not None else None
    return {
        "DATETIME": "datetime",
        "NUMBER": "number",
        "CURRENCY": "currency",
        "CHECKBOX": "boolean",
        "SINGLE_SELECT": "category",
    }.get(vt or "", "string")


def _typed_column(values: list[Any], column: Column, schema: ObjectSchema) -> pd.Series[Any]:
    import pandas as pd

    kind = column_dtype(column, schema)
    if kind == "datetime":
        # cells are naive UTC datetimes, or dates for midnight (format_value); text that is no date
        # (never written by the API) becomes NaT rather than an object column
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True, errors="coerce"))
    if kind in ("number", "currency"):
        numbers = [_as_float(v) for v in values]
        whole = all(n is None or float(n).is_integer() for n in numbers)
        if kind == "number" and whole and any(n is not None for n in numbers):
            return pd.Series([None if n is None else int(n) for n in numbers], dtype="Int64")
        return pd.Series(numbers, dtype="Float64")
    if kind == "boolean":
        return pd.Series([v if isinstance(v, bool) else None for v in values], dtype="boolean")
    if kind == "category":
        fdef = schema.fields[column.field_key or column.key]
        labels = [o.label for o in fdef.options]
        extra = sorted({str(v) for v in values if v is not None and str(v) not in labels})
        dtype = pd.CategoricalDtype(categories=list(dict.fromkeys(labels + extra)), ordered=False)
        return pd.Series([None if v is None else str(v) for v in values], dtype=dtype)
    return pd.Series([None if v is None else str(v) for v in values], dtype="string")


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


__all__ = [
    "PIPELINE",
    "ExportReport",
    "column_dtype",
    "export_format",
    "export_frames",
    "export_objects",
    "group_filters",
    "parse_filter",
    "record_name",
    "row_builder",
]
