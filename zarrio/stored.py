"""What an array holds in its store: chunk keys present, their count and their stored size."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import zipfile
from dataclasses import dataclass

from . import _paths
from .array import AsyncArray
from .codecs import ShardingCodec, codec_from_json
from .errors import TransportError
from .metadata.v2_nodes import METADATA_NAMES
from .stores import LocalStore, Store, ZipStore

__all__ = [
    "PROBE_LIMIT",
    "StoredStats",
    "chunks_in_grid",
    "chunks_initialized",
    "grid_chunk_keys",
    "listed_chunk_keys",
    "stored_stats",
]

#: an unlistable store (HTTP) is probed key by key only up to this many chunks
PROBE_LIMIT = 4096
#: requests in flight while measuring
CONCURRENCY = 32


@dataclass(frozen=True)
class StoredStats:
    """``nchunks`` chunk (or shard) objects holding ``nbytes`` bytes in total (``None``: not known)."""

    nchunks: int
    nbytes: int | None


def _is_chunk_key(key: str, metadata_keys: set[str], nested_prefixes: set[str]) -> bool:
    return key not in metadata_keys and not any(key.startswith(p) for p in nested_prefixes)


async def listed_chunk_keys(store: Store, array: AsyncArray) -> list[str]:
    """The array's chunk (or shard) keys in a listable store, sorted; nodes nested below it are not its chunks."""
    prefix = _paths.prefix_of(array.path)
    keys = await store.list(prefix)
    own = {prefix + name for name in METADATA_NAMES}
    nested = {k.rpartition("/")[0] + "/" for k in keys if k.rpartition("/")[2] in METADATA_NAMES and k not in own}
    return sorted(k for k in keys if _is_chunk_key(k, own, nested))


def grid_chunk_keys(array: AsyncArray) -> list[str]:
    """Every chunk (or shard) key of the array's grid, stored or not, in C order."""
    prefix = _paths.prefix_of(array.path)
    grid = array.metadata.chunk_grid_shape
    return [prefix + array.metadata.encode_chunk_key(c) for c in itertools.product(*(range(n) for n in grid))]


async def _sizes_by_reading(store: Store, keys: list[str]) -> list[int | None]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def size(key: str) -> int | None:
        async with limit:
            value = await store.get(key)
        return None if value is None else len(value)

    return list(await asyncio.gather(*(size(k) for k in keys)))


async def _sizes_on_disk(store: LocalStore, keys: list[str]) -> list[int | None]:
    def stat_all() -> list[int | None]:
        sizes: list[int | None] = []
        for key in keys:
            try:
                sizes.append(os.path.getsize(os.path.join(store.root, *key.split("/"))))
            except FileNotFoundError:
                sizes.append(None)
        return sizes

    return await asyncio.get_running_loop().run_in_executor(None, stat_all)


async def _sizes_in_zip(store: ZipStore, keys: list[str]) -> list[int | None]:
    def read_directory() -> list[int | None]:
        try:
            with zipfile.ZipFile(store.path) as archive:
                sizes = {info.filename: info.file_size for info in archive.infolist()}
        except (OSError, zipfile.BadZipFile) as e:
            raise TransportError(f"cannot read the zip directory: {e}", location=str(store.path)) from e
        return [sizes.get(k) for k in keys]

    return await asyncio.get_running_loop().run_in_executor(None, read_directory)


async def _count_by_probing(store: Store, keys: list[str]) -> int:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def probe(key: str) -> bool:
        async with limit:
            return await store.exists(key)

    return sum(await asyncio.gather(*(probe(k) for k in keys)))


async def stored_stats(store: Store, array: AsyncArray) -> StoredStats | None:
    """The array's stored chunks, or ``None`` when the store cannot list and the grid is too large to probe.

    A store that cannot list (HTTP) is probed key by key, which counts the
    chunks but cannot tell their sizes without downloading them: ``nbytes`` is then ``None``.
    """
    if not store.listable:
        if array.metadata.nchunks > PROBE_LIMIT:
            return None
        return StoredStats(nchunks=await _count_by_probing(store, grid_chunk_keys(array)), nbytes=None)
    keys = await listed_chunk_keys(store, array)
    if isinstance(store, LocalStore):
        sizes = await _sizes_on_disk(store, keys)
    elif isinstance(store, ZipStore) and store.read_only:
        sizes = await _sizes_in_zip(store, keys)
    else:
        sizes = await _sizes_by_reading(store, keys)
    present = [s for s in sizes if s is not None]
    return StoredStats(nchunks=len(present), nbytes=sum(present))


def chunks_in_grid(array: AsyncArray) -> int:
    """zarr-python's ``nchunks``: the chunks reads are made of (inner chunks of a sharded array)."""
    if not array.metadata.is_regular:
        return math.prod(len(sizes) for sizes in array.read_chunk_sizes)
    return math.prod(math.ceil(s / c) if c else 0 for s, c in zip(array.shape, array.chunks, strict=True))


async def chunks_initialized(array: AsyncArray) -> int:
    """zarr-python's ``nchunks_initialized``: the chunks in stored objects. A stored shard counts
    as all the inner chunks it declares (as zarr-python counts them), so an edge shard may add
    chunks outside the array; without sharding, it is the stored chunk objects."""
    stats = await stored_stats(array.store, array)
    stored = stats.nchunks if stats is not None else await _count_by_probing(array.store, grid_chunk_keys(array))
    codecs = [codec_from_json(c) for c in array.metadata.codecs]
    if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec):
        if not array.metadata.is_regular:
            return await _inner_chunks_of_stored_shards(array, codecs[0])
        return stored * math.prod(codecs[0].chunks_per_shard(array.metadata.chunk_shape))
    return stored


async def _inner_chunks_of_stored_shards(array: AsyncArray, sharding: ShardingCodec) -> int:
    """The inner chunks the stored shards of varying sizes declare (each shard its own count)."""
    grid = array.metadata.chunk_grid
    coords = list(itertools.product(*(range(n) for n in grid.grid_shape(array.shape))))
    prefix = _paths.prefix_of(array.path)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def probe(c: tuple[int, ...]) -> int:
        async with limit:
            present = await array.store.exists(prefix + array.metadata.encode_chunk_key(c))
        return math.prod(sharding.chunks_per_shard(grid.chunk_shape_at(c))) if present else 0

    return sum(await asyncio.gather(*(probe(c) for c in coords)))
