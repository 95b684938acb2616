"""Close sandbox lists, aggregates, ``_group_by``, ``/data/search/`` and the Export API, over HTTP.

The aggregates are checked against sums the test computes itself from the records (read directly
from the sandbox, not through the endpoint under test), for the whole org, under a filter and
across pages, so "exactly as the Opportunities page specifies" is asserted, not assumed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest

from bulkio.crm.close.sandbox import CloseSandboxServer, Org

PERIODS = ("one_time", "monthly", "annual")
EXT = {
    "lead": "cf_DemoLeadExternalId",
    "contact": "cf_DemoContactExternalId",
    "opportunity": "cf_DemoOppExternalId",
}


def expected_aggregates(opps: list[dict[str, Any]]) -> dict[str, Any]:
    """The seed's definitions, written out independently of the sandbox's code."""
    out: dict[str, Any] = {
        "total_results": len(opps),
        "count_by_value_period": dict(Counter(o["value_period"] for o in opps)),
    }
    for p in PERIODS:
        of_p = [o for o in opps if o["value_period"] == p]
        out[f"total_value_{p}"] = sum(o["value"] or 0 for o in of_p)
        out[f"expected_value_{p}"] = sum(round((o["value"] or 0) * o["confidence"] / 100) for o in of_p)
    factor = {"monthly": 12, "one_time": 1, "annual": 1}
    out["total_value_annualized"] = sum((o["value"] or 0) * factor[o["value_period"]] for o in opps)
    out["expected_value_annualized"] = sum(
        round((o["value"] or 0) * factor[o["value_period"]] * o["confidence"] / 100) for o in opps
    )
    return out


def aggregates_of(body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in body.items() if k not in ("data", "has_more", "objects", "key") and k in AGG_KEYS
    }


AGG_KEYS = {"total_results", "count_by_value_period"} | {
    f"{a}_{p}" for a in ("total_value", "expected_value") for p in (*PERIODS, "annualized")
}


def test_aggregates_cover_all_matches_not_the_page(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    opps = close_sandbox.records(close_org.org_id, "opportunity")
    assert {o["value_period"] for o in opps} == set(PERIODS) and any(o["value"] is None for o in opps)
    page = close_api.get("/opportunity/", params={"_limit": 3}).json()
    assert len(page["data"]) == 3 and page["has_more"] is True
    assert aggregates_of(page) == expected_aggregates(opps)
    won = [o for o in opps if o["status_type"] == "won"]
    filtered = close_api.get("/opportunity/", params={"status_type": "won", "_limit": 1}).json()
    assert aggregates_of(filtered) == expected_aggregates(won)
    monthly = close_api.get("/opportunity/", params={"value_period": "monthly"}).json()
    assert monthly["count_by_value_period"] == {
        "monthly": len([o for o in opps if o["value_period"] == "monthly"])
    }
    none = close_api.get("/opportunity/", params={"user_id": "user_nobody"}).json()
    assert none["data"] == [] and none["total_results"] == 0 and none["count_by_value_period"] == {}
    assert none["total_value_annualized"] == 0


def test_big_seed_aggregates(close_sandbox: CloseSandboxServer) -> None:
    org = close_sandbox.create_org(seed="big")
    close_sandbox.set_rate_limit(org.org_id, per_second=1000)
    opps = close_sandbox.records(org.org_id, "opportunity")
    assert (
        len(opps),
        close_sandbox.count(org.org_id, "lead"),
        close_sandbox.count(org.org_id, "contact"),
    ) == (
        2000,
        500,
        1500,
    )
    with httpx.Client(base_url=close_sandbox.api_url, auth=(org.api_key, "")) as api:
        body = api.get("/opportunity/", params={"_limit": 1, "date_won__gte": "2026-01-01"}).json()
        chosen = [o for o in opps if o["date_won"] and o["date_won"] >= "2026-01-01"]
        assert aggregates_of(body) == expected_aggregates(chosen) and body["total_results"] > 50
        ext = {o["custom.cf_DemoOppExternalId"] for o in opps}
        assert len(ext) == 2000  # the key field is unique in the seed (Close does not enforce it)


def walk(api: httpx.Client, params: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """Every group of a grouped list, pages merged by ``key`` as the seed suggests."""
    merged: dict[Any, dict[str, Any]] = {}
    order: list[Any] = []
    skip = 0
    while True:
        page = api.get("/opportunity/", params={**params, "_skip": skip, "_limit": size}).json()
        for g in page["data"]:
            if g["key"] not in merged:
                merged[g["key"]] = dict(g, objects=[])
                order.append(g["key"])
            assert aggregates_of(g) == aggregates_of(merged[g["key"]])  # every page repeats the group totals
            merged[g["key"]]["objects"] += g["objects"]
        skip += size
        if not page["has_more"]:
            return [merged[k] for k in order]


def test_group_by_user_across_pages(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    opps = close_sandbox.records(close_org.org_id, "opportunity")
    groups = walk(close_api, {"_group_by": "user_id", "_order_by": "-value"}, 5)
    assert [g["user_name"] for g in groups] == ["Ava Admin", "Ben Seller", "Cleo Closer"]  # by full name
    for g in groups:
        mine = [o for o in opps if o["user_id"] == g["user_id"]]
        assert g["key"] == g["user_id"] and aggregates_of(g) == expected_aggregates(mine)
        assert sorted(o["id"] for o in g["objects"]) == sorted(o["id"] for o in mine)
        values = [o["value"] for o in g["objects"]]
        assert values == sorted(values, key=lambda v: (v is not None, v or 0), reverse=True)
    reverse = close_api.get("/opportunity/", params={"_group_by": "-user_id", "_limit": 250}).json()
    assert [g["user_name"] for g in reverse["data"]] == ["Cleo Closer", "Ben Seller", "Ava Admin"]
    assert aggregates_of(reverse) == expected_aggregates(opps)


@pytest.mark.parametrize("unit", ["year", "quarter", "month", "week"])
def test_group_by_date_won(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client, unit: str
) -> None:
    opps = close_sandbox.records(close_org.org_id, "opportunity")
    groups = walk(close_api, {"_group_by": f"date_won__{unit}"}, 4)
    assert groups[-1]["key"] is None  # opportunities not won come last
    assert sum(g["total_results"] for g in groups) == len(opps)

    def key_of(d: str) -> str:
        day = date.fromisoformat(d)
        if unit == "year":
            return str(day.year)
        if unit == "quarter":
            return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        if unit == "month":
            return f"{day.year}-{day.month:02d}"
        y, w, _ = day.isocalendar()
        return f"{y}-W{w:02d}"

    keys = [g["key"] for g in groups[:-1]]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    for g in groups[:-1]:
        mine = [o for o in opps if o["date_won"] and key_of(o["date_won"]) == g["key"]]
        assert aggregates_of(g) == expected_aggregates(mine)
        first = date.fromisoformat(mine[0]["date_won"])
        if unit == "week":
            assert (g["weekyear"], g["week"]) == first.isocalendar()[:2]
        else:
            assert g["year"] == first.year
        if unit == "month":
            assert g["month"] == first.month
        if unit == "quarter":
            assert g["quarter"] == (first.month - 1) // 3 + 1
    reverse = close_api.get("/opportunity/", params={"_group_by": f"-date_won__{unit}", "_limit": 250}).json()
    assert [g["key"] for g in reverse["data"]] == [*reversed(keys), None]


def test_filters_and_order(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    opps = close_sandbox.records(close_org.org_id, "opportunity")

    def ids(params: dict[str, Any]) -> set[str]:
        r = close_api.get("/opportunity/", params={**params, "_limit": 250})
        assert r.status_code == 200, r.text
        return {o["id"] for o in r.json()["data"]}

    assert ids({"status_type__in": "won,lost"}) == {o["id"] for o in opps if o["status_type"] != "active"}
    assert ids({"status_label": "Won"}) == {o["id"] for o in opps if o["status_label"] == "Won"}
    assert ids({"user_id__in": "user_DemoBen"}) == {o["id"] for o in opps if o["user_id"] == "user_DemoBen"}
    lead_id = opps[0]["lead_id"]
    assert ids({"lead_id": lead_id}) == {o["id"] for o in opps if o["lead_id"] == lead_id}
    assert ids({"date_won__lt": "2026-01-01"}) == {
        o["id"] for o in opps if o["date_won"] and o["date_won"] < "2026-01-01"
    }
    cut = sorted(o["date_created"] for o in opps)[10]
    day = cut[:10]
    assert ids({"date_created__gte": day}) == {o["id"] for o in opps if o["date_created"][:10] >= day}
    assert ids({"query": "note:important"}) == {o["id"] for o in opps if "important" in (o["note"] or "")}
    values = [
        o["value"]
        for o in close_api.get("/opportunity/", params={"_order_by": "value", "_limit": 250}).json()["data"]
    ]
    assert values == sorted(values, key=lambda v: (v is not None, v or 0))
    for bad in (
        {"_order_by": "name"},
        {"_group_by": "lead_id"},
        {"status_kind": "won"},
        {"date_won__gte": "yesterday"},
    ):
        r = close_api.get("/opportunity/", params=bad)
        assert r.status_code == 400 and set(r.json()) == {"error"}, bad


# --- /data/search/ ---------------------------------------------------------------------------------------
def search(api: httpx.Client, query: dict[str, Any], **extra: Any) -> dict[str, Any]:
    r = api.post("/data/search/", json={"query": query, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


def by_custom(otype: str, field: str, values: list[str]) -> dict[str, Any]:
    return {
        "type": "and",
        "queries": [
            {"type": "object_type", "object_type": otype},
            {
                "type": "field_condition",
                "field": {"type": "custom_field", "custom_field_id": field},
                "condition": {"type": "term", "values": values},
            },
        ],
    }


def test_search_by_custom_field_key(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    for otype, field in EXT.items():
        records = close_sandbox.records(close_org.org_id, otype)
        wanted = [r for r in records if f"custom.{field}" in r][:3]
        keys = [r[f"custom.{field}"] for r in wanted] + ["NO-SUCH-KEY"]
        found = search(close_api, by_custom(otype, field, keys))
        assert found["cursor"] is None
        assert sorted(d["id"] for d in found["data"]) == sorted(r["id"] for r in wanted)
        assert all(set(d) == {"__object_type", "id"} and d["__object_type"] == otype for d in found["data"])
    fields = search(
        close_api, by_custom("lead", EXT["lead"], ["CL-L-0001"]), _fields={"lead": ["display_name", "custom"]}
    )
    assert (
        fields["data"][0]["display_name"] == "Acme Corp"
        and fields["data"][0][f"custom.{EXT['lead']}"] == "CL-L-0001"
    )


def test_search_by_name_and_email(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    by_name = {
        "type": "and",
        "queries": [
            {"type": "object_type", "object_type": "lead"},
            {
                "type": "field_condition",
                "field": {"type": "regular_field", "object_type": "lead", "field_name": "display_name"},
                "condition": {"type": "text", "mode": "full_words", "value": "acme corp"},
            },
        ],
    }
    assert [d["id"] for d in search(close_api, by_name)["data"]] == [
        r["id"] for r in close_sandbox.records(close_org.org_id, "lead") if r["display_name"] == "Acme Corp"
    ]
    contact = next(c for c in close_sandbox.records(close_org.org_id, "contact") if c["emails"])
    email = contact["emails"][0]["email"]
    by_email = {
        "type": "and",
        "queries": [
            {"type": "object_type", "object_type": "contact"},
            {
                "type": "has_related",
                "this_object_type": "contact",
                "related_object_type": "contact_email",
                "related_query": {
                    "type": "field_condition",
                    "field": {"type": "regular_field", "object_type": "contact_email", "field_name": "email"},
                    "condition": {"type": "term", "values": [email.upper()]},
                },
            },
        ],
    }
    assert [d["id"] for d in search(close_api, by_email)["data"]] == [contact["id"]]
    leads_with_it = {
        "type": "and",
        "queries": [
            {"type": "object_type", "object_type": "lead"},
            {
                "type": "has_related",
                "this_object_type": "lead",
                "related_object_type": "contact",
                "related_query": by_email["queries"][1],
            },
        ],
    }
    assert [d["id"] for d in search(close_api, leads_with_it)["data"]] == [contact["lead_id"]]
    negated = dict(by_name, negate=True)
    assert (
        len(
            search(
                close_api,
                {"type": "and", "queries": [{"type": "object_type", "object_type": "lead"}, negated]},
            )["data"]
        )
        == 11
    )


def test_search_cursor_counts_and_errors(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    query = {"type": "object_type", "object_type": "contact"}
    seen: list[str] = []
    cursor = None
    while True:
        page = search(close_api, query, _limit=7, cursor=cursor, include_counts=True)
        assert page["count"] == {"total": 20, "limited": 20}
        seen += [d["id"] for d in page["data"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c["id"] for c in close_sandbox.records(close_org.org_id, "contact"))
    limited = search(close_api, query, results_limit=5, include_counts=True)
    assert len(limited["data"]) == 5 and limited["count"] == {"total": 20, "limited": 5}
    first = search(close_api, query, _limit=2)
    other = close_api.post(
        "/data/search/",
        json={"query": {"type": "object_type", "object_type": "lead"}, "cursor": first["cursor"]},
    )
    assert other.status_code == 400 and "different query" in other.json()["error"]
    close_sandbox.set_options(close_org.org_id, cursor_ttl_s=0.0)
    time.sleep(0.01)
    expired = close_api.post("/data/search/", json={"query": query, "cursor": first["cursor"]})
    assert expired.status_code == 400 and "expired" in expired.json()["error"]
    for bad in (
        {"query": {"type": "fuzzy"}},
        {"query": query, "_limit": 1000},
        {
            "query": {
                "type": "field_condition",
                "field": {"type": "custom_field", "custom_field_id": "cf_nope"},
                "condition": {"type": "exists"},
            }
        },
        {"query": query, "page": 2},
    ):
        r = close_api.post("/data/search/", json=bad)
        assert r.status_code == 400 and set(r.json()) == {"error"}, bad


def test_index_lag_hides_new_records_from_lists_and_search(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    close_sandbox.set_faults(close_org.org_id, index_lag_ms=60_000)
    made = close_api.post("/opportunity/", json={"custom.cf_DemoOppExternalId": "LAG-1"}).json()
    assert close_api.get(f"/opportunity/{made['id']}/").status_code == 200  # a read by id is immediate
    listed = close_api.get("/opportunity/", params={"_limit": 250}).json()
    assert made["id"] not in {o["id"] for o in listed["data"]} and listed["total_results"] == 24
    assert search(close_api, by_custom("opportunity", EXT["opportunity"], ["LAG-1"]))["data"] == []
    close_sandbox.set_faults(close_org.org_id, index_lag_ms=0)
    assert [
        d["id"] for d in search(close_api, by_custom("opportunity", EXT["opportunity"], ["LAG-1"]))["data"]
    ] == [made["id"]]


# --- exports ------------------------------------------------------------------------------------------------
def run_export(api: httpx.Client, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], httpx.Response]:
    started = api.post(path, json=body)
    assert started.status_code == 200, started.text
    doc = started.json()
    assert doc["status"] == "created" and doc["download_url"] is None and doc["id"].startswith("expo_")
    statuses = []
    for _ in range(100):
        doc = api.get(f"/export/{doc['id']}/").json()
        statuses.append(doc["status"])
        if doc["status"] == "done":
            break
        time.sleep(0.02)
    assert doc["status"] == "done" and doc["n_docs"] == doc["n_docs_processed"]
    raw = httpx.get(doc["download_url"])  # a signed link: no API key
    return doc, raw


def test_opportunity_export_is_gzip_csv(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    close_sandbox.set_options(close_org.org_id, export_delay_ms=100)
    doc, r = run_export(
        close_api,
        "/export/opportunity/",
        {
            "format": "csv",
            "params": {"status_type": "won"},
            "date_format": "iso8601",
            "send_done_email": False,
        },
    )
    assert doc["type"] == "opps" and doc["params"] == {"status_type": "won"}
    assert r.headers["content-encoding"] == "gzip" and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"confidence,contact_id,")  # httpx undid the gzip
    rows = list(csv.DictReader(io.StringIO(r.text)))
    won = [o for o in close_sandbox.records(close_org.org_id, "opportunity") if o["status_type"] == "won"]
    assert sorted(x["id"] for x in rows) == sorted(o["id"] for o in won) and doc["n_docs"] == len(won)
    by_id = {o["id"]: o for o in won}
    for row in rows:
        assert row["value"] == (
            "" if by_id[row["id"]]["value"] is None else str(by_id[row["id"]]["value"])
        )  # cents
        assert row["status_type"] == "won" and "T" in row["date_created"] and "." not in row["date_created"]
        assert row["custom.External ID"] == by_id[row["id"]]["custom.cf_DemoOppExternalId"]
    with httpx.stream("GET", doc["download_url"]) as wire:
        raw = b"".join(wire.iter_raw())  # the bytes as sent: gzip
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw).decode() == r.text


def test_lead_export_json_and_link_checks(
    close_sandbox: CloseSandboxServer, close_org: Org, close_api: httpx.Client
) -> None:
    close_sandbox.set_options(close_org.org_id, export_delay_ms=0)
    doc, r = run_export(close_api, "/export/lead/", {"format": "json", "type": "leads"})
    leads = json.loads(r.text)
    assert len(leads) == 12 and r.headers["content-type"].startswith("application/json")
    assert (
        sum(len(lead["opportunities"]) for lead in leads) == 24
        and sum(len(lead["contacts"]) for lead in leads) == 20
    )
    only = {
        "type": "field_condition",
        "field": {"type": "custom_field", "custom_field_id": EXT["lead"]},
        "condition": {"type": "term", "values": ["CL-L-0001", "CL-L-0002"]},
    }
    doc2, r2 = run_export(close_api, "/export/lead/", {"format": "csv", "type": "contacts", "s_query": only})
    rows = list(csv.DictReader(io.StringIO(r2.text)))
    assert doc2["type"] == "contacts" and len(rows) == doc2["n_docs"] > 0
    assert {x["lead_id"] for x in rows} <= {
        lead["id"] for lead in leads if lead[f"custom.{EXT['lead']}"] in ("CL-L-0001", "CL-L-0002")
    }
    listed = close_api.get("/export/").json()["data"]
    assert [e["id"] for e in listed] == [doc2["id"], doc["id"]]
    tampered = doc["download_url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403
    old = doc["download_url"].replace("X-Amz-Date=", "X-Amz-Date=1")  # a stamp far in the past
    assert httpx.get(old).status_code == 403
    bad = close_api.post("/export/lead/", json={"format": "xml", "type": "leads", "include_activities": True})
    assert bad.status_code == 400 and set(bad.json()["field-errors"]) == {"format", "include_activities"}
    assert close_api.get("/export/expo_missing/").status_code == 404
