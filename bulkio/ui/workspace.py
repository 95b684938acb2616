"""What the page has open: a file, its data sheets, each sheet's object and mapping, the working
copy of its rows, and the checks over them. Every step is a library call; this module only keeps
their results together between requests.

* **Open**: :func:`bulkio.read.open_table` (every guard of the CLI) streams rows into a
  :class:`~bulkio.ui.store.RowStore`; the object is detected from the sheet's name, the file name
  and its headers (another CRM's export profile: :func:`bulkio.profiles.detect_any`; else the
  object whose fields the headers match best, :func:`bulkio.mapping.map_headers`).
* **Map columns**: :func:`bulkio.draft.draft_mapping` proposes a field per header with how sure it
  is; the page's mapping is a :class:`~bulkio.mapfile.MappingFile` (the CLI's ``--mapping``).
* **Map values**: :func:`bulkio.unresolved.group_unresolved` over the whole file's issues; a choice
  is a value-map entry of that mapping.
* **Review**: :mod:`bulkio.ui.check` re-checks the file in the background after each change, and
  one row after each edit.
* **Save a copy**: the rows with their edits, written beside the original (never over it) with
  :func:`bulkio.sheets.write_csv` / :func:`bulkio.sheets.write_table`.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import mapping as M
from .. import read
from ..definitions import ObjectSchema
from ..errors import BulkioError, InputFileError
from ..issues import Issue
from ..mapfile import ColumnSpec, MappingFile
from ..read import HELPER_SHEETS, SourceTable, column_letter
from ..unresolved import UNRESOLVED_CODES, candidates_for, group_unresolved
from .check import CheckProgress, RowChecker, check_all, parse_options
from .store import RowStore, shown

#: Rows the mapping draft reads for its value lists (the whole file is checked in the background).
DRAFT_ROWS = 5000
#: Sheets of an exported pipeline workbook that hold no records to import.
NOT_DATA = HELPER_SHEETS | {"summary"}
#: Other names people give a sheet or file of these objects.
OBJECT_WORDS: dict[str, tuple[str, ...]] = {
    "account": ("account", "accounts", "company", "companies", "organization", "organizations", "orgs"),
    "contact": ("contact", "contacts", "person", "persons", "people"),
    "opportunity": ("opportunity", "opportunities", "deal", "deals", "oppty"),
    "task": ("task", "tasks", "todo", "todos"),
    "note": ("note", "notes"),
    "lead": ("lead", "leads"),
}
#: The order sheets of a workbook are imported in when no pipeline import is available: records
#: before the records that refer to them.
IMPORT_ORDER = ("account", "lead", "contact", "opportunity", "task", "note")
_WORD = re.compile(r"[a-z]+")


def objects_of(client: Any) -> list[str]:
    """The object types records can be imported into (system ones, then custom ones)."""
    found: list[str] = []
    lister = getattr(client, "all_object_types", None)
    if callable(lister):
        try:
            found = [str(o["objectType"]) for o in lister() if o.get("objectType")]
        except (BulkioError, KeyError, TypeError):
            found = []
    if not found:
        found = ["account", "contact", "opportunity"]
    return [o for o in found if o != "member"]


def detect_object(
    client: Any, headers: list[str], names: list[str], objects: list[str]
) -> tuple[str | None, str]:
    """The object a sheet holds and how that was told: another CRM's export profile, a sheet or
    file name, or the object whose fields its headers match best."""
    from ..profiles import NAMES, detect_any

    found = [(v, o, label) for v, o, label in detect_any(headers) if o in objects]
    if found:
        vendor, obj, label = found[0]
        return obj, f"reads like {label} ({NAMES.get(vendor, vendor)} profile)"
    for name in names:
        words = set(_WORD.findall(name.casefold()))
        for obj in objects:
            if words & set(OBJECT_WORDS.get(obj, (obj, obj + "s"))):
                return obj, f"named {name!r}"
    best: tuple[int, str | None] = (0, None)
    for obj in objects:
        try:
            schema = client.schema(obj)
            hm = M.map_headers(headers, schema, warn_unused=False)
        except BulkioError:
            continue
        score = len(hm.importable)
        if score > best[0]:
            best = (score, obj)
    if best[1] is not None:
        return best[1], f"{best[0]} of {len(headers)} headers are {best[1]} fields"
    return None, "not detected: choose the object"


def sheet_names(path: Path) -> list[str]:
    """The visible worksheets of a workbook, in order (after :func:`bulkio.read.open_table` has
    checked the file, so calamine reads only a file the guards passed)."""
    import python_calamine as pc

    book = pc.CalamineWorkbook.from_path(str(path))
    try:
        return [m.name for m in book.sheets_metadata if str(m.visible).lower().endswith("visible")]
    finally:
        book.close()


@dataclass
class ColumnChoice:
    """One header and the field it goes to (None = not imported), with how sure the draft was."""

    index: int
    letter: str
    header: str
    target: str | None
    how: str
    score: float
    nearest: list[str] = field(default_factory=list)


class Sheet:
    """One data sheet of the open file: rows, object, mapping, checks."""

    def __init__(
        self,
        ws: Workspace,
        sid: str,
        table: SourceTable,
        *,
        object_type: str | None,
        detected: str,
    ) -> None:
        self.ws, self.id = ws, sid
        self.sheet = table.sheet if table.kind != "csv" else None
        self.headers = [str(h) if h is not None else "" for h in table.headers]
        self.header_row = table.header_row
        self.kind = table.kind
        self.object_type = object_type
        self.detected = detected
        self.table = table
        self.store = RowStore(ws.folder / f"{sid}.sqlite3", self.headers)
        self.total_hint: int | None = None
        self.reader_file_issues: list[Issue] = []
        self._reader_rows: dict[int, list[Issue]] = {}
        self._reader_seen = 0
        self.spec = MappingFile.model_validate({})
        self.vendor: str | None = None
        self.columns: list[ColumnChoice] = []
        self.options: dict[str, Any] = {}
        self.checker: RowChecker | None = None
        self.progress = CheckProgress()
        self.mapping_error: str | None = None
        self.copy_skipped: list[int] = []
        self._kinds: tuple[Any, float, list[dict[str, Any]]] | None = None
        self._stop = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        self.loader = threading.Thread(target=self._load, name=f"bulkio-ui-load-{sid}", daemon=True)
        self.loader.start()

    # --- loading ------------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            self.store.load(self.table.rows, stop=self._stop)
        finally:
            self.reader_issues()
            self.table.close()

    def reader_issues(self) -> dict[int, list[Issue]]:
        """The reader's issues by spreadsheet row (the list grows while rows load)."""
        issues = self.table.issues
        if len(issues) != self._reader_seen:
            for i in issues[self._reader_seen :]:
                if i.row is None:
                    self.reader_file_issues.append(i)
                else:
                    self._reader_rows.setdefault(i.row, []).append(i)
            self._reader_seen = len(issues)
        return self._reader_rows

    def count_rows(self, path: Path) -> None:
        from ..rowcount import count_rows

        self.total_hint = count_rows(path, sheet=self.sheet, header_row=self.header_row)

    # --- mapping ------------------------------------------------------------------------------
    @property
    def schema(self) -> ObjectSchema | None:
        if self.object_type is None:
            return None
        schema: ObjectSchema = self.ws.client.schema(self.object_type)
        return schema

    @property
    def key_field(self) -> str:
        return self.spec.key or "external_id"

    def draft(self) -> None:
        """Propose a field for every header (:func:`bulkio.draft.draft_mapping`) and check."""
        from ..draft import draft_mapping

        self.columns, self.spec, self.vendor, self.mapping_error = (
            [],
            MappingFile.model_validate({}),
            None,
            None,
        )
        if self.object_type is None:
            self.recheck()
            return
        try:
            d = draft_mapping(
                self.ws.path,
                self.object_type,
                client=self.ws.client,
                profile="auto",
                sheet=self.sheet,
                max_rows=DRAFT_ROWS,
            )
        except BulkioError as exc:
            self.mapping_error = str(exc)
            self.recheck()
            return
        base = d.profile
        self.vendor = d.vendor
        spec = MappingFile.model_validate(
            {
                "object": self.object_type,
                "source": base.source if base else None,
                "key": base.key if base else None,
                "options": base.options.model_dump(exclude_none=True) if base else {},
                "derived": [d.model_dump(exclude_none=True) for d in base.derived] if base else [],
            }
        )
        by_header = {c.header: c for c in d.columns}
        for i, header in enumerate(self.headers):
            c = by_header.get(header)
            if not header.strip():
                continue
            if c is None:
                spec.columns[header] = ColumnSpec.model_validate({"field": "ignore"})
                self.columns.append(ColumnChoice(i, column_letter(i), header, None, "none", 0.0))
                continue
            col = (
                c.spec.model_copy(deep=True)
                if c.spec is not None
                else ColumnSpec.model_validate({"field": c.target or "ignore"})
            )
            if c.target is None:
                col.field = "ignore"
            elif col.target != c.target:
                col.field = c.target
            spec.columns[header] = col
            self.columns.append(
                ColumnChoice(i, column_letter(i), header, c.target, c.how, c.score, [n for n, _ in c.nearest])
            )
        self.spec = spec
        self.recheck()

    def set_target(self, header: str, target: str | None) -> None:
        """Send a column to another field (None: do not import it); its value map and transforms
        belonged to the old field and go with it."""
        if header not in self.spec.columns:
            raise KeyError(header)
        old = self.spec.columns[header]
        new = target or "ignore"
        if (old.target or "ignore") != new:
            self.spec.columns[header] = ColumnSpec.model_validate({"field": new})
        for c in self.columns:
            if c.header == header:
                c.target, c.how, c.score = target, "chosen", 100.0
        self.recheck()

    def set_value(self, header: str, value: str, choice: str | None) -> None:
        """Map one source value of a column to an option or record (None: remove the entry);
        every row with that value follows."""
        col = self.spec.columns.get(header)
        if col is None:
            raise KeyError(header)
        if choice:
            col.values[value] = choice
        else:
            col.values.pop(value, None)
        self.recheck()

    def use_mapping(self, spec: MappingFile) -> None:
        """Take a saved recipe (a mapping file) as this sheet's mapping."""
        if spec.object and spec.object != self.object_type:
            self.object_type = spec.object
        keep = MappingFile.model_validate(spec.model_dump(exclude_none=True))
        for i, header in enumerate(self.headers):
            if header.strip() and header not in keep.columns:
                keep.columns[header] = ColumnSpec.model_validate({"field": "ignore"})
        self.spec = keep
        self.columns = [
            ColumnChoice(i, column_letter(i), h, keep.columns[h].target, "recipe", 100.0)
            for i, h in enumerate(self.headers)
            if h in keep.columns
        ]
        self.recheck()

    def set_object(self, object_type: str) -> None:
        self.object_type = object_type
        self.detected = "chosen"
        self.draft()

    # --- checking -----------------------------------------------------------------------------
    def recheck(self) -> None:
        """Start the background check of every row under the current mapping (a running one
        stops: its results no longer belong to the page)."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            self.checker = None
            self.progress = progress = CheckProgress(generation=generation)
            self.store.clear_issues()
            schema = self.schema
            if schema is None:
                progress.done = True
                return
            try:
                checker = RowChecker(
                    self.ws.client,
                    schema,
                    self.headers,
                    self.spec,
                    key_field=self.key_field,
                    file=self.ws.name,
                    sheet=self.sheet,
                    header_row=self.header_row,
                    options=parse_options(self.spec, self.options),
                )
            except BulkioError as exc:
                self.mapping_error = str(exc)
                progress.done = True
                return
            self.mapping_error = None
            self.checker = checker
            progress.file_issues = checker.file_issues

        def current() -> bool:
            return self._generation == generation

        threading.Thread(
            target=check_all,
            args=(checker, self.store, progress),
            kwargs={"stop": self._stop, "reader_issues": self.reader_issues, "current": current},
            name=f"bulkio-ui-check-{self.id}",
            daemon=True,
        ).start()

    def edit(self, n: int, col: int, value: str | None) -> dict[int, list[Issue]]:
        """Change one cell of the working copy and check its row again."""
        if not 0 <= col < len(self.headers):
            raise IndexError(f"no column {col}")
        self.store.edit(n, col, value)
        return self.recheck_rows([n])

    def recheck_rows(self, ns: list[int]) -> dict[int, list[Issue]]:
        checker = self.checker
        if checker is None:
            return {}
        rows = self.store.rows_at(ns)
        found = checker.check(rows, self.reader_issues())
        if checker is self.checker:
            self.store.set_issues(found, checker.col_of)
        return found

    def replace(self, col: int, find: str, replace: str, *, whole: bool = False) -> int:
        """Find and replace in one column; the changed rows are checked again."""
        if not 0 <= col < len(self.headers):
            raise IndexError(f"no column {col}")
        changed = self.store.replace_in_column(col, find, replace, whole=whole)
        for i in range(0, len(changed), 250):
            self.recheck_rows(changed[i : i + 250])
        return len(changed)

    def unresolved(self) -> list[dict[str, Any]]:
        """Values that matched nothing, grouped with counts and nearest options (the same list a
        dry run prints), each with every option it could be mapped to."""
        checker, schema = self.checker, self.schema
        if checker is None or schema is None:
            return []
        groups = group_unresolved(self.store.issues_with(UNRESOLVED_CODES), schema, checker.references)
        options: dict[str, list[str]] = {}
        for g in groups:
            key = str(g.get("field") or "")
            if key not in options:
                options[key] = candidates_for(key, schema, checker.references)
            g["options"] = options[key]
            col = self.spec.columns.get(str(g.get("header") or ""))
            g["mapped"] = col.values.get(str(g["value"])) if col is not None else None
        return groups

    def mapped_values(self) -> list[dict[str, Any]]:
        """The value-map entries the page has made or the profile brought."""
        return [
            {"header": h, "value": v, "choice": c}
            for h, col in self.spec.columns.items()
            for v, c in col.values.items()
        ]

    def kinds(self) -> list[dict[str, Any]]:
        """Issue kinds with their row counts; while the background check writes issues, counted at
        most once a second (a grouped count over a million rows is not free), at once after an edit."""
        key = (self.progress.generation, self.store.version, self.store.issues_version)
        now = time.monotonic()
        cached = self._kinds
        if cached is not None and (
            cached[0] == key
            or (not self.progress.done and cached[0][:2] == key[:2] and now - cached[1] < 1.0)
        ):
            return cached[2]
        kinds = self.store.kinds()
        self._kinds = (key, now, kinds)
        return kinds

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        self.loader.join(timeout=5)
        self.store.close()

    # --- views --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sheet": self.sheet,
            "object_type": self.object_type,
            "detected": self.detected,
            "headers": self.headers,
            "header_row": self.header_row,
            "rows_loaded": self.store.loaded,
            "rows_done": self.store.done,
            "rows_hint": self.total_hint,
            "load_error": self.store.error,
            "profile": self.vendor,
            "profile_name": _vendor_name(self.vendor),
            "key_field": self.key_field,
            "checked": self.progress.checked,
            "check_done": self.progress.done,
            "check_error": self.progress.error,
            "mapping_error": self.mapping_error,
            "edits": self.store.edit_count(),
        }

    def page(
        self, offset: int, limit: int, *, only: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        """One page of the grid: rows with their cells (edits laid over), which cells were
        edited, and the issues on each cell. ``only="errors"``/``"warnings"`` pages through the
        rows that have one (of ``code`` when given)."""
        if only in ("errors", "warnings", "issues"):
            severity = {"errors": "error", "warnings": "warning", "issues": None}[only]
            ns = self.store.rows_with_issues(offset, limit, code=code, severity=severity)
            rows = self.store.rows_at(ns)
            total = self.store.count_with_issues(code=code, severity=severity)
        else:
            rows = self.store.rows(offset, limit)
            total = self.store.loaded if self.store.done else max(self.total_hint or 0, self.store.loaded)
        return {
            "offset": offset,
            "limit": limit,
            "total": total,
            "exact": self.store.done or only is not None,
            "rows": self.rows_json(rows),
        }

    def rows_json(self, rows: list[tuple[int, int, list[Any]]]) -> list[dict[str, Any]]:
        """Grid rows: cells as shown, which cells were edited, the issues on each cell."""
        ns = [n for n, _, _ in rows]
        issues = self.store.issues_at(ns)
        edited = self.store.edited(ns)
        width = len(self.headers)
        return [
            {
                "n": n,
                "number": number,
                "cells": [shown(c) for c in cells[:width]] + [None] * max(0, width - len(cells)),
                "edited": sorted(edited.get(n, ())),
                "issues": [issue_json(i, col) for col, i in issues.get(n, [])],
            }
            for n, number, cells in rows
        ]

    # --- copies -------------------------------------------------------------------------------
    def copy_rows(self, ns: list[int] | None = None) -> Iterator[list[Any]]:
        """The rows as a copy holds them (edits laid over), all or only ``ns``. A row left blank
        by edits is not written (the reader would skip it); :attr:`copy_skipped` lists them, so
        :meth:`copy_position` can tell which row a row of the copy is."""
        width = len(self.headers)
        self.copy_skipped = []
        if ns is None:
            source: Any = self.store.iter_rows()
        else:
            source = itertools.chain.from_iterable(
                self.store.rows_at(ns[i : i + 500]) for i in range(0, len(ns), 500)
            )
        for n, _number, cells in source:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                self.copy_skipped.append(n)
                continue
            yield (cells[:width] + [None] * (width - len(cells))) if len(cells) != width else cells

    def copy_position(self, row: int, ns: list[int] | None = None) -> int | None:
        """The position in this sheet of row ``row`` of the last copy written (header on row 1)."""
        k = row - 2
        if ns is not None:  # a copy of some rows: the k-th of those written
            skipped = set(self.copy_skipped)
            written = [n for n in ns if n not in skipped]
            return written[k] if 0 <= k < len(written) else None
        n = k
        for blank in self.copy_skipped:  # ascending
            if blank <= n:
                n += 1
        return n if k >= 0 else None


def _vendor_name(vendor: str | None) -> str | None:
    from ..profiles import NAMES

    return NAMES.get(vendor, vendor) if vendor else None


def issue_json(issue: Issue, col: int = -1) -> dict[str, Any]:
    return {
        "col": col,
        "severity": issue.severity,
        "code": issue.code,
        "message": issue.message,
        "column": issue.column,
        "header": issue.header,
        "field": issue.field,
        "value": shown(issue.value),
        "expected": issue.expected,
    }


class Workspace:
    """One opened file (CSV, or a workbook whose data sheets are opened together)."""

    def __init__(
        self,
        client: Any,
        path: Path,
        *,
        name: str,
        folder: Path,
        uploaded: bool = False,
        object_type: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.id = secrets.token_hex(6)
        self.client = client
        self.path = path
        self.name = name
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.uploaded = uploaded
        self.sheets: list[Sheet] = []
        self.copies: list[Path] = []
        self._copied: tuple[int, ...] = ()
        objects = objects_of(client)
        if object_type is not None and object_type not in objects:
            objects.append(object_type)
        first = read.open_table(path, sheet=sheet, object_type=object_type, name=name)
        self.kind = first.kind
        tables = [first]
        if first.kind != "csv" and sheet is None:
            try:
                for title in sheet_names(path):
                    if title == first.sheet or title.strip().casefold() in NOT_DATA:
                        continue
                    try:
                        tables.append(read.open_table(path, sheet=title, name=name))
                    except InputFileError:
                        continue  # an empty or unreadable sheet is not a data sheet
            except Exception:  # noqa: BLE001 - the first sheet is still open to work with
                tables = tables[:1]
            order = {t: i for i, t in enumerate(sheet_names(path))} if len(tables) > 1 else {}
            tables.sort(key=lambda t: order.get(t.sheet or "", 0))
        self.is_workbook = len(tables) > 1
        for i, t in enumerate(tables):
            headers = [str(h) if h is not None else "" for h in t.headers]
            obj: str | None
            if object_type is not None and (len(tables) == 1 or t is first):
                obj, how = object_type, "chosen"
            else:
                names = [t.sheet or "", Path(name).stem] if t.kind != "csv" else [Path(name).stem]
                if len(tables) > 1:
                    names = [t.sheet or ""]
                obj, how = detect_object(client, headers, names, objects)
            s = Sheet(self, f"s{i}", t, object_type=obj, detected=how)
            self.sheets.append(s)
        for s in self.sheets:
            threading.Thread(target=s.count_rows, args=(path,), daemon=True).start()
            s.draft()

    def sheet(self, sid: str) -> Sheet:
        for s in self.sheets:
            if s.id == sid:
                return s
        raise KeyError(sid)

    @property
    def edited(self) -> bool:
        return any(s.store.edit_count() for s in self.sheets)

    def copy_path(self) -> Path:
        """Where the next copy goes: beside the original (``deals.fixed.csv``, numbered when that
        exists), or in the page's own folder for an upload or a folder that cannot be written."""
        import os

        suffix = ".csv" if self.kind == "csv" else ".xlsx"
        stem = Path(self.name).stem
        base = self.path.parent if not self.uploaded and os.access(self.path.parent, os.W_OK) else self.folder
        for k in itertools.count(1):
            dest = base / (f"{stem}.fixed{suffix}" if k == 1 else f"{stem}.fixed-{k}{suffix}")
            if not dest.exists() and dest.resolve() != self.path.resolve():
                return dest
        raise AssertionError("unreachable")  # pragma: no cover

    def save_copy(self, dest: Path | None = None, *, rows: dict[str, list[int]] | None = None) -> Path:
        """Write the rows with their edits to a new file (the original is never written): CSV for
        a CSV, a workbook with every data sheet for a workbook. ``rows`` keeps only some rows of
        some sheets (sheet id → row positions), for retrying the rows that failed."""
        from ..sheets import new_workbook, save_workbook, write_csv, write_table

        versions = tuple(s.store.version for s in self.sheets)
        if (
            dest is None
            and rows is None
            and self.copies
            and self._copied == versions
            and self.copies[-1].exists()
        ):
            return self.copies[-1]  # nothing changed since: the same copy (and the same run to resume)
        dest = dest or self.copy_path()
        if dest.resolve() == self.path.resolve():
            raise InputFileError("a copy never replaces the file it was opened from", path=str(dest))
        for s in self.sheets:
            s.store.wait_for(1 << 62)
        if self.kind == "csv":
            s = self.sheets[0]
            ns = None if rows is None else rows.get(s.id, [])
            write_csv(dest, s.headers, s.copy_rows(ns))
        else:
            wb = new_workbook(write_only=True)
            for s in self.sheets:
                if rows is not None and s.id not in rows:
                    continue
                ws = wb.create_sheet(s.sheet or s.id)
                write_table(ws, s.headers, s.copy_rows(None if rows is None else rows[s.id]))
            save_workbook(wb, dest)
        if rows is None:
            self.copies.append(dest)
            self._copied = versions
        return dest

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "path": None if self.uploaded else str(self.path),
            "kind": self.kind,
            "workbook": self.is_workbook,
            "sheets": [s.summary() for s in self.sheets],
            "copies": [str(p) for p in self.copies],
        }

    def close(self) -> None:
        for s in self.sheets:
            s.close()
