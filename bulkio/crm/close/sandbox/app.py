"""The Close sandbox's HTTP surface: a Close-compatible ASGI app over :class:`CloseSandbox`.

Request pipeline, in order: the whole body (a client that leaves mid-body gets nothing run) →
download links (no key) → ``/api/v1/…/`` path with its trailing slash (404) → Basic auth with the
key as user name and an empty password, or ``Bearer <key>`` (401) → ``X-HTTP-Method-Override`` →
route (404/405) → ``X-TZ-Offset`` (400) → rate limit per endpoint group, per key and 3× per org
(429) → body over 10 MiB (413) → faults (connection reset / 500 / 503 / 429 storm) → latency →
execute → dropped answer after a committed write. Any unexpected error is a JSON 500; repeated
headers are joined with ", " (never last-wins); a path holding ``%2F`` is not split there.

Choices where the sources are silent or disagree (each also in docs/sandbox-close.md):

* Paths without their trailing slash are 404 (Close's clients always add it).
* A Basic password other than empty is refused (401), like a wrong key.
* Unknown query parameters, unknown body keys, read-only keys and the deprecated ``custom`` dict /
  ``custom.<name>`` keys are a 400 (``strict_keys=False`` ignores body keys instead).
* Every response after auth carries ``RateLimit: limit=…, remaining=…, reset=…`` for the bucket
  closest to being hit; a 429 adds ``Retry-After`` and a ``rate_reset`` body (wrapped in
  ``error`` by default, flat with ``rate_limit_body="flat"``).
* There are no idempotency keys: an ``Idempotency-Key`` header is ignored, so a retried POST
  makes a second record, as on Close.
* Creates and updates answer 200 with the object; deletes 200 with ``{}``; a pipeline create and a
  shared-field association answer 201 and a pipeline delete 204 (as the OpenAPI declares).
* ``stats()['by_status']`` counts connection resets under status 0.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from . import admin, exports
from .core import CloseSandbox
from .limits import OrgRuntime, Verdict, rate_body, rate_headers
from .listing import list_opportunities, list_simple, page_of
from .objects import Ctx, find, project, render
from .rules import UNAUTHORIZED, CloseError, bad_request, error, invalid, tz_offset
from .search import run_search
from .store import TYPES, OrgData, hash_key

API = "/api/v1/"
DOWNLOADS = "/_sandbox/exports/"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "ok"  # ok | drop | reset
    content_type: str = "application/json"


@dataclass
class Route:
    """What to run: ``action`` on ``parts`` (the path below /api/v1/), in a rate ``group``."""

    action: str
    parts: list[str]
    group: str
    write: bool


def _json(data: Any) -> bytes:
    # backslashreplace: a lone surrogate that slipped into a message or a record stays valid JSON
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


CUSTOM_KINDS = ("lead", "contact", "opportunity", "shared")


def resolve(method: str, parts: list[str]) -> Route:
    """Map a method and the path below ``/api/v1/`` to a :class:`Route` (404 / 405)."""
    n = len(parts)
    head = parts[0] if parts else ""
    allowed: dict[str, str] = {}
    if parts == ["me"]:
        allowed = {"GET": "me"}
    elif head == "user" and n in (1, 2):
        allowed = {"GET": "users" if n == 1 else "user"}
    elif head == "organization" and n == 2:
        allowed = {"GET": "organization"}
    elif head in TYPES and n == 1:
        allowed = {"GET": "list", "POST": "create"}
    elif head in TYPES and n == 2:
        allowed = {"GET": "retrieve", "PUT": "update", "DELETE": "delete"}
    elif head == "status" and n >= 2 and parts[1] in ("lead", "opportunity") and n <= 3:
        allowed = (
            {"GET": "statuses", "POST": "status_create"}
            if n == 2
            else {"PUT": "status_update", "DELETE": "status_delete"}
        )
    elif head == "pipeline" and n in (1, 2):
        allowed = (
            {"GET": "pipelines", "POST": "pipeline_create"}
            if n == 1
            else {"GET": "pipeline", "PUT": "pipeline_update", "DELETE": "pipeline_delete"}
        )
    elif head == "custom_field" and n >= 2 and parts[1] in CUSTOM_KINDS:
        if n == 2:
            allowed = {"GET": "fields", "POST": "field_create"}
        elif n == 3:
            allowed = {"GET": "field", "PUT": "field_update", "DELETE": "field_delete"}
        elif parts[1] == "shared" and n == 4 and parts[3] == "association":
            allowed = {"POST": "associate"}
        elif parts[1] == "shared" and n == 5 and parts[3] == "association":
            allowed = {"DELETE": "dissociate"}
    elif parts == ["data", "search"]:
        allowed = {"POST": "search"}
    elif head == "export" and n in (1, 2):
        if n == 1:
            allowed = {"GET": "exports"}
        elif parts[1] in ("lead", "opportunity"):
            allowed = {"POST": "export_" + parts[1]}
        else:
            allowed = {"GET": "export"}
    if not allowed:
        raise error(404, f"Not found: /api/v1/{'/'.join(parts)}/ is not an API path.")
    action = allowed.get(method)
    if action is None:
        raise CloseError(405, {"error": "Method not allowed."}, {"Allow": ", ".join(sorted(allowed))})
    group = "search" if action == "search" else f"{head}:{'read' if method == 'GET' else 'write'}"
    return Route(action, parts, group, method != "GET")


def authenticate(header: str) -> tuple[str | None, bool]:
    """(API key or None, whether credentials were sent at all)."""
    if not header:
        return None, False
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), True
    if scheme.lower() != "basic":
        return None, True
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, True
    user, sep, password = decoded.partition(":")
    if not sep or password or not user:
        return None, True
    return user, True


class _DropIncomplete(logging.Filter):
    """Silence uvicorn's complaint about the answers cut short on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_DropIncomplete())


class CloseSandboxApp:
    """The ASGI callable. ``sandbox`` holds all state; this class only speaks HTTP."""

    def __init__(self, sandbox: CloseSandbox) -> None:
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
        try:
            body = await read_body(receive, MAX_BODY_BYTES)
        except ClientGone:
            return  # an aborted request is not run (its first half could parse as a whole body)
        base = f"{scope.get('scheme', 'http')}://{headers.get('host') or '127.0.0.1'}"
        try:
            reply = await self.handle(
                scope["method"],
                request_path(scope),
                scope.get("query_string", b"").decode("utf-8", "replace"),
                headers,
                body,
                base,
            )
        except Exception:
            logging.getLogger("bulkio.close_sandbox").exception("unexpected error")
            reply = Reply(500, _json({"error": "Internal server error."}))
        raw = [
            (b"content-type", reply.content_type.encode()),
            (b"content-length", str(len(reply.body)).encode()),
        ]
        raw += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
        await send({"type": "http.response.start", "status": reply.status, "headers": raw})
        if reply.mode != "ok":
            # cut the answer short: the client sees the connection close mid-body
            await send(
                {"type": "http.response.body", "body": reply.body[: len(reply.body) // 2], "more_body": True}
            )
            return
        await send({"type": "http.response.body", "body": reply.body})

    async def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None, base: str
    ) -> Reply:
        """Answer one request; ``body`` None means it was longer than :data:`MAX_BODY_BYTES`."""
        sb = self.sandbox
        if path.startswith(DOWNLOADS) and method == "GET":
            return self.download(path[len(DOWNLOADS) :], query)
        if not path.startswith(API) or not path.endswith("/"):
            hint = " (Close API paths end with a slash)" if path.startswith(API) else ""
            return Reply(404, _json({"error": f"Not found: {path}{hint}."}))
        key, _sent = authenticate(headers.get("authorization", ""))
        found = sb.store.lookup_key(key) if key else None
        if found is None:
            return Reply(401, _json({"error": UNAUTHORIZED}))
        org_id, user_id = found
        rt = sb.runtime(org_id)
        params = parse_qsl(query, keep_blank_values=True)
        route: Route | None = None
        limit_headers: dict[str, str] = {}
        key_hash = hash_key(key or "")
        parts = [p for p in path[len(API) :].split("/") if p]
        try:
            override = headers.get("x-http-method-override", "").upper()
            if method == "POST" and override in ("GET", "PUT", "DELETE") and body is not None:
                method, params, body = self._override(override, params, body)
            try:
                route = resolve(method, parts)
            except CloseError:
                # nothing runs, so nothing is spent; the header still tells where the key stands
                group = f"{parts[0] if parts else ''}:{'read' if method == 'GET' else 'write'}"
                limit_headers = rate_headers(rt.peek(key_hash, group), rt.options, refused=False)
                raise
            tz = tz_offset(headers.get("x-tz-offset"))
            verdict = rt.check(key_hash, route.group)
            limit_headers = rate_headers(verdict.bucket, rt.options, refused=not verdict.ok)
            if not verdict.ok:
                raise CloseError(429, rate_body(verdict, rt.options))
            if body is None:
                raise error(413, f"Request body too large: at most {MAX_BODY_BYTES // (1024 * 1024)} MiB.")
        except CloseError as exc:
            rt.record(route.group if route else None, exc.status)
            return Reply(exc.status, _json(exc.body), {**limit_headers, **exc.headers})
        assert body is not None  # a longer body was answered 413 above
        faults = rt.faults
        if faults.roll(faults.reset_rate):
            rt.record(route.group, 0)
            return Reply(500, _json({}), limit_headers, mode="reset")
        if faults.roll(faults.error_rate):
            status = faults.rng.choice((500, 503))
            rt.record(route.group, status)
            message = "Internal server error." if status == 500 else "Service temporarily unavailable."
            return Reply(status, _json({"error": message}), limit_headers)
        if faults.roll(faults.rate_429):
            storm = Verdict(False, verdict.bucket, "org", route.group)
            rt.record(route.group, 429)
            storm_headers = rate_headers(verdict.bucket, rt.options, refused=True)
            return Reply(429, _json(rate_body(storm, rt.options)), storm_headers)
        delay = faults.delay()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            status, payload = self.execute(route, org_id, user_id, params, headers, body, tz, rt, base)
        except Exception:
            # a sandbox bug: still Close's JSON error body, with the rate headers of every answer
            logging.getLogger("bulkio.close_sandbox").exception("unexpected error")
            status, payload = 500, _json({"error": "Internal server error."})
        rt.record(route.group, status)
        mode = "ok"
        if route.write and 200 <= status < 300:
            rt.writes += 1
            if faults.roll(faults.drop_rate):
                mode = "drop"
        return Reply(status, payload, limit_headers, mode)

    @staticmethod
    def _override(
        method: str, params: list[tuple[str, str]], body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """``X-HTTP-Method-Override``: a POST whose body ``{"_params": {...}}`` stands in for a query."""
        if method != "GET":
            return method, params, body
        data = _parse_json({"content-type": "application/json"}, body) if body.strip() else {}
        extra = data.get("_params") if isinstance(data, dict) else None
        if isinstance(extra, dict):
            params = params + [(str(k), str(v)) for k, v in extra.items()]
        return "GET", params, b""

    def download(self, name: str, query: str) -> Reply:
        """A signed export link: the gzip file, or S3's 403 when the link is bad or expired."""
        export_id = name.split(".", 1)[0]
        denied = Reply(
            403,
            b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
            b"<Message>Request has expired or the signature does not match</Message></Error>",
            content_type="application/xml",
        )
        org_id = self.sandbox.store.export_org(export_id)
        if org_id is None:
            return denied
        with self.sandbox.store.lock:
            doc = self.sandbox.org(org_id).exports.get(export_id)
        if doc is None or name != f"{export_id}.{doc['format']}.gz":
            return denied  # the link names one file: another suffix (or a header in the name) is no link
        if exports.check_download(self.sandbox.secret, export_id, dict(parse_qsl(query)), time.time()):
            return denied
        data = self.sandbox.store.export_body(org_id, export_id)
        if data is None:
            return denied
        ctype = "application/json" if name.endswith(".json.gz") else "text/csv"
        return Reply(
            200,
            data,
            {"Content-Encoding": "gzip", "Content-Disposition": f'attachment; filename="{name[:-3]}"'},
            content_type=ctype,
        )

    def execute(
        self,
        route: Route,
        org_id: str,
        user_id: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
        tz: float,
        rt: OrgRuntime,
        base: str,
    ) -> tuple[int, bytes]:
        """Run the operation under the store lock; writes commit before the answer is built."""
        sb = self.sandbox
        try:
            with sb.store.lock:
                org = sb.org(org_id)
                now = time.time()
                lag = rt.faults.index_lag_ms
                cutoff = now - lag / 1000 if lag > 0 else None
                status, data = self._run(
                    route, org, user_id, params, headers, body, tz, rt, base, now, cutoff
                )
                if status == 204:
                    return 204, b""
                return status, _json(data)
        except CloseError as exc:
            return exc.status, _json(exc.body)

    def _run(
        self,
        route: Route,
        org: OrgData,
        user_id: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
        tz: float,
        rt: OrgRuntime,
        base: str,
        now: float,
        cutoff: float | None,
    ) -> tuple[int, Any]:
        sb, store, opts = self.sandbox, self.sandbox.store, rt.options
        a, parts = route.action, route.parts
        payload = (
            _parse_json(headers, body)
            if route.write and a not in ("delete",) and not a.endswith("_delete") and a != "dissociate"
            else None
        )
        ctx = Ctx(org, user_id, tz, now, opts.strict_keys)
        fields = [f.strip() for f in dict(params).get("_fields", "").split(",") if f.strip()] or None
        if route.write and a not in ("search",) and not a.startswith("export_"):
            _no_query(params, allow_fields=a in ("create", "update"))
        if a == "me":
            return 200, project(admin.me(org, user_id), fields)
        if a == "users":
            users = sorted(
                org.config["users"], key=lambda u: (u.get("last_name", ""), u.get("first_name", ""))
            )
            return 200, page_of([admin.render_user(org, u) for u in users], params, max_skip=opts.max_skip)
        if a == "user":
            u = org.user(parts[1])
            if u is None:
                raise error(404, "Empty query: User matching query does not exist.")
            return 200, project(admin.render_user(org, u), fields)
        if a == "organization":
            return 200, project(admin.organization(org, parts[1]), fields)
        rtype = parts[0]
        if a == "list":
            if rtype == "opportunity":
                return 200, list_opportunities(org, params, tz, cutoff, opts.max_skip)
            return 200, list_simple(org, rtype, params, cutoff, opts.max_skip)
        if a == "retrieve":
            _only(params, {"_fields"})
            return 200, project(render(org, find(org, rtype, parts[1])), fields)
        if a == "create":
            data, touched = sb.create(ctx, rtype, payload)
            store.save(org, touched)
            return 200, project(data, fields)
        if a == "update":
            data, touched = sb.update(ctx, rtype, parts[1], payload)
            if touched:
                store.save(org, touched)
            return 200, project(data, fields)
        if a == "delete":
            touched, gone = sb.delete(ctx, rtype, parts[1])
            store.save(org, touched, gone)
            return 200, {}
        return self._run_config(a, parts, org, user_id, params, payload, tz, rt, base, now, cutoff, fields)

    def _run_config(
        self,
        a: str,
        parts: list[str],
        org: OrgData,
        user_id: str,
        params: list[tuple[str, str]],
        payload: Any,
        tz: float,
        rt: OrgRuntime,
        base: str,
        now: float,
        cutoff: float | None,
        fields: list[str] | None,
    ) -> tuple[int, Any]:
        store, opts = self.sandbox.store, rt.options
        max_skip = opts.max_skip
        if a == "statuses":
            if parts[1] == "lead":
                items = [dict(s) for s in org.config["lead_statuses"]]
            else:
                items = [admin.render_opp_status(s, p) for s, p in org.opp_statuses()]
            return 200, page_of(items, params, max_skip=max_skip)
        if a == "status_create":
            made = (
                admin.create_lead_status(org, payload)
                if parts[1] == "lead"
                else admin.create_opp_status(org, payload)
            )
            store.save(org, config=True)
            return 200, made
        if a == "status_update":
            fn = admin.update_lead_status if parts[1] == "lead" else admin.update_opp_status
            made = fn(org, parts[2], payload)
            store.save(org, config=True)
            return 200, made
        if a == "status_delete":
            (admin.delete_lead_status if parts[1] == "lead" else admin.delete_opp_status)(org, parts[2])
            store.save(org, config=True)
            return 200, {}
        if a == "pipelines":
            return 200, page_of(
                [admin.render_pipeline(org, p) for p in org.config["pipelines"]], params, max_skip=max_skip
            )
        if a == "pipeline":
            return 200, admin.render_pipeline(org, admin.find_pipeline(org, parts[1]))
        if a == "pipeline_create":
            made = admin.create_pipeline(org, payload, user_id, now)
            store.save(org, config=True)
            return 201, made
        if a == "pipeline_update":
            made = admin.update_pipeline(org, parts[1], payload, user_id, now)
            store.save(org, config=True)
            return 200, made
        if a == "pipeline_delete":
            admin.delete_pipeline(org, parts[1])
            store.save(org, config=True)
            return 204, None
        kind = parts[1] if len(parts) > 1 else ""
        if a == "fields":
            items = [admin.render_field(org, f, shared=kind == "shared") for f in admin.fields_of(org, kind)]
            return 200, page_of(items, params, max_skip=max_skip)
        if a == "field":
            return 200, project(
                admin.render_field(org, admin.find_field(org, kind, parts[2]), shared=kind == "shared"),
                fields,
            )
        if a == "field_create":
            made = admin.create_field(org, kind, payload, user_id, now)
            store.save(org, config=True)
            return 200, made
        if a == "field_update":
            made, touched = admin.update_field(org, kind, parts[2], payload, user_id, now)
            store.save(org, touched, config=True)
            return 200, made
        if a == "field_delete":
            touched = admin.delete_field(org, kind, parts[2])
            store.save(org, touched, config=True)
            return 200, {}
        if a == "associate":
            made = admin.associate(org, parts[2], payload)
            store.save(org, config=True)
            return 201, made
        if a == "dissociate":
            touched = admin.dissociate(org, parts[2], parts[4])
            store.save(org, touched, config=True)
            return 200, {}
        if a == "search":
            return 200, run_search(org, user_id, payload, cutoff, opts.cursor_ttl_s)
        delay = opts.export_delay_ms / 1000
        if a in ("export_lead", "export_opportunity"):
            if a == "export_lead":
                doc, blob = exports.start_lead_export(org, user_id, payload, now, cutoff)
            else:
                doc, blob = exports.start_opportunity_export(org, user_id, payload, now, tz, cutoff)
            store.save_export(org, doc, blob)
            return 200, exports.fresh(doc)
        if a == "exports":
            items = [
                exports.render_export(d, now, delay, base, self.sandbox.secret)
                for d in exports.list_exports(org)
            ]
            return 200, page_of(items, params, max_skip=max_skip)
        if a == "export":
            doc = exports.find_export(org, parts[1])
            return 200, project(exports.render_export(doc, now, delay, base, self.sandbox.secret), fields)
        raise error(404, "Not found.")  # pragma: no cover - resolve() knows every action


def _no_query(params: list[tuple[str, str]], *, allow_fields: bool) -> None:
    _only(params, {"_fields"} if allow_fields else set())


def _only(params: list[tuple[str, str]], allowed: set[str]) -> None:
    for name, _ in params:
        if name not in allowed:
            raise bad_request(f"Unknown query parameter {name!r}.")


#: Longer request bodies are read to the end but not kept, and answered 413 (Close publishes no
#: limit; one lead with its contacts is a few KB).
MAX_BODY_BYTES = 10 * 1024 * 1024
#: JSON nested deeper than this is refused (the deepest real body, a search query, is ~10 levels).
MAX_JSON_DEPTH = 64
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
    ``/lead%2F`` or an id ``lead_1%2F`` is no path and no object (404) instead of being split at
    the decoded slash."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and b"%2f" in raw.lower():
        return raw.decode("ascii", "replace")
    return str(scope["path"])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A repeated key is ambiguous (which value wins depends on the parser): refused."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


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


def _parse_json(headers: dict[str, str], body: bytes) -> Any:
    """The body as JSON, strictly: UTF-8 without a byte order mark, no NaN/Infinity, no repeated
    keys, no lone surrogates, at most :data:`MAX_JSON_DEPTH` levels; anything else is a 400
    ``{"error": ...}`` (a body that is no JSON at all, as Close answers malformed JSON)."""
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if not body.strip():
        raise invalid(errors=["The request body must be a JSON object."])
    if ctype != "application/json":
        raise error(415, "Send request bodies as JSON with Content-Type: application/json.")
    try:
        data = json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_unique_object,
            parse_constant=_refuse_constant,
            parse_int=_parse_int,
        )
    except RecursionError:
        raise bad_request(
            f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
        ) from None
    except UnicodeDecodeError:
        raise bad_request("The request body is not valid UTF-8.") from None
    except ValueError as exc:
        raise bad_request(f"The request body is not valid JSON: {str(exc)[:120]}") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise bad_request(f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
    try:
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        raise bad_request("The request body holds a lone surrogate or a number out of range.") from None
    return data


def create_app(
    sandbox: CloseSandbox | str | Path | None = None, *, seed: Any = "demo", rate_limit: float | None = None
) -> CloseSandboxApp:
    """An ASGI app serving ``sandbox`` (or a new :class:`CloseSandbox` on the given db path).

    >>> app = create_app()            # temp db, demo org; serve it with any ASGI server
    """
    if not isinstance(sandbox, CloseSandbox):
        sandbox = CloseSandbox(sandbox, seed=seed, rate_limit=rate_limit)
    return CloseSandboxApp(sandbox)
