"""DATETIME cells: ISO, regional (never guessed when ambiguous), named months, Excel serials;
and API date-times read back for formatting and comparison."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from ..definitions import FieldDef
from .common import _WS, ParseOptions, _Bad, _text

#: Excel serial numbers read as dates when a DATETIME cell holds a plain number in this range
#: (1950-01-01 .. 2199-12-31), so a year like 2026 or an amount is never taken for a date.
EXCEL_SERIAL_RANGE = (18264.0, 109574.0)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)

# --- date-times --------------------------------------------------------------------------------

_REGIONAL = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(.+))?$")
_YMD_SLASH = re.compile(r"^(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[ T,]+(.+))?$")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(
    r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*([AaPp]\.?[Mm]\.?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$"
)
_NAMED_FORMATS = (
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%B-%Y",
    "%d %b, %Y",
    "%d. %B %Y",
    "%a %d %b %Y",
    "%A, %B %d, %Y",
)
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
    if _PLAIN_NUMBER.fullmatch(s) and not _COMPACT.match(s):
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
                raise _Bad(
                    "invalid_date",
                    f"{s!r} is not a date in an accepted format (e.g. 2026-03-16 or 2026-03-16 14:30)",
                ) from None
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
        elif (order := o.day_order) == "DMY" or (order is None and m[2] == "."):
            # 31.03.2024: every locale that writes dates with dots puts the day first (CLDR's
            # d.M.y: de, ru, pl, cs, fi, nb, tr…; none writes M.d.y), so dots are not ambiguous
            dd, mm = a, b
        elif order == "MDY":
            dd, mm = b, a
        else:
            raise _Bad(
                "ambiguous_date",
                f"{s!r} could be {a:02d} {_MONTHS[b]} or {b:02d} {_MONTHS[a]}"
                "; set the date order (--date-order DMY or MDY) or the locale (--locale)",
            )
        return _apply_time(_date(year, mm, dd, raw), time_text, raw, o)
    m = _NAMED.match(s)
    if m and any(c.isalpha() for c in m[1]):
        text = _WS.sub(" ", m[1].replace(",", ", ")).replace(" ,", ",").strip()
        text = _ORDINAL.sub(r"\1", text)
        for fmt in _NAMED_FORMATS:
            try:
                day = dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            return _apply_time(day, m[2], raw, o)
    raise _Bad(
        "invalid_date", f"{s!r} is not a date in an accepted format (e.g. 2026-03-16 or 2026-03-16 14:30)"
    )


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
