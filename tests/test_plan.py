"""plan.py: matching rows to records (id column, key, ledger-known), bodies holding only changed
keys, duplicates, required-on-create, and the scan-vs-filter cost choice."""

from __future__ import annotations

from typing import Any

from bulkio.client import LightfieldClient
from bulkio.plan import Planner, RecordIndex
from bulkio.validate import CLEAR, CheckedRow


def rows(*values: dict[str, Any], record_ids: dict[int, str] | None = None) -> list[CheckedRow]:
    out = [CheckedRow(row=i + 2, values=dict(v)) for i, v in enumerate(values)]
    for r in out:
        r.record_id = (record_ids or {}).get(r.row)
    return out


def test_plan_actions_and_bodies(client: LightfieldClient) -> None:
    schema = client.schema("account")
    existing = next(client.list("account", filters={"$name[equal]": "Acme Corp"}))
    key = existing["fields"]["external_id"]["value"]
    addr = existing["fields"]["$primaryAddress"]["value"]
    planner = Planner(client, schema)
    ops = planner.plan(
        rows(
            {"external_id": key, "$name": "Acme Corp"},  # unchanged
            {"external_id": key, "$name": "Acme Renamed"},  # duplicate key
            {"$name": "Acme Corp", "$primaryAddress": {"city": "Oslo"}, "billingEmail": CLEAR},
            {"external_id": "NEW-1", "$name": "New Co", "$owner": ["mem_ava"], "tier": "opt_tier_smb"},
            {"external_id": "NEW-2", "tier": "opt_tier_smb"},  # no $name
            {"$name": "By Id", "$owner": ["mem_ben"]},
            record_ids={4: existing["id"], 7: "acc_doesnotexist"},
        )
    )
    assert [o.action for o in ops] == ["unchanged", "skip", "update", "create", "skip", "skip"]
    assert ops[0].record_id == existing["id"] and ops[0].body is None
    assert [i.code for i in ops[1].issues] == ["duplicate_key"]
    merged = {**addr, "city": "Oslo"}
    assert ops[2].body == {"fields": {"$primaryAddress": merged}} or ops[2].body == {
        "fields": {"$primaryAddress": merged, "billingEmail": None}
    }
    assert ops[3].body == {
        "fields": {"external_id": "NEW-1", "$name": "New Co", "tier": "opt_tier_smb"},
        "relationships": {"$owner": "mem_ava"},
    }
    assert ops[3].changes["$name"] == (None, "New Co")
    assert [i.code for i in ops[4].issues] == ["required_field_missing"]
    assert [i.code for i in ops[5].issues] == ["record_not_found"]


def test_relationship_updates_use_replace(client: LightfieldClient) -> None:
    schema = client.schema("opportunity")
    opp = next(client.list("opportunity", filters={"external_id[equal]": "OPP-0002"}))
    owner = opp["relationships"]["$owner"]["values"]
    other = "mem_cleo" if owner != ["mem_cleo"] else "mem_ava"
    ops = Planner(client, schema).plan(
        rows({"external_id": "OPP-0002", "$owner": [other]}, {"external_id": "OPP-0003", "$champion": CLEAR})
    )
    assert ops[0].action == "update" and ops[0].body == {
        "fields": {},
        "relationships": {"$owner": {"replace": [other]}},
    }
    assert ops[1].action == "update"
    assert ops[1].body["relationships"] == {"$champion": {"replace": None}}


def test_known_records_are_matched_when_the_list_lags(client: LightfieldClient) -> None:
    rec = client.create("account", {"fields": {"$name": "Fresh", "external_id": "FRESH-1"}})
    planner = Planner(client, client.schema("account"), known={"FRESH-1": rec["id"]})
    planner.index.scanned = True  # as if the scan ran before the record was indexed
    [op] = planner.plan(rows({"external_id": "FRESH-1", "$name": "Fresh"}))
    assert op.action == "unchanged" and op.record_id == rec["id"]


def test_index_chooses_filters_for_few_keys_in_a_large_org(client: LightfieldClient) -> None:
    idx = RecordIndex(client, "opportunity", "external_id", keep={"$name"})
    idx.total = 100_000
    idx.prefetch({"OPP-0001", "OPP-0002", "NOPE"}, set())
    assert not idx.scanned and idx.requests == 3
    assert len(idx.find_key("OPP-0001")) == 1 and idx.find_key("NOPE") == []
    idx.total = 50  # two pages: a scan is cheaper than more filters
    idx.prefetch({"OPP-0003"}, set())
    assert idx.scanned and len(idx.find_key("OPP-0003")) == 1
