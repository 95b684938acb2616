"""Note updates over real HTTP against the sandbox: a note relationship key takes exactly one of
``add`` / ``remove`` per request (API-FACTS §3.5), so moving a note from account A to account B is
two requests to the same note: fields + ``add`` first, then ``remove``, each with its own
Idempotency-Key; the row counts as written only when both succeeded, and a resume after the first
step finishes the second.

Notes have no ``external_id`` (no custom fields at all), so a note row is matched by its
``Record ID (id)`` column, as in an exported Notes sheet; relationship cells name the accounts by
their ``external_id``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from bulkio.client import LightfieldClient, RateLimit, RetryPolicy
from bulkio.definitions import NOTE_DEFINITIONS, ObjectSchema
from bulkio.errors import ApiError
from bulkio.ledger import Ledger
from bulkio.operations import Operation
from bulkio.pipeline import RunReport, import_file
from bulkio.plan import Planner
from bulkio.validate import CheckedRow
from bulkio.write import idempotency_key, request_keys

HEADERS = ["Record ID (id)", "Title* ($title)", "Account ($account)", "Opportunity ($opportunity)"]
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05)


class SpyClient(LightfieldClient):
    """The real client, recording every update (body + Idempotency-Key) it sends; optionally
    tampering with or failing the second step of a two-request note update."""

    def __init__(self, *args: Any, step2: str | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.updates: list[tuple[dict[str, Any], str | None]] = []
        self.step2 = step2

    def update(
        self, object_type: str, record_id: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        self.updates.append((body, idempotency_key))
        if self.step2 and idempotency_key and idempotency_key.endswith("-s2"):
            if self.step2 == "unavailable":  # a stopping error: retries spent on 503s
                raise ApiError("Service unavailable.", status=503)
            if self.step2 == "rejected":  # a real 400 from the server: add + remove together
                rels = body["relationships"]
                body = {"relationships": {k: {**v, "add": v["remove"]} for k, v in rels.items()}}
        return super().update(object_type, record_id, body, idempotency_key=idempotency_key)


@pytest.fixture
def fast_org(sandbox: Any, org: Any) -> Any:
    sandbox.set_rate_limit(org.org_id, per_second=200)
    return org


def _client(sandbox: Any, org: Any, **kw: Any) -> SpyClient:
    return SpyClient(
        api_key=org.api_key,
        base_url=sandbox.url,
        retry=FAST_RETRY,
        rate_limit=RateLimit(per_second=200),
        **kw,
    )


def _accounts(client: LightfieldClient, n: int) -> list[tuple[str, str]]:
    """(id, external_id) of ``n`` demo accounts."""
    out = []
    for rec in client.list("account"):
        ext = (rec["fields"].get("external_id") or {}).get("value")
        if ext:
            out.append((rec["id"], str(ext)))
        if len(out) == n:
            return out
    raise AssertionError("the demo org has too few accounts")


def _notes_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows(rows)
    return path


def _writes(sandbox: Any, org: Any) -> int:
    return int(sandbox.stats(org.org_id)["writes"])


def _links(client: LightfieldClient, note_id: str, key: str = "$account") -> list[str]:
    rel = client.retrieve("note", note_id)["relationships"].get(key) or {}
    return sorted(rel.get("values") or [])


def _import(path: Path, client: LightfieldClient, tmp_path: Path, **kw: Any) -> RunReport:
    return import_file(path, "note", client=client, ledger_path=tmp_path / "ledger.sqlite3", **kw)


def test_note_moved_to_another_account_is_add_then_remove(
    sandbox: Any, fast_org: Any, tmp_path: Path
) -> None:
    with _client(sandbox, fast_org) as client:
        (a, _), (b, b_ext) = _accounts(client, 2)
        note = client.create("note", {"fields": {"$title": "Kickoff call"}, "relationships": {"$account": a}})
        src = _notes_csv(tmp_path / "notes.csv", [[note["id"], "Kickoff call", b_ext, ""]])

        dry = _import(src, client, tmp_path, dry_run=True)  # one row, field-level changes
        assert [(r.outcome, r.changes) for r in dry.rows] == [("would update", {"$account": [[a], [b]]})]

        before = _writes(sandbox, fast_org)
        report = _import(src, client, tmp_path)
        assert report.ok and report.counts.updated == 1 and len(report.rows) == 1
        assert report.rows[0].record_id == note["id"] and report.rows[0].changes == {"$account": [[a], [b]]}
        assert _writes(sandbox, fast_org) - before == 2
        assert _links(client, note["id"]) == [b]
        # add first (never unlinked), remove second; one Idempotency-Key per request
        (first, key1), (second, key2) = client.updates
        assert first == {"fields": {}, "relationships": {"$account": {"add": [b]}}}
        assert second == {"relationships": {"$account": {"remove": [a]}}}
        assert key1 and key2 and key1.endswith("-s1") and key2 == key1[:-1] + "2"

        client.updates.clear()
        before = _writes(sandbox, fast_org)
        again = _import(src, client, tmp_path)
        assert again.counts.unchanged == 1 and again.counts.updated == 0
        assert _writes(sandbox, fast_org) == before and client.updates == []


def test_note_changes_that_only_add_or_only_remove_are_one_request(
    sandbox: Any, fast_org: Any, tmp_path: Path
) -> None:
    with _client(sandbox, fast_org) as client:
        (a, a_ext), (b, b_ext), (c, _) = _accounts(client, 3)
        adds = client.create("note", {"fields": {"$title": "Adds"}, "relationships": {"$account": a}})
        removes = client.create(
            "note", {"fields": {"$title": "Removes"}, "relationships": {"$account": [a, b, c]}}
        )
        src = _notes_csv(
            tmp_path / "notes.csv",
            [
                [adds["id"], "Adds", f"{a_ext};{b_ext}", ""],  # + b
                [removes["id"], "Removes, renamed", f"{a_ext}; {b_ext}", ""],  # - c, and a new title
            ],
        )
        before = _writes(sandbox, fast_org)
        report = _import(src, client, tmp_path)
        assert report.ok and report.counts.updated == 2
        assert _writes(sandbox, fast_org) - before == 2  # one request per row
        bodies = sorted((body for body, _ in client.updates), key=lambda body: str(body))
        assert {"fields": {}, "relationships": {"$account": {"add": [b]}}} in bodies
        assert {
            "fields": {"$title": "Removes, renamed"},
            "relationships": {"$account": {"remove": [c]}},
        } in bodies
        assert all(not key.endswith(("-s1", "-s2")) for _, key in client.updates if key)
        assert _links(client, adds["id"]) == sorted([a, b])
        assert _links(client, removes["id"]) == sorted([a, b])


def test_planner_splits_only_keys_that_add_and_remove() -> None:
    schema = ObjectSchema.from_api(NOTE_DEFINITIONS, object_type="note")

    class NoLookups:
        pass

    planner = Planner(NoLookups(), schema)
    ex = planner.index.add(
        {
            "id": "note_1",
            "fields": {"$title": {"value": "T"}},
            "relationships": {"$account": {"values": ["acc_a"]}, "$opportunity": {"values": ["opp_x"]}},
        }
    )
    planner.index.scanned = True
    row = CheckedRow(
        row=2, values={"$title": "T2", "$account": ["acc_b"], "$opportunity": ["opp_x", "opp_y"]}
    )
    row.record_id = ex.id
    [op] = planner.plan([row])
    assert op.action == "update"
    assert op.body == {
        "fields": {"$title": "T2"},
        "relationships": {"$account": {"add": ["acc_b"]}, "$opportunity": {"add": ["opp_y"]}},
    }
    assert op.follow_up == {"relationships": {"$account": {"remove": ["acc_a"]}}}
    assert op.changes == {
        "$title": ("T", "T2"),
        "$account": (["acc_a"], ["acc_b"]),
        "$opportunity": (["opp_x"], ["opp_x", "opp_y"]),
    }
    # the row's key covers both requests; each request has its own key
    key = idempotency_key("run", op)
    assert key != idempotency_key(
        "run", Operation(row=2, action="update", object_type="note", record_id="note_1", body=op.body)
    )
    op.idempotency_key = key
    assert request_keys(op) == [f"{key}-s1", f"{key}-s2"]
    op.idempotency_key = "x" * 255  # still within the API's 255 characters
    assert all(k is not None and len(k) <= 255 for k in request_keys(op))


def test_follow_up_round_trips_through_the_ledger(tmp_path: Path) -> None:
    op = Operation(
        row=2,
        action="update",
        object_type="note",
        record_id="note_1",
        body={"fields": {}, "relationships": {"$account": {"add": ["acc_b"]}}},
        follow_up={"relationships": {"$account": {"remove": ["acc_a"]}}},
        idempotency_key="k",
    )
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        run = ledger.start_run(
            input_path="notes.csv", input_fingerprint="sha256:1", object_type="note", target="t", options={}
        )
        ledger.record_intent(run, op)
        assert ledger.pending(run) == {2: op}


def test_rejected_second_step_fails_the_row_and_says_what_was_applied(
    sandbox: Any, fast_org: Any, tmp_path: Path
) -> None:
    with _client(sandbox, fast_org, step2="rejected") as client:
        (a, _), (b, b_ext) = _accounts(client, 2)
        note = client.create("note", {"fields": {"$title": "Moved"}, "relationships": {"$account": a}})
        src = _notes_csv(tmp_path / "notes.csv", [[note["id"], "Moved", b_ext, ""]])
        report = _import(src, client, tmp_path)
        [row] = report.rows
        assert row.outcome == "failed" and row.record_id == note["id"]
        [issue] = row.issues
        assert issue.code == "invalid_type" and issue.field == "$account"
        assert issue.message.startswith(f"Partly written: the first request was applied ($account +{b})")
        assert "Re-run the import" in issue.message
        assert _links(client, note["id"]) == sorted([a, b])  # added, not removed: never unlinked

    with _client(sandbox, fast_org) as client:  # re-run: only the removal is left
        before = _writes(sandbox, fast_org)
        report = _import(src, client, tmp_path)
        assert report.ok and report.counts.updated == 1
        assert [body for body, _ in client.updates] == [
            {"fields": {}, "relationships": {"$account": {"remove": [a]}}}
        ]
        assert _writes(sandbox, fast_org) - before == 1
        assert _links(client, note["id"]) == [b]


def test_resume_after_the_first_step_replays_it_and_sends_the_second(
    sandbox: Any, fast_org: Any, tmp_path: Path
) -> None:
    with _client(sandbox, fast_org, step2="unavailable") as client:
        (a, _), (b, b_ext) = _accounts(client, 2)
        note = client.create("note", {"fields": {"$title": "Stopped"}, "relationships": {"$account": a}})
        src = _notes_csv(tmp_path / "notes.csv", [[note["id"], "Stopped", b_ext, ""]])
        with pytest.raises(ApiError):
            _import(src, client, tmp_path)
        first_keys = [key for _, key in client.updates]
        assert len(first_keys) == 2 and _links(client, note["id"]) == sorted([a, b])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:  # not done: the intent is pending
        run = ledger.find_resumable(
            input_path=str(src.resolve()),
            object_type="note",
            target=f"{sandbox.url}#{client.key_fingerprint}",
        )
        assert run is not None and run.rows_done == 0 and list(ledger.pending(run.run_id)) == [2]

    with _client(sandbox, fast_org) as client:
        before = _writes(sandbox, fast_org)
        report = _import(src, client, tmp_path, resume=True)
        assert report.ok and report.counts.updated == 1
        # the same two requests under the same keys; step 1 comes from the idempotency cache
        assert [key for _, key in client.updates] == first_keys
        assert _writes(sandbox, fast_org) - before == 1
        assert _links(client, note["id"]) == [b]
