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


#: Every Lightfield key starts so (API-FACTS §1); the sandbox's keys too (``sk_lf_sandbox_…``).
KEY_PREFIX = "sk_lf_"


def clean_api_key(key: str, *, source: str = "LIGHTFIELD_API_KEY") -> str:
    """The key without surrounding whitespace, checked for shape before the first request.

    A ``.env`` file with Windows line endings leaves ``\\r`` at the end of the key, which the HTTP
    stack refuses with an error quoting the whole header: stripping it is safe (a key never ends in
    whitespace). What is left must be printable ASCII without spaces and start with ``sk_lf_``;
    otherwise :class:`ConfigError` says what is wrong and where, never what the key is.

    >>> clean_api_key(" sk_lf_abc\\r\\n")
    'sk_lf_abc'
    """
    text = key.strip()
    if not text:
        raise ConfigError(f"The API key in {source} is empty.")
    for i, ch in enumerate(text, start=1):
        if not ("!" <= ch <= "~"):
            what = (
                "a line break"
                if ch in "\r\n"
                else "a space"
                if ch.isspace()
                else "a control character"
                if ord(ch) < 32 or ord(ch) == 127
                else "a non-ASCII character"
            )
            raise ConfigError(
                f"The API key in {source} contains {what} at position {i} of {len(text)}; "
                "copy the key again (API keys are letters, digits and _ only)."
            )
    if not text.startswith(KEY_PREFIX):
        raise ConfigError(
            f"The API key in {source} does not start with {KEY_PREFIX} as Lightfield keys do "
            f"({len(text)} characters); check that it is a Lightfield API key."
        )
    return text


def api_key_from_env(api_key: str | SecretStr | None = None) -> SecretStr | None:
    if isinstance(api_key, SecretStr):
        api_key = api_key.get_secret_value()
    value = api_key or os.environ.get("LIGHTFIELD_API_KEY")
    if value is None or not value.strip():
        return None
    return SecretStr(
        clean_api_key(value, source="--api-key / LIGHTFIELD_API_KEY" if api_key else "LIGHTFIELD_API_KEY")
    )


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
    afterwards. The embedded sandbox runs the strict profile
    (``BULKIO_SANDBOX_PROFILE`` picks another) without list lag (``BULKIO_SANDBOX_INDEX_LAG_MS`` sets
    one).
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
    server = SandboxServer(db_path=db, seed="demo").start()
    try:
        if not os.environ.get("BULKIO_SANDBOX_INDEX_LAG_MS"):
            # The embedded sandbox is a demo and offline target, not a test of bulkio: an export
            # right after an import shows what was imported (the strict profile's other choices,
            # and its lag under ``bulkio sandbox serve``, stay).
            server.set_faults(None, index_lag_ms=0)
        with LightfieldClient(api_key=server.api_key, base_url=server.url, **client_options) as client:
            EMBEDDED[client] = server
            # the port and the (session) key are new every time: runs and known records follow the
            # database and its default org instead
            client.target = f"sandbox:{db.resolve()}#{server.default_org_id}"
            yield client
    finally:
        server.close(wait=False)  # the client is closed: nothing is in flight to wait for


#: The embedded sandbox a client from :func:`connect` talks to (for what only a sandbox can do,
#: such as adding the fields ``bulkio migrate`` needs).
EMBEDDED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def embedded_sandbox(client: Any) -> Any:
    """The :class:`~bulkio.sandbox.SandboxServer` behind ``client``, if :func:`connect` started one."""
    return EMBEDDED.get(client)
