"""The sandbox's request rules over real HTTP: auth, headers, validation, relationships, lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bulkio.sandbox import SandboxServer

VERSION = {"Lightfield-Version": "2026-03-01"}


def connect(sandbox: SandboxServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {key}", **VERSION})


# These tests are about request rules, not list lag (test_sandbox_limits / test_sandbox_profiles
# cover that): their orgs' lists show new records at once.
@pytest.fixture
def api(sandbox: SandboxServer, org: Any) -> Iterator[httpx.Client]:
    sandbox.set_faults(org.org_id, index_lag_ms=0)
    with connect(sandbox, org.api_key) as c:
        yield c


@pytest.fixture
def blank(sandbox: SandboxServer, empty_org: Any) -> Iterator[httpx.Client]:
    sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
    with connect(sandbox, empty_org.api_key) as c:
        yield c


@pytest.fixture
def lenient_blank(lenient_sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An empty org of the lenient sandbox (labels anywhere, case-insensitive matching)."""
    org = lenient_sandbox.create_org(seed="demo", records=False)
    with connect(lenient_sandbox, org.api_key) as c:
        yield c


def is_strict(sandbox: SandboxServer) -> bool:
    return sandbox.profile.name == "strict"


def err(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def first_id(api: httpx.Client, path: str, **filters: str) -> str:
    return api.get(path, params={"limit": 1, **filters}).json()["data"][0]["id"]  # type: ignore[no-any-return]


def new_account(api: httpx.Client, name: str = "Acme", **fields: Any) -> dict[str, Any]:
    r = api.post("/v1/accounts", json={"fields": {"$name": name, **fields}})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# --- auth and headers ------------------------------------------------------------------------------
def test_missing_and_invalid_key_are_401(sandbox: SandboxServer) -> None:
    r = httpx.get(sandbox.url + "/v1/accounts", headers=VERSION)
    assert r.status_code == 401 and err(r)["type"] == "unauthorized"
    r = httpx.get(sandbox.url + "/v1/accounts", headers={"Authorization": "Bearer sk_lf_nope", **VERSION})
    assert r.status_code == 401 and err(r)["type"] == "unauthorized"
    assert "x-ratelimit-limit" in r.headers


def test_auth_validate_reports_scopes(sandbox: SandboxServer, org: Any) -> None:
    with connect(sandbox, org.api_key) as c:
        assert c.get("/v1/auth/validate").json() == {
            "active": True,
            "tokenType": "api_key",
            "subjectType": "user",
            "scopes": [],
        }
    key = sandbox.mint_key(org.org_id, ["accounts:read"])
    assert key.startswith("sk_lf_sandbox_")
    with connect(sandbox, key) as c:
        assert c.get("/v1/auth/validate").json()["scopes"] == ["accounts:read"]


@pytest.mark.parametrize("headers", [{}, {"Lightfield-Version": "2025-01-01"}])
def test_version_header_is_required(sandbox: SandboxServer, headers: dict[str, str]) -> None:
    r = httpx.get(
        sandbox.url + "/v1/accounts", headers={"Authorization": f"Bearer {sandbox.api_key}", **headers}
    )
    assert r.status_code == 400
    assert err(r)["type"] == "bad_request" and err(r)["code"] == "version_header"


SCOPED = [
    ("GET", "/v1/accounts", "accounts:read"),
    ("GET", "/v1/accounts/definitions", "accounts:read"),
    ("POST", "/v1/accounts", "accounts:create"),
    ("GET", "/v1/contacts", "contacts:read"),
    ("POST", "/v1/contacts", "contacts:create"),
    ("GET", "/v1/opportunities", "opportunities:read"),
    ("POST", "/v1/opportunities", "opportunities:create"),
    ("GET", "/v1/tasks", "tasks:read"),
    ("POST", "/v1/tasks", "tasks:create"),
    ("GET", "/v1/notes", "notes:read"),
    ("POST", "/v1/notes", "notes:create"),
    ("GET", "/v1/members", "members:read"),
]


@pytest.mark.parametrize(("method", "path", "scope"), SCOPED)
def test_missing_scope_is_403(sandbox: SandboxServer, org: Any, method: str, path: str, scope: str) -> None:
    other = "members:read" if scope != "members:read" else "accounts:read"
    with connect(sandbox, sandbox.mint_key(org.org_id, [other])) as c:
        r = c.request(method, path, json={"fields": {}})
        assert r.status_code == 403 and err(r)["type"] == "forbidden"
    with connect(sandbox, sandbox.mint_key(org.org_id, [scope])) as c:
        r = c.request(method, path, json={"fields": {}})
        assert r.status_code != 403


def test_update_needs_update_scope(sandbox: SandboxServer, org: Any, api: httpx.Client) -> None:
    acc = first_id(api, "/v1/accounts")
    with connect(sandbox, sandbox.mint_key(org.org_id, ["accounts:create", "accounts:read"])) as c:
        assert c.post(f"/v1/accounts/{acc}", json={"fields": {}}).status_code == 403
    with connect(sandbox, sandbox.mint_key(org.org_id, ["accounts:update"])) as c:
        assert c.post(f"/v1/accounts/{acc}", json={"fields": {}}).status_code == 200


def test_custom_objects_need_a_full_access_key(sandbox: SandboxServer, org: Any) -> None:
    """No documented scope grants custom objects: a scoped key (even a misspelt-free one with
    every account scope) gets 403 on every /v1/objects path; a full-access key works."""
    scoped = sandbox.mint_key(org.org_id, ["accounts:read", "accounts:create", "accounts:update"])
    with connect(sandbox, scoped) as c:
        for method, path in [
            ("GET", "/v1/objects"),
            ("GET", "/v1/objects/partner"),
            ("GET", "/v1/objects/partner/definitions"),
            ("POST", "/v1/objects/partner/values"),
        ]:
            r = c.request(method, path, json={"fields": {"$name": "Nope"}} if method == "POST" else None)
            assert r.status_code == 403 and err(r)["type"] == "forbidden", (method, path, r.text)
        partner = first_id(connect(sandbox, org.api_key), "/v1/objects/partner")
        r = c.post(f"/v1/objects/partner/values/{partner}", json={"fields": {"$name": "Hijack"}})
        assert r.status_code == 403
    with connect(sandbox, org.api_key) as c:
        assert c.get("/v1/objects").json() == {"data": [{"objectType": "partner", "label": "Partner"}]}
        assert c.get(f"/v1/objects/partner/values/{partner}").json()["fields"]["$name"]["value"] != "Hijack"


def test_misspelt_scopes_are_refused_at_mint(sandbox: SandboxServer, org: Any) -> None:
    for bad in ["account:read", "accounts:write", "Accounts:read", "objects:create", ""]:
        with pytest.raises(ValueError, match="Unknown scope"):
            sandbox.mint_key(org.org_id, [bad])
    with pytest.raises(ValueError, match="Did you mean 'accounts:read'"):
        sandbox.mint_key(org.org_id, ["acounts:read"])


def test_body_must_be_json(api: httpx.Client) -> None:
    r = api.post(
        "/v1/accounts", content=b'{"fields": {"$name": "A"}}', headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 415 and err(r)["type"] == "unsupported_media_type"
    r = api.post("/v1/accounts", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 415


def test_unknown_path_and_missing_record_are_404(api: httpx.Client) -> None:
    assert err(api.get("/v1/widgets"))["type"] == "not_found"
    assert api.get("/v1/notes/definitions").status_code == 404
    assert api.get("/v1/objects/nope").status_code == 404
    r = api.get("/v1/accounts/acc_doesnotexist")
    assert r.status_code == 404
    assert r.json() == {
        "error": {"type": "not_found", "message": "No resource found in 'accounts' with the given ID."}
    }
    opp = first_id(api, "/v1/opportunities")
    assert api.get(f"/v1/accounts/{opp}").status_code == 404


# --- shapes ----------------------------------------------------------------------------------------
def test_entity_shape_lists_every_field_and_relationship(api: httpx.Client) -> None:
    defs = api.get("/v1/opportunities/definitions").json()
    opp = api.get("/v1/opportunities", params={"limit": 1}).json()["data"][0]
    assert set(opp) == {"id", "createdAt", "updatedAt", "httpLink", "externalId", "fields", "relationships"}
    assert opp["id"].startswith("opp_") and opp["httpLink"].startswith("https://crm.lightfield.app/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", opp["createdAt"])
    assert set(opp["fields"]) == set(defs["fieldDefinitions"])
    assert set(opp["relationships"]) == set(defs["relationshipDefinitions"])
    for key, f in opp["fields"].items():
        assert f["valueType"] == defs["fieldDefinitions"][key]["valueType"]
    assert opp["relationships"]["$account"]["cardinality"] == "has_one"
    assert opp["relationships"]["$account"]["objectType"] == "account"


def test_definitions_follow_the_demo_org(api: httpx.Client) -> None:
    task = api.get("/v1/tasks/definitions").json()
    status = task["fieldDefinitions"]["$status"]["typeConfiguration"]["options"]
    assert [(o["id"], o["label"]) for o in status] == [
        ("TODO", "To do"),
        ("IN_PROGRESS", "In progress"),
        ("COMPLETE", "Complete"),
        ("CANCELLED", "Cancelled"),
    ]
    acc = api.get("/v1/accounts/definitions").json()
    assert acc["objectType"] == "account"
    ext = acc["fieldDefinitions"]["external_id"]
    assert (
        ext["typeConfiguration"]["unique"] is True and ext["system"] is False and ext["slug"] == "external_id"
    )
    assert acc["fieldDefinitions"]["$website"]["typeConfiguration"]["multipleValues"] is True
    assert acc["fieldDefinitions"]["annualRevenue"]["typeConfiguration"]["currency"] == "USD"
    assert acc["fieldDefinitions"]["$linkedIn"]["typeConfiguration"]["handleService"] == "LINKEDIN"
    assert acc["fieldDefinitions"]["$howTheyMakeMoney"]["readOnly"] is True
    assert acc["relationshipDefinitions"]["$opportunity"]["cardinality"] == "HAS_MANY"
    opp = api.get("/v1/opportunities/definitions").json()
    stages = opp["fieldDefinitions"]["$stage"]["typeConfiguration"]["options"]
    assert [o["label"] for o in stages] == [
        "Lead",
        "Qualified",
        "Proposal",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    ]
    assert stages[0]["id"] == "opt_stage_lead"
    assert opp["relationshipDefinitions"]["$account"]["slug"] == "$opportunity-account"
    partner = api.get("/v1/objects/partner/definitions").json()
    assert partner["objectType"] == "partner" and "commission" in partner["fieldDefinitions"]


def test_demo_records(api: httpx.Client) -> None:
    counts = {
        p: api.get(p, params={"limit": 1}).json()["totalCount"]
        for p in (
            "/v1/accounts",
            "/v1/contacts",
            "/v1/opportunities",
            "/v1/tasks",
            "/v1/notes",
            "/v1/members",
            "/v1/objects/partner",
        )
    }
    assert counts == {
        "/v1/accounts": 25,
        "/v1/contacts": 50,
        "/v1/opportunities": 40,
        "/v1/tasks": 30,
        "/v1/notes": 20,
        "/v1/members": 3,
        "/v1/objects/partner": 5,
    }
    members = api.get("/v1/members").json()["data"]
    assert {m["id"] for m in members} == {"mem_ava", "mem_ben", "mem_cleo"}
    ava = api.get("/v1/members/mem_ava").json()
    assert ava["fields"]["$email"] == {"value": "ava@demo.lightfield.test", "valueType": "EMAIL"}
    assert ava["fields"]["$name"]["value"] == {"firstName": "Ava", "lastName": "Admin"}
    assert ava["relationships"] == {
        "$user": {"cardinality": "HAS_ONE", "objectType": "user", "values": ["usr_ava"]}
    }
    no_ext = api.get("/v1/accounts", params={"external_id[-startsWith]": "ACC-"}).json()["totalCount"]
    assert no_ext == 3
    stages = {o["fields"]["$stage"]["value"] for o in api.get("/v1/opportunities").json()["data"]}
    stages |= {
        o["fields"]["$stage"]["value"]
        for o in api.get("/v1/opportunities", params={"offset": 25}).json()["data"]
    }
    assert len(stages) == 6


# --- writes: validation ----------------------------------------------------------------------------
def test_unknown_field_message(api: httpx.Client) -> None:
    r = api.post("/v1/accounts", json={"fields": {"$name": "A", "bogus": 1}})
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "type": "bad_request",
            "message": "Unrecognized field 'bogus' for 'accounts'.",
            "code": "unknown_field",
            "param": "fields.bogus",
        }
    }


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "param"),
    [
        ("/v1/accounts", {"fields": {"$name": "A"}, "externalId": "x"}, 400, "invalid_type", "externalId"),
        ("/v1/accounts", {"relationships": {}}, 400, "parameter_missing", "fields"),
        ("/v1/accounts", {"fields": {"$name": 5}}, 400, "invalid_type", "fields.$name"),
        (
            "/v1/accounts",
            {"fields": {"$name": "A"}, "relationships": {"$bogus": "x"}},
            400,
            "unknown_relationship",
            "relationships.$bogus",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "$accountStatus": "x"}},
            400,
            "invalid_configuration",
            "fields.$accountStatus",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A"}, "relationships": {"$opportunity": []}},
            400,
            "invalid_configuration",
            "relationships.$opportunity",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A"}, "relationships": {"$owner": "mem_nobody"}},
            400,
            "relationship_entity_missing",
            "relationships.$owner",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A"}, "relationships": {"$owner": ["mem_ava", "mem_ben"]}},
            400,
            "invalid_type",
            "relationships.$owner",
        ),
        ("/v1/accounts", {"fields": {}}, 422, None, "fields.$name"),
        ("/v1/accounts", {"fields": {"$name": None}}, 422, None, "fields.$name"),
        (
            "/v1/opportunities",
            {"fields": {"$name": "D", "$stage": "Lead"}},
            422,
            None,
            "relationships.$account",
        ),
        ("/v1/tasks", {"fields": {"$title": "T", "$status": "TODO"}}, 422, None, "relationships.$assignedTo"),
        (
            "/v1/tasks",
            {
                "fields": {"$title": "T", "$status": "TODO", "bogus": 1},
                "relationships": {"$assignedTo": "mem_ava"},
            },
            400,
            "unknown_field",
            "fields.bogus",
        ),
        ("/v1/notes", {"fields": {"$content": "x"}}, 422, None, "fields.$title"),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "tier": "Platinum"}},
            422,
            "invalid_option",
            "fields.tier",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "$industry": ["Software", "Mining"]}},
            422,
            "invalid_option",
            "fields.$industry",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "employeeCount": "12"}},
            400,
            "invalid_type",
            "fields.employeeCount",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "employeeCount": 1.234}},
            422,
            "invalid_value",
            "fields.employeeCount",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "isCustomer": "yes"}},
            400,
            "invalid_type",
            "fields.isCustomer",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "renewalDate": 20260101}},
            400,
            "invalid_type",
            "fields.renewalDate",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "renewalDate": "next tuesday"}},
            422,
            "invalid_value",
            "fields.renewalDate",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "billingEmail": "not-an-email"}},
            422,
            "invalid_value",
            "fields.billingEmail",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "billingEmail": ["a@b.co"]}},
            400,
            "invalid_type",
            "fields.billingEmail",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "$website": ["not a url"]}},
            422,
            "invalid_value",
            "fields.$website",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "phone": ["call me"]}},
            422,
            "invalid_value",
            "fields.phone",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "$primaryAddress": {"town": "X"}}},
            400,
            "invalid_type",
            "fields.$primaryAddress",
        ),
        (
            "/v1/accounts",
            {"fields": {"$name": "A", "$primaryAddress": {"country": "USA"}}},
            422,
            "invalid_value",
            "fields.$primaryAddress",
        ),
        ("/v1/contacts", {"fields": {"$name": "Ada Lovelace"}}, 400, "invalid_type", "fields.$name"),
        ("/v1/contacts", {"fields": {"$name": {"first": "Ada"}}}, 400, "invalid_type", "fields.$name"),
    ],
)
def test_write_rejections(
    api: httpx.Client, path: str, body: dict[str, Any], status: int, code: str | None, param: str
) -> None:
    r = api.post(path, json=body)
    assert r.status_code == status, r.text
    e = err(r)
    assert e.get("code") == code and e["param"] == param
    assert e["type"] == ("bad_request" if status == 400 else "unprocessable_content")


def test_relationship_target_must_have_the_right_type(api: httpx.Client) -> None:
    contact = first_id(api, "/v1/contacts")
    r = api.post(
        "/v1/opportunities",
        json={"fields": {"$name": "D", "$stage": "Lead"}, "relationships": {"$account": contact}},
    )
    assert r.status_code == 400 and err(r)["code"] == "relationship_entity_missing"


def test_more_than_25_relationship_ids_is_422(api: httpx.Client) -> None:
    contacts = [c["id"] for c in api.get("/v1/contacts").json()["data"]]
    contacts += [c["id"] for c in api.get("/v1/contacts", params={"offset": 25, "limit": 1}).json()["data"]]
    r = api.post("/v1/accounts", json={"fields": {"$name": "Big"}, "relationships": {"$contact": contacts}})
    assert r.status_code == 422 and err(r)["code"] == "relationship_write_limit_exceeded"
    r = api.post(
        "/v1/accounts", json={"fields": {"$name": "Big"}, "relationships": {"$contact": contacts[:25]}}
    )
    assert r.status_code == 200


def test_values_are_normalised(lenient_blank: httpx.Client) -> None:
    """The lenient profile takes labels in any case and dates without an offset (the strict one
    refuses both: test_sandbox_profiles)."""
    blank = lenient_blank
    acc = new_account(
        blank,
        "Norm",
        tier="  mid-MARKET ",
        phone=["(415) 555-0100", "+44 20 7946 0958 ext 12"],
        renewalDate="2026-03-16",
        employeeCount=12.0,
        **{
            "$industry": ["software", "opt_industry_media"],
            "$primaryAddress": {"city": "Berlin", "country": "de"},
        },
    )
    f = acc["fields"]
    assert f["tier"]["value"] == "opt_tier_mid_market"
    assert f["phone"]["value"] == ["+14155550100", "+442079460958;ext=12"]
    assert f["renewalDate"]["value"] == "2026-03-16T00:00:00.000Z"
    assert f["employeeCount"]["value"] == 12
    assert f["$industry"]["value"] == ["opt_industry_software", "opt_industry_media"]
    assert f["$primaryAddress"]["value"] == {
        "street": None,
        "street2": None,
        "city": "Berlin",
        "state": None,
        "postalCode": None,
        "country": "DE",
        "latitude": None,
        "longitude": None,
    }
    acc2 = new_account(
        blank, "Tz", renewalDate="2026-03-16T12:00:00+02:00", **{"$website": "acme.example.com"}
    )
    assert acc2["fields"]["renewalDate"]["value"] == "2026-03-16T10:00:00.000Z"
    assert acc2["fields"]["$website"]["value"] == ["acme.example.com"]


def test_duplicate_external_id_is_422(api: httpx.Client) -> None:
    r = api.post("/v1/accounts", json={"fields": {"$name": "Dup", "external_id": "ACC-0001"}})
    assert r.status_code == 422
    assert err(r) == {
        "type": "unprocessable_content",
        "code": "duplicate_value",
        "param": "fields.external_id",
        "message": err(r)["message"],
    }
    mine = new_account(api, "Mine", external_id="NEW-1")
    assert (
        api.post(f"/v1/accounts/{mine['id']}", json={"fields": {"external_id": "NEW-1"}}).status_code == 200
    )
    r = api.post(f"/v1/accounts/{mine['id']}", json={"fields": {"external_id": "ACC-0002"}})
    assert r.status_code == 422 and err(r)["code"] == "duplicate_value"
    # freeing a value lets another record take it
    assert api.post(f"/v1/accounts/{mine['id']}", json={"fields": {"external_id": None}}).status_code == 200
    assert new_account(api, "Other", external_id="NEW-1")["fields"]["external_id"]["value"] == "NEW-1"
    # the same value on another object type is fine
    r = api.post("/v1/contacts", json={"fields": {"external_id": "ACC-0001"}})
    assert r.status_code == 200


def test_update_null_clears_and_updated_at_moves_only_on_change(api: httpx.Client) -> None:
    acc = new_account(api, "Clr", tier="opt_tier_smb", employeeCount=5)
    same = api.post(f"/v1/accounts/{acc['id']}", json={"fields": {"tier": "opt_tier_smb"}}).json()
    assert same["updatedAt"] == acc["updatedAt"]
    r = api.post(f"/v1/accounts/{acc['id']}", json={"fields": {"tier": None}})
    assert r.status_code == 200
    out = r.json()
    assert out["fields"]["tier"]["value"] is None and out["fields"]["employeeCount"]["value"] == 5
    assert out["updatedAt"] > acc["updatedAt"] and out["createdAt"] == acc["createdAt"]
    r = api.post(f"/v1/accounts/{acc['id']}", json={"fields": {"$name": None}})
    assert r.status_code == 422 and err(r)["param"] == "fields.$name"
    assert api.get(f"/v1/accounts/{acc['id']}").json() == out


def test_opportunity_status_follows_stage(api: httpx.Client) -> None:
    acc = first_id(api, "/v1/accounts")
    r = api.post(
        "/v1/opportunities",
        json={"fields": {"$name": "D", "$stage": "Closed Won"}, "relationships": {"$account": [acc]}},
    )
    assert r.status_code == 200, r.text
    opp = r.json()
    assert opp["fields"]["$stage"]["value"] == "opt_stage_closed_won"
    assert opp["fields"]["$opportunityStatus"]["value"] == "WON"
    out = api.post(f"/v1/opportunities/{opp['id']}", json={"fields": {"$stage": "Negotiation"}}).json()
    assert out["fields"]["$opportunityStatus"]["value"] == "OPEN"
    assert opp["relationships"]["$createdBy"]["values"] == ["mem_ava"]


# --- relationships ---------------------------------------------------------------------------------
def rels(api: httpx.Client, path: str, key: str) -> list[str]:
    return api.get(path).json()["relationships"][key]["values"]  # type: ignore[no-any-return]


def test_reverse_links_follow_writes(sandbox: SandboxServer, blank: httpx.Client) -> None:
    a = new_account(blank, "A")["id"]
    b = new_account(blank, "B")["id"]
    opp = blank.post(
        "/v1/opportunities",
        json={"fields": {"$name": "D", "$stage": "Lead"}, "relationships": {"$account": a}},
    ).json()["id"]
    assert rels(blank, f"/v1/accounts/{a}", "$opportunity") == [opp]
    moved = blank.post(f"/v1/opportunities/{opp}", json={"relationships": {"$account": {"replace": b}}})
    if is_strict(sandbox):  # opportunity $account is not in the typed update schema
        assert moved.status_code == 400 and err(moved)["code"] == "invalid_configuration"
        a, b = b, a
    else:
        assert rels(blank, f"/v1/accounts/{a}", "$opportunity") == []
    assert rels(blank, f"/v1/accounts/{b}", "$opportunity") == [opp]
    task = blank.post(
        "/v1/tasks",
        json={
            "fields": {"$title": "Call", "$status": "TODO"},
            "relationships": {"$assignedTo": "mem_ben", "$account": a, "$opportunity": opp},
        },
    ).json()
    assert task["fields"]["$status"]["value"] == "TODO"
    assert task["relationships"]["$createdBy"]["values"] == ["mem_ava"]
    assert rels(blank, f"/v1/accounts/{a}", "$task") == [task["id"]]
    assert rels(blank, f"/v1/opportunities/{opp}", "$task") == [task["id"]]
    note = blank.post(
        "/v1/notes", json={"fields": {"$title": "N"}, "relationships": {"$account": [a, b]}}
    ).json()["id"]
    assert rels(blank, f"/v1/accounts/{b}", "$note") == [note]
    blank.post(f"/v1/notes/{note}", json={"relationships": {"$account": {"remove": b}}})
    assert rels(blank, f"/v1/accounts/{b}", "$note") == []
    assert rels(blank, f"/v1/notes/{note}", "$account") == [a]
    # contact $account <-> account $contact, both directions
    con = blank.post(
        "/v1/contacts", json={"fields": {"$name": {"firstName": "Ada"}}, "relationships": {"$account": a}}
    ).json()["id"]
    assert rels(blank, f"/v1/accounts/{a}", "$contact") == [con]
    blank.post(f"/v1/accounts/{b}", json={"relationships": {"$contact": {"add": con}}})
    assert rels(blank, f"/v1/contacts/{con}", "$account") == [a, b]
    blank.post(f"/v1/accounts/{a}", json={"relationships": {"$contact": {"remove": [con]}}})
    assert rels(blank, f"/v1/contacts/{con}", "$account") == [b]


def test_relationship_update_ops(sandbox: SandboxServer, blank: httpx.Client) -> None:
    acc = new_account(blank, "Ops")
    aid = acc["id"]
    blank.post(f"/v1/accounts/{aid}", json={"relationships": {"$owner": {"add": "mem_ava"}}})
    assert rels(blank, f"/v1/accounts/{aid}", "$owner") == ["mem_ava"]
    blank.post(f"/v1/accounts/{aid}", json={"relationships": {"$owner": {"replace": "mem_ben"}}})
    assert rels(blank, f"/v1/accounts/{aid}", "$owner") == ["mem_ben"]
    blank.post(f"/v1/accounts/{aid}", json={"relationships": {"$owner": {"replace": None}}})
    assert rels(blank, f"/v1/accounts/{aid}", "$owner") == []
    r = blank.post(f"/v1/accounts/{aid}", json={"relationships": {"$owner": "mem_ava"}})
    assert r.status_code == 400 and err(r)["code"] == "invalid_type"
    r = blank.post(
        f"/v1/accounts/{aid}", json={"relationships": {"$owner": {"replace": "mem_ava", "add": "mem_ben"}}}
    )
    assert r.status_code == 400
    note = blank.post(
        "/v1/notes", json={"fields": {"$title": "N"}, "relationships": {"$account": aid}}
    ).json()
    r = blank.post(f"/v1/notes/{note['id']}", json={"relationships": {"$account": {"replace": []}}})
    assert r.status_code == 400 and err(r)["param"] == "relationships.$account"
    opp = blank.post(
        "/v1/opportunities",
        json={"fields": {"$name": "D", "$stage": "Lead"}, "relationships": {"$account": aid}},
    ).json()["id"]
    r = blank.post(f"/v1/opportunities/{opp}", json={"relationships": {"$account": {"remove": aid}}})
    assert r.status_code == (400 if is_strict(sandbox) else 422)  # strict: cannot change at all
    assert err(r)["param"] == "relationships.$account"


# --- lists -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 26}, {"limit": "x"}, {"offset": -1}])
def test_page_bounds(api: httpx.Client, params: dict[str, Any]) -> None:
    r = api.get("/v1/accounts", params=params)
    assert r.status_code == 400
    assert err(r)["code"] == "invalid_type" and err(r)["param"] == next(iter(params))


def test_pages_cover_everything_newest_first(api: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = api.get("/v1/contacts", params={"offset": offset, "limit": 7}).json()
        assert page["object"] == "list" and page["totalCount"] == 50
        seen += page["data"]
        if len(page["data"]) < 7:
            break
        offset += 7
    assert len({c["id"] for c in seen}) == 50
    keys = [(c["createdAt"], c["id"]) for c in seen]
    assert keys == sorted(keys, reverse=True)
    assert api.get("/v1/contacts", params={"offset": 500}).json() == {
        "object": "list",
        "data": [],
        "totalCount": 50,
    }
    new = api.post("/v1/contacts", json={"fields": {"jobTitle": "New"}}).json()
    assert api.get("/v1/contacts", params={"limit": 1}).json()["data"][0]["id"] == new["id"]


def total(api: httpx.Client, path: str, params: Any) -> int:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()["totalCount"]  # type: ignore[no-any-return]


def test_filters(sandbox: SandboxServer, blank: httpx.Client) -> None:
    strict = is_strict(sandbox)
    for i, (name, n, tier, cust) in enumerate(
        [
            ("Alpha", 10, "opt_tier_smb", True),
            ("Alpine", 20, "opt_tier_smb", False),
            ("Beta", 30, "opt_tier_enterprise", True),
        ]
    ):
        new_account(
            blank,
            name,
            employeeCount=n,
            tier=tier,
            isCustomer=cust,
            external_id=f"EXT-{i}",
            renewalDate=f"2026-0{i + 1}-01T00:00:00Z",
            billingEmail=f"ap@{name.lower()}.example.com",
            phone=[f"+1415555000{i}"],
            **{"$primaryAddress": {"city": "Paris" if i else "Lyon"}},
        )
    A = "/v1/accounts"
    assert total(blank, A, {"$name": "Alpha"}) == 1  # default op equal
    assert total(blank, A, {"$name": "alpha"}) == (0 if strict else 1)  # strict: case-sensitive
    assert total(blank, A, {"$name[startsWith]": "Alp"}) == 2
    assert total(blank, A, {"$name[-startsWith]": "Alp"}) == 1
    assert total(blank, A, {"$name[-equal]": "Beta"}) == 2
    assert total(blank, A, {"employeeCount[greaterThan]": "10"}) == 2
    assert total(blank, A, {"employeeCount[greaterThanOrEqual]": "10"}) == 3
    assert total(blank, A, {"employeeCount[lessThan]": "30"}) == 2
    assert total(blank, A, {"employeeCount[lessThanOrEqual]": "10"}) == 1
    assert total(blank, A, {"renewalDate[greaterThan]": "2026-01-15T00:00:00Z"}) == 2
    assert total(blank, A, {"tier": "smb"}) == (0 if strict else 2)  # strict: option ids only
    assert total(blank, A, {"tier[equal]": "opt_tier_enterprise"}) == 1
    assert total(blank, A, {"isCustomer": "true"}) == 2
    assert total(blank, A, {"external_id[equal]": "EXT-2"}) == 1
    assert total(blank, A, {"billingEmail": "alp"}) == 2  # default op contains
    assert total(blank, A, {"phone[contains]": "4155550001"}) == 1
    assert total(blank, A, {"$primaryAddress[equal]": "Paris"}) == 2
    assert total(blank, A, {"$primaryAddress[equal]": "paris"}) == (0 if strict else 2)
    assert total(blank, A, [("$name[startsWith]", "Al"), ("employeeCount[greaterThan]", "15")]) == 1
    for params, code in [
        ({"bogus": "1"}, "unknown_field"),
        ({"$name[contains]": "A"}, "invalid_filter"),
        ({"$industry": "Software"}, "invalid_filter"),
        ({"employeeCount": "many"}, "invalid_type"),
    ]:
        r = blank.get(A, params=params)
        assert r.status_code == 400 and err(r)["code"] == code, (params, r.text)


def test_relationship_filters(sandbox: SandboxServer, api: httpx.Client) -> None:
    opp = api.get("/v1/opportunities", params={"limit": 1}).json()["data"][0]
    acc = opp["relationships"]["$account"]["values"][0]
    n = total(api, "/v1/opportunities", {"$opportunity-account[contains]": acc})
    assert n == len(rels(api, f"/v1/accounts/{acc}", "$opportunity")) >= 1
    assert total(api, "/v1/opportunities", {"$account": acc}) == n
    con = rels(api, f"/v1/accounts/{acc}", "$contact")[0]
    assert total(api, "/v1/accounts", {"$account-contact[contains]": con}) == 1
    if is_strict(sandbox):  # SPEC documents filters on account/contact/opportunity/object lists only
        for path, params in [("/v1/tasks", {"$task-account[contains]": acc}), ("/v1/notes", {"$title": "x"})]:
            r = api.get(path, params=params)
            assert r.status_code == 400 and err(r)["code"] == "unknown_field"
    else:
        tasks = total(api, "/v1/tasks", {"$task-account[contains]": acc})
        assert tasks == len(rels(api, f"/v1/accounts/{acc}", "$task"))
        assert (
            total(api, "/v1/tasks", {"$status": "todo"}) == total(api, "/v1/tasks", {"$status": "TODO"}) > 0
        )
        assert total(api, "/v1/notes", {"$title[startsWith]": "call notes"}) == 20
    assert total(api, "/v1/objects/partner", {"partner-account[contains]": "acc_none"}) == 0
    assert api.get("/v1/members", params={"$email": "x"}).status_code == 400


def test_custom_object_records(api: httpx.Client) -> None:
    acc = first_id(api, "/v1/accounts")
    r = api.post(
        "/v1/objects/partner/values",
        json={
            "fields": {"$name": "P", "partnerType": "opt_partner_type_agency", "commission": 7.5},
            "relationships": {"account": [acc]},
        },
    )
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["id"].startswith("obj_") and p["fields"]["partnerType"]["value"] == "opt_partner_type_agency"
    assert api.get(f"/v1/objects/partner/values/{p['id']}").json() == p
    up = api.post(f"/v1/objects/partner/values/{p['id']}", json={"fields": {"commission": 10}}).json()
    assert up["fields"]["commission"]["value"] == 10
    assert api.get("/v1/objects/partner", params={"limit": 1}).json()["data"][0]["id"] == p["id"]
    r = api.post("/v1/objects/partner/values", json={"fields": {"external_id": "PAR-0001"}})
    assert r.status_code == 422 and err(r)["code"] == "duplicate_value"
