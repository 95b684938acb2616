"""columnar.py: a chunk validated column by column gives, row for row, what the per-cell path gives.

The safety net of the columnar path: hypothesis draws chunks of rows over a schema with every value
type (and address/name parts, selects, references, a Record ID column), cells of every shape the
parsers have rules for plus arbitrary text and Python values, and every option that changes
parsing; ``Validator.check_chunk`` must give the same values, issues (every attribute, in order),
record ids, sources and fractions as ``Validator.check`` row by row, chunk after chunk."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.columnar import MEMO_LIMIT, ChunkChecker
from bulkio.definitions import ObjectSchema
from bulkio.mapping import map_headers
from bulkio.read import SourceRow
from bulkio.validate import CLEAR, CheckedRow, Validator
from bulkio.values import BLANK, ParseOptions, parse_cell

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OPTIONS = [
    {"id": f"opt_{i}", "label": lab} for i, lab in enumerate(["Lead", "Closed Won", "closed won", "A; B"])
]
FIELDS: dict[str, dict[str, Any]] = {
    "$name": {"label": "Name", "valueType": "TEXT"},
    "external_id": {"label": "External ID", "valueType": "TEXT", "typeConfiguration": {"unique": True}},
    "notes": {"label": "Notes", "valueType": "MARKDOWN"},
    "amount": {"label": "Amount", "valueType": "CURRENCY", "typeConfiguration": {"currency": "USD"}},
    "fee": {"label": "Fee", "valueType": "CURRENCY", "typeConfiguration": {"currency": "EUR"}},
    "count": {"label": "Count", "valueType": "NUMBER"},
    "probability": {"label": "Probability", "valueType": "NUMBER"},
    "active": {"label": "Active", "valueType": "CHECKBOX"},
    "due": {"label": "Due", "valueType": "DATETIME"},
    "emails": {"label": "Emails", "valueType": "EMAIL", "typeConfiguration": {"multipleValues": True}},
    "email": {"label": "Email", "valueType": "EMAIL"},
    "site": {"label": "Site", "valueType": "URL"},
    "phone": {"label": "Phone", "valueType": "TELEPHONE", "typeConfiguration": {"multipleValues": True}},
    "linkedin": {
        "label": "LinkedIn",
        "valueType": "SOCIAL_HANDLE",
        "typeConfiguration": {"handleService": "LINKEDIN"},
    },
    "stage": {"label": "Stage", "valueType": "SINGLE_SELECT", "typeConfiguration": {"options": OPTIONS}},
    "tags": {"label": "Tags", "valueType": "MULTI_SELECT", "typeConfiguration": {"options": OPTIONS}},
    "addr": {"label": "Addr", "valueType": "ADDRESS"},
    "person": {"label": "Person", "valueType": "FULL_NAME"},
    "contact": {"label": "Contact", "valueType": "FULL_NAME"},
}
RELS = {
    "$account": {"label": "Account", "cardinality": "HAS_ONE", "objectType": "account"},
    "$contact": {"label": "Contacts", "cardinality": "HAS_MANY", "objectType": "contact"},
}
SCHEMA = ObjectSchema.from_api(
    {"objectType": "thing", "fieldDefinitions": FIELDS, "relationshipDefinitions": RELS}
)
HEADERS = [
    "Record ID (id)",
    *FIELDS,
    "Addr: City (addr.city)",
    "Addr: Country (addr.country)",
    "Addr: Latitude (addr.latitude)",
    "Contact: First Name (contact.firstName)",
    "Contact: Last Name (contact.lastName)",
    "$account",
    "$contact",
]
HEADERS.remove("addr")
HEADERS.remove("contact")

#: shapes the parsers have rules for, across every value type
SHAPES = [
    *[
        "",
        " ",
        "  \t",
        "#clear",
        "#CLEAR",
        " #Clear ",
        ";",
        " ; ; ",
        "a;;b",
        "x; Lead",
        "A; B",
        "Lead",
        "lead ",
    ],
    *[
        "0",
        "7",
        "007",
        "42",
        "100",
        "1234",
        "12345678901234567",
        "-5",
        "+5",
        "(5)",
        "5-",
        "\u22125",
        "5%",
        "0.5",
    ],
    *["0.50", "1.5", "1.20", "1.200", "12,500", "1,234", "1,234,567", "1,234.50", "1.234,50", "1.234.567"],
    *["3,5", "1 234,50", "1'234.50", "$1,234.50", "$5", "$0.05", "US$5", "€5", "5 EUR", "USD 1,234", "-$5"],
    *["1e3", "٣", "１２", "$", ".5", "5.", "1,2,3", "0,5", "99.999", "$1,234.5", "1,234.567"],
    *["2026-03-16", "2026-03-16 14:30", "2026-03-16T14:30:00Z", "03/04/2026", "13/01/2026", "16.03.2026"],
    *["Mar 16, 2026", "16 March 2026", "45000", "20260316", "soon", "31/02/2026", "2026-03-16 2:30 PM"],
    *["ana@example.com", "Ana <ana@EXAMPLE.com>", "a@b", "a@x.com; b@y.org", "mailto:a@x.com"],
    *["example.com", "https://Example.com/a", "http://x", "ftp://x.com", "//cdn.x.com/p"],
    *["+44 20 7946 0958", "020 7946 0958", "(415) 555-0132", "+1 415 555 0132 ext 9", "1-800-FLOWERS"],
    *["@ana", "linkedin.com/in/ana", "https://x.com/ana", "ana.lima", "DE", "Germany", "uk", "xx"],
    *["Ana Maria Lima", "Ana", "acc_123", "Acme Corp (acc_1)", "Acme; Globex"],
]
cells = st.one_of(
    st.sampled_from(SHAPES),
    st.text(max_size=12),
    st.none(),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)),
)
PARSE_OPTIONS = [
    ParseOptions(),
    ParseOptions(decimal="."),
    ParseOptions(decimal=","),
    ParseOptions(locale="de-DE"),
    ParseOptions(locale="fr-FR", tz="Europe/Paris"),
    ParseOptions(locale="de-CH"),
    ParseOptions(date_order="DMY", tz="Asia/Kolkata"),
    ParseOptions(date_order="MDY", phone_region="GB"),
]


def validator(options: ParseOptions, percent: bool) -> Validator:
    hm = map_headers(HEADERS, SCHEMA, file="t.csv")
    column_options = {"probability": ParseOptions(locale=options.locale, percent=True)} if percent else None
    return Validator(SCHEMA, hm, file="t.csv", sheet="S", options=options, column_options=column_options)


def snapshot(row: CheckedRow) -> tuple[Any, ...]:
    values = {k: ("CLEAR" if v is CLEAR else v) for k, v in row.values.items()}
    return (row.row, values, list(row.issues), row.record_id, dict(row.sources), row.fractions)


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to itself (a value never holds NaN; this keeps the message readable)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def test_the_headers_map_every_column() -> None:
    hm = map_headers(HEADERS, SCHEMA, file="t.csv")
    assert len(Validator(SCHEMA, hm)._plan) == len(HEADERS)


@SETTINGS
@given(
    rows=st.lists(st.lists(cells, min_size=len(HEADERS), max_size=len(HEADERS)), min_size=1, max_size=12),
    cuts=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6),
    options=st.sampled_from(PARSE_OPTIONS),
    percent=st.booleans(),
)
def test_a_chunk_checked_by_column_equals_the_rows_checked_one_by_one(
    rows: list[list[Any]], cuts: list[int], options: ParseOptions, percent: bool
) -> None:
    by_cell, by_column = validator(options, percent), validator(options, percent)
    source = [SourceRow(i + 2, cells) for i, cells in enumerate(rows)]
    start, sizes = 0, iter(cuts * len(rows))
    while start < len(source):
        chunk = source[start : start + next(sizes)]
        start += len(chunk)
        expected = [by_cell.check(r, defer=True) for r in chunk]
        by_cell.settle()
        got = by_column.check_chunk(chunk)
        by_column.settle()
        assert [snapshot(r) for r in got] == [snapshot(r) for r in expected]


@SETTINGS
@given(
    rows=st.lists(st.lists(cells, min_size=3, max_size=9), min_size=1, max_size=6),
    options=st.sampled_from(PARSE_OPTIONS),
)
def test_ragged_rows_are_read_as_blank_cells(rows: list[list[Any]], options: ParseOptions) -> None:
    """Rows shorter or longer than the header (a DataFrame, a transform) behave as in check()."""
    by_cell, by_column = validator(options, False), validator(options, False)
    source = [SourceRow(i + 2, cells) for i, cells in enumerate(rows)]
    expected = [by_cell.check(r, defer=True) for r in source]
    by_cell.settle()
    got = by_column.check_chunk(source)
    by_column.settle()
    assert [snapshot(r) for r in got] == [snapshot(r) for r in expected]


#: each parsed value type alone in a column: the columnar path and parse_cell agree on every cell
PARSED = [k for k, f in FIELDS.items() if f["valueType"] not in ("SINGLE_SELECT", "MULTI_SELECT", "ADDRESS")]


@pytest.mark.parametrize("key", PARSED)
@SETTINGS
@given(column=st.lists(cells, min_size=1, max_size=10), options=st.sampled_from(PARSE_OPTIONS[1:]))
def test_the_columnar_path_agrees_with_the_cell_parser(
    key: str, column: list[Any], options: ParseOptions
) -> None:
    """Number columns are read with a decimal mark or locale given here (without one, a cell that fits
    both marks waits for its column: that case is the test above)."""
    fdef = SCHEMA.fields[key]
    if fdef.value_type in ("NUMBER", "CURRENCY") and options.locale is None and options.decimal is None:
        options = replace(options, decimal=".")
    v = Validator(SCHEMA, map_headers([key], SCHEMA), file="t.csv", options=options)
    got = v.check_chunk([SourceRow(i + 2, [c]) for i, c in enumerate(column)])
    v.settle()
    for row, raw in zip(got, column, strict=True):
        parsed = parse_cell(fdef, raw, options=options)
        errors = [i for i in row.issues if i.severity == "error"]
        if isinstance(raw, str) and raw.strip().lower() == "#clear":
            assert row.values[key] is CLEAR and not errors
        elif parsed.error_code:
            assert key not in row.values
            assert [(i.code, i.message, i.value) for i in errors] == [
                (parsed.error_code, parsed.message, raw)
            ]
        elif parsed.value is BLANK:
            assert key not in row.values and not row.issues
        else:
            assert not errors and same(row.values[key], parsed.value), (raw, row.values, parsed)


def test_amount_shapes_read_by_pattern_are_the_parsers_values() -> None:
    """The shapes the amount pattern reads (and the ones it leaves to the parser) give the parser's
    values, evidence and issues; a value with more decimals than cents is never rounded."""
    raws = [
        "1234",
        "007",
        "1,234",
        "1,234.5",
        "1,234.50",
        "$1,234.56",
        "$0.05",
        "12.5",
        "1,234,567.00",
        "0.00",
    ]
    raws += ["999999999999999", "9999999999999999", "1.005", "$12,34", "01,234.50", "1,2345.00"]
    hm = map_headers(["Amount", "Count"], SCHEMA)
    by_cell, by_column = Validator(SCHEMA, hm), Validator(SCHEMA, hm)
    rows = [SourceRow(i + 2, [r, r.lstrip("$")]) for i, r in enumerate(raws)]
    expected = [by_cell.check(r, defer=True) for r in rows]
    by_cell.settle()
    got = by_column.check_chunk(rows)
    by_column.settle()
    assert [snapshot(r) for r in got] == [snapshot(r) for r in expected]
    assert got[3].values == {"amount": 1234.5, "count": 1234.5}  # settled by the column's "1,234.5"
    assert by_column.numbers["amount"].point == (5, "1,234.5")


def test_the_memo_starts_over_when_full() -> None:
    """A column of all-different cells keeps at most MEMO_LIMIT of them."""
    hm = map_headers(["Due"], SCHEMA)
    v = Validator(SCHEMA, hm)
    days = [dt.date(2000, 1, 1) + dt.timedelta(days=i) for i in range(MEMO_LIMIT + 10)]
    got = v.check_chunk([SourceRow(i + 2, [d.isoformat()]) for i, d in enumerate(days)])
    assert got[-1].values["due"] == f"{days[-1].isoformat()}T00:00:00+00:00"
    assert isinstance(v._columns, ChunkChecker)


def test_sources_are_built_only_when_asked() -> None:
    hm = map_headers(["Name", "Amount", "Addr: City (addr.city)"], SCHEMA, file="t.csv")
    v = Validator(SCHEMA, hm, file="t.csv")
    [ok, bad] = v.check_chunk([SourceRow(2, ["Acme", "5", "Berlin"]), SourceRow(3, [" Beta ", "n/a", None])])
    assert ok._cells is not None and bad._cells is not None  # nothing built yet
    assert bad.issues[0].column == "B" and bad.issues[0].value == "n/a"
    refs = ok.sources
    assert {k: (r.column, r.header, r.raw) for k, r in refs.items()} == {
        "$name": ("A", "Name", "Acme"),
        "amount": ("B", "Amount", "5"),
        "addr": ("C", "Addr: City (addr.city)", "Berlin"),
        "addr.city": ("C", "Addr: City (addr.city)", "Berlin"),
    }
    assert bad.sources["$name"].raw == "Beta" and ok._cells is None


def test_a_huge_fraction_column_value_is_an_error_not_a_crash() -> None:
    """Found by the property above: ``--percent`` on 1e24 made the per-cell parser raise."""
    fdef = SCHEMA.fields["probability"]
    parsed = parse_cell(fdef, 1e24, options=ParseOptions(percent=True))
    assert parsed.error_code == "invalid_number" and "too large" in (parsed.message or "")


def test_repeated_plain_amounts_read_from_memory_equal_the_rows_checked_one_by_one() -> None:
    """A probability column repeats a few plain amounts (remembered per column), an amount column
    holds all-different ones (remembering stops after a chunk that finds nothing again, then the
    repeats of later chunks are read by pattern): the same values, evidence, fraction warnings
    and issues as the per-cell path, chunk after chunk."""
    hm = map_headers(["Amount", "Probability", "Count"], SCHEMA, file="t.csv")
    by_cell, by_column = Validator(SCHEMA, hm, file="t.csv"), Validator(SCHEMA, hm, file="t.csv")
    shapes = ["50", "0.5", "150", "1,234.50", "$5", "0.25", " 40 ", "#clear", "", "n/a", "7"]
    percents = ["0.5", "50", "0.25", "40", "", "0.5", "12"]  # 0-100 values: 0.5 looks like a fraction
    rows: list[SourceRow] = []
    for i in range(600):
        distinct = f"{1000 + i}.{i % 90 + 10}" if i < 300 else shapes[i % len(shapes)]
        rows.append(SourceRow(i + 2, [distinct, percents[i % len(percents)], shapes[i % 5]]))
    for start in range(0, len(rows), 100):
        chunk = rows[start : start + 100]
        expected = [by_cell.check(r, defer=True) for r in chunk]
        by_cell.settle()
        got = by_column.check_chunk(chunk)
        by_column.settle()
        assert [snapshot(r) for r in got] == [snapshot(r) for r in expected]
        assert any(i.code == "looks_like_fraction" for r in got for i in r.issues)
    for key in ("amount", "probability", "count"):
        a, b = by_cell.numbers[key], by_column.numbers[key]
        assert (a.point, a.pct, a.big) == (b.point, b.pct, b.big)
