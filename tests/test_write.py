"""write_operations against a real sandbox over HTTP: creates and updates land with their keys,
API rejections become located failed outcomes, a stopped run resumes without duplicates, and
stopping errors leave the ledger consistent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from bulkio.client import LightfieldClient, RateLimit, RetryPolicy
from bulkio.errors import ScopeError
from bulkio.events import Event, Progress
from bulkio.issues import Issue
from bulkio.ledger import Ledger
from bulkio.operations import Operation
from bulkio.write import field_from_param, idempotency_key, write_operations

FAST_RETRY = RetryPolicy(max_attempts=6, backoff_base=0.02, backoff_max=0.2)


def _client(sandbox: Any, org: Any, **kw: Any) -> LightfieldClient:
    return LightfieldClient(
        api_key=org.api_key,
        base_url=sandbox.url,
        retry=FAST_RETRY,
        rate_limit=RateLimit(per_second=200),
        **kw,
    )


def _creates(n: int, prefix: str = "W") -> list[Operation]:
    return [
        Operation(
            row=row,
            action="create",
            object_type="account",
            key=f"{prefix}-{row}",
            body={
                "fields": {"$name": f"Company {row}", "external_id": f"{prefix}-{row}", "employeeCount": row}
            },
        )
        for row in range(2, n + 2)
    ]


def _target(client: LightfieldClient) -> str:
    return f"{client.base_url}#{client.key_fingerprint}"


def _value(record: dict[str, Any], key: str) -> Any:
    return record["fields"][key]["value"]


@pytest.fixture
def fast_org(sandbox: Any, empty_org: Any) -> Any:
    sandbox.set_rate_limit(empty_org.org_id, per_second=200)
    return empty_org


def test_idempotency_key_is_deterministic_per_run_row_and_body() -> None:
    op = _creates(1)[0]
    key = idempotency_key("run1", op)
    assert key == idempotency_key("run1", _creates(1)[0])
    assert key.startswith("bulkio-run1-r2-") and len(key) <= 255
    assert idempotency_key("run2", op) != key
    other_row = Operation(row=3, action="create", object_type="account", body=op.body)
    assert idempotency_key("run1", other_row) != key
    changed = Operation(
        row=2,
        action="create",
        object_type="account",
        body={"fields": {**op.body["fields"], "employeeCount": 99}},
    )  # type: ignore[index]
    assert idempotency_key("run1", changed) != key
    # key order in the body does not matter (canonical JSON)
    reordered = Operation(
        row=2,
        action="create",
        object_type="account",
        body={"fields": dict(reversed(list(op.body["fields"].items())))},
    )  # type: ignore[index]
    assert idempotency_key("run1", reordered) == key
    assert len(idempotency_key("x" * 400, op)) <= 255


def test_field_from_param() -> None:
    assert field_from_param("fields.$stage") == "$stage"
    assert field_from_param("fields.$primaryAddress.city") == "$primaryAddress.city"
    assert field_from_param("relationships.$account") == "$account"
    assert field_from_param("relationships.$contact.add") == "$contact"
    assert field_from_param("Idempotency-Key") is None
    assert field_from_param(None) is None


def test_creates_then_updates_are_written_with_keys(sandbox: Any, fast_org: Any) -> None:
    events: list[Event] = []
    ops = _creates(30)
    with _client(sandbox, fast_org) as client:
        outcomes = list(write_operations(client, ops, run_id="r1", concurrency=4, on_event=events.append))
        assert sorted(o.row for o in outcomes) == [op.row for op in ops]
        assert {o.outcome for o in outcomes} == {"created"}
        assert all(op.idempotency_key == idempotency_key("r1", op) for op in ops)
        assert sum(isinstance(e, Progress) and e.name == "write" for e in events) == 30
        ids = {o.row: o.record_id for o in outcomes}
        assert len(set(ids.values())) == 30
        for o in outcomes[:5]:
            record = client.retrieve("account", o.record_id)  # type: ignore[arg-type]
            assert _value(record, "external_id") == o.key
            assert o.link == record["httpLink"]
        assert sandbox.count(fast_org.org_id, "account") == 30

        # the same operations again (same keys): answered from the idempotency cache, no new records
        again = list(write_operations(client, ops, run_id="r1", concurrency=4))
        assert {o.row: o.record_id for o in again} == ids
        assert sandbox.count(fast_org.org_id, "account") == 30

        updates = [
            Operation(
                row=o.row,
                action="update",
                object_type="account",
                record_id=o.record_id,
                key=o.key,
                body={"fields": {"employeeCount": 1000 + o.row}},
                changes={"employeeCount": (o.row, 1000 + o.row)},
            )
            for o in outcomes
        ]
        done = list(write_operations(client, updates, run_id="r2", concurrency=4))
        assert {o.outcome for o in done} == {"updated"}
        assert {o.row: o.record_id for o in done} == ids
        assert all(o.changes == {"employeeCount": (o.row, 1000 + o.row)} for o in done)
        for o in done[:5]:
            record = client.retrieve("account", o.record_id)  # type: ignore[arg-type]
            assert _value(record, "employeeCount") == 1000 + o.row
            assert _value(record, "$name") == f"Company {o.row}"  # untouched
        assert sandbox.count(fast_org.org_id, "account") == 30


def test_pass_through_of_unchanged_and_skipped_rows(sandbox: Any, fast_org: Any) -> None:
    bad = Issue(code="missing_key", message="no key", row=4)
    warn = Issue(code="read_only_column", message="ignored", row=5, severity="warning")
    ops = [
        Operation(row=2, action="unchanged", object_type="account", record_id="acc_x", key="K"),
        Operation(row=3, action="skip", object_type="account"),
        Operation(row=4, action="skip", object_type="account", issues=[bad]),
        Operation(row=5, action="skip", object_type="account", issues=[warn]),
    ]
    with _client(sandbox, fast_org) as client:
        outcomes = {o.row: o for o in write_operations(client, ops)}
    assert {r: o.outcome for r, o in outcomes.items()} == {
        2: "unchanged",
        3: "skipped",
        4: "failed",
        5: "skipped",
    }
    assert outcomes[2].record_id == "acc_x" and outcomes[4].issues == [bad]
    assert sandbox.count(fast_org.org_id, "account") == 0


def test_api_rejections_become_located_failed_outcomes(sandbox: Any, fast_org: Any) -> None:
    ops = [
        Operation(
            row=2,
            action="create",
            object_type="account",
            key="OK-2",
            body={"fields": {"$name": "Fine", "external_id": "OK-2"}},
        ),
        Operation(
            row=3,
            action="create",
            object_type="account",
            key="BAD-3",
            body={"fields": {"$name": "Bogus", "bogus": 1}},
        ),
        Operation(
            row=4,
            action="create",
            object_type="account",
            key="BAD-4",
            body={"fields": {"$name": "Owner"}, "relationships": {"$owner": "mem_nobody"}},
        ),
        Operation(
            row=5,
            action="create",
            object_type="opportunity",
            key="BAD-5",
            body={"fields": {"$name": "No account", "$stage": "Lead"}},
        ),
    ]
    with _client(sandbox, fast_org) as client:
        outcomes = {o.row: o for o in write_operations(client, ops)}
    assert outcomes[2].outcome == "created"
    assert [o.outcome for r, o in sorted(outcomes.items()) if r > 2] == ["failed"] * 3
    issue = outcomes[3].issues[-1]
    assert (issue.code, issue.field, issue.row, issue.value) == ("unknown_field", "bogus", 3, 1)
    issue = outcomes[4].issues[-1]
    assert (issue.code, issue.field, issue.row) == ("relationship_entity_missing", "$owner", 4)
    issue = outcomes[5].issues[-1]
    assert issue.row == 5 and issue.field == "$account" and issue.severity == "error"
    assert sandbox.count(fast_org.org_id, "account") == 1
    assert sandbox.count(fast_org.org_id, "opportunity") == 0


def test_ledger_records_intents_and_outcomes(sandbox: Any, fast_org: Any, tmp_path: Path) -> None:
    ops = _creates(20)
    with _client(sandbox, fast_org) as client, Ledger(tmp_path / "ledger.sqlite3") as ledger:
        run = ledger.start_run(
            input_path="/in.csv",
            input_fingerprint="f",
            object_type="account",
            target=_target(client),
            options={"key_field": "external_id"},
        )
        outcomes = list(write_operations(client, ops, ledger=ledger, run_id=run))
        done = ledger.completed(run)
        assert ledger.pending(run) == {}
        assert {r: (o.outcome, o.record_id) for r, o in done.items()} == {
            o.row: ("created", o.record_id) for o in outcomes
        }
        known = ledger.known_records(target=_target(client), object_type="account", key_field="external_id")
        assert known == {o.key: o.record_id for o in outcomes}


def test_stop_then_resume_from_the_ledger_writes_no_duplicates(
    sandbox: Any, fast_org: Any, tmp_path: Path
) -> None:
    ops = _creates(60, prefix="S")
    by_row = {op.row: op for op in ops}
    stop = threading.Event()
    path = tmp_path / "ledger.sqlite3"
    with _client(sandbox, fast_org) as client:
        target = _target(client)
        with Ledger(path) as ledger:
            run = ledger.start_run(
                input_path="/in.csv", input_fingerprint="f", object_type="account", target=target, options={}
            )
            first = []
            for outcome in write_operations(client, ops, ledger=ledger, run_id=run, concurrency=4, stop=stop):
                first.append(outcome)
                if len(first) == 15:
                    stop.set()
            assert 15 <= len(first) < 60
            assert sorted(ledger.completed(run)) == sorted(o.row for o in first)
            assert ledger.pending(run) == {}
            # Simulate a crash between "request reached the server" and "outcome recorded": three
            # further rows get an intent and are sent, but no outcome is written.
            written = set(ledger.completed(run))
            crashed = [by_row[r] for r in sorted(by_row) if r not in written][:3]
            sent_ids = {}
            for op in crashed:
                op.idempotency_key = idempotency_key(run, op)
                ledger.record_intent(run, op)
                sent_ids[op.row] = client.create(
                    "account", op.body or {}, idempotency_key=op.idempotency_key
                )["id"]
            assert sandbox.count(fast_org.org_id, "account") == len(first) + 3

        # resume in a new process-like session: reopen the ledger, replay pending, then the rest
        with Ledger(path) as ledger:
            info = ledger.find_resumable(input_path="/in.csv", object_type="account", target=target)
            assert info is not None and info.run_id == run and info.rows_done == len(first)
            pending = ledger.pending(run)
            assert sorted(pending) == [op.row for op in crashed]
            assert all(pending[op.row].idempotency_key == op.idempotency_key for op in crashed)
            done = ledger.completed(run)
            rest = [op for op in _creates(60, prefix="S") if op.row not in done and op.row not in pending]
            second = list(write_operations(client, [*pending.values(), *rest], ledger=ledger, run_id=run))
            ledger.finish_run(run)
            replayed = {o.row: o.record_id for o in second if o.row in sent_ids}
            assert replayed == sent_ids  # answered from the idempotency cache
            final = ledger.completed(run)
            assert sorted(final) == sorted(by_row)
            assert ledger.find_resumable(input_path="/in.csv", object_type="account", target=target) is None
        assert sorted(o.row for o in first + second) == sorted(by_row)
        assert sandbox.count(fast_org.org_id, "account") == 60
        ids = [o.record_id for o in final.values()]
        assert len(set(ids)) == 60


def test_a_stopping_error_raises_after_recording_what_was_written(
    sandbox: Any, fast_org: Any, tmp_path: Path
) -> None:
    read_only = sandbox.mint_key(fast_org.org_id, scopes=["accounts:read"])
    ops = _creates(10, prefix="X")
    with (
        LightfieldClient(api_key=read_only, base_url=sandbox.url, retry=FAST_RETRY) as client,
        Ledger(tmp_path / "l.sqlite3") as ledger,
    ):
        run = ledger.start_run(
            input_path="/in.csv",
            input_fingerprint="f",
            object_type="account",
            target=_target(client),
            options={},
        )
        seen: list[Any] = []
        with pytest.raises(ScopeError):
            seen.extend(write_operations(client, ops, ledger=ledger, run_id=run, concurrency=2))
        assert seen == [] and ledger.completed(run) == {}
        # the rows whose request was refused stay pending (replayed on resume); the others never started
        assert 1 <= len(ledger.pending(run)) <= 4
    assert sandbox.count(fast_org.org_id, "account") == 0


def test_a_ledger_needs_a_run_id(sandbox: Any, fast_org: Any, tmp_path: Path) -> None:
    with (
        _client(sandbox, fast_org) as client,
        Ledger(tmp_path / "l.sqlite3") as ledger,
        pytest.raises(ValueError, match="run_id"),
    ):
        list(write_operations(client, _creates(1), ledger=ledger))


class _IntentOnDiskClient:
    """The real client, but each create first checks from a second connection (what a crash would
    leave) that its intent is already committed."""

    def __init__(self, client: LightfieldClient, path: Path, run: str) -> None:
        self.client, self.path, self.run, self.checked = client, path, run, 0

    def create(self, object_type: str, body: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
        import sqlite3

        conn = sqlite3.connect(self.path)
        try:
            rows = conn.execute("SELECT operation FROM intents WHERE run_id = ?", (self.run,)).fetchall()
        finally:
            conn.close()
        assert any(idempotency_key and idempotency_key in data for (data,) in rows)
        self.checked += 1
        return self.client.create(object_type, body, idempotency_key=idempotency_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_rows_without_a_request_share_ledger_commits(sandbox: Any, fast_org: Any, tmp_path: Path) -> None:
    quiet = 1_200
    ops: list[Operation] = []
    creates = iter(_creates(10, prefix="Q"))
    for i in range(quiet):
        row = 100 + i
        if i % 3:
            ops.append(
                Operation(
                    row=row, action="unchanged", object_type="account", record_id=f"acc_{i}", key=f"U-{i}"
                )
            )
        else:
            ops.append(Operation(row=row, action="skip", object_type="account"))
        if i % 120 == 0:
            ops.append(next(creates))
    path = tmp_path / "ledger.sqlite3"
    commits: list[str] = []
    with _client(sandbox, fast_org) as client, Ledger(path) as ledger:
        run = ledger.start_run(
            input_path="/in.csv",
            input_fingerprint="f",
            object_type="account",
            target=_target(client),
            options={"key_field": "external_id"},
        )
        ledger._conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip() == "COMMIT" else None)
        checking = _IntentOnDiskClient(client, path, run)
        outcomes = list(write_operations(checking, ops, ledger=ledger, run_id=run, concurrency=4))  # type: ignore[arg-type]
        ledger._conn.set_trace_callback(None)
        assert checking.checked == 10  # every create found its intent on disk before its request
        assert len(outcomes) == quiet + 10
        done = ledger.completed(run)
        assert sorted(done) == sorted(op.row for op in ops)
        assert ledger.pending(run) == {}
        # 10 intents + 10 outcomes one by one; 1,200 quiet rows in ceil(1200 / QUIET_BATCH) commits
        assert len(commits) <= 20 + 3
        known = ledger.known_records(target=_target(client), object_type="account", key_field="external_id")
        assert known["U-1"] == "acc_1" and "U-3" not in known  # row 3 of the loop is a skip


def test_quiet_outcomes_reach_the_ledger_when_the_consumer_stops(
    sandbox: Any, fast_org: Any, tmp_path: Path
) -> None:
    ops = [
        Operation(row=r, action="unchanged", object_type="account", record_id=f"acc_{r}", key=f"K-{r}")
        for r in range(2, 302)
    ]
    with _client(sandbox, fast_org) as client, Ledger(tmp_path / "l.sqlite3") as ledger:
        run = ledger.start_run(
            input_path="/in.csv",
            input_fingerprint="f",
            object_type="account",
            target=_target(client),
            options={},
        )
        writer = write_operations(client, ops, ledger=ledger, run_id=run)
        seen = [next(writer) for _ in range(42)]
        writer.close()  # what the pipeline does on Ctrl-C
        assert sorted(ledger.completed(run)) == [o.row for o in seen]


def test_record_outcomes_is_one_transaction(tmp_path: Path) -> None:
    from bulkio.operations import RowOutcome

    with Ledger(tmp_path / "l.sqlite3") as ledger:
        run = ledger.start_run(
            input_path="/in.csv", input_fingerprint="f", object_type="account", target="t", options={}
        )

        def outcomes() -> Any:
            yield RowOutcome(row=2, outcome="unchanged", record_id="acc_2", key="A")
            yield RowOutcome(row=3, outcome="skipped")
            raise RuntimeError("disk gone")

        with pytest.raises(RuntimeError):
            ledger.record_outcomes(run, outcomes())
        assert ledger.completed(run) == {}  # nothing half-written
        ledger.record_outcomes(run, [RowOutcome(row=2, outcome="unchanged", record_id="acc_2", key="A")])
        ledger.record_outcome(run, RowOutcome(row=3, outcome="skipped"))  # still its own transaction
        assert sorted(ledger.completed(run)) == [2, 3]
        assert ledger.known_records(target="t", object_type="account", key_field="external_id") == {
            "A": "acc_2"
        }
