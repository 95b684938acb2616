"""Matching rows to records that exist without a key: normalised company names, website domains and
email addresses (``--match name|domain|email``), and the same comparison for ``possible_duplicate``.

What counts as "the same":

* **name** (accounts, and any object whose ``$name`` is TEXT): case, accents, punctuation and
  spacing are ignored (``ACME, Inc.`` = ``Acme Inc``), ``&`` equals ``and``, a leading ``The`` is
  dropped, and trailing legal forms are dropped (:data:`LEGAL_FORMS`: Inc, Corp, Co, LLC, Ltd, PLC,
  GmbH, AG, KG, SA, SAS, SARL, SRL, SpA, BV, NV, Oy, AB, AS, ApS, Pty, Pte, KK…), so ``Acme Corp``,
  ``Acme Inc.`` and ``ACME GmbH`` all read ``acme``. Different companies that then read the same are
  not merged: two candidates make the row ``ambiguous_match``, never a guess. Words that tell
  entities apart (Group, Holdings, International, a city) are kept. Contacts' ``$name`` (a full name)
  compares first and last name, ignoring case and spacing.
* **domain** (``$website``): the host of each URL, lower case, without ``www.`` (``https://www.Acme.com/
  about`` = ``acme.com``); a sub-domain is another domain.
* **email** (``$email``): the whole address, ignoring case.

Lookups use the API's own filters (``$name[startsWith]`` with the name's first word as written,
``$website[contains]``, ``$email[contains]``) and compare the results with these rules, so the
filter only narrows and never decides. One limit follows: when records are looked up one by one
(a large org), a name whose first word differs (``The Acme Company`` for ``Acme``, ``Café`` for
``Cafe``) is not found; when the object is scanned (small orgs, or many rows) it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from .definitions import ObjectSchema
from .errors import ConfigError

MatchKind = Literal["name", "domain", "email"]
MATCH_KINDS: tuple[MatchKind, ...] = ("name", "domain", "email")
#: (kind, the field is a FULL_NAME) pairs records are indexed by
MatchSpec = tuple[tuple[MatchKind, bool], ...]

#: Legal forms dropped from the end of a company name (lower case, dots removed).
LEGAL_FORMS = frozenset(
    [
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "cos",
        "llc",
        "lc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "plc",
        "pllc",
        "pc",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "kgaa",
        "ohg",
        "ug",
        "ev",
        "eg",
        "se",
        "sa",
        "sas",
        "sasu",
        "sarl",
        "eurl",
        "sl",
        "slu",
        "srl",
        "spa",
        "sapa",
        "snc",
        "bv",
        "nv",
        "vof",
        "cv",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "ks",
        "hf",
        "ehf",
        "sp",
        "zoo",
        "spzoo",
        "sro",
        "as",
        "kft",
        "zrt",
        "rt",
        "doo",
        "dd",
        "ad",
        "pty",
        "pte",
        "pvt",
        "private",
        "kk",
        "gk",
        "bhd",
        "sdn",
        "tbk",
        "lda",
        "ltda",
        "cia",
        "sac",
        "eirl",
    ]
)
_FIELD = {"name": "$name", "domain": "$website", "email": "$email"}
_NON_WORD = re.compile(r"[^0-9a-z]+")
_WORDS = re.compile(r"[\W_]+")


def match_field(kind: MatchKind) -> str:
    """The field a kind of match compares (``$name``, ``$website``, ``$email``)."""
    return _FIELD[kind]


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").casefold()


def company_key(name: str) -> str | None:
    """``"ACME, Inc."`` → ``"acme"``: the comparable form of a company name (None when empty).

    >>> company_key("The Acme Company, Ltd."), company_key("Smith & Co. GmbH")
    ('acme', 'smith')
    """
    text = _ascii_fold(name).replace("&", " and ").replace(".", "")
    words = [w for w in _NON_WORD.split(text) if w]
    if not words:
        return None
    core = list(words)
    if len(core) > 1 and core[0] == "the":
        core = core[1:]
    while len(core) > 1 and (core[-1] in LEGAL_FORMS or core[-1] == "and"):
        core.pop()
    return " ".join(core or words)


def person_key(name: Any) -> str | None:
    """A full name (``{"firstName", "lastName"}`` or text) as ``"ana lima"``; None when empty."""
    if isinstance(name, dict):
        name = " ".join(str(p) for p in (name.get("firstName"), name.get("lastName")) if p)
    text = " ".join(_ascii_fold(str(name or "")).split())
    return text or None


def domain_key(url: str) -> str | None:
    """``"https://www.Acme.com/about"`` → ``"acme.com"`` (None when there is no host)."""
    text = str(url).strip()
    if not text:
        return None
    if "://" not in text:
        text = "https://" + text.lstrip("/")
    try:
        host = (urlsplit(text).hostname or "").strip(".").lower()
    except ValueError:
        return None
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    return host if "." in host else None


def email_key(email: str) -> str | None:
    text = str(email).strip().casefold()
    text = text.removeprefix("mailto:")
    return text if "@" in text else None


def _items(value: Any) -> Iterable[Any]:
    if value is None:
        return ()
    return value if isinstance(value, (list, tuple)) else (value,)


def match_keys(kind: MatchKind, value: Any, *, person: bool = False) -> set[str]:
    """The comparable forms of a field value (a parsed cell or an API value) for ``kind``."""
    if kind == "name":
        if person or isinstance(value, dict):
            k = person_key(value)
            return {k} if k else set()
        k = company_key(str(value)) if value else None
        return {k} if k else set()
    fn = domain_key if kind == "domain" else email_key
    return {k for v in _items(value) if v and (k := fn(str(v)))}


def lookup_filter(kind: MatchKind, value: Any, *, person: bool = False) -> tuple[str, str] | None:
    """The list filter that narrows the candidates for one value (``("$name[startsWith]", "Acme")``),
    or None when the value gives none. Results are compared with :func:`match_keys` afterwards."""
    # the text as the file writes it, case and accents kept: whether a server compares filters
    # ignoring case is not documented (API-FACTS), and a casefolded "acme" finds no "Acme Corp"
    # where it does not
    if kind == "name":
        if person or isinstance(value, dict):
            if isinstance(value, dict):
                value = " ".join(str(p) for p in (value.get("firstName"), value.get("lastName")) if p)
            text = " ".join(str(value or "").split())
            return ("$name[equal]", text) if text else None
        first = next((w for w in _WORDS.split(str(value or "")) if w), None)
        return ("$name[startsWith]", first) if first else None
    if kind == "domain":
        return ("$website[contains]", value) if value else None
    return ("$email[contains]", value) if value else None


# --- match configuration -------------------------------------------------------------------------


def is_person(schema: ObjectSchema, kind: MatchKind) -> bool:
    f = schema.fields.get(match_field(kind))
    return kind == "name" and f is not None and f.value_type == "FULL_NAME"


def check_match(schema: ObjectSchema, match: str) -> MatchKind:
    """``match`` as a kind this object can match by; a :class:`ConfigError` naming what it can."""
    kinds = [k for k in MATCH_KINDS if _can_match(schema, k)]
    if match not in kinds:
        otype = schema.object_type
        can = " or ".join(f"--match {k}" for k in kinds) if kinds else "no --match (it has no name)"
        raise ConfigError(f"{otype} records cannot be matched by {match!r}; {otype} takes {can}")
    return match


def _can_match(schema: ObjectSchema, kind: MatchKind) -> bool:
    f = schema.fields.get(match_field(kind))
    if f is None:
        return False
    allowed = {"name": ("TEXT", "FULL_NAME"), "domain": ("URL",), "email": ("EMAIL",)}[kind]
    return f.value_type in allowed


def duplicate_specs(schema: ObjectSchema) -> MatchSpec:
    """What a created record is compared with for ``possible_duplicate``: contacts by email and full
    name, accounts by name. Not deals or custom objects: two deals named "Renewal 2027" are
    usually two deals, and warning about them would drown the warnings that matter."""
    specs: list[tuple[MatchKind, bool]] = []
    if schema.object_type not in ("account", "contact"):
        return ()
    if _can_match(schema, "email"):
        specs.append(("email", False))
    if _can_match(schema, "name"):
        specs.append(("name", is_person(schema, "name")))
    return tuple(specs)
