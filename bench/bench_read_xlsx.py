"""Reading speed and memory of ``open_table``, next to pandas on the same file in the same run.

    python bench/bench_read_xlsx.py            # --xlsx-rows 50000 --csv-rows 1000000

1. XLSX: a generated ``--xlsx-rows`` × 10 workbook (text, numbers, dates, booleans, written with
   openpyxl in write-only mode) read with ``pandas.read_excel`` (baseline, openpyxl engine) and with
   ``open_table`` (the guard's scan, python-calamine, every row cleaned). Prints seconds, rows/s and
   the speed-up; ``pandas.read_excel(engine="calamine")`` is printed as a reference.
2. CSV memory: a generated ``--csv-rows`` CSV streamed through ``open_table`` while psutil samples
   the process RSS every 20 ms; prints the peak RSS growth over the start (target < 500 MB) and the
   tracemalloc peak of a second pass. The baseline is ``pandas.read_csv(chunksize=10_000)`` on the
   same file (streaming too); ``pandas.read_csv`` of the whole file is shown for reference.

Nothing is asserted; defaults run in well under two minutes on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Self

import openpyxl
import pandas as pd
import psutil

from bulkio.read import open_table


def make_xlsx(path: Path, rows: int) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Accounts")
    ws.append(
        [
            "Name* ($name)",
            "External ID (external_id)",
            "Employees",
            "Revenue",
            "Renewal",
            "Customer",
            "City",
            "Country",
            "Website",
            "Notes",
        ]
    )
    base = dt.datetime(2026, 1, 1)
    for i in range(rows):
        ws.append(
            [
                f"Company {i}",
                f"ACC-{i}",
                i % 5000,
                i * 10.25,
                base + dt.timedelta(days=i % 700),
                i % 2 == 0,
                "Berlin",
                "DE",
                f"https://c{i}.example.com",
                "note " * (i % 4),
            ]
        )
    wb.save(path)


def make_csv(path: Path, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id", "Amount", "Close date", "Stage", "Notes"])
        for i in range(rows):
            w.writerow([f"Deal {i}", f"OPP-{i}", f"{i * 3.5:.2f}", "2026-03-16", "Lead", "x" * (i % 20)])


class PeakRss:
    """Samples RSS in a thread; ``peak - start`` is the growth while reading."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> Self:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def stream(path: Path) -> int:
    n = 0
    with open_table(path) as table:
        for _ in table.rows:
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xlsx-rows", type=int, default=50_000)
    ap.add_argument("--csv-rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = Path(tmp) / "accounts.xlsx"
        make_xlsx(xlsx, args.xlsx_rows)
        t0 = time.perf_counter()
        frame = pd.read_excel(xlsx, sheet_name="Accounts", engine="openpyxl")
        t_pd = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = stream(xlsx)
        t_bulkio = time.perf_counter() - t0
        assert n == len(frame) == args.xlsx_rows
        del frame
        t0 = time.perf_counter()
        frame = pd.read_excel(xlsx, sheet_name="Accounts", engine="calamine")
        t_cal = time.perf_counter() - t0
        del frame
        print(f"XLSX {n:,} rows x 10 cols, {xlsx.stat().st_size / 1e6:.1f} MB")
        print(f"  baseline pandas.read_excel (openpyxl): {t_pd:6.2f} s  {n / t_pd:9,.0f} rows/s")
        print(
            f"  bulkio open_table (stream):            {t_bulkio:6.2f} s  {n / t_bulkio:9,.0f} rows/s  "
            f"{t_pd / t_bulkio:.1f}x faster (target >= 5x)"
        )
        print(
            f"  reference pandas.read_excel (calamine): {t_cal:5.2f} s  {n / t_cal:9,.0f} rows/s  "
            "(no guard, no header search, no cell checks)"
        )

        big = Path(tmp) / "big.csv"
        make_csv(big, args.csv_rows)
        size = big.stat().st_size
        with PeakRss() as rss:
            t0 = time.perf_counter()
            n = stream(big)
            t_stream = time.perf_counter() - t0
        assert n == args.csv_rows
        tracemalloc.start()
        stream(big)
        _, peak_tm = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        with PeakRss() as rss_chunked:  # the fair baseline: pandas streaming in chunks too
            t0 = time.perf_counter()
            rows = sum(len(chunk) for chunk in pd.read_csv(big, dtype=str, chunksize=10_000))
            t_chunked = time.perf_counter() - t0
        assert rows == n
        with PeakRss() as rss_pd:
            t0 = time.perf_counter()
            frame = pd.read_csv(big, dtype=str)
            t_pd = time.perf_counter() - t0
        assert len(frame) == n
        del frame
        print(f"CSV {n:,} rows, {size / 1e6:.0f} MB")
        print(
            f"  bulkio open_table (stream): {t_stream:6.2f} s  {n / t_stream:9,.0f} rows/s  "
            f"peak RSS growth {(rss.peak - rss.start) / 1e6:6.1f} MB  tracemalloc peak "
            f"{peak_tm / 1e6:.1f} MB (target < 500 MB)"
        )
        print(
            f"  baseline read_csv(chunksize=10k): {t_chunked:6.2f} s  {n / t_chunked:9,.0f} rows/s  "
            f"peak RSS growth {(rss_chunked.peak - rss_chunked.start) / 1e6:6.1f} MB"
        )
        print(
            f"  reference read_csv (whole file): {t_pd:6.2f} s  {n / t_pd:9,.0f} rows/s  "
            f"peak RSS growth {(rss_pd.peak - rss_pd.start) / 1e6:6.1f} MB"
        )


if __name__ == "__main__":
    main()
