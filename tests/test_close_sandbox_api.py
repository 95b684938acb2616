"""The Close sandbox over real HTTP: auth, paths, paging, ``_fields``, writes on leads, contacts and
opportunities (values in cents, derived values, ``date_won`` with ``X-TZ-Offset``, custom fields
with ``null`` / ``.add`` / ``.remove``), PUT as a partial update, DELETE, the documented error
bodies, and the configuration endpoints (users, statuses, pipelines, custom field definitions)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bulkio.crm.close.sandbox import CloseSandboxServer, Org

EXT_OPP = "custom.cf_DemoOppExternalId"
PRODUCTS = "custom.cf_DemoOppProducts"
FORECAST = "custom.cf_DemoOppForecast"
SIGNED = "custom.cf_DemoOppSignedOn"
ENGINEER = "custom.cf_DemoOppSalesEngineer"
REGION = "custom.cf_DemoSharedRegion"
NOT_FOUND = {"error": "Empty query: Opportunity matching query does not exist."}


def field_errors(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"errors", "field-errors"}, body
    return dict(body["field-errors"])


def new_lead(api: httpx.Client, **body: Any) -> dict[str, Any]:
    r = api.post("/lead/", json={"name": "Test Lead", **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- auth and paths ------------------------------------------------------------------------------
def test_basic_auth_with_the_key_as_user_name(close_sandbox: CloseSandboxServer, close_org: Org) -> None:
    url = close_sandbox.api_url + "/me/"
    token = base64.b64encode(f"{close_org.api_key}:".encode()).decode()
    r = httpx.get(url, headers={"Authorization": f"Basic {token}"})
    assert r.status_code == 200
    me = r.json()
    assert me["id"] == close_org.user_id and me["organization_id"] == close_org.org_id
    assert me["email"] == "ava@demo.close.test"
    assert httpx.get(url, headers={"Authorization": f"Bearer {close_org.api_key}"}).status_code == 200
    unauthorized = [
        httpx.get(url),
        httpx.get(url, auth=(close_org.api_key, "not-empty")),
        httpx.get(url, auth=("api_sandbox_" + "0" * 40, "")),
        httpx.get(url, headers={"Authorization": "Basic !!!"}),
    ]
    for r in unauthorized:
        assert r.status_code == 401
        assert r.json()["error"].startswith("The server could not verify that you are authorized")


def test_paths_need_their_trailing_slash(close_api: httpx.Client) -> None:
    r = close_api.get("/lead")
    assert r.status_code == 404 and "end with a slash" in r.json()["error"]
    assert close_api.get("/lead/").status_code == 200
    assert close_api.get("/nothing/").status_code == 404
    r = close_api.delete("/lead/")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"


def test_skip_limit_has_more_and_page_size_limits(
    close_sandbox: CloseSandboxServer, close_api: httpx.Client
) -> None:
    seen = []
    skip = 0
    while True:
        page = close_api.get("/lead/", params={"_skip": skip, "_limit": 5}).json()
        assert set(page) == {"data", "has_more"}  # no total_results on leads (OpenAPI)
        seen += [lead["id"] for lead in page["data"]]
        skip += 5
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 12
    dates = [close_api.get(f"/lead/{i}/").json()["date_created"] for i in seen]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert close_api.get("/lead/", params={"_limit": 200}).status_code == 200
    for params in ({"_limit": 201}, {"_limit": -1}, {"_skip": "x"}, {"_skip": 10_001}):
        r = close_api.get("/lead/", params=params)
        assert r.status_code == 400 and set(r.json()) == {"error"}, params
    assert close_api.get("/opportunity/", params={"_limit": 250}).status_code == 200
    assert close_api.get("/opportunity/", params={"_limit": 251}).status_code == 400
    assert close_api.get("/contact/", params={"_limit": 101}).status_code == 400
    r = close_api.get("/lead/", params={"query": 'name:"Acme"'})
    assert r.status_code == 400 and "deprecated" in r.json()["error"]
    assert close_api.get("/lead/", params={"name": "Acme"}).status_code == 400  # never silently ignored


def test_fields_selects_keys(close_api: httpx.Client) -> None:
    page = close_api.get("/opportunity/", params={"_fields": "id,value,custom.cf_DemoOppExternalId"}).json()
    assert all(set(o) <= {"id", "value", EXT_OPP} and "id" in o for o in page["data"])
    assert any(EXT_OPP in o for o in page["data"])
    assert "total_value_annualized" in page  # aggregates are not fields of the objects
    lead_id = page["data"][0] and close_api.get("/lead/", params={"_limit": 1}).json()["data"][0]["id"]
    lead = close_api.get(f"/lead/{lead_id}/", params={"_fields": "display_name,custom"}).json()
    assert "display_name" in lead and all(k == "display_name" or k.startswith("custom.") for k in lead)
    assert len(lead) > 1


# --- opportunities -------------------------------------------------------------------------------
def test_value_in_cents_with_expected_and_annualized_values(close_api: httpx.Client) -> None:
    lead = new_lead(close_api)
    body = {"lead_id": lead["id"], "value": 123456, "value_period": "monthly", "confidence": 40}
    opp = close_api.post("/opportunity/", json=body).json()
    assert opp["value"] == 123456 and opp["value_formatted"] == "$1,234.56" and opp["value_currency"] == "USD"
    assert opp["expected_value"] == 49382  # 123456 × 40 %
    assert opp["annualized_value"] == 123456 * 12
    assert opp["annualized_expected_value"] == 592589  # 1,481,472 × 40 %
    assert opp["lead_name"] == "Test Lead" and opp["user_id"] == opp["created_by"]
    assert opp["status_label"] == "Active" and opp["status_type"] == "active"  # the org's first status
    assert opp["pipeline_name"] == "Sales" and opp["date_won"] is None
    assert datetime.fromisoformat(opp["date_created"]).tzinfo is not None
    assert opp["date_created"].endswith("+00:00") and len(opp["date_created"].split(".")[1]) == 12
    one = close_api.put(
        f"/opportunity/{opp['id']}/", json={"value_period": "one_time", "value": 300000}
    ).json()
    assert (one["value_formatted"], one["annualized_value"], one["expected_value"]) == (
        "$3,000",
        300000,
        120000,
    )
    errors = field_errors(
        close_api.post(
            "/opportunity/",
            json={"lead_id": lead["id"], "value": 12.5, "confidence": 101, "value_period": "weekly"},
        )
    )
    assert set(errors) == {"value", "confidence", "value_period"}
    assert close_api.post("/opportunity/", json={"value": True}).status_code == 400


def test_opportunity_without_lead_creates_an_untitled_lead(close_api: httpx.Client) -> None:
    opp = close_api.post("/opportunity/", json={"value": 5000}).json()
    lead = close_api.get(f"/lead/{opp['lead_id']}/").json()
    assert lead["name"] is None and lead["display_name"] == "Untitled"
    assert [o["id"] for o in lead["opportunities"]] == [opp["id"]] and lead["contacts"] == []
    renewals = close_api.post("/opportunity/", json={"pipeline_id": "pipe_DemoRenewals"}).json()
    assert renewals["status_label"] == "Renewal Due" and renewals["pipeline_id"] == "pipe_DemoRenewals"
    errors = field_errors(
        close_api.post(
            "/opportunity/", json={"pipeline_id": "pipe_DemoRenewals", "status_id": "stat_DemoWon"}
        )
    )
    assert "status_id" in errors
    assert field_errors(close_api.post("/opportunity/", json={"lead_id": "lead_nope"})) == {
        "lead_id": "Object does not exist."
    }
    both = close_api.post("/opportunity/", json={"status": "Lost", "status_id": "stat_DemoLost"})
    assert both.status_code == 400 and both.json()["errors"] == ["Post either status or status_id, not both."]
    by_label = close_api.post(
        "/opportunity/", json={"status": "Won", "pipeline_id": "pipe_DemoRenewals"}
    ).json()
    assert by_label["status_id"] == "stat_DemoRenewed"
    assert "status" in field_errors(close_api.post("/opportunity/", json={"status": "Won"}))  # two "Won"s


def _local_day(offset: float) -> set[str]:
    now = datetime.now(UTC) + timedelta(hours=offset)
    return {now.date().isoformat(), (now + timedelta(seconds=5)).date().isoformat()}


@pytest.mark.parametrize("offset", [-11.5, 0, 14])
def test_date_won_is_set_in_the_callers_time_zone(close_api: httpx.Client, offset: float) -> None:
    lead = new_lead(close_api)
    opp = close_api.post("/opportunity/", json={"lead_id": lead["id"]}).json()
    before = _local_day(offset)
    won = close_api.put(
        f"/opportunity/{opp['id']}/", json={"status_id": "stat_DemoWon"}, headers={"X-TZ-Offset": str(offset)}
    ).json()
    assert won["date_won"] in before | _local_day(offset)
    back = close_api.put(f"/opportunity/{opp['id']}/", json={"status_id": "stat_DemoActive"}).json()
    assert back["date_won"] == won["date_won"]  # moving back does not clear it


def test_date_won_explicit_created_won_and_lost(close_api: httpx.Client) -> None:
    lead = new_lead(close_api)
    explicit = close_api.post(
        "/opportunity/", json={"lead_id": lead["id"], "status_id": "stat_DemoWon", "date_won": "2025-02-03"}
    ).json()
    assert explicit["date_won"] == "2025-02-03"
    created_won = close_api.post(
        "/opportunity/",
        json={"lead_id": lead["id"], "status_id": "stat_DemoWon"},
        headers={"X-TZ-Offset": "-4"},
    ).json()
    assert created_won["date_won"] in _local_day(-4)
    lost = close_api.post("/opportunity/", json={"lead_id": lead["id"], "status_id": "stat_DemoLost"}).json()
    assert lost["date_won"] is None and lost["date_lost"] is not None
    r = close_api.get("/me/", headers={"X-TZ-Offset": "east"})
    assert r.status_code == 400 and "X-TZ-Offset" in r.json()["error"]
    assert "date_won" in field_errors(close_api.post("/opportunity/", json={"date_won": "03/02/2025"}))


def test_custom_fields_set_unset_add_remove(close_api: httpx.Client) -> None:
    lead = new_lead(close_api, **{REGION: "EMEA"})
    assert lead[REGION] == "EMEA"  # a shared field associated with leads
    body = {
        "lead_id": lead["id"],
        EXT_OPP: "X-1",
        PRODUCTS: ["Core", "Support"],
        FORECAST: "Commit",
        SIGNED: "2026-01-31",
        ENGINEER: "user_DemoBen",
        REGION: "APAC",
    }
    opp = close_api.post("/opportunity/", json=body).json()
    assert {k: opp[k] for k in body if k != "lead_id"} == {k: v for k, v in body.items() if k != "lead_id"}
    url = f"/opportunity/{opp['id']}/"
    after = close_api.put(url, json={f"{PRODUCTS}.add": "Training", f"{FORECAST}": None}).json()
    assert after[PRODUCTS] == ["Core", "Support", "Training"] and FORECAST not in after
    after = close_api.put(url, json={f"{PRODUCTS}.remove": "Core"}).json()
    assert after[PRODUCTS] == ["Support", "Training"]
    after = close_api.put(url, json={f"{PRODUCTS}.add": "Support"}).json()
    assert after[PRODUCTS] == ["Support", "Training"]  # already there
    after = close_api.put(url, json={PRODUCTS: ["Analytics"]}).json()
    assert after[PRODUCTS] == ["Analytics"]  # a plain write replaces the whole list
    after = close_api.put(url, json={f"{PRODUCTS}.remove": "Analytics"}).json()
    assert PRODUCTS not in after  # the last value removed unsets the field
    assert after[EXT_OPP] == "X-1"  # untouched keys stay (PUT is a patch)
    errors = field_errors(
        close_api.put(
            url,
            json={
                FORECAST: "Maybe",
                f"{FORECAST}.add": "Commit",
                PRODUCTS: "Core",
                SIGNED: "31/01/2026",
                ENGINEER: "user_nobody",
                "custom.cf_nope": "x",
                "custom.Forecast Category": "Commit",
            },
        )
    )
    assert set(errors) == {
        FORECAST,
        f"{FORECAST}.add",
        PRODUCTS,
        SIGNED,
        ENGINEER,
        "custom.cf_nope",
        "custom.Forecast Category",
    }
    assert f"{PRODUCTS}.add" in field_errors(
        close_api.post("/opportunity/", json={f"{PRODUCTS}.add": "Core"})
    )
    assert "custom" in field_errors(
        close_api.post("/opportunity/", json={"custom": {"Forecast Category": "x"}})
    )
    contact = close_api.post("/contact/", json={"lead_id": lead["id"], REGION: "NA"})
    assert REGION in field_errors(contact)  # Region is not associated with contacts
    unchanged = close_api.get(url).json()
    assert unchanged[EXT_OPP] == "X-1" and unchanged[REGION] == "APAC"  # a refused write changes nothing


def test_put_is_a_partial_update_and_a_no_op_keeps_date_updated(close_api: httpx.Client) -> None:
    lead = new_lead(close_api, description="keep me")
    opp = close_api.post("/opportunity/", json={"lead_id": lead["id"], "value": 100, "note": "a"}).json()
    same = close_api.put(f"/opportunity/{opp['id']}/", json={"note": "a"}).json()
    assert same["date_updated"] == opp["date_updated"]
    changed = close_api.put(f"/opportunity/{opp['id']}/", json={"note": "b"}).json()
    assert (
        changed["note"] == "b" and changed["value"] == 100 and changed["date_updated"] > opp["date_updated"]
    )
    renamed = close_api.put(f"/lead/{lead['id']}/", json={"name": "Renamed"}).json()
    assert renamed["description"] == "keep me" and renamed["name"] == "Renamed"
    assert close_api.get(f"/opportunity/{opp['id']}/").json()["lead_name"] == "Renamed"
    assert "date_updated" in field_errors(close_api.put(f"/lead/{lead['id']}/", json={"date_updated": "x"}))


def test_strict_keys_switch(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    errors = field_errors(close_api.post("/opportunity/", json={"value_formatted": "$1", "title": "x"}))
    assert set(errors) == {"value_formatted", "title"}
    close_sandbox.set_options(close_org.org_id, strict_keys=False)
    r = close_api.post("/opportunity/", json={"value_formatted": "$1", "value": 100, "custom": {"a": 1}})
    assert r.status_code == 200 and r.json()["value_formatted"] == "$1"  # ignored, derived from value


def test_no_idempotency_keys(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    before = close_sandbox.count(close_org.org_id, "lead")
    for _ in range(2):
        close_api.post("/lead/", json={"name": "Twice"}, headers={"Idempotency-Key": "same-key"})
    assert close_sandbox.count(close_org.org_id, "lead") == before + 2


# --- contacts and leads ----------------------------------------------------------------------------
def test_contact_without_lead_creates_a_lead_named_after_it(close_api: httpx.Client) -> None:
    body = {
        "name": "Zoë Müller",
        "title": "CTO",
        "emails": [{"email": "zoe@example.com", "type": "office"}],
        "phones": [{"phone": "(512) 555-0101", "type": "mobile"}],
        "urls": [{"url": "https://zoe.example.com"}],
    }
    contact = close_api.post("/contact/", json=body).json()
    assert contact["phones"][0]["phone"] == "+15125550101" and contact["phones"][0]["type"] == "mobile"
    assert contact["emails"] == [{"email": "zoe@example.com", "type": "office", "is_unsubscribed": False}]
    assert contact["urls"] == [{"url": "https://zoe.example.com", "type": "url"}]
    lead = close_api.get(f"/lead/{contact['lead_id']}/").json()
    assert lead["name"] == "Zoë Müller" and lead["contact_ids"] == [contact["id"]]
    assert lead["primary_email"]["email"] == "zoe@example.com"
    assert contact["id"].startswith("cont_") and lead["id"].startswith("lead_")
    errors = field_errors(
        close_api.post(
            "/contact/",
            json={
                "emails": [{"email": "not-an-email"}],
                "phones": [{"phone": "12"}],
                "urls": [{"url": "example.com"}],
                "lead_id": "lead_missing",
            },
        )
    )
    assert set(errors) == {"emails.0.email", "phones.0.phone", "urls.0.url", "lead_id"}
    listed = close_api.get("/contact/", params={"lead_id": lead["id"]}).json()["data"]
    assert [c["id"] for c in listed] == [contact["id"]]


def test_lead_with_nested_contacts_and_addresses(close_api: httpx.Client) -> None:
    lead = new_lead(
        close_api,
        status="Qualified",
        url="https://acme.example.com",
        contacts=[{"name": "Ann", "emails": [{"email": "ann@acme.example.com"}]}, {"name": "Bo"}],
        addresses=[{"address_1": "1 Main St", "city": "Austin", "zipcode": "78701", "country": "US"}],
    )
    assert lead["status_label"] == "Qualified" and [c["name"] for c in lead["contacts"]] == ["Ann", "Bo"]
    assert lead["addresses"][0]["label"] == "business" and lead["addresses"][0]["country"] == "US"
    assert all(c["lead_id"] == lead["id"] for c in lead["contacts"])
    assert "contacts" in field_errors(close_api.put(f"/lead/{lead['id']}/", json={"contacts": []}))
    errors = field_errors(
        close_api.post(
            "/lead/", json={"addresses": [{"country": "Germany"}], "url": "acme.com", "status": "Nope"}
        )
    )
    assert set(errors) == {"addresses.0.country", "url", "status"}
    errors = field_errors(
        close_api.post("/lead/", json={"contacts": [{"name": "X", "emails": [{"email": "x"}]}]})
    )
    assert set(errors) == {"contacts.0.emails.0.email"}
    moved = close_api.put(f"/lead/{lead['id']}/", json={"addresses": []}).json()
    assert moved["addresses"] == [] and len(moved["contacts"]) == 2


def test_delete_and_the_recorded_404(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    lead = new_lead(close_api, contacts=[{"name": "Cy"}])
    contact_id = lead["contacts"][0]["id"]
    opp = close_api.post("/opportunity/", json={"lead_id": lead["id"], "contact_id": contact_id}).json()
    other = close_api.post("/opportunity/", json={"lead_id": lead["id"]}).json()
    r = close_api.delete(f"/contact/{contact_id}/")
    assert r.status_code == 200 and r.json() == {}
    assert close_api.get(f"/opportunity/{opp['id']}/").json()["contact_id"] is None
    assert close_api.delete(f"/opportunity/{other['id']}/").json() == {}
    r = close_api.get(f"/opportunity/{other['id']}/")
    assert r.status_code == 404 and r.json() == NOT_FOUND
    assert close_api.put(f"/opportunity/{other['id']}/", json={"note": "x"}).json() == NOT_FOUND
    leads_before = close_sandbox.count(close_org.org_id, "lead")
    assert close_api.delete(f"/lead/{lead['id']}/").status_code == 200
    assert close_api.get(f"/opportunity/{opp['id']}/").status_code == 404  # a lead takes its children
    assert close_sandbox.count(close_org.org_id, "lead") == leads_before - 1
    assert close_api.get(f"/lead/{lead['id']}/").json() == {
        "error": "Empty query: Lead matching query does not exist."
    }


def test_error_bodies_for_bad_requests(close_sandbox: CloseSandboxServer, close_org: Org) -> None:
    url = close_sandbox.api_url + "/lead/"
    auth = (close_org.api_key, "")
    r = httpx.post(
        url, content=b"name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=auth
    )
    assert r.status_code == 415 and set(r.json()) == {"error"}
    r = httpx.post(url, content=b"{not json", headers={"Content-Type": "application/json"}, auth=auth)
    assert r.status_code == 400 and set(r.json()) == {"error"}
    r = httpx.post(url, json=["a list"], auth=auth)
    assert r.status_code == 400 and r.json() == {
        "errors": ["The request body must be a JSON object."],
        "field-errors": {},
    }


def test_method_override_carries_long_queries(close_api: httpx.Client) -> None:
    r = close_api.post(
        "/opportunity/",
        json={"_params": {"status_type": "won", "_limit": 2}},
        headers={"X-HTTP-Method-Override": "GET"},
    )
    assert r.status_code == 200 and len(r.json()["data"]) <= 2
    assert all(o["status_type"] == "won" for o in r.json()["data"])


# --- configuration -----------------------------------------------------------------------------------
def test_users_and_organization(close_api: httpx.Client, close_org: Org) -> None:
    users = close_api.get("/user/").json()
    assert [u["email"] for u in users["data"]] == [
        "ava@demo.close.test",
        "cleo@demo.close.test",
        "ben@demo.close.test",
    ]  # by last name: Admin, Closer, Seller
    assert close_api.get("/user/user_DemoBen/").json()["first_name"] == "Ben"
    assert close_api.get("/user/user_nobody/").status_code == 404
    org = close_api.get(f"/organization/{close_org.org_id}/").json()
    assert org["currency"] == "USD" and org["id"] == close_org.org_id


def test_statuses_and_pipelines(close_api: httpx.Client) -> None:
    statuses = close_api.get("/status/opportunity/").json()["data"]
    assert {"id": "stat_DemoWon", "label": "Won", "type": "won", "pipeline_id": "pipe_DemoSales"} in statuses
    lead_statuses = close_api.get("/status/lead/").json()["data"]
    assert [s["label"] for s in lead_statuses] == ["Potential", "Bad Fit", "Qualified", "Customer"]
    errors = field_errors(close_api.post("/status/opportunity/", json={"label": "Stalled"}))
    assert set(errors) == {"type", "pipeline_id"}
    made = close_api.post(
        "/status/opportunity/", json={"label": "Stalled", "type": "active", "pipeline_id": "pipe_DemoSales"}
    ).json()
    assert made["pipeline_id"] == "pipe_DemoSales" and made["id"].startswith("stat_")
    r = close_api.post("/pipeline/", json={"name": "Partners"})
    assert r.status_code == 201 and r.json()["statuses"] == []
    pipe = r.json()
    moved = close_api.put(f"/pipeline/{pipe['id']}/", json={"statuses": [{"id": made["id"]}]}).json()
    assert [s["label"] for s in moved["statuses"]] == ["Stalled"]
    sales = close_api.get("/pipeline/pipe_DemoSales/").json()
    assert made["id"] not in [s["id"] for s in sales["statuses"]]
    assert close_api.delete(f"/pipeline/{pipe['id']}/").status_code == 400  # still has a status
    in_use = close_api.delete("/status/opportunity/stat_DemoWon/")
    assert in_use.status_code == 400 and in_use.json()["errors"]
    assert close_api.delete(f"/status/opportunity/{made['id']}/").json() == {}
    assert close_api.delete(f"/pipeline/{pipe['id']}/").status_code == 204
    renamed = close_api.put("/status/opportunity/stat_DemoDemo/", json={"label": "Demo Booked"}).json()
    assert renamed["label"] == "Demo Booked"
    lead = close_api.post("/status/lead/", json={"label": "Nurture"}).json()
    assert (
        close_api.put(f"/status/lead/{lead['id']}/", json={"label": "Nurturing"}).json()["label"]
        == "Nurturing"
    )
    assert close_api.delete(f"/status/lead/{lead['id']}/").json() == {}


def test_custom_field_definitions(close_api: httpx.Client) -> None:
    fields = close_api.get("/custom_field/opportunity/").json()
    assert fields["has_more"] is False
    products = next(f for f in fields["data"] if f["id"] == "cf_DemoOppProducts")
    assert products["type"] == "choices" and products["accepts_multiple_values"] is True
    assert set(products) >= {
        "id",
        "name",
        "type",
        "choices",
        "accepts_multiple_values",
        "editable_with_roles",
    }
    types = {
        f["type"]
        for kind in ("lead", "contact", "opportunity")
        for f in close_api.get(f"/custom_field/{kind}/").json()["data"]
    }
    assert types == {"text", "choices", "number", "date", "user", "datetime"}
    shared = close_api.get("/custom_field/shared/").json()["data"]
    assert [a["object_type"] for a in shared[0]["associations"]] == ["lead", "opportunity"]
    errors = field_errors(
        close_api.post("/custom_field/opportunity/", json={"name": "Bad", "type": "choices"})
    )
    assert "choices" in errors
    made = close_api.post("/custom_field/opportunity/", json={"name": "Legacy ID", "type": "text"}).json()
    key = f"custom.{made['id']}"
    lead = new_lead(close_api)
    opp = close_api.post("/opportunity/", json={"lead_id": lead["id"], key: "L-9"}).json()
    assert opp[key] == "L-9"
    assert (
        close_api.put(f"/custom_field/opportunity/{made['id']}/", json={"name": "Old ID"}).json()["name"]
        == "Old ID"
    )
    assert close_api.delete(f"/custom_field/opportunity/{made['id']}/").json() == {}
    assert key not in close_api.get(f"/opportunity/{opp['id']}/").json()  # values go with the field
    assoc = close_api.post(
        "/custom_field/shared/cf_DemoSharedRegion/association/",
        json={"object_type": "contact", "required": True},
    )
    assert assoc.status_code == 201
    contact = close_api.post("/contact/", json={"lead_id": lead["id"], "name": "Req"})
    assert field_errors(contact) == {"custom.cf_DemoSharedRegion": "This field is required."}
    ok = close_api.post("/contact/", json={"lead_id": lead["id"], "custom.cf_DemoSharedRegion": "NA"})
    assert ok.status_code == 200
    assert (
        close_api.delete("/custom_field/shared/cf_DemoSharedRegion/association/contact/").status_code == 200
    )
    assert "custom.cf_DemoSharedRegion" not in close_api.get(f"/contact/{ok.json()['id']}/").json()
