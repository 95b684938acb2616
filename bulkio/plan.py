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

* a key repeated in the file → ``duplicate_key`` on the later rows (the first wins);
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
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import values as V
from .crm.base import lookup_weight, scan_pages
from .definitions import CREATE_ONLY_RELATIONSHIPS, UPDATE_OPS, FieldDef, ObjectSchema
from .errors import ApiError
from .issues import Issue
from .operations import Operation
from .resolve import SMALL_SCAN_PAGES
from .validate import CheckedRow
from .values import CLEAR

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
        with self._lock:
            old = self.by_id.get(ex.id)
            if old is not None:
                for k in old.keys:
                    ids = self.by_key.get(k)
                    if ids and ex.id in ids:
                        ids.remove(ex.id)
            self.by_id[ex.id] = ex
            for k in keys:
                ids = self.by_key.setdefault(k, [])
                if ex.id not in ids:
                    ids.append(ex.id)
        return ex

    def count(self) -> int:
        if self.total is None:
            with self._lock:
                self.requests += 1
            self.total = int(
                self.client.list_page(self.object_type, offset=0, limit=1).get("totalCount") or 0
            )
        return self.total

    def scan(self) -> None:
        if not self.scanned:
            for rec in self.client.list_all(self.object_type, concurrency=self.concurrency):
                self.add(rec)
            self.requests += scan_pages(self.client, self.object_type, self.total or 0)
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
        with self._lock:
            self.requests += 1
        for rec in self.client.list(self.object_type, filters={f"{self.key_field}[{op}]": key}):
            self.add(rec)

    def prefetch(self, keys: set[str], ids: set[str], op: str = "equal") -> None:
        """Make the given keys and ids answerable locally, scanning or filtering by cost."""
        todo_keys = {k for k in keys if k not in self.checked_keys} if not self.scanned else set()
        todo_ids = {i for i in ids if i not in self.by_id and i not in self.checked_ids}
        if not self.scanned and todo_keys | todo_ids:
            pages = scan_pages(self.client, self.object_type, self.count())
            need = max(len(todo_keys) + len(todo_ids), self.expected_lookups)
            # a lookup may cost more than a list page (Close: a search, from a 10x smaller bucket)
            if pages <= SMALL_SCAN_PAGES or (self.requests + need) * lookup_weight(self.client) >= pages:
                self.scan()
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


def normalize(fdef: FieldDef, value: Any) -> Any:
    """Comparable form of an API value (:func:`bulkio.values.normalize`); empty is None."""
    if value is None or value == [] or value == "":
        return None
    return V.normalize(fdef, value)


def _empty(value: Any) -> bool:
    """None, "", [] or a dict of only empty parts (the value types a checked row holds)."""
    if value is None:
        return True
    if isinstance(value, (str, list)):
        return not value
    if isinstance(value, dict):
        return all(v in (None, "") for v in value.values())
    return False


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
    ) -> None:
        self.client, self.schema, self.key_field = client, schema, key_field
        self.required = schema.required  # a computed property: once per run, not per row
        self.known = known or {}
        self.file, self.sheet = file, sheet
        self.keep_changes = keep_changes
        self.seen: set[str] = set()
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
        for row in rows:
            key = key_text(row.values.get(self.key_field))
            keys[row.row] = key
            if key is None:
                continue
            if key in self.seen:
                self._issue(
                    row,
                    self.key_field,
                    "duplicate_key",
                    f"{self.key_field} '{key}' appears on an earlier row of the file; "
                    "only the first row with a key is imported.",
                    value=key,
                )
            self.seen.add(key)
        live = [r for r in rows if r.ok]
        self.planned += len(rows)
        self.index.expected_lookups = max(0, self.expected_rows - self.planned + len(rows))
        want_keys = {k for r in live if (k := keys[r.row])}
        want_ids = {r.record_id for r in live if r.record_id}
        if want_keys or want_ids or any(r.record_id is None for r in live):
            self.index.prefetch(want_keys, want_ids, self.key_op)
        # known records the list did not show (index lag): confirm with a fresh retrieve
        confirm = {self.known[k] for k in want_keys if k in self.known and not self.index.find_key(k)}
        if confirm:
            self.index.confirm(confirm)
        return [self._plan_row(row, keys[row.row]) for row in rows]

    def _plan_row(self, row: CheckedRow, key: str | None) -> Operation:
        otype = self.schema.object_type
        if not row.ok:
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
            matches = self.index.find_key(key)
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
        elif self.has_key_column:
            self._issue(
                row,
                self.key_field,
                "missing_key",
                f"No {self.key_field}: the row is created, and re-running the file would create it again.",
                severity="warning",
            )
        if existing is None:
            return self._create(row, key)
        return self._update(row, key, existing)

    # --- create --------------------------------------------------------------------------------
    def _create(self, row: CheckedRow, key: str | None) -> Operation:
        otype = self.schema.object_type
        missing = [k for k in self.required if _empty(row.values.get(k)) or row.values.get(k) is CLEAR]
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
        fields: dict[str, Any] = {}
        rels: dict[str, Any] = {}
        changes: dict[str, tuple[Any, Any]] = {}
        relationships, keep_changes = self.schema.relationships, self.keep_changes
        for k, v in row.values.items():
            if v is CLEAR or _empty(v):
                continue
            rel = relationships.get(k)
            if rel is not None:
                rels[k] = v if rel.has_many else v[0]
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
