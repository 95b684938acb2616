"""Run the page with uvicorn on a loopback port: in a thread (tests, Python users) or in the
foreground (``bulkio ui``).

It listens on loopback only: a host that is not a loopback address is refused before a socket is
opened, since the page can read and write files and reach the CRM with the key it holds.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import webbrowser
from pathlib import Path
from typing import Any, Self

import uvicorn

from ..errors import ConfigError
from ..state import StatePath
from .app import MAX_UPLOAD, UiSession, create_app
from .security import Guard, new_token


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class UiServer:
    """``bulkio ui`` as an object: start it, open :attr:`url` (it carries the token), stop it.

    >>> with UiServer(client, file="deals.csv") as ui:     # doctest: +SKIP
    ...     webbrowser.open(ui.url)
    """

    def __init__(
        self,
        client: Any,
        *,
        file: str | Path | None = None,
        object_type: str | None = None,
        sheet: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        state_dir: StatePath | None = None,
        work_dir: str | Path | None = None,
        max_upload: int = MAX_UPLOAD,
    ) -> None:
        if not _loopback(host):
            raise ConfigError(f"bulkio ui listens on loopback only (127.0.0.1, ::1, localhost), not {host!r}")
        self.host, self.port = host, port
        self.token = token or new_token()
        self.guard: Guard
        self.session: UiSession
        self.guard, self.session = create_app(
            client,
            file=file,
            object_type=object_type,
            sheet=sheet,
            token=self.token,
            state_dir=state_dir,
            work_dir=work_dir,
            max_upload=max_upload,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def start(self) -> Self:
        if self._thread is not None:
            return self
        host = "127.0.0.1" if self.host == "localhost" else self.host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((host, self.port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot listen on {host}:{self.port} ({exc.strerror or exc})") from None
        sock.listen(64)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.guard.port = self.port
        config = uvicorn.Config(
            self.guard,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="bulkio-ui", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the bulkio ui server did not start")
            time.sleep(0.005)
        return self

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host == "localhost" else self.host.strip("[]")
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The address to open: it carries the token once (then a cookie does)."""
        return f"{self.base_url}/?token={self.token}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def close(self) -> None:
        self.session.stop()  # pages waiting for rows and runs in flight end first
        self.stop()
        self.session.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def serve_forever(self, *, open_browser: bool = True) -> None:
        """Start, open the browser (unless told not to), and block until interrupted."""
        self.start()
        if open_browser:
            webbrowser.open(self.url)
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.close()


def serve(
    client: Any, *, file: str | Path | None = None, port: int = 0, open_browser: bool = True, **kw: Any
) -> None:
    """Run the page in the foreground until Ctrl-C (what ``bulkio ui`` calls)."""
    UiServer(client, file=file, port=port, **kw).serve_forever(open_browser=open_browser)
