"""Profiles: shipped mapping files for the exports people move in from (HubSpot, Salesforce, Close,
Pipedrive; deals, companies and contacts). A profile is an ordinary mapping file
(``<vendor>-<object>.yaml`` beside this module, each citing its sources), so
``bulkio map --from hubspot opportunity`` writes one out to edit and ``--mapping`` reads it back.

:func:`detect_profile` picks one from a file's headers when exactly one profile of the object
recognises them (``detect.headers``), so ``bulkio import opportunity hubspot-deals.csv`` works
without ``--from``.

A vendor may ship *variants* of a profile for other layouts of the same data
(``<vendor>-<object>@<variant>.yaml``): ``close-account@workbook.yaml`` reads the sheets of bulkio's
own Close workbook (``bulkio export pipeline --crm close``) the way ``bulkio migrate`` does. A
variant is used when its ``detect`` headers are all present; otherwise the vendor's main profile.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..errors import ConfigError
from ..mapfile import MappingFile, load_mapping

#: The CRMs with a profile for each of deals, companies and contacts (and generated exports in tests).
VENDORS = ("hubspot", "salesforce", "close", "pipedrive")
#: Sources users move in from whose exports have profiles too: other CRMs (Zoho CRM, Microsoft
#: Dynamics 365's Export to Excel), lead lists (Apollo.io, ZoomInfo; no deals) and address books
#: (Google Contacts, Outlook, LinkedIn connections; contacts only).
MORE_SOURCES = ("zoho", "dynamics", "apollo", "zoominfo", "google", "outlook", "linkedin")
#: Every ``--from`` a profile answers to.
ALL_SOURCES = VENDORS + MORE_SOURCES
HERE = Path(__file__).resolve().parent
#: What each vendor calls the objects (for messages and ``--from`` help).
NAMES = {
    "hubspot": "HubSpot",
    "salesforce": "Salesforce",
    "close": "Close",
    "pipedrive": "Pipedrive",
    "zoho": "Zoho CRM",
    "dynamics": "Dynamics 365",
    "apollo": "Apollo",
    "zoominfo": "ZoomInfo",
    "google": "Google Contacts",
    "outlook": "Outlook",
    "linkedin": "LinkedIn",
}


def profile_path(vendor: str, object_type: str) -> Path:
    """The shipped file of ``vendor``'s ``object_type`` profile (ConfigError when there is none)."""
    v = vendor.strip().lower()
    if v not in ALL_SOURCES:
        raise ConfigError(f"no profile for {vendor!r}; profiles: {', '.join(ALL_SOURCES)}")
    path = HERE / f"{v}-{object_type}.yaml"
    if not path.exists():
        have = sorted(p.stem.split("-", 1)[1] for p in HERE.glob(f"{v}-*.yaml"))
        raise ConfigError(f"the {NAMES[v]} profile has no {object_type} export; it has: {', '.join(have)}")
    return path


@functools.cache
def _load(path: str) -> MappingFile:
    return load_mapping(path)


def load_profile(vendor: str, object_type: str, headers: list[str] | None = None) -> MappingFile:
    """The checked :class:`~bulkio.mapfile.MappingFile` of a profile (its variant for ``headers``,
    when one recognises them).

    >>> load_profile("hubspot", "opportunity").columns["Record ID"].target
    'external_id'
    """
    path = profile_path(vendor, object_type)
    if headers is not None:
        variant = _variant(vendor.strip().lower(), object_type, headers)
        if variant is not None:
            return variant.model_copy(deep=True)
    return _load(str(path)).model_copy(deep=True)


def _variant(vendor: str, object_type: str, headers: list[str]) -> MappingFile | None:
    present = {_norm(str(h)) for h in headers if h is not None}
    for path in sorted(HERE.glob(f"{vendor}-{object_type}@*.yaml")):
        spec = _load(str(path))
        if _recognises(spec, present):
            return spec
    return None


def _norm(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _recognises(spec: MappingFile, present: set[str]) -> bool:
    if spec.detect is None:
        return False
    sets = [spec.detect.headers, *spec.detect.also]
    return any(all(_norm(h) in present for h in s) for s in sets if s)


def detect_profile(headers: list[str], object_type: str) -> tuple[str, MappingFile] | None:
    """``(vendor, profile)`` when exactly one vendor's ``object_type`` profile recognises the headers.

    >>> detect_profile(["Record ID", "Deal Name", "Deal Stage", "Amount"], "opportunity")[0]   # doctest: +SKIP
    'hubspot'
    """
    present = {_norm(str(h)) for h in headers if h is not None}
    hits: list[tuple[str, MappingFile]] = []
    for vendor in ALL_SOURCES:
        path = HERE / f"{vendor}-{object_type}.yaml"
        variant = _variant(vendor, object_type, headers)
        if variant is not None:
            hits.append((vendor, variant))
        elif path.exists():
            spec = _load(str(path))
            if _recognises(spec, present):
                hits.append((vendor, spec))
    if len(hits) > 1:
        # Zoho's accounts export has Salesforce's Account Name, Account Owner and Billing City too, and
        # its contacts HubSpot's Record Id, First Name, Last Name and Email: the profile that names
        # most of the file's headers is the file's, when one names more than every other
        counts = [_named(spec, present) for _vendor, spec in hits]
        best = max(counts)
        if counts.count(best) == 1:
            hits = [hits[counts.index(best)]]
    if len(hits) != 1:
        return None
    vendor, spec = hits[0]
    return vendor, spec.model_copy(deep=True)


def _named(spec: MappingFile, present: set[str]) -> int:
    """How many of the file's (normalised) headers ``spec`` names, as a column or a derived join."""
    named = {_norm(h) for h in spec.columns} | {_norm(h) for d in spec.derived for h in (d.join or [])}
    return len(named & present)


def detect_any(headers: list[str]) -> list[tuple[str, str, str]]:
    """Every ``(vendor, object, label)`` whose profile recognises the headers (for hints when a
    file is imported as the wrong object, and to plan a folder of exports). When several objects of
    one vendor recognise them, the one whose profile names the most of the file's headers is kept:
    a HubSpot contacts export of every property has the Company Name and Company domain name that
    identify a companies export, but it is a contacts export."""
    present = {_norm(str(h)) for h in headers if h is not None}
    found: list[tuple[str, str, str, int]] = []
    for path in sorted(HERE.glob("*.yaml")):
        spec = _load(str(path))
        if _recognises(spec, present) and spec.detect is not None:
            vendor, obj = path.stem.split("@", 1)[0].split("-", 1)
            if any(v == vendor and o == obj for v, o, _label, _n in found):
                continue  # a variant of a profile already found
            found.append((vendor, obj, spec.detect.label, _named(spec, present)))
    best: dict[str, int] = {}
    for vendor, _obj, _label, n in found:
        best[vendor] = max(best.get(vendor, 0), n)
    return [(v, o, label) for v, o, label, n in found if n == best[v]]


__all__ = [
    "ALL_SOURCES",
    "MORE_SOURCES",
    "NAMES",
    "VENDORS",
    "detect_any",
    "detect_profile",
    "load_profile",
    "profile_path",
]
