"""Cell values ⇄ API values, one small parse/format pair per value type.

Reading a spreadsheet is where most import errors start, so every rule lives here, in one place:

* :func:`parse_cell` turns what a cell holds (a string from CSV; str/int/float/bool/datetime from
  XLSX) into the *bare* value the API accepts on write, or into an error (a code from
  :data:`bulkio.issues.CODES`, a message and what was expected). It never raises for bad data.
  A blank cell gives :data:`BLANK` (leave the field unchanged); a cell that is exactly ``#clear``
  gives :data:`CLEAR` (send ``null``).
* :func:`format_value` is the inverse, for exports and results sheets: option IDs become labels,
  lists are joined with ``"; "``, date-times become naive UTC datetimes Excel understands.
  ``parse_cell(format_value(v)) == v`` for every type (select labels map back to the same IDs
  through :func:`match_option`).
* :func:`normalize` makes an API value and a parsed value comparable, so the planner can tell
  "unchanged" from "update": numbers compare exactly (1 == 1.0), date-times as instants,
  MULTI_SELECT ignores order, emails ignore the case of the domain, URLs the case of the host.

Dates are never guessed: ``03/04/2026`` is ``ambiguous_date`` unless ``ParseOptions.date_order``
says which one it is (``05/05/2026`` and ``13/01/2026`` read fine without it).

The per-type parsers live in :mod:`bulkio.valuetypes`; this module is the public face and the
registry (:data:`PARSERS`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .columns import CLEAR_TOKEN, FORMAT_HINTS
from .definitions import FieldDef
from .valuetypes.common import (
    DEFAULT_OPTIONS,
    MAX_SAFE_INTEGER,
    DateOrder,
    ParseOptions,
    _Bad,
    _dedupe,
    _parse_text,
    _text,
)
from .valuetypes.compound import (
    COUNTRY_NAMES,
    ISO_COUNTRIES,
    _address_part,
    _country,
    _parse_address,
    _parse_full_name,
)
from .valuetypes.contact_points import (
    SERVICE_NAMES,
    SOCIAL_SERVICES,
    _one_email,
    _one_phone,
    _one_url,
    _parse_email,
    _parse_phone,
    _parse_social,
    _parse_url,
)
from .valuetypes.dates import EXCEL_SERIAL_RANGE, _api_datetime, _parse_datetime
from .valuetypes.numbers import _parse_checkbox, _parse_currency, _parse_number, _to_number
from .valuetypes.options import OptionMatch, _option_label, _parse_multi, _parse_single, match_option


class _Marker:
    """A named sentinel (``BLANK``, ``CLEAR``); falsy so ``if parsed.value`` reads naturally."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


#: The cell is blank: leave the field as it is.
BLANK: Any = _Marker("BLANK")
#: The cell is exactly ``#clear``: send ``null`` to clear the field.
CLEAR: Any = _Marker("CLEAR")


@dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of reading one cell: a value (maybe BLANK/CLEAR) or an error."""

    value: Any = None
    error_code: str | None = None
    message: str | None = None
    expected: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def is_blank(self) -> bool:
        return self.value is BLANK

    @property
    def is_clear(self) -> bool:
        return self.value is CLEAR


PARSED_BLANK = Parsed(BLANK)
PARSED_CLEAR = Parsed(CLEAR)


# --- the registry ------------------------------------------------------------------------------

Parser = Callable[[FieldDef, Any, ParseOptions], Any]

PARSERS: dict[str, Parser] = {
    "TEXT": _parse_text,
    "MARKDOWN": _parse_text,
    "HTML": _parse_text,
    "NUMBER": _parse_number,
    "CURRENCY": _parse_currency,
    "CHECKBOX": _parse_checkbox,
    "DATETIME": _parse_datetime,
    "EMAIL": _parse_email,
    "URL": _parse_url,
    "TELEPHONE": _parse_phone,
    "SOCIAL_HANDLE": _parse_social,
    "SINGLE_SELECT": _parse_single,
    "MULTI_SELECT": _parse_multi,
    "ADDRESS": _parse_address,
    "FULL_NAME": _parse_full_name,
}


def _expected(field: FieldDef, part: str | None) -> str:
    if part == "country":
        return "a 2-letter country code (US, DE)"
    if part in ("latitude", "longitude"):
        return f"a {part} in degrees"
    tc = field.type_configuration
    hint = FORMAT_HINTS.get(field.value_type, field.value_type)
    return hint.replace("{currency}", tc.currency or "the org currency").replace(
        "{service}", (tc.handle_service or "social").title()
    )


def _parser_for(field: FieldDef, part: str | None) -> Parser:
    """The parser of ``field`` (or of one ``part`` of an ADDRESS/FULL_NAME field)."""
    if part is None:
        return PARSERS.get(field.value_type, _parse_text)
    if field.value_type == "ADDRESS":
        return lambda f, raw, o: _address_part(part, raw, o)
    if field.value_type == "FULL_NAME" and part in ("firstName", "lastName"):
        return _parse_text
    message = (
        f"a full name has no part {part!r}"
        if field.value_type == "FULL_NAME"
        else f"{field.value_type} fields have no parts"
    )

    def no_such_part(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
        raise _Bad("invalid_type", message)

    return no_such_part


def column_parser(
    field: FieldDef, *, part: str | None = None, options: ParseOptions = DEFAULT_OPTIONS
) -> Callable[[Any], Parsed]:
    """:func:`parse_cell` for one column: the value type is looked up once, not per cell (the
    validator reads millions of cells of the same few columns).

    >>> read_amount = column_parser(amount_field)      # doctest: +SKIP
    >>> read_amount("$1,250,000.50").value             # doctest: +SKIP
    1250000.5
    """
    parse = _parser_for(field, part)

    def read(raw: Any) -> Parsed:
        if raw is None:
            return PARSED_BLANK
        if isinstance(raw, str):
            stripped = raw.strip()
            if not stripped:
                return PARSED_BLANK
            if stripped == CLEAR_TOKEN:
                return PARSED_CLEAR
        elif isinstance(raw, float) and math.isnan(raw):  # pandas' missing value
            return PARSED_BLANK
        try:
            return Parsed(parse(field, raw, options))
        except _Bad as bad:
            return Parsed(None, bad.code, bad.message, _expected(field, part))

    return read


def parse_cell(
    field: FieldDef, raw: Any, *, part: str | None = None, options: ParseOptions = DEFAULT_OPTIONS
) -> Parsed:
    """Read one cell for ``field`` (or one ``part`` of an ADDRESS/FULL_NAME field).

    >>> parse_cell(amount_field, "$1,250,000.50", options=ParseOptions()).value   # doctest: +SKIP
    1250000.5
    """
    return column_parser(field, part=part, options=options)(raw)


# --- formatting (API value -> cell) ------------------------------------------------------------


def _join(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value) if value else None
    return value


def format_value(field: FieldDef, value: Any, *, part: str | None = None) -> Any:
    """An API value as a cell value (export/results); the inverse of :func:`parse_cell`.

    >>> format_value(close_date_field, "2026-03-16T00:00:00+00:00")   # doctest: +SKIP
    datetime.date(2026, 3, 16)
    """
    if value is None:
        return None
    vt = field.value_type
    if vt in ("ADDRESS", "FULL_NAME"):
        if not isinstance(value, dict):
            return str(value)
        if part is not None:
            return value.get(part)
        if vt == "FULL_NAME":
            return " ".join(v for v in (value.get("firstName"), value.get("lastName")) if v) or None
        keys = ("street", "street2", "city", "state", "postalCode", "country")
        return ", ".join(str(value[k]) for k in keys if value.get(k)) or None
    if vt in ("NUMBER", "CURRENCY"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            return _to_number(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return str(value)
    if vt == "CHECKBOX":
        return value
    if vt == "DATETIME":
        d = _api_datetime(value)
        if d is None:
            return str(value)
        naive = d.replace(tzinfo=None)
        return naive.date() if naive.time() == dt.time(0) else naive
    if vt == "SINGLE_SELECT":
        return _option_label(field, str(value))
    if vt == "MULTI_SELECT":
        items = value if isinstance(value, (list, tuple)) else [value]
        return _join([_option_label(field, str(v)) for v in items])
    return _join(value)


# --- normalisation (unchanged detection) -------------------------------------------------------


def _norm_text(value: Any) -> str:
    return _text(value).replace("\r\n", "\n").replace("\r", "\n")


def _norm_number(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return value
    return d.normalize() if d.is_finite() else d


def _reparse(fn: Callable[[Any], Any], value: Any) -> Any:
    try:
        return fn(value)
    except _Bad:
        return _norm_text(value)


def _norm_option(field: FieldDef, value: Any) -> str:
    text = str(value)
    m = match_option(field, text)
    return m.option_id or text


def normalize(field: FieldDef, value: Any, *, part: str | None = None) -> Any:
    """A comparable form of an API or parsed value: equal results mean "unchanged".

    Rules: text compares after stripping surrounding whitespace and unifying line ends; numbers
    exactly (1 == 1.0); date-times as instants; EMAIL ignores the domain's case, URL the scheme's
    and host's case; TELEPHONE and SOCIAL_HANDLE compare in their normalised form; selects compare
    option IDs (labels are mapped to IDs); MULTI_SELECT ignores order and duplicates, other lists
    keep their order; ADDRESS/FULL_NAME compare part by part, a missing part equals ``None``.
    """
    if value is None or value is BLANK or value is CLEAR:
        return None
    vt = field.value_type
    if part is not None:
        if vt == "ADDRESS" and part in ("latitude", "longitude"):
            return _norm_number(value)
        if vt == "ADDRESS" and part == "country":
            return _reparse(_country, value)
        return _norm_text(value) or None
    if vt in ("ADDRESS", "FULL_NAME"):
        if not isinstance(value, dict):
            return _norm_text(value)
        return tuple(
            sorted((k, n) for k, v in value.items() if (n := normalize(field, v, part=k)) is not None)
        )
    if isinstance(value, (list, tuple)):
        if vt == "MULTI_SELECT":
            return frozenset(_norm_option(field, v) for v in value)
        items = [normalize(field, v) for v in value]
        return tuple(_dedupe(items))
    if vt in ("NUMBER", "CURRENCY"):
        return _norm_number(value)
    if vt == "CHECKBOX":
        return bool(value)
    if vt == "DATETIME":
        d = _api_datetime(value)
        return d if d is not None else _norm_text(value)
    if vt == "EMAIL":
        return _reparse(_one_email, _text(value))
    if vt == "URL":
        u = _reparse(_one_url, _text(value))
        return u[:-1] if isinstance(u, str) and u.count("/") == 3 and u.endswith("/") else u
    if vt == "TELEPHONE":
        return _reparse(_one_phone, value)
    if vt == "SOCIAL_HANDLE":
        fake = field
        return _reparse(lambda v: _parse_social(fake, v, DEFAULT_OPTIONS), value)
    if vt == "SINGLE_SELECT":
        return _norm_option(field, value)
    if vt == "MULTI_SELECT":
        return frozenset({_norm_option(field, value)})
    return _norm_text(value)


__all__ = [
    "BLANK",
    "CLEAR",
    "COUNTRY_NAMES",
    "DEFAULT_OPTIONS",
    "EXCEL_SERIAL_RANGE",
    "ISO_COUNTRIES",
    "MAX_SAFE_INTEGER",
    "PARSERS",
    "SERVICE_NAMES",
    "SOCIAL_SERVICES",
    "DateOrder",
    "OptionMatch",
    "ParseOptions",
    "Parsed",
    "column_parser",
    "format_value",
    "match_option",
    "normalize",
    "parse_cell",
]
