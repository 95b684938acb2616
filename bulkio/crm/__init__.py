"""One package per CRM bulkio speaks, behind the :class:`~bulkio.crm.base.Backend` protocol.

``bulkio/crm/base.py`` holds the protocol and the shared types; ``bulkio/crm/close/`` the Close
client, its value encodings and its sandbox. :func:`connect` yields a backend for a CRM by name:

>>> from bulkio.crm import connect
>>> with connect("close") as close:                  # doctest: +SKIP
...     close.schema("opportunity")
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from ..errors import ConfigError

#: The CRMs bulkio speaks (``--crm``; ``BULKIO_CRM`` picks the default).
CRMS: tuple[str, ...] = ("lightfield", "close")


def crm_from_env(crm: str | None = None) -> str:
    """``crm`` when given, else ``BULKIO_CRM``, else ``lightfield`` (checked, lower case)."""
    name = (crm or os.environ.get("BULKIO_CRM") or "lightfield").strip().lower()
    if name not in CRMS:
        raise ConfigError(f"Unknown CRM {name!r}: bulkio speaks {', '.join(CRMS)}.")
    return name


@contextmanager
def connect(
    crm: str | None = None,
    *,
    api_key: str | SecretStr | None = None,
    base_url: str | None = None,
    sandbox_db: str | Path | None = None,
    **options: Any,
) -> Iterator[Any]:
    """A ready backend for ``crm`` (``"lightfield"`` or ``"close"``): the real API with a key
    (``LIGHTFIELD_API_KEY`` / ``CLOSE_API_KEY``), else that CRM's embedded sandbox."""
    name = crm_from_env(crm)
    if name == "close":
        from .close.config import connect_close

        with connect_close(api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, **options) as backend:
            yield backend
        return
    from ..config import connect as connect_lightfield

    with connect_lightfield(api_key=api_key, base_url=base_url, sandbox_db=sandbox_db, **options) as client:
        yield client


__all__ = ["CRMS", "connect", "crm_from_env"]
