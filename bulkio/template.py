"""Import templates: an object's schema turned into a spreadsheet a person can fill in.

The XLSX template has three sheets:

* the data sheet (named after the object, e.g. ``Opportunities``) whose headers are exactly
  :func:`bulkio.columns.template_columns` (the mapper recognises them), required headers marked
  with ``*`` and a warm fill, a comment on every header (value type, format hint, options,
  "Required"), dropdowns for selects, checkboxes and member relationships, and date/number formats;
* ``Instructions``: how to fill it in and the exact import command;
* ``Reference``: one block per select field (key, label, option ID, option label) and the existing
  related records (name, external_id, ID) and members (name, email, ID). Dropdowns point at ranges
  here, because an inline list is limited to 255 characters.

Dropdowns warn rather than refuse (``errorStyle="warning"``): the importer also accepts option IDs,
member IDs or names and ``#clear``, which a strict list would block.

The CSV template is just the header row (and optionally an example row).

:func:`make_template` fetches what it needs from the API; :func:`write_template` is the offline
core that works from an :class:`~bulkio.definitions.ObjectSchema` and optional
:class:`ReferenceData`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from . import sheets
from .columns import CLEAR_TOKEN, MULTI_SEPARATOR, Column, template_columns
from .definitions import FieldDef, ObjectSchema
from .errors import BulkioError, ConfigError
from .events import EventHandler, Message, PhaseFinished, PhaseStarted, Progress
from .vocabulary import versioned

if TYPE_CHECKING:
    from .protocols import CrmClient

#: Data rows (2..VALIDATION_LAST_ROW) that get dropdowns and formats.
VALIDATION_LAST_ROW = 5000
#: How many existing records per related object type the Reference sheet lists.
REFERENCE_CAP = 1000
REFERENCE_SHEET = "Reference"
INSTRUCTIONS_SHEET = "Instructions"
#: Object types that have members as relationship targets.
MEMBER_TYPE = "member"

_PLURALS = {
    "account": "Accounts",
    "contact": "Contacts",
    "opportunity": "Opportunities",
    "task": "Tasks",
    "note": "Notes",
}
_SHEET_BAD_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})
_TEXT_TYPES = {"TEXT", "EMAIL", "URL", "TELEPHONE", "SOCIAL_HANDLE"}


# --- data the live part gathers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordRef:
    """An existing record a relationship column may point at."""

    name: str
    external_id: str | None
    id: str


@dataclass(frozen=True, slots=True)
class MemberRef:
    name: str
    email: str
    id: str


@dataclass(slots=True)
class ReferenceData:
    """Existing records and members listed on the Reference sheet (``records`` per object type)."""

    records: dict[str, list[RecordRef]] = field(default_factory=dict)
    members: list[MemberRef] = field(default_factory=list)
    #: object types whose list was cut at the cap
    truncated: set[str] = field(default_factory=set)


@dataclass(slots=True)
class TemplateInfo:
    """What a template holds: the columns written (in order) and where."""

    object_type: str
    path: Path
    format: str  # "xlsx" | "csv"
    columns: list[Column]
    sheet: str | None = None  # data sheet title (XLSX)
    reference_counts: dict[str, int] = field(default_factory=dict)  # "member"/"account" -> rows

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (docs/json.md)."""
        return versioned(
            {
                "object_type": self.object_type,
                "path": str(self.path),
                "format": self.format,
                "sheet": self.sheet,
                "columns": self.headers,
                "required": [c.header for c in self.columns if c.required],
                "reference_counts": dict(self.reference_counts),
            }
        )


# --- live ----------------------------------------------------------------------------------------


def make_template(
    client: CrmClient,
    object_type: str,
    path: str | os.PathLike[str],
    *,
    key_field: str = "external_id",
    example_row: bool = False,
    include_reference: bool = True,
    on_event: EventHandler | None = None,
    reference_cap: int = REFERENCE_CAP,
) -> TemplateInfo:
    """Write an import template for ``object_type`` from the org's live definitions.

    With ``include_reference`` the Reference sheet also lists members and up to
    ``reference_cap`` existing records of each related object type (select options are always
    listed: they come with the definitions).

    >>> with connect() as lf:                                    # doctest: +SKIP
    ...     info = make_template(lf, "opportunity", "opportunities.xlsx")
    >>> info.headers[:2]                                         # doctest: +SKIP
    ['External ID (external_id)', 'Name* ($name)']
    """
    emit = on_event or (lambda e: None)
    xlsx = template_format(path) == "xlsx"  # a bad file name fails before any request
    schema = client.schema(object_type)
    if key_field != "external_id" and key_field not in schema.fields:
        raise ConfigError(
            f"{object_type} has no field '{key_field}' to use as the key; "
            f"see: bulkio definitions {object_type}"
        )
    reference = None
    label = _object_label(client, object_type)
    if include_reference and (xlsx or example_row):
        emit(PhaseStarted("reference"))
        # a CSV has no Reference sheet: one record per type is enough for the example row
        reference = fetch_reference(
            client, schema, key_field=key_field, cap=reference_cap if xlsx else 1, on_event=emit
        )
        emit(PhaseFinished("reference"))
        for otype in sorted(reference.truncated if xlsx else ()):
            emit(Message(f"Reference sheet lists only the first {reference_cap} {otype} records."))
    return write_template(
        schema, path, reference=reference, key_field=key_field, example_row=example_row, object_label=label
    )


def fetch_reference(
    client: CrmClient,
    schema: ObjectSchema,
    *,
    key_field: str = "external_id",
    cap: int = REFERENCE_CAP,
    on_event: EventHandler | None = None,
) -> ReferenceData:
    """Members and existing related records for the relationship columns of ``schema``."""
    emit = on_event or (lambda e: None)
    ref = ReferenceData()
    targets = sorted({r.object_type for r in schema.writable_relationships()})
    if MEMBER_TYPE in targets:
        ref.members = sorted(
            (member_ref(m) for m in client.members()), key=lambda m: (m.name.lower(), m.email, m.id)
        )
        emit(Progress("reference", len(ref.members)))
    for otype in targets:
        if otype == MEMBER_TYPE:
            continue
        rows = [record_ref(r, key_field=key_field) for r in client.list(otype, max_records=cap + 1)]
        if len(rows) > cap:
            rows = rows[:cap]
            ref.truncated.add(otype)
        ref.records[otype] = sorted(rows, key=lambda r: (r.name.lower(), r.name, r.id))
        emit(Progress("reference", len(rows)))
    return ref


def _object_label(client: CrmClient, object_type: str) -> str | None:
    if object_type in _PLURALS:
        return None
    try:
        for item in client.object_types():
            if item.get("objectType") == object_type:
                return str(item.get("label") or "") or None
    except (BulkioError, NotImplementedError, AttributeError, TypeError):  # a label is cosmetic
        return None
    return None


def _value(record: dict[str, Any], key: str) -> Any:
    cell = (record.get("fields") or {}).get(key)
    return cell.get("value") if isinstance(cell, dict) else cell


def _display(value: Any) -> str:
    if isinstance(value, dict):  # FULL_NAME
        return " ".join(str(value[k]) for k in ("firstName", "lastName") if value.get(k))
    if isinstance(value, list):
        return MULTI_SEPARATOR.join(str(v) for v in value)
    return "" if value is None else str(value)


def record_ref(record: dict[str, Any], *, key_field: str = "external_id") -> RecordRef:
    """Name (``$name`` or ``$title``), external_id (the key field, else ``externalId``) and ID."""
    name = _display(_value(record, "$name")) or _display(_value(record, "$title"))
    ext = _value(record, key_field) or record.get("externalId")
    return RecordRef(name, str(ext) if ext else None, str(record["id"]))


def member_ref(member: dict[str, Any]) -> MemberRef:
    email = _value(member, "$email")
    if isinstance(email, list):
        email = email[0] if email else ""
    return MemberRef(_display(_value(member, "$name")), str(email or ""), str(member["id"]))


# --- offline core --------------------------------------------------------------------------------


def sheet_title(object_type: str, label: str | None = None) -> str:
    """The data sheet's title: ``Opportunities`` for system objects, else the label (or slug)."""
    title = _PLURALS.get(object_type) or label or object_type.replace("_", " ").title()
    title = title.translate(_SHEET_BAD_CHARS).strip()[:31] or "Data"
    return f"{title} data" if title in (REFERENCE_SHEET, INSTRUCTIONS_SHEET) else title


def template_format(path: str | os.PathLike[str]) -> str:
    """``"xlsx"`` or ``"csv"`` from the file name; anything else is a :class:`ConfigError`."""
    suffix = Path(path).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    raise ConfigError(
        f"Cannot write a template to {Path(path).name}: use a .xlsx or .csv file name "
        "(e.g. opportunities.xlsx)."
    )


def write_template(
    schema: ObjectSchema,
    path: str | os.PathLike[str],
    *,
    reference: ReferenceData | None = None,
    key_field: str = "external_id",
    example_row: bool = False,
    object_label: str | None = None,
) -> TemplateInfo:
    """Write the template for ``schema`` to ``path`` (``.xlsx`` or ``.csv``) atomically.

    >>> schema = ObjectSchema.from_api(definitions)              # doctest: +SKIP
    >>> write_template(schema, "accounts.csv").headers[0]         # doctest: +SKIP
    'External ID (external_id)'
    """
    target = Path(path)
    fmt = template_format(target)
    columns = template_columns(schema, key_field=key_field)
    example = example_values(schema, columns, reference) if example_row else None
    if fmt == "csv":
        sheets.write_csv(target, [c.header for c in columns], [example] if example else [])
        return TemplateInfo(schema.object_type, target, "csv", columns)
    wb = Workbook()
    data = wb.create_sheet(sheet_title(schema.object_type, object_label), index=0)
    default = wb.worksheets[1]  # the blank "Sheet" every new Workbook starts with
    wb.remove(default)
    ref_ws = wb.create_sheet(REFERENCE_SHEET)
    ranges, counts = _write_reference(ref_ws, schema, columns, reference)
    _write_data_sheet(data, schema, columns, ranges, example)
    inst = wb.create_sheet(INSTRUCTIONS_SHEET, index=1)
    _write_instructions(inst, schema, columns, target.name, key_field, example is not None)
    wb.active = 0
    sheets.save_workbook(wb, target)
    return TemplateInfo(schema.object_type, target, "xlsx", columns, data.title, counts)


# --- data sheet ----------------------------------------------------------------------------------


def _write_data_sheet(
    ws: Worksheet,
    schema: ObjectSchema,
    columns: list[Column],
    ranges: dict[str, str],
    example: list[Any] | None,
) -> None:
    headers = [c.header for c in columns]
    formats = [_column_format(schema, c) for c in columns]
    sample = [example] if example else []
    sheets.set_column_widths(ws, sheets.column_widths(headers, sample, formats=formats))
    sheets.freeze_header(ws)
    ws.append(sheets.header_cells(ws, headers, required=[i for i, c in enumerate(columns) if c.required]))
    if example:
        ws.append(sheets.row_cells(ws, example, formats))
    sheets.finish_sheet(ws, len(columns), len(sample))
    for i, col in enumerate(columns, 1):
        letter = get_column_letter(i)
        ws.cell(1, i).comment = _header_comment(schema, col)
        fmt = formats[i - 1]
        if fmt:
            ws.column_dimensions[letter].number_format = fmt
        dv = _validation(schema, col, ranges)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{VALIDATION_LAST_ROW}")
            ws.add_data_validation(dv)


def _field(schema: ObjectSchema, col: Column) -> FieldDef | None:
    return schema.fields.get(col.field_key or "") if col.kind in ("field", "subfield") else None


def _column_format(schema: ObjectSchema, col: Column) -> str | None:
    f = _field(schema, col)
    if f is None:
        return None
    if col.kind == "subfield":
        return None if col.part in ("latitude", "longitude") else sheets.TEXT_FORMAT
    if f.value_type == "DATETIME":
        return sheets.DATE_FORMAT
    if f.value_type == "CURRENCY":
        return sheets.currency_format(f.type_configuration.currency)
    if f.value_type in _TEXT_TYPES:
        return sheets.TEXT_FORMAT  # phone numbers, IDs and "=..." stay text when typed
    return None


def _options_summary(f: FieldDef, limit: int = 12) -> str:
    labels = [o.label for o in f.options]
    text = ", ".join(labels[:limit])
    return text + (f" (+{len(labels) - limit} more)" if len(labels) > limit else "")


def _header_comment(schema: ObjectSchema, col: Column) -> Comment:
    lines: list[str] = []
    f = _field(schema, col)
    if col.kind == "relationship":
        rel = schema.relationships[col.key]
        lines.append(f"Relationship: {rel.cardinality.upper()} {rel.object_type}")
        if rel.description:
            lines.append(rel.description)
    elif f is not None:
        lines.append(
            f"Value type: {f.value_type}"
            + (" (several values)" if f.multiple and f.value_type != "MULTI_SELECT" else "")
        )
        if f.description:
            lines.append(f.description)
    if col.required:
        lines.append("Required when creating a record.")
    if col.hint:
        lines.append(col.hint)
    if f is not None and f.options:
        lines.append(f"Options: {_options_summary(f)}")
    if col.multiple:
        lines.append(f"Several values: separate them with '{MULTI_SEPARATOR}'.")
    if f is not None and f.unique:
        lines.append("Unique: no two records may share a value.")
    lines.append(f"Blank leaves the value unchanged; {CLEAR_TOKEN} clears it.")
    text = "\n".join(lines)
    comment = Comment(text, "bulkio")
    comment.width = 320
    comment.height = max(100, 18 * (len(lines) + sum(len(s) // 45 for s in lines)))
    return comment


def _validation(schema: ObjectSchema, col: Column, ranges: dict[str, str]) -> DataValidation | None:
    f = _field(schema, col)
    clear = f" Type {CLEAR_TOKEN} to clear the value."
    if f is not None and col.kind == "field":
        if f.value_type == "SINGLE_SELECT" and f"field:{col.key}" in ranges:
            return _list_validation(
                ranges[f"field:{col.key}"],
                col.label,
                "Pick one of the options (listed on the Reference sheet)." + clear,
            )
        if f.value_type == "CHECKBOX":
            return _list_validation('"yes,no"', col.label, "yes or no." + clear)
        if f.value_type == "DATETIME":
            dv = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="1",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=col.label[:32],
                error=("Expected a date, e.g. 2026-03-16 or 2026-03-16 14:30." + clear),
                promptTitle=col.label[:32],
                prompt="A date: yyyy-mm-dd (optionally hh:mm).",
                showInputMessage=True,
            )
            return dv
        if f.value_type in ("NUMBER", "CURRENCY"):
            return DataValidation(
                type="decimal",
                operator="between",
                formula1="-9007199254740991",
                formula2="9007199254740991",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=col.label[:32],
                error="Expected a number." + clear,
            )
        return None
    if col.kind == "relationship" and not col.multiple:
        rel = schema.relationships[col.key]
        if f"type:{rel.object_type}" in ranges:
            what = "member email" if rel.object_type == MEMBER_TYPE else f"{rel.object_type} name"
            return _list_validation(
                ranges[f"type:{rel.object_type}"],
                col.label,
                f"Pick {'an' if what[0] in 'aeiou' else 'a'} {what} from the "
                "list, or type an ID, external_id or "
                f"exact name.{clear}",
            )
    return None


def _list_validation(formula: str, label: str, message: str) -> DataValidation:
    return DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showDropDown=False,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=label[:32],
        error=message[:255],
    )


# --- Reference sheet -----------------------------------------------------------------------------

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=12)


def _write_reference(
    ws: Worksheet, schema: ObjectSchema, columns: list[Column], reference: ReferenceData | None
) -> tuple[dict[str, str], dict[str, int]]:
    """Write the blocks; return dropdown ranges (``field:<key>`` for option labels,
    ``type:<object type>`` for record names / member emails) and each record list's length."""
    ranges: dict[str, str] = {}
    counts: dict[str, int] = {}
    sheet = quote_sheetname(REFERENCE_SHEET)
    row = 1
    ws.cell(
        row,
        1,
        "Options of the select fields and existing records you can refer to. "
        "Edits here do not change the CRM.",
    ).font = _BOLD
    row += 2
    seen: set[str] = set()
    for col in columns:
        f = _field(schema, col)
        if f is None or f.key in seen or f.value_type not in ("SINGLE_SELECT", "MULTI_SELECT"):
            continue
        seen.add(f.key)
        ws.cell(row, 1, sheets.xlsx_value(f"{f.label} ({f.key})")).font = _TITLE
        row += 1
        _block_header(ws, row, ["Field key", "Field label", "Option ID", "Option label"])
        row += 1
        first = row
        for o in f.options:
            _put_row(ws, row, [f.key, f.label, o.id, o.label])
            row += 1
        if f.options:
            ranges[f"field:{f.key}"] = f"{sheet}!$D${first}:$D${row - 1}"
        row += 1
    if reference is not None:
        targets = [schema.relationships[c.key].object_type for c in columns if c.kind == "relationship"]
        for otype in dict.fromkeys(targets):
            if otype == MEMBER_TYPE:
                ws.cell(row, 1, "Members").font = _TITLE
                row += 1
                _block_header(ws, row, ["Name", "Email", "ID"])
                row += 1
                first = row
                for m in reference.members:
                    _put_row(ws, row, [m.name, m.email, m.id])
                    row += 1
                counts[MEMBER_TYPE] = len(reference.members)
                if reference.members:
                    ranges[f"type:{MEMBER_TYPE}"] = f"{sheet}!$B${first}:$B${row - 1}"
            else:
                recs = reference.records.get(otype, [])
                more = f" (first {len(recs)} only)" if otype in reference.truncated else ""
                ws.cell(row, 1, sheets.xlsx_value(f"Existing {sheet_title(otype)}{more}")).font = _TITLE
                row += 1
                _block_header(ws, row, ["Name", "External ID", "ID"])
                row += 1
                first = row
                # a name several records share is listed as "Name (ID)", which the importer reads
                # as that record: a pick from the dropdown stays unique
                folded = Counter(" ".join(r.name.split()).casefold() for r in recs)
                for r in recs:
                    shared = folded[" ".join(r.name.split()).casefold()] > 1
                    _put_row(ws, row, [f"{r.name} ({r.id})" if shared else r.name, r.external_id, r.id])
                    row += 1
                counts[otype] = len(recs)
                if recs:
                    ranges[f"type:{otype}"] = f"{sheet}!$A${first}:$A${row - 1}"
            row += 1
    for letter, width in zip("ABCD", (34, 30, 34, 30), strict=True):
        ws.column_dimensions[letter].width = width
    return ranges, counts


def _block_header(ws: Worksheet, row: int, labels: Sequence[str]) -> None:
    for i, text in enumerate(labels, 1):
        c = ws.cell(row, i, text)
        c.font = _BOLD
        c.fill = sheets.HEADER_FILL


def _put_row(ws: Worksheet, row: int, values: Iterable[Any]) -> None:
    for i, v in enumerate(values, 1):
        if v is not None:
            ws.cell(row, i, sheets.xlsx_value(v))


# --- Instructions sheet --------------------------------------------------------------------------


def _write_instructions(
    ws: Worksheet,
    schema: ObjectSchema,
    columns: list[Column],
    filename: str,
    key_field: str,
    has_example: bool,
) -> None:
    otype = schema.object_type
    required = [c.header for c in columns if c.required]
    has_key = any(c.key == key_field for c in columns)
    lines: list[tuple[str, bool]] = [
        (f"How to fill in this {otype} template", True),
        ("", False),
        (
            (
                f"1. Enter one {otype} per row on the first sheet, starting in row 2. Do not rename or "
                "reorder the headers: bulkio maps columns by their header text."
            ),
            False,
        ),
        (
            "2. Columns marked with * (and a warm header colour) are required when a record is created: "
            + (", ".join(required) if required else "none for this object")
            + ".",
            False,
        ),
        (
            (
                "3. A blank cell leaves the value unchanged. A cell containing exactly "
                f"{CLEAR_TOKEN} clears the field."
            ),
            False,
        ),
        (
            (
                f"4. Several values in one cell (multi-select options, several emails, phones or URLs, "
                f"several related records) are separated by '{MULTI_SEPARATOR}', e.g. Analytics; "
                "Integrations."
            ),
            False,
        ),
        (
            (
                "5. Select fields take an option label (or option ID) from the Reference sheet; "
                "the dropdown lists them."
            ),
            False,
        ),
        (
            (
                "6. Relationship columns take the related record's ID, its external_id or its exact name "
                "(members: email, name or ID). The Reference sheet lists existing records."
            ),
            False,
        ),
        (
            (
                "7. Dates: 2026-03-16 or 2026-03-16 14:30 (or an Excel date). Checkboxes: yes/no. "
                "Hover over a header to see what the column expects."
            ),
            False,
        ),
    ]
    if has_key:
        lines.append(
            (
                (
                    f"8. The key column '{_header_of(columns, key_field)}' identifies each "
                    "record: a row whose key matches an existing record updates it; otherwise a "
                    "new record is created. Re-importing the same file is therefore safe."
                ),
                False,
            )
        )
    else:
        lines.append(
            (
                (
                    f"8. This object has no '{key_field}' field, so every row creates a new "
                    "record (pass --key to use another unique field)."
                ),
                False,
            )
        )
    if has_example:
        lines.append(("9. Row 2 holds an example: replace or delete it before importing.", False))
    lines += [
        ("", False),
        ("Import", True),
        (f"Check first:  bulkio import {otype} {filename} --dry-run", False),
        (f"Then import:  bulkio import {otype} {filename}", False),
        ("Add --results results.xlsx to get a sheet with the outcome of every row.", False),
    ]
    ws.column_dimensions["A"].width = 120
    for i, (text, bold) in enumerate(lines, 1):
        c = ws.cell(i, 1, sheets.xlsx_value(text) if text else None)
        if bold:
            c.font = _TITLE


def _header_of(columns: list[Column], key: str) -> str:
    return next(c.header for c in columns if c.key == key)


# --- example row ---------------------------------------------------------------------------------

_SOCIAL = {
    "LINKEDIN": "https://linkedin.com/company/acme",
    "TWITTER": "https://x.com/acme",
    "FACEBOOK": "https://facebook.com/acme",
    "INSTAGRAM": "https://www.instagram.com/acme",
}
_ADDRESS = {
    "street": "1 Market St",
    "city": "San Francisco",
    "state": "CA",
    "postalCode": "94105",
    "country": "US",
}
_FULL_NAME = {"firstName": "Ana", "lastName": "Lopez"}


def example_values(
    schema: ObjectSchema, columns: list[Column], reference: ReferenceData | None = None
) -> list[Any]:
    """One plausible row (typed values) so a person sees what each column expects."""
    out: list[Any] = []
    for col in columns:
        f = _field(schema, col)
        if col.kind == "subfield":
            out.append((_ADDRESS if col.value_type == "ADDRESS" else _FULL_NAME).get(col.part or ""))
        elif col.kind == "relationship":
            out.append(_example_reference(schema, col, reference))
        elif f is not None:
            out.append(_example_field(f, col, person=schema.object_type == "contact"))
        else:
            out.append(None)
    return out


def _example_field(f: FieldDef, col: Column, person: bool = False) -> Any:
    vt = f.value_type
    if f.unique and vt == "TEXT":
        return "EXT-0001"
    examples: dict[str, Any] = {
        "TEXT": f"Example {col.label.lower()}",
        "MARKDOWN": "Some **notes**",
        "HTML": "<p>Hello</p>",
        "NUMBER": 42,
        "CURRENCY": 125000,
        "CHECKBOX": "yes",
        "DATETIME": dt.date(2026, 3, 16),
        "EMAIL": "ana@example.com",
        "URL": "https://example.com",
        "TELEPHONE": "+1 415 555 0100",
        "SOCIAL_HANDLE": _SOCIAL.get(f.type_configuration.handle_service or "", "https://example.com/acme"),
    }
    if vt == "SOCIAL_HANDLE" and person and f.type_configuration.handle_service == "LINKEDIN":
        return "https://linkedin.com/in/ana-lopez"
    if vt == "SINGLE_SELECT":
        return f.options[0].label if f.options else None
    if vt == "MULTI_SELECT":
        return f"{MULTI_SEPARATOR} ".join(o.label for o in f.options[:2]) or None
    return examples.get(vt)


def _example_reference(schema: ObjectSchema, col: Column, reference: ReferenceData | None) -> Any:
    if reference is None:
        return None
    rel = schema.relationships[col.key]
    if rel.object_type == MEMBER_TYPE:
        return reference.members[0].email if reference.members else None
    recs = reference.records.get(rel.object_type) or []
    if not recs:
        return None
    return recs[0].external_id or recs[0].name or recs[0].id


# --- comparing templates -------------------------------------------------------------------------


def template_snapshot(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A template's content for comparison (not its bytes): per sheet the cell values, header
    comments, validations, column formats and frozen pane, plus the document dates.

    IDs of existing records on the Reference sheet are replaced by ``<id>``: a fresh sandbox org
    gives its records new random IDs, while names, external_ids, member IDs and option IDs are
    stable. ``templates/`` is checked against a regenerated copy with this.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out: dict[str, Any] = {
        "sheets": wb.sheetnames,
        "created": wb.properties.created,
        "modified": wb.properties.modified,
    }
    for ws in wb.worksheets:
        values = [[c.value for c in row] for row in ws.iter_rows()]
        if ws.title == REFERENCE_SHEET:
            in_records = False
            for row in values:
                first = row[0] if row else None
                if isinstance(first, str) and first.startswith("Existing "):
                    in_records = True
                elif not any(v is not None for v in row):
                    in_records = False
                elif in_records and len(row) > 2 and row[2] not in (None, "ID"):
                    row[2] = "<id>"
        out[ws.title] = {
            "values": values,
            "comments": {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment},
            "validations": sorted(
                (str(dv.sqref), dv.type, dv.formula1, dv.formula2, dv.error)
                for dv in ws.data_validations.dataValidation
            ),
            "formats": {k: d.number_format for k, d in ws.column_dimensions.items()},
            "freeze": ws.freeze_panes,
        }
    return out
