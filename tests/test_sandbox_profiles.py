"""The sandbox's two profiles (docs/sandbox.md): strict takes the least forgiving reading wherever
the API docs are silent or disagree, lenient the forgiving one. Each test runs the same requests
against both session servers and checks each profile's answer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkio.sandbox import SandboxServer

VERSION = {"Lightfield-Version": "2026-03-01"}


@pytest.fixture(params=["strict", "lenient"])
def server(request: pytest.FixtureRequest) -> SandboxServer:
    found: SandboxServer = request.getfixturevalue(f"{request.param}_sandbox")
    return found


@pytest.fixture
def api(server: SandboxServer) -> Iterator[httpx.Client]:
    org = server.create_org(seed="demo")
    server.set_faults(org.org_id, index_lag_ms=0)  # lag has its own test below
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {org.api_key}", **VERSION}
    ) as c:
        c.org = org  # type: ignore[attr-defined]
        yield c


def strict(server: SandboxServer) -> bool:
    return server.profile.name == "strict"


def code(r: httpx.Response) -> tuple[int, str | None]:
    return r.status_code, (r.json().get("error") or {}).get("code") if r.status_code >= 400 else None


def first(api: httpx.Client, path: str) -> str:
    return str(api.get(path, params={"limit": 1}).json()["data"][0]["id"])


def test_select_labels(server: SandboxServer, api: httpx.Client) -> None:
    """Labels only where the facts allow them (opportunity $stage, as written); option ids always."""

    def tier(value: Any) -> httpx.Response:
        return api.post("/v1/accounts", json={"fields": {"$name": "T", "tier": value}})

    assert tier("opt_tier_smb").status_code == 200
    for label in ["SMB", "smb", "  mid-MARKET "]:
        assert code(tier(label)) == ((422, "invalid_option") if strict(server) else (200, None)), label
    industry = api.post("/v1/accounts", json={"fields": {"$name": "I", "$industry": ["Software"]}})
    assert code(industry) == ((422, "invalid_option") if strict(server) else (200, None))
    acc = first(api, "/v1/accounts")

    def opp(stage: str) -> httpx.Response:
        return api.post(
            "/v1/opportunities",
            json={"fields": {"$name": "O", "$stage": stage}, "relationships": {"$account": acc}},
        )

    assert opp("Closed Won").json()["fields"]["$stage"]["value"] == "opt_stage_closed_won"
    assert code(opp("closed   won")) == ((422, "invalid_option") if strict(server) else (200, None))
    task = {"$title": "T", "$status": "todo"}
    r = api.post("/v1/tasks", json={"fields": task, "relationships": {"$assignedTo": "mem_ava"}})
    assert code(r) == ((422, "invalid_option") if strict(server) else (200, None))


def test_exact_match_filters_and_unique_checks(server: SandboxServer, api: httpx.Client) -> None:
    made = api.post("/v1/accounts", json={"fields": {"$name": "Case Co", "external_id": "Ab-1"}})
    assert made.status_code == 200

    def total(**params: str) -> int:
        return int(api.get("/v1/accounts", params=params).json()["totalCount"])

    assert total(**{"external_id[equal]": "Ab-1"}) == 1
    assert total(**{"external_id[equal]": "ab-1"}) == (0 if strict(server) else 1)
    assert total(**{"$name[startsWith]": "case"}) == (0 if strict(server) else 1)
    assert total(**{"$name[equal]": "Case  Co"}) == (0 if strict(server) else 1)
    other = api.post("/v1/accounts", json={"fields": {"$name": "Other", "external_id": "AB-1"}})
    assert code(other) == ((200, None) if strict(server) else (422, "duplicate_value"))
    same = api.post("/v1/accounts", json={"fields": {"$name": "Same", "external_id": "Ab-1"}})
    assert code(same) == (422, "duplicate_value")


def test_429_headers(server: SandboxServer, api: httpx.Client) -> None:
    server.set_rate_limit(api.org.org_id, per_second=0.5, burst=1)  # type: ignore[attr-defined]
    api.get("/v1/members")
    r = api.get("/v1/members")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert ("Retry-After-Ms" in r.headers) is (not strict(server))


@pytest.mark.parametrize("path", ["//v1//accounts/", "/v1/accounts/", "/v1//accounts", "/v1/accounts//"])
def test_odd_paths(server: SandboxServer, api: httpx.Client, path: str) -> None:
    r = api.get(server.url + path)  # absolute: a relative "//v1" would name a host
    assert r.url.path == path
    assert r.status_code == (404 if strict(server) else 200), path
    if strict(server):
        assert r.json()["error"]["type"] == "not_found"


def test_idempotency_key_reused_for_another_record(server: SandboxServer, api: httpx.Client) -> None:
    a, b = (api.post("/v1/accounts", json={"fields": {"$name": n}}).json()["id"] for n in ("A", "B"))
    body = {"fields": {"$name": "Renamed"}}
    key = {"Idempotency-Key": "upd-1"}
    assert api.post(f"/v1/accounts/{a}", json=body, headers=key).status_code == 200
    assert api.post(f"/v1/accounts/{a}", json=body, headers=key).status_code == 200  # a true retry
    r = api.post(f"/v1/accounts/{b}", json=body, headers=key)
    if strict(server):
        assert code(r) == (422, "idempotency_key_reused")
        assert api.get(f"/v1/accounts/{b}").json()["fields"]["$name"]["value"] == "B"
    else:  # lenient replays a's answer: b is silently not renamed (what the docs warn about)
        assert r.status_code == 200 and r.json()["id"] == a


def test_datetimes_need_an_offset(server: SandboxServer, api: httpx.Client) -> None:
    for value in ["2026-03-16", "2026-03-16T12:00:00", "2026-03-16 12:00"]:
        r = api.post("/v1/accounts", json={"fields": {"$name": "D", "renewalDate": value}})
        assert code(r) == ((422, "invalid_value") if strict(server) else (200, None)), value
    for value in ["2026-03-16T12:00:00Z", "2026-03-16T12:00:00.5+02:00"]:
        assert (
            api.post("/v1/accounts", json={"fields": {"$name": "D", "renewalDate": value}}).status_code == 200
        )


def test_relationship_updates(server: SandboxServer, api: httpx.Client) -> None:
    acc, other = (api.post("/v1/accounts", json={"fields": {"$name": n}}).json()["id"] for n in "XY")
    con = api.post("/v1/contacts", json={"fields": {}, "relationships": {"$account": acc}}).json()["id"]
    both = {"relationships": {"$account": {"add": other, "remove": acc}}}
    r = api.post(f"/v1/contacts/{con}", json=both)
    assert code(r) == ((400, "invalid_type") if strict(server) else (200, None))
    opp = api.post(
        "/v1/opportunities",
        json={"fields": {"$name": "O", "$stage": "Lead"}, "relationships": {"$account": acc}},
    ).json()["id"]
    r = api.post(f"/v1/opportunities/{opp}", json={"relationships": {"$account": {"replace": other}}})
    assert code(r) == ((400, "invalid_configuration") if strict(server) else (200, None))


def test_task_and_note_filters(server: SandboxServer, api: httpx.Client) -> None:
    for path, params in [("/v1/tasks", {"$status": "TODO"}), ("/v1/notes", {"$title[startsWith]": "C"})]:
        r = api.get(path, params=params)
        assert code(r) == ((400, "unknown_field") if strict(server) else (200, None)), path
    assert api.get("/v1/tasks", params={"limit": 3}).status_code == 200


def test_custom_object_writes_and_idempotency(server: SandboxServer, api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "partner-1"}
    body = {"fields": {"$name": "P"}}
    one = api.post("/v1/objects/partner/values", json=body, headers=headers).json()["id"]
    two = api.post("/v1/objects/partner/values", json=body, headers=headers).json()["id"]
    # SPEC names Idempotency-Key on every write except the custom-object ones: strict ignores it
    assert (one != two) is strict(server)


def test_list_lag_is_the_strict_default_and_set_per_org(server: SandboxServer) -> None:
    org = server.create_org(seed="demo", records=False)
    assert server.stats(org.org_id) is not None
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {org.api_key}", **VERSION}
    ) as c:
        acc = c.post("/v1/accounts", json={"fields": {"$name": "Fresh", "external_id": "F-1"}}).json()
        listed = c.get("/v1/accounts").json()["totalCount"]
        by_key = c.get("/v1/accounts", params={"external_id[equal]": "F-1"}).json()["totalCount"]
        assert (listed, by_key) == ((0, 0) if strict(server) else (1, 1))
        assert c.get(f"/v1/accounts/{acc['id']}").status_code == 200  # retrieve is always fresh
        if strict(server):
            server.set_faults(org.org_id, index_lag_ms=300)
            time.sleep(0.35)
            assert c.get("/v1/accounts").json()["totalCount"] == 1


def test_profile_is_selectable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert SandboxServer(profile="lenient").profile.name == "lenient"
    assert SandboxServer().profile.name == "strict"
    monkeypatch.setenv("BULKIO_SANDBOX_PROFILE", "lenient")
    assert SandboxServer().profile.name == "lenient"
    with pytest.raises(ValueError, match="Unknown sandbox profile"):
        SandboxServer(profile="kind")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("BULKIO_SANDBOX_PROFILE", None)
    for flag, name in [([], "strict"), (["--profile", "lenient"], "lenient")]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bulkio", "sandbox", "serve", "--port", "0", *flag]
            + ["--db", str(tmp_path / f"{name}.sqlite3")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            assert f"({name} profile)" in proc.stdout.readline()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
