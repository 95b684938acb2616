"""Nothing leaks and nothing executes.

* The API key never shows: not on stdout/stderr of any command (also with ``--debug`` and on
  401/403), not in results files, exports, templates or bulkio's resume ledger, not in the
  str/repr/args of an exception.
* No text cell bulkio writes can run as a formula: records whose names start with ``=``, ``+``,
  ``-``, ``@``, tab or CR are escaped in every path that writes a sheet (XLSX and CSV exports,
  results sheets for CSV and XLSX input, the template's Reference sheet).
* The sandbox listens on loopback only by default and enforces keys (401) and scopes (403).
"""

from __future__ import annotations

import csv
import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook, load_workbook

from bulkio.cli import cli
from bulkio.client import LightfieldClient
from bulkio.errors import ApiError, AuthError, ConfigError, ScopeError
from bulkio.sandbox import SandboxServer

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_NAMES = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.test","click")',
    "+1+2",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


# --- helpers -------------------------------------------------------------------------------------


def invoke(args: list[str], env: dict[str, str], cwd: Path) -> Result:
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, args, env=env, catch_exceptions=True)
    finally:
        os.chdir(old)


def key_env(sandbox: SandboxServer, key: str) -> dict[str, str]:
    return {"LIGHTFIELD_API_KEY": key, "LIGHTFIELD_BASE_URL": sandbox.url}


def secret_fragments(key: str) -> list[str]:
    """The key and its random part (the part that would identify it if a prefix were masked)."""
    tail = key.rsplit("_", 1)[-1]
    return [key] + ([tail] if len(tail) >= 8 else [])


def assert_no_key(text: str | bytes, key: str, where: str) -> None:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    for frag in secret_fragments(key):
        assert frag.encode() not in data, f"API key found in {where}"


def all_result_text(result: Result) -> str:
    parts = [result.output, result.stdout, result.stderr]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        parts.append("".join(traceback.format_exception(result.exception)))
    return "\n".join(p or "" for p in parts)


def files_under(directory: Path) -> Iterator[Path]:
    for p in directory.rglob("*"):
        if p.is_file():
            yield p


def write_accounts_csv(path: Path, names: list[str], prefix: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "external_id", "Billing Email"])
        for i, name in enumerate(names):  # escaped the way bulkio's own writers escape
            text = f"'{name}" if name.startswith(TRIGGERS) else name
            w.writerow([text, f"{prefix}-{i}", f"b{i}@example.com" if i else "not-an-email"])


def write_accounts_xlsx(path: Path, names: list[str], prefix: str) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Name", "external_id"])
    for i, name in enumerate(names):
        ws.append([f"'{name}" if name.startswith(TRIGGERS) else name, f"{prefix}-{i}"])
    wb.save(path)


def unsafe_text(value: str) -> bool:
    """A cell text that a spreadsheet could run as a formula."""
    if not value.startswith(TRIGGERS):
        return False
    try:
        float(value)
        return False
    except ValueError:
        return True


def check_xlsx_cells(path: Path) -> int:
    """Every cell of every sheet: no formula and no error value; text that starts with a trigger
    is a text cell (an inline string: no spreadsheet evaluates it), escaped with a ' or not.
    Returns the hostile cells seen."""
    wb = load_workbook(path)  # not read-only: data_type is exact
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                where = f"{path.name}!{ws.title}{cell.coordinate}"
                assert cell.data_type not in ("f", "e"), f"{where} is a formula or an error value"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", where
                    if unsafe_text(cell.value) or (
                        cell.value.startswith("'") and cell.value[1:2] in TRIGGERS
                    ):
                        seen += 1
    return seen


def check_csv_cells(path: Path) -> int:
    seen = 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            for value in row:
                assert not unsafe_text(value), f"{path.name}: {value!r}"
                if value.startswith("'") and value[1:2] in TRIGGERS:
                    seen += 1
    return seen


# --- the key never leaks -------------------------------------------------------------------------


def test_key_never_in_cli_output_or_files(sandbox: SandboxServer, tmp_path: Path, state_dir: Path) -> None:
    org = sandbox.create_org(seed="demo")
    key = org.api_key
    env = key_env(sandbox, key)
    src = tmp_path / "accounts.csv"
    write_accounts_csv(src, ["Leak Test A", "Leak Test B", "Leak Test C"], "LEAK")
    # (exit code, arguments): an import exits 1 as row 2 has a bad email
    runs = [
        (0, ["definitions", "account"]),
        (0, ["definitions", "account", "--format", "json"]),
        (0, ["template", "account", "-o", "template.xlsx"]),
        (0, ["template", "account", "-o", "template.csv"]),
        (1, ["import", "account", str(src), "--dry-run"]),
        (1, ["import", "account", str(src), "--results", "results.csv"]),
        (1, ["import", "account", str(src), "--results", "results.xlsx", "--format", "json"]),
        (0, ["export", "account", "-o", "accounts.xlsx"]),
        (0, ["export", "account", "contact", "-o", "crm.csv"]),
        (0, ["export", "pipeline", "-o", "pipeline.xlsx"]),
        (0, ["export", "account", "-o", "accounts.jsonl"]),
    ]
    for code, args in runs:
        result = invoke(args, env, tmp_path)
        assert result.exit_code == code, (args, result.output)
        assert_no_key(all_result_text(result), key, f"output of bulkio {' '.join(args)}")
    # everything a run writes: its outputs, and the state folder (ledger, locks)
    written = [p for p in [*files_under(tmp_path), *files_under(state_dir)] if p != src]
    names = {p.name for p in written}
    assert {
        "template.xlsx",
        "results.csv",
        "results.xlsx",
        "accounts.xlsx",
        "pipeline.xlsx",
        "accounts.jsonl",
    } <= names
    assert any(n.startswith("ledger") for n in names), names  # bulkio's ledger is checked too
    for p in written:
        assert_no_key(p.read_bytes(), key, str(p))


@pytest.mark.parametrize("debug", [False, True])
def test_key_never_in_cli_output_on_401_and_403(sandbox: SandboxServer, tmp_path: Path, debug: bool) -> None:
    org = sandbox.create_org(seed="demo")
    bad_key = "sk_lf_sandbox_LEAKCANARY0123456789abcdef"
    read_only = sandbox.mint_key(org.org_id, scopes=["accounts:read"])
    src = tmp_path / "accounts.csv"
    write_accounts_csv(src, ["Scope Test", "Scope Test 2"], "SCOPE")  # row 3 is valid: a create is sent
    extra = ["--debug"] if debug else []
    cases = [
        (bad_key, ["definitions", "account"]),
        (bad_key, ["import", "account", str(src)]),
        (bad_key, ["export", "account", "-o", "x.xlsx"]),
        (bad_key, ["template", "account", "-o", "t.xlsx"]),
        (read_only, ["import", "account", str(src)]),  # 403 on create
        (read_only, ["export", "contact", "-o", "c.xlsx"]),  # 403 on contacts:read
    ]
    for key, args in cases:
        result = invoke(args + extra, key_env(sandbox, key), tmp_path)
        assert result.exit_code != 0, (args, result.output)
        text = all_result_text(result)
        assert_no_key(text, key, f"output of bulkio {' '.join(args)} (debug={debug})")
        if not debug:
            assert "Traceback" not in text
            assert result.exit_code == 2, (args, result.output)  # every case stops on the 401/403
            assert (
                ("403" in text or "scope" in text.lower())
                if key == read_only
                else "401" in text or "key" in text
            )
    for p in files_under(tmp_path):
        if p != src:
            assert_no_key(p.read_bytes(), bad_key, p.name)
            assert_no_key(p.read_bytes(), read_only, p.name)


def exception_texts(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    parts += [repr(v) for v in vars(exc).values()]
    if exc.__cause__ is not None:
        parts.append(repr(exc.__cause__))
    if exc.__context__ is not None:
        parts.append(repr(exc.__context__))
    return "\n".join(parts)


def test_key_never_in_exceptions(sandbox: SandboxServer) -> None:
    org = sandbox.create_org(seed="demo")
    bad_key = "sk_lf_sandbox_LEAKCANARYabcdef0123456789"
    with LightfieldClient(api_key=bad_key, base_url=sandbox.url) as lf:
        assert_no_key(repr(lf), bad_key, "repr(client)")
        with pytest.raises(AuthError) as info:
            lf.retrieve("account", "acc_doesnotmatter")
        assert info.value.status == 401
        assert_no_key(exception_texts(info.value), bad_key, "the 401 exception")

    scoped = sandbox.mint_key(org.org_id, scopes=["accounts:read"])
    with LightfieldClient(api_key=scoped, base_url=sandbox.url) as lf:
        with pytest.raises(ScopeError) as sinfo:
            lf.create("account", {"fields": {"$name": "Nope"}}, idempotency_key="scope-test")
        assert sinfo.value.status == 403
        assert_no_key(exception_texts(sinfo.value), scoped, "the 403 exception")
        with pytest.raises(ApiError) as ninfo:
            lf.retrieve("account", "acc_missing")
        assert ninfo.value.status == 404
        assert_no_key(exception_texts(ninfo.value), scoped, "the 404 exception")

    # A transport failure (nothing listening) must not leak the key through httpx's request repr.
    with LightfieldClient(api_key=bad_key, base_url="http://127.0.0.1:9", timeout=0.5) as lf:
        lf.retry = type(lf.retry)(max_attempts=1)
        with pytest.raises(ApiError) as tinfo:
            lf.retrieve("account", "acc_x")
        assert_no_key(exception_texts(tinfo.value), bad_key, "the connection error")


# --- formula injection ---------------------------------------------------------------------------


@pytest.fixture
def hostile_org(sandbox: SandboxServer) -> Any:
    """An org whose accounts include names (and an email-less contact) that look like formulas."""
    org = sandbox.create_org(seed="demo")
    sandbox.set_faults(org.org_id, index_lag_ms=0)  # exported right after: escaping, not list lag
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        for i, name in enumerate(HOSTILE_NAMES):
            lf.create(
                "account",
                {"fields": {"$name": name, "external_id": f"HOST-{i}"}},
                idempotency_key=f"hostile-{i}",
            )
            lf.create(
                "contact",
                {"fields": {"$name": {"firstName": name, "lastName": name}}},
                idempotency_key=f"hostile-contact-{i}",
            )
    return org


def test_every_export_path_escapes_formulas(sandbox: SandboxServer, hostile_org: Any, tmp_path: Path) -> None:
    env = key_env(sandbox, hostile_org.api_key)
    for args in (
        ["export", "account", "contact", "-o", "crm.xlsx"],
        ["export", "pipeline", "-o", "pipeline.xlsx"],
        ["export", "account", "contact", "-o", "crm.csv"],
        ["template", "account", "-o", "template.xlsx"],
        ["template", "opportunity", "-o", "opp-template.xlsx"],
    ):
        result = invoke(args, env, tmp_path)
        assert result.exit_code == 0, (args, result.output)
    hostile = len(HOSTILE_NAMES)
    assert check_xlsx_cells(tmp_path / "crm.xlsx") >= hostile * 2
    assert check_xlsx_cells(tmp_path / "pipeline.xlsx") >= hostile * 2
    csvs = sorted(tmp_path.glob("crm-*.csv"))
    assert len(csvs) == 2, csvs
    assert sum(check_csv_cells(p) for p in csvs) >= hostile * 2
    # The Reference sheets list existing accounts: the hostile names appear there, escaped.
    # every hostile contact name, but the one starting with CR (XML turns it into LF: no trigger left)
    assert check_xlsx_cells(tmp_path / "template.xlsx") >= hostile - 1
    assert check_xlsx_cells(tmp_path / "opp-template.xlsx") >= hostile


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_results_sheets_escape_formulas(sandbox: SandboxServer, tmp_path: Path, suffix: str) -> None:
    org = sandbox.create_org(seed="demo", records=False)
    src = tmp_path / f"accounts.{suffix}"
    if suffix == "csv":
        write_accounts_csv(src, HOSTILE_NAMES, "RES")
    else:
        write_accounts_xlsx(src, HOSTILE_NAMES, "RES")
    out = tmp_path / f"results.{suffix}"
    result = invoke(
        ["import", "account", str(src), "--results", str(out)], key_env(sandbox, org.api_key), tmp_path
    )
    assert result.exit_code == (1 if suffix == "csv" else 0), result.output  # the CSV has a bad email
    # The names reached the API as plain text, exactly as written (escape stripped once, text
    # trimmed). Row 2 of the CSV has a bad email, so it is not written. XML turns the CR of the
    # last XLSX name into LF, so that cell is no escape any more and keeps its quote.
    stored = {
        r["fields"]["external_id"]["value"]: r["fields"]["$name"]["value"]
        for r in sandbox.records(org.org_id, "account")
    }
    expected = {f"RES-{i}": name.strip() for i, name in enumerate(HOSTILE_NAMES)}
    if suffix == "csv":
        del expected["RES-0"]
    else:
        expected[f"RES-{len(HOSTILE_NAMES) - 1}"] = "'\n=1+1"
    assert stored == expected
    seen = check_xlsx_cells(out) if suffix == "xlsx" else check_csv_cells(out)
    assert seen >= len(HOSTILE_NAMES) - (1 if suffix == "xlsx" else 0)


def test_workbook_results_errors_and_undo_sheets_hold_text_not_formulas(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """``import pipeline``'s results workbook, its --errors workbook and an undo's results sheet:
    names that look like formulas (text cells in the input) come out as text cells, never as a
    formula or an error value."""
    org = sandbox.create_org(seed="demo", records=False)
    wb = Workbook()
    accounts = wb.active
    accounts.title = "Accounts"
    deals = wb.create_sheet("Deals")
    accounts.append(["Name", "external_id"])
    deals.append(["Name", "external_id", "Stage", "Account"])
    for i, name in enumerate(HOSTILE_NAMES):
        accounts.append([None, f"WB-{i}"])
        accounts.cell(i + 2, 1).value, accounts.cell(i + 2, 1).data_type = name, "s"  # a text cell
        deals.append([None, f"WBD-{i}", "Lead" if i % 2 else "No such stage", f"WB-{i}"])
        deals.cell(i + 2, 1).value, deals.cell(i + 2, 1).data_type = name, "s"
    src = tmp_path / "book.xlsx"
    wb.save(src)
    env = key_env(sandbox, org.api_key)
    result = invoke(
        ["import", "pipeline", str(src), "--errors", "fix.xlsx", "--format", "json"], env, tmp_path
    )
    assert result.exit_code == 1, result.output  # the deals with no such stage fail
    hostile = len(HOSTILE_NAMES)
    assert check_xlsx_cells(tmp_path / "book.results.xlsx") >= 2 * hostile - 2
    assert check_xlsx_cells(tmp_path / "fix.xlsx") >= hostile // 2
    import json

    run_id = json.loads(result.stdout)["run_id"]
    undo = invoke(["undo", run_id, "--results", "undo.xlsx"], env, tmp_path)
    assert undo.exit_code == 0, undo.output
    assert sandbox.count(org.org_id, "account") == 0
    check_xlsx_cells(tmp_path / "undo.xlsx")


# --- the sandbox ---------------------------------------------------------------------------------


def test_sandbox_binds_loopback_only_by_default(sandbox: SandboxServer) -> None:
    assert httpx.URL(sandbox.url).host == "127.0.0.1"
    port = httpx.URL(sandbox.url).port
    listening = [
        c
        for c in psutil.Process().net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    assert listening, "the sandbox port is not listening in this process"
    assert {c.laddr.ip for c in listening} <= {"127.0.0.1", "::1"}

    from bulkio.cli.sandbox_cmd import command as sandbox_group

    serve = sandbox_group.commands["serve"]  # type: ignore[attr-defined]
    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"
    import inspect

    assert inspect.signature(SandboxServer).parameters["host"].default == "127.0.0.1"


def test_sandbox_enforces_keys_and_scopes(sandbox: SandboxServer) -> None:
    org = sandbox.create_org(seed="demo")
    headers = {"Lightfield-Version": "2026-03-01"}
    with httpx.Client(base_url=sandbox.url, headers=headers) as http:
        r = http.get("/v1/accounts")
        assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
        r = http.get("/v1/accounts", headers={"Authorization": "Bearer sk_lf_sandbox_nope"})
        assert r.status_code == 401
        scoped = sandbox.mint_key(org.org_id, scopes=["contacts:read"])
        auth = {"Authorization": f"Bearer {scoped}"}
        assert http.get("/v1/contacts", headers=auth).status_code == 200
        r = http.get("/v1/accounts", headers=auth)
        assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden"
        r = http.post(
            "/v1/contacts",
            headers={**auth, "Idempotency-Key": "x"},
            json={"fields": {"$name": {"firstName": "No", "lastName": "Scope"}}},
        )
        assert r.status_code == 403
        assert sandbox.count(org.org_id, "contact") == sum(1 for _ in sandbox.records(org.org_id, "contact"))
        # A key of one org never sees another org's records.
        other = sandbox.create_org(seed="demo", records=False)
        ids = {
            x["id"]
            for x in http.get("/v1/accounts", headers={"Authorization": f"Bearer {org.api_key}"}).json()[
                "data"
            ]
        }
        theirs = http.get("/v1/accounts", headers={"Authorization": f"Bearer {other.api_key}"})
        assert theirs.status_code == 200 and theirs.json()["totalCount"] == 0
        some = next(iter(ids))
        r = http.get(f"/v1/accounts/{some}", headers={"Authorization": f"Bearer {other.api_key}"})
        assert r.status_code == 404


# --- key hygiene (issue 10 §2) ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["\r", "\n", " ", "\r\n", "\t"])
@pytest.mark.parametrize("debug", [False, True])
def test_key_with_surrounding_whitespace_works_and_never_leaks(
    sandbox: SandboxServer, tmp_path: Path, suffix: str, debug: bool
) -> None:
    """A .env file with Windows line endings (or a stray space) is enough to end a key with
    whitespace: bulkio strips it, so every command works, and nothing prints the key."""
    org = sandbox.create_org(seed="demo")
    key = org.api_key
    env = {"LIGHTFIELD_API_KEY": " " + key + suffix, "LIGHTFIELD_BASE_URL": sandbox.url}
    src = tmp_path / "accounts.csv"
    write_accounts_csv(src, ["Strip Co A", "Strip Co B"], "STRIP")
    extra = ["--debug"] if debug else []
    for args in (
        ["definitions", "account"],
        ["import", "account", str(src), "--results", "r.csv"],
        ["export", "account", "-o", "a.csv"],
    ):
        result = invoke(args + extra, env, tmp_path)
        assert result.exit_code in (0, 1), (args, result.output)
        assert_no_key(all_result_text(result), key, f"output of bulkio {' '.join(args)}")
    with LightfieldClient(api_key=key + suffix, base_url=sandbox.url) as lf:
        assert lf.validate_auth()["active"] is True


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("sk_lf_sandbox_abc\rdef0123456789", "a line break"),
        ("sk_lf_sandbox_abc def0123456789", "a space"),
        ("sk_lf_sandbox_abc\x01def0123456789", "a control character"),
        ("sk_lf_sandbox_abcédef0123456789", "a non-ASCII character"),
        ("pat-na1-0123456789abcdef0123456789", "does not start with sk_lf_"),
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_malformed_key_is_refused_before_any_request(
    sandbox: SandboxServer, tmp_path: Path, bad: str, what: str, debug: bool
) -> None:
    org = sandbox.create_org(seed="demo", records=False)
    before = sandbox.stats(org.org_id)["requests"]
    result = invoke(
        ["definitions", "account", *(["--debug"] if debug else [])],
        {"LIGHTFIELD_API_KEY": bad, "LIGHTFIELD_BASE_URL": sandbox.url},
        tmp_path,
    )
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and what in errors[0] and "LIGHTFIELD_API_KEY" in errors[0], result.output
    text = all_result_text(result)
    for part in bad.replace("\r", " ").replace("\x01", " ").split():
        if len(part) >= 6:
            assert part not in text, (part, text)
    assert sandbox.stats(org.org_id)["requests"] == before
    with pytest.raises(ConfigError) as info:
        LightfieldClient(api_key=bad, base_url=sandbox.url)
    assert what in str(info.value) and bad not in exception_texts(info.value)


class HeaderQuotingTransport(httpx.BaseTransport):
    """Fails every request the way httpx does for a bad header value: quoting the header."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value b'{request.headers['authorization']}\\r'")


def test_exception_text_that_quotes_a_header_never_reaches_the_output(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk_lf_sandbox_QUOTEDHEADER0123456789abcdef"
    with (
        LightfieldClient(api_key=key, base_url=sandbox.url, transport=HeaderQuotingTransport()) as lf,
        pytest.raises(ApiError) as info,
    ):
        lf.retrieve("account", "acc_x")
    text = exception_texts(info.value)
    assert "Illegal header value" in text and "[redacted]" in text
    assert_no_key(text, key, "the transport error")

    # and a bug anywhere below the CLI that puts the key in a message: one redacted line (or a
    # redacted traceback with --debug), never the key
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"unexpected: Authorization=Bearer {key} / {key}")

    monkeypatch.setattr(LightfieldClient, "schema", boom)
    for debug in (False, True):
        result = invoke(
            ["definitions", "account", *(["--debug"] if debug else [])],
            {"LIGHTFIELD_API_KEY": key, "LIGHTFIELD_BASE_URL": sandbox.url},
            tmp_path,
        )
        assert result.exit_code == 2, result.output
        assert_no_key(all_result_text(result), key, f"bug output (debug={debug})")
        assert ("Traceback" in result.output) is debug
