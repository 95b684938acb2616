"""bulkio is typed for its users: ``mypy --strict`` on a user's script sees bulkio's types (py.typed
at the package root), issues are objects with attributes, ``connect()`` yields a typed client that
satisfies the :class:`~bulkio.protocols.CrmClient` protocol, and ``export_frames`` gives real dtypes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import bulkio
from bulkio.client import LightfieldClient
from bulkio.protocols import CrmClient

ROOT = Path(__file__).resolve().parent.parent

USER_SCRIPT = """
from __future__ import annotations

import pandas as pd

import bulkio
from bulkio.config import connect
from bulkio.protocols import CrmClient


def first_code(report: bulkio.RunReport) -> str:
    return report.rows[0].issues[0].code


def row_of(issue: bulkio.Issue) -> int | None:
    return issue.row


def run(client: CrmClient) -> dict[str, pd.DataFrame]:
    report = bulkio.import_file("accounts.csv", "account", client=client, dry_run=True)
    print(first_code(report), report.counts.created, report.duration_s)
    return bulkio.export_frames(client, ["account"])


def main() -> None:
    with connect() as client:
        frames = run(client)
        print(frames["account"].dtypes)
        info = bulkio.make_template(client, "account", "t.xlsx")
        print(info.path)
"""

PLANTED = """
def planted(report: bulkio.RunReport) -> int:
    return report.rows[0].issues[0].code  # PLANTED: a str returned as int
"""


def run_mypy(folder: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict on the user's files, finding bulkio as an *installed* package (PYTHONPATH, not
    the files' folder): so without py.typed it would skip bulkio and report nothing."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            "--python-executable",
            sys.executable,
            *files,
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_py_typed_at_the_package_root_and_in_package_data() -> None:
    assert (ROOT / "bulkio" / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "py.typed" in tomllib.loads(pyproject)["tool"]["setuptools"]["package-data"]["bulkio"]


@pytest.mark.slow
def test_mypy_strict_on_a_user_script_catches_the_planted_error(tmp_path: Path) -> None:
    (tmp_path / "user_ok.py").write_text(textwrap.dedent(USER_SCRIPT))
    (tmp_path / "user_bad.py").write_text(textwrap.dedent(USER_SCRIPT) + textwrap.dedent(PLANTED))
    result = run_mypy(tmp_path, "user_ok.py", "user_bad.py")
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    planted_line = next(
        n
        for n, line in enumerate((tmp_path / "user_bad.py").read_text().splitlines(), 1)
        if "PLANTED" in line
    )
    planted = f'user_bad.py:{planted_line}: error: Incompatible return value type (got "str", expected "int")'
    assert errors == [f"{planted}  [return-value]"], result.stdout + result.stderr
    assert result.returncode == 1


def test_connect_yields_a_client_that_satisfies_the_protocol(sandbox: Any, org: Any) -> None:
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        assert isinstance(lf, CrmClient)
    assert isinstance(object(), CrmClient) is False
    # connect() is annotated with the concrete client, not Any
    assert "LightfieldClient" in str(bulkio.connect.__wrapped__.__annotations__["return"])


def test_report_issues_are_objects_and_json_keeps_its_shape(client: LightfieldClient, tmp_path: Path) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("Name,external_id,Billing Email\nGood Co,T-1,a@example.com\nBad Co,T-2,not-an-email\n")
    report = bulkio.import_file(src, "account", client=client, dry_run=True)
    bad = next(r for r in report.rows if r.row == 3)
    issue = bad.issues[0]
    assert isinstance(issue, bulkio.Issue)
    assert (issue.code, issue.row, issue.column, issue.field) == ("invalid_email", 3, "C", "billingEmail")
    assert bad.outcome == "would fail"
    as_json = report.to_dict()
    row3 = next(r for r in as_json["rows"] if r["row"] == 3)
    assert row3["issues"][0] == issue.to_dict()


def test_export_frames_dtypes(client: LightfieldClient) -> None:
    frames = bulkio.export_frames(client, ["opportunity", "account"])
    opp, acc = frames["opportunity"], frames["account"]
    assert len(opp) and len(acc)
    assert isinstance(opp["Close Date (closeDate)"].dtype, pd.DatetimeTZDtype)
    assert str(opp["Close Date (closeDate)"].dt.tz) == "UTC"
    assert opp["Amount (amount)"].dtype == "Float64"
    assert opp["Probability (probability)"].dtype == "Int64"  # whole numbers
    assert isinstance(opp["Stage* ($stage)"].dtype, pd.CategoricalDtype)
    assert list(opp["Stage* ($stage)"].cat.categories) == [
        "Lead",
        "Qualified",
        "Proposal",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    ]
    assert opp["Name* ($name)"].dtype == "string"
    assert opp["Record ID (id)"].dtype == "string"
    assert acc["Is Customer (isCustomer)"].dtype == "boolean"
    assert acc["Annual Revenue (annualRevenue)"].dtype == "Float64"
    assert acc["Renewal Date (renewalDate)"].dtype == opp["Close Date (closeDate)"].dtype
    # the values are the API's: a stage label, an amount, a date in UTC
    first = client.retrieve("opportunity", str(opp["Record ID (id)"].iloc[0]))
    expected_close = pd.Timestamp(first["fields"]["closeDate"]["value"]).tz_convert("UTC")
    assert opp["Close Date (closeDate)"].iloc[0] == expected_close
    assert opp["Amount (amount)"].iloc[0] == float(first["fields"]["amount"]["value"])
