"""validate.py, numbers per column: cells that fit a decimal point and a decimal comma are settled by
what the rest of the column shows (up to the end of their chunk), and fractions of 1 in 0-100
columns are flagged. No network: the Validator alone, plus properties with Babel's formatting."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.definitions import ObjectSchema
from bulkio.mapping import map_headers
from bulkio.read import SourceRow
from bulkio.validate import CheckedRow, Validator
from bulkio.values import ParseOptions

SEED = Path(__file__).parent.parent / "bulkio" / "sandbox" / "seed_demo.json"


def schema(object_type: str) -> ObjectSchema:
    obj = json.loads(SEED.read_text())["objects"][object_type]
    return ObjectSchema.from_api(
        {
            "objectType": object_type,
            "fieldDefinitions": obj["fields"],
            "relationshipDefinitions": obj.get("relationships", {}),
        }
    )


ACCOUNT, OPPORTUNITY = schema("account"), schema("opportunity")


def validator(headers: list[str], obj: ObjectSchema = ACCOUNT, **options: Any) -> Validator:
    return Validator(
        obj, map_headers(headers, obj, file="f.csv"), file="f.csv", options=ParseOptions(**options)
    )


def chunk(v: Validator, cells: list[list[Any]]) -> list[CheckedRow]:
    """Validate rows like the importer does: deferred, then settled once for the chunk."""
    rows = [v.check(SourceRow(i + 2, c), defer=True) for i, c in enumerate(cells)]
    v.settle()
    return rows


def codes(rows: list[CheckedRow]) -> list[tuple[int, str | None, str]]:
    return [(i.row or 0, i.column, i.code) for r in rows for i in r.issues]


def test_a_later_cell_of_the_chunk_settles_an_earlier_one() -> None:
    v = validator(["Name", "Employee Count"])
    rows = chunk(v, [["A", "1.200"], ["B", "12.500"], ["C", "3,5"]])
    assert [r.values.get("employeeCount") for r in rows] == [1200, 12500, 3.5]
    assert codes(rows) == []


def test_a_decimal_point_settles_the_other_way() -> None:
    rows = chunk(validator(["Name", "Employee Count"]), [["A", "1,200"], ["B", "1,234.50"]])
    assert [r.values.get("employeeCount") for r in rows] == [1200, 1234.5]


def test_nothing_settles_and_the_error_names_the_option() -> None:
    rows = chunk(validator(["Name", "Employee Count"]), [["A", "1.200"], ["B", "42"], ["C", 7.0]])
    assert codes(rows) == [(2, "B", "ambiguous_number")]
    issue = rows[0].issues[0]
    assert "1200 with a decimal comma or 1.2 with a decimal point" in issue.message
    assert "--locale" in issue.message and issue.expected and "--locale" in issue.expected
    assert issue.header == "Employee Count" and issue.field == "employeeCount" and issue.value == "1.200"
    assert rows[1].values["employeeCount"] == 42 and rows[2].values["employeeCount"] == 7


def test_a_column_with_both_marks_settles_nothing_and_says_where() -> None:
    rows = chunk(
        validator(["Name", "Employee Count"]), [["A", "1,234.50"], ["B", "1.234,50"], ["C", "1.200"]]
    )
    assert codes(rows) == [(4, "B", "ambiguous_number")]
    message = rows[2].issues[0].message
    assert "row 3: '1.234,50'" in message and "row 2: '1,234.50'" in message


def test_settled_per_chunk_never_by_later_rows() -> None:
    v = validator(["Name", "Employee Count"])
    first = chunk(v, [["A", "1.200"]])
    second = chunk(v, [["B", "1.234,50"], ["C", "2.500"]])
    assert codes(first) == [(2, "B", "ambiguous_number")]  # nothing said which when row 2 was judged
    assert codes(second) == [] and second[1].values["employeeCount"] == 2500  # settled from now on


def test_check_without_defer_decides_at_once() -> None:
    v = validator(["Name", "Employee Count"])
    early = v.check(SourceRow(2, ["A", "1.200"]))
    v.check(SourceRow(3, ["B", "3,5"]))
    late = v.check(SourceRow(4, ["C", "1.200"]))
    assert [i.code for i in early.issues] == ["ambiguous_number"]
    assert late.issues == [] and late.values["employeeCount"] == 1200


def test_twelve_point_three_four_five_keeps_its_old_code_and_says_what_a_comma_gives() -> None:
    rows = chunk(validator(["Name", "Employee Count"]), [["A", "12.345"]])
    assert codes(rows) == [(2, "B", "too_many_decimals")]
    assert "with a decimal comma it is 12345" in rows[0].issues[0].message


def test_locale_or_decimal_turns_the_column_check_off() -> None:
    assert chunk(validator(["Name", "Employee Count"], locale="de-DE"), [["A", "1.200"]])[0].values == {
        "$name": "A",
        "employeeCount": 1200,
    }
    got = chunk(validator(["Name", "Employee Count"], decimal="."), [["A", "1.200"]])[0]
    assert got.values["employeeCount"] == 1.2 and got.issues == []


def test_apostrophes_and_spaces_never_make_a_cell_ambiguous() -> None:
    rows = chunk(validator(["Name", "Employee Count"]), [["A", "1'200"], ["B", "1 200"], ["C", "1\u202f200"]])
    assert codes(rows) == [] and [r.values["employeeCount"] for r in rows] == [1200, 1200, 1200]


# --- fractions ---------------------------------------------------------------------------------


def test_fraction_next_to_percentages_is_a_warning_and_still_imported() -> None:
    v = validator(["Name", "Stage", "Probability"], OPPORTUNITY)
    rows = chunk(v, [["A", "Lead", "0.5"], ["B", "Lead", "75"], ["C", "Lead", "100"]])
    assert [(i.row, i.code, i.severity) for r in rows for i in r.issues] == [
        (2, "looks_like_fraction", "warning")
    ]
    assert rows[0].ok and rows[0].values["probability"] == 0.5
    message = rows[0].issues[0].message
    assert "row 3: 75" in message and "write 50" in message and '--percent "Probability"' in message


def test_percent_like_field_flags_fractions_without_other_values() -> None:
    rows = chunk(validator(["Name", "Stage", "Probability"], OPPORTUNITY), [["A", "Lead", 0.25]])
    assert [i.code for i in rows[0].issues] == ["looks_like_fraction"]
    assert "Probability is a percentage (0-100)" in rows[0].issues[0].message


def test_values_above_100_mean_the_field_is_not_a_percentage() -> None:
    rows = chunk(validator(["Name", "Employee Count"]), [["A", "0.5"], ["B", "250"]])
    assert codes(rows) == [] and rows[0].fractions is None


def test_a_fraction_the_file_cannot_judge_is_left_for_the_planner() -> None:
    rows = chunk(validator(["Name", "Employee Count"]), [["A", "0.5"], ["B", "1"]])
    assert codes(rows) == [] and rows[0].fractions == ["employeeCount"] and rows[1].fractions is None


def test_written_percentages_and_the_percent_option_are_not_fractions() -> None:
    rows = chunk(validator(["Name", "Stage", "Probability"], OPPORTUNITY), [["A", "Lead", "0.5%"]])
    assert codes(rows) == []
    v = Validator(
        OPPORTUNITY,
        map_headers(["Name", "Stage", "Probability"], OPPORTUNITY),
        column_options={"probability": ParseOptions(percent=True)},
    )
    rows = chunk(v, [["A", "Lead", 0.5], ["B", "Lead", "0,25"]])
    assert codes(rows) == [] and [r.values["probability"] for r in rows] == [50, 25]


# --- properties --------------------------------------------------------------------------------

# Locales with groups of three: a value with cents settles the column, and then every cell reads
# back as written, without a locale. (Indian grouping, 1,00,000, needs --locale en-IN; so does
# de-CH as Babel writes it, 1000000'000, with the leading digits ungrouped.)
SETTLING_LOCALES = ["de_DE", "en_US", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "sv_SE", "ja_JP"]
whole = st.integers(min_value=0, max_value=10**9).map(Decimal)
cents = st.integers(min_value=1, max_value=99).map(lambda c: Decimal(c) / 100)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SETTLING_LOCALES),
    st.lists(whole | st.tuples(whole, cents).map(sum), min_size=1, max_size=12),
    st.tuples(st.integers(min_value=1000, max_value=10**6).map(Decimal), cents).map(sum),
    st.integers(min_value=0, max_value=12),
)
def test_property_a_settled_column_reads_every_cell_as_written(
    locale: str, values: list[Decimal], settler: Decimal, where: int
) -> None:
    values = list(values)
    values.insert(min(where, len(values)), settler)  # a value with cents and grouping, somewhere
    cells = [format_decimal(v, locale=locale, decimal_quantization=False) for v in values]
    v = validator(["Name", "Annual Revenue"])
    rows = chunk(v, [["N", c] for c in cells])
    assert codes(rows) == [], (locale, cells)
    assert [Decimal(str(r.values["annualRevenue"])) for r in rows] == values, (locale, cells)


@pytest.mark.parametrize("text", ["1.200", "12.500", "1,200", "100,000", "-1.500", "$1,200", "1.200 €"])
def test_every_cell_that_fits_both_marks_alone_is_an_error(text: str) -> None:
    rows = chunk(validator(["Name", "Annual Revenue"]), [["A", text]])
    assert [i.code for i in rows[0].issues] in (["ambiguous_number"], ["invalid_number"])
