"""Hostile and broken input files (tests/data/broken/, see its README.md).

Each file goes through ``bulkio import account FILE --dry-run`` and either

* is **refused**: exit 2, exactly one ``Error:`` line on stderr naming the file (and the row and
  column when the problem has one), no traceback; or
* **proceeds**: every data row is planned exactly once and row-level problems are issues on
  exactly those rows.

Then the readers are fuzzed (hypothesis): random bytes, random CSV text in several encodings and
randomly damaged workbooks may only ever raise :class:`~bulkio.errors.InputFileError`.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.cli import cli
from bulkio.errors import InputFileError
from bulkio.read import open_table

BROKEN = Path(__file__).parent / "data" / "broken"
sys.path.insert(0, str(BROKEN))
import make_corpus

ALL_FILES = sorted(make_corpus.COMMITTED) + sorted(make_corpus.AT_TEST_TIME)


@pytest.fixture(scope="module")
def import_env(sandbox: Any) -> dict[str, str]:
    org = sandbox.create_org(seed="demo", records=False)
    return {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}


def dry_run(name: str, tmp_path: Path, env: dict[str, str]) -> Result:
    """Copy (or build) the corpus file into tmp_path and dry-run it as JSON."""
    if name in make_corpus.COMMITTED:
        path = Path(shutil.copy(BROKEN / name, tmp_path / name))
    else:
        path = make_corpus.build(name, tmp_path)
    return CliRunner().invoke(
        cli, ["import", "account", str(path), "--dry-run", "-q", "--format", "json"], env=env
    )


# --- refused files -------------------------------------------------------------------------------

#: file -> words the one error line must contain (besides the file name), case-insensitive.
REFUSED: dict[str, tuple[str, ...]] = {
    "truncated.xlsx": ("xlsx", "damaged or truncated"),
    "csv_disguised.xlsx": ("not an .xlsx",),
    "empty_workbook.xlsx": ("empty", "header"),
    "empty.csv": ("empty", "header"),
    "junk.csv": ("binary",),
    "junk.xlsx": ("not an .xlsx",),
    "legacy.xls": (".xls", "save it as .xlsx"),
    "billion_laughs.xlsx": ("entit",),
    "xxe.xlsx": ("entit",),
    "zip_bomb.xlsx": ("zip bomb",),
    "shared_strings_flood.xlsx": ("shared-string table holds", "save it as csv"),
    "sparse_corners.xlsx": ("spans 1,048,576+ rows x 16,384 columns", "save it as csv"),
    "many_parts.xlsx": ("20,005 parts",),
    "entity_in_shared_strings.xlsx": ("sharedStrings.xml", "entit"),
    "repeat_bomb.ods": ("spans", "save it as csv"),
    "wide_header.csv": ("more than 32,768 columns",),
    "long_line.csv": ("line of the file is 41,943,040 bytes long",),
}


@pytest.mark.timeout(90)  # a hang guard only: bench/bench_hostile.py measures how fast each is refused
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_one_clear_line(name: str, tmp_path: Path, import_env: dict[str, str]) -> None:
    result = dry_run(name, tmp_path, import_env)
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error: ") and name in line, line
    for word in REFUSED[name]:
        assert word.lower() in line.lower(), (word, line)
    assert "Traceback" not in result.output
    assert "root:" not in line  # /etc/passwd (XXE) never shows


# --- files that proceed --------------------------------------------------------------------------


def report_of(result: Result, exit_code: int) -> dict[str, Any]:
    assert result.exit_code == exit_code, (result.exit_code, result.output[:2000])
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


def rows_by_number(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    numbers = [r["row"] for r in report["rows"]]
    assert len(numbers) == len(set(numbers)), f"a row is reported twice: {numbers}"
    return {r["row"]: r for r in report["rows"]}


def planned_name(row: dict[str, Any]) -> Any:
    return row["changes"]["$name"][1]


def codes(row: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((i["code"], i["severity"]) for i in row["issues"])


def check_cp1252(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3]
    assert [planned_name(rows[n]) for n in (2, 3)] == ["Café Müller", "€uro Traders"]
    assert all(r["outcome"] == "would create" for r in rows.values())
    assert [i["code"] for i in rep["file_issues"]] == ["encoding_guessed"]


def check_utf16(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3]
    assert [planned_name(rows[n]) for n in (2, 3)] == ["ÜberCorp", "Zürich Labs"]
    assert [rows[n]["key"] for n in (2, 3)] == ["U16-1", "U16-2"]


def check_ragged(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3, 4]
    assert [planned_name(rows[n]) for n in (2, 3, 4)] == ["Fine Co", "Too Many Co", "Short Co"]
    all_issues = [(i["code"], i.get("row")) for i in rep["file_issues"]] + [
        (i["code"], n) for n, r in rows.items() for i in r["issues"]
    ]
    assert ("ragged_row", 3) in all_issues
    assert codes(rows[4]) == [("missing_key", "warning")]
    assert rows[3]["key"] == "RAG-2" and rows[4]["key"] is None


def check_formulas_csv(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3, 4, 5, 6, 7]
    assert [planned_name(rows[n]) for n in range(2, 8)] == [
        "=cmd|' /C calc'!A0",
        '=HYPERLINK("http://evil.test/?x=1","click me")',
        "+1+2",
        "-2+3",
        "@SUM(1+1)",
        "=1+1",
    ]
    assert all(r["outcome"] == "would create" for r in rows.values())


def check_formulas_xlsx(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3, 4]
    assert planned_name(rows[2]) == "click me"  # the cached value, never the formula
    assert planned_name(rows[4]) == "=1+1"  # a text cell stays text
    assert rows[3]["outcome"] == "would fail"  # the formula has no saved value: never written half
    assert [(i["code"], i["severity"], i["column"], i["value"]) for i in rows[3]["issues"]] == [
        ("formula_without_value", "error", "A", "=cmd|' /C calc'!A0"),
    ]
    assert rep["file_issues"] == []


def check_merged(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3, 4]
    assert [rows[n]["outcome"] for n in (2, 3, 4)] == ["would create"] * 3
    assert [planned_name(rows[n]) for n in (2, 3, 4)] == ["Merged Co", "Merged Co", "Plain Co"]
    # the name repeats row 2's, so the planner also asks whether it is the same company
    assert [(i["code"], i["severity"], i["column"]) for i in rows[3]["issues"]] == [
        ("merged_cells", "warning", "A"),
        ("possible_duplicate", "warning", "A"),
    ]
    assert rows[2]["issues"] == [] and rep["file_issues"] == []


def check_empty(rep: dict[str, Any]) -> None:
    assert rep["rows"] == [] and rep["ok"] is True


def check_nul(rep: dict[str, Any]) -> None:
    """NUL characters are dropped by the reader: they never reach the API."""
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3, 4]
    assert "\\u0000" not in json.dumps(rep) and "\x00" not in json.dumps(rep)
    assert [planned_name(rows[n]) for n in (2, 3)] == ["NulCo", "Clean Co"]
    assert rows[4]["outcome"] == "would fail"  # its name was only NULs, so it is blank
    assert codes(rows[4]) == [("required_field_missing", "error")]


def check_big_cell(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3, 4]
    assert [rows[n]["outcome"] for n in (2, 3, 4)] == ["would create", "would fail", "would create"]
    assert ("cell_too_large", "error") in codes(rows[3])
    assert [(i["row"], i["column"]) for i in rows[3]["issues"] if i["code"] == "cell_too_large"] == [(3, "A")]


def check_big_cell_late(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == list(range(2, 21))
    assert [n for n, r in rows.items() if r["outcome"] != "would create"] == [15]
    assert [(i["code"], i["severity"], i["column"]) for i in rows[15]["issues"]] == [
        ("cell_too_large", "error", "C")
    ]


def check_many_columns(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2]
    assert planned_name(rows[2]) == "Wide Co" and rows[2]["outcome"] == "would create"
    unknown = [i for i in rep["file_issues"] if i["code"] == "unknown_column"]
    assert unknown and all(i["severity"] == "warning" for i in unknown)


def check_lookalike(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert sorted(rows) == [2, 3, 4]
    assert [rows[n]["key"] for n in (2, 3, 4)] == ["ACC (EU)", "ACC-2", "ACC-3"]
    assert planned_name(rows[2]) == "Acme (Europe)"


def check_many_sheets(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert rep["sheet"] == "S1" and [planned_name(r) for r in rows.values()] == ["Sheet One Co"]


def check_deep(rep: dict[str, Any]) -> None:
    rows = rows_by_number(rep)
    assert [planned_name(r) for r in rows.values()] == ["Deep Co"] and rows[2]["key"] == "DEEP-1"


PROCEEDS: dict[str, tuple[int, Callable[[dict[str, Any]], None]]] = {
    "cp1252.csv": (0, check_cp1252),
    "utf16le_nobom.csv": (0, check_utf16),
    "ragged.csv": (0, check_ragged),
    "formulas.csv": (0, check_formulas_csv),
    "formulas.xlsx": (1, check_formulas_xlsx),
    "merged.xlsx": (0, check_merged),
    "header_only.csv": (0, check_empty),
    "header_only.xlsx": (0, check_empty),
    "nul_bytes.csv": (1, check_nul),
    "big_cell.csv": (1, check_big_cell),
    "big_cell_late.csv": (1, check_big_cell_late),
    "many_columns.csv": (0, check_many_columns),
    "header_lookalike.csv": (0, check_lookalike),
    "many_sheets.xlsx": (0, check_many_sheets),
    "deep_xml.xlsx": (0, check_deep),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(PROCEEDS))
def test_proceeds_with_row_issues(name: str, tmp_path: Path, import_env: dict[str, str]) -> None:
    exit_code, check = PROCEEDS[name]
    result = dry_run(name, tmp_path, import_env)
    report = report_of(result, exit_code)
    assert report["dry_run"] is True
    check(report)


def test_every_corpus_file_is_classified_and_current() -> None:
    assert set(REFUSED) | set(PROCEEDS) == set(ALL_FILES)
    assert not set(REFUSED) & set(PROCEEDS)
    for name, builder in make_corpus.COMMITTED.items():
        assert (BROKEN / name).read_bytes() == builder(), f"{name} differs from make_corpus.py"
    documented = (BROKEN / "README.md").read_text()
    for name in ALL_FILES:
        assert f"`{name}`" in documented, f"{name} is not documented in README.md"


# --- fuzzing the readers -------------------------------------------------------------------------


def read_all(data: bytes, suffix: str) -> None:
    """Open and drain a table; only InputFileError may escape."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"fuzz{suffix}"
        p.write_bytes(data)
        try:
            with open_table(p) as table:
                for row in table.rows:
                    assert len(row.cells) == len(table.headers)
        except InputFileError as exc:
            assert str(p) in str(exc) or p.name in str(exc)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".tsv", ".dat"]))
def test_fuzz_random_bytes(data: bytes, suffix: str) -> None:
    read_all(data, suffix)


CSV_CHARS = st.sampled_from(list("ab ,;|\t\"'\n\r=+-@é€\x00\x1a\ufeff\u2028()$#"))


@FUZZ
@given(
    rows=st.lists(st.lists(st.text(CSV_CHARS, max_size=12), max_size=6), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "utf-32"]),
    suffix=st.sampled_from([".csv", ".xlsx"]),
)
def test_fuzz_random_csv_text(rows: list[list[str]], delimiter: str, encoding: str, suffix: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    read_all(buf.getvalue().encode(encoding, "replace"), suffix)


GOOD_XLSX = make_corpus.good_xlsx()


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), flips=st.integers(1, 12), cut=st.booleans())
def test_fuzz_damaged_workbooks(seed: int, flips: int, cut: bool) -> None:
    rng = random.Random(seed)
    data = bytearray(GOOD_XLSX)
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if cut:
        data = data[: rng.randrange(len(data))]
    read_all(bytes(data), ".xlsx")


def test_known_damaged_workbook_seed() -> None:
    """A bit flip in the zip directory once made zipfile raise NotImplementedError."""
    rng = random.Random(0)
    for _ in range(40):
        data = bytearray(GOOD_XLSX)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        read_all(bytes(data), ".xlsx")
