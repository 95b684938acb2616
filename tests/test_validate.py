"""validate.py: cells → typed API values with located issues, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulkio.definitions import ObjectSchema
from bulkio.mapping import map_headers
from bulkio.read import SourceRow
from bulkio.validate import CLEAR, Validator

SEED = Path(__file__).parent.parent / "bulkio" / "sandbox" / "seed_demo.json"


def schema(object_type: str) -> ObjectSchema:
    obj = json.loads(SEED.read_text())["objects"][object_type]
    return ObjectSchema.from_api({"objectType": object_type, "fieldDefinitions": obj["fields"],
                                  "relationshipDefinitions": obj.get("relationships", {})})


@pytest.fixture(scope="module")
def account() -> ObjectSchema:
    return schema("account")


HEADERS = ["Name", "external_id", "Annual Revenue", "Tier", "Industry", "City", "Country", "Owner",
           "Billing Email", "Account Status"]


def check(account: ObjectSchema, cells: list[object], row: int = 2):  # type: ignore[no-untyped-def]
    hm = map_headers(HEADERS, account, file="a.csv")
    return Validator(account, hm, file="a.csv").check(SourceRow(row, cells))


def test_values_are_typed_and_parts_assembled(account: ObjectSchema) -> None:
    c = check(account, ["Acme", "A-1", "$1,200.50", "smb", "Retail; Software", "Berlin", "Germany",
                        "ava@demo.lightfield.test", None, "ignored read-only"])
    assert c.ok and c.issues == []
    assert c.values == {
        "$name": "Acme", "external_id": "A-1", "annualRevenue": 1200.5,
        "tier": "smb", "$industry": ["Retail", "Software"],          # labels: resolved later
        "$primaryAddress": {"city": "Berlin", "country": "DE"},      # a partial address
        "$owner": ["ava@demo.lightfield.test"],                       # a reference: resolved later
    }
    assert "$accountStatus" not in c.values


def test_blank_leaves_unchanged_and_clear_sends_null(account: ObjectSchema) -> None:
    c = check(account, ["Acme", "A-1", "#clear", None, "  ", "#clear", "#clear", "#clear", None, None])
    assert c.values["annualRevenue"] is CLEAR
    assert c.values["$primaryAddress"] is CLEAR           # every given part cleared → whole field
    assert c.values["$owner"] is CLEAR
    assert "tier" not in c.values and "$industry" not in c.values


def test_cell_issues_are_located(account: ObjectSchema) -> None:
    c = check(account, ["Acme", "A-1", "12.345", None, None, None, "Atlantis", None, "not-an-email", None],
              row=7)
    assert not c.ok
    got = [(i.row, i.column, i.header, i.field, i.code, i.value) for i in c.issues]
    assert got == [
        (7, "C", "Annual Revenue", "annualRevenue", "too_many_decimals", "12.345"),
        (7, "G", "Country", "$primaryAddress.country", "invalid_country", "Atlantis"),
        (7, "I", "Billing Email", "billingEmail", "invalid_email", "not-an-email"),
    ]
    assert all(i.file == "a.csv" and i.expected for i in c.issues)
    assert "annualRevenue" not in c.values and "billingEmail" not in c.values


def test_has_one_with_several_references_is_an_error(account: ObjectSchema) -> None:
    c = check(account, ["Acme", "A-1", None, None, None, None, None, "mem_ava; mem_ben", None, None])
    assert [(i.column, i.code) for i in c.issues] == [("H", "invalid_type")]
