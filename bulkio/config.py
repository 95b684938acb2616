"""Where bulkio connects: the real API given a key, or the embedded sandbox by default.

The key comes from ``api_key=`` or ``LIGHTFIELD_API_KEY`` and is held as a pydantic ``SecretStr``,
so it never shows in a repr, a log line or a traceback.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from .errors import ConfigError
from .state import sandbox_db_path

if TYPE_CHECKING:
    from .client import LightfieldClient

DEFAULT_BASE_URL = "https://api.lightfield.app"
API_VERSION = "2026-03-01"


def api_key_from_env(api_key: str | SecretStr | None = None) -> SecretStr | None:
    if isinstance(api_key, SecretStr):
        return api_key
    value = api_key or os.environ.get("LIGHTFIELD_API_KEY")
    return SecretStr(value) if value else None


@contextmanager
def connect(
    *,
    api_key: str | SecretStr | None = None,
    base_url: str | None = None,
    sandbox_db: str | Path | None = None,
    state_dir: str | Path | None = None,
    **client_options: Any,
) -> Iterator[LightfieldClient]:
    """Yield a ready :class:`~bulkio.client.LightfieldClient`.

    With a key (argument or ``LIGHTFIELD_API_KEY``) it talks to ``base_url`` (or
    ``LIGHTFIELD_BASE_URL``, default the real service). Without one it starts the embedded sandbox
    on a loopback port, backed by ``sandbox_db`` (default: ``sandbox.sqlite3`` in the state folder,
    :func:`bulkio.state.sandbox_db_path`; seeded with the demo org on first use), and stops it
    afterwards.
    """
    from .client import LightfieldClient

    key = api_key_from_env(api_key)
    url = base_url or os.environ.get("LIGHTFIELD_BASE_URL")
    if key is not None:
        with LightfieldClient(
            api_key=key.get_secret_value(), base_url=url or DEFAULT_BASE_URL, **client_options
        ) as client:
            yield client
        return
    if url:
        raise ConfigError(
            f"A base URL is set ({url}) but no API key: set LIGHTFIELD_API_KEY or pass "
            "--api-key. Leave both unset to use the embedded sandbox."
        )
    from .sandbox import SandboxServer

    db = Path(sandbox_db) if sandbox_db else sandbox_db_path(state_dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    with (
        SandboxServer(db_path=db, seed="demo") as server,
        LightfieldClient(api_key=server.api_key, base_url=server.url, **client_options) as client,
    ):
        EMBEDDED[client] = server
        # the port is new every time: runs and known records follow the database instead
        client.target = f"sandbox:{db.resolve()}#{client.key_fingerprint}"
        yield client


#: The embedded sandbox a client from :func:`connect` talks to (for what only a sandbox can do,
#: such as adding the fields ``bulkio migrate`` needs).
EMBEDDED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def embedded_sandbox(client: Any) -> Any:
    """The :class:`~bulkio.sandbox.SandboxServer` behind ``client``, if :func:`connect` started one."""
    return EMBEDDED.get(client)
