"""``bulkio migrate --from close --to lightfield`` through both sandboxes (real HTTP on both sides):
the seeded big Close org (500 leads, 1,500 contacts, 2,000 opportunities) arrives whole, every value
is migrated or listed in the report, a second run writes nothing, a killed run resumes without
duplicates, and the file path (export the Close workbook, import its sheets ``--from close``) keys
the records the same way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from openpyxl import load_workbook

import bulkio.crm.close.sandbox
from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.columns import MULTI_SEPARATOR
from bulkio.crm.close import CloseBackend
from bulkio.crm.close.encode import opportunity_name
from bulkio.crm.close.sandbox import CloseSandboxServer
from bulkio.errors import ConfigError
from bulkio.export import export_frames
from bulkio.migrate import KEY, draft_mappings, migrate, write_mappings
from bulkio.sandbox import SandboxServer

FAST = 2000.0
OBJECTS = {"lead": "account", "contact": "contact", "opportunity": "opportunity"}


def value(record: dict[str, Any], key: str) -> Any:
    entry = (record.get("fields") or {}).get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def rel(record: dict[str, Any], key: str) -> list[str]:
    return list(((record.get("relationships") or {}).get(key) or {}).get("values") or [])


def by_close_id(sandbox: SandboxServer, org: Any, lf_type: str) -> dict[str, dict[str, Any]]:
    records = sandbox.records(org.org_id, lf_type)
    ids = [value(r, KEY) for r in records]
    dupes = [k for k, n in Counter(ids).items() if n > 1]
    assert dupes == [], f"duplicate close_id in Lightfield {lf_type}: {dupes[:5]}"
    return {str(value(r, KEY)): r for r in records}


def medium_seed() -> dict[str, Any]:
    """The demo configuration with 200 leads, 300 contacts and 300 opportunities."""
    doc = json.loads(
        (Path(bulkio.crm.close.sandbox.__file__).parent / "seed_demo.json").read_text(encoding="utf-8")
    )
    doc["records"] = {"generate": {"leads": 200, "contacts": 300, "opportunities": 300, "seed": 11}}
    return dict(doc)


MEDIUM = medium_seed()


def orgs(close_sandbox: CloseSandboxServer, sandbox: SandboxServer, seed: Any) -> tuple[Any, Any]:
    corg = close_sandbox.create_org(seed=seed)
    close_sandbox.set_rate_limit(corg.org_id, per_second=FAST, search_per_second=FAST)
    lorg = sandbox.create_org(seed="demo", records=False)
    sandbox.set_rate_limit(lorg.org_id, per_second=FAST)
    return corg, lorg


def check_accounted(report: Any, frames: dict[str, Any]) -> None:
    """Every non-empty value of every Close column is migrated (the column has a Lightfield field),
    derived in Close, or listed among the unmapped values with its exact count."""
    how = {(r["object"], r["column"]): r for r in report.field_map}
    unmapped = Counter()
    for u in report.unmapped:
        unmapped[(u["object"], u["column"], str(u["value"]))] += int(u["count"])
    for close_type, frame in frames.items():
        for header in frame.columns:
            row = how.get((close_type, header))
            assert row is not None, (close_type, header)
            cells = [c for c in frame[header] if c is not None and str(c).strip() and str(c) != "nan"]
            if (
                not cells
                or row["lightfield"] is None
                and (row["how"].startswith(("derived", "names for reading", "as the name")))
            ):
                continue
            seen = Counter(p.strip() for c in cells for p in str(c).split(MULTI_SEPARATOR) if p.strip())
            for v, n in seen.items():
                listed = unmapped.get((close_type, header, v), 0)
                if row["lightfield"] is None:
                    assert listed == n, (close_type, header, v, n, listed)  # not migrated: listed, every one
                else:
                    assert listed in (0, n), (close_type, header, v, n, listed)  # dropped values: every one


@pytest.mark.timeout(180)
def test_big_close_org_migrates_whole_and_a_second_run_writes_nothing(
    close_sandbox: CloseSandboxServer, sandbox: SandboxServer, tmp_path: Path
) -> None:
    corg, lorg = orgs(close_sandbox, sandbox, "big")
    with (
        CloseBackend(api_key=corg.api_key, base_url=close_sandbox.api_url) as close,
        LightfieldClient(api_key=lorg.api_key, base_url=sandbox.url) as lf,
    ):

        def create(t: str, k: str, d: dict[str, Any]) -> bool:
            return sandbox.add_field(lorg.org_id, t, k, d)

        ledger = tmp_path / "ledger.db"
        dry = migrate(close, lf, dry_run=True, create_field=create, ledger_path=ledger)
        assert dry.counts["opportunity"]["created"] == 2000 and dry.failures == []
        assert sandbox.count(lorg.org_id, "account") == 0 and dry.created_fields == []

        report = migrate(close, lf, create_field=create, ledger_path=ledger, report_path=tmp_path / "m.xlsx")
        assert report.source_counts == {"lead": 500, "contact": 1500, "opportunity": 2000}
        for close_type, lf_type in OBJECTS.items():
            assert report.counts[close_type]["created"] == report.source_counts[close_type], report.counts
            assert sandbox.count(lorg.org_id, lf_type) == report.source_counts[close_type]
        assert report.failures == [] and report.ok
        assert {"account.close_id", "contact.close_id", "opportunity.close_id"} <= set(report.created_fields)

        frames = export_frames(close, ["lead", "contact", "opportunity"])
        check_accounted(report, frames)

        accounts = by_close_id(sandbox, lorg, "account")
        contacts = by_close_id(sandbox, lorg, "contact")
        opps = by_close_id(sandbox, lorg, "opportunity")
        leads = {r["id"]: r for r in close_sandbox.records(corg.org_id, "lead")}
        assert set(accounts) == set(leads)
        for lead_id, lead in leads.items():
            assert value(accounts[lead_id], "$name") == lead["display_name"]
        for c in close_sandbox.records(corg.org_id, "contact"):
            assert rel(contacts[c["id"]], "$account") == [accounts[c["lead_id"]]["id"]]
        members = {m["id"]: m for m in sandbox.records(lorg.org_id, "member")}
        stages = {o.id: o.label for o in lf.schema("opportunity").fields["$stage"].options}
        for o in close_sandbox.records(corg.org_id, "opportunity"):
            lf_opp = opps[o["id"]]
            assert value(lf_opp, "$name") == opportunity_name(o)
            assert value(lf_opp, "amount") == (
                None if o["value"] is None else pytest.approx(o["value"] / 100)
            )
            assert value(lf_opp, "probability") == o["confidence"]
            assert rel(lf_opp, "$account") == [accounts[o["lead_id"]]["id"]]
            if o["contact_id"]:
                assert rel(lf_opp, "$champion") == [contacts[o["contact_id"]]["id"]]
            owner = members[rel(lf_opp, "$owner")[0]]
            assert (
                f"{owner['fields']['$name']['value']['firstName']} {owner['fields']['$name']['value']['lastName']}"
                == o["user_name"]
            )
            stage = stages[value(lf_opp, "$stage")]
            if o["status_type"] == "won":  # won and lost kept
                assert stage == "Closed Won" and str(value(lf_opp, "closeDate")).startswith(o["date_won"])
            elif o["status_type"] == "lost":
                assert stage == "Closed Lost"
            else:
                assert stage not in ("Closed Won", "Closed Lost")

        again = migrate(close, lf, create_field=create, ledger_path=ledger)
        for close_type in OBJECTS:
            assert again.counts[close_type]["unchanged"] == report.source_counts[close_type], again.counts
        assert again.written == 0 and again.created_fields == []

    wb = load_workbook(tmp_path / "m.xlsx", read_only=True)
    assert wb.sheetnames == ["Counts", "Unmapped values", "Failures", "Fields", "Stages", "Users"]
    counts = list(wb["Counts"].iter_rows(values_only=True))
    assert counts[1][:4] == ("lead", "account", 500, 500)
    assert len(list(wb["Unmapped values"].iter_rows())) == len(report.unmapped) + 1


def test_demo_org_report_lists_what_did_not_map(
    close_sandbox: CloseSandboxServer, sandbox: SandboxServer, tmp_path: Path
) -> None:
    corg, lorg = orgs(close_sandbox, sandbox, "demo")
    with (
        CloseBackend(api_key=corg.api_key, base_url=close_sandbox.api_url) as close,
        LightfieldClient(api_key=lorg.api_key, base_url=sandbox.url) as lf,
    ):
        with pytest.raises(ConfigError, match="create accounts: a unique Text field 'close_id'"):
            migrate(close, lf)  # the real API cannot make fields: the run stops first
        assert sandbox.count(lorg.org_id, "account") == 0

        def create(t: str, k: str, d: dict[str, Any]) -> bool:
            return sandbox.add_field(lorg.org_id, t, k, d)

        report = migrate(
            close, lf, create_field=create, ledger_path=tmp_path / "l.db", report_path=tmp_path / "r.xlsx"
        )
        assert report.ok and report.counts["opportunity"]["created"] == 24
        stages = {r["status"]: (r["stage"], r["how"].split(" ")[0]) for r in report.stage_map}
        assert stages["Sales: Won"] == ("Closed Won", "won") and stages["Renewals: Won"] == (
            "Closed Won",
            "won",
        )
        assert stages["Churned"] == ("Closed Lost", "lost") and stages["Active"][0] == "Qualified"
        assert stages["Proposal Sent"][0] == "Proposal"
        assert {u["user"]: u["member"] for u in report.user_map} == {
            "Ava Admin": "mem_ava",
            "Ben Seller": "mem_ben",
            "Cleo Closer": "mem_cleo",
        }
        # Close's Industry "SaaS" and three product names have no option in the Lightfield demo org
        dropped = {(u["column"], u["value"]): u["count"] for u in report.unmapped if u["lightfield"]}
        assert ("Industry (industry)", "SaaS") in dropped and ("Products (products)", "Training") in dropped
        rows = list(
            load_workbook(tmp_path / "r.xlsx", read_only=True)["Unmapped values"].iter_rows(values_only=True)
        )
        assert ("lead", "Industry (industry)", "account.$industry", "SaaS") in {r[:4] for r in rows}

        # an edited stage map is used instead of the drafted one
        report_maps = write_mappings(draft_mappings(close, lf)[0], tmp_path / "maps")
        path = next(p for p in report_maps if p.name == "close-opportunity.yaml")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["columns"]["Status ($status)"]["values"]["Demo Scheduled"] = "Negotiation"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        edited = migrate(close, lf, mappings={"opportunity": path}, ledger_path=tmp_path / "l.db")
        demo = [
            o
            for o in close_sandbox.records(corg.org_id, "opportunity")
            if o["status_label"] == "Demo Scheduled"
        ]
        assert demo and edited.counts["opportunity"]["updated"] == len(demo)
        opps = by_close_id(sandbox, lorg, "opportunity")
        assert {opps[o["id"]]["fields"]["$stage"]["value"] for o in demo} == {"opt_stage_negotiation"}


def test_the_same_migration_through_files(
    close_sandbox: CloseSandboxServer, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Export the Close workbook, import its sheets into Lightfield with --from close (a stage map
    drafted by bulkio map), and the direct migration afterwards finds every record: no duplicate."""
    corg, lorg = orgs(close_sandbox, sandbox, "demo")
    for lf_type in OBJECTS.values():  # what a user creates in Lightfield's settings first
        sandbox.add_field(
            lorg.org_id,
            lf_type,
            KEY,
            {"label": "Close ID", "valueType": "TEXT", "typeConfiguration": {"unique": True}},
        )
    workbook = tmp_path / "close.xlsx"
    runner = CliRunner()
    env = {
        "CLOSE_API_KEY": corg.api_key,
        "CLOSE_BASE_URL": close_sandbox.api_url,
        "LIGHTFIELD_API_KEY": lorg.api_key,
        "LIGHTFIELD_BASE_URL": sandbox.url,
    }
    out = runner.invoke(cli, ["export", "pipeline", "--crm", "close", "-o", str(workbook)], env=env)
    assert out.exit_code == 0, out.output
    drafted = tmp_path / "opps.yaml"
    out = runner.invoke(
        cli,
        [
            "map",
            "opportunity",
            str(workbook),
            "--sheet",
            "Opportunities",
            "--from",
            "close",
            "-o",
            str(drafted),
        ],
        env=env,
    )
    assert out.exit_code == 0, out.output
    text = drafted.read_text(encoding="utf-8")
    # fill in what the draft left open: every status, and products the demo org lacks are left out
    spec = yaml.safe_load(text)
    spec["columns"]["Status ($status)"]["values"].update(
        {
            "Sales: Won": "Closed Won",
            "Renewals: Won": "Closed Won",
            "Churned": "Closed Lost",
            "Demo Scheduled": "Qualified",
            "Renewal Due": "Negotiation",
        }
    )
    spec["columns"]["Products (products)"] = "ignore"
    drafted.write_text(yaml.safe_dump(spec), encoding="utf-8")
    how = {"lead": ["--mapping", str(_without_industry(tmp_path))], "contact": ["--from", "close"]}
    how["opportunity"] = ["--mapping", str(drafted)]
    for close_type, sheet in (("lead", "Leads"), ("contact", "Contacts"), ("opportunity", "Opportunities")):
        lf_type = OBJECTS[close_type]
        args = [
            "import",
            lf_type,
            str(workbook),
            "--sheet",
            sheet,
            "--results",
            str(tmp_path / f"{sheet}.csv"),
        ]
        out = runner.invoke(cli, [*args, *how[close_type]], env=env)
        assert out.exit_code == 0, (sheet, out.output)
        assert sandbox.count(lorg.org_id, lf_type) == close_sandbox.count(corg.org_id, close_type)
    with (
        CloseBackend(api_key=corg.api_key, base_url=close_sandbox.api_url) as close,
        LightfieldClient(api_key=lorg.api_key, base_url=sandbox.url) as lf,
    ):
        after = migrate(close, lf, ledger_path=tmp_path / "l.db")
    assert {t: c["created"] for t, c in after.counts.items()} == {"lead": 0, "contact": 0, "opportunity": 0}
    for lf_type in OBJECTS.values():
        by_close_id(sandbox, lorg, lf_type)  # one record per Close id


def _without_industry(tmp_path: Path) -> Path:
    """The Leads profile, with the Industry column left out (SaaS has no option in the demo org)."""
    from bulkio.profiles import load_profile

    spec = load_profile(
        "close",
        "account",
        [
            "Record ID (id)",
            "Display name ($displayName) [read-only]",
            "Address: Postal code ($address.postalCode)",
        ],
    )
    data = spec.model_dump(mode="json", exclude_defaults=True)
    data.pop("detect", None)
    data["columns"]["Industry (industry)"] = "ignore"
    path = tmp_path / "leads.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.timeout(180)
def test_killed_migration_resumes_without_duplicates(
    close_sandbox: CloseSandboxServer, sandbox: SandboxServer, tmp_path: Path
) -> None:
    corg, lorg = orgs(close_sandbox, sandbox, MEDIUM)
    for lf_type in OBJECTS.values():
        sandbox.add_field(
            lorg.org_id,
            lf_type,
            KEY,
            {"label": "Close ID", "valueType": "TEXT", "typeConfiguration": {"unique": True}},
        )
    sandbox.set_rate_limit(lorg.org_id, per_second=60)
    sandbox.set_faults(lorg.org_id, latency_ms=30)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTFIELD_", "BULKIO_", "CLOSE_"))}
    env.update(
        CLOSE_API_KEY=corg.api_key,
        CLOSE_BASE_URL=close_sandbox.api_url,
        LIGHTFIELD_API_KEY=lorg.api_key,
        LIGHTFIELD_BASE_URL=sandbox.url,
        PYTHONUNBUFFERED="1",
    )
    args = [sys.executable, "-m", "bulkio", "migrate", "--from", "close", "--to", "lightfield", "-q"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while proc.poll() is None and time.monotonic() < deadline:
        if sandbox.count(lorg.org_id, "account") >= 60:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the migration finished before it could be killed"
    assert sandbox.count(lorg.org_id, "account") < 200
    sandbox.set_rate_limit(lorg.org_id, per_second=FAST)
    # lists hide what the killed run wrote last: only the ledger (replayed intents, known records)
    # keeps the resumed run from creating those records again
    sandbox.set_faults(lorg.org_id, index_lag_ms=4000)
    resume = [a for a in args if a != "-q"] + ["--resume"]
    done = subprocess.run(
        resume, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "resuming run" in done.stderr
    for close_type, lf_type in OBJECTS.items():
        migrated = by_close_id(sandbox, lorg, lf_type)
        assert set(migrated) == {r["id"] for r in close_sandbox.records(corg.org_id, close_type)}
    assert (tmp_path / "migration-report.xlsx").exists()
