"""The CSV results sheet written from the input's own lines (bulkio.results_csv) against the one
written cell by cell from the reader's rows (bulkio.results.write_results): the same rows, and
the same bytes where the input quotes only what needs quoting."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio import read
from bulkio.issues import Issue
from bulkio.report import OutcomeStore
from bulkio.results import write_results
from bulkio.results_csv import source_rows, write_csv_results

TOKENS = [
    "Acme", "Acme Corp", " Acme", "Acme ", "\u00a0Acme", "Acme\u2003", "=SUM(A1)", "+1", "-5", "@x",
    "'=x", "'abc", "O'Brien", ":Total", "Total", "Grand Totals (3 records)", "Sum", "Confidential Information",
    "a,b", 'say "hi"', "line\nbreak", "tab\there", "", "", "1,234.50", "Mar 8, 2026", "€5", "–", "Café",
    "x\x00y", "\u2028", "Société", "© 2024 rights reserved", "\x1f", "a\x1fb",
]  # fmt: skip
cell = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))


def _store(rows: range, rng: random.Random) -> OutcomeStore:
    store = OutcomeStore()
    for r in rows:
        kind = rng.random()
        if kind < 0.6:
            store.add(r, "created")
        elif kind < 0.75:
            store.add(r, "updated", record_id=f"rec_{r}", link=f"https://app.example/rec_{r}")
        elif kind < 0.85:
            store.add(
                r,
                "failed",
                issues=[Issue("invalid_number", f"'x{r}' is not a number, \"really\"", row=r, column="B")],
            )
        elif kind < 0.9:
            store.add(r, "unchanged", changes={"name": (None, f"N{r}")})
    return store


def _both(path: Path, tmp: Path, store: OutcomeStore, **open_kw: object) -> tuple[bytes, bytes]:
    """The results CSV from the input's lines (with what the first read found, and without) and
    the one written cell by cell; the two fast ones must read back the same."""
    with read.open_table(path, **open_kw) as table:  # type: ignore[arg-type]
        assert table.encoding is not None
        kw = {
            "encoding": table.encoding,
            "delimiter": table.delimiter or ",",
            "header_row": table.header_row,
            "dry_run": True,
        }
        fast = write_csv_results(tmp / "fast.csv", path, table.headers, store.get, **kw)  # type: ignore[arg-type]
        rows = list(table.rows)  # the first read: SourceTable.untouched is filled
        marked = write_csv_results(
            tmp / "marked.csv",
            path,
            table.headers,
            store.get,
            untouched=table.untouched,
            **kw,  # type: ignore[arg-type]
        )
        slow = write_results(
            tmp / "slow.csv",
            table.headers,
            rows,
            store.get,
            dry_run=True,
            header_row=table.header_row,
            delimiter=table.delimiter or ",",
        )
    d = table.delimiter or ","
    assert _rows(marked.read_bytes(), d) == _rows(fast.read_bytes(), d)
    return fast.read_bytes(), slow.read_bytes()


def _same_source_rows(path: Path, **open_kw: object) -> None:
    """source_rows (a results workbook's rows of a CSV) yields what the reader yields, with and
    without what the first read found."""
    with read.open_table(path, **open_kw) as table:  # type: ignore[arg-type]
        assert table.encoding is not None
        kw = {"encoding": table.encoding, "delimiter": table.delimiter or ",", "header_row": table.header_row}
        fast = list(source_rows(path, table.headers, **kw))  # type: ignore[arg-type]
        slow = list(table.rows)
        marked = list(source_rows(path, table.headers, untouched=table.untouched, **kw))  # type: ignore[arg-type]
    expected = [(r.number, r.cells) for r in slow]
    assert [(r.number, r.cells) for r in fast] == expected
    assert [(r.number, r.cells) for r in marked] == expected


def _rows(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.lists(st.lists(cell, min_size=1, max_size=6), min_size=1, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    ending=st.sampled_from(["\r\n", "\n"]),
    minimal=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_same_rows_as_the_cell_by_cell_sheet(
    tmp_path: Path, body: list[list[str]], delimiter: str, ending: str, minimal: bool, seed: int
) -> None:
    width = 4
    buffer = io.StringIO(newline="")
    quoting = csv.QUOTE_MINIMAL if minimal else csv.QUOTE_NONNUMERIC
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=ending, quoting=quoting)
    writer.writerow(["External ID", "Name", "Amount", "Notes"][:width])
    for i, row in enumerate(body):
        writer.writerow([f"K-{i}", *row])  # ragged rows too (the reader pads or cuts them)
    path = tmp_path / "in.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    store = _store(range(len(body) + 3), random.Random(seed))
    fast, slow = _both(path, tmp_path, store, delimiter=delimiter)
    assert _rows(fast, delimiter) == _rows(slow, delimiter)
    if minimal:  # the input quotes what needs quoting, as csv.writer does: the very same bytes
        assert fast == slow
    _same_source_rows(path, delimiter=delimiter)


@pytest.mark.parametrize(
    ("text", "encoding", "kw"),
    [
        ("Name;Amount\r\nJürgen Müller;1.234,50\r\n Ölwerk ;=2+2\r\nSumme;1.234,50\r\n", "cp1252", {}),
        ("\ufeffName,Amount\nAcme,1\nGlobex,2\n", "utf-8", {}),
        ("Accounts export\n\nName,Amount\nAcme,1\n\n\nGlobex,-2\nTotal,3\n", "utf-8", {}),
        ("Name,Amount\rAcme,1\rGlobex,2\r", "utf-8", {}),  # classic Mac line breaks
        ('Name,Notes\n"Acme","two\nlines"\n"Glo""bex",x\nInitech,"a, b"\n', "utf-8", {}),
        ("Name,Amount\nAcme,1,extra\nGlobex\n,\n", "utf-8", {}),
    ],
)
def test_unusual_files_give_the_same_bytes_or_rows(
    tmp_path: Path, text: str, encoding: str, kw: dict[str, object]
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode(encoding))
    store = _store(range(12), random.Random(3))
    fast, slow = _both(path, tmp_path, store, **kw)
    with read.open_table(path) as table:
        delimiter = table.delimiter or ","
    assert _rows(fast, delimiter) == _rows(slow, delimiter)
    if '"' not in text:
        assert fast == slow
    _same_source_rows(path, **kw)


def test_a_formula_in_the_input_is_escaped_in_the_results(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('Name,Notes\nAcme,=HYPERLINK("http://x")\nGlobex,@SUM(A1)\n-1,ok\n', encoding="utf-8")
    store = _store(range(5), random.Random(1))
    fast, _ = _both(path, tmp_path, store)
    cells = [c for row in _rows(fast, ",") for c in row]
    assert '\'=HYPERLINK("http://x")' in cells and "'@SUM(A1)" in cells and "'-1" in cells
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)


DATA = Path(__file__).parent / "data"
CSV_FILES = sorted(p for p in DATA.rglob("*") if p.suffix.lower() in (".csv", ".tsv", ".txt") and p.is_file())


@pytest.mark.parametrize("path", CSV_FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_every_csv_of_the_test_data(tmp_path: Path, path: Path) -> None:
    """Real exports, hand-kept sheets and broken files: the same rows as the cell-by-cell sheet."""
    try:
        with read.open_table(path) as table:
            n = sum(1 for _ in table.rows) + table.header_row + 2
    except Exception:  # noqa: BLE001 - a file the reader refuses has no results sheet
        pytest.skip("the reader refuses this file")
    store = _store(range(n + 5), random.Random(n))
    fast, slow = _both(path, tmp_path, store)
    with read.open_table(path) as table:
        delimiter = table.delimiter or ","
    assert _rows(fast, delimiter) == _rows(slow, delimiter)
    _same_source_rows(path)


def test_changes_text_remembers_numbers_and_dates_by_type_and_value() -> None:
    """The remembered display of numbers and dates is what formatting each value gives."""
    from bulkio.definitions import FieldDef
    from bulkio.results import _display, changes_text

    number = FieldDef.model_validate({"valueType": "NUMBER", "name": "n", "label": "N"})
    when = FieldDef.model_validate({"valueType": "DATETIME", "name": "d", "label": "D"})
    values = [1, 1.0, "1200.50", 1, 1.0, "2027-03-15T00:00:00Z", "2027-03-15T10:30:00Z"]
    for v in values * 2:
        fdef = when if isinstance(v, str) and "T" in v else number
        shown = changes_text({"x": (None, v)}, None).split(" → ")[1]  # no schema: as it is
        assert shown == str(v)
        assert _display(fdef, v) == _display(fdef, v)
    from bulkio.definitions import ObjectSchema

    schema = ObjectSchema.model_construct(fields={"n": number, "d": when})
    for _ in range(2):
        text = changes_text({"n": (1, 1.0), "d": (None, "2027-03-15T00:00:00Z")}, schema)
        assert text == f"n: {_display(number, 1)} → {_display(number, 1.0)}; d: (empty) → 2027-03-15"
        assert text.startswith("n: 1 → 1.0;")


def test_changes_text_says_cleared_for_an_emptied_value() -> None:
    """A value set to nothing reads ``(cleared)``, an empty list too; an empty before reads ``(empty)``."""
    from bulkio.definitions import FieldDef, ObjectSchema
    from bulkio.results import changes_text

    tags = FieldDef.model_validate({"valueType": "MULTI_SELECT", "name": "t", "label": "T"})
    amount = FieldDef.model_validate({"valueType": "NUMBER", "name": "n", "label": "N"})
    schema = ObjectSchema.model_construct(fields={"t": tags, "n": amount})
    text = changes_text({"t": (["a"], []), "n": (5, None), "x": ([], "now")}, schema)
    assert text == "t: a → (cleared); n: 5 → (cleared); x: (empty) → now"


def test_import_writes_results_and_errors_of_a_csv_from_its_rows(tmp_path: Path, client: object) -> None:
    """import_file of a CSV with a bad row: the results CSV, an XLSX results sheet and the errors
    CSV, all from the input's rows read again (real HTTP against the sandbox, a dry run)."""
    import openpyxl

    from bulkio.pipeline import import_file

    src = tmp_path / "accounts.csv"
    src.write_text(
        'External ID,Name,Annual Revenue\nERR-1,"Acme, Inc",1000\nERR-2,Globex,not a number\n'
        "ERR-3, Initech ,-5\n",
        encoding="utf-8",
    )
    report = import_file(
        src,
        "account",
        client=client,  # type: ignore[arg-type]
        dry_run=True,
        results_path=tmp_path / "r.csv",
        errors_path=tmp_path / "fix.csv",
    )
    assert report.counts.failed >= 1
    results = _rows((tmp_path / "r.csv").read_bytes(), ",")
    assert [r[:3] for r in results] == [
        ["External ID", "Name", "Annual Revenue"],
        ["ERR-1", "Acme, Inc", "1000"],
        ["ERR-2", "Globex", "not a number"],
        ["ERR-3", "Initech", "'-5"],  # trimmed by the reader, escaped by the writer
    ]
    fix = list(csv.reader(io.StringIO((tmp_path / "fix.csv").read_text(encoding="utf-8-sig"), newline="")))
    assert fix[0] == ["External ID", "Name", "Annual Revenue", "Errors"]
    assert ["ERR-2", "Globex", "not a number"] in [r[:3] for r in fix]
    assert all(r[3] for r in fix[1:])  # every failed row says why
    import_file(src, "account", client=client, dry_run=True, results_path=tmp_path / "r.xlsx")  # type: ignore[arg-type]
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    # XLSX results show a CSV's numbers as numbers (docs/results.md), what is not one as written
    assert [[c.value for c in row][:3] for row in sheet.iter_rows(min_row=2, max_row=4)] == [
        ["ERR-1", "Acme, Inc", 1000],
        ["ERR-2", "Globex", "not a number"],
        ["ERR-3", "Initech", -5],
    ]


def test_xlsx_results_of_a_csv_type_numbers_and_dates_but_not_ambiguous_ones(
    tmp_path: Path, client: object
) -> None:
    """A CSV imported with XLSX results: mapped number and date columns become number and date
    cells; ``1.234`` (a thousands dot in Germany) and text columns stay as written."""
    import datetime as dt

    import openpyxl

    from bulkio.pipeline import import_file

    src = tmp_path / "accounts.csv"
    src.write_text(
        "External ID,Name,Annual Revenue,Renewal Date,Employee Count\n"
        'T-1,007 Ltd,"1,250,000.50",2027-03-15,12\n'
        "T-2,1.234,1.234,2027-03-15 10:30,0012\n",
        encoding="utf-8",
    )
    import_file(src, "account", client=client, dry_run=True, results_path=tmp_path / "r.xlsx")  # type: ignore[arg-type]
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    assert [[c.value for c in row][:5] for row in sheet.iter_rows(min_row=2, max_row=3)] == [
        ["T-1", "007 Ltd", 1250000.5, dt.datetime(2027, 3, 15), 12],
        ["T-2", "1.234", "1.234", dt.datetime(2027, 3, 15, 10, 30), "0012"],
    ]


_CHANGE_TYPES = (
    *("TEXT", "NUMBER", "CURRENCY", "DATETIME", "SINGLE_SELECT", "MULTI_SELECT"),
    *("URL", "CHECKBOX", "ADDRESS", "FULL_NAME", "TELEPHONE"),
)
_CHANGE_VALUES = st.one_of(
    st.none(),
    st.just([]),
    st.text(max_size=8),
    st.sampled_from(["2027-03-15T00:00:00Z", "2027-03-15T10:30:00+02:00", "1200.50", "opt_a", "-0"]),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.one_of(st.sampled_from(["opt_a", "opt_b", "x"]), st.integers()), max_size=3),
    st.dictionaries(st.sampled_from(["city", "street"]), st.text(max_size=4), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(
        st.sampled_from([*(t.lower() for t in _CHANGE_TYPES), "$account", "unknown"]),
        st.tuples(_CHANGE_VALUES, _CHANGE_VALUES),
        max_size=6,
    )
)
def test_changes_text_is_each_value_displayed(changes: dict[str, tuple[object, object]]) -> None:
    """changes_text's shortcuts (text, numbers, remembered dates) read every change as formatting
    each before and after value would, for every value type and kind of value."""
    from bulkio.definitions import FieldDef, ObjectSchema
    from bulkio.results import _display, changes_text

    options = [{"id": "opt_a", "label": "Alpha"}, {"id": "opt_b", "label": "Beta"}]
    fields = {
        t.lower(): FieldDef.model_validate(
            {"valueType": t, "name": t.lower(), "label": t, "typeConfiguration": {"options": options}}
        )
        for t in _CHANGE_TYPES
    }
    schema = ObjectSchema.model_construct(fields=fields)
    want = "; ".join(
        f"{k}: {_display(fields.get(k), old)} → {_display(fields.get(k), new, '(cleared)')}"
        for k, (old, new) in changes.items()
    )
    assert changes_text(changes, schema) == want
    assert changes_text(changes, schema) == want  # and again, from what it remembered
