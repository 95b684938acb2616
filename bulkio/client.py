"""LightfieldClient: the one HTTP client every bulkio step uses (CONTRACT STUB — to be implemented).

Sync httpx.Client underneath; thread-safe, so ``write`` and ``export`` run requests concurrently
from a thread pool while one pacer per rate category (Write / Read / Search) keeps the whole
process under the API's limits.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

import httpx

from .events import EventHandler

Filters = Mapping[str, str] | Iterable[tuple[str, str]]


class LightfieldClient:
    """A small, typed client for the Lightfield REST API (or the bulkio sandbox).

    >>> with LightfieldClient(api_key="sk_lf_...", base_url="http://127.0.0.1:8787") as lf:
    ...     acme = lf.create("account", {"fields": {"$name": "Acme"}}, idempotency_key="row-2")
    """

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None,
                 transport: httpx.BaseTransport | None = None, timeout: float = 30.0,
                 rate_limit: Any = None, retry: Any = None, on_event: EventHandler | None = None,
                 max_connections: int = 32) -> None:
        raise NotImplementedError

    # --- reads -------------------------------------------------------------------------------
    def validate_auth(self) -> dict[str, Any]: ...
    def definitions(self, object_type: str) -> dict[str, Any]: ...
    def schema(self, object_type: str) -> Any: ...  # -> ObjectSchema (cached per client)
    def object_types(self) -> list[dict[str, str]]: ...  # GET /v1/objects
    def retrieve(self, object_type: str, record_id: str) -> dict[str, Any]: ...
    def list(self, object_type: str, *, filters: Filters | None = None, page_size: int = 25,
             max_records: int | None = None) -> Iterator[dict[str, Any]]: ...
    def list_page(self, object_type: str, *, offset: int, limit: int = 25,
                  filters: Filters | None = None) -> dict[str, Any]: ...  # raw {object,data,totalCount}
    def list_all(self, object_type: str, *, filters: Filters | None = None,
                 concurrency: int = 8) -> Iterator[dict[str, Any]]: ...  # concurrent pages, order kept
    def members(self) -> list[dict[str, Any]]: ...
    # --- writes ------------------------------------------------------------------------------
    def create(self, object_type: str, body: dict[str, Any], *,
               idempotency_key: str | None = None) -> dict[str, Any]: ...
    def update(self, object_type: str, record_id: str, body: dict[str, Any], *,
               idempotency_key: str | None = None) -> dict[str, Any]: ...
    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None: ...
    def __enter__(self) -> "LightfieldClient": ...
    def __exit__(self, *exc: object) -> None: ...
