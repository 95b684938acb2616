"""Data problems as values. An :class:`Issue` names exactly where a problem is (file, sheet,
spreadsheet row, column letter and header, field key) and what was expected, with a stable
snake_case ``code``. Codes reuse the Lightfield API's vocabulary where one fits, so a local
check and a server rejection read the same in the results sheet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: The catalogue of issue codes: code -> one-line meaning. Add new codes here (docs are generated
#: from this table, and a test checks every code used in the package is listed).
CODES: dict[str, str] = {
    # file level
    "file_unreadable": "The file cannot be opened or decoded.",
    "sheet_missing": "The requested sheet does not exist in the workbook.",
    "empty_file": "The file (or sheet) has no header row.",
    "duplicate_header": "Two columns map to the same field.",
    "ragged_row": "A row has more cells than the header.",
    "cell_too_large": "A cell exceeds the maximum accepted size.",
    "encoding_guessed": "The CSV file is not UTF-8; it was read in the encoding named in the message.",
    "encoding_repaired": "A mostly UTF-8 file has bytes that are not UTF-8 in this row; they were read as Windows-1252.",
    "formula_without_value": "A formula cell has no saved value (never calculated); the row is not written.",
    "cell_error": "The cell holds a spreadsheet error value such as #N/A or #DIV/0!; the row is not written.",
    "merged_cells": "The cell is blank inside a merged range; it takes the range's value.",
    "several_tables": "The sheet holds several Excel Tables; the one named in the message is read.",
    "unnamed_column": "A column holds values but has no header; it is ignored.",
    "header_not_first": "Rows above the detected header (titles, notes) are skipped.",
    "repeated_header": "A row repeats the header row (stacked tables, concatenated exports); it is skipped.",
    "section_title": "A one-cell title right above a repeated header (a monday.com group); it is skipped.",
    "date_order_guessed": "Dates like 03/04/2024 are read in the order another date of the file shows (28/02/2024: day first).",
    "joined_column": "A second column reads as a field that takes several values (Telefon and Mobil): its values are added.",
    "skipped_row": "A row the mapping file's skip_rows names (Salesforce's IsDeleted: true) is not imported.",
    "summary_row": "A report's totals row (Total, Grand Totals (57 records)) or footer text (Confidential Information…) is skipped; it is not a record.",
    # mapping
    "unknown_column": "A column does not match any field or relationship of the object.",
    "read_only_column": "A column maps to a read-only field; it is ignored on import.",
    "missing_key_column": "The file has no column for the upsert key.",
    "unused_mapping": "A --mapping entry names a column the file does not have; it is unused.",
    "key_not_unique": "The upsert key field is not unique in the CRM: two records may share a value.",
    "foreign_record_id": "A Record ID/id column holds another CRM's ids; it is not used to find records.",
    # mapping files (value maps and transforms)
    "transform_failed": "A mapping file's transform cannot read the cell (e.g. a date not in the pattern).",
    "unmapped_value": "The value is not in the column's value map (unmapped: fail) and there is no default.",
    # values (validate)
    "invalid_type": "The cell cannot be read as the field's value type.",
    "invalid_number": "Not a number.",
    "invalid_date": "Not a date or date-time in an accepted format.",
    "ambiguous_date": "The date could be read day-first or month-first; set --date-order.",
    "invalid_email": "Not a valid email address.",
    "invalid_url": "Not a valid URL.",
    "invalid_phone": "Not a valid telephone number (too short or long, letters, not a number of its country).",
    "phone_needs_region": "A phone number without a country code and no region to read it in; set --phone-region.",
    "ambiguous_number": "The number could be read with a decimal point or a decimal comma; set --locale.",
    "looks_like_fraction": "A fraction of 1 (0.5) where the field holds 0-100 values (50); write 50 or use --percent.",
    "invalid_social_handle": "Not a profile URL or handle for the field's platform.",
    "invalid_country": "Country must be a 2-letter ISO 3166-1 code.",
    "invalid_checkbox": (
        "Not a yes/no value (yes/no, true/false, 1/0, x, on/off, checked/unchecked; also yes/no and "
        "Excel's TRUE/FALSE in German, French, Spanish, Italian, Portuguese, Dutch, the Nordic "
        "languages, Polish and Finnish: ja/nein, WAHR/FALSCH, oui/non, VRAI/FAUX, ...)."
    ),
    "too_many_decimals": "Numbers accept at most 2 decimal places.",
    "required_field_missing": "A field required to create the record is blank.",
    # resolve
    "unknown_option": "The value is not one of the field's options.",
    "ambiguous_option": "The value matches several options.",
    "relationship_entity_missing": "No record matches the reference.",
    "ambiguous_reference": "Several records match the reference.",
    "reference_by_company_name": "No account has the referenced name, but one has it without case, punctuation and legal form (Initech GmbH → Initech, LLC); the row links to that one.",
    "depends_on_failed": "The reference names a row of the same workbook that failed; this row is skipped.",
    "linked_from_later_sheet": "The reference names a record of a sheet imported later in the same "
    "workbook; the link is made from that sheet's row.",
    # plan
    "duplicate_key": "The upsert key appears on an earlier row of the file.",
    "duplicate_row": "The row repeats an earlier row of the file (the same key; each value it has is "
    "that row's); it is skipped.",
    "missing_key": "The row has no value for the upsert key.",
    "fixed_after_create": "The relationship is set when the record is created (an opportunity's "
    "account); a different value on update is not sent.",
    "ambiguous_match": "Several existing records match the row (by its key, or by name, domain or email with --match).",
    "match_conflict": "The record the row matches with --match already has another key.",
    "duplicate_match": "An earlier row of the file already matched (or creates) the same record, with other values (--match).",
    "possible_duplicate": "The row creates a record whose name or email an existing record already has.",
    "record_not_found": "No record has the ID given in the Record ID column.",
    "matched_existing": "A create found its key already taken (another process, or a list that lagged): "
    "the row was matched to that record instead.",
    # write (server answers)
    "unknown_field": "The API does not know this field.",
    "unknown_relationship": "The API does not know this relationship.",
    "duplicate_value": "Another record already has this value in a unique field.",
    "api_rejected": "The API rejected the row (see message).",
    "write_failed": "The write failed after all retries.",
    "not_written": "The run stopped before this row was written.",
    # undo
    "undo_conflict": "The field was changed after the run (or the record the run created was edited or "
    "linked to since): the undo leaves it; --force writes the value from before the run.",
    "delete_unsupported": "The CRM does not delete records through its API: remove the record by hand.",
    "record_gone": "The record no longer exists (deleted after the run, or by an earlier undo).",
    "fate_unknown": "The run stopped before it learned whether this row's record was created.",
}


@dataclass(slots=True)
class Issue:
    """One problem with one place in the input. Rows are spreadsheet row numbers (header = 1)."""

    code: str
    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # column letter, e.g. "C"
    header: str | None = None  # the header text of that column
    field: str | None = None  # the Lightfield key, e.g. "$stage" or "$primaryAddress.city"
    value: Any = None  # the offending raw value (as read)
    expected: str | None = None
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["value"] is not None and not isinstance(data["value"], (str, int, float, bool)):
            data["value"] = str(data["value"])
        return data

    def location(self) -> str:
        """``file, sheet, row 5, column C "Stage"`` — the part of a message that says where."""
        parts = [p for p in (self.file, self.sheet) if p]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column or self.header:
            col = f"column {self.column}" if self.column else "column"
            parts.append(f'{col} "{self.header}"' if self.header else col)
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        exp = f" (expected {self.expected})" if self.expected else ""
        return f"{loc}: {self.code}: {self.message}{exp}" if loc else f"{self.code}: {self.message}{exp}"
