"""The rows of the report (which workload and phase each shows) and lookups over the summaries."""

from __future__ import annotations

from dataclasses import dataclass

from .config import PEERS
from .summary import Outcome, Stat

Outcomes = dict[tuple[str, str], Outcome]


@dataclass(frozen=True)
class Row:
    label: str
    workload: str
    phase: str
    per_call: bool = False


ROWS: tuple[Row, ...] = (
    Row("L1 write, chunks 64³", "L1-write-c64", "write"),
    Row("L2 write, shards 256³ / inner 32³", "L2-write-sharded", "write"),
    Row("L3 read all, chunks 64³", "L3-read-c64", "read"),
    Row("L3 read all, sharded", "L3-read-sharded", "read"),
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
    Row("H1 whole-shard window", "H1-window-sharded", "read"),
    Row("H1 open an array", "H1-tiles-sharded", "open"),
    Row("H2 open consolidated hierarchy", "H2-hierarchy", "open"),
    Row("H2 browse it (all arrays)", "H2-hierarchy", "browse"),
    Row("H3 1000 tiles, 2% of answers 2 s late", "H3-tail-tiles", "read"),
    Row("H3 the same tiles, no late answers", "H3-clean-tiles", "read"),
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
