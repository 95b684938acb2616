"""Numbers by locale and phones by region (values.py / valuetypes): exact cases, and properties
against Babel's and phonenumbers' own formatting (format in a locale → parse with it → the value)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import phonenumbers
import pytest
from babel import Locale
from babel.localedata import locale_identifiers
from babel.numbers import format_currency, format_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.definitions import FieldDef
from bulkio.errors import ConfigError
from bulkio.values import ParseOptions, parse_cell
from bulkio.valuetypes.numbers import decimal_evidence


def fdef(vt: str, **tc: Any) -> FieldDef:
    return FieldDef(key="k", label="K", valueType=vt, typeConfiguration=tc)


NUMBER = fdef("NUMBER")
EUR = fdef("CURRENCY", currency="EUR")
CHF = fdef("CURRENCY", currency="CHF")
PHONES = fdef("TELEPHONE", multipleValues=True)


def value(field: FieldDef, raw: Any, **options: Any) -> Any:
    p = parse_cell(field, raw, options=ParseOptions(**options))
    assert p.ok, (raw, p)
    return p.value


def code(field: FieldDef, raw: Any, **options: Any) -> str | None:
    return parse_cell(field, raw, options=ParseOptions(**options)).error_code


@pytest.mark.parametrize(
    ("locale", "raw", "expected"),
    [
        ("de-DE", "1.200", 1200),
        ("de-DE", "12.500", 12500),
        ("de-DE", "1.234,50", 1234.5),
        ("de-DE", "3,5", 3.5),
        ("de-DE", "-1.234.567,89", -1234567.89),
        ("de-DE", "12,5 %", 12.5),
        ("de-DE", "(1.000)", -1000),
        ("de_DE", "1.200", 1200),  # underscore tags too
        ("fr-FR", "1 234,50", 1234.5),
        ("fr-FR", "1\u202f234,50", 1234.5),  # narrow no-break space (CLDR's French group symbol)
        ("fr-FR", "1\u00a0234,50", 1234.5),  # no-break space
        ("fr-FR", "12,5\u00a0%", 12.5),
        ("de-CH", "1'234.50", 1234.5),
        ("de-CH", "1\u2019234.50", 1234.5),  # typographic apostrophe
        ("de-CH", "1234.50", 1234.5),
        ("en-US", "1,200", 1200),
        ("en-US", "1.5", 1.5),
        ("en-IN", "12,34,567.50", 1234567.5),  # Indian grouping
        ("en-IN", "1,234,567.50", 1234567.5),  # and the western one
        ("sv-SE", "\u22121\u00a0234,5", -1234.5),  # Unicode minus
        ("de-DE", "1.234,50-", -1234.5),  # a trailing minus (SAP exports)
        ("de-CH", "1000000'000", 1000000000),  # as Babel writes it: leading digits ungrouped
        ("tok", "1\u00a000", 100),  # groups of two
    ],
)
def test_number_by_locale(locale: str, raw: str, expected: Any) -> None:
    assert value(NUMBER, raw, locale=locale) == expected


@pytest.mark.parametrize(
    ("locale", "raw", "example"),
    [
        ("de-DE", "1234.5", "1.234.567,5"),
        ("de-DE", "1,234.50", "1.234.567,5"),
        ("de-CH", "1.234,50", "1'234'567.5"),
        ("en-US", "1.234,50", "1,234,567.5"),
        ("en-US", "1,23,456", "1,234,567.5"),
    ],
)
def test_number_not_of_the_locale_is_an_error_with_an_example(locale: str, raw: str, example: str) -> None:
    p = parse_cell(NUMBER, raw, options=ParseOptions(locale=locale))
    assert p.error_code == "invalid_number"
    assert locale in (p.message or "") and example in (p.message or "")


@pytest.mark.parametrize(
    ("field", "locale", "raw", "expected"),
    [
        (EUR, "de-DE", "1.234,50 €", 1234.5),
        (EUR, "de-DE", "€ 1.200", 1200),
        (EUR, "de-DE", "EUR 12,5", 12.5),
        (EUR, "fr-FR", "1\u202f234,50\u00a0€", 1234.5),
        (CHF, "de-CH", "CHF 1'234.50", 1234.5),
        (CHF, "de-CH", "1'234.50 CHF", 1234.5),
        (CHF, "fr-CH", "1\u202f234,50 CHF", 1234.5),
    ],
)
def test_currency_by_locale(field: FieldDef, locale: str, raw: str, expected: Any) -> None:
    assert value(field, raw, locale=locale) == expected


def test_currency_by_locale_still_refuses_another_currency() -> None:
    assert code(EUR, "$5", locale="de-DE") == "invalid_number"
    assert code(CHF, "1.234,50 €", locale="de-DE") == "invalid_number"


def test_locale_sets_the_date_order_unless_given() -> None:
    dt_field = fdef("DATETIME")
    assert value(dt_field, "03.04.2026", locale="de-DE") == "2026-04-03T00:00:00+00:00"
    assert value(dt_field, "03/04/2026", locale="en-US") == "2026-03-04T00:00:00+00:00"
    assert value(dt_field, "03/04/2026", locale="en-US", date_order="DMY") == "2026-04-03T00:00:00+00:00"


def test_unknown_locale_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown locale 'xx-YY'"):
        ParseOptions(locale="xx-YY")


@pytest.mark.parametrize(
    ("raw", "evidence"),
    [
        ("1,234.50", "point"),
        ("1,234,567", "point"),
        ("0.200", "point"),
        ("1.5", "point"),
        ("$1,200.50", "point"),
        ("1.234,50", "comma"),
        ("1.234.567", "comma"),
        ("3,5", "comma"),
        ("0,200", "comma"),
        ("12,5 %", "comma"),
        ("1.200", "either"),
        ("12.500", "either"),
        ("1,200", "either"),
        ("100,000", "either"),
        ("-1.200 €", "either"),
        ("1234", None),
        ("1 234", None),
        ("1'234", None),
    ],
)
def test_decimal_evidence(raw: str, evidence: str | None) -> None:
    assert decimal_evidence(raw) == evidence


def test_without_locale_a_decimal_comma_that_only_fits_one_way_is_read() -> None:
    # used to be invalid_number; a cell that only a decimal comma explains is read so
    assert value(NUMBER, "3,5") == 3.5
    assert value(NUMBER, "1.234,50") == 1234.5
    assert value(NUMBER, "1.234.567") == 1234567
    # a lone cell that fits both is read with a decimal point (the importer checks the column)
    assert value(NUMBER, "1.200") == 1.2


def test_percent_option_reads_fractions_as_percentages() -> None:
    assert value(NUMBER, "0.5", percent=True) == 50
    assert value(NUMBER, 0.125, percent=True) == 12.5
    assert value(NUMBER, 0.07, percent=True) == 7  # float noise does not leak
    assert value(NUMBER, "50%", percent=True) == 50  # written as a percentage: as it is
    assert value(NUMBER, "0,5", percent=True, locale="de-DE") == 50
    assert code(NUMBER, "0.12345", percent=True) == "too_many_decimals"


# --- properties -------------------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: every locale Babel has data for, as a tag with a dash ("de-CH")
LOCALES = sorted(i.replace("_", "-") for i in locale_identifiers())
amounts = st.decimals(
    min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2
).filter(lambda d: d.is_finite())


@FAST
@given(st.sampled_from(LOCALES), amounts)
def test_property_number_formatted_by_babel_parses_back(locale: str, amount: Decimal) -> None:
    text = format_decimal(amount, locale=locale.replace("-", "_"), decimal_quantization=False)
    got = parse_cell(NUMBER, text, options=ParseOptions(locale=locale))
    assert got.ok, (locale, text, got)
    assert Decimal(str(got.value)) == amount, (locale, text)


@FAST
@given(st.sampled_from(LOCALES), amounts, st.sampled_from(["EUR", "USD", "CHF", "GBP", "JPY", "INR"]))
def test_property_currency_formatted_by_babel_parses_back(
    locale: str, amount: Decimal, currency: str
) -> None:
    loc = Locale.parse(locale.replace("-", "_"))
    text = format_currency(amount, currency, locale=loc, currency_digits=False, format_type="standard")
    got = parse_cell(fdef("CURRENCY", currency=currency), text, options=ParseOptions(locale=locale))
    assert got.ok, (locale, text, got)
    assert Decimal(str(got.value)) == amount, (locale, text)


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
KINDS = [phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE]


@FAST
@given(st.sampled_from(REGIONS), st.sampled_from(KINDS), st.sampled_from(["national", "international"]))
def test_property_phone_written_in_its_region_settles_to_e164(region: str, kind: int, style: str) -> None:
    number = phonenumbers.example_number_for_type(region, kind)
    if number is None:
        return
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if style == "national"
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    text = phonenumbers.format_number(number, fmt)
    got = parse_cell(PHONES, text, options=ParseOptions(phone_region=region))
    assert got.ok and got.value == [e164], (region, text, got)
    # what the CRM then holds reads back as the same value: a re-run compares equal
    again = parse_cell(PHONES, e164, options=ParseOptions())
    assert again.ok and again.value == [e164]
