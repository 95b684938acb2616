"""The typed face of a CRM client, as the library's public functions use it.

Why a protocol: :func:`bulkio.import_file`, :func:`bulkio.export_objects`, :func:`bulkio.make_template`
and friends need a handful of calls (definitions, paged lists, create, update), not the
:class:`~bulkio.client.LightfieldClient` class itself. Typing them against :class:`CrmClient` lets a
user pass a wrapper (a recording client in tests, a second CRM later) and still have ``mypy
--strict`` check the call; ``LightfieldClient`` satisfies it structurally (a test checks that).

>>> def count_accounts(client: CrmClient) -> int:
...     return sum(1 for _ in client.list_all("account"))
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .client import ClientStats
    from .definitions import ObjectSchema

Filters = Mapping[str, str] | Iterable[tuple[str, str]]


@runtime_checkable
class CrmClient(Protocol):
    """What bulkio needs from a CRM API client (the methods of :class:`~bulkio.client.LightfieldClient`)."""

    #: The API's base URL (part of the ledger's target: runs and known records are per target).
    base_url: str
    #: A short hash of the API key (never the key): tells two keys of the same URL apart.
    key_fingerprint: str

    @property
    def stats(self) -> ClientStats:
        """Request counters since the client was created (the run report shows their change)."""
        ...

    def schema(self, object_type: str) -> ObjectSchema: ...

    def object_types(self) -> builtins.list[dict[str, str]]: ...

    def all_object_types(self) -> builtins.list[dict[str, Any]]: ...

    def retrieve(self, object_type: str, record_id: str) -> dict[str, Any]: ...

    def list_page(
        self, object_type: str, *, offset: int, limit: int = ..., filters: Filters | None = None
    ) -> dict[str, Any]: ...

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


__all__ = ["CrmClient", "Filters"]
