"""Docs that cannot drift: the public API matches ``__all__``, every command has help and is
listed in docs/cli.md, every issue code used in the package is in the catalogue, and the README
starts with the two commands CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

import bulkio
from bulkio.cli import cli
from bulkio.issues import CODES

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: str = "bulkio") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, cmd in group.commands.items():
        found[f"{prefix} {name}"] = cmd
        if isinstance(cmd, click.Group):
            found.update(_commands(cmd, f"{prefix} {name}"))
    return found


def test_public_api_matches_all() -> None:
    public = {name for name in dir(bulkio) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(bulkio, name)).__name__ == "module"}
    assert sorted(public - modules) == sorted(set(bulkio.__all__) - {"__version__"})


def test_core_commands_exist() -> None:
    assert {"import", "export", "template", "definitions", "sandbox"} <= set(cli.commands)


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for path, cmd in _commands(cli).items():
        assert cmd.help, f"{path} has no help text"
        args = path.split()[1:] + ["--help"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_every_command_is_in_the_cli_reference() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for path in _commands(cli):
        assert f"## {path}" in reference, f"{path} missing from docs/cli.md (run scripts/gen_docs.py)"


def test_cli_reference_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    render_cli_reference = gen_docs.render_cli_reference
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == render_cli_reference(), (
        "docs/cli.md is stale: run python scripts/gen_docs.py"
    )


def test_issue_codes_are_catalogued() -> None:
    used: set[str] = set()
    pattern = re.compile(r"""(?:code\s*=\s*|Issue\(\s*)["']([a-z][a-z0-9_]+)["']""")
    for path in (ROOT / "bulkio").rglob("*.py"):
        if "sandbox" in path.parts:
            continue  # the sandbox speaks the API's own codes
        used.update(pattern.findall(path.read_text(encoding="utf-8")))
    missing = sorted(used - set(CODES))
    assert not missing, f"issue codes used but not in bulkio.issues.CODES: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", readme, re.DOTALL)
    assert len(blocks) >= 2
    assert "bulkio" in blocks[0] and "pip install" in blocks[0]
    assert "pytest" in blocks[1] and "pip install" in blocks[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in blocks[1] and "python -m pytest" in ci
