"""The H3 table: each library's per-tile p50 and p99 and the total, with and without late answers."""

from __future__ import annotations

import statistics
from typing import Any

from .config import PEERS

WORKLOADS = (("H3-tail-tiles", "2% of answers 2 s late"), ("H3-clean-tiles", "no late answers"))


def _median(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms" if values else "-"


def tail_table(runs: list[dict[str, Any]]) -> list[str]:
    """Markdown rows: one per (workload, library) measured, medians over the repeats."""
    rows = []
    for workload, label in WORKLOADS:
        for library in ("zarrio", *PEERS):
            good = [r for r in runs if (r["workload"], r["library"]) == (workload, library) and "phases" in r]
            if not good:
                continue
            notes = [r.get("notes", {}) for r in good]
            hedges = [n["zarrio_hedges"] for n in notes if "zarrio_hedges" in n]
            cells = [
                label,
                library,
                _median([n["tile_p50"] for n in notes if "tile_p50" in n]),
                _median([n["tile_p99"] for n in notes if "tile_p99" in n]),
                _median([r["phases"]["read"]["seconds"] for r in good if "read" in r["phases"]]),
                f"{statistics.median(hedges):.0f}" if hedges else "-",
            ]
            rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return []
    header = ["H3 tiles", "library", "tile p50", "tile p99", "total", "hedges"]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows]
