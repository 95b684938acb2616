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
    parts = _split(raw, o, ",")
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
    parts = _split(raw, o)
    if f.multiple:
        return _dedupe([_one_url(p) for p in _several(parts, raw, "invalid_url", "URL")])
    return _one_url(_single(parts, raw, "invalid_url", "URL"))


_EXT = re.compile(r"\s*(?:;\s*ext=|,?\s*(?:ext\.?|extension|x|#)\s*)(\d{1,6})\s*$", re.IGNORECASE)
_EXT_TAG = re.compile(r";\s*ext=", re.IGNORECASE)
_NON_DIGIT = re.compile(r"\D")
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
    digits = _NON_DIGIT.sub("", s)
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
    raw = _EXT_TAG.sub(" ext ", raw)  # "+1415…;ext=9" must not split on ";"
    parts = _split(raw, o)
    if f.multiple:
        return _dedupe([_one_phone(p) for p in _several(parts, raw, "invalid_phone", "telephone number")])
    return _one_phone(_single(parts, raw, "invalid_phone", "telephone number"))


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
