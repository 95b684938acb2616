"""Issue 9 (numbers by locale, phones that settle, records without a key) end to end: real files in
tests/data/values/, imported over real HTTP into fresh sandbox orgs with the library and the CLI.
Every file imports as expected, and re-running it writes nothing."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.errors import ConfigError
from bulkio.pipeline import RunReport, import_file
from bulkio.resolve import field_value
from bulkio.template import make_template

DATA = Path(__file__).parent / "data" / "values"


def writes(sandbox: Any, org: Any) -> int:
    return int(sandbox.stats(org.org_id)["writes"])


def outcomes(report: RunReport) -> dict[int, str]:
    return {r.row: r.outcome for r in report.rows}


def row_issues(report: RunReport) -> list[list[Any]]:
    return [i for i in report.flatten(["row", "column", "code", "severity"]) if i[0] is not None]


def copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(DATA / name, tmp_path / name))


@pytest.fixture
def lf(sandbox: Any, org: Any) -> Any:
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as client:
        yield client


def run_cli(sandbox: Any, org: Any, args: list[str]) -> Any:
    env = {"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    return CliRunner().invoke(cli, ["import", *args], env=env, catch_exceptions=False)


def fields_of(lf: Any, record_id: str, keys: list[str]) -> dict[str, Any]:
    rec = lf.retrieve("account", record_id)
    return {k: field_value(rec, k) for k in keys}


# --- numbers by locale ---------------------------------------------------------------------------

LOCALE_FILES = {
    # file, locale → the first row as stored (revenue, employees, phone, renewal)
    "de-DE": ("accounts_de.csv", [1200000, 1200, ["+49301234567"], "2026-12-31T00:00:00.000Z"]),
    "de-CH": ("accounts_ch.csv", [1250000, 1200, ["+41446681800"], "2026-12-31T00:00:00.000Z"]),
    "fr-FR": ("accounts_fr.csv", [1250000, 1200, ["+33123456789"], "2026-12-31T00:00:00.000Z"]),
}
KEYS = ["annualRevenue", "employeeCount", "phone", "renewalDate"]


@pytest.mark.parametrize("locale", sorted(LOCALE_FILES))
def test_locale_file_imports_and_a_rerun_writes_nothing(
    locale: str, sandbox: Any, org: Any, lf: Any, tmp_path: Path
) -> None:
    name, first = LOCALE_FILES[locale]
    src = copy(name, tmp_path)
    report = import_file(src, "account", client=lf, locale=locale, ledger_path=tmp_path / "l.db")
    assert report.ok and set(outcomes(report).values()) == {"created"}, row_issues(report)
    assert row_issues(report) == []
    assert fields_of(lf, report.rows[0].record_id or "", KEYS) == dict(zip(KEYS, first, strict=True))
    before = writes(sandbox, org)
    again = import_file(src, "account", client=lf, locale=locale, ledger_path=tmp_path / "l.db")
    assert again.ok and set(outcomes(again).values()) == {"unchanged"}
    assert writes(sandbox, org) == before


def test_locale_file_values_exactly(lf: Any, tmp_path: Path) -> None:
    report = import_file(
        copy("accounts_de.csv", tmp_path), "account", client=lf, locale="de-DE", dry_run=True
    )
    got = {r.row: {k: v[1] for k, v in r.changes.items() if k in KEYS} for r in report.rows}
    assert got[3] == {
        "annualRevenue": 12500,  # "12.500 $"
        "employeeCount": 12,
        "phone": ["+4915123456789"],
        "renewalDate": "2027-03-01T00:00:00+00:00",  # 01.03.2027: day first in de-DE
    }
    assert got[5]["annualRevenue"] == 3400000.5 and got[5]["employeeCount"] == 2500
    assert got[6]["annualRevenue"] == 1234.5 and got[6]["employeeCount"] == 1000


def test_german_file_without_locale_names_the_option(lf: Any, tmp_path: Path) -> None:
    report = import_file(copy("accounts_de.csv", tmp_path), "account", client=lf, dry_run=True)
    assert row_issues(report) == [
        [2, "D", "ambiguous_number", "error"],
        [2, "E", "phone_needs_region", "error"],
        [3, "E", "phone_needs_region", "error"],  # 01.03.2027: dotted dates are day first everywhere
        [4, "E", "phone_needs_region", "error"],
        [5, "D", "ambiguous_number", "error"],
        [6, "D", "ambiguous_number", "error"],
        [6, "E", "phone_needs_region", "error"],
    ]
    ambiguous = next(i for i in report.issues() if i.code == "ambiguous_number")
    assert ambiguous.message.startswith("'1.200' could be 1200 with a decimal comma or 1.2 with a decimal")
    assert "--locale" in ambiguous.message
    phone = next(i for i in report.issues() if i.code == "phone_needs_region")
    assert "+49 30 1234567" in phone.message and "--phone-region DE" in phone.message


def test_a_column_settles_its_own_ambiguous_cells(lf: Any, tmp_path: Path) -> None:
    # Annual Revenue has "1.200.000,00" (only a decimal comma reads it) on row 2: "12.500 $" on row 3
    # is 12500, not 12.5. Employee Count has nothing that says which: its 1.200 stays an error.
    report = import_file(
        copy("accounts_de.csv", tmp_path),
        "account",
        client=lf,
        dry_run=True,
        phone_region="DE",
        date_order="DMY",
    )
    assert [i[:3] for i in row_issues(report)] == [
        [2, "D", "ambiguous_number"],
        [5, "D", "ambiguous_number"],
        [6, "D", "ambiguous_number"],
    ]
    changes = {r.row: r.changes for r in report.rows}
    assert changes[3]["annualRevenue"] == [None, 12500]
    assert changes[4]["annualRevenue"] == [None, 850000]


def test_cli_locale(sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = copy("accounts_ch.csv", tmp_path)
    without = run_cli(sandbox, org, ["account", str(src), "--dry-run", "-q"])
    assert without.exit_code == 1
    assert "ambiguous_number: '1'200' could be" not in without.output  # apostrophes are never decimal
    assert "phone_needs_region: '044 668 18 00' has no country code" in without.output
    assert "valid in FR, CH, SE" in without.output
    assert "invalid_number" not in without.output  # 1’200.00: a typographic apostrophe groups too
    first = run_cli(sandbox, org, ["account", str(src), "--locale", "de-CH", "-q"])
    assert first.exit_code == 0, first.output
    assert "created    4" in first.output
    again = run_cli(sandbox, org, ["account", str(src), "--locale", "de-CH", "--format", "json"])
    assert again.exit_code == 0
    data = json.loads(again.output)
    assert data["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "failed": 0, "skipped": 0}
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        lib = import_file(src, "account", client=lf, locale="de-CH", dry_run=True)
    assert lib.counts.model_dump() == data["counts"]
    bad = run_cli(sandbox, org, ["account", str(src), "--locale", "xx-YY", "-q"])
    assert bad.exit_code == 2 and "unknown locale 'xx-YY'" in bad.output


# --- phones that settle --------------------------------------------------------------------------


def test_phone_file_settles_and_a_rerun_writes_nothing(
    sandbox: Any, org: Any, lf: Any, tmp_path: Path
) -> None:
    src = copy("contacts_phones_gb.csv", tmp_path)
    report = import_file(src, "contact", client=lf, phone_region="GB", ledger_path=tmp_path / "l.db")
    assert outcomes(report) == {
        2: "created",
        3: "created",
        4: "created",
        5: "created",
        6: "created",
        7: "failed",
        8: "failed",
        9: "created",
    }
    assert row_issues(report) == [[7, "E", "invalid_phone", "error"], [8, "E", "invalid_phone", "error"]]
    stored = {
        r.row: field_value(lf.retrieve("contact", r.record_id), "phone") for r in report.rows if r.record_id
    }
    assert stored == {
        2: ["+442079460958"],
        3: ["+447911123456"],
        4: ["+14155550100"],  # a country code wins over the region
        5: ["+442079460958;ext=12"],
        6: ["+441614960000", "+447400123456"],
        9: None,
    }
    vanity = next(i for i in report.issues() if i.row == 8)
    assert "vanity" in vanity.message and "0800 3569377" in vanity.message
    before = writes(sandbox, org)
    again = import_file(src, "contact", client=lf, phone_region="GB", ledger_path=tmp_path / "l.db")
    assert outcomes(again) == {**outcomes(report), **{r: "unchanged" for r in (2, 3, 4, 5, 6, 9)}}
    assert writes(sandbox, org) == before


def test_phones_without_region_are_errors_that_show_an_example(lf: Any, tmp_path: Path) -> None:
    report = import_file(copy("contacts_phones_gb.csv", tmp_path), "contact", client=lf, dry_run=True)
    codes = {i[0]: i[2] for i in row_issues(report)}
    assert codes == {
        2: "phone_needs_region",
        3: "phone_needs_region",
        5: "phone_needs_region",
        6: "phone_needs_region",
        7: "phone_needs_region",
        8: "invalid_phone",
    }
    first = next(i for i in report.issues() if i.row == 2)
    assert "+44 20 7946 0958" in first.message and "--phone-region GB" in first.message
    assert outcomes(report)[4] == "would create"  # +1 (415) 555-0100 has its country code


def test_a_stored_phone_compares_in_e164(sandbox: Any, org: Any, lf: Any, tmp_path: Path) -> None:
    # The CRM holds a number bulkio did not write (another tool): the same number written
    # nationally in the file is unchanged, not updated on every run.
    lf.create("contact", {"fields": {"external_id": "PH-X", "phone": ["+44 20 7946 0958"]}})
    src = tmp_path / "p.csv"
    src.write_text("external_id,Phone\nPH-X,020 7946 0958\n", encoding="utf-8")
    before = writes(sandbox, org)
    report = import_file(src, "contact", client=lf, phone_region="GB", ledger_path=tmp_path / "l.db")
    assert outcomes(report) == {2: "unchanged"} and writes(sandbox, org) == before


# --- records that exist without a key ------------------------------------------------------------


def _initrode_twice(lf: Any) -> list[str]:
    return [lf.create("account", {"fields": {"$name": n}})["id"] for n in ("Initrode Inc", "Initrode GmbH")]


def _ids_by_name(lf: Any) -> dict[str, str]:
    return {field_value(r, "$name"): r["id"] for r in lf.list_all("account")}


@pytest.mark.usefixtures("no_list_lag")  # records written just before are looked up through lists
def test_without_match_possible_duplicates_are_warned(lf: Any, tmp_path: Path) -> None:
    _initrode_twice(lf)
    ids = _ids_by_name(lf)
    report = import_file(copy("accounts_existing.csv", tmp_path), "account", client=lf, dry_run=True)
    assert set(outcomes(report).values()) == {"would create"}
    assert row_issues(report) == [[r, "A", "possible_duplicate", "warning"] for r in (2, 3, 4, 5, 6, 8)]
    by_row = {i.row: i.message for i in report.issues()}
    assert ids["Bluth Homes"] in by_row[2] and "--match name" in by_row[2]
    assert ids["Acme Corp"] in by_row[5]
    assert ids["Initrode Inc"] in by_row[6] and ids["Initrode GmbH"] in by_row[6]


@pytest.mark.usefixtures("no_list_lag")  # records written just before are looked up through lists
def test_match_name_updates_existing_records_and_sets_their_key(
    sandbox: Any, org: Any, lf: Any, tmp_path: Path
) -> None:
    _initrode_twice(lf)
    ids = _ids_by_name(lf)
    accounts = sandbox.count(org.org_id, "account")
    src = copy("accounts_existing.csv", tmp_path)
    report = import_file(src, "account", client=lf, match="name", ledger_path=tmp_path / "l.db")
    assert outcomes(report) == {
        2: "updated",  # BLUTH HOMES, INC. → Bluth Homes
        3: "updated",  # Sterling Cooper LLC → Sterling Cooper
        4: "updated",  # Los Pollos Supply
        5: "failed",  # Acme Corp. → Acme Corp, which has the key ACC-0001
        6: "failed",  # Initrode → two records
        7: "created",  # Vandelay Industries is not Vandelay Imports
        8: "failed",  # The Bluth Homes Company → Bluth Homes, which row 2 took
    }
    assert row_issues(report) == [
        [5, "A", "match_conflict", "error"],
        [6, "A", "ambiguous_match", "error"],
        [8, "A", "duplicate_match", "error"],
    ]
    records = {r.row: r.record_id for r in report.rows}
    assert records[2] == ids["Bluth Homes"] and records[3] == ids["Sterling Cooper"]
    assert field_value(lf.retrieve("account", ids["Bluth Homes"]), "external_id") == "NEW-001"
    assert sandbox.count(org.org_id, "account") == accounts + 1  # only Vandelay Industries
    before = writes(sandbox, org)
    again = import_file(src, "account", client=lf, match="name", ledger_path=tmp_path / "l.db")
    assert {r: o for r, o in outcomes(again).items() if o != "failed"} == {
        2: "unchanged",
        3: "unchanged",
        4: "unchanged",
        7: "unchanged",
    }
    assert writes(sandbox, org) == before
    # the key is set: the same file without --match now finds them by key
    plain = import_file(src, "account", client=lf, dry_run=True)
    assert [outcomes(plain)[r] for r in (2, 3, 4, 7)] == ["unchanged"] * 4


def test_match_domain_and_email(sandbox: Any, org: Any, lf: Any, tmp_path: Path) -> None:
    accounts = tmp_path / "a.csv"
    accounts.write_text(
        "Name,external_id,Website\nBluth (website),DOM-1,http://WWW.BluthHomes.example.com/contact\n",
        encoding="utf-8",
    )
    report = import_file(accounts, "account", client=lf, match="domain", ledger_path=tmp_path / "l.db")
    assert outcomes(report) == {2: "updated"}
    assert report.rows[0].record_id == _ids_by_name(lf)["Bluth (website)"]
    contacts = tmp_path / "c.csv"
    # Viktor Jensen is one of the demo contacts without a key
    contacts.write_text(
        "external_id,Email,Job Title\nEM-1,Viktor.Jensen@BluthHomes.example.com,Buyer\n", encoding="utf-8"
    )
    warned = import_file(contacts, "contact", client=lf, dry_run=True)
    assert row_issues(warned) == [[2, "B", "possible_duplicate", "warning"]]
    matched = import_file(contacts, "contact", client=lf, match="email", ledger_path=tmp_path / "l.db")
    assert outcomes(matched) == {2: "updated"}
    rec = lf.retrieve("contact", matched.rows[0].record_id)
    assert field_value(rec, "external_id") == "EM-1" and field_value(rec, "$name")["lastName"] == "Jensen"
    before = writes(sandbox, org)
    again = import_file(contacts, "contact", client=lf, match="email", ledger_path=tmp_path / "l.db")
    assert outcomes(again) == {2: "unchanged"} and writes(sandbox, org) == before


def test_match_option_is_checked_before_the_run(lf: Any, tmp_path: Path) -> None:
    src = copy("accounts_existing.csv", tmp_path)
    with pytest.raises(ConfigError, match="account records cannot be matched by 'email'"):
        import_file(src, "account", client=lf, match="email")
    no_site = tmp_path / "n.csv"
    no_site.write_text("Name,external_id\nX,Y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="--match domain compares Website"):
        import_file(no_site, "account", client=lf, match="domain")


@pytest.mark.usefixtures("no_list_lag")  # records written just before are looked up through lists
def test_cli_match(sandbox: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        _initrode_twice(lf)
    src = copy("accounts_existing.csv", tmp_path)
    dry = run_cli(sandbox, org, ["account", str(src), "--dry-run"])
    assert dry.exit_code == 0  # warnings only
    assert "warning: possible_duplicate: An existing account has the same name ('bluth homes')" in dry.output
    result = run_cli(sandbox, org, ["account", str(src), "--match", "name", "-q"])
    assert result.exit_code == 1  # three rows failed, reported on the row
    assert "row 6: failed: column A (Name): ambiguous_match" in result.output
    again = run_cli(sandbox, org, ["account", str(src), "--match", "name", "--format", "json"])
    counts = json.loads(again.output)["counts"]
    assert counts == {"created": 0, "updated": 0, "unchanged": 4, "failed": 3, "skipped": 0}


# --- references that stay unique -----------------------------------------------------------------


@pytest.mark.usefixtures("no_list_lag")  # records written just before are looked up through lists
def test_a_pick_from_the_template_resolves_after_duplicates_appear(lf: Any, tmp_path: Path) -> None:
    acme = _ids_by_name(lf)["Acme Corp"]
    twin = lf.create("account", {"fields": {"$name": "Acme Corp"}})["id"]
    info = make_template(lf, "opportunity", tmp_path / "deals.xlsx")
    wb = load_workbook(info.path)
    account_dv = next(
        dv
        for dv in wb[info.sheet].data_validations.dataValidation
        if "Reference" in str(dv.formula1) and dv.formula1.startswith("'Reference'!$A$")
    )
    ref = account_dv.formula1.rsplit("!", 1)[1]
    picks = [c.value for row in wb["Reference"][ref.replace("$", "")] for c in row]
    assert f"Acme Corp ({acme})" in picks and f"Acme Corp ({twin})" in picks
    assert "Globex" in picks  # a name only one record has stays as it is
    src = tmp_path / "o.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id", "Stage", "Account"])
        w.writerow(["By name", "REF-1", "Lead", "Acme Corp"])
        w.writerow(["By pick", "REF-2", "Lead", f"Acme Corp ({acme})"])
        w.writerow(["Wrong pick", "REF-3", "Lead", f"Globex ({acme})"])
    report = import_file(src, "opportunity", client=lf, ledger_path=tmp_path / "l.db")
    assert outcomes(report) == {2: "failed", 3: "created", 4: "failed"}
    assert [i[:3] for i in row_issues(report)] == [
        [2, "D", "ambiguous_reference"],
        [4, "D", "relationship_entity_missing"],
    ]
    created = lf.retrieve("opportunity", report.rows[1].record_id)
    assert created["relationships"]["$account"]["values"] == [acme]
    wrong = next(i for i in report.issues() if i.row == 4)
    assert "is named 'Acme Corp', not 'Globex'" in wrong.message


# --- fractions into 0-100 fields -----------------------------------------------------------------


def _deals_xlsx(path: Path, probabilities: list[Any]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "external_id", "Stage", "Account", "Probability"])
    for i, p in enumerate(probabilities):
        ws.append([f"Fraction deal {i}", f"FR-{i}", "Lead", "Globex", p])
        ws.cell(ws.max_row, 5).number_format = "0%"
    wb.save(path)
    return path


def test_fraction_in_a_column_of_percentages_is_flagged(lf: Any, tmp_path: Path) -> None:
    src = tmp_path / "d.csv"
    src.write_text(
        "Name,external_id,Stage,Account,Probability\n"
        "A,FX-1,Lead,Globex,50\nB,FX-2,Lead,Globex,0.5\nC,FX-3,Lead,Globex,25\n",
        encoding="utf-8",
    )
    report = import_file(src, "opportunity", client=lf, dry_run=True)
    assert row_issues(report) == [[3, "E", "looks_like_fraction", "warning"]]
    message = next(report.issues()).message
    assert "row 2: 50" in message and "write 50" in message and '--percent "Probability"' in message
    assert outcomes(report) == {
        2: "would create",
        3: "would create",
        4: "would create",
    }  # a warning, not an error


def test_fractions_checked_against_the_crm_and_percent_reads_them(lf: Any, tmp_path: Path) -> None:
    # Percent-formatted XLSX cells hold 0.5 and 0.25; the column alone has nothing above 1, the
    # field is named "Probability" and the demo org's deals hold 0-100 there.
    src = _deals_xlsx(tmp_path / "d.xlsx", [0.5, 0.25])
    report = import_file(src, "opportunity", client=lf, dry_run=True)
    assert row_issues(report) == [
        [2, "E", "looks_like_fraction", "warning"],
        [3, "E", "looks_like_fraction", "warning"],
    ]
    read = import_file(src, "opportunity", client=lf, dry_run=True, percent=["Probability"])
    assert row_issues(read) == []
    assert [r.changes["probability"][1] for r in read.rows] == [50, 25]
    with pytest.raises(ConfigError, match="--percent 'Stage'"):
        import_file(src, "opportunity", client=lf, dry_run=True, percent=["Stage"])


def test_fraction_judged_by_the_crm_values_alone(lf: Any, tmp_path: Path) -> None:
    # a NUMBER field not named like a percentage: only what the CRM holds can tell
    lf.create("account", {"fields": {"$name": "Score Co", "employeeCount": 55}})
    src = tmp_path / "a.csv"
    src.write_text("Name,external_id,Employee Count\nHalf Co,HC-1,0.5\n", encoding="utf-8")
    report = import_file(src, "account", client=lf, dry_run=True)
    assert row_issues(report) == []  # employee counts above 100 exist: 0.5 is not a percentage


@pytest.mark.usefixtures("no_list_lag")  # records written just before are looked up through lists
def test_fraction_flagged_by_the_crm_alone(sandbox: Any, empty_org: Any, tmp_path: Path) -> None:
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        for i, score in enumerate((40, 75, 90)):
            lf.create("account", {"fields": {"$name": f"Scored {i}", "employeeCount": score}})
        src = tmp_path / "a.csv"
        src.write_text("Name,external_id,Employee Count\nHalf Co,HC-1,0.5\n", encoding="utf-8")
        report = import_file(src, "account", client=lf, dry_run=True)
    assert row_issues(report) == [[2, "C", "looks_like_fraction", "warning"]]
    assert "existing account records hold 0-100 values in Employee Count (3" in next(report.issues()).message
