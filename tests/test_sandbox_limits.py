"""Rate limits, idempotency and fault switches of the sandbox, over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bulkio.sandbox import SandboxServer

VERSION = {"Lightfield-Version": "2026-03-01"}


@pytest.fixture
def api(sandbox: SandboxServer, empty_org: Any) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {empty_org.api_key}", **VERSION}
    ) as c:
        yield c


def create(
    api: httpx.Client, name: str, key: str | None = None, path: str = "/v1/accounts"
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post(path, json={"fields": {"$name": name}}, headers=headers)


# --- rate limits -----------------------------------------------------------------------------------
def test_every_response_has_rate_headers(api: httpx.Client) -> None:
    for r in (api.get("/v1/accounts"), api.get("/v1/accounts/acc_missing"), create(api, "A")):
        assert r.headers["X-RateLimit-Limit"] == "25"
        assert 0 <= int(r.headers["X-RateLimit-Remaining"]) < 25
        assert int(r.headers["X-RateLimit-Reset"]) >= int(time.time())


def test_over_the_limit_is_429(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    sandbox.set_rate_limit(empty_org.org_id, per_second=0.5, burst=2)
    codes = [api.get("/v1/accounts").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = api.get("/v1/accounts")
    assert r.status_code == 429
    assert r.json() == {
        "error": {"type": "too_many_requests", "message": "Rate limit exceeded. Please try again later."}
    }
    assert int(r.headers["Retry-After"]) >= 1
    if sandbox.profile.retry_after_ms:  # lenient only: undocumented, but the official SDKs obey it
        assert int(r.headers["Retry-After-Ms"]) > 0
    else:
        assert "Retry-After-Ms" not in r.headers
    assert r.headers["X-RateLimit-Limit"] == "2" and r.headers["X-RateLimit-Remaining"] == "0"
    # categories have separate buckets
    assert api.get("/v1/accounts/definitions").status_code == 200
    assert create(api, "W").status_code == 200
    stats = sandbox.stats(empty_org.org_id)
    assert stats["by_status"][429] == 2 and stats["writes"] == 1
    assert stats["by_category"] == {"Search": 4, "Read": 1, "Write": 1} and stats["in_flight"] == 0


def test_rate_limit_is_per_org(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    other = sandbox.create_org(records=False, rate_limit=1)
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {other.api_key}", **VERSION}
    ) as c:
        assert [c.get("/v1/members").status_code for _ in range(2)] == [200, 429]
    assert api.get("/v1/members").status_code == 200


def test_auth_fails_before_rate_limit(sandbox: SandboxServer, empty_org: Any) -> None:
    sandbox.set_rate_limit(empty_org.org_id, per_second=0.1, burst=1)
    r = httpx.get(sandbox.url + "/v1/accounts", headers={"Authorization": "Bearer wrong", **VERSION})
    assert r.status_code == 401


# --- idempotency -----------------------------------------------------------------------------------
def test_replay_returns_the_first_response(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    first = create(api, "Once", "row-2")
    same = create(api, "Once", "row-2")
    assert first.status_code == same.status_code == 200 and same.json() == first.json()
    again = create(api, "Different body, same key", "row-2")
    if sandbox.profile.idempotency_compare:  # strict: a key reused for another request is refused
        assert again.status_code == 422
        assert again.json()["error"]["code"] == "idempotency_key_reused"
    else:  # lenient: the first answer is replayed (what the docs warn about)
        assert again.status_code == 200 and again.json() == first.json()
    assert sandbox.count(empty_org.org_id, "account") == 1
    # scoped per operation: the same key on another operation runs
    note = api.post(
        "/v1/notes", json={"fields": {"$title": "Other type"}}, headers={"Idempotency-Key": "row-2"}
    )
    assert note.status_code == 200 and note.json()["id"].startswith("note_")
    upd = api.post(
        f"/v1/accounts/{first.json()['id']}",
        json={"fields": {"$name": "Renamed"}},
        headers={"Idempotency-Key": "row-2"},
    )
    assert upd.json()["fields"]["$name"]["value"] == "Renamed"


def test_failed_original_is_not_cached(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    bad = api.post("/v1/accounts", json={"fields": {"bogus": 1}}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 400
    good = create(api, "Fixed", "k")
    assert good.status_code == 200 and good.json()["fields"]["$name"]["value"] == "Fixed"
    assert sandbox.count(empty_org.org_id, "account") == 1


def test_idempotency_key_length(api: httpx.Client) -> None:
    assert create(api, "A", "k" * 255).status_code == 200
    r = create(api, "B", "k" * 256)
    assert r.status_code == 400
    assert r.json()["error"] == {
        "type": "bad_request",
        "code": "idempotency_key_too_long",
        "param": "Idempotency-Key",
        "message": r.json()["error"]["message"],
    }


def test_in_flight_key_is_409(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    sandbox.set_faults(empty_org.org_id, latency_ms=400)
    results: list[httpx.Response] = []
    t = threading.Thread(target=lambda: results.append(create(api, "Slow", "same")))
    t.start()
    for _ in range(100):  # wait until the first request is being held
        if sandbox.stats(empty_org.org_id)["in_flight"]:
            break
        time.sleep(0.01)
    with httpx.Client(base_url=sandbox.url, headers=dict(api.headers)) as other:
        second = create(other, "Slow", "same")
    t.join()
    assert results[0].status_code == 200 or second.status_code == 200
    statuses = sorted([results[0].status_code, second.status_code])
    assert statuses == [200, 409]
    conflict = results[0] if results[0].status_code == 409 else second
    assert conflict.json()["error"]["type"] == "conflict"
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    sandbox.set_faults(empty_org.org_id, latency_ms=0)
    assert create(api, "Slow", "same").status_code == 200  # now a replay
    assert sandbox.count(empty_org.org_id, "account") == 1


# --- faults ----------------------------------------------------------------------------------------
def test_error_rate_answers_5xx_without_executing(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client
) -> None:
    sandbox.set_faults(empty_org.org_id, error_rate=1.0)
    r = create(api, "Never")
    assert r.status_code in (500, 503)
    assert r.json()["error"]["type"] in ("internal_server_error", "service_unavailable")
    assert sandbox.count(empty_org.org_id, "account") == 0


def test_reset_rate_closes_before_executing(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client
) -> None:
    sandbox.set_faults(empty_org.org_id, reset_rate=1.0)
    with pytest.raises(httpx.TransportError):
        create(api, "Never")
    assert sandbox.count(empty_org.org_id, "account") == 0


def test_drop_rate_commits_then_drops(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    sandbox.set_faults(empty_org.org_id, drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        create(api, "Committed", "drop-1")
    assert sandbox.count(empty_org.org_id, "account") == 1
    assert api.get("/v1/accounts").status_code == 200  # reads are not dropped
    sandbox.set_faults(empty_org.org_id, drop_rate=0.0)
    replay = create(api, "Committed", "drop-1")
    assert replay.status_code == 200 and replay.json()["fields"]["$name"]["value"] == "Committed"
    assert sandbox.count(empty_org.org_id, "account") == 1


def test_index_lag_hides_new_records_from_lists(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client
) -> None:
    sandbox.set_faults(empty_org.org_id, index_lag_ms=60_000)
    acc = create(api, "Fresh").json()
    assert api.get("/v1/accounts").json()["totalCount"] == 0
    assert api.get(f"/v1/accounts/{acc['id']}").status_code == 200
    sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
    assert api.get("/v1/accounts").json()["totalCount"] == 1


def test_faults_are_reproducible_with_a_seed(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client
) -> None:
    def run() -> list[int]:
        sandbox.set_faults(empty_org.org_id, error_rate=0.5, seed=7)
        return [api.get("/v1/members").status_code for _ in range(12)]

    first = run()
    assert first == run()
    assert set(first) & {500, 503} and 200 in first
    sandbox.set_faults(empty_org.org_id, error_rate=0.0)
    with pytest.raises(TypeError):
        sandbox.set_faults(empty_org.org_id, bogus=1)


def test_latency_still_answers(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    sandbox.set_faults(empty_org.org_id, latency_ms=20, jitter_ms=10)
    assert create(api, "Slowish").status_code == 200
