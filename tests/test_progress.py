"""Progress bars have a total (so an ETA): CSV rows counted in a byte pre-pass, XLSX rows from the
sheet's <dimension> (or its last <row> when a streaming writer left the dimension out)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from bulkio import sheets
from bulkio.cli.console import ProgressBars
from bulkio.client import LightfieldClient
from bulkio.events import Event, PhaseStarted, Progress
from bulkio.pipeline import import_file
from bulkio.rowcount import count_rows


def test_count_csv_rows(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(b"Name,Key\r\nA,1\r\nB,2\r\nC,3\r\n")
    assert count_rows(p) == 3
    p.write_bytes(b"Name,Key\nA,1\nB,2\nC,3")  # no line break after the last row
    assert count_rows(p) == 3
    p.write_bytes(b"title\n\nName,Key\nA,1\n")
    assert count_rows(p, header_row=3) == 1
    p.write_bytes("Name\n".encode("utf-16") + "A\nB\n".encode("utf-16-le"))
    assert count_rows(p) == 2
    assert count_rows(tmp_path / "missing.csv") is None


def test_count_xlsx_rows_with_and_without_dimension(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Accounts"
    for i in range(41):
        ws.append([f"row {i}", i])
    other = wb.create_sheet("Other")
    other.append(["only a header"])
    wb.save(tmp_path / "excel.xlsx")  # openpyxl's normal mode writes <dimension ref="A1:B41"/>
    assert count_rows(tmp_path / "excel.xlsx") == 40
    assert count_rows(tmp_path / "excel.xlsx", sheet="Accounts", header_row=2) == 39
    assert count_rows(tmp_path / "excel.xlsx", sheet="Other") == 0
    assert count_rows(tmp_path / "excel.xlsx", sheet="Nope") is None

    streamed = sheets.new_workbook(write_only=True)  # bulkio's exports: no <dimension>
    sheets.write_table(streamed.create_sheet("Big"), ["Name", "N"], ([f"r{i}", i] for i in range(2500)))
    sheets.save_workbook(streamed, tmp_path / "streamed.xlsx")
    assert count_rows(tmp_path / "streamed.xlsx") == 2500


@pytest.mark.parametrize("name", ["messy_opportunities.csv", "messy_opportunities.xlsx"])
def test_import_phases_carry_totals(
    name: str, sandbox: Any, org: Any, data_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / name
    shutil.copy(data_dir / "import" / name, src)
    events: list[Event] = []
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        import_file(src, "opportunity", client=lf, ledger_path=tmp_path / "l.db", on_event=events.append)
    totals = {e.name: e.total for e in events if isinstance(e, PhaseStarted)}
    assert totals["read"] == totals["plan"] == totals["write"] == 15
    done = {
        phase: sum(e.count for e in events if isinstance(e, Progress) and e.name == phase)
        for phase in ("read", "write")
    }
    assert done == {"read": 15, "write": 15}  # the totals are reached exactly


def test_bar_shows_total_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr("sys.stderr", err)
    bars = ProgressBars()
    bars(PhaseStarted("write", 15))
    for _ in range(5):
        bars(Progress("write"))
    bars.bars["write"].refresh()
    text = err.getvalue()
    assert "5/15" in text and "<" in text  # tqdm's "[elapsed<remaining" is the ETA
    bars.close()
