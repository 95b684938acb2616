"""What the prepare phase decides before a sheet's first row is planned: the mapping it uses (a
file, another CRM's profile, or none), the parse options (``--locale``, ``--percent``…) and
whether the key field can work. Nothing here reads rows or talks to the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .definitions import ObjectSchema
from .errors import ConfigError
from .events import EventHandler, Message
from .issues import Issue


def mapping_spec(
    mapping: Any,
    profile: str | None,
    headers: list[str],
    object_type: str,
    emit: EventHandler,
    file: str | None,
) -> tuple[Any, bool]:
    """The mapping file to use and whether it is a profile: ``mapping`` when given (a path, dict or
    MappingFile), else the ``profile`` named (``--from hubspot``), else the one the headers read
    like (unless ``profile`` is ``"none"``)."""
    from . import mapfile as MF
    from . import profiles as P

    if mapping is not None:
        if profile not in (None, "auto", "none"):
            raise ConfigError(
                "use either a mapping file or --from, not both (a profile is a mapping file: "
                "write it out with `bulkio map --from ...` and edit it)"
            )
        return MF.as_mapping(mapping), False
    if profile in (None, "auto"):
        found = P.detect_profile(headers, object_type)
        if found is None:
            others = P.detect_any(headers)
            same = [(v, label) for v, o, label in others if o == object_type]
            if len(same) > 1:  # several vendors' profiles of this object, none naming more headers
                emit(
                    Message(
                        f"{file or 'the data'} reads like {' and like '.join(label for _v, label in same)}: "
                        f"no profile is used (--from {'|'.join(v for v, _label in same)} picks one)"
                    )
                )
            elif others:
                vendor, obj, label = others[0]
                emit(
                    Message(
                        f"{file or 'the data'} reads like {label}, which is imported as {obj}, "
                        f"not {object_type}"
                    )
                )
            return None, False
        vendor, spec = found
        label = spec.detect.label if spec.detect else vendor
        emit(
            Message(
                f"{file or 'the data'} reads like {label}: using the {P.NAMES[vendor]} profile "
                f"(--from {vendor}; `bulkio map --from {vendor} {object_type}` writes it out to edit)"
            )
        )
        return spec, True
    if profile == "none":
        return None, False
    return P.load_profile(profile, object_type, headers), True


def peek(rows: Iterator[Any], n: int) -> tuple[list[Any], Iterator[Any]]:
    """The first ``n`` rows, and an iterator over all of them (the first ones again)."""
    import itertools

    head = list(itertools.islice(rows, n))
    return head, itertools.chain(head, rows)


def parse_options(
    date_order: str | None, tz: str, locale: str | None = None, phone_region: str | None = None
) -> Any:
    from . import values as V

    return V.ParseOptions(
        date_order=date_order,  # type: ignore[arg-type]
        tz=tz,
        locale=locale,
        phone_region=phone_region,
    )


def percent_columns(names: Any, header_map: Any, schema: ObjectSchema, base: Any) -> dict[str, Any]:
    """``--percent`` names (a header, field label or key) → per-column options reading fractions."""
    from dataclasses import replace

    out: dict[str, Any] = {}
    for name in names or ():
        want = str(name).strip().casefold()
        hits = {
            key
            for mc in header_map.columns
            if mc.column is not None
            and (key := mc.column.field_key or mc.column.key) in schema.fields
            and want in (mc.header.strip().casefold(), key.casefold(), schema.fields[key].label.casefold())
        }
        numbers = {k for k in hits if schema.fields[k].value_type == "NUMBER"}
        if not numbers:
            raise ConfigError(
                f"--percent {name!r}: no NUMBER column of this file has that header, label or key"
                + (f" ({', '.join(sorted(hits))} is not a NUMBER field)" if hits else "")
            )
        for key in numbers:
            out[key] = replace(base, percent=True)
    return out


def key_issues(
    schema: ObjectSchema, key_field: str, *, file: str | None, sheet: str | None, crm: str = "lightfield"
) -> list[Issue]:
    """An unknown key field stops the run (it would match nothing and create every row again); a
    key field the CRM does not keep unique is a warning (a shared value fails as ambiguous_match).
    Close keeps no field unique, so there its key field is unique by convention, without a warning."""
    fdef = schema.fields.get(key_field)
    if fdef is None:
        if key_field == "external_id":  # objects without the custom field: rows match by Record ID
            return []
        raise ConfigError(
            f"{schema.object_type} has no field '{key_field}' to use as the key; "
            f"see: bulkio definitions {schema.object_type}"
        )
    if fdef.unique or crm != "lightfield":
        return []
    return [
        Issue(
            "key_not_unique",
            f"the key field {fdef.label} ({key_field}) is not unique in "
            f"Lightfield: a value shared by two records fails as ambiguous_match, and nothing stops "
            f"a duplicate being created elsewhere; prefer a unique field",
            file=file,
            sheet=sheet,
            field=key_field,
            expected="a unique field",
            severity="warning",
        )
    ]


def name_columns(header_map: Any) -> list[tuple[int, int]]:
    """``(relationship column, its name column)`` index pairs of a sheet laid out as bulkio exports
    it (``Account* ($account)`` and ``Account name ($account#name)``): see :func:`names_for_ids`."""
    pairs: list[tuple[int, int]] = []
    for mc in header_map.columns:
        col = mc.column
        if col is None or col.kind != "display" or not col.key.endswith("#name"):
            continue
        target = header_map.by_key.get(col.field_key or "")
        if target is not None:
            pairs.append((target.index, mc.index))
    return pairs


def names_for_ids(rows: Iterator[Any], pairs: list[tuple[int, int]]) -> Iterator[Any]:
    """Rows in which a blank relationship cell takes the record's name from its name column: a row
    added to an exported workbook names its account where people read names (``Account name``),
    not ids. A row with both keeps its id (the name column is only shown)."""
    import dataclasses

    def blank(v: Any) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    for row in rows:
        cells = row.cells
        for id_i, name_i in pairs:
            if name_i < len(cells) and id_i < len(cells) and blank(cells[id_i]) and not blank(cells[name_i]):
                if cells is row.cells:
                    cells = list(cells)
                cells[id_i] = cells[name_i]
        yield row if cells is row.cells else dataclasses.replace(row, cells=cells)


def _text_of(value: Any) -> str:
    """A cell's text as a header compares. CSV files joined with ``cat`` keep the second file's BOM
    in front of its first header, where it also keeps that header's quotes: ``\ufeff"Record ID"``."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] == "\ufeff":
            text = text[1:].lstrip()
            if len(text) > 1 and text[0] == text[-1] == '"':
                text = text[1:-1].replace('""', '"')
        return text
    return "" if value is None else str(value).strip()


def skip_repeated_headers(
    rows: Iterator[Any],
    headers: list[str],
    issues: list[Issue],
    *,
    file: str | None = None,
    sheet: str | None = None,
) -> Iterator[Any]:
    """Rows without the ones that repeat the header row, and the one-cell title row right above
    such a repeat: tables stacked on one sheet (monday.com writes each group of a board as its title,
    its header again and its items), exports concatenated into one CSV, reports with a header on every
    page. Imported, a repeated header would be a record named "Name"; a group title, an account
    named after the group. Each is a warning (``repeated_header``, ``section_title``)."""
    want = [_text_of(h) for h in headers]
    while want and not want[-1]:
        want.pop()
    width = len(want)
    if sum(1 for h in want if h) < 2:  # a one-column header repeats as a value, not a header
        yield from rows
        return
    first = want[0]

    def repeats(cells: list[Any]) -> bool:
        if len(cells) < width or _text_of(cells[0]) != first:
            return False
        return [_text_of(c) for c in cells[:width]] == want and not any(_text_of(c) for c in cells[width:])

    def note(row: Any, code: str, message: str) -> None:
        issues.append(
            Issue(
                code,
                message,
                file=file,
                sheet=sheet,
                row=row.number,
                value=_text_of(row.cells[0]),
                severity="warning",
            )
        )

    held: Any = None  # a row with one value in its first cell: a title, if the header follows
    for row in rows:
        cells = row.cells
        c0 = cells[0] if cells else None
        if c0.__class__ is str and first in c0 and _text_of(c0) == first and repeats(cells):
            if held is not None:
                note(
                    held,
                    "section_title",
                    f"row {held.number} is a title above the header repeated on row {row.number}; it is not imported",
                )
                held = None
            note(row, "repeated_header", f"row {row.number} repeats the header row; it is not imported")
            continue
        if held is not None:
            yield held
            held = None
        if c0 and len(cells) > 1 and not cells[1] and not any(cells[1:]):
            held = row
            continue
        yield row
    if held is not None:
        yield held
