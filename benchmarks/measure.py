"""Timing, memory and HTTP-counter bookkeeping inside one child process."""

from __future__ import annotations

import gc
import json
import os
import resource
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from .adapters import Adapter
from .config import DataPaths, Sizes

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def current_rss() -> int:
    """Resident set size of this process now, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def peak_rss() -> int:
    """The highest resident set size this process has had so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def server_counts(server_url: str) -> tuple[int, int, float]:
    """(requests, body bytes, server CPU seconds) of the benchmark HTTP server so far (the query is not counted)."""
    with urllib.request.urlopen(f"{server_url}/__bench/stats", timeout=30) as response:
        stats = json.loads(response.read())
    return int(stats["requests"]), int(stats["bytes"]), float(stats.get("cpu_seconds", 0.0))


@dataclass
class Phase:
    """One timed step of a workload."""

    seconds: float
    payload_bytes: int = 0
    calls: int = 1
    requests: int | None = None
    http_bytes: int | None = None
    #: CPU time of the whole process (all threads) during the phase
    cpu_seconds: float | None = None
    #: time the garbage collector ran during the phase (it stays enabled)
    gc_seconds: float | None = None
    #: CPU time the benchmark HTTP server used during the phase
    server_cpu_seconds: float | None = None


@dataclass
class RunContext:
    """What a workload needs to run, and where it records what it measured."""

    library: str
    adapter: Adapter | None
    sizes: Sizes
    paths: DataPaths
    server_url: str | None = None
    phases: dict[str, Phase] = field(default_factory=dict)
    baseline_rss: int | None = None
    peak_rss: int | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def lib(self) -> Adapter:
        if self.adapter is None:
            raise RuntimeError("this workload needs a library adapter")
        return self.adapter

    def http_counts(self) -> tuple[int, int, float] | None:
        return server_counts(self.server_url) if self.server_url else None

    @contextmanager
    def timed(self, name: str, payload_bytes: int = 0, calls: int = 1, primary: bool = False) -> Iterator[None]:
        """Time the block as phase ``name``; a primary phase also brackets the memory measurement.

        Every library's step starts right after a full garbage collection: the objects left
        by imports and setup are then collected here, not by a first full collection that
        would land inside whichever step happens to cross the threshold. The collector stays
        enabled during the step, and the time it runs there is recorded.
        """
        before = self.http_counts()
        if primary:
            self.baseline_rss = current_rss()
        gc.collect()
        collecting = _GcClock()
        gc.callbacks.append(collecting)
        cpu_started = time.process_time()
        started = time.perf_counter()
        try:
            yield
        finally:
            gc.callbacks.remove(collecting)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        if primary:
            self.peak_rss = peak_rss()
        after = self.http_counts()
        phase = Phase(
            seconds=seconds,
            payload_bytes=payload_bytes,
            calls=calls,
            cpu_seconds=cpu_seconds,
            gc_seconds=collecting.total,
        )
        if before is not None and after is not None:
            phase.requests = after[0] - before[0]
            phase.http_bytes = after[1] - before[1]
            phase.server_cpu_seconds = after[2] - before[2]
        self.phases[name] = phase

    def result(self) -> dict[str, Any]:
        return {
            "phases": {name: asdict(phase) for name, phase in self.phases.items()},
            "baseline_rss": self.baseline_rss,
            "peak_rss": self.peak_rss,
            "notes": self.notes,
        }


class _GcClock:
    """A ``gc.callbacks`` entry that adds up how long collections take."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started
