"""Finding the run to continue, and the ledger's other questions before a run starts.

Why a module of its own: a file, a workbook's sheet and an undo all ask the ledger the same
things before their first request: which run ``--resume`` continues (found by its *run
fingerprint*: the input's content, the mapping's content and every option that changes what is
written, :func:`run_fingerprint`), whether a file was imported before with rows that have no key
(:func:`refuse_keyless_rerun`), and whether lists still hide records bulkio wrote moments ago
(:func:`settle_references`, API-FACTS §6).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .definitions import ObjectSchema
from .errors import ConfigError, LedgerError
from .events import EventHandler, Message

#: Pending intents younger than this are replayed with their Idempotency-Key on resume; the API
#: keeps keys for 24 h, so older ones are planned again instead (see :meth:`SheetRun.prepare`).
REPLAY_WINDOW = timedelta(hours=23)
#: Lists lag recent writes (API-FACTS §6; how much is not documented). An import whose references
#: point at a type bulkio created records of less than this ago checks that lists show the newest
#: of them (by its key) before resolving, waiting up to this long after that write.
LIST_SETTLE = timedelta(seconds=30)
#: ... and when the newest record cannot be looked up by its key (its key field holds another
#: value), how long after that write lists are assumed to have caught up.
LIST_SETTLE_GUESS = timedelta(seconds=3)
#: Options that change what a run writes: a resumed run must use the same ones. Each maps to how
#: the message names it.
WRITTEN_OPTIONS = {
    "key_field": "--key",
    "sheet": "--sheet",
    "header_row": "--header-row",
    "date_order": "--date-order",
    "tz": "--tz",
    "encoding": "--encoding",
    "delimiter": "--delimiter",
    "profile": "--from",
    "locale": "--locale",
    "phone_region": "--phone-region",
    "percent": "--percent",
    "match": "--match",
}


def file_fingerprint(path: str | Path) -> str:
    """sha256 of the file's bytes (streamed): resume refuses a file that changed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def run_fingerprint(object_type: str, file_fingerprint: str | None, options: dict[str, Any]) -> str:
    """What a run writes, as one hash: the object type, the input file's content, the mapping's
    content and every option in :data:`WRITTEN_OPTIONS` (``options`` holds ``mapping_sha`` too).
    A run is found for ``--resume`` by this, wherever the file is by then."""
    data = {
        "object": object_type,
        "file": file_fingerprint,
        "mapping": options.get("mapping_sha"),
        **{k: options.get(k) for k in WRITTEN_OPTIONS},
    }
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def mapping_fingerprint(mapping: Any) -> str | None:
    """The mapping's content (a file's bytes, or a dict as canonical JSON), so a resume notices an
    edited mapping file, not only a renamed one."""
    if mapping is None:
        return None
    if hasattr(mapping, "model_dump"):  # a MappingFile built in code (bulkio ui, a script): its content
        mapping = mapping.model_dump(mode="json", exclude_none=True)
    if isinstance(mapping, dict):
        return (
            "sha256:" + hashlib.sha256(json.dumps(mapping, sort_keys=True, default=str).encode()).hexdigest()
        )
    try:
        return file_fingerprint(mapping)
    except OSError:
        return f"path:{mapping}"


def ledger_target(client: Any) -> str:
    """The ledger's name for the CRM a client writes to: ``<base_url>#<key fingerprint>`` (a
    backend may name itself: the embedded sandbox by its database)."""
    target = getattr(client, "target", None)
    return target if isinstance(target, str) else f"{client.base_url}#{client.key_fingerprint}"


def find_run_to_resume(
    ledger: Any,
    object_type: str,
    target: str,
    file: str | None,
    fingerprint: str | None,
    fingerprint_now: str | None,
    options: dict[str, Any],
    *,
    exact: bool = False,
) -> Any:
    """The unfinished run ``--resume`` continues: the latest with the same run fingerprint (also
    when the file moved). None when there is none. When an unfinished run of this file exists
    that differs in the file's content, the mapping or an option, resuming it with this input
    would write other values under its keys: :class:`LedgerError` says what differs. ``exact``
    (a workbook's sheets, found by their workbook run) looks for the fingerprint only."""
    found = None
    if fingerprint_now is not None:
        found = ledger.find_run(
            object_type=object_type, target=target, run_fingerprint=fingerprint_now, unfinished=True
        )
    if found is not None or exact:
        return found
    near = None
    if fingerprint:
        near = ledger.find_run(
            object_type=object_type, target=target, input_fingerprint=fingerprint, unfinished=True
        )
    if near is None and file is not None:
        near = ledger.find_run(
            object_type=object_type, target=target, input_path=str(Path(file).resolve()), unfinished=True
        )
    if near is None:
        return None
    if near.input_fingerprint != fingerprint:
        raise LedgerError(
            f"{file} changed since run {near.run_id} started (fingerprint "
            f"{near.input_fingerprint[:19]}…, now {str(fingerprint)[:19]}…); re-run without "
            "--resume to start a new import"
        )
    then, now = near.options, options
    legacy = near.run_fingerprint is None  # written by an older bulkio: compare what it stored
    mapping_key = "mapping" if legacy else "mapping_sha"
    if then.get(mapping_key) != now.get(mapping_key):
        was = then.get("mapping") or "no mapping"
        is_ = now.get("mapping") or "no mapping"
        what = (
            f"the mapping file {is_} changed since run {near.run_id} started"
            if was == is_
            else f"run {near.run_id} used {was}, this one {is_}"
        )
        raise LedgerError(
            f"Cannot resume {file}: {what}, so rows would land in other fields. Resume with the "
            "mapping the run started with, or re-run without --resume to start a new import."
        )
    for key, flag in WRITTEN_OPTIONS.items():
        if (key in then or not legacy) and then.get(key) != now.get(key):
            raise LedgerError(
                f"Cannot resume {file}: run {near.run_id} used {flag} {then.get(key)!r}, this one "
                f"{now.get(key)!r}. Resume with the same options, or re-run without --resume to start "
                "a new import."
            )
    return near


def _newest_created(
    ledger: Any, client: Any, target: str, otype: str, exclude_runs: tuple[str, ...] = ()
) -> tuple[str, datetime, dict[str, Any], str, str | None] | None:
    """The record of ``otype`` bulkio created last (not in ``exclude_runs``), while lists may
    still hide it (less than :data:`LIST_SETTLE` ago): (id, when written, the record read fresh,
    which a retrieve does not lag, its run's key field, its key or None); else None (long enough
    ago, or gone)."""
    from .errors import ApiError

    newest = ledger.last_created_record(target=target, object_type=otype, exclude_runs=exclude_runs)
    if newest is None:
        return None
    record_id, written, key_field, key = newest
    if datetime.now(UTC) >= written + LIST_SETTLE:
        return None
    try:
        record: dict[str, Any] = client.retrieve(otype, record_id)
    except ApiError as exc:
        if exc.status in (400, 404):
            return None
        raise
    return record_id, written, record, key_field, key


def settle_references(
    ledger: Any,
    client: Any,
    emit: EventHandler,
    target: str,
    schema: ObjectSchema,
    header_map: Any,
    exclude_runs: Iterable[str] = (),
) -> None:
    """Wait out list lag for the object types this file refers to when bulkio created records of
    them moments ago (accounts imported, then contacts naming them): references resolve through
    lists. The newest such record is looked up by its key (a record created without one, such as
    a company read from a people list, by its name) until a list shows it (no wait at all when
    lists keep up), for at most :data:`LIST_SETTLE` after it was written; when it cannot be looked
    up so, until :data:`LIST_SETTLE_GUESS` after that write. Records of ``exclude_runs`` (the
    earlier sheets of the same workbook, which hand their records over directly) are not waited for."""
    referred = set()
    for mc in getattr(header_map, "columns", []) or []:
        col = mc.column
        rel = schema.relationships.get((col.field_key or col.key) if col is not None else "")
        if rel is not None:
            referred.add(rel.object_type)
    excluded = tuple(exclude_runs)
    for otype in sorted(referred):
        newest = _newest_created(ledger, client, target, otype, excluded)
        if newest is None:
            continue
        record_id, written, record, key_field, key = newest
        fields = record.get("fields") or {}
        found: tuple[str, str] | None = None
        if key is not None:
            if str((fields.get(key_field) or {}).get("value")).strip() == key:
                found = (f"{key_field}[equal]", key)
        else:
            name = (fields.get("$name") or {}).get("value")
            if isinstance(name, dict):
                name = " ".join(str(p) for p in (name.get("firstName"), name.get("lastName")) if p)
            if isinstance(name, str) and name.strip():
                found = ("$name[equal]", name)
        _wait_until_listed(client, emit, otype, record_id, written, found, "")


def _wait_until_listed(
    client: Any,
    emit: EventHandler,
    otype: str,
    record_id: str,
    written: datetime,
    found: tuple[str, str] | None,
    why: str,
) -> None:
    """Wait until a list filtered by ``found`` (name, value) shows ``record_id``, for at most
    :data:`LIST_SETTLE` after ``written``; without a filter that can find it (or when a full page of
    others hides it), until :data:`LIST_SETTLE_GUESS` after it."""
    from .errors import ApiError

    deadline = written + (LIST_SETTLE if found is not None else LIST_SETTLE_GUESS)
    delay, told = 0.2, False
    while datetime.now(UTC) < deadline:
        if found is not None:
            try:
                page = client.list_page(otype, offset=0, limit=25, filters={found[0]: found[1]})
            except ApiError as exc:
                if exc.status not in (400, 404):
                    raise
                found, deadline = None, min(deadline, written + LIST_SETTLE_GUESS)  # not so
                continue
            data = page.get("data") or []
            if any(r.get("id") == record_id for r in data):
                return
            if len(data) >= 25:  # a full page of others: cannot tell; wait a little, not the whole while
                deadline = min(deadline, written + LIST_SETTLE_GUESS)
        if not told:
            told = True
            emit(Message(f"waiting for lists to show the {otype} records written moments ago{why}"))
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def settle_matches(
    ledger: Any, client: Any, emit: EventHandler, target: str, schema: ObjectSchema, kind: str
) -> None:
    """``--match`` finds records through lists, which lag recent writes: when bulkio created a
    record of this object moments ago (the same file imported a minute ago), wait until a list
    filtered the way a match looks it up shows it (:func:`_wait_until_listed`). Else a re-run
    creates it again."""
    from .matching import is_person, lookup_filter, match_field, match_keys

    otype = schema.object_type
    newest = _newest_created(ledger, client, target, otype)
    if newest is None:
        return
    record_id, written, record, _key_field, _key = newest
    value = ((record.get("fields") or {}).get(match_field(kind)) or {}).get("value")  # type: ignore[arg-type]
    person = is_person(schema, kind)  # type: ignore[arg-type]
    items = value if isinstance(value, list) and kind != "name" else [value]
    found = None
    for item in items:
        for k in match_keys(kind, item, person=person):  # type: ignore[arg-type]
            found = lookup_filter(kind, k if kind == "domain" else item, person=person)  # type: ignore[arg-type]
            if found is not None:
                break
        if found is not None:
            break
    if found is not None:
        _wait_until_listed(client, emit, otype, record_id, written, found, " (--match)")


def refuse_keyless_rerun(
    ledger: Any, object_type: str, target: str, file: str | None, fingerprint: str
) -> None:
    """A file imported before whose rows had no key (tasks, notes, rows with a blank key) would
    create those rows a second time: refuse, unless ``allow_duplicates``."""
    prior = ledger.find_run(object_type=object_type, target=target, input_fingerprint=fingerprint)
    if prior is None:
        return
    keyless = ledger.keyless_creates(prior.run_id)
    if not keyless:
        return
    when = f"finished {prior.finished_at:%Y-%m-%d %H:%M} UTC" if prior.finished_at else "not finished"
    how = (
        "Pass --allow-duplicates (allow_duplicates=True) to create them again anyway."
        if prior.finished_at
        else "Re-run with --resume to continue that run, or pass --allow-duplicates "
        "(allow_duplicates=True) to start a new one that creates them again."
    )
    raise ConfigError(
        f"{file or 'This input'} was imported before (run {prior.run_id}, {when}): {keyless} of its "
        f"rows have no key and were created, so importing it again would create every one of them "
        f"again. {how}"
    )


__all__ = [
    "LIST_SETTLE",
    "LIST_SETTLE_GUESS",
    "REPLAY_WINDOW",
    "WRITTEN_OPTIONS",
    "file_fingerprint",
    "find_run_to_resume",
    "ledger_target",
    "mapping_fingerprint",
    "refuse_keyless_rerun",
    "run_fingerprint",
    "settle_matches",
    "settle_references",
]
