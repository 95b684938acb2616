"""Mapping files (issue 9): the model and its shipped JSON Schema, errors that name file and line,
value maps, transforms and derived columns applied to a real import, Record ID detection, header
synonyms and vendor prefixes, and `bulkio map` drafts that load back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.draft import draft_mapping
from bulkio.mapfile import SCHEMA_PATH, MappingFileError, Step, check_mapping, json_schema, load_mapping
from bulkio.mapping import importable_keys, map_headers
from bulkio.pipeline import import_file
from bulkio.transforms import TransformError, compile_step, number_reader

EXPORTS = Path(__file__).parent / "data" / "exports"


def test_shipped_schema_is_the_models() -> None:
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == json_schema()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "columns:\n  Stage:\n    field: $stage\n    unmaped: fail\n",
            4,
            "unknown key 'unmaped'; did you mean 'unmapped'?",
        ),
        (
            "columns:\n  Stage:\n    field: $stage\n    unmapped: skip\n",
            4,
            "expected 'fail', 'pass' or 'blank', got 'skip'",
        ),
        (
            "columns:\n  Close:\n    field: closeDate\n    transform:\n      - datee: '%d'\n",
            5,
            "did you mean 'date'?",
        ),
        ("colums:\n  A: $name\n", 1, "unknown key 'colums'; did you mean 'columns'?"),
        ("columns:\n  A: [1, 2\n", 3, "not valid YAML"),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(text)
    with pytest.raises(MappingFileError) as err:
        load_mapping(p)
    assert err.value.line == line
    assert str(err.value).startswith(f"{p}: line {line}: ")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "columns:\n  Stage:\n    field: $stage\n    values:\n      appt: Leed\n",
            5,
            "'appt' maps to 'Leed', which is not an option of Stage ($stage); did you mean 'Lead'?",
        ),
        (
            "columns:\n  Name: $nme\n",
            2,
            "'$nme' is not a field or relationship of opportunity; did you mean '$name'",
        ),
        (
            "columns:\n  Amount:\n    field: amount\n    transform: [{date: '%Y'}]\n",
            4,
            "date makes a datetime, but amount is CURRENCY",
        ),
        (
            "columns:\n  P:\n    field: $name\n    transform: [fraction]\n",
            4,
            "fraction makes a number, but $name is TEXT",
        ),
        ("object: account\ncolumns:\n  A: $name\n", 1, "this mapping is for account, not opportunity"),
        (
            "key: pipedrive_id\ncolumns:\n  Deal - ID: pipedrive_id\n",
            3,
            "keys opportunity records by pipedrive_id; create a unique text field 'pipedrive_id'",
        ),
    ],
)
def test_checks_against_the_schema(
    client: LightfieldClient, tmp_path: Path, text: str, line: int, message: str
) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(text)
    schema = client.schema("opportunity")
    with pytest.raises(MappingFileError) as err:
        check_mapping(load_mapping(p), schema, keys=importable_keys(schema))
    assert err.value.line == line, str(err.value)
    assert message in str(err.value)


def test_bad_mapping_stops_before_any_write(client: LightfieldClient, tmp_path: Path) -> None:
    src = tmp_path / "deals.csv"
    src.write_text("Name,Stage,Account\nX,appt,Acme Corp\n")
    m = tmp_path / "m.json"
    m.write_text('{"columns": {"Stage": {"field": "$stage", "values": {"appt": "Leed"}}}}')
    before = client.stats.requests if hasattr(client, "stats") else 0
    with pytest.raises(MappingFileError, match=r"m.json: line 1: 'appt' maps to 'Leed'"):
        import_file(
            src,
            "opportunity",
            client=client,
            mapping=m,
            results_path=tmp_path / "r.csv",
            ledger_path=tmp_path / "l",
        )
    assert not (tmp_path / "r.csv").exists()
    assert client.list_page("opportunity", offset=0, limit=1)["totalCount"] >= 0  # org intact
    del before


@pytest.mark.usefixtures("no_list_lag")  # reads back through lists what it just wrote
def test_value_maps_transforms_and_derived_columns(client: LightfieldClient, tmp_path: Path) -> None:
    src = tmp_path / "deals.csv"
    src.write_text(
        "Ref,Deal,Phase,Value,Chance,When,Rep,Company,Extra\n"
        'r1,Alpha,  APPT sched ,"1.234,50",0.25,15.03.2026,the boss,Acme Corp,EU\n'
        "r2,Beta,won,99,0.5,01.02.2026,ben,Acme Corp,US\n"
        "r3,Gamma,mystery,10,2,31.12.2026,ben,Acme Corp,US\n"
        "r4,Delta,won,12,0.1,2026-01-01,ben,Acme Corp,US\n"
    )
    m = tmp_path / "m.yaml"
    m.write_text(
        """
object: opportunity
columns:
  Ref: external_id
  Deal: $name
  Phase:
    field: $stage
    values: {appt sched: Lead, won: Closed Won}
    unmapped: fail
  Value: {field: amount, transform: [{number: de-DE}]}
  Chance: {field: probability, transform: fraction}
  When: {field: closeDate, transform: [{date: "%d.%m.%Y"}]}
  Rep:
    field: $owner
    values: {the boss: ava@demo.lightfield.test, ben: Ben Seller}
  Company: $account
  Extra: ignore
derived:
  - {field: nextStep, join: [Deal, Extra], sep: " / "}
"""
    )
    report = import_file(
        src,
        "opportunity",
        client=client,
        mapping=m,
        results_path=tmp_path / "r.csv",
        ledger_path=tmp_path / "l.sqlite3",
    )
    assert report.flatten(["row", "column", "code"]) == [
        [4, "C", "unmapped_value"],
        [4, "E", "transform_failed"],
        [5, "F", "transform_failed"],
    ]
    assert report.counts.created == 2
    assert [g["message"].split(";")[0] for g in report.unresolved] == [
        "Phase: 'mystery' ×1 — not in the value map"
    ]
    recs = {
        r["fields"]["external_id"]["value"]: r
        for r in client.list_all("opportunity")
        if r["fields"].get("external_id")
    }
    alpha = recs["r1"]["fields"]
    assert alpha["amount"]["value"] == 1234.5
    assert alpha["probability"]["value"] == 25
    assert alpha["closeDate"]["value"].startswith("2026-03-15")
    assert alpha["nextStep"]["value"] == "Alpha / EU"
    assert recs["r1"]["relationships"]["$owner"]["values"] == ["mem_ava"]
    assert recs["r2"]["relationships"]["$owner"]["values"] == ["mem_ben"]
    stage = client.schema("opportunity").fields["$stage"]
    labels = {o.id: o.label for o in stage.options}
    assert labels[alpha["$stage"]["value"]] == "Lead"


def test_foreign_record_id_column_is_not_a_record_id(client: LightfieldClient, tmp_path: Path) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("Record ID,Name\n9100000001,Foreign One\n9100000002,Foreign Two\n")
    report = import_file(
        src, "account", client=client, profile="none", dry_run=True, results_path=tmp_path / "r.csv"
    )
    codes = [i.code for i in report.file_issues]
    assert "foreign_record_id" in codes and "missing_key_column" in codes
    msg = next(i.message for i in report.file_issues if i.code == "foreign_record_id")
    assert "'9100000001'" in msg and '"Record ID": external_id' in msg
    assert report.counts.created == 2 and report.counts.failed == 0  # not record_not_found
    # a column of real Lightfield ids is still the Record ID
    rid = next(iter(client.list_all("account")))["id"]
    src.write_text(f"Record ID,Name\n{rid},Renamed\n")
    again = import_file(
        src, "account", client=client, profile="none", dry_run=True, results_path=tmp_path / "r.csv"
    )
    assert again.counts.updated == 1 and "foreign_record_id" not in [i.code for i in again.file_issues]


def test_synonyms_and_vendor_prefixes(client: LightfieldClient) -> None:
    deal = client.schema("opportunity")
    hm = map_headers(
        [
            "Deal - Title",
            "Deal - Value",
            "Deal - Stage",
            "Deal - Owner",
            "Organization - Name",
            "Deal - Expected close date",
            "StageName",
        ],
        deal,
    )
    assert [c.key for c in hm.columns] == [
        "$name",
        "amount",
        "$stage",
        "$owner",
        "$account",
        "closeDate",
        None,
    ]
    hm = map_headers(
        ["Deal Name", "Deal owner", "Opportunity Owner", "Account Name", "Close Date", "Amount"], deal
    )
    assert [c.key for c in hm.columns][:2] == ["$name", "$owner"]
    assert [i.code for i in hm.issues].count("duplicate_header") == 1  # two owner columns
    acc = client.schema("account")
    hm = map_headers(
        ["Company - Name", "Company Domain Name", "Billing City", "Country/Region", "Number of Employees"],
        acc,
    )
    assert [c.key for c in hm.columns] == [
        "$name",
        "$website",
        "$primaryAddress.city",
        "$primaryAddress.country",
        "employeeCount",
    ]
    con = client.schema("contact")
    hm = map_headers(["Person - Name", "Person - Email (Work)", "Job Title", "Organization"], con)
    assert [c.key for c in hm.columns] == ["$name", "$email", "jobTitle", "$account"]


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["de_DE", "fr_FR", "de_CH", "en_US", "es_ES"]),
)
def test_number_by_locale_round_trips(whole: int, cents: int, locale: str) -> None:
    from babel.numbers import format_decimal

    text = format_decimal(float(f"{whole}.{cents:02d}"), format="#,##0.00", locale=locale)
    assert number_reader(locale)(text) == pytest.approx(float(f"{whole}.{cents:02d}"))


def test_transform_steps_refuse_what_they_cannot_read() -> None:
    for step, bad in [
        ("fraction", "1.5"),
        ("cents", "12.5"),
        ("percent", "lots"),
        ({"date": "%d.%m.%Y"}, "2026-01-01"),
        ({"regex": r"(\d+)"}, "none"),
        ("country", "Atlantis"),
        ("thousands", "n/a"),
    ]:
        fn = compile_step(Step.model_validate(step))
        with pytest.raises(TransformError):
            fn(bad)
    assert compile_step(Step.model_validate("cents"))("150000") == 1500
    thousands = compile_step(Step.model_validate("thousands"))
    assert [thousands(v) for v in ("84,500", "1,234,567.5", "12.5", 7, "-3")] == [
        84_500_000,
        1_234_567_500,
        12_500,
        7_000,
        -3_000,
    ]
    assert compile_step(Step.model_validate({"split_name": {"order": "last_first"}}))("Lima, Ana") == {
        "firstName": "Ana",
        "lastName": "Lima",
    }
    assert (
        compile_step(Step.model_validate({"regex": {"pattern": r"#(\d+)", "group": 1}}))("Order #42") == "42"
    )


@pytest.mark.usefixtures("no_list_lag")  # reads back through lists what it just wrote
def test_map_draft_loads_back_and_imports(sandbox, empty_org, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"LIGHTFIELD_API_KEY": empty_org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        import_file(
            EXPORTS / "pipedrive" / "pipedrive-organizations.csv",
            "account",
            client=lf,
            results_path=tmp_path / "o.csv",
            ledger_path=tmp_path / "l.sqlite3",
        )
        draft = draft_mapping(
            EXPORTS / "pipedrive" / "pipedrive-deals.csv", "opportunity", client=lf, profile="auto"
        )
    stage = next(c for c in draft.columns if c.header == "Deal - Stage")
    assert [(n.value, n.count) for n in stage.unresolved] == [("Waiting for budget", 2)]
    out = tmp_path / "deals.yaml"
    result = runner.invoke(
        cli,
        ["map", "opportunity", str(EXPORTS / "pipedrive" / "pipedrive-deals.csv"), "-o", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "reads like a Pipedrive deals export" in result.output
    text = out.read_text()
    assert '"Waiting for budget"' in text and "×2" in text
    spec = load_mapping(out)
    assert spec.columns["Deal - Title"].target == "$name"
    # without FILE, --from writes the profile itself (with its sources)
    prof = runner.invoke(cli, ["map", "opportunity", "--from", "hubspot"], env=env)
    assert prof.exit_code == 0 and "knowledge.hubspot.com" in prof.output
    # the draft imports like the profile does
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        report = import_file(
            EXPORTS / "pipedrive" / "pipedrive-deals.csv",
            "opportunity",
            client=lf,
            mapping=out,
            dry_run=True,
            results_path=tmp_path / "d.csv",
        )
    assert sorted({r.row for r in report.rows if r.outcome == "would fail"}) == [5, 31]


def test_house_number_goes_where_the_rows_country_writes_it(client: LightfieldClient, tmp_path: Path) -> None:
    """``house_number`` beside a street's ``join``: the number before the name in the US, the UK and
    France, after it in Germany and where the country is blank or unknown; a number without a name
    is the street alone. Without ``join`` it is refused."""
    path = tmp_path / "orgs.csv"
    path.write_text(
        "Name,Street,Nr,Country\n"
        "Acme US,Main Street,5,United States\n"
        "Acme UK,Mill Lane,14,GB\n"
        "Acme FR,Rue du Bac,8,France\n"
        "Acme DE,Hauptstraße,5a,Deutschland\n"
        "Acme ??,Somewhere Road,9,\n"
        "Acme No,,12,US\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "orgs.yaml"
    mapping.write_text(
        "columns:\n  Street: ignore\n  Nr: ignore\n  Country: {field: $primaryAddress.country, transform: [country]}\n"
        "derived:\n  - field: $primaryAddress.street\n    join: [Street]\n    house_number: [Nr]\n",
        encoding="utf-8",
    )
    report = import_file(path, "account", client=client, mapping=mapping, dry_run=True)
    streets = [r.changes["$primaryAddress"][1]["street"] for r in sorted(report.rows, key=lambda r: r.row)]
    assert streets == [
        "5 Main Street",
        "14 Mill Lane",
        "8 Rue du Bac",
        "Hauptstraße 5a",
        "Somewhere Road 9",
        "12",
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("derived:\n  - field: $primaryAddress.street\n    constant: x\n    house_number: [Nr]\n")
    with pytest.raises(MappingFileError, match="house_number goes with join"):
        load_mapping(bad)
