"""EMAIL, URL, TELEPHONE and SOCIAL_HANDLE cells (one value or several per cell)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..definitions import FieldDef
from .common import ParseOptions, _Bad, _dedupe, _split, _text

# --- email, url, phone, social -----------------------------------------------------------------

_NAMED_ADDRESS = re.compile(r"[^<>]*<([^<>]+)>")
_EMAIL = re.compile(r"^([^\s@<>()\[\],;:\"]+)@((?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,})$")


def _one_email(text: str) -> str:
    s = text.strip()
    m = _NAMED_ADDRESS.fullmatch(s) if s.endswith(">") else None  # "Ana Lima <ana@x.com>"
    if m:
        s = m.group(1).strip()
    if s[:7].lower() == "mailto:":
        s = s[7:]
    m = _EMAIL.match(s)
    if not m or m.group(1).startswith(".") or m.group(1).endswith(".") or ".." in m.group(1):
        raise _Bad("invalid_email", f"{text.strip()!r} is not a valid email address")
    return f"{m.group(1)}@{m.group(2).lower()}"


def _single(parts: list[str], raw: Any, code: str, what: str) -> str:
    """The one value of a single-value field's cell (a cell of only separators has none)."""
    if len(parts) > 1:
        raise _Bad(code, f"this field holds one {what}, not several")
    return _several(parts, raw, code, what)[0]


def _several(parts: list[str], raw: Any, code: str, what: str) -> list[str]:
    """The values of a cell, at least one: a cell of only separators is an error, never ``[]``
    (an empty list would clear the field; only ``#clear`` does that)."""
    if not parts:
        raise _Bad(code, f"{_text(raw)!r} holds no {what}, only separators")
    return parts


def _parse_email(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    parts = _split(raw, o, ",", google=True)
    if f.multiple:
        return _dedupe([_one_email(p) for p in _several(parts, raw, "invalid_email", "email address")])
    return _one_email(_single(parts, raw, "invalid_email", "email address"))


_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_DOMAIN_LIKE = re.compile(r"^[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:[/?#].*)?$")


def _one_url(text: str) -> str:
    s = text.strip()
    if not _HAS_SCHEME.match(s):
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
    if (
        parts.scheme.lower() not in ("http", "https")
        or "." not in host
        or any(c.isspace() for c in s)
        or host.startswith(".")
        or host.endswith(".")
        or ".." in host
    ):
        raise _Bad("invalid_url", f"{text.strip()!r} is not a valid http(s) URL")
    netloc = parts.netloc
    at = netloc.rfind("@") + 1
    netloc = netloc[:at] + netloc[at:].lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def _parse_url(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    parts = _split(raw, o, google=True)
    if f.multiple:
        return _dedupe([_one_url(p) for p in _several(parts, raw, "invalid_url", "URL")])
    return _one_url(_single(parts, raw, "invalid_url", "URL"))


_EXT = re.compile(r"\s*(?:;\s*ext=|,?\s*(?:ext\.?|extension|x|#)\s*)(\d{1,6})\s*$", re.IGNORECASE)
_EXT_TAG = re.compile(r";\s*ext=", re.IGNORECASE)
_NON_DIGIT = re.compile(r"\D")
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-.()/]+$")
_VANITY_CHARS = re.compile(r"^\+?[\dA-Za-z\s\-.()/]+$")
#: regions tried, in this order, to show what a number without a country code would be
_SUGGEST_REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "AU", "ES", "IT", "NL", "CH", "AT", "BE", "SE")
_REASONS = {
    "TOO_SHORT": "is too short",
    "TOO_LONG": "is too long",
    "INVALID_COUNTRY_CODE": "has no valid country code",
    "IS_POSSIBLE_LOCAL_ONLY": "is a local number without its area code",
    "INVALID_LENGTH": "has the wrong number of digits",
}


def _e164(number: Any, ext: str | None) -> str:
    import phonenumbers

    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) + (
        f";ext={ext}" if ext else ""
    )


def _pretty(number: Any) -> str:
    import phonenumbers

    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _needs_region(text: str, national: str) -> _Bad:
    """A number without a country code and no region to read it in: show what would work."""
    import phonenumbers

    fits: list[tuple[str, Any]] = []
    for region in _SUGGEST_REGIONS:
        try:
            n = phonenumbers.parse(national, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(n):
            fits.append((region, n))
    if fits:
        region, n = fits[0]
        also = [r for r, _ in fits[1:4]]
        hint = (
            f"write it with its country code ({_pretty(n)} if it is in {region}) or set the phone "
            f"region (--phone-region {region})"
            + (f"; it would also be valid in {', '.join(also)}" if also else "")
        )
    else:
        hint = (
            "write it with its country code (e.g. +44 20 7946 0958) or set the phone region (--phone-region)"
        )
    return _Bad("phone_needs_region", f"{text!r} has no country code: {hint}")


def _one_phone(raw: Any, region: str | None = None) -> str:
    """One number as E.164 (``+442079460958``, extension as ``;ext=12``), with phonenumbers.

    A number without a country code is read in ``region``. Without a region it is read as a North
    American number when it is a valid one (the API does the same with such numbers, so what is sent
    is what the CRM keeps); any other is ``phone_needs_region``, with what it would be in the
    regions where it is valid."""
    import phonenumbers

    text = _text(raw)
    s = text
    if s.lower().startswith("tel:"):
        s = s[4:].strip()
    ext = None
    m = _EXT.search(s)
    if m:
        ext, s = m.group(1), s[: m.start()].strip()
    if not _PHONE_CHARS.match(s) or s.count("+") > 1 or ("+" in s and not s.startswith("+")):
        if _VANITY_CHARS.match(s) and s.count("+") <= 1 and sum(c.isdigit() for c in s) >= 3:
            spelled = phonenumbers.convert_alpha_characters_in_number(s)
            raise _Bad(
                "invalid_phone",
                f"{text!r} spells letters (a vanity number): write its digits ({spelled.strip()})",
            )
        raise _Bad("invalid_phone", f"{text!r} is not a telephone number")
    digits = _NON_DIGIT.sub("", s)
    national = region is not None and not s.startswith("+")  # its length is phonenumbers' call
    if not (3 <= len(digits) <= 17 if national else 7 <= len(digits) <= 15):
        raise _Bad("invalid_phone", f"{text!r} has {len(digits)} digits (a number has 7 to 15)")
    if not s.startswith("+") and region is None:
        if digits.startswith("00") and len(digits) >= 9:  # international prefix
            s = "+" + digits[2:]
        else:
            try:
                nanp = phonenumbers.parse(s, "US")
            except phonenumbers.NumberParseException:
                nanp = None
            if nanp is None or len(digits) not in (10, 11) or not phonenumbers.is_valid_number(nanp):
                raise _needs_region(text, s)
            return _e164(nanp, ext)
    try:
        number = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        raise _Bad("invalid_phone", f"{text!r} is not a telephone number") from None
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        names = {v: k for k, v in vars(phonenumbers.ValidationResult).items() if k.isupper()}
        why = _REASONS.get(names.get(reason, ""), "is not a valid number")
        where = phonenumbers.region_code_for_country_code(number.country_code or 0)
        place = (
            f" for {where} (+{number.country_code})"
            if where
            and where != "ZZ"
            and why != _REASONS["INVALID_COUNTRY_CODE"]
            and why != _REASONS["IS_POSSIBLE_LOCAL_ONLY"]
            else ""
        )
        read = (
            f" (read in {region}: write numbers from elsewhere with their country code)"
            if (region and not s.startswith("+"))
            else ""
        )
        raise _Bad("invalid_phone", f"{text!r} {why}{place}{read}")
    return _e164(number, ext)


#: Fewest digits a part of a comma-joined cell needs to be read as a number of its own.
_MIN_PHONE_DIGITS = 5


def _parse_phone(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    region = o.region
    if not isinstance(raw, str):
        return [_one_phone(raw, region)] if f.multiple else _one_phone(raw, region)
    raw = _EXT_TAG.sub(" ext ", raw)  # "+1415…;ext=9" must not split on ";"
    parts = _split(raw, o, google=True)
    if f.multiple and "," in raw:
        # Pipedrive and Close join a person's numbers with ", " ("+49 711 2345678, +49 171 9876543");
        # a comma is also a dial pause ("+1 555 0100,,42"), so split only where every part is a number
        by_comma = _split(raw, o, ",", google=True)
        if all(sum(c.isdigit() for c in p) >= _MIN_PHONE_DIGITS for p in by_comma):
            parts = by_comma
    if f.multiple:
        return _dedupe(
            [_one_phone(p, region) for p in _several(parts, raw, "invalid_phone", "telephone number")]
        )
    return _one_phone(_single(parts, raw, "invalid_phone", "telephone number"), region)


#: handleService -> (hosts, canonical URL prefix for a bare handle, canonical host)
SOCIAL_SERVICES: dict[str, tuple[frozenset[str], str, str]] = {
    "LINKEDIN": (
        frozenset({"linkedin.com", "www.linkedin.com", "lnkd.in"}),
        "https://www.linkedin.com/in/",
        "www.linkedin.com",
    ),
    "TWITTER": (
        frozenset(
            {"twitter.com", "www.twitter.com", "x.com", "www.x.com", "mobile.twitter.com", "mobile.x.com"}
        ),
        "https://x.com/",
        "x.com",
    ),
    "FACEBOOK": (
        frozenset({"facebook.com", "www.facebook.com", "m.facebook.com", "fb.com", "www.fb.com"}),
        "https://www.facebook.com/",
        "www.facebook.com",
    ),
    "INSTAGRAM": (
        frozenset({"instagram.com", "www.instagram.com"}),
        "https://www.instagram.com/",
        "www.instagram.com",
    ),
}
SERVICE_NAMES = {
    "LINKEDIN": "LinkedIn",
    "TWITTER": "X (Twitter)",
    "FACEBOOK": "Facebook",
    "INSTAGRAM": "Instagram",
}
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
        if m and service in SOCIAL_SERVICES:  # a handle with dots ("ana.lima")
            return SOCIAL_SERVICES[service][1] + m.group(1)
        raise _Bad("invalid_social_handle", f"{text!r} is not a {expected} profile URL or handle")
    if service and found != service:
        raise _Bad(
            "invalid_social_handle",
            f"{text!r} is a {SERVICE_NAMES[found]} URL; this field takes a {expected} profile",
        )
    path = parts.path.rstrip("/")
    if not path.strip("/"):
        raise _Bad("invalid_social_handle", f"{text!r} has no profile in it")
    query = parts.query if path.endswith("profile.php") else ""
    return urlunsplit(("https", SOCIAL_SERVICES[found][2], path, query, ""))
