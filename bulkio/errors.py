"""Exceptions that stop a run. Row-level data problems are never exceptions: they are
:class:`bulkio.issues.Issue` values inside a report.

The tree::

    BulkioError
    ├── ConfigError          bad settings: no API key, bad base URL, bad option combination
    ├── InputFileError       a source file cannot be opened or parsed at all (names the file)
    ├── LedgerError          the resume ledger is missing, corrupt, or belongs to another input
    ├── SandboxError         the embedded sandbox could not start
    └── ApiError             the API answered with an error that stops the run
        ├── AuthError        401: key missing, invalid or revoked
        ├── ScopeError       403: the key lacks a scope
        └── RateLimitError   429 after every retry was spent

``ApiError`` carries status, ``type``, ``code`` and ``param`` from either error envelope,
plus the method and path of the request. It never carries the API key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What could be (part of) an API key in a message: a ``Bearer`` credential, or anything shaped like
#: a Lightfield key.
_SECRETS = re.compile(r"(?i)(bearer\s+)[^\s'\"\\]+|sk_lf_[^\s'\"\\]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every key-like token and every given secret replaced by ``[redacted]``.

    Exception messages from the HTTP stack can quote request headers (httpx:
    ``Illegal header value b'Bearer sk_lf_…\\r'``); everything bulkio prints about an error goes
    through here.

    >>> redact("Illegal header value b'Bearer sk_lf_0_abc'")
    "Illegal header value b'Bearer [redacted]'"
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _SECRETS.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


class BulkioError(Exception):
    """Base of every exception bulkio raises on purpose."""


class ConfigError(BulkioError):
    """Settings are missing or contradict each other."""


class InputFileError(BulkioError):
    """A source file cannot be read at all. ``path`` names it; ``row``/``column`` when known."""

    def __init__(
        self, message: str, *, path: str | None = None, row: int | None = None, column: str | None = None
    ) -> None:
        self.path, self.row, self.column = path, row, column
        where = ", ".join(
            p for p in (path, f"row {row}" if row else None, f"column {column}" if column else None) if p
        )
        # a message that already names the file (an Issue's text does) is not prefixed again
        named = bool(path) and not row and not column and message.startswith(str(path))
        super().__init__(f"{where}: {message}" if where and not named else message)


class LedgerError(BulkioError):
    """The resume ledger cannot be used (missing, corrupt, or written for a different input)."""


class SandboxError(BulkioError):
    """The embedded sandbox server could not be started."""


class ApiError(BulkioError):
    """An error answer from the Lightfield API (or the sandbox)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        method: str | None = None,
        path: str | None = None,
        body: object = None,
    ) -> None:
        self.status, self.type, self.code, self.param = status, type, code, param
        self.method, self.path, self.body = method, path, body
        self.message = message
        where = f" ({method} {path})" if method and path else ""
        detail = ", ".join(f"{k}={v}" for k, v in (("code", code), ("param", param)) if v)
        super().__init__(f"{status} {type or 'error'}{where}: {message}" + (f" [{detail}]" if detail else ""))


class AuthError(ApiError):
    """401: the API key is missing, invalid or revoked."""


class ScopeError(ApiError):
    """403: the key is valid but lacks the scope for this operation."""


class RateLimitError(ApiError):
    """429 that persisted after every retry allowed by the retry policy."""
