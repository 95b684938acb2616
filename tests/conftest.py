"""Shared fixtures: one sandbox server per test session on a real loopback port, and a fresh,
isolated org (own data, keys, rate limits and fault switches) per test that wants one.

The session sandbox runs the **strict** profile (list lag, option ids only, case-sensitive
matching…: the least forgiving reading of the API docs), so the importer is tested against a
server no kinder than the real one. ``pytest --sandbox-profile lenient`` (or
``BULKIO_SANDBOX_PROFILE=lenient``) runs the whole suite against the lenient profile instead; both
must pass. Tests of one profile's own choices use ``strict_sandbox`` / ``lenient_sandbox``.

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
from bulkio.sandbox.profile import get_profile

DATA = Path(__file__).parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sandbox-profile",
        choices=("strict", "lenient"),
        default=os.environ.get("BULKIO_SANDBOX_PROFILE") or "strict",
        help="Profile of the session sandbox the importer tests run against (default: strict).",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"sandbox profile: {config.getoption('--sandbox-profile')}"


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
def sandbox_profile(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--sandbox-profile"))


#: The strict profile's list lag in the suite: the same behaviour as its 2 s default, at a quarter of the
#: waiting (the lag is a per-org setting; tests of the lag itself set their own).
SUITE_LIST_LAG_MS = 500.0


def _server(tmp_path_factory: pytest.TempPathFactory, profile: str) -> Iterator[SandboxServer]:
    db = tmp_path_factory.mktemp(f"sandbox-{profile}") / "sandbox.sqlite3"
    chosen = get_profile(profile)
    if chosen.index_lag_ms:
        chosen = chosen.with_lag(SUITE_LIST_LAG_MS)
    with SandboxServer(db_path=db, seed="demo", profile=chosen) as server:
        yield server


@pytest.fixture(scope="session")
def strict_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    yield from _server(tmp_path_factory, "strict")


@pytest.fixture(scope="session")
def lenient_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    yield from _server(tmp_path_factory, "lenient")


@pytest.fixture(scope="session")
def sandbox(request: pytest.FixtureRequest, sandbox_profile: str) -> SandboxServer:
    """The session sandbox, in the profile chosen with ``--sandbox-profile`` (strict by default)."""
    server: SandboxServer = request.getfixturevalue(f"{sandbox_profile}_sandbox")
    return server


@pytest.fixture
def org(sandbox: SandboxServer):
    """A fresh demo org for this test (its own records, key, rate limit and faults)."""
    return sandbox.create_org(seed="demo")


@pytest.fixture
def empty_org(sandbox: SandboxServer):
    """A fresh org with the demo definitions but no records."""
    return sandbox.create_org(seed="demo", records=False)


@pytest.fixture
def no_list_lag(sandbox: SandboxServer, org, empty_org) -> None:
    """For a test that reads back through lists what it has just written, where list lag is not its
    subject (a real client would wait, or retrieve by id): ``org``'s and ``empty_org``'s lists show
    new records at once."""
    for o in (org, empty_org):
        sandbox.set_faults(o.org_id, index_lag_ms=0)


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
