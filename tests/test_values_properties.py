"""Property tests: for every value type, format_value -> parse_cell gives the API value back,
directly and through a real XLSX/CSV file written like exports are and read with read.py."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path
from typing import Any

import openpyxl
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.columns import ADDRESS_PARTS, CLEAR_TOKEN, FULL_NAME_PARTS
from bulkio.definitions import FieldDef
from bulkio.issues import CODES
from bulkio.read import open_table
from bulkio.sheets import write_csv, xlsx_value
from bulkio.values import (
    ISO_COUNTRIES,
    PARSERS,
    SOCIAL_SERVICES,
    ParseOptions,
    format_value,
    match_option,
    normalize,
    parse_cell,
)

OPTS = ParseOptions()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fdef(vt: str, **tc: Any) -> FieldDef:
    return FieldDef(key="k", label="K", valueType=vt, typeConfiguration=tc)


# --- strategies: canonical API values per type -------------------------------------------------

texts = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x85") | st.just("\n"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(lambda s: bool(s) and s != CLEAR_TOKEN)
)
safe_ints = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
decimals2 = st.decimals(
    min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False
).map(lambda d: int(d) if d == int(d) else float(d))
numbers = safe_ints | decimals2
datetimes = st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2199, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=dt.UTC).isoformat()
)
dates = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2199, 12, 31)).map(
    lambda d: dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).isoformat()
)
_label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
hosts = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_label, min_size=1, max_size=3),
    st.text(string.ascii_lowercase, min_size=2, max_size=6),
)
locals_ = st.from_regex(r"\A[A-Za-z0-9_+\-]{1,10}(\.[A-Za-z0-9_+\-]{1,10}){0,2}\Z")
emails = st.builds(lambda lp, h: f"{lp}@{h}", locals_, hosts)
paths = st.from_regex(r"\A(/[A-Za-z0-9_\-]{1,8}){0,3}\Z")
urls = st.builds(lambda scheme, h, p: f"{scheme}://{h}{p}", st.sampled_from(["http", "https"]), hosts, paths)
#: real numbers (phonenumbers' example numbers of every region and line type), as E.164
_EXAMPLES = sorted(
    {
        phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
        if (n := phonenumbers.example_number_for_type(region, kind)) is not None
    }
)
phones = st.builds(
    lambda e164, ext: e164 + (f";ext={ext}" if ext else ""),
    st.sampled_from(_EXAMPLES),
    st.none() | st.from_regex(r"\A[0-9]{1,5}\Z"),
)
handles = st.from_regex(r"\A[a-z0-9_]{1,15}\Z")


def unique(strategy: st.SearchStrategy[Any], key: Any = None) -> st.SearchStrategy[list[Any]]:
    return st.lists(strategy, min_size=1, max_size=3, unique_by=key or (lambda x: x))


OPTIONS = [
    {"id": f"opt_{i}", "label": lab}
    for i, lab in enumerate(
        ["Lead", "Closed Won", "closed won", "A; B", " padded", "Ünïcode ✓", "x", "Proposal"]
    )
]
SELECT = fdef("SINGLE_SELECT", options=OPTIONS)
MULTI = fdef("MULTI_SELECT", options=OPTIONS)
option_ids = st.sampled_from([o["id"] for o in OPTIONS])

#: (field, strategy of canonical API values)
CASES: dict[str, tuple[FieldDef, st.SearchStrategy[Any]]] = {
    "TEXT": (fdef("TEXT"), texts),
    "MARKDOWN": (fdef("MARKDOWN"), texts),
    "HTML": (fdef("HTML"), texts),
    "NUMBER": (fdef("NUMBER"), numbers),
    "CURRENCY": (fdef("CURRENCY", currency="USD"), numbers),
    "CHECKBOX": (fdef("CHECKBOX"), st.booleans()),
    "DATETIME": (fdef("DATETIME"), datetimes | dates),
    "EMAIL": (fdef("EMAIL", multipleValues=True), unique(emails, str.lower)),
    "EMAIL1": (fdef("EMAIL"), emails),
    "URL": (fdef("URL", multipleValues=True), unique(urls)),
    "URL1": (fdef("URL"), urls),
    "TELEPHONE": (fdef("TELEPHONE", multipleValues=True), unique(phones)),
    "SOCIAL_LINKEDIN": (
        fdef("SOCIAL_HANDLE", handleService="LINKEDIN"),
        handles.map(lambda h: SOCIAL_SERVICES["LINKEDIN"][1] + h),
    ),
    "SOCIAL_TWITTER": (
        fdef("SOCIAL_HANDLE", handleService="TWITTER"),
        handles.map(lambda h: SOCIAL_SERVICES["TWITTER"][1] + h),
    ),
    "SOCIAL_FACEBOOK": (
        fdef("SOCIAL_HANDLE", handleService="FACEBOOK"),
        handles.map(lambda h: SOCIAL_SERVICES["FACEBOOK"][1] + h),
    ),
    "SOCIAL_INSTAGRAM": (
        fdef("SOCIAL_HANDLE", handleService="INSTAGRAM"),
        handles.map(lambda h: SOCIAL_SERVICES["INSTAGRAM"][1] + h),
    ),
    "SINGLE_SELECT": (SELECT, option_ids),
    "MULTI_SELECT": (MULTI, unique(option_ids)),
}
ADDRESS = fdef("ADDRESS")
FULL_NAME = fdef("FULL_NAME")
PART_CASES: dict[str, st.SearchStrategy[Any]] = {
    **{p: texts for p in ("street", "street2", "city", "state", "postalCode")},
    "country": st.sampled_from(sorted(ISO_COUNTRIES)),
    "latitude": st.floats(-90, 90, allow_nan=False).map(lambda x: round(x, 6)),
    "longitude": st.floats(-180, 180, allow_nan=False).map(lambda x: round(x, 6)),
}


def back(field: FieldDef, cell: Any, *, part: str | None = None) -> Any:
    """Parse a cell; selects map their labels back to option IDs like the resolver does."""
    p = parse_cell(field, cell, part=part, options=OPTS)
    assert p.ok, (cell, p)
    if field.value_type == "SINGLE_SELECT":
        return match_option(field, p.value).option_id
    if field.value_type == "MULTI_SELECT":
        return [match_option(field, t).option_id for t in p.value]
    return p.value


def test_every_value_type_has_a_strategy() -> None:
    covered = {f.value_type for f, _ in CASES.values()} | {"ADDRESS", "FULL_NAME"}
    assert covered == set(PARSERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_per_type(name: str) -> None:
    field, strategy = CASES[name]

    @FAST
    @given(strategy)
    def check(value: Any) -> None:
        assert back(field, format_value(field, value)) == value
        assert normalize(field, back(field, format_value(field, value))) == normalize(field, value)

    check()


@pytest.mark.parametrize("part", [p for p, _ in ADDRESS_PARTS])
def test_round_trip_address_parts(part: str) -> None:
    @FAST
    @given(PART_CASES[part])
    def check(value: Any) -> None:
        api = {part: value}
        assert back(ADDRESS, format_value(ADDRESS, api, part=part), part=part) == value

    check()


@FAST
@given(st.fixed_dictionaries({p: texts for p, _ in FULL_NAME_PARTS}))
def test_round_trip_full_name_parts(value: dict[str, str]) -> None:
    for part, _ in FULL_NAME_PARTS:
        assert back(FULL_NAME, format_value(FULL_NAME, value, part=part), part=part) == value[part]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(CASES)),
    st.one_of(
        st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.datetimes(), st.dates(), st.none()
    ),
    st.sampled_from([ParseOptions(), ParseOptions(decimal=",", date_order="DMY", tz="Asia/Kolkata")]),
)
def test_parse_never_raises_and_uses_catalogued_codes(name: str, raw: Any, options: ParseOptions) -> None:
    field = CASES[name][0]
    p = parse_cell(field, raw, options=options)
    assert p.ok or (p.error_code in CODES and p.message)
    if p.ok and not p.is_blank and not p.is_clear:
        # a parsed value is stable: formatting (as UTC, like exports) and parsing it again gives it back
        again = parse_cell(field, format_value(field, p.value), options=OPTS)
        if field.value_type not in ("SINGLE_SELECT", "MULTI_SELECT"):
            assert again.ok and normalize(field, again.value) == normalize(field, p.value)


# --- through real files ------------------------------------------------------------------------

FILE_CASES = sorted(CASES)


rows_strategy = st.lists(st.fixed_dictionaries({n: CASES[n][1] for n in FILE_CASES}), min_size=1, max_size=8)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=rows_strategy)
def test_round_trip_through_xlsx_and_csv(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    cells = [[format_value(CASES[n][0], r[n]) for n in FILE_CASES] for r in rows]
    xlsx = tmp_path / "rt.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(FILE_CASES)
    for row in cells:
        ws.append([xlsx_value(c) for c in row])
    wb.save(xlsx)
    csv_path = tmp_path / "rt.csv"
    write_csv(csv_path, FILE_CASES, cells)
    for path in (xlsx, csv_path):
        with open_table(path) as table:
            assert table.headers == FILE_CASES
            got = list(table.rows)
        assert [r.number for r in got] == list(range(2, len(rows) + 2))
        for src, row in zip(rows, got, strict=True):
            for i, name in enumerate(FILE_CASES):
                assert back(CASES[name][0], row.cells[i]) == src[name], (path.suffix, name, row.cells[i])
