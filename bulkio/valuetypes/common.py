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

DateOrder = Literal["YMD", "DMY", "MDY"]

#: Largest integer the API accepts (JSON safe integer).
MAX_SAFE_INTEGER = 2**53 - 1


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
            raise ConfigError(
                f"unknown time zone {self.tz!r} (use an IANA name like 'Europe/Berlin')"
            ) from exc

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
    sep = options.multi_separator
    if sep in text or "\n" in text or (extra and any(c in text for c in extra)):
        parts = _splitter(sep, extra).split(text)
    else:
        parts = [text]
    return [p.strip() for p in parts if p.strip()]


@functools.lru_cache(maxsize=64)
def _splitter(sep: str, extra: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(s) for s in (sep, "\r\n", "\n", *extra)))


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
