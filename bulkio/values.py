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
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .columns import CLEAR_TOKEN, FORMAT_HINTS, MULTI_SEPARATOR
from .definitions import FieldDef
from .errors import ConfigError

DateOrder = Literal["YMD", "DMY", "MDY"]

#: Largest integer the API accepts (JSON safe integer).
MAX_SAFE_INTEGER = 2**53 - 1
#: Excel serial numbers read as dates when a DATETIME cell holds a plain number in this range
#: (1950-01-01 .. 2199-12-31), so a year like 2026 or an amount is never taken for a date.
EXCEL_SERIAL_RANGE = (18264.0, 109574.0)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseOptions:
    """How to read ambiguous cells. ``tz`` is the zone of naive date-times (not of date-only
    cells, which are midnight UTC); ``decimal`` is the decimal mark of number strings."""

    date_order: DateOrder | None = None
    tz: str = "UTC"
    decimal: Literal[".", ","] = "."
    multi_separator: str = MULTI_SEPARATOR

    def __post_init__(self) -> None:
        if self.date_order not in (None, "YMD", "DMY", "MDY"):
            raise ConfigError(f"date order must be YMD, DMY or MDY, not {self.date_order!r}")
        if self.decimal not in (".", ","):
            raise ConfigError(f"decimal mark must be '.' or ',', not {self.decimal!r}")
        if not self.multi_separator:
            raise ConfigError("the multi-value separator cannot be empty")
        try:
            _zone(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {self.tz!r} (use an IANA name like "
                              f"'Europe/Berlin')") from exc

    @property
    def zone(self) -> dt.tzinfo:
        return _zone(self.tz)


_ZONES: dict[str, dt.tzinfo] = {}


def _zone(name: str) -> dt.tzinfo:
    z = _ZONES.get(name)
    if z is None:
        z = dt.UTC if name.upper() in ("UTC", "Z") else ZoneInfo(name)
        _ZONES[name] = z
    return z


DEFAULT_OPTIONS = ParseOptions()


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


class _Bad(Exception):
    """Internal: a parser rejects a cell. Caught in :func:`parse_cell`, never escapes."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


# --- helpers -----------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def _text(raw: Any) -> str:
    """Any cell as text: 12.0 -> "12", True -> "TRUE"-free "true", dates ISO."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        if math.isfinite(raw) and raw.is_integer() and abs(raw) <= MAX_SAFE_INTEGER:
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, dt.datetime):
        return raw.isoformat(sep=" ")
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    return str(raw).strip()


def _is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _split(raw: Any, options: ParseOptions, extra: str = "") -> list[str]:
    """Split a multi-value cell on the separator (and newlines, and ``extra``); drop empties."""
    text = _text(raw)
    seps = options.multi_separator + "\n" + extra
    if any(c in text for c in seps):
        pattern = "|".join(re.escape(s) for s in (options.multi_separator, "\r\n", "\n", *extra))
        parts = re.split(pattern, text)
    else:
        parts = [text]
    return [p.strip() for p in parts if p.strip()]


def _dedupe(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _norm_label(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


# --- numbers -----------------------------------------------------------------------------------

_NUM_DOT = re.compile(r"^(?:\d{1,3}(?:([, \u00a0'\u202f])\d{3})(?:\1\d{3})*|\d*)(?:\.(\d*))?$")
_NUM_COMMA = re.compile(r"^(?:\d{1,3}(?:([. \u00a0'\u202f])\d{3})(?:\1\d{3})*|\d*)(?:,(\d*))?$")
_SCI = re.compile(r"^\d+(?:\.\d+)?[eE][+-]?\d+$")
_CURRENCY_SYMBOLS: dict[str, frozenset[str]] = {
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"}),
    "US$": frozenset({"USD"}), "A$": frozenset({"AUD"}), "C$": frozenset({"CAD"}),
    "€": frozenset({"EUR"}), "£": frozenset({"GBP"}), "¥": frozenset({"JPY", "CNY"}),
    "₹": frozenset({"INR"}), "₩": frozenset({"KRW"}), "CHF": frozenset({"CHF"}),
}
_SYMBOLS_LONGEST_FIRST = sorted(_CURRENCY_SYMBOLS, key=len, reverse=True)
_CODE_AROUND = re.compile(r"^([A-Z]{3})\s*(.*)$|^(.*?)\s*([A-Z]{3})$")


def _to_number(d: Decimal) -> int | float:
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def _number_text(text: str, options: ParseOptions) -> Decimal:
    """Read a number string: sign, thousands separators, one decimal mark, trailing %."""
    s = text.strip().replace("\u2212", "-")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.endswith("%"):
        s = s[:-1].strip()
    if s[:1] in ("+", "-"):
        negative = negative or s[0] == "-"
        s = s[1:].strip()
    if not s:
        raise _Bad("invalid_number", f"{text!r} is not a number")
    if _SCI.match(s):
        d = Decimal(s)
    else:
        m = (_NUM_DOT if options.decimal == "." else _NUM_COMMA).match(s)
        if not m or not any(c.isdigit() for c in s):
            raise _Bad("invalid_number", f"{text!r} is not a number")
        sep = m.group(1)
        head = s if m.group(2) is None else s[: s.rindex("." if options.decimal == "." else ",")]
        digits = head.replace(sep, "") if sep else head
        d = Decimal(f"{digits or '0'}.{m.group(2) or '0'}")
    return -d if negative else d


def _check_decimals(d: Decimal, text: Any) -> Decimal:
    if not d.is_finite():
        raise _Bad("invalid_number", f"{text!r} is not a finite number")
    if abs(d) > MAX_SAFE_INTEGER:
        raise _Bad("invalid_number", f"{text!r} is too large (at most {MAX_SAFE_INTEGER})")
    if d != d.quantize(Decimal("0.01"), rounding="ROUND_HALF_EVEN"):
        raise _Bad("too_many_decimals", f"{text!r} has more than 2 decimal places")
    return d


def _float_decimal(x: float, raw: Any) -> Decimal:
    """A float from XLSX: tolerate binary noise (0.30000000000000004 is 0.3)."""
    if not math.isfinite(x):
        raise _Bad("invalid_number", f"{raw!r} is not a finite number")
    r = round(x, 2)
    if abs(x - r) <= 1e-9 * max(1.0, abs(x)):
        return Decimal(repr(r))
    return Decimal(repr(x))


def _parse_number(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if isinstance(raw, bool):
        raise _Bad("invalid_number", f"{raw!r} is a yes/no value, not a number")
    if isinstance(raw, int):
        d = Decimal(raw)
    elif isinstance(raw, float):
        d = _float_decimal(raw, raw)
    elif isinstance(raw, Decimal):
        d = raw
    elif isinstance(raw, str):
        d = _number_text(raw, o)
    else:
        raise _Bad("invalid_number", f"{_text(raw)!r} is not a number")
    return _to_number(_check_decimals(d, raw))


def _parse_currency(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if not isinstance(raw, str):
        return _parse_number(f, raw, o)
    field_cur = (f.type_configuration.currency or "").upper() or None
    s = raw.strip().replace("\u2212", "-")
    sign = ""
    if s[:1] in ("+", "-"):
        sign, s = s[0], s[1:].strip()
    found: frozenset[str] | None = None
    for sym in _SYMBOLS_LONGEST_FIRST if not s[:1].isdigit() or not s[-1:].isdigit() else ():
        if s.startswith(sym) or s.endswith(sym):
            found = _CURRENCY_SYMBOLS[sym]
            s = (s[len(sym):] if s.startswith(sym) else s[: -len(sym)]).strip()
            break
    else:
        m = _CODE_AROUND.match(s)
        if m:
            code = m.group(1) or m.group(4)
            rest = m.group(2) if m.group(1) else m.group(3)
            if rest and (rest[0].isdigit() or rest[0] in "+-.(,") or rest[-1].isdigit():
                found, s = frozenset({code}), rest.strip()
    if found is not None and field_cur and field_cur not in found:
        raise _Bad("invalid_number", f"{raw.strip()!r} is not in {field_cur}, the currency of this "
                                     f"field (write the amount in {field_cur})")
    d = _number_text(sign + s, o)
    return _to_number(_check_decimals(d, raw))


# --- checkbox ----------------------------------------------------------------------------------

_TRUE = frozenset({"yes", "y", "true", "t", "1", "x", "✓", "✔", "☑", "on", "checked", "1.0"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "off", "unchecked", "✗", "✘", "☐", "0.0"})


def _parse_checkbox(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    t = _text(raw).casefold()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise _Bad("invalid_checkbox", f"{_text(raw)!r} is not yes/no")


# --- date-times --------------------------------------------------------------------------------

_REGIONAL = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(.+))?$")
_YMD_SLASH = re.compile(r"^(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[ T,]+(.+))?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*([AaPp]\.?[Mm]\.?)?"
                   r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$")
_NAMED_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y",
                  "%d-%b-%Y", "%d-%B-%Y", "%d %b, %Y", "%d. %B %Y", "%a %d %b %Y", "%A, %B %d, %Y")
_NAMED = re.compile(r"^(.*?\d{4})(?:[ T,]+(\d{1,2}:\d{2}.*))?$")


def _utc_iso(d: dt.datetime) -> str:
    return d.astimezone(dt.UTC).isoformat()


def _finish(d: dt.datetime, o: ParseOptions, *, date_only: bool = False) -> str:
    """Aware -> UTC; date-only -> midnight UTC; naive -> interpreted in ``options.tz``."""
    if d.tzinfo is not None:
        return _utc_iso(d)
    if date_only:
        return _utc_iso(d.replace(tzinfo=dt.UTC))
    zone = o.zone
    return _utc_iso(d.replace(tzinfo=zone))


def _apply_time(day: dt.date, time_text: str | None, raw: Any, o: ParseOptions) -> str:
    if not time_text:
        return _finish(dt.datetime(day.year, day.month, day.day), o, date_only=True)
    m = _TIME.match(time_text.strip())
    if not m:
        raise _Bad("invalid_date", f"{_text(raw)!r}: cannot read the time {time_text.strip()!r}")
    hh, mm, ss, frac, ampm, zone = m.groups()
    hour, minute, second = int(hh), int(mm or 0), int(ss or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise _Bad("invalid_date", f"{_text(raw)!r}: hour {hour} with AM/PM")
        pm = ampm[0] in "Pp"
        hour = (hour % 12) + (12 if pm else 0)
    elif mm is None:
        raise _Bad("invalid_date", f"{_text(raw)!r}: cannot read the time {time_text.strip()!r}")
    micro = int((frac or "0").ljust(6, "0"))
    try:
        d = dt.datetime(day.year, day.month, day.day, hour, minute, second, micro)
    except ValueError as exc:
        raise _Bad("invalid_date", f"{_text(raw)!r}: {exc}") from None
    if zone:
        if zone in ("Z", "UTC", "GMT"):
            return _utc_iso(d.replace(tzinfo=dt.UTC))
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        off = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return _utc_iso(d.replace(tzinfo=dt.timezone(sign * off)))
    return _finish(d, o)


def _date(y: int, m: int, d: int, raw: Any) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError as exc:
        raise _Bad("invalid_date", f"{_text(raw)!r} is not a valid date ({exc})") from None


def _excel_serial(x: float, raw: Any, o: ParseOptions) -> str:
    lo, hi = EXCEL_SERIAL_RANGE
    if not (math.isfinite(x) and lo <= x <= hi):
        raise _Bad("invalid_date", f"{_text(raw)!r} is a number, not a date")
    d = _EXCEL_EPOCH + dt.timedelta(days=x)
    d = d.replace(microsecond=0) + dt.timedelta(seconds=round(d.microsecond / 1e6))
    return _finish(d, o, date_only=d.time() == dt.time(0))


def _parse_datetime(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if isinstance(raw, dt.datetime):
        # A datetime cell at exactly midnight is how XLSX stores a date: midnight UTC.
        return _finish(raw, o, date_only=raw.tzinfo is None and raw.time() == dt.time(0))
    if isinstance(raw, dt.date):
        return _finish(dt.datetime(raw.year, raw.month, raw.day), o, date_only=True)
    if isinstance(raw, bool):
        raise _Bad("invalid_date", f"{raw!r} is not a date")
    if isinstance(raw, (int, float)):
        return _excel_serial(float(raw), raw, o)
    s = _text(raw)
    if re.fullmatch(r"\d+(?:\.\d+)?", s) and not _COMPACT.match(s):
        return _excel_serial(float(s), raw, o)
    m = _COMPACT.match(s)
    if m:
        return _apply_time(_date(int(m[1]), int(m[2]), int(m[3]), raw), None, raw, o)
    if s[:4].isdigit() and len(s) >= 10 and s[4] == "-":
        try:
            d = dt.datetime.fromisoformat(s.replace("z", "Z"))
        except ValueError:
            # "2026-03-16 2:30 PM" and friends
            head, _, tail = s.partition(" ") if " " in s else s.partition("T")
            try:
                day = dt.date.fromisoformat(head)
            except ValueError:
                raise _Bad("invalid_date", f"{s!r} is not a date in an accepted format") from None
            return _apply_time(day, tail, raw, o)
        date_only = len(s) == 10 or (d.tzinfo is None and "T" not in s and ":" not in s)
        return _finish(d, o, date_only=date_only)
    m = _YMD_SLASH.match(s)
    if m:
        return _apply_time(_date(int(m[1]), int(m[3]), int(m[4]), raw), m[5], raw, o)
    m = _REGIONAL.match(s)
    if m:
        a, b, year_text, time_text = int(m[1]), int(m[3]), m[4], m[5]
        year = int(year_text)
        if len(year_text) == 2:
            year += 2000 if year < 70 else 1900
        if a > 12 and b > 12:
            raise _Bad("invalid_date", f"{s!r}: neither {a} nor {b} can be a month")
        if a > 12:
            dd, mm = a, b
        elif b > 12:
            dd, mm = b, a
        elif a == b:
            dd = mm = a
        elif o.date_order == "DMY":
            dd, mm = a, b
        elif o.date_order == "MDY":
            dd, mm = b, a
        else:
            raise _Bad("ambiguous_date", f"{s!r} could be {a:02d} {_MONTHS[b]} or {b:02d} {_MONTHS[a]}"
                                         "; set the date order (--date-order DMY or MDY)")
        return _apply_time(_date(year, mm, dd, raw), time_text, raw, o)
    m = _NAMED.match(s)
    if m and any(c.isalpha() for c in m[1]):
        text = _WS.sub(" ", m[1].replace(",", ", ")).replace(" ,", ",").strip()
        text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
        for fmt in _NAMED_FORMATS:
            try:
                day = dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            return _apply_time(day, m[2], raw, o)
    raise _Bad("invalid_date", f"{s!r} is not a date in an accepted format")


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- email, url, phone, social -----------------------------------------------------------------

_EMAIL = re.compile(r"^([^\s@<>()\[\],;:\"]+)@((?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,})$")


def _one_email(text: str) -> str:
    s = text.strip()
    m = re.fullmatch(r"[^<>]*<([^<>]+)>", s)  # "Ana Lima <ana@x.com>"
    if m:
        s = m.group(1).strip()
    if s.lower().startswith("mailto:"):
        s = s[7:]
    m = _EMAIL.match(s)
    if not m or m.group(1).startswith(".") or m.group(1).endswith(".") or ".." in m.group(1):
        raise _Bad("invalid_email", f"{text.strip()!r} is not a valid email address")
    return f"{m.group(1)}@{m.group(2).lower()}"


def _parse_email(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if f.multiple:
        return _dedupe([_one_email(p) for p in _split(raw, o, ",")])
    parts = _split(raw, o, ",")
    if len(parts) > 1:
        raise _Bad("invalid_email", "this field holds one email address, not several")
    return _one_email(parts[0])


_DOMAIN_LIKE = re.compile(r"^[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:[/?#].*)?$")


def _one_url(text: str) -> str:
    s = text.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", s):
        if s.startswith("//"):
            s = "https:" + s
        elif _DOMAIN_LIKE.match(s):
            s = "https://" + s
    try:
        parts = urlsplit(s)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _Bad("invalid_url", f"{text.strip()!r} is not a valid URL") from None
    if (parts.scheme.lower() not in ("http", "https") or "." not in host or any(c.isspace() for c in s)
            or host.startswith(".") or host.endswith(".") or ".." in host):
        raise _Bad("invalid_url", f"{text.strip()!r} is not a valid http(s) URL")
    netloc = parts.netloc
    at = netloc.rfind("@") + 1
    netloc = netloc[:at] + netloc[at:].lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def _parse_url(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    parts = _split(raw, o)
    if f.multiple:
        return _dedupe([_one_url(p) for p in parts])
    if len(parts) > 1:
        raise _Bad("invalid_url", "this field holds one URL, not several")
    return _one_url(parts[0])


_EXT = re.compile(r"\s*(?:;\s*ext=|,?\s*(?:ext\.?|extension|x|#)\s*)(\d{1,6})\s*$", re.IGNORECASE)
_EXT_TAG = re.compile(r";\s*ext=", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-.()/]+$")


def _one_phone(raw: Any) -> str:
    text = _text(raw)
    s = text
    if s.lower().startswith("tel:"):
        s = s[4:].strip()
    ext = None
    m = _EXT.search(s)
    if m:
        ext, s = m.group(1), s[: m.start()].strip()
    if not _PHONE_CHARS.match(s) or s.count("+") > 1:
        raise _Bad("invalid_phone", f"{text!r} is not a telephone number")
    digits = re.sub(r"\D", "", s)
    if s.startswith("+"):
        number = "+" + digits
    elif digits.startswith("00") and 9 <= len(digits) <= 17:
        number, digits = "+" + digits[2:], digits[2:]
    elif len(digits) == 10 and digits[0] not in "01":
        number, digits = "+1" + digits, "1" + digits
    elif len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
        number = "+" + digits
    else:
        number = digits
    if not 7 <= len(digits) <= 15:
        raise _Bad("invalid_phone", f"{text!r} has {len(digits)} digits (a number has 7 to 15)")
    return number + (f";ext={ext}" if ext else "")


def _parse_phone(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if not isinstance(raw, str):
        return [_one_phone(raw)] if f.multiple else _one_phone(raw)
    raw = _EXT_TAG.sub(" ext ", raw)   # "+1415…;ext=9" must not split on ";"
    parts = _split(raw, o)
    if f.multiple:
        return _dedupe([_one_phone(p) for p in parts])
    if len(parts) > 1:
        raise _Bad("invalid_phone", "this field holds one telephone number, not several")
    return _one_phone(parts[0])


#: handleService -> (hosts, canonical URL prefix for a bare handle, canonical host)
SOCIAL_SERVICES: dict[str, tuple[frozenset[str], str, str]] = {
    "LINKEDIN": (frozenset({"linkedin.com", "www.linkedin.com", "lnkd.in"}),
                 "https://www.linkedin.com/in/", "www.linkedin.com"),
    "TWITTER": (frozenset({"twitter.com", "www.twitter.com", "x.com", "www.x.com", "mobile.twitter.com",
                           "mobile.x.com"}), "https://x.com/", "x.com"),
    "FACEBOOK": (frozenset({"facebook.com", "www.facebook.com", "m.facebook.com", "fb.com",
                            "www.fb.com"}), "https://www.facebook.com/", "www.facebook.com"),
    "INSTAGRAM": (frozenset({"instagram.com", "www.instagram.com"}), "https://www.instagram.com/",
                  "www.instagram.com"),
}
SERVICE_NAMES = {"LINKEDIN": "LinkedIn", "TWITTER": "X (Twitter)", "FACEBOOK": "Facebook",
                 "INSTAGRAM": "Instagram"}
_HANDLE = re.compile(r"^@?([\w][\w.\-]{0,99})$")


def _service_of(host: str) -> str | None:
    host = host.lower()
    for name, (hosts, _, _) in SOCIAL_SERVICES.items():
        if host in hosts or any(host.endswith("." + h) for h in hosts):
            return name
    return None


def _parse_social(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    text = _text(raw)
    service = (f.type_configuration.handle_service or "").upper() or None
    m = _HANDLE.match(text)
    if m and "." not in m.group(1).rstrip("."):
        if service not in SOCIAL_SERVICES:
            return m.group(1)
        return SOCIAL_SERVICES[service][1] + m.group(1)
    s = text if "://" in text else "https://" + text.lstrip("/")
    try:
        parts = urlsplit(s)
        host = (parts.hostname or "").lower()
    except ValueError:
        host, parts = "", None
    found = _service_of(host) if host else None
    expected = SERVICE_NAMES.get(service or "", service or "social")
    if parts is None or found is None:
        if m and service in SOCIAL_SERVICES:   # a handle with dots ("ana.lima")
            return SOCIAL_SERVICES[service][1] + m.group(1)
        raise _Bad("invalid_social_handle", f"{text!r} is not a {expected} profile URL or handle")
    if service and found != service:
        raise _Bad("invalid_social_handle",
                   f"{text!r} is a {SERVICE_NAMES[found]} URL; this field takes a {expected} profile")
    path = parts.path.rstrip("/")
    if not path.strip("/"):
        raise _Bad("invalid_social_handle", f"{text!r} has no profile in it")
    query = parts.query if path.endswith("profile.php") else ""
    return urlunsplit(("https", SOCIAL_SERVICES[found][2], path, query, ""))


# --- text and selects --------------------------------------------------------------------------

def _parse_text(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    return _text(raw)


def _parse_single(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    return _WS.sub(" ", _text(raw))


def _parse_multi(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    return _dedupe([_WS.sub(" ", p) for p in _split(raw, o)])


class OptionMatch(tuple[str | None, list[str]]):
    """Result of :func:`match_option`: a ``(option_id, candidates)`` tuple. ``ambiguous`` is
    True when several options share the normalised label (``candidates`` are their IDs);
    otherwise ``candidates`` are did-you-mean labels for an unknown value."""

    ambiguous: bool

    def __new__(cls, option_id: str | None, candidates: list[str], ambiguous: bool = False) -> Self:
        self = super().__new__(cls, (option_id, candidates))
        self.ambiguous = ambiguous
        return self

    @property
    def option_id(self) -> str | None:
        return self[0]

    @property
    def candidates(self) -> list[str]:
        return self[1]


_OPTION_INDEX: dict[int, tuple[Any, dict[str, list[str]], dict[str, list[str]], dict[str, str]]] = {}


def _option_index(field: FieldDef) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    """(normalised label -> ids, casefolded id -> ids, normalised label -> label), cached per
    options list (the cache entry is checked by identity, so a new schema never sees stale data)."""
    options = field.options
    hit = _OPTION_INDEX.get(id(options))
    if hit is not None and hit[0] is options:
        return hit[1], hit[2], hit[3]
    by_label: dict[str, list[str]] = {}
    by_id: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for opt in options:
        n = _norm_label(opt.label)
        by_label.setdefault(n, []).append(opt.id)
        by_id.setdefault(opt.id.casefold(), []).append(opt.id)
        labels.setdefault(n, opt.label)
    if len(_OPTION_INDEX) > 1000:
        _OPTION_INDEX.clear()
    _OPTION_INDEX[id(options)] = (options, by_label, by_id, labels)
    return by_label, by_id, labels


def match_option(field: FieldDef, text: str) -> OptionMatch:
    """Map a cell's option text to an option ID: exact ID, then case/whitespace-insensitive
    label, then case-insensitive ID. Never a prefix or fuzzy match (those only become
    suggestions).

    >>> option_id, candidates = match_option(stage_field, "closed  won")   # doctest: +SKIP
    """
    t = text.strip()
    by_label, by_id, labels = _option_index(field)
    if t in by_id.get(t.casefold(), ()):
        return OptionMatch(t, [])
    key = _norm_label(t)
    hits = by_label.get(key) or by_id.get(key) or []
    if len(hits) == 1:
        return OptionMatch(hits[0], [])
    if len(hits) > 1:
        return OptionMatch(None, list(hits), ambiguous=True)
    close = difflib.get_close_matches(key, list(labels), n=3, cutoff=0.6)
    close += [n for n in labels if key and n.startswith(key) and n not in close]
    return OptionMatch(None, [labels[c] for c in close][:3])


def _option_label(field: FieldDef, option_id: str) -> str:
    """The label to show for an option ID; the ID itself when the label would not map back
    (unknown ID, duplicate label, or a label containing the multi-value separator)."""
    for opt in field.options:
        if opt.id == option_id:
            label = opt.label
            if MULTI_SEPARATOR in label or label != label.strip() or not label:
                return option_id
            m = match_option(field, label)
            return label if m.option_id == option_id else option_id
    return option_id


# --- address and full name ---------------------------------------------------------------------

#: ISO 3166-1 alpha-2 codes (officially assigned).
_ISO_TEXT = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
VG VI VN VU WF WS YE YT ZA ZM ZW"""
ISO_COUNTRIES = frozenset(_ISO_TEXT.split())

#: Common country names and 3-letter codes people type instead of the 2-letter code.
COUNTRY_NAMES: dict[str, str] = {
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.": "US",
    "u.s.a.": "US", "america": "US", "united kingdom": "GB", "uk": "GB", "u.k.": "GB",
    "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "gbr": "GB",
    "germany": "DE", "deutschland": "DE", "deu": "DE", "france": "FR", "fra": "FR", "spain": "ES",
    "españa": "ES", "espana": "ES", "esp": "ES", "italy": "IT", "italia": "IT", "ita": "IT",
    "netherlands": "NL", "the netherlands": "NL", "holland": "NL", "nld": "NL", "belgium": "BE",
    "switzerland": "CH", "schweiz": "CH", "che": "CH", "austria": "AT", "österreich": "AT",
    "aut": "AT", "ireland": "IE", "irl": "IE", "portugal": "PT", "prt": "PT", "poland": "PL",
    "polska": "PL", "pol": "PL", "sweden": "SE", "swe": "SE", "norway": "NO", "nor": "NO",
    "denmark": "DK", "dnk": "DK", "finland": "FI", "fin": "FI", "iceland": "IS", "greece": "GR",
    "czech republic": "CZ", "czechia": "CZ", "hungary": "HU", "romania": "RO", "bulgaria": "BG",
    "croatia": "HR", "ukraine": "UA", "russia": "RU", "turkey": "TR", "türkiye": "TR", "israel": "IL",
    "isr": "IL", "united arab emirates": "AE", "uae": "AE", "saudi arabia": "SA", "egypt": "EG",
    "south africa": "ZA", "zaf": "ZA", "nigeria": "NG", "kenya": "KE", "india": "IN", "ind": "IN",
    "china": "CN", "chn": "CN", "japan": "JP", "jpn": "JP", "south korea": "KR", "korea": "KR",
    "republic of korea": "KR", "kor": "KR", "taiwan": "TW", "hong kong": "HK", "singapore": "SG",
    "sgp": "SG", "malaysia": "MY", "indonesia": "ID", "philippines": "PH", "thailand": "TH",
    "vietnam": "VN", "viet nam": "VN", "australia": "AU", "aus": "AU", "new zealand": "NZ",
    "nzl": "NZ", "canada": "CA", "can": "CA", "mexico": "MX", "méxico": "MX", "mex": "MX",
    "brazil": "BR", "brasil": "BR", "bra": "BR", "argentina": "AR", "arg": "AR", "chile": "CL",
    "colombia": "CO", "peru": "PE", "luxembourg": "LU", "estonia": "EE", "latvia": "LV",
    "lithuania": "LT", "slovakia": "SK", "slovenia": "SI", "serbia": "RS", "pakistan": "PK",
    "bangladesh": "BD",
}


def _country(raw: Any) -> str:
    text = _text(raw)
    code = text.upper()
    if len(code) == 2 and code in ISO_COUNTRIES:
        return code
    if code == "UK":
        return "GB"
    found = COUNTRY_NAMES.get(_norm_label(text))
    if found:
        return found
    raise _Bad("invalid_country", f"{text!r} is not a 2-letter ISO country code (e.g. US, DE, GB)")


def _coordinate(raw: Any, limit: int, name: str, o: ParseOptions) -> int | float:
    if isinstance(raw, bool):
        raise _Bad("invalid_number", f"{raw!r} is not a {name}")
    if isinstance(raw, (int, float)):
        d = Decimal(repr(float(raw))) if isinstance(raw, float) else Decimal(raw)
    else:
        d = _number_text(_text(raw), o)
    if not d.is_finite() or abs(d) > limit:
        raise _Bad("invalid_number", f"{_text(raw)!r} is not a {name} (-{limit} to {limit})")
    return _to_number(d)


def _address_part(part: str, raw: Any, o: ParseOptions) -> Any:
    if part == "country":
        return _country(raw)
    if part == "latitude":
        return _coordinate(raw, 90, "latitude", o)
    if part == "longitude":
        return _coordinate(raw, 180, "longitude", o)
    if part in ("street", "street2", "city", "state", "postalCode"):
        return _text(raw)
    raise _Bad("invalid_type", f"an address has no part {part!r}")


def _parse_address(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if isinstance(raw, dict):
        out = {}
        for k, v in raw.items():
            out[k] = None if _is_blank(v) else _address_part(k, v, o)
        return out
    raise _Bad("invalid_type", "an address goes in its part columns (street, city, …, country)")


def _parse_full_name(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if isinstance(raw, dict):
        bad = set(raw) - {"firstName", "lastName"}
        if bad:
            raise _Bad("invalid_type", f"a full name has no part {min(bad)!r}")
        return {k: None if _is_blank(v) else _text(v) for k, v in raw.items()}
    # One "Name" column: the last word is the last name ("Ana Maria Lima" -> Ana Maria / Lima).
    text = _WS.sub(" ", _text(raw))
    first, _, last = text.rpartition(" ")
    return {"firstName": first, "lastName": last} if first else {"firstName": text, "lastName": None}


# --- the registry ------------------------------------------------------------------------------

Parser = Callable[[FieldDef, Any, ParseOptions], Any]

PARSERS: dict[str, Parser] = {
    "TEXT": _parse_text, "MARKDOWN": _parse_text, "HTML": _parse_text,
    "NUMBER": _parse_number, "CURRENCY": _parse_currency, "CHECKBOX": _parse_checkbox,
    "DATETIME": _parse_datetime, "EMAIL": _parse_email, "URL": _parse_url,
    "TELEPHONE": _parse_phone, "SOCIAL_HANDLE": _parse_social,
    "SINGLE_SELECT": _parse_single, "MULTI_SELECT": _parse_multi,
    "ADDRESS": _parse_address, "FULL_NAME": _parse_full_name,
}


def _expected(field: FieldDef, part: str | None) -> str:
    if part == "country":
        return "a 2-letter country code (US, DE)"
    if part in ("latitude", "longitude"):
        return f"a {part} in degrees"
    tc = field.type_configuration
    hint = FORMAT_HINTS.get(field.value_type, field.value_type)
    return hint.replace("{currency}", tc.currency or "the org currency").replace(
        "{service}", (tc.handle_service or "social").title())


def parse_cell(field: FieldDef, raw: Any, *, part: str | None = None,
               options: ParseOptions = DEFAULT_OPTIONS) -> Parsed:
    """Read one cell for ``field`` (or one ``part`` of an ADDRESS/FULL_NAME field).

    >>> parse_cell(amount_field, "$1,250,000.50", options=ParseOptions()).value   # doctest: +SKIP
    1250000.5
    """
    if raw is None:
        return PARSED_BLANK
    if isinstance(raw, str):
        stripped = raw.strip()
        if not stripped:
            return PARSED_BLANK
        if stripped == CLEAR_TOKEN:
            return PARSED_CLEAR
    elif isinstance(raw, float) and math.isnan(raw):   # pandas' missing value
        return PARSED_BLANK
    try:
        if part is not None:
            if field.value_type == "ADDRESS":
                return Parsed(_address_part(part, raw, options))
            if field.value_type == "FULL_NAME":
                if part not in ("firstName", "lastName"):
                    raise _Bad("invalid_type", f"a full name has no part {part!r}")
                return Parsed(_text(raw))
            raise _Bad("invalid_type", f"{field.value_type} fields have no parts")
        parser = PARSERS.get(field.value_type, _parse_text)
        return Parsed(parser(field, raw, options))
    except _Bad as bad:
        return Parsed(None, bad.code, bad.message, _expected(field, part))


# --- formatting (API value -> cell) ------------------------------------------------------------

def _api_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, dt.date):
        d = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            d = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            return None
    else:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.astimezone(dt.UTC)


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
        return tuple(sorted((k, n) for k, v in value.items()
                            if (n := normalize(field, v, part=k)) is not None))
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
    "BLANK", "CLEAR", "DEFAULT_OPTIONS", "PARSERS", "OptionMatch", "ParseOptions", "Parsed",
    "format_value", "match_option", "normalize", "parse_cell",
]
