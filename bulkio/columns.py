"""The spreadsheet column layout of an object, shared by templates, exports and header mapping.

One rule for every sheet bulkio writes, so an exported sheet re-imports as it is:

* a header reads ``Label (key)``; a required column has a ``*`` after the label: ``Stage* ($stage)``;
* ADDRESS and FULL_NAME fields are split into sub-columns: ``Primary Address: City ($primaryAddress.city)``;
* relationship columns hold record IDs (or, on import, any reference the resolver accepts);
* export-only *display* columns (``Account name ($account#name)``) and read-only fields
  (``Status ($opportunityStatus) [read-only]``) are recognised by the mapper and ignored on import;
* the record's own ID is ``Record ID (id)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .definitions import FieldDef, ObjectSchema, RelationshipDef

ColumnKind = Literal["id", "field", "subfield", "relationship", "display", "readonly"]

ADDRESS_PARTS: tuple[tuple[str, str], ...] = (
    ("street", "Street"),
    ("street2", "Street 2"),
    ("city", "City"),
    ("state", "State"),
    ("postalCode", "Postal code"),
    ("country", "Country"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
)
FULL_NAME_PARTS: tuple[tuple[str, str], ...] = (("firstName", "First name"), ("lastName", "Last name"))
SPLIT_TYPES = {"ADDRESS": ADDRESS_PARTS, "FULL_NAME": FULL_NAME_PARTS}

#: Separator for several values in one cell (MULTI_SELECT, multi-value EMAIL/URL/TELEPHONE,
#: HAS_MANY relationships). A ";" is never part of an email, URL, phone or option label we accept.
MULTI_SEPARATOR = ";"
#: A cell holding exactly this token clears the field (sends null). A blank cell changes nothing.
CLEAR_TOKEN = "#clear"
#: Key of the record ID column.
ID_KEY = "id"
#: The columns bulkio adds at the end of a results sheet (:mod:`bulkio.results`), and the one it
#: adds to an errors file: importing such a file ignores them without a warning.
RESULT_COLUMNS = ("Outcome", "Record ID", "Link", "Errors", "Changes")
ERRORS_COLUMN = "Errors"

#: What a person should type, per value type (template cell notes and error "expected" texts).
FORMAT_HINTS: dict[str, str] = {
    "TEXT": "Plain text.",
    "HTML": "HTML text.",
    "MARKDOWN": "Text; Markdown formatting allowed.",
    "NUMBER": "A number, at most 2 decimals (1234.5 or 1,234.50).",
    "CURRENCY": "An amount in {currency}, e.g. 1250000 or 1,250,000.00 (not $1.25M: write the digits).",
    "CHECKBOX": "yes/no, true/false, 1/0 or x.",
    "DATETIME": "A date or date-time: 2026-03-16, 2026-03-16 14:30, ISO 8601 with offset, or an Excel date.",
    "EMAIL": "An email address, e.g. ana@example.com.",
    "URL": "A web address, e.g. https://example.com.",
    "TELEPHONE": "A phone number; +country code preferred (+1 415 555 0100).",
    "SOCIAL_HANDLE": "{service} profile URL or bare handle.",
    "SINGLE_SELECT": "One of the options (see the Reference sheet).",
    "MULTI_SELECT": "One or more options separated by ';' (see the Reference sheet).",
    "ADDRESS": "Address parts in their own columns; Country is a 2-letter code (US, DE).",
    "FULL_NAME": "First and last name in their own columns.",
}

#: How social services are spelt in hints (others: title case).
_SERVICE_NAMES = {
    "linkedin": "LinkedIn",
    "twitter": "X (Twitter)",
    "x": "X (Twitter)",
    "youtube": "YouTube",
    "github": "GitHub",
    "tiktok": "TikTok",
}

_HEADER_KEY = re.compile(r"\(([^()]+)\)\s*(\[read-only\])?\s*$")


@dataclass(frozen=True, slots=True)
class Column:
    """One spreadsheet column and what it maps to."""

    key: str  # "$name", "$primaryAddress.city", "$account", "$account#name", "id"
    header: str  # the exact header text bulkio writes
    label: str  # human label without key or markers
    kind: ColumnKind
    field_key: str | None = None  # the definition key: "$primaryAddress" for a subfield
    part: str | None = None  # "city" for a subfield
    value_type: str | None = None  # of the field (ADDRESS for subfields); None for relationships
    required: bool = False
    multiple: bool = False
    hint: str = ""


def header_text(label: str, key: str, *, required: bool = False, read_only: bool = False) -> str:
    return f"{label}{'*' if required else ''} ({key})" + (" [read-only]" if read_only else "")


def key_from_header(header: str) -> str | None:
    """The key inside a bulkio header, or None: ``"Stage* ($stage)"`` -> ``"$stage"``."""
    m = _HEADER_KEY.search(header.strip())
    return m.group(1).strip() if m else None


def _hint(f: FieldDef) -> str:
    hint = FORMAT_HINTS.get(f.value_type, "")
    tc = f.type_configuration
    service = tc.handle_service or "social"
    return hint.replace("{currency}", tc.currency or "the org currency").replace(
        "{service}", _SERVICE_NAMES.get(service.casefold(), service.title())
    )


def _field_columns(f: FieldDef, required: bool) -> list[Column]:
    parts = SPLIT_TYPES.get(f.value_type)
    if not parts:
        return [
            Column(
                f.key,
                header_text(f.label, f.key, required=required),
                f.label,
                "field",
                f.key,
                None,
                f.value_type,
                required,
                f.multiple,
                _hint(f),
            )
        ]
    cols = []
    for part, part_label in parts:
        key = f"{f.key}.{part}"
        label = f"{f.label}: {part_label}"
        cols.append(
            Column(
                key,
                header_text(label, key),
                label,
                "subfield",
                f.key,
                part,
                f.value_type,
                False,
                False,
                _hint(f),
            )
        )
    return cols


def _relationship_column(r: RelationshipDef, required: bool) -> Column:
    hint = (
        f"ID of the {r.object_type} record"
        + (
            ", its external_id, or its exact name"
            if r.object_type in ("account", "contact", "opportunity")
            else ""
        )
        + (" (members: email or name)" if r.object_type == "member" else "")
        + ("; several separated by ';'" if r.has_many else "")
        + "."
    )
    return Column(
        r.key,
        header_text(r.label, r.key, required=required),
        r.label,
        "relationship",
        r.key,
        None,
        None,
        required,
        r.has_many,
        hint,
    )


def template_columns(schema: ObjectSchema, *, key_field: str = "external_id") -> list[Column]:
    """Columns of an import template: the key field first, then required, then the rest in
    definition order; relationships last. Read-only fields and relationships are left out."""
    required = set(schema.required)
    fields = schema.writable_fields()
    fields.sort(key=lambda f: (f.key != key_field, f.key not in required))
    cols: list[Column] = []
    for f in fields:
        cols.extend(_field_columns(f, f.key in required))
    rels = schema.writable_relationships()
    rels.sort(key=lambda r: r.key not in required)
    cols.extend(_relationship_column(r, r.key in required) for r in rels)
    return cols


def export_columns(schema: ObjectSchema, *, key_field: str = "external_id") -> list[Column]:
    """Columns of an exported sheet: ``Record ID``, the template columns with a display column
    after each relationship (names/emails for the IDs), then read-only fields."""
    cols = [Column(ID_KEY, header_text("Record ID", ID_KEY), "Record ID", "id")]
    for c in template_columns(schema, key_field=key_field):
        cols.append(c)
        if c.kind == "relationship":
            label = f"{c.label} name"
            key = f"{c.key}#name"
            cols.append(Column(key, header_text(label, key), label, "display", c.key))
    for f in schema.fields.values():
        if f.read_only:
            cols.append(
                Column(
                    f.key,
                    header_text(f.label, f.key, read_only=True),
                    f.label,
                    "readonly",
                    f.key,
                    None,
                    f.value_type,
                )
            )
    return cols
