"""NUMBER, CURRENCY and CHECKBOX cells.

Number text is read in one of three ways:

* with ``ParseOptions.locale``: the locale's decimal and group symbols (Babel/CLDR, see
  :mod:`.locales`); ``1.234,50`` in de-DE, ``1 234,50`` in fr-FR, ``1'234.50`` in de-CH. A cell that
  does not fit the locale is ``invalid_number`` with an example in that locale;
* with ``ParseOptions.decimal``: that decimal mark, any of ``, . space ' nbsp`` as the group symbol;
* with neither (the default): the cell's own evidence (:func:`decimal_evidence`). ``1,234.50`` and
  ``1,234,567`` can only have a decimal point, ``1.234,50``, ``3,5`` and ``1.234.567`` only a
  decimal comma; they are read that way. A cell that fits both (``1.200``, ``12,500``) is read with
  a decimal point here; the importer settles such cells per column instead (``ambiguous_number``).
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from typing import Any, Literal

from ..definitions import FieldDef
from .common import MAX_SAFE_INTEGER, ParseOptions, _Bad, _text
from .locales import NumberSymbols, number_symbols, strip_bidi

# --- numbers -----------------------------------------------------------------------------------

_NUM_DOT = re.compile(r"^(?:\d{1,3}(?:([, \u00a0'\u2019\u202f])\d{3})(?:\1\d{3})*|\d*)(?:\.(\d*))?$")
_NUM_COMMA = re.compile(r"^(?:\d{1,3}(?:([. \u00a0'\u2019\u202f])\d{3})(?:\1\d{3})*|\d*)(?:,(\d*))?$")
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
    # written after the amount in Polish, Nordic, Czech and Hungarian sheets: 12 345,67 zł, 1 234,50 kr
    "zł": frozenset({"PLN"}),
    "zl": frozenset({"PLN"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
    "kr.": frozenset({"DKK", "ISK"}),
    "Kč": frozenset({"CZK"}),
    "Ft": frozenset({"HUF"}),
    "R$": frozenset({"BRL"}),
}
_SYMBOLS_LONGEST_FIRST = sorted(_CURRENCY_SYMBOLS, key=len, reverse=True)
_CODE_AROUND = re.compile(r"^([A-Z]{3})\s*(.*)$|^(.*?)\s*([A-Z]{3})$")
_CENT = Decimal("0.01")

Evidence = Literal["point", "comma", "either"]
#: the digits of a cell: from its first digit (or decimal mark) to its last digit
_CORE = re.compile(r"[.,]?\d(?:[\d.,'\s\u00a0\u202f\u2009\u2019]*\d)?")
#: one separator followed by exactly three digits, after 1-3 digits not starting with 0
_EITHER = re.compile(r"^[1-9]\d{0,2}[.,]\d{3}$")


def decimal_evidence(text: str) -> Evidence | None:
    """What a number cell says about its decimal mark, on its own.

    ``"point"``: only a decimal point fits (``1,234.50``, ``1,234,567``, ``0.200``, ``1.5``);
    ``"comma"``: only a decimal comma fits (``1.234,50``, ``1.234.567``, ``3,5``);
    ``"either"``: both fit with different values (``1.200`` is 1200 or 1.2; ``12,500``);
    ``None``: the cell has no ``.`` or ``,`` (``1234``, ``1 234``), so it reads the same either way.

    >>> [decimal_evidence(t) for t in ("1,234.50", "3,5", "1.200", "1234")]
    ['point', 'comma', 'either', None]
    """
    m = _CORE.search(text)
    if m is None:
        return None
    core = m.group(0)
    dots, commas = core.count("."), core.count(",")
    if not dots and not commas:
        return None
    if dots and commas:
        return "point" if core.rfind(".") > core.rfind(",") else "comma"
    mark = "." if dots else ","
    if core.count(mark) > 1:  # a mark repeated is a group symbol: the other one is the decimal
        return "comma" if mark == "." else "point"
    if _EITHER.match(core.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")):
        return "either"
    return "point" if mark == "." else "comma"


def _to_number(d: Decimal) -> int | float:
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def _signed(text: str, symbols: NumberSymbols | None) -> tuple[str, bool, bool]:
    """``(digits part, negative, written with %)``: sign (leading or trailing), accounting
    parentheses, percent sign."""
    s = strip_bidi(text).strip().replace("\u2212", "-")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    percent = False
    for sign in ("%", symbols.percent if symbols is not None else "%", "\u066a"):
        if s.endswith(sign):
            percent, s = True, s[: -len(sign)].strip()
            break
    if s[:1] in ("+", "-"):
        negative = negative or s[0] == "-"
        s = s[1:].strip()
    elif s[-1:] == "-" and s[:-1].rstrip()[-1:].isdigit():  # a trailing minus: 1.234,50- (SAP, fy)
        negative, s = True, s[:-1].strip()
    return s, negative, percent


@functools.lru_cache(maxsize=32)
def _locale_pattern(decimal: str, group: str, primary: int, secondary: int) -> re.Pattern[str]:
    g, d = re.escape(group), re.escape(decimal)
    # a group symbol that is never a decimal mark (a space, an apostrophe) may leave the leading
    # digits ungrouped (Babel writes 1000000'000 in de-CH); "." and "," must group in threes
    whole = rf"\d+(?:{g}\d{{3}})*" if group not in ".," else rf"\d{{1,3}}(?:{g}\d{{3}})*"
    if (primary, secondary) != (3, 3):  # the locale's own sizes too: 12,34,567 in en-IN
        whole += rf"|\d{{1,{secondary}}}(?:{g}\d{{{secondary}}})*{g}\d{{{primary}}}"
    return re.compile(rf"^(?:{whole}|\d*)(?:{d}(\d*))?$")


def _locale_digits(s: str, text: str, sym: NumberSymbols) -> Decimal:
    """Digits in the locale's own notation (``s`` has no sign or percent sign any more)."""
    body = "".join(sym.group if c in sym.groups else c for c in s)
    m = _locale_pattern(sym.decimal, sym.group, sym.primary, sym.secondary).match(body)
    if not m or not any(c.isdigit() for c in body):
        raise _Bad(
            "invalid_number",
            f"{text.strip()!r} is not a number in {sym.name} (decimal {sym.decimal!r}, e.g. {sym.example()})",
        )
    head = body if m.group(1) is None else body[: body.rindex(sym.decimal)]
    digits = head.replace(sym.group, "")
    return Decimal(f"{digits or '0'}.{m.group(1) or '0'}")


def _read_number(text: str, options: ParseOptions) -> tuple[Decimal, bool]:
    """A number string → ``(value, written with %)``: sign, grouping, one decimal mark, trailing %."""
    sym = options.symbols
    s, negative, percent = _signed(text, sym)
    if not s:
        raise _Bad("invalid_number", f"{text!r} is not a number")
    if (s.isascii() and s.isdigit()) or _SCI.match(s):  # plain digits skip the regexes below
        d = Decimal(s)
    elif sym is not None:
        d = _locale_digits(s, text, sym)
    else:
        decimal = options.decimal or ("," if decimal_evidence(s) == "comma" else ".")
        m = (_NUM_DOT if decimal == "." else _NUM_COMMA).match(s)
        if not m or s == decimal:  # a match without digits is the bare decimal mark
            raise _Bad("invalid_number", f"{text!r} is not a number")
        sep = m.group(1)
        head = s if m.group(2) is None else s[: s.rindex(decimal)]
        digits = head.replace(sep, "") if sep else head
        d = Decimal(f"{digits or '0'}.{m.group(2) or '0'}")
    return (-d if negative else d), percent


def _number_text(text: str, options: ParseOptions) -> Decimal:
    """Read a number string: sign, thousands separators, one decimal mark, trailing %."""
    return _read_number(text, options)[0]


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
    percent = False
    if isinstance(raw, bool):
        raise _Bad("invalid_number", f"{raw!r} is a yes/no value, not a number")
    if isinstance(raw, int):
        d = Decimal(raw)
    elif isinstance(raw, float):
        d = _float_decimal(raw, raw)
    elif isinstance(raw, Decimal):
        d = raw
    elif isinstance(raw, str):
        d, percent = _read_number(raw, o)
    else:
        raise _Bad("invalid_number", f"{_text(raw)!r} is not a number")
    if o.percent and not percent and f.value_type == "NUMBER":
        d = _percent_of(d, raw)
    return _to_number(_check_decimals(d, raw))


def _percent_of(d: Decimal, raw: Any) -> Decimal:
    """A fraction of 1 as a percentage (``percent`` columns): 0.5 → 50; XLSX float noise removed."""
    if isinstance(raw, float):
        d = Decimal(repr(raw))
    p = d * 100
    if not p.is_finite() or abs(p) > MAX_SAFE_INTEGER:
        return p  # too large: _check_decimals says so (quantize would raise past 28 digits)
    rounded = p.quantize(_CENT)
    return rounded if abs(p - rounded) <= Decimal("1e-9") else p


def _currency_markers(o: ParseOptions) -> tuple[dict[str, frozenset[str]], list[str]]:
    """Currency symbols → codes: the locale's own (Babel) over the built-in ones, longest first."""
    sym = o.symbols
    if sym is None:
        return _CURRENCY_SYMBOLS, _SYMBOLS_LONGEST_FIRST
    return _merged_markers(sym.name)


@functools.lru_cache(maxsize=32)
def _merged_markers(locale: str) -> tuple[dict[str, frozenset[str]], list[str]]:
    sym = number_symbols(locale)
    merged = dict(_CURRENCY_SYMBOLS)
    for symbol, codes in sym.currencies.items():
        merged[symbol] = merged.get(symbol, frozenset()) | codes
    return merged, sorted(merged, key=len, reverse=True)


def _parse_currency(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    if not isinstance(raw, str):
        return _parse_number(f, raw, o)
    field_cur = (f.type_configuration.currency or "").upper() or None
    s = strip_bidi(raw).strip().replace("\u2212", "-")
    sign = ""
    if s[:1] in ("+", "-"):
        sign, s = s[0], s[1:].strip()
    found: frozenset[str] | None = None
    if not (s[:1].isdigit() and s[-1:].isdigit()):  # else a bare amount: no symbol, no code
        markers, longest_first = _currency_markers(o)
        for sym in longest_first:
            if s.startswith(sym) or s.endswith(sym):
                found = markers[sym]
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
#: Yes/no and Excel's TRUE/FALSE in the languages people keep sheets in: a German Excel saves a
#: checkbox column as WAHR/FALSCH, a French one as VRAI/FAUX (de, fr, es, it, pt, nl, sv, da, no,
#: pl, fi).
_TRUE |= {"ja", "wahr", "oui", "vrai", "sí", "si", "verdadero", "sì", "vero", "sim", "verdadeiro", "waar",
          "sant", "sand", "sann", "tak", "prawda", "kyllä", "tosi"}  # fmt: skip
_FALSE |= {"nein", "falsch", "non", "faux", "falso", "não", "nao", "nee", "onwaar", "nej", "falskt",
           "falsk", "nei", "usann", "nie", "fałsz", "ei", "epätosi"}  # fmt: skip


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
