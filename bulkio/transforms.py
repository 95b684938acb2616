"""Apply a mapping file's value maps, transforms and derived columns to rows, column by column.

Why a step of its own (between read and validate): the validator stays a per-column parser of one
value type, and what a migration needs (``Appointment Scheduled`` → ``Lead``, ``0.45`` → ``45``,
``1.234,50`` → ``1234.5``) is data, compiled once per run into one small function per column. A file
without value maps or transforms is not touched at all (no copy of any row).

A cell a transform cannot read, or a value a ``unmapped: fail`` map does not list, is an
:class:`~bulkio.issues.Issue` on that row and column (``transform_failed`` / ``unmapped_value``); the
row is not written, the others are.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .columns import CLEAR_TOKEN, MULTI_SEPARATOR
from .definitions import ObjectSchema
from .issues import Issue
from .mapfile import MappingFile, Step

Fn = Callable[[Any], Any]


class TransformError(ValueError):
    """A cell one step cannot read: ``code``, a message, and what was expected."""

    def __init__(self, code: str, message: str, expected: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.expected = code, message, expected


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def fold(text: str) -> str:
    """How value-map keys are compared: case and surrounding/inner runs of space ignored."""
    return " ".join(text.split()).casefold()


# --- numbers ---------------------------------------------------------------------------------------

_SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_APOSTROPHES = "'\u2019\u02bc"
_CURRENCY_JUNK = re.compile(r"[^\d.,'\u2019\u02bc\s\u00a0\u202f\u2009\u2007+\-()]")


def _locale(name: str) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"unknown locale {name!r}") from exc


def number_reader(locale: str, *, currency: bool = False) -> Fn:
    """A parser for numbers as ``locale`` writes them, with Babel's separators (``1.234,5`` in de_DE,
    ``1 234,5`` with any kind of space in fr_FR, ``1'234.5`` or ``1’234.5`` in de_CH)."""
    from babel.numbers import NumberFormatError, get_decimal_symbol, get_group_symbol, parse_decimal

    loc = _locale(locale)
    group, decimal = get_group_symbol(loc), get_decimal_symbol(loc)
    fold_group = _SPACES if group in _SPACES else _APOSTROPHES if group in _APOSTROPHES else ""
    expected = f"a number written the {loc} way, e.g. 1{group}234{decimal}5"

    plain = re.compile(r"^-?\d+$" if decimal not in ".," else rf"^-?\d+(?:\{decimal}\d+)?$")

    def read(raw: Any) -> Any:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return raw
        text = _text(raw)
        if plain.match(text):  # no group marks, no symbols: the common case, without Babel
            return float(text.replace(decimal, ".")) if decimal != "." else float(text)
        negative = text.startswith("(") and text.endswith(")")
        if currency:
            text = _CURRENCY_JUNK.sub("", text).strip()
        text = text.strip("()").strip()
        if fold_group:
            for ch in fold_group:
                text = text.replace(ch, group)
        try:
            value = parse_decimal(text, locale=loc, strict=True)
        except NumberFormatError as exc:
            hints = getattr(exc, "suggestions", None) or []
            suggestion = f" ({hints[0]}?)" if hints else ""
            raise TransformError(
                "transform_failed", f"{_text(raw)!r} is not a number in {loc}{suggestion}", expected
            ) from None
        number = float(value)
        return -number if negative else number

    return read


def _as_float(raw: Any, what: str, expected: str) -> float:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    text = (
        _text(raw).replace(",", ".") if _text(raw).count(",") == 1 and "." not in _text(raw) else _text(raw)
    )
    try:
        return float(text.replace(" ", ""))
    except ValueError:
        raise TransformError("transform_failed", f"{_text(raw)!r} is not {what}", expected) from None


def _fraction(raw: Any) -> Any:
    text = _text(raw)
    if text.endswith("%"):
        return _percent(raw)
    value = _as_float(raw, "a fraction", "a fraction between 0 and 1, e.g. 0.45")
    if not 0 <= value <= 1:
        raise TransformError(
            "transform_failed",
            f"{text!r} is not a fraction between 0 and 1",
            "a fraction between 0 and 1, e.g. 0.45 (or 45%)",
        )
    return round(value * 100, 10)


def _percent(raw: Any) -> Any:
    text = _text(raw).rstrip("%").strip()
    return _as_float(text, "a percentage", "a percentage, e.g. 45 or 45%")


def _cents(raw: Any) -> Any:
    value = _as_float(raw, "a whole number of cents", "a whole number of cents, e.g. 150000")
    if not float(value).is_integer():
        raise TransformError(
            "transform_failed", f"{_text(raw)!r} is not a whole number of cents", "e.g. 150000"
        )
    return value / 100


#: 84,500 or 1,234,567.5: commas grouping thousands (the US way lead tools write their exports).
_GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _thousands(raw: Any) -> Any:
    """A number given in thousands (ZoomInfo's ``Revenue (in 000s USD)``: 84,500 is 84.5 million)."""
    text = _text(raw).strip() if not isinstance(raw, (int, float)) else raw
    if isinstance(text, str) and _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    value = _as_float(text, "a number of thousands", "a number of thousands, e.g. 84500 (84.5 million)")
    scaled = round(value * 1000, 6)
    return int(scaled) if scaled.is_integer() else scaled


# --- text, names, dates ----------------------------------------------------------------------------


def _trim(raw: Any) -> Any:
    return " ".join(raw.split()) if isinstance(raw, str) else raw


def _case(how: str) -> Fn:
    def apply(raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        return raw.lower() if how == "lower" else raw.upper() if how == "upper" else raw.title()

    return apply


def _split_name(order: str) -> Fn:
    def split(raw: Any) -> Any:
        if isinstance(raw, dict):
            return raw
        text = " ".join(_text(raw).split())
        if "," in text or order == "last_first":
            last, _, first = text.partition(",")
            if not _:
                first, _, last = text.rpartition(" ")
                return {"firstName": first.strip() or None, "lastName": last.strip() or None}
            return {"firstName": first.strip() or None, "lastName": last.strip() or None}
        first, _, last = text.rpartition(" ")
        return {"firstName": first, "lastName": last} if first else {"firstName": text, "lastName": None}

    return split


def _date(patterns: list[str]) -> Fn:
    shown = " or ".join(patterns)

    def parse(raw: Any) -> Any:
        if isinstance(raw, (dt.datetime, dt.date)):
            return raw
        text = _text(raw)
        for p in patterns:
            try:
                return dt.datetime.strptime(text, p)
            except ValueError:
                continue
        raise TransformError("transform_failed", f"{text!r} does not match the date pattern {shown}", shown)

    return parse


def _regex(pattern: str, group: int | str) -> Fn:
    rx = re.compile(pattern)

    def extract(raw: Any) -> Any:
        text = _text(raw)
        m = rx.search(text)
        if m is None:
            raise TransformError(
                "transform_failed", f"{text!r} does not match /{pattern}/", f"text matching /{pattern}/"
            )
        return m.group(group)

    return extract


_COUNTRIES: dict[str, str] = {}
#: Languages whose country names are read too (exports write the country the way the account's user
#: reads it: Pipedrive ``Deutschland``, ``Nederland``, ``Schweiz``; hand-kept sheets ``Suisse``).
#: English is read first, so a name that means two countries in two languages keeps its English one.
COUNTRY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "pl", "cs")


def _country(raw: Any) -> Any:
    """A country's name in English or another common language (``Germany``, ``Deutschland``,
    ``Allemagne``) or its ISO code (``USA``, ``us``) → ``US``/``DE`` (Babel's data)."""
    if not _COUNTRIES:
        from babel import Locale

        for lang in COUNTRY_LANGUAGES:
            for code, name in Locale(lang).territories.items():
                if len(code) == 2 and code.isalpha():
                    _COUNTRIES.setdefault(fold(name), code)
                    _COUNTRIES.setdefault(fold(code), code)
        try:
            from babel.core import get_global

            for a3, a2 in get_global("territory_aliases").items():
                if len(a3) == 3 and a3.isalpha() and isinstance(a2, (list, tuple)) and len(a2) == 1:
                    _COUNTRIES.setdefault(fold(a3), a2[0])
        except (ImportError, KeyError, TypeError, ValueError):  # aliases are a nicety
            _COUNTRIES.setdefault("deu", "DE")
        extra = {
            "usa": "US",
            "u.s.": "US",
            "u.s.a.": "US",
            "uk": "GB",
            "england": "GB",
            "great britain": "GB",
        }
        _COUNTRIES.update(extra)
    text = _text(raw)
    code = _COUNTRIES.get(fold(text))
    if code is None:
        raise TransformError(
            "transform_failed", f"{text!r} is not a country name or code", "a country, e.g. Germany or DE"
        )
    return code


_SF_ID = re.compile(r"^[a-zA-Z0-9]{15}$")
_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _salesforce_id(raw: Any) -> Any:
    """``0015g00000Zx9yW`` → ``0015g00000Zx9yWAAR``: Salesforce's case-safe 18-character id (reports
    write 15 characters, Data Loader and the API 18; each 5-character chunk adds one letter whose bits
    say which of its characters are upper case). Other text passes as it is."""
    text = _text(raw)
    if not _SF_ID.match(text):
        return raw
    suffix = ""
    for chunk in (text[0:5], text[5:10], text[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _SF_SUFFIX[bits]
    return text + suffix


def compile_step(step: Step) -> Fn:
    """One step → one function (raising :class:`TransformError` on a cell it cannot read)."""
    name = step.name
    if name == "trim":
        return _trim
    if name in ("lower", "upper", "title"):
        return _case(name)
    if name == "fraction":
        return _fraction
    if name == "percent":
        return _percent
    if name == "cents":
        return _cents
    if name == "thousands":
        return _thousands
    if name == "country":
        return _country
    if name == "salesforce_id":
        return _salesforce_id
    if name == "split_name":
        assert step.split_name is not None
        return _split_name(step.split_name.order)
    if name in ("number", "currency"):
        opts = step.number or step.currency
        assert opts is not None
        return number_reader(opts.locale, currency=name == "currency")
    if name == "date":
        assert step.date is not None
        p = step.date.pattern
        return _date([p] if isinstance(p, str) else list(p))
    if name == "regex":
        assert step.regex is not None
        return _regex(step.regex.pattern, step.regex.group)
    raise AssertionError(name)  # pragma: no cover - the model allows no other name


def value_mapper(values: dict[str, str], default: str | None, unmapped: str, *, multi: bool, what: str) -> Fn:
    """Source value → target text, compared by :func:`fold`; several ``;``-separated values each
    mapped when the target takes several (MULTI_SELECT, HAS_MANY)."""
    table = {fold(k): v for k, v in values.items()}
    listed = ", ".join(repr(k) for k in list(values)[:6]) + (", …" if len(values) > 6 else "")

    def one(text: str) -> str | None:
        hit = table.get(fold(text))
        if hit is not None:
            return hit
        if default is not None:
            return default
        if unmapped == "blank":
            return None
        if unmapped == "fail":
            raise TransformError(
                "unmapped_value",
                f"{text!r} is not in the value map of {what}; add it to the map or set a default",
                f"one of: {listed}" if values else "a value listed in the value map",
            )
        return text

    def apply(raw: Any) -> Any:
        text = _text(raw)
        if text.casefold() == CLEAR_TOKEN:
            return raw
        if multi:
            kept = [v for v in (one(p.strip()) for p in text.split(MULTI_SEPARATOR) if p.strip()) if v]
            return MULTI_SEPARATOR.join(kept) or None
        return one(text)

    return apply


def _chain(fns: list[Fn]) -> Fn:
    if len(fns) == 1:
        return fns[0]

    def run(raw: Any) -> Any:
        for f in fns:
            raw = f(raw)
        return raw

    return run


def _is_blank(raw: Any) -> bool:
    return (
        raw is None
        or (isinstance(raw, str) and not raw.strip())
        or (isinstance(raw, float) and math.isnan(raw))
    )


@dataclass(slots=True)
class Row:
    """A transformed row: same number, new cells (the validator reads ``number`` and ``cells``)."""

    number: int
    cells: list[Any]
    #: cell index → (letter, header) of the fallback column that filled that cell on this row (Pipedrive's
    #: "Deal - Stage" behind a blank "Deal - Status"): the validator names that column in the row's issues
    filled: dict[int, tuple[str, str]] | None = None


#: Results remembered per column (a column repeats its stages, owners and formats): then cleared.
MEMO = 4096
_MISS = object()


@dataclass(slots=True)
class _ColumnOp:
    index: int
    letter: str
    header: str
    key: str
    fn: Fn
    memo: dict[Any, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _DerivedOp:
    index: int  # where its cell goes (after the file's cells)
    letter: str
    header: str
    key: str
    sources: list[int]
    sep: str
    constant: Any
    fn: Fn | None
    numbers: list[int] = field(default_factory=list)  # house number columns (a street's join)
    country: int | None = None  # the row's country cell, which puts the number first or last


def _with_number(d: _DerivedOp, name: str | None, cells: Sequence[Any], out: Sequence[Any]) -> str | None:
    """A street's name with its house number, in the order of the row's country (the number
    after the name where the country is blank or unknown, as most of Europe writes it)."""
    n = len(cells)
    number = next((_text(cells[i]) for i in d.numbers if i < n and not _is_blank(cells[i])), None)
    if number is None or name is None:
        return name if number is None else number
    first = False
    raw = out[d.country] if d.country is not None and d.country < len(out) else None
    if not _is_blank(raw):
        try:
            first = str(_country(raw)) in NUMBER_FIRST
        except TransformError:
            first = False
    return f"{number}{d.sep}{name}" if first else f"{name}{d.sep}{number}"


#: Countries whose addresses write the house number before the street's name (5 Main Street,
#: 12 rue de Rivoli); elsewhere it follows the name (Hauptstraße 5, Calle Mayor 1, Via Roma 1).
NUMBER_FIRST = frozenset(
    {"US", "CA", "GB", "IE", "AU", "NZ", "FR", "MC", "LU", "IL", "ZA", "SG", "MY", "PH", "IN", "HK"}
)


@dataclass(slots=True)
class _FallbackOp:
    target: int  # the cell of the field's own column, filled where it is blank
    index: int  # the fallback column's cell
    letter: str
    header: str
    key: str
    fn: Fn | None


#: Headers that hold a row's country when no column is mapped to an address country (a contacts
#: export's Country/Region, Salesforce's and Zoho's Mailing Country, Dynamics' Address 1: Country/Region,
#: Outlook's Business Country/Region, Google Contacts' Address 1 - Country,
#: a hand-kept sheet's Land / Pays / País / Paese / Nazione / Kraj).
COUNTRY_HEADERS = frozenset(
    {
        "country",
        "countryregion",
        "mailingcountry",
        "billingcountry",
        "address1countryregion",
        "address1country",
        "businesscountryregion",
        "businesscountry",
        "land",
        "pays",
        "pais",
        "país",
        "paese",
        "nazione",
        "kraj",
    }
)
_PHONE_SPLIT = re.compile(r"\s*[;,\n]\s*")


@dataclass(slots=True)
class _PhoneRegionOp:
    """Numbers written without a country code, read in the country of their row (HubSpot's
    ``Country/Region`` "United Kingdom" for ``020 7946 0321``): the file may mix countries, which one
    ``--phone-region`` cannot say. Only numbers valid in that country are rewritten (as E.164)."""

    phones: list[int]
    country: int

    def apply(self, out: list[Any]) -> None:
        raw_country = out[self.country] if self.country < len(out) else None
        if _is_blank(raw_country):
            return
        try:
            region = str(_country(raw_country))
        except TransformError:
            return
        for i in self.phones:
            cell = out[i] if i < len(out) else None
            if isinstance(cell, str) and cell.strip() and not cell.lstrip().startswith(("+", "00")):
                out[i] = _national_phones(cell, region)


def _national_phones(cell: str, region: str) -> str:
    import phonenumbers

    parts = _PHONE_SPLIT.split(cell.strip())
    if len(parts) > 1 and any(sum(c.isdigit() for c in p) < 5 for p in parts):
        parts = [cell.strip()]  # a comma that is a dial pause: leave the cell to the phone reader
    out = []
    for part in parts:
        if not part or part.startswith(("+", "00")):
            out.append(part)
            continue
        try:
            number = phonenumbers.parse(part, region)
        except phonenumbers.NumberParseException:
            out.append(part)
            continue
        if phonenumbers.is_valid_number(number):
            out.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        else:
            out.append(part)
    return ";".join(p for p in out if p) if len(parts) > 1 else (out[0] if out else cell)


#: Countries whose postal codes are a fixed number of digits that may begin with 0 (US ZIP 02134,
#: German PLZ 01067, French 01000, Italian CAP 00100, Spanish 08001, Finnish 00100, Mexican 01000).
ZERO_PADDED_POSTCODES: dict[str, int] = {"US": 5, "DE": 5, "FR": 5, "IT": 5, "ES": 5, "FI": 5, "MX": 5}
_POSTCODE = re.compile(r"^(\d+)(-\d{4})?$")


def restore_leading_zeros(postal: str, country: str | None) -> str:
    """``postal`` with the leading zeros a spreadsheet dropped put back, when ``country`` writes its
    codes with a fixed number of digits (at most two zeros: 1067 → 01067 in DE, 100 → 00100 in IT;
    ZIP+4 keeps its suffix: 2134-1234 → 02134-1234 in US). Anything else is returned as it is.

    >>> restore_leading_zeros("1067", "DE"), restore_leading_zeros("2134-1234", "US")
    ('01067', '02134-1234')
    >>> restore_leading_zeros("1067", "AT"), restore_leading_zeros("10", "DE")
    ('1067', '10')
    """
    width = ZERO_PADDED_POSTCODES.get(country or "")
    m = _POSTCODE.match(postal.strip()) if width else None
    if width is None or m is None or not width - 2 <= len(m.group(1)) < width:
        return postal
    if m.group(2) and country != "US":
        return postal
    return m.group(1).zfill(width) + (m.group(2) or "")


@dataclass(slots=True)
class _PostcodeOp:
    """Postal codes whose leading zeros a spreadsheet dropped, restored in the country of their row:
    Excel reads 01067 as the number 1067 when it opens a CSV file and writes 1067 when it saves it
    ("PLZ ohne führende Null"), and an XLSX cell may hold the code as a number."""

    pairs: list[tuple[int, int]]  # (postal code cell, country cell) of one address field

    def apply(self, out: list[Any]) -> None:
        n = len(out)
        for postal, country in self.pairs:
            cell = out[postal] if postal < n else None
            raw_country = out[country] if country < n else None
            if _is_blank(cell) or _is_blank(raw_country) or isinstance(cell, bool):
                continue
            if isinstance(cell, float) and not cell.is_integer():
                continue
            try:
                region = str(_country(raw_country))
            except TransformError:
                continue
            text = _text(cell)
            fixed = restore_leading_zeros(text, region)
            if fixed != text:
                out[postal] = fixed


@dataclass(slots=True)
class _JoinOp:
    target: int
    sources: list[int]

    def apply(self, out: list[Any], cells: list[Any]) -> None:
        parts = [out[self.target]] + [cells[i] if i < len(cells) else None for i in self.sources]
        texts = [_text(p) for p in parts if not _is_blank(p)]
        out[self.target] = MULTI_SEPARATOR.join(texts) if texts else out[self.target]


@dataclass(slots=True)
class _CurrencyOp:
    target: int  # the amount's cell
    index: int  # the currency code's cell

    def apply(self, out: list[Any], cells: list[Any]) -> None:
        amount = out[self.target] if self.target < len(out) else None
        code = cells[self.index] if self.index < len(cells) else None
        if _is_blank(amount) or _is_blank(code) or isinstance(amount, bool):
            return
        text = _text(code).upper()
        if not re.fullmatch(r"[A-Z]{3}", text):
            return  # not an ISO code: the amount is read as it is
        value = repr(amount) if isinstance(amount, float) else _text(amount)
        if text not in value.upper():
            out[self.target] = f"{text} {value}"


@dataclass(slots=True)
class _SkipOp:
    index: int
    letter: str
    header: str
    values: frozenset[str]  # folded


@dataclass
class RowTransformer:
    """The compiled per-column work of a mapping file. :meth:`rows` applies it; issues go to the
    ``issues`` list handed in (the pipeline's live list of row-located issues)."""

    width: int
    columns: list[_ColumnOp] = field(default_factory=list)
    derived: list[_DerivedOp] = field(default_factory=list)
    fallbacks: list[_FallbackOp] = field(default_factory=list)
    skips: list[_SkipOp] = field(default_factory=list)
    currencies: list[_CurrencyOp] = field(default_factory=list)
    joins: list[_JoinOp] = field(default_factory=list)
    phone_region: _PhoneRegionOp | None = None
    postcodes: _PostcodeOp | None = None
    file: str | None = None
    sheet: str | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.columns
            or self.derived
            or self.fallbacks
            or self.skips
            or self.currencies
            or self.joins
            or self.phone_region
            or self.postcodes
        )

    def _fail(self, issues: list[Issue], row: int, op: Any, raw: Any, exc: TransformError) -> None:
        issues.append(
            Issue(
                exc.code,
                exc.message,
                file=self.file,
                sheet=self.sheet,
                row=row,
                column=op.letter,
                header=op.header,
                field=op.key,
                value=raw if isinstance(raw, (str, int, float, bool)) or raw is None else str(raw),
                expected=exc.expected,
            )
        )

    def apply(
        self,
        number: int,
        cells: list[Any],
        issues: list[Issue],
        filled: dict[int, tuple[str, str]] | None = None,
    ) -> list[Any]:
        n = len(cells)
        width = self.width
        out = cells[:width] if n >= width else [*cells, *([None] * (width - n))]
        for op in self.columns:
            raw = cells[op.index] if op.index < n else None
            if _is_blank(raw):
                continue
            memo = op.memo
            hit = memo.get(raw, _MISS) if isinstance(raw, (str, int, float)) else _MISS
            if hit is _MISS:
                try:
                    hit = op.fn(raw)
                except TransformError as exc:
                    hit = exc
                if isinstance(raw, (str, int, float)):
                    if len(memo) >= MEMO:
                        memo.clear()
                    memo[raw] = hit
            if isinstance(hit, TransformError):
                out[op.index] = None
                self._fail(issues, number, op, raw, hit)
            else:
                out[op.index] = hit
        for fb in self.fallbacks:
            raw = cells[fb.index] if fb.index < n else None
            if _is_blank(raw) or not _is_blank(out[fb.target]):
                continue
            try:
                out[fb.target] = fb.fn(raw) if fb.fn is not None else raw
            except TransformError as exc:
                self._fail(issues, number, fb, raw, exc)
                continue
            if filled is not None:
                filled[fb.target] = (fb.letter, fb.header)
        for j in self.joins:
            j.apply(out, cells)
        for c in self.currencies:
            c.apply(out, cells)
        for d in self.derived:
            if d.constant is not None:
                value: Any = d.constant
            else:
                parts = [_text(cells[i]) for i in d.sources if i < n and not _is_blank(cells[i])]
                value = d.sep.join(parts) if parts else None
                if d.numbers:
                    value = _with_number(d, value, cells, out)
            if value is not None and d.fn is not None:
                try:
                    value = d.fn(value)
                except TransformError as exc:
                    self._fail(issues, number, d, value, exc)
                    value = None
            out.append(value)
        if self.phone_region is not None:
            self.phone_region.apply(out)
        if self.postcodes is not None:
            self.postcodes.apply(out)
        return out

    def rows(self, rows: Iterable[Any], issues: list[Issue]) -> Iterator[Any]:
        """Transformed rows (the input rows themselves when there is nothing to do)."""
        if not self.active:
            yield from rows
            return
        apply, skips = self.apply, self.skips
        for r in rows:
            hit = next((s for s in skips if self._skipped(s, r.cells)), None) if skips else None
            if hit is not None:
                raw = r.cells[hit.index] if hit.index < len(r.cells) else None
                shown = "blank" if _is_blank(raw) else repr(_text(raw))
                issues.append(
                    Issue(
                        "skipped_row",
                        f"row {r.number} is not imported: its {hit.header.strip()} is {shown} "
                        "(skip_rows in the mapping)",
                        file=self.file,
                        sheet=self.sheet,
                        row=r.number,
                        column=hit.letter,
                        header=hit.header,
                        value=None if raw is None else _text(raw),
                        severity="warning",
                    )
                )
                continue
            if self.fallbacks:
                filled: dict[int, tuple[str, str]] = {}
                cells = apply(r.number, r.cells, issues, filled)
                yield Row(r.number, cells, filled or None)
            else:
                yield Row(r.number, apply(r.number, r.cells, issues))

    @staticmethod
    def _skipped(op: _SkipOp, cells: list[Any]) -> bool:
        raw = cells[op.index] if op.index < len(cells) else None
        if _is_blank(raw):
            return "" in op.values  # skip_rows: [""]: the rows where the column is blank
        return fold(_text(raw)) in op.values


def compile_mapping(
    spec: MappingFile | None,
    header_map: Any,
    schema: ObjectSchema,
    *,
    file: str | None = None,
    sheet: str | None = None,
) -> RowTransformer:
    """The :class:`RowTransformer` for ``spec`` (None: no mapping file) over a file whose headers
    ``header_map`` mapped. Derived columns are appended to ``header_map`` (cells after the file's own).
    Without a mapping it still joins columns of a field that takes several values and reads national
    phone numbers in their row's country."""
    from .mapping import MappedColumn, column_for, explicit_entry

    width = len(header_map.columns)
    t = RowTransformer(width=width, file=file, sheet=sheet)
    for key, extra in getattr(header_map, "joins", {}).items():
        if key in header_map.by_key:
            t.joins.append(_JoinOp(header_map.by_key[key].index, [m.index for m in extra]))
    if spec is None or not spec.has_work():
        _companion_currencies(t, header_map, schema)
        for key, fb in getattr(header_map, "fallbacks", {}).items():
            primary = header_map.by_key.get(key)
            if primary is not None:  # a name column's id column (Zoho's "Account Name.id")
                t.fallbacks.append(_FallbackOp(primary.index, fb.index, fb.letter, fb.header, key, None))
        t.phone_region = _phone_region_op(header_map, schema)
        t.postcodes = _postcode_op(header_map)
        return t

    def multi_for(key: str) -> bool:
        f = schema.fields.get(key)
        if f is not None:
            return f.value_type == "MULTI_SELECT"
        r = schema.relationships.get(key)
        return bool(r is not None and r.has_many)

    def fns(
        steps: list[Step], values: dict[str, str], default: str | None, unmapped: str, key: str, what: str
    ) -> list[Fn]:
        out = [compile_step(s) for s in steps]
        if values or default is not None or unmapped != "pass":
            out.append(value_mapper(values, default, unmapped, multi=multi_for(key), what=what))
        return out

    mapping = spec.targets()
    for mc in header_map.columns:
        entry = explicit_entry(mc.header, mapping)
        if entry is None or mc.column is None or mc.how != "mapping":
            continue
        col = spec.columns[entry]
        chain = fns(
            col.transform, col.values, col.default, col.unmapped, mc.column.key, f'column "{mc.header}"'
        )
        if chain:
            t.columns.append(_ColumnOp(mc.index, mc.letter, mc.header, mc.column.key, _chain(chain)))
    for mc in header_map.columns:
        entry = explicit_entry(mc.header, mapping) if mc.header.strip() else None
        if entry is not None and spec.columns[entry].skip_rows:
            values = frozenset(fold(v) for v in spec.columns[entry].skip_rows)
            t.skips.append(_SkipOp(mc.index, mc.letter, mc.header, values))
    for mc in header_map.columns:
        entry = explicit_entry(mc.header, mapping) if mc.header.strip() else None
        wanted = spec.columns[entry].currency_from if entry is not None and mc.column is not None else None
        if wanted is None or mc.column is None or header_map.by_key.get(mc.column.key) is not mc:
            continue
        heads = {m.header: m for m in header_map.columns if m.header.strip()}
        for name in [wanted] if isinstance(wanted, str) else wanted:
            found = explicit_entry(name, heads)
            source = heads[found] if found is not None else None
            if source is not None:
                t.currencies.append(_CurrencyOp(mc.index, source.index))
                break
    _companion_currencies(t, header_map, schema)
    for key, fb in getattr(header_map, "fallbacks", {}).items():
        entry = explicit_entry(fb.header, mapping)
        primary = header_map.by_key.get(key)
        if primary is None:  # pragma: no cover - map_headers only keeps such pairs
            continue
        chain = []
        if entry is not None:  # else a name column's id column the mapping does not name
            col = spec.columns[entry]
            chain = fns(col.transform, col.values, col.default, col.unmapped, key, f'column "{fb.header}"')
        t.fallbacks.append(
            _FallbackOp(primary.index, fb.index, fb.letter, fb.header, key, _chain(chain) if chain else None)
        )
    index_of: dict[str, Any] = {}
    for mc in header_map.columns:
        if mc.header.strip():
            index_of.setdefault(mc.header.strip(), mc)
    headers = {m.header: "" for m in header_map.columns if m.header}

    def present(names: Iterable[str]) -> list[Any]:
        """The file's columns a derived column names (by header, as a mapping matches one)."""
        found = []
        for h in names:
            e = explicit_entry(h, headers)
            mc = index_of.get(e.strip()) if e is not None else None
            if mc is not None:
                found.append(mc)
        return found

    for i, d in enumerate(spec.derived):
        sources: list[Any] = []
        if d.join is not None:
            sources = present(d.join)
            if not sources:
                continue  # none of its columns is in this file: nothing to derive
        target = column_for(schema, d.field, header_map.key_field)
        if target is None:
            continue
        guess = header_map.by_key.get(d.field)
        if guess is not None:
            if guess.how == "mapping" or not sources:
                continue  # a column the mapping names already feeds this field (it wins)
            sources += _give_way(t, header_map, guess, schema, d.field, file=file, sheet=sheet)
        first = sources[0] if sources else None
        letter = first.letter if first is not None else "-"
        header = " + ".join(m.header for m in sources) if sources else f"{d.field} = {d.constant!r}"
        chain = fns(d.transform, d.values, d.default, d.unmapped, target.key, f"derived {d.field}")
        index = width + len(t.derived)
        numbers = [mc.index for mc in present(d.house_number or ())]
        t.derived.append(
            _DerivedOp(
                index,
                letter,
                header,
                target.key,
                [m.index for m in sources],
                d.sep,
                d.constant,
                _chain(chain) if chain else None,
                numbers,
                _country_column(header_map) if numbers else None,
            )
        )
        mc_new = MappedColumn(index, letter, header, target, "derived")
        header_map.columns.append(mc_new)
        header_map.by_key[target.key] = mc_new
        if target.key == header_map.key_field:
            # the key is built from other columns (Apollo's company: its website domain): rows do match
            header_map.issues[:] = [i for i in header_map.issues if i.code != "missing_key_column"]
    t.phone_region = _phone_region_op(header_map, schema)
    t.postcodes = _postcode_op(header_map)
    return t


def _companion_currencies(t: RowTransformer, header_map: Any, schema: ObjectSchema) -> None:
    """An amount column followed by its currency: Salesforce reports of a multi-currency org write
    "Amount Currency" beside "Amount" (and "<field> Currency" beside every currency field). That
    column is the amount's currency when nothing else reads it, so an amount in another currency than
    the field's is refused instead of stored as if it were in the field's."""
    have = {c.target for c in t.currencies}
    unread = {
        re.sub(r"[\W_]+", "", m.header.casefold()): m
        for m in header_map.columns
        if m.header.strip() and m.column is None
    }
    for key, mc in header_map.by_key.items():
        f = schema.fields.get(key)
        if f is None or f.value_type != "CURRENCY" or mc.index in have or not mc.header.strip():
            continue
        companion = unread.get(re.sub(r"[\W_]+", "", f"{mc.header} currency".casefold()))
        if companion is not None:
            t.currencies.append(_CurrencyOp(mc.index, companion.index))
            header_map.issues[:] = [  # it is read after all: no "does not match any field" warning
                i
                for i in header_map.issues
                if not (i.code == "unknown_column" and i.column == companion.letter)
            ]


def _postcode_op(header_map: Any) -> _PostcodeOp | None:
    """The postal code and country cells of each address field the file fills both parts of."""
    pairs = []
    for key, mc in header_map.by_key.items():
        if key.endswith(".postalCode"):
            country = header_map.by_key.get(key[: -len("postalCode")] + "country")
            if country is not None:
                pairs.append((mc.index, country.index))
    return _PostcodeOp(pairs) if pairs else None


def _give_way(
    t: RowTransformer,
    header_map: Any,
    guess: Any,
    schema: ObjectSchema,
    key: str,
    *,
    file: str | None,
    sheet: str | None,
) -> list[Any]:
    """A column matched only by its name (HubSpot's ``Work email`` beside the ``Email`` and
    ``Additional email addresses`` a profile joins) gives way to the mapping's derived column for the
    same field: the mapping says how the file fills it. A field that takes several values keeps the
    column's values (returned, to join after the mapping's); another field leaves it out. Either way a
    warning names it."""
    from .mapping import MappedColumn

    fdef = schema.fields.get(key)
    several = fdef is not None and fdef.multiple
    # columns already joined to the guess (two of them: "Work email", "E-Mail 2") go with it
    joined = header_map.joins.pop(key, [])
    extra = [guess, *joined] if several else []
    t.joins[:] = [j for j in t.joins if j.target != guess.index]
    header_map.columns[header_map.columns.index(guess)] = MappedColumn(
        guess.index, guess.letter, guess.header, None, "joined" if several else guess.how
    )
    del header_map.by_key[key]
    row = next((i.row for i in header_map.issues if i.row is not None), 1)
    for mc in extra or [guess, *joined]:
        message = (
            f'column "{mc.header.strip()}" also reads as {key}: its values are added to those the mapping '
            "joins for it"
            if several
            else f'column "{mc.header.strip()}" also reads as {key}, but the mapping builds {key} from '
            "other columns; the column is ignored (name it in a mapping file to use it instead)"
        )
        header_map.issues.append(
            Issue(
                "joined_column" if several else "duplicate_header",
                message,
                file=file,
                sheet=sheet,
                row=row,
                column=mc.letter,
                header=mc.header,
                field=key,
                severity="warning",
            )
        )
    return extra


def _country_column(header_map: Any) -> int | None:
    """The row's country: the column mapped to the address country, else an unmapped column named
    like a country (Country/Region, MailingCountry, Land, Pays)."""
    country = next((mc for key, mc in header_map.by_key.items() if key.endswith(".country")), None)
    if country is None:
        country = next(
            (
                mc
                for mc in header_map.columns
                if mc.column is None and re.sub(r"[\W_]+", "", mc.header.casefold()) in COUNTRY_HEADERS
            ),
            None,
        )
    return country.index if country is not None else None


def _phone_region_op(header_map: Any, schema: ObjectSchema) -> _PhoneRegionOp | None:
    """The row's country for its phone numbers (:func:`_country_column`)."""
    phones = [
        mc.index
        for key, mc in header_map.by_key.items()
        if (f := schema.fields.get(key)) is not None and f.value_type == "TELEPHONE"
    ]
    if not phones:
        return None
    country = _country_column(header_map)
    return _PhoneRegionOp(phones, country) if country is not None else None


__all__ = [
    "Row",
    "RowTransformer",
    "TransformError",
    "compile_mapping",
    "compile_step",
    "fold",
    "number_reader",
    "value_mapper",
]
