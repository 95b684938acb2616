"""SandboxServer lifecycle, persistence, seeds, and the ``bulkio sandbox`` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.sandbox import SandboxServer

VERSION = {"Lightfield-Version": "2026-03-01"}


def get(server: SandboxServer, path: str, key: str | None = None, **params: Any) -> httpx.Response:
    return httpx.get(
        server.url + path,
        params=params,
        headers={"Authorization": f"Bearer {key or server.api_key}", **VERSION},
    )


def test_restart_keeps_data_and_minted_keys(tmp_path: Path) -> None:
    """Data, orgs and minted keys survive a restart. The default org's key is a session key: the
    file keeps key hashes only, so each server mints its own and forgets it when it stops."""
    db = tmp_path / "sb.sqlite3"
    with SandboxServer(db_path=db) as one:
        key, org_id = one.api_key, one.default_org_id
        assert one.url.startswith("http://127.0.0.1:")
        r = httpx.post(
            one.url + "/v1/accounts",
            json={"fields": {"$name": "Kept", "external_id": "K-1"}},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "keep", **VERSION},
        )
        created = r.json()
        auth = {"Authorization": f"Bearer {key}", **VERSION}
        opp = httpx.post(
            one.url + "/v1/opportunities",
            headers=auth,
            json={
                "fields": {"$name": "Linked", "$stage": "Lead"},
                "relationships": {"$account": created["id"]},
            },
        ).json()
        con = httpx.post(
            one.url + "/v1/contacts",
            headers=auth,
            json={"fields": {}, "relationships": {"$account": created["id"]}},
        ).json()
        linked = get(one, f"/v1/accounts/{created['id']}").json()
        scoped = one.mint_key(scopes=["accounts:read"])
        other = one.create_org(records=False)
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("sb.sqlite3*"))
    for secret in (key, scoped, other.api_key):
        assert secret.encode() not in raw and secret.rsplit("_", 1)[1].encode() not in raw
    assert db.stat().st_mode & 0o777 == 0o600
    with SandboxServer(db_path=db, seed={"objects": {}}) as two:  # an existing db is never re-seeded
        two.set_faults(None, index_lag_ms=0)  # persistence, not list lag
        assert two.default_org_id == org_id and two.api_key != key
        assert get(two, "/v1/accounts", key=key).status_code == 401  # the old session is over
        assert get(two, f"/v1/accounts/{created['id']}").json() == linked
        assert linked["relationships"]["$opportunity"]["values"] == [opp["id"]]
        assert linked["relationships"]["$contact"]["values"] == [con["id"]]
        assert get(two, f"/v1/contacts/{con['id']}").json() == con
        assert get(two, "/v1/accounts").json()["totalCount"] == 26
        assert (
            get(two, "/v1/opportunities", **{"$opportunity-account": created["id"]}).json()["totalCount"] == 1
        )
        assert get(two, "/v1/accounts", external_id="K-1").json()["data"][0]["id"] == created["id"]
        assert get(two, "/v1/accounts", key=scoped).status_code == 200
        assert get(two, "/v1/auth/validate", key=other.api_key).status_code == 200
        replay = httpx.post(
            two.url + "/v1/accounts",
            json={"fields": {"$name": "Kept", "external_id": "K-1"}},
            headers={"Authorization": f"Bearer {two.api_key}", "Idempotency-Key": "keep", **VERSION},
        )
        assert replay.json() == created
        dup = httpx.post(
            two.url + "/v1/accounts",
            json={"fields": {"$name": "D", "external_id": "K-1"}},
            headers={"Authorization": f"Bearer {two.api_key}", **VERSION},
        )
        assert dup.status_code == 422
        assert two.count(None, "account") == 26


def test_temp_db_and_repeated_start_stop() -> None:
    server = SandboxServer(seed=None)
    for _ in range(2):
        server.start()
        assert get(server, "/v1/accounts").json()["totalCount"] == 0  # seed=None: definitions, no records
        assert get(server, "/v1/members").json()["totalCount"] == 3
        server.stop()
    server.close()


def test_custom_seed_dict_and_file(sandbox: SandboxServer, tmp_path: Path) -> None:
    seed = {
        "name": "Tiny",
        "members": [{"id": "mem_x", "email": "x@t.test", "firstName": "X", "lastName": "Y"}],
        "objects": {
            "account": {
                "label": "Account",
                "collection": "accounts",
                "idPrefix": "acc_",
                "required": ["$name"],
                "fields": {
                    "$name": {"label": "Name", "valueType": "TEXT", "typeConfiguration": {}},
                    "code": {"label": "Code", "valueType": "TEXT", "typeConfiguration": {"unique": True}},
                },
                "relationships": {},
            }
        },
        "records": {
            "account": [
                {"id": "acc_fixed", "fields": {"$name": "Fixed", "code": "C1"}, "externalId": "legacy-1"}
            ]
        },
    }
    org = sandbox.create_org(seed)
    acc = get(sandbox, "/v1/accounts/acc_fixed", key=org.api_key).json()
    assert acc["externalId"] == "legacy-1" and set(acc["fields"]) == {"$name", "code"}
    assert get(sandbox, "/v1/contacts", key=org.api_key).status_code == 404
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    org2 = sandbox.create_org(str(path))
    assert sandbox.records(org2.org_id, "account")[0]["fields"]["code"]["value"] == "C1"
    r = httpx.post(
        sandbox.url + "/v1/accounts",
        json={"fields": {"$name": "Z", "code": "C1"}},
        headers={"Authorization": f"Bearer {org2.api_key}", **VERSION},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "duplicate_value"


def test_orgs_are_isolated(sandbox: SandboxServer, org: Any, empty_org: Any) -> None:
    acc = sandbox.records(org.org_id, "account")[0]["id"]
    assert get(sandbox, f"/v1/accounts/{acc}", key=org.api_key).status_code == 200
    assert get(sandbox, f"/v1/accounts/{acc}", key=empty_org.api_key).status_code == 404
    assert sandbox.count(empty_org.org_id, "account") == 0
    assert sandbox.count(org.org_id, "account") == 25


def test_mint_key_command(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["sandbox", "mint-key", "--db", str(db), "--scope", "accounts:read", "--scope", "contacts:read"]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert key.startswith("sk_lf_sandbox_")
    with SandboxServer(db_path=db) as server:
        assert get(server, "/v1/auth/validate", key=key).json()["scopes"] == [
            "accounts:read",
            "contacts:read",
        ]
        assert get(server, "/v1/opportunities", key=key).status_code == 403
    bad = runner.invoke(cli, ["sandbox", "mint-key", "--db", str(db), "--org", "org_missing"])
    assert bad.exit_code == 2 and "org_missing" in bad.output


def test_key_minted_while_the_server_runs_works_at_once(tmp_path: Path) -> None:
    db = tmp_path / "live.sqlite3"
    with SandboxServer(db_path=db) as server:
        assert get(server, "/v1/accounts").status_code == 200  # started, keys loaded
        result = CliRunner().invoke(cli, ["sandbox", "mint-key", "--db", str(db), "--scope", "accounts:read"])
        assert result.exit_code == 0, result.output
        key = result.output.strip()
        assert get(server, "/v1/accounts", key=key).status_code == 200
        assert get(server, "/v1/opportunities", key=key).status_code == 403
        assert get(server, "/v1/accounts", key="sk_lf_sandbox_" + "0" * 40).status_code == 401


def test_serve_command_prints_url_and_key(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bulkio",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "serve.sqlite3"),
            "--rate",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        url = lines[1].strip().split("=", 1)[1]
        key = lines[2].strip().split("=", 1)[1]
        assert url.startswith("http://127.0.0.1:") and key.startswith("sk_lf_sandbox_")
        r = httpx.get(url + "/v1/accounts", headers={"Authorization": f"Bearer {key}", **VERSION})
        assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "50"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_environment_switches_apply_to_the_default_org(monkeypatch: Any) -> None:
    monkeypatch.setenv("BULKIO_SANDBOX_RATE", "3")
    monkeypatch.setenv("BULKIO_SANDBOX_ERROR_RATE", "1")
    with SandboxServer(seed=None) as server:
        r = get(server, "/v1/members")
        assert r.status_code in (500, 503) and r.headers["X-RateLimit-Limit"] == "3"
        org = server.create_org(records=False)  # env faults are for the default org only
        assert get(server, "/v1/members", key=org.api_key).status_code == 200
