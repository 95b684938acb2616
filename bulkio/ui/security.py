"""Who may talk to the page: the person who started it, from their own browser, and no web site.

* **A token per start** (as Jupyter): the URL printed and opened carries ``?token=…`` once; the
  answer sets it as a cookie (``HttpOnly``, ``SameSite=Strict``) and redirects to the same address
  without it, so it does not stay in the address bar or the history. Every other request without
  the cookie (or the token) is refused with 403.
* **The host** must be the loopback address the server listens on (``127.0.0.1``, ``localhost``,
  ``[::1]`` with its port): a DNS-rebinding page that names another host gets 403.
* **Writes** (every method but GET/HEAD) need the ``X-CSRF-Token`` header holding the page's own
  token (a form on another site cannot set a header, and a script there cannot read it), an
  ``Origin`` that is this server when a browser sends one, and no ``Sec-Fetch-Site: cross-site``.
* Answers say ``no-store``, forbid framing and sniffing, and allow scripts from this server only.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "bulkio_ui"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: Content-Security-Policy of every answer: this server's scripts and styles only, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class Guard:
    """ASGI middleware that enforces the rules above before the app sees a request."""

    def __init__(self, app: ASGIApp, *, token: str, csrf: str, port: int | None = None) -> None:
        self.app, self.token, self.csrf = app, token, csrf
        self.port = port  # set once the server has its socket (port 0 → a free one)

    @property
    def cookie_name(self) -> str:
        """Cookies are not kept per port: each server's own name, so two pages open at once (two
        ``bulkio ui`` on two ports) do not log each other out."""
        return f"{COOKIE}_{self.port}" if self.port is not None else COOKIE

    def allowed_hosts(self) -> set[str]:
        if self.port is None:
            return set(LOOPBACK_NAMES)
        return {f"{h}:{self.port}" for h in LOOPBACK_NAMES}

    def allowed_origins(self) -> set[str]:
        return {f"http://{h}" for h in self.allowed_hosts()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"].upper()
        host = headers.get("host", "")
        if host not in self.allowed_hosts():
            await _refuse(send, 403, "bulkio ui answers only on its loopback address")
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        given = query.get("token")
        cookie = _cookie(headers.get("cookie", ""), self.cookie_name)
        if given is not None:
            if not _same(given, self.token):
                await _refuse(send, 403, "wrong token: open the address bulkio ui printed")
                return
            if method in SAFE_METHODS:
                # set the cookie and drop the token from the address
                rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
                location = scope["path"] + (f"?{rest}" if rest else "")
                await _redirect(send, location, self.cookie_name, self.token)
                return
        elif not _same(cookie, self.token):
            await _refuse(send, 403, "token required: open the address bulkio ui printed")
            return
        if method not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin not in self.allowed_origins():
                await _refuse(send, 403, "cross-site request refused")
                return
            if headers.get("sec-fetch-site") == "cross-site":
                await _refuse(send, 403, "cross-site request refused")
                return
            if not _same(headers.get(CSRF_HEADER), self.csrf):
                await _refuse(send, 403, "missing or wrong CSRF token")
                return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"cache-control", b"no-store"),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", CSP.encode()),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


async def _refuse(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str, name: str, token: str) -> None:
    cookie = f"{name}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", cookie.encode("latin-1")),
                (b"cache-control", b"no-store"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
