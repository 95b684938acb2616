"""Attack both bulkio sandboxes the way an outside script would, over real HTTP.

Starts the Lightfield sandbox (strict profile) and the Close sandbox on loopback ports, runs every
probe (auth, scopes, cross-org access, injection, sizes, protocol, idempotency, rate limits, the
official SDKs' error paths) and prints one row per probe: category, probe, expected, got, ok.
Exits 1 when any probe fails, so it can be rerun after a change::

    python scripts/attack_sandboxes.py            # every probe
    python scripts/attack_sandboxes.py -k cross   # probes whose category or name holds "cross"
    python scripts/attack_sandboxes.py --failed   # print only the failed rows

Expectations come from /work/shared/{lightfield,close}/API-FACTS.md and the OpenAPI contracts;
where those say UNKNOWN or CONFLICT the least forgiving reading is expected (the sandbox's strict
profile). A probe never passes on a 500, a non-JSON API answer or a hang (every request has a
timeout).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import random
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bulkio.crm.close.sandbox import CloseSandboxServer
from bulkio.sandbox import SandboxServer

VERSION = "2026-03-01"
TIMEOUT = 10.0


@dataclass
class Row:
    category: str
    probe: str
    expected: str
    got: str
    ok: bool


class Attack:
    """Collects probe rows; ``check`` records one and never raises."""

    def __init__(self, pattern: str | None) -> None:
        self.rows: list[Row] = []
        self.pattern = (pattern or "").lower()

    def wanted(self, category: str, probe: str = "") -> bool:
        return not self.pattern or self.pattern in f"{category} {probe}".lower()

    def add(self, category: str, probe: str, expected: str, got: str, ok: bool) -> None:
        self.rows.append(Row(category, probe, expected, got, ok))

    def run(self, category: str, probe: str, expected: str, fn: Callable[[], tuple[bool, str]]) -> None:
        """Run ``fn`` (returns ok, what it got); an exception is a failed probe, not a crash."""
        if not self.wanted(category, probe):
            return
        try:
            ok, got = fn()
        except Exception as exc:  # noqa: BLE001 — a probe that blew up (timeout, protocol error) failed
            ok, got = False, f"{type(exc).__name__}: {str(exc)[:120]}"
        self.add(category, probe, expected, got, ok)


# --- response checks ---------------------------------------------------------------------------------
def describe(r: httpx.Response) -> str:
    body = r.text[:90].replace("\n", " ")
    return f"{r.status_code} {body}"


def json_body(r: httpx.Response) -> Any:
    """The parsed JSON body, or raise when the answer is not JSON (content type and syntax)."""
    if not r.headers.get("content-type", "").startswith("application/json"):
        raise ValueError(f"content-type {r.headers.get('content-type')!r}")
    return json.loads(r.content, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name} in the answer")


def lf_error(r: httpx.Response, status: int, type_: str | None = None, code: str | None = None) -> bool:
    """A Lightfield error envelope with this status (and type / code when given)."""
    try:
        body = json_body(r)
    except ValueError:
        return False
    if r.status_code != status or not isinstance(body, dict) or set(body) != {"error"}:
        return False
    err = body["error"]
    return (
        isinstance(err, dict)
        and {"type", "message"} <= set(err)
        and (type_ is None or err["type"] == type_)
        and (code is None or err.get("code") == code)
    )


def lf_rate_headers(r: httpx.Response) -> bool:
    return all(h in r.headers for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"))


def close_error(r: httpx.Response, status: int) -> bool:
    """A Close error body: ``{"error": str}`` or the validation ``{"errors", "field-errors"}``."""
    try:
        body = json_body(r)
    except ValueError:
        return False
    if r.status_code != status or not isinstance(body, dict):
        return False
    return isinstance(body.get("error"), str | dict) or {"errors", "field-errors"} <= set(body)


def raw_request(url: str, data: bytes, *, read_timeout: float = TIMEOUT) -> bytes:
    """Send raw bytes on a new connection and read the answer until the server closes it."""
    u = httpx.URL(url)
    with socket.create_connection((u.host, u.port or 80), timeout=read_timeout) as s:
        s.sendall(data)
        raw = b""
        try:
            while chunk := s.recv(65536):
                raw += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return raw


def raw_get(url: str, target: str, headers: dict[str, str], method: str = "GET") -> tuple[int, Any]:
    """A request sent byte for byte as given (httpx would normalise ``..`` and refuse odd header
    values): the status and the JSON body (None when the body is not JSON)."""
    lines = [
        f"{method} {target} HTTP/1.1",
        "Host: x",
        *(f"{k}: {v}" for k, v in headers.items()),
        "Connection: close",
    ]
    raw = raw_request(url, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    try:
        body = raw_json(raw)
    except ValueError:
        body = None
    return raw_status(raw), body


def raw_status(raw: bytes) -> int:
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def raw_json(raw: bytes) -> Any:
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2 :]
        body = out
    return json.loads(body, parse_constant=_refuse_constant)


# --- the Lightfield sandbox ------------------------------------------------------------------------------
class LF:
    """A started Lightfield sandbox with two orgs (A, B) and keys of every kind."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.url = server.url
        self.a = server.create_org(seed="demo")
        self.b = server.create_org(seed="demo")
        for org in (self.a, self.b):
            server.set_faults(org.org_id, index_lag_ms=0)
            server.set_rate_limit(org.org_id, per_second=10_000)
        self.read_only = server.mint_key(self.a.org_id, ["accounts:read"])
        self.contacts_only = server.mint_key(self.a.org_id, ["contacts:read", "contacts:create"])
        self.lists_only = server.mint_key(self.a.org_id, ["lists:read"])
        self.client = httpx.Client(base_url=self.url, timeout=TIMEOUT)

    def req(
        self, method: str, path: str, key: str | None = None, *, version: bool = True, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if key is not None and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {key}"
        if version:
            headers.setdefault("Lightfield-Version", VERSION)
        return self.client.request(method, path, headers=headers, **kw)

    def a_req(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.req(method, path, self.a.api_key, **kw)

    def b_req(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.req(method, path, self.b.api_key, **kw)

    def make(self, key: str, path: str, body: dict[str, Any]) -> str:
        r = self.req("POST", path, key, json=body)
        if r.status_code != 200:
            raise RuntimeError(f"setup POST {path} failed: {describe(r)}")
        return str(r.json()["id"])


def lf_probes(att: Attack, lf: LF) -> None:
    a_key, b_key = lf.a.api_key, lf.b.api_key
    tag = uuid.uuid4().hex[:8]
    # org A's records, every type
    acc = lf.make(a_key, "/v1/accounts", {"fields": {"$name": f"A-{tag}", "external_id": f"EXT-A-{tag}"}})
    con = lf.make(
        a_key, "/v1/contacts", {"fields": {"external_id": f"C-A-{tag}"}, "relationships": {"$account": acc}}
    )
    opp = lf.make(
        a_key,
        "/v1/opportunities",
        {"fields": {"$name": "Deal", "$stage": "opt_stage_lead"}, "relationships": {"$account": acc}},
    )
    task = lf.make(
        a_key,
        "/v1/tasks",
        {
            "fields": {"$title": "T", "$status": "TODO"},
            "relationships": {"$assignedTo": "mem_ava", "$account": acc},
        },
    )
    note = lf.make(a_key, "/v1/notes", {"fields": {"$title": "N"}, "relationships": {"$account": acc}})
    lst = lf.make(
        a_key,
        "/v1/lists",
        {"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$accounts": acc}},
    )
    partner = lf.make(a_key, "/v1/objects/partner/values", {"fields": {"external_id": f"P-A-{tag}"}})
    b_acc = lf.make(b_key, "/v1/accounts", {"fields": {"$name": f"B-{tag}"}})
    b_list = lf.make(b_key, "/v1/lists", {"fields": {"$name": "BL", "$objectType": "$account"}})
    a_ids = {
        "accounts": acc,
        "contacts": con,
        "opportunities": opp,
        "tasks": task,
        "notes": note,
        "lists": lst,
    }

    cat = "lf/auth"
    ok401 = "401 unauthorized envelope + rate headers"

    def auth(headers: dict[str, str], path: str = "/v1/accounts") -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            r = lf.req("GET", path, headers=headers)
            return lf_error(r, 401, "unauthorized") and lf_rate_headers(r), describe(r)

        return go

    basic = base64.b64encode(f"{a_key}:".encode()).decode()
    att.run(cat, "no Authorization header", ok401, auth({}))
    att.run(cat, "empty Authorization header", ok401, auth({"Authorization": ""}))
    att.run(cat, "'Bearer' without a key", ok401, auth({"Authorization": "Bearer"}))
    att.run(
        cat,
        "'Bearer ' + spaces (raw)",
        "401 unauthorized",
        lambda: (
            (
                got := raw_get(
                    lf.url, "/v1/accounts", {"Authorization": "Bearer    ", "Lightfield-Version": VERSION}
                )
            )[0]
            == 401
            and got[1]["error"]["type"] == "unauthorized",
            str(got)[:80],
        ),
    )
    att.run(
        cat,
        "key followed by tab + garbage (raw)",
        "401 unauthorized",
        lambda: (
            (
                got := raw_get(
                    lf.url,
                    "/v1/accounts",
                    {"Authorization": f"Bearer {a_key}\tx", "Lightfield-Version": VERSION},
                )
            )[0]
            == 401,
            str(got)[:80],
        ),
    )
    att.run(cat, "garbage key", ok401, auth({"Authorization": "Bearer sk_lf_garbage"}))
    att.run(cat, "key without scheme", ok401, auth({"Authorization": a_key}))
    att.run(cat, "Basic scheme with the key as user", ok401, auth({"Authorization": f"Basic {basic}"}))
    att.run(cat, "Token scheme", ok401, auth({"Authorization": f"Token {a_key}"}))
    att.run(cat, "key + trailing garbage", ok401, auth({"Authorization": f"Bearer {a_key}x"}))
    att.run(cat, "key with inner space", ok401, auth({"Authorization": f"Bearer {a_key[:8]} {a_key[8:]}"}))
    att.run(cat, "two tokens", ok401, auth({"Authorization": f"Bearer {a_key} {a_key}"}))
    att.run(cat, "key prefix only", ok401, auth({"Authorization": f"Bearer {a_key[:-1]}"}))
    att.run(cat, "upper-cased key", ok401, auth({"Authorization": f"Bearer {a_key.upper()}"}))
    att.run(cat, "no key on auth/validate", ok401, auth({}, "/v1/auth/validate"))
    att.run(cat, "no key on unknown path", ok401, auth({}, "/v1/nothing"))
    att.run(
        cat,
        "no key on POST create",
        ok401,
        lambda: (
            lf_error(r := lf.req("POST", "/v1/accounts", json={"fields": {"$name": "x"}}), 401),
            describe(r),
        ),
    )

    def unicode_key() -> tuple[bool, str]:
        raw = raw_request(
            lf.url,
            b"GET /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + (a_key + "\u00e9").encode("utf-8")
            + b"\r\nLightfield-Version: 2026-03-01\r\nConnection: close\r\n\r\n",
        )
        return raw_status(raw) == 401 and raw_json(raw)["error"]["type"] == "unauthorized", raw[:40].decode(
            "latin-1"
        )

    att.run(cat, "key + UTF-8 bytes", "401 envelope", unicode_key)

    def nul_key() -> tuple[bool, str]:
        raw = raw_request(
            lf.url,
            b"GET /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + a_key.encode()
            + b"\x00\r\nLightfield-Version: 2026-03-01\r\nConnection: close\r\n\r\n",
        )
        status = raw_status(raw)
        alive = lf.a_req("GET", "/v1/accounts", params={"limit": 1}).status_code == 200
        return (status in (0, 400, 401) and alive), f"{status} alive={alive}"

    att.run(cat, "key + NUL byte (raw)", "400/401 or closed; server alive", nul_key)

    def long_header(size: int) -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            raw = raw_request(
                lf.url,
                b"GET /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + b"k" * size
                + b"\r\nLightfield-Version: 2026-03-01\r\nConnection: close\r\n\r\n",
            )
            status = raw_status(raw)
            alive = lf.a_req("GET", "/v1/accounts", params={"limit": 1}).status_code == 200
            return (status in (0, 400, 401, 431) and alive), f"{status} alive={alive}"

        return go

    att.run(cat, "8 KB Authorization header", "401 (or 4xx), server alive", long_header(8_000))
    att.run(cat, "1 MB Authorization header", "4xx or closed, server alive", long_header(1_000_000))
    for order in ("valid first", "valid last"):
        pair = [f"Bearer {a_key}", "Bearer sk_lf_garbage"]
        if order == "valid last":
            pair.reverse()
        att.run(
            cat,
            f"two Authorization headers, {order} (raw)",
            "401 (no single key)",
            lambda p=pair: (
                (
                    got := raw_get(
                        lf.url,
                        "/v1/accounts",
                        {"Authorization": p[0] + "\r\nAuthorization: " + p[1], "Lightfield-Version": VERSION},
                    )
                )[0]
                == 401,
                str(got)[:80],
            ),
        )
    att.run(
        cat,
        "A's key then B's key in two headers (raw)",
        "401",
        lambda: (
            (
                got := raw_get(
                    lf.url,
                    "/v1/accounts",
                    {
                        "Authorization": f"Bearer {a_key}\r\nAuthorization: Bearer {b_key}",
                        "Lightfield-Version": VERSION,
                    },
                )
            )[0]
            == 401,
            str(got)[:80],
        ),
    )
    att.run(
        cat,
        "lower-case 'bearer' scheme (RFC 7235)",
        "200",
        lambda: (
            (r := lf.req("GET", "/v1/accounts", headers={"Authorization": f"bearer {a_key}"})).status_code
            == 200,
            describe(r),
        ),
    )

    def version(value: str | None) -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            headers = {"Lightfield-Version": value} if value is not None else {}
            r = lf.req("GET", "/v1/accounts", a_key, version=False, headers=headers)
            return lf_error(r, 400, "bad_request", "version_header") and lf_rate_headers(r), describe(r)

        return go

    att.run(cat, "no Lightfield-Version", "400 version_header", version(None))
    att.run(
        cat,
        "Lightfield-Version with trailing text (raw)",
        "400 version_header",
        lambda: (
            (
                got := raw_get(
                    lf.url,
                    "/v1/accounts",
                    {"Authorization": f"Bearer {a_key}", "Lightfield-Version": "2026-03-01 x"},
                )
            )[0]
            == 400
            and got[1]["error"]["code"] == "version_header",
            str(got)[:80],
        ),
    )
    att.run(
        cat,
        "two Lightfield-Version headers, one wrong (raw)",
        "400 version_header",
        lambda: (
            (
                got := raw_get(
                    lf.url,
                    "/v1/accounts",
                    {
                        "Authorization": f"Bearer {a_key}",
                        "Lightfield-Version": "2026-03-01\r\nLightfield-Version: 1999-01-01",
                    },
                )
            )[0]
            == 400,
            str(got)[:80],
        ),
    )
    att.run(cat, "Lightfield-Version other date", "400 version_header", version("2026-03-02"))

    # scopes
    cat = "lf/scopes"
    scoped = [
        ("read-only key creates", "POST", "/v1/accounts", lf.read_only, {"json": {"fields": {"$name": "x"}}}),
        (
            "read-only key updates",
            "POST",
            f"/v1/accounts/{acc}",
            lf.read_only,
            {"json": {"fields": {"$name": "x"}}},
        ),
        ("read-only key deletes", "DELETE", f"/v1/accounts/{acc}", lf.read_only, {}),
        (
            "read-only key updates another org's id",
            "POST",
            f"/v1/accounts/{b_acc}",
            lf.read_only,
            {"json": {"fields": {"$name": "x"}}},
        ),
        (
            "read-only key updates a missing id",
            "POST",
            "/v1/accounts/acc_missing",
            lf.read_only,
            {"json": {"fields": {"$name": "x"}}},
        ),
        ("read-only key reads contacts", "GET", "/v1/contacts", lf.read_only, {}),
        ("read-only key reads members", "GET", "/v1/members", lf.read_only, {}),
        (
            "read-only key creates a custom object",
            "POST",
            "/v1/objects/partner/values",
            lf.read_only,
            {"json": {"fields": {}}},
        ),
        ("read-only key lists custom objects", "GET", "/v1/objects/partner", lf.read_only, {}),
        (
            "read-only key creates a list",
            "POST",
            "/v1/lists",
            lf.read_only,
            {"json": {"fields": {"$name": "x", "$objectType": "$account"}}},
        ),
        (
            "contacts key creates a contact linked to an account it cannot read",
            "POST",
            "/v1/accounts",
            lf.contacts_only,
            {"json": {"fields": {"$name": "x"}}},
        ),
        (
            "contacts key updates a contact",
            "POST",
            f"/v1/contacts/{con}",
            lf.contacts_only,
            {"json": {"fields": {}}},
        ),
        (
            "lists:read key reads list members without accounts:read",
            "GET",
            f"/v1/lists/{lst}/accounts",
            lf.lists_only,
            {},
        ),
        (
            "read-only key creates with a bad body (scope before validation)",
            "POST",
            "/v1/accounts",
            lf.read_only,
            {"content": b"not json", "headers": {"Content-Type": "text/plain"}},
        ),
    ]
    for name, method, path, key, kw in scoped:
        att.run(
            cat,
            name,
            "403 forbidden + rate headers",
            lambda m=method, p=path, k=key, kw=kw: (
                lf_error(r := lf.req(m, p, k, **kw), 403, "forbidden") and lf_rate_headers(r),
                describe(r),
            ),
        )
    att.run(
        cat,
        "read-only key reads its scope",
        "200",
        lambda: ((r := lf.req("GET", f"/v1/accounts/{acc}", lf.read_only)).status_code == 200, describe(r)),
    )
    att.run(
        cat,
        "read-only key: auth/validate lists its scopes",
        "200 scopes=[accounts:read]",
        lambda: (
            (r := lf.req("GET", "/v1/auth/validate", lf.read_only)).status_code == 200
            and r.json()["scopes"] == ["accounts:read"],
            describe(r),
        ),
    )
    att.run(
        cat,
        "nothing was written by refused keys",
        f"account {acc} still named A-{tag}",
        lambda: (
            (v := lf.a_req("GET", f"/v1/accounts/{acc}").json()["fields"]["$name"]["value"]) == f"A-{tag}",
            str(v),
        ),
    )

    # cross-org
    cat = "lf/cross-org"
    for coll, rid in a_ids.items():
        att.run(
            cat,
            f"B retrieves A's {coll[:-1]}",
            "404 not_found",
            lambda c=coll, i=rid: (
                lf_error(r := lf.b_req("GET", f"/v1/{c}/{i}"), 404, "not_found"),
                describe(r),
            ),
        )
        body: dict[str, Any] = {"fields": {"$name": "pwned"}}
        if coll in ("tasks", "notes"):
            body = {"fields": {"$title": "pwned"}}
        att.run(
            cat,
            f"B updates A's {coll[:-1]}",
            "404 not_found",
            lambda c=coll, i=rid, b=body: (
                lf_error(r := lf.b_req("POST", f"/v1/{c}/{i}", json=b), 404, "not_found"),
                describe(r),
            ),
        )
        if coll != "lists":
            att.run(
                cat,
                f"B deletes A's {coll[:-1]}",
                "404 not_found",
                lambda c=coll, i=rid: (
                    lf_error(r := lf.b_req("DELETE", f"/v1/{c}/{i}"), 404, "not_found"),
                    describe(r),
                ),
            )
    att.run(
        cat,
        "B retrieves A's custom object",
        "404",
        lambda: (lf_error(r := lf.b_req("GET", f"/v1/objects/partner/values/{partner}"), 404), describe(r)),
    )
    att.run(
        cat,
        "B updates A's custom object",
        "404",
        lambda: (
            lf_error(
                r := lf.b_req("POST", f"/v1/objects/partner/values/{partner}", json={"fields": {}}), 404
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B deletes A's custom object",
        "404",
        lambda: (
            lf_error(r := lf.b_req("DELETE", f"/v1/objects/partner/values/{partner}"), 404),
            describe(r),
        ),
    )
    for sub in ("accounts", "contacts", "opportunities"):
        att.run(
            cat,
            f"B reads A's list members /{sub}",
            "404",
            lambda s=sub: (lf_error(r := lf.b_req("GET", f"/v1/lists/{lst}/{s}"), 404), describe(r)),
        )
    att.run(
        cat,
        "B filters by A's external_id",
        "200, 0 rows",
        lambda: (
            (r := lf.b_req("GET", "/v1/accounts", params={"external_id[equal]": f"EXT-A-{tag}"})).status_code
            == 200
            and r.json()["totalCount"] == 0,
            describe(r),
        ),
    )
    att.run(
        cat,
        "B filters by A's name prefix",
        "200, 0 rows",
        lambda: (
            (r := lf.b_req("GET", "/v1/accounts", params={"$name[startsWith]": f"A-{tag}"})).status_code
            == 200
            and r.json()["totalCount"] == 0,
            describe(r),
        ),
    )
    att.run(
        cat,
        "B filters contacts by A's account (relationship slug)",
        "200 0 rows or 400",
        lambda: (
            (
                (r := lf.b_req("GET", "/v1/contacts", params={"$contact-account[contains]": acc})).status_code
                == 200
                and r.json()["totalCount"] == 0
            )
            or lf_error(r, 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B links a new contact to A's account",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST", "/v1/contacts", json={"fields": {}, "relationships": {"$account": acc}}
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B creates an opportunity on A's account",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST",
                    "/v1/opportunities",
                    json={
                        "fields": {"$name": "x", "$stage": "opt_stage_lead"},
                        "relationships": {"$account": acc},
                    },
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B adds A's contact to its account",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST", f"/v1/accounts/{b_acc}", json={"relationships": {"$contact": {"add": con}}}
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B adds A's account to its list",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST", f"/v1/lists/{b_list}", json={"relationships": {"$accounts": {"add": acc}}}
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B creates a note on A's opportunity",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST",
                    "/v1/notes",
                    json={"fields": {"$title": "x"}, "relationships": {"$opportunity": opp}},
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B removes A's contact from its account",
        "400 relationship_entity_missing, A untouched",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST", f"/v1/accounts/{b_acc}", json={"relationships": {"$contact": {"remove": con}}}
                ),
                400,
                code="relationship_entity_missing",
            )
            and lf.a_req("GET", f"/v1/contacts/{con}").json()["relationships"]["$account"]["values"] == [acc],
            describe(r),
        ),
    )
    att.run(
        cat,
        "B links its partner (custom object) to A's account",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST",
                    "/v1/objects/partner/values",
                    json={"fields": {}, "relationships": {"account": acc}},
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B assigns a task to A's opportunity",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST",
                    "/v1/tasks",
                    json={
                        "fields": {"$title": "t", "$status": "TODO"},
                        "relationships": {"$assignedTo": "mem_ava", "$opportunity": opp},
                    },
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B replaces its account's contacts with A's",
        "400 relationship_entity_missing",
        lambda: (
            lf_error(
                r := lf.b_req(
                    "POST", f"/v1/accounts/{b_acc}", json={"relationships": {"$contact": {"replace": [con]}}}
                ),
                400,
                code="relationship_entity_missing",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B filters tasks by A's account (relationship slug)",
        "200 0 rows or 400",
        lambda: (
            (
                (r := lf.b_req("GET", "/v1/contacts", params={"$contact-account[equal]": acc})).status_code
                == 200
                and r.json()["totalCount"] == 0
            )
            or lf_error(r, 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B uses A's external_id (unique per org)",
        "200",
        lambda: (
            (
                r := lf.b_req(
                    "POST", "/v1/accounts", json={"fields": {"$name": "x", "external_id": f"EXT-A-{tag}"}}
                )
            ).status_code
            == 200,
            describe(r),
        ),
    )

    def idem_across_orgs() -> tuple[bool, str]:
        key = f"cross-{tag}"
        one = lf.a_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "same"}}, headers={"Idempotency-Key": key}
        )
        two = lf.b_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "same"}}, headers={"Idempotency-Key": key}
        )
        ok = one.status_code == two.status_code == 200 and one.json()["id"] != two.json()["id"]
        leak = lf.b_req("GET", f"/v1/accounts/{one.json()['id']}").status_code
        return ok and leak == 404, f"{one.status_code}/{two.status_code} ids differ={ok} B sees A's={leak}"

    att.run(cat, "same Idempotency-Key in A then B", "two records; B never replays A's", idem_across_orgs)
    att.run(
        cat,
        "A's records untouched after B's attacks",
        "all 200, names intact",
        lambda: (
            all(lf.a_req("GET", f"/v1/{c}/{i}").status_code == 200 for c, i in a_ids.items())
            and lf.a_req("GET", f"/v1/accounts/{acc}").json()["fields"]["$name"]["value"] == f"A-{tag}",
            "checked",
        ),
    )

    # injection
    cat = "lf/injection"
    sqlish = ["' OR '1'='1", "'; DROP TABLE records; --", '" OR ""="', "\\", "%", "_", "%%", "*", "\x00"]
    for value in sqlish:
        att.run(
            cat,
            f"$name[equal]={value!r}",
            "200, 0 rows",
            lambda v=value: (
                (r := lf.a_req("GET", "/v1/accounts", params={"$name[equal]": v})).status_code == 200
                and r.json()["totalCount"] == 0,
                describe(r),
            ),
        )
        att.run(
            cat,
            f"$name[startsWith]={value!r}",
            "200, 0 rows",
            lambda v=value: (
                (r := lf.a_req("GET", "/v1/accounts", params={"$name[startsWith]": v})).status_code == 200
                and r.json()["totalCount"] == 0,
                describe(r),
            ),
        )
    att.run(
        cat,
        "$email[contains]=% (LIKE wildcard)",
        "200, 0 rows",
        lambda: (
            (r := lf.a_req("GET", "/v1/contacts", params={"$email[contains]": "%"})).status_code == 200
            and r.json()["totalCount"] == 0,
            describe(r),
        ),
    )
    att.run(
        cat,
        "$email[contains]=_ (LIKE wildcard)",
        "200, 0 rows",
        lambda: (
            (r := lf.a_req("GET", "/v1/contacts", params={"$email[contains]": "_"})).status_code == 200
            and r.json()["totalCount"] == 0,
            describe(r),
        ),
    )
    bad_filters = {
        "key with quote": ("$name'--[equal]", "x"),
        "operator injection": ("$name[equal' OR '1]", "x"),
        "sort param": ("sort", "$name"),
        "order_by param": ("order_by", "$name; DROP TABLE x"),
        "nested brackets": ("$name[equal][x]", "x"),
        "empty key": ("[equal]", "x"),
        "unknown operator": ("$name[like]", "%"),
        "regex operator": ("$name[regex]", ".*"),
        "contains on TEXT": ("$name[contains]", "a"),
        "filter on a read-only markdown": ("summary[equal]", "x"),
    }
    for name, (key, value) in bad_filters.items():
        att.run(
            cat,
            f"filter {name}: {key}={value}",
            "400 bad_request",
            lambda k=key, v=value: (
                lf_error(r := lf.a_req("GET", "/v1/accounts", params={k: v}), 400, "bad_request"),
                describe(r),
            ),
        )
    for path in (
        "/v1/accounts/acc_x' OR '1'='1",
        "/v1/accounts/%27%20OR%201=1--",
        "/v1/accounts/%25",
        "/v1/accounts/acc_%00",
        "/v1/accounts/*",
    ):
        att.run(
            cat,
            f"id injection GET {path}",
            "404 not_found",
            lambda p=path: (lf_error(r := lf.a_req("GET", p), 404, "not_found"), describe(r)),
        )
    att.run(
        cat,
        "field name with SQL",
        "400 unknown_field",
        lambda: (
            lf_error(
                r := lf.a_req(
                    "POST", "/v1/accounts", json={"fields": {"$name": "x", "a'); DROP TABLE records;--": 1}}
                ),
                400,
                code="unknown_field",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "relationship key with SQL",
        "400 unknown_relationship",
        lambda: (
            lf_error(
                r := lf.a_req(
                    "POST",
                    "/v1/accounts",
                    json={"fields": {"$name": "x"}, "relationships": {"$owner' --": "mem_ava"}},
                ),
                400,
                code="unknown_relationship",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "custom-object slug with SQL",
        "404",
        lambda: (lf_error(r := lf.a_req("GET", "/v1/objects/partner' OR 1=1--"), 404), describe(r)),
    )
    att.run(
        cat,
        "SQL in a value is stored verbatim",
        "200 round trip",
        lambda: (
            (
                r := lf.a_req(
                    "POST", "/v1/accounts", json={"fields": {"$name": "x'); DROP TABLE records;--"}}
                )
            ).status_code
            == 200
            and lf.a_req("GET", f"/v1/accounts/{r.json()['id']}").json()["fields"]["$name"]["value"]
            == "x'); DROP TABLE records;--",
            describe(r),
        ),
    )

    def post_raw(body: bytes, path: str = "/v1/accounts") -> httpx.Response:
        return lf.a_req("POST", path, content=body, headers={"Content-Type": "application/json"})

    json_cases: list[tuple[str, bytes, Callable[[httpx.Response], bool], str]] = [
        (
            "duplicate key in fields",
            b'{"fields": {"$name": "A", "$name": "B"}}',
            lambda r: lf_error(r, 400, "bad_request"),
            "400 (duplicate keys refused)",
        ),
        (
            "duplicate top-level key",
            b'{"fields": {"$name": "A"}, "fields": {"$name": "B"}}',
            lambda r: lf_error(r, 400, "bad_request"),
            "400 (duplicate keys refused)",
        ),
        (
            "NaN literal in NUMBER",
            b'{"fields": {"$name": "A", "employeeCount": NaN}}',
            lambda r: lf_error(r, 400),
            "400 (NaN is not JSON)",
        ),
        (
            "Infinity literal in CURRENCY",
            b'{"fields": {"$name": "A", "annualRevenue": Infinity}}',
            lambda r: lf_error(r, 400),
            "400 (Infinity is not JSON)",
        ),
        (
            "-Infinity literal",
            b'{"fields": {"$name": "A", "employeeCount": -Infinity}}',
            lambda r: lf_error(r, 400),
            "400 (-Infinity is not JSON)",
        ),
        (
            "1e400 overflows to inf",
            b'{"fields": {"$name": "A", "employeeCount": 1e400}}',
            lambda r: r.status_code in (400, 422) and lf_error(r, r.status_code),
            "400/422",
        ),
        (
            "huge integer 10^30",
            b'{"fields": {"$name": "A", "employeeCount": 1000000000000000000000000000000}}',
            lambda r: r.status_code in (400, 422) and lf_error(r, r.status_code),
            "400/422",
        ),
        (
            "5000-digit integer",
            b'{"fields": {"$name": "A", "employeeCount": ' + b"9" * 5000 + b"}}",
            lambda r: r.status_code in (400, 422) and lf_error(r, r.status_code),
            "400/422 (valid JSON)",
        ),
        (
            "number as $name",
            b'{"fields": {"$name": 5}}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "bool as NUMBER",
            b'{"fields": {"$name": "A", "employeeCount": true}}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "string as CHECKBOX",
            b'{"fields": {"$name": "A", "isCustomer": "true"}}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "object as TEXT",
            b'{"fields": {"$name": {"a": 1}}}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "list as $name",
            b'{"fields": {"$name": ["a"]}}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "fields as list",
            b'{"fields": []}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "fields null",
            b'{"fields": null}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "relationships as string",
            b'{"fields": {"$name": "A"}, "relationships": "x"}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        ("body is a list", b"[]", lambda r: lf_error(r, 400), "400"),
        ("body is a string", b'"x"', lambda r: lf_error(r, 400), "400"),
        ("body is null", b"null", lambda r: lf_error(r, 400), "400"),
        ("body is a number", b"1", lambda r: lf_error(r, 400), "400"),
        (
            "unknown top-level key",
            b'{"fields": {"$name": "A"}, "externalId": "x"}',
            lambda r: lf_error(r, 400),
            "400 (additionalProperties false)",
        ),
        (
            "unknown address part",
            b'{"fields": {"$name": "A", "$primaryAddress": {"street": "x", "zip": "1"}}}',
            lambda r: lf_error(r, 400) or lf_error(r, 422),
            "400/422 (Address additionalProperties false)",
        ),
        (
            "unknown full-name part",
            b'{"fields": {"$name": {"firstName": "a", "middle": "b"}}}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400",
        ),
        (
            "id in a relationship as number",
            b'{"fields": {"$name": "A"}, "relationships": {"$owner": 5}}',
            lambda r: lf_error(r, 400, code="invalid_type"),
            "400 invalid_type",
        ),
        (
            "nested relationship object on create",
            b'{"fields": {"$name": "A"}, "relationships": {"$owner": {"add": "mem_ava"}}}',
            lambda r: lf_error(r, 400),
            "400 (create takes ids)",
        ),
        (
            "writing read-only $accountStatus",
            b'{"fields": {"$name": "A", "$accountStatus": "x"}}',
            lambda r: lf_error(r, 400),
            "400",
        ),
        (
            "BOM before the JSON",
            b'\xef\xbb\xbf{"fields": {"$name": "A"}}',
            lambda r: r.status_code in (400, 415) and lf_error(r, r.status_code),
            "400/415",
        ),
        (
            "invalid UTF-8 in a string",
            b'{"fields": {"$name": "\xff\xfe"}}',
            lambda r: r.status_code in (400, 415) and lf_error(r, r.status_code),
            "400/415",
        ),
        (
            "trailing garbage",
            b'{"fields": {"$name": "A"}} x',
            lambda r: r.status_code in (400, 415) and lf_error(r, r.status_code),
            "400/415",
        ),
        (
            "empty object",
            b"{}",
            lambda r: lf_error(r, 400, code="parameter_missing"),
            "400 parameter_missing",
        ),
    ]
    for name, body_bytes, good, expected in json_cases:
        att.run(
            cat, f"JSON {name}", expected, lambda b=body_bytes, g=good: (g(r := post_raw(b)), describe(r))
        )
    att.run(
        cat,
        "task: unknown field (additionalProperties false)",
        "400 unknown_field",
        lambda: (
            lf_error(
                r := lf.a_req(
                    "POST",
                    "/v1/tasks",
                    json={
                        "fields": {"$title": "T", "$status": "TODO", "priority": "high"},
                        "relationships": {"$assignedTo": "mem_ava"},
                    },
                ),
                400,
                code="unknown_field",
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "note: unknown relationship $contact",
        "400 unknown_relationship",
        lambda: (
            lf_error(
                r := lf.a_req(
                    "POST", "/v1/notes", json={"fields": {"$title": "T"}, "relationships": {"$contact": con}}
                ),
                400,
            ),
            describe(r),
        ),
    )

    def nan_stays_out() -> tuple[bool, str]:
        r = post_raw(b'{"fields": {"$name": "NaN probe", "employeeCount": NaN}}')
        listing = lf.a_req("GET", "/v1/accounts", params={"limit": 25})
        json_body(listing)  # raises when a NaN got stored and is sent back
        return r.status_code == 400, describe(r)

    att.run(cat, "NaN never comes back in a list", "lists stay valid JSON", nan_stays_out)

    # size
    cat = "lf/size"

    def timed(
        fn: Callable[[], httpx.Response], ok: Callable[[httpx.Response], bool], limit: float = 8.0
    ) -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            t0 = time.monotonic()
            r = fn()
            took = time.monotonic() - t0
            return ok(r) and took < limit, f"{describe(r)[:60]} in {took:.2f}s"

        return go

    big = 64 * 1024 * 1024
    att.run(
        cat,
        "64 MB body with Content-Length",
        "413 envelope, fast",
        timed(lambda: post_raw(b'{"fields": {"$name": "' + b"a" * big + b'"}}'), lambda r: lf_error(r, 413)),
    )

    def chunked_huge() -> Iterator[bytes]:
        yield b'{"fields": {"$name": "'
        for _ in range(64):
            yield b"a" * (1024 * 1024)
        yield b'"}}'

    att.run(
        cat,
        "64 MB chunked body",
        "413 envelope, fast",
        timed(
            lambda: lf.a_req(
                "POST", "/v1/accounts", content=chunked_huge(), headers={"Content-Type": "application/json"}
            ),
            lambda r: lf_error(r, 413),
        ),
    )
    att.run(
        cat,
        "1 MB $name",
        "200 or 4xx envelope",
        timed(
            lambda: lf.a_req("POST", "/v1/accounts", json={"fields": {"$name": "n" * 1_000_000}}),
            lambda r: r.status_code == 200 or (400 <= r.status_code < 500 and lf_error(r, r.status_code)),
        ),
    )
    att.run(
        cat,
        "10 000 unknown fields",
        "400 unknown_field",
        timed(
            lambda: lf.a_req(
                "POST", "/v1/accounts", json={"fields": {"$name": "x", **{f"f{i}": i for i in range(10_000)}}}
            ),
            lambda r: lf_error(r, 400, code="unknown_field"),
        ),
    )
    att.run(
        cat,
        "10 000 websites",
        "200 or 4xx envelope",
        timed(
            lambda: lf.a_req(
                "POST",
                "/v1/accounts",
                json={
                    "fields": {"$name": "x", "$website": [f"https://w{i}.example.com" for i in range(10_000)]}
                },
            ),
            lambda r: r.status_code == 200 or (400 <= r.status_code < 500 and lf_error(r, r.status_code)),
        ),
    )
    att.run(
        cat,
        "10 000 industries",
        "200 or 4xx envelope",
        timed(
            lambda: lf.a_req(
                "POST",
                "/v1/accounts",
                json={"fields": {"$name": "x", "$industry": ["opt_industry_software"] * 10_000}},
            ),
            lambda r: r.status_code == 200 or (400 <= r.status_code < 500 and lf_error(r, r.status_code)),
        ),
    )
    att.run(
        cat,
        "10 000 relationship ids",
        "422 relationship_write_limit_exceeded",
        timed(
            lambda: lf.a_req(
                "POST",
                "/v1/accounts",
                json={"fields": {"$name": "x"}, "relationships": {"$contact": [con] * 10_000}},
            ),
            lambda r: lf_error(r, 422, code="relationship_write_limit_exceeded"),
        ),
    )
    page_params = {
        "limit=10^100": {"limit": "1" + "0" * 100},
        "limit=26": {"limit": "26"},
        "limit=0": {"limit": "0"},
        "limit=-1": {"limit": "-1"},
        "limit=abc": {"limit": "abc"},
        "limit=2.5": {"limit": "2.5"},
        "limit=1_0 (Python int literal)": {"limit": "1_0"},
        "limit=+5": {"limit": "+5"},
        "limit=' 5' (spaces)": {"limit": " 5"},
        "limit=Arabic-Indic ٥": {"limit": "\u0665"},
        "limit empty": {"limit": ""},
        "offset=-1": {"offset": "-1"},
        "offset=abc": {"offset": "abc"},
        "offset=1e3": {"offset": "1e3"},
        "offset=10^100": {"offset": "1" + "0" * 100},
        "offset=2^53 (above the schema maximum)": {"offset": str(2**53)},
        "offset=0x10": {"offset": "0x10"},
    }
    for name, params in page_params.items():
        att.run(
            cat,
            f"list {name}",
            "400 invalid_type",
            lambda p=params: (
                lf_error(r := lf.a_req("GET", "/v1/accounts", params=p), 400, code="invalid_type"),
                describe(r),
            ),
        )
    att.run(
        cat,
        "list limit=5&limit=30 (repeated)",
        "400",
        lambda: (lf_error(r := lf.a_req("GET", "/v1/accounts?limit=5&limit=30"), 400), describe(r)),
    )
    att.run(
        cat,
        "list offset=2^53-1",
        "200, empty page",
        lambda: (
            (r := lf.a_req("GET", "/v1/accounts", params={"offset": str(2**53 - 1)})).status_code == 200
            and r.json()["data"] == [],
            describe(r),
        ),
    )
    att.run(
        cat,
        "2 000 query parameters",
        "400 envelope",
        lambda: (
            lf_error(
                r := lf.a_req("GET", "/v1/accounts?" + "&".join(f"f{i}[equal]=x" for i in range(2_000))), 400
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "60 KB query string, 5 000 filters (raw)",
        "answered (200 empty / 4xx), server alive",
        lambda: (
            (
                got := raw_get(
                    lf.url,
                    "/v1/accounts?" + "&".join(f"$name[equal]={i}" for i in range(5_000)),
                    {"Authorization": f"Bearer {a_key}", "Lightfield-Version": VERSION},
                )
            )[0]
            in (200, 400, 414, 431)
            and (got[0] != 200 or got[1]["totalCount"] == 0)
            and lf.a_req("GET", "/v1/accounts", params={"limit": 1}).status_code == 200,
            str(got)[:80],
        ),
    )
    att.run(
        cat,
        "empty Idempotency-Key",
        "400 (param Idempotency-Key)",
        lambda: (
            lf_error(
                r := lf.a_req(
                    "POST", "/v1/accounts", json={"fields": {"$name": "x"}}, headers={"Idempotency-Key": ""}
                ),
                400,
            )
            and r.json()["error"].get("param") == "Idempotency-Key",
            describe(r),
        ),
    )
    att.run(
        cat,
        "Idempotency-Key of 255 chars",
        "200",
        lambda: (
            (
                r := lf.a_req(
                    "POST",
                    "/v1/accounts",
                    json={"fields": {"$name": "x"}},
                    headers={"Idempotency-Key": "k" * 255 + tag[:0]},
                )
            ).status_code
            == 200,
            describe(r),
        ),
    )
    att.run(
        cat,
        "Idempotency-Key of 256 chars",
        "400 idempotency_key_too_long",
        lambda: (
            lf_error(
                r := lf.a_req(
                    "POST",
                    "/v1/accounts",
                    json={"fields": {"$name": "x"}},
                    headers={"Idempotency-Key": "k" * 256},
                ),
                400,
                code="idempotency_key_too_long",
            ),
            describe(r),
        ),
    )

    # protocol
    cat = "lf/protocol"
    ctypes = {
        "text/plain": ("text/plain", 415),
        "application/x-www-form-urlencoded": ("application/x-www-form-urlencoded", 415),
        "application/jsonx": ("application/jsonx", 415),
        "application/json-patch+json": ("application/json-patch+json", 415),
        "no content type": (None, 415),
        "multipart/form-data": ("multipart/form-data; boundary=x", 415),
    }
    for name, (ctype, status) in ctypes.items():
        headers = {"Content-Type": ctype} if ctype else {}
        att.run(
            cat,
            f"create with {name}",
            f"{status} unsupported_media_type",
            lambda h=headers, s=status: (
                lf_error(
                    r := lf.a_req("POST", "/v1/accounts", content=b'{"fields": {"$name": "x"}}', headers=h),
                    s,
                    "unsupported_media_type",
                ),
                describe(r),
            ),
        )
    att.run(
        cat,
        "create with 'Application/JSON; charset=utf-8'",
        "200 (media types ignore case)",
        lambda: (
            (
                r := lf.a_req(
                    "POST",
                    "/v1/accounts",
                    content=b'{"fields": {"$name": "x"}}',
                    headers={"Content-Type": "Application/JSON; charset=utf-8"},
                )
            ).status_code
            == 200,
            describe(r),
        ),
    )

    def two_ctypes() -> tuple[bool, str]:
        body = '{"fields":{"$name":"x"}}'
        raw = raw_request(
            lf.url,
            (
                "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + a_key
                + "\r\nLightfield-Version: 2026-03-01\r\nContent-Type: text/plain\r\nContent-Type: application/json"
                + f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                + body
            ).encode(),
        )
        return raw_status(raw) == 415, str(raw_status(raw))

    att.run(cat, "two Content-Type headers, text then JSON (raw)", "415 (no single media type)", two_ctypes)
    att.run(
        cat,
        "create with no body",
        "415 (a body that is not JSON)",
        lambda: (lf_error(r := post_raw(b""), 415), describe(r)),
    )
    att.run(
        cat,
        "update with no body",
        "415",
        lambda: (lf_error(r := post_raw(b"", f"/v1/accounts/{acc}"), 415), describe(r)),
    )
    att.run(
        cat,
        "chunked JSON body",
        "200",
        lambda: (
            (
                r := lf.a_req(
                    "POST",
                    "/v1/accounts",
                    content=iter([b'{"fields": ', b'{"$name": "chunked"}}']),
                    headers={"Content-Type": "application/json"},
                )
            ).status_code
            == 200,
            describe(r),
        ),
    )

    def slow_body() -> tuple[bool, str]:
        u = httpx.URL(lf.url)
        s = socket.create_connection((u.host, u.port), timeout=TIMEOUT)
        try:
            s.sendall(
                b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + a_key.encode()
                + b"\r\nLightfield-Version: 2026-03-01\r\nContent-Type: application/json\r\n"
                + b'Content-Length: 1000\r\n\r\n{"fields":'
            )
            t0 = time.monotonic()
            other = lf.a_req("GET", "/v1/accounts", params={"limit": 1})
            took = time.monotonic() - t0
            return other.status_code == 200 and took < 2, f"other request {other.status_code} in {took:.2f}s"
        finally:
            s.close()

    att.run(cat, "slowloris: partial body held open", "other requests still answered", slow_body)

    def many_slow() -> tuple[bool, str]:
        u = httpx.URL(lf.url)
        socks = []
        try:
            for _ in range(100):
                s = socket.create_connection((u.host, u.port), timeout=TIMEOUT)
                s.sendall(b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
                socks.append(s)
            t0 = time.monotonic()
            other = lf.a_req("GET", "/v1/accounts", params={"limit": 1})
            took = time.monotonic() - t0
            return other.status_code == 200 and took < 2, f"{other.status_code} in {took:.2f}s with 100 held"
        finally:
            for s in socks:
                s.close()

    att.run(cat, "100 partial bodies held open", "other requests still answered", many_slow)
    for method in ("HEAD", "OPTIONS", "TRACE", "PUT", "PATCH", "CONNECT"):
        att.run(
            cat,
            f"{method} /v1/accounts",
            "404 envelope (no such operation), no echo of the key",
            lambda m=method: (
                (r := lf.a_req(m, "/v1/accounts")).status_code in (404, 405)
                and (m == "HEAD" or lf_error(r, r.status_code))
                and a_key not in r.text,
                describe(r),
            ),
        )
    paths = {
        "encoded traversal %2e%2e": "/v1/accounts/%2e%2e/members",
        "encoded slash in id": f"/v1/accounts/{acc}%2Fdefinitions",
        "encoded slash in collection": "/v1/accounts%2Fdefinitions",
        "double slash": "//v1//accounts",
        "trailing slash (strict)": "/v1/accounts/",
        "upper-case V1": "/V1/accounts",
        "upper-case collection": "/v1/Accounts",
        "backslash": "/v1\\accounts",
        "semicolon path param": f"/v1/accounts/{acc};x=1",
        "id with NUL": f"/v1/accounts/{acc}%00",
        "unicode id": "/v1/accounts/%F0%9F%98%80",
        "invalid UTF-8 id": "/v1/accounts/%FF%FE",
        "very long id": "/v1/accounts/" + "a" * 10_000,
    }
    for name, path in paths.items():
        att.run(
            cat,
            f"GET {name}",
            "404 envelope",
            lambda p=path: (lf_error(r := lf.a_req("GET", p), 404), describe(r)),
        )
    for name, target in {
        "path traversal ..": "/v1/accounts/../members",
        "traversal to another id": f"/v1/accounts/{acc}/../{b_acc}",
        "dot segment": "/v1/./accounts",
    }.items():
        att.run(
            cat,
            f"GET {name} (raw)",
            "404 envelope",
            lambda t=target: (
                (
                    got := raw_get(
                        lf.url, t, {"Authorization": f"Bearer {a_key}", "Lightfield-Version": VERSION}
                    )
                )[0]
                == 404
                and got[1]["error"]["type"] == "not_found",
                str(got)[:80],
            ),
        )
    att.run(
        cat,
        "GET own record by id still works",
        "200",
        lambda: ((r := lf.a_req("GET", f"/v1/accounts/{acc}")).status_code == 200, describe(r)),
    )

    def http10() -> tuple[bool, str]:
        raw = raw_request(lf.url, b"GET /v1/accounts HTTP/1.0\r\n\r\n")
        return raw_status(raw) == 401 and "error" in raw_json(raw), raw[:30].decode("latin-1")

    att.run(cat, "HTTP/1.0 request without Host", "401 envelope", http10)

    def garbage_request() -> tuple[bool, str]:
        raw_request(lf.url, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 100)
        alive = lf.a_req("GET", "/v1/accounts", params={"limit": 1}).status_code == 200
        return alive, f"alive={alive}"

    att.run(cat, "TLS handshake to the HTTP port", "server alive", garbage_request)

    # idempotency
    cat = "lf/idempotency"

    def idem_same() -> tuple[bool, str]:
        k = f"same-{tag}"
        one = lf.a_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "I"}}, headers={"Idempotency-Key": k}
        )
        two = lf.a_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "I"}}, headers={"Idempotency-Key": k}
        )
        return (
            one.status_code == two.status_code == 200 and one.content == two.content,
            f"{one.status_code}/{two.status_code}",
        )

    att.run(cat, "same key, same body", "the first answer replayed", idem_same)

    def idem_diff() -> tuple[bool, str]:
        k = f"diff-{tag}"
        one = lf.a_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "I1"}}, headers={"Idempotency-Key": k}
        )
        two = lf.a_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "I2"}}, headers={"Idempotency-Key": k}
        )
        return one.status_code == 200 and lf_error(two, 422, code="idempotency_key_reused"), describe(two)

    att.run(cat, "same key, different body (strict)", "422 idempotency_key_reused", idem_diff)

    def idem_other_record() -> tuple[bool, str]:
        k = f"rec-{tag}"
        one = lf.a_req(
            "POST",
            f"/v1/accounts/{acc}",
            json={"fields": {"$name": f"A-{tag}"}},
            headers={"Idempotency-Key": k},
        )
        two = lf.a_req(
            "POST",
            f"/v1/accounts/{b_acc}",
            json={"fields": {"$name": f"A-{tag}"}},
            headers={"Idempotency-Key": k},
        )
        return one.status_code == 200 and (lf_error(two, 422) or lf_error(two, 404)), describe(two)

    att.run(cat, "same key, same body, other record id", "422 (or 404: not A's)", idem_other_record)

    def idem_per_operation() -> tuple[bool, str]:
        k = f"op-{tag}"
        one = lf.a_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "X"}}, headers={"Idempotency-Key": k}
        )
        two = lf.a_req("POST", "/v1/contacts", json={"fields": {}}, headers={"Idempotency-Key": k})
        return (
            one.status_code == two.status_code == 200 and two.json()["id"].startswith("con_")
        ), f"{one.status_code}/{describe(two)[:40]}"

    att.run(cat, "same key on another operation", "both run (keys are per operation)", idem_per_operation)

    def idem_concurrent() -> tuple[bool, str]:
        k = f"conc-{tag}"
        lf.server.set_faults(lf.a.org_id, latency_ms=300)
        try:
            before = lf.server.count(lf.a.org_id, "account")
            with ThreadPoolExecutor(8) as pool:
                rs = list(
                    pool.map(
                        lambda _: lf.a_req(
                            "POST",
                            "/v1/accounts",
                            json={"fields": {"$name": "C"}},
                            headers={"Idempotency-Key": k},
                        ),
                        range(8),
                    )
                )
        finally:
            lf.server.set_faults(lf.a.org_id, latency_ms=0)
        made = lf.server.count(lf.a.org_id, "account") - before
        statuses = sorted(r.status_code for r in rs)
        ids = {r.json()["id"] for r in rs if r.status_code == 200}
        ok = (
            made == 1
            and len(ids) == 1
            and set(statuses) <= {200, 409}
            and all(lf_error(r, 409, code="idempotency_conflict") for r in rs if r.status_code == 409)
        )
        return ok, f"created={made} statuses={statuses}"

    att.run(cat, "8 concurrent requests, one key", "one record; others 409 or replay", idem_concurrent)

    def unique_race() -> tuple[bool, str]:
        ext = f"RACE-{tag}"
        with ThreadPoolExecutor(16) as pool:
            rs = list(
                pool.map(
                    lambda i: lf.a_req(
                        "POST", "/v1/accounts", json={"fields": {"$name": f"R{i}", "external_id": ext}}
                    ),
                    range(16),
                )
            )
        wins = [r for r in rs if r.status_code == 200]
        losers_ok = all(lf_error(r, 422, code="duplicate_value") for r in rs if r.status_code != 200)
        found = lf.a_req("GET", "/v1/accounts", params={"external_id[equal]": ext}).json()["totalCount"]
        return len(wins) == 1 and losers_ok and found == 1, f"wins={len(wins)} found={found}"

    att.run(
        cat,
        "16 threads create the same external_id",
        "exactly one 200, others 422 duplicate_value",
        unique_race,
    )

    def unique_update_race() -> tuple[bool, str]:
        ext = f"URACE-{tag}"
        ids = [lf.make(a_key, "/v1/accounts", {"fields": {"$name": f"U{i}"}}) for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            rs = list(
                pool.map(
                    lambda i: lf.a_req("POST", f"/v1/accounts/{i}", json={"fields": {"external_id": ext}}),
                    ids,
                )
            )
        wins = sum(r.status_code == 200 for r in rs)
        return wins == 1, f"wins={wins}"

    att.run(
        cat, "8 threads update different records to one external_id", "exactly one wins", unique_update_race
    )

    def idem_failed_then_fixed() -> tuple[bool, str]:
        k = f"fail-{tag}"
        one = lf.a_req("POST", "/v1/accounts", json={"fields": {"bogus": 1}}, headers={"Idempotency-Key": k})
        two = lf.a_req(
            "POST", "/v1/accounts", json={"fields": {"$name": "fixed"}}, headers={"Idempotency-Key": k}
        )
        return one.status_code == 400 and two.status_code == 200, f"{one.status_code}/{two.status_code}"

    att.run(cat, "failed original is not cached", "400 then 200", idem_failed_then_fixed)

    # rate limits
    cat = "lf/rate-limit"
    c = lf.server.create_org(seed="demo", records=False)
    d = lf.server.create_org(seed="demo", records=False)
    lf.server.set_rate_limit(c.org_id, per_second=2, burst=3)
    c2 = lf.server.mint_key(c.org_id, ["accounts:read"])

    def per_org() -> tuple[bool, str]:
        first = [lf.req("GET", "/v1/accounts", c.api_key).status_code for _ in range(4)]
        other_key = lf.req("GET", "/v1/accounts", c2)
        other_org = lf.req("GET", "/v1/accounts", d.api_key)
        ok = 429 in first and lf_error(other_key, 429, "too_many_requests") and other_org.status_code == 200
        return ok, f"{first} other key {other_key.status_code} other org {other_org.status_code}"

    att.run(cat, "second key of a limited org", "429 (limits are per org); other org 200", per_org)

    def r429_headers() -> tuple[bool, str]:
        r = lf.req("GET", "/v1/accounts", c.api_key)
        ok = (
            lf_error(r, 429, "too_many_requests")
            and lf_rate_headers(r)
            and r.headers.get("Retry-After", "").isdigit()
        )
        return ok, f"{r.status_code} Retry-After={r.headers.get('Retry-After')}"

    att.run(cat, "429 carries Retry-After and X-RateLimit-*", "all present", r429_headers)
    header_cases = {
        "200": lambda: lf.a_req("GET", "/v1/accounts", params={"limit": 1}),
        "400 bad body": lambda: lf.a_req("POST", "/v1/accounts", json={"fields": {"bogus": 1}}),
        "400 version": lambda: lf.req("GET", "/v1/accounts", a_key, version=False),
        "401": lambda: lf.req("GET", "/v1/accounts", "nope"),
        "403": lambda: lf.req("POST", "/v1/accounts", lf.read_only, json={"fields": {"$name": "x"}}),
        "404 path": lambda: lf.a_req("GET", "/v1/nothing"),
        "404 record": lambda: lf.a_req("GET", "/v1/accounts/acc_missing"),
        "415": lambda: lf.a_req("POST", "/v1/accounts", content=b"x"),
        "422": lambda: lf.a_req("POST", "/v1/accounts", json={"fields": {}}),
        "413": lambda: post_raw(b'{"fields": {"$name": "' + b"a" * (33 * 1024 * 1024) + b'"}}'),
    }
    for name, fn in header_cases.items():
        att.run(
            cat,
            f"X-RateLimit-* on {name}",
            "present",
            lambda f=fn: (lf_rate_headers(r := f()), describe(r)[:50]),
        )

    def server_bug_headers() -> tuple[bool, str]:
        original = lf.server.sandbox.create

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("bug")

        lf.server.sandbox.create = broken  # type: ignore[method-assign]
        try:
            r = lf.a_req("POST", "/v1/accounts", json={"fields": {"$name": "x"}})
        finally:
            lf.server.sandbox.create = original  # type: ignore[method-assign]
        return lf_error(r, 500, "internal_server_error") and lf_rate_headers(r), describe(r)

    att.run(cat, "X-RateLimit-* on a 500 (server bug)", "500 envelope + headers", server_bug_headers)


# --- the Close sandbox ------------------------------------------------------------------------------------
class Close:
    def __init__(self, server: CloseSandboxServer) -> None:
        self.server = server
        self.url = server.url
        self.a = server.create_org(seed="demo")
        self.b = server.create_org(seed="demo")
        for org in (self.a, self.b):
            server.set_rate_limit(org.org_id, per_second=10_000, search_per_second=10_000)
            server.set_faults(org.org_id, index_lag_ms=0)
        self.client = httpx.Client(base_url=server.api_url, timeout=TIMEOUT)

    def req(self, method: str, path: str, key: str | None, **kw: Any) -> httpx.Response:
        auth = (key, "") if key is not None else None
        return self.client.request(method, path, auth=auth, **kw)

    def a_req(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.req(method, path, self.a.api_key, **kw)

    def b_req(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.req(method, path, self.b.api_key, **kw)

    def make(self, key: str, path: str, body: dict[str, Any]) -> str:
        r = self.req("POST", path, key, json=body)
        if r.status_code not in (200, 201):
            raise RuntimeError(f"setup POST {path} failed: {describe(r)}")
        return str(r.json()["id"])


def close_rate(r: httpx.Response) -> bool:
    return "ratelimit" in {k.lower() for k in r.headers}


def close_probes(att: Attack, cl: Close) -> None:
    a_key, b_key = cl.a.api_key, cl.b.api_key
    tag = uuid.uuid4().hex[:8]
    lead = cl.make(a_key, "/lead/", {"name": f"A-{tag}", "custom.cf_DemoLeadExternalId": f"EXT-{tag}"})
    contact = cl.make(
        a_key, "/contact/", {"lead_id": lead, "name": "Ann A", "emails": [{"email": f"a{tag}@x.test"}]}
    )
    opp = cl.make(a_key, "/opportunity/", {"lead_id": lead, "value": 100})
    field = cl.make(a_key, "/custom_field/lead/", {"name": f"Secret {tag}", "type": "text"})
    status = cl.make(a_key, "/status/lead/", {"label": f"Hidden {tag}"})
    pipe = cl.make(a_key, "/pipeline/", {"name": f"Pipe {tag}"})
    export = cl.make(a_key, "/export/lead/", {"format": "json", "type": "leads"})
    b_lead = cl.make(b_key, "/lead/", {"name": f"B-{tag}"})
    a_ids = {"lead": lead, "contact": contact, "opportunity": opp}

    cat = "close/auth"

    def auth(headers: dict[str, str], path: str = "/me/") -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            r = cl.client.get(path, headers=headers)
            return close_error(r, 401) and isinstance(r.json().get("error"), str), describe(r)

        return go

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode()

    att.run(cat, "no Authorization", "401 {error}", auth({}))
    att.run(cat, "empty Authorization", "401", auth({"Authorization": ""}))
    att.run(cat, "Basic garbage base64", "401", auth({"Authorization": "Basic !!!"}))
    att.run(cat, "Basic without colon", "401", auth({"Authorization": f"Basic {b64(a_key)}"}))
    att.run(cat, "Basic key as password", "401", auth({"Authorization": f"Basic {b64(':' + a_key)}"}))
    att.run(cat, "Basic key with a password", "401", auth({"Authorization": f"Basic {b64(a_key + ':pw')}"}))
    att.run(cat, "Basic unknown key", "401", auth({"Authorization": f"Basic {b64('api_nope:')}"}))
    att.run(cat, "Basic key + trailing space", "401", auth({"Authorization": f"Basic {b64(a_key + ' :')}"}))
    att.run(cat, "Basic key + NUL", "401", auth({"Authorization": f"Basic {b64(a_key + chr(0) + ':')}"}))
    att.run(cat, "Basic key + unicode", "401", auth({"Authorization": f"Basic {b64(a_key + 'é:')}"}))
    att.run(
        cat,
        "Basic latin-1 garbage bytes",
        "401",
        auth({"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:").decode()}),
    )
    att.run(cat, "Bearer unknown", "401", auth({"Authorization": "Bearer nope"}))
    att.run(cat, "Digest scheme", "401", auth({"Authorization": f"Digest {a_key}"}))
    att.run(cat, "key alone", "401", auth({"Authorization": a_key}))
    att.run(cat, "no key on a list", "401", auth({}, "/lead/"))
    att.run(
        cat,
        "no key on POST",
        "401",
        lambda: (close_error(r := cl.client.post("/lead/", json={"name": "x"}), 401), describe(r)),
    )
    att.run(
        cat,
        "Basic valid (control)",
        "200",
        lambda: ((r := cl.a_req("GET", "/me/")).status_code == 200, describe(r)),
    )

    def close_long_header() -> tuple[bool, str]:
        raw = raw_request(
            cl.url,
            b"GET /api/v1/me/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
            + b"A" * 1_000_000
            + b"\r\nConnection: close\r\n\r\n",
        )
        alive = cl.a_req("GET", "/me/").status_code == 200
        return raw_status(raw) in (0, 400, 401, 431) and alive, f"{raw_status(raw)} alive={alive}"

    att.run(cat, "1 MB Authorization", "4xx or closed, alive", close_long_header)
    att.run(
        cat,
        "two Authorization headers, valid first (raw)",
        "401",
        lambda: (
            (
                got := raw_get(
                    cl.url,
                    "/api/v1/me/",
                    {
                        "Authorization": f"Basic {b64(a_key + ':')}\r\nAuthorization: Basic "
                        + b64("api_nope:")
                    },
                )
            )[0]
            == 401,
            str(got)[:60],
        ),
    )
    att.run(
        cat,
        "A's and B's keys in two headers (raw)",
        "401",
        lambda: (
            (
                got := raw_get(
                    cl.url,
                    "/api/v1/me/",
                    {
                        "Authorization": f"Basic {b64(a_key + ':')}\r\nAuthorization: Basic "
                        + b64(b_key + ":")
                    },
                )
            )[0]
            == 401,
            str(got)[:60],
        ),
    )
    att.run(cat, "10 KB Basic value", "401", auth({"Authorization": f"Basic {b64('k' * 7000 + ':')}"}))

    # cross-org
    cat = "close/cross-org"
    for rtype, rid in a_ids.items():
        att.run(
            cat,
            f"B retrieves A's {rtype}",
            "404",
            lambda t=rtype, i=rid: (close_error(r := cl.b_req("GET", f"/{t}/{i}/"), 404), describe(r)),
        )
        att.run(
            cat,
            f"B updates A's {rtype}",
            "404",
            lambda t=rtype, i=rid: (
                close_error(
                    r := cl.b_req(
                        "PUT",
                        f"/{t}/{i}/",
                        json={"note": "pwned"} if t == "opportunity" else {"name": "pwned"},
                    ),
                    404,
                ),
                describe(r),
            ),
        )
        att.run(
            cat,
            f"B deletes A's {rtype}",
            "404",
            lambda t=rtype, i=rid: (close_error(r := cl.b_req("DELETE", f"/{t}/{i}/"), 404), describe(r)),
        )
    for kind_path in (
        f"/custom_field/lead/{field}/",
        f"/status/lead/{status}/",
        f"/pipeline/{pipe}/",
        f"/export/{export}/",
    ):
        method = "GET" if kind_path.startswith(("/pipeline", "/export", "/custom")) else "PUT"
        att.run(
            cat,
            f"B {method} A's {kind_path.split('/')[1]}",
            "404",
            lambda p=kind_path, m=method: (
                close_error(r := cl.b_req(m, p, **({"json": {"label": "x"}} if m == "PUT" else {})), 404),
                describe(r),
            ),
        )
    for kind_path in (f"/custom_field/lead/{field}/", f"/status/lead/{status}/", f"/pipeline/{pipe}/"):
        att.run(
            cat,
            f"B deletes A's {kind_path.split('/')[1]}",
            "404",
            lambda p=kind_path: (close_error(r := cl.b_req("DELETE", p), 404), describe(r)),
        )
    att.run(
        cat,
        "B lists opportunities with lead_id of A",
        "200 empty or 400",
        lambda: (
            (
                (r := cl.b_req("GET", "/opportunity/", params={"lead_id": lead})).status_code == 200
                and r.json()["data"] == []
            )
            or close_error(r, 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B lists contacts with lead_id of A",
        "200 empty or 400",
        lambda: (
            (
                (r := cl.b_req("GET", "/contact/", params={"lead_id": lead})).status_code == 200
                and r.json()["data"] == []
            )
            or close_error(r, 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B creates a contact on A's lead",
        "400 field-errors",
        lambda: (
            close_error(r := cl.b_req("POST", "/contact/", json={"lead_id": lead, "name": "x"}), 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B creates an opportunity on A's lead",
        "400",
        lambda: (
            close_error(r := cl.b_req("POST", "/opportunity/", json={"lead_id": lead}), 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B moves its contact to A's lead",
        "400",
        lambda: (
            close_error(
                r := cl.b_req(
                    "PUT",
                    f"/contact/{cl.make(b_key, '/contact/', {'lead_id': b_lead})}/",
                    json={"lead_id": lead},
                ),
                400,
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B writes A's custom field id",
        "400",
        lambda: (
            close_error(r := cl.b_req("PUT", f"/lead/{b_lead}/", json={f"custom.{field}": "x"}), 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B sets A's lead status",
        "400",
        lambda: (
            close_error(r := cl.b_req("PUT", f"/lead/{b_lead}/", json={"status_id": status}), 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "B creates an opp in A's pipeline",
        "400",
        lambda: (
            close_error(
                r := cl.b_req("POST", "/opportunity/", json={"lead_id": b_lead, "pipeline_id": pipe}), 400
            ),
            describe(r),
        ),
    )

    def expect(status: int, r: httpx.Response) -> tuple[bool, str]:
        return close_error(r, status), describe(r)

    a_opp_status = cl.make(
        a_key,
        "/status/opportunity/",
        {"label": f"Secret {tag}", "type": "active", "pipeline_id": "pipe_DemoSales"},
    )
    b_pipe = cl.make(b_key, "/pipeline/", {"name": f"B pipe {tag}"})
    att.run(
        cat,
        "B moves A's opportunity status into its pipeline",
        "400 (or 404), A's status kept",
        lambda: (
            (
                expect(
                    400,
                    r := cl.b_req("PUT", f"/pipeline/{b_pipe}/", json={"statuses": [{"id": a_opp_status}]}),
                )[0]
                or close_error(r, 404)
            )
            and a_opp_status in cl.a_req("GET", "/pipeline/pipe_DemoSales/").text,
            describe(r),
        ),
    )
    att.run(
        cat,
        "B creates an opp with A's opportunity status",
        "400",
        lambda: expect(
            400, cl.b_req("POST", "/opportunity/", json={"lead_id": b_lead, "status_id": a_opp_status})
        ),
    )
    att.run(
        cat,
        "B creates an opp with A's contact",
        "400",
        lambda: expect(
            400, cl.b_req("POST", "/opportunity/", json={"lead_id": b_lead, "contact_id": contact})
        ),
    )
    att.run(
        cat,
        "B associates A's shared field",
        "404",
        lambda: expect(
            404,
            cl.b_req(
                "POST",
                f"/custom_field/shared/{cl.make(a_key, '/custom_field/shared/', {'name': f'S{tag}', 'type': 'text'})}/association/",
                json={"object_type": "lead"},
            ),
        ),
    )

    def contact_field() -> tuple[bool, str]:
        fid = cl.make(b_key, "/custom_field/lead/", {"name": f"Champion {tag}", "type": "contact"})
        return expect(400, cl.b_req("PUT", f"/lead/{b_lead}/", json={f"custom.{fid}": contact}))

    att.run(cat, "B points a contact-type field at A's contact", "400", contact_field)

    att.run(
        cat,
        "B reads A's organization",
        "404",
        lambda: expect(404, cl.b_req("GET", f"/organization/{cl.a.org_id}/")),
    )
    att.run(
        cat,
        "B's users list names only B's organization",
        "A's org id absent",
        lambda: (
            cl.a.org_id not in (r := cl.b_req("GET", "/user/")).text and r.status_code == 200,
            describe(r),
        ),
    )

    def search_leak() -> tuple[bool, str]:
        body = {
            "query": {
                "type": "and",
                "queries": [
                    {"type": "object_type", "object_type": "lead"},
                    {
                        "type": "field_condition",
                        "field": {"type": "regular_field", "object_type": "lead", "field_name": "name"},
                        "condition": {"type": "text", "mode": "full_words", "value": f"A-{tag}"},
                    },
                ],
            }
        }
        r = cl.b_req("POST", "/data/search/", json=body)
        return r.status_code == 200 and r.json()["data"] == [], describe(r)

    att.run(cat, "B searches for A's lead name", "200, nothing", search_leak)

    def search_id_leak() -> tuple[bool, str]:
        body = {
            "query": {
                "type": "and",
                "queries": [
                    {"type": "object_type", "object_type": "lead"},
                    {
                        "type": "field_condition",
                        "field": {"type": "regular_field", "object_type": "lead", "field_name": "id"},
                        "condition": {"type": "reference", "reference_type": "lead", "object_ids": [lead]},
                    },
                ],
            }
        }
        r = cl.b_req("POST", "/data/search/", json=body)
        return (r.status_code == 200 and r.json()["data"] == []) or close_error(r, 400), describe(r)

    att.run(cat, "B searches for A's lead id", "200 nothing or 400", search_id_leak)

    def export_leak() -> tuple[bool, str]:
        ex = cl.b_req("POST", "/export/lead/", json={"format": "json", "type": "leads"}).json()
        for _ in range(50):
            doc = cl.b_req("GET", f"/export/{ex['id']}/").json()
            if doc.get("status") == "done":
                break
            time.sleep(0.1)
        got = httpx.get(doc["download_url"], timeout=TIMEOUT)
        text = got.text  # httpx undoes the gzip Content-Encoding
        if not text.lstrip().startswith(("[", "{")):
            raise ValueError(f"not the JSON export: {text[:40]!r}")
        return (
            f"A-{tag}" not in text and lead not in text,
            f"{len(text)} bytes, A's lead absent={lead not in text}",
        )

    att.run(cat, "B's lead export holds none of A's leads", "absent", export_leak)
    att.run(
        cat,
        "B lists A's export",
        "not in B's list",
        lambda: (export not in (r := cl.b_req("GET", "/export/")).text, describe(r)),
    )
    att.run(
        cat,
        "B lists custom fields",
        "A's field absent",
        lambda: (field not in (r := cl.b_req("GET", "/custom_field/lead/")).text, describe(r)),
    )

    # injection
    cat = "close/injection"
    for value in ("' OR '1'='1", "%", "_", "\\", "*"):
        att.run(
            cat,
            f"lead_id={value!r}",
            "200 empty or 400",
            lambda v=value: (
                (
                    (r := cl.a_req("GET", "/opportunity/", params={"lead_id": v})).status_code == 200
                    and r.json()["data"] == []
                )
                or close_error(r, 400),
                describe(r),
            ),
        )
    for value in ("value; DROP TABLE x", "password", "__class__", "-", "--value", "value,date_won"):
        att.run(
            cat,
            f"_order_by={value!r}",
            "400",
            lambda v=value: (
                close_error(r := cl.a_req("GET", "/opportunity/", params={"_order_by": v}), 400),
                describe(r),
            ),
        )
    att.run(
        cat,
        "_fields=__class__,__dict__",
        "200 without internals",
        lambda: (
            (r := cl.a_req("GET", f"/lead/{lead}/", params={"_fields": "__class__,__dict__"})).status_code
            == 200
            and r.json() == {},
            describe(r),
        ),
    )
    att.run(
        cat,
        "custom.<sql> key",
        "400",
        lambda: (
            close_error(r := cl.a_req("PUT", f"/lead/{lead}/", json={"custom.cf_x' OR 1=1": "x"}), 400),
            describe(r),
        ),
    )
    att.run(
        cat,
        "unknown query param",
        "400",
        lambda: (close_error(r := cl.a_req("GET", "/lead/", params={"evil": "1"}), 400), describe(r)),
    )
    for path in (f"/lead/{lead}' OR '1'='1/", "/lead/%25/", "/lead/%00/", "/lead/*/"):
        att.run(
            cat,
            f"id injection GET {path}",
            "404",
            lambda p=path: (close_error(r := cl.a_req("GET", p), 404), describe(r)),
        )

    def craw(body: bytes, path: str = "/lead/", method: str = "POST") -> httpx.Response:
        return cl.a_req(method, path, content=body, headers={"Content-Type": "application/json"})

    close_json = [
        ("duplicate keys", b'{"name": "A", "name": "B"}', 400),
        ("NaN in a number custom field", b'{"name": "A", "custom.cf_DemoLeadEmployees": NaN}', 400),
        ("Infinity opp value", b'{"value": Infinity}', 400),
        ("1e400 opp value", b'{"value": 1e400}', 400),
        ("huge int opp value", b'{"value": ' + b"9" * 40 + b"}", 400),
        ("5000-digit int", b'{"value": ' + b"9" * 5000 + b"}", 400),
        ("lone surrogate in name", b'{"name": "\\ud800"}', 400),
        ("lone surrogate key", b'{"\\udfff": 1}', 400),
        ("body is a list", b"[]", 400),
        ("body is null", b"null", 400),
        ("body is a string", b'"x"', 400),
        ("name as number", b'{"name": 5}', 400),
        ("contacts as string", b'{"name": "A", "contacts": "x"}', 400),
        ("addresses as object", b'{"name": "A", "addresses": {"city": "x"}}', 400),
        ("unknown key", b'{"name": "A", "is_admin": true}', 400),
        ("deep nesting 100k", b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
        ("deep nesting 500", b'{"name": ' + b"[" * 500 + b"]" * 500 + b"}", 400),
        ("invalid UTF-8", b'{"name": "\xff"}', 400),
    ]
    for name, body, status in close_json:
        att.run(
            cat,
            f"JSON {name}",
            f"{status} JSON body",
            lambda b=body, s=status: (close_error(r := craw(b), s), describe(r)),
        )
    att.run(
        cat,
        "JSON NaN in opp value",
        "400",
        lambda: (close_error(r := craw(b'{"value": NaN}', "/opportunity/"), 400), describe(r)),
    )
    att.run(
        cat,
        "JSON NaN confidence",
        "400",
        lambda: (close_error(r := craw(b'{"confidence": NaN}', "/opportunity/"), 400), describe(r)),
    )

    def search_deep() -> tuple[bool, str]:
        q: dict[str, Any] = {"type": "object_type", "object_type": "lead"}
        for _ in range(400):
            q = {"type": "and", "queries": [q]}
        r = cl.a_req(
            "POST",
            "/data/search/",
            content=json.dumps({"query": q}).encode(),
            headers={"Content-Type": "application/json"},
        )
        return (r.status_code == 200 or close_error(r, 400)), describe(r)

    att.run(cat, "search query nested 400 deep", "200 or 400 JSON", search_deep)
    search_bad = {
        "query string": {"query": "x"},
        "queries not a list": {"query": {"type": "and", "queries": "x"}},
        "unknown node": {"query": {"type": "sql", "sql": "SELECT 1"}},
        "limit huge": {"query": {"type": "object_type", "object_type": "lead"}, "_limit": 10**12},
        "limit negative": {"query": {"type": "object_type", "object_type": "lead"}, "_limit": -1},
        "limit string": {"query": {"type": "object_type", "object_type": "lead"}, "_limit": "10"},
        "cursor garbage": {"query": {"type": "object_type", "object_type": "lead"}, "cursor": "'; DROP"},
        "sort injection": {
            "query": {"type": "object_type", "object_type": "lead"},
            "sort": [
                {
                    "field": {"type": "regular_field", "object_type": "lead", "field_name": "name; DROP"},
                    "direction": "asc",
                }
            ],
        },
    }
    for name, body in search_bad.items():
        att.run(
            cat,
            f"search {name}",
            "400 JSON",
            lambda b=body: (close_error(r := cl.a_req("POST", "/data/search/", json=b), 400), describe(r)),
        )

    def nan_round_trip() -> tuple[bool, str]:
        craw(b'{"name": "nan", "custom.cf_DemoLeadEmployees": NaN}')
        r = cl.a_req("GET", "/lead/", params={"_limit": 100})
        json_body(r)
        return True, describe(r)[:40]

    att.run(cat, "lists stay valid JSON after a NaN write", "valid JSON", nan_round_trip)

    def surrogate_round_trip() -> tuple[bool, str]:
        craw(b'{"name": "sur\\ud800"}')
        r = cl.a_req("GET", "/lead/", params={"_limit": 100})
        json_body(r)
        return r.status_code == 200, describe(r)[:40]

    att.run(cat, "lists still answer after a lone-surrogate write", "200 JSON", surrogate_round_trip)

    # size
    cat = "close/size"

    def ctimed(
        fn: Callable[[], httpx.Response], ok: Callable[[httpx.Response], bool]
    ) -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            t0 = time.monotonic()
            r = fn()
            took = time.monotonic() - t0
            return ok(r) and took < 8, f"{describe(r)[:60]} in {took:.2f}s"

        return go

    att.run(
        cat,
        "64 MB body",
        "413 JSON, fast",
        ctimed(
            lambda: craw(b'{"name": "' + b"a" * (64 * 1024 * 1024) + b'"}'), lambda r: close_error(r, 413)
        ),
    )
    att.run(
        cat,
        "1 MB name",
        "200 or 400",
        ctimed(
            lambda: cl.a_req("POST", "/lead/", json={"name": "n" * 1_000_000}),
            lambda r: r.status_code == 200 or close_error(r, 400),
        ),
    )
    att.run(
        cat,
        "5000 nested contacts",
        "200 or 400, fast",
        ctimed(
            lambda: cl.a_req(
                "POST", "/lead/", json={"name": "many", "contacts": [{"name": f"c{i}"} for i in range(5000)]}
            ),
            lambda r: r.status_code == 200 or close_error(r, 400),
        ),
    )
    att.run(
        cat,
        "10 000 multi-choice values",
        "200 or 400",
        ctimed(
            lambda: cl.a_req("PUT", f"/lead/{lead}/", json={"custom.cf_DemoLeadIndustry": ["SaaS"] * 10_000}),
            lambda r: r.status_code == 200 or close_error(r, 400),
        ),
    )
    for name, params in {
        "_limit=10^9": {"_limit": str(10**9)},
        "_limit=10^100": {"_limit": "1" + "0" * 100},
        "_limit=-1": {"_limit": "-1"},
        "_limit=abc": {"_limit": "abc"},
        "_limit=1_0": {"_limit": "1_0"},
        "_limit=+5": {"_limit": "+5"},
        "_limit=' 5'": {"_limit": " 5"},
        "_limit=٥": {"_limit": "\u0665"},
        "_skip=-1": {"_skip": "-1"},
        "_skip=10^100": {"_skip": "1" + "0" * 100},
        "_skip=1e3": {"_skip": "1e3"},
    }.items():
        att.run(
            cat,
            f"lead list {name}",
            "400",
            lambda p=params: (close_error(r := cl.a_req("GET", "/lead/", params=p), 400), describe(r)),
        )
    att.run(
        cat,
        "override GET with _params _limit=10^9",
        "400",
        lambda: (
            close_error(
                r := cl.a_req(
                    "POST",
                    "/lead/",
                    json={"_params": {"_limit": 10**9}},
                    headers={"X-HTTP-Method-Override": "GET"},
                ),
                400,
            ),
            describe(r),
        ),
    )
    for value in ("nan", "inf", "-inf", "1e308", "99", "abc", "1_0", "1e1", "0x1"):
        att.run(
            cat,
            f"X-TZ-Offset: {value}",
            "400",
            lambda v=value: (
                close_error(r := cl.a_req("GET", "/me/", headers={"X-TZ-Offset": v}), 400),
                describe(r),
            ),
        )

    # protocol
    cat = "close/protocol"
    att.run(
        cat,
        "POST lead with text/plain",
        "415",
        lambda: (
            close_error(
                r := cl.a_req(
                    "POST", "/lead/", content=b'{"name": "x"}', headers={"Content-Type": "text/plain"}
                ),
                415,
            ),
            describe(r),
        ),
    )
    att.run(cat, "POST lead without a body", "400", lambda: (close_error(r := craw(b""), 400), describe(r)))
    att.run(
        cat,
        "PUT lead without a body",
        "400",
        lambda: (close_error(r := craw(b"", f"/lead/{lead}/", "PUT"), 400), describe(r)),
    )
    att.run(
        cat,
        "path without trailing slash",
        "404",
        lambda: (close_error(r := cl.a_req("GET", "/lead"), 404), describe(r)),
    )
    att.run(
        cat, "upper-case path", "404", lambda: (close_error(r := cl.a_req("GET", "/LEAD/"), 404), describe(r))
    )
    att.run(
        cat,
        "upper-case API prefix",
        "404",
        lambda: (
            close_error(r := cl.client.get(cl.url + "/API/V1/lead/", auth=(a_key, "")), 404),
            describe(r),
        ),
    )
    basic_a = "Basic " + base64.b64encode(f"{a_key}:".encode()).decode()
    for name, target in {
        "traversal /lead/../me/": "/api/v1/lead/../me/",
        "traversal to another id": f"/api/v1/lead/{lead}/../{b_lead}/",
        "dot segment": "/api/v1/./me/",
    }.items():
        att.run(
            cat,
            f"{name} (raw)",
            "404",
            lambda t=target: (
                (got := raw_get(cl.url, t, {"Authorization": basic_a}))[0] == 404
                and isinstance(got[1], dict)
                and "error" in got[1],
                str(got)[:80],
            ),
        )
    att.run(
        cat,
        "encoded slash in id",
        "404",
        lambda: (close_error(r := cl.a_req("GET", f"/lead/{lead}%2F"), 404), describe(r)),
    )
    att.run(
        cat,
        "encoded slash turning /lead%2F into /lead/",
        "404",
        lambda: (close_error(r := cl.a_req("GET", "/lead%2F"), 404), describe(r)),
    )
    for method in ("HEAD", "OPTIONS", "TRACE", "PATCH"):
        att.run(
            cat,
            f"{method} /lead/",
            "405 (or 404) JSON, no key echo",
            lambda m=method: (
                (r := cl.a_req(m, "/lead/")).status_code in (404, 405)
                and (m == "HEAD" or close_error(r, r.status_code))
                and a_key not in r.text,
                describe(r),
            ),
        )

    def close_raw_query() -> tuple[bool, str]:
        raw = raw_request(
            cl.url,
            b"GET /api/v1/lead/?_limit=\xff\xfe HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
            + base64.b64encode(f"{a_key}:".encode())
            + b"\r\nConnection: close\r\n\r\n",
        )
        status = raw_status(raw)
        ok = status in (0, 400)
        if status == 400:
            try:
                raw_json(raw)
            except ValueError:
                ok = status == 400 and b"Invalid HTTP" in raw  # h11 refused it before the app
        return ok, raw[:60].decode("latin-1")

    att.run(cat, "raw non-UTF-8 bytes in the query", "400 (JSON or protocol-level)", close_raw_query)

    def close_encoded_query() -> tuple[bool, str]:
        r = cl.a_req("GET", "/lead/?_fields=%ff%fe")
        return r.status_code in (200, 400) and json_body(r) is not None, describe(r)

    att.run(cat, "percent-encoded invalid UTF-8 in the query", "200/400 JSON", close_encoded_query)

    def close_slow() -> tuple[bool, str]:
        u = httpx.URL(cl.url)
        s = socket.create_connection((u.host, u.port), timeout=TIMEOUT)
        try:
            s.sendall(b"POST /api/v1/lead/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
            t0 = time.monotonic()
            other = cl.a_req("GET", "/me/")
            return other.status_code == 200 and time.monotonic() - t0 < 2, f"{other.status_code}"
        finally:
            s.close()

    att.run(cat, "slowloris partial body", "others answered", close_slow)
    att.run(
        cat,
        "override DELETE via POST is not GET-only abuse",
        "405 or 200 per docs",
        lambda: (
            (r := cl.a_req("POST", "/me/", headers={"X-HTTP-Method-Override": "DELETE"}, json={})).status_code
            in (404, 405),
            describe(r),
        ),
    )

    def server_bug() -> tuple[bool, str]:
        original = cl.server.sandbox.create

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("bug")

        cl.server.sandbox.create = broken  # type: ignore[method-assign]
        try:
            r = cl.a_req("POST", "/lead/", json={"name": "x"})
        finally:
            cl.server.sandbox.create = original  # type: ignore[method-assign]
        return close_error(r, 500) and close_rate(r), describe(r)

    att.run(cat, "a server bug still answers JSON 500 + RateLimit", "500 {error}", server_bug)

    # idempotency (Close has none: a retried POST makes a second record, API-FACTS §5)
    cat = "close/idempotency"

    def no_idem() -> tuple[bool, str]:
        before = cl.server.count(cl.a.org_id, "lead")
        for _ in range(2):
            cl.a_req("POST", "/lead/", json={"name": "twice"}, headers={"Idempotency-Key": "k1"})
        made = cl.server.count(cl.a.org_id, "lead") - before
        return made == 2, f"created {made}"

    att.run(cat, "Idempotency-Key ignored", "two leads", no_idem)

    def concurrent_creates() -> tuple[bool, str]:
        before = cl.server.count(cl.a.org_id, "lead")
        with ThreadPoolExecutor(16) as pool:
            rs = list(pool.map(lambda i: cl.a_req("POST", "/lead/", json={"name": f"conc {i}"}), range(16)))
        made = cl.server.count(cl.a.org_id, "lead") - before
        ids = {r.json()["id"] for r in rs if r.status_code == 200}
        return made == 16 and len(ids) == 16, f"created {made}, distinct ids {len(ids)}"

    att.run(cat, "16 concurrent creates", "16 distinct leads", concurrent_creates)

    def concurrent_updates() -> tuple[bool, str]:
        with ThreadPoolExecutor(16) as pool:
            rs = list(
                pool.map(
                    lambda i: cl.a_req(
                        "PUT", f"/lead/{lead}/", json={"custom.cf_DemoLeadIndustry.add": "SaaS"}
                    ),
                    range(16),
                )
            )
        got = cl.a_req("GET", f"/lead/{lead}/").json().get("custom.cf_DemoLeadIndustry")
        return all(
            r.status_code == 200 for r in rs
        ) and got is not None, f"{[r.status_code for r in rs][:4]} {got}"

    att.run(cat, "16 concurrent .add on one lead", "all 200, consistent", concurrent_updates)

    # rate limits: per key, and 3x per org (API-FACTS §2)
    cat = "close/rate-limit"
    c = cl.server.create_org(seed="demo", records=False)
    cl.server.set_rate_limit(c.org_id, per_second=2, window=5, search_per_second=1000)
    k2 = cl.server.mint_key(c.org_id)

    def per_key() -> tuple[bool, str]:
        one = [cl.req("GET", "/me/", c.api_key).status_code for _ in range(12)]
        other = cl.req("GET", "/me/", k2)
        refused = next((cl.req("GET", "/me/", c.api_key) for _ in range(1)), None)
        assert refused is not None
        body = refused.json()
        rate = body.get("error", body)
        ok = 429 in one and other.status_code == 200 and rate.get("rate_limit_type") == "key"
        return ok, f"{one} other key {other.status_code} type={rate.get('rate_limit_type')}"

    att.run(cat, "one key exhausted, other key of the org", "429 key; other key 200", per_key)

    def per_org_3x() -> tuple[bool, str]:
        e = cl.server.create_org(seed="demo", records=False)
        cl.server.set_rate_limit(e.org_id, per_second=1, window=30, search_per_second=1000)
        keys = [e.api_key] + [cl.server.mint_key(e.org_id) for _ in range(3)]
        served = [sum(cl.req("GET", "/me/", k).status_code == 200 for _ in range(40)) for k in keys]
        last = cl.req("GET", "/me/", keys[3])
        rate = last.json().get("error", last.json())
        ok = served[:3] == [30, 30, 30] and served[3] == 0 and rate.get("rate_limit_type") == "org"
        return ok, f"served per key {served}, 4th key type={rate.get('rate_limit_type')}"

    att.run(
        cat,
        "four keys of one org (org limit = 3x key limit)",
        "3 keys get the key limit, the 4th 429 org",
        per_org_3x,
    )
    rate_cases = {
        "200": lambda: cl.a_req("GET", "/me/"),
        "400": lambda: cl.a_req("GET", "/lead/", params={"_limit": "x"}),
        "404 record": lambda: cl.a_req("GET", "/lead/lead_missing/"),
        "405": lambda: cl.a_req("PATCH", "/lead/"),
        "415": lambda: cl.a_req("POST", "/lead/", content=b"{}", headers={"Content-Type": "text/plain"}),
    }
    for name, fn in rate_cases.items():
        att.run(
            cat,
            f"RateLimit header on {name}",
            "present",
            lambda f=fn: (close_rate(r := f()), describe(r)[:50]),
        )


# --- values at the edges, and a seeded fuzzer --------------------------------------------------------------
def edge_probes(att: Attack, lf: LF, cl: Close) -> None:
    """Valid-looking values the parsers choke on (dates beyond UTC's range, number spellings), then
    random JSON bodies built from each endpoint's own key names: none may answer 5xx or non-JSON."""
    cat = "lf/edges"
    for value in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"):
        att.run(
            cat,
            f"DATETIME {value} (outside UTC's years)",
            "422",
            lambda v=value: (
                lf_error(
                    r := lf.a_req("POST", "/v1/accounts", json={"fields": {"$name": "d", "renewalDate": v}}),
                    422,
                ),
                describe(r),
            ),
        )
        att.run(
            cat,
            f"DATETIME filter {value}",
            "400",
            lambda v=value: (
                lf_error(r := lf.a_req("GET", "/v1/accounts", params={"renewalDate[greaterThan]": v}), 400),
                describe(r),
            ),
        )
        att.run(
            cat,
            f"task $dueAt {value}",
            "422",
            lambda v=value: (
                lf_error(
                    r := lf.a_req(
                        "POST",
                        "/v1/tasks",
                        json={
                            "fields": {"$title": "t", "$status": "TODO", "$dueAt": v},
                            "relationships": {"$assignedTo": "mem_ava"},
                        },
                    ),
                    422,
                ),
                describe(r),
            ),
        )
    for value in ("nan", "inf", "1e999", "1_0", " 5", "\u0665"):
        att.run(
            cat,
            f"NUMBER filter {value!r}",
            "400 invalid_type",
            lambda v=value: (
                lf_error(
                    r := lf.a_req("GET", "/v1/accounts", params={"employeeCount[greaterThan]": v}),
                    400,
                    code="invalid_type",
                ),
                describe(r),
            ),
        )
    for value in ("True", " true", "1"):
        att.run(
            cat,
            f"CHECKBOX filter {value!r} (strict)",
            "400",
            lambda v=value: (
                lf_error(r := lf.a_req("GET", "/v1/accounts", params={"isCustomer[equal]": v}), 400),
                describe(r),
            ),
        )
    for value in ("", "   "):
        att.run(
            cat,
            f"required $name {value!r}",
            "422 param fields.$name",
            lambda v=value: (
                lf_error(r := lf.a_req("POST", "/v1/accounts", json={"fields": {"$name": v}}), 422),
                describe(r),
            ),
        )
    att.run(
        cat,
        "latitude 1e308",
        "422",
        lambda: (
            lf_error(
                r := lf.a_req(
                    "POST",
                    "/v1/accounts",
                    json={"fields": {"$name": "g", "$primaryAddress": {"latitude": 1e308}}},
                ),
                422,
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "NUL in $name",
        "400 invalid_type",
        lambda: (
            lf_error(
                r := lf.a_req("POST", "/v1/accounts", json={"fields": {"$name": "a\u0000b"}}),
                400,
                code="invalid_type",
            ),
            describe(r),
        ),
    )

    cat = "close/edges"
    lead = cl.make(cl.a.api_key, "/lead/", {"name": "Edges"})
    for value in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        att.run(
            cat,
            f"datetime custom field {value}",
            "400",
            lambda v=value: (
                close_error(
                    r := cl.a_req(
                        "POST", "/contact/", json={"lead_id": lead, "custom.cf_DemoContactLastMet": v}
                    ),
                    400,
                ),
                describe(r),
            ),
        )
        att.run(
            cat,
            f"opportunity date_created {value}",
            "400",
            lambda v=value: (
                close_error(
                    r := cl.a_req("POST", "/opportunity/", json={"lead_id": lead, "date_created": v}), 400
                ),
                describe(r),
            ),
        )
        att.run(
            cat,
            f"date_updated__gte={value}",
            "400",
            lambda v=value: (
                close_error(r := cl.a_req("GET", "/opportunity/", params={"date_updated__gte": v}), 400),
                describe(r),
            ),
        )
    att.run(
        cat,
        "date_created__lt=0001-01-01 at X-TZ-Offset 14",
        "400",
        lambda: (
            close_error(
                r := cl.a_req(
                    "GET",
                    "/opportunity/",
                    params={"date_created__lt": "0001-01-01"},
                    headers={"X-TZ-Offset": "14"},
                ),
                400,
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "search term values [null, {}, []]",
        "400",
        lambda: (
            close_error(
                r := cl.a_req(
                    "POST",
                    "/data/search/",
                    json={
                        "query": {
                            "type": "field_condition",
                            "field": {"type": "regular_field", "object_type": "lead", "field_name": "name"},
                            "condition": {"type": "term", "values": [None, {}, []]},
                        }
                    },
                ),
                400,
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "search has_related with a list type",
        "400",
        lambda: (
            close_error(
                r := cl.a_req(
                    "POST",
                    "/data/search/",
                    json={
                        "query": {
                            "type": "has_related",
                            "this_object_type": [],
                            "related_object_type": "contact",
                        }
                    },
                ),
                400,
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "custom field editable_with_roles=-1",
        "400",
        lambda: (
            close_error(
                r := cl.a_req(
                    "POST",
                    "/custom_field/lead/",
                    json={"name": "R", "type": "text", "editable_with_roles": -1},
                ),
                400,
            ),
            describe(r),
        ),
    )
    att.run(
        cat,
        "pipeline statuses=1.5",
        "400",
        lambda: (
            close_error(r := cl.a_req("POST", "/pipeline/", json={"name": "P", "statuses": 1.5}), 400),
            describe(r),
        ),
    )

    def aborted_upload(url: str, head: bytes, part: bytes, count: Callable[[], int]) -> tuple[bool, str]:
        before = count()
        u = httpx.URL(url)
        with socket.create_connection((u.host, u.port), timeout=TIMEOUT) as s:
            s.sendall(head + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + part)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and count() == before:
            time.sleep(0.02)  # wait out the server's handling of the closed connection
        return count() == before, f"records made: {count() - before}"

    att.run(
        "lf/protocol",
        "aborted upload whose first part is valid JSON",
        "not run (no record)",
        lambda: aborted_upload(
            lf.url,
            b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + lf.a.api_key.encode()
            + b"\r\nLightfield-Version: 2026-03-01\r\n",
            b'{"fields":{"$name":"half"}}',
            lambda: lf.server.count(lf.a.org_id, "account"),
        ),
    )
    basic = base64.b64encode(f"{cl.a.api_key}:".encode())
    att.run(
        "close/protocol",
        "aborted upload whose first part is valid JSON",
        "not run (no record)",
        lambda: aborted_upload(
            cl.url,
            b"POST /api/v1/lead/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + basic + b"\r\n",
            b'{"name":"half"}',
            lambda: cl.server.count(cl.a.org_id, "lead"),
        ),
    )

    def export_link() -> str:
        ex = cl.a_req("POST", "/export/lead/", json={"format": "json", "type": "leads"}).json()
        for _ in range(200):
            doc = cl.a_req("GET", f"/export/{ex['id']}/").json()
            if doc["status"] == "done":
                return str(doc["download_url"])
            time.sleep(0.02)
        raise RuntimeError("the export never finished")

    def tampered_links() -> tuple[bool, str]:
        url = export_link()
        path, _, query = url.partition("?")
        stamp = dict(pair.split("=", 1) for pair in query.split("&"))
        got = []
        for link in (
            f"{path}?X-Amz-Date={stamp['X-Amz-Date']}&X-Amz-Expires=60&X-Amz-Signature=%C3%A9",
            path.replace(".json.gz", ".csv.gz") + "?" + query,
            path + "x?" + query,
            f"{path}?X-Amz-Date={int(stamp['X-Amz-Date']) + 3600}&X-Amz-Expires=60&X-Amz-Signature="
            + stamp["X-Amz-Signature"],
        ):
            got.append(httpx.get(link, timeout=TIMEOUT).status_code)
        good = httpx.get(url, timeout=TIMEOUT).status_code
        return got == [403] * 4 and good == 200, f"tampered {got}, genuine {good}"

    att.run("close/protocol", "tampered export download links", "403 each (genuine 200)", tampered_links)

    fuzz_probes(att, lf, cl)


FUZZ_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**63,
    1e308,
    "",
    "x",
    "2026-01-01",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "opt_stage_lead",
    "mem_ava",
    "lead_x",
    "stat_DemoWon",
    "pipe_DemoSales",
    "cf_DemoLeadIndustry",
    "user_DemoAva",
    "SaaS",
    "a@b.co",
    "https://x.co",
    "+15125550101",
    "Won",
    "lead",
    "contact",
    "opportunity",
    "and",
    "or",
    "field_condition",
    "regular_field",
    "custom_field",
    "text",
    "term",
    "reference",
    "moment_range",
    "number_range",
    "has_related",
    "object_type",
    "fixed_utc",
    "now",
    "full_words",
    "date_created",
    "name",
    "asc",
    "desc",
    "id",
]
FUZZ_KEYS = {
    "lf": [
        "fields",
        "relationships",
        "$name",
        "$stage",
        "$account",
        "$owner",
        "$contact",
        "$email",
        "$website",
        "$industry",
        "$primaryAddress",
        "tier",
        "external_id",
        "renewalDate",
        "employeeCount",
        "isCustomer",
        "phone",
        "$title",
        "$status",
        "$dueAt",
        "$assignedTo",
        "add",
        "remove",
        "replace",
        "street",
        "country",
        "latitude",
        "firstName",
        "$objectType",
        "$accounts",
        "account",
        "partnerType",
        "commission",
    ],
    "close": [
        "name",
        "lead_id",
        "contact_id",
        "status_id",
        "status",
        "pipeline_id",
        "value",
        "value_period",
        "confidence",
        "note",
        "date_won",
        "date_created",
        "user_id",
        "contacts",
        "addresses",
        "emails",
        "phones",
        "urls",
        "email",
        "phone",
        "url",
        "type",
        "title",
        "description",
        "custom.cf_DemoLeadIndustry",
        "custom.cf_DemoLeadIndustry.add",
        "custom.cf_DemoLeadRenewal",
        "custom.cf_DemoContactLastMet",
        "custom.cf_DemoLeadManager",
        "custom.cf_DemoLeadEmployees",
        "address_1",
        "city",
        "country",
        "zipcode",
        "label",
        "choices",
        "accepts_multiple_values",
        "statuses",
        "id",
        "format",
        "fields",
        "params",
        "s_query",
        "sort",
        "date_format",
        "object_type",
        "required",
        "editable_with_roles",
    ],
    "search": [
        "query",
        "type",
        "queries",
        "object_type",
        "field",
        "field_name",
        "condition",
        "values",
        "object_ids",
        "value",
        "mode",
        "negate",
        "custom_field_id",
        "gte",
        "lte",
        "on_or_after",
        "before",
        "related_query",
        "this_object_type",
        "related_object_type",
        "sort",
        "direction",
        "_limit",
        "cursor",
        "_fields",
        "results_limit",
        "reference_type",
        "moment",
        "which",
    ],
}
#: Random bodies per endpoint (a fixed seed, so a failure replays).
FUZZ_BODIES = 150


def fuzz_probes(att: Attack, lf: LF, cl: Close) -> None:
    rng = random.Random(20261204)

    def gen(kind: str, depth: int = 0) -> Any:
        roll = rng.random()
        if depth > 5 or roll < 0.35:
            return rng.choice(FUZZ_SCALARS)
        if roll < 0.55:
            return [gen(kind, depth + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(FUZZ_KEYS[kind]): gen(kind, depth + 1) for _ in range(rng.randint(0, 4))}

    def body_for(kind: str) -> Any:
        if kind == "lf" and rng.random() < 0.7:
            rels = (
                {"relationships": {rng.choice(FUZZ_KEYS["lf"]): gen("lf", 2)}} if rng.random() < 0.5 else {}
            )
            return {
                "fields": {rng.choice(FUZZ_KEYS["lf"]): gen("lf", 2) for _ in range(rng.randint(0, 4))},
                **rels,
            }
        if kind == "search" and rng.random() < 0.7:
            return {"query": gen("search", 1), rng.choice(["sort", "_limit", "cursor"]): gen("search", 3)}
        if rng.random() < 0.3:
            return gen(kind)
        return {rng.choice(FUZZ_KEYS[kind]): gen(kind, 1) for _ in range(rng.randint(1, 5))}

    a_key = lf.a.api_key
    acc = lf.make(a_key, "/v1/accounts", {"fields": {"$name": "Fuzz"}})
    lst = lf.make(a_key, "/v1/lists", {"fields": {"$name": "Fuzz", "$objectType": "$account"}})
    lead = cl.make(cl.a.api_key, "/lead/", {"name": "Fuzz"})
    opp = cl.make(cl.a.api_key, "/opportunity/", {"lead_id": lead})
    lf_paths = [
        "/v1/accounts",
        f"/v1/accounts/{acc}",
        "/v1/opportunities",
        "/v1/contacts",
        "/v1/tasks",
        "/v1/notes",
        "/v1/lists",
        f"/v1/lists/{lst}",
        "/v1/objects/partner/values",
    ]
    close_targets = [
        ("POST", "/lead/", "close"),
        ("PUT", f"/lead/{lead}/", "close"),
        ("POST", "/opportunity/", "close"),
        ("PUT", f"/opportunity/{opp}/", "close"),
        ("POST", "/contact/", "close"),
        ("POST", "/custom_field/lead/", "close"),
        ("POST", "/pipeline/", "close"),
        ("POST", "/status/opportunity/", "close"),
        ("POST", "/export/lead/", "close"),
        ("POST", "/export/opportunity/", "close"),
        ("POST", "/data/search/", "search"),
    ]

    def run(send: Callable[[Any], httpx.Response], kind: str) -> tuple[bool, str]:
        for i in range(FUZZ_BODIES):
            body = body_for(kind)
            r = send(body)
            if r.status_code >= 500 or not r.headers.get("content-type", "").startswith("application/json"):
                return False, f"body #{i} {json.dumps(body)[:60]} -> {r.status_code}"
        return True, f"{FUZZ_BODIES} bodies, no 5xx"

    for path in lf_paths:
        att.run(
            "lf/fuzz",
            f"POST {path}",
            "no 5xx, JSON",
            lambda p=path: run(
                lambda b: lf.a_req(
                    "POST", p, content=json.dumps(b).encode(), headers={"Content-Type": "application/json"}
                ),
                "lf",
            ),
        )
    for method, path, kind in close_targets:
        att.run(
            "close/fuzz",
            f"{method} {path}",
            "no 5xx, JSON",
            lambda m=method, p=path, k=kind: run(
                lambda b: cl.a_req(
                    m, p, content=json.dumps(b).encode(), headers={"Content-Type": "application/json"}
                ),
                k,
            ),
        )
    att.run(
        "close/fuzz",
        "opportunity lists after the fuzzing",
        "200 for every grouping and order",
        lambda: (
            all(
                cl.a_req("GET", "/opportunity/", params=q).status_code == 200
                for q in (
                    {},
                    {"_group_by": "date_won__week"},
                    {"_group_by": "user_id"},
                    {"_order_by": "date_won"},
                    {"_order_by": "-value"},
                )
            ),
            "checked",
        ),
    )
    att.run(
        "lf/fuzz",
        "lists after the fuzzing",
        "200 JSON",
        lambda: (
            all(
                json_body(lf.a_req("GET", f"/v1/{c}")) is not None
                for c in ("accounts", "contacts", "tasks", "lists")
            ),
            "checked",
        ),
    )


# --- the contract: nothing the request schemas refuse is accepted -----------------------------------------
CONTRACT = Path("/work/shared/lightfield/openapi.json")
#: Random bodies per operation checked against its request schema (a fixed seed, so a failure replays).
CONTRACT_BODIES = 150


def contract_probes(att: Attack, lf: LF) -> None:
    """Random bodies built from the contract's own keys: every one the sandbox accepts (200) must
    validate against the operation's request schema, taking the typed variant of each ``oneOf``
    (API-FACTS §12.13: a body missing required keys matches only the untyped one)."""
    cat = "lf/contract"
    try:
        import jsonschema
    except ImportError:
        att.add(cat, "import jsonschema", "installed", "missing", False)
        return
    if not CONTRACT.exists():
        att.add(cat, f"read {CONTRACT}", "present", "missing", False)
        return
    spec = json.loads(CONTRACT.read_text(encoding="utf-8"))

    def typed(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return typed(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
            if "oneOf" in node:
                return typed(node["oneOf"][0])
            return {k: typed(v) for k, v in node.items()}
        if isinstance(node, list):
            return [typed(v) for v in node]
        return node

    rng = random.Random(20261205)
    key = lf.a.api_key
    one = {
        c: lf.a_req("GET", f"/v1/{c}", params={"limit": 1}).json()["data"][0]["id"]
        for c in ("accounts", "contacts", "opportunities", "tasks", "notes")
    }
    one["lists"] = lf.make(key, "/v1/lists", {"fields": {"$name": "Contract", "$objectType": "$account"}})
    partner = lf.a_req("GET", "/v1/objects/partner", params={"limit": 1}).json()["data"][0]["id"]
    values: list[Any] = [
        None,
        "x",
        "",
        1,
        1.5,
        True,
        [],
        ["x"],
        {},
        {"add": "mem_ava"},
        {"replace": None},
        {"firstName": "a"},
        "mem_ava",
        one["accounts"],
        one["contacts"],
        one["opportunities"],
        "opt_stage_lead",
        "TODO",
        "$account",
        "2026-01-01T00:00:00Z",
        "https://x.co",
        ["https://x.co"],
        ["a@b.co"],
        {"street": "s", "country": "US"},
        [one["contacts"]],
        {"add": [one["contacts"]]},
        {"remove": one["contacts"]},
    ]
    field_keys = [
        "$name",
        "$stage",
        "$title",
        "$status",
        "$content",
        "$description",
        "$dueAt",
        "$objectType",
        "$email",
        "$website",
        "$industry",
        "$headcount",
        "$primaryAddress",
        "$profilePhotoUrl",
        "external_id",
        "tier",
        "employeeCount",
        "isCustomer",
        "$accountStatus",
        "website",
        "partnerType",
    ]
    rel_keys = [
        "$account",
        "$owner",
        "$contact",
        "$assignedTo",
        "$opportunity",
        "$champion",
        "$createdBy",
        "$accounts",
        "$contacts",
        "$note",
        "account",
    ]
    operations = [
        ("/v1/objects/{entitySlug}/values", "/v1/objects/partner/values"),
        ("/v1/objects/{entitySlug}/values/{id}", f"/v1/objects/partner/values/{partner}"),
    ]
    for coll, rid in one.items():
        operations += [(f"/v1/{coll}", f"/v1/{coll}"), (f"/v1/{coll}/{{id}}", f"/v1/{coll}/{rid}")]

    bases: dict[str, dict[str, Any]] = {
        "/v1/accounts": {"fields": {"$name": "Base"}},
        "/v1/contacts": {"fields": {}},
        "/v1/opportunities": {
            "fields": {"$name": "Base", "$stage": "opt_stage_lead"},
            "relationships": {"$account": one["accounts"]},
        },
        "/v1/tasks": {
            "fields": {"$title": "Base", "$status": "TODO"},
            "relationships": {"$assignedTo": "mem_ava"},
        },
        "/v1/notes": {"fields": {"$title": "Base"}},
        "/v1/lists": {"fields": {"$name": "Base", "$objectType": "$account"}},
        "/v1/objects/{entitySlug}/values": {"fields": {}},
    }

    def check(template: str, path: str) -> tuple[bool, str]:
        schema = typed(
            spec["paths"][template]["post"]["requestBody"]["content"]["application/json"]["schema"]
        )
        validator = jsonschema.Draft202012Validator(schema)
        accepted = 0
        base = bases.get(template)
        for _ in range(CONTRACT_BODIES):
            body: dict[str, Any] = {}
            if base is not None and rng.random() < 0.6:  # a valid create with one or two keys changed
                body = json.loads(json.dumps(base))
                for _ in range(rng.randint(1, 2)):
                    part, keys = ("fields", field_keys) if rng.random() < 0.6 else ("relationships", rel_keys)
                    body.setdefault(part, {})[rng.choice(keys)] = rng.choice(values)
                if rng.random() < 0.5:
                    body[rng.choice(["fields", "relationships"])] = rng.choice(values)
            else:
                if rng.random() < 0.9:
                    body["fields"] = {
                        rng.choice(field_keys): rng.choice(values) for _ in range(rng.randint(0, 4))
                    }
                if rng.random() < 0.6:
                    body["relationships"] = {
                        rng.choice(rel_keys): rng.choice(values) for _ in range(rng.randint(0, 3))
                    }
            r = lf.a_req("POST", path, json=body)
            if r.status_code == 200:
                accepted += 1
                errors = list(validator.iter_errors(body))
                if errors:
                    return False, f"accepted {json.dumps(body)[:50]}: {errors[0].message[:40]}"
        return True, f"{accepted} of {CONTRACT_BODIES} accepted, all valid"

    for template, path in operations:
        att.run(
            cat,
            f"POST {template}",
            "every accepted body fits the schema",
            lambda t=template, p=path: check(t, p),
        )


# --- official SDKs ----------------------------------------------------------------------------------------
def sdk_probes(att: Attack, lf: LF, cl: Close) -> None:
    cat = "sdk/lightfield"
    try:
        import lightfield
    except ImportError:
        att.add(cat, "import lightfield", "installed", "missing", False)
        return
    org = lf.server.create_org(seed="demo")
    lf.server.set_faults(org.org_id, index_lag_ms=0)
    sdk = lightfield.Lightfield(
        api_key=org.api_key, base_url=lf.url, max_retries=0, _strict_response_validation=True
    )
    bad = lightfield.Lightfield(api_key="sk_lf_nope", base_url=lf.url, max_retries=0)
    ro = lightfield.Lightfield(
        api_key=lf.server.mint_key(org.org_id, ["accounts:read"]), base_url=lf.url, max_retries=0
    )

    def raises(
        exc: type[BaseException], fn: Callable[[], Any], status: int
    ) -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            try:
                fn()
            except exc as e:
                return getattr(
                    e, "status_code", None
                ) == status, f"{type(e).__name__} {getattr(e, 'status_code', '')}"
            except Exception as e:  # noqa: BLE001 — the wrong exception type (or a crash on our body)
                return False, f"{type(e).__name__}: {str(e)[:80]}"
            return False, "no exception"

        return go

    att.run(
        cat,
        "401 bad key",
        "AuthenticationError",
        raises(lightfield.AuthenticationError, bad.account.list, 401),
    )
    att.run(
        cat,
        "403 read-only key creates",
        "PermissionDeniedError",
        raises(lightfield.PermissionDeniedError, lambda: ro.account.create(fields={"$name": "x"}), 403),
    )
    att.run(
        cat,
        "404 missing account",
        "NotFoundError",
        raises(lightfield.NotFoundError, lambda: sdk.account.retrieve("acc_missing"), 404),
    )
    att.run(
        cat,
        "400 unknown field",
        "BadRequestError",
        raises(
            lightfield.BadRequestError, lambda: sdk.account.create(fields={"$name": "x", "bogus": 1}), 400
        ),
    )
    att.run(
        cat,
        "422 missing $name",
        "UnprocessableEntityError",
        raises(lightfield.UnprocessableEntityError, lambda: sdk.account.create(fields={}), 422),
    )

    def conflict() -> Any:
        lf.server.set_faults(org.org_id, latency_ms=500)
        try:
            t = threading.Thread(
                target=lambda: lf.req(
                    "POST",
                    "/v1/accounts",
                    org.api_key,
                    json={"fields": {"$name": "c"}},
                    headers={"Idempotency-Key": "sdk-409"},
                )
            )
            t.start()
            time.sleep(0.15)
            try:
                return sdk.account.create(fields={"$name": "c"}, extra_headers={"Idempotency-Key": "sdk-409"})
            finally:
                t.join()
        finally:
            lf.server.set_faults(org.org_id, latency_ms=0)

    att.run(
        cat, "409 idempotency key in flight", "ConflictError", raises(lightfield.ConflictError, conflict, 409)
    )

    def limited() -> Any:
        lf.server.set_rate_limit(org.org_id, per_second=0.5, burst=1)
        try:
            sdk.account.list()
            return sdk.account.list()
        finally:
            lf.server.set_rate_limit(org.org_id, per_second=10_000)

    att.run(cat, "429 rate limited", "RateLimitError", raises(lightfield.RateLimitError, limited, 429))
    att.run(
        cat,
        "413 huge body",
        "APIStatusError 413",
        raises(
            lightfield.APIStatusError,
            lambda: sdk.account.create(fields={"$name": "a" * (33 * 1024 * 1024)}),
            413,
        ),
    )

    cat = "sdk/closeio"
    try:
        import closeio_api
    except ImportError:
        att.add(cat, "import closeio_api", "installed", "missing", False)
        return
    org2 = cl.server.create_org(seed="demo")
    cl.server.set_rate_limit(org2.org_id, per_second=1000, search_per_second=1000)
    api = closeio_api.Client(api_key=org2.api_key, max_retries=1)
    api.base_url = cl.server.api_url + "/"
    bad_api = closeio_api.Client(api_key="api_nope", max_retries=1)
    bad_api.base_url = api.base_url

    def c_raises(
        exc: type[BaseException], fn: Callable[[], Any], status: int | None
    ) -> Callable[[], tuple[bool, str]]:
        def go() -> tuple[bool, str]:
            try:
                fn()
            except exc as e:
                got = getattr(getattr(e, "response", None), "status_code", None)
                return status is None or got == status, f"{type(e).__name__} {got}"
            except Exception as e:  # noqa: BLE001
                return False, f"{type(e).__name__}: {str(e)[:80]}"
            return False, "no exception"

        return go

    att.run(
        cat, "401 bad key", "APIError 401", c_raises(closeio_api.APIError, lambda: bad_api.get("me"), 401)
    )
    att.run(
        cat,
        "404 missing lead",
        "APIError 404",
        c_raises(closeio_api.APIError, lambda: api.get("lead/lead_missing"), 404),
    )
    att.run(
        cat,
        "400 validation",
        "ValidationError",
        c_raises(closeio_api.ValidationError, lambda: api.post("opportunity", {"confidence": 150}), None),
    )
    att.run(
        cat, "405 method", "APIError 405", c_raises(closeio_api.APIError, lambda: api.put("lead", {}), 405)
    )
    att.run(
        cat,
        "413 huge body",
        "APIError 413",
        c_raises(closeio_api.APIError, lambda: api.post("lead", {"name": "a" * (33 * 1024 * 1024)}), 413),
    )

    def c429() -> Any:
        cl.server.set_rate_limit(org2.org_id, per_second=1, window=30)
        cl.server.set_options(org2.org_id, ratelimit_reset="integer")
        try:
            one = closeio_api.Client(api_key=org2.api_key, max_retries=1)
            one.base_url = api.base_url
            for _ in range(40):
                one.get("me")
        finally:
            cl.server.set_rate_limit(org2.org_id, per_second=1000, search_per_second=1000)

    att.run(cat, "429 after its own retries", "APIError 429", c_raises(closeio_api.APIError, c429, 429))


# --- main ---------------------------------------------------------------------------------------------------
@contextmanager
def servers() -> Iterator[tuple[SandboxServer, CloseSandboxServer]]:
    with (
        tempfile.TemporaryDirectory(prefix="bulkio-attack-") as tmp,
        SandboxServer(Path(tmp) / "lf.sqlite3", seed="demo", profile="strict") as lfs,
        CloseSandboxServer(Path(tmp) / "close.sqlite3", seed="demo") as cls,
    ):
        yield lfs, cls


def quiet() -> None:
    """The probes provoke protocol errors and simulated bugs on purpose: keep their logs out of the table."""
    for name in ("bulkio.sandbox", "bulkio.close_sandbox", "uvicorn.error", "uvicorn"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="pattern", help="only probes whose category or name contains this")
    parser.add_argument("--failed", action="store_true", help="print only the failed probes")
    args = parser.parse_args(argv)
    att = Attack(args.pattern)
    with servers() as (lfs, cls):
        quiet()  # after the servers start: uvicorn sets its loggers' levels when it starts
        lf, cl = LF(lfs), Close(cls)
        for step in (
            lambda: lf_probes(att, lf),
            lambda: close_probes(att, cl),
            lambda: edge_probes(att, lf, cl),
            lambda: contract_probes(att, lf),
            lambda: sdk_probes(att, lf, cl),
        ):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 — setup failed: report it as a failed probe, keep going
                att.add("setup", "probe group", "runs", f"{type(exc).__name__}: {exc}"[:150], False)
        for name, srv in (("lightfield", lfs), ("close", cls)):
            alive = srv._thread is not None and srv._thread.is_alive()
            att.add("server", f"{name} sandbox still running", "alive", "alive" if alive else "dead", alive)
    rows = [r for r in att.rows if not args.failed or not r.ok]
    widths = [14, 58, 40, 60]
    print(
        f"{'category':<{widths[0]}} {'probe':<{widths[1]}} {'expected':<{widths[2]}} {'got':<{widths[3]}} ok"
    )
    for r in rows:
        cells = [r.category, r.probe, r.expected, r.got]
        text = " ".join(f"{c[:w]:<{w}}" for c, w in zip(cells, widths, strict=True))
        print(f"{text} {'ok' if r.ok else 'FAIL'}")
    failed = sum(not r.ok for r in att.rows)
    per_cat: dict[str, list[int]] = {}
    for r in att.rows:
        per_cat.setdefault(r.category, [0, 0])[0 if r.ok else 1] += 1
    print()
    for name, (good, bad) in sorted(per_cat.items()):
        print(f"{name:<18} {good + bad:>4} probes, {bad} failed")
    print(f"{len(att.rows)} probes, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
