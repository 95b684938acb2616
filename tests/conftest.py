"""Shared fixtures: one sandbox server per test session on a real loopback port, and a fresh,
isolated org (own data, keys, rate limits and fault switches) per test that wants one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bulkio.client import LightfieldClient
from bulkio.crm.close import CloseBackend
from bulkio.crm.close.sandbox import CloseSandboxServer
from bulkio.crm.close.sandbox import Org as CloseOrg
from bulkio.sandbox import SandboxServer

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"
    with SandboxServer(db_path=db, seed="demo") as server:
        yield server


@pytest.fixture
def org(sandbox: SandboxServer):
    """A fresh demo org for this test (its own records, key, rate limit and faults)."""
    return sandbox.create_org(seed="demo")


@pytest.fixture
def empty_org(sandbox: SandboxServer):
    """A fresh org with the demo definitions but no records."""
    return sandbox.create_org(seed="demo", records=False)


@pytest.fixture
def client(sandbox: SandboxServer, org) -> Iterator[LightfieldClient]:
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        yield lf


@pytest.fixture
def data_dir() -> Path:
    return DATA


# --- the Close sandbox (bulkio.crm.close.sandbox) -------------------------------------------------
@pytest.fixture(scope="session")
def close_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloseSandboxServer]:
    db = tmp_path_factory.mktemp("close-sandbox") / "close-sandbox.sqlite3"
    with CloseSandboxServer(db_path=db, seed="demo") as server:
        yield server


@pytest.fixture
def close_org(close_sandbox: CloseSandboxServer) -> CloseOrg:
    """A fresh Close demo org whose rate limits are high enough not to get in a test's way."""
    org = close_sandbox.create_org(seed="demo")
    close_sandbox.set_rate_limit(org.org_id, per_second=1000, search_per_second=1000)
    return org


@pytest.fixture
def close_api(close_sandbox: CloseSandboxServer, close_org: CloseOrg) -> Iterator[httpx.Client]:
    """An httpx client on the Close org's API root (``/api/v1``), Basic auth with the key."""
    with httpx.Client(base_url=close_sandbox.api_url, auth=(close_org.api_key, "")) as c:
        yield c


@pytest.fixture
def close_backend(close_sandbox: CloseSandboxServer, close_org: CloseOrg) -> Iterator[CloseBackend]:
    """The Close backend (bulkio.crm.close) on the fresh Close demo org."""
    with CloseBackend(api_key=close_org.api_key, base_url=close_sandbox.api_url, search_lag=1.0) as backend:
        yield backend
