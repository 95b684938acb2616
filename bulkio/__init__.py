"""bulkio: move CRM data between spreadsheets and the Lightfield API."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ApiError, AuthError, BulkioError, ConfigError, InputFileError, LedgerError
from .issues import Issue

__all__ = [
    "ApiError",
    "AuthError",
    "BulkioError",
    "ConfigError",
    "InputFileError",
    "Issue",
    "LedgerError",
    "__version__",
]
