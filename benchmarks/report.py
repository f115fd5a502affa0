"""Placeholder report (replaced below)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_report(results: dict[str, Any], docs_dir: Path) -> None:
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / "results.md").write_text(json.dumps(results["meta"]) + "\n", encoding="utf-8")
