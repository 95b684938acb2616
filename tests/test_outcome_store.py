"""pipeline.OutcomeStore: the compact per-row outcome store gives back every field of every
:class:`RowOutcome` it was given (outcome, record id, link, key, issues, changes, attempts), keeps
nothing for rows it was not given, and a run that writes drops only the changes its truncated report
does not show."""

from __future__ import annotations

import pytest

from bulkio.issues import Issue
from bulkio.operations import RowOutcome
from bulkio.pipeline import MAX_REPORT_ROWS, OutcomeStore


def _outcomes() -> list[RowOutcome]:
    warn = Issue(
        code="missing_key",
        message="no key",
        row=3,
        column="B",
        header="external_id",
        field="external_id",
        severity="warning",
    )
    err = Issue(
        code="unknown_option",
        message="'Gold?' is not an option",
        row=5,
        column="C",
        value="Gold?",
        expected="one of: Gold, Silver",
    )
    return [
        RowOutcome(row=2, outcome="created"),
        RowOutcome(
            row=3,
            outcome="created",
            key="K-3",
            issues=[warn],
            changes={"$name": (None, "Acme"), "tags": (None, ["a", "b"])},
        ),
        RowOutcome(
            row=4,
            outcome="updated",
            record_id="rec_4",
            link="https://x/rec_4",
            key="K-4",
            changes={"amount": (1, 2.5), "$address": ({"city": "Berlin"}, None)},
            attempts=2,
        ),
        RowOutcome(row=5, outcome="failed", key="K-5", issues=[err, warn], attempts=1),
        RowOutcome(row=7, outcome="unchanged", record_id="rec_7", link=None, key="K-7"),
        RowOutcome(row=9, outcome="skipped", issues=[warn]),
        RowOutcome(row=12, outcome="created", record_id="rec_12", link="https://x/rec_12"),
    ]


def test_every_field_round_trips() -> None:
    store = OutcomeStore()
    outcomes = _outcomes()
    for o in outcomes:
        store.seen(o.row)
        store.put(o)
    store.seen(14)  # read, no outcome yet
    for o in outcomes:
        assert store.get(o.row) == o
    assert [r for r in range(20) if store.get(r) is not None] == [o.row for o in outcomes]
    assert store.missing(range(20)) == [14]
    c = store.counts()
    assert (c.created, c.updated, c.unchanged, c.failed, c.skipped) == (3, 1, 1, 1, 1)
    assert store.with_issues_or_failed() == [3, 5, 9]
    # nothing kept for rows without them
    assert set(store.issues) == {3, 5, 9} and set(store.changes) == {3, 4} and set(store.attempts) == {4, 5}


def test_add_stores_without_a_row_outcome_and_put_replaces() -> None:
    store = OutcomeStore()
    store.add(6, "created", key="K-6", changes={"$name": (None, "A")})
    assert store.get(6) == RowOutcome(row=6, outcome="created", key="K-6", changes={"$name": (None, "A")})
    assert store.get(5) is None and store.get(10**6) is None
    # a later outcome replaces every field, also with "nothing"
    store.put(
        RowOutcome(
            row=6,
            outcome="failed",
            record_id="rec_6",
            link="https://x/rec_6",
            issues=[Issue(code="not_written", message="x", row=6)],
            attempts=3,
        )
    )
    assert store.get(6) == RowOutcome(
        row=6,
        outcome="failed",
        record_id="rec_6",
        link="https://x/rec_6",
        issues=[Issue(code="not_written", message="x", row=6)],
        attempts=3,
    )
    store.put(RowOutcome(row=6, outcome="created"))
    assert store.get(6) == RowOutcome(row=6, outcome="created")
    assert not store.issues and not store.changes and not store.attempts
    assert store.stored == 1


def test_no_per_row_columns_until_some_row_has_a_value() -> None:
    store = OutcomeStore()
    for r in range(2, 1000):
        store.add(r, "created")
    assert store.keys.values is None and store.record_ids.values is None and store.links.values is None
    store.add(1000, "created", key="K")
    assert store.keys.values is not None and len(store.keys.values) == 1001
    assert store.get(999) == RowOutcome(row=999, outcome="created")
    assert store.get(1000) == RowOutcome(row=1000, outcome="created", key="K")


def test_a_writing_run_keeps_changes_only_for_rows_its_truncated_report_lists() -> None:
    store = OutcomeStore(report_limit=3)
    issue = Issue(code="missing_key", message="no key", row=3, severity="warning")
    ch = {"$name": (None, "A")}
    store.add(2, "created", changes=ch)
    store.add(3, "created", issues=[issue], changes=ch)
    store.add(4, "failed", changes=ch)
    assert set(store.changes) == {2, 3, 4}  # up to the limit the report lists every row
    store.add(5, "updated", changes=ch)  # beyond: only rows with issues or failures
    store.add(6, "failed", changes=ch)
    assert set(store.changes) == {3, 4, 6}
    assert store.get(2) == RowOutcome(row=2, outcome="created")
    assert store.get(6) == RowOutcome(row=6, outcome="failed", changes=ch)
    # a dry run's store keeps every change it is given (the results sheet shows them)
    dry = OutcomeStore()
    for r in range(2, MAX_REPORT_ROWS + 10, 997):
        dry.add(r, "created", changes=ch)
    assert len(dry.changes) == len(range(2, MAX_REPORT_ROWS + 10, 997))


def test_report_rows_read_from_the_store_equal_row_report_of_each_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """row_reports (what SheetRun.report lists) builds, row for row, what row_report gives for the
    RowOutcome store.get returns: every field, the JSON and the dumped model; with and without the
    quick constructor (another pydantic falls back to model_construct)."""
    from bulkio import report

    store = OutcomeStore()
    for o in _outcomes():
        store.seen(o.row)
        store.put(o)
    store.seen(14)  # read, no outcome: not listed
    rows = range(len(store.codes) + 3)
    for fast in (True, False):
        monkeypatch.setattr(report, "_FAST_CONSTRUCT", fast)
        for dry_run in (True, False):
            got = report.row_reports(store, rows, dry_run)
            want = [report.row_report(o, dry_run) for r in rows if (o := store.get(r)) is not None]
            assert [r.row for r in got] == [2, 3, 4, 5, 7, 9, 12]
            assert got == want
            assert [r.model_dump() for r in got] == [r.model_dump() for r in want]
            assert [r.model_dump_json() for r in got] == [r.model_dump_json() for r in want]
            assert [r.model_fields_set for r in got] == [r.model_fields_set for r in want]
            assert got[0].outcome == ("would create" if dry_run else "created")
            # the report's lists are its own: changing one leaves the store as it was
            got[1].issues.append(got[1].issues[0])
            assert len(store.issues[3]) == 1
