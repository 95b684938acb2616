"""Write what dry runs (and the real runs between them) report, to compare two versions of bulkio
byte for byte (issue 13: speeding up the local work must not change one outcome, issue, count or
results cell).

    python scripts/dry_run_outputs.py OUT [--rows 100000]   # before a change: OUT=/tmp/before
    python scripts/dry_run_outputs.py OUT2 ...              # after it
    diff -r OUT OUT2                                        # must print nothing

Each case writes ``<name>.json`` (``report.to_dict()`` without timings, run ids and the output
folder) and ``<name>.results.csv`` (the results file as written; with ``--xlsx``, the results
are written as XLSX and ``<name>.results.txt`` holds every sheet's cells with their types, and the
workbook runs' results too). Cases:

* the bench's opportunity file (``bench/bench_dry_run.make_csv``) against the demo org, dry run;
* the same keys written first (3,000 rows of another seed, or the file's own first rows), then
  the big file dry-run again: updates, unchanged rows and field-level changes past the dry run's
  ``KEEP_CHANGES``;
* ``tests/data/import`` and every file of ``tests/data/realistic`` as its test imports it: dry
  run, real run, dry run again (creates, then unchanged or updates), on a fresh org per vendor;
* the Pipedrive, Close and HubSpot folders as workbook runs (sheets referring to each other's
  rows), the same three steps.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_dry_run import make_csv

from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file
from bulkio.sandbox import SandboxServer

REAL = ROOT / "tests" / "data" / "realistic"
GERMAN_STAGES = """\
columns:
  Phase:
    field: $stage
    values: {Angebot: Proposal, Verhandlung: Negotiation, Gewonnen: Closed Won,
             Qualifiziert: Qualified, Verloren: Closed Lost}
  Betrag: ignore   # written in EUR; this org's amounts are USD
"""
_VOLATILE = ("duration_s", "rows_per_s", "run_id", "results_path", "errors_path")
_IDS = re.compile(r"\b(?:rec|opp|acc|con|note)_[0-9A-Za-z]{6,}\b")


class Cases:
    def __init__(self, out: Path, work: Path, sb: SandboxServer, xlsx: bool = False) -> None:
        self.out, self.work, self.sb, self.xlsx = out, work, sb, xlsx

    def org(self, seed: Any = "demo", records: bool = True) -> Any:
        org = self.sb.create_org(seed=seed, records=records)
        self.sb.set_rate_limit(org.org_id, per_second=1000, burst=1000)
        self.sb.set_faults(org.org_id, index_lag_ms=0)
        return org

    def book(self, name: str, org: Any, folder: Path, **kw: Any) -> None:
        """A workbook run (a folder of CSV files): its report, without the xlsx results file."""
        from bulkio.workbook import import_workbook

        with LightfieldClient(api_key=org.api_key, base_url=self.sb.url) as lf:
            report = import_workbook(
                folder,
                client=lf,
                results_path=self.work / f"{name}.xlsx",
                ledger_path=self.work / f"ledger-{org.org_id}.sqlite3",
                **kw,
            )
        ids = self.write(name, _without(report.to_dict()))
        if self.xlsx:
            self.keep(name, self.work / f"{name}.xlsx", ids)
        print(name, flush=True)

    def keep(self, name: str, results: Path, ids: dict[str, str]) -> None:
        """The results file in ``out`` (an XLSX as its cells, typed, sheet by sheet), the sandbox's
        record ids as the report's aliases."""
        if results.suffix == ".xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(results, read_only=True)
            lines = []
            for ws in wb.worksheets:
                lines.append(f"## {ws.title}")
                lines += [repr(row) for row in ws.iter_rows(values_only=True)]
            body, dest = ("\n".join(lines) + "\n").encode(), self.out / f"{name}.results.txt"
        else:
            body, dest = results.read_bytes(), self.out / f"{name}.results.csv"
        for real, alias in ids.items():
            body = body.replace(real.encode(), alias.encode())
        dest.write_bytes(re.sub(rb"'[0-9a-f]{32}'", b"'<run id>'", body))  # a summary sheet's

    def write(self, name: str, data: Any) -> dict[str, str]:
        """``<name>.json``; the sandbox's record ids (random) become ``<idN>`` in order of appearance."""
        text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True).replace(
            str(self.work), "<WORK>"
        )
        ids: dict[str, str] = {}
        text = _IDS.sub(lambda m: ids.setdefault(m.group(0), f"<id{len(ids)}>"), text)
        (self.out / f"{name}.json").write_text(text + "\n", encoding="utf-8")
        return ids

    def run(self, name: str, org: Any, path: Path, object_type: str, **kw: Any) -> None:
        results = self.work / f"{name}.results.{'xlsx' if self.xlsx else 'csv'}"
        with LightfieldClient(api_key=org.api_key, base_url=self.sb.url) as lf:
            report = import_file(
                path,
                object_type,
                client=lf,
                results_path=results,
                ledger_path=self.work / f"ledger-{org.org_id}.sqlite3",
                **kw,
            )
        ids = self.write(name, _without(report.to_dict()))
        if results.exists():
            self.keep(name, results, ids)
        print(name, report.counts.model_dump(), flush=True)


def _without(data: Any) -> Any:
    """``data`` without the volatile keys, at every level (a workbook's sheets have them too)."""
    if isinstance(data, dict):
        return {k: _without(v) for k, v in data.items() if k not in _VOLATILE}
    if isinstance(data, list):
        return [_without(v) for v in data]
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--xlsx", action="store_true", help="XLSX results, compared by their cells")
    args = ap.parse_args()
    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(db_path=Path(tmp) / "sb.sqlite3", seed="demo") as sb,
    ):
        work = Path(tmp)
        c = Cases(out, work, sb, args.xlsx)
        big = work / "opportunities.csv"
        make_csv(big, args.rows)
        demo = c.org()
        c.run("bench", demo, big, "opportunity", dry_run=True)
        written = c.org()
        first = work / "first.csv"
        make_csv(first, 3000, seed=8)
        c.run("bench-first-write", written, first, "opportunity")
        c.run("bench-after-write", written, big, "opportunity", dry_run=True)
        same = c.org()
        make_csv(first, 3000)  # the big file's first rows: unchanged
        c.run("bench-same-write", same, first, "opportunity")
        c.run("bench-after-same", same, big, "opportunity", dry_run=True)
        for f in sorted((ROOT / "tests" / "data" / "import").glob("messy_opportunities.*")):
            c.run(f"messy-{f.suffix[1:]}", demo, f, "opportunity", dry_run=True)

        import bulkio.sandbox

        seed = json.loads(
            (Path(bulkio.sandbox.__file__).parent / "seed_demo.json").read_text(encoding="utf-8")
        )
        for obj, key in (("opportunity", "amount"), ("account", "annualRevenue")):
            seed["objects"][obj]["fields"][key]["typeConfiguration"]["currency"] = "EUR"
        (work / "chancen.yaml").write_text(GERMAN_STAGES, encoding="utf-8")
        (work / "kunden.yaml").write_text("columns:\n  Umsatz: ignore\n  Branche: ignore\n", encoding="utf-8")
        vendors: list[tuple[str, Any, list[tuple[str, str, dict[str, Any]]]]] = [
            (
                "pipedrive",
                (seed, False),
                [
                    ("organizations-2024-09-02.csv", "account", {}),
                    ("people-2024-09-02.csv", "contact", {}),
                    ("deals-2024-09-02.csv", "opportunity", {}),
                ],
            ),
            (
                "salesforce",
                ("demo", False),
                [
                    ("Account.csv", "account", {}),
                    ("extract-opportunity.csv", "opportunity", {}),
                    ("report1725280512345.csv", "opportunity", {}),
                    ("Opportunity Pipeline-2024-09-02-11-00-00.xlsx", "opportunity", {}),
                ],
            ),
            (
                "hubspot",
                ("demo", False),
                [
                    ("hubspot-crm-exports-all-companies-2024-09-02.csv", "account", {}),
                    ("hubspot-crm-exports-all-contacts-2024-09-02.csv", "contact", {}),
                    ("hubspot-crm-exports-all-deals-2024-09-02.xlsx", "opportunity", {}),
                ],
            ),
            (
                "close",
                ("demo", False),
                [
                    ("Acme Sales leads 2024-09-02 11-00.csv", "account", {}),
                    ("Acme Sales contacts 2024-09-02 11-00.csv", "contact", {}),
                    ("Acme Sales opportunities 2024-09-02 11-00.csv", "opportunity", {}),
                ],
            ),
            (
                "handmade",
                ("demo", False),
                [
                    ("Kundenliste_2024.xlsx", "account", {}),
                    ("Kundenliste_2024.xlsx", "account", {"mapping": work / "kunden.yaml"}),
                    ("Verkaufschancen.csv", "opportunity", {"mapping": work / "chancen.yaml"}),
                    ("contacts_fr.csv", "contact", {"phone_region": "FR"}),
                ],
            ),
        ]
        for vendor, org_seed, records in (
            ("pipedrive", seed, False),
            ("close", "demo", False),
            ("hubspot", "demo", False),
        ):
            org = c.org(org_seed, records)  # the folder's CSV files as one workbook run
            folder = work / f"book-{vendor}"
            shutil.copytree(REAL / vendor, folder)
            for step, dry in (("dry", True), ("write", False), ("again", True)):
                c.book(f"book-{vendor}-{step}", org, folder, dry_run=dry)
        for vendor, (org_seed, records), files in vendors:
            org = c.org(org_seed, records)
            for i, (fname, object_type, kw) in enumerate(files):
                base = f"{vendor}-{i}"
                for step, dry in (("dry", True), ("write", False), ("again", True)):
                    try:
                        c.run(f"{base}-{step}", org, REAL / vendor / fname, object_type, dry_run=dry, **kw)
                    except Exception as exc:  # noqa: BLE001 - an error is an output too
                        (out / f"{base}-{step}.error").write_text(f"{type(exc).__name__}: {exc}\n")
                        print(base, step, "error", type(exc).__name__, flush=True)


if __name__ == "__main__":
    main()
