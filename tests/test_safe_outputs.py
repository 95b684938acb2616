"""Outputs never destroy anything: a symlink's target gets the content (the link stays a link),
devices and FIFOs are written in place (never replaced by a regular file), ``-`` is standard output,
and nothing beside the named output is created or replaced (the temporary file lives next to the
resolved target and is gone afterwards). Runs as root too (the CI machine does): root-only cases
use a device node of their own in a temporary folder, never the machine's /dev."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulkio import sheets
from bulkio.cli import cli

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
HEADERS = ["Name", "N"]
ROWS = [["=cmd", 1], ["Acme", 2]]
CSV_TEXT = "\ufeffName,N\r\n'=cmd,1\r\nAcme,2\r\n"


def env_for(sandbox: Any, org: Any) -> dict[str, str]:
    return {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}


def invoke(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def text_of(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- symlinks -------------------------------------------------------------------------------------


def test_write_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    target = real_dir / "out.csv"
    target.write_text("old")
    target.chmod(0o640)
    link = link_dir / "out.csv"
    link.symlink_to(Path("..") / "real" / "out.csv")  # a relative link
    sheets.write_csv(link, HEADERS, ROWS)
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "real" / "out.csv")
    assert text_of(target) == CSV_TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the target's permissions are kept
    assert listing(real_dir) == ["out.csv"] and listing(link_dir) == ["out.csv"]  # no temp file left


def test_temp_file_lives_next_to_the_resolved_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file is made in the target's folder (a rename is atomic only within one file
    system, and the link's folder may be read-only or elsewhere)."""
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    (link_dir / "book.xlsx").symlink_to(real_dir / "book.xlsx")  # dangling: the file is created
    made: list[Path] = []
    original = sheets._create_temp

    def spy(directory: Path, target: Path) -> Path:
        made.append(directory)
        return original(directory, target)

    monkeypatch.setattr(sheets, "_create_temp", spy)
    wb = sheets.new_workbook()
    sheets.write_table(wb.create_sheet("Data"), HEADERS, ROWS)
    sheets.save_workbook(wb, link_dir / "book.xlsx")
    assert made == [real_dir]
    assert (link_dir / "book.xlsx").is_symlink()
    cell = load_workbook(real_dir / "book.xlsx")["Data"]["A2"]
    assert (cell.value, cell.data_type) == ("=cmd", "s")  # a text cell, never a formula
    assert listing(real_dir) == ["book.xlsx"] and listing(link_dir) == ["book.xlsx"]


@pytest.mark.skipif(IS_ROOT, reason="root may write into a read-only folder")
def test_link_in_a_read_only_folder_to_a_writable_one(tmp_path: Path) -> None:
    real_dir, ro_dir = tmp_path / "real", tmp_path / "ro"
    real_dir.mkdir()
    ro_dir.mkdir()
    (ro_dir / "out.csv").symlink_to(real_dir / "out.csv")
    ro_dir.chmod(0o555)
    try:
        sheets.write_csv(ro_dir / "out.csv", HEADERS, ROWS)
    finally:
        ro_dir.chmod(0o755)
    assert text_of(real_dir / "out.csv") == CSV_TEXT


@pytest.mark.skipif(IS_ROOT, reason="root may write into a read-only folder")
def test_read_only_folder_is_one_error_and_leaves_nothing(
    sandbox: Any, org: Any, tmp_path: Path, data_dir: Path
) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        result = invoke(["export", "account", "-o", str(ro / "a.csv"), "-q"], env_for(sandbox, org))
    finally:
        ro.chmod(0o755)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Permission denied" in result.stderr, result.stderr
    assert listing(ro) == []


@pytest.mark.skipif(not IS_ROOT, reason="only root can give the file to another owner")
def test_root_keeps_the_owner_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "shared.csv"
    target.write_text("old")
    os.chown(target, 4321, 4321)
    target.chmod(0o604)
    sheets.write_csv(target, HEADERS, ROWS)
    st = target.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4321, 4321, 0o604)


def test_a_folder_is_refused_before_anything_is_written(sandbox: Any, org: Any, tmp_path: Path) -> None:
    folder = tmp_path / "out.csv"
    folder.mkdir()
    (tmp_path / "link.csv").symlink_to(folder)
    with pytest.raises(IsADirectoryError):
        sheets.write_csv(tmp_path / "link.csv", HEADERS, ROWS)
    result = invoke(["export", "account", "-o", str(folder), "-q"], env_for(sandbox, org))
    assert result.exit_code == 2 and "is a directory" in result.stderr, result.stderr
    assert listing(folder) == [] and listing(tmp_path) == ["link.csv", "out.csv"]


def test_import_results_through_a_symlink(sandbox: Any, org: Any, tmp_path: Path) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("Name,external_id\nLinked Co,SYM-1\n", encoding="utf-8")
    real = tmp_path / "kept" / "results.csv"
    real.parent.mkdir()
    link = tmp_path / "results.csv"
    link.symlink_to(real)
    result = invoke(["import", "account", str(src), "--results", str(link), "-q"], env_for(sandbox, org))
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    with open(real, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["Name"], r["Outcome"]) for r in rows] == [("Linked Co", "created")]
    assert listing(real.parent) == ["results.csv"]


# --- devices and FIFOs ----------------------------------------------------------------------------


def test_is_special() -> None:
    assert sheets.is_special("/dev/stdout") and sheets.is_special("/dev/null")
    assert sheets.is_special("/proc/self/fd/1")
    assert not sheets.is_special(__file__) and not sheets.is_special("/no/such/file.csv")


def test_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    sheets.write_csv(fifo, HEADERS, ROWS)
    reader.join(10)
    assert got == [CSV_TEXT.encode("utf-8")]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert listing(tmp_path) == ["pipe.csv"]


@pytest.mark.parametrize("reader_first", [True, False])
def test_xlsx_into_a_fifo(tmp_path: Path, reader_first: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FIFO gets the whole workbook whether its reader is already waiting or comes later. Opening
    it read-write first, as zipfile does with a path, can wake a waiting reader with an empty pipe
    and then block forever (seen under load): the FIFO must be opened once, write-only."""
    fifo = tmp_path / "book.xlsx"
    os.mkfifo(fifo)
    modes: list[str] = []
    real_open = io.open

    def spy(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(fifo):
            modes.append(mode)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", spy)
    monkeypatch.setattr("builtins.open", spy)
    wb = sheets.new_workbook()
    sheets.write_table(wb.create_sheet("Data"), HEADERS, ROWS)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    writer = threading.Thread(target=sheets.save_workbook, args=(wb, fifo), daemon=True)
    first, second = (reader, writer) if reader_first else (writer, reader)
    first.start()
    time.sleep(0.3)  # the first one is now blocked in open() (or, for a writer, done if it did not wait)
    second.start()
    reader.join(10)
    writer.join(10)
    if writer.is_alive():  # release a writer blocked in open() before failing
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    if reader.is_alive():  # release a reader blocked in open() before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert sorted(modes) == ["rb", "wb"], modes  # one reader, one write-only writer
    assert got and got[0], "the reader got an empty pipe"
    assert load_workbook(io.BytesIO(got[0]))["Data"]["B3"].value == 2
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and listing(tmp_path) == ["book.xlsx"]


@pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
def test_device_node_is_written_not_replaced(sandbox: Any, org: Any, tmp_path: Path) -> None:
    """As root, the old code renamed a regular file over /dev/stdout. Here a private null device
    (1, 3) in a temporary folder stands in for the machine's /dev entries."""
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    link = tmp_path / "out.csv"
    link.symlink_to(null)
    for target in (null, link):
        result = invoke(["export", "account", "-o", str(target), "--to", "csv", "-q"], env_for(sandbox, org))
        assert result.exit_code == 0, result.output
        assert stat.S_ISCHR(null.lstat().st_mode), "the device was replaced by a regular file"
    assert link.is_symlink() and listing(tmp_path) == ["null", "out.csv"]


def test_proc_fd_stdout_in_a_subprocess(sandbox: Any, org: Any, tmp_path: Path) -> None:
    """``-o /proc/self/fd/1`` (what /dev/stdout points to) streams into the process's stdout pipe."""
    env = {**os.environ, **env_for(sandbox, org)}
    done = subprocess.run(
        [sys.executable, "-m", "bulkio", "export", "account", "-o", "/proc/self/fd/1", "--to", "csv", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Record ID (id),") and len(lines) > 1
    assert b"Total records" in done.stderr  # the summary is not mixed into the data
    assert listing(tmp_path) == []


# --- standard output ------------------------------------------------------------------------------


def test_export_csv_to_stdout(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(["export", "account", "-o", "-", "--to", "csv", "-q"], env_for(sandbox, org))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][0] == "Record ID (id)" and not rows[0][0].startswith("\ufeff")  # no BOM in a pipe
    assert len(rows) == 1 + org_count(sandbox, org, "account")
    assert "Total records" in result.stderr and "standard output" in result.stderr
    assert listing(tmp_path) == []  # no file named "-"


def test_export_json_summary_goes_to_stderr_with_stdout_data(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(
        ["export", "account", "contact", "-o", "-", "--to", "jsonl", "--format", "json", "-q"],
        env_for(sandbox, org),
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = org_count(sandbox, org, "account") + org_count(sandbox, org, "contact")
    assert len(records) == expected and all("relationshipNames" in r for r in records)
    summary = json.loads(result.stderr)
    assert summary["paths"] == ["-"] and summary["total"] == expected
    assert listing(tmp_path) == []


def test_export_xlsx_to_stdout(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(["export", "pipeline", "-o", "-", "--to", "xlsx", "-q"], env_for(sandbox, org))
    assert result.exit_code == 0, result.stderr
    wb = load_workbook(io.BytesIO(result.stdout_bytes), read_only=True)
    assert wb.sheetnames[:2] == ["Summary", "Opportunities"]
    assert listing(tmp_path) == []


def test_stdout_needs_a_format_and_csv_one_object(sandbox: Any, org: Any) -> None:
    env = env_for(sandbox, org)
    no_format = invoke(["export", "account", "-o", "-", "-q"], env)
    assert no_format.exit_code == 2
    assert no_format.stderr == (
        "Error: Writing to standard output (-o -) needs the file type: add --to csv, jsonl or xlsx.\n"
    )
    two = invoke(["export", "account", "contact", "-o", "-", "--to", "csv", "-q"], env)
    assert two.exit_code == 2 and "takes one object type" in two.stderr and two.stdout == ""


def test_import_results_to_stdout(
    sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "accounts.csv"
    src.write_text("Name,external_id\nPiped Co,PIPE-1\n", encoding="utf-8")
    result = invoke(
        ["import", "account", str(src), "--results", "-", "--dry-run", "-q"], env_for(sandbox, org)
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["Name"], r["Outcome"]) for r in rows] == [("Piped Co", "would create")]
    assert "Dry run: nothing was written" in result.stderr
    assert listing(tmp_path) == ["accounts.csv"]


def org_count(sandbox: Any, org: Any, object_type: str) -> int:
    return int(sandbox.count(org.org_id, object_type))


def test_a_closed_pipe_stops_quietly(sandbox: Any, org: Any, tmp_path: Path) -> None:
    """``bulkio export … -o - | head``: when the reader goes away, bulkio stops without a traceback
    or an error line (exit 3, interrupted), and leaves no file behind."""
    env = {**os.environ, **env_for(sandbox, org)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkio", "export", "pipeline", "-o", "-", "--to", "jsonl", "-q"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first record is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 3
    assert err == b""
    assert listing(tmp_path) == []
