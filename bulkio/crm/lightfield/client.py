"""LightfieldClient: the Lightfield backend, the HTTP client every bulkio step uses for Lightfield.

It lives in ``bulkio/crm/lightfield/`` with the other CRM's backends (``bulkio/crm/close/``);
``bulkio.client`` re-exports it, so ``from bulkio.client import LightfieldClient`` keeps working.

Why synchronous httpx plus threads (not asyncio): the library API stays plain, blocking Python
for pandas and script users, and the API's ceiling (25 requests/second per category) is reached
with a handful of threads, so an event loop would buy nothing but a second calling convention.
One ``httpx.Client`` (its connection pool is thread-safe) is shared by every thread; ``write``
and ``export`` run requests from thread pools while one :class:`~bulkio.ratelimit.Pacer` per
rate category (write / read / search) keeps the whole process under the limits.

Retries (see :class:`~bulkio.ratelimit.RetryPolicy`):

* 429 waits ``Retry-After-Ms`` / ``Retry-After`` (else until ``X-RateLimit-Reset``) and pauses that
  category's pacer; it is never a failed attempt: the request gives up only after
  ``RetryPolicy.max_wait`` seconds without any request of the client succeeding;
* 5xx, timeouts and dropped connections back off exponentially with jitter, and a write is sent
  again with the **same** ``Idempotency-Key``, so the server runs it at most once;
* 409 is retried only when it says the same idempotency key is still in flight;
* a POST **without** an idempotency key is retried only when it certainly never reached the
  server (connect errors, 429); after anything else it may have been applied, so the error is
  raised. bulkio itself always passes keys.

The API key is stripped and checked for shape (:func:`~bulkio.config.clean_api_key`), then lives only
in the httpx client's headers (whose repr masks it); the client keeps a fingerprint
(:attr:`LightfieldClient.key_fingerprint`) so a resume ledger can tell targets apart. Error texts
from the transport are redacted (:func:`~bulkio.errors.redact`).

Pacing is per process unless :meth:`LightfieldClient.share_pacing` (or ``pace_dir=``) puts the
buckets in a folder, where every bulkio process using the same base URL and key shares them
(:class:`~bulkio.ratelimit.SharedPacer`); ``import_file`` does so next to its ledger.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self

import httpx
from pydantic import SecretStr

from ... import __version__
from ...config import API_VERSION, DEFAULT_BASE_URL, clean_api_key
from ...definitions import (
    NOTE_DEFINITIONS,
    SYSTEM_OBJECTS,
    ObjectSchema,
    collection_path,
    create_path,
    definitions_path,
    record_path,
)
from ...errors import ApiError, AuthError, ConfigError, RateLimitError, ScopeError, redact
from ...events import EventHandler, RateLimited, Retrying
from ...ratelimit import CATEGORIES, Category, Pacer, RateLimit, RetryPolicy, SharedPacer
from ..base import ClientStats

__all__ = ["ClientStats", "Filters", "LightfieldClient", "RateLimit", "RetryPolicy", "parse_error"]

Filters = Mapping[str, str] | Iterable[tuple[str, str]]

#: The API's maximum page size for list endpoints.
MAX_PAGE = 25

#: Transport errors after which the request certainly never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = self.retries = self.rate_limited = self.transport_errors = 0
        self.by_status: Counter[int] = Counter()

    def snapshot(self) -> ClientStats:
        with self.lock:
            return ClientStats(
                self.requests,
                self.retries,
                self.rate_limited,
                self.transport_errors,
                dict(sorted(self.by_status.items())),
            )


def parse_error(response: httpx.Response, *, method: str, path: str) -> ApiError:
    """Turn an error answer into the right :class:`ApiError` subclass.

    Accepts the wrapped ``{"error": {type, message, code, param}}`` envelope, the flat
    ``{type, message, code, param}`` one, and bodies that are not JSON at all.
    """
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    err: Mapping[str, Any] = {}
    if isinstance(body, Mapping):
        inner = body.get("error")
        err = inner if isinstance(inner, Mapping) else body
    status = response.status_code
    etype = _str(err.get("type")) or _default_type(status)
    message = (
        _str(err.get("message"))
        or (response.text.strip()[:200] if body is None else "")
        or response.reason_phrase
        or "error"
    )
    cls = {401: AuthError, 403: ScopeError, 429: RateLimitError}.get(status, ApiError)
    return cls(
        message,
        status=status,
        type=etype,
        code=_str(err.get("code")),
        param=_str(err.get("param")),
        method=method,
        path=path,
        body=body if body is not None else response.text[:1000],
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _default_type(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        415: "unsupported_media_type",
        422: "unprocessable_content",
        429: "too_many_requests",
        500: "internal_server_error",
        503: "service_unavailable",
        504: "gateway_timeout",
    }.get(status, "error")


def _is_idempotency_conflict(err: ApiError) -> bool:
    return err.status == 409 and "idempotency_conflict" in (err.type, err.code)


def _normalise_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    url = url.removesuffix("/v1")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Base URL must start with http:// or https:// (got {url!r}).")
    return url


class LightfieldClient:
    """A small, typed, thread-safe client for the Lightfield REST API (or the bulkio sandbox).

    >>> with LightfieldClient(api_key="sk_lf_...", base_url="http://127.0.0.1:8787") as lf:
    ...     acme = lf.create("account", {"fields": {"$name": "Acme"}}, idempotency_key="row-2")
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        rate_limit: RateLimit | None = None,
        retry: RetryPolicy | None = None,
        on_event: EventHandler | None = None,
        max_connections: int = 32,
        pace_dir: str | Path | None = None,
    ) -> None:
        if isinstance(api_key, SecretStr):
            api_key = api_key.get_secret_value()
        key = api_key or os.environ.get("LIGHTFIELD_API_KEY")
        if not key or not key.strip():
            raise ConfigError("No API key: pass api_key= or set LIGHTFIELD_API_KEY.")
        key = clean_api_key(key, source="api_key= / LIGHTFIELD_API_KEY" if api_key else "LIGHTFIELD_API_KEY")
        self.base_url = _normalise_base_url(
            base_url or os.environ.get("LIGHTFIELD_BASE_URL") or DEFAULT_BASE_URL
        )
        self.key_fingerprint = hashlib.sha256(key.encode()).hexdigest()[:12]
        #: What the ledger keys runs and known records by (never the key itself). connect() names the
        #: embedded sandbox by its database instead, as its port changes with every start.
        self.target = f"{self.base_url}#{self.key_fingerprint}"
        self.rate_limit = rate_limit or RateLimit()
        self.retry = retry or RetryPolicy()
        self.on_event = on_event
        self.pacers: dict[str, Pacer] = {c: Pacer(c, self.rate_limit) for c in CATEGORIES}
        self._last_progress = 0.0  # monotonic time of the last answer that was not 429 / 5xx
        self._counters = _Counters()
        self._schemas: dict[str, ObjectSchema] = {}
        self._schema_lock = threading.Lock()
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            limits=limits,
            headers={
                "Authorization": f"Bearer {key}",
                "Lightfield-Version": API_VERSION,
                "Accept": "application/json",
                "User-Agent": f"bulkio/{__version__}",
            },
        )
        del key, api_key
        if pace_dir is not None:
            self.share_pacing(pace_dir)

    def share_pacing(self, directory: str | Path) -> None:
        """Pace with every other bulkio process on this machine that uses the same base URL and key:
        one file-locked token bucket per rate category in ``directory`` (the resume ledger's
        folder), keyed by a hash of :attr:`target`. What this client learned (the server's limit)
        carries over; calling it again with the same folder changes nothing."""
        folder = Path(directory)
        for cat, old in list(self.pacers.items()):
            if isinstance(old, SharedPacer) and old.directory == folder:
                continue
            shared = SharedPacer(cat, self.rate_limit, directory=folder, target=self.target)
            if old.server_limit and not shared.server_limit:
                shared.server_limit = old.server_limit
                shared.rate, shared.capacity = old.rate, old.capacity
            self.pacers[cat] = shared
            if isinstance(old, SharedPacer):
                old.close()

    def __repr__(self) -> str:
        return f"LightfieldClient(base_url={self.base_url!r}, key=sha256:{self.key_fingerprint}…)"

    @property
    def stats(self) -> ClientStats:
        """Counters since the client was created (a consistent snapshot; safe from any thread)."""
        return self._counters.snapshot()

    # --- the request loop --------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        category: Category | None = None,
        params: Any = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one API request with pacing and retries; return the decoded JSON body."""
        method = method.upper()
        cat: Category = category or ("write" if method == "POST" else "read")
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if json is not None:
            headers["Content-Type"] = "application/json"
        safe_to_resend = method != "POST" or idempotency_key is not None
        policy = self.retry
        attempt = 0  # failed attempts; a 429 is not one
        limited = 0  # 429s of this request
        started = time.monotonic()
        while True:
            pacer = self.pacers[cat]  # looked up each time: share_pacing() may swap it
            ticket = pacer.acquire()
            with self._counters.lock:
                self._counters.requests += 1
            failure: ApiError | None = None
            try:
                response = self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TransportError as exc:
                with self._counters.lock:
                    self._counters.transport_errors += 1
                attempt += 1
                # a request httpx refuses to build or send (an illegal header) fails the same way
                # every time: never retried
                retryable = not isinstance(exc, httpx.LocalProtocolError) and (
                    safe_to_resend or isinstance(exc, _NOT_SENT)
                )
                if retryable and attempt < policy.max_attempts:
                    self._wait_retry(method, path, attempt, type(exc).__name__, policy.backoff(attempt))
                    continue
                # built here, raised below: not inside ``except``, so it carries no __context__ with
                # httpx's text, which can quote headers (``Illegal header value b'Bearer …'``)
                failure = ApiError(
                    f"{type(exc).__name__}: {redact(str(exc))}" if str(exc) else type(exc).__name__,
                    status=0,
                    type="connection_error",
                    code=type(exc).__name__,
                    method=method,
                    path=path,
                )
            if failure is not None:
                raise failure
            status = response.status_code
            with self._counters.lock:
                self._counters.by_status[status] += 1
            pacer.observe(response.headers, ticket)
            if status != 429 and status < 500:
                self._last_progress = time.monotonic()  # the server is serving this client
            if status < 400:
                return self._decode(response, method, path)
            err = parse_error(response, method=method, path=path)
            if status == 429 and 429 in policy.retry_statuses:
                limited += 1
                wait = policy.rate_limit_wait(response.headers, limited)
                stalled = time.monotonic() - max(self._last_progress, started)
                with self._counters.lock:
                    self._counters.rate_limited += 1
                if stalled >= policy.max_wait:
                    err.add_note(
                        f"Rate limited for {stalled:.0f} s without a request succeeding (the limit "
                        f"is {policy.max_wait:g} s; --max-wait raises it): another client may be "
                        "using the same API key."
                    )
                    raise err
                wait = min(wait, policy.max_wait - stalled)  # the last try comes as the budget ends
                with self._counters.lock:
                    self._counters.retries += 1
                pacer.pause(wait)
                self._emit(RateLimited(category=cat, wait_seconds=wait, stalled_seconds=stalled))
                continue  # not an attempt: the pacer holds this thread until the pause is over
            attempt += 1
            if attempt < policy.max_attempts and (
                (status in policy.retry_statuses and safe_to_resend) or _is_idempotency_conflict(err)
            ):
                self._wait_retry(method, path, attempt, str(status), policy.backoff(attempt))
                continue
            raise err

    def _wait_retry(self, method: str, path: str, attempt: int, reason: str, wait: float) -> None:
        with self._counters.lock:
            self._counters.retries += 1
        self._emit(Retrying(method=method, path=path, attempt=attempt + 1, reason=reason, wait_seconds=wait))
        time.sleep(wait)

    def _emit(self, event: Any) -> None:
        if self.on_event is not None:
            self.on_event(event)

    @staticmethod
    def _decode(response: httpx.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                "The answer is not JSON.",
                status=response.status_code,
                type="invalid_response",
                method=method,
                path=path,
                body=response.text[:1000],
            ) from None

    # --- reads -------------------------------------------------------------------------------
    def validate_auth(self) -> dict[str, Any]:
        """``GET /v1/auth/validate``: ``{active, tokenType, subjectType, scopes}`` ([] = all)."""
        return dict(self.request("GET", "/v1/auth/validate", category="read"))

    def definitions(self, object_type: str) -> dict[str, Any]:
        """The raw ``/definitions`` body (notes: the built-in :data:`NOTE_DEFINITIONS`)."""
        if object_type == "note":
            import copy

            return copy.deepcopy(NOTE_DEFINITIONS)
        return dict(self.request("GET", definitions_path(object_type), category="read"))

    def schema(self, object_type: str) -> ObjectSchema:
        """The object's :class:`ObjectSchema`, fetched once per client."""
        with self._schema_lock:
            cached = self._schemas.get(object_type)
        if cached is not None:
            return cached
        schema = ObjectSchema.from_api(self.definitions(object_type), object_type=object_type)
        with self._schema_lock:
            return self._schemas.setdefault(object_type, schema)

    def object_types(self) -> builtins.list[dict[str, str]]:
        """Custom object types of the org (``GET /v1/objects``): ``[{objectType, label}]``."""
        body = self.request("GET", "/v1/objects", category="read")
        return list(body.get("data") or []) if isinstance(body, Mapping) else []

    def all_object_types(self) -> builtins.list[dict[str, Any]]:
        """System object types (``system: True``, members excluded) then the org's custom ones."""
        system: builtins.list[dict[str, Any]] = [
            {"objectType": t, "label": t.capitalize(), "system": True}
            for t in SYSTEM_OBJECTS
            if t != "member"
        ]
        return system + [
            {**o, "system": False} for o in self.object_types() if o.get("objectType") not in SYSTEM_OBJECTS
        ]

    def retrieve(self, object_type: str, record_id: str) -> dict[str, Any]:
        return dict(self.request("GET", record_path(object_type, record_id), category="read"))

    def list_page(
        self, object_type: str, *, offset: int, limit: int = MAX_PAGE, filters: Filters | None = None
    ) -> dict[str, Any]:
        """One raw page ``{object, data, totalCount}`` (``limit`` is capped at 25)."""
        params = _filter_params(filters) + [
            ("offset", str(offset)),
            ("limit", str(max(1, min(limit, MAX_PAGE)))),
        ]
        body = self.request("GET", collection_path(object_type), category="search", params=params)
        return dict(body)

    def list(
        self,
        object_type: str,
        *,
        filters: Filters | None = None,
        page_size: int = MAX_PAGE,
        max_records: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, page by page until a short page (each id once)."""
        size = max(1, min(page_size, MAX_PAGE))
        seen: set[Any] = set()
        offset = count = 0
        while True:
            data = self.list_page(object_type, offset=offset, limit=size, filters=filters)["data"]
            for record in data:
                rid = record.get("id")
                if rid in seen:
                    continue
                seen.add(rid)
                yield record
                count += 1
                if max_records is not None and count >= max_records:
                    return
            if len(data) < size:
                return
            offset += size

    def list_all(
        self,
        object_type: str,
        *,
        filters: Filters | None = None,
        concurrency: int = 8,
        first_page: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, reading pages concurrently; order kept, each id once.

        Page 0 gives ``totalCount``; the other expected pages are fetched by ``concurrency``
        threads (a bounded window ahead of the consumer). Records move between offsets when data
        changes, so ids are de-duplicated and reading continues past the expected end until a
        short page. ``first_page``: page 0 (``limit`` 25, the same filters) when the caller has
        just read it, so it is not asked for again.
        """
        first = first_page or self.list_page(object_type, offset=0, limit=MAX_PAGE, filters=filters)
        seen: set[Any] = set()

        def fresh(data: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for record in data:
                rid = record.get("id")
                if rid not in seen:
                    seen.add(rid)
                    yield record

        yield from fresh(first["data"])
        if len(first["data"]) < MAX_PAGE:
            return
        total = int(first.get("totalCount") or 0)
        offsets = list(range(MAX_PAGE, total, MAX_PAGE))
        last_len = MAX_PAGE
        next_offset = MAX_PAGE
        if offsets:
            pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="bulkio-list")
            pending: list[Future[dict[str, Any]]] = []
            try:
                queue = iter(offsets)
                window = max(1, concurrency) * 2
                for off in queue:
                    pending.append(
                        pool.submit(self.list_page, object_type, offset=off, limit=MAX_PAGE, filters=filters)
                    )
                    if len(pending) >= window:
                        break
                while pending:
                    data = pending.pop(0).result()["data"]
                    for off in queue:
                        pending.append(
                            pool.submit(
                                self.list_page, object_type, offset=off, limit=MAX_PAGE, filters=filters
                            )
                        )
                        break
                    yield from fresh(data)
                    last_len = len(data)
            finally:
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=False, cancel_futures=True)
            next_offset = offsets[-1] + MAX_PAGE
        while last_len >= MAX_PAGE:
            data = self.list_page(object_type, offset=next_offset, limit=MAX_PAGE, filters=filters)["data"]
            yield from fresh(data)
            last_len = len(data)
            next_offset += MAX_PAGE

    def members(self) -> builtins.list[dict[str, Any]]:
        """Every member of the organisation (owners, assignees)."""
        return list(self.list("member"))

    # --- writes ------------------------------------------------------------------------------
    def create(
        self, object_type: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create one record. Pass ``idempotency_key`` so failures can be retried safely."""
        return dict(
            self.request(
                "POST", create_path(object_type), category="write", json=body, idempotency_key=idempotency_key
            )
        )

    def update(
        self, object_type: str, record_id: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Update the keys in ``body`` (others stay as they are)."""
        return dict(
            self.request(
                "POST",
                record_path(object_type, record_id),
                category="write",
                json=body,
                idempotency_key=idempotency_key,
            )
        )

    def delete(self, object_type: str, record_id: str) -> None:
        """Delete one record (``DELETE /v1/<type>/{id}``): not in the OpenAPI contract, but in the
        newer docs (API-FACTS §12.12), and served by the sandbox. A server without it answers 404
        (or 405) for a record that exists; :mod:`bulkio.undo` tells the two apart. Retried on 5xx
        and timeouts (deleting twice deletes once; the second answer is 404)."""
        self.request("DELETE", record_path(object_type, record_id), category="write")

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()
        for pacer in self.pacers.values():
            if isinstance(pacer, SharedPacer):
                pacer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _filter_params(filters: Filters | None) -> list[tuple[str, str]]:
    """``{"$name[equal]": "Acme"}`` or ``[("$stage[equal]", "a"), ("$stage[equal]", "b")]``."""
    if not filters:
        return []
    items = filters.items() if isinstance(filters, Mapping) else filters
    return [(str(k), str(v)) for k, v in items]
