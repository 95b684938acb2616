"""bulkio's key flows against both sandbox profiles, whatever ``--sandbox-profile`` the session runs:
import the README samples (labels and names in the files, which bulkio resolves to ids), re-import
at once (lists still lag on the strict profile) with the ledger and with a lost one, import keyless
tasks and refuse a second run, export the pipeline and re-import it unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bulkio.client import LightfieldClient
from bulkio.errors import ConfigError
from bulkio.export import export_objects
from bulkio.pipeline import import_file

SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture(params=["strict", "lenient"])
def server(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_sandbox")


def test_samples_import_reimport_export_roundtrip(server: Any, tmp_path: Path) -> None:
    org = server.create_org(seed="demo")  # the profile's own list lag (strict: 2 s)
    for name in ("accounts.csv", "contacts.xlsx", "opportunities.csv", "opportunities_messy.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    ledger = tmp_path / "l.db"
    with LightfieldClient(api_key=org.api_key, base_url=server.url) as lf:
        for name, otype in (
            ("accounts.csv", "account"),
            ("contacts.xlsx", "contact"),
            ("opportunities.csv", "opportunity"),
        ):
            report = import_file(tmp_path / name, otype, client=lf, ledger_path=ledger)
            assert report.ok and report.counts.created == report.counts.total, (name, report.flatten())
        # at once: the strict lists do not show the new records yet; the ledger knows them
        again = import_file(tmp_path / "accounts.csv", "account", client=lf, ledger_path=ledger)
        assert again.counts.unchanged == again.counts.total and again.requests < 20
        # a lost ledger: every create meets its key taken and is matched, never failed
        lost = import_file(tmp_path / "accounts.csv", "account", client=lf, ledger_path=tmp_path / "lost.db")
        assert lost.ok and lost.counts.unchanged == lost.counts.total
        assert server.count(org.org_id, "account") == 25 + again.counts.total

        messy = import_file(tmp_path / "opportunities_messy.csv", "opportunity", client=lf, dry_run=True)
        assert messy.counts.failed == 6  # the same six bad rows on both profiles

        out = tmp_path / "pipeline.xlsx"
        export_objects(lf, "pipeline", out)
        back = import_file(out, "opportunity", client=lf, ledger_path=ledger)
        assert back.ok and back.counts.created == 0 and back.counts.updated == 0, back.flatten()
        assert back.counts.unchanged >= 40


def test_keyless_tasks_import_once(server: Any, tmp_path: Path) -> None:
    org = server.create_org(seed="demo", records=False)
    src = tmp_path / "tasks.csv"
    src.write_text(
        "Title,Status,Assigned To,Due At\n"
        "Call Ava,To do,ava@demo.lightfield.test,2026-05-01 09:00\n"
        "Send deck,complete,Ben Seller,2026-05-02\n",
        encoding="utf-8",
    )
    with LightfieldClient(api_key=org.api_key, base_url=server.url) as lf:
        report = import_file(src, "task", client=lf, ledger_path=tmp_path / "l.db")
        assert report.ok and report.counts.created == 2, report.flatten(["row", "column", "code"])
        tasks = {r["fields"]["$title"]["value"]: r for r in server.records(org.org_id, "task")}
        assert tasks["Send deck"]["fields"]["$status"]["value"] == "COMPLETE"
        assert tasks["Call Ava"]["fields"]["$dueAt"]["value"] == "2026-05-01T09:00:00.000Z"
        with pytest.raises(ConfigError, match="--allow-duplicates"):
            import_file(src, "task", client=lf, ledger_path=tmp_path / "l.db")
    assert server.count(org.org_id, "task") == 2


def test_a_chained_import_waits_for_lists_to_show_what_it_names(server: Any, tmp_path: Path) -> None:
    """Accounts imported, then at once contacts naming them: the names resolve through lists, which
    lag on the strict profile; the import waits until they show the new accounts (not at all when
    lists keep up) instead of reporting relationship_entity_missing."""
    org = server.create_org(seed="demo", records=False)
    accounts, contacts = tmp_path / "accounts.csv", tmp_path / "contacts.csv"
    accounts.write_text(
        "Name,external_id\n" + "".join(f"Chain Co {i},CHAIN-{i}\n" for i in range(5)), encoding="utf-8"
    )
    contacts.write_text(
        "First name,Last name,external_id,Account\n"
        + "".join(f"Per,Son {i},CHAIN-C{i},Chain Co {i}\n" for i in range(5)),
        encoding="utf-8",
    )
    messages: list[str] = []
    with LightfieldClient(api_key=org.api_key, base_url=server.url) as lf:
        assert import_file(accounts, "account", client=lf, ledger_path=tmp_path / "l.db").ok
        report = import_file(
            contacts,
            "contact",
            client=lf,
            ledger_path=tmp_path / "l.db",
            on_event=lambda e: messages.append(getattr(e, "text", "")),
        )
    assert report.ok and report.counts.created == 5, report.flatten(["row", "column", "code"])
    waited = any(m.startswith("waiting for lists to show the account records") for m in messages)
    assert waited is (server.profile.name == "strict")
    linked = {
        r["fields"]["$name"]["value"]["lastName"]: r["relationships"]["$account"]["values"]
        for r in server.records(org.org_id, "contact")
    }
    names = {r["id"]: r["fields"]["$name"]["value"] for r in server.records(org.org_id, "account")}
    assert {k: [names[i] for i in v] for k, v in linked.items()} == {
        f"Son {i}": [f"Chain Co {i}"] for i in range(5)
    }
