"""plan.py: matching rows to records (id column, key, ledger-known), bodies holding only changed
keys, duplicates, required-on-create, and the scan-vs-filter cost choice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file
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
    # Acme has a billing email, so its #clear is sent (an empty one would not be: see below)
    assert ops[2].body == {"fields": {"$primaryAddress": merged, "billingEmail": None}}
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


def test_a_scan_reads_each_page_once(sandbox: Any, empty_org: Any) -> None:
    """The first page that tells how many records there are is the scan's first page: 30 accounts
    take 2 list requests, 10 take 1 (the whole list on one page), with the sandbox counting."""
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
        for n, pages in ((10, 1), (30, 2)):
            for i in range(n - len(list(lf.list_all("account")))):
                lf.create("account", {"fields": {"$name": f"Scan {i}", "external_id": f"S-{n}-{i}"}})
            idx = RecordIndex(lf, "account", "external_id")
            before = lf.stats.requests
            idx.prefetch({f"S-{n}-1", "NOPE"}, set())
            assert idx.scanned and lf.stats.requests - before == pages == idx.requests
            assert len(idx.by_id) == n and len(idx.find_key(f"S-{n}-1")) == 1


def test_clear_of_an_already_empty_field_sends_no_update(sandbox: Any, org: Any, tmp_path: Path) -> None:
    """``#clear`` in a field that is already empty changes nothing: the row is unchanged and no
    request is sent (a needless update costs a write of the rate limit and touches the record).
    The control row clears a field that has a value, so the test also fails if #clear did nothing."""
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        globex = next(lf.list("account", filters={"external_id[equal]": "ACC-0002"}))
        acme = next(lf.list("account", filters={"external_id[equal]": "ACC-0001"}))
        assert (
            globex["fields"]["billingEmail"]["value"] is None
            and globex["fields"]["$twitter"]["value"] is None
        )
        assert acme["fields"]["billingEmail"]["value"]  # has a value to clear
        src = tmp_path / "clear.csv"
        src.write_text(
            "external_id,Name,Billing Email,Twitter\nACC-0002,Globex,#clear,#clear\nACC-0001,Acme Corp,#clear,\n",
            encoding="utf-8",
        )
        writes = sandbox.stats(org.org_id)["writes"]
        report = import_file(src, "account", client=lf, ledger_path=tmp_path / "l.db")
        assert [(r.row, r.outcome, r.changes) for r in report.rows] == [
            (2, "unchanged", {}),
            (3, "updated", {"billingEmail": [acme["fields"]["billingEmail"]["value"], None]}),
        ]
        assert sandbox.stats(org.org_id)["writes"] == writes + 1  # Acme's clear only
        assert lf.retrieve("account", acme["id"])["fields"]["billingEmail"]["value"] is None


def test_an_opportunitys_account_is_not_moved_on_update(client: LightfieldClient, tmp_path: Path) -> None:
    """Opportunity $account is fixed after create (not in the typed update schema; the strict API
    refuses it): a file that names another account updates the row's other fields, leaves the
    account as it is and says so on the cell, instead of failing the whole row."""
    opp = next(client.list("opportunity", filters={"external_id[equal]": "OPP-0002"}))
    before = opp["relationships"]["$account"]["values"]
    other = next(a for a in client.list("account") if [a["id"]] != before)
    src = tmp_path / "opps.csv"
    src.write_text(f"external_id,$name,$account\nOPP-0002,Renamed deal,{other['id']}\n", encoding="utf-8")
    report = import_file(src, "opportunity", client=client, results_path=tmp_path / "r.csv")
    [row] = report.rows
    assert row.outcome == "updated" and row.changes == {
        "$name": [opp["fields"]["$name"]["value"], "Renamed deal"]
    }
    assert [(i.code, i.severity, i.field) for i in row.issues] == [
        ("fixed_after_create", "warning", "$account")
    ]
    after = client.retrieve("opportunity", opp["id"])
    assert after["fields"]["$name"]["value"] == "Renamed deal"
    assert after["relationships"]["$account"]["values"] == before


def test_a_dry_runs_creates_without_bodies_are_the_operations_a_run_that_writes_plans(
    client: LightfieldClient,
) -> None:
    """Past the rows whose changes it lists, a dry run plans without request bodies (bodies=False):
    every row gets the action, key, record id and issues the planner that builds bodies gives it,
    including rows that are not plain creates (existing key, record id, duplicate, missing or
    cleared required values, a warning)."""
    from bulkio.issues import Issue

    schema = client.schema("opportunity")
    existing = next(client.list("opportunity", filters={"external_id[equal]": "OPP-0002"}))
    acc = next(client.list("account", filters={"$name[equal]": "Acme Corp"}))["id"]
    base = {"$name": "Deal", "$stage": schema.fields["$stage"].options[0].id, "$account": [acc]}
    warning = Issue(code="ragged_row", message="extra cells", row=9, severity="warning")

    def chunk() -> list[CheckedRow]:
        out = rows(
            {**base, "external_id": "NEW-1"},  # a plain create
            {**base, "external_id": "OPP-0002"},  # an existing key: update or unchanged
            {**base, "external_id": "NEW-1", "$name": "Deal again"},  # duplicate key, other values
            {**base, "external_id": "NEW-2", "$name": ""},  # a blank required value
            {**base, "external_id": "NEW-3", "$account": []},
            {**base, "external_id": "NEW-4", "$stage": CLEAR},
            {**base},  # no key
            {**base, "external_id": "NEW-5"},  # a warning
            {**base, "external_id": "NEW-6"},  # by record id
            {"external_id": "NEW-7", "$name": "No account"},
            record_ids={10: existing["id"]},
        )
        out[7].issues.append(warning)
        return out

    def plan(bodies: bool) -> list[tuple[Any, ...]]:
        planner = Planner(client, schema, keep_changes=False)
        planner.bodies = bodies
        return [(o.row, o.action, o.key, o.record_id, o.issues) for o in planner.plan(chunk())]

    without, with_bodies = plan(False), plan(True)
    assert without == with_bodies
    assert [(a, [i.code for i in issues]) for _, a, _, _, issues in without] == [
        ("create", []),
        ("update", ["fixed_after_create"]),  # another stage; its account cannot move
        ("skip", ["duplicate_key"]),
        ("skip", ["required_field_missing"]),
        ("skip", ["required_field_missing"]),
        ("skip", ["required_field_missing"]),
        ("create", []),
        ("create", ["ragged_row"]),
        ("update", ["fixed_after_create"]),
        ("skip", ["required_field_missing", "required_field_missing"]),
    ]


def test_a_row_that_repeats_an_earlier_one_is_skipped_and_a_conflicting_one_fails(
    client: LightfieldClient,
) -> None:
    """A people list read for its companies repeats each company's row: a later row whose values are
    all the first row's (blank cells say nothing) is skipped with a duplicate_row warning; one that
    adds or changes a value, or clears one, is still a duplicate_key error; across chunks too."""
    schema = client.schema("account")
    acme = {"external_id": "CO-1", "$name": "Acme Iberia", "$website": ["https://acme.example"]}
    planner = Planner(client, schema)
    first = planner.plan(
        rows(
            acme,
            dict(acme),  # the same company, the next person
            {"external_id": "CO-1", "$name": "Acme Iberia"},  # its website blank on this row
            {**acme, "$name": "Acme Iberia S.L."},  # another name: which one?
        )
    )
    later = planner.plan(
        rows(
            {**acme, "phone": ["+34612345678"]},  # a value the first row does not have
            {"external_id": "CO-1", "$name": "Acme Iberia", "$website": CLEAR},  # clears one
            dict(acme),  # the same again, in a later chunk
        )
    )
    got = [(o.action, [i.code for i in o.issues]) for o in first + later]
    assert got == [
        ("create", []),
        ("skip", ["duplicate_row"]),
        ("skip", ["duplicate_row"]),
        ("skip", ["duplicate_key"]),
        ("skip", ["duplicate_key"]),
        ("skip", ["duplicate_key"]),
        ("skip", ["duplicate_row"]),
    ]
    repeat = first[1].issues[0]
    assert repeat.severity == "warning" and "repeats row 2" in repeat.message
    assert "with other values" in first[3].issues[0].message
    assert all(i.severity == "error" for o in (first[3], *later[:2]) for i in o.issues)


def test_a_people_list_imported_as_accounts_creates_each_company_once(
    client: LightfieldClient, tmp_path: Path
) -> None:
    """The whole flow: 4 people at 2 companies imported as accounts (keyed by the company domain)
    creates 2 accounts, skips the 2 repeats without a request, and a second import writes nothing."""
    path = tmp_path / "people.csv"
    path.write_text(
        "Person,Company,Company Website,External ID\n"
        "Ana Lima,Vaalbank B.V.,https://vaalbank.example,vaalbank.example\n"
        "Jan Smit,Vaalbank B.V.,https://vaalbank.example,vaalbank.example\n"
        "Eva Berg,Norrsken AB,https://norrsken.example,norrsken.example\n"
        "Ola Berg,Norrsken AB,,norrsken.example\n",
        encoding="utf-8",
    )
    mapping = {"Person": "ignore", "Company": "$name", "Company Website": "$website"}
    runs = [
        import_file(path, "account", client=client, mapping=mapping, ledger_path=tmp_path / "l.db")
        for _ in range(2)
    ]
    assert runs[0].counts.created == 2 and runs[0].counts.skipped == 2 and runs[0].ok
    assert runs[1].counts.unchanged == 2 and runs[1].counts.skipped == 2 and runs[1].counts.created == 0
    assert sorted(r.row for r in runs[0].rows if r.outcome == "skipped") == [3, 5]


def test_a_people_list_without_keys_matched_by_name_creates_each_company_once(
    client: LightfieldClient, tmp_path: Path
) -> None:
    """No key column, --match name: a later row naming the company an earlier row creates is that
    company again (skipped as duplicate_row; with another value, a duplicate_match error), never a
    second record; importing the file again finds the companies by name (unchanged), and is not
    refused as a re-import of keyless rows."""
    path = tmp_path / "people.csv"
    path.write_text(
        "Person,Company,Company Website\n"
        "Ana Lima,Vaalbank B.V.,https://vaalbank.example\n"
        "Jan Smit,VAALBANK BV,\n"  # the same company, written otherwise, no website on this row
        "Eva Berg,Norrsken AB,https://norrsken.example\n"
        "Ola Berg,Norrsken AB,https://norrsken-other.example\n",  # another website: which one?
        encoding="utf-8",
    )
    mapping = {"Person": "ignore", "Company": "$name", "Company Website": "$website"}

    def run() -> Any:
        return import_file(
            path, "account", client=client, mapping=mapping, match="name", ledger_path=tmp_path / "l.db"
        )

    def outcomes(report: Any) -> dict[int, tuple[str, list[str]]]:
        return {r.row: (r.outcome, [i.code for i in r.issues]) for r in report.rows}

    first = run()
    assert first.counts.created == 2 and first.counts.skipped == 1 and first.counts.failed == 1
    got = outcomes(first)
    assert got[3] == ("skipped", ["duplicate_row"]) and got[5] == ("failed", ["duplicate_match"])
    second = run()
    assert second.counts.created == 0 and second.counts.unchanged == 2, outcomes(second)
    assert outcomes(second)[3] == ("skipped", ["duplicate_row"])
    names = [r["fields"]["$name"]["value"] for r in client.list_all("account")]
    assert names.count("Vaalbank B.V.") == 1 and names.count("Norrsken AB") == 1


def test_match_by_name_finds_records_through_filters_that_compare_case(
    client: LightfieldClient, tmp_path: Path, monkeypatch: Any
) -> None:
    """In a big org --match looks records up with list filters instead of a scan; the strict
    sandbox compares them with case (API-FACTS leaves it open), so the first word is sent as the
    file writes it: "Acme Corp" finds Acme Corp (a casefolded "acme" found nothing, and the row
    created a duplicate), and as names are usually written ("ACME CORP" through "Acme"). People are
    looked up by their full name as written."""
    import bulkio.plan as P

    monkeypatch.setattr(P, "scan_pages", lambda *a, **k: 10_000)  # a big org: filters are cheaper
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Company,Website\nAcme Corp,https://acme.example\n", encoding="utf-8")
    report = import_file(
        accounts, "account", client=client, mapping={"Company": "$name"}, match="name", dry_run=True
    )
    assert report.counts.created == 0 and report.counts.failed == 0, report.flatten()
    shouted = tmp_path / "shouted.csv"  # as some exports write names: found through "Acme" too
    shouted.write_text("Company\nACME CORP\n", encoding="utf-8")
    report = import_file(
        shouted, "account", client=client, mapping={"Company": "$name"}, match="name", dry_run=True
    )
    assert report.counts.created == 0 and report.counts.failed == 0, report.flatten()
    person = next(iter(client.list_all("contact")))["fields"]["$name"]["value"]
    people = tmp_path / "people.csv"
    people.write_text(f"First Name,Last Name\n{person['firstName']},{person['lastName']}\n", encoding="utf-8")
    found = import_file(people, "contact", client=client, match="name", dry_run=True)
    assert found.counts.created == 0 and found.counts.failed == 0, found.flatten()
