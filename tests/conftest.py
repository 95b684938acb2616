"""Shared fixtures: one sandbox server per test session on a real loopback port, and a fresh,
isolated org (own data, keys, rate limits and fault switches) per test that wants one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkio.client import LightfieldClient
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
