"""``bulkio ui`` driven in a real browser: Debian's Chromium through Playwright, against the sandbox.

* a whole migration of a HubSpot export: open the companies, map a value, import them; open the
  deals, map a stage, fix two cells by keyboard, see the dry run's before → after, import, read the
  results, fix the row that failed and retry it, and undo when this bulkio has undo;
* a whole workbook (accounts, contacts and deals that refer to each other), uploaded, imported in
  order, then diffed again with nothing left to write;
* a 1,000,000-row file: page 1 at once, the last page and a row in the middle on demand, never
  more than a page in the browser;
* the token: a visit without it is refused, with it the address loses it.

What was written is read from the sandbox's own store (lists lag behind writes, as the real API's).

Screenshots of every step go to the test's tmp folder (printed with a failure); set
``BULKIO_UI_SCREENSHOTS=DIR`` to keep a copy. Chromium comes from the distribution (``.ci/run``
installs it); without it these tests skip locally and fail in CI.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bulkio.client import LightfieldClient
from bulkio.pipeline import import_file
from bulkio.ui import UiServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip(
        "Chromium is not installed (apt-get install chromium); CI installs it", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright

EXPORTS = Path(__file__).parent / "data" / "exports" / "hubspot"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 30_000  # ms: generous under a loaded CI machine; a step normally takes well under a second
expect.set_options(timeout=WAIT)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None, "CI must install chromium (.ci/run)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Shots:
    """Screenshots of each step, numbered; kept in the test's tmp folder (and a copy in
    ``$BULKIO_UI_SCREENSHOTS``)."""

    def __init__(self, page: Page, folder: Path, name: str) -> None:
        self.page, self.folder, self.name, self.n = page, folder, name, 0
        folder.mkdir(parents=True, exist_ok=True)
        self.extra = (
            Path(os.environ["BULKIO_UI_SCREENSHOTS"]) if os.environ.get("BULKIO_UI_SCREENSHOTS") else None
        )

    def __call__(self, step: str, *, full: bool = False) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=full)
        if self.extra is not None:
            self.extra.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.extra / f"{self.name}-{path.name}")
        return path

    @contextmanager
    def kept_on_failure(self) -> Iterator[None]:
        try:
            yield
        except BaseException as exc:
            try:
                self("failure", full=True)
            except Exception:  # noqa: BLE001, S110 - the page may be gone; the error matters
                pass
            exc.add_note(f"screenshots of every step: {self.folder}")
            raise


@pytest.fixture
def page(browser: Browser, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Page, Shots]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(WAIT)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    shots = Shots(pg, tmp_path / "screenshots", request.node.name)
    yield pg, shots
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def labelled(page: Page) -> list[str]:
    """Controls without an accessible name (there must be none)."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button, textarea')]
              .filter((e) => e.offsetParent !== null)
              .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
              .map((e) => e.outerHTML.slice(0, 80))"""
    )
    return found


def step(page: Page, name: str) -> None:
    page.get_by_role("button", name=re.compile(rf"^\d\. {name}")).click()


def wait_checked(page: Page) -> None:
    expect(page.locator("#status")).to_contain_text("every row read and checked")


def open_path(page: Page, path: Path, obj: str = "") -> None:
    step(page, "Open")
    page.get_by_label("Path of a file on this computer").fill(str(path))
    if obj:
        page.get_by_label("Object", exact=True).select_option(obj)
    page.get_by_role("button", name="Open", exact=True).click()
    wait_checked(page)


def run_and_wait(page: Page, button: str, where: str) -> None:
    page.get_by_role("button", name=button).click()
    expect(page.locator(f"#{where}-progress .job-facts")).to_contain_text(re.compile(r"^(done|failed)"))


def counts(page: Page, where: str) -> dict[str, int]:
    text = page.locator(f"#{where}-counts").inner_text()
    return {w: int(n.replace(",", "")) for n, w in re.findall(r"([\d,]+) ((?:would )?[a-z]+)", text)}


def test_token_is_needed(browser: Browser, client: LightfieldClient, tmp_path: Path) -> None:
    with UiServer(client, work_dir=tmp_path / "w") as ui:
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(ui.base_url + "/")
        assert "token required" in pg.content()
        pg.screenshot(path=str(tmp_path / "refused.png"))
        pg.goto(ui.url)
        expect(pg.locator("#crm")).to_contain_text("Lightfield sandbox")
        assert "token" not in pg.url  # the cookie carries it now
        context.close()


def test_hubspot_migration(page: tuple[Page, Shots], sandbox, empty_org, tmp_path: Path) -> None:
    pg, shot = page
    exports = tmp_path / "exports"  # copies and results sheets go beside the files: not in tests/data
    exports.mkdir()
    for name in ("hubspot-companies.csv", "hubspot-deals.csv"):
        shutil.copy(EXPORTS / name, exports / name)
    with (
        LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf,
        UiServer(lf, work_dir=tmp_path / "w") as ui,
        shot.kept_on_failure(),
    ):
        pg.goto(ui.url)
        shot("start")
        assert not labelled(pg)

        # --- companies: open, one value to map, import ------------------------------------------
        open_path(pg, exports / "hubspot-companies.csv")
        expect(pg.locator("#columns-info")).to_contain_text("Detected an export of HubSpot")
        expect(pg.get_by_label('Field for column B "Company name"')).to_have_value("$name")
        shot("companies-columns")
        assert not labelled(pg)
        step(pg, "Map values")
        row = pg.locator("#values-table tbody tr", has_text="Venture Capital & Private Equity")
        expect(row).to_contain_text("2")  # two rows have it
        pg.get_by_label('Map "Venture Capital & Private Equity" of Industry to').select_option("Fintech")
        expect(pg.locator("#values-table")).to_contain_text("Every value matches an option or a record")
        shot("companies-values")
        step(pg, "Import")
        run_and_wait(pg, "Import now", "import")
        assert counts(pg, "import") == {"created": 56}
        shot("companies-imported")
        assert len(list(sandbox.records(empty_org.org_id, "account"))) == 56

        # three of the deals exist already, with other amounts: the diff shows what changes
        seed = tmp_path / "old-deals.csv"
        with open(seed, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["Record ID", "Deal Name", "Deal Stage", "Amount", "Associated Company"])
            for rid, name, company in (
                ("31000000000", "Tyrell Partners (HS) - New", "Tyrell Partners (HS)"),
                ("31000000101", "Krusty Partners - Expansion", "Krusty Partners"),
                ("31000000202", "Gringotts Corp - Expansion", "Gringotts Corp"),
            ):
                w.writerow([rid, name, "Appointment Scheduled", "1000", company])
        old = import_file(seed, "opportunity", client=lf, profile="hubspot", results_path=tmp_path / "o.csv")
        assert old.counts.created == 3

        # --- deals: map a stage, fix two cells, diff, import, retry, undo -----------------------
        open_path(pg, exports / "hubspot-deals.csv")
        expect(pg.locator("#columns-info")).to_contain_text("reads like a HubSpot deals export")
        # a column sent to another field is checked again: Deal Type's values are no Source option
        pg.get_by_label('Field for column J "Deal Type"').select_option("source")
        step(pg, "Map values")
        expect(pg.locator("#values-table tbody tr", has_text="newbusiness")).to_have_count(1)
        step(pg, "Map columns")
        pg.get_by_label('Field for column J "Deal Type"').select_option("")
        wait_checked(pg)
        step(pg, "Map values")
        expect(pg.locator("#values-table tbody tr", has_text="newbusiness")).to_have_count(0)
        expect(pg.locator("#values-table tbody tr", has_text="Demo Completed")).to_contain_text("3")
        pg.get_by_label('Map "Demo Completed" of Deal Stage to').select_option("Proposal")
        expect(pg.locator("#values-table tbody tr", has_text="Demo Completed")).to_have_count(0)
        expect(pg.locator("#values-table tbody tr", has_text="Dan Departed")).to_contain_text("2")
        shot("deals-values")
        # the mapping with its value maps, kept for next month's export
        step(pg, "Recipes")
        pg.get_by_label("Recipe name").fill("hubspot deals")
        pg.get_by_role("button", name="Save recipe").click()
        expect(pg.locator("#recipes-table tbody tr", has_text="hubspot deals")).to_contain_text(
            "✔ same headers"
        )
        shot("deals-recipe")

        step(pg, "Review and fix")
        pg.get_by_label("Show").select_option("errors")
        expect(pg.locator("#grid-range")).to_contain_text("of 3 with errors")
        expect(pg.locator("#kinds")).to_contain_text("relationship_entity_missing: 2 rows")
        bad = pg.get_by_label("Row 14, Deal owner")
        expect(bad).to_have_attribute("aria-invalid", "true")  # marked by more than colour
        shot("deals-errors")
        # by keyboard alone: focus the cell, type, Enter
        for number, owner in ((14, "Ben Seller"), (35, "cleo@demo.lightfield.test")):
            cell = pg.get_by_label(f"Row {number}, Deal owner")
            cell.focus()
            pg.keyboard.press("Control+A")
            pg.keyboard.type(owner)
            pg.keyboard.press("Enter")
            expect(pg.locator("#status")).to_contain_text(f"Row {number}, Deal owner: saved")
            expect(pg.get_by_label(f"Row {number}, Deal owner")).not_to_have_attribute("aria-invalid", "true")
        expect(pg.locator("#grid tr:has(td.num:text-is('14')) .problems")).to_contain_text("✔ ok")
        shot("deals-fixed")
        pg.get_by_label("Show").select_option("errors")
        expect(pg.locator("#grid-range")).to_contain_text("of 1 with errors")  # row 29 is left
        expect(pg.locator("#grid tbody tr")).to_have_count(1)
        expect(pg.locator("#grid tbody")).to_contain_text("next quarter")

        step(pg, "Diff")
        run_and_wait(pg, "Run the dry run", "diff")
        assert counts(pg, "diff") == {"would create": 52, "would update": 3, "would fail": 1}
        update = pg.locator(
            "#diff-table tbody tr", has=pg.locator("td.outcome", has_text="would update")
        ).first
        amount = update.locator("td.change", has=pg.locator("del", has_text="1000"))
        expect(amount.locator("ins")).to_have_text("21900")  # Amount: before → after
        shot("deals-diff", full=False)
        pg.get_by_label("Show which rows of the dry run").select_option("failed")
        expect(pg.locator("#diff-table tbody tr")).to_have_count(1)
        expect(pg.locator("#diff-table")).to_contain_text("invalid_date")

        step(pg, "Import")
        expect(pg.locator("#import-target")).to_contain_text("fixes of step 4")
        run_and_wait(pg, "Import now", "import")
        assert counts(pg, "import") == {"created": 52, "updated": 3, "failed": 1}
        expect(pg.locator("#import-progress")).to_contain_text("rows/s")
        expect(pg.locator("#import-table")).to_contain_text("created")
        shot("deals-imported")
        deals = {
            r["fields"]["external_id"]["value"]: r for r in sandbox.records(empty_org.org_id, "opportunity")
        }
        assert len(deals) == 55
        assert deals["31000000000"]["fields"]["amount"]["value"] == 21900
        # the original file is untouched; the fixes went to a copy beside it, which was imported
        assert (exports / "hubspot-deals.csv").read_bytes() == (EXPORTS / "hubspot-deals.csv").read_bytes()
        fixed = (exports / "hubspot-deals.fixed.csv").read_text(encoding="utf-8")
        assert "Ben Seller" in fixed.splitlines()[13] and "next quarter" in fixed
        assert (exports / "hubspot-deals.fixed.results.csv").exists()
        assert sorted(p.name for p in exports.glob("hubspot-deals.fixed*")) == [
            "hubspot-deals.fixed.csv",
            "hubspot-deals.fixed.results.csv",
        ]  # the dry run and the import used one copy

        # fix the failed row, then retry only it
        step(pg, "Review and fix")
        pg.get_by_label("Row 29, Close Date").fill("2026-09-30")
        pg.get_by_label("Row 29, Close Date").press("Enter")
        expect(pg.locator("#status")).to_contain_text("Row 29, Close Date: saved")
        step(pg, "Import")
        pg.get_by_role("button", name="Retry failed rows").click()
        expect(pg.locator("#import-progress .job-facts")).to_contain_text(re.compile(r"^done"))
        expect(pg.locator("#import-counts")).to_contain_text("53 created")
        shot("deals-retried")
        assert len(list(sandbox.records(empty_org.org_id, "opportunity"))) == 56

        # undo takes back the import and its retry: what they created goes, what they updated returns
        assert _has_undo()
        pg.once("dialog", lambda d: d.accept())
        pg.get_by_role("button", name="Undo this import").click()
        expect(pg.locator("#status")).to_contain_text("Undo done.", timeout=60_000)
        shot("deals-undone")
        left = {
            r["fields"]["external_id"]["value"]: r for r in sandbox.records(empty_org.org_id, "opportunity")
        }
        assert set(left) == {"31000000000", "31000000101", "31000000202"}
        assert left["31000000000"]["fields"]["amount"]["value"] == 1000


def _has_undo() -> bool:
    from bulkio.ui.app import undo_available

    return undo_available()


def _workbook(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Accounts"
    ws.append(["External ID (external_id)", "Name* ($name)", "Tier (tier)"])
    ws.append(["wb-acc-1", "Workbook Widgets", "SMB"])
    ws.append(["wb-acc-2", "Workbook Gears", "Enterprise"])
    c = wb.create_sheet("Contacts")
    c.append(["External ID (external_id)", "First Name", "Last Name", "Email", "Account"])
    c.append(["wb-con-1", "Wanda", "Book", "wanda@widgets.example", "Workbook Widgets"])
    c.append(["wb-con-2", "Gary", "Gear", "gary@gears.example", "Workbook Gears"])
    d = wb.create_sheet("Deals")
    d.append(["External ID (external_id)", "Name* ($name)", "Stage", "Amount", "Account* ($account)"])
    d.append(["wb-opp-1", "Widgets renewal", "Qualified", 1200, "Workbook Widgets"])
    d.append(["wb-opp-2", "Gears pilot", "Proposal", 800.5, "Workbook Gears"])
    d.append(["wb-opp-3", "Gears expansion", "Lead", 5000, "Workbook Gears"])
    wb.create_sheet("Instructions").append(["Fill one row per record."])
    wb.save(path)


def test_whole_workbook(page: tuple[Page, Shots], sandbox, empty_org, tmp_path: Path) -> None:
    pg, shot = page
    book = tmp_path / "new-customers.xlsx"
    _workbook(book)
    with (
        LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf,
        UiServer(lf, work_dir=tmp_path / "w") as ui,
        shot.kept_on_failure(),
    ):
        pg.goto(ui.url)
        pg.get_by_label("Or upload a file").set_input_files(str(book))
        pg.get_by_role("button", name="Upload and open").click()
        expect(pg.locator("#sheets-table tbody tr")).to_have_count(3)  # Instructions is not data
        expect(pg.get_by_label("Object for Accounts")).to_have_value("account")
        expect(pg.get_by_label("Object for Contacts")).to_have_value("contact")
        expect(pg.get_by_label("Object for Deals")).to_have_value("opportunity")
        wait_checked(pg)
        shot("workbook-open")
        assert not labelled(pg)
        # each sheet has its own mapping and grid
        pg.get_by_label("Sheet", exact=True).select_option(label="Deals → opportunity")
        step(pg, "Review and fix")
        expect(pg.locator("#grid thead")).to_contain_text("Stage")
        expect(pg.locator("#grid tbody tr")).to_have_count(3)
        # find and replace in a column: every "Gears" in the deal names becomes "Cogs"
        pg.get_by_label("Find in column").select_option(label="Name* ($name)")
        pg.get_by_label("Find", exact=True).fill("Gears")
        pg.get_by_label("Replace with").fill("Cogs")
        pg.get_by_role("button", name="Replace all").click()
        expect(pg.locator("#status")).to_contain_text("Replaced in 2 rows")
        expect(pg.get_by_label("Row 3, Name* ($name)")).to_have_value("Cogs pilot")
        step(pg, "Import")
        expect(pg.locator("#import-target")).to_contain_text("Every sheet of new-customers.xlsx, in order")
        run_and_wait(pg, "Import now", "import")
        expect(pg.locator("#import-progress .job-facts")).to_contain_text(re.compile(r"^done"))
        assert counts(pg, "import") == {"created": 7}  # 2 accounts, 2 contacts, 3 deals
        expect(pg.locator("#import-table tbody tr")).to_have_count(3)  # the Deals sheet
        shot("workbook-imported")
        accounts = {
            r["fields"]["$name"]["value"]: r["id"] for r in sandbox.records(empty_org.org_id, "account")
        }
        assert set(accounts) == {"Workbook Widgets", "Workbook Gears"}
        assert len(list(sandbox.records(empty_org.org_id, "contact"))) == 2
        opps = list(sandbox.records(empty_org.org_id, "opportunity"))
        assert sorted(o["fields"]["$name"]["value"] for o in opps) == [
            "Cogs expansion",
            "Cogs pilot",
            "Widgets renewal",
        ]
        assert {o["relationships"]["$account"]["values"][0] for o in opps} == set(accounts.values())
        # a second look changes nothing: the dry run finds every row unchanged
        pg.get_by_label("Sheet", exact=True).select_option(label="Accounts → account")
        step(pg, "Diff")
        run_and_wait(pg, "Run the dry run", "diff")
        assert counts(pg, "diff") == {"unchanged": 7}  # every sheet, nothing to write
        expect(pg.locator("#diff-table tbody tr")).to_have_count(2)  # the Accounts sheet
        shot("workbook-diff")


def test_million_rows(page: tuple[Page, Shots], client: LightfieldClient, tmp_path: Path) -> None:
    pg, shot = page
    big = tmp_path / "million.csv"
    tiers = ["SMB", "Enterprise", "Mid-Market", "Strategic"]
    with open(big, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "Tier", "Employee Count"])
        w.writerows([f"Company {i:07d}", tiers[i % 4], i % 5000] for i in range(1_000_000))
    with (
        UiServer(client, file=big, object_type="account", work_dir=tmp_path / "w") as ui,
        shot.kept_on_failure(),
    ):
        pg.goto(ui.url)
        step(pg, "Review and fix")
        expect(pg.get_by_label("Row 2, Name")).to_have_value("Company 0000000")
        # counted, not loaded (bench/bench_ui.py measures how fast; a loaded machine only waits longer)
        expect(pg.locator("#grid-range")).to_contain_text("of 1,000,000", timeout=120_000)
        shot("million-first-page")
        pg.get_by_role("button", name="Last").click()
        expect(pg.get_by_label("Row 1000001, Name")).to_have_value("Company 0999999", timeout=120_000)
        expect(pg.locator("#grid-range")).to_contain_text("Rows 999,951–1,000,000 of 1,000,000")
        shot("million-last-page")
        pg.get_by_label("Go to row number (position in the file)").fill("500000")
        pg.get_by_label("Go to row number (position in the file)").press("Enter")
        expect(pg.get_by_label("Row 500001, Name")).to_have_value("Company 0499999")
        rows: Any = pg.locator("#grid tbody tr").count()
        assert rows == 50  # the browser holds one page, never the file
        shot("million-middle")


def test_a_click_before_the_page_has_its_state_still_uploads(
    page: tuple[Page, Shots], sandbox, empty_org, tmp_path: Path
) -> None:
    """The forms work from the first moment: with a slow CRM, /api/state answers late, and a file
    chosen and uploaded before it did was lost (the browser submitted the form itself and reloaded)."""
    pg, shot = page
    book = tmp_path / "accounts.csv"
    book.write_text("External ID,Name\nslow-1,Slow Start Co\n", encoding="utf-8")
    sandbox.set_faults(empty_org.org_id, latency_ms=1500)
    with (
        LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf,
        UiServer(lf, work_dir=tmp_path / "w") as ui,
        shot.kept_on_failure(),
    ):
        pg.goto(ui.url, wait_until="domcontentloaded")
        pg.get_by_label("Or upload a file").set_input_files(str(book))
        pg.get_by_role("button", name="Upload and open").click()
        expect(pg.locator("#sheets-table tbody tr")).to_have_count(1)  # (was: a reload to "/?")
        sandbox.set_faults(empty_org.org_id, latency_ms=0)
