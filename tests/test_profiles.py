"""Exports of HubSpot, Salesforce, Close and Pipedrive import on the first try (issue 9): with
``--from X`` and with auto-detection, against the sandbox. Valid rows are all written; the rows
with the blemishes make_exports.py put in (tests/data/exports/BLEMISHES.txt) fail, and nothing
else does; a second run writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.events import Message
from bulkio.pipeline import import_file
from bulkio.profiles import VENDORS, detect_any, detect_profile, load_profile

EXPORTS = Path(__file__).parent / "data" / "exports"
FILES = {
    "hubspot": ("hubspot-companies.csv", "hubspot-contacts.csv", "hubspot-deals.csv"),
    "salesforce": ("salesforce-accounts.csv", "salesforce-contacts.csv", "salesforce-opportunities.csv"),
    "close": ("close-leads.csv", "close-contacts.csv", "close-opportunities.csv"),
    "pipedrive": ("pipedrive-organizations.csv", "pipedrive-persons.csv", "pipedrive-deals.csv"),
}
OBJECTS = ("account", "contact", "opportunity")


def blemishes() -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for line in (EXPORTS / "BLEMISHES.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, rest = line.partition(": ")
        out[name] = [(int(p.split()[0]), p.split()[1]) for p in rest.split(", ")]
    return out


def failures(report) -> list[tuple[int, str]]:
    return sorted(
        (r.row, i.code)
        for r in report.rows
        if r.outcome in ("failed", "would fail")  # a run, or a dry run
        for i in r.issues
        if i.severity == "error"
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_export_imports_on_first_try(vendor: str, sandbox, empty_org, tmp_path: Path) -> None:
    expected = blemishes()
    with LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf:
        for obj, name in zip(OBJECTS, FILES[vendor]):
            path = EXPORTS / vendor / name
            rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
            assert rows >= 50
            report = import_file(
                path,
                obj,
                client=lf,
                profile=vendor,
                results_path=tmp_path / f"{name}.results.csv",
                ledger_path=tmp_path / "ledger.sqlite3",
            )
            bad = expected[f"{vendor}/{name}"]
            assert failures(report) == sorted(bad), name
            assert report.counts.created == rows - len({r for r, _ in bad}), name
            assert not [i for i in report.file_issues if i.severity == "error"]
            # every value that matched nothing is listed once per (column, value), with its count
            for group in report.unresolved:
                assert group["count"] == sum(
                    1
                    for r in report.rows
                    for i in r.issues
                    if i.code == group["code"] and i.column == group["column"] and group["value"] in i.message
                )
        # auto-detected, the same files change nothing on a second run (dry run: nothing written)
        for obj, name in zip(OBJECTS, FILES[vendor]):
            messages: list[str] = []

            def collect(e: object, messages: list[str] = messages) -> None:
                if isinstance(e, Message):
                    messages.append(e.text)

            again = import_file(
                EXPORTS / vendor / name,
                obj,
                client=lf,
                dry_run=True,
                results_path=tmp_path / f"{name}.again.csv",
                ledger_path=tmp_path / "ledger.sqlite3",  # knows the records lists do not show yet
                on_event=collect,
            )
            assert any("reads like" in m and vendor.lower() in m.lower() for m in messages), messages
            assert again.counts.created == 0 and again.counts.updated == 0, (name, again.counts)
            assert failures(again) == sorted(expected[f"{vendor}/{name}"]), name


def test_foreign_ids_are_keys_not_record_ids() -> None:
    """Every profile takes its CRM's id column as the key field, never as the Record ID."""
    for vendor in VENDORS:
        for obj in OBJECTS:
            spec = load_profile(vendor, obj)
            targets = spec.targets()
            assert "id" not in targets.values()
            assert "external_id" in targets.values(), (vendor, obj)
            assert spec.source and "https://" in spec.source  # each profile cites where its headers come from


def test_detection_is_unambiguous() -> None:
    for vendor, names in FILES.items():
        for obj, name in zip(OBJECTS, names):
            headers = (EXPORTS / vendor / name).open(encoding="utf-8").readline().strip().split(",")
            found = detect_profile(headers, obj)
            assert found is not None and found[0] == vendor, (vendor, name)
            # a file of one object is recognised as that object only
            assert [(v, o) for v, o, _ in detect_any(headers)] == [(vendor, obj)]
    assert detect_profile(["Name", "Stage", "Amount"], "opportunity") is None


def test_cli_from_and_grouped_values(sandbox, empty_org, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"LIGHTFIELD_API_KEY": empty_org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url}
    acc = runner.invoke(
        cli,
        [
            "import",
            "account",
            str(EXPORTS / "hubspot" / "hubspot-companies.csv"),
            "--from",
            "hubspot",
            "-q",
            "--results",
            str(tmp_path / "a.csv"),
        ],
        env=env,
    )
    assert acc.exit_code == 1, acc.output
    assert "Industry: 'Venture Capital & Private Equity' ×2 — no such option; nearest:" in acc.output
    deals = runner.invoke(
        cli,
        [
            "import",
            "opportunity",
            str(EXPORTS / "hubspot" / "hubspot-deals.csv"),
            "--dry-run",
            "--results",
            str(tmp_path / "d.csv"),
        ],
        env=env,
    )
    assert deals.exit_code == 1, deals.output
    assert "reads like a HubSpot deals export" in deals.output
    assert "Deal Stage: 'Demo Completed' ×3 — no such option" in deals.output
    assert "Deal owner: 'Dan Departed' ×2 — no such record" in deals.output


def test_from_choices_are_every_source_with_profiles() -> None:
    """``--from`` (import and map) offers every source bulkio.profiles has (the CLI keeps its own
    copy so that ``bulkio --help`` imports no profiles)."""
    from bulkio.cli.console import PROFILE_CHOICES
    from bulkio.profiles import ALL_SOURCES

    assert PROFILE_CHOICES == ("auto", *ALL_SOURCES, "none")
