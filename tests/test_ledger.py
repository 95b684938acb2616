"""The resume ledger: round trips, resumable-run lookup, known records, and refusal of foreign or
corrupt files. Pure SQLite, no server."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bulkio.errors import LedgerError
from bulkio.issues import Issue
from bulkio.ledger import SCHEMA_VERSION, Ledger
from bulkio.operations import Operation, RowOutcome

TARGET = "http://127.0.0.1:9#fp_abc123"


def _op(row: int, action: str = "create", **kw: object) -> Operation:
    body = {
        "fields": {"$name": f"Acme {row}", "external_id": f"A-{row}"},
        "relationships": {"$owner": {"replace": "mem_ava"}},
    }
    return Operation(
        row=row,
        action=action,
        object_type="account",
        key=f"A-{row}",
        body=body,  # type: ignore[arg-type]
        idempotency_key=f"bulkio-run-r{row}-0123456789abcdef",
        **kw,
    )  # type: ignore[arg-type]


def _start(ledger: Ledger, path: str = "/data/accounts.csv", **kw: object) -> str:
    return ledger.start_run(
        input_path=path,
        input_fingerprint="sha256:1",
        object_type="account",
        target=TARGET,
        options={"key_field": "external_id", "dry_run": False, **kw},
    )


def test_round_trip_of_operations_and_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    op = _op(
        2,
        changes={"$name": ("Old", "Acme 2")},
        issues=[
            Issue(
                code="unknown_option",
                message="no such tier",
                row=2,
                column="D",
                header="Tier (tier)",
                field="tier",
                value="Gold",
                severity="warning",
            )
        ],
    )
    upd = _op(3, action="update", record_id="acc_1")
    with Ledger(path) as ledger:
        run = _start(ledger)
        ledger.record_intent(run, op)
        ledger.record_intent(run, upd)
        ledger.record_outcome(
            run,
            RowOutcome(
                row=3,
                outcome="updated",
                record_id="acc_1",
                key="A-3",
                link="https://crm/acc_1",
                attempts=2,
                changes={"$name": (None, "x")},
            ),
        )
    # reopen: everything survived the close, typed exactly as written
    with Ledger(path) as ledger:
        pending = ledger.pending(run)
        assert list(pending) == [2]
        assert pending[2] == op
        assert pending[2].changes == {"$name": ("Old", "Acme 2")}
        assert pending[2].issues[0].severity == "warning"
        done = ledger.completed(run)
        assert done == {
            3: RowOutcome(
                row=3,
                outcome="updated",
                record_id="acc_1",
                key="A-3",
                link="https://crm/acc_1",
                attempts=2,
                changes={"$name": (None, "x")},
            )
        }
        info = ledger.find_resumable(input_path="/data/accounts.csv", object_type="account", target=TARGET)
        assert info is not None and info.run_id == run and info.rows_done == 1
        assert info.options == {"key_field": "external_id", "dry_run": False}
        assert info.input_fingerprint == "sha256:1"
        assert info.started_at.tzinfo is not None


def test_find_resumable_picks_latest_unfinished_for_same_input_object_target(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        assert ledger.find_resumable(input_path="/a.csv", object_type="account", target=TARGET) is None
        first = _start(ledger, "/a.csv")
        second = _start(ledger, "/a.csv")
        _start(ledger, "/b.csv")
        ledger.start_run(
            input_path="/a.csv", input_fingerprint="x", object_type="contact", target=TARGET, options={}
        )
        ledger.start_run(
            input_path="/a.csv",
            input_fingerprint="x",
            object_type="account",
            target="http://other#fp",
            options={},
        )
        found = ledger.find_resumable(input_path="/a.csv", object_type="account", target=TARGET)
        assert found is not None and found.run_id == second
        ledger.finish_run(second)
        found = ledger.find_resumable(input_path="/a.csv", object_type="account", target=TARGET)
        assert found is not None and found.run_id == first
        ledger.finish_run(first)
        assert ledger.find_resumable(input_path="/a.csv", object_type="account", target=TARGET) is None


def test_known_records_remember_written_keys_per_target_and_key_field(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        run = _start(ledger)
        ledger.record_outcome(run, RowOutcome(row=2, outcome="created", record_id="acc_1", key="A-2"))
        ledger.record_outcome(run, RowOutcome(row=3, outcome="updated", record_id="acc_2", key="A-3"))
        ledger.record_outcome(run, RowOutcome(row=4, outcome="failed", key="A-4"))
        ledger.record_outcome(run, RowOutcome(row=5, outcome="skipped", key="A-5"))
        other = ledger.start_run(
            input_path="/x.csv",
            input_fingerprint="f",
            object_type="account",
            target=TARGET,
            options={"key": "crm_code"},
        )
        ledger.record_outcome(other, RowOutcome(row=2, outcome="created", record_id="acc_9", key="C-1"))
        known = ledger.known_records(target=TARGET, object_type="account", key_field="external_id")
        assert known == {"A-2": "acc_1", "A-3": "acc_2"}
        assert ledger.known_records(target=TARGET, object_type="account", key_field="crm_code") == {
            "C-1": "acc_9"
        }
        assert ledger.known_records(target="http://x#y", object_type="account", key_field="external_id") == {}
        assert ledger.known_records(target=TARGET, object_type="contact", key_field="external_id") == {}
        # a later run writing the same key to another record wins
        run2 = _start(ledger)
        ledger.record_outcome(run2, RowOutcome(row=2, outcome="created", record_id="acc_7", key="A-2"))
        assert (
            ledger.known_records(target=TARGET, object_type="account", key_field="external_id")["A-2"]
            == "acc_7"
        )


def test_outcome_after_intent_removes_it_from_pending(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        run = _start(ledger)
        for row in range(2, 12):
            ledger.record_intent(run, _op(row))
        for row in range(2, 12, 2):
            ledger.record_outcome(
                run, RowOutcome(row=row, outcome="created", record_id=f"acc_{row}", key=f"A-{row}")
            )
        assert sorted(ledger.pending(run)) == [3, 5, 7, 9, 11]
        assert sorted(ledger.completed(run)) == [2, 4, 6, 8, 10]
        other = _start(ledger)
        assert ledger.pending(other) == {} and ledger.completed(other) == {}


def test_unknown_run_id_is_a_ledger_error(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger, pytest.raises(LedgerError, match="unknown run"):
        ledger.record_intent("nope", _op(2))


def test_concurrent_writers_from_many_threads(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3", durable=False) as ledger:
        run = _start(ledger)

        def work(start: int) -> None:
            for row in range(start, start + 50):
                ledger.record_intent(run, _op(row))
                ledger.record_outcome(
                    run, RowOutcome(row=row, outcome="created", record_id=f"acc_{row}", key=f"A-{row}")
                )

        threads = [threading.Thread(target=work, args=(2 + 50 * i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ledger.completed(run)) == 400 and ledger.pending(run) == {}
        assert len(ledger.known_records(target=TARGET, object_type="account", key_field="external_id")) == 400


def test_file_is_wal_versioned_and_holds_no_api_key(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "l.sqlite3"
    with Ledger(path) as ledger:
        run = _start(ledger)
        ledger.record_intent(run, _op(2))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert b"sk_lf_" not in path.read_bytes()


def test_garbage_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(LedgerError, match="not a bulkio ledger or is corrupt"):
        Ledger(path)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="not a bulkio ledger.*customers"):
        Ledger(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="newer bulkio"):
        Ledger(path)


def test_empty_file_is_initialised(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    path.touch()
    with Ledger(path) as ledger:
        assert _start(ledger)
