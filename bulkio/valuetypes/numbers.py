"""NUMBER, CURRENCY and CHECKBOX cells."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from ..definitions import FieldDef
from .common import MAX_SAFE_INTEGER, ParseOptions, _Bad, _text

# --- numbers -----------------------------------------------------------------------------------

_NUM_DOT = re.compile(r"^(?:\d{1,3}(?:([, \u00a0'\u202f])\d{3})(?:\1\d{3})*|\d*)(?:\.(\d*))?$")
_NUM_COMMA = re.compile(r"^(?:\d{1,3}(?:([. \u00a0'\u202f])\d{3})(?:\1\d{3})*|\d*)(?:,(\d*))?$")
_SCI = re.compile(r"^\d+(?:\.\d+)?[eE][+-]?\d+$")
_CURRENCY_SYMBOLS: dict[str, frozenset[str]] = {
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"}),
    "US$": frozenset({"USD"}),
    "A$": frozenset({"AUD"}),
    "C$": frozenset({"CAD"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "CHF": frozenset({"CHF"}),
}
_SYMBOLS_LONGEST_FIRST = sorted(_CURRENCY_SYMBOLS, key=len, reverse=True)
_CODE_AROUND = re.compile(r"^([A-Z]{3})\s*(.*)$|^(.*?)\s*([A-Z]{3})$")
_CENT = Decimal("0.01")


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
    if (s.isascii() and s.isdigit()) or _SCI.match(s):  # plain digits skip the regexes below
        d = Decimal(s)
    else:
        m = (_NUM_DOT if options.decimal == "." else _NUM_COMMA).match(s)
        if not m or s == options.decimal:  # a match without digits is the bare decimal mark
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
    if d != d.quantize(_CENT, rounding="ROUND_HALF_EVEN"):
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
    if not (s[:1].isdigit() and s[-1:].isdigit()):  # else a bare amount: no symbol, no code
        for sym in _SYMBOLS_LONGEST_FIRST:
            if s.startswith(sym) or s.endswith(sym):
                found = _CURRENCY_SYMBOLS[sym]
                s = (s[len(sym) :] if s.startswith(sym) else s[: -len(sym)]).strip()
                break
        else:
            m = _CODE_AROUND.match(s)
            if m:
                code = m.group(1) or m.group(4)
                rest = m.group(2) if m.group(1) else m.group(3)
                if rest and (rest[0].isdigit() or rest[0] in "+-.(," or rest[-1].isdigit()):
                    found, s = frozenset({code}), rest.strip()
    if found is not None and field_cur and field_cur not in found:
        raise _Bad(
            "invalid_number",
            f"{raw.strip()!r} is not in {field_cur}, the currency of this "
            f"field (write the amount in {field_cur})",
        )
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
