"""``.xls`` files that are a web page or an Excel 2003 XML Spreadsheet (Salesforce's printable view,
web apps' *Export to Excel*, NetSuite): read as the sheet Excel shows, and imported over real HTTP."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio import read
from bulkio.client import LightfieldClient
from bulkio.errors import InputFileError
from bulkio.pipeline import import_file
from bulkio.read_guard import ReadLimits
from bulkio.read_markup import sniff

MARKUP = Path(__file__).parent / "data" / "markup"
PRINTABLE = MARKUP / "salesforce-printable-view.xls"
NETSUITE = MARKUP / "netsuite-customers.xls"


def _read(path: Path, **kw: Any) -> tuple[Any, list[Any], list[Any]]:
    with read.open_table(path, **kw) as t:
        rows = list(t.rows)
        return t, rows, list(t.issues)


def test_web_page_xls_reads_its_data_table_as_excel_shows_it() -> None:
    """The largest table (not the title or footer tables), Windows-1252 text, entities, ``<br>``,
    collapsed spaces, omitted end tags, a rowspan filled down (warned), the totals row skipped,
    and the script's text ignored."""
    t, rows, issues = _read(PRINTABLE)
    assert (t.kind, t.sheet, t.header_row) == ("html", "Table 2", 1)
    assert t.headers == [
        "External ID",
        "Opportunity Name",
        "Account Name",
        "Stage",
        "Amount",
        "Close Date",
        "Next Step",
    ]
    assert [r.cells for r in rows] == [
        [
            "SFP-1",
            "Müller expansion",
            "Acme Corp",
            "Proposal",
            "$12,500.00",
            "10/31/2024",
            "Call\nback & send quote",
        ],
        ["SFP-2", "Second deal", "Acme Corp", "Lead", "$2,500.50", "11/15/2024", None],
        ["SFP-3", "Globex renewal", "Globex", "Negotiation", "$300.00", "12/01/2024", None],
    ]
    assert [r.number for r in rows] == [2, 3, 4]
    codes = {i.code: i for i in issues}
    assert codes["merged_cells"].row == 3 and codes["merged_cells"].column == "C"
    assert "summary_row" in codes
    assert read.list_sheets(PRINTABLE) == [("Table 1", True), ("Table 2", True), ("Table 3", True)]


def test_excel_2003_xml_keeps_types_indexes_and_sheets() -> None:
    """The data sheet (not the one-cell Notes sheet), the header under a merged title, ``ss:Index``
    gaps, numbers, dates and booleans typed, rich text flattened."""
    t, rows, issues = _read(NETSUITE, object_type="account")
    assert (t.kind, t.sheet, t.header_row) == ("xml2003", "Customers", 3)
    assert [r.cells for r in rows] == [
        ["NS-1", "Initech GmbH", 1250000.5, dt.datetime(2027, 3, 15), True, "https://initech.example.com"],
        ["NS-2", "Umbrella AG", None, dt.datetime(2026, 12, 1), False, None],
        ["NS-3", "Hooli Inc", 42, None, None, None],
    ]
    assert any(i.code == "header_not_first" for i in issues)
    assert read.list_sheets(NETSUITE) == [("Notes", True), ("Customers", True)]
    assert _read(NETSUITE, sheet="customers")[0].sheet == "Customers"
    with pytest.raises(InputFileError, match="has no sheet 'Deals'; sheets: 'Notes', 'Customers'"):
        _read(NETSUITE, sheet="Deals")


def test_excel_x_num_is_the_number_behind_a_formatted_cell() -> None:
    """Excel's web pages keep a formatted number's value in ``x:num`` (``1.234,50 €`` over 1234.5,
    ``1.234`` over 1234); a date or time (its serial number) and a percentage stay as written."""
    _, rows, _ = _read(MARKUP / "excel-web-page-x-num.xls")
    assert [r.cells for r in rows] == [
        ["A", 1234.5, "16.03.2026", "50 %", -300, 1234],
        ["B", "12", "16.03.2026 12:00", "x", "7", "2"],
    ]


def test_a_report_saved_as_a_web_page_reads_too(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_bytes(PRINTABLE.read_bytes())
    assert [r.cells[0] for r in _read(page)[1]] == ["SFP-1", "SFP-2", "SFP-3"]
    page.write_text("Name,Amount\nAcme,1\n")
    with pytest.raises(InputFileError, match="report.html: not a web page with a table"):
        _read(page)


def test_sniffing_names_markup_only() -> None:
    assert sniff(b"\xef\xbb\xbf  <html><body><table>") == "html"
    assert sniff(codecs.BOM_UTF16_LE + "<html><table>".encode("utf-16-le")) == "html"
    assert sniff(b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?><Workbook>') == "xml2003"
    assert sniff(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>') is None
    assert sniff(b"Name,Amount\n<b>,1\n") is None


@pytest.mark.parametrize(
    ("body", "limits", "expected"),
    [
        (  # an entity expansion (billion laughs) is refused, not expanded
            (
                b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><!DOCTYPE x [<!ENTITY a "aa">'
                b'<!ENTITY b "&a;&a;&a;&a;">]><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
                b"<Worksheet><Table><Row><Cell><Data>&b;</Data></Cell></Row></Table></Worksheet></Workbook>"
            ),
            ReadLimits(),
            "DTDs and entities are refused",
        ),
        (  # spans that would make millions of cells from a few bytes
            b"<html><table>" + b'<tr><td colspan="1000" rowspan="65534">x</td></tr>' * 200 + b"</table>",
            ReadLimits(max_workbook_bytes=1_000_000),
            "refused: the page holds more cells",
        ),
        (
            b"<html><table><tr><td>a</td><td>b</td></tr></table>" + b" " * 5000,
            ReadLimits(max_markup_bytes=4096),
            "refused: a web page saved as a workbook of 5,050 bytes",
        ),
        (b"<html><body><p>nothing here</p></body></html>", ReadLimits(), "holds no table with data"),
    ],
)
def test_hostile_and_empty_markup_is_refused_clearly(
    tmp_path: Path, body: bytes, limits: ReadLimits, expected: str
) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(body)
    with pytest.raises(InputFileError, match=expected) as err:
        _read(path, limits=limits)
    assert "export.xls" in str(err.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tail=st.lists(
        st.sampled_from(
            ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", '<td colspan="3">',
             '<td rowspan="2">', '<td rowspan="x">', "<br>", "&amp;", "&#0;", "<script>", "</script>",
             "a", " ", "\x00", "Total", "\n", "<td/>", "<!--", "-->", "<![CDATA[", "é"]
        ),
        max_size=60,
    )
)  # fmt: skip
def test_any_page_reads_or_is_refused_clearly(tmp_path: Path, tail: list[str]) -> None:
    """Whatever the markup, reading gives rows or an InputFileError, never another exception."""
    path = tmp_path / "page.xls"
    path.write_bytes(("<html><table><tr><th>Name</th><th>Amount</th></tr>" + "".join(tail)).encode())
    try:
        _, rows, _ = _read(path)
    except InputFileError as exc:
        assert "page.xls" in str(exc)
    else:
        assert all(isinstance(r.cells, list) for r in rows)


def test_import_a_printable_view_then_again_writes_nothing(sandbox: Any, org: Any, tmp_path: Path) -> None:
    """A web page .xls imported into the demo org: amounts, US dates, the account by name, multi-line
    text; an XLSX results sheet beside it; the same file again changes nothing."""
    sandbox.set_faults(org.org_id, index_lag_ms=0)
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        kw: dict[str, Any] = {
            "client": lf,
            "ledger_path": tmp_path / "l.db",
            "results_path": tmp_path / "r.xlsx",
        }
        first = import_file(PRINTABLE, "opportunity", **kw)
        assert first.counts.created == 3 and first.counts.failed == 0, [r.issues for r in first.rows]
        again = import_file(PRINTABLE, "opportunity", **kw)
        assert again.counts.unchanged == 3 and again.counts.created + again.counts.updated == 0
        accounts = {r["id"]: r["fields"]["$name"]["value"] for r in sandbox.records(org.org_id, "account")}
    got = {
        r["fields"]["external_id"]["value"]: r for r in sandbox.records(org.org_id, "opportunity")
        if str((r["fields"].get("external_id") or {}).get("value")).startswith("SFP-")
    }  # fmt: skip
    one = got["SFP-1"]["fields"]
    assert one["$name"]["value"] == "Müller expansion" and one["amount"]["value"] == 12500
    assert one["closeDate"]["value"].startswith("2024-10-31")
    assert one["nextStep"]["value"] == "Call\nback & send quote"
    assert [accounts[i] for i in got["SFP-2"]["relationships"]["$account"]["values"]] == ["Acme Corp"]
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    assert [c.value for c in sheet[1]][-5:] == ["Outcome", "Record ID", "Link", "Errors", "Changes"]
    assert [sheet.cell(r, 8).value for r in (2, 3, 4)] == ["unchanged"] * 3


def test_import_an_excel_2003_xml_sheet_of_accounts(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        report = import_file(
            NETSUITE, "account", client=lf, ledger_path=tmp_path / "l.db", results_path=tmp_path / "r.xlsx"
        )
    assert report.counts.created == 3, [r.issues for r in report.rows]
    got = {
        r["fields"]["external_id"]["value"]: r["fields"] for r in sandbox.records(empty_org.org_id, "account")
    }
    assert got["NS-1"]["annualRevenue"]["value"] == 1250000.5
    assert got["NS-1"]["renewalDate"]["value"].startswith("2027-03-15")
    assert got["NS-1"]["isCustomer"]["value"] is True and got["NS-2"]["isCustomer"]["value"] is False
    assert got["NS-3"]["$name"]["value"] == "Hooli Inc"


@pytest.mark.parametrize(
    ("name", "says"), [("list.numbers", "File > Export To > Excel"), ("crm.gsheet", "File > Download")]
)
def test_files_to_export_first_say_how(tmp_path: Path, name: str, says: str) -> None:
    """An Apple Numbers file or a Google Drive shortcut: one line that says how to get a file bulkio
    reads."""
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04" if name.endswith(".numbers") else b'{"url": "https://docs.google.com/"}')
    with pytest.raises(InputFileError, match=says) as err:
        _read(path)
    assert name in str(err.value)
