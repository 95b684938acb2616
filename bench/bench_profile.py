"""A dry run with a profile (value maps, transforms) vs the same rows already in Lightfield's terms.

    python bench/bench_profile.py            # --rows 20000 --repeat 3

Both files hold the same deals: the baseline with bulkio's own headers and values (stage labels,
probability 0-100, ISO dates, owner emails); the other as a HubSpot deals export (HubSpot headers,
stage names mapped by the profile's value map, probability 0-1 through ``fraction``, amounts through
``currency``, dates through ``date`` patterns), imported with ``profile="hubspot"``. Each is run as
``import_file(..., dry_run=True)`` against the embedded sandbox (demo org), alternately, best of
``--repeat``. Prints rows/s and the ratio (profile time / baseline time); the target is ≤ 1.10.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file
from bulkio.sandbox import SandboxServer

STAGES = {
    "Appointment Scheduled": ("Lead", 0.2),
    "Qualified To Buy": ("Qualified", 0.4),
    "Presentation Scheduled": ("Proposal", 0.6),
    "Contract Sent": ("Negotiation", 0.9),
    "Closed Won": ("Closed Won", 1.0),
}
OWNERS = [("Ava Admin", "ava@demo.lightfield.test"), ("Ben Seller", "ben@demo.lightfield.test")]


def make_files(folder: Path, rows: int, accounts: list[str]) -> tuple[Path, Path]:
    rnd = random.Random(11)
    plain, hub = folder / "plain.csv", folder / "hubspot.csv"
    with plain.open("w", newline="") as a, hub.open("w", newline="") as b:
        wa, wb = csv.writer(a), csv.writer(b)
        wa.writerow(
            ["external_id", "Name", "Stage", "Amount", "Probability", "Close Date", "Owner", "Account"]
        )
        wb.writerow(
            [
                "Record ID",
                "Deal Name",
                "Deal Stage",
                "Amount",
                "Deal probability",
                "Close Date",
                "Deal owner",
                "Associated Company",
                "Pipeline",
                "Create Date",
            ]
        )
        for i in range(rows):
            hs_stage = rnd.choice(list(STAGES))
            stage, prob = STAGES[hs_stage]
            amount = f"{rnd.randrange(10, 9000) * 10}.50"
            day = f"2026-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}"
            name, email = OWNERS[i % 2]
            acc = accounts[i % len(accounts)]
            wa.writerow(
                [
                    str(10**9 + i),
                    f"Deal {i}",
                    stage,
                    amount,
                    int(prob * 100),
                    f"{day} 10:15",
                    email,
                    acc,
                    "Sales Pipeline",
                    f"{day} 09:00",
                ]
            )
            wb.writerow(
                [
                    str(10**9 + i),
                    f"Deal {i}",
                    hs_stage,
                    amount,
                    prob,
                    f"{day} 10:15",
                    name,
                    acc,
                    "Sales Pipeline",
                    f"{day} 09:00",
                ]
            )
    return plain, hub


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(db_path=Path(tmp) / "sb.sqlite3", seed="demo") as sb,
    ):
        org = sb.create_org(seed="demo")
        with LightfieldClient(api_key=org.api_key, base_url=sb.url) as lf:
            accounts = [r["fields"]["$name"]["value"] for r in lf.list_all("account")][:5]
            plain, hub = make_files(Path(tmp), args.rows, accounts)
            best = {"baseline": float("inf"), "profile": float("inf")}
            for _ in range(args.repeat):
                for label, path, profile in (("baseline", plain, "none"), ("profile", hub, "hubspot")):
                    t0 = time.perf_counter()
                    report = import_file(
                        path,
                        "opportunity",
                        client=lf,
                        dry_run=True,
                        profile=profile,
                        results_path=Path(tmp) / f"{label}.results.csv",
                    )
                    best[label] = min(best[label], time.perf_counter() - t0)
                    assert report.counts.created == args.rows, (label, report.counts)
    for label, t in best.items():
        print(f"{label:9s} {t:7.2f} s  {args.rows / t:9.0f} rows/s")
    print(f"ratio profile/baseline: {best['profile'] / best['baseline']:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
