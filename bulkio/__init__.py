"""bulkio: move CRM data between spreadsheets and the Lightfield API.

>>> import bulkio
>>> from bulkio.config import connect
>>> with connect() as client:                       # embedded sandbox without LIGHTFIELD_API_KEY
...     report = bulkio.import_file("accounts.csv", "account", client=client, dry_run=True)
"""

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ApiError,
    AuthError,
    BulkioError,
    ConfigError,
    InputFileError,
    LedgerError,
    RateLimitError,
    SandboxError,
    ScopeError,
)
from .issues import Issue

if TYPE_CHECKING:
    from .client import LightfieldClient
    from .config import connect
    from .export import ExportReport, export_frames, export_objects
    from .pipeline import RowReport, RunReport, import_file, import_frame
    from .protocols import CrmClient
    from .ratelimit import RateLimit, RetryPolicy
    from .template import TemplateInfo, make_template

#: Imported on first use (PEP 562), so ``bulkio --help`` or a CSV import does not load openpyxl,
#: numpy or the HTTP stack it does not need: name → module.
_LAZY = {
    "LightfieldClient": ".client",
    "connect": ".config",
    "ExportReport": ".export",
    "export_frames": ".export",
    "export_objects": ".export",
    "RowReport": ".pipeline",
    "RunReport": ".pipeline",
    "import_file": ".pipeline",
    "import_frame": ".pipeline",
    "CrmClient": ".protocols",
    "RateLimit": ".ratelimit",
    "RetryPolicy": ".ratelimit",
    "TemplateInfo": ".template",
    "make_template": ".template",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bulkio' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # the public API (``__all__``) and the submodules loaded so far; not typing's helpers
    seen = {n for n, v in globals().items() if n.startswith("_") or isinstance(v, type(importlib))}
    return sorted(seen | set(__all__))


__all__ = [
    "ApiError",
    "AuthError",
    "BulkioError",
    "ConfigError",
    "CrmClient",
    "ExportReport",
    "InputFileError",
    "Issue",
    "LedgerError",
    "LightfieldClient",
    "RateLimit",
    "RateLimitError",
    "RetryPolicy",
    "RowReport",
    "RunReport",
    "SandboxError",
    "ScopeError",
    "TemplateInfo",
    "__version__",
    "connect",
    "export_frames",
    "export_objects",
    "import_file",
    "import_frame",
    "make_template",
]
