"""Cell-parsing throughput: ``open_table`` + ``map_headers`` + ``parse_cell`` on every cell of a
generated opportunity CSV, next to a baseline measured in the same run.

    python bench/bench_validate.py            # --rows 100000

The file has the demo opportunity columns (name, stage label, amount with "$" and thousands
separators, probability, close date in three formats, products, next step, external id). Timed:

1. baseline: ``pandas.read_csv(dtype=str)`` — reading only, no validation;
2. baseline 2: ``csv.reader`` over the same file — reading only;
3. bulkio: ``open_table`` → ``map_headers`` → ``parse_cell`` for every mapped cell
   (``match_option`` for the select labels, as the resolver would).

Prints rows/s and cells/s and the ratios (bulkio time / baseline time). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from bulkio.definitions import ObjectSchema
from bulkio.mapping import map_headers
from bulkio.read import open_table
from bulkio.values import ParseOptions, match_option, parse_cell

DEFS = Path(__file__).resolve().parent.parent / "tests" / "data" / "read" / "definitions.json"


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    stages = ["Lead", "Qualified", "Proposal", "Negotiation", "Closed Won", "closed lost"]
    products = ["Core", "Add-on", "Support"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "External ID (external_id)",
                "Name* ($name)",
                "Stage* ($stage)",
                "Amount (amount)",
                "Probability",
                "Close date",
                "Products",
                "Next step",
                "Account* ($account)",
            ]
        )
        for i in range(rows):
            day = rnd.randint(1, 28)
            date = rnd.choice([f"2026-03-{day:02d}", f"{day:02d}/03/2026", f"2026-03-{day:02d} 14:30"])
            w.writerow(
                [
                    f"OPP-{i}",
                    f"Deal {i}",
                    rnd.choice(stages),
                    f"${rnd.randint(1, 10**7):,}.50",
                    str(rnd.randint(0, 100)),
                    date,
                    "; ".join(rnd.sample(products, rnd.randint(0, 2))),
                    "Call back" if i % 3 else "",
                    f"acc_{i % 500}",
                ]
            )


def bulkio_pass(path: Path, schema: ObjectSchema, options: ParseOptions) -> tuple[int, int, int]:
    rows = cells = errors = 0
    with open_table(path) as table:
        hm = map_headers(table.headers, schema)
        plan = [
            (mc.index, schema.fields[mc.column.field_key], mc.column.part)
            for mc in hm.importable
            if mc.column and mc.column.kind in ("field", "subfield")
        ]
        for row in table.rows:
            rows += 1
            for idx, field, part in plan:
                p = parse_cell(field, row.cells[idx], part=part, options=options)
                cells += 1
                if not p.ok:
                    errors += 1
                elif field.value_type == "SINGLE_SELECT" and isinstance(p.value, str):
                    match_option(field, p.value)
    return rows, cells, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    schema = ObjectSchema.from_api(json.loads(DEFS.read_text("utf-8"))["opportunity"])
    options = ParseOptions(date_order="DMY")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "opportunities.csv"
        make_file(path, args.rows)
        size = path.stat().st_size
        t0 = time.perf_counter()
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        t_pandas = time.perf_counter() - t0
        t0 = time.perf_counter()
        with open(path, newline="", encoding="utf-8") as fh:
            n_csv = sum(1 for _ in csv.reader(fh)) - 1
        t_csv = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows, cells, errors = bulkio_pass(path, schema, options)
        t_bulkio = time.perf_counter() - t0
    assert rows == len(frame) == n_csv == args.rows, (rows, len(frame), n_csv)
    print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB, {cells // max(rows, 1)} parsed cells per row")
    print(f"baseline pandas.read_csv (no validation): {t_pandas:7.2f} s  {rows / t_pandas:10,.0f} rows/s")
    print(f"baseline csv.reader      (no validation): {t_csv:7.2f} s  {rows / t_csv:10,.0f} rows/s")
    print(
        f"bulkio read+map+parse_cell              : {t_bulkio:7.2f} s  {rows / t_bulkio:10,.0f} rows/s  "
        f"{cells / t_bulkio:12,.0f} cells/s  ({errors} cell errors)"
    )
    print(
        f"ratio bulkio / pandas.read_csv: {t_bulkio / t_pandas:.1f}x   "
        f"bulkio / csv.reader: {t_bulkio / t_csv:.1f}x"
    )


if __name__ == "__main__":
    main()
