"""A local, Close-compatible API server backed by SQLite (issue 12, part 1).

Public surface::

    from bulkio.crm.close.sandbox import CloseSandboxServer

    with CloseSandboxServer(seed="demo") as sb:      # uvicorn on 127.0.0.1, a free port, in a thread
        sb.api_url                                    # "http://127.0.0.1:54321/api/v1"
        sb.api_key                                    # key of the default org's first user
        org = sb.create_org(seed="big")               # an isolated org: org.org_id, .api_key, .user_id
        key = sb.mint_key(org.org_id, user_id=None)   # another key (per user, as on Close)
        sb.set_faults(org.org_id, error_rate=0.1)     # latency_ms, jitter_ms, error_rate, drop_rate,
                                                      # reset_rate, rate_429, index_lag_ms, seed
        sb.set_rate_limit(org.org_id, per_second=20, window=8, search_per_second=2)
        sb.set_options(org.org_id, rate_limit_body="flat")   # the switches for UNVERIFIED points
        sb.count(org.org_id, "opportunity")           # direct reads for assertions
        sb.records(org.org_id, "lead")                # API-shaped records, oldest first
        sb.stats(org.org_id)                          # {"requests", "by_status", "by_group", ...}

What it serves and every choice it makes where the sources are silent: docs/sandbox-close.md.
It imports nothing from bulkio's client-side modules, nor from the Lightfield sandbox.
"""

from .app import CloseSandboxApp, create_app
from .core import CloseSandbox, Org
from .server import CloseSandboxServer

__all__ = ["CloseSandbox", "CloseSandboxApp", "CloseSandboxServer", "Org", "create_app"]
