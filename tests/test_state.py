"""Run state (ledger, embedded sandbox, locks) lives in one per-user folder, keyed by the input
file's content and the target, not by the current directory: ``--resume`` works from anywhere,
also for a moved or copied file, and a file changed anywhere (also past its first MiB) is refused.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bulkio import state
from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.config import connect
from bulkio.errors import LedgerError
from bulkio.events import Event, Progress
from bulkio.pipeline import import_file

NO_KEY = {"LIGHTFIELD_API_KEY": None, "LIGHTFIELD_BASE_URL": None}


def accounts_csv(path: Path, n: int, *, prefix: str, pad: int = 0) -> Path:
    """``n`` accounts; ``pad`` characters of filler in an extra column make the file large."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id", "Filler"])
        for i in range(n):
            w.writerow([f"{prefix} Co {i}", f"{prefix}-{i:03d}", "x" * pad])
    return path


def ctrl_c_after(n: int) -> Any:
    written = 0

    def handler(event: Event) -> None:
        nonlocal written
        if isinstance(event, Progress) and event.name == "write":
            written += 1
            if written == n:
                raise KeyboardInterrupt

    return handler


# --- where state lives ---------------------------------------------------------------------------


def test_state_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BULKIO_STATE_DIR", str(tmp_path / "from-env"))
    assert state.state_dir() == tmp_path / "from-env"
    assert state.state_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert state.ledger_path(tmp_path / "x") == tmp_path / "x" / "ledger.sqlite3"
    assert state.sandbox_db_path(tmp_path / "x") == tmp_path / "x" / "sandbox.sqlite3"
    assert state.lock_path("run", tmp_path / "x") == tmp_path / "x" / "run.lock"
    monkeypatch.delenv("BULKIO_STATE_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert state.state_dir() == tmp_path / "xdg" / "bulkio"  # platformdirs' per-user data folder


def test_tests_never_use_the_real_user_folder(state_dir: Path) -> None:
    real_home = Path("~").expanduser()
    assert state.state_dir() == state_dir
    assert real_home not in state_dir.parents
    assert Path(os.environ["XDG_DATA_HOME"]).name.startswith("bulkio-tests-xdg-")


def test_state_path_command(tmp_path: Path, state_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["state", "path"]).output == f"{state_dir}\n"
    moved = runner.invoke(cli, ["state", "path", "--state-dir", str(tmp_path / "elsewhere")])
    assert moved.output == f"{tmp_path / 'elsewhere'}\n"
    data = json.loads(runner.invoke(cli, ["state", "path", "--format", "json"]).output)
    assert data == {
        "schema_version": 1,
        "state_dir": str(state_dir),
        "ledger": str(state_dir / "ledger.sqlite3"),
        "sandbox_db": str(state_dir / "sandbox.sqlite3"),
        "exists": True,
    }


# --- resume from anywhere ----------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_resume_from_another_directory_with_a_copied_file(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: started in one folder against the embedded sandbox, interrupted, resumed
    from another folder (here even on a copy under another name). The same sandbox and the same run
    are found; every key exists once; neither folder gets a .bulkio directory."""
    monkeypatch.delenv("LIGHTFIELD_API_KEY", raising=False)
    monkeypatch.delenv("LIGHTFIELD_BASE_URL", raising=False)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    accounts_csv(first / "accounts.csv", 30, prefix="ANY")
    monkeypatch.chdir(first)
    with connect() as lf:
        before = sum(1 for _ in lf.list_all("account"))
        with pytest.raises(KeyboardInterrupt):
            import_file("accounts.csv", "account", client=lf, concurrency=2, on_event=ctrl_c_after(8))
    shutil.copy(first / "accounts.csv", second / "renamed.csv")
    monkeypatch.chdir(second)
    result = CliRunner().invoke(
        cli, ["import", "account", "renamed.csv", "--resume", "--results", "r.csv"], env=NO_KEY
    )
    assert result.exit_code == 0, result.output
    assert "resuming run" in result.stderr and "starting a new one" not in result.stderr
    with connect() as lf:
        keys = [
            r["fields"]["external_id"]["value"]
            for r in lf.list_all("account")
            if str((r["fields"].get("external_id") or {}).get("value")).startswith("ANY-")
        ]
        assert sorted(keys) == [f"ANY-{i:03d}" for i in range(30)]  # each once
        assert sum(1 for _ in lf.list_all("account")) == before + 30
    assert sorted(p.name for p in first.iterdir()) == ["accounts.csv", "accounts.results.csv"]
    assert sorted(p.name for p in second.iterdir()) == ["r.csv", "renamed.csv"]
    assert sorted(p.name for p in state_dir.iterdir() if p.suffix == ".sqlite3") == [
        "ledger.sqlite3",
        "sandbox.sqlite3",
    ]


@pytest.mark.timeout(120)
def test_resume_refuses_a_file_changed_after_its_first_mib(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """A 1.5 MiB input, interrupted, then one byte changed near its end: resume must refuse it (a
    fingerprint of only the first MiB would take it for the same file and resume)."""
    src = accounts_csv(tmp_path / "big.csv", 30, prefix="BIG", pad=56_000)
    size = src.stat().st_size
    assert size > 1.5 * (1 << 20)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        with pytest.raises(KeyboardInterrupt):
            import_file(src, "account", client=lf, concurrency=2, on_event=ctrl_c_after(5))
        data = bytearray(src.read_bytes())
        last_name = data.rindex(b"BIG Co 29")
        assert last_name > (1 << 20) + 1000
        data[last_name : last_name + 9] = b"BIG Co 2X"
        src.write_bytes(bytes(data))
        assert src.stat().st_size == size
        writes = sandbox.stats(empty_org.org_id)["writes"]
        with pytest.raises(LedgerError, match="changed since run"):
            import_file(src, "account", client=lf, resume=True)
        assert sandbox.stats(empty_org.org_id)["writes"] == writes


# --- list and clear ------------------------------------------------------------------------------


def test_state_list_and_clear(sandbox: Any, empty_org: Any, tmp_path: Path, state_dir: Path) -> None:
    src = accounts_csv(tmp_path / "few.csv", 3, prefix="LIST")
    env = {"LIGHTFIELD_API_KEY": empty_org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    runner = CliRunner()
    done = runner.invoke(cli, ["import", "account", str(src), "-q"], env=env)
    assert done.exit_code == 0, done.output

    listed = json.loads(runner.invoke(cli, ["state", "list", "--format", "json"]).output)
    assert listed["schema_version"] == 1 and listed["state_dir"] == str(state_dir)
    [run] = listed["runs"]
    assert run["object_type"] == "account" and run["input_path"] == str(src.resolve())
    assert run["target"] == sandbox.url and run["rows_done"] == 3 and run["resumable"] is False
    assert empty_org.api_key not in json.dumps(listed)
    assert {Path(f["path"]).name for f in listed["files"]} >= {"ledger.sqlite3"}
    table = runner.invoke(cli, ["state", "list"]).output
    assert f"State folder: {state_dir}" in table and run["run_id"][:12] in table

    refused = runner.invoke(cli, ["state", "clear", "--ledger"], input="n\n")
    assert refused.exit_code == 1 and (state_dir / "ledger.sqlite3").exists()
    cleared = runner.invoke(cli, ["state", "clear", "--ledger", "--yes", "--format", "json"])
    assert cleared.exit_code == 0, cleared.output
    removed = {Path(p).name for p in json.loads(cleared.output)["removed"]}
    assert "ledger.sqlite3" in removed and not (state_dir / "ledger.sqlite3").exists()
    assert json.loads(runner.invoke(cli, ["state", "list", "--format", "json"]).output)["runs"] == []
    everything = runner.invoke(cli, ["state", "clear", "--yes"])
    assert everything.exit_code == 0 and not state_dir.exists()
