"""The sandbox's HTTP surface: a Lightfield-compatible ASGI app over :class:`~bulkio.sandbox.core.Sandbox`.

Request pipeline, in order: the whole body (a client that leaves mid-body gets nothing run) →
auth (401) → ``Lightfield-Version`` (400 ``version_header``) → route (404) → scope (403) → rate limit
(429) → body over 10 MiB (413) → faults (connection reset / 500 / 503) → ``Idempotency-Key`` (400
empty or too long, replay, 409 in flight) → latency → execute → dropped response. Repeated headers
are joined with ", " (never last-wins); a path holding ``%2F`` is not split there.

Where the contract is silent (API-FACTS "UNKNOWN"), the sandbox chooses, and bulkio relies on
(points marked *profile* depend on the sandbox's :mod:`~bulkio.sandbox.profile`; the table in
``docs/sandbox.md`` lists every choice with its source; what follows is the lenient reading):

* Errors are always wrapped: ``{"error": {"type", "message", "code"?, "param"?}}``.
* ``limit`` outside 1–25 or a negative/non-integer ``offset`` → 400 ``invalid_type`` (param = name).
* Unknown filter key → 400 ``unknown_field``; operator not allowed for the type, or a type that is
  not filterable → 400 ``invalid_filter``; a filter value of the wrong type → 400 ``invalid_type``.
  Members list takes no filters. Text filters ignore case (*profile*: strict compares exactly and
  refuses task/note filters).
* Writing a read-only field or relationship → 400 ``invalid_configuration`` (param ``fields.<key>`` /
  ``relationships.<key>``). Top-level keys other than fields/relationships → 400 ``invalid_type``
  (param = the key); a create without ``fields`` → 400 ``parameter_missing``.
* Bad values of the right JSON type (malformed email/URL/phone/date, NUMBER with more than 2
  decimals, country not 2 letters) → 422 ``invalid_value``; unknown select option → 422
  ``invalid_option``; missing required key → 422 (no code, param ``fields.$name`` /
  ``relationships.$account``); unique value already used → 422 ``duplicate_value`` (422, not 409,
  so SDKs do not retry it). Unique values compare ignoring case and repeated whitespace, the same
  way ``key[equal]=…`` filters match, so a lookup by external_id and the uniqueness rule agree
  (*profile*: strict compares both exactly).
* DATETIME accepts ISO 8601 with an offset, without one (= UTC) or date-only (= midnight UTC);
  it is stored and returned as UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ``. TELEPHONE is stored as E.164
  (10 digits = US). Single-value EMAIL/URL take a string; multi-value ones a string or a list.
  Select labels match case-insensitively with whitespace collapsed and are stored as option ids
  (*profile*: strict takes ids, and labels only for opportunity ``$stage``, exactly; DATETIME needs
  an offset).
* Record ``relationships[*].cardinality`` is lower case (``has_one``); definitions use upper case.
  Reverse links (account ``$opportunity`` …) follow writes on the other side but do not change
  the linked record's ``updatedAt``. An update that changes nothing keeps ``updatedAt``.
* Relationship updates take ``{add, remove}`` or ``{replace}`` (not both); HAS_ONE ``add`` replaces.
  Notes take exactly one of ``{add}`` or ``{remove}`` per key, as the contract's note.update does.
  Only ``replace`` may be ``null``; ``fields``/``relationships`` and create-time ids may not (400
  ``invalid_type``). A required relationship cannot be emptied (422). (*profile*: strict takes one
  op per key, and refuses changing opportunity ``$account``.)
* ``DELETE /v1/<type>/{id}`` and ``DELETE /v1/objects/{slug}/values/{id}`` (newer docs only,
  API-FACTS §12.12) remove the record and every link to it, answering ``{"id", "object",
  "deleted": true}``; a second DELETE is 404. Scope ``<type>:delete`` (no scope list names one:
  the ``<object>:<verb>`` pattern), Write category, no Idempotency-Key (a DELETE is idempotent).
  The fault switch ``deletes=False`` makes a server without DELETE (404, like any path it lacks).
* Custom objects (``/v1/objects``) need a full-access key (no scope grants them); their rate
  categories follow the method.
  ``GET /v1/members/definitions`` does not exist (404).
* Lists (``/v1/lists``; scopes ``lists:create|update|read``, membership reads also
  ``<type>:read``): ids start ``list_``; ``$name`` and ``$objectType`` are TEXT, and
  ``$objectType`` is stored and returned ``$``-prefixed (``account`` → ``$account``). Neither may
  be null; other keys (also the newer SDK's ``$description``/``$kind``) → 400 ``unknown_field``.
  Changing ``$objectType`` on update → 400 ``invalid_configuration``; a type other than
  account/contact/opportunity → 422 ``invalid_option``. A membership key not matching the type
  (``$contacts`` on an account list) → 400 ``invalid_configuration``; singular or unknown keys →
  400 ``unknown_relationship``. Updates take ``{add, remove}`` together or alone (removes apply
  first; removing a non-member is a no-op), never ``replace``. Members read newest first by the
  member's ``createdAt``; reading the wrong type (``/contacts`` of an account list) → 400
  ``invalid_configuration`` (param ``listId``). Lists and membership endpoints take no filters;
  index lag hides new lists from ``GET /v1/lists`` but membership reads are immediate.
  ``GET /v1/lists/definitions`` does not exist (404).
* A replayed idempotent request gets the original status and body (no replay header). Only 2xx
  responses are stored, in the same transaction as the write (*profile*: strict refuses a key
  reused for another path or body, and ignores keys on custom-object writes).
* Read-only reverse links are derived: kept in memory, rebuilt from the forward side on load.
* ``status=active|trashed`` (sent by newer SDKs) is accepted on lists; nothing is ever trashed.
  Members carry a ``$user`` relationship because the newer official SDK requires it.
* ``stats()['by_status']`` counts connection resets under status 0.
* Faults: ``reset_rate`` and ``drop_rate`` send the status line and headers, then close the
  connection before the body is complete, so the client sees a protocol error; a dropped write
  has already committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from .core import Sandbox, definitions, entity, object_types
from .limits import default_burst, limit_headers
from .profile import Profile
from .rules import HttpError
from .store import ObjectDef, OrgData

API_VERSION = "2026-03-01"
MAX_IDEMPOTENCY_KEY = 255
SYSTEM_COLLECTIONS = ("accounts", "contacts", "opportunities", "tasks", "notes")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Route:
    """A resolved request: what to run, its idempotency operation name, category and scope."""

    action: str  # validate | definitions | create | list | update | retrieve | objects | members
    template: str
    category: str
    scope: str | None
    odef: ObjectDef | None = None
    record_id: str | None = None
    filters: bool = True
    #: list membership reads: the member type, whose ``<collection>:read`` scope is also required
    member: ObjectDef | None = None

    @property
    def custom(self) -> bool:
        """A custom-object route (``/v1/objects…``): no documented scope grants it."""
        return self.template.startswith(("GET /v1/objects", "POST /v1/objects"))

    @property
    def scopes(self) -> list[str]:
        """Every scope the operation needs (list membership reads need two)."""
        needed = [self.scope] if self.scope else []
        if self.member is not None:
            needed.append(f"{self.member.collection}:read")
        return needed


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    mode: str = "ok"  # ok | drop | reset


def _json(data: Any) -> bytes:
    # backslashreplace: a lone surrogate that slipped into an error message stays valid JSON
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def resolve(org: OrgData, method: str, path: str) -> Route:
    """Map method + path to a :class:`Route`, or raise 404 (also for a method the path does not
    take: the contract lists no 405)."""
    parts = [p for p in path.split("/") if p]
    not_found = HttpError(404, f"Unknown path {method} {path}.")
    if len(parts) < 2 or parts[0] != "v1":
        raise not_found
    if org.profile.exact_paths and path != "/" + "/".join(parts):
        raise not_found  # ``//v1//accounts/``: empty segments or a trailing slash
    rest = parts[1:]
    if rest == ["auth", "validate"] and method == "GET":
        return Route("validate", "GET /v1/auth/validate", "Read", None)
    head = rest[0]
    if head == "objects":
        if len(rest) == 1:
            if method == "GET":
                return Route("objects", "GET /v1/objects", "Read", None)
            raise not_found
        slug = rest[1]
        odef = org.objects.get(slug)
        if odef is None or not odef.custom:
            raise HttpError(404, f"No object type '{slug}' in this organization.")
        tail = rest[2:]
        base = "/v1/objects/{entitySlug}"
        if tail == [] and method == "GET":
            return Route("list", f"GET {base}", "Search", None, odef)
        if tail == ["definitions"] and method == "GET":
            return Route("definitions", f"GET {base}/definitions", "Read", None, odef)
        if tail == ["values"] and method == "POST":
            return Route("create", f"POST {base}/values", "Write", None, odef)
        if len(tail) == 2 and tail[0] == "values":
            if method == "GET":
                return Route("retrieve", f"GET {base}/values/{{id}}", "Read", None, odef, tail[1])
            if method == "POST":
                return Route("update", f"POST {base}/values/{{id}}", "Write", None, odef, tail[1])
            if method == "DELETE":
                return Route("delete", f"DELETE {base}/values/{{id}}", "Write", None, odef, tail[1])
        raise not_found
    if head == "members":
        odef = org.objects["member"]
        if len(rest) == 1 and method == "GET":
            return Route("list", "GET /v1/members", "Search", "members:read", odef, filters=False)
        if len(rest) == 2 and method == "GET" and rest[1] != "definitions":
            return Route("retrieve", "GET /v1/members/{id}", "Read", "members:read", odef, rest[1])
        raise not_found
    if head == "lists":
        return _list_route(org, method, rest)
    if head not in SYSTEM_COLLECTIONS:
        raise not_found
    found = org.by_collection(head)
    if found is None:
        raise HttpError(404, f"No object type '{head}' in this organization.")
    odef = found
    base = f"/v1/{head}"
    if len(rest) == 1:
        if method == "GET":
            filters = org.profile.task_note_filters or head not in ("tasks", "notes")
            return Route("list", f"GET {base}", "Search", f"{head}:read", odef, filters=filters)
        if method == "POST":
            return Route("create", f"POST {base}", "Write", f"{head}:create", odef)
    elif len(rest) == 2:
        if rest[1] == "definitions":
            if method == "GET" and not odef.no_definitions:
                return Route("definitions", f"GET {base}/definitions", "Read", f"{head}:read", odef)
            raise not_found
        if method == "GET":
            return Route("retrieve", f"GET {base}/{{id}}", "Read", f"{head}:read", odef, rest[1])
        if method == "POST":
            return Route("update", f"POST {base}/{{id}}", "Write", f"{head}:update", odef, rest[1])
        if method == "DELETE":
            return Route("delete", f"DELETE {base}/{{id}}", "Write", f"{head}:delete", odef, rest[1])
    raise not_found


def _list_route(org: OrgData, method: str, rest: list[str]) -> Route:
    """``/v1/lists``, ``/v1/lists/{id}`` and ``/v1/lists/{listId}/accounts|contacts|opportunities``."""
    odef = org.objects["list"]
    if len(rest) == 1:
        if method == "GET":
            return Route("list", "GET /v1/lists", "Search", "lists:read", odef, filters=False)
        if method == "POST":
            return Route("create", "POST /v1/lists", "Write", "lists:create", odef)
    elif len(rest) == 2:
        if method == "GET":
            return Route("retrieve", "GET /v1/lists/{id}", "Read", "lists:read", odef, rest[1])
        if method == "POST":
            return Route("update", "POST /v1/lists/{id}", "Write", "lists:update", odef, rest[1])
    elif len(rest) == 3 and method == "GET" and rest[2] in ("accounts", "contacts", "opportunities"):
        member = org.by_collection(rest[2])
        if member is None:
            raise HttpError(404, f"No object type '{rest[2]}' in this organization.")
        return Route(
            "members",
            f"GET /v1/lists/{{listId}}/{rest[2]}",
            "Search",
            "lists:read",
            odef,
            rest[1],
            filters=False,
            member=member,
        )
    raise HttpError(404, f"Unknown path {method} /v1/{'/'.join(rest)}.")


class _DropIncomplete(logging.Filter):
    """Silence uvicorn's complaint about the responses we cut short on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_DropIncomplete())


class SandboxApp:
    """The ASGI callable. ``sandbox`` holds all state; this class only speaks HTTP."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = combined_headers(scope["headers"])
        body: bytes | None = b""
        if scope["method"] == "POST":
            try:
                body = await read_body(receive, MAX_BODY_BYTES)
            except ClientGone:
                return  # an aborted request is not run (its first half could parse as a whole body)
        try:
            reply = await self.handle(
                scope["method"],
                request_path(scope),
                scope.get("query_string", b"").decode("utf-8", "replace"),
                headers,
                body,
            )
        except Exception:
            logging.getLogger("bulkio.sandbox").exception("unexpected error")
            err = HttpError(500, "Internal server error.")
            reply = Reply(500, _json(err.body()), limit_headers(default_burst(self.sandbox.rate)))
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(reply.body)).encode()),
        ]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        if reply.mode != "ok":
            # Cut the response short: the client sees a closed connection mid-body.
            await send(
                {"type": "http.response.body", "body": reply.body[: len(reply.body) // 2], "more_body": True}
            )
            return
        await send({"type": "http.response.body", "body": reply.body})

    async def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        """Answer one request; ``body`` None means it was longer than :data:`MAX_BODY_BYTES`."""
        sb = self.sandbox
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        found = sb.store.lookup_key(token) if token else None
        if found is None:
            msg = "Missing API key." if not token else "Invalid API key."
            return Reply(401, _json(HttpError(401, msg).body()), limit_headers(default_burst(sb.rate)))
        org_id, scopes, member_id = found
        rt = sb.runtime(org_id)
        rl_headers = limit_headers(rt.burst)
        route: Route | None = None
        try:
            if headers.get("lightfield-version") != API_VERSION:
                raise HttpError(
                    400,
                    f"Missing or invalid Lightfield-Version header; use {API_VERSION}.",
                    code="version_header",
                    param="Lightfield-Version",
                )
            with sb.store.lock:
                org = sb.org(org_id)
                route = resolve(org, method, path)
            if route.action == "delete" and not rt.faults.deletes:
                raise HttpError(404, f"Unknown path {method} {path}.")  # a server without DELETE
            missing = [s for s in route.scopes if s not in scopes] if scopes else []
            if missing:
                raise HttpError(403, f"This API key lacks the '{missing[0]}' scope.")
            if scopes and route.custom:
                # no documented scope grants custom objects (API-FACTS §10): a scoped key has none
                raise HttpError(403, "Custom objects need a full-access API key (no scope grants them).")
            ok, rl_headers, wait = rt.bucket(route.category).take()
            if not ok:
                rl_headers = {**rl_headers, "Retry-After": str(max(1, int(-(-wait // 1))))}
                if sb.profile.retry_after_ms:  # undocumented; the official SDKs obey it
                    rl_headers["Retry-After-Ms"] = str(max(1, int(wait * 1000 + 0.999)))
                raise HttpError(429, "Rate limit exceeded. Please try again later.")
            if body is None:
                raise HttpError(
                    413,
                    f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB.",
                    type="payload_too_large",
                )
        except HttpError as exc:
            rt.record(route.category if route else None, exc.status)
            return Reply(exc.status, _json(exc.body()), rl_headers)
        assert body is not None  # a longer body was answered 413 above

        faults = rt.faults
        if faults.roll(faults.reset_rate):
            rt.record(route.category, 0)
            return Reply(500, _json({}), rl_headers, mode="reset")
        if faults.roll(faults.error_rate):
            status = faults.rng.choice((500, 503))
            err = HttpError(status, "Simulated server error." if status == 500 else "Service unavailable.")
            rt.record(route.category, status)
            return Reply(status, _json(err.body()), rl_headers)

        idem_key = headers.get("idempotency-key") if method == "POST" else None
        if route.custom and not sb.profile.idempotent_objects:
            idem_key = None  # SPEC names Idempotency-Key on every write but the custom-object ones
        request = _request_fingerprint(path, body) if idem_key is not None else None
        slot: tuple[str, str] | None = None
        if idem_key is not None:
            if not idem_key:
                err = HttpError(
                    400,
                    "Idempotency-Key must not be empty; send a unique key (a UUID) or no header.",
                    code="invalid_type",
                    param="Idempotency-Key",
                )
                rt.record(route.category, 400)
                return Reply(400, _json(err.body()), rl_headers)
            if len(idem_key) > MAX_IDEMPOTENCY_KEY:
                err = HttpError(
                    400,
                    f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters.",
                    code="idempotency_key_too_long",
                    param="Idempotency-Key",
                )
                rt.record(route.category, 400)
                return Reply(400, _json(err.body()), rl_headers)
            cached = sb.store.idempotent_response(org_id, route.template, idem_key)
            if cached is not None:
                await self._sleep(faults.delay())
                if sb.profile.idempotency_compare and cached[2] is not None and cached[2] != request:
                    err = HttpError(
                        422,
                        "This Idempotency-Key was already used for a different request (another "
                        "record or body); use a new key for a new request.",
                        code="idempotency_key_reused",
                        param="Idempotency-Key",
                    )
                    rt.record(route.category, 422)
                    return Reply(422, _json(err.body()), rl_headers)
                rt.record(route.category, cached[0])
                return Reply(cached[0], cached[1], rl_headers)
            slot = (route.template, idem_key)
            if slot in rt.in_flight:
                err = HttpError(
                    409,
                    "An operation with this idempotency key is already in progress. Please wait and retry.",
                    code="idempotency_conflict",
                )
                rt.record(route.category, 409)
                return Reply(409, _json(err.body()), rl_headers)
            rt.in_flight.add(slot)
        try:
            await self._sleep(faults.delay())
            status, payload = self.execute(
                route, org_id, member_id, scopes, method, query, headers, body, idem_key, request
            )
        finally:
            if slot is not None:
                rt.in_flight.discard(slot)
        rt.record(route.category, status)
        mode = "ok"
        if method in ("POST", "DELETE") and 200 <= status < 300:
            rt.writes += 1
            if faults.roll(faults.drop_rate):
                mode = "drop"
        return Reply(status, payload, rl_headers, mode)

    @staticmethod
    async def _sleep(seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def execute(
        self,
        route: Route,
        org_id: str,
        member_id: str | None,
        scopes: list[str],
        method: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        idem_key: str | None,
        request: str | None = None,
    ) -> tuple[int, bytes]:
        """Run the operation under the store lock; 2xx writes commit with their idempotency entry.
        A write that fails after it changed the org in memory (a bug, a full disk) makes the org
        reload from SQLite, so nothing half-applied stays visible."""
        sb = self.sandbox
        try:
            with sb.store.lock:
                org = sb.org(org_id)
                odef = route.odef
                if route.action == "validate":
                    data: Any = {
                        "active": True,
                        "tokenType": "api_key",
                        "subjectType": "user",
                        "scopes": list(scopes),
                    }
                elif route.action == "objects":
                    data = {"data": object_types(org)["data"]}
                elif route.action == "definitions":
                    assert odef is not None
                    data = definitions(odef)
                elif route.action == "list":
                    assert odef is not None
                    params = parse_qsl(query, keep_blank_values=True)
                    data = sb.list(
                        org,
                        odef,
                        params,
                        filters=route.filters,
                        index_lag_ms=sb.runtime(org_id).faults.index_lag_ms,
                    )
                elif route.action == "retrieve":
                    assert odef is not None and route.record_id is not None
                    data = entity(org, odef, sb.find(org, odef, route.record_id))
                elif route.action == "delete":
                    assert odef is not None and route.record_id is not None
                    rec = sb.find(org, odef, route.record_id)
                    try:
                        data, touched = sb.delete(org, odef, rec)
                        sb.store.delete(org, rec, touched)
                    except BaseException:
                        sb.store.forget(org_id)
                        raise
                elif route.action == "members":
                    assert odef is not None and route.member is not None and route.record_id is not None
                    data = sb.list_members(
                        org,
                        sb.find(org, odef, route.record_id),
                        route.member,
                        parse_qsl(query, keep_blank_values=True),
                    )
                else:
                    assert odef is not None
                    payload = _parse_json(headers, body)
                    try:
                        if route.action == "create":
                            data, touched = sb.create(org, odef, payload, member_id)
                        else:
                            assert route.record_id is not None
                            rec = sb.find(org, odef, route.record_id)
                            data, touched = sb.update(org, odef, rec, payload, member_id)
                        out = _json(data)
                        idem = (route.template, idem_key, 200, out) if idem_key is not None else None
                        if touched or idem:
                            sb.store.save(org, touched, idem, request)
                    except HttpError:
                        raise  # validation happens before anything changes
                    except BaseException:
                        sb.store.forget(org_id)
                        raise
                    return 200, out
                return 200, _json(data)
        except HttpError as exc:
            return exc.status, _json(exc.body())


#: JSON nested deeper than this is refused (a body of the contract's shapes is 5 levels deep).
MAX_JSON_DEPTH = 64
#: Longer request bodies are read to the end but not kept, and answered 413 (one record's body is
#: a few KB; the contract names no limit, so this is the sandbox's, like a gateway's in front of an API).
MAX_BODY_BYTES = 10 * 1024 * 1024
#: Integers with more digits than this are refused (Python would need seconds to parse them).
MAX_INT_DIGITS = 400


class ClientGone(Exception):
    """The client closed the connection before its request body was complete."""


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes; the rest is read and
    dropped (never kept), so the client, which sends its whole body before reading, gets the answer."""
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise ClientGone  # the body never arrived whole: nothing may run on a part of it
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif chunks:
            chunks.clear()
        if not msg.get("more_body"):
            break
    return b"".join(chunks) if size <= limit else None


def combined_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header names (lower case) → values; a repeated header's values are joined with ", "
    (RFC 9110 §5.3) instead of the last one winning, so two ``Authorization`` headers are no key
    and two ``Content-Type`` headers no media type: a smuggled second value cannot override the first."""
    headers: dict[str, str] = {}
    for k, v in raw:
        name, value = k.decode("latin-1").lower(), v.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def request_path(scope: Scope) -> str:
    """The decoded path; one holding an encoded slash (``%2F``) stays encoded, so that
    ``/v1/accounts%2Fdefinitions`` or an id ``acc_1%2Fx`` is no path and no record (404) instead of
    being split at the decoded slash."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and b"%2f" in raw.lower():
        return raw.decode("ascii", "replace")
    return str(scope["path"])


class _DuplicateKey(ValueError):
    pass


class _NumberTooLong(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are unique: a repeated key is ambiguous (which value wins depends on
    the parser), so it is refused rather than silently taking the last."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _NumberTooLong(text[:20])
    return int(text)


def _parse_json(headers: dict[str, str], body: bytes) -> Any:
    """The body as JSON: 415 when not JSON; 400 ``invalid_type`` when nested too deeply or when a
    string holds a lone surrogate (``"\\ud800"``: valid JSON syntax, but no Unicode text)."""
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise HttpError(415, "Requests with a body must be sent as Content-Type: application/json.")
    try:
        # strict UTF-8: a byte order mark is refused too (RFC 8259 §8.1 forbids it on the wire)
        data = json.loads(body.decode("utf-8"), object_pairs_hook=_unique_object, parse_int=_parse_int)
    except _DuplicateKey as exc:
        raise HttpError(
            400, f"The request body repeats the key {str(exc)!r} in one object.", code="invalid_type"
        ) from None
    except _NumberTooLong:
        raise HttpError(
            400, f"A number in the request body has more than {MAX_INT_DIGITS} digits.", code="invalid_type"
        ) from None
    except RecursionError:
        raise HttpError(
            400,
            f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
            code="invalid_type",
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise HttpError(415, "The request body is not valid JSON.") from None
    if _has_nul(data):
        raise HttpError(
            400,
            "The request body holds a NUL character (\\u0000), which no text field can store.",
            code="invalid_type",
        )
    if _depth(data) > MAX_JSON_DEPTH:
        raise HttpError(
            400,
            f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
            code="invalid_type",
        )
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise HttpError(
            400,
            f"The request body holds a lone surrogate ({exc.object[exc.start : exc.end]!a}), "
            "which is not Unicode text.",
            code="invalid_type",
        ) from None
    return data


def _has_nul(data: Any) -> bool:
    """Whether a key or string anywhere in parsed JSON holds U+0000 (without recursion)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _depth(data: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _request_fingerprint(path: str, body: bytes) -> str:
    """What an Idempotency-Key was used for: the path (so the record) and the body (as canonical
    JSON when it parses, so key order and spacing do not matter)."""
    try:
        canon = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode(
            "utf-8", "backslashreplace"
        )
    except (ValueError, RecursionError):
        canon = body
    return hashlib.sha256(path.encode("utf-8", "backslashreplace") + b"\n" + canon).hexdigest()


def create_app(
    sandbox: Sandbox | str | Path | None = None,
    *,
    seed: Any = "demo",
    rate_limit: float | None = None,
    profile: str | Profile | None = None,
) -> SandboxApp:
    """An ASGI app serving ``sandbox`` (or a new :class:`Sandbox` on the given db path).

    >>> app = create_app()            # temp db, demo org; serve it with any ASGI server
    """
    if not isinstance(sandbox, Sandbox):
        sandbox = Sandbox(sandbox, seed=seed, rate_limit=rate_limit, profile=profile)
    return SandboxApp(sandbox)
