"""Check the rows of a working copy with the importer's own steps, so the grid shows what an import
would say: the mapping's transforms and value maps (:func:`bulkio.transforms.compile_mapping`), the
cell checks (:class:`bulkio.validate.Validator`, numbers settled per chunk as the importer does) and
the select and reference lookups (:class:`bulkio.resolve.Resolver`).

What is left to the dry run: matching rows to existing records (the planner asks the CRM per row),
so a missing required field of a row that would create a record, or a possible duplicate, shows
after *Diff*, whose issues then replace the grid's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import mapping as M
from .. import values as V
from ..definitions import ObjectSchema
from ..issues import Issue
from ..mapfile import MappingFile, check_mapping
from ..prepare import skip_repeated_headers
from ..read import SourceRow, column_letter
from ..resolve import References, Resolver
from ..transforms import compile_mapping
from ..validate import CheckedRow, Validator
from .store import RowStore

#: Rows checked together (as the importer's chunk: lookups are batched per chunk).
CHUNK = 250


def parse_options(spec: MappingFile | None, overrides: dict[str, Any] | None = None) -> V.ParseOptions:
    """Cell-parsing options: the page's choices first, then the mapping file's (as the CLI's
    ``--locale`` beats a profile's)."""
    o = dict(overrides or {})
    so = spec.options if spec is not None else None
    return V.ParseOptions(
        date_order=o.get("date_order") or (so.date_order if so else None),
        tz=o.get("tz") or (so.tz if so and so.tz else "UTC"),
        locale=o.get("locale") or (so.locale if so else None),
        phone_region=o.get("phone_region") or (so.phone_region if so else None),
    )


@dataclass
class CheckProgress:
    checked: int = 0
    done: bool = False
    seconds: float = 0.0
    error: str | None = None
    generation: int = 0
    file_issues: list[Issue] = field(default_factory=list)


class RowChecker:
    """One mapping's checks over one sheet. :meth:`check` is safe from several threads (the
    background pass and an edit's re-check take turns per chunk)."""

    def __init__(
        self,
        client: Any,
        schema: ObjectSchema,
        headers: list[str],
        spec: MappingFile,
        *,
        key_field: str,
        file: str | None,
        sheet: str | None,
        header_row: int,
        options: V.ParseOptions,
    ) -> None:
        self.schema, self.file, self.sheet = schema, file, sheet
        check_mapping(spec, schema, keys=M.importable_keys(schema, key_field))
        self.header_map = M.map_headers(
            headers,
            schema,
            mapping=spec.targets(),
            key_field=key_field,
            file=file,
            sheet=sheet,
            header_row=header_row,
            warn_unused=False,
        )
        self.file_issues = list(self.header_map.issues)
        self.transformer = compile_mapping(spec, self.header_map, schema, file=file, sheet=sheet)
        self.validator = Validator(schema, self.header_map, file=file, sheet=sheet, options=options)
        self.references = References(client, key_field=key_field)
        self.resolver = Resolver(client, schema, references=self.references, file=file, sheet=sheet)
        self.width = len(headers)
        self.headers = list(headers)
        self._letters = {column_letter(i): i for i in range(self.width)}
        self.lock = threading.Lock()

    def col_of(self, letter: str | None) -> int:
        return self._letters.get(letter or "", -1)

    def check(
        self, rows: list[tuple[int, int, list[Any]]], reader_issues: dict[int, list[Issue]] | None = None
    ) -> dict[int, list[Issue]]:
        """``(n, number, cells)`` rows → ``n → issues`` (every row listed, an empty list when fine).
        Rows the import leaves out (the header repeated and a title above it, a mapping's
        ``skip_rows``) get only the warning that says so, as in the import's results sheet."""
        checked: list[tuple[int, CheckedRow]] = []
        out: dict[int, list[Issue]] = {}
        with self.lock:
            said: list[Issue] = []  # the import's own steps, row numbers on each issue
            source = (SourceRow(number, cells) for _n, number, cells in rows)
            kept = skip_repeated_headers(source, self.headers, said, file=self.file, sheet=self.sheet)
            passed = {r.number: r for r in self.transformer.rows(kept, said)}
            by_row: dict[int, list[Issue]] = {}
            for issue in said:
                by_row.setdefault(issue.row or 0, []).append(issue)
            for n, number, _cells in rows:
                found = [*(reader_issues or {}).get(number, ()), *by_row.get(number, ())]
                got = passed.get(number)
                if got is None:  # left out on purpose
                    out[n] = found
                    continue
                row = self.validator.check(got, defer=True)
                row.issues[:0] = found
                checked.append((n, row))
            self.validator.settle()
            self.resolver.resolve([c for _, c in checked])
        out.update((n, c.issues) for n, c in checked)
        return out


def check_all(
    checker: RowChecker,
    store: RowStore,
    progress: CheckProgress,
    *,
    stop: threading.Event,
    reader_issues: Callable[[], dict[int, list[Issue]]],
    current: Callable[[], bool],
) -> None:
    """The background pass: every row, chunk by chunk, issues stored as it goes. ``current`` says
    whether this pass still belongs to the mapping on the page (a changed mapping starts anew)."""
    started = time.monotonic()
    chunk: list[tuple[int, int, list[Any]]] = []
    try:

        def flush() -> None:
            found = checker.check(chunk, reader_issues())
            if current():
                store.set_issues(found, checker.col_of)
                progress.checked += len(chunk)
            chunk.clear()

        for item in store.iter_rows():
            if stop.is_set() or not current():
                return
            chunk.append(item)
            if len(chunk) >= CHUNK:
                flush()
        if chunk:
            flush()
    except Exception as exc:  # noqa: BLE001 - shown on the page (a lookup that failed, …)
        progress.error = f"{type(exc).__name__}: {exc}"
    finally:
        progress.seconds = time.monotonic() - started
        if current() and not stop.is_set():
            progress.done = True
