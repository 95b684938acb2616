"""The code stays typed and tidy: ruff over everything, mypy --strict over the package
(configuration in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300
    )


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "bulkio", "tests", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run("ruff", "format", "--check", "bulkio", "tests", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run("mypy", "bulkio", "--cache-dir", str(ROOT / ".mypy_cache"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_sees_the_real_stubs() -> None:
    """Without the stubs mypy treats pandas and openpyxl as Any and passes for lack of checking."""
    from importlib.metadata import version

    assert version("pandas-stubs") and version("types-openpyxl")


def test_ci_runs_the_static_checks_before_the_tests() -> None:
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    order = ["ruff check .", "ruff format --check .", "mypy bulkio", "python -m pytest"]
    assert all(cmd in lines for cmd in order), lines
    assert [lines.index(cmd) for cmd in order] == sorted(lines.index(cmd) for cmd in order)
