"""Start-up stays light (issue 13): ``import bulkio.cli`` and every command's ``--help`` load none of
the heavy libraries (pandas, numpy, openpyxl, calamine, Babel, rapidfuzz, phonenumbers, pydantic,
the HTTP stack, the sandbox's server); each command imports what it needs when it runs. Checked on
``sys.modules`` in a fresh interpreter, not by timing. Also: the public names of ``bulkio`` still
resolve (lazily), and the libyaml loader used for mapping files reads every shipped profile exactly
as the pure-Python one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import bulkio

HEAVY = (
    "pandas",
    "numpy",
    "openpyxl",
    "python_calamine",
    "babel",
    "rapidfuzz",
    "phonenumbers",
    "pydantic",
    "httpx",
    "starlette",
    "uvicorn",
    "yaml",
    "charset_normalizer",
)

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _loaded(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_bulkio_cli_loads_no_heavy_module() -> None:
    assert _loaded("import bulkio.cli") == []


def test_every_command_help_loads_no_heavy_module() -> None:
    from bulkio.cli import cli

    names = sorted(cli.commands)
    assert {"import", "export", "template", "definitions"} <= set(names)
    body = (
        "import contextlib, io\n"
        "from bulkio.cli import cli\n"
        f"for args in [['--help'], *[[n, '--help'] for n in {names!r}]]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        cli.main(args, prog_name='bulkio', standalone_mode=False)\n"
    )
    assert _loaded(body) == []


def test_the_library_still_loads_what_a_run_needs() -> None:
    # the probe is real: a command that runs imports its library (here the import pipeline)
    assert {"pydantic"} <= set(_loaded("from bulkio import import_file"))


def test_public_names_resolve_lazily() -> None:
    from bulkio import pipeline, template

    assert bulkio.import_file is pipeline.import_file
    assert bulkio.make_template is template.make_template
    for name in bulkio.__all__:
        assert getattr(bulkio, name) is not None
    with pytest.raises(AttributeError):
        _ = bulkio.no_such_name  # type: ignore[attr-defined]


def test_export_formats_offered_by_the_cli_are_the_exporters() -> None:
    from bulkio.cli.export_cmd import FORMATS as offered
    from bulkio.export import FORMATS

    assert offered == FORMATS


@pytest.mark.parametrize("path", sorted(Path(bulkio.__file__).parent.joinpath("profiles").glob("*.yaml")))
def test_libyaml_reads_each_profile_as_the_pure_loader(path: Path) -> None:
    import yaml

    from bulkio.mapfile import _fast_loader, _positions

    text = path.read_text(encoding="utf-8")
    assert _fast_loader() is yaml.CSafeLoader  # the wheels ship libyaml; without it nothing is faster
    assert yaml.load(text, Loader=_fast_loader()) == yaml.safe_load(text)
    fast_root = yaml.compose(text, Loader=_fast_loader())
    pure_root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert _marks(fast_root) == _marks(pure_root) and _positions(text)


def _marks(node: object, path: tuple[object, ...] = ()) -> list[tuple[tuple[object, ...], int]]:
    import yaml

    out: list[tuple[tuple[object, ...], int]] = []
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out.append(((*path, k.value), k.start_mark.line))
            out += _marks(v, (*path, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out.append(((*path, i), v.start_mark.line))
            out += _marks(v, (*path, i))
    return out


def test_a_csv_dry_run_loads_no_spreadsheet_or_dataframe_library(tmp_path: Path) -> None:
    src = tmp_path / "accounts.csv"
    src.write_text("Name,External ID\nAcme,A-1\nGlobex,A-2\n", encoding="utf-8")
    body = (
        "import os\n"
        f"os.environ['BULKIO_STATE_DIR'] = {str(tmp_path / 'state')!r}\n"
        "os.environ.pop('LIGHTFIELD_API_KEY', None)\n"
        "from bulkio.cli import cli\n"
        "try:\n"
        f"    cli.main(['import', 'account', {str(src)!r}, '--dry-run', '-q'], prog_name='bulkio')\n"
        "except SystemExit as stop:\n"
        "    assert stop.code in (0, None), stop.code\n"
    )
    loaded = _loaded(body)
    assert (tmp_path / "accounts.results.csv").exists()  # the run happened, results written as CSV
    assert not {"pandas", "numpy", "openpyxl", "python_calamine"} & set(loaded)
    assert {"pydantic", "httpx"} <= set(loaded)


def test_sheets_styles_and_illegal_characters_match_openpyxl() -> None:
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

    from bulkio import sheets

    assert sheets.ILLEGAL_CHARACTERS_RE.pattern == ILLEGAL_CHARACTERS_RE.pattern
    assert sheets._NOT_TEXT == frozenset(ERROR_CODES)
    assert sheets.HEADER_FILL.fgColor.rgb == "FFD9E1F2" and sheets.HEADER_FONT.bold
    assert sheets.REQUIRED_FILL is sheets.REQUIRED_FILL  # made once
    with pytest.raises(AttributeError):
        _ = sheets.NO_SUCH_STYLE


def test_an_idle_sandbox_closes_without_waiting_and_stops_serving(tmp_path: Path) -> None:
    import time

    import httpx

    from bulkio.sandbox import SandboxServer

    server = SandboxServer(db_path=tmp_path / "sb.sqlite3", seed="demo").start()
    url, thread = server.url, server._thread
    assert httpx.get(url + "/v1/accounts").status_code == 401  # serving (no key)
    server.close(wait=False)
    assert thread is not None
    thread.join(timeout=5)  # it winds down on its own
    assert not thread.is_alive()
    deadline = time.monotonic() + 2
    with pytest.raises(httpx.TransportError):
        while time.monotonic() < deadline:
            httpx.get(url + "/v1/accounts", timeout=0.5)
            time.sleep(0.05)
