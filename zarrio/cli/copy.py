"""``zarrio cp SRC DST``: copy an array or a whole hierarchy between stores, optionally re-laid out."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import _paths, aio
from ..group import AsyncGroup, read_node_metadata
from ..metadata import GroupMetadata
from ..stores import Store
from .copier import plan_jobs, run_jobs
from .copy_options import LayoutOptions, parse_codecs_option, parse_extents_option
from .copy_plan import check_not_overlapping, create_destination
from .nodes import open_node, opened_store
from .progress import Progress
from .target import parse_target
from .usage import UsageError

__all__ = ["add_parser", "layout_options", "refresh_consolidated_ancestors", "run"]

MIB = 1 << 20


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "cp",
        parents=parents,
        help="copy an array or a hierarchy between stores",
        description="Copy an array or a whole hierarchy between stores (directory, .zip, HTTP source), "
        "optionally rechunking, resharding or recompressing. Without layout options the stored chunks "
        "are copied byte for byte. Data streams through in bounded memory, several chunks at a time. "
        "A progress bar is drawn on stderr when it is a terminal.",
        epilog="--codecs takes a JSON codec list or a shorthand: none, zstd[:LEVEL], gzip[:LEVEL], "
        "blosc[:CNAME[:CLEVEL[:SHUFFLE]]], crc32c (comma-separated, e.g. 'blosc:lz4:5,crc32c').",
    )
    parser.add_argument("source", metavar="SRC", help="PATH, FILE.zip or http(s)://URL, optionally ::node/path")
    parser.add_argument("destination", metavar="DST", help="PATH or FILE.zip, optionally ::node/path")
    parser.add_argument("--chunks", metavar="C1,C2,...", help="new chunk shape (inner chunks when sharded)")
    parser.add_argument("--shards", metavar="S1,S2,...|none", help="new shard shape, or 'none' to remove sharding")
    parser.add_argument("--codecs", metavar="CODECS", help="new filters and compressors (see below)")
    parser.add_argument("--overwrite", action="store_true", help="replace the destination node if it exists")
    parser.add_argument("--jobs", type=int, default=8, metavar="N", help="chunks in flight at once (default 8)")
    parser.add_argument(
        "--memory", type=int, default=256, metavar="MIB", help="decoded data held at once, about (default 256 MiB)"
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None, help="always draw progress")
    progress.add_argument("--no-progress", dest="progress", action="store_false", help="never draw progress")
    parser.set_defaults(run=run)


def layout_options(args: argparse.Namespace) -> LayoutOptions:
    """The layout options of a ``cp`` command line (malformed text is a UsageError)."""
    unshard = args.shards is not None and args.shards.strip().lower() == "none"
    return LayoutOptions(
        chunks=parse_extents_option(args.chunks, "--chunks") if args.chunks is not None else None,
        shards=parse_extents_option(args.shards, "--shards") if args.shards is not None and not unshard else None,
        unshard=unshard,
        codecs=parse_codecs_option(args.codecs) if args.codecs is not None else None,
    )


async def run(args: argparse.Namespace) -> int:
    options = layout_options(args)
    if args.jobs < 1 or args.memory < 1:
        raise UsageError("--jobs and --memory must be positive")
    source_target, destination_target = parse_target(args.source), parse_target(args.destination)
    check_not_overlapping(source_target, destination_target)
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    async with opened_store(source_target) as source_store:
        source = await open_node(source_store, source_target)
        async with opened_store(destination_target, "w") as destination_store:
            copies = await create_destination(
                source, destination_store, destination_target, options, overwrite=args.overwrite
            )
            jobs = await plan_jobs(copies)
            total_bytes = None if any(j.nbytes is None for j in jobs) else sum(j.nbytes or 0 for j in jobs)
            progress = Progress(total_bytes, sum(j.chunks for j in jobs), sys.stderr, enabled=show_progress)
            progress.start()
            try:
                await run_jobs(jobs, progress, concurrency=args.jobs, memory_budget=args.memory * MIB)
            finally:
                progress.close()
            if isinstance(source, AsyncGroup) and source.metadata.consolidated_metadata is not None:
                await aio.consolidate_metadata(destination_store, destination_target.node)
            await refresh_consolidated_ancestors(destination_store, destination_target.node)
    return 0


async def refresh_consolidated_ancestors(store: Store, path: str) -> None:
    """Re-consolidate the ancestors of ``path`` that hold consolidated metadata, so they list the new node."""
    for ancestor in _paths.parent_paths(path):
        meta = await read_node_metadata(store, ancestor)
        if isinstance(meta, GroupMetadata) and meta.consolidated_metadata is not None:
            await aio.consolidate_metadata(store, ancestor)
