"""Shared fixtures: one sandbox server per test session on a real loopback port, and a fresh,
isolated org (own data, keys, rate limits and fault switches) per test that wants one.

Run state never touches the real user folder: every test gets its own ``BULKIO_STATE_DIR``, and the
per-user data folder itself (``XDG_DATA_HOME``) points into a temporary folder for the session, in
case a subprocess drops the variable."""

from __future__ import annotations

import os
import tempfile
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


def pytest_configure(config: pytest.Config) -> None:
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="bulkio-tests-xdg-")


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own state folder (ledger, embedded sandbox), via ``BULKIO_STATE_DIR``; outside
    ``tmp_path``, so tests that check what a command left in their folder see only its outputs."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("BULKIO_STATE_DIR", str(folder))
    return folder


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
