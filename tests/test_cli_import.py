"""`bulkio import`: exit codes, messages, and --format json equal to the library's report."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.errors import AuthError
from bulkio.pipeline import import_file

SAMPLES = Path(__file__).parent.parent / "samples"


def run(sandbox: Any, org: Any, args: list[str]) -> Any:
    env = {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    return CliRunner().invoke(cli, ["import", *args, "-q"], env=env, catch_exceptions=False)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_clean_import_exits_0_and_prints_summary(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = write_csv(tmp_path / "a.csv", [["Name", "external_id"], ["Cli Co", "CLI-1"], ["Cli Two", "CLI-2"]])
    result = run(sandbox, org, ["account", str(src)])
    assert result.exit_code == 0, result.output
    assert "created    2" in result.output and "a.results.csv" in result.output
    assert (tmp_path / "a.results.csv").exists()
    again = run(sandbox, org, ["account", str(src)])
    assert again.exit_code == 0 and "unchanged  2" in again.output


def test_failed_rows_exit_1(sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = write_csv(
        tmp_path / "a.csv",
        [["Name", "external_id", "Tier"], ["Ok Co", "CLI-3", "SMB"], ["Bad Co", "CLI-4", "Gold"]],
    )
    result = run(sandbox, org, ["account", str(src), "--results", "out.csv"])
    assert result.exit_code == 1
    assert "row 3: failed: column C (Tier): unknown_option" in result.output
    assert (tmp_path / "out.csv").exists()


def test_cannot_start_exits_2(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = run(sandbox, org, ["account", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "Error:" in missing.output and "nope.csv" in missing.output
    src = write_csv(tmp_path / "a.csv", [["Name"], ["X"]])
    bad_key = CliRunner().invoke(
        cli,
        ["import", "account", str(src), "-q"],
        env={"LIGHTFIELD_API_KEY": "sk_lf_wrong", "LIGHTFIELD_BASE_URL": sandbox.url},
    )
    assert bad_key.exit_code == 2 and "401" in bad_key.output
    assert "sk_lf_wrong" not in bad_key.output


def test_results_over_the_input_exits_2(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = write_csv(tmp_path / "a.csv", [["Name", "external_id"], ["Same Co", "CLI-9"]])
    before = src.read_bytes()
    result = run(sandbox, org, ["account", "a.csv", "--results", "a.csv"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: The results sheet would replace the input file a.csv: choose "
        "another results file (e.g. a.results.csv).\n"
    )
    assert src.read_bytes() == before


def test_stopped_run_names_the_results_sheet(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = write_csv(tmp_path / "a.csv", [["Name", "external_id"], ["Stop Co", "CLI-7"]])

    def revoked(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise AuthError("The API key was revoked.", status=401)

    monkeypatch.setattr(LightfieldClient, "create", revoked)
    result = run(sandbox, org, ["account", src.name])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: 401 error: The API key was revoked.",
        "The results sheet a.results.csv shows what was written (the other rows say not_written).",
    ]
    assert "not_written" in (tmp_path / "a.results.csv").read_text(encoding="utf-8")


def test_dry_run_prints_plan(sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = sandbox.stats(org.org_id)["writes"]
    src = write_csv(tmp_path / "o.csv", [["external_id", "Stage"], ["OPP-0005", "Negotiation"]])
    result = run(sandbox, org, ["opportunity", str(src), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written to the CRM" in result.output
    assert "row 2: would update [OPP-0005]" in result.output
    assert "$stage: Closed Won → Negotiation" in result.output
    assert sandbox.stats(org.org_id)["writes"] == before


def test_json_equals_library_report(
    sandbox: Any, org: Any, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "messy.csv"
    shutil.copy(data_dir / "import" / "messy_opportunities.csv", src)
    result = run(sandbox, org, ["opportunity", str(src), "--dry-run", "--format", "json"])
    assert result.exit_code == 1
    cli_report = json.loads(result.output)
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        lib = json.loads(import_file(src, "opportunity", client=lf, dry_run=True).to_json())
    volatile = ("duration_s", "rows_per_s", "requests", "rate_limited", "retries")
    for key in volatile:
        cli_report.pop(key), lib.pop(key)
    assert cli_report == lib


@pytest.mark.parametrize(
    "obj,name",
    [("account", "accounts.csv"), ("contact", "contacts.xlsx"), ("opportunity", "opportunities.csv")],
)
def test_samples_import_cleanly(
    obj: str, name: str, sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / name
    shutil.copy(SAMPLES / name, src)
    result = run(sandbox, org, [obj, str(src), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counts"]["failed"] == 0 and report["counts"]["created"] >= 3
    assert not [i for r in report["rows"] for i in r["issues"]]


def interrupt_at(monkeypatch: pytest.MonkeyPatch, hit: Any) -> dict[str, bool]:
    """Ctrl-C from the CLI's own event handler (it sees every library event, -q or not) at the
    first event for which ``hit(event)`` is true, while ``armed["on"]``."""
    from bulkio.cli.console import ProgressBars

    armed = {"on": True}
    original = ProgressBars.__call__

    def call(self: ProgressBars, event: Any) -> None:
        if armed["on"] and hit(event):
            armed["on"] = False
            raise KeyboardInterrupt
        original(self, event)

    monkeypatch.setattr(ProgressBars, "__call__", call)
    return armed


def test_ctrl_c_exits_3_names_the_results_sheet_and_resume_finishes(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkio.events import Progress

    monkeypatch.chdir(tmp_path)
    keys = [f"CTRL-{i:02d}" for i in range(30)]
    write_csv(tmp_path / "a.csv", [["Name", "external_id"], *([f"Ctrl Co {k}", k] for k in keys)])
    writes = iter(range(1, 1000))
    interrupt_at(monkeypatch, lambda e: isinstance(e, Progress) and e.name == "write" and next(writes) == 8)
    result = run(sandbox, org, ["account", "a.csv"])
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines() == [
        "Interrupted. Re-run with --resume to continue where this run stopped.",
        "The results sheet a.results.csv shows what was written (the other rows say not_written).",
    ]
    with open(tmp_path / "a.results.csv", encoding="utf-8") as fh:
        sheet = list(csv.DictReader(fh))
    assert [r["external_id"] for r in sheet] == keys
    created = {r["external_id"] for r in sheet if r["Outcome"] == "created"}
    assert all("not_written" in r["Errors"] for r in sheet if r["external_id"] not in created)

    def ours() -> list[str]:
        return [
            k
            for r in sandbox.records(org.org_id, "account")
            if (k := (r["fields"].get("external_id") or {}).get("value")) in keys
        ]

    assert 8 <= len(created) < len(keys) and sorted(ours()) == sorted(created)

    resumed = run(sandbox, org, ["account", "a.csv", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert sorted(ours()) == sorted(keys)  # every key once: nothing duplicated, nothing lost


def test_ctrl_c_in_a_dry_run_says_nothing_was_written(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkio.events import PhaseStarted

    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "a.csv", [["Name", "external_id"], ["Dry Co", "CTRL-DRY"]])
    interrupt_at(monkeypatch, lambda e: isinstance(e, PhaseStarted) and e.name == "plan")
    result = run(sandbox, org, ["account", "a.csv", "--dry-run"])
    assert result.exit_code == 3
    assert result.stderr == "Interrupted; nothing was written.\n"
    assert not (tmp_path / "a.results.csv").exists()


def test_unknown_object_and_unknown_key_exit_2_before_any_write(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = write_csv(tmp_path / "a.csv", [["Name", "external_id"], ["Key Co", "KEY-1"]])
    before = sandbox.stats(org.org_id)["writes"]
    typo = run(sandbox, org, ["acounts", str(src)])
    assert typo.exit_code == 2
    assert typo.output.startswith("Error: Unknown object type 'acounts'. Did you mean 'account'?")
    # a mistyped --key would match no record and create every row again
    key = run(sandbox, org, ["account", str(src), "--key", "extrenal_id"])
    assert key.exit_code == 2
    assert key.output == (
        "Error: account has no field 'extrenal_id' to use as the key; see: bulkio definitions account\n"
    )
    assert sandbox.stats(org.org_id)["writes"] == before
    assert not (tmp_path / "a.results.csv").exists()


def test_header_only_file_says_there_is_nothing_to_import(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = write_csv(tmp_path / "h.csv", [["Name", "external_id"]])
    result = run(sandbox, org, ["account", str(src)])
    assert result.exit_code == 0
    assert "warning: the file has no data rows below its header; nothing to import." in result.stderr


def test_exported_pipeline_reimports_without_sheet_option(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline workbook starts with its Summary sheet: `import opportunity pipeline.xlsx`
    must read the Opportunities sheet, and apply only the edited cell."""
    from openpyxl import load_workbook

    monkeypatch.chdir(tmp_path)
    sandbox.set_rate_limit(org.org_id, per_second=200)
    env = {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    exported = CliRunner().invoke(cli, ["export", "pipeline", "-o", "pipeline.xlsx", "-q"], env=env)
    assert exported.exit_code == 0, exported.output
    wb = load_workbook(tmp_path / "pipeline.xlsx")
    assert wb.sheetnames[0] == "Summary"
    ws = wb["Opportunities"]
    headers = [c.value for c in ws[1]]
    ws.cell(2, headers.index("Next Step (nextStep)") + 1).value = "Call the CFO"
    record_id = ws.cell(2, headers.index("Record ID (id)") + 1).value
    wb.save(tmp_path / "edited.xlsx")
    result = run(sandbox, org, ["opportunity", "edited.xlsx", "--results", "edited.results.xlsx"])
    assert result.exit_code == 0, result.output
    assert "Opportunities" in result.output and "updated    1" in result.output
    total = ws.max_row - 1
    assert f"unchanged  {total - 1}" in result.output
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        assert lf.retrieve("opportunity", record_id)["fields"]["nextStep"]["value"] == "Call the CFO"
    accounts = run(sandbox, org, ["account", "edited.xlsx", "--dry-run", "--results", "a.results.xlsx"])
    assert accounts.exit_code == 0, accounts.output
    assert "Accounts" in accounts.output and "would create  0" in accounts.output


def test_library_messages_reach_stderr_in_json_mode_but_not_with_quiet(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "m.csv", [["Name", "external_id"], ["Message Co", "CLI-MSG-1"]])
    env = {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    args = ["import", "account", "m.csv", "--resume"]
    said = "no unfinished run to resume for this file; starting a new one"
    as_json = CliRunner().invoke(cli, [*args, "--format", "json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["counts"]["created"] == 1  # stdout stays pure JSON
    assert said in as_json.stderr
    quiet = CliRunner().invoke(cli, [*args, "-q"], env=env)
    assert quiet.exit_code == 0, quiet.output
    assert "unchanged  1" in quiet.stdout and said not in quiet.stderr


def test_unwritable_results_path_stops_before_any_write(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "a.csv", [["Name", "external_id"], ["Nowhere Co", "CLI-NOWHERE"]])
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    before = sandbox.stats(org.org_id)["writes"]
    result = run(sandbox, org, ["account", "a.csv", "--results", "taken/a.results.csv"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Cannot write the results sheet taken/a.results.csv: taken is not a folder.\n"
    )
    assert sandbox.stats(org.org_id)["writes"] == before


def test_rate_limit_waits_show_on_the_progress_bars(capsys: pytest.CaptureFixture[str]) -> None:
    """A 429 wait is shown on the bars (the run is waiting, not stuck), and a long one also as a
    line on stderr (bars are off in logs and pipes), at most every 30 s; progress clears it."""
    from bulkio.cli.console import ProgressBars
    from bulkio.events import PhaseStarted, Progress, RateLimited

    bars = ProgressBars(enabled=True, messages=True)
    bars(PhaseStarted("write", total=10))
    bars(RateLimited(category="write", wait_seconds=1.2))
    assert bars.waiting == "rate limited (429): waiting 1.2 s"
    assert capsys.readouterr().err == ""  # a short wait: the bar says it
    bars(Progress("write"))
    assert bars.waiting is None
    bars(RateLimited(category="write", wait_seconds=12, stalled_seconds=40))
    bars(RateLimited(category="write", wait_seconds=12, stalled_seconds=52))
    err = capsys.readouterr().err
    assert err.count("rate limiting this run (429): waiting 12 s; nothing has succeeded for 40 s") == 1
    assert "--max-wait" in err
    bars.close()
    quiet = ProgressBars(enabled=False, messages=False)
    quiet(RateLimited(category="write", wait_seconds=30))
    assert capsys.readouterr().err == ""


def test_max_wait_reaches_the_client(
    sandbox: Any, empty_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--max-wait 0: the import gives up at the first 429 (exit 2, one Error line, the results
    sheet names what was written) instead of waiting."""
    sandbox.set_rate_limit(empty_org.org_id, per_second=0.05, burst=1)
    try:
        src = tmp_path / "a.csv"
        src.write_text("Name,external_id\nW1,W-1\nW2,W-2\nW3,W-3\n", encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        env = {"LIGHTFIELD_API_KEY": empty_org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
        result = CliRunner().invoke(cli, ["import", "account", str(src), "-q", "--max-wait", "0"], env=env)
        assert result.exit_code == 2, result.output
        errors = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
        assert len(errors) == 1 and errors[0].startswith("Error: 429 too_many_requests"), result.output
    finally:
        sandbox.set_rate_limit(empty_org.org_id, per_second=25)


@pytest.mark.parametrize("given", ["out/", "out", "nested/deeper/"])
def test_results_into_a_folder(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """--results DIR/ (or an existing folder) writes <file>.results.<ext> inside it, never a file
    named like the folder."""
    from bulkio.pipeline import results_destination

    src = tmp_path / "accounts.csv"
    src.write_text("Name,external_id\nFolder Co,FOLD-1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    if given == "out":
        (tmp_path / "out").mkdir()
    env = {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    result = CliRunner().invoke(cli, ["import", "account", str(src), "--results", given, "-q"], env=env)
    assert result.exit_code == 0, result.output
    inside = tmp_path / given / "accounts.results.csv"
    assert inside.is_file() and (tmp_path / given.rstrip("/")).is_dir()
    assert "Folder Co" in inside.read_text(encoding="utf-8-sig")
    assert results_destination(src, None) == tmp_path / "accounts.results.csv"
    assert results_destination(src, "plain.csv") == Path("plain.csv")
