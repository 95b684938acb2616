"""Plan: match checked rows to existing records and decide, per row, one :class:`Operation`
(create / update / unchanged / skip) with the exact request body.

Matching, in order: the ``Record ID (id)`` column; the upsert key (the unique custom field
``external_id``, or another field given with ``--key``; a record's read-only ``externalId`` also
matches); then the ledger's ``known_records`` (records bulkio wrote under this target), confirmed by a
fresh retrieve, because list results can lag recent writes (API-FACTS §6).

Cost: a :class:`RecordIndex` either scans the object once (``ceil(total/25)`` list pages) or looks keys
up with ``key[equal]=value`` filters, whichever needs fewer requests for the rows seen so far; it
switches to a scan the moment the filter queries would cost more. An untouched re-import therefore
costs about ``total/25`` requests instead of one per row.

Rules:

* a key repeated in the file → ``duplicate_key`` on the later rows (the first wins); a later row
  with the same values as the first (a people list read for its companies repeats each company's
  row; each value the later row has is the first's, blank cells saying nothing) is skipped with a
  ``duplicate_row`` warning instead, when the first is among the latest keys the planner keeps
  (:data:`REPEAT_WINDOW`; a resumed run, or a repeat further down a huge file, still errs);
* a row without a key (and without a record id) is *created* with a ``missing_key`` warning: without a
  key there is nothing to upsert on, so re-running such a file creates those rows again;
* update bodies hold only keys whose normalised value differs (:func:`bulkio.values.normalize`);
  partial ADDRESS / FULL_NAME parts are merged with the stored value; relationships are written as
  ``{"replace": [...]}``; ``#clear`` sends ``null`` / ``replace: null``;
* notes cannot ``replace`` and take exactly one of ``add`` / ``remove`` per key and request: a key
  that needs both is split, ``add`` in the body (with the fields) and ``remove`` in the operation's
  ``follow_up``, sent after the body succeeded, so the note is never left unlinked;
* nothing differs → ``unchanged`` (no request);
* creates must carry every required key (``required_field_missing``);
* rows with errors become ``skip`` operations carrying their issues.

Records without a key (made in the app, or by another tool) are found by ``match`` (``--match
name|domain|email``, rules in :mod:`bulkio.matching`) when a row's key and record id match nothing:
one candidate → the row updates it and writes its key (the next run matches by key); several →
``ambiguous_match``; a candidate that already has another key → ``match_conflict``; a record an
earlier row already matched → ``duplicate_match``. Never a guess. Without ``match``, a row that
creates a record whose name (or, for contacts, email or full name) an existing record or an earlier
row of the file has gets a ``possible_duplicate`` warning naming it. The lookups are batched per chunk
like key lookups (one filter per distinct value, or one scan, whichever costs fewer requests), and
only rows without a key match need them, so a re-run of an imported file costs nothing extra.

A NUMBER value the validator could not judge as a fraction (``CheckedRow.fractions``) is compared
with what the CRM holds in that field (three counting requests per field and run): if existing
records hold 0-100 values, the row gets a ``looks_like_fraction`` warning.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import values as V
from .crm.base import lookup_weight, page_size, scan_pages
from .definitions import CREATE_ONLY_RELATIONSHIPS, FIXED_AFTER_CREATE, UPDATE_OPS, FieldDef, ObjectSchema
from .errors import ApiError
from .issues import Issue
from .matching import (
    MatchKind,
    MatchSpec,
    check_match,
    duplicate_specs,
    is_person,
    lookup_filter,
    match_field,
    match_keys,
)
from .operations import Operation
from .resolve import SMALL_SCAN_PAGES, record_name
from .validate import FRACTION_EXPECTED, CheckedRow, fraction_message
from .values import CLEAR

#: Keys whose first row's values the planner keeps, to tell a repeated row from a conflicting one:
#: those of the first :data:`REPEAT_WINDOW_START` keyed rows; once the file repeats a key (a people
#: list read for its companies), the latest :data:`REPEAT_WINDOW` keys. A file that repeats none
#: early keeps no more: kept values cost memory (about 0.7 KB a row) and the garbage collector's
#: time (kept throughout, they cost a 1,000,000-row dry run 15% of its CPU).
REPEAT_WINDOW_START = 2_000
REPEAT_WINDOW = 50_000
#: Filter operator per key value type (EMAIL/URL/TELEPHONE only support ``contains``).
_CONTAINS_TYPES = frozenset({"EMAIL", "URL", "TELEPHONE"})


@dataclass(slots=True)
class Existing:
    """The parts of an existing record the planner needs (only the keys the file touches)."""

    id: str
    link: str | None = None
    keys: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)
    rels: dict[str, list[str]] = field(default_factory=dict)
    #: ``"name:acme"``-style match keys (see :mod:`bulkio.matching`) and the display name
    matches: tuple[str, ...] = ()
    name: str | None = None


def _record_matches(fields: dict[str, Any], specs: MatchSpec) -> tuple[str, ...]:
    """``("name:acme",)``: the match keys of an existing record's (bare) field values."""
    out: list[str] = []
    for kind, person in specs:
        value = fields.get(match_field(kind))
        out += [f"{kind}:{k}" for k in sorted(match_keys(kind, value, person=person))]
    return tuple(dict.fromkeys(out))


def key_text(value: Any) -> str | None:
    """An upsert key value as comparable text (None when blank)."""
    if value is None or value is CLEAR:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


class RecordIndex:
    """Existing records of the imported object type, by id and by upsert key."""

    def __init__(
        self,
        client: Any,
        object_type: str,
        key_field: str,
        *,
        keep: set[str] | None = None,
        concurrency: int = 8,
    ) -> None:
        self.client, self.object_type, self.key_field = client, object_type, key_field
        self.keep, self.concurrency = keep, concurrency
        #: what records are also indexed by (``--match``, ``possible_duplicate``)
        self.match_specs: MatchSpec = ()
        self.by_match: dict[str, list[str]] = {}
        #: match keys are indexed from the first lookup on (an untouched re-import never needs them)
        self.match_indexed = False
        self.checked_matches: set[str] = set()
        self.by_id: dict[str, Existing] = {}
        self.by_key: dict[str, list[str]] = {}
        self.checked_keys: set[str] = set()
        self.checked_ids: set[str] = set()
        self.scanned = False
        self.total: int | None = None
        self.requests = 0
        #: lookups still expected for the rest of the input (a hint from the pipeline's row
        #: estimate), so a long file scans at once instead of filtering its first chunk
        self.expected_lookups = 0
        self._lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> Existing:
        fields = record.get("fields") or {}
        rels = record.get("relationships") or {}
        keys = tuple(
            k
            for k in dict.fromkeys(
                (
                    key_text((fields.get(self.key_field) or {}).get("value")),
                    key_text(record.get("externalId")),
                )
            )
            if k
        )
        ex = Existing(
            id=record["id"],
            link=record.get("httpLink"),
            keys=keys,
            name=record_name(record),
            fields={
                k: (v.get("value") if isinstance(v, dict) else v)
                for k, v in fields.items()
                if self.keep is None or k in self.keep
            },
            rels={
                k: list((v or {}).get("values") or [])
                for k, v in rels.items()
                if self.keep is None or k in self.keep
            },
        )
        if self.match_indexed:
            ex.matches = _record_matches(ex.fields, self.match_specs)
        with self._lock:
            old = self.by_id.get(ex.id)
            if old is not None:
                for index, old_keys in ((self.by_key, old.keys), (self.by_match, old.matches)):
                    for k in old_keys:
                        ids = index.get(k)
                        if ids and ex.id in ids:
                            ids.remove(ex.id)
            self.by_id[ex.id] = ex
            for index, new_keys in ((self.by_key, keys), (self.by_match, ex.matches)):
                for k in new_keys:
                    ids = index.setdefault(k, [])
                    if ex.id not in ids:
                        ids.append(ex.id)
        return ex

    def count(self) -> int:
        self._count_page()
        assert self.total is not None
        return self.total

    def _count_page(self) -> dict[str, Any] | None:
        """Learn how many records there are (once) from a whole first page, which a scan right
        after reuses instead of asking for it again; returns that page when it was read now."""
        if self.total is not None:
            return None
        with self._lock:
            self.requests += 1
        page: dict[str, Any] = self.client.list_page(
            self.object_type, offset=0, limit=page_size(self.client, self.object_type)
        )
        self.total = int(page.get("totalCount") or 0)
        return page

    def scan(self, first_page: dict[str, Any] | None = None) -> None:
        """Read every record; ``first_page``: the list's first page, read just now."""
        if self.scanned:
            return
        data = list(first_page.get("data") or []) if first_page is not None else []
        whole = (
            first_page is not None
            and not first_page.get("has_more")
            and len(data) < page_size(self.client, self.object_type)
            and len(data) >= (self.total or 0)
        )
        if whole:  # the first page holds every record: nothing more to ask
            records: Iterable[dict[str, Any]] = data
        elif first_page is not None and _reuses_first_page(self.client):
            records = self.client.list_all(
                self.object_type, concurrency=self.concurrency, first_page=first_page
            )
            self.requests += scan_pages(self.client, self.object_type, self.total or 0) - 1
        else:
            records = self.client.list_all(self.object_type, concurrency=self.concurrency)
            self.requests += scan_pages(self.client, self.object_type, self.total or 0)
        for rec in records:
            self.add(rec)
        self.scanned = True

    def _retrieve(self, record_id: str) -> Existing | None:
        with self._lock:
            self.requests += 1
        try:
            return self.add(self.client.retrieve(self.object_type, record_id))
        except ApiError as exc:
            if exc.status in (400, 404):
                return None
            raise

    def _filter(self, key: str, op: str) -> None:
        self._filter_by(f"{self.key_field}[{op}]", key)

    def _filter_by(self, flt: str, value: str) -> None:
        with self._lock:
            self.requests += 1
        try:
            for rec in self.client.list(self.object_type, filters={flt: value}):
                self.add(rec)
        except ApiError as exc:
            if exc.status != 400:  # a filter this API does not take: nothing found this way
                raise

    def _index_matches(self) -> None:
        """Index the records seen so far by their match keys (once; later records as they come)."""
        if self.match_indexed or not self.match_specs:
            return
        with self._lock:
            self.match_indexed = True
            for ex in self.by_id.values():
                ex.matches = _record_matches(ex.fields, self.match_specs)
                for k in ex.matches:
                    self.by_match.setdefault(k, []).append(ex.id)

    def prefetch_matches(self, wanted: dict[str, tuple[str, str]]) -> None:
        """Make match keys (``"name:acme"`` → its lookup filter) answerable locally: one filter
        request per key, or one scan of the object when that costs fewer requests."""
        self._index_matches()
        todo = {k: f for k, f in wanted.items() if k not in self.checked_matches} if not self.scanned else {}
        if not todo:
            return
        first = self._count_page()
        pages = scan_pages(self.client, self.object_type, self.count())
        filters = list(dict.fromkeys(v for f in todo.values() for v in _cased(f)))
        need = max(len(filters), self.expected_lookups * len(filters) // max(1, len(todo)))
        if pages <= SMALL_SCAN_PAGES or (self.requests + need) * lookup_weight(self.client) >= pages:
            self.scan(first)
            return
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            list(pool.map(lambda f: self._filter_by(*f), filters))
        self.checked_matches |= set(todo)

    def find_match(self, key: str) -> list[Existing]:
        self._index_matches()
        return [self.by_id[i] for i in self.by_match.get(key, ()) if i in self.by_id]

    def prefetch(self, keys: set[str], ids: set[str], op: str = "equal") -> None:
        """Make the given keys and ids answerable locally, scanning or filtering by cost."""
        todo_keys = {k for k in keys if k not in self.checked_keys} if not self.scanned else set()
        todo_ids = {i for i in ids if i not in self.by_id and i not in self.checked_ids}
        if not self.scanned and todo_keys | todo_ids:
            first = self._count_page()
            pages = scan_pages(self.client, self.object_type, self.count())
            need = max(len(todo_keys) + len(todo_ids), self.expected_lookups)
            # a lookup may cost more than a list page (Close: a search, from a 10x smaller bucket)
            if pages <= SMALL_SCAN_PAGES or (self.requests + need) * lookup_weight(self.client) >= pages:
                self.scan(first)
                todo_keys = set()
                todo_ids = {i for i in todo_ids if i not in self.by_id}
        jobs: list[tuple[Any, ...]] = [(self._filter, k, op) for k in todo_keys]
        jobs += [(self._retrieve, i) for i in todo_ids]
        if jobs:
            with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
                list(pool.map(lambda job: job[0](*job[1:]), jobs))
        self.checked_keys |= todo_keys
        self.checked_ids |= todo_ids

    def confirm(self, record_ids: set[str]) -> None:
        """Fresh retrieves (known records that the list results do not show yet)."""
        todo = [i for i in record_ids if i not in self.by_id and i not in self.checked_ids]
        if todo:
            with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
                list(pool.map(self._retrieve, todo))
            self.checked_ids |= set(todo)

    def find_key(self, key: str) -> list[Existing]:
        return [self.by_id[i] for i in self.by_key.get(key, ()) if i in self.by_id]


def _reuses_first_page(client: Any) -> bool:
    """Whether ``client.list_all`` takes the ``first_page`` already read (bulkio's Lightfield
    client does; a backend without it reads the first page again)."""
    import inspect

    try:
        return "first_page" in inspect.signature(client.list_all).parameters
    except (TypeError, ValueError):
        return False


def normalize(fdef: FieldDef, value: Any) -> Any:
    """Comparable form of an API value (:func:`bulkio.values.normalize`); empty is None."""
    if value is None or value == [] or value == "":
        return None
    return V.normalize(fdef, value)


def _cased(flt: tuple[str, str]) -> list[tuple[str, str]]:
    """A name filter as the file writes it, and as names are usually written (Acme, Ana Lima) when
    that differs: whether a server compares filters ignoring case is not documented (API-FACTS),
    and the strict sandbox does not, so "ACME CORP" in a file would not find Acme Corp."""
    name, value = flt
    if not name.startswith("$name["):
        return [flt]
    usual = value.title() if name == "$name[equal]" else value[:1].upper() + value[1:].lower()
    return [flt] if usual == value else [flt, (name, usual)]


def _repeats(row: CheckedRow, earlier: dict[str, Any], matched_on: str) -> bool:
    """Whether ``row`` says nothing the earlier row of the same record did not: each value it has is
    the earlier row's, but the one both matched the record by (``VAALBANK BV`` and ``Vaalbank B.V.``
    match by name alike), and it has no error."""
    if any(i.severity == "error" for i in row.issues):
        return False
    return all(k == matched_on or earlier.get(k, _NOTHING) == v for k, v in row.values.items())


_NOTHING = object()

#: classes whose values are never empty (what _empty answers at once for them)
_SCALARS = frozenset({int, float, bool})


def _empty(value: Any) -> bool:
    """None, "", [] or a dict of only empty parts (the value types a checked row holds)."""
    if value is None:
        return True
    if isinstance(value, (str, list)):
        return not value
    if isinstance(value, dict):
        return all(v in (None, "") for v in value.values())
    return False


def _blank(value: Any) -> bool:
    """A required value that is not there: None, blank text, an empty list, ``#clear`` or a dict of
    only empty parts (:func:`_empty`, with the usual text checked first)."""
    if value is None:
        return True
    return not value if value.__class__ is str else value is CLEAR or _empty(value)


class Planner:
    """Turns chunks of resolved :class:`CheckedRow`s into :class:`Operation`s, in input order."""

    def __init__(
        self,
        client: Any,
        schema: ObjectSchema,
        *,
        key_field: str = "external_id",
        known: dict[str, str] | None = None,
        header_map: Any = None,
        file: str | None = None,
        sheet: str | None = None,
        concurrency: int = 8,
        keep_changes: bool = True,
        match: MatchKind | None = None,
    ) -> None:
        self.client, self.schema, self.key_field = client, schema, key_field
        self.required = schema.required  # a computed property: once per run, not per row
        self._has_many = {k: rel.has_many for k, rel in schema.relationships.items()}
        self.known = known or {}
        self.file, self.sheet = file, sheet
        self.keep_changes = keep_changes
        #: False for a dry run: a create's body is built only for the changes it shows
        #: (``keep_changes``), since it is never sent
        self.bodies = True
        self.seen: set[str] = set()
        #: key → (row, record id, values) of the latest :data:`REPEAT_WINDOW` keys' first rows, to
        #: tell a row that repeats one (skipped) from one that conflicts with it (duplicate_key)
        self.first_rows: dict[str, tuple[int, str | None, dict[str, Any]]] = {}
        #: rows that repeat an earlier row of the file exactly: not written again
        self.repeats: set[int] = set()
        self.repeat_window = REPEAT_WINDOW_START
        self.expected_rows = 0  # estimated input rows (0 = unknown), for the scan-or-filter choice
        self.planned = 0
        self.columns: dict[str, tuple[str, str]] = {}  # key → (letter, header)
        keep = {key_field, "$name"}
        has_key_column = False
        for mc in getattr(header_map, "columns", []) or []:
            col = mc.column
            if col is None:
                continue
            k = col.field_key or col.key
            keep.add(k)
            self.columns.setdefault(k, (mc.letter, mc.header))
            has_key_column = has_key_column or k == key_field
        self.has_key_column = has_key_column
        kf = schema.fields.get(key_field)
        self.key_op = "contains" if kf is not None and kf.value_type in _CONTAINS_TYPES else "equal"
        # keep only the keys the file touches (all of them when planning without a header map)
        self.index = RecordIndex(
            client,
            schema.object_type,
            key_field,
            keep=keep if header_map is not None else None,
            concurrency=concurrency,
        )
        self.links: dict[str, str] = {}
        #: ``--match``: how rows without a key match find records that have none
        self.match: MatchKind | None = check_match(schema, match) if match else None
        self.dup_specs = duplicate_specs(schema)
        specs = list(self.dup_specs)
        if self.match is not None:
            spec = (self.match, is_person(schema, self.match))
            specs = [spec, *(s for s in specs if s != spec)]
        self.index.match_specs = tuple(specs)
        #: record id → the row that matched or updated it (``duplicate_match``)
        self.claimed: dict[str, int] = {}
        #: match key → the earlier row of this file that creates a record with it
        self.created: dict[str, int] = {}
        #: ``--match``: match key → (row, values) of the earlier row that creates a record with it
        self.match_created: dict[str, tuple[int, dict[str, Any]]] = {}
        #: ``--match``: record id → the values of the row that matched it first
        self.match_claimed: dict[str, dict[str, Any]] = {}
        #: NUMBER field → why the CRM says it holds 0-100 values (None: it does not, or cannot tell)
        self.scales: dict[str, str | None] = {}

    @property
    def requests(self) -> int:
        return self.index.requests

    def note_key(self, key: str | None) -> None:
        """Register a key already handled (a resumed run's completed rows) for duplicate checks."""
        if key:
            self.seen.add(key)

    def _issue(
        self,
        row: CheckedRow,
        key: str | None,
        code: str,
        message: str,
        *,
        severity: str = "error",
        value: Any = None,
        expected: str | None = None,
    ) -> Issue:
        src = row.sources.get(key) if key else None
        letter, header = (src.column, src.header) if src else self.columns.get(key or "", (None, None))
        issue = Issue(
            code=code,
            message=message,
            file=self.file,
            sheet=self.sheet,
            row=row.row,
            column=letter,
            header=header,
            field=key,
            value=value if value is not None else (src.raw if src else None),
            expected=expected,
            severity=severity,  # type: ignore[arg-type]
        )
        row.issues.append(issue)
        return issue

    def plan(self, rows: list[CheckedRow]) -> list[Operation]:
        """Plan a chunk (rows in input order); lookups for the whole chunk are batched."""
        keys: dict[int, str | None] = {}
        key_field = self.key_field
        for row in rows:
            value = row.values.get(key_field)
            key = (value.strip() or None) if value.__class__ is str else key_text(value)
            keys[row.row] = key
            if key is None:
                continue
            if key in self.seen:
                self.repeat_window = REPEAT_WINDOW  # the file repeats keys: remember more of them
                first = self.first_rows.get(key)
                if first is not None and first[1] == row.record_id and _repeats(row, first[2], key_field):
                    # a people list read for its companies: the company's row again, word for word
                    self._issue(
                        row,
                        self.key_field,
                        "duplicate_row",
                        f"row {row.row} repeats row {first[0]} ({self.key_field} '{key}'; each value "
                        f"it has is row {first[0]}'s): it is not imported again.",
                        severity="warning",
                        value=key,
                    )
                    self.repeats.add(row.row)
                else:
                    other = " with other values" if first is not None else ""
                    self._issue(
                        row,
                        self.key_field,
                        "duplicate_key",
                        f"{self.key_field} '{key}' appears on an earlier row of the file{other}; "
                        "only the first row with a key is imported.",
                        value=key,
                    )
                continue
            self.seen.add(key)
            first_rows = self.first_rows
            if len(first_rows) < self.repeat_window:
                first_rows[key] = (row.row, row.record_id, row.values)
            elif self.repeat_window == REPEAT_WINDOW:  # a file that repeats keys: the newer half
                # (deleting the oldest one at a time would make each deletion walk past the holes)
                first_rows = self.first_rows = dict(
                    itertools.islice(first_rows.items(), len(first_rows) // 2, None)
                )
                first_rows[key] = (row.row, row.record_id, row.values)
        live = [r for r in rows if not r.issues or r.ok]
        self.planned += len(rows)
        self.index.expected_lookups = max(0, self.expected_rows - self.planned + len(rows))
        want_keys = {k for r in live if (k := keys[r.row])}
        want_ids = {r.record_id for r in live if r.record_id}
        if want_keys or want_ids or any(r.record_id is None for r in live):
            self.index.prefetch(want_keys, want_ids, self.key_op)
        # known records the list did not show (index lag): confirm with a fresh retrieve
        known = self.known
        confirm = (
            {known[k] for k in want_keys if k in known and not self.index.find_key(k)} if known else None
        )
        if confirm:
            self.index.confirm(confirm)
        if self.index.match_specs:
            wanted: dict[str, tuple[str, str]] = {}
            for row in live:
                key = keys[row.row]
                if row.record_id or (key is not None and (self.index.find_key(key) or key in self.known)):
                    continue
                for kind, person in self.index.match_specs:
                    wanted.update(self._lookups(row, kind, person))
            if wanted:
                self.index.prefetch_matches(wanted)
        self._check_fractions(live)
        if self.keep_changes or self.bodies or self.match is not None or self.dup_specs:
            return [self._plan_row(row, keys[row.row]) for row in rows]
        return self._plan_creates(rows, keys)

    def _plan_creates(self, rows: list[CheckedRow], keys: dict[int, str | None]) -> list[Operation]:
        """:meth:`_plan_row` for a dry run past the rows whose changes it lists (no body, no
        changes), without its calls for the usual row: one with a new key, no record id, no issue
        and every required value, which would be created. Every other row goes to _plan_row."""
        by_key, known, required = self.index.by_key, self.known, self.required
        otype = self.schema.object_type
        ops: list[Operation] = []
        for row in rows:
            key = keys[row.row]
            if row.issues or row.record_id or key is None or key in by_key or key in known:
                ops.append(self._plan_row(row, key))
                continue
            values = row.values
            for k in required:  # (a loop, not any(): no generator for each of a million rows)
                if _blank(values.get(k)):  # _create reports what is missing
                    ops.append(self._plan_row(row, key))
                    break
            else:
                ops.append(
                    Operation(row=row.row, action="create", object_type=otype, key=key, issues=row.issues)
                )
        return ops

    # --- matching without a key ----------------------------------------------------------------
    def _lookups(self, row: CheckedRow, kind: MatchKind, person: bool) -> dict[str, tuple[str, str]]:
        """Match key → lookup filter for each value of the row's ``kind`` field."""
        value = row.values.get(match_field(kind))
        if value is None or value is CLEAR:
            return {}
        if person and isinstance(value, dict) and not (value.get("firstName") and value.get("lastName")):
            return {}  # a first name alone matches too many people
        out: dict[str, tuple[str, str]] = {}
        items = value if isinstance(value, list) and kind != "name" else [value]
        for item in items:
            for k in match_keys(kind, item, person=person):
                flt = lookup_filter(kind, k if kind == "domain" else item, person=person)
                if flt is not None:
                    out[f"{kind}:{k}"] = flt
        return out

    def _candidates(self, row: CheckedRow, kind: MatchKind, person: bool) -> tuple[list[Existing], str]:
        """Existing records the row matches by ``kind`` (each once) and the value it matched on."""
        found: dict[str, Existing] = {}
        on = ""
        for mkey in self._lookups(row, kind, person):
            for ex in self.index.find_match(mkey):
                found.setdefault(ex.id, ex)
                on = on or mkey.split(":", 1)[1]
        return list(found.values()), on

    def _named(self, ex: Existing) -> str:
        return f"{ex.name!r} ({ex.id})" if ex.name else ex.id

    def _match(self, row: CheckedRow, key: str | None) -> tuple[Existing | None, Operation | None]:
        """``--match``: the one record the row matches, or a skip operation saying why not."""
        assert self.match is not None
        otype = self.schema.object_type
        field_key = match_field(self.match)
        cands, on = self._candidates(row, self.match, is_person(self.schema, self.match))
        if not cands:
            return None, None
        problem: tuple[str, str] | None = None
        if len(cands) > 1:
            problem = (
                "ambiguous_match",
                (
                    f"{len(cands)} existing {otype} records match by {self.match} ('{on}'): "
                    f"{', '.join(self._named(c) for c in cands[:5])}; put the record's ID in a Record ID "
                    f"column, or its {self.key_field} in the row, to pick one."
                ),
            )
        else:
            ex = cands[0]
            if key is not None and ex.keys and key not in ex.keys:
                problem = (
                    "match_conflict",
                    (
                        f"{self._named(ex)} matches by {self.match}, but its {self.key_field} is "
                        f"'{ex.keys[0]}', not '{key}': it is another record by key. Fix the key in the file "
                        "to update it, or change the name to create a new one."
                    ),
                )
            elif ex.id in self.claimed:
                earlier = self.match_claimed.get(ex.id)
                if (
                    earlier is not None and key is None and _repeats(row, earlier, field_key)
                ):  # the record an earlier row matched, again, with nothing else to say
                    self._issue(
                        row,
                        field_key,
                        "duplicate_row",
                        f"row {row.row} repeats row {self.claimed[ex.id]} (the same {otype} by "
                        f"{self.match}, {self._named(ex)}; each value it has is row "
                        f"{self.claimed[ex.id]}'s): it is not imported again.",
                        severity="warning",
                    )
                    return None, Operation(
                        row=row.row, action="skip", object_type=otype, key=key, issues=row.issues
                    )
                problem = (
                    "duplicate_match",
                    (
                        f"{self._named(ex)} matches by {self.match}, but row {self.claimed[ex.id]} of this "
                        "file already matched it; only the first row updates it."
                    ),
                )
            else:
                return ex, None
        self._issue(row, field_key, *problem)
        return None, Operation(row=row.row, action="skip", object_type=otype, key=key, issues=row.issues)

    def _matches_earlier_create(self, row: CheckedRow, mkeys: list[str]) -> Operation | None:
        """``--match``: a row without a key that matches what an earlier row of this file creates
        (a people list read for its companies, matched by name) is that record again: skipped as
        ``duplicate_row`` when each value it has is the earlier row's, else a ``duplicate_match``
        error. Either way no second record is created."""
        first = next((self.match_created[k] for k in mkeys if k in self.match_created), None)
        if first is None:
            return None
        otype = self.schema.object_type
        number, values = first
        shown = row.values.get(match_field(self.match or "name"))
        on = shown if isinstance(shown, str) else mkeys[0].split(":", 1)[1]
        if _repeats(row, values, match_field(self.match or "name")):
            self._issue(
                row,
                match_field(self.match or "name"),
                "duplicate_row",
                f"row {row.row} repeats row {number} (the same {otype} by {self.match}, '{on}'; each "
                f"value it has is row {number}'s): it is not imported again.",
                severity="warning",
            )
        else:
            self._issue(
                row,
                match_field(self.match or "name"),
                "duplicate_match",
                f"row {number} of this file creates the {otype} this row matches by {self.match} ('{on}'), "
                "with other values; only that row is imported (give the rows keys, or merge them).",
            )
        return Operation(row=row.row, action="skip", object_type=otype, key=None, issues=row.issues)

    def _flag_duplicates(self, row: CheckedRow) -> None:
        """``possible_duplicate``: the row creates a record an existing one (or an earlier row) has
        the name or email of. A warning: the row is still created."""
        otype = self.schema.object_type
        for kind, person in self.dup_specs:
            cands, on = self._candidates(row, kind, person)
            mkeys = list(self._lookups(row, kind, person))
            earlier = next((self.created[k] for k in mkeys if k in self.created), None)
            for k in mkeys:
                self.created.setdefault(k, row.row)
            if not cands and earlier is None:
                continue
            what = "email" if kind == "email" else "name"
            if cands:
                named = ", ".join(self._named(c) for c in cands[:3])
                message = (
                    f"An existing {otype} has the same {what} ('{on}'): {named}. This row creates "
                    f"another; to update {'it' if len(cands) == 1 else 'one of them'} instead, re-run "
                    f"with --match {'email' if kind == 'email' else 'name'}"
                    + (f" (or put its {self.key_field} in the row)." if self.key_field else ".")
                )
            else:
                message = f"Row {earlier} of this file also creates a {otype} with this {what}."
            self._issue(row, match_field(kind), "possible_duplicate", message, severity="warning")
            return

    # --- fractions against what the CRM holds -------------------------------------------------
    def _check_fractions(self, rows: list[CheckedRow]) -> None:
        for row in [r for r in rows if r.fractions]:
            for key in row.fractions or ():
                if key not in self.scales:
                    self.scales[key] = self._crm_scale(key)
                why = self.scales[key]
                value = row.values.get(key)
                if why is None or value is None or value is CLEAR:
                    continue
                src = row.sources.get(key)
                raw = src.raw if src is not None else value
                header = src.header if src is not None else key
                self._issue(
                    row,
                    key,
                    "looks_like_fraction",
                    fraction_message(raw, value, why, header),
                    severity="warning",
                    value=raw,
                    expected=FRACTION_EXPECTED,
                )
            row.fractions = None

    def _crm_scale(self, key: str) -> str | None:
        """Why ``key`` holds percentages in the CRM: existing values are in 1-100 and none is a
        fraction or above 100 (three counting requests). None when not, or when the API cannot say."""
        fdef = self.schema.fields.get(key)
        if fdef is None or fdef.value_type != "NUMBER":
            return None
        otype = self.schema.object_type

        def count(filters: dict[str, str]) -> tuple[int, Any]:
            self.index.requests += 1
            page = self.client.list_page(otype, offset=0, limit=1, filters=filters)
            data = page.get("data") or []
            example = ((data[0].get("fields") or {}).get(key) or {}).get("value") if data else None
            return int(page.get("totalCount") or 0), example

        try:
            pct, example = count({f"{key}[greaterThan]": "1", f"{key}[lessThanOrEqual]": "100"})
            if not pct or count({f"{key}[greaterThan]": "100"})[0]:
                return None
            if count({f"{key}[greaterThan]": "0", f"{key}[lessThan]": "1"})[0]:
                return None
        except ApiError as exc:
            if exc.status == 400:
                return None
            raise
        return f"existing {otype} records hold 0-100 values in {fdef.label} ({pct}, e.g. {example})"

    def _plan_row(self, row: CheckedRow, key: str | None) -> Operation:
        otype = self.schema.object_type
        if (row.issues and not row.ok) or row.row in self.repeats:
            return Operation(
                row=row.row,
                action="skip",
                object_type=otype,
                record_id=row.record_id,
                key=key,
                issues=row.issues,
            )
        existing: Existing | None = None
        if row.record_id:
            existing = self.index.by_id.get(row.record_id)
            if existing is None:
                self._issue(
                    row,
                    "id",
                    "record_not_found",
                    f"No {otype} has the ID '{row.record_id}'.",
                    value=row.record_id,
                )
                return Operation(
                    row=row.row,
                    action="skip",
                    object_type=otype,
                    record_id=row.record_id,
                    key=key,
                    issues=row.issues,
                )
        elif key is not None:
            # find_key, without the call for the usual new key
            matches = self.index.find_key(key) if key in self.index.by_key else []
            if not matches and key in self.known:
                ex = self.index.by_id.get(self.known[key])
                matches = [ex] if ex is not None else []
            if len(matches) > 1:
                self._issue(
                    row,
                    self.key_field,
                    "ambiguous_match",
                    f"{len(matches)} existing {otype} records have {self.key_field} '{key}': "
                    f"{', '.join(m.id for m in matches)}.",
                    value=key,
                )
                return Operation(row=row.row, action="skip", object_type=otype, key=key, issues=row.issues)
            existing = matches[0] if matches else None
        elif self.has_key_column and self.match is None:
            self._issue(
                row,
                self.key_field,
                "missing_key",
                f"No {self.key_field}: the row is created, and re-running the file would create it again.",
                severity="warning",
            )
        mkeys: list[str] = []
        if existing is None and row.record_id is None and self.match is not None:
            existing, skip = self._match(row, key)
            if skip is not None:
                return skip
            on = match_field(self.match)
            if existing is not None and key is None and self.match != "email" and on in row.values:
                # a row without a key found by its name (or website): the file's spelling found it,
                # the CRM's stays (a people list's "Initech, LLC" must not rename Initech). A row
                # with a key claims the record, name and all; a contact's emails are added as ever
                row.values = {k: v for k, v in row.values.items() if k != on}
            if existing is None and key is None:
                mkeys = list(self._lookups(row, self.match, is_person(self.schema, self.match)))
                skip = self._matches_earlier_create(row, mkeys)
                if skip is not None:
                    return skip
        if existing is None:
            op = self._create(row, key)
            if op.action == "create":
                if mkeys and len(self.match_created) < REPEAT_WINDOW:
                    for k in mkeys:
                        self.match_created.setdefault(k, (row.row, row.values))
                if self.dup_specs:
                    self._flag_duplicates(row)
            return op
        if existing.id not in self.claimed:
            self.claimed[existing.id] = row.row
            if self.match is not None and len(self.match_claimed) < REPEAT_WINDOW:
                self.match_claimed[existing.id] = row.values
        return self._update(row, key, existing)

    # --- a create that met its key already taken -------------------------------------------------
    def after_conflict(self, op: Operation, error: ApiError, *, wait: float = 30.0) -> Operation | None:
        """Plan a create the API refused as ``duplicate_value`` on the upsert key again, against the
        record that holds the key: an ``update`` of what differs, or ``unchanged``.

        Why: another process (or a run whose ledger was lost) created the record a moment ago, and
        the list this row was planned from did not show it yet (lists lag, API-FACTS §6). The data is
        there, so the row is not a failure. The record is looked up by the key, waiting out the lag
        (``wait`` seconds at most); None when the conflict is on another field, or no single record
        turns up.
        """
        field = (error.param or "").removeprefix("fields.")
        if op.action != "create" or op.key is None or op.body is None or field != self.key_field:
            return None
        deadline, delay = time.monotonic() + wait, 0.25
        while True:
            found = [
                rec
                for rec in self.client.list(
                    self.schema.object_type, filters={f"{self.key_field}[{self.key_op}]": op.key}
                )
                if op.key in (key_text((rec.get("fields", {}).get(self.key_field) or {}).get("value")),)
            ]
            if found or time.monotonic() + delay > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        if len(found) != 1:
            return None
        ex = self.index.add(found[0])
        values: dict[str, Any] = dict(op.body.get("fields") or {})
        for k, v in (op.body.get("relationships") or {}).items():
            values[k] = list(v) if isinstance(v, list) else [v]
        row = CheckedRow(row=op.row, values=values, issues=list(op.issues))
        replanned = self._update(row, op.key, ex)
        replanned.issues.append(
            Issue(
                code="matched_existing",
                message=f"{self.key_field} '{op.key}' was taken by {ex.id} by the time this row was "
                f"written (another process, or a list that lagged); the row was matched to it.",
                file=self.file,
                sheet=self.sheet,
                row=op.row,
                field=self.key_field,
                value=op.key,
                severity="warning",
            )
        )
        return replanned

    # --- create --------------------------------------------------------------------------------
    def _create(self, row: CheckedRow, key: str | None) -> Operation:
        otype = self.schema.object_type
        values = row.values
        missing = [k for k in self.required if _blank(values.get(k))]
        for k in missing:
            label = self.schema.fields.get(k) or self.schema.relationships.get(k)
            where = "" if k in self.columns else " (the file has no column for it)"
            article = "an" if otype[:1] in ("a", "e", "i", "o", "u") else "a"
            self._issue(
                row,
                k,
                "required_field_missing",
                f"{label.label if label else k} ({k}) is required to create {article} {otype}{where}.",
            )
        if missing:
            return Operation(row=row.row, action="skip", object_type=otype, key=key, issues=row.issues)
        has_many, keep_changes = self._has_many, self.keep_changes
        if not keep_changes and not self.bodies:
            # a dry run past the rows whose changes it lists: the body is never sent nor shown
            return Operation(row=row.row, action="create", object_type=otype, key=key, issues=row.issues)
        fields: dict[str, Any] = {}
        rels: dict[str, Any] = {}
        changes: dict[str, tuple[Any, Any]] = {}
        for k, v in values.items():
            cls = v.__class__
            if cls is str or cls is list:  # the usual values: empty only when blank
                if not v:
                    continue
            elif cls not in _SCALARS and (v is CLEAR or _empty(v)):
                continue
            many = has_many.get(k)
            if many is not None:
                rels[k] = v if many else v[0]
            else:
                fields[k] = v
            if keep_changes:
                changes[k] = (None, v)
        body: dict[str, Any] = {"fields": fields}
        if rels or otype in ("opportunity", "task"):
            body["relationships"] = rels
        return Operation(
            row=row.row,
            action="create",
            object_type=otype,
            key=key,
            body=body,
            changes=changes,
            issues=row.issues,
        )

    # --- update --------------------------------------------------------------------------------
    def _update(self, row: CheckedRow, key: str | None, ex: Existing) -> Operation:
        otype = self.schema.object_type
        if ex.link:
            self.links[ex.id] = ex.link
        fields: dict[str, Any] = {}
        rels: dict[str, Any] = {}
        removes: dict[str, Any] = {}  # removals sent after ``rels`` (keys that also add; notes)
        changes: dict[str, tuple[Any, Any]] = {}
        create_only = CREATE_ONLY_RELATIONSHIPS.get(otype, frozenset())
        fixed = FIXED_AFTER_CREATE.get(otype, frozenset())
        ops = UPDATE_OPS.get(otype, ("add", "remove", "replace"))
        for k, new in row.values.items():
            rel = self.schema.relationships.get(k)
            if rel is not None:
                if k in create_only:
                    continue
                old_ids = ex.rels.get(k, [])
                new_ids = [] if new is CLEAR else list(new)
                same = (set(old_ids) == set(new_ids)) if rel.has_many else (old_ids[:1] == new_ids[:1])
                if same:
                    continue
                if k in fixed:
                    self._issue(
                        row,
                        k,
                        "fixed_after_create",
                        f"The {otype}'s {rel.label or k} is set when it is created; the API has no "
                        "documented way to change it, so it stays as it is. The row's other changes "
                        "are written; move the record in Lightfield itself.",
                        severity="warning",
                        expected=f"the current {rel.label or k}",
                    )
                    continue
                if "replace" in ops:
                    rels[k] = {"replace": new_ids or None}
                else:
                    # one of add / remove per key and request: add now, remove in the follow-up
                    add = [i for i in new_ids if i not in old_ids]
                    remove = [i for i in old_ids if i not in new_ids]
                    if add:
                        rels[k] = {"add": add}
                        if remove:
                            removes[k] = {"remove": remove}
                    else:
                        rels[k] = {"remove": remove}
                changes[k] = (old_ids or None, new_ids or None)
                continue
            fdef = self.schema.fields.get(k)
            if fdef is None:
                continue
            old = ex.fields.get(k)
            if new is CLEAR:
                if _empty(old):
                    continue
                fields[k] = None
                changes[k] = (old, None)
                continue
            if isinstance(new, dict) and fdef.value_type in ("ADDRESS", "FULL_NAME"):
                merged = {**(old if isinstance(old, dict) else {}), **new}
                new = merged
            if normalize(fdef, new) == normalize(fdef, old):
                continue
            fields[k] = new
            changes[k] = (old, new)
        if not fields and not rels:
            return Operation(
                row=row.row,
                action="unchanged",
                object_type=otype,
                record_id=ex.id,
                key=key,
                issues=row.issues,
            )
        body: dict[str, Any] = {"fields": fields}
        if rels:
            body["relationships"] = rels
        return Operation(
            row=row.row,
            action="update",
            object_type=otype,
            record_id=ex.id,
            key=key,
            body=body,
            changes=changes if self.keep_changes else {},
            issues=row.issues,
            follow_up={"relationships": removes} if removes else None,
        )
