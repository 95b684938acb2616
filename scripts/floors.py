"""Print the declared minimum versions of bulkio's dependencies as ``name==version`` pins, to test
that the floors in pyproject.toml really work:

    python3 -m venv /tmp/floors && /tmp/floors/bin/pip install $(python scripts/floors.py) -e '.[test]'
    /tmp/floors/bin/python -m pytest
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def floors() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = []
    for requirement in project["dependencies"]:
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", requirement)
        if m:
            pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


if __name__ == "__main__":
    print(" ".join(floors()))
