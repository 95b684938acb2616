"""Run the sandbox with uvicorn on a loopback port in a daemon thread.

Binding the socket ourselves gives a free port (``port=0``) and a known URL before the server
thread starts; ``stop()`` asks uvicorn to exit and joins the thread, so tests start and stop a
server in well under a second.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from pathlib import Path
from typing import Any, Self

import uvicorn

from .app import SandboxApp
from .core import Org, Sandbox
from .profile import Profile

#: Hosts that mean "every interface" (``''`` and ``0`` are what ``--host`` users type for it).
WILDCARD_HOSTS = frozenset({"", "0", "0.0.0.0", "::", "[::]", "*"})


def check_host(host: str, *, allow_remote: bool = False) -> tuple[str, bool]:
    """The address to bind for ``host`` and whether it is reachable from other machines.

    Loopback names and addresses are always fine. Anything else (every interface, a LAN address)
    exposes every org's data to the network, so it needs ``allow_remote``; without it this raises
    ValueError saying so.

    >>> check_host("localhost")
    ('127.0.0.1', False)
    >>> check_host("0", allow_remote=True)
    ('0.0.0.0', True)
    """
    text = host.strip()
    if text in WILDCARD_HOSTS:
        bind = "::" if ":" in text else "0.0.0.0"
        remote = True
    else:
        bind = text.strip("[]")
        try:
            addrs = {info[4][0] for info in socket.getaddrinfo(bind, None, proto=socket.IPPROTO_TCP)}
        except socket.gaierror as exc:
            raise ValueError(f"Cannot bind the sandbox to {host!r}: {exc.strerror}.") from None
        remote = not all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addrs)
        if bind == "localhost":
            bind = "127.0.0.1"
    if remote and not allow_remote:
        where = "every network interface" if text in WILDCARD_HOSTS else f"{host!r}, which is not loopback"
        raise ValueError(
            f"Refusing to bind the sandbox to {where}: other machines could read and change its "
            "data. Pass allow_remote=True (bulkio sandbox serve --allow-remote) if you mean it."
        )
    return bind, remote


class SandboxServer:
    """A Lightfield-compatible server for tests, demos and offline use.

    >>> with SandboxServer(seed="demo") as sb:           # doctest: +SKIP
    ...     httpx.get(sb.url + "/v1/accounts", headers={"Authorization": f"Bearer {sb.api_key}",
    ...                                                  "Lightfield-Version": "2026-03-01"})
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        seed: str | Path | dict[str, Any] | None = "demo",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | None = None,
        profile: str | Profile | None = None,
        allow_remote: bool = False,
    ) -> None:
        bind, self.remote = check_host(host, allow_remote=allow_remote)
        self.sandbox = Sandbox(db_path, seed=seed, rate_limit=rate_limit, profile=profile)
        self.app = SandboxApp(self.sandbox)
        self.host = bind
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # headers and body go out in two writes; without NODELAY, delayed ACKs add ~40 ms per request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        sock.listen(256)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        # uvicorn installs signal handlers only on the main thread, so this thread leaves them alone
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="bulkio-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self, *, wait: bool = True) -> None:
        """Stop serving. ``wait=False`` does not wait for an idle server's thread to wind down
        (uvicorn's shutdown sleeps 0.1–0.2 s; the embedded sandbox of a command saves that), but it
        still waits while a request is being handled."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            if wait or self._server.server_state.tasks:
                self._thread.join(timeout=5)
        if self._sock is not None and (self._thread is None or not self._thread.is_alive()):
            self._sock.close()  # else the server's own shutdown closes it
        self._server = self._thread = self._sock = None

    def close(self, *, wait: bool = True) -> None:
        """Stop serving and close the database (``wait``: see :meth:`stop`)."""
        self.stop(wait=wait)
        self.sandbox.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def serve_forever(self) -> None:
        """Block until interrupted (used by ``bulkio sandbox serve``)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.close()

    # --- facts -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Where to reach the server from this machine (loopback when bound to every interface)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def profile(self) -> Profile:
        return self.sandbox.profile

    @property
    def api_key(self) -> str:
        return self.sandbox.api_key

    @property
    def default_org_id(self) -> str:
        return self.sandbox.default_org_id

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r})"

    # --- org administration (direct, not over HTTP) ----------------------------------------------
    def create_org(
        self,
        seed: str | Path | dict[str, Any] | None = "demo",
        *,
        records: bool = True,
        rate_limit: float | None = None,
    ) -> Org:
        return self.sandbox.create_org(seed, records=records, rate_limit=rate_limit)

    def mint_key(self, org_id: str | None = None, scopes: list[str] | None = None) -> str:
        return self.sandbox.mint_key(org_id, scopes)

    def set_faults(self, org_id: str | None = None, **kw: Any) -> None:
        self.sandbox.set_faults(org_id, **kw)

    def set_rate_limit(
        self, org_id: str | None = None, *, per_second: float, burst: int | None = None
    ) -> None:
        self.sandbox.set_rate_limit(org_id, per_second=per_second, burst=burst)

    def add_field(self, org_id: str | None, object_type: str, key: str, definition: dict[str, Any]) -> bool:
        return self.sandbox.add_field(org_id, object_type, key, definition)

    def count(self, org_id: str | None, object_type: str) -> int:
        return self.sandbox.count(org_id, object_type)

    def records(self, org_id: str | None, object_type: str) -> list[dict[str, Any]]:
        return self.sandbox.records(org_id, object_type)

    def stats(self, org_id: str | None = None) -> dict[str, Any]:
        return self.sandbox.stats(org_id)
