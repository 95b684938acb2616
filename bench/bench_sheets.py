"""How much sheets.write_table (escaping, formats, widths, styled header) costs over a bare
openpyxl write-only append, and write_csv over a bare csv.writer, measured in the same run.

    python bench/bench_sheets.py [rows]
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

from bulkio import sheets


def rows(n: int) -> list[list[object]]:
    base = dt.datetime(2026, 1, 1, 9, 30)
    return [
        [
            f"Account {i}",
            f"-{i}" if i % 7 == 0 else f"ext-{i}",
            i * 10.5,
            base,
            i % 2 == 0,
            "Technology;Finance",
            f"=evil{i}" if i % 11 == 0 else None,
            "US",
            i,
            "note text",
        ]
        for i in range(n)
    ]


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    data = rows(n)
    headers = [f"Col {i} (c{i})" for i in range(10)]
    tmp = Path(tempfile.mkdtemp())

    def bare_xlsx() -> None:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("S")
        ws.append(headers)
        for r in data:
            ws.append(r)
        wb.save(tmp / "bare.xlsx")

    def bulkio_xlsx() -> None:
        wb = sheets.new_workbook(write_only=True)
        sheets.write_table(wb.create_sheet("S"), headers, data, formats={2: sheets.currency_format("USD")})
        sheets.save_workbook(wb, tmp / "bulkio.xlsx")

    def bare_csv() -> None:
        with open(tmp / "bare.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows(data)

    def bulkio_csv() -> None:
        sheets.write_csv(tmp / "bulkio.csv", headers, data)

    bx, ux, bc, uc = timed(bare_xlsx), timed(bulkio_xlsx), timed(bare_csv), timed(bulkio_csv)
    print(f"{n} rows x 10 columns")
    print(f"xlsx: bare openpyxl {bx:.2f}s, write_table {ux:.2f}s, ratio {ux / bx:.2f}")
    print(f"csv:  bare csv      {bc:.2f}s, write_csv   {uc:.2f}s, ratio {uc / bc:.2f}")


if __name__ == "__main__":
    main()
