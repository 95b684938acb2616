"""Resolve: select labels → option ids, references → record ids, in place on :class:`CheckedRow`s.

Why batches: references are looked up for a whole chunk of rows at once, with the cheapest strategy
for the counts involved. Per target type a :class:`Directory` either *scans* the type once
(``client.list_all``: ``ceil(total / 25)`` list pages) or runs *filter queries* per distinct reference
(one request each), whichever needs fewer requests; it switches to a scan as soon as the filter
queries it has made plus the ones it needs would cost more than the scan. Everything is cached per
run (a :class:`References` object shared by the pipeline).

Accepted references: accounts, opportunities and custom objects by record id, ``external_id`` (or the
record's read-only ``externalId``), the import's own key field when it is another (``--key close_id``:
contacts keyed by Close ids find their accounts by Close ids) or exact name (case-insensitive);
contacts also by email or full name; members by id, email or full name. Several matches → ``ambiguous_reference`` listing the
candidate ids; none → ``relationship_entity_missing``.

Records a workbook's earlier sheet wrote moments ago (:mod:`bulkio.workbook`) are handed to the
directory with :meth:`Directory.add_fresh` (lists lag, so a scan or a filter would not show them
yet); in a dry run, rows that would be created are handed over under a placeholder id, so a
reference to them counts as resolvable. A reference that matches no record but a row of the
workbook that failed (:meth:`Directory.add_failed`) is ``depends_on_failed`` (a warning: the
pipeline skips the row), naming that row.

A reference may also name its record as ``Name (ID)`` (``Acme Corp (acc_123)``), which is how the
template's Reference sheet lists records that share a name, so a pick from the template's dropdown
stays unique after duplicates appear. It is used only when the text as a whole matches no single
record, and only when the ID's record has that name (a renamed record fails with both names shown).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import values as V
from .crm.base import lookup_weight, scan_pages
from .definitions import FieldDef, ObjectSchema
from .errors import ApiError
from .matching import company_key
from .validate import CheckedRow
from .values import CLEAR

PAGE = 25
#: A type this small is always scanned: a handful of pages beats any per-reference query.
SMALL_SCAN_PAGES = 4
#: Entries of the Resolver's option-match cache before it starts over.
_MATCH_CACHE = 4096
_ABSENT = object()
#: The issue code of a reference to a row of the same workbook that failed (the row is skipped).
DEPENDS_ON_FAILED = "depends_on_failed"
#: The issue code of a reference to an account found by its name's core (Initech GmbH → Initech, LLC).
LOOSE_NAME = "reference_by_company_name"
#: The issue code of a has-many reference to a row of a workbook sheet imported later (the link is
#: made from that row's side; the reference is left out of this row's write).
LINKED_LATER = "linked_from_later_sheet"


def _matched_by(object_type: str) -> str:
    """How a reference to ``object_type`` is looked up, for messages (members have no external_id)."""
    if object_type == "member":
        return "by id, email or name"
    return f"by id, external_id, {'email, ' if object_type == 'contact' else ''}or name"


_ID_RE = re.compile(r"^[A-Za-z]{2,8}_[A-Za-z0-9_\-]+$")
#: ``Acme Corp (acc_123)``: a name with the record's ID in parentheses
_NAMED_ID = re.compile(r"^(.*\S)\s*\(\s*([A-Za-z]{2,8}_[A-Za-z0-9_\-]+)\s*\)$")


def named_id(ref: str) -> tuple[str, str] | None:
    """``("Acme Corp", "acc_123")`` for ``"Acme Corp (acc_123)"``, else None."""
    m = _NAMED_ID.match(ref.strip())
    return (m.group(1), m.group(2)) if m else None


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def field_value(record: dict[str, Any], key: str) -> Any:
    """The bare value of ``key`` in an API record (``fields.<key>.value``)."""
    f = (record.get("fields") or {}).get(key)
    return f.get("value") if isinstance(f, dict) else f


def record_name(record: dict[str, Any]) -> str | None:
    """A record's display name: ``$name`` text, a FULL_NAME joined, or a task ``$title``."""
    name = field_value(record, "$name")
    if isinstance(name, dict):
        joined = " ".join(p for p in (name.get("firstName"), name.get("lastName")) if p)
        return joined or None
    if name:
        return str(name)
    title = field_value(record, "$title")
    return str(title) if title else None


def record_emails(record: dict[str, Any]) -> list[str]:
    email = field_value(record, "$email")
    if isinstance(email, list):
        return [str(e) for e in email if e]
    return [str(email)] if email else []


class Directory:
    """Finds records of one object type by id, external id, email or name."""

    def __init__(
        self, client: Any, object_type: str, *, concurrency: int = 8, key_field: str = "external_id"
    ) -> None:
        self.client, self.object_type, self.concurrency = client, object_type, concurrency
        #: the import's key field: a reference also matches a record by it (``--key close_id``)
        self.key_field = key_field
        self.scanned = False
        self.total: int | None = None
        self.requests = 0  # filter/retrieve requests made (for the scan-or-filter decision)
        self._lock = threading.Lock()
        self.by_id: set[str] = set()
        self.by_ext: dict[str, list[str]] = {}
        self.by_email: dict[str, list[str]] = {}
        self.by_name: dict[str, list[str]] = {}
        #: accounts by their name without case, punctuation and legal form (``initech`` for
        #: ``Initech, LLC``): what --match name compares, for a reference no name matches
        self.by_company: dict[str, list[str]] = {}
        self.cache: dict[str, list[str]] = {}  # filter mode: reference → candidate ids
        self.names: dict[str, str] = {}  # id → display name (for messages)
        self._has_external_id: bool | None = None
        #: records handed over by the run itself (lists may not show them yet)
        self.fresh: set[str] = set()
        #: folded key, email or name of a workbook row that failed → that row, for messages
        self.failed: dict[str, str] = {}
        #: the workbook sheet of this object type that is imported after the current one, if any
        self.later: str | None = None

    # --- indexing ----------------------------------------------------------------------------
    def add(self, record: dict[str, Any]) -> None:
        rid = record.get("id")
        if not rid or rid in self.by_id:
            return
        self.by_id.add(rid)
        exts = {field_value(record, "external_id"), record.get("externalId")}
        if self.key_field != "external_id":
            exts.add(field_value(record, self.key_field))
        for ext in exts:
            if ext:
                self.by_ext.setdefault(_fold(ext), []).append(rid)
        for email in record_emails(record):
            self.by_email.setdefault(_fold(email), []).append(rid)
        name = record_name(record)
        if name:
            self.by_name.setdefault(_fold(name), []).append(rid)
            self.names[rid] = name
            if self.object_type == "account":
                core = company_key(name)
                if core:
                    self.by_company.setdefault(core, []).append(rid)

    def add_fresh(self, record: dict[str, Any]) -> None:
        """A record this run wrote (or, in a dry run, would create) moments ago: found by its id,
        key, email and name whatever lists show."""
        rid = record.get("id")
        if not rid:
            return
        with self._lock:
            self.add(record)
            self.fresh.add(rid)
            for ref in self._refs_of(record):
                self.failed.pop(ref, None)

    def add_failed(self, record: dict[str, Any], where: str) -> None:
        """A row that was to write a record and failed (``where``: ``row 7 of sheet Accounts``):
        references to it that match no record are ``depends_on_failed``."""
        with self._lock:
            for ref in self._refs_of(record):
                self.failed.setdefault(ref, where)

    def _refs_of(self, record: dict[str, Any]) -> list[str]:
        refs = [
            _fold(v)
            for v in (
                field_value(record, "external_id"),
                field_value(record, self.key_field),
                record_name(record),
            )
            if v
        ]
        return refs + [_fold(e) for e in record_emails(record)]

    def failed_row(self, ref: str) -> str | None:
        """The failed workbook row ``ref`` names (by key, email or name), if any."""
        return self.failed.get(_fold(ref)) if self.failed else None

    def scan(self) -> None:
        if self.scanned:
            return
        if self.object_type == "member":
            records: Iterable[dict[str, Any]] = self.client.members()
        else:
            records = self.client.list_all(self.object_type, concurrency=self.concurrency)
        for rec in records:
            self.add(rec)
        self.scanned = True

    # --- lookups -----------------------------------------------------------------------------
    def _local(self, ref: str) -> list[str]:
        if ref in self.by_id:
            return [ref]
        f = _fold(ref)
        for index in (self.by_ext, self.by_email if "@" in ref else {}, self.by_name):
            ids = index.get(f)
            if ids:
                return list(dict.fromkeys(ids))
        return []

    def loose(self, ref: str) -> str | None:
        """The one account whose name is ``ref``'s without case, punctuation and legal form
        (``Initech GmbH`` → ``Initech, LLC``), once every account is known (a scan); else None."""
        if not self.scanned or self.object_type != "account":
            return None
        core = company_key(ref)
        ids = list(dict.fromkeys(self.by_company.get(core, ()))) if core else []
        return ids[0] if len(ids) == 1 else None

    def lookup(self, ref: str) -> list[str]:
        """Candidate ids for a reference (after :meth:`prefetch`)."""
        if self.scanned:
            return self._local(ref)
        if ref in self.cache:
            hits = self.cache[ref]
            if self.fresh:  # a record written moments ago that the filter query could not see
                hits = list(dict.fromkeys([*hits, *(i for i in self._local(ref) if i in self.fresh)]))
            return hits
        return self._local(ref)

    def _fresh_only(self, ref: str) -> bool:
        """``ref`` names a record handed over by id or key: no query can add anything to it."""
        if ref in self.by_id:
            return ref in self.fresh
        ids = self.by_ext.get(_fold(ref))
        if not ids:
            return False
        return all(i in self.fresh for i in ids)

    def _count(self) -> int:
        if self.total is None:
            if self.object_type == "member":
                self.total = 0
            else:
                page = self.client.list_page(self.object_type, offset=0, limit=1)
                self.total = int(page.get("totalCount") or 0)
        return self.total

    def _external_id_defined(self) -> bool:
        if self._has_external_id is None:
            try:
                schema = self.client.schema(self.object_type)
                self._has_external_id = "external_id" in schema.fields
            except ApiError:
                self._has_external_id = False
        return self._has_external_id

    def _defines(self, key: str) -> bool:
        try:
            return key in self.client.schema(self.object_type).fields
        except ApiError:
            return False

    def _name_is_text(self) -> bool:
        try:
            fdef = self.client.schema(self.object_type).fields.get("$name")
        except ApiError:
            return False
        return fdef is not None and fdef.value_type == "TEXT"

    def prefetch(self, refs: set[str]) -> None:
        """Make every reference in ``refs`` answerable by :meth:`lookup`, with the fewest requests."""
        if self.scanned:
            self._confirm_ids(refs)
            return
        todo = [r for r in refs if r not in self.cache and not (self.fresh and self._fresh_only(r))]
        if not todo:
            return
        if self.object_type == "member":
            self.scan()
            return
        pages = scan_pages(self.client, self.object_type, self._count())
        # a name of a FULL_NAME type cannot be filtered exactly: scan
        needs_scan = any("@" not in r and not _ID_RE.match(r) for r in todo) and not self._name_is_text()
        weight = lookup_weight(self.client)  # Close: a lookup is a search, from a 10x smaller bucket
        if needs_scan or pages <= SMALL_SCAN_PAGES or (self.requests + len(todo)) * weight >= pages:
            self.scan()
            self._confirm_ids(refs)
            return
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for ref, ids in zip(todo, pool.map(self._query, todo)):
                self.cache[ref] = ids
        if any(not self.cache[r] and not _ID_RE.match(r) for r in todo):
            # [equal] filters may match exact text only (UNKNOWN in API-FACTS; the strict sandbox
            # does), so "acme corp" misses "Acme Corp": one scan answers every miss, and every
            # later reference, as a small org's are answered (ignoring case and spaces)
            self.scan()

    def _confirm_ids(self, refs: set[str]) -> None:
        """Record ids a scan did not list, read one by one: lists lag recent writes (API-FACTS §6),
        so an account created seconds ago is found by its id all the same."""
        if self.object_type == "member":
            return
        todo = [r for r in refs if _ID_RE.match(r) and r not in self.by_id and r not in self.cache]
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for ref, found in zip(todo, pool.map(self._retrieve, todo)):
                if found is not None:
                    with self._lock:
                        self.add(found)

    def _retrieve(self, ref: str) -> dict[str, Any] | None:
        with self._lock:
            self.requests += 1
        try:
            return dict(self.client.retrieve(self.object_type, ref))
        except ApiError as exc:
            if exc.status in (400, 404):
                return None
            raise

    def _query(self, ref: str) -> list[str]:
        """Filter mode: id → retrieve; then external_id, email, name filters (first hit wins)."""
        attempts: list[tuple[str, str, Any]] = []
        if _ID_RE.match(ref):
            try:
                with self._lock:
                    self.requests += 1
                rec = self.client.retrieve(self.object_type, ref)
                with self._lock:
                    self.add(rec)
                return [ref]
            except ApiError as exc:
                if exc.status not in (400, 404):
                    raise
        if self._external_id_defined():
            attempts.append(("external_id[equal]", ref, lambda r: _fold(str(field_value(r, "external_id")))))
        if self.key_field != "external_id" and self._defines(self.key_field):
            key = self.key_field
            attempts.append((f"{key}[equal]", ref, lambda r: _fold(str(field_value(r, key)))))
        if "@" in ref:
            attempts.append(("$email[contains]", ref, lambda r: [_fold(e) for e in record_emails(r)]))
        attempts.append(("$name[equal]", ref, lambda r: _fold(record_name(r) or "")))
        f = _fold(ref)
        for flt, value, key_of in attempts:
            with self._lock:
                self.requests += 1
            try:
                found = list(self.client.list(self.object_type, filters={flt: value}))
            except ApiError as exc:
                if exc.status == 400:
                    continue
                raise
            hits = []
            for rec in found:
                k = key_of(rec)
                if (f in k) if isinstance(k, list) else (k == f):
                    hits.append(rec)
            if hits:
                with self._lock:
                    for rec in hits:
                        self.add(rec)
                return list(dict.fromkeys(r["id"] for r in hits))
        return []


class References:
    """Per-run cache of :class:`Directory` objects, one per target object type."""

    def __init__(self, client: Any, *, concurrency: int = 8, key_field: str = "external_id") -> None:
        self.client, self.concurrency, self.key_field = client, concurrency, key_field
        self.directories: dict[str, Directory] = {}

    def directory(self, object_type: str) -> Directory:
        d = self.directories.get(object_type)
        if d is None:
            d = self.directories[object_type] = Directory(
                self.client, object_type, concurrency=self.concurrency, key_field=self.key_field
            )
        return d


def match_option(fdef: FieldDef, text: str) -> tuple[str | None, list[str], bool]:
    """``(option_id, candidates, ambiguous)`` via :func:`bulkio.values.match_option`: exact id, then
    case/space-insensitive label; candidates are did-you-mean labels (or, when ambiguous, the ids)."""
    m = V.match_option(fdef, text)
    return m.option_id, list(m.candidates), bool(getattr(m, "ambiguous", False))


class Resolver:
    """Turns select labels and references of checked rows into ids (in place, adding issues)."""

    def __init__(
        self,
        client: Any,
        schema: ObjectSchema,
        *,
        references: References | None = None,
        file: str | None = None,
        sheet: str | None = None,
        concurrency: int = 8,
    ) -> None:
        self.client, self.schema, self.file, self.sheet = client, schema, file, sheet
        self.references = references or References(client, concurrency=concurrency)
        self._selects = {
            k: f for k, f in schema.fields.items() if f.value_type in ("SINGLE_SELECT", "MULTI_SELECT")
        }
        # key → text → match_option result: a column repeats a handful of labels a million times
        self._matches: dict[str, dict[str, tuple[str | None, list[str], bool]]] = {}
        self._rels = list(schema.relationships.items())
        self._select_items = list(self._selects.items())

    def _match(self, key: str, fdef: FieldDef, text: str) -> tuple[str | None, list[str], bool]:
        memo = self._matches.get(key)
        if memo is None:
            memo = self._matches[key] = {}
        hit = memo.get(text)
        if hit is None:
            if len(memo) >= _MATCH_CACHE:
                memo.clear()
            hit = memo[text] = match_option(fdef, text)
        return hit

    def resolve(self, rows: list[CheckedRow]) -> None:
        """Resolve a chunk of rows: selects first (no network), then references per target type.

        Column by column (a key the chunk's rows do not hold costs nothing): the usual cell, a
        label or one reference seen before, is one dictionary lookup; the rest goes the long way
        per row (:meth:`_select_rest`, :meth:`_resolve_reference`). A row's issues come out in the
        order a row-by-row pass gives them: its selects in the order of its values, then its
        references in the schema's order."""
        if not rows:
            return
        present = set().union(*[row.values for row in rows])
        selects = [item for item in self._select_items if item[0] in present]
        if selects:
            self._resolve_select_columns(rows, selects)
        rels = [item for item in self._rels if item[0] in present]
        if not rels:
            return
        wanted = self._wanted(rows, rels)
        for bucket in wanted.values():  # "Acme Corp (acc_1)" also needs acc_1: once per distinct text
            bucket.update(n[1] for r in list(bucket) if (n := named_id(r)))
        for otype, texts in wanted.items():
            self.references.directory(otype).prefetch(texts)
        # what each distinct reference of the chunk resolves to (directories do not change now)
        found: dict[str, dict[str, tuple[str | None, str, str, bool]]] = {otype: {} for otype in wanted}
        for key, rel in rels:
            otype = rel.object_type
            memo = found.setdefault(otype, {})
            slow: list[CheckedRow] = []
            for row in rows:
                values = row.values
                cell: Any = values.get(key)
                if cell.__class__ is list and len(cell) == 1:
                    ref = cell[0]
                    hit = memo.get(ref)
                    if hit is None:
                        hit = memo[ref] = self._reference(otype, ref)
                    if hit[0] is not None and not hit[1]:  # (a hit with a warning goes the long way)
                        values[key] = [hit[0]]
                        continue
                if isinstance(cell, list):
                    slow.append(row)
            for row in slow:
                self._resolve_reference(row, key, rel, memo)

    @staticmethod
    def _wanted(rows: list[CheckedRow], rels: list[tuple[str, Any]]) -> dict[str, set[str]]:
        """The references of the chunk by target type, in the order a row-by-row pass meets
        them (the order the directories are asked in)."""
        wanted: dict[str, set[str]] = {}
        otypes = [rel.object_type for _, rel in rels]
        if len(set(otypes)) < len(otypes):  # two keys share a type (and a bucket): row by row
            for row in rows:
                values = row.values
                for key, rel in rels:
                    refs = values.get(key)
                    if isinstance(refs, list):
                        bucket = wanted.get(rel.object_type)
                        if bucket is None:
                            bucket = wanted[rel.object_type] = set()
                        bucket.update(refs)
            return wanted
        firsts: list[tuple[int, int, str, set[str]]] = []
        for pos, (key, rel) in enumerate(rels):
            cells = [row.values.get(key) for row in rows]
            lists = [c for c in cells if isinstance(c, list)]
            if lists:
                first = next(i for i, c in enumerate(cells) if isinstance(c, list))
                firsts.append((first, pos, rel.object_type, set().union(*lists)))
        for _, _, otype, texts in sorted(firsts, key=lambda f: (f[0], f[1])):
            wanted[otype] = texts
        return wanted

    def _resolve_select_columns(self, rows: list[CheckedRow], selects: list[tuple[str, FieldDef]]) -> None:
        """Selects of a chunk, a column at a time: a label seen before is one lookup; the rows with
        any other select value finish row by row (:meth:`_select_rest`)."""
        rest: dict[int, list[str]] = {}  # index of the row → its select keys left for the long way
        for key, fdef in selects:
            memo = self._matches.get(key)
            if memo is None:
                memo = self._matches[key] = {}
            multi = fdef.value_type == "MULTI_SELECT"
            # a list of labels → its option ids (None: some label needs the long way); a chunk
            # repeats a handful of combinations
            combos: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
            for i, row in enumerate(rows):
                values = row.values
                val = values.get(key, _ABSENT)
                if val is _ABSENT or val is CLEAR:
                    continue
                if val.__class__ is str:
                    hit = memo.get(val)
                    oid = (hit if hit is not None else self._match(key, fdef, val))[0]
                    if oid:
                        values[key] = [oid] if multi else oid
                        continue
                elif val.__class__ is list and val:
                    combo = tuple(val)
                    if combo in combos:
                        done = combos[combo]
                    else:
                        oids = [(memo.get(text) or self._match(key, fdef, text))[0] for text in val]
                        done = combos[combo] = tuple(dict.fromkeys(oids)) if all(oids) else None
                    if done is not None:
                        values[key] = list(done) if multi else done[0]
                        continue
                keys = rest.get(i)
                if keys is None:
                    rest[i] = [key]
                else:
                    keys.append(key)
        for i in sorted(rest):
            self._select_rest(rows[i], rest[i])

    def _resolve_selects(self, row: CheckedRow) -> None:
        """One row's selects (what :meth:`resolve` does for a chunk)."""
        self._resolve_select_columns([row], self._select_items)

    def _select_rest(self, row: CheckedRow, rest: list[str]) -> None:
        """Select values no plain label match settles (scoped labels, unknown or ambiguous ones),
        in the order of the row's values (the order their issues are listed in)."""
        values = row.values
        selects = self._selects
        for key in [k for k in values if k in rest]:
            val = values[key]
            fdef = selects[key]
            texts = val if isinstance(val, list) else [val]
            ids: list[str] = []
            bad = False
            for text in texts:
                oid, suggestions, ambiguous = self._match(key, fdef, text)
                scope = fdef.type_configuration.scope_field
                if not oid and scope:
                    oid, suggestions, ambiguous = self._scoped(row, fdef, scope, text, suggestions, ambiguous)
                if oid:
                    ids.append(oid)
                    continue
                bad = True
                if ambiguous:
                    sdef = self.schema.fields.get(scope) if scope else None
                    how = (
                        f"write one of them, or give the {sdef.label} ({scope}) in its own column"
                        if sdef is not None
                        else "use the option id"
                    )
                    row.issue_at(
                        key,
                        "ambiguous_option",
                        f"{text!r} matches several options of {fdef.label} ({', '.join(suggestions)}); {how}.",
                        file=self.file,
                        sheet=self.sheet,
                    )
                else:
                    hint = (
                        f" Did you mean {' or '.join(repr(s) for s in suggestions)}?"
                        if suggestions
                        else f" Options: {_option_list(fdef)}."
                    )
                    row.issue_at(
                        key,
                        "unknown_option",
                        f"{text!r} is not an option of {fdef.label}.{hint}",
                        expected="one of: " + ", ".join(o.label for o in fdef.options),
                        file=self.file,
                        sheet=self.sheet,
                    )
            if bad:
                del values[key]
            elif fdef.value_type == "MULTI_SELECT":
                values[key] = list(dict.fromkeys(ids))
            else:
                values[key] = ids[0]

    def _scoped(
        self,
        row: CheckedRow,
        fdef: FieldDef,
        scope: str,
        text: str,
        suggestions: list[str],
        ambiguous: bool,
    ) -> tuple[str | None, list[str], bool]:
        """A label several options share, found within the row's value of the field's scope
        (Close: ``Won`` within the row's pipeline); otherwise the plain match's answer."""
        want = _fold(text)
        hits = [o for o in fdef.options if o.short is not None and _fold(o.short) == want]
        if not hits:
            return None, suggestions, ambiguous
        value = row.values.get(scope)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None and value is not CLEAR:
            sdef = self.schema.fields.get(scope)
            given = str(value)
            scopes = {given} | {
                o.id for o in (sdef.options if sdef is not None else []) if _fold(o.label) == _fold(given)
            }
            hits = [o for o in hits if o.scope in scopes]
        if len(hits) == 1:
            return hits[0].id, [], False
        if hits:
            return None, [o.label for o in hits], True
        return None, suggestions, ambiguous

    def _resolve_references(
        self, row: CheckedRow, found: dict[str, dict[str, tuple[str | None, str, str, bool]]] | None = None
    ) -> None:
        """Each reference → one id, or an issue; ``found`` remembers what each distinct reference
        of the chunk is (by target type), so a reference repeated on every row is looked at once."""
        for key, rel in self._rels:
            if isinstance(row.values.get(key), list):
                memo = found.setdefault(rel.object_type, {}) if found is not None else {}
                self._resolve_reference(row, key, rel, memo)

    def _resolve_reference(
        self, row: CheckedRow, key: str, rel: Any, memo: dict[str, tuple[str | None, str, str, bool]]
    ) -> None:
        """The references of one key of one row (a list) → ids, or issues."""
        values = row.values
        refs = values[key]
        otype = rel.object_type
        ids: list[str] = []
        bad = deferred = False
        for ref in refs:
            hit = memo.get(ref)
            if hit is None:
                hit = memo[ref] = self._reference(otype, ref)
            if hit[0] is not None:
                ids.append(hit[0])
                if hit[1]:  # found by its name's core: say which record
                    row.issue_at(key, hit[1], hit[2], file=self.file, sheet=self.sheet, severity="warning")
                continue
            missing = hit[3]  # no record matches at all (not a wrong name or several records)
            directory = self.references.directory(otype)
            if missing and directory.later is not None and rel.has_many:
                deferred = True
                row.issue_at(
                    key,
                    LINKED_LATER,
                    f"No {rel.object_type} matches {ref!r} yet: the sheet {directory.later} is "
                    f"imported after this one, so the link is made from there (its row must name "
                    f"this {self.schema.object_type}).",
                    file=self.file,
                    sheet=self.sheet,
                    severity="warning",
                )
                continue
            bad = True
            if missing and (where := directory.failed_row(ref)) is not None:
                row.issue_at(
                    key,
                    DEPENDS_ON_FAILED,
                    f"{ref!r} is {where}, which failed: its {rel.object_type} was not written, so "
                    "this row is not written either. Fix that row and import again.",
                    file=self.file,
                    sheet=self.sheet,
                    severity="warning",
                )
            else:
                row.issue_at(key, hit[1], hit[2], file=self.file, sheet=self.sheet)
        if bad:
            del values[key]
        elif deferred and not ids:
            del values[key]  # nothing to set now: the field is left as it is, not cleared
        else:
            values[key] = ids if len(ids) == 1 else list(dict.fromkeys(ids))

    def _reference(self, otype: str, ref: str) -> tuple[str | None, str, str, bool]:
        """``(id, "", "", False)`` for a reference that names one record, else ``(None, code,
        message, missing)``; ``missing``: no record matches it at all."""
        directory = self.references.directory(otype)
        found = directory.lookup(ref)
        if len(found) != 1 and (pick := named_id(ref)) is not None:
            name, rid = pick
            if rid in directory.by_id and _fold(directory.names.get(rid, "")) == _fold(name):
                return rid, "", "", False
            if rid in directory.by_id:
                return (
                    None,
                    "relationship_entity_missing",
                    f"{ref!r}: {rid} is named {directory.names.get(rid, '')!r}, not {name!r}.",
                    False,
                )
        if len(found) == 1:
            return found[0], "", "", False
        if not found and directory.failed_row(ref) is None and (core := directory.loose(ref)) is not None:
            return (
                core,
                LOOSE_NAME,
                (
                    f"{ref!r} is taken as the {otype} {directory.names.get(core, core)!r} ({core}): the "
                    "same name without case, punctuation and legal form (as --match name compares "
                    "them); use its id or exact name to be sure."
                ),
                False,
            )
        if not found:
            return (
                None,
                "relationship_entity_missing",
                f"No {otype} matches {ref!r} ({_matched_by(otype)}).",
                True,
            )
        return (
            None,
            "ambiguous_reference",
            (
                f"{ref!r} matches {len(found)} {otype} records: "
                f"{', '.join(found)}; use the record id or external_id, or pick "
                f"'{ref} ({found[0]})' (name and id) from the template's list."
            ),
            False,
        )


def _option_list(fdef: FieldDef, limit: int = 8) -> str:
    """``Lead, Qualified, Proposal`` (the first ``limit`` option labels, then ``…``)."""
    labels = [o.label for o in fdef.options]
    return ", ".join(labels[:limit]) + (", …" if len(labels) > limit else "")
