"""The Close client and its value translation: rate-limit headers and 429 bodies in every shape the
sources disagree on (and the sandbox switches between), pacing per endpoint group, no blind POST
retries, cents ⇄ units, custom-field keys, statuses within pipelines, contact points and addresses."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.client import LightfieldClient
from bulkio.crm.base import AdoptsLostCreates, Backend, Deletes, PipelineSource
from bulkio.crm.close import CloseBackend, CloseClient, UnconfirmedWrite
from bulkio.crm.close.client import endpoint_group, normalise_base_url, parse_ratelimit, rate_reset
from bulkio.crm.close.encode import (
    CloseConfig,
    body_to_close,
    cents_to_units,
    field_of,
    object_maps,
    record_to_neutral,
    slug,
    status_options,
    units_to_cents,
)
from bulkio.crm.close.sandbox import CloseSandboxServer, Org
from bulkio.errors import AuthError, ConfigError, RateLimitError
from bulkio.ratelimit import RetryPolicy


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"ratelimit": "limit=100, remaining=0, reset=1"}, (100.0, 0.0, 1.0)),  # the official client's form
        ({"ratelimit": "limit=160; remaining=159; reset=8"}, (160.0, 159.0, 8.0)),  # observed 2025
        ({"ratelimit": "limit=16, remaining=14, reset=0.125"}, (16.0, 14.0, 0.125)),
        (
            {"x-rate-limit-limit": "600", "x-rate-limit-remaining": "12", "x-rate-limit-reset": "14.260394"},
            (600.0, 12.0, 14.260394),
        ),
        ({}, (None, None, None)),
    ],
)
def test_ratelimit_header_in_every_documented_shape(
    headers: dict[str, str], expected: tuple[Any, ...]
) -> None:
    assert parse_ratelimit(headers) == expected


def test_429_bodies_wrapped_flat_and_string() -> None:
    wrapped = {"error": {"rate_reset": 0.35, "rate_limit": 160, "rate_window": 8}}
    assert rate_reset(wrapped) == (0.35, 20.0)
    flat = {
        "message": "API call count exceeded",
        "rate_reset": "0.595956",
        "rate_limit": 320,
        "rate_window": 8,
    }
    assert rate_reset(flat) == (0.595956, 40.0)
    assert rate_reset("not json") == (None, None)


def test_groups_urls_and_protocols() -> None:
    assert endpoint_group("GET", "lead/lead_1/") == "lead:read"
    assert endpoint_group("PUT", "opportunity/oppo_1/") == "opportunity:write"
    assert endpoint_group("POST", "data/search/") == "search"
    assert normalise_base_url("http://127.0.0.1:8787/") == "http://127.0.0.1:8787/api/v1"
    assert normalise_base_url("https://api.close.com/api/v1/") == "https://api.close.com/api/v1"
    with pytest.raises(ConfigError):
        normalise_base_url("api.close.com")
    assert isinstance(CloseBackend.__new__(CloseBackend), (AdoptsLostCreates, Deletes, PipelineSource))
    lf = LightfieldClient.__new__(LightfieldClient)
    assert not isinstance(lf, AdoptsLostCreates) and not isinstance(lf, PipelineSource)


def test_the_backend_satisfies_the_protocol(close_backend: CloseBackend) -> None:
    assert isinstance(close_backend, Backend)
    assert "sk" not in repr(close_backend) and close_backend.key_fingerprint in repr(close_backend)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"rate_limit_body": "flat"},
        {"ratelimit_separator": "; ", "ratelimit_reset": "integer"},
        {"legacy_headers": True},
    ],
)
def test_pacing_keeps_under_the_limit_in_every_header_shape(
    close_sandbox: CloseSandboxServer, options: dict[str, Any]
) -> None:
    """60 reads at 8 threads against a 10/s (bucket 20) limit: the client learns the rate from the
    header and is refused at most a few times, whatever shape the header and 429 body take."""
    org = close_sandbox.create_org(seed="empty")
    close_sandbox.set_rate_limit(org.org_id, per_second=10, window=2)
    close_sandbox.set_options(org.org_id, **options)
    with CloseClient(api_key=org.api_key, base_url=close_sandbox.api_url) as client:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: client.get("user/"), range(60)))
        stats = client.stats
    assert stats.by_status.get(200) == 60
    assert stats.rate_limited <= 6, stats  # the bucket's burst, then the learnt pace
    assert client.pacer("user:read").rate == pytest.approx(9.7, rel=0.15)


def test_429_storm_is_waited_out_and_a_lasting_one_raises(close_sandbox: CloseSandboxServer) -> None:
    """A 429 is "wait", never a failed attempt: a storm outlasts max_attempts and is waited out; only
    max_wait seconds without any request succeeding give up, with a note saying why."""
    org = close_sandbox.create_org(seed="empty")
    close_sandbox.set_faults(org.org_id, rate_429=1.0)
    close_sandbox.set_options(org.org_id, rate_limit_body="flat")
    with CloseClient(
        api_key=org.api_key,
        base_url=close_sandbox.api_url,
        retry=RetryPolicy(max_attempts=2, retry_after_jitter=0, max_wait=1.0),
    ) as client:
        with pytest.raises(RateLimitError) as raised:
            client.get("me/")
        assert client.stats.rate_limited == client.stats.requests >= 2
        assert any("--max-wait" in note for note in raised.value.__notes__)
    close_sandbox.set_faults(org.org_id, rate_429=0.5, seed=7)
    with CloseClient(
        api_key=org.api_key,
        base_url=close_sandbox.api_url,
        retry=RetryPolicy(max_attempts=1, retry_after_jitter=0, max_wait=60.0),
    ) as client:
        for _ in range(6):
            assert client.get("me/")["id"]  # one attempt allowed, yet every 429 is waited out
        assert client.stats.rate_limited >= 1
    close_sandbox.set_faults(org.org_id, rate_429=0.0)


def test_a_post_whose_answer_was_lost_is_never_resent_blindly(close_sandbox: CloseSandboxServer) -> None:
    org = close_sandbox.create_org(seed="empty")
    close_sandbox.set_faults(org.org_id, drop_rate=1.0)
    with CloseClient(api_key=org.api_key, base_url=close_sandbox.api_url) as client:
        with pytest.raises(UnconfirmedWrite):
            client.post("lead/", {"name": "Once"})
        assert client.stats.requests == 1
    close_sandbox.set_faults(org.org_id, drop_rate=0.0)
    assert close_sandbox.count(org.org_id, "lead") == 1  # applied once, answer lost


def test_lost_creates_are_adopted_not_duplicated(close_sandbox: CloseSandboxServer, close_org: Org) -> None:
    """Half the answers dropped (searches' too, which are retried): leads are found by a search,
    opportunities in their lead; a lead without a key cannot be looked for and is not re-sent."""
    retry = RetryPolicy(max_attempts=20, backoff_base=0.001, backoff_max=0.01)
    with CloseBackend(
        api_key=close_org.api_key, base_url=close_sandbox.api_url, search_lag=0.2, retry=retry
    ) as backend:
        close_sandbox.set_faults(close_org.org_id, drop_rate=0.5, seed=3)
        leads = [
            backend.create("lead", {"fields": {"$name": f"Dropped {i}", "external_id": f"DROP-{i}"}})
            for i in range(6)
        ]
        opps = [
            backend.create(
                "opportunity",
                {
                    "fields": {"external_id": f"DROP-O-{i}", "$value": 12.5},
                    "relationships": {"$lead": lead["id"]},
                },
            )
            for i, lead in enumerate(leads)
        ]
        assert backend.adopted > 0
        close_sandbox.set_faults(close_org.org_id, drop_rate=1.0)
        with pytest.raises(UnconfirmedWrite):  # without a key there is nothing to look for
            backend.create("lead", {"fields": {"$name": "No Key Co"}})
        close_sandbox.set_faults(close_org.org_id, drop_rate=0.0)
    names = Counter(r["name"] for r in close_sandbox.records(close_org.org_id, "lead"))
    assert all(names[f"Dropped {i}"] == 1 for i in range(6)) and names["No Key Co"] == 1
    raw = {o["id"]: o for o in close_sandbox.records(close_org.org_id, "opportunity")}
    assert all(raw[o["id"]]["value"] == 1250 for o in opps)
    keys = Counter(o.get("custom.cf_DemoOppExternalId") for o in raw.values())
    assert all(keys[f"DROP-O-{i}"] == 1 for i in range(6))


def test_auth_error_and_unknown_objects(
    close_sandbox: CloseSandboxServer, close_backend: CloseBackend
) -> None:
    with CloseBackend(api_key="api_wrong", base_url=close_sandbox.api_url) as bad, pytest.raises(AuthError):
        bad.schema("lead")
    with pytest.raises(ConfigError, match="Close calls it 'lead'"):
        close_backend.schema("account")
    assert [t["objectType"] for t in close_backend.all_object_types()] == ["lead", "contact", "opportunity"]


# --- encode -----------------------------------------------------------------------------------------


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_to_units_and_back(cents: int) -> None:
    units = cents_to_units(cents)
    assert units_to_cents(units) == cents
    assert Decimal(str(units)) * 100 == cents


def test_units_round_to_the_nearest_cent() -> None:
    assert units_to_cents(1234.56) == 123456 and units_to_cents("0.005") == 0 and units_to_cents(0.015) == 2
    assert cents_to_units(300000) == 3000 and isinstance(cents_to_units(300000), int)


def config() -> CloseConfig:
    return CloseConfig.from_api(
        currency="EUR",
        users=[{"id": "user_a", "first_name": "Ann", "last_name": "Lee", "email": "ann@x.test"}],
        lead_statuses=[{"id": "stat_l1", "label": "Potential"}],
        pipelines=[
            {
                "id": "pipe_s",
                "name": "Sales",
                "statuses": [
                    {"id": "stat_1", "label": "Won", "type": "won"},
                    {"id": "stat_2", "label": "Open", "type": "active"},
                ],
            },
            {
                "id": "pipe_r",
                "name": "Renewals",
                "statuses": [{"id": "stat_3", "label": "Won", "type": "won"}],
            },
        ],
        custom_fields={
            "lead": [
                {"id": "cf_1", "name": "External ID", "type": "text"},
                {"id": "cf_2", "name": "External-ID", "type": "number"},
                {"id": "cf_3", "name": "Owner", "type": "user", "accepts_multiple_values": True},
            ],
            "opportunity": [{"id": "cf_4", "name": "Kick-off", "type": "date"}],
        },
        shared_fields=[
            {
                "id": "cf_5",
                "name": "Region",
                "type": "choices",
                "choices": ["NA", "EU"],
                "associations": [{"object_type": "opportunity"}],
            }
        ],
    )


def test_schemas_keys_and_statuses() -> None:
    maps = object_maps(config())
    lead = maps["lead"].schema
    assert [k for k in lead.fields if not k.startswith("$")] == ["external_id", "external_id_2"]
    assert lead.relationships["owner"].has_many and lead.relationships["owner"].object_type == "member"
    opp = maps["opportunity"].schema
    assert opp.fields["$value"].type_configuration.currency == "EUR"
    assert opp.fields["region"].value_type == "SINGLE_SELECT" and opp.required == ("$lead",)
    assert [(o["label"], o["scope"]) for o in status_options(config())] == [
        ("Sales: Won", "pipe_s"),
        ("Open", "pipe_s"),
        ("Renewals: Won", "pipe_r"),
    ]
    assert slug("Renewal Date") == "renewal_date" and slug("%") == "field"
    assert field_of(maps["opportunity"], "value") == "$value"
    assert field_of(maps["lead"], "custom.cf_2") == "external_id_2"
    assert field_of(maps["contact"], "emails.0.email") == "$email"


def test_records_and_bodies_translate_both_ways() -> None:
    maps = object_maps(config())
    raw = {
        "id": "oppo_1",
        "lead_id": "lead_1",
        "lead_name": "Acme",
        "status_id": "stat_3",
        "status_label": "Won",
        "value": 150050,
        "value_formatted": "€1,500.50",
        "value_period": "monthly",
        "confidence": 80,
        "date_won": "2026-03-04",
        "user_id": "user_a",
        "custom.cf_4": "2026-01-31",
        "custom.cf_5": "EU",
    }
    rec = record_to_neutral(maps["opportunity"], raw)
    fields = {k: v["value"] for k, v in rec["fields"].items()}
    assert fields["$value"] == 1500.5 and fields["$dateWon"] == "2026-03-04T00:00:00+00:00"
    assert fields["kick_off"] == "2026-01-31T00:00:00+00:00" and fields["region"] == "EU"
    assert fields["$displayName"] == "Acme – Won – €1,500.50"
    assert rec["relationships"]["$user"] == {"values": ["user_a"]}
    body = {
        "fields": {"$value": 1500.5, "$dateWon": fields["$dateWon"], "kick_off": None, "$confidence": 80.0},
        "relationships": {"$user": {"replace": ["user_a"]}, "$contact": {"replace": None}},
    }
    assert body_to_close(maps["opportunity"], body) == {
        "value": 150050,
        "date_won": "2026-03-04",
        "custom.cf_4": None,
        "confidence": 80,
        "user_id": "user_a",
        "contact_id": None,
    }
    lead_body = {
        "fields": {"$address": {"city": "Oslo", "country": "NO"}},
        "relationships": {"owner": ["user_a"]},
    }
    current = {
        "addresses": [
            {"label": "mailing", "city": "Old", "tz_ids": []},
            {"label": "other", "city": "Bergen", "tz_ids": ["x"]},
        ]
    }
    out = body_to_close(maps["lead"], lead_body, current)
    assert out["addresses"][0]["label"] == "mailing" and out["addresses"][0]["city"] == "Oslo"
    assert out["addresses"][1] == {"label": "other", "city": "Bergen"} and out["custom.cf_3"] == ["user_a"]
    with pytest.raises(KeyError):
        body_to_close(maps["opportunity"], {"fields": {"$expectedValue": 1}})
