"""validate.py: cells → typed API values with located issues, no network."""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bulkio
from bulkio.client import LightfieldClient
from bulkio.definitions import ObjectSchema
from bulkio.mapping import map_headers
from bulkio.read import SourceRow
from bulkio.validate import CLEAR, Validator

SEED = Path(__file__).parent.parent / "bulkio" / "sandbox" / "seed_demo.json"
FAST = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def schema(object_type: str) -> ObjectSchema:
    obj = json.loads(SEED.read_text())["objects"][object_type]
    return ObjectSchema.from_api(
        {
            "objectType": object_type,
            "fieldDefinitions": obj["fields"],
            "relationshipDefinitions": obj.get("relationships", {}),
        }
    )


@pytest.fixture(scope="module")
def account() -> ObjectSchema:
    return schema("account")


HEADERS = [
    "Name",
    "external_id",
    "Annual Revenue",
    "Tier",
    "Industry",
    "City",
    "Country",
    "Owner",
    "Billing Email",
    "Account Status",
]


def check(account: ObjectSchema, cells: list[object], row: int = 2):  # type: ignore[no-untyped-def]
    hm = map_headers(HEADERS, account, file="a.csv")
    return Validator(account, hm, file="a.csv").check(SourceRow(row, cells))


def test_values_are_typed_and_parts_assembled(account: ObjectSchema) -> None:
    c = check(
        account,
        [
            "Acme",
            "A-1",
            "$1,200.50",
            "smb",
            "Retail; Software",
            "Berlin",
            "Germany",
            "ava@demo.lightfield.test",
            None,
            "ignored read-only",
        ],
    )
    assert c.ok and c.issues == []
    assert c.values == {
        "$name": "Acme",
        "external_id": "A-1",
        "annualRevenue": 1200.5,
        "tier": "smb",
        "$industry": ["Retail", "Software"],  # labels: resolved later
        "$primaryAddress": {"city": "Berlin", "country": "DE"},  # a partial address
        "$owner": ["ava@demo.lightfield.test"],  # a reference: resolved later
    }
    assert "$accountStatus" not in c.values


def test_blank_leaves_unchanged_and_clear_sends_null(account: ObjectSchema) -> None:
    c = check(account, ["Acme", "A-1", "#clear", None, "  ", "#clear", "#clear", "#clear", None, None])
    assert c.values["annualRevenue"] is CLEAR
    assert c.values["$primaryAddress"] is CLEAR  # every given part cleared → whole field
    assert c.values["$owner"] is CLEAR
    assert "tier" not in c.values and "$industry" not in c.values


def test_cell_issues_are_located(account: ObjectSchema) -> None:
    c = check(
        account, ["Acme", "A-1", "12.345", None, None, None, "Atlantis", None, "not-an-email", None], row=7
    )
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


# --- multi-value and reference cells of only separators ----------------------------------------
# A blank cell leaves a field unchanged and only #clear clears it, so a cell holding nothing but
# separators must be an issue: split naively it is [], which would clear the field on update.

MULTI_HEADERS = ["Name", "Industry", "Owner", "Contacts", "Website"]
#: column letter -> (key, what the validator makes of it): MULTI_SELECT, HAS_ONE, HAS_MANY, multi URL
MULTI_COLUMNS = {"B": "$industry", "C": "$owner", "D": "$contact", "E": "$website"}


def check_multi(account: ObjectSchema, cells: list[object], row: int = 2):  # type: ignore[no-untyped-def]
    hm = map_headers(MULTI_HEADERS, account, file="a.csv")
    return Validator(account, hm, file="a.csv").check(SourceRow(row, cells))


def test_multi_columns_are_what_the_tests_assume(account: ObjectSchema) -> None:
    assert account.fields["$industry"].value_type == "MULTI_SELECT"
    assert not account.relationships["$owner"].has_many
    assert account.relationships["$contact"].has_many
    assert account.fields["$website"].value_type == "URL" and account.fields["$website"].multiple


@pytest.mark.parametrize("cell", [";", ";;", " ; ; ", "; \n ;", "\t;", ";\u00a0"])
@pytest.mark.parametrize(
    ("letter", "header", "key", "code"),
    [
        ("B", "Industry", "$industry", "invalid_type"),  # MULTI_SELECT
        ("C", "Owner", "$owner", "invalid_type"),  # HAS_ONE relationship
        ("D", "Contacts", "$contact", "invalid_type"),  # HAS_MANY relationship
        ("E", "Website", "$website", "invalid_url"),  # multi-value URL field
    ],
)
def test_only_separators_is_an_issue_not_a_clear(
    account: ObjectSchema, cell: str, letter: str, header: str, key: str, code: str
) -> None:
    cells: list[object] = ["Acme", None, None, None, None]
    cells[ord(letter) - ord("A")] = cell
    c = check_multi(account, cells, row=9)
    assert key not in c.values and not c.ok
    [issue] = c.issues
    assert (issue.row, issue.column, issue.header, issue.field, issue.code, issue.value) == (
        9,
        letter,
        header,
        key,
        code,
        cell,
    )
    assert issue.file == "a.csv" and issue.severity == "error"
    assert issue.expected and "only separators" in issue.message
    if code == "invalid_type":
        assert "#clear" in issue.message  # says how to clear, and how to keep


def test_empty_items_between_separators_are_dropped(account: ObjectSchema) -> None:
    c = check_multi(account, ["Acme", "Retail;;Software", "mem_ava;", "c1; ;c2;", "a.com;;b.org;"])
    assert c.ok and c.issues == []
    assert c.values == {
        "$name": "Acme",
        "$industry": ["Retail", "Software"],
        "$owner": ["mem_ava"],
        "$contact": ["c1", "c2"],
        "$website": ["https://a.com", "https://b.org"],
    }
    c = check_multi(account, ["Acme", "Retail;", ";mem_ava", " ;c1", ";a.com"])
    assert c.ok and c.values == {
        "$name": "Acme",
        "$industry": ["Retail"],
        "$owner": ["mem_ava"],
        "$contact": ["c1"],
        "$website": ["https://a.com"],
    }


def test_has_one_counts_references_after_dropping_empty_items(account: ObjectSchema) -> None:
    assert check_multi(account, ["Acme", None, ";;mem_ava;;", None, None]).values["$owner"] == ["mem_ava"]
    c = check_multi(account, ["Acme", None, "mem_ava;;mem_ben", None, None])
    assert [(i.column, i.code) for i in c.issues] == [("C", "invalid_type")]


def test_blank_and_clear_are_unaffected(account: ObjectSchema) -> None:
    c = check_multi(account, ["Acme", "  ", "", "\n", None])
    assert c.ok and c.values == {"$name": "Acme"}
    c = check_multi(account, ["Acme", "#clear", "#CLEAR", " #clear ", "#clear"])
    assert c.ok and all(c.values[k] is CLEAR for k in MULTI_COLUMNS.values())


#: every character str.strip() removes (all are below U+3001), and the separator
_WHITESPACE = [chr(c) for c in range(0x3001) if chr(c).isspace()]
_separator_or_space = st.just(";") | st.sampled_from(_WHITESPACE)


@FAST
@given(cell=st.text(_separator_or_space, min_size=1, max_size=30))
@pytest.mark.parametrize("letter", sorted(MULTI_COLUMNS))
def test_property_separators_and_whitespace_never_give_an_empty_list(
    account: ObjectSchema, letter: str, cell: str
) -> None:
    cells: list[object] = ["Acme", None, None, None, None]
    cells[ord(letter) - ord("A")] = cell
    c = check_multi(account, cells)
    key = MULTI_COLUMNS[letter]
    assert key not in c.values  # never [] (a clear), never a value
    assert all(v != [] for v in c.values.values())
    if ";" in cell:  # separators: one located issue
        assert [(i.column, i.field, i.value) for i in c.issues] == [(letter, key, cell)]
        assert c.issues[0].code in ("invalid_type", "invalid_url")
    else:  # only whitespace: a blank cell
        assert c.ok and c.issues == []


_item = st.text(string.ascii_letters + string.digits + " -", min_size=1, max_size=12).filter(
    lambda s: bool(s.strip()) and s.strip().lower() != "#clear"
)
_gap = st.text(";" + " \t", min_size=1, max_size=4).filter(lambda s: ";" in s)


@FAST
@given(items=st.lists(_item, min_size=1, max_size=5), gaps=st.lists(_gap, min_size=6, max_size=6))
def test_property_empty_items_are_dropped(account: ObjectSchema, items: list[str], gaps: list[str]) -> None:
    # items joined by runs of separators (a;;b), with separators before and after (;a;)
    cell = gaps[0] + "".join(item + gap for item, gap in zip(items, gaps[1:] + gaps[1:], strict=False))
    c = check_multi(account, ["Acme", cell, None, cell, None])
    assert c.ok and c.values["$industry"] == c.values["$contact"] == [i.strip() for i in items]


# --- end to end: the import leaves the field as it is and reports the cell ---------------------

E2E_HEADERS = [
    "External ID (external_id)",
    "Industry ($industry)",
    "Owner ($owner)",
    "Contacts ($contact)",
    "Website ($website)",
]


def _snapshot(rec: dict[str, Any]) -> tuple[Any, ...]:
    f, r = rec["fields"], rec["relationships"]
    return (f["$industry"]["value"], f["$website"]["value"], r["$owner"]["values"], r["$contact"]["values"])


@pytest.mark.usefixtures("no_list_lag")  # the accounts below are created, then imported over at once
@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_import_of_separator_only_cells_clears_nothing(
    ext: str, sandbox: Any, org: Any, client: LightfieldClient, tmp_path: Path
) -> None:
    c1, c2 = (c["id"] for c in sandbox.records(org.org_id, "contact")[:2])
    ids = [
        client.create(
            "account",
            {
                "fields": {
                    "$name": f"Sep Co {n}",
                    "external_id": f"SEP-{n}",
                    "$industry": ["opt_industry_software", "opt_industry_retail"],
                    "$website": [f"https://sep{n}.example.com"],
                },
                "relationships": {"$owner": "mem_ava", "$contact": [c1]},
            },
        )["id"]
        for n in range(1, 6)
    ]
    before = {i: _snapshot(client.retrieve("account", i)) for i in ids}
    rows: list[list[Any]] = [
        ["SEP-1", " ; ; ", None, None, None],  # row 2: MULTI_SELECT, column B
        ["SEP-2", None, ";", None, None],  # row 3: HAS_ONE, column C
        ["SEP-3", None, None, ";;", None],  # row 4: HAS_MANY, column D
        ["SEP-4", None, None, None, "; "],  # row 5: multi-value URL, column E
        ["SEP-5", "Media;", "mem_ben;", f"{c1};;{c2};", "sep5.example.org;"],  # row 6: empty items dropped
    ]
    src = tmp_path / f"accounts.{ext}"
    if ext == "csv":
        with open(src, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([E2E_HEADERS, *rows])
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        for line in [E2E_HEADERS, *rows]:
            ws.append(line)
        wb.save(src)
    writes_before = int(sandbox.stats(org.org_id)["writes"])
    report = bulkio.import_file(src, "account", client=client, ledger_path=tmp_path / "l.db")

    assert {r.row: r.outcome for r in report.rows} == {
        2: "failed",
        3: "failed",
        4: "failed",
        5: "failed",
        6: "updated",
    }
    assert [i for i in report.flatten(["row", "column", "field", "code"]) if i[0] is not None] == [
        [2, "B", "$industry", "invalid_type"],
        [3, "C", "$owner", "invalid_type"],
        [4, "D", "$contact", "invalid_type"],
        [5, "E", "$website", "invalid_url"],
    ]
    assert int(sandbox.stats(org.org_id)["writes"]) - writes_before == 1  # only row 6
    for record_id in ids[:4]:  # nothing cleared
        assert _snapshot(client.retrieve("account", record_id)) == before[record_id]
    assert _snapshot(client.retrieve("account", ids[4])) == (
        ["opt_industry_media"],
        ["https://sep5.example.org"],
        ["mem_ben"],
        [c1, c2],
    )

    # the results sheet names the cell: row, column letter and header, code, message
    errored = {
        2: ("B", E2E_HEADERS[1], "invalid_type"),
        3: ("C", E2E_HEADERS[2], "invalid_type"),
        4: ("D", E2E_HEADERS[3], "invalid_type"),
        5: ("E", E2E_HEADERS[4], "invalid_url"),
    }
    out = Path(report.results_path or "")
    if ext == "csv":
        with open(out, encoding="utf-8", newline="") as fh:
            lines = list(csv.reader(fh))
        head = lines[0]
        sheet = {n: dict(zip(head, line, strict=True)) for n, line in enumerate(lines[1:], start=2)}
    else:
        res = openpyxl.load_workbook(out)
        rws = res.active
        assert rws is not None
        head = [c.value for c in rws[1]]
        sheet = {n: dict(zip(head, (c.value for c in rws[n]), strict=True)) for n in range(2, 7)}
        for n, (letter, _h, _c) in errored.items():  # the errored cell is marked
            cell = rws[f"{letter}{n}"]
            assert cell.fill.start_color.rgb == "FFFFC7CE" and cell.comment is not None
            assert "only separators" in cell.comment.text
    assert head[:5] == E2E_HEADERS
    for n, (letter, header, code) in errored.items():
        assert sheet[n]["Outcome"] == "failed"
        assert sheet[n]["Errors"].startswith(f"column {letter} ({header}): {code}: ")
        assert "only separators" in sheet[n]["Errors"]
    assert sheet[6]["Outcome"] == "updated" and not sheet[6]["Errors"]
