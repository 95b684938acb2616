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
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl

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


if __name__ == "__main__":
    csv_files()
    xlsx_files()
