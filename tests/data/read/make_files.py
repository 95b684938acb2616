"""Build the reader fixtures in this folder: ``python tests/data/read/make_files.py``.

Each file has one purpose (see tests/test_read.py for what is asserted on it):

* ``utf8_bom_semicolon.csv`` — UTF-8 with BOM, ``;`` delimiter, a quoted ``;`` and a quoted newline
* ``utf16_tab.csv`` — UTF-16 (BOM), tab delimiter
* ``cp1252.csv`` — Windows-1252 bytes (é, €, ü) that are not UTF-8
* ``pipe.csv`` — ``|`` delimiter, padded cells, an escaped formula ``'=1+1``
* ``ragged.csv`` — a long row, a short row, blank lines, whitespace-only rows
* ``types.xlsx`` — dates, date-times, ints, floats, bools, a formula with a cached value and one
  without, a text cell that looks like a formula (escaped), a percentage
* ``multi_sheet.xlsx`` — Instructions, Reference, a hidden sheet, Accounts and Contacts
* ``bulkio_header.xlsx`` — a title row and a blank row above bulkio's ``Label (key)`` header
* ``title_rows.csv`` — a title, a dated note and a blank line above a plain header
* ``sheets_as_made.xlsx`` — a merged title row, a note and a blank row above the header, a merged
  data range (vertical and horizontal), an unnamed column with a value, blank rows
* ``table_offset.xlsx`` — an Excel Table "Deals" at C4:F8 with notes around it, and a second
  table "Contacts" on the same sheet at H4:I6
* ``formulas_openpyxl.xlsx`` — formulas without saved values (openpyxl never calculates), one in
  an imported column and one in a column that is not imported
* ``formulas_libreoffice.xlsx``, ``book.xls``, ``book.ods`` — ``book_source.xlsx`` (formulas,
  an ``=NA()`` error, merged cells, a title row, dates) opened and saved by LibreOffice, so
  formulas have saved values (needs ``soffice``; the outputs are committed)
* ``sparse_corners.xls``, ``sparse_corners.ods`` — a header at A1 and one cell at the sheet's far
  corner (IV65536, XFD1048576), saved by LibreOffice
* ``mixed_utf8_cp1252.csv`` — UTF-8 rows and one row pasted from a Windows-1252 file
* ``shift_jis.csv`` — a Japanese CSV in Shift-JIS (cp932), as Excel on Japanese Windows saves it
* ``gb18030.csv`` — Simplified Chinese in GB18030 (its bytes also decode, as half-width katakana, in cp932)
* ``ambiguous_cjk.csv`` — two short lines of Chinese in GBK that read as Korean or Japanese too
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.worksheet.table import Table

HERE = Path(__file__).parent


def _fixed(wb: openpyxl.Workbook) -> None:
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)


def csv_files() -> None:
    (HERE / "utf8_bom_semicolon.csv").write_bytes(
        'Name;Amount;Notes\r\nCafé Zürich;1.234,50;"has ; inside"\r\nBeta GmbH;12;"two\nlines"\r\n'.encode(
            "utf-8-sig"
        )
    )
    (HERE / "utf16_tab.csv").write_bytes(
        "Name\tCity\tScore\r\nÜberCorp\tMünchen\t7\r\n東京 Labs\tTōkyō\t9\r\n".encode("utf-16")
    )
    (HERE / "cp1252.csv").write_bytes(
        "Name,Price,City\r\nCafé Müller,€5,Zürich\r\nCrème,€7,Genève\r\n".encode("cp1252")
    )
    (HERE / "pipe.csv").write_bytes(b"Name|Formula|Flag\n  Acme  |'=1+1|yes\nBeta|''=2|  \n")
    (HERE / "ragged.csv").write_bytes(
        b"Name,Key\nFine,K1\nLong,K2,extra1,extra2\nShort\n\n , \nTrailing,K5,,\n"
    )


def _set_cached_values(path: Path, values: dict[str, str]) -> None:
    """openpyxl writes formulas without cached values; add <v> for the given cells."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, v in values.items():
                    text = re.sub(
                        rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(</v>)?',
                        lambda m, v=v: f"{m.group(1)}{m.group(2)}<v>{v}</v>",
                        text,
                    )
                data = text.encode()
            dst.writestr(item, data)
    path.write_bytes(buf.getvalue())


def xlsx_files() -> None:
    wb = openpyxl.Workbook()
    _fixed(wb)
    ws = wb.active
    ws.title = "Data"
    ws.append(["Name", "Date", "When", "Count", "Ratio", "Active", "Double", "Missing", "Text", "Pct"])
    ws.append(
        [
            "  Acme  ",
            dt.date(2026, 3, 16),
            dt.datetime(2026, 3, 16, 14, 30),
            42,
            1234.5,
            True,
            "=D2*2",
            "=NOPE()",
            "'=1+1",
            0.125,
        ]
    )
    ws.append(["Beta", dt.datetime(2026, 1, 2), None, 0, -0.25, False, "=D3*2", None, "'@x", None])
    ws["J2"].number_format = "0.0%"
    path = HERE / "types.xlsx"
    wb.save(path)
    _set_cached_values(path, {"G2": "84", "G3": "0"})

    wb = openpyxl.Workbook()
    _fixed(wb)
    ins = wb.active
    ins.title = "Instructions"
    ins.append(["Fill in the Accounts sheet."])
    ref = wb.create_sheet("Reference")
    ref.append(["Stage", "Lead"])
    hidden = wb.create_sheet("Secret")
    hidden.sheet_state = "hidden"
    hidden.append(["Hidden", "x"])
    acc = wb.create_sheet("Accounts")
    acc.append(["Name* ($name)", "External ID (external_id)"])
    acc.append(["Acme", "A-1"])
    con = wb.create_sheet("Contacts")
    con.append(["Email ($email)"])
    con.append(["ana@example.com"])
    wb.save(HERE / "multi_sheet.xlsx")

    wb = openpyxl.Workbook()
    _fixed(wb)
    ws = wb.active
    ws.title = "Opportunities"
    ws.append(["Opportunities import — fill in from row 4"])
    ws.append([])
    ws.append(["Name* ($name)", "Stage* ($stage)", "Amount (amount)", "Notes"])
    ws.append(["Deal 1", "Lead", 1000, None])
    ws.append([None, None, None, None])
    ws.append(["Deal 2", "Qualified", 2500.5, "n"])
    wb.save(HERE / "bulkio_header.xlsx")


def people_files() -> None:
    """Sheets as people make them."""
    (HERE / "title_rows.csv").write_bytes(
        b"Accounts export,,\nExported 2026-01-05 by ops@example.com,,\n,,\n"
        b"Name,external_id,City\nAcme,ACC-1,Berlin\nBeta,ACC-2,Paris\n"
    )
    (HERE / "mixed_utf8_cp1252.csv").write_bytes(
        "Name,external_id,City\nZürich Labs,MIX-1,Zürich\nŁódź Works,MIX-2,Łódź\n".encode()
        + "Café Müller,MIX-3,Genève\n".encode("cp1252")
        + "Straße AG,MIX-4,Köln\n".encode()
    )
    (HERE / "shift_jis.csv").write_bytes(
        "会社名,external_id,都市\n株式会社テスト,JP-1,東京\n山田商事,JP-2,大阪\n".encode("cp932")
    )
    (HERE / "gb18030.csv").write_bytes("公司,城市\n测试公司,北京\n上海贸易,上海\n".encode("gb18030"))
    (HERE / "ambiguous_cjk.csv").write_bytes("名称\n北京\n".encode("gbk"))

    wb = openpyxl.Workbook()
    _fixed(wb)
    ws = wb.active
    ws.title = "Accounts"
    ws["A1"] = "Accounts to import — Q1"
    ws.merge_cells("A1:D1")
    ws["A2"] = "Owner: sales ops"
    ws.append([])
    ws.append(["Name", "external_id", "Employees", "Tier", None])
    ws.append(["Acme", "ACC-1", 10, "Enterprise", None])
    ws.append(["Beta", "ACC-2", 20, None, "stray note"])
    ws.merge_cells("D6:D7")
    ws["D6"] = "SMB"
    ws.append([None, "ACC-3", 30, None, None])
    ws.merge_cells("A7:A8")
    ws["A7"] = "Gamma"
    ws["B8"] = "ACC-4"
    ws["C8"] = 40
    ws.append([])
    ws.append(["Delta", "ACC-5", None, None, None])
    ws.merge_cells("B10:C10")
    wb.save(HERE / "sheets_as_made.xlsx")

    wb = openpyxl.Workbook()
    _fixed(wb)
    ws = wb.active
    ws.title = "Pipeline"
    ws["A1"] = "Q1 pipeline (table below)"
    ws["A10"] = "Totals are calculated by finance"
    rows = [
        ["Deal", "external_id", "Amount", "Close"],
        ["Alpha deal", "D-1", 1000, dt.datetime(2026, 3, 31)],
        ["Beta deal", "D-2", 2500.5, dt.datetime(2026, 4, 30)],
        [None, None, None, None],
        ["Gamma deal", "D-3", 0, dt.datetime(2026, 5, 31)],
    ]
    for r, values in enumerate(rows, start=4):
        for c, v in enumerate(values, start=3):
            ws.cell(r, c, v)
    ws.add_table(Table(displayName="Deals", ref="C4:F8"))
    for r, values in enumerate([["Email", "Deal"], ["ana@example.com", "D-1"], ["bo@example.com", "D-2"]], 4):
        for c, v in enumerate(values, start=8):
            ws.cell(r, c, v)
    ws.add_table(Table(displayName="Contacts", ref="H4:I6"))
    wb.save(HERE / "table_offset.xlsx")

    wb = openpyxl.Workbook()
    _fixed(wb)
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["Name", "external_id", "Employees", "Helper"])
    ws.append(["Acme", "F-1", 10, "=C2*2"])
    ws.append(['=PROPER("beta inc")', "F-2", 20, "=C3*2"])
    ws.append(["Gamma", "F-3", "=10+20", None])
    wb.save(HERE / "formulas_openpyxl.xlsx")


def libreoffice_files() -> None:
    """A workbook saved by LibreOffice as .xlsx, .xls and .ods: formulas carry saved values."""
    wb = openpyxl.Workbook()
    _fixed(wb)
    ws = wb.active
    ws.title = "Accounts"
    ws["A1"] = "Accounts — saved by LibreOffice"
    ws.merge_cells("A1:C1")
    ws.append(["Name", "external_id", "Employees", "Revenue", "Renewal", "Check"])
    ws.append(["Acme", "LO-1", 10, "=C3*1000", dt.datetime(2026, 3, 1), "ok"])
    ws.append(["Beta", "LO-2", 20, "=C4*1000", dt.datetime(2026, 4, 1, 9, 30), "=NA()"])
    ws.append(["Gamma", "LO-3", 30, "=C5*1000", None, "ok"])
    ws.merge_cells("A5:A6")
    ws.append([None, "LO-4", 40, "=C6*1000", None, "ok"])
    hidden = wb.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    hidden.append(["secret"])
    src = HERE / "book_source.xlsx"
    wb.save(src)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("soffice not found: the LibreOffice-made files are left as they are")
        return
    _convert(
        soffice,
        src,
        {"xls": "book.xls", "ods": "book.ods", "xlsx:Calc MS Excel 2007 XML": "formulas_libreoffice.xlsx"},
    )
    # two cells at opposite corners of an .xls sheet (IV65536) and an .ods sheet: a reader that
    # fills the grid between them needs 16.7 million cells for the .xls
    wb = openpyxl.Workbook()
    _fixed(wb)
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["Name", "external_id"])
    ws["IV65536"] = "far away"
    corners = Path(tempfile.mkdtemp()) / "sparse_corners.xlsx"
    wb.save(corners)
    _convert(soffice, corners, {"xls": "sparse_corners.xls"})
    ws["IV65536"] = None
    ws["XFD1048576"] = "far away"
    wb.save(corners)
    _convert(soffice, corners, {"ods": "sparse_corners.ods"})
    shutil.rmtree(corners.parent)


def _convert(soffice: str, src: Path, outputs: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, out in outputs.items():
            subprocess.run(
                [soffice, "--headless", "--convert-to", fmt, "--outdir", tmp, str(src)],
                check=True,
                capture_output=True,
            )
            shutil.move(Path(tmp) / f"{src.stem}.{fmt.split(':')[0]}", HERE / out)


if __name__ == "__main__":
    csv_files()
    xlsx_files()
    people_files()
    libreoffice_files()
