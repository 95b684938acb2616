"""Issue 13's results-file target: the XLSX results sheet written by :mod:`bulkio.xlsx_stream` vs
the same sheet written the way bulkio wrote it before (openpyxl's write-only mode, cell by cell:
``bench/_openpyxl_results.py``), same rows, same run; and the results phase's share of a dry run.

    python bench/bench_results_xlsx.py      # --rows 50000 --repeat 3 [--million]

1. ``write_results`` of ``--rows`` rows three ways: a CSV input's dry run (5 text columns, "would
   create" and its changes), an XLSX input's (text, numbers, dates, booleans) and a run where every
   tenth row failed (red cells with comments). Best of ``--repeat``: seconds, rows/s, file size,
   and the old writer's time over the new one's.
2. zlib level 1 (:data:`bulkio.xlsx_stream.COMPRESS_LEVEL`) vs 6 (zipfile's default) on the first
   sheet: time and size.
3. The results phase of ``import_file(..., dry_run=True)`` of ``--rows`` new accounts (CSV in;
   XLSX and CSV results) as a share of the whole dry run (target ≤ 15%; bench_workbook.py's row).
4. With ``--million``: peak RSS of writing a 1,000,000-row results sheet in a fresh process, next
   to the same process writing 100,000 rows (the writer's memory does not grow with the rows).

Nothing is asserted; read the numbers on an otherwise idle machine (the new writer deflates in a
second thread: a busy second core shows up in its time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _openpyxl_results as old_writer
import bench_workbook

from bulkio import xlsx_stream
from bulkio.issues import Issue
from bulkio.operations import RowOutcome
from bulkio.read import SourceRow
from bulkio.results import ResultSheet, write_results
from bulkio.sandbox import SandboxServer

HEADERS = ["External ID", "Name", "Annual Revenue", "Renewal Date", "Website"]


def csv_rows(n: int) -> list[SourceRow]:
    return [
        SourceRow(
            i + 2,
            [
                f"R-{i}",
                f"Results Co {i}",
                str(1000 + i),
                f"2027-0{1 + i % 9}-1{i % 10}",
                f"https://r{i}.example.com",
            ],
        )
        for i in range(n)
    ]


def typed_rows(n: int) -> list[SourceRow]:
    return [
        SourceRow(
            i + 2,
            [f"R-{i}", f"Results Co {i}", 1000.5 + i, dt.datetime(2027, 1 + i % 12, 1 + i % 28), i % 2 == 0],
        )
        for i in range(n)
    ]


def would_create(rows: list[SourceRow]) -> dict[int, RowOutcome]:
    return {r.number: RowOutcome(r.number, "created", changes={"$name": (None, r.cells[1])}) for r in rows}


def tenth_failed(rows: list[SourceRow]) -> dict[int, RowOutcome]:
    outs = would_create(rows)
    for r in rows[::10]:
        bad = Issue("invalid_number", f"'{r.cells[2]}' is not a number", column="C", severity="error")
        outs[r.number] = RowOutcome(r.number, "failed", issues=[bad])
    return outs


def best(repeat: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def compare(tmp: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    out = []
    cases = [
        ("CSV input, dry run", csv_rows(args.rows), would_create, True),
        ("XLSX input (typed cells), dry run", typed_rows(args.rows), would_create, True),
        ("every 10th row failed (fills + comments)", csv_rows(args.rows), tenth_failed, False),
    ]
    for label, rows, outcomes, dry in cases:
        outs = outcomes(rows)
        old_path, new_path = tmp / "old.xlsx", tmp / "new.xlsx"
        t_old = best(
            args.repeat,
            lambda rows=rows, outs=outs, dry=dry, old_path=old_path: old_writer.write_book(
                old_path, [ResultSheet("Results", HEADERS, rows, outs.get, dry)]
            ),
        )
        t_new = best(
            args.repeat,
            lambda rows=rows, outs=outs, dry=dry, new_path=new_path: write_results(
                new_path, HEADERS, rows, outs, dry_run=dry
            ),
        )
        out.append(
            {
                "sheet": f"{label}, {args.rows} rows",
                "openpyxl_s": round(t_old, 3),
                "stream_s": round(t_new, 3),
                "speedup": round(t_old / t_new, 1),
                "stream_rows_per_s": round(args.rows / t_new),
                "openpyxl_kb": old_path.stat().st_size // 1024,
                "stream_kb": new_path.stat().st_size // 1024,
            }
        )
    rows = csv_rows(args.rows)
    outs = would_create(rows)
    level = xlsx_stream.COMPRESS_LEVEL
    try:
        for lv in (1, 6):
            xlsx_stream.COMPRESS_LEVEL = lv
            path = tmp / f"level{lv}.xlsx"
            t = best(args.repeat, lambda path=path: write_results(path, HEADERS, rows, outs, dry_run=True))
            out.append(
                {
                    "sheet": f"zlib level {lv}, CSV input",
                    "stream_s": round(t, 3),
                    "stream_kb": path.stat().st_size // 1024,
                }
            )
    finally:
        xlsx_stream.COMPRESS_LEVEL = level
    return out


_MEMORY = """
import resource, sys
from bulkio.read import SourceRow
from bulkio.results import write_results
n = int(sys.argv[1])
rows = (SourceRow(i + 2, [f"R-{i}", f"Results Co {i}", str(1000 + i), "2027-01-31", f"https://r{i}.example.com"])
        for i in range(n))
write_results(sys.argv[2], ["External ID", "Name", "Annual Revenue", "Renewal Date", "Website"], rows,
              lambda _: None, dry_run=True)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def memory(tmp: Path) -> list[dict[str, Any]]:
    out = []
    for n in (100_000, 1_000_000):
        t0 = time.perf_counter()
        got = subprocess.run(
            [sys.executable, "-c", _MEMORY, str(n), str(tmp / f"mem{n}.xlsx")],
            check=True,
            capture_output=True,
            text=True,
        )
        out.append(
            {
                "sheet": f"{n} rows in a fresh process",
                "stream_s": round(time.perf_counter() - t0, 2),
                "peak_rss_mb": int(got.stdout.strip()),
                "stream_kb": (tmp / f"mem{n}.xlsx").stat().st_size // 1024,
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--million", action="store_true", help="peak RSS of a 1,000,000-row sheet")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        rows = compare(tmp, args)
        with SandboxServer(db_path=tmp / "sandbox.sqlite3", seed="demo") as sandbox:
            rows += bench_workbook.bench_results(sandbox, tmp, args)
        if args.million:
            rows += memory(tmp)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print("  ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
