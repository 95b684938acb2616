"""Lists in the sandbox over real HTTP: /v1/lists, /v1/lists/{id} and the membership reads.

Contract: API-FACTS §3.6 and SPEC list.*; the sandbox's own choices are in bulkio.sandbox.app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkio.sandbox import SandboxServer

VERSION = {"Lightfield-Version": "2026-03-01"}
LIST_KEYS = {"id", "createdAt", "httpLink", "fields"}


def connect(sandbox: SandboxServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {key}", **VERSION})


@pytest.fixture
def api(sandbox: SandboxServer, org: Any) -> Iterator[httpx.Client]:
    sandbox.set_faults(org.org_id, index_lag_ms=0)  # request rules, not list lag
    with connect(sandbox, org.api_key) as c:
        yield c


def err(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def ids(api: httpx.Client, path: str, n: int = 25) -> list[str]:
    """The ``n`` newest record ids of a collection (newest first)."""
    return [r["id"] for r in api.get(path, params={"limit": n}).json()["data"]]


def make_list(
    api: httpx.Client, name: str = "VIP", object_type: str = "$account", members: Any = None, **headers: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"fields": {"$name": name, "$objectType": object_type}}
    if members is not None:
        key = {"account": "$accounts", "contact": "$contacts", "opportunity": "$opportunities"}[
            object_type.lstrip("$")
        ]
        body["relationships"] = {key: members}
    r = api.post("/v1/lists", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def member_ids(api: httpx.Client, list_id: str, collection: str = "accounts", **params: Any) -> list[str]:
    r = api.get(f"/v1/lists/{list_id}/{collection}", params=params)
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["data"]]


# --- create, members, pagination -------------------------------------------------------------------
def test_create_account_list_shape(api: httpx.Client) -> None:
    lst = make_list(api, "Key accounts", "$account")
    assert set(lst) == LIST_KEYS  # no updatedAt, externalId or relationships
    assert lst["id"].startswith("list_")
    assert lst["httpLink"] == f"https://crm.lightfield.app/sandbox/lists/{lst['id']}"
    assert lst["fields"] == {
        "$name": {"value": "Key accounts", "valueType": "TEXT"},
        "$objectType": {"value": "$account", "valueType": "TEXT"},
    }
    assert api.get(f"/v1/lists/{lst['id']}").json() == lst
    assert api.get(f"/v1/lists/{lst['id']}/accounts").json() == {
        "object": "list",
        "data": [],
        "totalCount": 0,
    }


def test_bare_object_type_is_accepted_and_returned_prefixed(api: httpx.Client) -> None:
    for bare in ("account", "contact", "opportunity"):
        lst = make_list(api, bare, bare)
        assert lst["fields"]["$objectType"]["value"] == f"${bare}"


def test_add_members_and_page_through_them_newest_first(api: httpx.Client) -> None:
    accounts = ids(api, "/v1/accounts")  # all 25 demo accounts, newest first
    assert len(accounts) == 25
    lst = make_list(api, "All", members=accounts[5:])  # 20 ids: the oldest 20
    r = api.post(f"/v1/lists/{lst['id']}", json={"relationships": {"$accounts": {"add": accounts[:5]}}})
    assert r.status_code == 200 and r.json() == lst  # updating members changes nothing on the list itself
    pages = [
        api.get(f"/v1/lists/{lst['id']}/accounts", params={"limit": 10, "offset": off}).json()
        for off in (0, 10, 20, 30)
    ]
    assert [len(p["data"]) for p in pages] == [10, 10, 5, 0]
    assert all(p["totalCount"] == 25 and p["object"] == "list" for p in pages)
    assert [e["id"] for p in pages for e in p["data"]] == accounts
    # rows are full account entities, the same as retrieving the account
    row = pages[0]["data"][0]
    assert row == api.get(f"/v1/accounts/{row['id']}").json()
    assert set(row) == {"id", "createdAt", "updatedAt", "httpLink", "externalId", "fields", "relationships"}


def test_update_adds_removes_and_renames(api: httpx.Client) -> None:
    a, b, c, d = ids(api, "/v1/accounts", 4)
    lst = make_list(api, "Targets", members=[a, b])
    url = f"/v1/lists/{lst['id']}"
    # add and remove together: removes apply first, adds skip current members
    r = api.post(url, json={"relationships": {"$accounts": {"add": [c, d, b], "remove": a}}})
    assert r.status_code == 200, r.text
    assert member_ids(api, lst["id"]) == [b, c, d]  # newest first, like the accounts list
    # remove alone, a single id string; removing a non-member is a no-op
    assert api.post(url, json={"relationships": {"$accounts": {"remove": [c, a]}}}).status_code == 200
    assert member_ids(api, lst["id"]) == [b, d]
    # add alone, a single id string
    assert api.post(url, json={"relationships": {"$accounts": {"add": a}}}).status_code == 200
    assert member_ids(api, lst["id"]) == [a, b, d]
    r = api.post(url, json={"fields": {"$name": "Renamed"}})
    assert r.status_code == 200 and r.json()["fields"]["$name"]["value"] == "Renamed"
    assert (
        r.json()["fields"]["$objectType"]["value"] == "$account" and r.json()["createdAt"] == lst["createdAt"]
    )
    assert api.get(url).json() == r.json()
    # remove everyone
    assert api.post(url, json={"relationships": {"$accounts": {"remove": [a, b, d]}}}).status_code == 200
    assert api.get(f"{url}/accounts").json()["totalCount"] == 0


def test_contact_and_opportunity_lists(api: httpx.Client) -> None:
    cons = ids(api, "/v1/contacts", 3)
    opps = ids(api, "/v1/opportunities", 2)
    cl = make_list(api, "Champions", "$contact", members=cons)
    ol = make_list(api, "Pipeline", "$opportunity", members=opps[0])
    assert member_ids(api, cl["id"], "contacts") == cons
    assert member_ids(api, ol["id"], "opportunities") == opps[:1]
    api.post(f"/v1/lists/{ol['id']}", json={"relationships": {"$opportunities": {"add": opps[1]}}})
    assert member_ids(api, ol["id"], "opportunities") == opps
    # reading the wrong member type of a list
    r = api.get(f"/v1/lists/{cl['id']}/accounts")
    assert r.status_code == 400
    assert err(r)["code"] == "invalid_configuration" and err(r)["param"] == "listId"


def test_list_and_retrieve_lists(api: httpx.Client) -> None:
    made = [make_list(api, f"L{i}") for i in range(3)]
    page = api.get("/v1/lists", params={"limit": 2}).json()
    assert page["object"] == "list" and page["totalCount"] == 3
    assert page["data"] == [made[2], made[1]]  # newest first
    assert api.get("/v1/lists", params={"limit": 2, "offset": 2}).json()["data"] == [made[0]]
    assert api.get(f"/v1/lists/{made[0]['id']}").json() == made[0]
    r = api.get("/v1/lists/list_missing")
    assert r.status_code == 404
    assert r.json() == {
        "error": {"type": "not_found", "message": "No resource found in 'lists' with the given ID."}
    }
    assert api.get("/v1/lists/list_missing/accounts").status_code == 404
    assert api.post("/v1/lists/list_missing", json={"fields": {"$name": "X"}}).status_code == 404
    acc = ids(api, "/v1/accounts", 1)[0]
    assert api.get(f"/v1/lists/{acc}").status_code == 404  # an account id is not a list id
    assert api.get("/v1/lists/definitions").status_code == 404
    assert api.get(f"/v1/lists/{made[0]['id']}/tasks").status_code == 404
    assert api.request("DELETE", f"/v1/lists/{made[0]['id']}").status_code == 404


def test_sandbox_helpers_see_lists(sandbox: SandboxServer, org: Any, api: httpx.Client) -> None:
    lst = make_list(api)
    assert sandbox.count(org.org_id, "list") == 1
    assert sandbox.records(org.org_id, "list") == [lst]


# --- validation ------------------------------------------------------------------------------------
CREATE_ERRORS = [
    ({"fields": {"$name": "L", "$objectType": "$account", "bogus": 1}}, 400, "unknown_field", "fields.bogus"),
    (
        {"fields": {"$name": "L", "$objectType": "$account", "$description": "d"}},
        400,
        "unknown_field",
        "fields.$description",
    ),
    ({"fields": {"$objectType": "$account"}}, 422, None, "fields.$name"),
    ({"fields": {"$name": "L"}}, 422, None, "fields.$objectType"),
    ({"fields": {"$name": "L", "$objectType": "$task"}}, 422, "invalid_option", "fields.$objectType"),
    ({"fields": {"$name": "L", "$objectType": "partner"}}, 422, "invalid_option", "fields.$objectType"),
    ({"fields": {"$name": None, "$objectType": "$account"}}, 400, "invalid_type", "fields.$name"),
    ({"fields": {"$name": 7, "$objectType": "$account"}}, 400, "invalid_type", "fields.$name"),
    ({"fields": {"$name": "L", "$objectType": ["$account"]}}, 400, "invalid_type", "fields.$objectType"),
    ({}, 400, "parameter_missing", "fields"),
    (
        {"fields": {"$name": "L", "$objectType": "$account"}, "externalId": "x"},
        400,
        "invalid_type",
        "externalId",
    ),
    (
        {"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$account": []}},
        400,
        "unknown_relationship",
        "relationships.$account",
    ),
    (
        {"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$contacts": []}},
        400,
        "invalid_configuration",
        "relationships.$contacts",
    ),
    (
        {"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$accounts": "acc_nope"}},
        400,
        "relationship_entity_missing",
        "relationships.$accounts",
    ),
    (
        {"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$accounts": None}},
        400,
        "invalid_type",
        "relationships.$accounts",
    ),
    (
        {"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$accounts": {"add": "x"}}},
        400,
        "invalid_type",
        "relationships.$accounts",
    ),
    (
        {"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {}},
        400,
        "invalid_type",
        "relationships",
    ),
]


def test_an_empty_member_op_changes_nothing(api: httpx.Client) -> None:
    """``{"$accounts": {}}`` is valid per the contract (add and remove are optional): a no-op."""
    acc = ids(api, "/v1/accounts", 1)[0]
    lst = make_list(api, members=acc)
    r = api.post(f"/v1/lists/{lst['id']}", json={"relationships": {"$accounts": {}}})
    assert r.status_code == 200, r.text
    assert member_ids(api, lst["id"]) == [acc]


@pytest.mark.parametrize(("body", "status", "code", "param"), CREATE_ERRORS)
def test_create_validation_errors(
    sandbox: SandboxServer,
    org: Any,
    api: httpx.Client,
    body: dict[str, Any],
    status: int,
    code: str | None,
    param: str,
) -> None:
    r = api.post("/v1/lists", json=body)
    assert r.status_code == status, r.text
    e = err(r)
    assert e.get("code") == code and e["param"] == param
    assert e["type"] == ("bad_request" if status == 400 else "unprocessable_content")
    assert sandbox.count(org.org_id, "list") == 0


def test_member_ids_must_be_of_the_list_type(api: httpx.Client) -> None:
    con = ids(api, "/v1/contacts", 1)[0]
    r = api.post(
        "/v1/lists",
        json={"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$accounts": [con]}},
    )
    assert r.status_code == 400 and err(r)["code"] == "relationship_entity_missing"
    assert con in err(r)["message"]


def test_more_than_25_member_ids_is_422(api: httpx.Client) -> None:
    accounts = ids(api, "/v1/accounts")
    cons = ids(api, "/v1/contacts")
    r = api.post(
        "/v1/lists",
        json={"fields": {"$name": "L", "$objectType": "$account"}, "relationships": {"$accounts": accounts}},
    )
    assert r.status_code == 200  # exactly 25 is fine
    lst = r.json()
    more = cons + [c["id"] for c in api.get("/v1/contacts", params={"limit": 1, "offset": 25}).json()["data"]]
    r = api.post(
        "/v1/lists",
        json={"fields": {"$name": "C", "$objectType": "$contact"}, "relationships": {"$contacts": more}},
    )
    assert r.status_code == 422 and err(r)["code"] == "relationship_write_limit_exceeded"
    assert err(r)["param"] == "relationships"
    cl = make_list(api, "C", "$contact", members=cons[:1])
    # add and remove count together: 25 adds + 1 remove
    r = api.post(
        f"/v1/lists/{cl['id']}", json={"relationships": {"$contacts": {"add": cons, "remove": cons[0]}}}
    )
    assert r.status_code == 422 and err(r)["code"] == "relationship_write_limit_exceeded"
    assert member_ids(api, cl["id"], "contacts") == cons[:1]
    assert api.get(f"/v1/lists/{lst['id']}/accounts").json()["totalCount"] == 25


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"fields": {"bogus": "x"}}, "unknown_field", "fields.bogus"),
        ({"fields": {"$objectType": "$contact"}}, "invalid_configuration", "fields.$objectType"),
        ({"fields": {"$name": None}}, "invalid_type", "fields.$name"),
        ({"fields": None}, "invalid_type", "fields"),
        ({"relationships": {"$accounts": {"replace": []}}}, "invalid_type", "relationships.$accounts"),
        ({"relationships": {}}, "invalid_type", "relationships"),
        ({"relationships": {"$accounts": ["acc_x"]}}, "invalid_type", "relationships.$accounts"),
        ({"relationships": {"$accounts": {"add": None}}}, "invalid_type", "relationships.$accounts"),
        (
            {"relationships": {"$accounts": {"add": "acc_nope"}}},
            "relationship_entity_missing",
            "relationships.$accounts",
        ),
        ({"relationships": {"$contacts": {"add": []}}}, "invalid_configuration", "relationships.$contacts"),
        ({"relationships": {"$owner": {"add": "mem_ava"}}}, "unknown_relationship", "relationships.$owner"),
    ],
)
def test_update_validation_errors_leave_the_list_unchanged(
    api: httpx.Client, body: dict[str, Any], code: str, param: str
) -> None:
    acc = ids(api, "/v1/accounts", 1)[0]
    lst = make_list(api, members=acc)
    r = api.post(f"/v1/lists/{lst['id']}", json=body)
    assert r.status_code == 400, r.text
    assert err(r)["code"] == code and err(r)["param"] == param
    assert api.get(f"/v1/lists/{lst['id']}").json() == lst
    assert member_ids(api, lst["id"]) == [acc]


@pytest.mark.parametrize("path", ["/v1/lists", "/v1/lists/{id}/accounts"])
@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 26}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_bad_page_params_are_400(api: httpx.Client, path: str, params: dict[str, Any], param: str) -> None:
    lst = make_list(api)
    r = api.get(path.format(id=lst["id"]), params=params)
    assert r.status_code == 400
    assert err(r)["code"] == "invalid_type" and err(r)["param"] == param


@pytest.mark.parametrize("path", ["/v1/lists", "/v1/lists/{id}/accounts"])
def test_lists_take_no_filters(api: httpx.Client, path: str) -> None:
    lst = make_list(api)
    r = api.get(path.format(id=lst["id"]), params={"$name[equal]": "VIP"})
    assert r.status_code == 400 and err(r)["code"] == "unknown_field" and err(r)["param"] == "$name[equal]"
    # newer SDKs send status=active; it is accepted
    assert api.get(path.format(id=lst["id"]), params={"status": "active", "limit": 25}).status_code == 200


def test_body_must_be_json(api: httpx.Client) -> None:
    r = api.post("/v1/lists", content=b'{"fields": {}}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and err(r)["type"] == "unsupported_media_type"


# --- scopes, rate categories, idempotency -----------------------------------------------------------
def _requests(list_id: str, acc: str) -> list[tuple[str, str, Any, str]]:
    return [
        ("POST", "/v1/lists", {"fields": {"$name": "S", "$objectType": "$account"}}, "lists:create"),
        ("GET", "/v1/lists", None, "lists:read"),
        ("GET", f"/v1/lists/{list_id}", None, "lists:read"),
        ("POST", f"/v1/lists/{list_id}", {"relationships": {"$accounts": {"add": acc}}}, "lists:update"),
    ]


def test_list_scopes_are_enforced(sandbox: SandboxServer, org: Any, api: httpx.Client) -> None:
    acc = ids(api, "/v1/accounts", 1)[0]
    lst = make_list(api)
    everything_else = [
        "accounts:read",
        "accounts:create",
        "accounts:update",
        "contacts:read",
        "opportunities:read",
        "members:read",
    ]
    with connect(sandbox, sandbox.mint_key(org.org_id, everything_else)) as c:
        for method, path, body, scope in _requests(lst["id"], acc):
            r = c.request(method, path, json=body)
            assert r.status_code == 403, (method, path)
            assert err(r) == {"type": "forbidden", "message": f"This API key lacks the '{scope}' scope."}
        assert c.get(f"/v1/lists/{lst['id']}/accounts").status_code == 403
    for method, path, body, scope in _requests(lst["id"], acc):
        with connect(sandbox, sandbox.mint_key(org.org_id, [scope])) as c:
            assert c.request(method, path, json=body).status_code == 200, (method, path, scope)
    # lists:create does not allow updates, and lists:update does not allow creates
    with connect(sandbox, sandbox.mint_key(org.org_id, ["lists:create", "lists:read"])) as c:
        assert c.post(f"/v1/lists/{lst['id']}", json={"fields": {"$name": "X"}}).status_code == 403
    with connect(sandbox, sandbox.mint_key(org.org_id, ["lists:update"])) as c:
        assert (
            c.post("/v1/lists", json={"fields": {"$name": "X", "$objectType": "$account"}}).status_code == 403
        )
        assert c.get("/v1/auth/validate").json()["scopes"] == ["lists:update"]


@pytest.mark.parametrize(
    ("collection", "object_type"),
    [("accounts", "$account"), ("contacts", "$contact"), ("opportunities", "$opportunity")],
)
def test_membership_reads_need_both_scopes(
    sandbox: SandboxServer, org: Any, api: httpx.Client, collection: str, object_type: str
) -> None:
    lst = make_list(api, object_type=object_type)
    path = f"/v1/lists/{lst['id']}/{collection}"
    for scopes, missing in [(["lists:read"], f"{collection}:read"), ([f"{collection}:read"], "lists:read")]:
        with connect(sandbox, sandbox.mint_key(org.org_id, scopes)) as c:
            r = c.get(path)
            assert r.status_code == 403 and missing in err(r)["message"]
    with connect(sandbox, sandbox.mint_key(org.org_id, ["lists:read", f"{collection}:read"])) as c:
        assert c.get(path).status_code == 200


def test_rate_categories(sandbox: SandboxServer, empty_org: Any) -> None:
    with connect(sandbox, empty_org.api_key) as c:
        lst = c.post("/v1/lists", json={"fields": {"$name": "R", "$objectType": "$account"}}).json()
        c.post(f"/v1/lists/{lst['id']}", json={"fields": {"$name": "R2"}})
        c.get(f"/v1/lists/{lst['id']}")
        c.get("/v1/lists")
        c.get(f"/v1/lists/{lst['id']}/accounts")
    stats = sandbox.stats(empty_org.org_id)
    assert stats["by_category"] == {"Write": 2, "Read": 1, "Search": 2} and stats["writes"] == 2


def test_idempotent_create_and_update_replay(sandbox: SandboxServer, org: Any, api: httpx.Client) -> None:
    a, b = ids(api, "/v1/accounts", 2)
    first = make_list(api, "Once", members=a, **{"Idempotency-Key": "list-row-1"})
    again = make_list(api, "Once", members=a, **{"Idempotency-Key": "list-row-1"})
    assert again == first and sandbox.count(org.org_id, "list") == 1
    # the key is scoped to the operation: the same key on account.create is a new request
    r = api.post(
        "/v1/accounts", json={"fields": {"$name": "Other"}}, headers={"Idempotency-Key": "list-row-1"}
    )
    assert r.status_code == 200 and r.json()["id"].startswith("acc_")
    url = f"/v1/lists/{first['id']}"
    body = {"fields": {"$name": "Twice"}, "relationships": {"$accounts": {"add": b, "remove": a}}}
    u1 = api.post(url, json=body, headers={"Idempotency-Key": "upd-1"})
    api.post(url, json={"relationships": {"$accounts": {"add": a}}})
    u2 = api.post(url, json=body, headers={"Idempotency-Key": "upd-1"})  # replayed, not re-run
    assert u1.status_code == u2.status_code == 200 and u1.content == u2.content
    assert set(member_ids(api, first["id"])) == {a, b}
    # a failed request is not stored: the same key runs again once the body is fixed
    bad = api.post("/v1/lists", json={"fields": {"$name": "X"}}, headers={"Idempotency-Key": "list-row-2"})
    assert bad.status_code == 422
    ok = make_list(api, "X", **{"Idempotency-Key": "list-row-2"})
    assert ok["id"] != first["id"] and sandbox.count(org.org_id, "list") == 2
    r = api.post(
        "/v1/lists",
        json={"fields": {"$name": "X", "$objectType": "$account"}},
        headers={"Idempotency-Key": "k" * 256},
    )
    assert r.status_code == 400 and err(r)["code"] == "idempotency_key_too_long"


def test_lists_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    with SandboxServer(db_path=db, seed="demo") as one, connect(one, one.api_key) as c:
        accounts = ids(c, "/v1/accounts", 3)
        lst = make_list(c, "Kept", members=accounts[:2])
        c.post(
            f"/v1/lists/{lst['id']}",
            json={"relationships": {"$accounts": {"add": accounts[2], "remove": accounts[0]}}},
        )
        before = c.get(f"/v1/lists/{lst['id']}/accounts").json()
    with SandboxServer(db_path=db, seed="demo") as two, connect(two, two.api_key) as c:
        assert c.get(f"/v1/lists/{lst['id']}").json() == lst
        assert c.get(f"/v1/lists/{lst['id']}/accounts").json() == before
        assert [e["id"] for e in before["data"]] == accounts[1:]


def test_seeded_lists(sandbox: SandboxServer) -> None:
    from bulkio.sandbox.seed import load_seed

    doc = load_seed("demo")
    doc["records"] = {
        "account": [
            {"id": "acc_one", "fields": {"$name": "One"}},
            {"id": "acc_two", "fields": {"$name": "Two"}},
        ],
        "list": [
            {
                "id": "list_seeded",
                "fields": {"$name": "Seeded", "$objectType": "$account"},
                "relationships": {"$accounts": ["acc_one", "acc_two"]},
            }
        ],
    }
    org = sandbox.create_org(seed=doc)
    with connect(sandbox, org.api_key) as c:
        assert c.get("/v1/lists/list_seeded").json()["fields"]["$name"]["value"] == "Seeded"
        assert member_ids(c, "list_seeded") == ["acc_two", "acc_one"]


# --- the official SDK ------------------------------------------------------------------------------
def test_official_sdk_creates_and_lists_lists(sandbox: SandboxServer, org: Any, api: httpx.Client) -> None:
    lightfield = pytest.importorskip("lightfield")
    accounts = ids(api, "/v1/accounts", 3)
    lf = lightfield.Lightfield(
        api_key=org.api_key, base_url=sandbox.url, max_retries=0, _strict_response_validation=True
    )
    try:
        created = lf.list.create(
            fields={"$name": "SDK list", "$objectType": "$account"},
            relationships={"$accounts": accounts[:2]},
            extra_headers={"Idempotency-Key": "sdk-list-1"},
        )
        assert created.id.startswith("list_") and created.fields["$objectType"].value == "$account"
        again = lf.list.create(
            fields={"$name": "SDK list", "$objectType": "$account"},
            relationships={"$accounts": accounts[:2]},
            extra_headers={"Idempotency-Key": "sdk-list-1"},
        )
        assert again.id == created.id
        other = lf.list.create(fields={"$name": "SDK contacts", "$objectType": "contact"})
        page = lf.list.list(limit=25)
        assert page.total_count == 2 and [d.id for d in page.data] == [other.id, created.id]
        assert lf.list.retrieve(created.id).fields["$name"].value == "SDK list"
        upd = lf.list.update(
            created.id,
            fields={"$name": "SDK list 2"},
            relationships={"$accounts": {"add": accounts[2], "remove": accounts[0]}},
        )
        assert upd.fields["$name"].value == "SDK list 2"
        members = lf.list.list_accounts(created.id, limit=1)
        assert members.total_count == 2 and [m.id for m in members.data] == [accounts[1]]
        assert lf.list.list_accounts(created.id, limit=1, offset=1).data[0].id == accounts[2]
        assert lf.list.list_contacts(other.id).total_count == 0
        with pytest.raises(lightfield.BadRequestError) as bad:
            lf.list.list(limit=26)
        assert bad.value.body["error"]["param"] == "limit"
        with pytest.raises(lightfield.NotFoundError):
            lf.list.retrieve("list_missing")
    finally:
        lf.close()
