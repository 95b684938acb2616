"""Close → Lightfield: ``bulkio migrate --from close --to lightfield`` (and :func:`migrate`).

The migration is the file path without the files: Close's leads, contacts and opportunities are
read as the sheets of the Close pipeline workbook (:func:`bulkio.export.export_frames`, the same
headers ``bulkio export pipeline --crm close`` writes) and imported into Lightfield by the ordinary
importer (:func:`bulkio.pipeline.import_frame`), each with a mapping file bulkio drafts from the two
orgs:

* **objects**: leads → accounts, contacts → contacts, opportunities → opportunities, in that order
  (contacts and opportunities find their account by the lead's Close id);
* **the key**: every Close id is kept in a unique text field ``close_id`` on the Lightfield side,
  which is the upsert key: a second run changes nothing, a killed run ``--resume``s from the ledger
  without duplicates. In the embedded sandbox bulkio creates ``close_id`` (and the fields below);
  against the real API it stops and lists the fields to create first;
* **names**: Close opportunities have none; the name is ``Lead – Status – $Value`` (API-FACTS §9);
* **stages** come from status labels through a stage map (a value map of the mapping): a status of
  type won goes to the stage whose label says won, lost to lost, an active one to the stage of the
  same (or nearly the same) label, else to the first open stage — and the report says which;
* **owners**: a Close user maps to the member with the same e-mail, else the same full name;
* **money**: the opportunity value (cents in Close, currency units in the sheet) goes to a
  CURRENCY field (``amount``), its confidence to ``probability``, the date won to ``closeDate``;
* **custom fields** map by key, then label, when their types fit (text, number, date, choices,
  URL; user and contact fields as the person's name); a field the org lacks is created in the
  sandbox, and reported otherwise.

Values that cannot go anywhere (an option Lightfield's field does not have, a user without a
member, a field without a home) are left out of the row — the record is still migrated — and listed
in the report. The report workbook has the counts per object, every value that did not map, every
failure with its reason, and the field, stage and user maps that were used. ``mappings`` replaces a
drafted mapping (e.g. one written with ``write_mappings`` or ``bulkio map … --from close`` and
edited).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .columns import MULTI_SEPARATOR, Column, export_columns, key_from_header
from .crm.base import Backend, Filters
from .definitions import FieldDef, ObjectSchema
from .errors import ConfigError
from .events import EventHandler, Message, PhaseFinished, PhaseStarted
from .mapfile import ColumnSpec, MappingFile, as_mapping
from .pipeline import RunReport, import_frame
from .vocabulary import base_outcome, versioned

#: The Lightfield field that keeps each record's Close id: the key of every migrated object.
KEY = "close_id"
#: Close object → Lightfield object, in the order they are migrated.
OBJECTS: tuple[tuple[str, str], ...] = (
    ("lead", "account"),
    ("contact", "contact"),
    ("opportunity", "opportunity"),
)
LF_OF = dict(OBJECTS)
#: Close values that are derived (or bookkeeping) and not migrated.
DERIVED = {
    "lead": {"$name", "$dateCreated", "$dateUpdated"},
    "contact": {"$dateCreated", "$dateUpdated"},
    "opportunity": {
        "$statusType",
        "$expectedValue",
        "$annualizedValue",
        "$annualizedExpectedValue",
        "$dateLost",
        "$dateCreated",
        "$dateUpdated",
        "$pipeline",
    },
}
#: A Close value type → the Lightfield value types that can hold it.
COMPATIBLE: dict[str, tuple[str, ...]] = {
    "TEXT": ("TEXT", "MARKDOWN", "FULL_NAME"),
    "NUMBER": ("NUMBER", "CURRENCY"),
    "CURRENCY": ("CURRENCY", "NUMBER"),
    "DATETIME": ("DATETIME",),
    "SINGLE_SELECT": ("SINGLE_SELECT",),
    "MULTI_SELECT": ("MULTI_SELECT",),
    "URL": ("URL",),
    "EMAIL": ("EMAIL",),
    "TELEPHONE": ("TELEPHONE",),
    "ADDRESS": ("ADDRESS",),
    "FULL_NAME": ("FULL_NAME",),
}
#: Close's own fields → Lightfield keys to try, in order (the last is created when none exists).
#: ``None`` as the type: the key must exist (a Lightfield system field).
SYSTEM: dict[str, dict[str, tuple[str, ...]]] = {
    "lead": {
        "$displayName": ("$name",),
        "$url": ("$website",),
        "$address": ("$primaryAddress",),
        "$description": ("close_description",),
        "$status": ("close_lead_status",),
    },
    "contact": {
        "$name": ("$name",),
        "$email": ("$email",),
        "$phone": ("phone", "close_phone"),
        "$title": ("$title", "jobTitle", "close_title"),
        "$url": ("close_urls",),
    },
    "opportunity": {
        "$displayName": ("$name",),
        "$status": ("$stage",),
        "$value": ("amount", "close_value"),
        "$confidence": ("probability", "close_confidence"),
        "$dateWon": ("closeDate", "close_date_won"),
        "$valuePeriod": ("close_value_period",),
        "$note": ("close_note",),
    },
}
#: Close relationships → Lightfield relationships.
RELATIONSHIPS = {
    "contact": {"$lead": "$account"},
    "opportunity": {"$lead": "$account", "$contact": "$champion", "$user": "$owner"},
}

FieldCreator = Callable[[str, str, dict[str, Any]], bool]


# --- the report --------------------------------------------------------------------------------------


@dataclass
class MigrationReport:
    """What a migration did (or, with ``dry_run``, would do)."""

    dry_run: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    source_counts: dict[str, int] = field(default_factory=dict)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    field_map: list[dict[str, Any]] = field(default_factory=list)
    stage_map: list[dict[str, Any]] = field(default_factory=list)
    user_map: list[dict[str, Any]] = field(default_factory=list)
    created_fields: list[str] = field(default_factory=list)
    runs: dict[str, RunReport] = field(default_factory=dict)
    duration_s: float = 0.0
    report_path: str | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def written(self) -> int:
        return sum(c.get("created", 0) + c.get("updated", 0) for c in self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (docs/json.md, ``migrate`` in docs/json-schema.json)."""
        return versioned(
            {
                "ok": self.ok,
                "dry_run": self.dry_run,
                "source_counts": dict(self.source_counts),
                "counts": {k: dict(v) for k, v in self.counts.items()},
                "unmapped": list(self.unmapped),
                "failures": list(self.failures),
                "field_map": list(self.field_map),
                "stage_map": list(self.stage_map),
                "user_map": list(self.user_map),
                "created_fields": list(self.created_fields),
                "duration_s": round(self.duration_s, 3),
                "report_path": self.report_path,
                "messages": list(self.messages),
            }
        )


# --- planning ----------------------------------------------------------------------------------------


def _fold(text: Any) -> str:
    return " ".join(str(text).split()).casefold()


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in text.lower()).strip("_")
    while "__" in out:
        out = out.replace("__", "_")
    return out or "option"


def _lf_definition(fdef: FieldDef, label: str, currency: str | None) -> dict[str, Any]:
    """A Lightfield field definition that holds the values of Close's ``fdef``."""
    config: dict[str, Any] = {}
    vt = fdef.value_type
    if vt in ("SINGLE_SELECT", "MULTI_SELECT"):
        used: set[str] = set()
        options = []
        for o in fdef.options:
            oid = f"opt_{_slug(o.label)}"
            while oid in used:
                oid += "_"
            used.add(oid)
            options.append({"id": oid, "label": o.label, "description": None})
        config["options"] = options
    if vt == "CURRENCY":
        config["currency"] = currency or fdef.type_configuration.currency or "USD"
    if fdef.multiple and vt in ("EMAIL", "URL", "TELEPHONE"):
        config["multipleValues"] = True
    if vt in ("FULL_NAME", "ADDRESS"):
        vt = "TEXT"
    return {
        "label": label,
        "description": "Migrated from Close",
        "valueType": vt,
        "typeConfiguration": config,
    }


KEY_DEFINITION: dict[str, Any] = {
    "label": "Close ID",
    "description": "The record's id in Close (bulkio migrate matches by it)",
    "valueType": "TEXT",
    "typeConfiguration": {"unique": True},
}


@dataclass
class _Target:
    key: str | None
    how: str
    definition: dict[str, Any] | None = None  # to create


class FieldPlanner:
    """Decides where each Close column goes in Lightfield (and which fields to create)."""

    def __init__(self, close: Any, lightfield: Any, *, can_create: bool) -> None:
        self.close, self.lf, self.can_create = close, lightfield, can_create
        self.lf_schemas: dict[str, ObjectSchema] = {}
        self.to_create: dict[str, dict[str, dict[str, Any]]] = {}  # lf type -> key -> definition
        #: columns whose values go elsewhere (a user field's id column: its name column is migrated)
        self.covered: dict[str, set[str]] = {}

    def lf_schema(self, lf_type: str) -> ObjectSchema:
        if lf_type not in self.lf_schemas:
            definitions = getattr(self.lf, "definitions", None)
            if callable(definitions):  # fresh, uncached: fields may be added before the import
                self.lf_schemas[lf_type] = ObjectSchema.from_api(definitions(lf_type), object_type=lf_type)
            else:
                self.lf_schemas[lf_type] = self.lf.schema(lf_type)
        return self.lf_schemas[lf_type]

    def _taken(self, lf_type: str, key: str) -> bool:
        schema = self.lf_schema(lf_type)
        return key in schema.fields or key in schema.relationships or key in self.to_create.get(lf_type, {})

    def target(self, close_type: str, fdef: FieldDef, *, candidates: tuple[str, ...] = ()) -> _Target:
        """The Lightfield field for one Close field: a listed candidate, the same key, the same
        label, else one to create (``close_…`` if the key is taken)."""
        lf_type = LF_OF[close_type]
        schema = self.lf_schema(lf_type)
        fits = COMPATIBLE.get(fdef.value_type, (fdef.value_type,))
        currency = getattr(getattr(self.close, "config", None), "currency", None)

        def usable(key: str) -> bool:
            f = schema.fields.get(key)
            return f is not None and not f.read_only and f.value_type in fits

        for key in candidates:
            if usable(key):
                return _Target(key, "system")
            if key in self.to_create.get(lf_type, {}):
                return _Target(key, "created")
        if not candidates:
            if usable(fdef.key):
                return _Target(fdef.key, "same key")
            same = [
                f.key for f in schema.fields.values() if _fold(f.label) == _fold(fdef.label) and usable(f.key)
            ]
            if len(same) == 1:
                return _Target(same[0], "same label")
        want = candidates[-1] if candidates else fdef.key
        if want.startswith("$"):
            return _Target(None, f"Lightfield {lf_type}s have no {want}")
        if self._taken(lf_type, want):
            want = f"close_{want}"
        if self._taken(lf_type, want):
            return _Target(None, f"{want} exists with another type")
        definition = _lf_definition(fdef, fdef.label if not candidates else _label_of(want, fdef), currency)
        if not self.can_create:
            return _Target(None, "missing", definition | {"key": want})
        self.to_create.setdefault(lf_type, {})[want] = definition
        return _Target(want, "created", definition)


def _label_of(key: str, fdef: FieldDef) -> str:
    return f"Close {fdef.label.lower()}" if key.startswith("close_") else fdef.label


# --- the stage and user maps --------------------------------------------------------------------------


def _preset_stages() -> dict[str, str]:
    """Close's default statuses → stages, as the workbook profile maps them (one source of truth
    for the direct migration and the file path)."""
    from .mapfile import load_mapping
    from .profiles import HERE

    spec = load_mapping(HERE / "close-opportunity@workbook.yaml")
    column = spec.columns.get("Status ($status)")
    return {_fold(k): v for k, v in (column.values if column else {}).items()}


def stage_map(close: Any, lf_stage: FieldDef | None) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Close status label (as the sheet shows it) → Lightfield stage label, and how each was chosen:
    the workbook profile's map of Close's default statuses, else won → the won stage, lost → the lost
    stage, else the same or a similar label, else the first open stage."""
    from .crm.close.encode import status_options, status_types
    from .unresolved import nearest

    config = close.config
    options = lf_stage.options if lf_stage is not None else []
    labels = [o.label for o in options]
    won = next((o.label for o in options if "won" in o.label.casefold()), None)
    lost = next((o.label for o in options if "lost" in o.label.casefold()), None)
    open_stages = [o.label for o in options if o.label not in (won, lost)]
    types = status_types(config)
    pipelines = {p["id"]: p.get("name") for p in config.pipelines}
    preset = {k: v for k, v in _preset_stages().items() if v in labels}
    values: dict[str, str] = {}
    rows = []
    for opt in status_options(config):
        stype = types.get(opt["id"], "active")
        short = opt["short"]
        target: str | None
        kind = {"Closed Won": "won", "Closed Lost": "lost"}.get(preset.get(_fold(short), ""), "active")
        if _fold(opt["label"]) in preset and kind == stype:
            target, how = preset[_fold(opt["label"])], "Close's default status (the workbook profile's map)"
        elif stype == "won":
            target, how = won, "won"
        elif stype == "lost":
            target, how = lost, "lost"
        else:
            exact = [lab for lab in labels if _fold(lab) in (_fold(short), _fold(opt["label"]))]
            close_one = nearest(short, open_stages, limit=1, cutoff=85.0)
            if exact:
                target, how = exact[0], "same label"
            elif close_one:
                target, how = close_one[0][0], f"similar label ({close_one[0][1]:.0f}%)"
            else:
                target = open_stages[0] if open_stages else None
                how = "default: the first open stage (edit the stage map to choose)"
        if target is not None:
            values[opt["label"]] = target
        rows.append(
            {
                "pipeline": pipelines.get(opt["scope"]),
                "status": opt["label"],
                "type": stype,
                "stage": target,
                "how": how if target is not None else f"Lightfield has no {stype} stage",
            }
        )
    return values, rows


def user_map(close: Any, lightfield: Any) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Close user id → Lightfield member id (by e-mail, else by full name), and how."""
    members = list(lightfield.members())

    def fields_of(m: Mapping[str, Any]) -> tuple[str, str]:
        f = m.get("fields") or {}
        email = (f.get("$email") or {}).get("value")
        email = email[0] if isinstance(email, list) and email else email
        name = (f.get("$name") or {}).get("value")
        if isinstance(name, dict):
            name = " ".join(p for p in (name.get("firstName"), name.get("lastName")) if p)
        return _fold(email or ""), _fold(name or "")

    by_email: dict[str, list[str]] = {}
    by_name: dict[str, list[str]] = {}
    for m in members:
        email, name = fields_of(m)
        if email:
            by_email.setdefault(email, []).append(str(m["id"]))
        if name:
            by_name.setdefault(name, []).append(str(m["id"]))
    out: dict[str, str] = {}
    rows = []
    for u in close.config.users:
        name = " ".join(str(p) for p in (u.get("first_name"), u.get("last_name")) if p)
        email = str(u.get("email") or "")
        hit, how = None, "no member with this e-mail or name"
        if len(by_email.get(_fold(email), [])) == 1:
            hit, how = by_email[_fold(email)][0], "e-mail"
        elif len(by_name.get(_fold(name), [])) == 1:
            hit, how = by_name[_fold(name)][0], "full name (no member has this e-mail)"
        if hit is not None:
            out[str(u["id"])] = hit
        rows.append({"user": name, "email": email, "member": hit, "how": how})
    return out, rows


# --- mappings ----------------------------------------------------------------------------------------


@dataclass
class _ObjectPlan:
    close_type: str
    lf_type: str
    mapping: MappingFile
    columns: list[Column]
    #: header → (LF key, allowed values or None, multi) for value checks before the import
    checks: dict[str, tuple[str, set[str] | None, bool]] = field(default_factory=dict)


def _column_specs(
    planner: FieldPlanner,
    close_type: str,
    columns: list[Column],
    report: MigrationReport,
    stage_values: dict[str, str],
    users: dict[str, str],
) -> dict[str, ColumnSpec]:
    close_schema: ObjectSchema = planner.close.schema(close_type)
    lf_type = LF_OF[close_type]
    out: dict[str, ColumnSpec] = {}
    ref_text: dict[str, str] = {}  # custom user/contact fields: their display column holds the text
    planned: dict[str, _Target] = {}
    for c in columns:
        key = c.field_key or c.key
        spec: ColumnSpec | None = None
        how, target = "", None
        if c.kind == "id":
            target, how = KEY, "the key"
        elif key in DERIVED.get(close_type, set()):
            how = "derived in Close: not migrated"
        elif c.kind == "display":
            rel_key = c.field_key or ""
            if rel_key in ref_text:
                target, how = ref_text[rel_key], "the name, as text"
            else:
                how = "names for reading: not migrated"
        elif c.kind == "relationship":
            rel = close_schema.relationships[key]
            lf_rel = RELATIONSHIPS.get(close_type, {}).get(key)
            if lf_rel is not None:
                target, how = lf_rel, "relationship"
                if key == "$user":
                    spec = ColumnSpec.model_validate({"field": lf_rel, "values": dict(users)})
                    how = "owner: the member with the user's e-mail (else name)"
                elif key in ("$lead", "$contact"):
                    how = f"relationship: the {LF_OF[rel.object_type]} with this close_id"
            else:  # a custom user/contact field: its name goes to a text field
                text_def = FieldDef.model_validate({"key": key, "label": rel.label, "valueType": "TEXT"})
                t = planned.get(key) or planner.target(close_type, text_def)
                planned[key] = t
                if t.key is not None:
                    ref_text[key] = t.key
                    planner.covered.setdefault(close_type, set()).add(c.header)
                    target_how = f"as the name, in the next column ({t.how})"
                else:
                    target_how = t.how
                how = target_how
        else:
            fdef = close_schema.fields[key]
            if key not in planned:
                planned[key] = planner.target(
                    close_type, fdef, candidates=SYSTEM.get(close_type, {}).get(key, ())
                )
            t = planned[key]
            if t.key is not None:
                target = f"{t.key}.{c.part}" if c.part else t.key
                if c.part and t.key != "$primaryAddress":
                    target = None  # parts of an address need an address on the other side
            how = t.how
            if key == "$status" and close_type == "opportunity":
                spec = ColumnSpec.model_validate({"field": "$stage", "values": dict(stage_values)})
                how = "stage map"
        if target is not None and spec is None:
            spec = ColumnSpec.model_validate({"field": target})
        out[c.header] = spec if spec is not None else ColumnSpec.model_validate({"field": "ignore"})
        # every column is listed, so every value can be accounted for
        report.field_map.append(
            {
                "object": close_type,
                "column": c.header,
                "lightfield": f"{lf_type}.{target}" if target else None,
                "how": how,
            }
        )
    return out


def draft_mappings(
    close: Any, lightfield: Any, *, can_create: bool = False, report: MigrationReport | None = None
) -> tuple[dict[str, MappingFile], FieldPlanner]:
    """The mapping of each Close object onto Lightfield (and the planner with the fields to create)."""
    report = report if report is not None else MigrationReport(dry_run=True)
    planner = FieldPlanner(close, lightfield, can_create=can_create)
    for _, lf_type in OBJECTS:
        if KEY not in planner.lf_schema(lf_type).fields and can_create:
            planner.to_create.setdefault(lf_type, {})[KEY] = dict(KEY_DEFINITION)
    stages, report.stage_map = stage_map(close, planner.lf_schema("opportunity").fields.get("$stage"))
    users, report.user_map = user_map(close, lightfield)
    out: dict[str, MappingFile] = {}
    for close_type, lf_type in OBJECTS:
        columns = export_columns(close.schema(close_type))
        specs = _column_specs(planner, close_type, columns, report, stages, users)
        out[close_type] = MappingFile(
            object=lf_type,
            source=f"Close {close_type}s (bulkio migrate; the sheet of bulkio export pipeline --crm close)",
            key=KEY,
            columns=specs,
        )
    return out, planner


# --- values that cannot be written ---------------------------------------------------------------------


def _split(value: Any, multi: bool) -> list[str]:
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    text = str(value).strip()
    if not text:
        return []
    return [p.strip() for p in text.split(MULTI_SEPARATOR) if p.strip()] if multi else [text]


def _allowed(lf_schema: ObjectSchema, spec: ColumnSpec) -> tuple[set[str] | None, bool]:
    """Values a column can take (folded), or None when any value goes (text, numbers, references by
    close_id); and whether a cell holds several."""
    target = spec.target or ""
    base = target.split(".", 1)[0]
    fdef = lf_schema.fields.get(base)
    rel = lf_schema.relationships.get(base)
    if spec.values and spec.default is None:
        allowed = {_fold(k) for k in spec.values}
        if fdef is not None:
            allowed |= {_fold(o.label) for o in fdef.options} | {_fold(o.id) for o in fdef.options}
        return allowed, bool((fdef is not None and fdef.multiple) or (rel is not None and rel.has_many))
    if fdef is not None and fdef.value_type in ("SINGLE_SELECT", "MULTI_SELECT") and "." not in target:
        return {_fold(o.label) for o in fdef.options} | {_fold(o.id) for o in fdef.options}, fdef.multiple
    return None, False


def clean(
    frame: Any,
    mapping: MappingFile,
    lf_schema: ObjectSchema,
    close_type: str,
    report: MigrationReport,
    covered: Collection[str] = (),
) -> Any:
    """The frame without the values Lightfield cannot hold (an option its field lacks, a user
    without a member, a column without a field); each is listed in ``report.unmapped``."""
    frame = frame.copy()
    lf_type = LF_OF[close_type]
    for header in frame.columns:
        spec = mapping.columns.get(header)
        if header in covered:
            continue
        if spec is None or spec.target is None:
            key = key_from_header(header)
            if key in DERIVED.get(close_type, set()) or "#" in (key or "") or header.endswith("[read-only]"):
                continue
            counts = Counter(v for cell in frame[header] for v in _split(cell, False))
            for value, n in counts.items():
                report.unmapped.append(
                    {
                        "object": close_type,
                        "column": header,
                        "lightfield": None,
                        "value": value,
                        "count": n,
                        "why": f"no {lf_type} field holds it",
                    }
                )
            continue
        allowed, multi = _allowed(lf_schema, spec)
        if allowed is None:
            continue
        dropped: Counter[str] = Counter()

        def keep(
            cell: Any, allowed: set[str] = allowed, multi: bool = multi, dropped: Counter[str] = dropped
        ) -> Any:
            parts = _split(cell, multi)
            if not parts:
                return cell
            good = [p for p in parts if _fold(p) in allowed]
            for p in parts:
                if _fold(p) not in allowed:
                    dropped[p] += 1
            if len(good) == len(parts):
                return cell
            return (MULTI_SEPARATOR + " ").join(good) if good else None

        frame[header] = [keep(cell) for cell in frame[header]]
        for value, n in dropped.items():
            report.unmapped.append(
                {
                    "object": close_type,
                    "column": header,
                    "lightfield": f"{lf_type}.{spec.target}",
                    "value": value,
                    "count": n,
                    "why": "no such option or member in Lightfield (the rest of the record was migrated)",
                }
            )
    return frame


# --- the dry run's view of records not created yet ----------------------------------------------------


class _Planned:
    """The Lightfield backend as a dry run sees it: with the fields the run would create (``close_id``
    …) and the accounts and contacts it would create (``planned_<close id>``), so the contacts and
    opportunities that refer to them plan truthfully instead of failing as missing references."""

    def __init__(self, inner: Any, schemas: Mapping[str, ObjectSchema]) -> None:
        self._inner = inner
        self.schemas = dict(schemas)
        self.virtual: dict[str, list[dict[str, Any]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def schema(self, object_type: str) -> ObjectSchema:
        found = self.schemas.get(object_type)
        return found if found is not None else cast(ObjectSchema, self._inner.schema(object_type))

    def add(self, lf_type: str, close_id: str, name: str | None) -> None:
        fields: dict[str, Any] = {KEY: {"value": close_id, "valueType": "TEXT"}}
        if name:
            fields["$name"] = {"value": name, "valueType": "TEXT"}
        self.virtual.setdefault(lf_type, []).append({"id": f"planned_{close_id}", "fields": fields})

    def _new_field(self, object_type: str, filters: Filters | None) -> bool:
        """A filter on a field the org does not have yet (only the plan has it): nothing matches."""
        pairs = list(filters.items()) if isinstance(filters, Mapping) else list(filters or [])
        if not pairs or object_type not in self.schemas:
            return False
        real = self._inner.schema(object_type)
        return any(str(k).split("[", 1)[0] not in real.fields for k, _ in pairs)

    def _matching(self, object_type: str, filters: Filters | None) -> list[dict[str, Any]]:
        records = self.virtual.get(object_type, [])
        pairs = list(filters.items()) if isinstance(filters, Mapping) else list(filters or [])
        if not pairs:
            return records
        if len(pairs) == 1 and pairs[0][0] == f"{KEY}[equal]":
            return [r for r in records if r["fields"][KEY]["value"] == pairs[0][1]]
        return []

    def list_all(
        self, object_type: str, *, filters: Filters | None = None, concurrency: int = 8
    ) -> Iterator[dict[str, Any]]:
        if not self._new_field(object_type, filters):
            yield from self._inner.list_all(object_type, filters=filters, concurrency=concurrency)
        yield from self._matching(object_type, filters)

    def list(
        self, object_type: str, *, filters: Filters | None = None, **kw: Any
    ) -> Iterator[dict[str, Any]]:
        if not self._new_field(object_type, filters):
            yield from self._inner.list(object_type, filters=filters, **kw)
        yield from self._matching(object_type, filters)

    def list_page(
        self, object_type: str, *, offset: int, limit: int = 25, filters: Filters | None = None
    ) -> dict[str, Any]:
        if self._new_field(object_type, filters):
            return {"data": [], "totalCount": len(self._matching(object_type, filters))}
        page = dict(self._inner.list_page(object_type, offset=offset, limit=limit, filters=filters))
        page["totalCount"] = int(page.get("totalCount") or 0) + len(self._matching(object_type, filters))
        return page

    def retrieve(self, object_type: str, record_id: str) -> dict[str, Any]:
        for r in self.virtual.get(object_type, []):
            if r["id"] == record_id:
                return r
        return cast(dict[str, Any], self._inner.retrieve(object_type, record_id))


# --- the run -----------------------------------------------------------------------------------------


def _with_record_ids(frame: Any, schema: ObjectSchema, migrated: Mapping[str, Mapping[str, str]]) -> Any:
    """The frame with each reference to a lead or contact this run migrated replaced by the
    Lightfield record id (others keep the Close id, found by ``close_id``)."""
    frame = frame.copy()
    for c in export_columns(schema):
        if c.kind != "relationship" or c.header not in frame.columns:
            continue
        target = schema.relationships[c.key].object_type
        known = migrated.get(target)
        if known:
            frame[c.header] = [known.get(str(v), v) if isinstance(v, str) else v for v in frame[c.header]]
    return frame


def _fingerprint(frame: Any) -> str:
    return "sha256:" + hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def _failures(close_type: str, frame: Any, report: RunReport) -> list[dict[str, Any]]:
    ids = list(frame["Record ID (id)"]) if "Record ID (id)" in frame.columns else []
    out = []
    for r in report.rows:
        if base_outcome(r.outcome) != "failed":
            continue
        index = r.row - 2
        close_id = ids[index] if 0 <= index < len(ids) else None
        errors = [i for i in r.issues if i.severity == "error"] or r.issues
        out.append(
            {
                "object": close_type,
                "close_id": close_id,
                "row": r.row,
                "code": "; ".join(str(i.code) for i in errors),
                "field": "; ".join(str(i.field) for i in errors if i.field),
                "reason": "; ".join(str(i.message) for i in errors),
            }
        )
    return out


def migrate(
    close: Backend,
    lightfield: Backend,
    *,
    dry_run: bool = False,
    resume: bool = False,
    mappings: Mapping[str, Any] | None = None,
    report_path: str | Path | None = None,
    ledger_path: str | Path | None = None,
    create_field: FieldCreator | None = None,
    concurrency: int = 8,
    on_event: EventHandler | None = None,
) -> MigrationReport:
    """Migrate Close's leads, contacts and opportunities into Lightfield; return the report.

    ``create_field(object_type, key, definition)`` adds a field to the Lightfield org (the embedded
    sandbox can; the real API cannot: without it, a missing ``close_id`` stops the run with the
    list of fields to create, and other missing fields are reported). ``mappings`` maps a Close
    object (``lead``, ``contact``, ``opportunity``) to a mapping file (path, dict or
    :class:`~bulkio.mapfile.MappingFile`) used instead of the drafted one. ``resume`` continues the
    last unfinished migration between the same two orgs from the ledger.

    >>> with connect("close") as close, connect("lightfield") as lf:       # doctest: +SKIP
    ...     report = migrate(close, lf, report_path="migration.xlsx")
    """
    from .export import export_frames

    started = time.monotonic()
    emit = on_event or (lambda e: None)
    report = MigrationReport(dry_run=dry_run)
    emit(PhaseStarted("plan migration"))
    drafted, planner = draft_mappings(close, lightfield, can_create=create_field is not None, report=report)
    missing_key = [
        lf
        for _, lf in OBJECTS
        if KEY not in planner.lf_schema(lf).fields and KEY not in planner.to_create.get(lf, {})
    ]
    if missing_key:
        wanted = [f"{lf}s: a unique Text field 'close_id'" for lf in missing_key]
        extra = sorted(
            {
                f"{r['lightfield']}"
                for r in report.field_map
                if r.get("how") == "missing" and r.get("lightfield")
            }
        )
        raise ConfigError(
            "Lightfield needs a field to keep each record's Close id before bulkio can migrate: create "
            + "; ".join(wanted)
            + " (in Lightfield's settings; the embedded sandbox gets them automatically)."
            + (f" Other fields bulkio would fill: {', '.join(extra)}." if extra else "")
        )
    for row in report.field_map:
        if row["how"] == "missing":
            report.messages.append(
                f"{row['column']} ({row['object']}): no Lightfield field; its values are listed as unmapped"
            )
    if not dry_run:
        for lf_type, defs in planner.to_create.items():
            for key, definition in defs.items():
                if create_field is not None and create_field(lf_type, key, definition):
                    report.created_fields.append(f"{lf_type}.{key}")
    elif planner.to_create:
        report.messages.append(
            "dry run: fields that would be created: "
            + ", ".join(f"{t}.{k}" for t, d in planner.to_create.items() for k in d)
        )
    emit(PhaseFinished("plan migration"))

    target_schemas = {lf: planner.lf_schema(lf) for _, lf in OBJECTS}
    for lf_type, defs in planner.to_create.items():  # the schemas the import will see
        for key, definition in defs.items():
            target_schemas[lf_type].fields[key] = FieldDef.model_validate({**definition, "key": key})

    emit(PhaseStarted("read close"))
    frames = export_frames(close, [t for t, _ in OBJECTS], concurrency=concurrency, on_event=on_event)
    emit(PhaseFinished("read close"))
    target: Any = _Planned(lightfield, target_schemas) if dry_run else lightfield
    source = getattr(close, "target", None) or f"{close.base_url}#{close.key_fingerprint}"
    #: Close id -> Lightfield record id of what this run migrated (references use the ids: reads by id
    #: never lag, while a list may not show an account created a second ago)
    migrated: dict[str, dict[str, str]] = {}
    for close_type, lf_type in OBJECTS:
        frame = _with_record_ids(frames[close_type], close.schema(close_type), migrated)
        report.source_counts[close_type] = len(frame)
        given = (mappings or {}).get(close_type)
        mapping = as_mapping(given) if given is not None else drafted[close_type]
        assert mapping is not None
        frame = clean(
            frame,
            mapping,
            target_schemas[lf_type],
            close_type,
            report,
            planner.covered.get(close_type, set()),
        )
        emit(Message(f"migrating {len(frame):,} Close {close_type} records to Lightfield {lf_type} records"))
        run = import_frame(
            frame,
            lf_type,
            client=target,
            key_field=KEY,
            mapping=mapping,
            dry_run=dry_run,
            ledger_path=ledger_path,
            resume=resume and not dry_run,
            input_name=f"close-migration:{source}:{close_type}" if ledger_path else None,
            fingerprint=_fingerprint(frame),
            concurrency=concurrency,
            on_event=on_event,
            profile="none",
        )
        report.runs[close_type] = run
        ids = list(frame["Record ID (id)"]) if "Record ID (id)" in frame.columns else []
        migrated[close_type] = {
            str(ids[r.row - 2]): r.record_id
            for r in run.rows
            if r.record_id
            and base_outcome(r.outcome) in ("created", "updated", "unchanged")
            and 0 <= r.row - 2 < len(ids)
        }
        report.counts[close_type] = run.counts.model_dump()
        report.failures += _failures(close_type, frame, run)
        for group in run.unresolved:
            report.unmapped.append(
                {
                    "object": close_type,
                    "column": group.get("header") or group.get("column"),
                    "lightfield": f"{lf_type}.{group.get('field')}",
                    "value": group.get("value"),
                    "count": group.get("count"),
                    "why": group.get("message"),
                }
            )
        if dry_run and isinstance(target, _Planned):
            ids = list(frame["Record ID (id)"])
            name_col = next((h for h in frame.columns if h.startswith("Display name (")), None)
            for r in run.rows:
                if base_outcome(r.outcome) == "created" and 0 <= r.row - 2 < len(ids):
                    name = frame[name_col].iloc[r.row - 2] if name_col else None
                    target.add(lf_type, str(ids[r.row - 2]), str(name) if name else None)
    report.duration_s = time.monotonic() - started
    if report_path is not None:
        report.report_path = str(write_report(report, report_path))
    return report


# --- the report workbook -------------------------------------------------------------------------------


def write_report(report: MigrationReport, path: str | Path) -> Path:
    """The migration report workbook: Counts, Unmapped values, Failures, Fields, Stages, Users."""
    from . import sheets

    def rows(items: Iterable[Mapping[str, Any]], keys: list[str]) -> list[list[Any]]:
        return [[item.get(k) for k in keys] for item in items]

    wb = sheets.new_workbook(write_only=True)
    try:
        counts = [
            [
                close_type,
                LF_OF[close_type],
                report.source_counts.get(close_type, 0),
                *[
                    report.counts.get(close_type, {}).get(k, 0)
                    for k in ("created", "updated", "unchanged", "failed", "skipped")
                ],
            ]
            for close_type, _ in OBJECTS
        ]
        sheets.write_table(
            wb.create_sheet("Counts"),
            [
                "Close object",
                "Lightfield object",
                "Close records",
                "Created",
                "Updated",
                "Unchanged",
                "Failed",
                "Skipped",
            ],
            counts,
        )
        tables = (
            ("Unmapped values", ["object", "column", "lightfield", "value", "count", "why"]),
            ("Failures", ["object", "close_id", "row", "code", "field", "reason"]),
            ("Fields", ["object", "column", "lightfield", "how"]),
            ("Stages", ["pipeline", "status", "type", "stage", "how"]),
            ("Users", ["user", "email", "member", "how"]),
        )
        sources = {
            "Unmapped values": report.unmapped,
            "Failures": report.failures,
            "Fields": report.field_map,
            "Stages": report.stage_map,
            "Users": report.user_map,
        }
        for title, keys in tables:
            sheets.write_table(
                wb.create_sheet(title),
                [k.replace("_", " ").capitalize() for k in keys],
                rows(sources[title], keys),
            )
        return sheets.save_workbook(wb, path)
    except BaseException:
        sheets.discard_workbook(wb)
        raise


__all__ = [
    "KEY",
    "OBJECTS",
    "MigrationReport",
    "clean",
    "draft_mappings",
    "migrate",
    "stage_map",
    "user_map",
    "write_report",
]


def write_mappings(mappings: Mapping[str, MappingFile], folder: str | Path) -> list[Path]:
    """Write each drafted mapping as ``<folder>/close-<object>.yaml`` (to read, edit and pass back
    with ``--mapping OBJECT=FILE``)."""
    import yaml

    from .sheets import atomic_path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for close_type, spec in mappings.items():
        data = spec.model_dump(mode="json", exclude_defaults=True)
        text = (
            f"# bulkio migrate: how Close {close_type}s go into Lightfield {LF_OF.get(close_type, '')}s.\n"
            f"# Edit it, then: bulkio migrate --from close --to lightfield --mapping {close_type}=THIS_FILE\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
        )
        path = out / f"close-{close_type}.yaml"
        with atomic_path(path) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


__all__ = [
    "KEY",
    "OBJECTS",
    "MigrationReport",
    "clean",
    "draft_mappings",
    "migrate",
    "stage_map",
    "user_map",
    "write_mappings",
    "write_report",
]
