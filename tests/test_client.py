"""LightfieldClient against the sandbox over real HTTP: happy paths, error parsing, retries under
injected faults, pacing under a tiny rate limit, concurrent paging, and key secrecy."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bulkio.client import LightfieldClient, parse_error
from bulkio.definitions import NOTE_DEFINITIONS, ObjectSchema
from bulkio.errors import ApiError, AuthError, ConfigError, RateLimitError, ScopeError
from bulkio.events import Event, RateLimited, Retrying
from bulkio.ratelimit import RateLimit, RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_max=0.05)


def make_client(sandbox: Any, org: Any, **kw: Any) -> LightfieldClient:
    return LightfieldClient(api_key=org.api_key, base_url=sandbox.url, **kw)


# --- happy paths --------------------------------------------------------------------------------


def test_validate_auth_and_headers(client: LightfieldClient) -> None:
    auth = client.validate_auth()
    assert auth["active"] is True
    assert auth["scopes"] == []  # full access
    headers = client._http.headers
    assert headers["Lightfield-Version"] == "2026-03-01"
    assert headers["User-Agent"].startswith("bulkio/")
    assert headers["Accept"] == "application/json"


def test_definitions_schema_and_object_types(client: LightfieldClient) -> None:
    raw = client.definitions("account")
    assert raw["fieldDefinitions"]["$name"]["valueType"] == "TEXT"
    schema = client.schema("account")
    assert isinstance(schema, ObjectSchema)
    assert schema.fields["tier"].value_type == "SINGLE_SELECT"
    assert [o.label for o in schema.fields["tier"].options] == [
        "Strategic",
        "Enterprise",
        "Mid-Market",
        "SMB",
    ]
    assert schema.relationships["$opportunity"].read_only
    assert client.schema("account") is schema  # cached
    assert client.definitions("note") == NOTE_DEFINITIONS
    assert set(client.schema("note").fields) == {"$title", "$content"}
    partner = client.schema("partner")
    assert {"$name", "external_id", "website", "partnerType", "commission"} <= set(partner.fields)
    assert partner.relationships["account"].has_many
    types = {t["objectType"]: t for t in client.object_types()}
    assert "partner" in types
    kinds = {t["objectType"]: t["system"] for t in client.all_object_types()}
    assert kinds["account"] is True and kinds["partner"] is False and "member" not in kinds


@pytest.mark.usefixtures("no_list_lag")
def test_account_create_retrieve_update_list(client: LightfieldClient) -> None:
    made = client.create(
        "account", {"fields": {"$name": "Zebra Labs", "external_id": "zb-1"}}, idempotency_key="t-acc-1"
    )
    assert made["id"]
    again = client.retrieve("account", made["id"])
    assert again["fields"]["$name"]["value"] == "Zebra Labs"
    updated = client.update(
        "account", made["id"], {"fields": {"employeeCount": 42}}, idempotency_key="t-acc-1-u"
    )
    assert updated["fields"]["employeeCount"]["value"] == 42
    assert updated["fields"]["$name"]["value"] == "Zebra Labs"  # untouched
    found = list(client.list("account", filters={"external_id[equal]": "zb-1"}))
    assert [r["id"] for r in found] == [made["id"]]
    found = list(client.list("account", filters=[("$name[equal]", "Zebra Labs")]))
    assert [r["id"] for r in found] == [made["id"]]
    page = client.list_page("account", offset=0, limit=2)
    assert page["object"] == "list" and len(page["data"]) == 2 and page["totalCount"] >= 3


def test_idempotent_create_replays(sandbox: Any, org: Any, client: LightfieldClient) -> None:
    before = sandbox.count(org.org_id, "account")
    a = client.create("account", {"fields": {"$name": "Once"}}, idempotency_key="same")
    b = client.create("account", {"fields": {"$name": "Once"}}, idempotency_key="same")
    assert a["id"] == b["id"]
    assert sandbox.count(org.org_id, "account") == before + 1


@pytest.mark.usefixtures("no_list_lag")
def test_custom_object_partner(client: LightfieldClient) -> None:
    acc = client.create("account", {"fields": {"$name": "Partnered"}}, idempotency_key="p-acc")
    p = client.create(
        "partner",
        {"fields": {"$name": "Channel Co", "commission": 12.5}, "relationships": {"account": [acc["id"]]}},
        idempotency_key="p-1",
    )
    got = client.retrieve("partner", p["id"])
    assert got["fields"]["$name"]["value"] == "Channel Co"
    assert got["relationships"]["account"]["values"] == [acc["id"]]
    client.update("partner", p["id"], {"fields": {"commission": 15}}, idempotency_key="p-1-u")
    listed = {r["id"]: r for r in client.list("partner")}
    assert listed[p["id"]]["fields"]["commission"]["value"] == 15


@pytest.mark.usefixtures("no_list_lag")
def test_notes_and_members(client: LightfieldClient) -> None:
    acc = client.create("account", {"fields": {"$name": "Noted"}}, idempotency_key="n-acc")
    note = client.create(
        "note",
        {"fields": {"$title": "Call", "$content": "# hi"}, "relationships": {"$account": acc["id"]}},
        idempotency_key="n-1",
    )
    assert client.retrieve("note", note["id"])["fields"]["$title"]["value"] == "Call"
    assert note["id"] in {n["id"] for n in client.list("note")}
    members = client.members()
    assert {m["id"] for m in members} == {"mem_ava", "mem_ben", "mem_cleo"}


@pytest.mark.usefixtures("no_list_lag")
def test_list_all_returns_every_record_once(sandbox: Any, empty_org: Any) -> None:
    sandbox.set_rate_limit(empty_org.org_id, per_second=500)  # setup speed only
    with make_client(sandbox, empty_org) as lf:

        def make(i: int) -> str:
            return str(
                lf.create("account", {"fields": {"$name": f"Bulk {i:03d}"}}, idempotency_key=f"bulk-{i}")[
                    "id"
                ]
            )

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(make, range(130)))
        assert sandbox.count(empty_org.org_id, "account") == 130
        records = list(lf.list_all("account", concurrency=4))
        got = [r["id"] for r in records]
        assert len(got) == len(set(got)) == 130
        assert set(got) == set(ids)
        assert [r["id"] for r in lf.list("account")] == got  # same order as sequential paging
        assert len(list(lf.list("account", max_records=30))) == 30
        filtered = list(lf.list_all("account", filters={"$name[startsWith]": "Bulk 12"}))
        assert sorted(r["fields"]["$name"]["value"] for r in filtered) == [
            f"Bulk {i}" for i in range(120, 130)
        ]
        assert lf.stats.by_status.get(200, 0) >= 130 + 6


# --- errors -----------------------------------------------------------------------------------


def test_404_error_fields(client: LightfieldClient) -> None:
    with pytest.raises(ApiError) as info:
        client.retrieve("account", "acc_doesnotexist")
    err = info.value
    assert (err.status, err.type, err.method) == (404, "not_found", "GET")
    assert err.path == "/v1/accounts/acc_doesnotexist"
    assert "404 not_found (GET /v1/accounts/acc_doesnotexist)" in str(err)
    assert client.stats.retries == 0


def test_400_unknown_field(client: LightfieldClient) -> None:
    with pytest.raises(ApiError) as info:
        client.create("account", {"fields": {"$name": "X", "bogus": 1}}, idempotency_key="bad-1")
    err = info.value
    assert (err.status, err.type, err.code, err.param) == (
        400,
        "bad_request",
        "unknown_field",
        "fields.bogus",
    )
    assert err.method == "POST" and err.path == "/v1/accounts"
    assert client.stats.requests == 1  # 4xx is never retried


def test_422_missing_required(client: LightfieldClient) -> None:
    with pytest.raises(ApiError) as info:
        client.create(
            "opportunity", {"fields": {"$name": "No stage"}, "relationships": {}}, idempotency_key="bad-2"
        )
    assert (
        info.value.status == 422 and info.value.type == "unprocessable_content"
    )  # API-FACTS: missing required
    assert info.value.param


def test_403_scope_and_401_bad_key(sandbox: Any, org: Any) -> None:
    key = sandbox.mint_key(org.org_id, scopes=["accounts:read"])
    with LightfieldClient(api_key=key, base_url=sandbox.url) as lf:
        assert lf.list_page("account", offset=0, limit=1)["data"]
        with pytest.raises(ScopeError) as info:
            lf.create("account", {"fields": {"$name": "Nope"}}, idempotency_key="s-1")
        assert (info.value.status, info.value.type) == (403, "forbidden")
    with LightfieldClient(api_key="sk_lf_wrong", base_url=sandbox.url) as lf:
        with pytest.raises(AuthError) as info2:
            lf.validate_auth()
        assert (info2.value.status, info2.value.type) == (401, "unauthorized")


def test_parse_error_envelopes() -> None:
    req = httpx.Request("POST", "http://x/v1/accounts")
    wrapped = httpx.Response(
        409,
        json={"error": {"type": "conflict", "code": "idempotency_conflict", "message": "busy"}},
        request=req,
    )
    flat = httpx.Response(409, json={"type": "idempotency_conflict", "message": "busy"}, request=req)
    html = httpx.Response(502, text="<html>Bad gateway</html>", request=req)
    e1 = parse_error(wrapped, method="POST", path="/v1/accounts")
    e2 = parse_error(flat, method="POST", path="/v1/accounts")
    e3 = parse_error(html, method="POST", path="/v1/accounts")
    assert (e1.type, e1.code, e1.message) == ("conflict", "idempotency_conflict", "busy")
    assert (e2.type, e2.code) == ("idempotency_conflict", None)
    assert (e3.status, e3.type, e3.message) == (502, "error", "<html>Bad gateway</html>")
    r429 = httpx.Response(429, json={"type": "too_many_requests", "message": "slow"}, request=req)
    assert isinstance(parse_error(r429, method="GET", path="/"), RateLimitError)


# --- retries under faults ---------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["error_rate", "drop_rate", "reset_rate"])
def test_faults_are_retried_with_the_same_key(sandbox: Any, empty_org: Any, fault: str) -> None:
    events: list[Event] = []
    lock = threading.Lock()

    def on_event(e: Event) -> None:
        with lock:
            events.append(e)

    sandbox.set_faults(empty_org.org_id, **{fault: 0.3})
    try:
        with make_client(sandbox, empty_org, retry=FAST_RETRY, on_event=on_event, timeout=5.0) as lf:

            def make(i: int) -> str:
                return str(
                    lf.create("account", {"fields": {"$name": f"F {i}"}}, idempotency_key=f"{fault}-{i}")[
                        "id"
                    ]
                )

            with ThreadPoolExecutor(4) as pool:
                ids = list(pool.map(make, range(30)))
            stats = lf.stats
    finally:
        sandbox.set_faults(empty_org.org_id)
    assert len(set(ids)) == 30
    assert sandbox.count(empty_org.org_id, "account") == 30  # exactly one record per key
    assert stats.retries > 0
    assert any(isinstance(e, Retrying) and e.method == "POST" for e in events)


def test_write_without_key_is_not_resent_after_a_5xx(sandbox: Any, empty_org: Any) -> None:
    sandbox.set_faults(empty_org.org_id, error_rate=1.0)
    try:
        with make_client(sandbox, empty_org, retry=FAST_RETRY) as lf:
            with pytest.raises(ApiError) as info:
                lf.create("account", {"fields": {"$name": "No key"}})
            assert info.value.status >= 500
            assert lf.stats.requests == 1
            with pytest.raises(ApiError):
                lf.create("account", {"fields": {"$name": "Key"}}, idempotency_key="k")
            assert lf.stats.requests == 1 + FAST_RETRY.max_attempts
            # reads are always safe to repeat
            with pytest.raises(ApiError):
                lf.retrieve("account", "acc_x")
    finally:
        sandbox.set_faults(empty_org.org_id)


def test_connection_refused_is_an_api_error_without_the_key() -> None:
    secret = "sk_lf_refused_secret_123"
    with LightfieldClient(
        api_key=secret, base_url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=2, backoff_base=0.01)
    ) as lf:
        with pytest.raises(ApiError) as info:
            lf.validate_auth()
        assert info.value.status == 0 and info.value.type == "connection_error"
        assert lf.stats.requests == 2 and lf.stats.transport_errors == 2
    for text in (
        str(info.value),
        repr(info.value),
        repr(info.value.args),
        str(info.value.__context__),
        repr(info.value.__context__),
    ):
        assert secret not in text


def test_429_is_paced_and_retried(sandbox: Any, empty_org: Any) -> None:
    events: list[Event] = []
    sandbox.set_rate_limit(empty_org.org_id, per_second=2)
    try:
        with make_client(sandbox, empty_org, on_event=events.append) as lf:

            def make(i: int) -> str:
                return str(
                    lf.create("account", {"fields": {"$name": f"R {i}"}}, idempotency_key=f"r-{i}")["id"]
                )

            with ThreadPoolExecutor(4) as pool:
                ids = list(pool.map(make, range(6)))
            stats = lf.stats
            pacer = lf.pacers["write"]
    finally:
        sandbox.set_rate_limit(empty_org.org_id, per_second=25)
    assert len(set(ids)) == 6
    assert sandbox.count(empty_org.org_id, "account") == 6
    assert pacer.server_limit == 2 and pacer.rate < 2  # learned from X-RateLimit-Limit
    server_429 = sandbox.stats(empty_org.org_id)["by_status"].get(429, 0)
    assert stats.rate_limited == stats.by_status.get(429, 0) == server_429
    assert stats.rate_limited == sum(isinstance(e, RateLimited) for e in events)
    assert stats.requests == 6 + stats.rate_limited
    assert stats.rate_limited <= 4  # at most the first wave, sent before the limit was learned


def test_429_is_never_a_failed_attempt(sandbox: Any, empty_org: Any) -> None:
    """max_attempts=1 allows no retry after a failure, yet a 429 only makes the request wait as
    told and go again; a client with max_wait=0 gives up at the first 429."""
    sandbox.set_rate_limit(empty_org.org_id, per_second=2, burst=1)
    try:
        no_pacing = RateLimit(per_second=1000, burst=1000, sync_remaining=False, follow_server=False)
        events: list[Event] = []
        one_try = RetryPolicy(max_attempts=1, retry_after_jitter=0)
        with make_client(
            sandbox, empty_org, rate_limit=no_pacing, retry=one_try, on_event=events.append
        ) as lf:
            for _ in range(4):
                assert lf.validate_auth()["active"] is True
            assert lf.stats.rate_limited >= 2
            waits = [e for e in events if isinstance(e, RateLimited)]
            # as told: Retry-After (1 s), or Retry-After-Ms (~500 ms) where the lenient sandbox sends it
            assert len(waits) == lf.stats.rate_limited and all(e.wait_seconds >= 0.4 for e in waits)
        with make_client(sandbox, empty_org, rate_limit=no_pacing, retry=RetryPolicy(max_wait=0)) as lf:
            with pytest.raises(RateLimitError) as info:
                for _ in range(5):
                    lf.validate_auth()
            assert info.value.status == 429
            assert lf.stats.rate_limited == 1
    finally:
        sandbox.set_rate_limit(empty_org.org_id, per_second=25)


def test_429_gives_up_only_after_max_wait_without_progress(sandbox: Any, empty_org: Any) -> None:
    """Another client took the only token and the bucket refills in 20 s: the request waits as told
    (capped at max_wait), tries again, and gives up once max_wait passed without any request of the
    client succeeding."""
    sandbox.set_rate_limit(empty_org.org_id, per_second=0.05, burst=1)
    try:
        with httpx.Client(
            base_url=sandbox.url,
            headers={"Authorization": f"Bearer {empty_org.api_key}", "Lightfield-Version": "2026-03-01"},
        ) as other:
            assert other.get("/v1/auth/validate").status_code == 200
        events: list[Event] = []
        retry = RetryPolicy(max_wait=2.0, retry_after_jitter=0)
        with make_client(sandbox, empty_org, retry=retry, on_event=events.append) as lf:
            t0 = time.monotonic()
            with pytest.raises(RateLimitError) as info:
                lf.validate_auth()
            waited = time.monotonic() - t0
            assert lf.stats.rate_limited == 2  # waited once, tried again, then gave up
        assert [round(e.wait_seconds) for e in events if isinstance(e, RateLimited)] == [2]
        assert waited >= 2.0  # it really waited before giving up
        assert any("without a request succeeding" in n for n in info.value.__notes__)
    finally:
        sandbox.set_rate_limit(empty_org.org_id, per_second=25)


def test_key_never_shown(sandbox: Any, org: Any) -> None:
    events: list[Event] = []
    lf = make_client(sandbox, org, on_event=events.append)
    key = org.api_key
    seen: list[str] = [
        repr(lf),
        str(lf),
        repr(lf._http),
        repr(lf._http.headers),
        repr(lf.stats),
        repr(lf.pacers),
        repr(vars(lf)),
    ]
    with pytest.raises(ApiError) as info:  # the error must happen, or its texts go unchecked
        lf.create("account", {"fields": {"bogus": 1}}, idempotency_key="x")
    exc = info.value
    assert exc.status == 400 and exc.code == "unknown_field"
    seen += [str(exc), repr(exc), repr(exc.args), repr(exc.body), repr(vars(exc))]
    seen += [repr(e) for e in events]
    lf.close()
    assert all(key not in s for s in seen)
    assert lf.key_fingerprint and len(lf.key_fingerprint) == 12 and lf.key_fingerprint in repr(lf)


def test_config_errors_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIGHTFIELD_API_KEY", raising=False)
    monkeypatch.delenv("LIGHTFIELD_BASE_URL", raising=False)
    with pytest.raises(ConfigError):
        LightfieldClient()
    with LightfieldClient(api_key="sk_lf_k") as lf:
        assert lf.base_url == "https://api.lightfield.app"
    monkeypatch.setenv("LIGHTFIELD_API_KEY", "sk_lf_env")
    monkeypatch.setenv("LIGHTFIELD_BASE_URL", "http://localhost:1234/v1/")
    with LightfieldClient() as lf:
        assert lf.base_url == "http://localhost:1234"
    with pytest.raises(ConfigError):
        LightfieldClient(api_key="sk_lf_k", base_url="ftp://nope")


def test_409_in_flight_is_retried_with_the_same_key(sandbox: Any, empty_org: Any) -> None:
    """Two sends of one key at once: the second sees 409 idempotency_conflict, waits, and gets
    the first one's answer; one record exists."""
    events: list[Event] = []
    sandbox.set_faults(empty_org.org_id, latency_ms=400)
    try:
        with make_client(
            sandbox,
            empty_org,
            on_event=events.append,
            retry=RetryPolicy(max_attempts=8, backoff_base=0.2, backoff_max=1.0),
        ) as lf:

            def make(_: int) -> str:
                return str(
                    lf.create("account", {"fields": {"$name": "Twice"}}, idempotency_key="dup-key")["id"]
                )

            with ThreadPoolExecutor(2) as pool:
                ids = list(pool.map(make, range(2)))
            stats = lf.stats
    finally:
        sandbox.set_faults(empty_org.org_id, latency_ms=0)
    assert ids[0] == ids[1]
    assert sandbox.count(empty_org.org_id, "account") == 1
    assert stats.by_status.get(409, 0) >= 1
    assert any(isinstance(e, Retrying) and e.reason == "409" for e in events)
