"""A workbook's rows kept from the first read for its results sheet (issue 13): the results are the
same as reading the file again, which happens only when the rows outgrow the budget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bulkio import read
from bulkio.pipeline import import_file
from bulkio.read import CellBudget, KeptRows, SourceRow
from bulkio.workbook import import_workbook


def test_kept_rows_are_the_rows_read_while_the_budget_lasts() -> None:
    rows = [SourceRow(n, [f"a{n}", n]) for n in range(2, 12)]  # 3 cells each, with the row
    kept = KeptRows(CellBudget(30))
    assert list(kept.tap(iter(rows))) == rows
    assert kept.complete and kept.rows is not None
    assert all(a is b for a, b in zip(kept.rows, rows, strict=True))  # the reader's own rows

    budget = CellBudget(29)  # one cell short: nothing is kept, and the budget is given back
    kept = KeptRows(budget)
    assert list(kept.tap(iter(rows))) == rows
    assert not kept.complete and kept.rows is None and budget.left == 29

    kept = KeptRows(CellBudget(100))
    first = kept.tap(iter(rows))
    next(first)
    assert not kept.complete  # a read that stopped early keeps nothing it can give again


def _calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[str]:
    """Every call of ``module.name`` (a reader taking a path first), by file name."""
    calls: list[str] = []
    real = getattr(module, name)

    def spy(path: Any, *a: Any, **kw: Any) -> Any:
        calls.append(Path(path).name)
        return real(path, *a, **kw)

    monkeypatch.setattr(module, name, spy)
    return calls


def _opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return _calls(monkeypatch, read, "open_table")


def _sheet_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets if ws.title != "Summary"}


def test_xlsx_results_from_kept_rows_equal_reading_again(
    tmp_path: Path, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run of an XLSX (a title row, a blank row, a merged cell, a date, a number, a formula
    without a saved value, a bad number): the results sheet and the errors file are byte for byte the same whether
    the rows were kept or read again; kept, the file is opened once."""
    src = tmp_path / "accounts.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Accounts export"])
    ws.append(["External ID", "Name", "Annual Revenue", "Renewal Date", "Website"])
    ws.append(["K-1", "Acme", 1200.5, dt.datetime(2027, 3, 15), "https://acme.example.com"])
    ws.append([])
    ws.append(["K-2", "=cmd|' /C calc'!A0", "lots", None, None])
    ws.append(["K-3", "Merged Co", 10, None, "https://merged.example.com"])
    ws.append(["K-4", None, 20, None, None])
    ws.merge_cells("B6:B7")
    wb.save(src)

    def run(tag: str) -> tuple[bytes, bytes]:
        results, errors = tmp_path / f"{tag}.results.xlsx", tmp_path / f"{tag}.errors.xlsx"
        import_file(
            src, "account", client=client, dry_run=True, results_path=results, errors_path=errors,
            header_row=2,
        )  # fmt: skip
        return results.read_bytes(), errors.read_bytes()

    opens = _opens(monkeypatch)
    kept = run("kept")
    assert opens == ["accounts.xlsx"]
    monkeypatch.setattr(read, "KEEP_CELLS", 0)
    again = run("again")
    assert opens == ["accounts.xlsx"] * 4  # the first read, then the results and the errors file
    assert kept == again
    rows = _sheet_values(tmp_path / "kept.results.xlsx")["Sheet"]
    assert [r[0] for r in rows] == [None, "External ID", "K-1", None, "K-2", "K-3", "K-4"]
    assert rows[2][3] == dt.datetime(2027, 3, 15) and rows[2][2] == 1200.5  # typed as read
    assert rows[4][5] == "would fail" and "formula_without_value" in rows[4][8]
    assert rows[6][1] == "Merged Co" and "merged_cells" in rows[6][8]  # filled down, as read


def test_workbook_results_from_kept_rows_equal_reading_again(
    tmp_path: Path, sandbox: Any, empty_org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workbook dry run: every sheet's results are the same from the kept rows as from reading
    the workbook again; kept, each sheet is opened once."""
    from bulkio.client import LightfieldClient

    book = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    accounts = wb.create_sheet("Accounts")
    for r in (["External ID", "Name"], ["A-1", "Acme Rockets"], ["A-2", None], [], ["A-3", "Bolt"]):
        accounts.append(r)
    contacts = wb.create_sheet("Contacts")
    for r in (
        ["External ID", "First name", "Last name", "Email", "Accounts"],
        ["C-1", "Ann", "Archer", "ann@acme.example.com", "Acme Rockets"],
        ["C-2", "Bo", "Baker", "not an email", "A-2"],
    ):
        contacts.append(r)
    wb.save(book)

    def run(tag: str) -> dict[str, list[tuple[Any, ...]]]:
        with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
            import_workbook(
                book, client=lf, dry_run=True, results_path=tmp_path / f"{tag}.xlsx",
                ledger_path=tmp_path / "ledger.db",
            )  # fmt: skip
        return _sheet_values(tmp_path / f"{tag}.xlsx")

    opens = _opens(monkeypatch)
    kept = run("kept")
    first = len(opens)
    assert first >= 2 and set(opens) == {"book.xlsx"}
    monkeypatch.setattr(read, "KEEP_CELLS", 0)
    again = run("again")
    assert len(opens) == 2 * first + 2  # read again: one more open per sheet
    assert kept == again
    assert [r[0] for r in kept["Accounts"]] == ["External ID", "A-1", "A-2", None, "A-3"]


def test_csv_to_xlsx_results_from_kept_rows_equal_its_lines_read_again(
    tmp_path: Path, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV (BOM, a quoted multi-line cell, a blank line, a formula trigger, padding, a totals
    row) with XLSX results: the same bytes from the kept rows as from the file's lines read again,
    which happens only when the rows outgrow the budget."""
    from bulkio import results_csv

    src = tmp_path / "accounts.csv"
    src.write_bytes(
        "\ufeffExternal ID,Name,Annual Revenue,Website\r\n"
        'S-1,"Acme\r\nRockets",1200.50,https://acme.example.com\r\n'
        "\r\n"
        "S-2,=HYPERLINK(1),lots,\r\n"
        'S-3,  Bolt  ,"1,000",https://bolt.example.com\r\n'
        "Total,,2200.5,\r\n".encode()
    )
    reads = _calls(monkeypatch, results_csv, "source_rows")

    def run(tag: str) -> bytes:
        out = tmp_path / f"{tag}.xlsx"
        import_file(src, "account", client=client, dry_run=True, results_path=out)
        return out.read_bytes()

    kept = run("kept")
    assert reads == []
    monkeypatch.setattr(read, "KEEP_CELLS", 0)
    assert run("again") == kept
    assert reads == ["accounts.csv"]
    rows = _sheet_values(tmp_path / "kept.xlsx")["Results"]
    assert [r[0] for r in rows] == ["External ID", "S-1", None, "S-2", "S-3"]
    assert rows[1][1] == "Acme\nRockets" and rows[3][1] == "=HYPERLINK(1)" and rows[4][1] == "Bolt"
