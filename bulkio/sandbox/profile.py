"""Sandbox profiles: how forgiving the sandbox is where the Lightfield contract is silent.

Code that passes against the sandbox must work against api.lightfield.app. Where API-FACTS marks a
behaviour UNKNOWN or its sources conflict, the **strict** profile (the default) takes the least
forgiving reading, so a client that depends on a kindness fails here first; the **lenient** profile
keeps the forgiving choices (labels anywhere, case-insensitive matching, no list lag…), for demos
and for tools that want them. Every choice and its source is listed in ``docs/sandbox.md``.

>>> STRICT.case_sensitive, LENIENT.case_sensitive
(True, False)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Literal

ProfileName = Literal["strict", "lenient"]
PROFILE_NAMES: tuple[ProfileName, ...] = ("strict", "lenient")


@dataclass(frozen=True)
class Profile:
    """One sandbox's answers to the contract's open questions (see ``docs/sandbox.md``)."""

    name: ProfileName
    #: Default list lag of every org (ms): list results hide records younger than this
    #: (``set_faults(index_lag_ms=…)`` changes it per org).
    index_lag_ms: float
    #: Select labels on writes: ``"all"`` selects, or only opportunity ``$stage`` (``"stage"``).
    select_labels: Literal["all", "stage"]
    #: Labels, filters (equal / startsWith / contains) and unique values compare case and
    #: whitespace exactly (False: case-insensitive, whitespace collapsed).
    case_sensitive: bool
    #: 429 answers also carry ``Retry-After-Ms`` (undocumented; the official SDKs obey it).
    retry_after_ms: bool
    #: ``//v1//accounts/`` and other paths with empty segments or a trailing slash are 404.
    exact_paths: bool
    #: An Idempotency-Key sent again with a different request (path or body) is refused (422
    #: ``idempotency_key_reused``) instead of replaying the first answer.
    idempotency_compare: bool
    #: DATETIME values must carry an offset (``Z`` / ``+02:00``); date-only or naive → 422.
    datetime_offset_required: bool
    #: A relationship update takes exactly one of add / remove / replace per key ("provide one of").
    one_relationship_op: bool
    #: Opportunity ``$account`` may be changed on update (it is not in the typed update schema).
    opportunity_account_update: bool
    #: Task and note lists take filters (SPEC documents filters only on account, contact,
    #: opportunity and custom-object lists).
    task_note_filters: bool
    #: Custom-object writes honour Idempotency-Key (SPEC mentions it on every other write, not there).
    idempotent_objects: bool

    def with_lag(self, index_lag_ms: float) -> Profile:
        return replace(self, index_lag_ms=index_lag_ms)


STRICT = Profile(
    name="strict",
    index_lag_ms=2000.0,
    select_labels="stage",
    case_sensitive=True,
    retry_after_ms=False,
    exact_paths=True,
    idempotency_compare=True,
    datetime_offset_required=True,
    one_relationship_op=True,
    opportunity_account_update=False,
    task_note_filters=False,
    idempotent_objects=False,
)

LENIENT = Profile(
    name="lenient",
    index_lag_ms=0.0,
    select_labels="all",
    case_sensitive=False,
    retry_after_ms=True,
    exact_paths=False,
    idempotency_compare=False,
    datetime_offset_required=False,
    one_relationship_op=False,
    opportunity_account_update=True,
    task_note_filters=True,
    idempotent_objects=True,
)

PROFILES: dict[str, Profile] = {"strict": STRICT, "lenient": LENIENT}


def get_profile(profile: str | Profile | None = None) -> Profile:
    """``profile`` by name (or as given); None: ``BULKIO_SANDBOX_PROFILE``, else strict."""
    if isinstance(profile, Profile):
        return profile
    name = (profile or os.environ.get("BULKIO_SANDBOX_PROFILE") or "strict").strip().lower()
    found = PROFILES.get(name)
    if found is None:
        raise ValueError(f"Unknown sandbox profile {name!r}; use one of {', '.join(PROFILE_NAMES)}.")
    return found
