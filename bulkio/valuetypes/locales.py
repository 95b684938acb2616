"""Locale data for reading numbers, currencies and dates as people type them in their own locale.

Everything here comes from Babel (CLDR): decimal and group symbols, the minus and percent signs,
the secondary grouping of Indian locales (``12,34,567.50``), the currency symbols a locale writes
(``CHF``, ``€``, ``US$``) and the order of a short date (``dd.MM.yy`` → day first). Nothing is a
table kept by hand, so a locale bulkio has never been tested with still reads the way CLDR says.

What people type differs from what CLDR prints in a few ways, so each locale also accepts:

* any space as a group symbol: a plain space, no-break space (U+00A0), narrow no-break space
  (U+202F, French since CLDR 34) or thin space (U+2009), and any apostrophe (de-CH ``1'234.50``,
  ``1’234.50``): neither is ever a decimal mark, so this reads nothing two ways;
* ``-`` and U+2212 for minus; bidi marks (U+200E, U+200F, U+061C) are ignored;
* the locale's own primary grouping (groups of three) also where it has a secondary one
  (en-IN reads ``123,456`` and ``1,23,456``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

#: Characters that group digits in one locale or another and are typed interchangeably.
SPACES = frozenset(" \u00a0\u202f\u2009")
APOSTROPHES = frozenset("'\u2019\u02bc\u2018\u00b4")
_BIDI = re.compile("[\u200e\u200f\u061c]")


class LocaleNotFound(ValueError):
    """Babel knows no such locale."""


@dataclass(frozen=True, slots=True)
class NumberSymbols:
    """How one locale writes numbers (from CLDR via Babel)."""

    name: str  # the tag as given, for messages ("de-DE")
    decimal: str
    group: str
    #: every character read as the group symbol (``group``, any space, any apostrophe)
    groups: frozenset[str]
    #: the locale's own group sizes: (3, 3) mostly, (3, 2) for Indian grouping (12,34,567)
    primary: int
    secondary: int
    percent: str
    #: currency symbol as this locale writes it → ISO codes (``"$"`` → {"USD"} in en-US)
    currencies: dict[str, frozenset[str]]
    #: the locale's region (``DE`` for de-DE), None for a bare language (``de``)
    territory: str | None
    #: day/month/year order of the locale's short date ("DMY", "MDY", "YMD")
    date_order: str | None

    def example(self, value: str = "1234567.5") -> str:
        """``1.234.567,5`` for de-DE: a number as this locale groups it (for messages)."""
        whole, _, frac = value.partition(".")
        head, tail = whole[: -self.primary], whole[-self.primary :]
        groups: list[str] = []
        while head:
            size = self.secondary
            groups.insert(0, head[-size:])
            head = head[:-size]
        text = self.group.join([*groups, tail])
        return text + (self.decimal + frac if frac else "")


def _parse_locale(name: str) -> Locale:
    try:
        return Locale.parse(name.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise LocaleNotFound(
            f"unknown locale {name!r} (use a tag like de-DE, fr-FR, en-US or de-CH)"
        ) from exc


def _date_order(pattern: str) -> str | None:
    order = ""
    for ch in pattern:
        letter = {"d": "D", "M": "M", "L": "M", "y": "Y"}.get(ch)
        if letter and letter not in order:
            order += letter
    return order if order in ("DMY", "MDY", "YMD") else None


@functools.lru_cache(maxsize=64)
def number_symbols(name: str) -> NumberSymbols:
    """The number symbols of locale ``name`` (``de-DE``, ``de_CH``, ``fr``); raises
    :class:`LocaleNotFound` for a tag Babel does not know.

    >>> number_symbols("de-CH").group, number_symbols("de-CH").decimal
    ("'", '.')
    """
    loc = _parse_locale(name)
    symbols = loc.number_symbols.get("latn", loc.number_symbols)
    decimal = _BIDI.sub("", str(symbols.get("decimal", ".")))
    group = _BIDI.sub("", str(symbols.get("group", ",")))
    # spaces and apostrophes are never a decimal mark: read them as the group symbol everywhere
    groups = SPACES | APOSTROPHES | {group}
    pattern = loc.decimal_formats.get(None)
    grouping = getattr(pattern, "grouping", (3, 3)) or (3, 3)
    primary = int(grouping[0]) if 1 <= int(grouping[0]) <= 4 else 3
    secondary = int(grouping[1]) if len(grouping) > 1 and 1 <= int(grouping[1]) <= 4 else primary
    currencies: dict[str, set[str]] = {}
    for code, symbol in loc.currency_symbols.items():
        sym = _BIDI.sub("", str(symbol)).strip()
        if sym and not sym.isdigit():
            currencies.setdefault(sym, set()).add(str(code))
    short = loc.date_formats.get("short")
    return NumberSymbols(
        name=name.strip(),
        decimal=decimal,
        group=group,
        groups=groups - {decimal},
        primary=primary,
        secondary=secondary,
        percent=_BIDI.sub("", str(symbols.get("percentSign", "%"))),
        currencies={s: frozenset(c) for s, c in currencies.items()},
        territory=loc.territory,
        date_order=_date_order(getattr(short, "pattern", "") or ""),
    )


def strip_bidi(text: str) -> str:
    return _BIDI.sub("", text)
