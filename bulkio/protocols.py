"""The typed face of a CRM client, as the library's public functions use it.

Why a protocol: :func:`bulkio.import_file`, :func:`bulkio.export_objects`, :func:`bulkio.make_template`
and friends need a handful of calls (definitions, paged lists, create, update), not the
:class:`~bulkio.client.LightfieldClient` class itself. Typing them against :class:`CrmClient` lets a
user pass a wrapper (a recording client in tests, another CRM's backend such as Close's) and still
have ``mypy --strict`` check the call; ``LightfieldClient`` and ``CloseBackend`` satisfy it
structurally (tests check that). It is :class:`bulkio.crm.base.Backend`, defined there with the
other CRM-neutral types.

>>> def count_accounts(client: CrmClient) -> int:
...     return sum(1 for _ in client.list_all("account"))
"""

from __future__ import annotations

from .crm.base import Backend, Filters

#: The protocol of :mod:`bulkio.crm.base` under its first name: one protocol, two names (users'
#: code typed against ``CrmClient`` keeps working; new code can say ``Backend``).
CrmClient = Backend

__all__ = ["CrmClient", "Filters"]
