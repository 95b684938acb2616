"""``bulkio ui`` over real HTTP, without a browser: who may talk to it (token, host, origin, CSRF,
loopback only), that the key never reaches the page, uploads within limits and through the
reader's guards, the grid (paging, filters, edits re-checked, find-and-replace), copies that never
replace the original, recipes the CLI reads, and ``bulkio ui`` itself as a process.

The browser tests (tests/test_ui_browser.py) drive the same page through Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.errors import ConfigError
from bulkio.mapfile import load_mapping
from bulkio.read import open_table
from bulkio.ui import UiServer

DATA = Path(__file__).parent / "data"
DEALS = DATA / "exports" / "hubspot" / "hubspot-deals.csv"
COMPANIES = DATA / "exports" / "hubspot" / "hubspot-companies.csv"


@pytest.fixture
def ui(client: LightfieldClient, tmp_path: Path, state_dir: Path) -> Iterator[UiServer]:
    with UiServer(client, work_dir=tmp_path / "ui-work", state_dir=state_dir) as server:
        yield server


def session(ui: UiServer) -> tuple[httpx.Client, dict[str, str]]:
    """A client holding the page's cookie, and the CSRF header the page would send."""
    http = httpx.Client(base_url=ui.base_url, timeout=30)
    page = http.get(ui.url, follow_redirects=True)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    return http, {"X-CSRF-Token": csrf.group(1)}


def wait_checked(http: httpx.Client, wid: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        ws = http.get(f"/api/ws/{wid}").json()
        if all(s["rows_done"] and s["check_done"] for s in ws["sheets"]) or time.monotonic() > deadline:
            return ws
        time.sleep(0.05)


def open_file(http: httpx.Client, h: dict[str, str], path: Path, **kw: str) -> dict:
    r = http.post("/api/open", json={"path": str(path), **kw}, headers=h)
    assert r.status_code == 200, r.text
    return wait_checked(http, r.json()["id"])


def test_token_is_required_and_moves_to_a_cookie(ui: UiServer) -> None:
    raw = httpx.Client(base_url=ui.base_url)
    for path in ("/", "/api/state", "/static/app.js", "/api/ws/x"):
        r = raw.get(path)
        assert r.status_code == 403, path
        assert "token required" in r.text
    assert raw.get("/?token=wrong").status_code == 403
    r = raw.get(ui.url)
    assert r.status_code == 303 and r.headers["location"] == "/"  # the token leaves the address bar
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and ui.token in cookie
    assert raw.get("/api/state").status_code == 200  # the cookie now carries it
    assert httpx.get(ui.base_url + "/api/state").status_code == 403  # another client has none
    # every answer forbids framing and foreign scripts
    page = raw.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_cross_site_requests_are_refused(ui: UiServer) -> None:
    http, h = session(ui)
    body = {"path": str(COMPANIES)}
    # DNS rebinding: a page on another name that resolves to 127.0.0.1
    assert http.get("/api/state", headers={"Host": "evil.example"}).status_code == 403
    assert http.post("/api/open", json=body).status_code == 403  # no CSRF header
    assert http.post("/api/open", json=body, headers={"X-CSRF-Token": "guess"}).status_code == 403
    evil = {**h, "Origin": "http://evil.example"}
    assert http.post("/api/open", json=body, headers=evil).status_code == 403
    assert http.post("/api/open", json=body, headers={**h, "Sec-Fetch-Site": "cross-site"}).status_code == 403
    ok = http.post("/api/open", json=body, headers={**h, "Origin": ui.base_url})
    assert ok.status_code == 200, ok.text


def test_listens_on_loopback_only(client: LightfieldClient) -> None:
    for host in ("0.0.0.0", "192.168.1.5", "example.com"):
        with pytest.raises(ConfigError, match="loopback only"):
            UiServer(client, host=host)


def test_the_api_key_never_reaches_the_page(ui: UiServer, org) -> None:
    http, h = session(ui)
    ws = open_file(http, h, DEALS)
    wid = ws["id"]
    job = http.post(f"/api/ws/{wid}/run/dry-run", json={}, headers=h).json()
    while http.get(f"/api/jobs/{job['id']}").json()["status"] == "running":
        time.sleep(0.1)
    bodies = [
        http.get(p).text
        for p in (
            "/",
            "/static/app.js",
            "/api/state",
            f"/api/ws/{wid}",
            f"/api/ws/{wid}/sheets/s0/columns",
            f"/api/ws/{wid}/sheets/s0/values",
            f"/api/ws/{wid}/sheets/s0/grid?limit=500",
            f"/api/jobs/{job['id']}",
            f"/api/jobs/{job['id']}/rows?limit=500",
        )
    ]
    assert all(org.api_key not in b for b in bodies)
    assert http.get("/api/state").json()["sandbox"] is True


def test_uploads_have_limits_and_the_readers_guards(client: LightfieldClient, tmp_path: Path) -> None:
    with UiServer(client, work_dir=tmp_path / "w", max_upload=10_000) as ui:
        http, h = session(ui)
        big = b"Name\n" + b"x" * 20_000
        r = http.post("/api/upload?name=big.csv", content=big, headers=h)
        assert r.status_code == 413 and "upload limit" in r.json()["error"]
        assert http.post("/api/upload?name=e.csv", content=b"", headers=h).status_code == 400
        # a workbook with an entity expansion is refused by the reader, as by the CLI
        bomb = (DATA / "broken" / "billion_laughs.xlsx").read_bytes()
        r = http.post("/api/upload?name=../../laughs.xlsx", content=bomb, headers=h)
        assert r.status_code == 400 and "DTD" in r.json()["error"], r.text
        assert not list((tmp_path / "w").glob("*/laughs.xlsx"))  # nothing kept of a refused file
        # a good upload: the name is only a name (no path), the object detected
        r = http.post("/api/upload?name=../companies.csv", content=COMPANIES.read_bytes(), headers=h)
        assert r.status_code == 200, r.text
        ws = r.json()
        assert ws["name"] == "companies.csv" and ws["path"] is None
        assert ws["sheets"][0]["object_type"] == "account"


def test_grid_pages_filters_edits_and_copies(ui: UiServer, tmp_path: Path) -> None:
    src = tmp_path / "deals.csv"
    shutil.copy(DEALS, src)
    before = src.read_bytes()
    http, h = session(ui)
    ws = open_file(http, h, src)
    wid, base = ws["id"], f"/api/ws/{ws['id']}/sheets/s0"
    assert ws["sheets"][0]["object_type"] == "opportunity"
    assert ws["sheets"][0]["profile"] == "hubspot"
    page = http.get(f"{base}/grid?offset=0&limit=10").json()
    lines = len(DEALS.read_text(encoding="utf-8").splitlines()) - 1
    assert [r["number"] for r in page["rows"]] == list(range(2, 12)) and page["total"] == lines
    kinds = {k["code"]: k["rows"] for k in page["kinds"]}
    assert kinds["unknown_option"] == 3 and kinds["invalid_date"] == 1
    errors = http.get(f"{base}/grid?only=errors&code=invalid_date").json()
    assert [r["number"] for r in errors["rows"]] == [29]
    bad = errors["rows"][0]
    issue = bad["issues"][0]
    assert issue["column"] == "F" and issue["col"] == 5  # on its cell: Close Date "next quarter"
    # fix it in place: the row is checked again at once
    r = http.post(f"{base}/cell", json={"n": bad["n"], "col": 5, "value": "2026-09-30"}, headers=h).json()
    assert not [i for i in r["row"]["issues"] if i["code"] == "invalid_date"]
    assert r["row"]["edited"] == [5] and r["row"]["cells"][5] == "2026-09-30"
    # a bad value is marked again on its cell
    r = http.post(f"{base}/cell", json={"n": bad["n"], "col": 5, "value": "soon"}, headers=h).json()
    assert [i["col"] for i in r["row"]["issues"] if i["code"] == "invalid_date"] == [5]
    http.post(f"{base}/cell", json={"n": bad["n"], "col": 5, "value": "2026-09-30"}, headers=h)
    # find and replace on a column: every 'Demo Completed' of Deal Stage becomes Proposal
    r = http.post(
        f"{base}/replace",
        json={"col": 3, "find": "Demo Completed", "replace": "Proposal", "whole": True},
        headers=h,
    )
    assert r.json()["changed"] == 3
    kinds = {k["code"] for k in http.get(f"{base}/grid").json()["kinds"]}
    assert "unknown_option" not in kinds and "invalid_date" not in kinds
    # the copy holds the fixes, beside the original, which is unchanged
    copy = Path(http.post(f"/api/ws/{wid}/save", headers=h).json()["path"])
    assert copy == tmp_path / "deals.fixed.csv" and src.read_bytes() == before
    with open_table(copy) as t:
        rows = {r.number: r.cells for r in t.rows}
    assert rows[29][5] == "2026-09-30" and sum(1 for c in rows.values() if c[3] == "Proposal") >= 3
    assert Path(http.post(f"/api/ws/{wid}/save", headers=h).json()["path"]) == copy  # nothing new
    http.post(f"{base}/cell", json={"n": 0, "col": 1, "value": "Renamed deal"}, headers=h)
    again = Path(http.post(f"/api/ws/{wid}/save", headers=h).json()["path"])
    assert again == tmp_path / "deals.fixed-2.csv" and copy.exists()  # a new copy, the old one kept
    assert http.get(f"/api/ws/{wid}/download").content == again.read_bytes()


def test_recipes_are_mapping_files_the_cli_reads(
    ui: UiServer, tmp_path: Path, state_dir: Path, sandbox, org
) -> None:
    http, h = session(ui)
    ws = open_file(http, h, DEALS)
    base = f"/api/ws/{ws['id']}/sheets/s0"
    groups = http.get(f"{base}/values").json()["groups"]
    stage = next(g for g in groups if g["value"] == "Demo Completed")
    assert stage["count"] == 3 and "Proposal" in stage["options"]
    http.post(
        f"{base}/values",
        json={"header": "Deal Stage", "value": "Demo Completed", "choice": "Proposal"},
        headers=h,
    )
    http.post(
        f"{base}/values",
        json={"header": "Deal owner", "value": "Dan Departed", "choice": "Ava Admin"},
        headers=h,
    )
    wait_checked(http, ws["id"])
    left = {g["value"] for g in http.get(f"{base}/values").json()["groups"]}
    assert "Demo Completed" not in left and "Dan Departed" not in left
    r = http.post(
        "/api/recipes", json={"ws": ws["id"], "sheet": "s0", "name": "hubspot deals"}, headers=h
    ).json()
    path = Path(r["path"])
    assert path == state_dir / "recipes" / "hubspot deals.yaml"
    spec = load_mapping(path)
    assert spec.columns["Deal Stage"].values["Demo Completed"] == "Proposal"
    assert spec.object == "opportunity" and spec.columns["Record ID"].target == "external_id"
    listed = http.get(f"/api/recipes?ws={ws['id']}&sheet=s0").json()["recipes"]
    assert listed[0]["name"] == "hubspot deals" and listed[0]["matches"] is True
    assert (
        http.post(
            "/api/recipes", json={"ws": ws["id"], "sheet": "s0", "name": "../evil"}, headers=h
        ).status_code
        == 400
    )
    # another file with other headers: the recipe is listed, not offered
    other = open_file(http, h, COMPANIES)
    assert http.get(f"/api/recipes?ws={other['id']}&sheet=s0").json()["recipes"][0]["matches"] is False
    # the CLI reads the recipe as a mapping file: those values are mapped there too
    result = CliRunner().invoke(
        cli,
        [
            "import",
            "opportunity",
            str(DEALS),
            "--mapping",
            str(path),
            "--dry-run",
            "--results",
            str(tmp_path / "r.csv"),
        ],
        env={"LIGHTFIELD_API_KEY": org.api_key, "LIGHTFIELD_BASE_URL": sandbox.url},
    )
    assert "Demo Completed" not in result.output and "Dan Departed" not in result.output, result.output
    assert "Deal Stage" not in result.output  # no unmatched stage left
    # applying the recipe to a fresh open of the file brings the value maps back
    fresh = open_file(http, h, DEALS)
    cols = http.post(
        "/api/recipes/apply", json={"ws": fresh["id"], "sheet": "s0", "name": "hubspot deals"}, headers=h
    )
    assert cols.status_code == 200
    wait_checked(http, fresh["id"])
    left = {g["value"] for g in http.get(f"/api/ws/{fresh['id']}/sheets/s0/values").json()["groups"]}
    assert "Demo Completed" not in left


def test_bulkio_ui_command_serves_the_page(sandbox, org, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LIGHTFIELD_API_KEY": org.api_key,
        "LIGHTFIELD_BASE_URL": sandbox.url,
        "BULKIO_STATE_DIR": str(tmp_path / "state"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkio", "ui", str(COMPANIES), "--no-browser"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
        assert url is not None, line
        with httpx.Client(follow_redirects=True) as http:
            assert http.get(url.group(1).split("?")[0]).status_code == 403
            page = http.get(url.group(1))
            assert page.status_code == 200 and "bulkio" in page.text
            state = http.get(url.group(1).split("?")[0] + "api/state").json()
            assert state["workspaces"][0]["sheets"][0]["object_type"] == "account"
            assert org.api_key not in page.text + str(state)
    finally:
        proc.terminate()
        proc.wait(10)


def test_pause_and_resume_continue_the_same_run(sandbox, empty_org, tmp_path: Path, state_dir: Path) -> None:
    """Pause stops the import between requests; Resume continues the run from the ledger: every row
    written once, under one run id."""
    rows = 80
    src = tmp_path / "accounts.csv"
    src.write_text(
        "External ID (external_id),Name* ($name)\n" + "".join(f"pr-{i},Paused Co {i}\n" for i in range(rows)),
        encoding="utf-8",
    )
    with (
        LightfieldClient(api_key=empty_org.api_key, base_url=sandbox.url) as lf,
        UiServer(lf, work_dir=tmp_path / "w", state_dir=state_dir) as ui,
    ):
        http, h = session(ui)
        ws = open_file(http, h, src)
        job = http.post(f"/api/ws/{ws['id']}/run/import", json={}, headers=h).json()
        url = f"/api/jobs/{job['id']}"
        deadline = time.monotonic() + 30
        while (http.get(url).json()["write"] or {}).get("done", 0) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        paused = http.post(f"{url}/pause", headers=h).json()
        while paused["status"] == "running":
            time.sleep(0.05)
            paused = http.get(url).json()
        assert paused["status"] == "paused"
        written = sandbox.count(empty_org.org_id, "account")
        assert 10 <= written < rows
        assert paused["counts"]["created"] == written  # the rest say not_written
        assert paused["counts"]["failed"] == rows - written
        # a paused run is resumed, not retried (a retry would be a second run over the same rows)
        assert http.post(f"{url}/retry", headers=h).status_code == 409
        run_id = paused["run_ids"]["s0"]
        assert http.post(f"{url}/resume", headers=h).status_code == 200
        done = http.get(url).json()
        while done["status"] == "running":
            time.sleep(0.05)
            done = http.get(url).json()
        assert done["status"] == "done", done
        assert done["run_ids"]["s0"] == run_id  # the same run, continued from the ledger
        assert done["counts"] == {"created": rows}
        assert sandbox.count(empty_org.org_id, "account") == rows  # nothing written twice
        assert http.post(f"{url}/resume", headers=h).status_code == 409  # nothing left to resume


def test_results_land_on_their_rows_when_a_row_is_cleared(ui: UiServer, tmp_path: Path) -> None:
    """A row whose cells are all cleared is left out of the copy (the reader would skip it); the
    dry run's outcomes still land on the rows they belong to."""
    src = tmp_path / "three.csv"
    src.write_text(
        "External ID (external_id),Name* ($name),Tier (tier)\nc-1,One Co,SMB\nc-2,Two Co,SMB\nc-3,Three Co,Gigantic\n",
        encoding="utf-8",
    )
    http, h = session(ui)
    ws = open_file(http, h, src)
    base = f"/api/ws/{ws['id']}/sheets/s0"
    for col in range(3):
        http.post(f"{base}/cell", json={"n": 1, "col": col, "value": ""}, headers=h)
    job = http.post(f"/api/ws/{ws['id']}/run/dry-run", json={}, headers=h).json()
    while http.get(f"/api/jobs/{job['id']}").json()["status"] == "running":
        time.sleep(0.05)
    rows = http.get(f"/api/jobs/{job['id']}/rows").json()["rows"]
    assert [(r["n"], r["number"], r["outcome"]) for r in rows] == [
        (0, 2, "would create"),
        (2, 4, "would fail"),
    ]
    assert rows[1]["issues"][0]["code"] == "unknown_option" and rows[1]["cells"][2] == "Gigantic"


def test_two_pages_open_at_once_keep_their_own_cookie(client: LightfieldClient, tmp_path: Path) -> None:
    """Browsers keep cookies per host, not per port: each server names its own."""
    with UiServer(client, work_dir=tmp_path / "a") as a, UiServer(client, work_dir=tmp_path / "b") as b:
        http = httpx.Client(follow_redirects=True)
        assert http.get(a.url).status_code == 200 and http.get(b.url).status_code == 200
        assert http.get(a.base_url + "/api/state").status_code == 200
        assert http.get(b.base_url + "/api/state").status_code == 200


def test_the_grid_says_which_rows_the_import_leaves_out(ui: UiServer, tmp_path: Path) -> None:
    """A monday.com board: the grid marks the header repeated under each group, and the group's
    title above it, with the warnings the import's results sheet gives them (they are not records),
    and checks the other rows as the import does."""
    src = tmp_path / "board.xlsx"
    shutil.copy(DATA / "realistic" / "monday" / "Accounts_board_1733311111.xlsx", src)
    http, h = session(ui)
    ws = open_file(http, h, src, object_type="account")
    base = f"/api/ws/{ws['id']}/sheets/s0"
    rows = {r["number"]: r for r in http.get(f"{base}/grid?offset=0&limit=50").json()["rows"]}
    codes = {n: [i["code"] for i in r["issues"]] for n, r in rows.items()}
    assert codes[7] == ["section_title"] and codes[8] == ["repeated_header"]
    assert not [c for c in codes[4] if c in ("section_title", "repeated_header")]
