"""Ledger cost of rows that send no request (issue 13): ``write_operations`` passing N unchanged
and skipped rows through with a durable ledger (outcomes committed ``QUIET_BATCH`` at a time) vs
the same outcomes committed one transaction each (``Ledger.record_outcome`` per row, what the
writer did before), on the same disk, in the same run. No requests are sent in either.

    python bench/bench_ledger.py            # --n 5000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bulkio.ledger import Ledger
from bulkio.operations import Operation
from bulkio.write import QUIET_BATCH, pass_through, write_operations


class NoRequests:
    """A client the writer never calls (every row passes through)."""

    def create(self, *a: object, **k: object) -> dict[str, object]:
        raise AssertionError("no request expected")

    update = create


def ops(n: int) -> list[Operation]:
    return [
        Operation(row=r, action="unchanged", object_type="account", record_id=f"acc_{r}", key=f"K-{r}")
        if r % 4
        else Operation(row=r, action="skip", object_type="account")
        for r in range(2, n + 2)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name in ("one commit per row (before)", f"writer, {QUIET_BATCH} rows a commit (bulkio)"):
            with Ledger(Path(tmp) / f"{len(results)}.sqlite3") as ledger:
                run = ledger.start_run(
                    input_path="in.csv", input_fingerprint="f", object_type="account", target="t", options={}
                )
                todo = ops(n)
                t = time.perf_counter()
                if not results:
                    for op in todo:
                        ledger.record_outcome(run, pass_through(op))
                else:
                    done = sum(1 for _ in write_operations(NoRequests(), todo, ledger=ledger, run_id=run))  # type: ignore[arg-type]
                    assert done == n
                results[name] = time.perf_counter() - t
                assert len(ledger.completed(run)) == n
    print(f"{n:,} rows without a request, durable ledger (synchronous=FULL, WAL)\n")
    print(f"{'run':<42}{'total s':>9}{'ms/row':>9}")
    for name, s in results.items():
        print(f"{name:<42}{s:>9.3f}{1000 * s / n:>9.4f}")
    before, now = results.values()
    print(f"\nbatched: {before / now:.0f}× faster per row than a commit per row")


if __name__ == "__main__":
    main()
