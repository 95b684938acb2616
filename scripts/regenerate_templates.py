"""Regenerate the committed templates in ``templates/`` against a fresh demo org.

    python scripts/regenerate_templates.py [--out templates]

tests/test_template.py regenerates them into a temporary folder and compares the content with
the committed files, so run this after changing the template layout or the demo seed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

TEMPLATE_OBJECTS = ("account", "contact", "opportunity", "task", "note", "partner")
ROOT = Path(__file__).resolve().parent.parent


def regenerate(client: object, out_dir: Path) -> list[tuple[Path, bool]]:
    """Write ``<object>.xlsx`` for every object of :data:`TEMPLATE_OBJECTS` into ``out_dir``.

    A file whose content is unchanged (record IDs of a fresh sandbox org aside, see
    :func:`bulkio.template.template_snapshot`) is left alone, so regenerating causes no git churn.
    Returns ``(path, changed)`` pairs.
    """
    from bulkio.template import make_template, template_snapshot

    out_dir.mkdir(parents=True, exist_ok=True)
    done = []
    with tempfile.TemporaryDirectory() as tmp:
        for otype in TEMPLATE_OBJECTS:
            fresh = make_template(client, otype, Path(tmp) / f"{otype}.xlsx").path
            target = out_dir / fresh.name
            changed = not target.exists() or template_snapshot(target) != template_snapshot(fresh)
            if changed:
                shutil.copyfile(fresh, target)
            done.append((target, changed))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "templates")
    args = parser.parse_args()

    from bulkio.client import LightfieldClient
    from bulkio.sandbox import SandboxServer

    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(db_path=Path(tmp) / "sandbox.sqlite3", seed="demo") as server,
    ):
        org = server.create_org(seed="demo")
        with LightfieldClient(api_key=org.api_key, base_url=server.url) as client:
            for path, changed in regenerate(client, args.out):
                print(f"{'wrote' if changed else 'unchanged'} {path}")


if __name__ == "__main__":
    main()
