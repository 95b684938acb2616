"""mapping.py: each match rule, ignored columns, suggestions, duplicates, mapping files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulkio.columns import export_columns, template_columns
from bulkio.definitions import ObjectSchema
from bulkio.errors import ConfigError, InputFileError
from bulkio.mapping import letter, load_mapping_file, map_headers

DEFS = json.loads((Path(__file__).parent / "data" / "read" / "definitions.json").read_text("utf-8"))
ACC, CON, OPP = (ObjectSchema.from_api(DEFS[k]) for k in ("account", "contact", "opportunity"))


def keys(hm) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [c.key for c in hm.columns]


def codes(hm) -> list[tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    return [(i.code, i.column, i.severity) for i in hm.issues]


@pytest.mark.parametrize("schema", [ACC, CON, OPP])
def test_bulkio_export_headers_map_back_exactly(schema: ObjectSchema) -> None:
    cols = export_columns(schema)
    hm = map_headers([c.header for c in cols], schema)
    assert keys(hm) == [c.key for c in cols]
    assert {c.how for c in hm.columns} == {"header"}
    # display columns and read-only fields (marked so in bulkio's headers) are silent: a round trip
    # of an export warns about nothing
    assert hm.issues == []
    assert set(hm.by_key) == {c.key for c in cols if c.kind in ("id", "field", "subfield", "relationship")}


def test_template_headers_map_and_required_star_is_ignored() -> None:
    cols = template_columns(OPP)
    hm = map_headers([c.header for c in cols], OPP)
    assert keys(hm) == [c.key for c in cols] and hm.issues == []


def test_rules_in_order() -> None:
    hm = map_headers(
        ["$stage", "amount", "Name", "nextStep", "close date", "Record ID", "PROBABILITY", "external-id"], OPP
    )
    assert keys(hm) == [
        "$stage",
        "amount",
        "$name",
        "nextStep",
        "closeDate",
        "id",
        "probability",
        "external_id",
    ]
    assert [c.how for c in hm.columns] == ["key", "key", "label", "key", "fuzzy", "label", "fuzzy", "fuzzy"]
    assert map_headers(["stage"], OPP).columns[0].how == "slug"
    assert map_headers(["Stage*"], OPP).columns[0].key == "$stage"
    assert map_headers(["id"], OPP).columns[0].key == "id"


def test_name_and_address_parts() -> None:
    hm = map_headers(["First Name", "last_name", "E-mail", "Full name"], CON)
    assert keys(hm)[:3] == ["$name.firstName", "$name.lastName", "$email"]
    hm = map_headers(["Name"], CON)  # the whole FULL_NAME field (values.py splits "Ana Lima")
    assert keys(hm) == ["$name"] and hm.columns[0].column.kind == "field"
    hm = map_headers(["City", "Postal Code", "Country", "Address Street", "primaryAddress.state"], ACC)
    assert keys(hm) == [
        "$primaryAddress.city",
        "$primaryAddress.postalCode",
        "$primaryAddress.country",
        "$primaryAddress.street",
        "$primaryAddress.state",
    ]


def test_object_prefixed_labels_and_relationship_names() -> None:
    assert keys(map_headers(["Account Name"], ACC)) == ["$name"]
    assert keys(map_headers(["Account Name", "Owner"], OPP)) == ["$account", "$owner"]


def test_display_and_read_only_columns_are_ignored() -> None:
    hm = map_headers(
        ["Account name ($account#name)", "Status ($opportunityStatus) [read-only]", "Summary", "Tasks"], OPP
    )
    assert keys(hm) == ["$account#name", "$opportunityStatus", "summary", "$task"]
    assert not any(c.importable for c in hm.columns) and hm.by_key == {}
    # a read-only field warns unless its header says so, as bulkio's exports do
    assert codes(hm)[:2] == [
        ("read_only_column", "C", "warning"),
        ("read_only_column", "D", "warning"),
    ]


def test_unknown_columns_warn_with_suggestions() -> None:
    hm = map_headers(["Name", "Probabilty", "Colour", "", "Stage"], OPP, file="deals.csv", sheet=None)
    assert keys(hm) == ["$name", None, None, None, "$stage"]
    unknown = [i for i in hm.issues if i.code == "unknown_column"]
    assert [(i.column, i.header, i.severity, i.row, i.file) for i in unknown] == [
        ("B", "Probabilty", "warning", 1, "deals.csv"),
        ("C", "Colour", "warning", 1, "deals.csv"),
    ]
    assert 'did you mean "Probability" (probability)?' in unknown[0].message
    assert "did you mean" not in unknown[1].message


def test_ambiguous_fuzzy_match_is_not_guessed() -> None:
    schema = ObjectSchema.from_api(
        {
            "objectType": "site",
            "fieldDefinitions": {
                "home": {"label": "Home Address", "valueType": "ADDRESS", "typeConfiguration": {}},
                "work": {"label": "Work Address", "valueType": "ADDRESS", "typeConfiguration": {}},
            },
            "relationshipDefinitions": {},
        }
    )
    hm = map_headers(["City", "Work Address City"], schema)
    assert keys(hm) == [None, "work.city"]
    assert "it could be" in hm.issues[0].message and "home.city" in hm.issues[0].message


def test_duplicates_keep_the_first_column() -> None:
    hm = map_headers(["Email", "E-mail ($email)", "email"], CON)
    assert keys(hm) == ["$email", None, None]
    assert codes(hm)[:2] == [("duplicate_header", "B", "error"), ("duplicate_header", "C", "error")]
    assert hm.by_key["$email"].letter == "A" and hm.has_errors
    assert 'like column A "Email"' in hm.issues[0].message


def test_missing_key_column() -> None:
    hm = map_headers(["Name"], ACC)
    assert codes(hm) == [("missing_key_column", None, "warning")]
    assert map_headers(["Name", "External ID"], ACC).issues == []
    assert map_headers(["Name", "Record ID (id)"], ACC).issues == []
    hm = map_headers(["Name", "Code"], ACC, key_field="code")
    assert "has no such field" in hm.issues[-1].message


def test_explicit_mapping_wins_and_can_ignore() -> None:
    hm = map_headers(
        ["Company", "Stage", "Scratch"], OPP, mapping={"Company": "$name", "stage": "$stage", "Scratch": None}
    )
    assert keys(hm) == ["$name", "$stage", None]
    assert [c.how for c in hm.columns] == ["mapping"] * 3 and hm.issues[0].code == "missing_key_column"
    with pytest.raises(ConfigError, match=r"'\$stag'.*did you mean \$stage"):
        map_headers(["Stage"], OPP, mapping={"Stage": "$stag"})


def test_load_mapping_files(tmp_path: Path) -> None:
    j = tmp_path / "m.json"
    j.write_text(json.dumps({"columns": {"Company": "$name", "Notes": None, "X": " "}}))
    assert load_mapping_file(j) == {"Company": "$name", "Notes": None, "X": None}
    y = tmp_path / "m.yaml"
    y.write_text("Company: $name\nNotes:\n")
    assert load_mapping_file(y) == {"Company": "$name", "Notes": None}
    c = tmp_path / "m.csv"
    c.write_text("header,key\nCompany,$name\nNotes,\n", encoding="utf-8-sig")
    assert load_mapping_file(c) == {"Company": "$name", "Notes": None}
    lst = tmp_path / "l.json"
    lst.write_text(json.dumps([{"header": "Company", "key": "$name"}]))
    assert load_mapping_file(lst) == {"Company": "$name"}
    for name, text, message in [
        ("bad.json", "{", "cannot parse"),
        ("bad.toml", "a=1", ".json, .yaml"),
        ("num.json", '{"a": 1}', "header -> key"),
        ("missing.json", None, "cannot read"),
    ]:
        p = tmp_path / name
        if text is not None:
            p.write_text(text)
        with pytest.raises(InputFileError, match=message) as exc:
            load_mapping_file(p)
        assert str(p) in str(exc.value)


def test_letters_and_many_junk_columns() -> None:
    assert [letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]
    headers = ["Name", "External ID"] + [f"junk{i}" for i in range(3000)]
    hm = map_headers(headers, ACC)
    assert len(hm.issues) == 3000 and {i.code for i in hm.issues} == {"unknown_column"}
    assert hm.issues[-1].column == letter(3001)


def test_mapping_entry_for_a_missing_column_is_a_warning_with_a_hint() -> None:
    hm = map_headers(["Company", "Web"], ACC, mapping={"Company": "$name", "Wbe": "$website"})
    assert keys(hm)[0] == "$name"
    unused = [i for i in hm.issues if i.code == "unused_mapping"]
    assert len(unused) == 1 and unused[0].severity == "warning"
    assert "'Wbe', which is not in the file" in unused[0].message
    assert "did you mean 'Web'?" in unused[0].message
    # entries matched loosely (case, spaces) count as used
    hm = map_headers([" company "], ACC, mapping={"Company": "$name"})
    assert [i.code for i in hm.issues if i.code == "unused_mapping"] == []
