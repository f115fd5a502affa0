"""G1 (issue 18): walking and consolidating big hierarchies, at two sizes in one process.

For each hierarchy (5,000 and 20,000 arrays in groups of 100; 200 and 800 in quick mode), smaller
first: open the root group (untimed), walk every node through the async API without consolidated
metadata (phase ``walk-small`` / ``walk-large``), then consolidate the metadata through the
blocking API (``consolidate-small`` / ``consolidate-large``). The root ``zarr.json`` the
consolidation rewrites is put back afterwards, so every run walks the same unconsolidated tree.
The large/small ratio of each phase says how far from linear it grows (4.0x is linear).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from .adapters import Location
from .config import hierarchy_scales
from .extra_data import hierarchy_names
from .measure import RunContext

SCALE_NAMES = ("small", "large")


def consolidated_count(root_doc: dict[str, object]) -> int:
    """How many nodes the consolidated metadata of a root ``zarr.json`` lists (0 when it has none)."""
    consolidated = root_doc.get("consolidated_metadata")
    if not isinstance(consolidated, dict):
        return 0
    metadata = consolidated.get("metadata")
    return len(metadata) if isinstance(metadata, dict) else 0


def _walk(ctx: RunContext, path: Path, tag: str, nodes: int) -> None:
    adapter = ctx.lib

    async def body() -> None:
        try:
            group = await adapter.aopen_group(Location.local(path))
            with ctx.timed(f"walk-{tag}", calls=nodes, primary=tag == SCALE_NAMES[-1]):
                found = await adapter.awalk(group)
        finally:
            await adapter.aclose()
        if found != nodes:
            raise AssertionError(f"walking {path.name} found {found} nodes, not {nodes}")

    asyncio.run(body())


def hierarchy_scaling(ctx: RunContext) -> None:
    scales = hierarchy_scales(ctx.sizes)
    for tag, arrays in zip(SCALE_NAMES, scales, strict=True):
        path = ctx.paths.hierarchy_of(arrays)
        root_file = path / "zarr.json"
        original = root_file.read_bytes()
        groups, names = hierarchy_names(arrays)
        nodes = len(groups) + len(names)
        try:
            _walk(ctx, path, tag, nodes)
            with ctx.timed(f"consolidate-{tag}", calls=nodes):
                ctx.lib.consolidate(path)
            listed = consolidated_count(json.loads(root_file.read_text(encoding="utf-8")))
            if listed != nodes:
                raise AssertionError(f"the consolidated metadata of {arrays} arrays lists {listed} nodes, not {nodes}")
        finally:
            root_file.write_bytes(original)
