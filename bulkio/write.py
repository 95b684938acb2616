"""Carry out planned operations against the API: concurrently, under the rate limit, and so that
nothing is lost and nothing is written twice.

How each create/update is made safe:

1. it gets a deterministic ``Idempotency-Key`` (run id + row + hash of the body), so every retry —
   by the client inside one call, or by a resumed run days later (within the API's 24 h window) —
   re-sends the same key and the server answers from its idempotency cache instead of writing again
   (an operation with a ``follow_up`` — a note update that must both add and remove links — is two
   requests, each with its own key derived from the row's: :func:`request_keys`);
2. its *intent* (body + key) is committed to the ledger before the request is sent, and its
   *outcome* after the answer (after the last request of a two-request row), so after a crash
   ``ledger.pending(run_id)`` lists exactly the rows whose fate is unknown, ready to be replayed
   unchanged.

Rows that send no request (``unchanged``, ``skip``) have their outcomes committed
:data:`QUIET_BATCH` at a time (and whatever is left when the writer ends or stops): a crash can
lose the last few, and a resume plans those rows again, to the same outcome, sending nothing.

Concurrency: a thread pool of ``concurrency`` workers fed through a sliding window (at most twice
that many operations are queued), so a million-row input never becomes a million futures; the
client's pacer keeps the whole pool under the API's write limit.

Errors: an API rejection of one row (a 4xx such as 400 ``unknown_field`` or 422) becomes a
``failed`` outcome with an :class:`~bulkio.issues.Issue` located by the API's ``param``. Errors that
make further writes pointless or unsafe — 401/403, 429 or 5xx after the client spent every retry,
a transport failure, an idempotency conflict, a ledger failure — **stop the run**: no new request is
started, the outcomes of requests already in flight are recorded and yielded, and then the first
such error is raised. Rows without a yielded outcome were not written, or (for the row whose
request failed) their fate is unknown and their intent stays pending in the ledger; the pipeline
reports them from the ledger (``not_written``) and a resumed run replays the pending intents.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

from .crm.base import Deletes
from .errors import ApiError, AuthError, RateLimitError, ScopeError
from .events import EventHandler, Progress
from .issues import Issue
from .ledger import Ledger
from .operations import Operation, Outcome, RowOutcome

#: The API's limit on ``Idempotency-Key`` length (API-FACTS §8).
MAX_KEY_LENGTH = 255
#: Outcomes of rows that send no request (unchanged, skipped) committed to the ledger together.
QUIET_BATCH = 500

#: Plans a create refused as ``duplicate_value`` again, against the record holding its key
#: (:meth:`bulkio.plan.Planner.after_conflict`): an update, ``unchanged``, or None (a real failure).
Reconcile = Callable[[Operation, ApiError], Operation | None]


class WritingClient(Protocol):
    """The part of :class:`~bulkio.client.LightfieldClient` the writer uses."""

    def create(
        self, object_type: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]: ...

    def update(
        self, object_type: str, record_id: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]: ...


def canonical_json(body: Any) -> str:
    """The body as canonical JSON (sorted keys, no spaces): equal bodies hash equal."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def idempotency_key(run_id: str, op: Operation) -> str:
    """A key that is the same for the same (run, row, body) and differs otherwise.

    >>> idempotency_key("3f2a", Operation(row=5, action="create", object_type="account",
    ...                                   body={"fields": {"$name": "Acme"}}))
    'bulkio-3f2a-r5-...'                                            # doctest: +SKIP
    """
    sent = op.body if op.follow_up is None else [op.body, op.follow_up]
    digest = hashlib.sha256(canonical_json(sent).encode("utf-8")).hexdigest()[:16]
    key = f"bulkio-{run_id}-r{op.row}-{digest}"
    if len(key) > MAX_KEY_LENGTH:  # an absurdly long run id: hash it rather than truncate
        run_hash = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:32]
        key = f"bulkio-{run_hash}-r{op.row}-{digest}"
    return key


def _step_key(key: str, step: int | str) -> str:
    out = f"{key}-s{step}"
    if len(out) > MAX_KEY_LENGTH:
        out = f"bulkio-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}-s{step}"
    return out


def request_keys(op: Operation) -> list[str | None]:
    """The Idempotency-Key of each request ``op`` sends: ``[op.idempotency_key]``, or for an
    operation with a ``follow_up`` one key per step (``<key>-s1``, ``<key>-s2``), because the API
    caches each key's answer separately. Deterministic, so a retry or a resume replays both steps
    under the same keys (a step that already ran is answered from the idempotency cache).

    >>> request_keys(Operation(row=2, action="update", object_type="note", record_id="note_1",
    ...                        body={}, follow_up={}, idempotency_key="k"))
    ['k-s1', 'k-s2']
    """
    key = op.idempotency_key
    if op.follow_up is None:
        return [key]
    if key is None:
        return [None, None]
    return [_step_key(key, 1), _step_key(key, 2)]


def field_from_param(param: str | None) -> str | None:
    """The field key an API error's ``param`` points at.

    >>> field_from_param("fields.$stage"), field_from_param("relationships.$account.add")
    ('$stage', '$account')
    """
    if not param:
        return None
    if param.startswith("fields."):
        return param[len("fields.") :] or None
    if param.startswith("relationships."):
        rest = param[len("relationships.") :]
        name, _, tail = rest.partition(".")
        return name if tail in ("", "add", "remove", "replace") else rest
    return None


def _sent_value(body: dict[str, Any] | None, field: str | None) -> Any:
    """The value the request sent for ``field`` (for the issue's ``value``), if any."""
    if not body or not field:
        return None
    for part in ("fields", "relationships"):
        section = body.get(part) or {}
        if field in section:
            return section[field]
        head = field.split(".", 1)[0]
        if head in section and isinstance(section[head], dict):
            return section[head].get(field.split(".", 1)[1]) if "." in field else section[head]
    return None


def stops_run(exc: BaseException) -> bool:
    """True when an error must stop the whole run rather than fail one row."""
    if not isinstance(exc, ApiError):
        return True  # transport failure after retries, a ledger error, a bug: stop
    if isinstance(exc, (AuthError, ScopeError, RateLimitError)):
        return True
    status = exc.status or 0
    if status in (401, 403, 408, 429) or status >= 500 or status < 400:
        return True
    # the original request is still in flight (its fate is unknown): stop and resume later
    return "idempotency_conflict" in (exc.code, exc.type)


def _applied_text(body: dict[str, Any] | None) -> str:
    """What the first request of a two-request update changed, for a message:
    ``$title; $account +acc_b``."""
    parts = list((body or {}).get("fields") or {})
    for k, op in ((body or {}).get("relationships") or {}).items():
        for verb, sign in (("add", "+"), ("remove", "-")):
            ids = op.get(verb) if isinstance(op, dict) else None
            if ids:
                parts.append(f"{k} {sign}{', '.join(ids) if isinstance(ids, list) else ids}")
    return "; ".join(parts) or "nothing"


def rejection_outcome(op: Operation, exc: ApiError, *, step: int = 1) -> RowOutcome:
    """A ``failed`` outcome for an API rejection, located by the error's ``param``.

    ``step`` 2 is a rejected ``follow_up``: the first request was applied, and the message says so
    (re-running the import plans only what is still missing)."""
    field = field_from_param(exc.param)
    sent = op.follow_up if step == 2 else op.body
    message = exc.message or str(exc)
    if step == 2:
        message = (
            f"Partly written: the first request was applied ({_applied_text(op.body)}), but "
            f"removing the old links was rejected: {message.rstrip('.')}. Re-run the import "
            "to retry the removal."
        )
    issue = Issue(
        code=exc.code or "api_rejected",
        message=message,
        row=op.row,
        field=field,
        value=_sent_value(sent, field),
        expected=None if exc.code else f"HTTP {exc.status} {exc.type or ''}".strip(),
    )
    return RowOutcome(
        row=op.row,
        outcome="failed",
        record_id=op.record_id,
        key=op.key,
        issues=[*op.issues, issue],
        changes=op.changes,
        attempts=step,
    )


def pass_through(op: Operation) -> RowOutcome:
    """The outcome of an operation that sends nothing (``unchanged`` or ``skip``)."""
    outcome: Outcome
    if op.action == "unchanged":
        outcome = "unchanged"
    else:
        outcome = "failed" if any(i.severity == "error" for i in op.issues) else "skipped"
    return RowOutcome(
        row=op.row,
        outcome=outcome,
        record_id=op.record_id,
        key=op.key,
        issues=list(op.issues),
        changes=op.changes,
        attempts=0,
    )


def _after_conflict(client: WritingClient, op: Operation, replanned: Operation) -> tuple[RowOutcome, int]:
    """Carry out the re-planned row of a create whose key was taken: an update of what differs
    (its own Idempotency-Key, derived from the row's and the new body) or nothing at all."""
    if replanned.action == "update" and replanned.record_id:
        base = op.idempotency_key or f"bulkio-r{op.row}"
        digest = hashlib.sha256(canonical_json(replanned.body).encode("utf-8")).hexdigest()[:12]
        answer = client.update(
            op.object_type,
            replanned.record_id,
            replanned.body or {},
            idempotency_key=_step_key(base, f"c{digest}"),
        )
        outcome = RowOutcome(
            row=op.row,
            outcome="updated",
            record_id=answer.get("id") or replanned.record_id,
            link=answer.get("httpLink"),
            key=op.key,
            issues=list(replanned.issues),
            changes=replanned.changes,
            attempts=2,
        )
        return outcome, 2
    return RowOutcome(
        row=op.row,
        outcome="unchanged",
        record_id=replanned.record_id,
        key=op.key,
        issues=list(replanned.issues),
        attempts=1,
    ), 1


def _send(
    client: WritingClient,
    op: Operation,
    ledger: Ledger | None,
    run_id: str,
    halt: threading.Event,
    stop: threading.Event | None,
    reconcile: Reconcile | None = None,
) -> RowOutcome | None:
    """One row, in a worker thread: intent → request → outcome. ``None``: not started (stopped)."""
    if halt.is_set() or (stop is not None and stop.is_set()):
        return None
    if ledger is not None:
        ledger.record_intent(run_id, op)
    body = op.body or {}
    step = 1
    try:
        if op.action == "delete":  # an undo's (bulkio.undo): the client must be able to delete
            assert op.record_id is not None and isinstance(client, Deletes)
            client.delete(op.object_type, op.record_id)
            answer: dict[str, Any] = {}
        elif op.action == "create":
            answer = client.create(op.object_type, body, idempotency_key=op.idempotency_key)
        else:
            assert op.record_id is not None
            keys = request_keys(op)
            answer = client.update(op.object_type, op.record_id, body, idempotency_key=keys[0])
            if op.follow_up is not None:
                # only after the first request succeeded; a stop in between leaves the intent
                # pending, and a resume replays both steps under the same keys
                step = 2
                answer = client.update(op.object_type, op.record_id, op.follow_up, idempotency_key=keys[1])
    except BaseException as exc:
        if not isinstance(exc, ApiError) or stops_run(exc):
            halt.set()  # the other workers start nothing new either
            raise
        outcome = rejection_outcome(op, exc, step=step)
        if reconcile is not None and op.action == "create" and exc.code == "duplicate_value":
            try:
                replanned = reconcile(op, exc)
                if replanned is not None:
                    outcome = _after_conflict(client, op, replanned)[0]
            except BaseException as again:
                if not isinstance(again, ApiError) or stops_run(again):
                    halt.set()
                    raise
                outcome = rejection_outcome(op, again)
    else:
        outcome = RowOutcome(
            row=op.row,
            outcome="created" if op.action == "create" else "deleted" if op.action == "delete" else "updated",
            record_id=answer.get("id") or op.record_id,
            link=answer.get("httpLink"),
            key=op.key,
            issues=list(op.issues),
            changes=op.changes,
            attempts=step,
        )
    if ledger is not None:
        ledger.record_outcome(run_id, outcome)
    return outcome


def write_operations(
    client: WritingClient,
    operations: Iterable[Operation],
    *,
    ledger: Ledger | None = None,
    run_id: str | None = None,
    concurrency: int = 8,
    on_event: EventHandler | None = None,
    stop: threading.Event | None = None,
    unreported: list[RowOutcome] | None = None,
    reconcile: Reconcile | None = None,
) -> Generator[RowOutcome, None, None]:
    """Carry out ``operations`` and yield one :class:`RowOutcome` per operation, in completion order.

    ``unchanged``/``skip`` operations pass straight through. ``create``/``update`` are sent by
    ``concurrency`` threads, each with its ``idempotency_key`` (assigned with :func:`idempotency_key`
    when ``None``); with a ``ledger`` (which needs ``run_id``) each intent is committed before its
    request and each outcome after. Setting ``stop`` ends the run between operations: requests in
    flight finish and are yielded, the rest are neither sent nor yielded nor recorded. A stopping
    error (see the module docstring) is raised after the in-flight outcomes have been yielded.
    Emits ``Progress("write")`` per outcome.

    ``reconcile`` (the pipeline passes :meth:`~bulkio.plan.Planner.after_conflict`) turns a create
    refused as ``duplicate_value`` on the upsert key into an update of, or ``unchanged`` against,
    the record that holds the key: the data is there, so the row is not reported ``failed``.

    When the consumer stops early (Ctrl-C in its loop or in ``on_event``, or ``close()``), the
    requests in flight still finish, but their outcomes can no longer be yielded: with
    ``unreported`` (a list) they are appended there, together with any outcome that was being
    handed over, so a caller without a ledger can still report what was written.

    >>> for outcome in write_operations(client, ops, ledger=ledger, run_id=run):   # doctest: +SKIP
    ...     print(outcome.row, outcome.outcome, outcome.record_id)
    """
    if ledger is not None and run_id is None:
        raise ValueError("write_operations: a ledger needs the run_id from ledger.start_run()")
    run = run_id or uuid.uuid4().hex
    emit = on_event or (lambda event: None)
    workers = max(1, int(concurrency))
    window = workers * 2
    halt = threading.Event()  # set by a stopping error or by ``stop``: no new request starts
    errors: list[BaseException] = []
    in_flight: set[Future[RowOutcome | None]] = set()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bulkio-write")

    def settle(done: Iterable[Future[RowOutcome | None]]) -> list[RowOutcome]:
        outcomes = []
        for future in done:
            if future.cancelled():
                continue
            exc = future.exception()
            if exc is not None:
                errors.append(exc)
                halt.set()
                continue
            result = future.result()
            if result is not None:
                outcomes.append(result)
        return outcomes

    handed: list[RowOutcome] = []  # settled, not yet taken by the consumer
    quiet: list[RowOutcome] = []  # outcomes of rows that send no request, not yet in the ledger

    def flush_quiet() -> None:
        # one transaction (one fsync) for many: no request waits on these rows being on disk
        if quiet and ledger is not None:
            batch = quiet[:]
            quiet.clear()
            ledger.record_outcomes(run, batch)

    def hand_over() -> Iterator[RowOutcome]:
        # an outcome leaves ``handed`` only once the consumer came back for the next one, so one
        # lost to a Ctrl-C (in ``emit`` or in the consumer's loop) is still in ``handed``
        while handed:
            emit(Progress("write"))
            yield handed[0]
            del handed[0]

    try:
        for op in operations:
            if halt.is_set() or (stop is not None and stop.is_set()):
                break
            if op.action in ("unchanged", "skip"):
                outcome = pass_through(op)
                if ledger is not None:
                    quiet.append(outcome)
                    if len(quiet) >= QUIET_BATCH:
                        flush_quiet()
                handed.append(outcome)
                yield from hand_over()
                continue
            if op.action not in ("create", "update", "delete"):
                raise ValueError(f"row {op.row}: unknown action {op.action!r}")
            if op.action in ("update", "delete") and not op.record_id:
                raise ValueError(f"row {op.row}: an {op.action} needs a record_id")
            if op.idempotency_key is None:
                op.idempotency_key = idempotency_key(run, op)
            while len(in_flight) >= window:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                handed.extend(settle(done))
                yield from hand_over()
            if halt.is_set() or (stop is not None and stop.is_set()):
                break
            in_flight.add(pool.submit(_send, client, op, ledger, run, halt, stop, reconcile))
        if halt.is_set() or (stop is not None and stop.is_set()):
            halt.set()
            for future in in_flight:
                future.cancel()  # queued, not started: neither sent nor recorded
        while in_flight:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            handed.extend(settle(done))
            yield from hand_over()
    finally:
        # Also reached when the consumer abandons the generator: nothing new starts, and requests
        # already sent finish so their outcomes reach the ledger (and ``unreported``).
        halt.set()
        for future in in_flight:
            future.cancel()
        pool.shutdown(wait=True)
        if unreported is not None:
            unreported.extend(handed)
            for future in in_flight:
                if future.done() and not future.cancelled() and future.exception() is None:
                    late = future.result()
                    if late is not None:
                        unreported.append(late)
        flush_quiet()
    if errors:
        raise errors[0]
