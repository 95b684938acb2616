"""Close's error bodies and the value rules every write is checked against.

Close has no error codes: clients branch on the HTTP status and read one of three bodies
(API-FACTS §7), all built here:

* 400 validation: ``{"errors": [...], "field-errors": {"<field>": "<message>"}}``;
* 400 for a bad request that is not about one field (bad query parameter, malformed JSON):
  ``{"error": "<message>"}``;
* 401/404/405/415/5xx: ``{"error": "<message>"}``; 404 for a missing object reads
  ``Empty query: Opportunity matching query does not exist.`` as recorded.

The value checks are the sandbox's own and share nothing with bulkio's client-side parsers, so a
parsing bug cannot hide on both sides at once.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
URL_RE = re.compile(r"^https?://([a-z0-9-]+\.)*[a-z0-9-]+(\.[a-z]{2,})?(:\d+)?([/?#]\S*)?$", re.IGNORECASE)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_INT = 2**63 - 1
TZ_RE = re.compile(r"[+-]?[0-9]{1,2}(\.[0-9]{1,4})?")

UNAUTHORIZED = (
    "The server could not verify that you are authorized to access the URL requested.  You either "
    "supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to "
    "supply the credentials required."
)


class CloseError(Exception):
    """An answer the sandbox sends instead of running the request."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, message: str) -> CloseError:
    """``{"error": message}``: 401, 404, 405, 415, 5xx and non-field 400s."""
    return CloseError(status, {"error": message})


def bad_request(message: str) -> CloseError:
    return error(400, message)


def not_found(label: str) -> CloseError:
    """The recorded 404 body for a missing object (``label`` is e.g. ``Opportunity``)."""
    return error(404, f"Empty query: {label} matching query does not exist.")


def invalid(field_errors: dict[str, Any] | None = None, errors: list[str] | None = None) -> CloseError:
    """A 400 validation error in the shape the official client reads (``.errors``, ``.field_errors``)."""
    return CloseError(400, {"errors": list(errors or []), "field-errors": dict(field_errors or {})})


class Problems:
    """Collects field errors while a body is checked, so one answer names every bad field."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.errors: list[str] = []

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def general(self, message: str) -> None:
        self.errors.append(message)

    def raise_any(self) -> None:
        if self.fields or self.errors:
            raise invalid(self.fields, self.errors)


# --- timestamps ----------------------------------------------------------------------------------
def iso(ts: float) -> str:
    """Unix seconds → ``2013-02-01T00:54:51.321000+00:00`` (microseconds, explicit offset)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def parse_datetime(text: Any) -> datetime | None:
    """ISO 8601 date-time (an offset or ``Z``; none means UTC) or a bare date (midnight UTC)."""
    if not isinstance(text, str) or not text.strip():
        return None
    raw = text.strip()
    if DATE_RE.match(raw):
        d = parse_date(raw)
        return datetime(d.year, d.month, d.day, tzinfo=UTC) if d else None
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    try:
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is in year 10000 in UTC: no datetime
        return None


def parse_date(text: Any) -> date | None:
    """``YYYY-MM-DD`` only (Close's date fields and ``date_won``)."""
    if not isinstance(text, str) or not DATE_RE.match(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def tz_offset(header: str | None) -> float:
    """``X-TZ-Offset`` in hours (may be fractional, e.g. ``-2.5``); absent = UTC."""
    if header is None or not header.strip():
        return 0.0
    # a plain decimal only: float() would also take "nan", "1e1", "1_0" and "٥"
    if not TZ_RE.fullmatch(header.strip()):
        raise bad_request(f"Invalid X-TZ-Offset header {header[:40]!r}: expected hours, e.g. -4 or 5.5.")
    hours = float(header)
    if not math.isfinite(hours) or not -14 <= hours <= 14:
        raise bad_request(f"Invalid X-TZ-Offset header {header!r}: expected hours between -14 and 14.")
    return hours


def today(offset_hours: float, now: float) -> date:
    """The caller's calendar day: what an automatic ``date_won`` is set to."""
    return (datetime.fromtimestamp(now, UTC) + timedelta(hours=offset_hours)).date()


# --- scalar checks -------------------------------------------------------------------------------
def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_INT
    return isinstance(value, float) and math.isfinite(value)


def text_or_null(p: Problems, key: str, value: Any, *, max_len: int = 10_000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        p.add(key, "Not a valid string.")
        return None
    if len(value) > max_len:
        p.add(key, f"Longer than maximum length {max_len}.")
        return None
    return value


def check_email(value: Any) -> bool:
    return isinstance(value, str) and bool(EMAIL_RE.match(value.strip()))


def check_url(value: Any) -> bool:
    return isinstance(value, str) and bool(URL_RE.match(value.strip()))


def normalize_phone(value: Any) -> str | None:
    """E.164 (``+16505551234``); ten bare digits are taken as a US number. None if invalid."""
    if not isinstance(value, str):
        return None
    raw = value.strip()
    ext = re.split(r"\s*(?:ext\.?|x)\s*\d+$", raw, flags=re.IGNORECASE)[0]
    if re.search(r"[^\d\s().+\-/]", ext):
        return None
    digits = re.sub(r"\D", "", ext)
    if ext.startswith("+"):
        return "+" + digits if 8 <= len(digits) <= 15 else None
    if ext.startswith("00") and 10 <= len(digits) <= 17:
        return "+" + digits[2:]
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return None


def format_phone(e164: str) -> str:
    """A readable form for ``phone_formatted`` (North American numbers grouped, others as is)."""
    if e164.startswith("+1") and len(e164) == 12:
        d = e164[2:]
        return f"+1 {d[:3]}-{d[3:6]}-{d[6:]}"
    return e164


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def format_money(cents: int | None, currency: str) -> str | None:
    """``value_formatted``: ``300000`` → ``$3,000``; cents shown only when there are some."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    tail = f".{rest:02d}" if rest else ""
    return f"{sign}{symbol}{whole:,}{tail}"
