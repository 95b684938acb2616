"""Time and peak memory of ``bulkio import account FILE --dry-run`` on every hostile file, next to
the same command on a two-row CSV in the same run (the fixed cost of a bulkio process).

    python bench/bench_hostile.py            # --old also runs openpyxl's read-only reader on the
                                             #   .xlsx files (what bulkio used before), 30 s cap

Each command runs in its own process against a local sandbox; the peak RSS is the process's
VmHWM. Issue 10's target: every hostile file refused or read within 10 s and 300 MB.
Nothing is asserted (tests/test_read_guard.py asserts the memory).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "broken"))
import make_corpus

from bulkio.sandbox import SandboxServer

CHILD = (
    "import atexit, os, runpy, sys\n"
    "def hwm():\n"
    "    with open('/proc/self/status') as f:\n"
    "        kb = next(line.split()[1] for line in f if line.startswith('VmHWM'))\n"
    "    with open(os.environ['HWM_FILE'], 'w') as out:\n"
    "        out.write(kb)\n"
    "atexit.register(hwm)\n"
    "sys.argv = ['bulkio', *sys.argv[1:]]\n"
    "runpy.run_module('bulkio', run_name='__main__')\n"
)
OLD = CHILD.split("sys.argv =")[0] + (
    "import openpyxl\n"
    "wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)\n"
    "for row in wb.worksheets[0].iter_rows(values_only=True):\n"
    "    pass\n"
)


def run(cmd: list[str], env: dict[str, str], tmp: Path, timeout: float) -> tuple[str, float, float, str]:
    """(exit, seconds, peak MB, first stderr line) of a child process."""
    hwm = tmp / "hwm"
    hwm.unlink(missing_ok=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, env={**env, "HWM_FILE": str(hwm)}, capture_output=True, timeout=timeout, check=False
        )
        code = str(proc.returncode)
        line = (proc.stderr.decode(errors="replace").strip().splitlines() or [""])[0]
    except subprocess.TimeoutExpired:
        code, line = "timeout", f"still running after {timeout:.0f} s"
    seconds = time.monotonic() - t0
    peak = int(hwm.read_text()) / 1024 if hwm.exists() else float("nan")
    return code, seconds, peak, line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", action="store_true", help="also time openpyxl on the .xlsx files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d, SandboxServer(db_path=Path(d) / "sb.sqlite3") as sandbox:
        tmp = Path(d)
        org = sandbox.create_org(seed="demo", records=False)
        env = {**os.environ, "LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
        small = tmp / "small.csv"
        small.write_text("Name,external_id\nAcme,A-1\nBeta,A-2\n")
        files = [make_corpus.build(n, tmp) for n in make_corpus.HOSTILE]
        files += [ROOT / "tests" / "data" / "read" / n for n in ("sparse_corners.xls", "sparse_corners.ods")]
        files += [make_corpus.build(n, tmp) for n in ("billion_laughs.xlsx", "xxe.xlsx")]
        ragged = tmp / "comma_in_every_name.csv"  # 300,000 rows, each one cell too many
        ragged.write_text("Name,external_id\n" + "".join(f"Co {i}, Inc.,K{i}\n" for i in range(300_000)))
        files.append(ragged)

        def bulkio(path: Path) -> list[str]:
            return [sys.executable, "-c", CHILD, "import", "account", str(path), "--dry-run", "-q"] + [
                "--results",
                str(tmp / "out.csv"),
            ]

        code, base_s, base_mb, _ = run(bulkio(small), env, tmp, 60)
        print(f"baseline: a 2-row CSV, exit {code}, {base_s:.2f} s, {base_mb:.0f} MB peak RSS\n")
        print(f"{'file':32} {'size':>9} {'exit':>5} {'time':>7} {'x base':>7} {'peak RSS':>9}  first line")
        for f in files:
            code, s, mb, line = run(bulkio(f), env, tmp, 120)
            size = f.stat().st_size
            print(
                f"{f.name:32} {size / 1e6:7.1f}MB {code:>5} {s:6.2f}s {s / base_s:6.1f}x {mb:7.0f}MB  {line[:110]}"
            )
            if args.old and f.suffix == ".xlsx":
                code, s, mb, line = run([sys.executable, "-c", OLD, str(f)], env, tmp, 30)
                print(
                    f"{'  (openpyxl read-only)':32} {'':>9} {code:>5} {s:6.2f}s {s / base_s:6.1f}x {mb:7.0f}MB  {line[:80]}"
                )


if __name__ == "__main__":
    main()
