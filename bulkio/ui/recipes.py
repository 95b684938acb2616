"""Recipes: a mapping with its value maps, saved under a name in the state folder and offered again
for a file with the same headers. A recipe *is* a mapping file (``recipes/NAME.yaml``), so the CLI
reads it too: ``bulkio import opportunity deals.csv --mapping ~/.local/share/bulkio/recipes/NAME.yaml``.

Why headers decide: an export from the same CRM report, or next month's copy of the same
hand-kept sheet, has the same columns; a recipe lists every column it saw (``ignore`` for those it
does not import), so its set of headers is that file's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputFileError
from ..mapfile import MappingFile, load_mapping
from ..state import StatePath, state_dir

FOLDER = "recipes"
_NAME = re.compile(r"^[\w][\w .-]{0,79}$")


def recipes_dir(state: StatePath | None = None) -> Path:
    return state_dir(state) / FOLDER


def _norm(header: str) -> str:
    return " ".join(header.split()).casefold()


def recipe_path(name: str, state: StatePath | None = None) -> Path:
    """``recipes/NAME.yaml``; a name is letters, digits, spaces, ``.``, ``-`` and ``_`` (no path)."""
    name = name.strip()
    if not _NAME.match(name) or name.startswith(".") or ".." in name:
        raise InputFileError(
            "a recipe name is 1-80 letters, digits, spaces, '.', '-' or '_'", path=name or "(no name)"
        )
    return recipes_dir(state) / f"{name}.yaml"


def to_yaml(spec: MappingFile, *, name: str, headers: list[str]) -> str:
    """The mapping file text: every header of the file (``ignore`` for those not imported)."""
    data = spec.model_dump(exclude_none=True, exclude_defaults=True, mode="json")
    data = {"version": 1, **data}
    columns = data.get("columns", {})
    for h in headers:
        if h.strip() and h not in columns:
            columns[h] = "ignore"
    for h, col in list(columns.items()):
        if isinstance(col, dict) and set(col) == {"field"}:
            columns[h] = col["field"]
    data["columns"] = columns
    head = (
        f"# bulkio recipe {name!r}, saved by `bulkio ui`: a mapping file "
        f"(bulkio import {spec.object or 'OBJECT'} FILE --mapping THIS_FILE)\n"
    )
    return head + str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def save_recipe(name: str, spec: MappingFile, headers: list[str], *, state: StatePath | None = None) -> Path:
    """Save (or replace) a recipe; returns its path. It is read back before it is kept, so a
    recipe on disk always loads."""
    from ..sheets import atomic_path

    dest = recipe_path(name, state)
    dest.parent.mkdir(parents=True, exist_ok=True)
    text = to_yaml(spec, name=name.strip(), headers=headers)
    with atomic_path(dest) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
        load_mapping(tmp)
    return dest


def list_recipes(
    headers: list[str] | None = None, object_type: str | None = None, *, state: StatePath | None = None
) -> list[dict[str, Any]]:
    """Saved recipes, those for these headers (and object) first: name, path, object, whether it
    matches and how many columns it maps. A recipe that no longer loads is listed with its error."""
    folder = recipes_dir(state)
    if not folder.is_dir():
        return []
    want = {_norm(h) for h in headers or [] if h.strip()}
    out = []
    for path in sorted(folder.glob("*.yaml")):
        item: dict[str, Any] = {"name": path.stem, "path": str(path)}
        try:
            spec = load_mapping(path)
        except InputFileError as exc:
            item.update(error=str(exc), matches=False)
            out.append(item)
            continue
        have = {_norm(h) for h in spec.columns}
        item.update(
            object=spec.object,
            columns=sum(1 for c in spec.columns.values() if c.target),
            values=sum(len(c.values) for c in spec.columns.values()),
            matches=bool(want)
            and have == want
            and (object_type is None or spec.object in (None, object_type)),
        )
        out.append(item)
    out.sort(key=lambda r: (not r["matches"], r["name"].casefold()))
    return out


def load_recipe(name: str, *, state: StatePath | None = None) -> MappingFile:
    path = recipe_path(name, state)
    if not path.exists():
        raise InputFileError("no such recipe", path=name)
    return load_mapping(path)
