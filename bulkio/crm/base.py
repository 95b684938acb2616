"""The Backend protocol: what the CRM-neutral stages need from a CRM, and the shared types.

Why a protocol: read, map, validate, resolve, plan, write, results and export are the same for
every CRM; only the API differs. The stages talk to a :class:`Backend` and never import one, so a
CRM is one package under ``bulkio/crm/<crm>/`` (its client, its value encodings, its sandbox).
:class:`~bulkio.client.LightfieldClient` satisfies it as it is; the Close backend
(:class:`bulkio.crm.close.CloseBackend`) translates to and from the neutral record shape.

**The neutral record shape** (Lightfield's, which bulkio's stages were built on)::

    {"id": "lead_…", "httpLink": "https://…",
     "fields": {"$name": {"value": "Acme", "valueType": "TEXT"}, "external_id": {"value": "A-1", …}},
     "relationships": {"$user": {"values": ["user_…"]}}}

Keys are those of the backend's :class:`ObjectSchema`: ``$``-keys for the CRM's own fields, plain
keys for custom fields. Values are the *neutral* values :mod:`bulkio.values` parses and formats:
money in currency units, date-times as ISO 8601 strings, selects as option ids, lists for
multi-value fields. Write bodies are what :mod:`bulkio.plan` builds: ``{"fields": {key: value or
None}, "relationships": {key: id | [ids] | {"replace": [ids] | None}}}``.

Optional capabilities are separate, small protocols, checked with ``isinstance``:

* :class:`Deletes` — ``delete(object_type, record_id)``;
* :class:`AdoptsLostCreates` — a backend *without* idempotency keys (Close) that can find a create
  whose answer was lost (``use_key`` tells it which field holds the upsert key);
* :class:`PipelineSource` — a backend whose pipeline export has its own objects and Summary.

>>> def count(backend: Backend, object_type: str) -> int:
...     return sum(1 for _ in backend.list_all(object_type))
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..definitions import FieldDef, ObjectSchema, OptionDef, RelationshipDef, TypeConfiguration

Filters = Mapping[str, str] | Iterable[tuple[str, str]]

#: Records per list page when a backend does not say (Lightfield's maximum).
DEFAULT_PAGE = 25


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of a backend's request counters (``backend.stats``)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    transport_errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "transport_errors": self.transport_errors,
            "by_status": dict(self.by_status),
        }


@runtime_checkable
class Backend(Protocol):
    """What every stage needs from a CRM: schema, lookups, paged lists with pacing, writes.
    (Also importable as :class:`bulkio.protocols.CrmClient`, its first name.)"""

    #: The API's base URL: with :attr:`key_fingerprint`, the ledger's *target* (runs and known
    #: records are kept per target).
    base_url: str
    #: A short hash of the API key (never the key): tells two keys of the same URL apart.
    key_fingerprint: str

    @property
    def stats(self) -> Any:
        """Request counters (``requests``, ``retries``, ``rate_limited``, ``transport_errors``,
        ``by_status``) since the backend was created; the run report shows their change."""
        ...

    def schema(self, object_type: str) -> ObjectSchema: ...

    def object_types(self) -> builtins.list[dict[str, str]]: ...

    def all_object_types(self) -> builtins.list[dict[str, Any]]: ...

    def retrieve(self, object_type: str, record_id: str) -> dict[str, Any]: ...

    def list_page(
        self, object_type: str, *, offset: int, limit: int = ..., filters: Filters | None = None
    ) -> dict[str, Any]:
        """One page ``{"data": [...], "totalCount": int | None}``."""
        ...

    def list(
        self,
        object_type: str,
        *,
        filters: Filters | None = None,
        page_size: int = ...,
        max_records: int | None = None,
    ) -> Iterator[dict[str, Any]]: ...

    def list_all(
        self, object_type: str, *, filters: Filters | None = None, concurrency: int = ...
    ) -> Iterator[dict[str, Any]]: ...

    def members(self) -> builtins.list[dict[str, Any]]: ...

    def create(
        self, object_type: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]: ...

    def update(
        self, object_type: str, record_id: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]: ...


@runtime_checkable
class Deletes(Protocol):
    """A backend that can delete records (Close; Lightfield's contract has no DELETE, its newer
    docs do: the client sends it, and a server without it says so with a 404 or 405)."""

    def delete(self, object_type: str, record_id: str) -> None: ...


@runtime_checkable
class AdoptsLostCreates(Protocol):
    """A backend without idempotency keys: a create whose answer was lost may have been applied,
    so before it is sent again the backend looks for the record by its upsert key and *adopts* it
    (never a duplicate). The pipeline says which field holds the key (:meth:`use_key`) and, on
    resume, asks about each create whose fate the ledger does not know (:meth:`find_created`)."""

    def use_key(self, object_type: str, key_field: str) -> None: ...

    def find_created(self, object_type: str, body: dict[str, Any]) -> dict[str, Any] | None: ...


@runtime_checkable
class PipelineSource(Protocol):
    """A backend whose ``export pipeline`` has its own objects, sheet names and Summary."""

    pipeline_objects: tuple[str, ...]
    sheet_names: dict[str, str]

    def summarize_pipeline(
        self, opportunities: builtins.list[dict[str, Any]], filters: Filters | None
    ) -> Any: ...


def crm_name(backend: object) -> str:
    """``"lightfield"`` or ``"close"`` (a backend's ``crm`` attribute; Lightfield by default)."""
    return str(getattr(backend, "crm", "lightfield"))


def is_idempotent(backend: object) -> bool:
    """True when retried writes are made safe by idempotency keys (Lightfield), False when the
    backend has none (Close) and must find lost creates instead."""
    return bool(getattr(backend, "idempotent", True))


def page_size(backend: object, object_type: str) -> int:
    """Records per list page of ``object_type`` (Lightfield: 25; Close: 100–250)."""
    sizes = getattr(backend, "page_sizes", None)
    if isinstance(sizes, Mapping):
        return int(sizes.get(object_type, DEFAULT_PAGE))
    return DEFAULT_PAGE


def scan_pages(backend: object, object_type: str, total: int) -> int:
    """List pages needed to read every record of ``object_type`` once."""
    return max(1, math.ceil(total / max(1, page_size(backend, object_type))))


def lookup_weight(backend: object) -> float:
    """What one lookup by key costs, in list pages: lookups and lists share one rate on Lightfield
    (1.0); on Close a lookup is a ``/data/search/`` request, whose bucket is ten times smaller."""
    return float(getattr(backend, "lookup_cost", 1.0))


__all__ = [
    "DEFAULT_PAGE",
    "AdoptsLostCreates",
    "Backend",
    "ClientStats",
    "Deletes",
    "FieldDef",
    "Filters",
    "ObjectSchema",
    "OptionDef",
    "PipelineSource",
    "RelationshipDef",
    "TypeConfiguration",
    "crm_name",
    "is_idempotent",
    "lookup_weight",
    "page_size",
    "scan_pages",
]
