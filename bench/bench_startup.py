"""Start-up (issue 13: ``bulkio --help`` ≤ 0.25 s; ``bulkio import … --dry-run`` on a 10-row CSV
≤ 0.6 s wall).

Each command is run ``--repeat`` times as a fresh process and the median wall time is shown, next
to the interpreter's own start (``python -c pass``, the floor no command beats) and
``python -c "import pandas"`` (what a pandas script pays before reading a byte). The dry run uses
the embedded sandbox (no ``LIGHTFIELD_API_KEY``), in a state folder of its own that is seeded by
one run beforehand, as a user's would be after the first run; bytecode is cached as in an
installed package (``PYTHONDONTWRITEBYTECODE`` is unset for the runs).

    python bench/bench_startup.py            # --repeat 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    exe = shutil.which("bulkio") or ""
    bulkio = [exe] if exe else [sys.executable, "-m", "bulkio"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTFIELD_", "BULKIO_"))}
        # an installed bulkio has its bytecode cached (pip compiles it); a sandboxed shell may forbid
        # writing it, and then every run compiles every module again (~0.1 s)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["BULKIO_STATE_DIR"] = str(Path(tmp) / "state")
        src = Path(tmp) / "opportunities.csv"
        lines = ["External ID,Name,Stage,Amount,Close Date,Account"]
        lines += [f"OPP-{i},Deal {i},Proposal,{1000 * i},2026-03-{i + 1:02d},Acme Corp" for i in range(10)]
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        dry = [*bulkio, "import", "opportunity", str(src), "--dry-run", "-q"]
        subprocess.run(dry, env=env, capture_output=True, check=False)  # seeds the sandbox's file once
        rows = [
            ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"], None),
            ('python -c "import pandas" (reference)', [sys.executable, "-c", "import pandas"], None),
            ("bulkio --help", [*bulkio, "--help"], 0.25),
            ("bulkio import opportunity 10 rows --dry-run", dry, 0.6),
        ]
        print(f"median of {args.repeat} fresh processes each\n")
        print(f"{'command':<46}{'wall s':>8}{'target s':>10}{'ratio':>8}")
        for name, cmd, target in rows:
            t = wall(cmd, env, args.repeat)
            tail = f"{target:>10.2f}{t / target:>7.2f}×" if target else ""
            print(f"{name:<46}{t:>8.3f}{tail}")


if __name__ == "__main__":
    main()
