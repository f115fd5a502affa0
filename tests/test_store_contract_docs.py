"""docs/custom-stores.md's contract table names every public method of the Store ABC, and nothing else."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from zarrio.stores import Store

DOC = Path(__file__).resolve().parent.parent / "docs" / "custom-stores.md"


def documented_methods() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## The contract", 1)[1].split("\n\n", 2)[1]
    return set(re.findall(r"^\| `(\w+)\(", table, flags=re.MULTILINE))


def public_methods() -> set[str]:
    return {name for name, member in inspect.getmembers(Store) if callable(member) and not name.startswith("_")}


def test_the_contract_table_matches_the_store_abc() -> None:
    documented = documented_methods()
    assert documented, "no contract table found"
    assert documented == public_methods()
