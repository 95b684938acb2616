"""Generate the hostile/broken input corpus in this directory.

Every file is built from code here, byte for byte deterministic, so the corpus can be re-created
and checked for drift (``tests/test_broken_files.py`` compares the committed files with a fresh
build). Files that are large on purpose (a 2 MB cell, a zip bomb) are *not* committed: tests build
them in ``tmp_path`` with :func:`build` instead.

Run ``python tests/data/broken/make_corpus.py`` to (re)write the committed files. Each file is
documented in README.md beside this script.
"""

from __future__ import annotations

import functools
import io
import random
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
#: A fixed timestamp for zip members so the bytes never change between builds.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
HEADER = "Name,external_id"

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
{shared}</Types>"""
SHARED_CT = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\n'
)
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Accounts" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
{shared}</Relationships>"""
SHARED_REL = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>\n'
)
SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def sheet_xml(body: str, *, doctype: str = "", after: str = "") -> str:
    """A worksheet part; ``body`` goes inside <sheetData>, ``after`` after it (e.g. mergeCells)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}'
        f"<worksheet {SHEET_NS}><sheetData>{body}</sheetData>{after}</worksheet>"
    )


def inline_row(number: int, values: list[str]) -> str:
    """A row of inline-string cells (no sharedStrings part needed)."""
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
        if v != ""
    )
    return f'<row r="{number}">{cells}</row>'


def xlsx(sheet: str, *, shared_strings: str | None = None, compress_level: int | None = None) -> bytes:
    """A minimal, valid-by-structure .xlsx package around one worksheet part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, text: str | bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text, compresslevel=compress_level)

        shared = shared_strings is not None
        put("[Content_Types].xml", CONTENT_TYPES.format(shared=SHARED_CT if shared else ""))
        put("_rels/.rels", ROOT_RELS)
        put("xl/workbook.xml", WORKBOOK)
        put("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(shared=SHARED_REL if shared else ""))
        put("xl/worksheets/sheet1.xml", sheet)
        if shared_strings is not None:
            put("xl/sharedStrings.xml", shared_strings)
    return buf.getvalue()


def good_xlsx() -> bytes:
    rows = [inline_row(1, ["Name", "external_id"])]
    rows += [inline_row(i + 2, [f"Broken Co {i}", f"BRK-{i:03d}"]) for i in range(20)]
    return xlsx(sheet_xml("".join(rows)))


# --- the corpus ------------------------------------------------------------------------------------


def truncated_xlsx() -> bytes:
    """A real workbook cut off after 60% of its bytes (a failed download / copy)."""
    data = good_xlsx()
    return data[: int(len(data) * 0.6)]


def csv_disguised_xlsx() -> bytes:
    """Plain CSV text saved with an .xlsx extension."""
    return (HEADER + "\nAcme,ACC-X1\nGlobex,ACC-X2\n").encode()


def utf16le_nobom_csv() -> bytes:
    """UTF-16 little-endian without a byte order mark (what some exporters write)."""
    return (HEADER + "\nÜberCorp,U16-1\nZürich Labs,U16-2\n").encode("utf-16-le")


def cp1252_csv() -> bytes:
    """Windows-1252 (Excel 'CSV' on Western Windows): é, ü and € are single non-UTF-8 bytes."""
    return (HEADER + "\nCafé Müller,CP-1\n€uro Traders,CP-2\n").encode("cp1252")


def ragged_csv() -> bytes:
    """Row 3 has two cells more than the header; row 4 has fewer cells than the header."""
    return (HEADER + "\nFine Co,RAG-1\nToo Many Co,RAG-2,extra1,extra2\nShort Co\n").encode()


def formulas_csv() -> bytes:
    """Formula-injection payloads as plain text; row 7 carries the exporter's escape (``'=``)."""
    rows = [
        "\"=cmd|' /C calc'!A0\",FX-1",
        '"=HYPERLINK(""http://evil.test/?x=1"",""click me"")",FX-2',
        "+1+2,FX-3",
        "-2+3,FX-4",
        "@SUM(1+1),FX-5",
        "'=1+1,FX-6",
    ]
    return (HEADER + "\n" + "\n".join(rows) + "\n").encode()


def formulas_xlsx() -> bytes:
    """Real formula cells: one with a cached value (HYPERLINK -> "click me"), one DDE payload with
    no cached value, and a *text* cell that merely starts with '='."""
    body = (
        inline_row(1, ["Name", "external_id"])
        + '<row r="2"><c r="A2" t="str"><f>HYPERLINK("http://evil.test/","click me")</f><v>click me</v></c>'
        '<c r="B2" t="inlineStr"><is><t>FXX-1</t></is></c></row>'
        + '<row r="3"><c r="A3"><f>cmd|\' /C calc\'!A0</f></c>'
        '<c r="B3" t="inlineStr"><is><t>FXX-2</t></is></c></row>' + inline_row(4, ["=1+1", "FXX-3"])
    )
    return xlsx(sheet_xml(body))


def merged_xlsx() -> bytes:
    """A merged header cell (B1:C1) and a merged data range (A2:A3): only the top-left cell holds
    the value, the others read as blank."""
    body = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>external_id</t></is></c></row>'
        + inline_row(2, ["Merged Co", "MRG-1"])
        + '<row r="3"><c r="B3" t="inlineStr"><is><t>MRG-2</t></is></c></row>'
        + inline_row(4, ["Plain Co", "MRG-3"])
    )
    return xlsx(
        sheet_xml(
            body, after='<mergeCells count="2"><mergeCell ref="B1:C1"/><mergeCell ref="A2:A3"/></mergeCells>'
        )
    )


def empty_workbook_xlsx() -> bytes:
    """A workbook whose only sheet has no cells at all."""
    return xlsx(sheet_xml(""))


def header_only_xlsx() -> bytes:
    return xlsx(sheet_xml(inline_row(1, ["Name", "external_id"])))


def header_only_csv() -> bytes:
    return (HEADER + "\n").encode()


def empty_csv() -> bytes:
    return b""


def junk_csv() -> bytes:
    """4 KB of seeded random bytes with a .csv extension."""
    return random.Random(1).randbytes(4096)


def junk_xlsx() -> bytes:
    """4 KB of seeded random bytes with an .xlsx extension."""
    return random.Random(2).randbytes(4096)


def legacy_xls() -> bytes:
    """The start of an OLE2 compound file (Excel 97-2003 BIFF .xls, also what an encrypted .xlsx is)."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + bytes.fromhex("3E000300FEFF0900")
    return header + random.Random(3).randbytes(2048 - len(header))


def billion_laughs_xlsx() -> bytes:
    """sheet1.xml declares nested internal entities (10 levels x 10) and uses the top one in a cell:
    expanding it would produce 10^10 'lol's."""
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    doctype = "<!DOCTYPE worksheet [" + "".join(ents) + "]>\n"
    body = (
        inline_row(1, ["Name", "external_id"])
        + '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>LOL-1</t></is></c></row>'
    )
    return xlsx(sheet_xml(body, doctype=doctype))


def xxe_xlsx() -> bytes:
    """An external entity (XXE) pointing at /etc/passwd inside sheet1.xml."""
    doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    body = (
        inline_row(1, ["Name", "external_id"])
        + '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>XXE-1</t></is></c></row>'
    )
    return xlsx(sheet_xml(body, doctype=doctype))


def header_lookalike_csv() -> bytes:
    """Data cells that look like bulkio ``Label (key)`` headers in rows 2-3: the header is still
    row 1 and no row is lost."""
    return (
        HEADER + '\nAcme (Europe),ACC (EU)\n"=HYPERLINK(""http://x.test"",""x (y)"")",ACC-2\nPlain Co,ACC-3\n'
    ).encode()


def nul_bytes_csv() -> bytes:
    """NUL bytes inside cells (a corrupted copy or a mis-declared UTF-16 file)."""
    return (HEADER + "\nNul\x00Co,NUL-1\nClean Co,NUL-2\n\x00\x00,NUL-3\n").encode()


def many_columns_csv() -> bytes:
    """20,000 columns (more than Excel's 16,384): Name, external_id and 19,998 unknown ones."""
    headers = ["Name", "external_id"] + [f"extra{i}" for i in range(19998)]
    row = ["Wide Co", "WIDE-1"] + [""] * 19998
    return (",".join(headers) + "\n" + ",".join(row) + "\n").encode()


# --- built at test time only (too large to commit) -------------------------------------------------


def big_cell_csv() -> bytes:
    """Row 3's Name cell is 2 MB long (rows 2 and 4 are fine)."""
    return (HEADER + "\nSmall Co,BIG-1\n" + "A" * (2 * 1024 * 1024) + ",BIG-2\nAfter Co,BIG-3\n").encode()


def big_cell_late_csv() -> bytes:
    """Rows 2-20 are fine except row 15, whose Billing Email cell is 2 MB: beyond the rows the
    reader buffers to find the header, so the problem is only seen while streaming."""
    lines = [HEADER + ",Billing Email"]
    for i in range(19):
        email = "x" * (2 * 1024 * 1024) if i + 2 == 15 else f"late{i}@example.com"
        lines.append(f"Late Co {i},LATE-{i},{email}")
    return ("\n".join(lines) + "\n").encode()


def zip_bomb_xlsx() -> bytes:
    """sharedStrings.xml is ~200 MB of one repeated byte, deflated to well under 1 MB."""
    size = 200 * 1024 * 1024
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        'uniqueCount="1"><si><t>'
    )
    tail = "</t></si></sst>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, text: str) -> None:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)

        put("[Content_Types].xml", CONTENT_TYPES.format(shared=SHARED_CT))
        put("_rels/.rels", ROOT_RELS)
        put("xl/workbook.xml", WORKBOOK)
        put("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(shared=SHARED_REL))
        put(
            "xl/worksheets/sheet1.xml",
            sheet_xml(
                inline_row(1, ["Name", "external_id"])
                + '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="inlineStr"><is><t>BOMB-1</t></is></c></row>'
            ),
        )
        info = zipfile.ZipInfo("xl/sharedStrings.xml", date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        chunk = b"A" * (1024 * 1024)
        with zf.open(info, "w", force_zip64=True) as member:
            member.write(head.encode())
            for _ in range(size // len(chunk)):
                member.write(chunk)
            member.write(tail.encode())
    return buf.getvalue()


@functools.cache
def shared_strings_flood_xlsx() -> bytes:
    """3,000,000 distinct shared strings (~80 MB of XML, ~10 MB zipped) behind a two-row sheet: the
    string table alone would take more memory than a workbook may (openpyxl took 157 s and 1.3 GB
    on a file like this)."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    )
    body = b"".join(b"<si><t>s%07d</t></si>" % i for i in range(3_000_000))
    sheet = sheet_xml(
        inline_row(1, ["Name", "external_id"])
        + '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    )
    return _package(sheet, shared=head + body + b"</sst>", level=1)


def sparse_corners_xlsx() -> bytes:
    """Two cells, A1 and XFD1048576: a reader that fills the grid between them needs 17 billion cells."""
    body = inline_row(1, ["Name", "external_id"]) + (
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far away</t></is></c></row>'
    )
    return xlsx(sheet_xml(body))


def many_parts_xlsx() -> bytes:
    """A valid workbook with 20,000 extra empty zip entries (the central directory alone is ~1 MB)."""
    buf = io.BytesIO(good_xlsx())
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_STORED) as zf:
        for i in range(20_000):
            zf.writestr(zipfile.ZipInfo(f"xl/media/p{i}.bin", date_time=ZIP_DATE), b"")
    return buf.getvalue()


def many_sheets_xlsx() -> bytes:
    """3,000 worksheets; the first holds the accounts."""
    n = 3000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, text: str) -> None:
            zf.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), text)

        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        put(
            "[Content_Types].xml", CONTENT_TYPES.format(shared="").replace("</Types>", overrides + "</Types>")
        )
        put("_rels/.rels", ROOT_RELS)
        sheets = "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, n + 1))
        put("xl/workbook.xml", WORKBOOK.replace('<sheet name="Accounts" sheetId="1" r:id="rId1"/>', sheets))
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        put(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + rels
            + "</Relationships>",
        )
        first = sheet_xml(inline_row(1, ["Name", "external_id"]) + inline_row(2, ["Sheet One Co", "MS-1"]))
        put("xl/worksheets/sheet1.xml", first)
        for i in range(2, n + 1):
            put(f"xl/worksheets/sheet{i}.xml", sheet_xml(inline_row(1, ["x"])))
    return buf.getvalue()


def deep_xml_xlsx() -> bytes:
    """A cell nested in 1,000,000 unknown elements and a rich-text run nested 100,000 deep."""
    n = 1_000_000
    body = (
        inline_row(1, ["Name", "external_id"])
        + '<row r="2">'
        + "<x>" * n
        + "</x>" * n
        + '<c r="A2" t="inlineStr"><is>'
        + "<r>" * 100_000
        + "<t>Deep Co</t>"
        + "</r>" * 100_000
        + '</is></c><c r="B2" t="inlineStr"><is><t>DEEP-1</t></is></c></row>'
    )
    return xlsx(sheet_xml(body))


def entity_in_shared_strings_xlsx() -> bytes:
    """The DTD hides in sharedStrings.xml, not in the sheet."""
    shared = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaaaaaaaa">]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&a;</t></si></sst>'
    )
    body = inline_row(1, ["Name", "external_id"]) + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    return xlsx(sheet_xml(body), shared_strings=shared)


def repeat_bomb_ods() -> bytes:
    """An .ods whose one row of 16,384 filled cells is repeated 1,048,575 times (17 billion cells
    from a 2 KB file)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        '<office:body><office:spreadsheet><table:table table:name="Accounts">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>Name</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>external_id</text:p></table:table-cell></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384" '
        'office:value-type="string"><text:p>bomb</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype", date_time=ZIP_DATE), "application/vnd.oasis.opendocument.spreadsheet"
        )
        for name, text in (("content.xml", content), ("META-INF/manifest.xml", manifest)):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
    return buf.getvalue()


def wide_header_csv() -> bytes:
    """A header of 1,000,000 columns (8 MB on one line); it took 72 s and 1.6 GB before it was refused."""
    return (",".join(f"c{i}" for i in range(1_000_000)) + "\nAcme\n").encode()


def long_line_csv() -> bytes:
    """A 40 MB line without a line break after the header."""
    return b"Name,external_id\n" + b"x" * (40 * 1024 * 1024) + b"\n"


def _package(sheet: str, *, shared: bytes, level: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:

        def put(name: str, text: str | bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text, compresslevel=level)

        put("[Content_Types].xml", CONTENT_TYPES.format(shared=SHARED_CT))
        put("_rels/.rels", ROOT_RELS)
        put("xl/workbook.xml", WORKBOOK)
        put("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(shared=SHARED_REL))
        put("xl/worksheets/sheet1.xml", sheet)
        put("xl/sharedStrings.xml", shared)
    return buf.getvalue()


#: file name -> builder, for the committed corpus.
COMMITTED: dict[str, Callable[[], bytes]] = {
    "truncated.xlsx": truncated_xlsx,
    "csv_disguised.xlsx": csv_disguised_xlsx,
    "utf16le_nobom.csv": utf16le_nobom_csv,
    "cp1252.csv": cp1252_csv,
    "ragged.csv": ragged_csv,
    "formulas.csv": formulas_csv,
    "formulas.xlsx": formulas_xlsx,
    "merged.xlsx": merged_xlsx,
    "empty_workbook.xlsx": empty_workbook_xlsx,
    "header_only.xlsx": header_only_xlsx,
    "header_only.csv": header_only_csv,
    "empty.csv": empty_csv,
    "junk.csv": junk_csv,
    "junk.xlsx": junk_xlsx,
    "legacy.xls": legacy_xls,
    "billion_laughs.xlsx": billion_laughs_xlsx,
    "xxe.xlsx": xxe_xlsx,
    "nul_bytes.csv": nul_bytes_csv,
    "header_lookalike.csv": header_lookalike_csv,
}
#: file name -> builder, for files built in tmp_path by the tests.
AT_TEST_TIME: dict[str, Callable[[], bytes]] = {
    "big_cell.csv": big_cell_csv,
    "big_cell_late.csv": big_cell_late_csv,
    "zip_bomb.xlsx": zip_bomb_xlsx,
    "many_columns.csv": many_columns_csv,
    "shared_strings_flood.xlsx": shared_strings_flood_xlsx,
    "sparse_corners.xlsx": sparse_corners_xlsx,
    "many_parts.xlsx": many_parts_xlsx,
    "many_sheets.xlsx": many_sheets_xlsx,
    "deep_xml.xlsx": deep_xml_xlsx,
    "entity_in_shared_strings.xlsx": entity_in_shared_strings_xlsx,
    "repeat_bomb.ods": repeat_bomb_ods,
    "wide_header.csv": wide_header_csv,
    "long_line.csv": long_line_csv,
}
#: The files that once cost minutes or gigabytes: a test runs each in a subprocess and checks the
#: peak memory (tests/test_read_guard.py).
HOSTILE = (
    "shared_strings_flood.xlsx",
    "sparse_corners.xlsx",
    "many_parts.xlsx",
    "many_sheets.xlsx",
    "deep_xml.xlsx",
    "repeat_bomb.ods",
    "wide_header.csv",
    "long_line.csv",
    "zip_bomb.xlsx",
)


def build(name: str, directory: Path) -> Path:
    """Write corpus file ``name`` into ``directory`` and return its path."""
    builder = COMMITTED.get(name) or AT_TEST_TIME[name]
    path = directory / name
    path.write_bytes(builder())
    return path


def main() -> None:
    for name in COMMITTED:
        build(name, HERE)
    print(f"wrote {len(COMMITTED)} files to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
