"""Where a Close run connects: the real API given a key, or the embedded Close sandbox.

The same rule as :func:`bulkio.config.connect` for Lightfield: with a key (``api_key=`` or
``CLOSE_API_KEY``) bulkio talks to ``base_url`` (or ``CLOSE_BASE_URL``, default
``https://api.close.com/api/v1``); without one it starts the embedded Close sandbox on a loopback
port, backed by ``sandbox_db`` (default ``close-sandbox.sqlite3`` in the state folder; seeded with the
demo org on first use).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from ...errors import ConfigError
from .backend import CloseBackend

#: The embedded Close sandbox's file, next to the Lightfield sandbox's in the state folder.
CLOSE_SANDBOX_FILE = "close-sandbox.sqlite3"


def close_sandbox_db_path(state_dir: str | Path | None = None) -> Path:
    """The embedded Close sandbox's SQLite file in the state folder (:mod:`bulkio.state`)."""
    from ...state import sandbox_db_path

    return sandbox_db_path(state_dir).with_name(CLOSE_SANDBOX_FILE)


def close_key_from_env(api_key: str | SecretStr | None = None) -> SecretStr | None:
    if isinstance(api_key, SecretStr):
        return api_key
    value = api_key or os.environ.get("CLOSE_API_KEY")
    return SecretStr(value) if value else None


@contextmanager
def connect_close(
    *,
    api_key: str | SecretStr | None = None,
    base_url: str | None = None,
    sandbox_db: str | Path | None = None,
    state_dir: str | Path | None = None,
    search_lag: float | None = None,
    **client_options: Any,
) -> Iterator[CloseBackend]:
    """Yield a ready :class:`~bulkio.crm.close.backend.CloseBackend`.

    >>> with connect_close() as close:                     # doctest: +SKIP
    ...     close.schema("opportunity")
    """
    key = close_key_from_env(api_key)
    url = base_url or os.environ.get("CLOSE_BASE_URL")
    extra: dict[str, Any] = {} if search_lag is None else {"search_lag": search_lag}
    if key is not None:
        with CloseBackend(
            api_key=key.get_secret_value(), base_url=url or None, **extra, **client_options
        ) as backend:
            yield backend
        return
    if url:
        raise ConfigError(
            f"A Close base URL is set ({url}) but no API key: set CLOSE_API_KEY or pass --api-key. "
            "Leave both unset to use the embedded Close sandbox."
        )
    from .sandbox import CloseSandboxServer

    db = Path(sandbox_db) if sandbox_db else close_sandbox_db_path(state_dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    with (
        CloseSandboxServer(db_path=db, seed="demo") as server,
        CloseBackend(api_key=server.api_key, base_url=server.api_url, **extra, **client_options) as backend,
    ):
        # the port is new every time: runs and known records follow the database instead
        backend.target = f"close-sandbox:{db.resolve()}#{backend.key_fingerprint}"
        yield backend


__all__ = ["CLOSE_SANDBOX_FILE", "close_key_from_env", "close_sandbox_db_path", "connect_close"]
