"""Close ⇄ the neutral record shape (``bulkio.crm.base``): schemas, records, write bodies, errors.

Pure functions over a :class:`CloseConfig` (the org's users, statuses, pipelines, custom fields and
currency), so every rule here is tested without a server:

* **objects**: ``lead`` (Close's company), ``contact``, ``opportunity``, and ``member`` (Close's
  users: the neutral name for whoever can own a record);
* **keys**: Close's own fields get ``$``-keys (``$name``, ``$status``, ``$value``…); a custom field
  ``custom.cf_…`` gets a key made from its name (``External ID`` → ``external_id``), so a sheet's
  ``External ID`` column and ``--key external_id`` work as they do for Lightfield;
* **money**: integer cents in the API, currency units in the neutral record (``$value``,
  ``$expectedValue``…: ``300000`` ⇄ ``3000``);
* **statuses** are option ids (``stat_…``) of ``$status``; a label used by several pipelines is
  shown as ``Pipeline: Label`` and found by its plain label within the row's ``$pipeline``;
* **relationships**: ``$lead``, ``$contact``, ``$user`` (the owner; a member) and custom ``user`` /
  ``contact`` fields are relationships, so the resolver finds them by name, key, email or id;
* **dates**: Close ``date`` values (``YYYY-MM-DD``) are neutral ``DATETIME`` values at midnight UTC;
* **contact points**: ``emails``/``phones``/``urls`` lists of objects ⇄ lists of strings (the
  ``type`` of an address already there is kept; new ones are ``office``/``url``);
* **addresses**: a lead's first address is the neutral ``$address``; other addresses are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from ...definitions import FieldDef, ObjectSchema, RelationshipDef, TypeConfiguration

#: The object types the Close backend serves (``member`` = Close users, read-only).
OBJECT_TYPES: tuple[str, ...] = ("lead", "contact", "opportunity", "member")
WRITABLE_TYPES: tuple[str, ...] = ("lead", "contact", "opportunity")
LABELS = {"lead": "Lead", "contact": "Contact", "opportunity": "Opportunity", "member": "User"}
#: Close's API paths per object type.
PATHS = {"lead": "lead/", "contact": "contact/", "opportunity": "opportunity/", "member": "user/"}
VALUE_PERIODS = (("one_time", "One-time"), ("monthly", "Monthly"), ("annual", "Annual"))
#: Keys required on create (Close itself requires none; these keep an import from making
#: "Untitled" leads: a lead needs a name, an opportunity the lead it belongs to).
REQUIRED = {"lead": ("$name",), "opportunity": ("$lead",)}
APP_URL = "https://app.close.com"


@dataclass(frozen=True, slots=True)
class CustomField:
    """One Close custom field as it applies to one object type."""

    id: str
    name: str
    type: str
    multiple: bool
    choices: tuple[str, ...]
    key: str  # the neutral key
    description: str | None = None

    @property
    def close_key(self) -> str:
        return f"custom.{self.id}"


@dataclass
class CloseConfig:
    """What the translation needs to know about an org (fetched once per backend)."""

    currency: str = "USD"
    users: list[dict[str, Any]] = field(default_factory=list)
    lead_statuses: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    custom: dict[str, list[CustomField]] = field(default_factory=dict)

    @classmethod
    def from_api(
        cls,
        *,
        currency: str | None,
        users: list[dict[str, Any]],
        lead_statuses: list[dict[str, Any]],
        pipelines: list[dict[str, Any]],
        custom_fields: Mapping[str, list[dict[str, Any]]],
        shared_fields: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> CloseConfig:
        """Build from the API's own answers (``/user/``, ``/status/lead/``, ``/pipeline/``,
        ``/custom_field/<type>/`` and ``/custom_field/shared/`` with its associations)."""
        custom: dict[str, list[CustomField]] = {}
        for otype in WRITABLE_TYPES:
            defs = list(custom_fields.get(otype) or [])
            defs += [
                f
                for f in shared_fields or []
                if any(a.get("object_type") == otype for a in f.get("associations") or [])
            ]
            used: set[str] = set()
            fields: list[CustomField] = []
            for d in defs:
                key = _unique_key(slug(str(d.get("name") or d["id"])), used)
                fields.append(
                    CustomField(
                        id=str(d["id"]),
                        name=str(d.get("name") or d["id"]),
                        type=str(d.get("type") or "text"),
                        multiple=bool(d.get("accepts_multiple_values")),
                        choices=tuple(str(c) for c in d.get("choices") or ()),
                        key=key,
                        description=d.get("description"),
                    )
                )
            custom[otype] = fields
        return cls(
            currency=currency or "USD",
            users=list(users),
            lead_statuses=list(lead_statuses),
            pipelines=list(pipelines),
            custom=custom,
        )


def slug(name: str) -> str:
    """A custom field's name as a neutral key: ``External ID`` → ``external_id``.

    >>> slug("Renewal Date"), slug("% Won?")
    ('renewal_date', 'won')
    """
    text = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return text or "field"


def _unique_key(key: str, used: set[str]) -> str:
    out, n = key, 2
    while out in used:
        out, n = f"{key}_{n}", n + 1
    used.add(out)
    return out


# --- schemas ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spec:
    """How one neutral key maps to Close: the Close attribute and how values convert."""

    key: str
    close: str
    kind: str
    read_only: bool = False


def _field(key: str, label: str, value_type: str, *, read_only: bool = False, **config: Any) -> FieldDef:
    return FieldDef(
        key=key,
        label=label,
        valueType=value_type,
        readOnly=read_only,
        typeConfiguration=TypeConfiguration.model_validate(config),
    )


def _rel(
    key: str, label: str, target: str, *, many: bool = False, read_only: bool = False
) -> RelationshipDef:
    return RelationshipDef(
        key=key,
        label=label,
        cardinality="HAS_MANY" if many else "HAS_ONE",
        objectType=target,
        read_only=read_only,
    )


def status_options(config: CloseConfig) -> list[dict[str, Any]]:
    """Opportunity status options: id ``stat_…``, label (``Pipeline: Label`` when the label is used
    by several pipelines), scope (the pipeline id) and short label."""
    counts: dict[str, int] = {}
    for p in config.pipelines:
        for s in p.get("statuses") or []:
            k = str(s.get("label", "")).casefold()
            counts[k] = counts.get(k, 0) + 1
    out = []
    for p in config.pipelines:
        for s in p.get("statuses") or []:
            label = str(s.get("label", ""))
            shown = f"{p.get('name')}: {label}" if counts[label.casefold()] > 1 else label
            out.append({"id": s["id"], "label": shown, "scope": p["id"], "short": label})
    return out


def status_types(config: CloseConfig) -> dict[str, str]:
    """status id → ``active`` | ``won`` | ``lost``."""
    return {
        s["id"]: str(s.get("type") or "active") for p in config.pipelines for s in p.get("statuses") or []
    }


def _custom_defs(cf: CustomField, currency: str) -> tuple[FieldDef | None, RelationshipDef | None, str]:
    """The neutral definition of a custom field and its conversion kind."""
    label = cf.name
    t = cf.type
    if t == "user":
        return None, _rel(cf.key, label, "member", many=cf.multiple), "ref"
    if t == "contact":
        return None, _rel(cf.key, label, "contact", many=cf.multiple), "ref"
    if t == "choices":
        options = [{"id": c, "label": c} for c in cf.choices]
        vt = "MULTI_SELECT" if cf.multiple else "SINGLE_SELECT"
        return _field(cf.key, label, vt, options=options), None, "select"
    if t == "number":
        return _field(cf.key, label, "NUMBER"), None, "number"
    if t == "date":
        return _field(cf.key, label, "DATETIME"), None, "date"
    if t == "datetime":
        return _field(cf.key, label, "DATETIME"), None, "datetime"
    if t == "url":
        return _field(cf.key, label, "URL"), None, "text"
    if t in ("text", "textarea", "hidden"):
        return _field(cf.key, label, "TEXT"), None, "text"
    # a type bulkio does not know: shown, never written
    return _field(cf.key, label, "TEXT", read_only=True), None, "raw"


@dataclass
class ObjectMap:
    """One object type: its neutral schema and the specs that translate each key."""

    object_type: str
    schema: ObjectSchema
    specs: dict[str, Spec]

    def by_close(self) -> dict[str, str]:
        """Close attribute → neutral key (for locating Close's field errors)."""
        out = {s.close: s.key for s in self.specs.values()}
        out.update({"status": "$status", "emails": "$email", "phones": "$phone", "urls": "$url"})
        return out


def object_maps(config: CloseConfig) -> dict[str, ObjectMap]:
    """The neutral schema of every object type, with how each key translates."""
    cur = config.currency
    maps: dict[str, ObjectMap] = {}

    def build(
        otype: str, items: list[tuple[FieldDef | RelationshipDef, Spec]], custom: list[CustomField]
    ) -> None:
        fields: dict[str, FieldDef] = {}
        rels: dict[str, RelationshipDef] = {}
        specs: dict[str, Spec] = {}
        for d, spec in items:
            if isinstance(d, RelationshipDef):
                rels[d.key] = d
            else:
                fields[d.key] = d
            specs[d.key] = spec
        for cf in custom:
            fdef, rdef, kind = _custom_defs(cf, cur)
            if fdef is not None:
                fields[cf.key] = fdef
            if rdef is not None:
                rels[cf.key] = rdef
            specs[cf.key] = Spec(cf.key, cf.close_key, kind, read_only=kind == "raw")
        schema = ObjectSchema(object_type=otype, fields=fields, relationships=rels)
        schema.required_keys = REQUIRED.get(otype, ())
        maps[otype] = ObjectMap(otype, schema, specs)

    lead_statuses = [{"id": s["id"], "label": s.get("label", "")} for s in config.lead_statuses]
    build(
        "lead",
        [
            (_field("$name", "Name", "TEXT"), Spec("$name", "name", "text")),
            (_field("$url", "URL", "URL"), Spec("$url", "url", "text")),
            (_field("$description", "Description", "TEXT"), Spec("$description", "description", "text")),
            (
                _field("$status", "Status", "SINGLE_SELECT", options=lead_statuses),
                Spec("$status", "status_id", "select"),
            ),
            (_field("$address", "Address", "ADDRESS"), Spec("$address", "addresses", "address")),
            (
                _field("$displayName", "Display name", "TEXT", read_only=True),
                Spec("$displayName", "display_name", "text", True),
            ),
            (
                _field("$dateCreated", "Created", "DATETIME", read_only=True),
                Spec("$dateCreated", "date_created", "datetime", True),
            ),
            (
                _field("$dateUpdated", "Updated", "DATETIME", read_only=True),
                Spec("$dateUpdated", "date_updated", "datetime", True),
            ),
        ],
        config.custom.get("lead", []),
    )
    build(
        "contact",
        [
            (_field("$name", "Name", "TEXT"), Spec("$name", "name", "text")),
            (_field("$title", "Title", "TEXT"), Spec("$title", "title", "text")),
            (_field("$email", "Email", "EMAIL", multipleValues=True), Spec("$email", "emails", "emails")),
            (
                _field("$phone", "Phone", "TELEPHONE", multipleValues=True),
                Spec("$phone", "phones", "phones"),
            ),
            (_field("$url", "URL", "URL", multipleValues=True), Spec("$url", "urls", "urls")),
            (_rel("$lead", "Lead", "lead"), Spec("$lead", "lead_id", "ref")),
            (
                _field("$dateCreated", "Created", "DATETIME", read_only=True),
                Spec("$dateCreated", "date_created", "datetime", True),
            ),
            (
                _field("$dateUpdated", "Updated", "DATETIME", read_only=True),
                Spec("$dateUpdated", "date_updated", "datetime", True),
            ),
        ],
        config.custom.get("contact", []),
    )
    pipelines = [{"id": p["id"], "label": p.get("name", "")} for p in config.pipelines]
    build(
        "opportunity",
        [
            (
                _field(
                    "$status",
                    "Status",
                    "SINGLE_SELECT",
                    options=status_options(config),
                    scopeField="$pipeline",
                ),
                Spec("$status", "status_id", "select"),
            ),
            (
                _field("$pipeline", "Pipeline", "SINGLE_SELECT", options=pipelines),
                Spec("$pipeline", "pipeline_id", "select"),
            ),
            (_field("$value", "Value", "CURRENCY", currency=cur), Spec("$value", "value", "money")),
            (
                _field("$valuePeriod", "Value period", "SINGLE_SELECT", options=_periods()),
                Spec("$valuePeriod", "value_period", "select"),
            ),
            (_field("$confidence", "Confidence", "NUMBER"), Spec("$confidence", "confidence", "int")),
            (_field("$note", "Note", "TEXT"), Spec("$note", "note", "text")),
            (_field("$dateWon", "Date won", "DATETIME"), Spec("$dateWon", "date_won", "date")),
            (_rel("$lead", "Lead", "lead"), Spec("$lead", "lead_id", "ref")),
            (_rel("$contact", "Contact", "contact"), Spec("$contact", "contact_id", "ref")),
            (_rel("$user", "User", "member"), Spec("$user", "user_id", "ref")),
            (
                _field("$statusType", "Status type", "TEXT", read_only=True),
                Spec("$statusType", "status_type", "text", True),
            ),
            (
                _field("$displayName", "Display name", "TEXT", read_only=True),
                Spec("$displayName", "display_name", "opportunity_name", True),
            ),
            (
                _field("$expectedValue", "Expected value", "CURRENCY", read_only=True, currency=cur),
                Spec("$expectedValue", "expected_value", "money", True),
            ),
            (
                _field("$annualizedValue", "Annualized value", "CURRENCY", read_only=True, currency=cur),
                Spec("$annualizedValue", "annualized_value", "money", True),
            ),
            (
                _field(
                    "$annualizedExpectedValue",
                    "Annualized expected value",
                    "CURRENCY",
                    read_only=True,
                    currency=cur,
                ),
                Spec("$annualizedExpectedValue", "annualized_expected_value", "money", True),
            ),
            (
                _field("$dateLost", "Date lost", "DATETIME", read_only=True),
                Spec("$dateLost", "date_lost", "datetime", True),
            ),
            (
                _field("$dateCreated", "Created", "DATETIME", read_only=True),
                Spec("$dateCreated", "date_created", "datetime", True),
            ),
            (
                _field("$dateUpdated", "Updated", "DATETIME", read_only=True),
                Spec("$dateUpdated", "date_updated", "datetime", True),
            ),
        ],
        config.custom.get("opportunity", []),
    )
    build(
        "member",
        [
            (_field("$name", "Name", "FULL_NAME", read_only=True), Spec("$name", "name", "full_name", True)),
            (_field("$email", "Email", "EMAIL", read_only=True), Spec("$email", "email", "text", True)),
        ],
        [],
    )
    return maps


def _periods() -> list[dict[str, str]]:
    return [{"id": k, "label": label} for k, label in VALUE_PERIODS]


# --- values ----------------------------------------------------------------------------------------


def cents_to_units(cents: Any) -> Any:
    """``300050`` → ``3000.5``; whole amounts stay ints (``300000`` → ``3000``)."""
    if cents is None or isinstance(cents, bool):
        return None
    try:
        d = Decimal(str(cents)) / 100
    except InvalidOperation:
        return None
    return int(d) if d == d.to_integral_value() else float(d)


def units_to_cents(units: Any) -> Any:
    """``3000.5`` → ``300050`` (to the nearest cent, halves to even)."""
    if units is None:
        return None
    d = Decimal(str(units)) * 100
    return int(d.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _date_to_neutral(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)[:10]
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()
    except ValueError:
        return str(value)


def _neutral_to_date(value: Any) -> str | None:
    """A neutral date-time as a Close date: its day in UTC (a date read from a sheet is midnight UTC)."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return text[:10]
    if d.tzinfo is not None:
        d = d.astimezone(UTC)
    return d.date().isoformat()


def _datetime_to_neutral(value: Any) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat()
    except ValueError:
        return str(value)


def _neutral_to_datetime(value: Any) -> str | None:
    if value is None:
        return None
    try:
        d = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.astimezone(UTC).isoformat(timespec="microseconds")


def _address_to_neutral(addresses: Any) -> dict[str, Any] | None:
    if not isinstance(addresses, list) or not addresses:
        return None
    a = addresses[0] or {}
    out = {
        "street": a.get("address_1"),
        "street2": a.get("address_2"),
        "city": a.get("city"),
        "state": a.get("state"),
        "postalCode": a.get("zipcode"),
        "country": a.get("country"),
    }
    return {k: v for k, v in out.items() if v not in (None, "")} or None


#: The keys of a Close address that can be written (``tz_ids`` is read-only).
ADDRESS_KEYS = ("label", "address_1", "address_2", "city", "state", "zipcode", "country")


def _neutral_to_address(value: Any, current: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    rest = [{k: a[k] for k in ADDRESS_KEYS if k in a} for a in list(current or [])[1:] if isinstance(a, dict)]
    if not value:
        return rest
    first = dict((current or [{}])[0] or {}) if current else {}
    first = {k: v for k, v in first.items() if k in ("label",)}
    first.setdefault("label", "business")
    first.update(
        address_1=value.get("street"),
        address_2=value.get("street2"),
        city=value.get("city"),
        state=value.get("state"),
        zipcode=value.get("postalCode"),
        country=value.get("country"),
    )
    return [first, *rest]


_POINT = {"emails": ("email", "office"), "phones": ("phone", "office"), "urls": ("url", "url")}


def _points_to_neutral(items: Any, kind: str) -> list[str] | None:
    inner = _POINT[kind][0]
    out = [str(i.get(inner)) for i in items or [] if isinstance(i, dict) and i.get(inner)]
    return out or None


def _neutral_to_points(values: Any, kind: str, current: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    inner, default_type = _POINT[kind]
    if values is None:
        return []
    items = values if isinstance(values, list) else [values]
    kept = {str(c.get(inner)).casefold(): c for c in current or [] if isinstance(c, dict)}
    out = []
    for v in items:
        old = kept.get(str(v).casefold())
        out.append({inner: v, "type": (old or {}).get("type") or default_type})
    return out


def _int_or_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- records ---------------------------------------------------------------------------------------


def record_to_neutral(omap: ObjectMap, raw: Mapping[str, Any]) -> dict[str, Any]:
    """One Close record (API JSON) as a neutral record."""
    otype = omap.object_type
    fields: dict[str, Any] = {}
    rels: dict[str, Any] = {}
    schema = omap.schema
    for key, spec in omap.specs.items():
        if key in schema.relationships:
            value = raw.get(spec.close)
            ids = value if isinstance(value, list) else ([value] if value else [])
            rels[key] = {"values": [str(i) for i in ids]}
            continue
        fdef = schema.fields[key]
        value = value_to_neutral(spec, raw)
        if value is None:
            continue
        fields[key] = {"value": value, "valueType": fdef.value_type}
    out: dict[str, Any] = {"id": raw.get("id"), "fields": fields, "relationships": rels}
    link = raw.get("html_url") or _link(otype, raw)
    if link:
        out["httpLink"] = link
    return out


def _link(otype: str, raw: Mapping[str, Any]) -> str | None:
    if otype in ("contact", "opportunity") and raw.get("lead_id"):
        return f"{APP_URL}/lead/{raw['lead_id']}/"
    if otype == "lead" and raw.get("id"):
        return f"{APP_URL}/lead/{raw['id']}/"
    return None


def value_to_neutral(spec: Spec, raw: Mapping[str, Any]) -> Any:
    """The neutral value of one spec in a Close record (``None`` when unset)."""
    kind = spec.kind
    if kind == "opportunity_name":
        return opportunity_name(raw)
    if kind == "full_name":
        first, last = raw.get("first_name"), raw.get("last_name")
        return {"firstName": first, "lastName": last} if first or last else None
    value = raw.get(spec.close)
    if kind == "address":
        return _address_to_neutral(value)
    if kind in _POINT:
        return _points_to_neutral(value, kind)
    if value is None or value == "" or value == []:
        return None
    if kind == "money":
        return cents_to_units(value)
    if kind == "date":
        return _date_to_neutral(value)
    if kind == "datetime":
        return _datetime_to_neutral(value)
    return value


def opportunity_name(raw: Mapping[str, Any]) -> str:
    """A name for an opportunity, which Close does not have (API-FACTS §9):
    ``Acme Corp – Proposal Sent – $3,000`` (lead, status, formatted value)."""
    parts = [raw.get("lead_name") or "Untitled", raw.get("status_label"), raw.get("value_formatted")]
    return " – ".join(str(p) for p in parts if p)


def neutral_to_value(spec: Spec, value: Any, current: Mapping[str, Any] | None = None) -> Any:
    """A neutral value as what Close takes for ``spec.close`` (``None`` clears)."""
    kind = spec.kind
    if kind == "address":
        return _neutral_to_address(value, list((current or {}).get("addresses") or []))
    if kind in _POINT:
        return _neutral_to_points(value, kind, list((current or {}).get(spec.close) or []))
    if value is None:
        return None
    if kind == "money":
        return units_to_cents(value)
    if kind == "int":
        return _int_or_number(value)
    if kind == "number":
        return _int_or_number(value)
    if kind == "date":
        return _neutral_to_date(value)
    if kind == "datetime":
        return _neutral_to_datetime(value)
    return value


def body_to_close(
    omap: ObjectMap, body: Mapping[str, Any], current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A neutral create/update body as a Close JSON body. ``current`` is the record as Close has it
    (for updates of lists whose other parts must be kept: addresses, e-mail types)."""
    out: dict[str, Any] = {}
    schema = omap.schema
    for key, value in (body.get("fields") or {}).items():
        spec = omap.specs.get(key)
        if spec is None or spec.read_only:
            raise KeyError(key)
        out[spec.close] = neutral_to_value(spec, value, current)
    for key, value in (body.get("relationships") or {}).items():
        spec = omap.specs.get(key)
        rel = schema.relationships.get(key)
        if spec is None or rel is None or rel.read_only:
            raise KeyError(key)
        if isinstance(value, dict):
            ids = value.get("replace")
            if ids is None and ("add" in value or "remove" in value):
                raise KeyError(key)
        else:
            ids = value
        if ids is None:
            out[spec.close] = [] if rel.has_many and spec.close.startswith("custom.") else None
            continue
        ids = [ids] if isinstance(ids, str) else list(ids)
        out[spec.close] = ids if rel.has_many else (ids[0] if ids else None)
    return out


def field_of(omap: ObjectMap, close_field: str) -> str | None:
    """The neutral key a Close field error names (``value`` → ``$value``,
    ``emails.0.email`` → ``$email``, ``custom.cf_x`` → its key)."""
    by_close = omap.by_close()
    if close_field in by_close:
        return by_close[close_field]
    head = close_field.split(".", 1)[0]
    if close_field.startswith("custom."):
        head = ".".join(close_field.split(".")[:2])
    return by_close.get(head)


def member_record(user: Mapping[str, Any]) -> dict[str, Any]:
    """A Close user as a neutral ``member`` record (like a Lightfield member)."""
    fields: dict[str, Any] = {}
    first, last = user.get("first_name"), user.get("last_name")
    if first or last:
        fields["$name"] = {"value": {"firstName": first, "lastName": last}, "valueType": "FULL_NAME"}
    if user.get("email"):
        fields["$email"] = {"value": user["email"], "valueType": "EMAIL"}
    return {"id": user.get("id"), "fields": fields, "relationships": {}}


__all__ = [
    "LABELS",
    "OBJECT_TYPES",
    "PATHS",
    "WRITABLE_TYPES",
    "CloseConfig",
    "CustomField",
    "ObjectMap",
    "Spec",
    "body_to_close",
    "cents_to_units",
    "field_of",
    "member_record",
    "neutral_to_value",
    "object_maps",
    "opportunity_name",
    "record_to_neutral",
    "slug",
    "status_options",
    "status_types",
    "units_to_cents",
    "value_to_neutral",
]
