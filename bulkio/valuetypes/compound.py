"""ADDRESS and FULL_NAME: whole cells and their part columns (street, city, …, country)."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from ..definitions import FieldDef
from .common import _WS, ParseOptions, _Bad, _is_blank, _norm_label, _text
from .numbers import _number_text, _to_number

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
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "gbr": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "deu": "DE",
    "france": "FR",
    "fra": "FR",
    "spain": "ES",
    "españa": "ES",
    "espana": "ES",
    "esp": "ES",
    "italy": "IT",
    "italia": "IT",
    "ita": "IT",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "nld": "NL",
    "belgium": "BE",
    "switzerland": "CH",
    "schweiz": "CH",
    "che": "CH",
    "austria": "AT",
    "österreich": "AT",
    "aut": "AT",
    "ireland": "IE",
    "irl": "IE",
    "portugal": "PT",
    "prt": "PT",
    "poland": "PL",
    "polska": "PL",
    "pol": "PL",
    "sweden": "SE",
    "swe": "SE",
    "norway": "NO",
    "nor": "NO",
    "denmark": "DK",
    "dnk": "DK",
    "finland": "FI",
    "fin": "FI",
    "iceland": "IS",
    "greece": "GR",
    "czech republic": "CZ",
    "czechia": "CZ",
    "hungary": "HU",
    "romania": "RO",
    "bulgaria": "BG",
    "croatia": "HR",
    "ukraine": "UA",
    "russia": "RU",
    "turkey": "TR",
    "türkiye": "TR",
    "israel": "IL",
    "isr": "IL",
    "united arab emirates": "AE",
    "uae": "AE",
    "saudi arabia": "SA",
    "egypt": "EG",
    "south africa": "ZA",
    "zaf": "ZA",
    "nigeria": "NG",
    "kenya": "KE",
    "india": "IN",
    "ind": "IN",
    "china": "CN",
    "chn": "CN",
    "japan": "JP",
    "jpn": "JP",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "kor": "KR",
    "taiwan": "TW",
    "hong kong": "HK",
    "singapore": "SG",
    "sgp": "SG",
    "malaysia": "MY",
    "indonesia": "ID",
    "philippines": "PH",
    "thailand": "TH",
    "vietnam": "VN",
    "viet nam": "VN",
    "australia": "AU",
    "aus": "AU",
    "new zealand": "NZ",
    "nzl": "NZ",
    "canada": "CA",
    "can": "CA",
    "mexico": "MX",
    "méxico": "MX",
    "mex": "MX",
    "brazil": "BR",
    "brasil": "BR",
    "bra": "BR",
    "argentina": "AR",
    "arg": "AR",
    "chile": "CL",
    "colombia": "CO",
    "peru": "PE",
    "luxembourg": "LU",
    "estonia": "EE",
    "latvia": "LV",
    "lithuania": "LT",
    "slovakia": "SK",
    "slovenia": "SI",
    "serbia": "RS",
    "pakistan": "PK",
    "bangladesh": "BD",
}


#: Languages whose country names are read after COUNTRY_NAMES (Babel's CLDR names: exports and
#: hand-kept sheets write the country in the user's language: Nederland, Suisse, Österreich).
COUNTRY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "pl", "cs")


@functools.lru_cache(maxsize=1)
def _cldr_country_names() -> dict[str, str]:
    from babel import Locale

    names: dict[str, str] = {}
    for (
        lang
    ) in COUNTRY_LANGUAGES:  # English first: a name two languages use differently keeps its English sense
        for code, name in Locale(lang).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(_norm_label(name), code)
    return names


def _country(raw: Any) -> str:
    text = _text(raw)
    code = text.upper()
    if len(code) == 2 and code in ISO_COUNTRIES:
        return code
    if code == "UK":
        return "GB"
    found = COUNTRY_NAMES.get(_norm_label(text)) or _cldr_country_names().get(_norm_label(text))
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
