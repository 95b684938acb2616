"""The official ``closeio`` client (PyPI ``closeio``, module ``closeio_api``) against the Close
sandbox, and sandbox answers validated against Close's own OpenAPI schemas.

``closeio_api.Client`` hard-codes ``https://api.close.com/api/v1/``; its base class ``API`` takes
the base URL, so the client runs unchanged against ``sandbox.api_url + "/"`` (the same code path:
``Client`` only picks the URL and calls ``API.__init__``). ``tests/data/contract/
close-openapi-subset.json`` holds the lead, contact and opportunity paths of Close's OpenAPI 3.1
with every schema they reference, unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkio.crm.close.sandbox import CloseSandboxServer, Org

closeio_api = pytest.importorskip("closeio_api")
jsonschema = pytest.importorskip("jsonschema")

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "contract" / "close-openapi-subset.json").read_text(encoding="utf-8")
)
TEMPLATES = [(t, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$")) for t in SPEC["paths"]]


@pytest.fixture
def official(close_sandbox: CloseSandboxServer, close_org: Org) -> Any:
    client = closeio_api.Client(api_key=close_org.api_key, tz_offset=-4)
    client.base_url = close_sandbox.api_url + "/"  # the only change: where it sends requests
    return client


def test_official_client_create_read_update_list_delete(official: Any, close_org: Org) -> None:
    assert official.get("me")["organization_id"] == close_org.org_id
    lead = official.post(
        "lead",
        {
            "name": "SDK Lead",
            "contacts": [{"name": "Sam Sdk", "emails": [{"email": "sam@sdk.example.com", "type": "office"}]}],
            "custom.cf_DemoLeadExternalId": "SDK-1",
        },
    )
    assert lead["display_name"] == "SDK Lead" and lead["contacts"][0]["name"] == "Sam Sdk"
    opp = official.post(
        "opportunity",
        {
            "lead_id": lead["id"],
            "value": 250000,
            "value_period": "annual",
            "confidence": 60,
            "status_id": "stat_DemoWon",
        },
    )
    assert opp["expected_value"] == 150000 and opp["date_won"] is not None  # X-TZ-Offset: -4 from the client
    got = official.get(f"opportunity/{opp['id']}")
    assert got["id"] == opp["id"] and got["value_formatted"] == "$2,500"
    updated = official.put(f"opportunity/{opp['id']}", {"note": "via the official client"})
    assert updated["note"] == "via the official client" and updated["value"] == 250000
    listed = official.get("opportunity", params={"lead_id": lead["id"], "_fields": "id,value"})
    assert listed["data"] == [{"id": opp["id"], "value": 250000}] and listed["total_results"] == 1
    contacts = official.get("contact", params={"lead_id": lead["id"]})
    assert [c["name"] for c in contacts["data"]] == ["Sam Sdk"] and contacts["has_more"] is False
    found = official.post(
        "data/search",
        {
            "query": {
                "type": "field_condition",
                "field": {"type": "custom_field", "custom_field_id": "cf_DemoLeadExternalId"},
                "condition": {"type": "term", "values": ["SDK-1"]},
            }
        },
    )
    assert [d["id"] for d in found["data"]] == [lead["id"]]
    assert official.delete(f"opportunity/{opp['id']}") == {}
    with pytest.raises(closeio_api.APIError) as gone:
        official.get(f"opportunity/{opp['id']}")
    assert gone.value.response.status_code == 404
    assert official.delete(f"lead/{lead['id']}") == {}


def test_official_client_reads_validation_errors(official: Any) -> None:
    with pytest.raises(closeio_api.ValidationError) as err:
        official.post("opportunity", {"value": "12.50", "confidence": 150})
    assert set(err.value.field_errors) == {"value", "confidence"} and err.value.errors == []


def test_official_client_waits_out_a_429(
    close_sandbox: CloseSandboxServer, close_org: Org, official: Any
) -> None:
    close_sandbox.set_rate_limit(close_org.org_id, per_second=1, window=1)
    close_sandbox.set_options(close_org.org_id, ratelimit_reset="integer")  # its regex reads digits only
    before = close_sandbox.stats(close_org.org_id)["by_status"].get(429, 0)
    for _ in range(3):
        assert official.get("me")["id"] == close_org.user_id
    assert close_sandbox.stats(close_org.org_id)["by_status"].get(429, 0) > before  # limited, then retried


# --- contract ---------------------------------------------------------------------------------------------
def contract_errors(method: str, path: str, response: httpx.Response) -> list[str]:
    template = next((t for t, rx in TEMPLATES if rx.match(path)), None)
    assert template is not None, path
    declared = SPEC["paths"][template][method.lower()]["responses"].get(str(response.status_code))
    if declared is None:
        return [f"status {response.status_code} is not declared for {method} {template}"]
    schema = dict(declared["content"]["application/json"]["schema"])
    schema["components"] = SPEC["components"]
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())
    ]


def test_answers_match_the_openapi_schemas(close_api: httpx.Client) -> None:
    lead = close_api.post(
        "/lead/",
        json={
            "name": "Contract",
            "contacts": [{"name": "C"}],
            "addresses": [{"city": "Oslo", "country": "NO"}],
        },
    )
    contact = close_api.post(
        "/contact/", json={"lead_id": lead.json()["id"], "phones": [{"phone": "+4722334455"}]}
    )
    opp = close_api.post(
        "/opportunity/", json={"lead_id": lead.json()["id"], "value": 1, "status_id": "stat_DemoWon"}
    )
    cases = [
        ("POST", "/lead/", lead),
        ("POST", "/contact/", contact),
        ("POST", "/opportunity/", opp),
        ("GET", "/lead/", close_api.get("/lead/", params={"_limit": 200})),
        ("GET", "/contact/", close_api.get("/contact/", params={"_limit": 100})),
        ("GET", "/opportunity/", close_api.get("/opportunity/", params={"_limit": 250})),
        ("GET", "/lead/x/", close_api.get(f"/lead/{lead.json()['id']}/")),
        (
            "PUT",
            "/opportunity/x/",
            close_api.put(f"/opportunity/{opp.json()['id']}/", json={"confidence": 5}),
        ),
        ("DELETE", "/contact/x/", close_api.delete(f"/contact/{contact.json()['id']}/")),
    ]
    problems = {f"{m} {p}": errs for m, p, r in cases if (errs := contract_errors(m, p, r))}
    assert problems == {}
    assert all(r.status_code == 200 for _, _, r in cases)
