"""The goals of issue 5 (and of issues 15, 18 and 19 for their rows), checked against one run's summaries.

Each goal yields a GoalResult with what was measured, the target and whether it holds (None when
the run lacks the data, e.g. a workload was not selected or failed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .config import HIERARCHY_SCALES_FULL, PEERS
from .rows import ISSUE18_ROWS, LIMITS_LIBRARY, ROWS, Outcomes, Row, best_peer, ratio, rss_ratio, stat_of

MIB = 2**20
SHORT = {
    "zarr-python": "zarr-python",
    "zarr-python-fused": "zp fused",
    "zarr-python-zarrs": "zp + zarrs",
    "tensorstore": "tensorstore",
}


@dataclass(frozen=True)
class GoalResult:
    goal: str
    measured: str
    target: str
    holds: bool | None


def _row(workload: str, phase: str) -> Row:
    return next(r for r in ROWS if r.workload == workload and r.phase == phase)


def _missing(goal: str, target: str) -> GoalResult:
    return GoalResult(goal, "no data", target, None)


def _at_most_best_peer(outcomes: Outcomes, row: Row, goal: str) -> GoalResult:
    best = best_peer(outcomes, row)
    value = ratio(outcomes, row, best[0]) if best else None
    if best is None or value is None:
        return _missing(goal, "≤ 1.00x")
    return GoalResult(goal, f"{value:.2f}x {SHORT[best[0]]}", "≤ 1.00x", value <= 1.0)


def beat_best_peer(outcomes: Outcomes) -> Iterator[GoalResult]:
    for row in ROWS:
        if row.workload.startswith("L") and "aseq" not in row.workload and "facade" not in row.workload:
            yield _at_most_best_peer(outcomes, row, f"{row.label}: at most the best peer")


def near_zstd_limit(outcomes: Outcomes) -> Iterator[GoalResult]:
    cases = (
        ("L1-write-c64", "write", "X-zstd-encode-c64", 1.3, "encode"),
        ("L2-write-sharded", "write", "X-zstd-encode-sharded", 1.3, "encode"),
        ("L3-read-c64", "read", "X-zstd-decode-c64", 1.2, "decode"),
        ("L3-read-sharded", "read", "X-zstd-decode-sharded", 1.2, "decode"),
    )
    for workload, phase, limit, factor, verb in cases:
        goal = f"{_row(workload, phase).label}: near the 2-thread zstd {verb} limit"
        mine = stat_of(outcomes, workload, "zarrio", phase)
        bound = stat_of(outcomes, limit, LIMITS_LIBRARY, "t2")
        if mine is None or bound is None:
            yield _missing(goal, f"≤ {factor:.1f}x")
            continue
        value = mine.median / bound.median
        measured = f"{value:.2f}x ({mine.median:.3f} s vs {bound.median:.3f} s)"
        yield GoalResult(goal, measured, f"≤ {factor:.1f}x", value <= factor)


def facade_cost(outcomes: Outcomes) -> Iterator[GoalResult]:
    for tag in ("c64", "sharded"):
        goal = f"L4 sync {tag}: the facade's own cost per call (sync - async one by one)"
        sync = stat_of(outcomes, f"L4-sync-{tag}", "zarrio", "read")
        aseq = stat_of(outcomes, f"L4-aseq-{tag}", "zarrio", "read")
        if sync is None or aseq is None:
            yield _missing(goal, "< 100 µs")
            continue
        cost = sync.per_call - aseq.per_call
        measured = f"{cost * 1e6:.0f} µs ({sync.per_call * 1e6:.0f} - {aseq.per_call * 1e6:.0f} µs)"
        yield GoalResult(goal, measured, "< 100 µs", cost < 100e-6)


def facade_roundtrip(outcomes: Outcomes) -> Iterator[GoalResult]:
    goal = "sync facade: round trip of a no-op coroutine through the background loop (zarrio.run)"
    stat = stat_of(outcomes, "L4-facade", "zarrio", "roundtrip")
    if stat is None:
        yield _missing(goal, "< 100 µs")
        return
    yield GoalResult(goal, f"{stat.per_call * 1e6:.0f} µs per call", "< 100 µs", stat.per_call < 100e-6)


def whole_read_memory(outcomes: Outcomes) -> Iterator[GoalResult]:
    for workload in ("L3-read-c64", "L3-read-sharded"):
        goal = f"{_row(workload, 'read').label}: peak memory over the output"
        stat = stat_of(outcomes, workload, "zarrio", "read")
        if stat is None or stat.peak_rss is None or stat.baseline_rss is None:
            yield _missing(goal, "≤ output + 64 MiB")
            continue
        extra = stat.peak_rss - stat.baseline_rss - stat.payload_bytes
        measured = (
            f"output + {extra / MIB:.0f} MiB (peak {stat.peak_rss / MIB:.0f} MiB, before {stat.baseline_rss / MIB:.0f})"
        )
        yield GoalResult(goal, measured, "≤ output + 64 MiB", extra <= 64 * MIB)


def rss_vs_peers(outcomes: Outcomes) -> Iterator[GoalResult]:
    ratios = [(value, row) for row in ROWS if (value := rss_ratio(outcomes, row)) is not None]
    goal = "peak RSS: no workload above the lowest peer's by more than 10%"
    if not ratios:
        yield _missing(goal, "≤ 1.10x")
        return
    worst, row = max(ratios, key=lambda item: item[0])
    yield GoalResult(goal, f"worst {worst:.2f}x ({row.label})", "≤ 1.10x", worst <= 1.10)


def http_goals(outcomes: Outcomes) -> Iterator[GoalResult]:
    counts = (
        ("H1-tiles-sharded", "open", "H1: opening an array is one request"),
        ("H1-window-sharded", "read", "H1: a whole-shard window is one request"),
        ("H2-hierarchy", "open", "H2: opening a consolidated hierarchy is one request"),
    )
    for workload, phase, goal in counts:
        stat = stat_of(outcomes, workload, "zarrio", phase)
        if stat is None or stat.requests is None:
            yield _missing(goal, "1 request")
            continue
        plural = "" if stat.requests == 1 else "s"
        yield GoalResult(goal, f"{stat.requests:.0f} request{plural}", "1 request", stat.requests == 1)
    row = _row("H1-tiles-sharded", "read")
    mine = stat_of(outcomes, row.workload, "zarrio", row.phase)
    peer_requests = [s.requests for p in PEERS if (s := stat_of(outcomes, row.workload, p, row.phase)) and s.requests]
    goal = "H1 tiles, sharded: fewest requests"
    if mine is None or mine.requests is None or not peer_requests:
        yield _missing(goal, "≤ every peer")
    else:
        measured = f"{mine.requests:.0f} vs peers ≥ {min(peer_requests):.0f}"
        yield GoalResult(goal, measured, "≤ every peer", mine.requests <= min(peer_requests))
    row = _row("H1-tiles-sharded", "read")
    goal = f"{row.label}: at most 0.6x tensorstore's time"
    value = ratio(outcomes, row, "tensorstore")
    if value is None:
        yield _missing(goal, "≤ 0.60x")
    else:
        yield GoalResult(goal, f"{value:.2f}x tensorstore", "≤ 0.60x", value <= 0.6)
    for row in (_row("H1-tiles-sharded", "read"), _row("H1-tiles-plain", "read"), _row("H2-hierarchy", "browse")):
        yield _at_most_best_peer(outcomes, row, f"{row.label}: at most the best peer's time")
    yield from tail_goals(outcomes)


def tail_goals(outcomes: Outcomes) -> Iterator[GoalResult]:
    """H3 (issue 19): late answers cost zarrio little against its own clean run and against the peers."""
    tail, clean = _row("H3-tail-tiles", "read"), _row("H3-clean-tiles", "read")
    mine, mine_clean = (stat_of(outcomes, r.workload, "zarrio", r.phase) for r in (tail, clean))
    goal = "H3: with 2% of answers 2 s late, at most 1.5x the clean time"
    if mine is None or mine_clean is None:
        yield _missing(goal, "≤ 1.50x")
    else:
        value = mine.median / mine_clean.median
        yield GoalResult(goal, f"{value:.2f}x the clean run", "≤ 1.50x", value <= 1.5)
    goal = "H3: with 2% of answers 2 s late, at most 0.5x the best peer's time"
    peer = best_peer(outcomes, tail)
    if mine is None or peer is None:
        yield _missing(goal, "≤ 0.50x")
    else:
        value = mine.median / peer[1].median
        yield GoalResult(goal, f"{value:.2f}x {peer[0]}", "≤ 0.50x", value <= 0.5)


#: slack for noise on the "no slower, relative to the peers, than v3" goals of issue 15
V2_SLACK = 1.05
#: how far above linear (large/small = the ratio of the sizes) a hierarchy row may grow
LINEAR_SLACK = 1.10


def at_most_tensorstore(outcomes: Outcomes) -> Iterator[GoalResult]:
    """Issue 18: every tiny-chunk and threaded row at or below 1.0x tensorstore."""
    for row in ISSUE18_ROWS:
        if not row.workload.startswith(("T", "P")):
            continue
        goal = f"{row.label}: at most tensorstore's time"
        value = ratio(outcomes, row, "tensorstore")
        if value is None:
            yield _missing(goal, "≤ 1.00x")
        else:
            yield GoalResult(goal, f"{value:.2f}x tensorstore", "≤ 1.00x", value <= 1.0)


def thread_scaling(outcomes: Outcomes) -> Iterator[GoalResult]:
    """Issue 18: with 16 threads, at least the throughput of 1 thread, on every store."""
    for workload, store in (
        ("P1-threads-local", "local"),
        ("P1-threads-memory", "memory"),
        ("P2-busy-machine", "busy"),
    ):
        goal = f"P {store}: reads per second with 16 threads at least those with 1 thread"
        one, many = (stat_of(outcomes, workload, "zarrio", f"t{n}") for n in (1, 16))
        if one is None or many is None:
            yield _missing(goal, "≥ 1.00x")
            continue
        value = one.per_call / many.per_call
        measured = f"{value:.2f}x ({many.per_call * 1e6:.0f} vs {one.per_call * 1e6:.0f} µs per read)"
        yield GoalResult(goal, measured, "≥ 1.00x", value >= 1.0)


def hierarchy_goals(outcomes: Outcomes) -> Iterator[GoalResult]:
    """Issue 18: consolidate and walk grow linearly with the hierarchy, at most the best peer's time."""
    workload = "G1-hierarchy-scaling"
    small, large = HIERARCHY_SCALES_FULL
    linear = large / small
    for phase, verb in (("walk", "async walk"), ("consolidate", "consolidate_metadata")):
        goal = f"G1 {verb}: {large:,} arrays at most {linear * LINEAR_SLACK:.1f}x the time of {small:,} (linear)"
        a, b = (stat_of(outcomes, workload, "zarrio", f"{phase}-{tag}") for tag in ("small", "large"))
        target = f"≤ {linear * LINEAR_SLACK:.1f}x"
        if a is None or b is None:
            yield _missing(goal, target)
        else:
            value = b.median / a.median
            yield GoalResult(goal, f"{value:.2f}x", target, value <= linear * LINEAR_SLACK)
    for row in ISSUE18_ROWS:
        if row.workload == workload:
            yield _at_most_best_peer(outcomes, row, f"{row.label}: at most the best peer's time")


def v2_goals(outcomes: Outcomes) -> Iterator[GoalResult]:
    """Issue 15: reading a Zarr v2 copy is no slower, relative to the best peer, than reading v3."""
    for v3, v2 in (("L3-read-c64", "L3-read-c64-v2"), ("H1-tiles-plain", "H1-tiles-plain-v2")):
        row3, row2 = _row(v3, "read"), _row(v2, "read")
        goal = f"{row2.label}: zarrio / best peer no higher than on v3"
        best3, best2 = best_peer(outcomes, row3), best_peer(outcomes, row2)
        r3 = ratio(outcomes, row3, best3[0]) if best3 else None
        r2 = ratio(outcomes, row2, best2[0]) if best2 else None
        target = f"≤ v3 ratio x {V2_SLACK:.2f}"
        if r3 is None or r2 is None:
            yield _missing(goal, target)
        else:
            yield GoalResult(goal, f"v2 {r2:.2f}x, v3 {r3:.2f}x", target, r2 <= r3 * V2_SLACK)


def evaluate_goals(outcomes: Outcomes) -> list[GoalResult]:
    return [
        *beat_best_peer(outcomes),
        *near_zstd_limit(outcomes),
        *facade_cost(outcomes),
        *facade_roundtrip(outcomes),
        *whole_read_memory(outcomes),
        *rss_vs_peers(outcomes),
        *http_goals(outcomes),
        *v2_goals(outcomes),
        *at_most_tensorstore(outcomes),
        *thread_scaling(outcomes),
        *hierarchy_goals(outcomes),
    ]
