"""values.py: one table of valid and invalid cells per value type, with exact codes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bulkio.definitions import FieldDef, ObjectSchema
from bulkio.errors import ConfigError
from bulkio.issues import CODES
from bulkio.values import (
    BLANK,
    CLEAR,
    PARSERS,
    ParseOptions,
    format_value,
    match_option,
    normalize,
    parse_cell,
)

DEFS = json.loads((Path(__file__).parent / "data" / "read" / "definitions.json").read_text("utf-8"))
SCHEMAS = {k: ObjectSchema.from_api(v) for k, v in DEFS.items()}
ACC, CON, OPP = SCHEMAS["account"], SCHEMAS["contact"], SCHEMAS["opportunity"]
UTC = ParseOptions()


def fdef(vt: str, **tc: Any) -> FieldDef:
    return FieldDef(key="k", label="K", valueType=vt, typeConfiguration=tc)


def ok(field: FieldDef, raw: Any, options: ParseOptions = UTC, part: str | None = None) -> Any:
    p = parse_cell(field, raw, options=options, part=part)
    assert p.ok, (raw, p)
    return p.value


def err(field: FieldDef, raw: Any, options: ParseOptions = UTC, part: str | None = None) -> str:
    p = parse_cell(field, raw, options=options, part=part)
    assert not p.ok, (raw, p)
    assert p.error_code in CODES and p.message and p.expected
    assert p.value is None
    return p.error_code


def test_registry_covers_every_value_type() -> None:
    from bulkio.definitions import VALUE_TYPES

    assert set(PARSERS) == set(VALUE_TYPES)


@pytest.mark.parametrize("vt", sorted(PARSERS))
@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_blank_cells_leave_the_field_unchanged(vt: str, raw: Any) -> None:
    p = parse_cell(fdef(vt), raw, options=UTC)
    assert p.ok and p.is_blank and p.value is BLANK


@pytest.mark.parametrize("vt", sorted(PARSERS))
def test_clear_token_clears(vt: str) -> None:
    p = parse_cell(fdef(vt), " #clear ", options=UTC)
    assert p.ok and p.is_clear and p.value is CLEAR
    assert not parse_cell(fdef(vt), "#Clear please", options=UTC).is_clear


def test_sentinels_are_falsy_and_named() -> None:
    assert not BLANK and not CLEAR and repr(BLANK) == "BLANK" and repr(CLEAR) == "CLEAR"


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("vt", ["TEXT", "MARKDOWN", "HTML"])
@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("  Acme Corp ", "Acme Corp"),
        (12.0, "12"),
        (12, "12"),
        (1.5, "1.5"),
        (True, "true"),
        ("line 1\nline 2", "line 1\nline 2"),
        ("=1+1", "=1+1"),
        (dt.date(2026, 3, 16), "2026-03-16"),
    ],
)
def test_text(vt: str, raw: Any, value: str) -> None:
    assert ok(fdef(vt), raw) == value


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1234", 1234),
        ("1,234.50", 1234.5),
        ("1 234.5", 1234.5),
        ("+12", 12),
        ("-12.25", -12.25),
        ("12.5%", 12.5),
        (".5", 0.5),
        ("(1,000)", -1000),
        ("1e3", 1000),
        ("1,234,567", 1234567),
        (42, 42),
        (42.0, 42),
        (0.1 + 0.2, 0.3),
        (1234.56, 1234.56),
        ("0", 0),
        ("−7", -7),
        ("1'234.5", 1234.5),
    ],
)
def test_number_valid(raw: Any, value: Any) -> None:
    got = ok(fdef("NUMBER"), raw)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "invalid_number"),
        ("12.345", "too_many_decimals"),
        ("1,23,4", "invalid_number"),
        ("1.2.3", "invalid_number"),
        ("NaN", "invalid_number"),
        ("inf", "invalid_number"),
        (float("inf"), "invalid_number"),
        (True, "invalid_number"),
        ("12-3", "invalid_number"),
        (0.125, "too_many_decimals"),
        ("9007199254740993", "invalid_number"),
        ("%", "invalid_number"),
        ("$5", "invalid_number"),
    ],
)
def test_number_invalid(raw: Any, code: str) -> None:
    assert err(fdef("NUMBER"), raw) == code


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1.234,50", 1234.5),
        ("1 234,5", 1234.5),
        ("12,5", 12.5),
        ("1.234", 1234),
        ("-0,25", -0.25),
    ],
)
def test_number_with_decimal_comma(raw: str, value: Any) -> None:
    assert ok(fdef("NUMBER"), raw, ParseOptions(decimal=",")) == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("$1,250,000.50", 1250000.5),
        ("USD 12", 12),
        ("12 USD", 12),
        ("-$5", -5),
        ("$-5", -5),
        ("US$ 7", 7),
        (99.99, 99.99),
        ("1250000", 1250000),
    ],
)
def test_currency_valid(raw: Any, value: Any) -> None:
    assert ok(fdef("CURRENCY", currency="USD"), raw) == value


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("€12", "invalid_number"),
        ("EUR 12", "invalid_number"),
        ("12 GBP", "invalid_number"),
        ("$1.25M", "invalid_number"),
        ("$1.255", "too_many_decimals"),
        ("twelve dollars", "invalid_number"),
    ],
)
def test_currency_invalid(raw: str, code: str) -> None:
    assert err(fdef("CURRENCY", currency="USD"), raw) == code


@pytest.mark.parametrize("raw", ["USD", "EUR ", "+USD", "CHF"])
def test_currency_code_without_amount_is_an_error_not_a_crash(raw: str) -> None:
    # used to raise IndexError from parse_cell (a traceback instead of a row error)
    assert err(fdef("CURRENCY", currency="USD"), raw) == "invalid_number"


@pytest.mark.parametrize(
    ("vt", "raw", "code"),
    [
        ("EMAIL", ",", "invalid_email"),
        ("EMAIL", "; ;", "invalid_email"),
        ("URL", ";", "invalid_url"),
        ("TELEPHONE", ";;", "invalid_phone"),
    ],
)
def test_single_value_cell_of_only_separators_is_an_error_not_a_crash(vt: str, raw: str, code: str) -> None:
    # used to raise IndexError (no part to read)
    p = parse_cell(fdef(vt), raw, options=UTC)
    assert p.error_code == code and "only separators" in (p.message or "")


def test_currency_message_names_both_currencies() -> None:
    p = parse_cell(fdef("CURRENCY", currency="USD"), "€12", options=UTC)
    assert "USD" in (p.message or "") and "€12" in (p.message or "")
    assert ok(fdef("CURRENCY", currency="EUR"), "1.234,50 €", ParseOptions(decimal=",")) == 1234.5
    assert ok(fdef("CURRENCY"), "£3") == 3  # no currency configured: any symbol


# --- checkbox --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["yes", "Y", "TRUE", "t", "1", "x", "X", "✓", "on", True, 1, 1.0])
def test_checkbox_true(raw: Any) -> None:
    assert ok(fdef("CHECKBOX"), raw) is True


@pytest.mark.parametrize("raw", ["no", "N", "False", "0", "off", False, 0, 0.0])
def test_checkbox_false(raw: Any) -> None:
    assert ok(fdef("CHECKBOX"), raw) is False


@pytest.mark.parametrize(
    ("raw", "value"),
    [("WAHR", True), ("FALSCH", False), ("Ja", True), ("nein", False), ("VRAI", True), ("Faux", False),
     ("Oui", True), ("non", False), ("Sí", True), ("VERDADERO", True), ("FALSO", False), ("Não", False),
     ("Nee", False), ("ONWAAR", False), ("Nej", False), ("SANT", True), ("Tak", True), ("FAŁSZ", False)],
)  # fmt: skip
def test_checkbox_in_the_languages_sheets_are_kept_in(raw: str, value: bool) -> None:
    """A German Excel saves TRUE/FALSE as WAHR/FALSCH, a French one as VRAI/FAUX, and people write
    yes/no in their language."""
    assert ok(fdef("CHECKBOX"), raw) is value


@pytest.mark.parametrize("raw", ["maybe", "2", 2, "yes please", "✓✓", "jein", "peut-être"])
def test_checkbox_invalid(raw: Any) -> None:
    assert err(fdef("CHECKBOX"), raw) == "invalid_checkbox"


# --- date-times ------------------------------------------------------------------------------

DT = fdef("DATETIME")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("2026-03-16", "2026-03-16T00:00:00+00:00"),
        ("2026-03-16 14:30", "2026-03-16T14:30:00+00:00"),
        ("2026-03-16T14:30:15Z", "2026-03-16T14:30:15+00:00"),
        ("2026-03-16T14:30:00+02:00", "2026-03-16T12:30:00+00:00"),
        ("2026-03-16T14:30:00.250-05:00", "2026-03-16T19:30:00.250000+00:00"),
        ("20260316", "2026-03-16T00:00:00+00:00"),
        ("2026/03/16", "2026-03-16T00:00:00+00:00"),
        ("13/01/2026", "2026-01-13T00:00:00+00:00"),
        ("01/13/2026", "2026-01-13T00:00:00+00:00"),
        ("05.05.2026", "2026-05-05T00:00:00+00:00"),
        ("16 Mar 2026", "2026-03-16T00:00:00+00:00"),
        ("March 16, 2026", "2026-03-16T00:00:00+00:00"),
        ("16-Mar-2026", "2026-03-16T00:00:00+00:00"),
        ("March 16th, 2026 2:30 PM", "2026-03-16T14:30:00+00:00"),
        ("2026-03-16 2:30 pm", "2026-03-16T14:30:00+00:00"),
        ("2026-03-16 12:00 AM", "2026-03-16T00:00:00+00:00"),
        (dt.datetime(2026, 3, 16, 14, 30), "2026-03-16T14:30:00+00:00"),
        (dt.datetime(2026, 3, 16), "2026-03-16T00:00:00+00:00"),
        (dt.date(2026, 3, 16), "2026-03-16T00:00:00+00:00"),
        (dt.datetime(2026, 3, 16, 9, tzinfo=dt.timezone(dt.timedelta(hours=1))), "2026-03-16T08:00:00+00:00"),
        (46097, "2026-03-16T00:00:00+00:00"),
        (46097.5, "2026-03-16T12:00:00+00:00"),
        ("46097", "2026-03-16T00:00:00+00:00"),
    ],
)
def test_datetime_valid(raw: Any, value: str) -> None:
    assert ok(DT, raw) == value


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("03/04/2026", "ambiguous_date"),
        ("1/2/26", "ambiguous_date"),
        ("2026-02-30", "invalid_date"),
        ("31/31/2026", "invalid_date"),
        ("tomorrow", "invalid_date"),
        ("2026", "invalid_date"),
        (2026, "invalid_date"),
        (True, "invalid_date"),
        ("2026-03-16 25:00", "invalid_date"),
        ("2026-03-16 13:00 PM", "invalid_date"),
        ("16/03/2026 noon", "invalid_date"),
    ],
)
def test_datetime_invalid(raw: Any, code: str) -> None:
    assert err(DT, raw) == code


def test_invalid_date_message_shows_an_accepted_format() -> None:
    p = parse_cell(DT, "next tuesday", options=UTC)
    assert p.error_code == "invalid_date" and "(e.g. 2026-03-16 or 2026-03-16 14:30)" in (p.message or "")


def test_ambiguous_date_uses_date_order_and_says_how() -> None:
    p = parse_cell(DT, "03/04/2026", options=UTC)
    assert p.error_code == "ambiguous_date" and "date order" in (p.message or "")
    assert ok(DT, "03/04/2026", ParseOptions(date_order="DMY")) == "2026-04-03T00:00:00+00:00"
    assert ok(DT, "03/04/2026", ParseOptions(date_order="MDY")) == "2026-03-04T00:00:00+00:00"
    assert err(DT, "03/04/2026", ParseOptions(date_order="YMD")) == "ambiguous_date"
    # an unambiguous date ignores a contradicting order rather than failing
    assert ok(DT, "13/01/2026", ParseOptions(date_order="MDY")) == "2026-01-13T00:00:00+00:00"
    # dots are day-first in every locale that writes them (German, Swiss, Pipedrive EU accounts)
    assert ok(DT, "03.04.2026", UTC) == "2026-04-03T00:00:00+00:00"
    assert ok(DT, "01.07.2024 16:12", UTC) == "2024-07-01T16:12:00+00:00"
    assert ok(DT, "03.04.2026", ParseOptions(date_order="MDY")) == "2026-03-04T00:00:00+00:00"


def test_naive_times_use_the_time_zone_but_dates_stay_midnight_utc() -> None:
    berlin = ParseOptions(tz="Europe/Berlin")
    assert ok(DT, "2026-03-16 14:30", berlin) == "2026-03-16T13:30:00+00:00"
    assert ok(DT, "2026-07-16 14:30", berlin) == "2026-07-16T12:30:00+00:00"  # summer time
    assert ok(DT, "2026-03-16", berlin) == "2026-03-16T00:00:00+00:00"
    assert ok(DT, dt.datetime(2026, 3, 16, 14, 30), berlin) == "2026-03-16T13:30:00+00:00"
    assert ok(DT, "2026-03-16T14:30:00+00:00", berlin) == "2026-03-16T14:30:00+00:00"


def test_parse_options_validate() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        ParseOptions(tz="Mars/Olympus")
    with pytest.raises(ConfigError, match="date order"):
        ParseOptions(date_order="DYM")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="decimal"):
        ParseOptions(decimal=";")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ParseOptions("DMY")  # type: ignore[misc]


# --- email, url ------------------------------------------------------------------------------

EMAILS = fdef("EMAIL", multipleValues=True)
EMAIL1 = fdef("EMAIL")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("Ana@Example.COM", ["Ana@example.com"]),
        ("a@x.io; b@y.org", ["a@x.io", "b@y.org"]),
        ("a@x.io, b@y.org", ["a@x.io", "b@y.org"]),
        ("a@x.io\nb@y.org", ["a@x.io", "b@y.org"]),
        ("a@x.io; A@X.IO", ["a@x.io", "A@x.io"]),
        ("a@x.io; a@X.io", ["a@x.io"]),
        ("Ana Lima <ana@example.com>", ["ana@example.com"]),
        ("mailto:ana@example.com", ["ana@example.com"]),
        ("first.last+tag@sub.example.co.uk", ["first.last+tag@sub.example.co.uk"]),
    ],
)
def test_email_multi(raw: str, value: list[str]) -> None:
    assert ok(EMAILS, raw) == value


@pytest.mark.parametrize(
    "raw",
    [
        "ana",
        "ana@",
        "@x.com",
        "ana@x",
        "a b@x.com",
        "ana@x.c",
        "ana@@x.com",
        ".ana@x.com",
        "ana..b@x.com",
        "ana@-x.com",
        "ana@x.com; nope",
    ],
)
def test_email_invalid(raw: str) -> None:
    assert err(EMAILS, raw) == "invalid_email"


def test_single_email_field() -> None:
    assert ok(EMAIL1, "Billing@ACME.com") == "Billing@acme.com"
    assert err(EMAIL1, "a@x.io; b@y.org") == "invalid_email"


URLS = fdef("URL", multipleValues=True)
URL1 = fdef("URL")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("https://acme.com", "https://acme.com"),
        ("acme.com", "https://acme.com"),
        ("www.acme.com/about?x=1", "https://www.acme.com/about?x=1"),
        ("HTTP://ACME.com/Path", "http://acme.com/Path"),
        ("//cdn.acme.com/a.png", "https://cdn.acme.com/a.png"),
        ("acme.com:8080/x", "https://acme.com:8080/x"),
    ],
)
def test_url_valid(raw: str, value: str) -> None:
    assert ok(URL1, raw) == value
    assert ok(URLS, raw) == [value]


@pytest.mark.parametrize(
    "raw",
    [
        "acme",
        "ftp://acme.com",
        "https://localhost/x",
        "http://",
        "not a url",
        "https://acme .com",
        "javascript:alert(1)",
        "https://acme.com:99999/",
        "https://a..com",
    ],
)
def test_url_invalid(raw: str) -> None:
    assert err(URL1, raw) == "invalid_url"


def test_url_multi_splits_on_semicolon_only() -> None:
    assert ok(URLS, "acme.com; https://acme.io/a,b") == ["https://acme.com", "https://acme.io/a,b"]
    assert err(URL1, "acme.com; acme.io") == "invalid_url"


# --- telephone -------------------------------------------------------------------------------

PHONES = fdef("TELEPHONE", multipleValues=True)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("(415) 555-0100", "+14155550100"),
        ("415.555.0100", "+14155550100"),
        ("1-415-555-0100", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0049 30 1234567", "+49301234567"),
        ("+1 415 555 0100 x123", "+14155550100;ext=123"),
        ("415-555-0100 ext. 7", "+14155550100;ext=7"),
        ("+14155550100;ext=9", "+14155550100;ext=9"),
        ("tel:+14155550100", "+14155550100"),
        (4155550100, "+14155550100"),
        (4155550100.0, "+14155550100"),
    ],
)
def test_phone_valid(raw: Any, value: str) -> None:
    assert ok(PHONES, raw) == [value]
    assert ok(fdef("TELEPHONE"), raw) == value


@pytest.mark.parametrize(
    "raw", ["123", "call me", "+1 415 555 0100 0000 0000", "415-555-CALL", "++1415555", "1+2345678"]
)
def test_phone_invalid(raw: str) -> None:
    assert err(PHONES, raw) == "invalid_phone"


@pytest.mark.parametrize(
    ("raw", "example", "region"),
    [
        ("020 7946 0958", "+44 20 7946 0958", "GB"),
        ("030 1234567", "+49 30 1234567", "DE"),
        ("5550100", "+49 5550 100", "DE"),  # 7 digits: no area code in the US, valid in DE
        ("98765 43210", "+49 9876 543210", "DE"),
    ],
)
def test_phone_without_country_code_needs_a_region_and_shows_an_example(
    raw: str, example: str, region: str
) -> None:
    p = parse_cell(PHONES, raw, options=UTC)
    assert p.error_code == "phone_needs_region"
    assert example in (p.message or "") and f"--phone-region {region}" in (p.message or "")


@pytest.mark.parametrize(
    ("region", "raw", "value"),
    [
        ("GB", "020 7946 0958", "+442079460958"),
        ("GB", "07911 123456", "+447911123456"),
        ("GB", "+1 (415) 555-0100", "+14155550100"),  # a country code wins over the region
        ("GB", "020 7946 0958 ext. 12", "+442079460958;ext=12"),
        ("DE", "030 1234567", "+49301234567"),
        ("DE", "0151 23456789", "+4915123456789"),
        ("CH", "044 668 18 00", "+41446681800"),
        ("FR", "01 23 45 67 89", "+33123456789"),
        ("IN", "98765 43210", "+919876543210"),
        ("US", "415.555.0100", "+14155550100"),
    ],
)
def test_phone_region_reads_national_numbers(region: str, raw: str, value: str) -> None:
    assert ok(PHONES, raw, ParseOptions(phone_region=region)) == [value]
    assert ok(PHONES, raw, ParseOptions(phone_region=region.lower())) == [value]


def test_locale_gives_the_phone_region_and_a_phone_region_wins() -> None:
    assert ok(PHONES, "030 1234567", ParseOptions(locale="de-DE")) == ["+49301234567"]
    assert ok(PHONES, "020 7946 0958", ParseOptions(locale="de-DE", phone_region="GB")) == ["+442079460958"]
    assert err(PHONES, "030 1234567", ParseOptions(locale="de")) == "phone_needs_region"  # no region


@pytest.mark.parametrize(
    ("region", "raw", "words"),
    [
        ("US", "555-0100", "local number without its area code"),
        ("GB", "(415) 555-0100", "not a valid number for GB"),
        (None, "+5550100", "too short for BR (+55)"),
        (None, "1-800-FLOWERS", "write its digits (1-800-3569377)"),
        ("US", "1-800-FLOWERS", "vanity"),
    ],
)
def test_phone_invalid_says_why(region: str | None, raw: str, words: str) -> None:
    p = parse_cell(PHONES, raw, options=ParseOptions(phone_region=region))
    assert p.error_code == "invalid_phone" and words in (p.message or ""), p.message


def test_phone_region_must_exist() -> None:
    with pytest.raises(ConfigError, match="phone region"):
        ParseOptions(phone_region="XX")


def test_phone_multi() -> None:
    assert ok(PHONES, "(415) 555-0100; +44 20 7946 0958") == ["+14155550100", "+442079460958"]
    # Pipedrive and Close join a person's numbers with ", "
    assert ok(PHONES, "+49 711 2345678, +49 171 9876543") == ["+497112345678", "+491719876543"]
    assert ok(PHONES, "+1 757-555-0178,+1 757-555-0100") == ["+17575550178", "+17575550100"]
    # a comma that is a dial pause does not split (and one phone field never takes two numbers)
    assert err(PHONES, "+1 415 555 0100,,42") == "invalid_phone"
    assert err(fdef("TELEPHONE"), "+49 711 2345678, +49 171 9876543") == "invalid_phone"


@pytest.mark.parametrize(
    ("field", "code"),
    [
        (EMAILS, "invalid_email"),
        (EMAIL1, "invalid_email"),
        (URLS, "invalid_url"),
        (URL1, "invalid_url"),
        (PHONES, "invalid_phone"),
        (fdef("TELEPHONE"), "invalid_phone"),
        (fdef("MULTI_SELECT", options=[{"id": "A", "label": "a"}]), "invalid_type"),
    ],
)
@pytest.mark.parametrize("raw", [";", " ; ; ", ";\n;", "\n;"])
def test_only_separators_is_an_error_never_an_empty_list(field: FieldDef, code: str, raw: str) -> None:
    assert err(field, raw) == code  # [] would clear the field; only #clear may do that
    if field.value_type == "EMAIL":  # a comma separates emails too
        assert err(field, raw.replace(";", ",")) == code


def test_empty_items_between_separators_are_dropped() -> None:
    assert ok(EMAILS, "a@x.io;; b@y.org;") == ["a@x.io", "b@y.org"]
    assert ok(URLS, ";acme.com;") == ["https://acme.com"]
    assert ok(PHONES, "(415) 555-0100;;") == ["+14155550100"]
    assert ok(fdef("MULTI_SELECT"), "a;;b;") == ["a", "b"]


# --- social handles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "raw", "value"),
    [
        ("TWITTER", "@ana", "https://x.com/ana"),
        ("TWITTER", "ana_l", "https://x.com/ana_l"),
        ("TWITTER", "https://twitter.com/ana/", "https://x.com/ana"),
        ("TWITTER", "x.com/ana?s=20", "https://x.com/ana"),
        ("LINKEDIN", "ana-lima", "https://www.linkedin.com/in/ana-lima"),
        ("LINKEDIN", "linkedin.com/in/ana-lima/", "https://www.linkedin.com/in/ana-lima"),
        ("LINKEDIN", "https://de.linkedin.com/company/acme", "https://www.linkedin.com/company/acme"),
        ("FACEBOOK", "acme", "https://www.facebook.com/acme"),
        (
            "FACEBOOK",
            "https://m.facebook.com/profile.php?id=42",
            "https://www.facebook.com/profile.php?id=42",
        ),
        ("INSTAGRAM", "@acme.shop", "https://www.instagram.com/acme.shop"),
        ("INSTAGRAM", "http://instagram.com/acme", "https://www.instagram.com/acme"),
    ],
)
def test_social_valid(service: str, raw: str, value: str) -> None:
    assert ok(fdef("SOCIAL_HANDLE", handleService=service), raw) == value


@pytest.mark.parametrize(
    ("service", "raw"),
    [
        ("TWITTER", "https://www.linkedin.com/in/ana"),
        ("LINKEDIN", "https://x.com/ana"),
        ("INSTAGRAM", "https://example.com/ana"),
        ("FACEBOOK", "https://facebook.com/"),
        ("TWITTER", "ana lima"),
        ("LINKEDIN", "@"),
    ],
)
def test_social_invalid(service: str, raw: str) -> None:
    assert err(fdef("SOCIAL_HANDLE", handleService=service), raw) == "invalid_social_handle"


def test_social_message_names_the_platforms() -> None:
    p = parse_cell(fdef("SOCIAL_HANDLE", handleService="TWITTER"), "linkedin.com/in/ana", options=UTC)
    assert "LinkedIn" in (p.message or "") and "X (Twitter)" in (p.message or "")


# --- selects ---------------------------------------------------------------------------------

STAGE = OPP.fields["$stage"]
PRODUCTS = OPP.fields["products"]


def test_single_select_returns_trimmed_text() -> None:
    assert ok(STAGE, "  closed   won ") == "closed won"
    assert ok(STAGE, 3.0) == "3"


def test_match_option_rules() -> None:
    won = next(o for o in STAGE.options if o.label == "Closed Won")
    assert match_option(STAGE, won.id) == (won.id, [])
    option_id, candidates = match_option(STAGE, "  closed   WON ")
    assert (option_id, candidates) == (won.id, [])
    m = match_option(STAGE, "Closed")
    assert m.option_id is None and not m.ambiguous
    assert set(m.candidates) >= {"Closed Won", "Closed Lost"}  # suggestions, never a guess
    m = match_option(STAGE, "Qualifed")
    assert m.option_id is None and m.candidates[0] == "Qualified"
    assert match_option(STAGE, "zzz").candidates == []


def test_match_option_ids_case_insensitive_and_ambiguous_labels() -> None:
    f = fdef(
        "SINGLE_SELECT",
        options=[{"id": "TODO", "label": "To do"}, {"id": "A", "label": "Dup"}, {"id": "B", "label": "dup "}],
    )
    assert match_option(f, "todo").option_id == "TODO"
    assert match_option(f, "to  DO").option_id == "TODO"
    m = match_option(f, "DUP")
    assert m.option_id is None and m.ambiguous and m.candidates == ["A", "B"]


def test_multi_select_splits_and_dedupes() -> None:
    assert ok(PRODUCTS, "Core; Add-on ;core;; Core") == ["Core", "Add-on", "core"]
    assert ok(PRODUCTS, "a|b", ParseOptions(multi_separator="|")) == ["a", "b"]


# --- address and full name -------------------------------------------------------------------

ADDR = ACC.fields["$primaryAddress"]
NAME = CON.fields["$name"]


@pytest.mark.parametrize(
    ("part", "raw", "value"),
    [
        ("street", " 1 Main St ", "1 Main St"),
        ("postalCode", 10115, "10115"),
        ("postalCode", "02134", "02134"),
        ("country", "de", "DE"),
        ("country", "Germany", "DE"),
        ("country", "United States", "US"),
        ("country", "UK", "GB"),
        ("country", "usa", "US"),
        # names in the user's language (CLDR via Babel): Pipedrive and hand-kept sheets write them
        ("country", "Nederland", "NL"),
        ("country", "Suisse", "CH"),
        ("country", "Österreich", "AT"),
        ("country", "Allemagne", "DE"),
        ("country", "Royaume-Uni", "GB"),
        ("latitude", "52.52", 52.52),
        ("longitude", -122.4194, -122.4194),
        ("latitude", 0, 0),
        ("city", "Zürich", "Zürich"),
    ],
)
def test_address_parts(part: str, raw: Any, value: Any) -> None:
    assert ok(ADDR, raw, part=part) == value


@pytest.mark.parametrize(
    ("part", "raw", "code"),
    [
        ("country", "Germanyy", "invalid_country"),
        ("country", "XX", "invalid_country"),
        ("country", "DEU1", "invalid_country"),
        ("latitude", "91", "invalid_number"),
        ("longitude", "-180.5", "invalid_number"),
        ("latitude", "north", "invalid_number"),
        ("planet", "Earth", "invalid_type"),
    ],
)
def test_address_parts_invalid(part: str, raw: Any, code: str) -> None:
    assert err(ADDR, raw, part=part) == code


def test_address_whole_value() -> None:
    assert ok(ADDR, {"city": "Berlin", "country": "germany", "street": None}) == {
        "city": "Berlin",
        "country": "DE",
        "street": None,
    }
    assert err(ADDR, "1 Main St, Berlin") == "invalid_type"


def test_full_name() -> None:
    assert ok(NAME, " Ana ", part="firstName") == "Ana"
    assert ok(NAME, "Ana Maria Lima") == {"firstName": "Ana Maria", "lastName": "Lima"}
    assert ok(NAME, "Cher") == {"firstName": "Cher", "lastName": None}
    assert ok(NAME, {"firstName": "Ana", "lastName": ""}) == {"firstName": "Ana", "lastName": None}
    assert err(NAME, "x", part="middleName") == "invalid_type"
    assert err(fdef("TEXT"), "x", part="city") == "invalid_type"


# --- format_value ----------------------------------------------------------------------------


def test_format_value() -> None:
    won = next(o for o in STAGE.options if o.label == "Closed Won")
    assert format_value(STAGE, won.id) == "Closed Won"
    assert format_value(STAGE, "opt_unknown") == "opt_unknown"
    labels = [o.label for o in PRODUCTS.options[:2]]
    assert format_value(PRODUCTS, [o.id for o in PRODUCTS.options[:2]]) == "; ".join(labels)
    assert format_value(PRODUCTS, []) is None
    assert format_value(DT, "2026-03-16T00:00:00+00:00") == dt.date(2026, 3, 16)
    assert format_value(DT, "2026-03-16T14:30:00+02:00") == dt.datetime(2026, 3, 16, 12, 30)
    assert format_value(EMAILS, ["a@x.io", "b@y.org"]) == "a@x.io; b@y.org"
    assert format_value(fdef("NUMBER"), 12.5) == 12.5 and format_value(fdef("NUMBER"), "12") == 12
    assert format_value(fdef("CHECKBOX"), False) is False
    assert format_value(ADDR, {"city": "Berlin", "country": "DE"}, part="country") == "DE"
    assert format_value(ADDR, {"city": "Berlin", "country": "DE"}, part="street") is None
    assert format_value(ADDR, {"street": "1 Main", "city": "Berlin", "country": "DE"}) == "1 Main, Berlin, DE"
    assert format_value(NAME, {"firstName": "Ana", "lastName": "Lima"}) == "Ana Lima"
    assert format_value(fdef("TEXT"), None) is None


def test_format_value_falls_back_to_ids_when_labels_would_not_map_back() -> None:
    f = fdef(
        "MULTI_SELECT",
        options=[
            {"id": "A", "label": "x; y"},
            {"id": "B", "label": "Dup"},
            {"id": "C", "label": "dup"},
            {"id": "D", "label": "Fine"},
        ],
    )
    assert format_value(f, ["A", "B", "D"]) == "A; B; Fine"
    cell = format_value(f, ["A", "B", "D"])
    parsed = ok(f, cell)
    assert [match_option(f, t).option_id for t in parsed] == ["A", "B", "D"]


# --- normalize -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        (fdef("NUMBER"), 1, 1.0),
        (fdef("NUMBER"), "12.50", 12.5),
        (fdef("CURRENCY"), Decimal("3.10"), 3.1),
        (DT, "2026-03-16T14:30:00+02:00", "2026-03-16T12:30:00+00:00"),
        (DT, "2026-03-16T12:30:00Z", "2026-03-16T12:30:00+00:00"),
        (EMAILS, ["Ana@EXAMPLE.com"], ["Ana@example.com"]),
        (EMAIL1, "a@X.io", "a@x.io"),
        (URL1, "HTTPS://Acme.com/", "https://acme.com"),
        (fdef("TEXT"), " a\r\nb ", "a\nb"),
        (PRODUCTS, ["a", "b"], ["b", "a", "b"]),
        (fdef("CHECKBOX"), True, True),
        (fdef("TELEPHONE", multipleValues=True), ["+1 (415) 555-0100"], ["+14155550100"]),
        (
            fdef("SOCIAL_HANDLE", handleService="LINKEDIN"),
            "https://linkedin.com/in/ana",
            "https://www.linkedin.com/in/ana",
        ),
        (ADDR, {"city": "Berlin", "street": None}, {"city": "Berlin"}),
        (ADDR, {"country": "de", "latitude": 52.5}, {"country": "DE", "latitude": "52.50"}),
    ],
)
def test_normalize_equal(field: FieldDef, a: Any, b: Any) -> None:
    assert normalize(field, a) == normalize(field, b)


def test_normalize_select_labels_and_ids() -> None:
    won = next(o for o in STAGE.options if o.label == "Closed Won")
    assert normalize(STAGE, "closed won") == normalize(STAGE, won.id) == won.id
    ids = [o.id for o in PRODUCTS.options[:2]]
    labels = [o.label for o in PRODUCTS.options[:2]]
    assert normalize(PRODUCTS, ids) == normalize(PRODUCTS, list(reversed(labels)))


@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        (fdef("NUMBER"), 1, 1.01),
        (DT, "2026-03-16T14:30:00+02:00", "2026-03-16T14:30:00+00:00"),
        (EMAILS, ["ana@x.io", "b@x.io"], ["b@x.io", "ana@x.io"]),
        (EMAILS, ["Ana@x.io"], ["ana@x.io"]),
        (fdef("TEXT"), "a", "A"),
        (PRODUCTS, ["a"], ["a", "b"]),
        (fdef("CHECKBOX"), True, False),
        (URL1, "https://acme.com/a", "https://acme.com/A"),
        (ADDR, {"city": "Berlin"}, {"city": "Bonn"}),
        (fdef("TEXT"), "x", None),
    ],
)
def test_normalize_different(field: FieldDef, a: Any, b: Any) -> None:
    assert normalize(field, a) != normalize(field, b)


def test_normalize_treats_blank_and_clear_as_none() -> None:
    assert normalize(fdef("TEXT"), BLANK) is None and normalize(fdef("TEXT"), CLEAR) is None
    assert normalize(ADDR, "Berlin", part="city") == "Berlin"
    assert normalize(ADDR, 52.5, part="latitude") == normalize(ADDR, "52.50", part="latitude")


def test_parse_then_normalize_matches_api_values() -> None:
    """What the planner does: a parsed cell against the stored API value."""
    amount = OPP.fields["amount"]
    assert normalize(amount, ok(amount, "$1,250,000.00")) == normalize(amount, 1250000)
    close = OPP.fields["closeDate"]
    assert normalize(close, ok(close, "16/03/2026")) == normalize(close, "2026-03-16T00:00:00Z")
