"""Regenerate docs/cli.md (from every command's --help) and docs/issues.md (from the issue-code
catalogue). tests/test_docs.py fails when the committed files are stale.

    python scripts/gen_docs.py
"""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from bulkio.cli import cli
from bulkio.issues import CODES

ROOT = Path(__file__).resolve().parent.parent


def _walk(group: click.Group, path: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        out.append(path + [name])
        if isinstance(cmd, click.Group):
            out.extend(_walk(cmd, path + [name]))
    return out


def render_cli_reference() -> str:
    runner = CliRunner()
    parts = [
        "# bulkio command reference",
        "",
        "Generated from `--help` by `python scripts/gen_docs.py`; do not edit by hand.",
        "",
    ]
    for path in [[]] + _walk(cli, []):
        result = runner.invoke(cli, path + ["--help"], terminal_width=100)
        title = " ".join(["bulkio"] + path)
        parts += [f"## {title}", "", "```", result.output.rstrip(), "```", ""]
    return "\n".join(parts)


def render_issue_codes() -> str:
    intro = (
        "Every problem bulkio reports about a row or a cell carries one of these codes "
        "(generated from `bulkio.issues.CODES`)."
    )
    lines = ["# Issue codes", "", intro, "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in CODES.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    (ROOT / "docs" / "cli.md").write_text(render_cli_reference(), encoding="utf-8")
    (ROOT / "docs" / "issues.md").write_text(render_issue_codes(), encoding="utf-8")


if __name__ == "__main__":
    main()
