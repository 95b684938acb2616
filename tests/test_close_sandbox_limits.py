"""Close sandbox rate limits (per endpoint group, per key, 3× per org; the RateLimit header and the
429 body in each shape the sources disagree on), fault switches, persistence, seeds and the
``bulkio sandbox … --crm close`` commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.crm.close.sandbox import CloseSandboxServer, Org

HEADER = re.compile(r"^limit=(\d+)(, |; )remaining=(\d+)\2reset=(\d+(?:\.\d+)?)$")


def client(sb: CloseSandboxServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=sb.api_url, auth=(key, ""))


def test_rate_limit_header_and_429_per_key_then_per_org(close_sandbox: CloseSandboxServer) -> None:
    org = close_sandbox.create_org(records=False)
    # 5 per key, 15 per org; a slow refill, so a busy machine's slow requests do not refill the bucket
    close_sandbox.set_rate_limit(org.org_id, per_second=0.25, window=20)
    keys = [org.api_key] + [close_sandbox.mint_key(org.org_id) for _ in range(3)]
    with client(close_sandbox, keys[0]) as api:
        answers = [api.get("/lead/") for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    first = HEADER.match(answers[0].headers["RateLimit"])
    assert first and first.group(1) == "5" and first.group(3) == "4"
    refused = answers[-1]
    assert refused.json()["error"]["rate_limit_type"] == "key" and refused.json()["error"]["rate_limit"] == 5
    reset = float(refused.json()["error"]["rate_reset"])
    assert 0 < reset <= 4.0 and int(refused.headers["Retry-After"]) >= 1
    assert float(HEADER.match(refused.headers["RateLimit"]).group(4)) == pytest.approx(reset, abs=0.01)  # type: ignore[union-attr]
    with client(close_sandbox, keys[0]) as api:
        assert (
            api.post("/lead/", json={"name": "other group"}).status_code == 200
        )  # writes are their own group
    for key in keys[1:3]:
        with client(close_sandbox, key) as api:
            assert [api.get("/lead/").status_code for _ in range(5)] == [200] * 5
    with client(close_sandbox, keys[3]) as api:
        r = api.get("/lead/")  # this key is fresh, but the org's 15 are spent
    assert r.status_code == 429 and r.json()["error"]["rate_limit_type"] == "org"
    assert r.json()["error"]["rate_limit"] == 15 and r.json()["error"]["rate_window"] == 20
    time.sleep(reset + 0.05)
    with client(close_sandbox, keys[0]) as api:
        assert api.get("/lead/").status_code == 200  # sleeping rate_reset is enough


def test_search_has_its_own_tight_bucket(close_sandbox: CloseSandboxServer) -> None:
    org = close_sandbox.create_org(records=False)  # default limits: 2/s over an 8 s window = 16
    query = {"query": {"type": "object_type", "object_type": "lead"}}
    with client(close_sandbox, org.api_key) as api:
        codes = [api.post("/data/search/", json=query).status_code for _ in range(17)]
        assert codes == [200] * 16 + [429]
        assert api.get("/me/").headers["RateLimit"].startswith("limit=160, ")  # 20/s × 8 s elsewhere


@pytest.mark.parametrize(
    ("options", "check"),
    [
        (
            {"rate_limit_body": "flat"},
            lambda b, h: isinstance(b["rate_reset"], str) and b["rate_limit_type"] == "key",
        ),
        ({"ratelimit_separator": "; "}, lambda b, h: "; remaining=" in h["RateLimit"]),
        ({"ratelimit_reset": "integer"}, lambda b, h: re.search(r"reset=\d+$", h["RateLimit"]) is not None),
        ({"legacy_headers": True}, lambda b, h: "X-Rate-Limit-Reset" in h),
    ],
)
def test_switches_for_the_conflicting_sources(
    close_sandbox: CloseSandboxServer, options: dict[str, Any], check: Any
) -> None:
    org = close_sandbox.create_org(records=False)
    close_sandbox.set_rate_limit(org.org_id, per_second=1, window=1)
    close_sandbox.set_options(org.org_id, **options)
    with client(close_sandbox, org.api_key) as api:
        api.get("/me/")
        r = api.get("/me/")
    assert r.status_code == 429 and check(r.json(), r.headers)
    with pytest.raises(TypeError):
        close_sandbox.set_options(org.org_id, idempotency=True)


def test_fault_switches(close_sandbox: CloseSandboxServer) -> None:
    org = close_sandbox.create_org(records=False)
    close_sandbox.set_rate_limit(org.org_id, per_second=1000)
    with client(close_sandbox, org.api_key) as api:
        close_sandbox.set_faults(org.org_id, error_rate=1.0, seed=3)
        codes = {api.get("/lead/").status_code for _ in range(12)}
        assert codes == {500, 503}
        assert set(api.get("/lead/").json()) == {"error"}
        close_sandbox.set_faults(org.org_id, error_rate=0.0, drop_rate=1.0)
        with pytest.raises(httpx.TransportError):
            api.post("/lead/", json={"name": "Committed"})
        assert close_sandbox.count(org.org_id, "lead") == 1  # written, answer lost
        close_sandbox.set_faults(org.org_id, drop_rate=0.0, reset_rate=1.0)
    with client(close_sandbox, org.api_key) as api, pytest.raises(httpx.TransportError):
        api.post("/lead/", json={"name": "Never"})
    assert close_sandbox.count(org.org_id, "lead") == 1  # cut before it ran
    close_sandbox.set_faults(org.org_id, reset_rate=0.0, rate_429=1.0)
    with client(close_sandbox, org.api_key) as api:
        r = api.get("/lead/")
        assert r.status_code == 429 and "rate_reset" in r.json()["error"] and "Retry-After" in r.headers
        close_sandbox.set_faults(org.org_id, rate_429=0.0, latency_ms=120)
        t0 = time.perf_counter()
        assert api.get("/lead/").status_code == 200
        assert time.perf_counter() - t0 >= 0.12
    stats = close_sandbox.stats(org.org_id)
    assert stats["by_status"][0] == 1 and stats["by_status"][429] == 1 and stats["writes"] == 1
    with pytest.raises(TypeError):
        close_sandbox.set_faults(org.org_id, explode=True)


def test_restart_keeps_data_keys_config_and_exports(tmp_path: Path) -> None:
    db = tmp_path / "close.sqlite3"
    with CloseSandboxServer(db_path=db) as one:
        key, org_id = one.api_key, one.default_org_id
        one.set_options(org_id, export_delay_ms=0)
        with client(one, key) as api:
            lead = api.post("/lead/", json={"name": "Kept", "contacts": [{"name": "Kim"}]}).json()
            opp = api.post("/opportunity/", json={"lead_id": lead["id"], "value": 700}).json()
            field = api.post("/custom_field/lead/", json={"name": "Kept ID", "type": "text"}).json()
            api.put(f"/lead/{lead['id']}/", json={f"custom.{field['id']}": "K-1"})
            export = api.post("/export/opportunity/", json={"format": "json"}).json()
            linked = api.get(f"/lead/{lead['id']}/").json()
            minted = one.mint_key(org_id, "user_DemoBen")
    with CloseSandboxServer(db_path=db, seed="big") as two:  # an existing db is never re-seeded
        assert (two.api_key, two.default_org_id) == (key, org_id)
        two.set_options(org_id, export_delay_ms=0)  # switches are settings, not data: set again
        with client(two, key) as api:
            assert api.get(f"/lead/{lead['id']}/").json() == linked
            assert api.get(f"/opportunity/{opp['id']}/").json()["lead_name"] == "Kept"
            assert api.get("/opportunity/", params={"_limit": 1}).json()["total_results"] == 25
            done = api.get(f"/export/{export['id']}/").json()
            assert done["status"] == "done" and len(json.loads(httpx.get(done["download_url"]).text)) == 25
        with client(two, minted) as api:
            assert api.get("/me/").json()["id"] == "user_DemoBen"


def test_seeds(close_sandbox: CloseSandboxServer, tmp_path: Path) -> None:
    empty = close_sandbox.create_org(seed="empty")
    assert close_sandbox.count(empty.org_id, "lead") == 0
    assert close_sandbox.count(close_sandbox.create_org(records=False).org_id, "opportunity") == 0
    doc = {
        "name": "Tiny",
        "currency": "EUR",
        "users": [{"id": "user_T", "first_name": "Tea", "last_name": "Tester", "email": "t@x.test"}],
        "lead_statuses": [{"id": "stat_TL", "label": "New"}],
        "pipelines": [
            {"id": "pipe_T", "name": "P", "statuses": [{"id": "stat_TA", "label": "Open", "type": "active"}]}
        ],
        "custom_fields": {
            "lead": [{"id": "cf_TK", "name": "Key", "type": "text", "accepts_multiple_values": False}]
        },
        "records": {
            "lead": [{"name": "Only", "custom.cf_TK": "K1", "contacts": [{"name": "Nested"}]}],
            "contact": [{"lead_ref": 0, "name": "Second"}],
            "opportunity": [{"lead_ref": 0, "contact_ref": 0, "value": 250050}],
        },
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    for seed in (doc, path):
        org = close_sandbox.create_org(seed=seed)  # type: ignore[arg-type]
        opp = close_sandbox.records(org.org_id, "opportunity")[0]
        assert opp["value_formatted"] == "€2,500.50" and opp["contact_name"] == "Second"
        assert [c["name"] for c in close_sandbox.records(org.org_id, "contact")] == ["Nested", "Second"]
        assert close_sandbox.records(org.org_id, "lead")[0]["custom.cf_TK"] == "K1"
    with pytest.raises(Exception, match="field-errors"):
        close_sandbox.create_org(seed={**doc, "records": {"lead": [{"name": 5}]}})


def test_mint_key_command(tmp_path: Path) -> None:
    db = tmp_path / "mint.sqlite3"
    runner = CliRunner()
    result = runner.invoke(cli, ["sandbox", "mint-key", "--crm", "close", "--db", str(db)])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert key.startswith("api_sandbox_")
    with CloseSandboxServer(db_path=db) as server, client(server, key) as api:
        assert api.get("/me/").status_code == 200
    refused = runner.invoke(
        cli, ["sandbox", "mint-key", "--crm", "close", "--db", str(db), "--scope", "leads:read"]
    )
    assert refused.exit_code == 2 and "no scopes" in refused.output


def test_serve_command_prints_url_and_key(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [
        "sandbox",
        "serve",
        "--crm",
        "close",
        "--port",
        "0",
        "--db",
        str(tmp_path / "s.sqlite3"),
        "--rate",
        "5",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkio", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("Close sandbox listening on http://127.0.0.1:")
        url = lines[1].strip().split("=", 1)[1]
        key = lines[2].strip().split("=", 1)[1]
        assert url.endswith("/api/v1") and key.startswith("api_sandbox_")
        r = httpx.get(url + "/me/", auth=(key, ""))
        assert r.status_code == 200 and r.headers["RateLimit"].startswith("limit=40, ")  # 5/s × 8 s
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_environment_faults_apply_to_the_default_org(monkeypatch: pytest.MonkeyPatch, close_org: Org) -> None:
    monkeypatch.setenv("BULKIO_CLOSE_SANDBOX_ERROR_RATE", "1")
    with CloseSandboxServer(seed="empty") as server:
        with client(server, server.api_key) as api:
            assert api.get("/me/").status_code in (500, 503)
        org = server.create_org(records=False)
        with client(server, org.api_key) as api:
            assert api.get("/me/").status_code == 200


def test_the_close_sandbox_imports_no_client_side_code() -> None:
    """A parsing bug shared by client and server could not be caught, so nothing is shared."""
    package = Path(__file__).resolve().parent.parent / "bulkio" / "crm" / "close" / "sandbox"
    for path in package.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"(from|import)\s+(bulkio|\.\.)", line):  # module-level imports
                raise AssertionError(f"{path.name}: {line.strip()}")
