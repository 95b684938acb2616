"""bulkio's workbooks opened and saved by a real spreadsheet application: LibreOffice Calc,
headless (``soffice --convert-to xlsx``), which rewrites every part of the file its own way (shared
strings, styles, number formats, validations). After that: a filled-in template imports, the
exported pipeline workbook re-imports with 0 writes, and a results workbook keeps its types.

CI installs LibreOffice (.ci/run); without ``soffice`` on PATH these tests skip.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bulkio.client import LightfieldClient
from bulkio.export import export_objects
from bulkio.pipeline import import_file
from bulkio.template import make_template
from bulkio.workbook import import_workbook

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui); CI installs it",
)


def saved_by_calc(src: Path, work: Path, fmt: str = "xlsx") -> Path:
    """``src`` opened and saved again by LibreOffice Calc into ``work/calc/`` (a profile of its own
    in ``work``: tests run in parallel)."""
    out = work / "calc"
    out.mkdir(exist_ok=True)
    filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods"}
    assert SOFFICE is not None
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={(work / 'lo-profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            filters[fmt],
            "--outdir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    saved = out / f"{src.stem}.{fmt}"
    assert saved.exists(), f"LibreOffice did not write {saved}"
    return saved


@pytest.fixture
def lf(sandbox: Any, org: Any) -> Any:
    sandbox.set_faults(org.org_id, index_lag_ms=0)  # the subject is the file, not list lag
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as client:
        yield client


def test_template_filled_in_and_saved_by_calc_imports(
    sandbox: Any, org: Any, lf: Any, tmp_path: Path
) -> None:
    template = tmp_path / "deals.xlsx"
    make_template(lf, "opportunity", template)
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    header = {str(c.value): c.column for c in ws[1] if c.value}

    def col(key: str) -> int:
        return next(n for h, n in header.items() if f"({key})" in h)

    account = sandbox.records(org.org_id, "account")[0]["fields"]["$name"]["value"]
    close = dt.datetime(2026, 10, 15)
    for i in range(3):
        r = i + 2
        ws.cell(r, col("external_id")).value = f"LO-{i}"
        ws.cell(r, col("$name")).value = f"Calc deal {i}"
        ws.cell(r, col("$stage")).value = "Proposal"
        ws.cell(r, col("amount")).value = 1000 * (i + 1) + 0.5
        ws.cell(r, col("closeDate")).value = close
        ws.cell(r, col("$account")).value = account
    wb.save(template)
    for fmt in ("xlsx", "ods"):  # saved as Excel, and in Calc's own format
        saved = saved_by_calc(template, tmp_path, fmt)
        report = import_file(saved, "opportunity", client=lf, results_path=tmp_path / f"r-{fmt}.xlsx")
        assert report.ok, [(r.row, r.issues) for r in report.rows if r.issues]
        want = (3, 0) if fmt == "xlsx" else (0, 3)  # the second file finds the first's records
        assert (report.counts.created, report.counts.unchanged) == want, fmt
    deals = {
        r["fields"]["external_id"]["value"]: r
        for r in sandbox.records(org.org_id, "opportunity")
        if str(r["fields"].get("external_id", {}).get("value")).startswith("LO-")
    }
    assert sorted(deals) == ["LO-0", "LO-1", "LO-2"]
    assert deals["LO-1"]["fields"]["amount"]["value"] == 2000.5
    assert deals["LO-1"]["fields"]["closeDate"]["value"].startswith("2026-10-15")


def test_exported_pipeline_saved_by_calc_reimports_with_no_writes(
    sandbox: Any, org: Any, lf: Any, tmp_path: Path
) -> None:
    book = tmp_path / "pipeline.xlsx"
    export_objects(lf, "pipeline", book)
    saved = saved_by_calc(book, tmp_path)
    w0 = sandbox.stats(org.org_id)["writes"]
    report = import_workbook(saved, client=lf, ledger_path=tmp_path / "ledger.db")
    assert report.ok
    assert report.counts.unchanged == report.counts.total == 165
    assert sandbox.stats(org.org_id)["writes"] == w0
    assert [i for s in report.sheets for i in s.file_issues] == []  # no warnings either


def test_results_workbook_saved_by_calc_keeps_its_types(
    sandbox: Any, org: Any, lf: Any, tmp_path: Path
) -> None:
    src = tmp_path / "accounts.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["External ID", "Name", "Annual Revenue", "Renewal Date", "Is Customer"])
    ws.append(["T-1", "Typed One", 1250000, dt.datetime(2027, 1, 31), True])
    ws.append(["T-2", None, 7.5, dt.datetime(2027, 2, 28), False])  # no name: fails
    ws.append(["T-3", None, None, None, None])
    ws.cell(4, 2).value, ws.cell(4, 2).data_type = '=HYPERLINK("http://evil.test")', "s"  # a text cell
    wb.save(src)
    report = import_file(src, "account", client=lf, results_path=tmp_path / "results.xlsx")
    assert report.counts.created == 2 and report.counts.failed == 1
    saved = saved_by_calc(Path(report.results_path or ""), tmp_path)
    # the values a spreadsheet shows (Calc saves a boolean as the formula =TRUE() with its value)
    res = openpyxl.load_workbook(saved, data_only=True).worksheets[0]
    header = [c.value for c in res[1]]
    rows = {r[0].value: {h: c for h, c in zip(header, r, strict=False)} for r in res.iter_rows(min_row=2)}
    one, two, three = rows["T-1"], rows["T-2"], rows["T-3"]
    assert one["Annual Revenue"].value == 1250000 and one["Annual Revenue"].data_type == "n"
    assert two["Annual Revenue"].value == 7.5
    assert one["Renewal Date"].value == dt.datetime(2027, 1, 31)  # a date cell, still
    assert one["Is Customer"].value is True and two["Is Customer"].value is False
    assert one["Outcome"].value == "created" and two["Outcome"].value == "failed"
    # and the cells as stored: the name that looks like a formula is a text cell, not a formula
    name = openpyxl.load_workbook(saved).worksheets[0].cell(three["Name"].row, three["Name"].column)
    assert (name.value, name.data_type) == ('=HYPERLINK("http://evil.test")', "s")
    assert "required" in str(two["Errors"].value)
    # the filter buttons survive (a frozen header is a view setting, which a headless Calc, having
    # no view, does not save)
    assert res.auto_filter.ref == f"A1:{res.cell(1, res.max_column).column_letter}4"
