"""What issue 9's value checks cost, each against a baseline measured in the same run.

1. **Numbers per column**: validating N opportunity rows whose Amount and Probability are text
   (``1.234,50``, ``12.500``: some cells fit both decimal marks and wait for their chunk to settle
   them) without a locale, vs the same rows with the decimal mark given (``decimal=","``, no column
   evidence kept), and vs ``--locale de-DE`` (Babel's symbols).
2. **Phones**: N contact rows with UK national numbers read with ``phone_region="GB"`` (phonenumbers
   parse + validity + E.164) vs the same cells as a TEXT column.
3. **Lookups for records without a key**: a dry run of M new accounts (names that exist nowhere)
   into an org of K accounts: requests with the ``possible_duplicate`` check (default) and with
   ``--match name``, vs the planner with both turned off. At the sandbox's default rate limit.

Usage: ``python bench/bench_values.py [--rows 50000] [--new 2000] [--org 5000]``.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bulkio.client import LightfieldClient
from bulkio.definitions import ObjectSchema
from bulkio.mapping import map_headers
from bulkio.pipeline import CHUNK, import_file
from bulkio.plan import Planner
from bulkio.ratelimit import UNLIMITED
from bulkio.read import SourceRow
from bulkio.sandbox import SandboxServer
from bulkio.validate import Validator
from bulkio.values import ParseOptions


def validate_all(schema: ObjectSchema, headers: list[str], rows: list[list[Any]], **options: Any) -> float:
    """Seconds to validate ``rows`` in chunks the way the importer does (check deferred, then settle)."""
    v = Validator(schema, map_headers(headers, schema), options=ParseOptions(**options))
    t0 = time.perf_counter()
    for start in range(0, len(rows), CHUNK):
        for i, cells in enumerate(rows[start : start + CHUNK], start + 2):
            v.check(SourceRow(i, cells), defer=True)
        v.settle()
    return time.perf_counter() - t0


def best(fn: Callable[[], float], repeat: int = 3) -> float:
    return min(fn() for _ in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--new", type=int, default=2_000)
    ap.add_argument("--org", type=int, default=5_000)
    args = ap.parse_args()
    n = args.rows
    with SandboxServer(seed="demo") as sb:
        org = sb.create_org(seed="demo")
        with LightfieldClient(api_key=org.api_key, base_url=sb.url) as lf:
            opp, con = lf.schema("opportunity"), lf.schema("contact")
        # --- 1. numbers --------------------------------------------------------------------------
        heads = ["Name", "Amount", "Probability"]
        amounts = ["1.234,50", "12.500", "48.000", "3,5", "150.000", "2.000.000,25", "999", "1.200"]
        rows = [[f"Deal {i}", amounts[i % len(amounts)], str(i % 101)] for i in range(n)]
        auto = best(lambda: validate_all(opp, heads, rows))
        given = best(lambda: validate_all(opp, heads, rows, decimal=","))
        locale = best(lambda: validate_all(opp, heads, rows, locale="de-DE"))
        # --- 2. phones ---------------------------------------------------------------------------
        phones = ["020 7946 0958", "07911 123456", "0161 496 0000", "+1 415 555 0100", "07400 123456"]
        prow = [[f"c{i}@x.example", phones[i % len(phones)]] for i in range(n)]
        region = best(lambda: validate_all(con, ["Email", "Phone"], prow, phone_region="GB"))
        as_text = best(lambda: validate_all(con, ["Email", "Job Title"], prow))
        print(f"{n:,} rows, best of 3 (validation only, no network)")
        print("| check | bulkio | baseline | ratio |")
        print("|---|---|---|---|")
        print(
            f"| numbers, no locale (column settling) | {n / auto:,.0f} rows/s | decimal mark given "
            f"{n / given:,.0f} rows/s | {auto / given:.2f}× the time |"
        )
        print(
            f"| numbers, --locale de-DE | {n / locale:,.0f} rows/s | decimal mark given "
            f"{n / given:,.0f} rows/s | {locale / given:.2f}× the time |"
        )
        print(
            f"| phones, --phone-region GB | {n / region:,.0f} rows/s | same cells as TEXT "
            f"{n / as_text:,.0f} rows/s | {region / as_text:.2f}× the time |"
        )
        # --- 3. lookups --------------------------------------------------------------------------
        big = sb.create_org(seed="demo", records=False)
        sb.set_rate_limit(big.org_id, per_second=1e6, burst=1_000_000)
        with (
            LightfieldClient(api_key=big.api_key, base_url=sb.url, rate_limit=UNLIMITED) as lf,
            ThreadPoolExecutor(8) as pool,
        ):
            list(
                pool.map(
                    lambda i: lf.create("account", {"fields": {"$name": f"Existing {i:05d} GmbH"}}),
                    range(args.org),
                )
            )
        sb.set_rate_limit(big.org_id, per_second=25)
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "new.csv"
            with open(src, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["Name", "external_id"])
                w.writerows([f"Novel{i:05d} Systems", f"NEW-{i:05d}"] for i in range(args.new))
            results = []
            original = Planner.__init__

            def no_dup_check(self: Planner, *a: Any, **kw: Any) -> None:
                original(self, *a, **kw)
                self.dup_specs = ()
                self.index.match_specs = ()

            for label, match, patch in (
                ("baseline: no duplicate check", None, True),
                ("possible_duplicate check (default)", None, False),
                ("--match name", "name", False),
            ):
                if patch:
                    Planner.__init__ = no_dup_check  # type: ignore[method-assign]
                try:
                    with LightfieldClient(api_key=big.api_key, base_url=sb.url) as lf:
                        t0 = time.perf_counter()
                        report = import_file(src, "account", client=lf, dry_run=True, match=match)
                        results.append((label, report.requests, time.perf_counter() - t0))
                finally:
                    Planner.__init__ = original  # type: ignore[method-assign]
        base = results[0]
        print(f"\ndry run of {args.new:,} new accounts into an org of {args.org:,} (25 requests/s)")
        print("| planner | requests | time | vs baseline |")
        print("|---|---|---|---|")
        for label, requests, secs in results:
            print(f"| {label} | {requests} | {secs:.1f} s | {secs / base[2]:.2f}× the time |")


if __name__ == "__main__":
    main()
