"""Run the Close sandbox with uvicorn on a loopback port in a daemon thread.

The same lifecycle as the Lightfield :class:`~bulkio.sandbox.SandboxServer` (the two share no code,
so either can change without the other): binding the socket first gives a free port and a known
URL before the thread starts, and ``stop()`` joins the thread, so a test starts and stops a server
in well under a second.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any, Self

import uvicorn

from .app import CloseSandboxApp
from .core import CloseSandbox, Org


class CloseSandboxServer:
    """A Close-compatible server for tests, demos and offline use.

    >>> with CloseSandboxServer(seed="demo") as sb:            # doctest: +SKIP
    ...     closeio_api.API(sb.api_url + "/", api_key=sb.api_key).get("me")
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        seed: str | Path | dict[str, Any] | None = "demo",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | None = None,
    ) -> None:
        self.sandbox = CloseSandbox(db_path, seed=seed, rate_limit=rate_limit)
        self.app = CloseSandboxApp(self.sandbox)
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls
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
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="bulkio-close-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Close sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def close(self) -> None:
        """Stop serving and close the database."""
        self.stop()
        self.sandbox.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def serve_forever(self) -> None:
        """Block until interrupted (``bulkio sandbox serve --crm close``)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.close()

    # --- facts -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the API lives under ``/api/v1/``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The base URL a Close client takes: ``http://127.0.0.1:PORT/api/v1``."""
        return self.url + "/api/v1"

    @property
    def api_key(self) -> str:
        return self.sandbox.api_key

    @property
    def default_org_id(self) -> str:
        return self.sandbox.default_org_id

    def __repr__(self) -> str:
        return f"CloseSandboxServer(url={self.url!r})"

    # --- org administration (direct, not over HTTP) ------------------------------------------------
    def create_org(
        self,
        seed: str | Path | dict[str, Any] | None = "demo",
        *,
        records: bool = True,
        rate_limit: float | None = None,
    ) -> Org:
        return self.sandbox.create_org(seed, records=records, rate_limit=rate_limit)

    def mint_key(self, org_id: str | None = None, user_id: str | None = None) -> str:
        return self.sandbox.mint_key(org_id, user_id)

    def set_faults(self, org_id: str | None = None, **kw: Any) -> None:
        self.sandbox.set_faults(org_id, **kw)

    def set_options(self, org_id: str | None = None, **kw: Any) -> None:
        self.sandbox.set_options(org_id, **kw)

    def set_rate_limit(
        self,
        org_id: str | None = None,
        *,
        per_second: float,
        window: float | None = None,
        search_per_second: float | None = None,
    ) -> None:
        self.sandbox.set_rate_limit(
            org_id, per_second=per_second, window=window, search_per_second=search_per_second
        )

    def count(self, org_id: str | None, object_type: str) -> int:
        return self.sandbox.count(org_id, object_type)

    def records(self, org_id: str | None, object_type: str) -> list[dict[str, Any]]:
        return self.sandbox.records(org_id, object_type)

    def stats(self, org_id: str | None = None) -> dict[str, Any]:
        return self.sandbox.stats(org_id)
