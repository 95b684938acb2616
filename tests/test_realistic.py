"""Other CRMs' exports and hand-kept sheets shaped like the real ones (tests/data/realistic/, see its
README), imported the way a new user would: companies first, then contacts and deals, then the same
files again, which must write nothing. Each test asserts the values the sandbox stored."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

import bulkio.sandbox
from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.mapfile import MappingFileError
from bulkio.pipeline import import_file

REAL = Path(__file__).parent / "data" / "realistic"


def records(sandbox: Any, org: Any, object_type: str) -> list[dict[str, Any]]:
    """The sandbox's records of ``object_type``: field values, ``rel:<key>`` ids and ``id``."""
    out = []
    for rec in sandbox.records(org.org_id, object_type):
        row = {
            k: v["value"] if isinstance(v, dict) and "valueType" in v else v for k, v in rec["fields"].items()
        }
        for key, rel in rec["relationships"].items():
            row[f"rel:{key}"] = rel["values"]
        row["id"] = rec["id"]
        out.append(row)
    return out


def stored(sandbox: Any, org: Any, object_type: str) -> dict[str, dict[str, Any]]:
    """:func:`records` by external_id."""
    return {str(r.get("external_id")): r for r in records(sandbox, org, object_type)}


def euro_org(sandbox: Any) -> Any:
    """The demo org as a German company has it: amounts in EUR."""
    seed = json.loads((Path(bulkio.sandbox.__file__).parent / "seed_demo.json").read_text(encoding="utf-8"))
    for obj, key in (("opportunity", "amount"), ("account", "annualRevenue")):
        seed["objects"][obj]["fields"][key]["typeConfiguration"]["currency"] = "EUR"
    return sandbox.create_org(seed=seed, records=False)


def failures(report: Any) -> dict[int, list[str]]:
    return {
        r.row: sorted(i.code for i in r.issues if i.severity == "error")
        for r in report.rows
        if r.outcome in ("failed", "would fail")
    }


def left_out(report: Any) -> list[Any]:
    """The warnings of rows the reader left out on purpose (skip_rows, a repeated header, a group's
    title): each such row is a skipped row of the report, never a file issue."""
    assert not [
        i for i in report.file_issues if i.code in ("skipped_row", "repeated_header", "section_title")
    ]
    return [
        i
        for r in report.rows
        if r.outcome in ("skipped", "would skip")
        for i in r.issues
        if i.code in ("skipped_row", "repeated_header", "section_title")
    ]


def repeats(report: Any) -> dict[int, int]:
    """Rows skipped as repeating an earlier row (duplicate_row) → the row they repeat."""
    out = {}
    for r in report.rows:
        for i in r.issues:
            if i.code == "duplicate_row":
                assert r.outcome in ("skipped", "would skip") and i.severity == "warning", r
                out[r.row] = int(i.message.split("repeats row ")[1].split()[0])
    return out


class Importer:
    """One user's session: one org, one ledger, results sheets out of the way."""

    def __init__(self, lf: LightfieldClient, tmp: Path) -> None:
        self.lf, self.tmp, self.n = lf, tmp, 0

    def __call__(self, path: Path, object_type: str, **kw: Any) -> Any:
        self.n += 1
        return import_file(
            path,
            object_type,
            client=self.lf,
            results_path=self.tmp / f"r{self.n}.csv",
            ledger_path=self.tmp / "ledger.sqlite3",
            **kw,
        )


def test_pipedrive_status_decides_won_and_lost_and_eu_formats_read(sandbox: Any, tmp_path: Path) -> None:
    pd = REAL / "pipedrive"
    empty_org = euro_org(sandbox)  # the deals are in EUR (Deal - Currency)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        orgs = run(pd / "organizations-2024-09-02.csv", "account")
        assert orgs.ok, orgs.flatten()  # Deutschland / Nederland were refused as countries
        people = run(pd / "people-2024-09-02.csv", "contact")
        # the one national number without a country code asks for the region, nothing else fails
        assert failures(people) == {3: ["phone_needs_region"]}
        deals = run(pd / "deals-2024-09-02.csv", "opportunity")
        # 1.234,50 amounts and 31.03.2024 dates read; only the deal of an organization not exported fails
        assert failures(deals) == {7: ["relationship_entity_missing"]}
        # its value is grouped whole, apostrophes and all
        assert [(g["value"], g["count"]) for g in deals.unresolved] == [("O'Brien's Bakery", 1)]
        again = [
            run(pd / "organizations-2024-09-02.csv", "account"),
            run(pd / "people-2024-09-02.csv", "contact"),
            run(pd / "deals-2024-09-02.csv", "opportunity"),
        ]
    assert [(r.counts.created, r.counts.updated) for r in again] == [(0, 0)] * 3

    accounts = stored(sandbox, empty_org, "account")
    assert accounts["812"]["$primaryAddress"]["country"] == "DE"
    assert accounts["814"]["$primaryAddress"]["country"] == "NL"
    # the house number where each country writes it: after the name in Germany and the Netherlands,
    # before it in France
    streets = {k: accounts[k]["$primaryAddress"]["street"] for k in ("812", "813", "814")}
    assert streets == {"812": "Lindenstraße 4", "813": "8 Rue du Bac", "814": "Keizersgracht 100"}
    contacts = stored(sandbox, empty_org, "contact")
    klaus = contacts["3301"]
    assert klaus["$email"] == ["klaus@holzmann-schreinerei.de", "k.holzmann@gmx.de"]
    assert klaus["phone"] == ["+497112345678", "+491719876543"]
    assert klaus["rel:$account"] == [accounts["812"]["id"]]
    opps = stored(sandbox, empty_org, "opportunity")
    stage = {k: v["$stage"] for k, v in opps.items()}
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        labels = {o.id: o.label for o in lf.schema("opportunity").fields["$stage"].options}
    assert {k: labels.get(v, v) for k, v in stage.items()} == {
        "1201": "Proposal",  # open: its stage (Proposal Made)
        "1202": "Closed Won",  # won while in Negotiations Started
        "1203": "Closed Lost",  # lost while in Demo Scheduled
        "1204": "Lead",
        "1205": "Qualified",
    }
    assert opps["1201"]["amount"] == 12500 and opps["1204"]["amount"] == 9950.5
    assert opps["1201"]["closeDate"].startswith("2024-11-30")
    assert opps["1203"]["rel:$account"] == [accounts["814"]["id"]]


def test_salesforce_data_loader_then_report_update_the_same_records(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    sf = REAL / "salesforce"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        tiers = {o.id: o.label for o in lf.schema("account").fields["tier"].options}
        accounts = run(sf / "Account.csv", "account")
        assert failures(accounts) == {5: ["unknown_option"]}  # Industry 'Hospitality': not an option here
        # "Export All" includes deleted records: IsDeleted true is not imported, and says so
        assert [(i.code, i.row) for i in left_out(accounts) if i.code == "skipped_row"] == [
            ("skipped_row", 7)
        ]
        assert accounts.counts.created == 4
        # Data Loader: no account names, only AccountId, which finds the accounts imported just now
        extract = run(sf / "extract-opportunity.csv", "opportunity")
        assert failures(extract) == {5: ["relationship_entity_missing"]}  # Café Lumière's account failed
        assert extract.counts.created == 5
        # the report: 15-character ids are the same records (18 characters in Data Loader); its totals
        # and footer rows are not records
        report = run(sf / "report1725280512345.csv", "opportunity")
        skipped = [i for i in report.file_issues if i.code == "summary_row"]
        assert [i.row for i in skipped] == [11, 13, 14]
        assert report.counts.created == 0 and report.counts.updated == 4
        # the two deals only the report has name accounts this org does not have
        assert failures(report) == {
            5: ["relationship_entity_missing"],
            7: ["relationship_entity_missing"],
            8: ["relationship_entity_missing"],
        }
        again = run(sf / "report1725280512345.csv", "opportunity")
        assert again.counts.created == 0 and again.counts.updated == 0
    opps = stored(sandbox, empty_org, "opportunity")
    accs = stored(sandbox, empty_org, "account")
    assert sorted(opps) == [f"0065g00000Ab1c{c}AAR" for c in "DEFH"] + ["0065g00000Ab1cKAAR"]
    assert opps["0065g00000Ab1cDAAR"]["rel:$account"] == [accs["0015g00000Zx9yWAAR"]["id"]]
    assert opps["0065g00000Ab1cKAAR"]["rel:$account"] == [accs["0015g00000Zx9z0AAB"]["id"]]
    # the report set the owner the Data Loader file could not (OwnerId is a Salesforce user id)
    assert opps["0065g00000Ab1cEAAR"]["rel:$owner"] == ["mem_ben"]
    assert opps["0065g00000Ab1cHAAR"]["amount"] == 145000
    assert "0015g00000Zx9z1AAB" not in accs  # Quillon Learning (old), deleted in Salesforce
    # a custom field (Tier__c) named like one of the org's fields is read into it
    assert tiers[accs["0015g00000Zx9yWAAR"]["tier"]] == "Enterprise"


def test_hubspot_contacts_keep_every_email_and_phone(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    hs = REAL / "hubspot"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        companies = run(hs / "hubspot-crm-exports-all-companies-2024-09-02.csv", "account")
        # an industry the org does not have; the UK number written the national way is read in the
        # row's Country/Region (the file mixes countries: no one --phone-region fits)
        assert failures(companies) == {8: ["unknown_option"]}
        contacts = run(hs / "hubspot-crm-exports-all-contacts-2024-09-02.csv", "contact")
        assert failures(contacts) == {
            6: ["phone_needs_region"],  # a UK number again, and contacts have no country column
            10: ["invalid_email"],  # noah.kim@tidewatermedia
        }
        deals = run(hs / "hubspot-crm-exports-all-deals-2024-09-02.xlsx", "opportunity")
        # the EUR and GBP deals (Currency column) are refused by this USD org, not stored as dollars
        assert failures(deals) == {
            2: ["invalid_number"],
            4: ["invalid_number"],
            5: ["invalid_number"],
            6: ["invalid_number"],
            9: ["unknown_option"],  # 'Renewal Due', a stage of another pipeline
            10: ["relationship_entity_missing"] * 2,  # owner 'Dan Departed' left; Acme Corp not exported
        }
        euro = next(i for r in deals.rows if r.row == 2 for i in r.issues if i.code == "invalid_number")
        assert "not in USD" in euro.message and "EUR" in str(euro.value)
        again = run(hs / "hubspot-crm-exports-all-contacts-2024-09-02.csv", "contact")
        assert again.counts.created == 0 and again.counts.updated == 0
        # its results sheet (HubSpot's "Record ID" first, bulkio's "Record ID" among the columns it
        # adds) imports as the export did: HubSpot's keeps its mapping, bulkio's are its own columns
        results = tmp_path / f"r{run.n}.csv"
        assert next(csv.reader(results.open(encoding="utf-8-sig"))).count("Record ID") == 2
        from_results = run(results, "contact")
        assert from_results.counts.created == 0 and from_results.counts.updated == 0
        assert not [i for i in from_results.file_issues if i.code in ("duplicate_header", "unknown_column")]
    companies_stored = stored(sandbox, empty_org, "account")
    assert companies_stored["18320741455"]["phone"] == ["+442079460321"]
    people = stored(sandbox, empty_org, "contact")
    assert people["51234003"]["$email"] == [
        "priya@harborfinch.com",
        "priya.raman@outlook.com",
        "p.raman@harborfinch.com",
    ]
    assert people["51234001"]["phone"] == ["+498920174411", "+491712233445"]
    assert people["51234007"]["leadSource"] is not None  # "Original Traffic Source", the 2024 name
    opps = stored(sandbox, empty_org, "opportunity")
    assert opps["20845611024"]["amount"] == 12500.5 and opps["20845611024"]["probability"] == 40
    assert "20845611023" not in opps


def test_close_contacts_keep_every_email_and_phone(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    close = REAL / "close"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        leads = run(close / "Acme Sales leads 2024-09-02 11-00.csv", "account")
        # custom.Industry and custom.Lead Owner are read as Industry and Owner: a value this org does
        # not have fails its row (Financial Services; the departed Dan), as any other column's would
        assert failures(leads) == {3: ["unknown_option"], 5: ["relationship_entity_missing"]}
        first = run(close / "Acme Sales contacts 2024-09-02 11-00.csv", "contact")
        assert failures(first) == {3: ["relationship_entity_missing"]}  # Priya: her lead failed
        again = run(close / "Acme Sales contacts 2024-09-02 11-00.csv", "contact")
        assert again.counts.unchanged == 3 and again.counts.created == 0
    brightline = stored(sandbox, empty_org, "account")["lead_4s9Yq2kXH0bq7cP1dVx3mNnA5oVwX2rT8JpLzE6fGh1"]
    address = brightline["$primaryAddress"]
    assert (address["street2"], address["postalCode"], address["country"]) == ("Halle 3", "80331", "DE")
    assert brightline["rel:$owner"] == ["mem_ava"]
    assert len(brightline["$industry"]) == 1  # Manufacturing
    people = {v["$name"]["lastName"]: v for v in stored(sandbox, empty_org, "contact").values()}
    assert people["Vogt"]["$email"] == ["jonas.vogt@brightline-robotics.com", "j.vogt@gmail.com"]
    assert people["Vogt"]["phone"] == ["+498920174411", "+491712233445"]
    assert people["O'Neil"]["phone"] == ["+17575550178", "+17575550100"]
    assert people["Kim"]["$email"] is None or people["Kim"]["$email"] == []


GERMAN_STAGES = """\
columns:
  Phase:
    field: $stage
    values: {Angebot: Proposal, Verhandlung: Negotiation, Gewonnen: Closed Won,
             Qualifiziert: Qualified, Verloren: Closed Lost}
  Betrag: ignore   # written in EUR; this org's amounts are USD
"""


def test_hand_kept_german_sheets(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    hm = REAL / "handmade"
    (tmp_path / "chancen.yaml").write_text(GERMAN_STAGES, encoding="utf-8")
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        # title rows above the header, a merged title, a "Summe" row under the table
        kunden = run(hm / "Kundenliste_2024.xlsx", "account")  # national numbers: read in the row's Land
        assert [i.row for i in kunden.file_issues if i.code == "summary_row"] == [11]
        # Umsatz in EUR (not this org's USD) and Branche values it does not have fail those rows only
        assert set(failures(kunden)) == {5, 6, 7, 8, 9}
        assert {c for codes in failures(kunden).values() for c in codes} == {
            "invalid_number",
            "unknown_option",
        }
        mapping = tmp_path / "kunden.yaml"
        mapping.write_text("columns:\n  Umsatz: ignore\n  Branche: ignore\n", encoding="utf-8")
        kunden = run(hm / "Kundenliste_2024.xlsx", "account", mapping=mapping)
        assert kunden.ok and kunden.counts.created == 5, kunden.flatten()
        chancen = run(hm / "Verkaufschancen.csv", "opportunity", mapping=tmp_path / "chancen.yaml")
        assert chancen.ok and chancen.counts.created == 5, chancen.flatten()
        again = run(hm / "Verkaufschancen.csv", "opportunity", mapping=tmp_path / "chancen.yaml")
        assert again.counts.unchanged == 5
    accs = stored(sandbox, empty_org, "account")
    holz = accs["K-1001"]  # Kd.-Nr. is the key
    assert holz["$name"] == "Schreinerei Holzmann GmbH"
    assert holz["phone"] == "+497112345678" or holz["phone"] == ["+497112345678"]
    assert holz["employeeCount"] == 14
    addr = holz["$primaryAddress"]
    assert (addr["street"], addr["postalCode"], addr["city"], addr["country"]) == (
        "Lindenstraße 4",
        "70173",
        "Stuttgart",
        "DE",
    )
    assert accs["K-1003"]["$primaryAddress"]["country"] == "CH"  # Schweiz
    assert accs["K-1002"]["rel:$owner"] == ["mem_ben"]  # Betreuer, by email
    opps = stored(sandbox, empty_org, "opportunity")
    alpen = opps["VC-2024-003"]  # Nr. is the key
    assert alpen["$name"] == "Buchungsportal Alpenblick"
    assert alpen["probability"] == 100
    assert alpen["closeDate"].startswith("2024-07-01")  # 01.07.2024: the day comes first
    assert alpen["nextStep"] == 'Rechnung "Teil 1" gestellt'
    assert alpen["rel:$account"] == [accs["K-1003"]["id"]]
    assert opps["VC-2024-001"]["closeDate"].startswith("2024-11-30")


def test_french_contacts_by_cli(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    src = tmp_path / "contacts_fr.csv"
    shutil.copy(REAL / "handmade" / "contacts_fr.csv", src)
    env = {
        "LIGHTFIELD_API_KEY": empty_org.api_key,
        "LIGHTFIELD_BASE_URL": sandbox.url,
        "BULKIO_STATE_DIR": str(tmp_path / "state"),
    }
    args = ["import", "contact", str(src)]  # national numbers in the row's Pays; 28/02/2024: day first
    result = CliRunner().invoke(cli, [*args, "--dry-run"], env=env)
    # Nom, Prénom, Société, Fonction, E-mail, Téléphone, Date du dernier contact: all read
    for word in ("Nom", "Prénom", "Société", "Fonction", "Téléphone", "Date du dernier contact"):
        assert f'column "{word}" does not match' not in result.output, result.output
    assert "would create  0" in result.output  # the companies are not imported yet
    assert (
        "dates are read day first (DMY): column \"Date du dernier contact\" has '28/02/2024'" in result.output
    )
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        lf.create("account", {"fields": {"$name": "Boulangerie Martin"}})
        lf.create("account", {"fields": {"$name": "Alpenblick Hotel AG"}})
    sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    people = {v["$name"]["lastName"]: v for v in records(sandbox, empty_org, "contact")}
    assert len(people) == 3, result.output
    sophie = people["Martin"]
    assert sophie["$name"]["firstName"] == "Sophie" and sophie["jobTitle"] == "Gérante"
    # Téléphone and Portable both read as phone, a field that takes several numbers: both are kept
    assert sophie["phone"] == ["+33145481234", "+33612345678"]
    assert 'column "Portable" also reads as phone: its values are added' in result.output
    assert sophie["lastContactedAt"].startswith("2024-03-12")
    assert people["Lefèvre"]["$email"] == ["c.lefevre@alpenblick.ch"]


def test_value_map_onto_a_missing_member_stops_before_the_run(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    mapping = tmp_path / "deals.yaml"
    mapping.write_text(
        "columns:\n  Deal - Owner:\n    field: $owner\n    values:\n      Ava Admin: ava@demo.lightfield.test\n"
        "      Ben Seller: ben@old-crm.example\n",
        encoding="utf-8",
    )
    with (
        LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf,
        pytest.raises(MappingFileError) as exc,
    ):
        import_file(
            REAL / "pipedrive" / "deals-2024-09-02.csv",
            "opportunity",
            client=lf,
            mapping=mapping,
            dry_run=True,
            results_path=tmp_path / "r.csv",
        )
    message = str(exc.value)
    assert "line 6" in message and "'ben@old-crm.example'" in message and "no member matches" in message
    assert "ben@demo.lightfield.test" in message  # the nearest member
    assert sandbox.count(empty_org.org_id, "opportunity") == 0


@pytest.mark.parametrize(
    ("short", "long"),
    [  # the published test vectors (codegolf.stackexchange.com/questions/69127), and ids left alone
        ("a0RE000000IJmcN", "a0RE000000IJmcNMAT"),
        ("001M000000qfPyS", "001M000000qfPySIAU"),
        ("0F9E000000092w2", "0F9E000000092w2KAA"),
        ("AbCdEfGhIjKlMnO", "AbCdEfGhIjKlMnOVKV"),
        ("aBcDEfgHIJKLMNO", "aBcDEfgHIJKLMNO025"),
        ("0015g00000Zx9yWAAR", "0015g00000Zx9yWAAR"),  # already 18
        ("K-1001", "K-1001"),  # not a Salesforce id
    ],
)
def test_salesforce_id_transform(short: str, long: str) -> None:
    from bulkio.mapfile import Step
    from bulkio.transforms import compile_step

    assert compile_step(Step.model_validate("salesforce_id"))(short) == long


def test_a_draft_keeps_what_the_profile_does(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """`bulkio map` writes the profile out to edit: currency columns, fallbacks, blank-when-unlisted
    and skipped rows survive the round trip (else an edited profile would import EUR as USD)."""
    from bulkio.draft import draft_mapping, write_draft
    from bulkio.mapfile import load_mapping

    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        deals = draft_mapping(
            REAL / "pipedrive" / "deals-2024-09-02.csv", "opportunity", client=lf, profile="auto"
        )
        accounts = draft_mapping(REAL / "salesforce" / "Account.csv", "account", client=lf, profile="auto")
        french = draft_mapping(REAL / "handmade" / "contacts_fr.csv", "contact", client=lf, profile="auto")
    # two phone columns: both in the draft, and both read when it is used
    spec = load_mapping(write_draft(french, tmp_path / "fr.yaml"))
    assert (spec.columns["Téléphone"].target, spec.columns["Portable"].target) == ("phone", "phone")
    spec = load_mapping(write_draft(deals, tmp_path / "deals.yaml"))
    assert spec.columns["Deal - Value"].currency_from == ["Deal - Currency", "Deal - Currency of value"]
    assert spec.columns["Deal - Stage"].fallback and spec.columns["Deal - Status"].unmapped == "blank"
    assert spec.columns["Deal - Status"].values["Won"] == "Closed Won"
    spec = load_mapping(write_draft(accounts, tmp_path / "accounts.yaml"))
    assert spec.columns["IsDeleted"].skip_rows == ["true", "1"] and spec.columns["IsDeleted"].target is None


def test_a_folder_of_exports_is_planned_by_names_and_headers(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """`bulkio import pipeline FOLDER/` on a vendor's exports as downloaded: their file names
    (deals-2024-09-02, hubspot-crm-exports-all-companies-…, Acme Sales leads …) or, failing that,
    their headers say which object each holds."""
    from bulkio.workbook import plan_sheets

    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        for vendor, expected in (
            ("pipedrive", ["account", "contact", "opportunity"]),
            ("close", ["account", "contact", "opportunity"]),
            ("hubspot", ["account", "contact"]),  # the deals are an .xlsx, not in a folder's CSV files
        ):
            folder = tmp_path / vendor
            shutil.copytree(REAL / vendor, folder)
            plans, skipped = plan_sheets(lf, folder)
            assert [p.object_type for p in plans] == expected, (vendor, skipped)
        # Close names its leads export "leads": its headers say it holds accounts
        leads = next(p for p in plan_sheets(lf, tmp_path / "close")[0] if p.object_type == "account")
        assert "leads" in leads.title


def test_a_folder_of_pipedrive_exports_in_one_run(sandbox: Any, tmp_path: Path) -> None:
    """The three Pipedrive exports as downloaded, imported as one folder into a EUR org: people and
    deals find the organizations of the same run; a second run writes nothing."""
    from bulkio.workbook import import_workbook

    org = euro_org(sandbox)
    folder = tmp_path / "pipedrive"
    shutil.copytree(REAL / "pipedrive", folder)
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:

        def run(n: int) -> Any:
            return import_workbook(
                folder, client=lf, results_path=tmp_path / f"r{n}.xlsx", ledger_path=tmp_path / "l.sqlite3"
            )

        first = run(1)
        assert [s.object_type for s in first.sheets] == ["account", "contact", "opportunity"]
        # Sophie's national number (no country column in the people export); O'Brien's Bakery
        assert [(s.object_type, r.row) for s in first.sheets for r in s.rows if r.outcome == "failed"] == [
            ("contact", 3),
            ("opportunity", 7),
        ]
        assert first.counts.created == 4 + 4 + 5
        again = run(2)
        assert again.counts.created == 0 and again.counts.updated == 0
    opps = stored(sandbox, org, "opportunity")
    accounts = stored(sandbox, org, "account")
    assert opps["1202"]["amount"] == 4800 and opps["1202"]["rel:$account"] == [accounts["813"]["id"]]


def test_a_formatted_salesforce_report_with_its_title_block(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """An XLSX report export keeps its title, "As of", "Filtered By:" lines above the header (more
    lines than the report has rows) and its total and footer below: only the two records are read."""
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        lf.create("account", {"fields": {"$name": "Acme Corp"}})
        sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
        report = Importer(lf, tmp_path)(
            REAL / "salesforce" / "Opportunity Pipeline-2024-09-02-11-00-00.xlsx", "opportunity"
        )
    assert report.ok and report.counts.created == 2, report.flatten()
    codes = [(i.code, i.row) for i in report.file_issues if i.code in ("header_not_first", "summary_row")]
    assert codes == [("header_not_first", 6), ("summary_row", 9), ("summary_row", 11)]
    opps = stored(sandbox, empty_org, "opportunity")
    assert opps["0065g00000Ab1cJAAR"]["amount"] == 22000
    assert opps["0065g00000Ab1cJAAR"]["closeDate"].startswith("2025-03-31")


# --- shapes of real exports found in public repositories (tests/data/realistic/README.md, "Real shapes") ---


def currency_org(sandbox: Any, currency: str) -> Any:
    """The demo org with its amounts in ``currency`` (a British or German company's)."""
    seed = json.loads((Path(bulkio.sandbox.__file__).parent / "seed_demo.json").read_text(encoding="utf-8"))
    for obj, key in (("opportunity", "amount"), ("account", "annualRevenue")):
        seed["objects"][obj]["fields"][key]["typeConfiguration"]["currency"] = currency
    return sandbox.create_org(seed=seed, records=False)


def stage_labels(lf: LightfieldClient, opps: dict[str, dict[str, Any]]) -> dict[str, str]:
    labels = {o.id: o.label for o in lf.schema("opportunity").fields["$stage"].options}
    return {k: labels.get(v["$stage"], v["$stage"]) for k, v in opps.items()}


def test_pipedrive_exports_with_plain_headers(sandbox: Any, tmp_path: Path) -> None:
    """Pipedrive's data export now writes plain headers (ID, Name, Email - Work, Currency of Value)
    without the "Deal - " prefixes: the three files are recognised, keyed by ID, and linked by
    Organization ID where the organization's name is blank."""
    pd = REAL / "pipedrive" / "2026-plain"
    org = currency_org(sandbox, "GBP")
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        orgs = run(pd / "organizations-18538704-15.csv", "account")
        assert orgs.ok and orgs.counts.created == 3, orgs.flatten()
        people = run(pd / "people-18538704-16.csv", "contact")
        assert people.ok and people.counts.created == 3, people.flatten()
        deals = run(pd / "deals-18538704-14.csv", "opportunity")
        # the EUR deal is refused by this GBP org (Currency of Value), not stored as pounds
        assert failures(deals) == {5: ["invalid_number"]}
        again = [
            run(pd / "organizations-18538704-15.csv", "account"),
            run(pd / "people-18538704-16.csv", "contact"),
            run(pd / "deals-18538704-14.csv", "opportunity"),
        ]
        assert [(r.counts.created, r.counts.updated) for r in again] == [(0, 0)] * 3
        opps = stored(sandbox, org, "opportunity")
        stages = stage_labels(lf, opps)
    accounts = stored(sandbox, org, "account")
    northwind = accounts["5101"]
    address = northwind["$primaryAddress"]
    assert (address["postalCode"], address["city"], address["country"]) == ("LS1 4AB", "Leeds", "GB")
    assert address["street"] == "14 Mill Lane"  # a British address: the number first (was Mill Lane 14)
    assert northwind["rel:$owner"] == ["mem_ava"]
    contacts = stored(sandbox, org, "contact")
    assert contacts["7201"]["phone"] == ["+441134960000", "+447911123456"]  # Work, then Mobile
    assert contacts["7202"]["$email"] == ["omar@kestrel-facades.example", "omar.haddad@mail.example"]
    assert contacts["7201"]["jobTitle"] == "Operations Director"
    # Priti's Organization is blank: Organization ID finds the account imported from ID 5103
    assert contacts["7203"]["rel:$account"] == [accounts["5103"]["id"]]
    assert opps["9303"]["rel:$account"] == [accounts["5103"]["id"]]
    assert stages == {"9301": "Proposal", "9302": "Closed Won", "9303": "Closed Lost"}
    assert opps["9301"]["amount"] == 48500 and opps["9302"]["amount"] == 7250.5
    assert opps["9301"]["probability"] == 50
    assert opps["9301"]["closeDate"].startswith("2026-09-30")


def test_a_folder_of_plain_pipedrive_exports(sandbox: Any, tmp_path: Path) -> None:
    """The same files as one folder: their names (organizations-18538704-15…) or headers say what
    each holds, and people and deals find the organizations of the same run."""
    from bulkio.workbook import import_workbook

    org = currency_org(sandbox, "GBP")
    folder = tmp_path / "pipedrive"
    shutil.copytree(REAL / "pipedrive" / "2026-plain", folder)
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        first = import_workbook(
            folder, client=lf, results_path=tmp_path / "r1.xlsx", ledger_path=tmp_path / "l.sqlite3"
        )
    assert [s.object_type for s in first.sheets] == ["account", "contact", "opportunity"]
    assert [(s.object_type, r.row) for s in first.sheets for r in s.rows if r.outcome == "failed"] == [
        ("opportunity", 5)  # the EUR deal
    ]
    assert first.counts.created == 3 + 3 + 3


def test_pipedrive_address_parts_as_real_exports_name_them(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """Real organization exports name the address parts "Organization - ZIP/Postal code of Address"
    (not "Organization - Address - ZIP/…", the import reference's spelling): they are read, and the
    national phone number is read in the row's country."""
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        orgs = Importer(lf, tmp_path)(
            REAL / "pipedrive" / "2025-prefixed" / "organizations-2025-07-09.csv", "account"
        )
    assert orgs.ok and orgs.counts.created == 2, orgs.flatten()
    accounts = stored(sandbox, empty_org, "account")
    halden = accounts["412"]
    address = halden["$primaryAddress"]
    assert (address["postalCode"], address["city"], address["country"]) == ("LS10 1AB", "Leeds", "GB")
    assert (
        address["street"] == "Unit 3 Aire Park"
        and accounts["415"]["$primaryAddress"]["street"] == "22 Clyde Street"
    )
    assert halden["phone"] == ["+441134960718"] or halden["phone"] == "+441134960718"  # 0113 …, in GB
    assert accounts["415"]["$primaryAddress"]["postalCode"] == "G1 5JX"


def test_hubspot_default_views_and_a_custom_view(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Exports of HubSpot's default index views: companies without a domain column, contacts whose
    company is only given by its Record ID (Primary Associated Company ID); then a deals view of
    chosen columns (Record ID, Deal Name, a custom property, Amount) that updates amounts."""
    hs = REAL / "hubspot" / "default-views"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        companies = run(hs / "hubspot-crm-exports-all-companies-2025-11-28.csv", "account")
        assert companies.ok and companies.counts.created == 3, companies.flatten()
        contacts = run(hs / "hubspot-crm-exports-all-contacts-2025-11-28.csv", "contact")
        assert contacts.ok and contacts.counts.created == 3, contacts.flatten()
        accounts = stored(sandbox, empty_org, "account")
        for ext, name in (("189164774900", "60311 - 12 Example Road, Springfield"), ("187670992331", "x")):
            lf.create(
                "opportunity",
                {
                    "fields": {"$name": name, "external_id": ext, "$stage": "Qualified", "amount": 1},
                    "relationships": {"$account": accounts["200000000001"]["id"]},
                },
            )
        sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
        deals = run(hs / "hubspot-crm-exports-all-deals-2025-11-28.csv", "opportunity")
        # the view has no stage and no company: the deal HubSpot has and this org does not cannot be created
        assert failures(deals) == {4: ["required_field_missing", "required_field_missing"]}
        assert deals.counts.updated == 2
        again = [
            run(hs / "hubspot-crm-exports-all-companies-2025-11-28.csv", "account"),
            run(hs / "hubspot-crm-exports-all-contacts-2025-11-28.csv", "contact"),
        ]
        assert [(r.counts.created, r.counts.updated) for r in again] == [(0, 0)] * 2
        industries = {o.id: o.label for o in lf.schema("account").fields["$industry"].options}
    accounts = stored(sandbox, empty_org, "account")
    # the profile's industry map: Computer Software, Logistics and Supply Chain
    assert [industries[i] for i in accounts["200000000001"]["$industry"]] == ["Software"]
    assert [industries[i] for i in accounts["200000000002"]["$industry"]] == ["Logistics"]
    assert accounts["200000000002"]["phone"] in (["+442079460958"], "+442079460958")  # 020 …, in the UK
    assert accounts["200000000003"]["rel:$owner"] == ["mem_ben"]  # owner given as an email
    people = stored(sandbox, empty_org, "contact")
    assert people["51000000101"]["rel:$account"] == [accounts["200000000001"]["id"]]
    # Associated Company blank: the Primary Associated Company ID is the company's Record ID
    assert people["51000000102"]["rel:$account"] == [accounts["200000000002"]["id"]]
    assert people["51000000103"]["rel:$account"] == [accounts["200000000003"]["id"]]
    opps = stored(sandbox, empty_org, "opportunity")
    assert opps["189164774900"]["amount"] == 45362.12 and opps["187670992331"]["amount"] == 11015
    assert opps["187670992331"]["$name"] == "60412 - Riverside Community Centre"


def test_close_leads_export_of_2026(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A Close leads export as written in 2026: the postal code in ``address_1_zip`` and a user
    custom field as two columns, ``custom.Lead Owner.id`` (Close's user id) and
    ``custom.Lead Owner.name``: the name is the owner."""
    path = REAL / "close" / "2026" / "FB(X) leads 2026-04-14 11-00.csv"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        leads = run(path, "account")
        assert leads.ok and leads.counts.created == 2, leads.flatten()
        assert run(path, "account").counts.unchanged == 2
    accounts = {v["$name"]: v for v in stored(sandbox, empty_org, "account").values()}
    granary = accounts["Granary Lane Bakery Ltd"]
    assert granary["$primaryAddress"]["postalCode"] == "NR2 4AB"
    assert granary["rel:$owner"] == ["mem_ava"] and granary["isCustomer"] is True
    marlow = accounts["Marlow & Finch Joinery"]
    assert marlow["$primaryAddress"]["postalCode"] == "M4 7AJ" and marlow["rel:$owner"] == ["mem_ben"]


def test_hubspot_contacts_resaved_by_excel(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A HubSpot contacts export opened and saved again in Excel: quotes gone, dates as 4/8/2025 17:19,
    and the leading 0 of national phone numbers dropped. Without a region the numbers are refused with
    a hint; --phone-region ID reads them."""
    path = REAL / "hubspot" / "resaved-in-excel" / "hubspot-crm-exports-all-customers-2025-04-08.csv"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        plain = run(path, "contact", dry_run=True)
        assert failures(plain) == {
            2: ["phone_needs_region"],
            3: ["phone_needs_region"],
            4: ["phone_needs_region"],
        }
        hint = next(i for r in plain.rows for i in r.issues if i.code == "phone_needs_region")
        assert "--phone-region" in hint.message
        read = run(path, "contact", phone_region="ID")
        assert read.ok and read.counts.created == 3, read.flatten()
    people = stored(sandbox, empty_org, "contact")
    assert people["105284053743"]["phone"] in (["+6282112345678"], "+6282112345678")
    assert people["88267121358"]["$name"]["lastName"] == "Halligan (Sample Contact)"


@pytest.mark.parametrize(
    ("path", "vendor", "obj"),
    [
        ("pipedrive/2026-plain/organizations-18538704-15.csv", "pipedrive", "account"),
        ("pipedrive/2026-plain/people-18538704-16.csv", "pipedrive", "contact"),
        ("pipedrive/2026-plain/deals-18538704-14.csv", "pipedrive", "opportunity"),
        ("pipedrive/2025-prefixed/organizations-2025-07-09.csv", "pipedrive", "account"),
        ("hubspot/default-views/hubspot-crm-exports-all-companies-2025-11-28.csv", "hubspot", "account"),
        ("hubspot/default-views/hubspot-crm-exports-all-contacts-2025-11-28.csv", "hubspot", "contact"),
        ("hubspot/default-views/hubspot-crm-exports-all-deals-2025-11-28.csv", "hubspot", "opportunity"),
        ("hubspot/resaved-in-excel/hubspot-crm-exports-all-customers-2025-04-08.csv", "hubspot", "contact"),
        ("close/2026/FB(X) leads 2026-04-14 11-00.csv", "close", "account"),
        ("pipedrive/de/deals-10118183-295.csv", "pipedrive", "opportunity"),
        ("hubspot/es/todos-empresas.csv", "hubspot", "account"),
        ("hubspot/es/todos-contactos.csv", "hubspot", "contact"),
        ("hubspot/all-properties/hubspot-crm-exports-all-contacts-2023-02-21.csv", "hubspot", "contact"),
        ("salesforce/2026/salesforce_all_accounts.csv", "salesforce", "account"),
        ("salesforce/2026/FS GTM pipeline-2026-06-01-09-30-00.csv", "salesforce", "opportunity"),
    ],
)
def test_real_shapes_read_as_one_export(path: str, vendor: str, obj: str) -> None:
    """Each real shape is recognised as its vendor's export of one object, and of no other."""
    from bulkio.profiles import detect_any

    with (REAL / path).open(encoding="utf-8-sig", newline="") as fh:
        headers = next(csv.reader(fh))
    assert [(v, o) for v, o, _label in detect_any(headers)] == [(vendor, obj)]


def test_hubspot_export_of_a_spanish_portal(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """HubSpot writes property labels in the exporting user's language: "ID de registro", "Nombre de
    la empresa", "Correo", "Número de teléfono" (the association columns stay English, and a full export
    repeats some headers). The profile reads them: Record IDs are the keys, and a contact's
    "Associated Company IDs (Primary)" (several ids ;-joined) finds the companies."""
    es = REAL / "hubspot" / "es"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        companies = run(es / "todos-empresas.csv", "account")
        assert companies.ok and companies.counts.created == 2, companies.flatten()
        contacts = run(es / "todos-contactos.csv", "contact")
        assert contacts.ok and contacts.counts.created == 3, contacts.flatten()
        again = [run(es / "todos-empresas.csv", "account"), run(es / "todos-contactos.csv", "contact")]
        assert [(r.counts.created, r.counts.updated) for r in again] == [(0, 0)] * 2
        industries = {o.id: o.label for o in lf.schema("account").fields["$industry"].options}
    accounts = stored(sandbox, empty_org, "account")
    pampa = accounts["7700000001"]
    assert pampa["$name"] == "Pampa Datos S.A."
    # the domain, then the additional domains (Dominios adicionales)
    assert pampa["$website"] == ["https://pampadatos.example", "https://pampa-datos.example"]
    assert (pampa["$primaryAddress"]["city"], pampa["$primaryAddress"]["country"]) == ("Buenos Aires", "AR")
    assert [industries[i] for i in pampa["$industry"]] == ["Software"]
    people = stored(sandbox, empty_org, "contact")
    lucia = people["98200000101"]
    assert (lucia["$name"]["firstName"], lucia["$name"]["lastName"]) == ("Lucía", "Ferreyra")
    assert lucia["$email"] == ["lucia.ferreyra@pampadatos.example"]
    assert lucia["phone"] == ["+541143215678"] and lucia["jobTitle"] == "Gerente de Operaciones"
    assert lucia["lastContactedAt"].startswith("2025-10-02")
    assert lucia["rel:$account"] == [pampa["id"]]
    assert sorted(people["98200000102"]["rel:$account"]) == sorted(
        [accounts["7700000002"]["id"], pampa["id"]]
    )
    assert "martin-quiroga-example" in people["98200000102"]["linkedin"]  # URL de LinkedIn, the fallback


def test_hubspot_contacts_export_of_all_properties(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A contacts export of every property (182 columns, a portal's own custom property among them):
    Work email beside Email, Last Contacted beside Last Activity Date, Unsubscribed from all email.
    Every address is kept (the primary first), Last Contacted is the last contact, the unsubscribed
    contact is not to be contacted."""
    path = REAL / "hubspot" / "all-properties" / "hubspot-crm-exports-all-contacts-2023-02-21.csv"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        lf.create("account", {"fields": {"$name": "Fjordbyrån AB", "external_id": "9001"}})
        sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
        run = Importer(lf, tmp_path)
        contacts = run(path, "contact")
        assert contacts.ok and contacts.counts.created == 2, contacts.flatten()
        assert run(path, "contact").counts.unchanged == 2
    people = stored(sandbox, empty_org, "contact")
    elin, johan = people["301"], people["302"]
    assert elin["$email"] == ["elin.sandberg@fjordbyran.example", "elin@fjordbyran.example"]
    assert johan["$email"] == ["johan@fjordbyran.example"]  # Email, with Work email blank
    assert elin["lastContactedAt"].startswith("2023-02-18")  # Last Contacted, not Last Activity Date
    assert elin["phone"] == ["+46812345678", "+46701234567"]
    assert johan["phone"] == ["+46876543210"]  # 08-765 432 10, read in the row's Country/Region
    assert (elin["doNotContact"], johan["doNotContact"]) == (False, True)


def test_a_column_named_like_a_derived_field_joins_it(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A mapping that builds a field from several columns (derived: join) is how the file fills that
    field: a column the mapping does not name but whose header reads as the field (E-Mail) no longer
    replaces it; its values are added (or, for a field of one value, it is left out), with a warning."""
    sheet = tmp_path / "kontakte.csv"
    sheet.write_text(
        "Kunden-Nr,Vorname,Nachname,Mail 1,Mail 2,E-Mail\n"
        "K-1,Jana,Berg,jana@berg-bau.example,j.berg@mail.example,jana.berg@post.example\n"
        "K-2,Timo,Roth,timo@roth-it.example,,\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "kontakte.yaml"
    mapping.write_text(
        "columns:\n  Kunden-Nr: external_id\nderived:\n  - field: $email\n    join: [Mail 1, Mail 2]\n"
        '    sep: ";"\n',
        encoding="utf-8",
    )
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        report = Importer(lf, tmp_path)(sheet, "contact", mapping=mapping)
    assert report.ok and report.counts.created == 2, report.flatten()
    assert [i.header for i in report.file_issues if i.code == "joined_column"] == ["E-Mail"]
    people = stored(sandbox, empty_org, "contact")
    assert people["K-1"]["$email"] == [
        "jana@berg-bau.example",
        "j.berg@mail.example",
        "jana.berg@post.example",
    ]
    assert people["K-2"]["$email"] == ["timo@roth-it.example"]


def test_pipedrive_list_view_exports_in_xlsx(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Pipedrive list-view exports as Excel files whose rows name the organization only by its id
    (Person - Organization ID, Deal - Organization ID): people and deals find the accounts imported
    from the organizations export, whose LinkedIn profile and address parts are read."""
    pd = REAL / "pipedrive" / "2026-xlsx"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        orgs = run(pd / "organizations-2026-09-01.xlsx", "account")
        assert orgs.ok and orgs.counts.created == 2, orgs.flatten()
        people = run(pd / "people-2026-09-01.xlsx", "contact")
        assert people.ok and people.counts.created == 2, people.flatten()
        deals = run(pd / "deals-2026-09-01.xlsx", "opportunity")
        # Deal - Source channel reads as Source, whose options do not have Pipedrive's 'Website'
        assert failures(deals) == {3: ["unknown_option"]}
        assert deals.counts.created == 1
        again = run(pd / "deals-2026-09-01.xlsx", "opportunity")
        assert again.counts.created == 0 and again.counts.updated == 0
        opps = stored(sandbox, empty_org, "opportunity")
        stages = stage_labels(lf, opps)
    accounts = stored(sandbox, empty_org, "account")
    ridgeline = accounts["2101"]
    assert ridgeline["$linkedIn"] and "ridgeline-freight-example" in str(ridgeline["$linkedIn"])
    assert (ridgeline["$primaryAddress"]["city"], ridgeline["$primaryAddress"]["postalCode"]) == (
        "Dallas",
        "75201",
    )
    assert ridgeline["annualRevenue"] == 4800000 and ridgeline["employeeCount"] == 85
    contacts = stored(sandbox, empty_org, "contact")
    assert contacts["3301"]["rel:$account"] == [ridgeline["id"]]
    assert contacts["3302"]["rel:$account"] == [accounts["2102"]["id"]]
    assert contacts["3301"]["phone"] == ["+12145550142", "+14695550199"]
    assert opps["4401"]["rel:$account"] == [ridgeline["id"]]
    assert stages == {"4401": "Proposal"} and opps["4401"]["amount"] == 42000
    assert opps["4401"]["closeDate"].startswith("2026-11-30")


def test_postal_codes_whose_leading_zero_excel_dropped(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A German customer export opened and saved by Excel (Windows-1252, ;, CRLF) writes Dresden's
    PLZ 01067 as 1067. In the row's country (here every row is German: the mapping says so, as the
    file has no country column) a PLZ has five digits: the zero is put back; an Austrian 4-digit one
    would be left alone."""
    mapping = tmp_path / "kunden.yaml"
    mapping.write_text("derived:\n  - {field: $primaryAddress.country, constant: DE}\n", encoding="utf-8")
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        kunden = run(REAL / "handmade" / "fortytools_kunden.csv", "account", mapping=mapping)
        assert kunden.ok and kunden.counts.created == 3, kunden.flatten()
        again = run(REAL / "handmade" / "fortytools_kunden.csv", "account", mapping=mapping)
        assert again.counts.unchanged == 3
    accounts = stored(sandbox, empty_org, "account")
    assert accounts["20208"]["$primaryAddress"]["postalCode"] == "01067"  # Dresden
    assert accounts["20209"]["$primaryAddress"]["postalCode"] == "04109"  # Leipzig
    assert accounts["20207"]["$primaryAddress"]["postalCode"] == "81660"  # München, five digits already
    assert accounts["20209"]["$name"] == "Glaserei Böhm & Söhne"


@pytest.mark.parametrize(
    ("postal", "country", "expected"),
    [
        ("1067", "DE", "01067"),
        ("2134", "US", "02134"),
        ("2134-1234", "US", "02134-1234"),  # ZIP+4
        ("100", "IT", "00100"),  # Rome: two zeros
        ("8001", "ES", "08001"),
        ("1067", "AT", "1067"),  # Austria's codes have four digits
        ("10", "DE", "10"),  # not a code that lost zeros
        ("01067", "DE", "01067"),
        ("SW1A 1AA", "GB", "SW1A 1AA"),
        ("1067", None, "1067"),
    ],
)
def test_restore_leading_zeros(postal: str, country: str | None, expected: str) -> None:
    from bulkio.transforms import restore_leading_zeros

    assert restore_leading_zeros(postal, country) == expected


def test_salesforce_reports_of_all_accounts_and_a_multi_currency_pipeline(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """A report of all accounts with no billing city (Account ID, 15 characters, instead) is read as a
    Salesforce accounts export: the ids are the keys. A pipeline report of a multi-currency org writes
    "<field> Currency" before each currency field: the EUR deal is refused by this USD org instead of
    being stored as dollars, whatever maps Total Amount to the amount."""
    sf = REAL / "salesforce" / "2026"
    mapping = tmp_path / "gtm.yaml"
    mapping.write_text("columns:\n  Total Amount: amount\n", encoding="utf-8")
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        accounts = run(sf / "salesforce_all_accounts.csv", "account")
        assert accounts.ok and accounts.counts.created == 3, accounts.flatten()
        assert run(sf / "salesforce_all_accounts.csv", "account").counts.unchanged == 3
        gtm = run(sf / "FS GTM pipeline-2026-06-01-09-30-00.csv", "opportunity", mapping=mapping)
        assert failures(gtm) == {3: ["invalid_number"]}
        euro = next(i for r in gtm.rows if r.row == 3 for i in r.issues if i.code == "invalid_number")
        assert "not in USD" in euro.message and "EUR" in str(euro.value)
        assert not [i for i in gtm.file_issues if i.header == "Total Amount Currency"]  # it is read
    accs = stored(sandbox, empty_org, "account")
    assert sorted(accs) == ["001Wj00000tQWvrIAG", "001Wj00000tiSsBIAU", "001Wj00000uKq2AIAS"]
    assert accs["001Wj00000tiSsBIAU"]["rel:$owner"] == ["mem_ben"]
    opps = {v["$name"]: v for v in stored(sandbox, empty_org, "opportunity").values()}
    assert opps["Meridian Atlas — Process Mining"]["amount"] == 450000
    assert "Harborline Treasury — Renewal" not in opps


def test_pipedrive_deals_export_of_a_german_account(sandbox: Any, tmp_path: Path) -> None:
    """Pipedrive writes field names in the user's language (Deal - Titel, Deal - Wert, Deal - Phase,
    Deal - Besitzer) and plain values (4800.5, 2025-03-14 16:12:00): read as a Pipedrive deals export.
    Gewonnen and Verloren decide the stage; the open deal's Phase is the account's own stage name,
    which this org does not have, and that row alone fails."""
    org = euro_org(sandbox)
    path = REAL / "pipedrive" / "de" / "deals-10118183-295.csv"
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        for name in ("Schreinerei Holzmann GmbH", "Bäckerei Krume", "Alpenblick Hotel AG"):
            lf.create("account", {"fields": {"$name": name}})
        sandbox.set_faults(org.org_id, index_lag_ms=0)
        run = Importer(lf, tmp_path)
        deals = run(path, "opportunity")
        assert failures(deals) == {2: ["unknown_option"]}  # Angebot gemacht
        assert deals.counts.created == 2
        assert run(path, "opportunity").counts.unchanged == 2
        opps = stored(sandbox, org, "opportunity")
        stages = stage_labels(lf, opps)
    assert stages == {"302": "Closed Won", "303": "Closed Lost"}
    krume = opps["302"]
    assert krume["$name"] == "Bäckerei Krume – Kassensystem" and krume["amount"] == 4800.5
    assert krume["rel:$owner"] == ["mem_ben"] and krume["probability"] == 100
    assert opps["303"]["amount"] == 22000


def test_salesforce_data_export_contacts_keep_their_mobile(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """A Data Export / Data Loader Contact.csv (every standard field by API name, custom __c fields):
    Phone and MobilePhone both go to the contact (they were: Phone only), read in the row's
    MailingCountry; AccountId finds the account of Account.csv; the deleted contact is skipped."""
    sf = REAL / "salesforce"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        run(sf / "Account.csv", "account")
        contacts = run(sf / "2026" / "Contact.csv", "contact")
        assert contacts.ok and contacts.counts.created == 2, contacts.flatten()
        assert [i.row for i in left_out(contacts) if i.code == "skipped_row"] == [4]
        assert run(sf / "2026" / "Contact.csv", "contact").counts.unchanged == 2
    accounts = stored(sandbox, empty_org, "account")
    people = stored(sandbox, empty_org, "contact")
    ngozi = people["0035g00000AbCdEAAZ"]
    assert ngozi["phone"] == ["+442079460321", "+447911123456"]  # Phone, then MobilePhone
    assert people["0035g00000AbCdFAAZ"]["phone"] == ["+491712233445"]  # only a mobile
    assert (ngozi["$name"]["firstName"], ngozi["$name"]["lastName"]) == ("Ngozi", "Okafor")
    assert ngozi["rel:$account"] == [accounts["0015g00000Zx9yWAAR"]["id"]]
    assert ngozi["lastContactedAt"].startswith("2024-08-30")


def test_hubspot_companies_resaved_by_excel_keep_their_zip_codes(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """The companies export of the same Excel round trip: ZIP codes of New England and New Jersey lost
    their leading 0 (2134, 7302) and phone numbers their formatting (6175550123). In the row's
    Country/Region they are read back as 02134, 07302 and +1 617 555 0123."""
    path = REAL / "hubspot" / "resaved-in-excel" / "hubspot-crm-exports-all-companies-2025-04-08.csv"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        companies = run(path, "account")
        assert companies.ok and companies.counts.created == 3, companies.flatten()
        assert run(path, "account").counts.unchanged == 3
    accounts = stored(sandbox, empty_org, "account")
    assert accounts["105284060011"]["$primaryAddress"]["postalCode"] == "02134"
    assert accounts["105284060012"]["$primaryAddress"]["postalCode"] == "07302"
    assert accounts["105284060013"]["$primaryAddress"]["postalCode"] == "60601"
    assert accounts["105284060011"]["phone"] in (["+16175550123"], "+16175550123")


# --- round 2: other CRMs, lead lists and hand-kept sheets in more languages (README, "Round 2") ---


def test_zoho_crm_exports(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Zoho CRM's Accounts, Contacts and Deals exports: "Record Id" (zcrm_…) is the key, each lookup
    comes as "<field>.id" and "<field>"; a contact whose Account Name is blank finds its account by
    Account Name.id; Zoho's stages map to the org's; the same files again write nothing."""
    zoho = REAL / "zoho"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        accounts = run(zoho / "Accounts_2026_03_17.csv", "account")
        assert accounts.ok and accounts.counts.created == 3, accounts.flatten()
        contacts = run(zoho / "Contacts_2026_03_17.csv", "contact")
        assert contacts.ok and contacts.counts.created == 3, contacts.flatten()
        deals = run(zoho / "Deals_2026_03_17.csv", "opportunity")
        assert deals.ok and deals.counts.created == 4, deals.flatten()
        again = [
            run(zoho / "Accounts_2026_03_17.csv", "account"),
            run(zoho / "Contacts_2026_03_17.csv", "contact"),
            run(zoho / "Deals_2026_03_17.csv", "opportunity"),
        ]
        assert [(r.counts.created, r.counts.updated) for r in again] == [(0, 0)] * 3
        opps = stored(sandbox, empty_org, "opportunity")
        stages = stage_labels(lf, opps)
        industries = {o.id: o.label for o in lf.schema("account").fields["$industry"].options}
    accs = stored(sandbox, empty_org, "account")
    assert sorted(accs) == [f"572576700000041100{n}" for n in (1, 2, 3)]  # zcrm_ dropped
    ridgeway = accs["5725767000000411001"]
    assert ridgeway["rel:$owner"] == ["mem_ava"] and ridgeway["employeeCount"] == 85
    assert ridgeway["$primaryAddress"]["postalCode"] == "43215"  # Billing Code
    assert [industries[i] for i in accs["5725767000000411002"]["$industry"]] == ["Logistics"]
    assert accs["5725767000000411003"]["$primaryAddress"]["country"] == "DE"
    people = stored(sandbox, empty_org, "contact")
    dana = people["5725767000000412001"]
    assert dana["phone"] == ["+16145550101", "+16145550199"]  # Phone, then Mobile
    assert dana["rel:$account"] == [ridgeway["id"]] and dana["jobTitle"] == "Operations Manager"
    assert people["5725767000000412002"]["doNotContact"] is True  # Email Opt Out
    jonas = people["5725767000000412003"]  # Account Name blank: Account Name.id finds it
    assert jonas["rel:$account"] == [accs["5725767000000411003"]["id"]]
    assert jonas["phone"] == ["+49301234567"]  # 030 1234567, in the row's Mailing Country
    assert stages == {
        "5725767000000413001": "Proposal",  # Proposal/Price Quote
        "5725767000000413002": "Closed Won",
        "5725767000000413003": "Closed Lost",  # Closed Lost to Competition
        "5725767000000413004": "Lead",  # Qualification
    }
    maple = opps["5725767000000413001"]
    assert maple["amount"] == 95570.69 and maple["probability"] == 75 and maple["rel:$owner"] == ["mem_ava"]
    assert maple["closeDate"].startswith("2026-11-15") and maple["rel:$account"] == [ridgeway["id"]]


def test_lookup_name_and_id_columns_without_a_profile(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Without a profile, Zoho's "Created By.id" beside "Created By" (and "Account Name.id" beside
    "Account Name") stopped the whole import as a duplicate column. The name column is read; the id
    column finds the record by its external_id where the name is blank (never for members, whose ids
    in another CRM match no one), each with a warning."""
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        lf.create(
            "account",
            {"fields": {"$name": "Nordlicht Analytics GmbH", "external_id": "zcrm_5725767000000411003"}},
        )
        lf.create("account", {"fields": {"$name": "Ridgeway Paving Co."}})
        sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
        run = Importer(lf, tmp_path)
        deals = run(REAL / "zoho" / "Deals_2026_03_17.csv", "opportunity", profile="none", dry_run=True)
        assert not [i for i in deals.file_issues if i.severity == "error"], deals.flatten()
        id_columns = {i.header: i.message for i in deals.file_issues if i.code == "id_column"}
        assert set(id_columns) == {"Created By.id", "Deal Owner.id", "Account Name.id"}
        assert "another CRM's user ids match no member" in id_columns["Deal Owner.id"]
        assert 'where "Account Name" is blank' in id_columns["Account Name.id"]
        mapping = tmp_path / "contacts.yaml"
        mapping.write_text("columns:\n  Lead Source: ignore\n", encoding="utf-8")  # Zoho's sources
        contacts = run(REAL / "zoho" / "Contacts_2026_03_17.csv", "contact", mapping=mapping)
    # Cedar Lane Logistics is not in this org; Ridgeway is found by its name, Nordlicht by its id
    assert failures(contacts) == {3: ["relationship_entity_missing"]}
    people = {c["$name"]["lastName"]: c for c in records(sandbox, empty_org, "contact")}
    accounts = {a["$name"]: a for a in records(sandbox, empty_org, "account")}
    assert people["Brandt"]["rel:$account"] == [accounts["Nordlicht Analytics GmbH"]["id"]]  # Account Name.id
    assert people["Whitfield"]["rel:$account"] == [accounts["Ridgeway Paving Co."]["id"]]


DYNAMICS = {
    "account": "My Active Accounts 12-4-2026 10-15-08 AM.xlsx",
    "contact": "My Active Contacts 12-4-2026 10-16-40 AM.xlsx",
    "opportunity": "My Open Opportunities 12-4-2026 10-18-02 AM.xlsx",
}


def test_dynamics_365_export_to_excel(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Dynamics 365's Export to Excel: the hidden "(Do Not Modify) <Entity>" GUID is the key, its
    Row Checksum and Modified On are never imported nor warned about, the hidden metadata sheet is not
    read; Status Won/Lost decides the stage, Sales Stage the open ones; national numbers are read in
    the row's "Address 1: Country/Region"; " Full Name" keeps its leading space."""
    dyn = REAL / "dynamics"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        reports = [run(dyn / DYNAMICS[obj], obj) for obj in ("account", "contact", "opportunity")]
        for report in reports:
            assert report.ok and report.counts.created in (3, 4), report.flatten()
            assert not [i for i in report.file_issues if "Do Not Modify" in (i.header or "")]
        again = [run(dyn / DYNAMICS[obj], obj) for obj in ("account", "contact", "opportunity")]
        assert [(r.counts.created, r.counts.updated) for r in again] == [(0, 0)] * 3
        opps = stored(sandbox, empty_org, "opportunity")
        stages = stage_labels(lf, opps)
    accs = stored(sandbox, empty_org, "account")
    harbour = accs["5f2c7a10-3b1e-ef11-9f89-000d3a5c4e21"]
    assert harbour["phone"] in (["+442079460321"], "+442079460321")  # 020 …, in the United Kingdom
    assert (harbour["$primaryAddress"]["postalCode"], harbour["$primaryAddress"]["country"]) == (
        "N1 7GR",
        "GB",
    )
    assert harbour["annualRevenue"] == 3200000 and harbour["rel:$owner"] == ["mem_ava"]
    people = stored(sandbox, empty_org, "contact")
    imogen = people["c41f0e9a-3d1e-ef11-9f89-000d3a5c4e21"]
    assert (imogen["$name"]["firstName"], imogen["$name"]["lastName"]) == ("Imogen", "Hartley")
    assert imogen["phone"] == ["+442079460388", "+447911123456"]  # Business Phone, Mobile Phone
    assert imogen["rel:$account"] == [harbour["id"]]
    assert people["d8a2b6e1-3d1e-ef11-9f89-000d3a5c4e21"]["phone"] == ["+31207946033", "+31612345678"]
    assert stages == {
        "91b04f7e-401e-ef11-9f89-000d3a5c4e21": "Proposal",  # open, Propose
        "a2c35e8f-401e-ef11-9f89-000d3a5c4e21": "Qualified",  # open, Qualify
        "b3d46f90-411e-ef11-9f89-000d3a5c4e21": "Closed Won",  # Won while in Close
        "c4e57a01-421e-ef11-9f89-000d3a5c4e21": "Closed Lost",  # Lost while in Develop
    }
    treasury = opps["91b04f7e-401e-ef11-9f89-000d3a5c4e21"]
    assert treasury["amount"] == 48000 and treasury["probability"] == 60
    assert treasury["closeDate"].startswith("2027-01-29") and treasury["rel:$account"] == [harbour["id"]]


def test_dynamics_hidden_columns_without_a_profile(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Without a profile too, "(Do Not Modify) Account" is the record's id in Dynamics (the key: the
    same export again updates, it does not duplicate) and the other "(Do Not Modify)" columns are
    left out without a word ("(Do Not Modify) Contact" was offered as "Do Not Contact")."""
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        mapping = tmp_path / "industries.yaml"
        mapping.write_text("columns:\n  Industry: ignore\n", encoding="utf-8")
        first = run(REAL / "dynamics" / DYNAMICS["account"], "account", mapping=mapping)
        assert first.ok and first.counts.created == 3, first.flatten()
        assert not [i for i in first.file_issues if i.code == "missing_key_column"]
        assert run(REAL / "dynamics" / DYNAMICS["account"], "account", mapping=mapping).counts.unchanged == 3
        contacts = run(REAL / "dynamics" / DYNAMICS["contact"], "contact", profile="none", dry_run=True)
    noise = [
        i.header
        for i in contacts.file_issues
        if "Do Not Modify" in (i.header or "") or "Do Not Contact" in i.message
    ]
    assert noise == []
    assert "5f2c7a10-3b1e-ef11-9f89-000d3a5c4e21" in stored(sandbox, empty_org, "account")


def test_apollo_people_export(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """An Apollo.io people export, read twice: for its companies (keyed by website domain, with the
    company's own address, never the person's City/State/Country) and for its people (keyed by their
    LinkedIn profile; numbers written '+1 512-555-0143 with Apollo's leading apostrophe)."""
    path = REAL / "apollo" / "apollo-contacts-export.csv"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        companies = run(path, "account")
        # Lonestar's second person repeats its company's row: skipped, not failed
        assert failures(companies) == {} and repeats(companies) == {3: 2}
        assert companies.counts.created == 2 and companies.counts.skipped == 1
        assert not [i for i in companies.file_issues if i.code == "missing_key_column"]
        people = run(path, "contact")
        assert people.ok and people.counts.created == 3, people.flatten()
        assert run(path, "account").counts.unchanged == 2 and run(path, "contact").counts.unchanged == 3
        industries = {o.id: o.label for o in lf.schema("account").fields["$industry"].options}
        funding = {o.id: o.label for o in lf.schema("account").fields["$lastFundingType"].options}
    accs = stored(sandbox, empty_org, "account")
    lonestar = accs["lonestarfreight.example"]
    assert (lonestar["$primaryAddress"]["city"], lonestar["$primaryAddress"]["country"]) == ("Austin", "US")
    assert [industries[i] for i in lonestar["$industry"]] == ["Logistics"]  # logistics & supply chain
    assert lonestar["employeeCount"] == 85 and lonestar["phone"] in (["+15125550100"], "+15125550100")
    assert "lonestar-freightworks-example" in str(lonestar["$linkedIn"])
    norrsken = accs["norrsken-analytics.example"]
    assert funding[norrsken["$lastFundingType"]] == "Series A"
    assert norrsken["$primaryAddress"]["country"] == "SE"
    contacts = stored(sandbox, empty_org, "contact")
    maya = contacts["linkedin.com/in/maya-okonkwo-example"]
    assert maya["phone"] == ["+15125550143", "+17375550198", "+15125550100"]  # direct, mobile, corporate
    assert maya["rel:$account"] == [lonestar["id"]] and maya["jobTitle"] == "VP Operations"
    freya = contacts["linkedin.com/in/freya-lindqvist-example"]  # Email Status: Unavailable
    assert not freya["$email"] and freya["rel:$account"] == [norrsken["id"]]


def test_hand_kept_sheets_in_italian_polish_dutch_and_swedish(sandbox: Any, tmp_path: Path) -> None:
    """Customer lists kept by hand (or saved from accounting software) in Italian and Polish, contact
    lists in Dutch and Swedish: their headers map without a mapping file, amounts in € and zł, dates
    31-12-2024, yes/no words (Sì/No, Tak/Nie, ja/nee), Excel's "sep=;" line above the header."""
    hm = REAL / "handmade"
    euro, zloty = currency_org(sandbox, "EUR"), currency_org(sandbox, "PLN")
    with LightfieldClient(api_key=euro.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        clienti = run(hm / "clienti_it.csv", "account", locale="it-IT")  # 06 4881 2345: Rome, in it-IT
        assert clienti.ok and clienti.counts.created == 3, clienti.flatten()
        assert run(hm / "clienti_it.csv", "account", locale="it-IT").counts.unchanged == 3
        for name in ("Vaalbank Logistiek B.V.", "Dijkstra Installatietechniek", "Norrsken Analytics AB"):
            lf.create("account", {"fields": {"$name": name}})
        sandbox.set_faults(euro.org_id, index_lag_ms=0)
        relaties = run(hm / "relaties_nl.csv", "contact", phone_region="NL")
        assert relaties.ok and relaties.counts.created == 3, relaties.flatten()
        kontakter = run(hm / "kontakter_sv.csv", "contact", phone_region="SE")
        assert kontakter.ok and kontakter.counts.created == 2, kontakter.flatten()
    with LightfieldClient(api_key=zloty.api_key, base_url=sandbox.url) as lf:
        kontrahenci = Importer(lf, tmp_path / "pl" if (tmp_path / "pl").mkdir() is None else tmp_path)(
            hm / "kontrahenci_pl.csv", "account"
        )
        assert kontrahenci.ok and kontrahenci.counts.created == 2, kontrahenci.flatten()
    accs = stored(sandbox, euro, "account")
    moretti = accs["C-0012"]  # Codice cliente is the key
    assert moretti["$name"] == "Tipografia Moretti S.r.l." and moretti["annualRevenue"] == 1250000
    assert moretti["phone"] in (["+390648812345"], "+390648812345") and moretti["isCustomer"] is True
    assert (moretti["$primaryAddress"]["postalCode"], moretti["$primaryAddress"]["city"]) == ("00184", "Roma")
    assert accs["C-0013"]["rel:$owner"] == ["mem_ben"] and accs["C-0014"]["isCustomer"] is False
    people = {v["$name"]["lastName"]: v for v in records(sandbox, euro, "contact")}
    sanne = people["Bakker"]
    assert sanne["external_id"] == "K-2041" and sanne["$email"] == ["s.bakker@vaalbank.example"]
    assert sanne["phone"] == ["+31207946034", "+31623456789"]  # Telefoon, then Mobiel
    assert sanne["lastContactedAt"].startswith("2024-12-31") and sanne["jobTitle"] == "Inkoper"
    assert people["Visser"]["lastContactedAt"].startswith("2025-01-02")  # 02-01-2025: day first
    freya = people["Lindqvist"]
    assert freya["phone"] == ["+46812345600", "+46701234567"] and freya["jobTitle"] == "VD"
    assert freya["$email"] == ["freya@norrsken-analytics.example"]
    assert freya["lastContactedAt"].startswith("2024-12-31")
    pl = {v["$name"]: v for v in records(sandbox, zloty, "account")}
    nowak = pl["Drukarnia Nowak Sp. z o.o."]
    assert nowak["annualRevenue"] == 12345678.9 and nowak["isCustomer"] is True  # 12 345 678,90 zł; Tak
    assert (nowak["$primaryAddress"]["postalCode"], nowak["$primaryAddress"]["country"]) == ("00-590", "PL")
    assert nowak["phone"] in (["+48226281234"], "+48226281234") and nowak["rel:$owner"] == ["mem_ava"]
    assert pl["Kowalski i Synowie S.A."]["employeeCount"] == 230


@pytest.mark.parametrize(
    ("raw", "currency", "expected"),
    [
        ("12 345 678,90 zł", "PLN", 12345678.9),
        ("1 234 567,00 kr", "SEK", 1234567),
        ("1.234,50 kr.", "DKK", 1234.5),
        ("12 345,00 Kč", "CZK", 12345),
        ("12 345 678,90 zł", "USD", None),  # refused: not in USD
    ],
)
def test_amounts_with_the_currency_written_after(raw: str, currency: str, expected: float | None) -> None:
    from bulkio.definitions import FieldDef
    from bulkio.values import ParseOptions, parse_cell

    field = FieldDef(key="k", label="K", valueType="CURRENCY", typeConfiguration={"currency": currency})
    parsed = parse_cell(field, raw, options=ParseOptions())
    assert (parsed.value if parsed.ok else None) == expected, parsed
    if expected is None:
        assert parsed.error_code == "invalid_number" and "not in USD" in (parsed.message or "")


PIPEDRIVE_OPEN_DEAL = (
    "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Status,Deal - Stage,Deal - Organization\n"
    "901,Kiosk rollout,1200,USD,open,Contract Signed,Acme Corp\n"
    "902,Kiosk pilot,800,USD,won,Proposal Made,Acme Corp\n"
)


def test_an_unknown_stage_from_the_fallback_column_names_that_column(
    sandbox: Any, empty_org: Any, tmp_path: Path
) -> None:
    """Pipedrive's stage comes from Deal - Stage where Deal - Status (won/lost) is blank: an open deal's
    unknown stage is Deal - Stage's, and its error names that column (it named Deal - Status)."""
    path = tmp_path / "deals-2026-12-04.csv"
    path.write_text(PIPEDRIVE_OPEN_DEAL, encoding="utf-8")
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        lf.create("account", {"fields": {"$name": "Acme Corp"}})
        sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
        report = Importer(lf, tmp_path)(path, "opportunity", dry_run=True)
    assert failures(report) == {2: ["unknown_option"]}
    issue = next(i for r in report.rows if r.row == 2 for i in r.issues)
    assert (issue.column, issue.header) == ("F", "Deal - Stage"), issue
    assert [(g["header"], g["value"]) for g in report.unresolved] == [("Deal - Stage", "Contract Signed")]


@pytest.mark.parametrize(
    ("path", "vendor", "obj"),
    [
        ("zoho/Accounts_2026_03_17.csv", "zoho", "account"),
        ("zoho/Contacts_2026_03_17.csv", "zoho", "contact"),
        ("zoho/Deals_2026_03_17.csv", "zoho", "opportunity"),
        ("apollo/apollo-contacts-export.csv", "apollo", "account"),
        ("apollo/apollo-contacts-export.csv", "apollo", "contact"),
    ],
)
def test_round_2_shapes_pick_their_profile(path: str, vendor: str, obj: str) -> None:
    """Zoho's accounts export also has Salesforce's Account Name, Account Owner and Billing City, its
    contacts HubSpot's Record Id, First Name, Last Name and Email: the profile naming most of the
    file's headers is used (no profile was, as two recognised it)."""
    from bulkio.profiles import detect_profile

    with (REAL / path).open(encoding="utf-8-sig", newline="") as fh:
        headers = next(csv.reader(fh))
    found = detect_profile(headers, obj)
    assert found is not None and found[0] == vendor


def test_a_file_two_vendors_profiles_read_alike_says_so(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A contacts file HubSpot's and Salesforce's contacts profiles both recognise, neither naming more
    of it: no profile is used, and the message says which two and how to pick (it said the file "is
    imported as contact, not contact")."""
    from bulkio.events import Message

    path = tmp_path / "contacts.csv"
    path.write_text(
        "Record ID,First Name,Last Name,Email,Account Name,Contact Owner\n1,Ana,Lima,ana@lima.example,,\n",
        encoding="utf-8",
    )
    messages: list[str] = []
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        Importer(lf, tmp_path)(
            path,
            "contact",
            dry_run=True,
            on_event=lambda e: messages.append(e.text) if isinstance(e, Message) else None,
        )
    said = [m.replace(str(tmp_path) + "/", "") for m in messages if "reads like" in m]
    expected = (
        "contacts.csv reads like a HubSpot contacts export and like a Salesforce contacts export: no profile "
        "is used (--from hubspot|salesforce picks one)"
    )
    assert said == [expected], messages


def test_zoominfo_contacts_export(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A ZoomInfo contacts export (85 columns), read for its companies (keyed by ZoomInfo Company ID,
    their address from the Company … columns, never the person's Country) and its people (keyed by
    ZoomInfo Contact ID; Direct Phone Number then Mobile phone, read in the row's Country)."""
    path = REAL / "zoominfo" / "zoominfo-contacts-export.csv"
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        companies = run(path, "account")
        assert failures(companies) == {} and repeats(companies) == {3: 2}  # the same company again
        assert companies.counts.created == 1 and companies.counts.skipped == 1
        people = run(path, "contact")
        assert people.ok and people.counts.created == 2, people.flatten()
        assert run(path, "account").counts.unchanged == 1 and run(path, "contact").counts.unchanged == 2
        industries = {o.id: o.label for o in lf.schema("account").fields["$industry"].options}
    prairieline = stored(sandbox, empty_org, "account")["355012345"]
    address = prairieline["$primaryAddress"]
    assert (address["street"], address["city"], address["postalCode"]) == (
        "200 W Madison St",
        "Chicago",
        "60606",
    )
    assert prairieline["phone"] in (["+13125550100"], "+13125550100") and prairieline["employeeCount"] == 320
    assert prairieline["annualRevenue"] == 84_500_000  # "Revenue (in 000s USD)": 84,500 thousand
    assert [industries[i] for i in prairieline["$industry"]] == ["Manufacturing"]
    chidi = stored(sandbox, empty_org, "contact")["1872345501"]
    assert chidi["phone"] == ["+13125550147", "+13125550190"] and chidi["rel:$account"] == [prairieline["id"]]
    assert chidi["$email"] == ["chidi.okafor@prairieline.example"] and "chidi-okafor-example" in str(
        chidi["linkedin"]
    )


ADDRESS_BOOKS = REAL / "addressbooks"


def test_address_books_google_outlook_and_linkedin(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """Contacts from the address books people start a CRM from, each found by its headers: Google
    Contacts (both layouts; several addresses and numbers joined with ' ::: '), Outlook (cp1252, the
    name's prefix in Title, a dozen phone columns), LinkedIn's Connections.csv (a note above the
    header; the profile URL is the key). The first email (or the profile) is the key, so a second
    import writes nothing."""
    from bulkio.events import Message

    companies = ["Acme Iberia", "Globex", "Initech GmbH", "Umbrella Corp", "Acme Inc", "Initech, LLC"]
    files = {
        "google-contacts.csv": ("google", 3),
        "google-contacts-legacy.csv": ("google", 1),
        "outlook-contacts.csv": ("outlook", 2),
        "Connections.csv": ("linkedin", 2),
    }
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        ids = {name: lf.create("account", {"fields": {"$name": name}})["id"] for name in companies}
        sandbox.set_faults(empty_org.org_id, index_lag_ms=0)
        run = Importer(lf, tmp_path)
        for name, (vendor, n) in files.items():
            said: list[str] = []
            report = run(
                ADDRESS_BOOKS / name,
                "contact",
                on_event=lambda e, said=said: said.append(e.text) if isinstance(e, Message) else None,
            )
            assert report.ok and report.counts.created == n, (name, report.flatten())
            assert any(f"--from {vendor}" in s for s in said), (name, said)
            assert not [i for i in report.file_issues if i.code in ("unknown_column", "missing_key_column")]
            again = run(ADDRESS_BOOKS / name, "contact")
            assert again.counts.unchanged == n and again.counts.created == 0, (name, again.flatten())
    people = stored(sandbox, empty_org, "contact")
    maria = people["maria@acme.es"]
    assert maria["$name"] == {"firstName": "Maria", "lastName": "García"}
    assert maria["$email"] == ["maria@acme.es", "maria.g@gmail.com"] and maria["jobTitle"] == "Head of Sales"
    assert maria["phone"] == ["+34612345678"] and maria["rel:$account"] == [ids["Acme Iberia"]]
    tom = people["tom@globex.com"]  # two addresses and two numbers in one cell each, joined with :::
    assert tom["$email"] == ["tom@globex.com", "tom.oneil@globex.com"]
    assert tom["phone"] == ["+14155550134", "+14155550199"] and tom["rel:$account"] == [ids["Globex"]]
    assert people["only@email.com"]["$email"] == ["only@email.com"]
    kenji = people["kenji@globex.com"]  # the layout before 2023: Given/Family Name, Organization 1 - …
    assert kenji["$name"] == {"firstName": "Kenji", "lastName": "Sato"}
    assert kenji["jobTitle"] == "Head of APAC"
    assert kenji["phone"] == ["+819012345678"] and kenji["rel:$account"] == [ids["Globex"]]
    anna = people["anna.mueller@initech.de"]  # cp1252: Müller
    assert anna["$name"] == {"firstName": "Anna", "lastName": "Müller"}
    assert anna["jobTitle"] == "Einkaufsleiterin" and anna["rel:$account"] == [ids["Initech GmbH"]]
    assert anna["phone"] == ["+49301234567", "+491712345678"]  # Business Phone, then Mobile Phone
    john = people["jsmith@umbrella.com"]
    assert john["jobTitle"] == "VP Sales" and john["rel:$account"] == [ids["Umbrella Corp"]]
    doe = people["linkedin.com/in/johndoe"]
    assert doe["$name"] == {"firstName": "John", "lastName": "Doe"} and doe["jobTitle"] == "CTO"
    assert "johndoe" in str(doe["linkedin"]) and not doe.get("$email")
    priya = people["linkedin.com/in/priyapatel"]
    assert priya["$email"] == ["priya@example.com"] and priya["rel:$account"] == [ids["Initech, LLC"]]


@pytest.mark.parametrize(
    ("value_type", "raw", "expected"),
    [
        ("EMAIL", "a@x.example ::: b@y.example", ["a@x.example", "b@y.example"]),
        ("TELEPHONE", "(415) 555-0134 ::: +44 20 7946 0321", ["+14155550134", "+442079460321"]),
        ("URL", "https://a.example ::: https://b.example", ["https://a.example", "https://b.example"]),
        ("MULTI_SELECT", "Clients ::: Friends", ["Clients ::: Friends"]),  # labels split on ; only
    ],
)
def test_google_s_separator_splits_contact_points_only(value_type: str, raw: str, expected: Any) -> None:
    from bulkio.definitions import FieldDef
    from bulkio.values import ParseOptions, parse_cell

    config: dict[str, Any] = {"multipleValues": True}
    if value_type == "MULTI_SELECT":
        config = {"options": [{"id": "o1", "label": "Clients"}, {"id": "o2", "label": "Friends"}]}
    field = FieldDef(key="k", label="K", valueType=value_type, typeConfiguration=config)
    parsed = parse_cell(field, raw, options=ParseOptions())
    assert parsed.ok and parsed.value == expected, parsed


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_date_order_comes_from_a_date_far_down_the_file(
    sandbox: Any, empty_org: Any, tmp_path: Path, suffix: str
) -> None:
    """A contact list sorted so that its first 300 dates all have a day of 12 or less (03/10/2024
    reads either way): bulkio reads ahead for a date that decides (25/03/2024, row 302), so every
    date is read day first instead of 300 rows failing as ambiguous_date."""
    rows = [["External ID", "Name", "Last Contacted At"]]
    rows += [[f"D-{i}", f"Person {i}", f"{1 + i % 12:02d}/{1 + i % 11:02d}/2024"] for i in range(300)]
    rows.append(["D-300", "Person 300", "25/03/2024"])
    path = tmp_path / f"contacts.{suffix}"
    if suffix == "csv":
        path.write_text("".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    else:
        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(path)
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        report = Importer(lf, tmp_path)(path, "contact", dry_run=True)
    assert report.ok and report.counts.created == 301, report.flatten()
    guessed = [i for i in report.file_issues if i.code == "date_order_guessed"]
    assert len(guessed) == 1 and guessed[0].value == "25/03/2024" and "(DMY)" in guessed[0].message


def test_stacked_tables_and_concatenated_exports(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """A monday.com board export stacks its groups: a title row, the header again, the items. Two
    exports joined with `cat` repeat the header (with its BOM) in the middle. Neither the header
    again nor a group's title is a record: each is skipped with a warning, and the items import."""
    board = REAL / "monday" / "Accounts_board_1733311111.xlsx"
    joined = tmp_path / "companies-all.csv"
    part = '\ufeff"Record ID","Name","Company Domain Name"\r\n'
    joined.write_bytes(
        (
            part
            + '"101","Vaalbank","vaalbank.example"\r\n'
            + part
            + '"102","Norrsken","norrsken.example"\r\n'
        ).encode()
    )
    mapping = {"Item ID": "external_id", "Status": "ignore", "Last updated": "ignore"}
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        report = run(board, "account", mapping=mapping)
        assert report.ok and report.counts.created == 3, report.flatten()
        assert sorted((i.code, i.row) for i in left_out(report)) == [
            ("repeated_header", 8),
            ("section_title", 7),
        ]
        assert report.counts.skipped == 2  # the results sheet says why, row by row
        assert run(board, "account", mapping=mapping).counts.unchanged == 3
        companies = run(joined, "account", mapping={"Record ID": "external_id"})
        assert companies.ok and companies.counts.created == 2, companies.flatten()
        assert [(i.code, i.row) for i in left_out(companies)] == [("repeated_header", 3)]
    accs = stored(sandbox, empty_org, "account")
    assert set(accs) == {"7012345671", "7012345672", "7012345673", "101", "102"}
    assert accs["7012345673"]["$name"] == "Initrode AG" and accs["7012345673"]["employeeCount"] == 800
    assert accs["7012345673"]["rel:$owner"] == ["mem_ben"]
    assert "Customers" not in {a["$name"] for a in accs.values()}


def test_address_books_companies_first_then_people(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    """The two commands an address book needs, back to back (lists still lag): `import account FILE`
    reads its companies (the profile matches them by name: each is created once, the next people at
    the same company are skipped, people without one too), then `import contact FILE` links each
    person to theirs. A company written otherwise in a later file (Initech GmbH after LinkedIn's
    Initech, LLC) is found by its name's core and keeps its name; running everything again writes
    nothing."""
    files = ["Connections.csv", "google-contacts.csv", "google-contacts-legacy.csv", "outlook-contacts.csv"]
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        run = Importer(lf, tmp_path)
        reports = {}
        for name in files:
            companies = run(ADDRESS_BOOKS / name, "account")
            people = run(ADDRESS_BOOKS / name, "contact")
            assert companies.ok and people.ok, (name, companies.flatten(), people.flatten())
            reports[name] = (companies, people)
        for name in files:  # again: nothing to write
            again = [run(ADDRESS_BOOKS / name, obj) for obj in ("account", "contact")]
            assert [(r.counts.created, r.counts.updated, r.counts.failed) for r in again] == [(0, 0, 0)] * 2
    google = reports["google-contacts.csv"][0]
    assert google.counts.created == 2 and [i.code for r in google.rows for i in r.issues] == ["skipped_row"]
    outlook_people = reports["outlook-contacts.csv"][1]
    loose = [i for r in outlook_people.rows for i in r.issues if i.code == "reference_by_company_name"]
    assert len(loose) == 1 and "'Initech GmbH' is taken as the account 'Initech, LLC'" in loose[0].message
    names = sorted(a["$name"] for a in records(sandbox, empty_org, "account"))
    assert names == ["Acme Iberia", "Acme Inc", "Globex", "Initech, LLC", "Umbrella Corp"]
    people = {
        c["$email"][0] if c.get("$email") else c["$name"]["lastName"]: c
        for c in records(sandbox, empty_org, "contact")
    }
    by_name = {a["$name"]: a["id"] for a in records(sandbox, empty_org, "account")}
    assert people["anna.mueller@initech.de"]["rel:$account"] == [by_name["Initech, LLC"]]
    assert people["kenji@globex.com"]["rel:$account"] == [by_name["Globex"]]
    assert people["Doe"]["rel:$account"] == [by_name["Acme Inc"]]
