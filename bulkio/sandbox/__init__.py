"""A local, Lightfield-compatible API server backed by SQLite.

Public surface::

    from bulkio.sandbox import SandboxServer, create_app

    with SandboxServer(seed="demo") as sb:        # uvicorn on 127.0.0.1, a free port, in a thread
                                                    # (profile="strict" by default, or "lenient")
        sb.url                                      # "http://127.0.0.1:54321"
        sb.api_key                                  # full-access key of the default org
        org = sb.create_org(seed="demo")            # an isolated org: org.org_id, org.api_key
        key = sb.mint_key(org.org_id, scopes=["accounts:read"])
        sb.set_faults(org.org_id, error_rate=0.1)   # latency_ms, jitter_ms, error_rate, drop_rate,
                                                    # reset_rate, index_lag_ms, seed
        sb.set_rate_limit(org.org_id, per_second=25)
        sb.count(org.org_id, "account")             # direct reads for assertions
        sb.records(org.org_id, "account")           # API-shaped records, newest first
        sb.stats(org.org_id)                        # {"requests": .., "by_status": {429: ..}, ...}

Behaviour choices where the Lightfield contract is silent are listed in :mod:`bulkio.sandbox.app`.
The sandbox never imports bulkio's client-side modules.
"""

from .app import SandboxApp, create_app
from .core import Org, Sandbox
from .profile import LENIENT, STRICT, Profile
from .server import SandboxServer

__all__ = ["LENIENT", "STRICT", "Org", "Profile", "Sandbox", "SandboxApp", "SandboxServer", "create_app"]
