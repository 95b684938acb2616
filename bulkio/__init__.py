"""bulkio: move CRM data between spreadsheets and the Lightfield API.

>>> import bulkio
>>> from bulkio.config import connect
>>> with connect() as client:                       # embedded sandbox without LIGHTFIELD_API_KEY
...     report = bulkio.import_file("accounts.csv", "account", client=client, dry_run=True)
"""

__version__ = "0.1.0"

from .client import LightfieldClient
from .config import connect
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
from .export import ExportReport, export_frames, export_objects
from .issues import Issue
from .pipeline import RowReport, RunReport, import_file, import_frame
from .protocols import CrmClient
from .ratelimit import RateLimit, RetryPolicy
from .template import TemplateInfo, make_template

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
