"""What ``scripts/attack_sandboxes.py`` found, one focused test per fix, over real HTTP against both
sandboxes. Each test failed before its fix; the docstring names the fact it checks
(``LF`` = shared/lightfield/API-FACTS.md, ``CL`` = shared/close/API-FACTS.md)."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bulkio.crm.close.sandbox import CloseSandboxServer
from bulkio.crm.close.sandbox import Org as CloseOrg
from bulkio.sandbox import SandboxServer

VERSION = {"Lightfield-Version": "2026-03-01"}
#: Just over the sandboxes' 10 MiB body limit.
OVERSIZED = 10 * 1024 * 1024 + 1


def connect(sandbox: SandboxServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {key}", **VERSION})


def envelope(r: httpx.Response, status: int) -> dict[str, Any]:
    """The Lightfield error of a JSON envelope with this status (LF §9: wrapped, application/json)."""
    assert r.status_code == status, (r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert set(body) == {"error"} and {"type", "message"} <= set(body["error"]), body
    return body["error"]  # type: ignore[no-any-return]


def rate_headers(r: httpx.Response) -> bool:
    return {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(r.headers)


def raw(url: str, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` byte for byte (httpx would refuse or merge what these tests send)."""
    u = httpx.URL(url)
    with socket.create_connection((u.host, u.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture
def api(sandbox: SandboxServer, empty_org: Any) -> Iterator[httpx.Client]:
    sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
    with connect(sandbox, empty_org.api_key) as client:
        yield client


# --- Lightfield ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_10_mib_is_413_and_never_stored(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client, chunked: bool
) -> None:
    """The contract names no body limit; a huge body must not be held in memory and accepted (it
    was: 64 MB created an account). 413 in the LF §9 envelope, with the LF §7 headers."""
    body = b'{"fields": {"$name": "' + b"a" * OVERSIZED + b'"}}'
    content: Any = iter([body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)]) if chunked else body
    r = api.post("/v1/accounts", content=content, headers={"Content-Type": "application/json"})
    assert envelope(r, 413)["type"] == "payload_too_large" and rate_headers(r)
    assert sandbox.count(empty_org.org_id, "account") == 0
    assert api.post("/v1/accounts", json={"fields": {"$name": "after"}}).status_code == 200


def test_an_encoded_slash_is_no_path_separator(api: httpx.Client) -> None:
    """Ids are opaque strings (LF §5): ``%2F`` inside a segment is part of it, so
    ``/v1/accounts%2Fdefinitions`` is no path (it answered the definitions) and an id holding
    ``%2F`` is no record."""
    acc = api.post("/v1/accounts", json={"fields": {"$name": "Slash"}}).json()["id"]
    assert envelope(api.get("/v1/accounts%2Fdefinitions"), 404)["type"] == "not_found"
    assert envelope(api.get(f"/v1/accounts/{acc}%2Fdefinitions"), 404)["type"] == "not_found"
    assert envelope(api.post(f"/v1/accounts%2F{acc}", json={"fields": {"$name": "x"}}), 404)
    assert api.get(f"/v1/accounts/{acc}").json()["fields"]["$name"]["value"] == "Slash"


def test_a_second_authorization_header_cannot_override_the_first(
    sandbox: SandboxServer, org: Any, empty_org: Any
) -> None:
    """One ``Authorization: Bearer <key>`` (LF §1): a repeated header is combined (RFC 9110 §5.3),
    so neither a garbage nor another org's key in a second header lets the last one win."""
    for second in ("Bearer sk_lf_garbage", f"Bearer {empty_org.api_key}"):
        for pair in ((f"Bearer {org.api_key}", second), (second, f"Bearer {org.api_key}")):
            status, body = raw(
                sandbox.url,
                (
                    f"GET /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: {pair[0]}\r\n"
                    f"Authorization: {pair[1]}\r\nLightfield-Version: 2026-03-01\r\nConnection: close\r\n\r\n"
                ).encode(),
            )
            assert status == 401 and json.loads(body)["error"]["type"] == "unauthorized", (pair, body)


def test_a_second_content_type_cannot_make_a_body_json(sandbox: SandboxServer, empty_org: Any) -> None:
    """Bodies need ``Content-Type: application/json`` (LF §1, 415): ``text/plain`` followed by
    ``application/json`` is not that (the last header used to win)."""
    body = '{"fields":{"$name":"x"}}'
    status, answer = raw(
        sandbox.url,
        (
            f"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {empty_org.api_key}\r\n"
            "Lightfield-Version: 2026-03-01\r\nContent-Type: text/plain\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
        ).encode(),
    )
    assert status == 415 and json.loads(answer)["error"]["type"] == "unsupported_media_type"
    assert sandbox.count(empty_org.org_id, "account") == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"fields": {"$name": "A", "$name": "B"}}', 400),
        (b'{"fields": {"$name": "A"}, "fields": {"$name": "B"}}', 400),
        (b'{"fields": {"$name": "A", "employeeCount": ' + b"9" * 5000 + b"}}", 400),
        (b'\xef\xbb\xbf{"fields": {"$name": "A"}}', 415),
    ],
    ids=["repeated-field", "repeated-top-level", "5000-digits", "byte-order-mark"],
)
def test_ambiguous_or_malformed_json_is_refused(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client, body: bytes, status: int
) -> None:
    """A repeated key has no one meaning (the parser picks), so it is 400 ``invalid_type`` rather
    than last-wins; a 5000-digit number is valid JSON, so 400, not 415 "not JSON"; a byte order
    mark is not JSON on the wire (RFC 8259 §8.1), so 415 (LF §1)."""
    err = envelope(
        api.post("/v1/accounts", content=body, headers={"Content-Type": "application/json"}), status
    )
    assert err["type"] == ("bad_request" if status == 400 else "unsupported_media_type")
    if status == 400:
        assert err["code"] == "invalid_type"
    assert sandbox.count(empty_org.org_id, "account") == 0


@pytest.mark.parametrize(
    "query",
    [
        "limit=%205",
        "limit=%2B5",
        "limit=1_0",
        "limit=%D9%A5",  # Arabic-Indic five
        "offset=9007199254740992",
        "offset=1" + "0" * 100,
        "limit=5&limit=10",
        "offset=0&offset=5",
    ],
)
def test_page_parameters_are_plain_integers_within_the_contract(api: httpx.Client, query: str) -> None:
    """``offset`` is an integer 0…2^53−1 and ``limit`` 1…25 (LF §6 and the contract's schema):
    Python's ``int()`` also took spaces, a plus sign, underscores and non-ASCII digits."""
    err = envelope(api.get(f"/v1/accounts?{query}"), 400)
    assert err["code"] == "invalid_type" and err["param"] == query.split("=")[0]


def test_offset_at_the_contract_maximum_is_an_empty_page(api: httpx.Client) -> None:
    r = api.get("/v1/accounts", params={"offset": 2**53 - 1})
    assert r.status_code == 200 and r.json()["data"] == []


def test_repeated_relationship_ids_count_toward_the_limit(api: httpx.Client) -> None:
    """At most 25 entity ids referenced per request, counted over the whole body (LF §12.5): 26
    copies of one id are 26 references (they were collapsed to one and accepted)."""
    acc = api.post("/v1/accounts", json={"fields": {"$name": "A"}}).json()["id"]
    con = api.post("/v1/contacts", json={"fields": {}}).json()["id"]
    for body, path in (
        ({"fields": {"$name": "B"}, "relationships": {"$contact": [con] * 26}}, "/v1/accounts"),
        ({"relationships": {"$contact": {"add": [con] * 26}}}, f"/v1/accounts/{acc}"),
    ):
        err = envelope(api.post(path, json=body), 422)
        assert err["code"] == "relationship_write_limit_exceeded"
    assert api.post(
        "/v1/accounts", json={"fields": {"$name": "C"}, "relationships": {"$contact": [con] * 25}}
    ).is_success


def test_removing_an_id_of_another_org_is_400(sandbox: SandboxServer, org: Any, empty_org: Any) -> None:
    """``relationship_entity_missing``: "one or more relationship IDs do not exist" (LF §9) holds
    for ``remove`` as for ``add``; a silent 200 hid a client sending another org's id."""
    sandbox.set_faults(org.org_id, index_lag_ms=0)
    with connect(sandbox, org.api_key) as a, connect(sandbox, empty_org.api_key) as b:
        a_acc = a.post("/v1/accounts", json={"fields": {"$name": "A"}}).json()["id"]
        a_con = a.post("/v1/contacts", json={"fields": {}, "relationships": {"$account": a_acc}}).json()["id"]
        b_acc = b.post("/v1/accounts", json={"fields": {"$name": "B"}}).json()["id"]
        b_list = b.post("/v1/lists", json={"fields": {"$name": "L", "$objectType": "$account"}}).json()["id"]
        for path, rels in (
            (f"/v1/accounts/{b_acc}", {"$contact": {"remove": a_con}}),
            (f"/v1/accounts/{b_acc}", {"$contact": {"remove": "con_made_up"}}),
            (f"/v1/lists/{b_list}", {"$accounts": {"remove": [a_acc]}}),
        ):
            err = envelope(b.post(path, json={"relationships": rels}), 400)
            assert err["code"] == "relationship_entity_missing" and err["param"].startswith("relationships.")
        assert a.get(f"/v1/contacts/{a_con}").json()["relationships"]["$account"]["values"] == [a_acc]


def test_an_empty_idempotency_key_is_400(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    """Keys are 1–255 characters (LF §8); an empty one was a real key shared by every request
    that sent the header empty, so the second such create replayed (or refused) the first."""
    for name in ("one", "two"):
        r = api.post("/v1/accounts", json={"fields": {"$name": name}}, headers={"Idempotency-Key": ""})
        err = envelope(r, 400)
        assert err["param"] == "Idempotency-Key" and rate_headers(r)
    assert sandbox.count(empty_org.org_id, "account") == 0


def test_an_unexpected_500_still_carries_the_rate_headers(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every response includes ``X-RateLimit-*`` (LF §7), a server error too."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(sandbox.app, "handle", broken)
    r = api.get("/v1/accounts")
    assert envelope(r, 500)["type"] == "internal_server_error" and rate_headers(r)


# --- Close ----------------------------------------------------------------------------------------------
def close_error(r: httpx.Response, status: int) -> str:
    """Close's ``{"error": "<message>"}`` body with this status (CL §7), as JSON."""
    assert r.status_code == status, (r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert isinstance(body.get("error"), str), body
    return str(body["error"])


def test_close_body_over_10_mib_is_413(
    close_sandbox: CloseSandboxServer, close_org: CloseOrg, close_api: httpx.Client
) -> None:
    """Close publishes no limit; a 64 MB body was read into memory whole. 413 ``{"error"}`` (CL §7
    shape) with the ``RateLimit`` header (CL §2), nothing created."""
    before = close_sandbox.count(close_org.org_id, "lead")
    r = close_api.post(
        "/lead/",
        content=b'{"name": "' + b"a" * OVERSIZED + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert "too large" in close_error(r, 413) and "ratelimit" in r.headers
    assert close_sandbox.count(close_org.org_id, "lead") == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "x\\ud800"}',
        b'{"\\udfff": 1}',
        b'{"name": "x", "custom.cf_DemoLeadEmployees": NaN}',
        b'{"name": "x", "custom.cf_DemoLeadEmployees": Infinity}',
        b'{"name": "x", "custom.cf_DemoLeadEmployees": 1e400}',
        b'{"name": "x", "custom.cf_DemoLeadEmployees": ' + b"9" * 5000 + b"}",
        b'{"name": "A", "name": "B"}',
        b'{"name": ' + b"[" * 100 + b"]" * 100 + b"}",
        b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'\xef\xbb\xbf{"name": "x"}',
    ],
    ids=[
        "surrogate",
        "surrogate-key",
        "nan",
        "infinity",
        "1e400",
        "5000-digits",
        "repeated",
        "depth-100",
        "depth-100k",
        "bom",
    ],
)
def test_close_hostile_json_is_a_400_and_the_org_stays_readable(
    close_sandbox: CloseSandboxServer, close_org: CloseOrg, close_api: httpx.Client, body: bytes
) -> None:
    """JSON in and out (CL §1): each of these crashed the request with a text/plain 500, and a
    stored NaN or lone surrogate made every later lead list of the org a text/plain 500 too."""
    before = close_sandbox.count(close_org.org_id, "lead")
    r = close_api.post("/lead/", content=body, headers={"Content-Type": "application/json"})
    close_error(r, 400)
    assert close_sandbox.count(close_org.org_id, "lead") == before
    listed = close_api.get("/lead/", params={"_limit": 200})
    assert listed.status_code == 200
    json.loads(listed.content, parse_constant=lambda name: pytest.fail(f"{name} in the answer"))


def test_close_search_nested_deeper_than_64_levels_is_400(close_api: httpx.Client) -> None:
    """``/data/search/`` takes a query tree (CL §6); 400 levels of ``and`` crashed with a 500."""
    query: dict[str, Any] = {"type": "object_type", "object_type": "lead"}
    for _ in range(400):
        query = {"type": "and", "queries": [query]}
    close_error(close_api.post("/data/search/", json={"query": query}), 400)


def test_close_unexpected_errors_answer_json_with_the_rate_header(
    close_sandbox: CloseSandboxServer, close_api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5xx bodies are ``{"error": ...}`` (CL §7) and most answers carry ``RateLimit`` (CL §2):
    a sandbox bug answered uvicorn's text/plain "Internal Server Error"."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(close_sandbox.sandbox, "create", broken)
    r = close_api.post("/lead/", json={"name": "x"})
    assert close_error(r, 500) == "Internal server error." and "ratelimit" in r.headers
    assert close_api.get("/me/").status_code == 200


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"_limit": "1_0"}, {}),
        ({"_limit": "+5"}, {}),
        ({"_limit": " 5"}, {}),
        ({"_skip": "\u0665"}, {}),
        ({}, {"X-TZ-Offset": "1e1"}),
        ({}, {"X-TZ-Offset": "1_0"}),
        ({}, {"X-TZ-Offset": "0x1"}),
        ({"_order_by": "--value"}, {}),
    ],
)
def test_close_numbers_and_sort_keys_are_taken_literally(
    close_api: httpx.Client, params: dict[str, str], headers: dict[str, str]
) -> None:
    """``_skip``/``_limit`` are integers and ``X-TZ-Offset`` hours such as ``-4`` or ``5.5``
    (CL §1, §3); ``_order_by`` is a field with at most one ``-`` (CL §4.1). ``int()``/``float()``
    also took ``1_0``, ``+5``, ``1e1`` and non-ASCII digits, and ``--value`` sorted by value."""
    close_error(close_api.get("/opportunity/", params=params, headers=headers), 400)


def test_close_encoded_slash_is_no_path_separator(close_api: httpx.Client) -> None:
    """Paths end with ``/`` (CL §1): ``/lead/<id>%2F`` answered the lead and ``/lead%2F`` a 500."""
    lead = close_api.post("/lead/", json={"name": "Slash"}).json()["id"]
    close_error(close_api.get(f"/lead/{lead}%2F"), 404)
    close_error(close_api.get("/lead%2F"), 404)
    assert close_api.get(f"/lead/{lead}/").status_code == 200


def test_close_second_authorization_header_cannot_override_the_first(
    close_sandbox: CloseSandboxServer, close_org: CloseOrg
) -> None:
    """Basic auth with the key as user name (CL §1, §10.1); a repeated header is no credential."""
    other = close_sandbox.create_org(seed=None).api_key
    good = base64.b64encode(f"{close_org.api_key}:".encode()).decode()
    for second in (base64.b64encode(b"api_nope:").decode(), base64.b64encode(f"{other}:".encode()).decode()):
        for first, last in ((good, second), (second, good)):
            status, body = raw(
                close_sandbox.url,
                (
                    f"GET /api/v1/me/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {first}\r\n"
                    f"Authorization: Basic {last}\r\nConnection: close\r\n\r\n"
                ).encode(),
            )
            assert status == 401 and isinstance(json.loads(body)["error"], str)


def test_close_405_and_unknown_paths_carry_the_rate_header(close_api: httpx.Client) -> None:
    """ "Most API responses" carry ``RateLimit`` (CL §2): after auth, the 405 and 404 of a path did
    not. They run nothing, so they spend nothing: ``remaining`` stays at ``limit``."""
    for r in (close_api.patch("/lead/", json={}), close_api.patch("/lead/"), close_api.get("/nothing/")):
        close_error(r, r.status_code)
        assert r.status_code in (404, 405)
        fields = dict(part.strip().split("=") for part in re.split("[,;]", r.headers["ratelimit"]))
        assert fields["remaining"] == fields["limit"], r.headers["ratelimit"]


# --- second round: values at the edges ----------------------------------------------------------------
@pytest.mark.parametrize("value", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_a_datetime_outside_the_utc_range_is_422_not_500(api: httpx.Client, value: str) -> None:
    """DATETIME is stored in UTC (LF §4); these are valid ISO 8601 text but fall in year 10000 / 0
    in UTC, which crashed the write and the filter (500)."""
    err = envelope(api.post("/v1/accounts", json={"fields": {"$name": "D", "renewalDate": value}}), 422)
    assert err["param"] == "fields.renewalDate"
    task = {
        "fields": {"$title": "T", "$status": "TODO", "$dueAt": value},
        "relationships": {"$assignedTo": "mem_ava"},
    }
    assert envelope(api.post("/v1/tasks", json=task), 422)["param"] == "fields.$dueAt"
    err = envelope(api.get("/v1/accounts", params={"renewalDate[greaterThan]": value}), 400)
    assert err["code"] == "invalid_type"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "1_0", " 5", "\u0665", "0x10"])
def test_number_filters_take_json_numbers_only(api: httpx.Client, value: str) -> None:
    """NUMBER/CURRENCY filters compare numbers (LF §6); ``float()`` also took ``nan`` (matching
    nothing), ``inf``, ``1_0``, spaces and non-ASCII digits."""
    for op in ("equal", "greaterThan"):
        err = envelope(api.get("/v1/accounts", params={f"employeeCount[{op}]": value}), 400)
        assert err["code"] == "invalid_type" and err["param"] == f"employeeCount[{op}]"
    assert api.get("/v1/accounts", params={"employeeCount[greaterThan]": "1e3"}).status_code == 200


def test_checkbox_filters_are_exact_in_the_strict_profile(strict_sandbox: SandboxServer) -> None:
    """CHECKBOX takes a JSON boolean (LF §4): the strict profile compares case exactly everywhere
    (docs/sandbox.md #5), so ``True`` is no boolean there."""
    org = strict_sandbox.create_org(seed="demo", records=False)
    with connect(strict_sandbox, org.api_key) as api:
        assert api.get("/v1/accounts", params={"isCustomer[equal]": "true"}).status_code == 200
        for value in ("True", "TRUE", " true"):
            envelope(api.get("/v1/accounts", params={"isCustomer[equal]": value}), 400)


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_a_blank_required_value_is_missing(
    sandbox: SandboxServer, empty_org: Any, api: httpx.Client, name: str
) -> None:
    """``CrmAccount requires name field`` (LF §9, 422 with ``param``): an empty or blank name is
    no name (it created nameless accounts, lists and tasks)."""
    assert (
        envelope(api.post("/v1/accounts", json={"fields": {"$name": name}}), 422)["param"] == "fields.$name"
    )
    lst = {"fields": {"$name": name, "$objectType": "$account"}}
    assert envelope(api.post("/v1/lists", json=lst), 422)["param"] == "fields.$name"
    task = {"fields": {"$title": name, "$status": "TODO"}, "relationships": {"$assignedTo": "mem_ava"}}
    assert envelope(api.post("/v1/tasks", json=task), 422)["param"] == "fields.$title"
    acc = api.post("/v1/accounts", json={"fields": {"$name": "Named"}}).json()["id"]
    assert envelope(api.post(f"/v1/accounts/{acc}", json={"fields": {"$name": name}}), 422)
    assert api.get(f"/v1/accounts/{acc}").json()["fields"]["$name"]["value"] == "Named"
    assert sandbox.count(empty_org.org_id, "account") == 1


@pytest.mark.parametrize(("part", "value"), [("latitude", 90.5), ("latitude", 1e308), ("longitude", -180.01)])
def test_coordinates_outside_the_globe_are_422(api: httpx.Client, part: str, value: float) -> None:
    """ADDRESS ``latitude``/``longitude`` are numbers (LF §4); outside ±90 / ±180 they are no place."""
    body = {"fields": {"$name": "Geo", "$primaryAddress": {"city": "X", part: value}}}
    assert envelope(api.post("/v1/accounts", json=body), 422)["param"] == "fields.$primaryAddress"
    body["fields"]["$primaryAddress"] = {"latitude": -90, "longitude": 180}
    assert api.post("/v1/accounts", json=body).status_code == 200


def test_a_nul_character_is_refused(sandbox: SandboxServer, empty_org: Any, api: httpx.Client) -> None:
    """Text fields hold text; U+0000 cannot be stored by a SQL text column (it was kept and
    returned), so a body holding it, in a value or a key, is 400 ``invalid_type``."""
    for body in ({"fields": {"$name": "a\u0000b"}}, {"fields": {"$name": "a", "x\u0000": 1}}):
        assert envelope(api.post("/v1/accounts", json=body), 400)["code"] == "invalid_type"
    assert sandbox.count(empty_org.org_id, "account") == 0


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_close_datetimes_outside_the_utc_range_are_400(close_api: httpx.Client, value: str) -> None:
    """Close timestamps carry an offset (CL §1); these fall outside year 1–9999 in UTC and crashed
    creates, custom datetime fields and list filters (500)."""
    lead = close_api.post("/lead/", json={"name": "Edge"}).json()["id"]
    r = close_api.post("/contact/", json={"lead_id": lead, "custom.cf_DemoContactLastMet": value})
    assert r.status_code == 400 and "custom.cf_DemoContactLastMet" in r.json()["field-errors"]
    assert close_api.post("/opportunity/", json={"lead_id": lead, "date_created": value}).status_code == 400
    close_error(close_api.get("/opportunity/", params={"date_updated__gte": value}), 400)
    close_error(
        close_api.get(
            "/opportunity/", params={"date_created__lt": "0001-01-01"}, headers={"X-TZ-Offset": "14"}
        ),
        400,
    )


@pytest.mark.parametrize(
    "node",
    [
        {
            "type": "field_condition",
            "field": {"type": "regular_field", "object_type": "lead", "field_name": "name"},
            "condition": {"type": "term", "values": [None, {}, []]},
        },
        {
            "type": "field_condition",
            "field": {"type": "regular_field", "object_type": "lead", "field_name": "id"},
            "condition": {"type": "reference", "reference_type": "lead", "object_ids": [{}]},
        },
        {
            "type": "field_condition",
            "field": {"type": "regular_field", "object_type": [], "field_name": "name"},
            "condition": {"type": "exists"},
        },
        {
            "type": "field_condition",
            "field": {"type": "regular_field", "object_type": "lead", "field_name": {}},
            "condition": {"type": "exists"},
        },
        {"type": "has_related", "this_object_type": [], "related_object_type": "contact"},
    ],
    ids=["term-objects", "reference-objects", "object-type-list", "field-name-object", "has-related-list"],
)
def test_close_search_nodes_of_the_wrong_type_are_400(close_api: httpx.Client, node: dict[str, Any]) -> None:
    """The search tree's names and values are strings (CL §6); objects or lists in their place
    crashed the search (unhashable, 500)."""
    close_error(close_api.post("/data/search/", json={"query": {"type": "and", "queries": [node]}}), 400)
    sort = [{"field": {"type": "regular_field", "object_type": "lead", "field_name": {}}, "direction": "asc"}]
    close_error(
        close_api.post(
            "/data/search/", json={"query": {"type": "object_type", "object_type": "lead"}, "sort": sort}
        ),
        400,
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/custom_field/lead/", {"name": "Roles", "type": "text", "editable_with_roles": -1}),
        ("PUT", "/custom_field/lead/cf_DemoLeadIndustry/", {"editable_with_roles": {"a": 1}}),
        ("POST", "/pipeline/", {"name": "Bad", "statuses": 1.5}),
    ],
)
def test_close_configuration_bodies_of_the_wrong_type_are_400(
    close_api: httpx.Client, method: str, path: str, body: dict[str, Any]
) -> None:
    """``editable_with_roles`` is a list of role ids and pipeline ``statuses`` a list (CL §4.5,
    §4.6); a number there crashed the write (500)."""
    r = close_api.request(method, path, json=body)
    assert r.status_code == 400 and r.json()["field-errors"], r.text


# --- an aborted upload --------------------------------------------------------------------------------------
def _abort_upload(url: str, head: bytes, part: bytes) -> None:
    """Send the head with ``Content-Length: 100`` and a first part that is valid JSON on its own,
    then close the connection."""
    u = httpx.URL(url)
    with socket.create_connection((u.host, u.port), timeout=10) as s:
        s.sendall(head + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + part)


async def _run_aborted(app: Any, path: str, headers: list[tuple[bytes, bytes]], part: bytes) -> list[Any]:
    """Drive the ASGI app directly: the body's first part, then the client disconnects."""
    events = iter([{"type": "http.request", "body": part, "more_body": True}, {"type": "http.disconnect"}])
    sent: list[Any] = []

    async def receive() -> Any:
        return next(events)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
    }
    await app(scope, receive, send)
    return sent


def test_an_aborted_upload_is_never_run(
    sandbox: SandboxServer, empty_org: Any, close_sandbox: CloseSandboxServer
) -> None:
    """A request whose body never arrived whole is no request: its first part (here valid JSON)
    created a record, so a client that timed out mid-upload and retried made a duplicate."""
    import asyncio

    close_org = close_sandbox.create_org(seed="demo", records=False)
    lf_head = [
        (b"authorization", f"Bearer {empty_org.api_key}".encode()),
        (b"lightfield-version", b"2026-03-01"),
        (b"content-type", b"application/json"),
    ]
    sent = asyncio.run(_run_aborted(sandbox.app, "/v1/accounts", lf_head, b'{"fields":{"$name":"half"}}'))
    basic = base64.b64encode(f"{close_org.api_key}:".encode())
    close_head = [(b"authorization", b"Basic " + basic), (b"content-type", b"application/json")]
    sent += asyncio.run(_run_aborted(close_sandbox.app, "/api/v1/lead/", close_head, b'{"name":"half"}'))
    assert sent == []  # nothing answered, nothing run
    assert (
        sandbox.count(empty_org.org_id, "account") == 0 and close_sandbox.count(close_org.org_id, "lead") == 0
    )
    # the same over a socket: the server answers later requests and still holds nothing
    _abort_upload(
        sandbox.url,
        b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + empty_org.api_key.encode()
        + b"\r\nLightfield-Version: 2026-03-01\r\n",
        b'{"fields":{"$name":"half"}}',
    )
    _abort_upload(
        close_sandbox.url,
        b"POST /api/v1/lead/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + basic + b"\r\n",
        b'{"name":"half"}',
    )
    with connect(sandbox, empty_org.api_key) as api:
        assert api.get("/v1/accounts/acc_missing").status_code == 404
    assert httpx.get(close_sandbox.api_url + "/me/", auth=(close_org.api_key, "")).status_code == 200
    assert (
        sandbox.count(empty_org.org_id, "account") == 0 and close_sandbox.count(close_org.org_id, "lead") == 0
    )


def _export_link(close_api: httpx.Client) -> str:
    ex = close_api.post("/export/lead/", json={"format": "json", "type": "leads"}).json()
    for _ in range(200):
        doc = close_api.get(f"/export/{ex['id']}/").json()
        if doc["status"] == "done":
            return str(doc["download_url"])
        time.sleep(0.02)  # the export is revealed after export_delay_ms
    raise AssertionError("the export never finished")


def test_close_export_links_are_checked_without_crashing(close_api: httpx.Client) -> None:
    """A download link is a short-lived signed URL for one gzip file (CL §3): a signature with a
    non-ASCII character crashed the check (500), and any other suffix on the file name (another
    format, a Content-Disposition header of the caller's choosing) was served."""
    url = _export_link(close_api)
    assert httpx.get(url).status_code == 200
    path, _, query = url.partition("?")
    fields = dict(pair.split("=", 1) for pair in query.split("&"))
    for tampered in (
        f"{path}?X-Amz-Date={fields['X-Amz-Date']}&X-Amz-Expires={fields['X-Amz-Expires']}&X-Amz-Signature=%C3%A9",
        path.replace(".json.gz", ".csv.gz") + "?" + query,
        path + "x?" + query,
        path.replace(".json.gz", ".json.gz%22%0D%0AX-Evil:%201") + "?" + query,
    ):
        r = httpx.get(tampered)
        assert r.status_code == 403 and b"AccessDenied" in r.content, (tampered, r.status_code)
