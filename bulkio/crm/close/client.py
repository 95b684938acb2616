"""CloseClient: HTTP to the Close API (or the Close sandbox) with Close's auth, pacing and errors.

Close differs from Lightfield where it matters to a bulk tool (``shared/close/API-FACTS.md``):

* **auth**: HTTP Basic, the API key as the user name and an empty password (§1);
* **rate limits** are per *endpoint group* (a resource and read/write; ``/data/search/`` has its own,
  much smaller bucket) and reported in one ``RateLimit: limit=…, remaining=…, reset=…`` header
  (commas or semicolons; ``reset`` whole or decimal seconds until the bucket is full) (§2). One
  :class:`~bulkio.ratelimit.Pacer` per group keeps the process under each; the group's refill rate
  is learnt from the header (``(limit - remaining) / reset``) and, exactly, from a 429's
  ``rate_limit / rate_window``;
* a **429** is waited out for the body's ``rate_reset`` (wrapped in ``error`` or flat, a number or a
  string: the sources conflict), else the header's ``reset``, else ``Retry-After`` (§2). It is never
  a failed attempt: the request gives up only after ``RetryPolicy.max_wait`` seconds (``--max-wait``)
  without any request of the client being served;
* **no idempotency keys** (§5): a POST that may have been applied (its answer was lost, or a 500,
  502 or 504 came back) is never sent again here. It raises :class:`UnconfirmedWrite`, and the
  backend looks for the record before anything is retried. A 503 or 429 is retried, as Close's own
  client does (the request was refused, not run). GET, PUT (a partial update with absolute values)
  and DELETE are retried after 5xx and transport errors;
* **errors** carry no codes: 400 is ``{"errors": [...], "field-errors": {field: message}}``, 401/404
  ``{"error": "…"}`` (§7). They become :class:`~bulkio.errors.ApiError` (``body`` keeps the
  field errors so the backend can point at the column).

The key lives only in the httpx client's auth (never in a repr, a log line or the ledger); the
client keeps a fingerprint (:attr:`key_fingerprint`) so a resume ledger can tell targets apart.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Self

import httpx
from pydantic import SecretStr

from ... import __version__
from ...errors import ApiError, AuthError, ConfigError, RateLimitError, ScopeError
from ...events import EventHandler, RateLimited, Retrying
from ...ratelimit import Pacer, RateLimit, RetryPolicy, retry_after
from ..base import ClientStats

#: Close's API root (API-FACTS §1).
DEFAULT_BASE_URL = "https://api.close.com/api/v1"
#: Transport errors after which the request certainly never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Statuses after which a POST may have been applied (Close's client retries only 503 on POST).
_MAYBE_APPLIED = (500, 502, 504)
_RATELIMIT_PART = re.compile(r"(limit|remaining|reset)\s*=\s*([0-9.]+)", re.IGNORECASE)


class UnconfirmedWrite(ApiError):
    """A POST whose outcome is unknown: the connection failed after it was sent, or the server
    answered 500/502/504. Close has no idempotency keys, so it is not sent again blindly."""


def parse_ratelimit(headers: Mapping[str, str]) -> tuple[float | None, float | None, float | None]:
    """``(limit, remaining, reset)`` from ``RateLimit`` (commas or semicolons, floats), else the
    legacy ``X-Rate-Limit-*`` headers; ``None`` for what is missing.

    >>> parse_ratelimit({"ratelimit": "limit=160; remaining=159; reset=8"})
    (160.0, 159.0, 8.0)
    """
    raw = headers.get("ratelimit")
    if raw:
        parts = {k.lower(): float(v) for k, v in _RATELIMIT_PART.findall(raw) if _is_number(v)}
        if parts:
            return parts.get("limit"), parts.get("remaining"), parts.get("reset")
    legacy = [_number(headers.get(f"x-rate-limit-{k}")) for k in ("limit", "remaining", "reset")]
    return legacy[0], legacy[1], legacy[2]


def rate_reset(body: Any) -> tuple[float | None, float | None]:
    """``(rate_reset, rate_limit / rate_window)`` of a 429 body, wrapped in ``error`` or flat
    (``rate_reset`` may be a string: the 2017 recording)."""
    if not isinstance(body, Mapping):
        return None, None
    wrapped = body.get("error")
    inner: Mapping[str, Any] = wrapped if isinstance(wrapped, Mapping) else body
    reset = _number(inner.get("rate_reset"))
    limit, window = _number(inner.get("rate_limit")), _number(inner.get("rate_window"))
    rate = limit / window if limit and window else None
    return reset, rate


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def endpoint_group(method: str, path: str) -> str:
    """The rate group a request falls in: ``search`` for ``/data/search/``, else the path's first
    segment and read/write (``lead:read``, ``opportunity:write``)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:2] == ["data", "search"]:
        return "search"
    head = parts[0] if parts else ""
    return f"{head}:{'read' if method.upper() == 'GET' else 'write'}"


def parse_close_error(response: httpx.Response, *, method: str, path: str) -> ApiError:
    """An error answer as :class:`ApiError`: ``error`` text (401/404/…), or ``errors`` and
    ``field-errors`` (400: ``message`` lists them, ``param`` names the first field)."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    message = ""
    param = None
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, str):
            message = err
        elif isinstance(err, Mapping):
            message = str(err.get("message") or "")
        field_errors = body.get("field-errors")
        errors = body.get("errors")
        parts = [str(e) for e in errors or [] if e] if isinstance(errors, list) else []
        if isinstance(field_errors, Mapping) and field_errors:
            parts += [f"{k}: {v}" for k, v in field_errors.items()]
            param = str(next(iter(field_errors)))
        if parts and not message:
            message = "; ".join(parts)
    if not message:
        message = (response.text.strip()[:200] if body is None else "") or response.reason_phrase or "error"
    cls = {401: AuthError, 403: ScopeError, 429: RateLimitError}.get(status, ApiError)
    return cls(
        message,
        status=status,
        type={400: "bad_request", 401: "unauthorized", 402: "payment_required", 403: "forbidden"}.get(
            status, "not_found" if status == 404 else "error"
        ),
        param=param,
        method=method,
        path=path,
        body=body if body is not None else response.text[:1000],
    )


def normalise_base_url(url: str) -> str:
    """``https://api.close.com/api/v1`` (no trailing slash); a bare host gets ``/api/v1``."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Base URL must start with http:// or https:// (got {url!r}).")
    if "/api/" not in url + "/":
        url += "/api/v1"
    return url


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


class CloseClient:
    """A small, thread-safe client for Close's REST API (or bulkio's Close sandbox).

    Paths are relative to the API root and end with ``/`` (``"lead/"``, ``"opportunity/oppo_1/"``).

    >>> with CloseClient(api_key="api_…", base_url="http://127.0.0.1:8787/api/v1") as close:
    ...     me = close.get("me/")
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
        tz_offset: float | None = 0.0,
    ) -> None:
        if isinstance(api_key, SecretStr):
            api_key = api_key.get_secret_value()
        key = api_key or os.environ.get("CLOSE_API_KEY")
        if not key:
            raise ConfigError("No Close API key: pass api_key= or set CLOSE_API_KEY.")
        self.base_url = normalise_base_url(base_url or os.environ.get("CLOSE_BASE_URL") or DEFAULT_BASE_URL)
        self.key_fingerprint = hashlib.sha256(key.encode()).hexdigest()[:12]
        self.rate_limit = rate_limit or RateLimit()
        self.retry = retry or RetryPolicy()
        self.on_event = on_event
        self._pacers: dict[str, Pacer] = {}
        self._rates: dict[str, float] = {}
        self._exact: set[str] = set()  # groups whose rate a 429 body told exactly
        self._bounds: dict[str, tuple[float, float]] = {}  # what the headers say about each rate
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._last_progress = 0.0  # when the server last served this client (not a 429, not a 5xx)
        headers = {"Accept": "application/json", "User-Agent": f"bulkio/{__version__}"}
        if tz_offset is not None:
            headers["X-TZ-Offset"] = f"{tz_offset:g}"  # date_won "today" in the caller's time zone
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            auth=httpx.BasicAuth(key, ""),
            transport=transport,
            timeout=timeout,
            limits=limits,
            headers=headers,
        )
        del key, api_key

    def __repr__(self) -> str:
        return f"CloseClient(base_url={self.base_url!r}, key=sha256:{self.key_fingerprint}…)"

    @property
    def stats(self) -> ClientStats:
        """Counters since the client was created (a consistent snapshot; safe from any thread)."""
        return self._counters.snapshot()

    def pacer(self, group: str) -> Pacer:
        """The pacer of one endpoint group (created on first use)."""
        with self._lock:
            pacer = self._pacers.get(group)
            if pacer is None:
                pacer = self._pacers[group] = Pacer(group, self.rate_limit)
            return pacer

    def _learn(self, pacer: Pacer, group: str, headers: Mapping[str, str], ticket: int) -> None:
        """Feed the group's pacer: the refill rate (requests/s) and what the server has left."""
        limit, remaining, reset = parse_ratelimit(headers)
        # reset is the time until the bucket is full again: (limit - remaining) / rate. A whole number
        # is rounded (Close has been seen sending them; the official client's regex reads only digits)
        # and says too little: the pace stays as it is until a 429 tells the exact rate (rate_limit /
        # rate_window), which no header estimate overrides. ``remaining`` is the bucket's tokens
        # rounded down, so each answer bounds the rate: (limit - remaining - 1) / reset < rate <=
        # (limit - remaining) / reset; the bounds of all answers are intersected and the pace is the
        # middle of what is left.
        if (
            limit is not None
            and remaining is not None
            and reset
            and reset > 0
            and limit > remaining
            and not reset.is_integer()
        ):
            low, high = (limit - remaining - 1) / reset, (limit - remaining) / reset
            with self._lock:
                if group not in self._exact:
                    old_low, old_high = self._bounds.get(group, (0.0, float("inf")))
                    low, high = max(low, old_low), min(high, old_high)
                    if low > high:  # the limit changed: start over from this answer
                        low, high = (limit - remaining - 1) / reset, (limit - remaining) / reset
                    self._bounds[group] = (low, high)
                    self._rates[group] = (low + high) / 2 if high != float("inf") else low
        with self._lock:
            rate = self._rates.get(group)
        fed: dict[str, str] = {}
        if rate:
            fed["x-ratelimit-limit"] = f"{rate:.6f}"
        if remaining is not None:
            fed["x-ratelimit-remaining"] = f"{remaining:g}"
        if fed:
            pacer.observe(fed, ticket)

    # --- the request loop --------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        group: str | None = None,
    ) -> Any:
        """Send one request with pacing and retries; return the decoded JSON body (``None`` for an
        empty answer). A POST that may have been applied raises :class:`UnconfirmedWrite`."""
        method = method.upper()
        path = path.lstrip("/")
        grp = group or endpoint_group(method, path)
        pacer = self.pacer(grp)
        # POST /data/search/ reads; any other POST creates something and must not be re-sent blindly
        safe = method != "POST" or grp == "search"
        policy = self.retry
        attempt = 0  # failed attempts; a 429 is not one (§2: it says "wait", not "failed")
        started = time.monotonic()
        while True:
            ticket = pacer.acquire()
            with self._counters.lock:
                self._counters.requests += 1
            try:
                response = self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                with self._counters.lock:
                    self._counters.transport_errors += 1
                attempt += 1
                text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if not safe and not isinstance(exc, _NOT_SENT):
                    raise UnconfirmedWrite(
                        text,
                        status=0,
                        type="connection_error",
                        code=type(exc).__name__,
                        method=method,
                        path=path,
                    ) from None
                if attempt >= policy.max_attempts:
                    raise ApiError(
                        text,
                        status=0,
                        type="connection_error",
                        code=type(exc).__name__,
                        method=method,
                        path=path,
                    ) from None
                self._wait_retry(method, path, attempt, type(exc).__name__, policy.backoff(attempt))
                continue
            status = response.status_code
            with self._counters.lock:
                self._counters.by_status[status] += 1
            self._learn(pacer, grp, response.headers, ticket)
            if status != 429 and status < 500:
                self._last_progress = time.monotonic()  # the server is serving this client
            if status < 400:
                return self._decode(response, method, path)
            err = parse_close_error(response, method=method, path=path)
            if status == 429:
                wait, rate = rate_reset(err.body)
                if rate:
                    with self._lock:
                        self._rates[grp] = rate
                        self._exact.add(grp)
                if wait is None:
                    _, _, reset = parse_ratelimit(response.headers)
                    wait = reset if reset is not None else retry_after(response.headers)
                with self._counters.lock:
                    self._counters.rate_limited += 1
                if 429 not in policy.retry_statuses:
                    raise err
                stalled = time.monotonic() - max(self._last_progress, started)
                if stalled >= policy.max_wait:
                    err.add_note(
                        f"Rate limited for {stalled:.0f} s without a request succeeding (the limit "
                        f"is {policy.max_wait:g} s; --max-wait raises it): another client may be "
                        "using the same API key."
                    )
                    raise err
                wait = min(60.0, wait if wait is not None else policy.backoff(1))
                wait += policy.rng.uniform(0, policy.retry_after_jitter)
                wait = min(wait, max(policy.max_wait - stalled, 0.0))  # the last try as the budget ends
                with self._counters.lock:
                    self._counters.retries += 1
                pacer.pause(wait)
                self._emit(RateLimited(category=grp, wait_seconds=wait))
                continue  # the pacer holds this thread until the pause is over
            if not safe and status in _MAYBE_APPLIED:
                raise UnconfirmedWrite(
                    err.message, status=status, type=err.type, method=method, path=path, body=err.body
                )
            attempt += 1
            if status in policy.retry_statuses and attempt < policy.max_attempts:
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

    # --- verbs -------------------------------------------------------------------------------
    def get(self, path: str, params: Any = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every item of a ``_skip``/``_limit`` list, page by page until ``has_more`` is false
        (each id once: a record created while paging shifts the pages)."""
        seen: set[Any] = set()
        skip = 0
        while True:
            body = self.get(path, {**dict(params or {}), "_skip": skip, "_limit": limit})
            data = list(body.get("data") or [])
            for item in data:
                rid = item.get("id")
                if rid is not None and rid in seen:
                    continue
                seen.add(rid)
                yield item
            if not body.get("has_more") or not data:
                return
            skip += len(data)

    def search(self, query: dict[str, Any], *, limit: int = 200, fields: Any = None) -> list[dict[str, Any]]:
        """Every hit of an Advanced Filtering query (``POST /data/search/``, cursor in the body)."""
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            body: dict[str, Any] = {"query": query, "_limit": limit}
            if cursor:
                body["cursor"] = cursor
            if fields is not None:
                body["_fields"] = fields
            answer = self.post("data/search/", body)
            out.extend(answer.get("data") or [])
            cursor = answer.get("cursor")
            if not cursor:
                return out

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "DEFAULT_BASE_URL",
    "CloseClient",
    "UnconfirmedWrite",
    "endpoint_group",
    "parse_close_error",
    "parse_ratelimit",
    "rate_reset",
]
