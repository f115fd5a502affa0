"""Reduce the raw runs to per-(workload, library, phase) statistics: median, min, max and friends."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stat:
    """The repeats of one phase of one workload on one library."""

    median: float
    low: float
    high: float
    count: int
    payload_bytes: int
    calls: int
    requests: float | None
    http_bytes: float | None
    peak_rss: float | None
    baseline_rss: float | None
    cpu_seconds: float | None = None

    @property
    def per_call(self) -> float:
        return self.median / max(self.calls, 1)

    @property
    def mb_per_s(self) -> float | None:
        if not self.payload_bytes or self.median <= 0:
            return None
        return self.payload_bytes / self.median / 1e6


@dataclass(frozen=True)
class Outcome:
    """What one (workload, library) pair produced: statistics per phase, or why there are none."""

    phases: dict[str, Stat]
    errors: list[str]
    unsupported: str | None
    version: str
    notes: dict[str, Any]


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(runs: list[dict[str, Any]]) -> dict[tuple[str, str], Outcome]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault((run["workload"], run["library"]), []).append(run)
    return {key: _outcome(items) for key, items in grouped.items()}


def _outcome(items: list[dict[str, Any]]) -> Outcome:
    good = [r for r in items if "phases" in r]
    errors = [r["error"] for r in items if "error" in r]
    unsupported = next((r["unsupported"] for r in items if "unsupported" in r), None)
    phases: dict[str, Stat] = {}
    names = {name for r in good for name in r["phases"]}
    for name in sorted(names):
        entries = [r["phases"][name] for r in good if name in r["phases"]]
        seconds = [float(e["seconds"]) for e in entries]
        phases[name] = Stat(
            median=statistics.median(seconds),
            low=min(seconds),
            high=max(seconds),
            count=len(seconds),
            payload_bytes=int(entries[0]["payload_bytes"]),
            calls=int(entries[0]["calls"]),
            requests=_median_or_none([e.get("requests") for e in entries]),
            http_bytes=_median_or_none([e.get("http_bytes") for e in entries]),
            peak_rss=_median_or_none([r.get("peak_rss") for r in good]),
            baseline_rss=_median_or_none([r.get("baseline_rss") for r in good]),
            cpu_seconds=_median_or_none([e.get("cpu_seconds") for e in entries]),
        )
    notes: dict[str, Any] = {}
    for r in good:
        notes.update(r.get("notes", {}))
    version = next((r.get("version", "") for r in good if r.get("version")), "")
    return Outcome(phases=phases, errors=errors, unsupported=unsupported, version=version, notes=notes)
