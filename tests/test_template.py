"""template.py: the written XLSX/CSV read back with openpyxl (offline from stored definitions, then
live against the sandbox for the Reference sheet and the committed templates/)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bulkio import sheets
from bulkio.columns import template_columns
from bulkio.definitions import ObjectSchema
from bulkio.errors import ConfigError
from bulkio.events import Message
from bulkio.template import (
    INSTRUCTIONS_SHEET,
    REFERENCE_SHEET,
    VALIDATION_LAST_ROW,
    MemberRef,
    RecordRef,
    ReferenceData,
    make_template,
    template_snapshot,
    write_template,
)

ROOT = Path(__file__).resolve().parent.parent
DEFS = json.loads((Path(__file__).parent / "data" / "template" / "definitions.json").read_text())
OBJECTS = ("account", "contact", "opportunity", "task", "note", "partner")
SHEET_TITLES = {
    "account": "Accounts",
    "contact": "Contacts",
    "opportunity": "Opportunities",
    "task": "Tasks",
    "note": "Notes",
    "partner": "Partner",
}


def schema(otype: str) -> ObjectSchema:
    return ObjectSchema.from_api(DEFS[otype])


REF = ReferenceData(
    records={
        "account": [
            RecordRef('=HYPERLINK("http://evil")', "ACC-1", "acc_1"),
            RecordRef("Acme", None, "acc_2"),
        ],
        "contact": [RecordRef("Ana Lopez", "C-1", "con_1")],
        "opportunity": [RecordRef("Big deal", None, "opp_1")],
    },
    members=[
        MemberRef("Ava Admin", "ava@demo.lightfield.test", "mem_ava"),
        MemberRef("Ben Seller", "ben@demo.lightfield.test", "mem_ben"),
    ],
)


def validations(ws: Any) -> dict[str, Any]:
    """First column letter of each validation's range -> the validation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    return out


def range_values(wb: Any, formula: str) -> list[Any]:
    sheet, ref = formula.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[ref.replace("$", "")] for c in row]


def letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def assert_no_formulas(path: Path) -> None:
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} = {c.value!r}"


# --- offline ------------------------------------------------------------------------------------


@pytest.mark.parametrize("otype", OBJECTS)
def test_headers_marks_and_comments(tmp_path: Path, otype: str) -> None:
    s = schema(otype)
    path = tmp_path / f"{otype}.xlsx"
    info = write_template(s, path, reference=REF)
    cols = template_columns(s)
    assert info.headers == [c.header for c in cols]
    wb = load_workbook(path)
    assert wb.sheetnames == [SHEET_TITLES[otype], INSTRUCTIONS_SHEET, REFERENCE_SHEET]
    ws = wb[SHEET_TITLES[otype]]
    assert [c.value for c in ws[1]] == info.headers
    assert ws.max_row == 1 and ws.freeze_panes == "A2"
    for i, col in enumerate(cols, 1):
        cell = ws.cell(1, i)
        assert cell.font.b
        expected_fill = sheets.REQUIRED_FILL if col.required else sheets.HEADER_FILL
        assert cell.fill.fgColor.rgb == expected_fill.fgColor.rgb, col.header
        assert ("*" in col.header.split("(")[0]) == col.required
        text = cell.comment.text
        if col.kind == "relationship":
            assert f"Relationship: {s.relationships[col.key].cardinality.upper()}" in text
        else:
            assert f"Value type: {col.value_type}" in text
        assert col.hint in text
        assert ("Required when creating a record." in text) == col.required
    required = {h for h in info.headers if "*" in h.split("(")[0]}
    assert required == {c.header for c in cols if c.key in s.required}
    # read-only fields and reverse links never appear
    for f in s.fields.values():
        if f.read_only:
            assert not any(f"({f.key})" in h or f"({f.key}." in h for h in info.headers)
    for r in s.relationships.values():
        if r.read_only:
            assert f"({r.key})" not in " ".join(info.headers)


def test_required_marks_per_object(tmp_path: Path) -> None:
    info = write_template(schema("opportunity"), tmp_path / "o.xlsx")
    assert [c.header for c in info.columns if c.required] == [
        "Name* ($name)",
        "Stage* ($stage)",
        "Account* ($account)",
    ]
    assert info.headers[0] == "External ID (external_id)"
    assert "Status ($opportunityStatus) [read-only]" not in info.headers
    assert not any("summary" in h for h in info.headers)
    task = write_template(schema("task"), tmp_path / "t.xlsx")
    assert [c.header for c in task.columns if c.required] == [
        "Title* ($title)",
        "Status* ($status)",
        "Assigned To* ($assignedTo)",
    ]


def test_address_and_full_name_split(tmp_path: Path) -> None:
    acc = write_template(schema("account"), tmp_path / "a.xlsx").headers
    assert "Primary Address: City ($primaryAddress.city)" in acc
    assert "Primary Address: Country ($primaryAddress.country)" in acc
    assert not any(h.endswith("($primaryAddress)") for h in acc)
    assert "How They Make Money ($howTheyMakeMoney)" not in acc
    assert not any("$opportunity" in h or "$meeting" in h for h in acc)
    con = write_template(schema("contact"), tmp_path / "c.xlsx").headers
    assert "Name: First name ($name.firstName)" in con
    assert "Name: Last name ($name.lastName)" in con


@pytest.mark.parametrize("otype", OBJECTS)
def test_select_dropdowns_point_at_reference(tmp_path: Path, otype: str) -> None:
    s = schema(otype)
    path = tmp_path / f"{otype}.xlsx"
    info = write_template(s, path, reference=REF)
    wb = load_workbook(path)
    ws = wb[info.sheet]
    dvs = validations(ws)
    for i, col in enumerate(info.columns, 1):
        col_letter = letter(i)
        f = s.fields.get(col.field_key or "")
        dv = dvs.get(col_letter)
        if col.kind == "field" and f and f.value_type == "SINGLE_SELECT":
            assert dv is not None and dv.type == "list", col.header
            assert dv.formula1.startswith("'Reference'!$D$")
            assert range_values(wb, dv.formula1) == [o.label for o in f.options]
            assert str(dv.sqref) == f"{col_letter}2:{col_letter}{VALIDATION_LAST_ROW}"
            assert dv.allow_blank
        elif col.kind == "field" and f and f.value_type == "MULTI_SELECT":
            assert dv is None, col.header
            assert "separate them with ';'" in ws.cell(1, i).comment.text
        elif col.kind == "field" and f and f.value_type == "CHECKBOX":
            assert dv is not None and dv.type == "list" and dv.formula1 == '"yes,no"'
        elif col.kind == "field" and f and f.value_type == "DATETIME":
            assert dv is not None and dv.type == "date"
            assert ws.column_dimensions[col_letter].number_format == "yyyy-mm-dd"
        elif col.kind == "relationship" and s.relationships[col.key].object_type == "member":
            assert dv is not None and dv.type == "list"
            assert range_values(wb, dv.formula1) == [m.email for m in REF.members]
        elif col.kind == "relationship" and not col.multiple:
            target = s.relationships[col.key].object_type
            assert range_values(wb, dv.formula1) == [
                sheets.escape_formula(r.name) for r in REF.records[target]
            ]


def test_hints_and_dropdown_messages_read_well(tmp_path: Path) -> None:
    info = write_template(schema("account"), tmp_path / "a.xlsx", reference=REF)
    hints = {c.key: c.hint for c in info.columns}
    assert hints["annualRevenue"].startswith("An amount in USD, e.g. 1250000 or 1,250,000.00 (not $1.25M")
    assert hints["$linkedIn"] == "LinkedIn profile URL or bare handle."
    assert hints["$instagram"] == "Instagram profile URL or bare handle."
    info = write_template(schema("opportunity"), tmp_path / "o.xlsx", reference=REF)
    ws = load_workbook(tmp_path / "o.xlsx")[info.sheet]
    errors = {str(dv.sqref).split(":")[0]: dv.error for dv in ws.data_validations.dataValidation}
    account_col = letter(info.headers.index("Account* ($account)") + 1)
    assert errors[f"{account_col}2"].startswith("Pick an account name from the list")
    owner_col = letter(info.headers.index("Owner ($owner)") + 1)
    assert errors[f"{owner_col}2"].startswith("Pick a member email from the list")


def test_reference_sheet_blocks(tmp_path: Path) -> None:
    path = tmp_path / "o.xlsx"
    info = write_template(schema("opportunity"), path, reference=REF)
    assert info.reference_counts == {"account": 2, "member": 2, "contact": 1}
    rows = [r for r in load_workbook(path)[REFERENCE_SHEET].iter_rows(values_only=True)]
    assert ("$stage", "Stage", "opt_stage_lead", "Lead") in rows
    assert ("products", "Products", "opt_product_analytics", "Analytics") in rows
    assert ("Ava Admin", "ava@demo.lightfield.test", "mem_ava", None) in rows
    assert ('\'=HYPERLINK("http://evil")', "ACC-1", "acc_1", None) in rows
    assert ("Ana Lopez", "C-1", "con_1", None) in rows
    assert rows.count(("Name", "Email", "ID", None)) == 1


def test_no_reference_keeps_select_options(tmp_path: Path) -> None:
    path = tmp_path / "o.xlsx"
    info = write_template(schema("opportunity"), path, reference=None)
    assert info.reference_counts == {}
    wb = load_workbook(path)
    dvs = validations(wb[info.sheet])
    assert range_values(wb, dvs["C"].formula1)[0] == "Lead"  # Stage
    assert "J" not in dvs  # Account: nothing to list


def test_instructions_sheet(tmp_path: Path) -> None:
    path = tmp_path / "my deals.xlsx"
    write_template(schema("opportunity"), path, example_row=True, reference=REF)
    text = "\n".join(
        str(r[0]) for r in load_workbook(path)[INSTRUCTIONS_SHEET].iter_rows(values_only=True) if r[0]
    )
    assert "bulkio import opportunity my deals.xlsx" in text
    assert "#clear" in text and "';'" in text
    assert "External ID (external_id)" in text
    assert "Name* ($name), Stage* ($stage), Account* ($account)" in text
    assert "Row 2 holds an example" in text


def test_no_formula_cells_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    write_template(schema("opportunity"), path, reference=REF, example_row=True)
    assert_no_formulas(path)


def test_example_row(tmp_path: Path) -> None:
    path = tmp_path / "o.xlsx"
    info = write_template(schema("opportunity"), path, reference=REF, example_row=True)
    ws = load_workbook(path)[info.sheet]
    row = dict(zip(info.headers, [c.value for c in ws[2]], strict=True))
    assert row["Stage* ($stage)"] == "Lead"
    assert row["Products (products)"] == "Core Platform; Analytics"
    assert row["Account* ($account)"] == "ACC-1"
    assert row["Owner ($owner)"] == "ava@demo.lightfield.test"
    assert ws["D2"].number_format == '"$"#,##0.00'
    assert ws.max_row == 2


def test_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    info = write_template(schema("account"), path, reference=REF)
    assert info.format == "csv" and info.sheet is None
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert len(lines) == 1
    assert lines[0].split(",") == [c.header for c in template_columns(schema("account"))]


def test_csv_with_example_row(tmp_path: Path) -> None:
    path = tmp_path / "tasks.csv"
    info = write_template(schema("task"), path, example_row=True, reference=REF)
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == info.headers and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Status* ($status)"] == "To do"
    assert row["Assigned To* ($assignedTo)"] == "ava@demo.lightfield.test"
    assert row["Due At ($dueAt)"] == "2026-03-16"


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\.xlsx or \.csv"):
        write_template(schema("account"), tmp_path / "a.ods")
    assert list(tmp_path.iterdir()) == []


def test_make_template_checks_the_file_name_before_any_request(tmp_path: Path) -> None:
    class NoRequests:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"client.{name} called")

    with pytest.raises(
        ConfigError,
        match=r"Cannot write a template to a\.ods: use a \.xlsx or \.csv "
        r"file name \(e\.g\. opportunities\.xlsx\)\.",
    ):
        make_template(NoRequests(), "account", tmp_path / "a.ods")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "o.xlsx"
    write_template(schema("account"), path)
    before = snapshot(path)

    class Broken(sheets.ExcelWriter):  # type: ignore[misc]
        def write_data(self) -> None:
            self._archive.writestr("half.xml", "<x/>")
            raise OSError("disk full")

    monkeypatch.setattr(sheets, "ExcelWriter", Broken)
    with pytest.raises(OSError, match="disk full"):
        write_template(schema("opportunity"), path)
    assert snapshot(path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.xlsx"]


def test_deterministic(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    a, b = tmp_path / "1" / "accounts.xlsx", tmp_path / "2" / "accounts.xlsx"
    write_template(schema("account"), a, reference=REF)
    write_template(schema("account"), b, reference=REF)
    assert snapshot(a) == snapshot(b)
    assert load_workbook(a).properties.modified == sheets.FIXED_TIMESTAMP


# --- comparing workbooks by content -------------------------------------------------------------

snapshot = template_snapshot


def _diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [f"{k}" for k in sorted(set(a) | set(b), key=str) if a.get(k) != b.get(k)]


# --- live (sandbox) -----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_list_lag")
def test_live_reference_matches_org(client: Any, tmp_path: Path) -> None:
    evil = client.create("account", {"fields": {"$name": "=cmd|' /C calc'!A0", "external_id": "EVIL-1"}})
    events: list[Any] = []
    path = tmp_path / "opps.xlsx"
    info = make_template(client, "opportunity", path, on_event=events.append)
    assert info.headers == [c.header for c in template_columns(client.schema("opportunity"))]
    wb = load_workbook(path)
    rows = list(wb[REFERENCE_SHEET].iter_rows(values_only=True))
    members = client.members()
    assert info.reference_counts["member"] == len(members)
    for m in members:
        email = m["fields"]["$email"]["value"]
        name = m["fields"]["$name"]["value"]
        assert (f"{name['firstName']} {name['lastName']}", email, m["id"], None) in rows
    accounts = list(client.list("account"))
    assert info.reference_counts["account"] == len(accounts)
    assert ("'=cmd|' /C calc'!A0", "EVIL-1", evil["id"], None) in rows
    dvs = validations(wb[info.sheet])
    owner = info.headers.index("Owner ($owner)") + 1
    assert sorted(range_values(wb, dvs[letter(owner)].formula1)) == sorted(
        m["fields"]["$email"]["value"] for m in members
    )
    account_col = info.headers.index("Account* ($account)") + 1
    names = range_values(wb, dvs[letter(account_col)].formula1)
    assert "'=cmd|' /C calc'!A0" in names and len(names) == len(accounts)
    assert_no_formulas(path)


def test_live_reference_cap(client: Any, tmp_path: Path) -> None:
    events: list[Any] = []
    info = make_template(client, "contact", tmp_path / "c.xlsx", reference_cap=2, on_event=events.append)
    assert info.reference_counts == {"account": 2}
    assert any(isinstance(e, Message) and "first 2 account" in e.text for e in events)


def test_live_note_and_custom_object(client: Any, tmp_path: Path) -> None:
    note = make_template(client, "note", tmp_path / "n.xlsx")
    assert note.headers == [
        "Title* ($title)",
        "Content ($content)",
        "Account ($account)",
        "Opportunity ($opportunity)",
    ]
    partner = make_template(client, "partner", tmp_path / "p.xlsx", include_reference=False)
    assert partner.sheet == "Partner"
    assert partner.headers[0] == "External ID (external_id)"
    assert partner.reference_counts == {}


def test_live_csv_example_row_uses_org_records(client: Any, tmp_path: Path) -> None:
    import csv

    info = make_template(client, "task", tmp_path / "tasks.csv", example_row=True)
    with open(info.path, encoding="utf-8-sig", newline="") as fh:
        header, example = list(csv.reader(fh))
    row = dict(zip(header, example, strict=True))
    emails = {m["fields"]["$email"]["value"] for m in client.members()}
    assert row["Assigned To* ($assignedTo)"] in emails
    assert row["Account ($account)"]  # an existing account's external_id or name
    assert row["Status* ($status)"] == "To do"


def test_live_unknown_key_field(client: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="account has no field 'nope'"):
        make_template(client, "account", tmp_path / "a.xlsx", key_field="nope")
    assert list(tmp_path.iterdir()) == []


#: Record ids of a sandbox org (random per org); member ids (mem_ava) and option ids are stable.
_RECORD_ID = re.compile(rb"\b[a-z]{2,5}_[a-z0-9]{20}\b")


def xlsx_parts(path: Path) -> dict[str, bytes]:
    """Every part of the workbook's zip, uncompressed, with random record ids replaced by ``<id>``.
    Independent of bulkio's code (a bug in a comparison helper of the package could not hide a
    stale template): the bytes of every sheet, style, validation and comment are compared.
    ``docProps/app.xml`` is left out: it names the openpyxl version that wrote the file."""
    with zipfile.ZipFile(path) as z:
        return {
            name: _RECORD_ID.sub(b"<id>", z.read(name))
            for name in sorted(z.namelist())
            if name != "docProps/app.xml"
        }


@pytest.mark.parametrize("otype", OBJECTS)
def test_committed_templates_are_current(client: Any, tmp_path: Path, otype: str) -> None:
    committed = ROOT / "templates" / f"{otype}.xlsx"
    assert committed.exists(), "run: python scripts/regenerate_templates.py"
    fresh = make_template(client, otype, tmp_path / f"{otype}.xlsx").path
    a, b = xlsx_parts(committed), xlsx_parts(fresh)
    assert sorted(a) == sorted(b), (
        f"templates/{otype}.xlsx has other parts: run python scripts/regenerate_templates.py"
    )
    stale = [name for name in a if a[name] != b[name]]
    assert stale == [], (
        f"templates/{otype}.xlsx is stale ({stale}): run python scripts/regenerate_templates.py"
    )
