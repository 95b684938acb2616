"""An interrupted write of a results sheet or an export never replaces a good file with half a
file, and never leaves temporary files behind.

Each case first writes a good file, then repeats the write with a fault injected midway (a row
source that raises after N rows, or a workbook save that fails), and checks that the previous
file is byte-for-byte intact and that the directory holds nothing else.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES, WorksheetWriter

from bulkio import sheets


class Boom(RuntimeError):
    """The injected fault."""


def rows_then_boom(n: int, *, fail_after: int | None) -> Iterator[list[Any]]:
    for i in range(n):
        if fail_after is not None and i == fail_after:
            raise Boom(f"injected failure after {fail_after} rows")
        yield [f"Row {i}", i]


def fail_after_rows(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """Make openpyxl's worksheet writer raise after it has serialised ``n`` rows."""
    original = WorksheetWriter.write_row
    written = {"rows": 0}

    def write_row(self: Any, *args: Any, **kwargs: Any) -> Any:
        written["rows"] += 1
        if written["rows"] > n:
            raise Boom(f"injected failure after {n} rows")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WorksheetWriter, "write_row", write_row)


def only_file(directory: Path, name: str) -> None:
    """``directory`` holds exactly ``name`` (no temp files, no partial siblings)."""
    assert sorted(p.name for p in directory.iterdir()) == [name]


def test_write_csv_interrupted_keeps_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    sheets.write_csv(target, ["Name", "N"], rows_then_boom(50, fail_after=None))
    good = target.read_bytes()
    with pytest.raises(Boom):
        sheets.write_csv(target, ["Name", "N"], rows_then_boom(5000, fail_after=3000))
    assert target.read_bytes() == good
    only_file(tmp_path, "out.csv")
    with open(target, encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == 51


def test_write_csv_interrupted_without_previous_file_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(Boom):
        sheets.write_csv(tmp_path / "new.csv", ["Name"], rows_then_boom(10, fail_after=5))
    assert list(tmp_path.iterdir()) == []


def test_xlsx_save_interrupted_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.xlsx"
    wb = sheets.new_workbook()
    ws = wb.create_sheet("Data")
    sheets.write_table(ws, ["Name", "N"], rows_then_boom(20, fail_after=None))
    sheets.save_workbook(wb, target)
    good = target.read_bytes()

    # The next save dies inside openpyxl's sheet writer after 3,000 of 5,000 rows.
    wb2 = sheets.new_workbook()
    sheets.write_table(wb2.create_sheet("Data"), ["Name", "N"], rows_then_boom(5000, fail_after=None))
    fail_after_rows(monkeypatch, 3000)
    with pytest.raises(Boom):
        sheets.save_workbook(wb2, target)
    assert target.read_bytes() == good
    only_file(tmp_path, "out.xlsx")
    assert load_workbook(target, read_only=True)["Data"].max_row == 21


# --- end to end: results sheets and exports --------------------------------------------------------


def write_accounts(path: Path, n: int, suffix: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id"])
        for i in range(n):
            w.writerow([f"Atomic Co {i}{suffix}", f"AT-{i:03d}"])


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    """Files in ``directory`` other than ``keep`` (temp files of an interrupted write)."""
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("fault", [Boom, KeyboardInterrupt])
def test_interrupted_results_sheet_keeps_previous(
    sandbox: Any, tmp_path: Path, suffix: str, fault: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkio import results
    from bulkio.client import LightfieldClient
    from bulkio.pipeline import import_file

    org = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(org.org_id, per_second=200)
    work = tmp_path / "work"
    work.mkdir()
    src, out, ledger = work / "accounts.csv", work / f"results{suffix}", tmp_path / "ledger.db"
    write_accounts(src, 60, "")
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        report = import_file(src, "account", client=lf, results_path=out, ledger_path=ledger)
        assert report.counts.created == 60
        good = out.read_bytes()

        write_accounts(src, 60, " v2")
        original = results.outcome_cells
        calls = {"n": 0}

        def outcome_cells(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] > 30:
                raise fault("injected while writing the results sheet")
            return original(*args, **kwargs)

        monkeypatch.setattr(results, "outcome_cells", outcome_cells)
        temp_before = list(ALL_TEMP_FILES)
        with pytest.raises(fault):
            import_file(src, "account", client=lf, results_path=out, ledger_path=ledger)
    assert calls["n"] == 31
    assert out.read_bytes() == good
    # openpyxl's own streaming temp file for the half-written sheet is gone too (not left until exit)
    assert ALL_TEMP_FILES == temp_before
    assert leftovers(work, {"accounts.csv", out.name}) == []


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("fault", [Boom, KeyboardInterrupt])
def test_interrupted_export_keeps_previous(
    sandbox: Any, tmp_path: Path, fmt: str, fault: type[BaseException]
) -> None:
    from bulkio.client import LightfieldClient
    from bulkio.events import Progress
    from bulkio.export import export_objects

    org = sandbox.create_org(seed="demo")
    target = tmp_path / f"accounts.{fmt}"
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        export_objects(lf, ["account"], target)
        good = target.read_bytes()

        def on_event(event: Any) -> None:
            if isinstance(event, Progress) and event.name.startswith("export:"):
                raise fault("injected while rows stream into the file")

        with pytest.raises(fault):
            export_objects(lf, ["account"], target, on_event=on_event)
    assert target.read_bytes() == good
    assert leftovers(tmp_path, {target.name}) == []
