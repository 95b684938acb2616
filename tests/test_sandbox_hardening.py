"""The sandbox under attack (issue 10 §8): scopes on custom objects, binding, the db file, hostile
bodies and odd methods. Every answer is a JSON error envelope, never a 500 text/plain page, and a
rejected write leaves no trace."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.sandbox import SandboxServer

VERSION = {"Lightfield-Version": "2026-03-01"}


def connect(sandbox: SandboxServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {key}", **VERSION})


def envelope(r: httpx.Response) -> dict[str, Any]:
    """The error of a JSON error envelope (fails on text/plain or any other shape)."""
    assert r.headers["content-type"].startswith("application/json"), (r.status_code, r.text[:200])
    body = r.json()
    assert set(body) == {"error"} and {"type", "message"} <= set(body["error"]), body
    return body["error"]  # type: ignore[no-any-return]


# --- binding ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["", "0", "0.0.0.0", "::", "[::]"])
def test_binding_every_interface_needs_allow_remote(host: str) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        SandboxServer(host=host)
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--host", host, "--port", "0"])
    assert result.exit_code == 2 and "--allow-remote" in result.output, result.output


def test_loopback_names_need_nothing() -> None:
    from bulkio.sandbox.server import check_host

    assert check_host("127.0.0.1") == ("127.0.0.1", False)
    assert check_host("localhost") == ("127.0.0.1", False)
    assert check_host("::1") == ("::1", False)
    assert check_host("0", allow_remote=True) == ("0.0.0.0", True)


def test_allowed_remote_bind_prints_a_reachable_url_and_warns(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkio", "sandbox", "serve", "--host", "0", "--allow-remote", "--port", "0"]
        + ["--db", str(tmp_path / "remote.sqlite3")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        warning = proc.stderr.readline()
        lines = [proc.stdout.readline() for _ in range(3)]
        assert warning.startswith("WARNING: the sandbox listens on 0.0.0.0"), warning
        url = lines[1].strip().split("=", 1)[1]
        key = lines[2].strip().split("=", 1)[1]
        assert url.startswith("http://127.0.0.1:") and "://:" not in lines[0], lines
        r = httpx.get(url + "/v1/accounts", headers={"Authorization": f"Bearer {key}", **VERSION})
        assert r.status_code == 200
        port = httpx.URL(url).port
        listening = {
            c.laddr.ip
            for c in psutil.Process(proc.pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        }
        assert listening == {"0.0.0.0"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- the db file -----------------------------------------------------------------------------------
def test_db_holds_key_hashes_only_and_is_private(tmp_path: Path) -> None:
    db = tmp_path / "keys.sqlite3"
    with SandboxServer(db_path=db) as sb:
        keys = [sb.api_key, sb.mint_key(scopes=["accounts:read"]), sb.create_org(records=False).api_key]
        assert connect(sb, keys[0]).get("/v1/accounts").status_code == 200
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
        for key in keys:
            assert key.encode() not in raw and key.rsplit("_", 1)[1].encode() not in raw
        for p in tmp_path.iterdir():  # the db and its -wal / -shm files
            assert p.stat().st_mode & 0o077 == 0, (p.name, oct(p.stat().st_mode))


def test_a_world_readable_db_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with SandboxServer(db_path=db):
        pass
    os.chmod(db, 0o644)
    with SandboxServer(db_path=db):
        assert db.stat().st_mode & 0o777 == 0o600


# --- hostile bodies --------------------------------------------------------------------------------
def post_raw(api: httpx.Client, path: str, body: bytes) -> httpx.Response:
    return api.post(path, content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [
        b'{"fields": {"$name": "\\ud800"}}',
        b'{"fields": {"$name": "ok", "external_id": "a\\udfffb"}}',
        b'{"fields": {"\\ud800": 1}}',
        b'{"fields": {"$name": "x"}, "relationships": {"$owner": "mem_\\ud83d"}}',
    ],
)
def test_lone_surrogate_is_400_and_leaves_no_phantom(
    sandbox: SandboxServer, empty_org: Any, body: bytes
) -> None:
    sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
    with connect(sandbox, empty_org.api_key) as api:
        r = post_raw(api, "/v1/accounts", body)
        assert r.status_code == 400 and envelope(r)["code"] == "invalid_type"
        assert "surrogate" in envelope(r)["message"]
        assert sandbox.count(empty_org.org_id, "account") == 0
        listed = api.get("/v1/accounts")
        assert listed.status_code == 200 and listed.json()["totalCount"] == 0
        acc = api.post("/v1/accounts", json={"fields": {"$name": "Fine"}}).json()
        upd = post_raw(api, f"/v1/accounts/{acc['id']}", b'{"fields": {"$name": "\\udc00"}}')
        assert upd.status_code == 400 and envelope(upd)["code"] == "invalid_type"
        assert api.get(f"/v1/accounts/{acc['id']}").json()["fields"]["$name"]["value"] == "Fine"
        assert api.get("/v1/accounts").json()["totalCount"] == 1


@pytest.mark.parametrize("depth", [100, 5000, 200_000])
def test_deeply_nested_json_is_a_4xx_envelope(sandbox: SandboxServer, empty_org: Any, depth: int) -> None:
    nested = b'{"fields": {"$name": ' + b"[" * depth + b"]" * depth + b"}}"
    with connect(sandbox, empty_org.api_key) as api:
        r = post_raw(api, "/v1/accounts", nested)
        assert 400 <= r.status_code < 500, r.status_code
        envelope(r)
        assert api.get("/v1/accounts").status_code == 200
    assert sandbox.count(empty_org.org_id, "account") == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize(
    "path",
    [
        "/v1/objects",
        "/v1/objects/partner",
        "/v1/accounts",
        "/v1/accounts/acc_x",
        "/v1/auth/validate",
        "/v1/members",
        "/v1/accounts/definitions",
        "/v1/lists/list_x/accounts",
        "/v2/accounts",
        "/",
    ],
)
def test_unexpected_methods_and_paths_are_json_4xx(
    sandbox: SandboxServer, org: Any, method: str, path: str
) -> None:
    with connect(sandbox, org.api_key) as api:
        r = api.request(method, path, json={"fields": {"$name": "X"}})
    if method == "POST" and path in ("/v1/accounts", "/v1/accounts/acc_x", "/v1/objects/partner"):
        assert r.status_code in (200, 404), r.text  # real operations (or a missing record)
    else:
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    if r.status_code != 200:
        envelope(r)


def test_a_server_bug_still_answers_with_the_envelope(
    sandbox: SandboxServer, org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(sandbox.sandbox, "create", broken)
    with connect(sandbox, org.api_key) as api:
        r = api.post("/v1/accounts", json={"fields": {"$name": "X"}})
        assert r.status_code == 500 and envelope(r)["type"] == "internal_server_error"
        assert api.get("/v1/accounts", params={"limit": 1}).status_code == 200


def test_hostile_queries_are_answered(sandbox: SandboxServer, org: Any) -> None:
    with socket.create_connection((httpx.URL(sandbox.url).host, httpx.URL(sandbox.url).port)) as s:
        s.sendall(
            b"GET /v1/accounts?%ff%fe=%80 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + org.api_key.encode()
            + b"\r\nLightfield-Version: 2026-03-01\r\nConnection: close\r\n\r\n"
        )
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(body)["error"]["code"] == "unknown_field"
