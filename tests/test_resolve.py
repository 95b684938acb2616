"""resolve.py: select labels → option ids and references → record ids, on a real sandbox org,
with the cheaper of scan vs filter queries."""

from __future__ import annotations

from typing import Any

import pytest

from bulkio.client import LightfieldClient
from bulkio.resolve import Directory, Resolver
from bulkio.validate import CLEAR, CellRef, CheckedRow


def row(values: dict[str, Any], n: int = 2) -> CheckedRow:
    r = CheckedRow(row=n, values=dict(values))
    for i, k in enumerate(values):
        r.sources[k] = CellRef(chr(65 + i), k, values[k])
    return r


def test_selects_and_references(client: LightfieldClient) -> None:
    schema = client.schema("opportunity")
    acme = next(client.list("opportunity", filters={"external_id[equal]": "OPP-0001"}))
    acme_account = acme["relationships"]["$account"]["values"][0]
    contact = next(client.list("contact", filters={"external_id[equal]": "CON-0002"}))
    rows = [
        row(
            {
                "$stage": "closed   won",
                "$account": ["ACME CORP"],
                "$owner": ["Ben Seller"],
                "$champion": [contact["fields"]["$email"]["value"][0]],
            }
        ),
        row(
            {
                "$stage": "Closed Wonn",
                "$account": ["Nope Inc"],
                "$owner": ["mem_cleo"],
                "$champion": ["Bruno Hughes"],
            },
            3,
        ),
        row({"products": ["nonexistent"], "$account": [acme_account]}, 4),
    ]
    Resolver(client, schema, file="o.csv").resolve(rows)
    assert rows[0].ok and rows[0].values == {
        "$stage": "opt_stage_closed_won",
        "$account": [acme_account],
        "$owner": ["mem_ben"],
        "$champion": [contact["id"]],
    }
    assert [(i.column, i.code) for i in rows[1].issues] == [
        ("A", "unknown_option"),
        ("B", "relationship_entity_missing"),
    ]
    assert "Did you mean 'Closed Won'" in rows[1].issues[0].message
    assert rows[1].values == {"$owner": ["mem_cleo"], "$champion": [contact["id"]]}
    assert rows[2].values == {"$account": [acme_account]}
    assert [i.code for i in rows[2].issues] == ["unknown_option"]
    # no close match: the message (what the results sheet shows) lists the options
    assert rows[2].issues[0].message == (
        "'nonexistent' is not an option of Products. Options: "
        "Core Platform, Analytics, Integrations, Support Plus."
    )


@pytest.mark.usefixtures("no_list_lag")
def test_ambiguous_reference_lists_candidates(client: LightfieldClient) -> None:
    dup = client.create("account", {"fields": {"$name": "Globex"}})
    r = row({"$account": ["globex"]})
    Resolver(client, client.schema("opportunity")).resolve([r])
    [issue] = r.issues
    assert issue.code == "ambiguous_reference" and dup["id"] in issue.message


def test_directory_filters_when_cheaper(client: LightfieldClient) -> None:
    d = Directory(client, "account")
    d.total = 10_000  # pretend a large org: 400 pages to scan
    acme = next(client.list("account", filters={"$name[equal]": "Acme Corp"}))
    d.prefetch({"Acme Corp", acme["id"]})
    assert not d.scanned and d.requests <= 5
    assert d.lookup("Acme Corp") == [acme["id"]] and d.lookup(acme["id"]) == [acme["id"]]
    # a name the exact filter misses (case, spaces: the strict API filters are case-sensitive) is
    # found by one scan, which then answers every later reference too
    other = Directory(client, "account")
    other.total = 10_000
    other.prefetch({"ACME  corp", "Nobody Ltd"})
    assert other.scanned
    assert other.lookup("ACME  corp") == [acme["id"]] and other.lookup("Nobody Ltd") == []
    small = Directory(client, "account")
    small.prefetch({"Acme Corp"})
    assert small.scanned and small.lookup("acme corp") == [acme["id"]]


def test_a_chunk_resolves_as_its_rows_one_by_one(client: LightfieldClient) -> None:
    """Resolver.resolve works a column at a time and remembers label lists within a chunk: every
    row ends with the values and issues (in order) it gets resolved alone, and no two rows share
    a list. Repeated and unknown label lists, a label repeated in a list, a cleared value, a
    one-option field given a list, references that fail, rows with nothing to resolve."""
    schema = client.schema("opportunity")
    stage = schema.fields["$stage"].options[0].label
    products = [o.label for o in schema.fields["products"].options]
    shapes: list[dict[str, Any]] = [
        {"products": [products[0], products[1]], "$stage": stage, "$account": ["Acme Corp"]},
        {"products": [products[0], "Nope"], "$stage": "Nope", "$owner": ["Ben Seller"]},
        {"products": [products[1], products[1].upper()], "$stage": [stage], "$account": ["Nope Inc"]},
        {"products": [products[0], products[1]], "$owner": ["nobody@example.com"], "source": "Nope"},
        {"external_id": "X-1"},
        {"products": [], "$stage": CLEAR, "$account": CLEAR},
    ]

    def chunk() -> list[CheckedRow]:
        return [row(shapes[i % len(shapes)], n=i + 2) for i in range(3 * len(shapes))]

    together = chunk()
    Resolver(client, schema).resolve(together)
    alone = chunk()
    for r in alone:
        Resolver(client, schema).resolve([r])
    for a, b in zip(together, alone, strict=True):
        assert a.values == b.values
        assert [(i.code, i.column, i.field, i.message) for i in a.issues] == [
            (i.code, i.column, i.field, i.message) for i in b.issues
        ]
    lists = [v for r in together for v in r.values.values() if isinstance(v, list)]
    assert len({id(v) for v in lists}) == len(lists)
    assert together[0].values["products"] == [o.id for o in schema.fields["products"].options[:2]]
    assert [i.code for i in together[1].issues] == ["unknown_option", "unknown_option"]


def test_an_account_named_otherwise_is_found_by_its_names_core_only_when_one_has_it(
    sandbox: Any, org: Any, client: LightfieldClient
) -> None:
    """No account is named "Globex GmbH", but one is named Globex: the reference links to it with a
    warning naming it (what --match name would match). Where two accounts share the core
    (Initech, Initech Inc), nothing is guessed: the reference is missing, as before."""
    sandbox.set_faults(org.org_id, index_lag_ms=0)
    client.create("account", {"fields": {"$name": "Initech Inc"}})
    d = Directory(client, "account")
    d.scan()
    assert d.lookup("Globex GmbH") == [] and d.loose("Globex GmbH") == d.by_name["globex"][0]
    assert d.lookup("INITECH, LLC") == [] and d.loose("INITECH, LLC") is None  # two share the core
    assert d.loose("Nothing Like It Ltd") is None
    row = CheckedRow(row=2, values={"$account": ["Globex GmbH"]})
    Resolver(client, client.schema("contact")).resolve([row])
    assert row.values["$account"] == d.by_name["globex"] and [i.code for i in row.issues] == [
        "reference_by_company_name"
    ]
    assert row.issues[0].severity == "warning" and "'Globex'" in row.issues[0].message
