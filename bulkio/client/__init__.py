"""``bulkio.client``: the Lightfield client under its first name (it lives in
:mod:`bulkio.crm.lightfield.client` since bulkio speaks more than one CRM)."""

from ..crm.base import ClientStats
from ..crm.lightfield.client import MAX_PAGE, Filters, LightfieldClient, parse_error
from ..ratelimit import RateLimit, RetryPolicy

__all__ = [
    "MAX_PAGE",
    "ClientStats",
    "Filters",
    "LightfieldClient",
    "RateLimit",
    "RetryPolicy",
    "parse_error",
]
