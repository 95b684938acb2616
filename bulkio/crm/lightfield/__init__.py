"""Lightfield: its client (:mod:`.client`, :class:`LightfieldClient`, the :class:`~bulkio.crm.base.Backend`
the stages use for Lightfield). Its sandbox is :mod:`bulkio.sandbox`; ``bulkio.client`` re-exports
the client for code written before the move."""

from .client import MAX_PAGE, LightfieldClient, parse_error

__all__ = ["MAX_PAGE", "LightfieldClient", "parse_error"]
