"""read_guard.py: hostile workbooks and CSVs are refused (or read) with one clear line, and a
``bulkio import`` of each stays under 300 MB of memory, measured on a real subprocess.

The times are measured by bench/bench_hostile.py, not asserted here. A CPU-time limit and an
address-space limit on the subprocess only stop a runaway from taking the machine down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bulkio.errors import InputFileError
from bulkio.read import open_table
from bulkio.read_guard import ReadLimits

BROKEN = Path(__file__).parent / "data" / "broken"
DATA = Path(__file__).parent / "data" / "read"
sys.path.insert(0, str(BROKEN))
import make_corpus

#: The peak memory any input may cost a ``bulkio import`` process (issue 10).
MAX_RSS_MB = 300


@pytest.fixture(scope="module")
def import_env(sandbox: Any) -> dict[str, str]:
    org = sandbox.create_org(seed="demo", records=False)
    return {**os.environ, "LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}


#: Runs ``python -m bulkio ARGS`` under an address-space and a CPU-time limit (no preexec_fn:
#: the test process runs the sandbox in a thread) and writes its peak RSS (VmHWM, kB) to the
#: file named by HWM_FILE when it exits. (``ru_maxrss`` from wait4 would not do: Linux keeps
#: the parent's peak in it across fork and exec.)
CHILD = (
    "import atexit, os, resource, runpy, sys\n"
    "def hwm():\n"
    "    with open('/proc/self/status') as f:\n"
    "        kb = next(line.split()[1] for line in f if line.startswith('VmHWM'))\n"
    "    with open(os.environ['HWM_FILE'], 'w') as out:\n"
    "        out.write(kb)\n"
    "atexit.register(hwm)\n"
    "resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (60, 60))\n"
    "sys.argv = ['bulkio', *sys.argv[1:]]\n"
    "runpy.run_module('bulkio', run_name='__main__')\n"
)


def run_import(path: Path, env: dict[str, str], tmp: Path) -> tuple[int, str, float]:
    """(exit code, stderr, peak RSS in MB) of ``bulkio import account PATH --dry-run``."""
    hwm = tmp / "hwm.txt"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "import", "account", str(path), "--dry-run", "-q"]
        + ["--results", str(tmp / "out.results.csv")],
        env={**env, "HWM_FILE": str(hwm)},
        check=False,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=110,
    )
    return proc.returncode, proc.stderr.decode(errors="replace"), int(hwm.read_text()) / 1024


HOSTILE = [*make_corpus.HOSTILE, "sparse_corners.xls", "sparse_corners.ods"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_costs_under_300_mb(name: str, tmp_path: Path, import_env: dict[str, str]) -> None:
    path = DATA / name if (DATA / name).exists() else make_corpus.build(name, tmp_path)
    code, err, rss = run_import(path, import_env, tmp_path)
    assert rss < MAX_RSS_MB, f"{name}: peak RSS {rss:.0f} MB"
    assert "Traceback" not in err, err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and str(path) in lines[0], err
    else:
        assert code == 0, (code, err)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("sparse_corners.xls", ("spans 65,536+ rows x 256 columns", "save it as CSV")),
        ("sparse_corners.ods", ("spans 1,048,576+ rows x 16,384 columns", "save it as CSV")),
    ],
)
def test_sparse_xls_and_ods_are_refused_before_calamine(name: str, words: tuple[str, ...]) -> None:
    with pytest.raises(InputFileError) as exc:
        open_table(DATA / name)
    for w in words:
        assert w in str(exc.value)


def test_the_memory_limit_is_a_setting(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "external_id"])
    for i in range(2000):
        ws.append([f"Company {i}", f"K-{i}"])
    p = tmp_path / "small.xlsx"
    wb.save(p)
    with open_table(p) as t:
        assert sum(1 for _ in t.rows) == 2000
    with pytest.raises(
        InputFileError, match=r"sheet 'Sheet' spans 2,001\+ rows x 2 columns.*the limit is 0 MB"
    ):
        open_table(p, limits=ReadLimits(max_workbook_bytes=100_000))


def test_a_part_that_lies_about_its_size_is_caught_by_the_crc(tmp_path: Path) -> None:
    """zipfile stops at the declared size and checks the CRC: a part cannot hide more data (a
    bomb) behind a small declared size."""
    data = bytearray(make_corpus.good_xlsx())
    at = data.find(b"PK\x01\x02xl/worksheets/sheet1.xml"[:4])
    while data[at + 46 : at + 46 + 24] != b"xl/worksheets/sheet1.xml":
        at = data.find(b"PK\x01\x02", at + 4)
        assert at > 0
    size = int.from_bytes(data[at + 24 : at + 28], "little")
    data[at + 24 : at + 28] = (size // 2).to_bytes(4, "little")  # the central directory now lies
    p = tmp_path / "liar.xlsx"
    p.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="sheet1.xml is damaged .*CRC") as exc, open_table(p) as t:
        list(t.rows)
    assert str(p) in str(exc.value)


@pytest.mark.parametrize("name", ["billion_laughs.xlsx", "xxe.xlsx"])
def test_calamine_itself_never_expands_entities(name: str) -> None:
    """The second line of defence, without the guard: calamine's XML parser (quick-xml) neither
    expands internal entities nor fetches external ones; it stops at the first reference."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(BROKEN / name))
    with pytest.raises(python_calamine.CalamineError, match="entity"):
        book.get_sheet_by_index(0)


def test_an_oversized_styles_part_is_refused(tmp_path: Path) -> None:
    import io
    import zipfile

    buf = io.BytesIO(make_corpus.good_xlsx())
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf:
        fmts = b"".join(b'<numFmt numFmtId="%d" formatCode="%x"/>' % (i, i * 7919) for i in range(900_000))
        zf.writestr("xl/styles.xml", b"<styleSheet>" + fmts + b"</styleSheet>")
    p = tmp_path / "styles.xlsx"
    p.write_bytes(buf.getvalue())
    with pytest.raises(InputFileError, match=r"part xl/styles.xml is \d+ MB \(at most 32 MB are read\)"):
        open_table(p)
