"""What every value-type parser shares: :class:`ParseOptions`, the internal rejection
:class:`_Bad`, and the small text helpers (cell as text, multi-value split, de-duplication)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..columns import MULTI_SEPARATOR
from ..definitions import FieldDef
from ..errors import ConfigError
from .locales import LocaleNotFound, NumberSymbols, number_symbols

DateOrder = Literal["YMD", "DMY", "MDY"]

#: Largest integer the API accepts (JSON safe integer).
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseOptions:
    """How to read cells whose meaning depends on where the sheet was made.

    Every option is a plain field so a mapping can set it per column.

    * ``date_order``: how to read ``03/04/2026`` (``DMY``/``MDY``/``YMD``); without it such dates are
      ``ambiguous_date``. ``locale`` supplies it when not set (de-DE → DMY, en-US → MDY).
    * ``tz``: the zone of naive date-times (date-only cells are midnight UTC).
    * ``locale``: a CLDR locale tag (``de-DE``, ``fr-FR``, ``de-CH``, ``en-IN``…); numbers and
      currencies are read with its decimal and group symbols (Babel's data). Without it (and without
      ``decimal``) a cell that could mean two things (``1.200``) is read with ``.`` as the decimal
      mark by :func:`~bulkio.values.parse_cell`, while the importer checks the whole column
      (:class:`~bulkio.validate.Validator`) and reports such cells as ``ambiguous_number`` unless
      other cells of the column settle it.
    * ``decimal``: the decimal mark alone (``.`` or ``,``), for callers that know it; ``locale``
      wins when both are given.
    * ``phone_region``: ISO 3166 region (``US``, ``GB``, ``DE``) of phone numbers written without a
      country code; defaults to the locale's region (de-DE → DE).
    * ``percent``: the column holds fractions of 1 (0.5 = 50 %): NUMBER values are multiplied by
      100 (cells written with ``%`` are read as they are).
    """

    date_order: DateOrder | None = None
    tz: str = "UTC"
    decimal: Literal[".", ","] | None = None
    multi_separator: str = MULTI_SEPARATOR
    locale: str | None = None
    phone_region: str | None = None
    percent: bool = False

    def __post_init__(self) -> None:
        if self.date_order not in (None, "YMD", "DMY", "MDY"):
            raise ConfigError(f"date order must be YMD, DMY or MDY, not {self.date_order!r}")
        if self.decimal not in (None, ".", ","):
            raise ConfigError(f"decimal mark must be '.' or ',', not {self.decimal!r}")
        if not self.multi_separator:
            raise ConfigError("the multi-value separator cannot be empty")
        try:
            _zone(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"unknown time zone {self.tz!r} (use an IANA name like 'Europe/Berlin')"
            ) from exc
        if self.locale is not None:
            try:
                number_symbols(self.locale)
            except LocaleNotFound as exc:
                raise ConfigError(str(exc)) from None
        if self.phone_region is not None:
            region = self.phone_region.strip().upper()
            if region not in phone_regions():
                raise ConfigError(
                    f"unknown phone region {self.phone_region!r} (use a 2-letter country code like "
                    "US, GB or DE)"
                )
            object.__setattr__(self, "phone_region", region)

    @property
    def zone(self) -> dt.tzinfo:
        return _zone(self.tz)

    @property
    def symbols(self) -> NumberSymbols | None:
        """The locale's number symbols (None without a locale)."""
        return number_symbols(self.locale) if self.locale is not None else None

    @property
    def day_order(self) -> DateOrder | None:
        """``date_order``, else the order of the locale's short date."""
        if self.date_order is not None or self.locale is None:
            return self.date_order
        return number_symbols(self.locale).date_order  # type: ignore[return-value]

    @property
    def region(self) -> str | None:
        """``phone_region``, else the locale's region (None for a bare language like ``de``)."""
        if self.phone_region is not None or self.locale is None:
            return self.phone_region
        territory = number_symbols(self.locale).territory
        return territory if territory in phone_regions() else None


@functools.lru_cache(maxsize=1)
def phone_regions() -> frozenset[str]:
    """Regions phonenumbers knows (ISO 3166 alpha-2)."""
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


_ZONES: dict[str, dt.tzinfo] = {}


def _zone(name: str) -> dt.tzinfo:
    z = _ZONES.get(name)
    if z is None:
        z = dt.UTC if name.upper() in ("UTC", "Z") else ZoneInfo(name)
        _ZONES[name] = z
    return z


DEFAULT_OPTIONS = ParseOptions()


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


#: Google Contacts' separator of several values in one cell (``a@x.com ::: b@y.com``).
GOOGLE_SEPARATOR = ":::"


def _split(raw: Any, options: ParseOptions, extra: str = "", *, google: bool = False) -> list[str]:
    """Split a multi-value cell on the separator (and newlines, and ``extra``'s characters; and
    with ``google``, Google Contacts' ``:::``, for emails, phones and URLs); drop empties."""
    text = _text(raw)
    sep = options.multi_separator
    if (
        sep in text
        or "\n" in text
        or (extra and any(c in text for c in extra))
        or (google and GOOGLE_SEPARATOR in text)
    ):
        parts = _splitter(sep, extra, google).split(text)
    else:
        parts = [text]
    return [p.strip() for p in parts if p.strip()]


@functools.lru_cache(maxsize=64)
def _splitter(sep: str, extra: str, google: bool = False) -> re.Pattern[str]:
    seps = sorted({sep, "\r\n", "\n", *extra, *([GOOGLE_SEPARATOR] if google else [])}, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in seps))


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


def _parse_text(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    return _text(raw)
