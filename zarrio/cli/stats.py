"""The stored chunks of an array (moved to :mod:`zarrio.stored`, which ``Array.info_complete()`` uses)."""

from __future__ import annotations

from ..stored import PROBE_LIMIT, StoredStats, grid_chunk_keys, listed_chunk_keys, stored_stats

__all__ = ["PROBE_LIMIT", "StoredStats", "grid_chunk_keys", "listed_chunk_keys", "stored_stats"]
