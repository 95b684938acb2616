"""SINGLE_SELECT and MULTI_SELECT: cell text, and option labels ⇄ option IDs."""

from __future__ import annotations

import difflib
from typing import Any, Self

from ..columns import MULTI_SEPARATOR
from ..definitions import FieldDef
from .common import _WS, ParseOptions, _Bad, _dedupe, _norm_label, _split, _text


def _parse_single(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    return _WS.sub(" ", _text(raw))


def _parse_multi(f: FieldDef, raw: Any, o: ParseOptions) -> Any:
    parts = _split(raw, o)
    if not parts:  # only separators: never [] (that would clear the field; only #clear does)
        raise _Bad("invalid_type", f"{_text(raw)!r} holds no option, only separators")
    return _dedupe([_WS.sub(" ", p) for p in parts])


class OptionMatch(tuple[str | None, list[str]]):
    """Result of :func:`match_option`: a ``(option_id, candidates)`` tuple. ``ambiguous`` is
    True when several options share the normalised label (``candidates`` are their IDs);
    otherwise ``candidates`` are did-you-mean labels for an unknown value."""

    ambiguous: bool

    def __new__(cls, option_id: str | None, candidates: list[str], ambiguous: bool = False) -> Self:
        self = super().__new__(cls, (option_id, candidates))
        self.ambiguous = ambiguous
        return self

    @property
    def option_id(self) -> str | None:
        return self[0]

    @property
    def candidates(self) -> list[str]:
        return self[1]


_OPTION_INDEX: dict[int, tuple[Any, dict[str, list[str]], dict[str, list[str]], dict[str, str]]] = {}


def _option_index(field: FieldDef) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    """(normalised label -> ids, casefolded id -> ids, normalised label -> label), cached per
    options list (the cache entry is checked by identity, so a new schema never sees stale data)."""
    options = field.options
    hit = _OPTION_INDEX.get(id(options))
    if hit is not None and hit[0] is options:
        return hit[1], hit[2], hit[3]
    by_label: dict[str, list[str]] = {}
    by_id: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for opt in options:
        n = _norm_label(opt.label)
        by_label.setdefault(n, []).append(opt.id)
        by_id.setdefault(opt.id.casefold(), []).append(opt.id)
        labels.setdefault(n, opt.label)
    if len(_OPTION_INDEX) > 1000:
        _OPTION_INDEX.clear()
    _OPTION_INDEX[id(options)] = (options, by_label, by_id, labels)
    return by_label, by_id, labels


def match_option(field: FieldDef, text: str) -> OptionMatch:
    """Map a cell's option text to an option ID: exact ID, then case/whitespace-insensitive
    label, then case-insensitive ID. Never a prefix or fuzzy match (those only become
    suggestions).

    >>> option_id, candidates = match_option(stage_field, "closed  won")   # doctest: +SKIP
    """
    t = text.strip()
    by_label, by_id, labels = _option_index(field)
    if t in by_id.get(t.casefold(), ()):
        return OptionMatch(t, [])
    key = _norm_label(t)
    hits = by_label.get(key) or by_id.get(key) or []
    if len(hits) == 1:
        return OptionMatch(hits[0], [])
    if len(hits) > 1:
        return OptionMatch(None, list(hits), ambiguous=True)
    close = difflib.get_close_matches(key, list(labels), n=3, cutoff=0.6)
    close += [n for n in labels if key and n.startswith(key) and n not in close]
    return OptionMatch(None, [labels[c] for c in close][:3])


def _option_label(field: FieldDef, option_id: str) -> str:
    """The label to show for an option ID; the ID itself when the label would not map back
    (unknown ID, duplicate label, or a label containing the multi-value separator)."""
    for opt in field.options:
        if opt.id == option_id:
            label = opt.label
            if MULTI_SEPARATOR in label or label != label.strip() or not label:
                return option_id
            m = match_option(field, label)
            return label if m.option_id == option_id else option_id
    return option_id
