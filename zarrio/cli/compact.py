"""``zarrio compact TARGET``: rewrite the shards that carry garbage into their compact form.

A partial shard write on a store that appends (LocalStore) leaves the replaced
inner chunks and the old index in the shard as garbage (see
:mod:`zarrio.codecs.shard_update`). ``compact`` reads each shard's index (one
suffix read), and only a shard that holds bytes no entry points at is read
whole and rewritten: its inner chunks' encoded bytes as they are, in order,
then a new index (nothing is decoded). The rewrite is atomic like every write;
on a directory the shard's ``flock`` is held (``LocalStore(lock_chunks=True)``),
so writers using chunk locks are excluded. Other writers should not run meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
from dataclasses import dataclass, field
from typing import Any

from .. import _paths
from ..array import AsyncArray
from ..codecs import ShardingCodec, codec_from_json
from ..codecs.shard_update import compact_shard, garbage_nbytes
from ..group import AsyncGroup
from ..stores import LocalStore, Store
from .nodes import open_node, opened_store
from .target import Target, parse_target

__all__ = ["Compacted", "add_parser", "compact_array", "compact_node", "run_compact"]

CONCURRENCY = 8


@dataclass
class Compacted:
    """What a compaction found and did."""

    arrays: list[str] = field(default_factory=list)  # the sharded arrays looked at
    shards: int = 0  # stored shards looked at
    rewritten: int = 0  # shards that carried garbage
    bytes_before: int = 0  # their stored size before
    bytes_after: int = 0  # and after


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "compact",
        parents=parents,
        help="rewrite shards that carry garbage (left by partial shard writes) compactly",
        description="Rewrite every shard of the array (or of every array below the group) that holds bytes "
        "its index does not point at, which partial shard writes on a local directory leave behind; "
        "inner chunks are copied as they are, never decoded.",
    )
    parser.add_argument("target", metavar="TARGET", help="PATH or FILE.zip, optionally ::node/path")
    parser.add_argument("--dry-run", action="store_true", help="report what would be reclaimed; change nothing")
    parser.set_defaults(run=run_compact)


def _sharding(array: AsyncArray) -> ShardingCodec | None:
    codecs = [codec_from_json(c) for c in array.metadata.codecs]
    return codecs[0] if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec) else None


async def compact_array(
    store: Store, array: AsyncArray, *, dry_run: bool = False, into: Compacted | None = None
) -> Compacted:
    """Compact the shards of ``array`` (in ``store``) that carry garbage."""
    done = into if into is not None else Compacted()
    codec = _sharding(array)
    if codec is None or codec.index_location != "end":  # only appended shards carry garbage
        return done
    done.arrays.append("/" + array.path)
    grid = array.metadata.chunk_grid
    prefix = _paths.prefix_of(array.path)
    coords = itertools.product(*(range(n) for n in grid.grid_shape(array.shape)))
    shards = {prefix + array.metadata.encode_chunk_key(c): c for c in coords}
    if store.listable:
        stored = set(await store.list(prefix))
        shards = {key: c for key, c in shards.items() if key in stored}
    limit = asyncio.Semaphore(CONCURRENCY)

    async def compact(key: str, c: tuple[int, ...]) -> None:
        cps = codec.chunks_per_shard(grid.uniform_shape or grid.chunk_shape_at(c))
        nbytes = codec.index_nbytes(cps)
        async with limit:
            found = await store.get_suffix_with_size(key, nbytes)
            if found is None:
                return
            done.shards += 1
            raw, size = found
            if size is not None:
                index = codec.decode_index(raw, cps, shard_nbytes=size)
                if garbage_nbytes(codec, index, cps, size) <= 0:
                    return
            lock = store.key_lock(key)
            if lock is not None:
                await asyncio.to_thread(lock.__enter__)
            try:
                data = await store.get(key)
                if data is None:
                    return
                compacted = compact_shard(codec, data, cps)
                if compacted is None or len(compacted) == len(data):
                    return
                done.rewritten += 1
                done.bytes_before += len(data)
                done.bytes_after += len(compacted)
                if not dry_run:
                    await store.set(key, compacted)
            finally:
                if lock is not None:
                    await asyncio.to_thread(lock.__exit__, None, None, None)

    await asyncio.gather(*(compact(key, c) for key, c in shards.items()))
    return done


async def compact_node(store: Store, node: AsyncArray | AsyncGroup, *, dry_run: bool = False) -> Compacted:
    """Compact an array, or every array below a group."""
    done = Compacted()

    async def visit(node: AsyncArray | AsyncGroup) -> None:
        if isinstance(node, AsyncArray):
            await compact_array(store, node, dry_run=dry_run, into=done)
            return
        for _, child in await node.members():
            await visit(child)

    await visit(node)
    return done


async def run_compact(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    if not target.is_url and not target.is_zip and os.path.isdir(target.location):
        store: Store = LocalStore(target.location, lock_chunks=True)
        try:
            done = await compact_node(store, await open_node(store, target, writable=True), dry_run=args.dry_run)
        finally:
            await store.close()
    else:
        async with opened_store(target, "w") as opened:
            node = await open_node(opened, Target(target.location, target.node), writable=True)
            done = await compact_node(opened, node, dry_run=args.dry_run)
    saved = done.bytes_before - done.bytes_after
    verb = "would rewrite" if args.dry_run else "rewrote"
    print(
        f"{verb} {done.rewritten} of {done.shards} shard{'s' if done.shards != 1 else ''} in "
        f"{len(done.arrays)} sharded array{'s' if len(done.arrays) != 1 else ''}: "
        f"{done.bytes_before} -> {done.bytes_after} bytes ({saved} reclaimed)"
    )
    return 0
