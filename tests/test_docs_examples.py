"""Examples in docs/ that are data, not prose, still work: the seed in docs/seeds.md starts an
org that serves what it describes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bulkio.client import LightfieldClient

ROOT = Path(__file__).resolve().parent.parent


def test_seed_example_in_the_docs(sandbox: Any) -> None:
    text = (ROOT / "docs" / "seeds.md").read_text(encoding="utf-8")
    seed = json.loads(re.search(r"```json\n(.*?)\n```", text, re.DOTALL).group(1))  # type: ignore[union-attr]
    org = sandbox.create_org(seed=seed)
    with LightfieldClient(api_key=org.api_key, base_url=sandbox.url) as lf:
        accounts = {r["fields"]["$name"]["value"]: r for r in lf.list("account")}
        assert set(accounts) == {"Acme", "Globex"}
        assert accounts["Acme"]["fields"]["tier"]["value"] == "opt_tier_gold"
        assert accounts["Acme"]["relationships"]["$owner"]["values"] == ["mem_ada"]
        assert accounts["Globex"]["id"] == "acc_fixedid00000000000001"
        assert [m["fields"]["$email"]["value"] for m in lf.members()] == ["ada@example.test"]
        assert lf.schema("account").fields["tier"].options[1].label == "Silver"
        assert [o["objectType"] for o in lf.object_types()] == ["supplier"]
        assert [r["fields"]["$name"]["value"] for r in lf.list("supplier")] == ["Parts Ltd"]
