"""The rows of the report (which workload and phase each shows) and lookups over the summaries."""

from __future__ import annotations

from dataclasses import dataclass

from .config import HIERARCHY_SCALES_FULL, PEERS, TINY_FULL
from .summary import Outcome, Stat

Outcomes = dict[tuple[str, str], Outcome]


@dataclass(frozen=True)
class Row:
    label: str
    workload: str
    phase: str
    per_call: bool = False


def _tiny_rows() -> list[Row]:
    tiny = TINY_FULL
    rows = []
    for verb, workload in (("T1 read", "T1-read-tiny"), ("T2 write", "T2-write-tiny")):
        for sharded in (False, True):
            for edge in sorted(tiny.edges, reverse=True):
                count = f"{(tiny.shape[0] // edge) * (tiny.shape[1] // edge):,} chunks of {edge}²"
                where = f"{count} in {tiny.shard}² shards" if sharded else count
                rows.append(
                    Row(
                        f"{verb} {tiny.shape[0]}² uint8, {where}",
                        workload + "-sharded" * sharded,
                        f"c{edge}" + "-sharded" * sharded,
                    )
                )
    return rows


def _thread_rows() -> list[Row]:
    tiny = TINY_FULL
    rows = []
    for store in ("local", "memory"):
        for threads in tiny.thread_counts:
            label = f"P1 {threads} thread{'s' * (threads > 1)} x {tiny.reads_per_thread} one-element reads, {store}"
            rows.append(Row(label, f"P1-threads-{store}", f"t{threads}"))
    busy = f"c{tiny.threads_edge}"
    rows.append(
        Row(f"P2 busy core: read {tiny.shape[0]}², chunks {tiny.threads_edge}²", "P2-busy-machine", f"read-{busy}")
    )
    for threads in (min(tiny.thread_counts), max(tiny.thread_counts)):
        label = f"P2 busy core: {threads} thread{'s' * (threads > 1)} x {tiny.reads_per_thread} reads, local"
        rows.append(Row(label, "P2-busy-machine", f"t{threads}"))
    return rows


def _hierarchy_rows() -> list[Row]:
    rows = []
    for verb, phase in (("walk (async, unconsolidated)", "walk"), ("consolidate_metadata", "consolidate")):
        for tag, arrays in zip(("small", "large"), HIERARCHY_SCALES_FULL, strict=True):
            rows.append(Row(f"G1 {verb}, {arrays:,} arrays", "G1-hierarchy-scaling", f"{phase}-{tag}"))
    return rows


#: the rows of issue 18 (labelled with the full run's sizes; the quick run shrinks them)
ISSUE18_ROWS: tuple[Row, ...] = (
    *_tiny_rows(),
    Row("T3 durable write (fsync), 1,600 chunks of 50²", "T3-write-durable", "c50"),
    Row("T3 durable write (fsync), 40,000 chunks of 10² in shards", "T3-write-durable", "c10-sharded"),
    *_thread_rows(),
    *_hierarchy_rows(),
)

ROWS: tuple[Row, ...] = (
    Row("L1 write, chunks 64³", "L1-write-c64", "write"),
    Row("L2 write, shards 256³ / inner 32³", "L2-write-sharded", "write"),
    Row("L3 read all, chunks 64³", "L3-read-c64", "read"),
    Row("L3 read all, sharded", "L3-read-sharded", "read"),
    Row("L3 read all, chunks 64³, Zarr v2 copy", "L3-read-c64-v2", "read"),
    Row("L4 sync, 64³ (per call)", "L4-sync-c64", "read", per_call=True),
    Row("L4 sync, sharded (per call)", "L4-sync-sharded", "read", per_call=True),
    Row("L4 async gather, 64³ (total)", "L4-async-c64", "read"),
    Row("L4 async gather, sharded (total)", "L4-async-sharded", "read"),
    Row("L4 async one by one, 64³ (per call)", "L4-aseq-c64", "read", per_call=True),
    Row("L4 async one by one, sharded (per call)", "L4-aseq-sharded", "read", per_call=True),
    Row("L4 facade round trip, no-op (per call)", "L4-facade", "roundtrip", per_call=True),
    Row("V1 100k random points (vindex), 4096² sharded", "V1-vindex-100k", "read"),
    Row("H1 tiles, sharded", "H1-tiles-sharded", "read"),
    Row("H1 tiles, unsharded", "H1-tiles-plain", "read"),
    Row("H1 tiles, unsharded, Zarr v2 copy", "H1-tiles-plain-v2", "read"),
    Row("H1 whole-shard window", "H1-window-sharded", "read"),
    Row("H1 open an array", "H1-tiles-sharded", "open"),
    Row("H1 open an array, Zarr v2 copy", "H1-tiles-plain-v2", "open"),
    Row("H2 open consolidated hierarchy", "H2-hierarchy", "open"),
    Row("H2 browse it (all arrays)", "H2-hierarchy", "browse"),
    Row("H3 1000 tiles, 2% of answers 2 s late", "H3-tail-tiles", "read"),
    Row("H3 the same tiles, no late answers", "H3-clean-tiles", "read"),
    Row("C1 52 sliding 1024² windows (75% overlap), no cache", "C1-sliding-nocache", "read"),
    Row("C1 the same windows, decoded-chunk cache (64 MiB)", "C1-sliding-cache", "read"),
    *ISSUE18_ROWS,
)
HTTP_ROWS = tuple(r for r in ROWS if r.workload.startswith("H"))
LIMIT_ROWS: tuple[tuple[str, str], ...] = (
    ("numpy copy (warm target / fresh target)", "X-numpy-copy"),
    ("raw file reads, chunks 64³ (1 / 2 threads)", "X-read-files-c64"),
    ("raw file reads, shards (1 / 2 threads)", "X-read-files-sharded"),
    ("zstd decode, chunks 64³ (1 / 2 threads)", "X-zstd-decode-c64"),
    ("zstd decode, inner chunks 32³ (1 / 2 threads)", "X-zstd-decode-sharded"),
    ("zstd encode level 1, chunks 64³ (1 / 2 threads)", "X-zstd-encode-c64"),
    ("zstd encode level 1, chunks 32³ (1 / 2 threads)", "X-zstd-encode-sharded"),
)
LIMITS_LIBRARY = "limits"


def stat_of(outcomes: Outcomes, workload: str, library: str, phase: str) -> Stat | None:
    outcome = outcomes.get((workload, library))
    return outcome.phases.get(phase) if outcome is not None else None


def best_peer(outcomes: Outcomes, row: Row) -> tuple[str, Stat] | None:
    found = [(lib, s) for lib in PEERS if (s := stat_of(outcomes, row.workload, lib, row.phase)) is not None]
    return min(found, key=lambda item: item[1].median) if found else None


def ratio(outcomes: Outcomes, row: Row, peer: str) -> float | None:
    mine = stat_of(outcomes, row.workload, "zarrio", row.phase)
    theirs = stat_of(outcomes, row.workload, peer, row.phase)
    if mine is None or theirs is None or theirs.median <= 0:
        return None
    return mine.median / theirs.median


def rss_ratio(outcomes: Outcomes, row: Row) -> float | None:
    mine = stat_of(outcomes, row.workload, "zarrio", row.phase)
    peers = [s.peak_rss for p in PEERS if (s := stat_of(outcomes, row.workload, p, row.phase)) and s.peak_rss]
    if mine is None or mine.peak_rss is None or not peers:
        return None
    return mine.peak_rss / min(peers)
