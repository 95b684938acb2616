"""Sandbox fidelity: real responses, over HTTP, validated against the official OpenAPI contract.

``tests/data/contract/lightfield-openapi.json`` is the Lightfield 2026-03-01 contract (SPEC-S in
API-FACTS). Each case sends one request and validates the body against the schema the contract
declares for that operation and status. Two deliberate, documented differences are allowed:

* errors are wrapped as ``{"error": {...}}`` (D-ERR; API-FACTS §13 #2), so the *inner* object is
  validated against the flat error schema;
* members carry a ``$user`` relationship (the newer official SDK requires it; the 2026-03-01
  member schema says ``relationships: {}``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkio.sandbox import SandboxServer

jsonschema = pytest.importorskip("jsonschema")

SPEC_PATH = Path(__file__).parent / "data" / "contract" / "lightfield-openapi.json"
VERSION = {"Lightfield-Version": "2026-03-01"}
USER_LINK = {
    "type": "object",
    "properties": {
        "$user": {
            "type": "object",
            "properties": {
                "cardinality": {"const": "HAS_ONE"},
                "objectType": {"const": "user"},
                "values": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["cardinality", "objectType", "values"],
            "additionalProperties": False,
        }
    },
    "required": ["$user"],
    "additionalProperties": False,
}


def _load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    schemas["MemberRetrieveResponse"]["properties"]["relationships"] = copy.deepcopy(USER_LINK)
    schemas["MemberListResponse"]["properties"]["data"]["items"]["properties"]["relationships"] = (
        copy.deepcopy(USER_LINK)
    )
    return spec


SPEC = _load_spec()
TEMPLATES = [(t, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$")) for t in SPEC["paths"]]


def contract_errors(method: str, path: str, response: httpx.Response) -> list[str]:
    """Everything about ``response`` that the contract for ``method path`` does not allow."""
    template = next((t for t, rx in TEMPLATES if rx.match(path)), None)
    if template is None:
        return [f"{method} {path} is not a contract path"]
    responses = SPEC["paths"][template][method.lower()]["responses"]
    declared = responses.get(str(response.status_code))
    if declared is None:
        return [f"status {response.status_code} is not declared for {method} {template}"]
    if not response.headers["content-type"].startswith("application/json"):
        return [f"content-type {response.headers['content-type']}"]
    body = response.json()
    if response.status_code >= 400:
        if set(body) != {"error"}:
            return [f"error body is not wrapped: {body}"]
        body = body["error"]
    schema = declared["content"]["application/json"]["schema"]
    # the contract's "#/components/..." references resolve against this root
    validator = jsonschema.Draft202012Validator({"$ref": schema["$ref"], "components": SPEC["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


@pytest.fixture(scope="module")
def demo(sandbox: SandboxServer) -> Any:
    org = sandbox.create_org(seed="demo")
    sandbox.set_faults(org.org_id, index_lag_ms=0)  # shapes, not list lag
    return org


@pytest.fixture
def api(sandbox: SandboxServer, demo: Any) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {demo.api_key}", **VERSION}
    ) as c:
        yield c


def first(api: httpx.Client, path: str) -> str:
    return str(api.get(path, params={"limit": 1}).json()["data"][0]["id"])


def new_list(api: httpx.Client, object_type: str = "$account") -> str:
    """A fresh list of ``object_type`` holding the two newest records of that type."""
    collection = {"$account": "accounts", "$contact": "contacts", "$opportunity": "opportunities"}[
        object_type
    ]
    members = [r["id"] for r in api.get(f"/v1/{collection}", params={"limit": 2}).json()["data"]]
    r = api.post(
        "/v1/lists",
        json={
            "fields": {"$name": "Contract list", "$objectType": object_type},
            "relationships": {f"${collection}": members},
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


Case = Callable[[httpx.Client], httpx.Response]
ACCOUNT = {
    "fields": {
        "$name": "Contract Co",
        "tier": "opt_tier_smb",
        "$website": ["contract.example.com"],
        "$primaryAddress": {"city": "Berlin", "country": "DE"},
        "employeeCount": 12,
        "isCustomer": True,
        "renewalDate": "2026-03-16T00:00:00Z",
    },
    "relationships": {"$owner": "mem_ben"},
}

OK_CASES: dict[str, Case] = {
    "auth.validate": lambda a: a.get("/v1/auth/validate"),
    "object.listDefinitions": lambda a: a.get("/v1/objects"),
    **{
        f"{t}.definitions": (lambda a, c=c: a.get(f"/v1/{c}/definitions"))
        for t, c in [
            ("account", "accounts"),
            ("contact", "contacts"),
            ("opportunity", "opportunities"),
            ("task", "tasks"),
        ]
    },
    "object.definitions": lambda a: a.get("/v1/objects/partner/definitions"),
    **{
        f"{c}.list": (lambda a, c=c: a.get(f"/v1/{c}", params={"limit": 25}))
        for c in ("accounts", "contacts", "opportunities", "tasks", "notes", "members")
    },
    "object.list": lambda a: a.get("/v1/objects/partner"),
    **{
        f"{c}.retrieve": (lambda a, c=c: a.get(f"/v1/{c}/{first(a, f'/v1/{c}')}"))
        for c in ("accounts", "contacts", "opportunities", "tasks", "notes", "members")
    },
    "object.retrieve": lambda a: a.get(f"/v1/objects/partner/values/{first(a, '/v1/objects/partner')}"),
    "account.create": lambda a: a.post("/v1/accounts", json=ACCOUNT),
    "account.update": lambda a: a.post(
        f"/v1/accounts/{first(a, '/v1/accounts')}",
        json={"fields": {"tier": None}, "relationships": {"$owner": {"replace": None}}},
    ),
    "contact.create": lambda a: a.post(
        "/v1/contacts", json={"fields": {"$name": {"firstName": "Ada"}, "$email": ["ada@example.com"]}}
    ),
    "contact.update": lambda a: a.post(
        f"/v1/contacts/{first(a, '/v1/contacts')}", json={"fields": {"jobTitle": "CTO"}}
    ),
    "opportunity.create": lambda a: a.post(
        "/v1/opportunities",
        json={
            "fields": {"$name": "Deal", "$stage": "Lead", "amount": 1200.5},
            "relationships": {"$account": first(a, "/v1/accounts")},
        },
    ),
    "opportunity.update": lambda a: a.post(
        f"/v1/opportunities/{first(a, '/v1/opportunities')}", json={"fields": {"$stage": "Closed Won"}}
    ),
    "task.create": lambda a: a.post(
        "/v1/tasks",
        json={
            "fields": {"$title": "Call", "$status": "TODO", "$dueAt": "2026-03-16T12:00:00+01:00"},
            "relationships": {"$assignedTo": "mem_ava"},
        },
    ),
    "task.update": lambda a: a.post(
        f"/v1/tasks/{first(a, '/v1/tasks')}", json={"fields": {"$status": "COMPLETE"}}
    ),
    "note.create": lambda a: a.post("/v1/notes", json={"fields": {"$title": "N", "$content": "# hi"}}),
    "note.update": lambda a: a.post(
        f"/v1/notes/{first(a, '/v1/notes')}",
        json={"relationships": {"$account": {"add": first(a, "/v1/accounts")}}},
    ),
    "object.create": lambda a: a.post(
        "/v1/objects/partner/values", json={"fields": {"$name": "P", "commission": 7.5}}
    ),
    "object.update": lambda a: a.post(
        f"/v1/objects/partner/values/{first(a, '/v1/objects/partner')}", json={"fields": {"commission": 10}}
    ),
    "list.create": lambda a: a.post(
        "/v1/lists",
        json={
            "fields": {"$name": "L", "$objectType": "$contact"},
            "relationships": {"$contacts": first(a, "/v1/contacts")},
        },
    ),
    "list.list": lambda a: (new_list(a), a.get("/v1/lists", params={"limit": 25}))[1],
    "list.retrieve": lambda a: a.get(f"/v1/lists/{new_list(a)}"),
    "list.update": lambda a: a.post(
        f"/v1/lists/{new_list(a)}",
        json={"fields": {"$name": "L2"}, "relationships": {"$accounts": {"add": first(a, "/v1/accounts")}}},
    ),
    **{
        f"list.list{c.capitalize()}": (
            lambda a, c=c, t=t: a.get(f"/v1/lists/{new_list(a, t)}/{c}", params={"limit": 25})
        )
        for c, t in [("accounts", "$account"), ("contacts", "$contact"), ("opportunities", "$opportunity")]
    },
}


@pytest.mark.parametrize("name", list(OK_CASES))
def test_success_responses_match_the_contract(api: httpx.Client, name: str) -> None:
    r = OK_CASES[name](api)
    assert r.status_code == 200, r.text
    assert contract_errors(r.request.method, r.request.url.path, r) == []


ERROR_CASES: dict[str, tuple[int, Case]] = {
    "400 unknown field": (400, lambda a: a.post("/v1/accounts", json={"fields": {"$name": "A", "bogus": 1}})),
    "400 limit": (400, lambda a: a.get("/v1/accounts", params={"limit": 26})),
    "400 filter": (400, lambda a: a.get("/v1/accounts", params={"bogus[equal]": "x"})),
    "400 idempotency key": (
        400,
        lambda a: a.post(
            "/v1/notes", json={"fields": {"$title": "N"}}, headers={"Idempotency-Key": "k" * 256}
        ),
    ),
    "400 version header": (400, lambda a: a.get("/v1/members", headers={"Lightfield-Version": "2020-01-01"})),
    "401": (401, lambda a: a.get("/v1/accounts", headers={"Authorization": "Bearer sk_lf_nope"})),
    "404 record": (404, lambda a: a.get("/v1/opportunities/opp_missing")),
    "404 object type": (404, lambda a: a.get("/v1/objects/nope/definitions")),
    "415": (415, lambda a: a.post("/v1/tasks", content=b"{}", headers={"Content-Type": "text/plain"})),
    "422 required": (422, lambda a: a.post("/v1/opportunities", json={"fields": {"$name": "D"}})),
    "422 option": (422, lambda a: a.post("/v1/accounts", json={"fields": {"$name": "A", "tier": "Gold"}})),
    "400 list limit": (400, lambda a: a.get("/v1/lists", params={"limit": 26})),
    "400 list members limit": (
        400,
        lambda a: a.get(f"/v1/lists/{new_list(a)}/accounts", params={"limit": 26}),
    ),
    "400 list unknown field": (
        400,
        lambda a: a.post("/v1/lists", json={"fields": {"$name": "L", "$objectType": "$account", "bogus": 1}}),
    ),
    "400 list member id": (
        400,
        lambda a: a.post(
            f"/v1/lists/{new_list(a)}", json={"relationships": {"$accounts": {"add": "acc_missing"}}}
        ),
    ),
    "404 list": (404, lambda a: a.get("/v1/lists/list_missing/contacts")),
    "422 list required": (422, lambda a: a.post("/v1/lists", json={"fields": {"$name": "L"}})),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_error_responses_match_the_contract(api: httpx.Client, name: str) -> None:
    status, case = ERROR_CASES[name]
    r = case(api)
    assert r.status_code == status, r.text
    assert contract_errors(r.request.method, r.request.url.path, r) == []


def test_scope_rate_limit_and_server_errors_match_the_contract(sandbox: SandboxServer) -> None:
    org = sandbox.create_org(records=False)
    scoped = sandbox.mint_key(org.org_id, ["members:read"])
    r = httpx.get(sandbox.url + "/v1/accounts", headers={"Authorization": f"Bearer {scoped}", **VERSION})
    assert r.status_code == 403 and contract_errors("GET", "/v1/accounts", r) == []
    r = httpx.get(
        sandbox.url + "/v1/lists/list_x/accounts", headers={"Authorization": f"Bearer {scoped}", **VERSION}
    )
    assert r.status_code == 403 and contract_errors("GET", "/v1/lists/list_x/accounts", r) == []
    headers = {"Authorization": f"Bearer {org.api_key}", **VERSION}
    sandbox.set_rate_limit(org.org_id, per_second=0.1, burst=1)
    r = httpx.get(sandbox.url + "/v1/members", headers=headers)
    r = httpx.get(sandbox.url + "/v1/members", headers=headers)
    assert r.status_code == 429 and contract_errors("GET", "/v1/members", r) == []
    sandbox.set_rate_limit(org.org_id, per_second=25)
    sandbox.set_faults(org.org_id, error_rate=1.0, seed=3)
    seen = set()
    for _ in range(12):
        r = httpx.get(sandbox.url + "/v1/members", headers=headers)
        seen.add(r.status_code)
        assert contract_errors("GET", "/v1/members", r) == []
    sandbox.set_faults(org.org_id, error_rate=0.0)
    assert seen == {500, 503}


# --- request bodies the contract rejects --------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/accounts", {"fields": None}, "fields"),
        ("/v1/accounts", {"fields": {"$name": "A"}, "relationships": None}, "relationships"),
        (
            "/v1/accounts",
            {"fields": {"$name": "A"}, "relationships": {"$owner": None}},
            "relationships.$owner",
        ),
    ],
)
def test_null_where_the_contract_wants_an_object_or_ids_is_400(
    api: httpx.Client, path: str, body: dict[str, Any], param: str
) -> None:
    r = api.post(path, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_type" and r.json()["error"]["param"] == param


def test_relationship_update_ops_follow_the_contract(sandbox: SandboxServer, api: httpx.Client) -> None:
    acc = api.post("/v1/accounts", json={"fields": {"$name": "Ops"}}).json()["id"]
    other = api.post("/v1/accounts", json={"fields": {"$name": "Ops 2"}}).json()["id"]
    note = api.post("/v1/notes", json={"fields": {"$title": "N"}, "relationships": {"$account": acc}}).json()[
        "id"
    ]
    # note.update: exactly one of {add} or {remove} per key
    r = api.post(f"/v1/notes/{note}", json={"relationships": {"$account": {"add": other, "remove": acc}}})
    assert r.status_code == 400 and r.json()["error"]["param"] == "relationships.$account"
    assert api.get(f"/v1/notes/{note}").json()["relationships"]["$account"]["values"] == [acc]
    # add/remove take an id or ids; only replace may be null
    r = api.post(f"/v1/accounts/{acc}", json={"relationships": {"$owner": {"add": None}}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_type"
    # other types: "provide one of" add/remove/replace; the lenient profile lets add and remove combine
    r = api.post(f"/v1/accounts/{acc}", json={"relationships": {"$owner": {"replace": "mem_ava"}}})
    assert r.status_code == 200
    con = api.post("/v1/contacts", json={"fields": {}, "relationships": {"$account": acc}}).json()["id"]
    r = api.post(f"/v1/contacts/{con}", json={"relationships": {"$account": {"add": other, "remove": acc}}})
    if sandbox.profile.one_relationship_op:
        assert r.status_code == 400 and r.json()["error"]["param"] == "relationships.$account"
    else:
        assert r.status_code == 200 and r.json()["relationships"]["$account"]["values"] == [other]
