"""Close CRM: its client (:mod:`.client`), the translation to bulkio's neutral records
(:mod:`.encode`), the :class:`~bulkio.crm.base.Backend` the stages use (:mod:`.backend`), how to
connect (:mod:`.config`), its pipeline Summary (:mod:`.summary`) and its local sandbox
(:mod:`.sandbox`)."""

from .backend import CloseBackend
from .client import CloseClient, UnconfirmedWrite
from .config import connect_close

__all__ = ["CloseBackend", "CloseClient", "UnconfirmedWrite", "connect_close"]
