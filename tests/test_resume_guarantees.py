"""Resume never re-creates rows that have no key (issue 10 §1, §6): a run is finished only after
its results sheet is written; ``--resume`` finds a run by its fingerprint (file content + mapping
content + every option that changes what is written), also after the file moved; a changed mapping
or option is refused with one line; importing an identical keyless file again needs
``--allow-duplicates``. Tasks have no custom fields, so no key: every row is keyless."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bulkio import pipeline
from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.errors import ConfigError, LedgerError
from bulkio.events import Progress
from bulkio.pipeline import import_file

N = 12


class Crash(BaseException):
    """Stands for a SIGKILL: nothing after it runs (not even ``except Exception``)."""


def tasks_csv(path: Path, n: int = N, *, due: str = "2026-05-01 09:00") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Title", "Status", "Assigned To", "Due"])
        for i in range(n):
            w.writerow([f"Call {i}", "To do", "ava@demo.lightfield.test", due])
    return path


def crash_after(writes: int) -> Any:
    seen = {"n": 0}

    def on_event(event: Any) -> None:
        if isinstance(event, Progress) and event.name == "write":
            seen["n"] += 1
            if seen["n"] == writes:
                raise Crash

    return on_event


@pytest.fixture
def lf(sandbox: Any, empty_org: Any) -> Any:
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as client:
        yield client


def tasks(sandbox: Any, org: Any) -> list[str]:
    return sorted(r["fields"]["$title"]["value"] for r in sandbox.records(org.org_id, "task"))


def test_a_crash_while_writing_results_leaves_the_run_resumable(
    sandbox: Any, empty_org: Any, lf: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after every row was written but before the results sheet was: the run is not
    finished, so --resume writes the sheet from the ledger and creates nothing again."""
    src, ledger, results = tasks_csv(tmp_path / "tasks.csv"), tmp_path / "l.db", tmp_path / "r.csv"
    real = pipeline._run_import

    def dies_in_results(*args: Any, **kwargs: Any) -> Any:
        def crash(*a: Any, **k: Any) -> Any:
            raise Crash

        return real(*args, **{**kwargs, "write_results": crash})

    monkeypatch.setattr(pipeline, "_run_import", dies_in_results)
    with pytest.raises(Crash):
        import_file(src, "task", client=lf, ledger_path=ledger, results_path=results)
    monkeypatch.setattr(pipeline, "_run_import", real)
    assert len(tasks(sandbox, empty_org)) == N and not results.exists()

    report = import_file(src, "task", client=lf, ledger_path=ledger, results_path=results, resume=True)
    assert len(tasks(sandbox, empty_org)) == N  # nothing created twice
    assert report.counts.created == N and report.ok
    with open(results, encoding="utf-8-sig", newline="") as fh:
        assert [r["Outcome"] for r in csv.DictReader(fh)] == ["created"] * N


def test_resume_finds_the_run_after_the_file_moved(
    sandbox: Any, empty_org: Any, lf: Any, tmp_path: Path
) -> None:
    src, ledger = tasks_csv(tmp_path / "tasks.csv"), tmp_path / "l.db"
    with pytest.raises(Crash):
        import_file(src, "task", client=lf, ledger_path=ledger, concurrency=1, on_event=crash_after(5))
    written = len(tasks(sandbox, empty_org))
    assert 5 <= written < N
    moved = tmp_path / "archive" / "tasks-2026.csv"
    moved.parent.mkdir()
    shutil.move(src, moved)
    messages: list[str] = []
    report = import_file(
        moved,
        "task",
        client=lf,
        ledger_path=ledger,
        resume=True,
        on_event=lambda e: messages.append(getattr(e, "text", "")),
    )
    assert any(m.startswith("resuming run") for m in messages), messages
    assert tasks(sandbox, empty_org) == sorted(f"Call {i}" for i in range(N))  # each task once
    assert report.counts.created == N and report.ok


def test_a_changed_mapping_is_refused_on_resume(
    sandbox: Any, empty_org: Any, lf: Any, tmp_path: Path
) -> None:
    src, ledger = tasks_csv(tmp_path / "tasks.csv"), tmp_path / "l.db"
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Title": "$title", "Due": "$dueAt"}), encoding="utf-8")
    with pytest.raises(Crash):
        import_file(
            src,
            "task",
            client=lf,
            ledger_path=ledger,
            mapping=mapping,
            concurrency=1,
            on_event=crash_after(4),
        )
    before = len(tasks(sandbox, empty_org))
    mapping.write_text(json.dumps({"Title": "$description", "Due": "$dueAt"}), encoding="utf-8")
    with pytest.raises(LedgerError, match=r"the mapping file .*map\.json changed since run"):
        import_file(src, "task", client=lf, ledger_path=ledger, mapping=mapping, resume=True)
    with pytest.raises(LedgerError, match="used .*map.json, this one no mapping"):
        import_file(src, "task", client=lf, ledger_path=ledger, resume=True)
    assert len(tasks(sandbox, empty_org)) == before  # the refused resumes wrote nothing


def test_a_changed_option_is_refused_on_resume(sandbox: Any, empty_org: Any, lf: Any, tmp_path: Path) -> None:
    src, ledger = tasks_csv(tmp_path / "tasks.csv"), tmp_path / "l.db"
    with pytest.raises(Crash):
        import_file(
            src,
            "task",
            client=lf,
            ledger_path=ledger,
            tz="Europe/Paris",
            concurrency=1,
            on_event=crash_after(3),
        )
    with pytest.raises(LedgerError, match=r"used --tz 'Europe/Paris', this one 'UTC'"):
        import_file(src, "task", client=lf, ledger_path=ledger, resume=True)
    report = import_file(src, "task", client=lf, ledger_path=ledger, resume=True, tz="Europe/Paris")
    assert report.ok and len(tasks(sandbox, empty_org)) == N


def test_importing_a_keyless_file_again_needs_allow_duplicates(
    sandbox: Any, empty_org: Any, lf: Any, tmp_path: Path
) -> None:
    src, ledger = tasks_csv(tmp_path / "tasks.csv"), tmp_path / "l.db"
    assert import_file(src, "task", client=lf, ledger_path=ledger).counts.created == N
    copy = tmp_path / "again" / "same-tasks.csv"  # the same content under another name
    copy.parent.mkdir()
    shutil.copy(src, copy)
    for again, resume in ((src, False), (copy, False), (src, True)):  # --resume: nothing to resume
        with pytest.raises(ConfigError, match=f"{N} of its rows have no key .*--allow-duplicates"):
            import_file(again, "task", client=lf, ledger_path=ledger, resume=resume)
    assert len(tasks(sandbox, empty_org)) == N
    report = import_file(copy, "task", client=lf, ledger_path=ledger, allow_duplicates=True)
    assert report.counts.created == N and len(tasks(sandbox, empty_org)) == 2 * N


def test_an_unfinished_keyless_run_points_to_resume(
    sandbox: Any, empty_org: Any, lf: Any, tmp_path: Path
) -> None:
    src, ledger = tasks_csv(tmp_path / "tasks.csv"), tmp_path / "l.db"
    with pytest.raises(Crash):
        import_file(src, "task", client=lf, ledger_path=ledger, concurrency=1, on_event=crash_after(3))
    with pytest.raises(ConfigError, match="not finished.*Re-run with --resume"):
        import_file(src, "task", client=lf, ledger_path=ledger)


def test_cli_refuses_a_keyless_rerun_in_one_line(
    sandbox: Any, empty_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tasks_csv(tmp_path / "tasks.csv", 4)
    env = {"LIGHTFIELD_API_KEY": empty_org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    monkeypatch.chdir(tmp_path)  # the CLI's ledger lives under the working directory
    runner = CliRunner()
    first = runner.invoke(cli, ["import", "task", str(src), "-q"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["import", "task", str(src), "-q"], env=env)
    assert second.exit_code == 2
    errors = [ln for ln in second.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "--allow-duplicates" in errors[0] and "4 of its rows" in errors[0]
    assert len(tasks(sandbox, empty_org)) == 4
    third = runner.invoke(cli, ["import", "task", str(src), "-q", "--allow-duplicates"], env=env)
    assert third.exit_code == 0, third.output
    assert len(tasks(sandbox, empty_org)) == 8


def test_a_keyed_file_imports_again_as_an_upsert(
    sandbox: Any, empty_org: Any, lf: Any, tmp_path: Path
) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("Name,external_id\nKey Co 1,KEY-1\nKey Co 2,KEY-2\n", encoding="utf-8")
    ledger = tmp_path / "l.db"
    assert import_file(src, "account", client=lf, ledger_path=ledger).counts.created == 2
    again = import_file(src, "account", client=lf, ledger_path=ledger)
    assert again.counts.unchanged == 2 and sandbox.count(empty_org.org_id, "account") == 2
