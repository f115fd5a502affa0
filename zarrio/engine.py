"""Where I/O meets compute: batched, concurrent chunk fetches; codec work in
worker threads; results scattered straight into the output array.

One :class:`ChunkEngine` serves one array. Reads fetch every chunk the
selection touches concurrently (bounded by the store's limiter), and hand the
fetched bytes to the codec pool in batches, so decoding overlaps fetching and
never runs on the event loop. Sharded arrays are read through their index:
one request for the index (cached for read-only stores, shared by concurrent
callers), then one ranged request per needed inner chunk (coalesced by the
store), or a single request when the whole shard is wanted.

Writes encode on the pool; partly covered chunks are read, modified and
rewritten; a chunk that ends up entirely fill value is erased instead of
stored unless ``write_empty_chunks`` is set.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._runtime import codec_pool, codec_workers, gather_typed, run_in_pool, store_limiter
from .codecs import ChunkSpec, CodecChain, ShardingCodec
from .errors import CodecError, CorruptChunkError, MissingChunkError, ResourceLimitError
from .indexing import ChunkProjection, IndexPlan, plan
from .stores.base import Store

__all__ = ["ChunkEngine", "is_fill"]

_MISSING = np.uint64(2**64 - 1)
#: default upper bound of one read's output, to refuse absurd allocations early
DEFAULT_MAX_READ_BYTES = 64 * 2**30


def is_fill(chunk: np.ndarray[Any, Any], fill: Any) -> bool:
    """Whether every element of ``chunk`` equals ``fill`` bit for bit (NaN == NaN, -0.0 != 0.0)."""
    if chunk.dtype == object:
        return all(x == fill for x in chunk.ravel())
    if chunk.dtype.kind in "fc" or chunk.dtype.fields is not None or chunk.dtype.kind in "SUV":
        raw = np.ascontiguousarray(chunk).view(np.uint8).reshape(-1, chunk.dtype.itemsize)
        pattern = np.frombuffer(np.asarray(fill, dtype=chunk.dtype).tobytes(), dtype=np.uint8)
        return bool(np.all(raw == pattern))
    return bool(np.all(chunk == fill))


class _Batcher:
    """Feeds work items to the codec pool in batches, keeping every worker busy.

    An item is dispatched at once while a worker is idle; otherwise items
    accumulate and go out together when a worker frees up.
    """

    def __init__(self, fn: Callable[[list[Any]], None]) -> None:
        self._fn = fn
        self._items: list[Any] = []
        self._running = 0
        self._limit = codec_workers()
        self._futures: list[asyncio.Future[None]] = []
        self._loop = asyncio.get_running_loop()

    def add(self, item: Any) -> None:
        self._items.append(item)
        if self._running < self._limit:
            self._dispatch()

    def _dispatch(self) -> None:
        if not self._items:
            return
        items, self._items = self._items, []
        self._running += 1
        fut = self._loop.run_in_executor(codec_pool(), self._fn, items)
        fut.add_done_callback(self._done)
        self._futures.append(fut)

    def _done(self, _: asyncio.Future[None]) -> None:
        self._running -= 1
        if self._items:
            self._dispatch()

    async def finish(self) -> None:
        while self._items or any(not f.done() for f in self._futures):
            self._dispatch()
            await asyncio.gather(*self._futures)
        for f in self._futures:
            f.result()


class ChunkEngine:
    """Reads and writes regions of one array through its store and codecs."""

    def __init__(
        self,
        store: Store,
        *,
        shape: tuple[int, ...],
        chunk_shape: tuple[int, ...],
        dtype: np.dtype[Any],
        fill_value: Any,
        chain: CodecChain,
        chunk_key: Callable[[tuple[int, ...]], str],
        write_empty_chunks: bool = False,
        strict: bool = False,
        max_read_bytes: int = DEFAULT_MAX_READ_BYTES,
        index_cache_size: int = 1024,
    ) -> None:
        self.store = store
        self.shape = shape
        self.chunk_shape = chunk_shape
        self.dtype = dtype
        self.fill_value = fill_value
        self.chain = chain
        self.chunk_key = chunk_key
        self.write_empty_chunks = write_empty_chunks
        self.strict = strict
        self.max_read_bytes = max_read_bytes
        self.spec = ChunkSpec(chunk_shape, dtype, fill_value)
        self.sharding: ShardingCodec | None = chain.sharding
        if self.sharding is not None:
            self.inner_shape = tuple(self.sharding.chunk_shape)
            self.chunks_per_shard = tuple(self.sharding.chunks_per_shard(chunk_shape))
            self.inner_spec = self.sharding.inner_spec(self.spec)
            self.index_nbytes = self.sharding.index_nbytes(self.chunks_per_shard)
        self._index_cache: OrderedDict[str, asyncio.Future[np.ndarray[Any, Any] | None]] = OrderedDict()
        self._index_cache_size = index_cache_size

    # ------------------------------------------------------------------ reads
    @property
    def read_chunk_shape(self) -> tuple[int, ...]:
        """The grid reads are planned on: inner chunks for sharded arrays."""
        return self.inner_shape if self.sharding is not None else self.chunk_shape

    async def read(self, selection: Any) -> Any:
        p = plan(selection, self.shape, self.read_chunk_shape)
        nbytes = math.prod(p.shape) * self.dtype.itemsize
        if nbytes > self.max_read_bytes:
            raise ResourceLimitError(
                f"a read of shape {p.shape} ({nbytes} bytes) exceeds the limit of {self.max_read_bytes} bytes"
            )
        out: np.ndarray[Any, Any] = np.empty(p.shape, dtype=self.dtype)
        if p.nchunks:
            if self.sharding is None:
                await self._read_chunks(p, out)
            else:
                await self._read_shards(p, out)
        if len(p.shape) == 0 and any(d.out_len is None for d in p.dims):
            return out[()]
        return out

    def _fill(self, out: np.ndarray[Any, Any], proj: ChunkProjection, key: str) -> None:
        if self.strict:
            raise MissingChunkError("chunk is missing (strict mode)", key=key)
        out[proj.out_index()] = self.fill_value

    def _decode_into(self, out: np.ndarray[Any, Any], items: list[tuple[Any, ChunkProjection, str]]) -> None:
        """Worker-thread side: decode a batch of chunks and place them."""
        chain, spec = (self.sharding.inner, self.inner_spec) if self.sharding is not None else (self.chain, self.spec)
        for data, proj, key in items:
            if data is None:
                self._fill(out, proj, key)
                continue
            try:
                chunk = chain.decode(data, spec)
            except CodecError as e:
                raise e.with_key(key) from e.__cause__
            out[proj.out_index()] = chunk[proj.chunk_index()]

    async def _read_chunks(self, p: IndexPlan, out: np.ndarray[Any, Any]) -> None:
        batcher = _Batcher(lambda items: self._decode_into(out, items))
        sem = store_limiter(self.store)
        store = self.store

        async def fetch(proj: ChunkProjection) -> None:
            key = self.chunk_key(proj.coords)
            async with sem:
                data = await store.get(key)
            batcher.add((data, proj, key))

        try:
            await gather_typed(fetch(proj) for proj in p)
        finally:
            await batcher.finish()

    # ---------------------------------------------------------------- shards
    def _group_by_shard(
        self, projections: Iterable[ChunkProjection]
    ) -> dict[tuple[int, ...], list[tuple[int, ChunkProjection]]]:
        cps = self.chunks_per_shard
        groups: dict[tuple[int, ...], list[tuple[int, ChunkProjection]]] = {}
        for proj in projections:
            shard = tuple(c // n for c, n in zip(proj.coords, cps, strict=True))
            local = tuple(c % n for c, n in zip(proj.coords, cps, strict=True))
            flat = int(np.ravel_multi_index(local, cps)) if cps else 0
            groups.setdefault(shard, []).append((flat, proj))
        return groups

    def _parse_index(self, data: bytes, key: str, shard_nbytes: int | None) -> np.ndarray[Any, Any]:
        assert self.sharding is not None
        try:
            index = self.sharding.decode_index(data, self.chunks_per_shard, shard_nbytes)
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        return index.reshape(-1, 2)

    async def _fetch_index(self, key: str) -> np.ndarray[Any, Any] | None:
        assert self.sharding is not None
        n = self.index_nbytes
        async with store_limiter(self.store):
            if self.sharding.index_location == "start":
                data = await self.store.get_partial(key, 0, n)
            else:
                data = await self.store.get_suffix(key, n)
        if data is None:
            return None
        if len(data) != n:
            raise CorruptChunkError(f"shard index is truncated: {len(data)} of {n} bytes", key=key)
        return await run_in_pool(self._parse_index, data, key, None)

    async def _shard_index(self, key: str) -> np.ndarray[Any, Any] | None:
        """The index of one shard; concurrent callers share one request, and
        read-only stores keep indexes in a bounded LRU."""
        fut = self._index_cache.get(key)
        if fut is not None:
            self._index_cache.move_to_end(key)
            return await asyncio.shield(fut)
        fut = asyncio.ensure_future(self._fetch_index(key))
        self._index_cache[key] = fut
        keep = bool(getattr(self.store, "read_only", False))
        try:
            return await asyncio.shield(fut)
        except BaseException:
            self._index_cache.pop(key, None)
            raise
        finally:
            if not keep:
                self._index_cache.pop(key, None)
            while len(self._index_cache) > self._index_cache_size:
                self._index_cache.popitem(last=False)

    def invalidate_index(self, key: str) -> None:
        self._index_cache.pop(key, None)

    async def _read_shards(self, p: IndexPlan, out: np.ndarray[Any, Any]) -> None:
        batcher = _Batcher(lambda items: self._decode_into(out, items))
        n_inner = math.prod(self.chunks_per_shard)

        async def read_shard(shard: tuple[int, ...], members: list[tuple[int, ChunkProjection]]) -> None:
            key = self.chunk_key(shard)
            wanted = sorted({flat for flat, _ in members})
            if len(wanted) == n_inner:
                blobs = await self._whole_shard_parts(key)
            else:
                blobs = await self._shard_parts(key, wanted)
            for flat, proj in members:
                batcher.add((None if blobs is None else blobs.get(flat), proj, key))

        try:
            await gather_typed(read_shard(s, m) for s, m in self._group_by_shard(p).items())
        finally:
            await batcher.finish()

    async def _whole_shard_parts(self, key: str) -> dict[int, bytes | None] | None:
        async with store_limiter(self.store):
            data = await self.store.get(key)
        if data is None:
            return None
        n = self.index_nbytes
        if len(data) < n:
            raise CorruptChunkError(f"shard of {len(data)} bytes is shorter than its index ({n} bytes)", key=key)
        raw = data[:n] if self.sharding is not None and self.sharding.index_location == "start" else data[-n:]
        index = self._parse_index(bytes(raw), key, len(data))
        view = memoryview(data)
        parts: dict[int, bytes | None] = {}
        for flat, (off, length) in enumerate(index):
            parts[flat] = None if off == _MISSING else view[int(off) : int(off) + int(length)]  # type: ignore[assignment]
        return parts

    async def _shard_parts(self, key: str, wanted: list[int]) -> dict[int, bytes | None] | None:
        index = await self._shard_index(key)
        if index is None:
            return None
        present = [f for f in wanted if index[f, 0] != _MISSING]
        ranges = [(int(index[f, 0]), int(index[f, 1])) for f in present]
        parts: dict[int, bytes | None] = dict.fromkeys(wanted)
        if not ranges:
            return parts
        async with store_limiter(self.store):
            blobs = await self.store.get_ranges(key, ranges)
        if blobs is None:
            return None
        for f, (_, length), blob in zip(present, ranges, blobs, strict=True):
            if len(blob) != length:
                self.invalidate_index(key)
                raise CorruptChunkError(
                    f"inner chunk {f} of the shard: expected {length} bytes, got {len(blob)}", key=key
                )
            parts[f] = blob
        return parts

    # ----------------------------------------------------------------- writes
    def _encode_or_none(self, chunk: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec) -> bytes | None:
        if not self.write_empty_chunks and is_fill(chunk, self.fill_value):
            return None
        return chain.encode(chunk, spec)

    def _decode_full(self, data: bytes | None, chain: CodecChain, spec: ChunkSpec, key: str) -> np.ndarray[Any, Any]:
        if data is None:
            return np.full(spec.shape, self.fill_value, dtype=spec.dtype)
        try:
            chunk = chain.decode(data, spec)
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        return np.array(chunk, dtype=spec.dtype, copy=True, order="C")

    def _merge(
        self,
        old: bytes | None,
        proj: ChunkProjection,
        value: np.ndarray[Any, Any],
        chain: CodecChain,
        spec: ChunkSpec,
        key: str,
    ) -> bytes | None:
        """Worker-thread side: build one chunk (reading the old one if partly covered) and encode it."""
        if proj.is_complete:
            chunk = np.full(spec.shape, self.fill_value, dtype=spec.dtype)
        else:
            chunk = self._decode_full(old, chain, spec, key)
        chunk[proj.chunk_index()] = value[proj.out_index()]
        return self._encode_or_none(chunk, chain, spec)

    async def write(self, selection: Any, value: Any) -> None:
        p = plan(selection, self.shape, self.read_chunk_shape)
        arr = np.asarray(value, dtype=self.dtype) if self.dtype != object else _object_array(value)
        try:
            arr = np.broadcast_to(arr, p.shape)
        except ValueError as e:
            from .errors import SelectionError

            raise SelectionError(f"cannot assign a value of shape {arr.shape} to a selection of shape {p.shape}") from e
        if not p.nchunks:
            return
        if self.sharding is None:
            await gather_typed(self._write_chunk(proj, arr) for proj in p)
        else:
            await gather_typed(self._write_shard(s, m, arr) for s, m in self._group_by_shard(p).items())

    async def _write_chunk(self, proj: ChunkProjection, value: np.ndarray[Any, Any]) -> None:
        key = self.chunk_key(proj.coords)
        sem = store_limiter(self.store)
        old = None
        if not proj.is_complete:
            async with sem:
                old = await self.store.get(key)
        encoded = await run_in_pool(self._merge, old, proj, value, self.chain, self.spec, key)
        async with sem:
            if encoded is None:
                await self.store.erase(key)
            else:
                await self.store.set(key, encoded)

    async def _write_shard(
        self, shard: tuple[int, ...], members: list[tuple[int, ChunkProjection]], value: np.ndarray[Any, Any]
    ) -> None:
        key = self.chunk_key(shard)
        sem = store_limiter(self.store)
        covered = {flat for flat, proj in members if proj.is_complete}
        n_inner = math.prod(self.chunks_per_shard)
        in_bounds = self._inner_in_bounds(shard)
        old_parts: dict[int, bytes | None] | None = None
        if not all(in_bounds[f] is False or f in covered for f in range(n_inner)):
            old_parts = await self._whole_shard_parts(key)
        self.invalidate_index(key)
        encoded = await run_in_pool(self._build_shard, members, value, old_parts, in_bounds, key)
        async with sem:
            if encoded is None:
                await self.store.erase(key)
            else:
                await self.store.set(key, encoded)

    def _inner_in_bounds(self, shard: tuple[int, ...]) -> list[bool]:
        """For each inner chunk of ``shard`` (C order): whether it holds any in-bounds element."""
        mask = np.ones((), dtype=bool)
        for s, n, c, size in zip(shard, self.chunks_per_shard, self.inner_shape, self.shape, strict=True):
            mask = np.logical_and.outer(mask, (s * n + np.arange(n)) * c < size)
        return [bool(x) for x in mask.ravel()]

    def _build_shard(
        self,
        members: list[tuple[int, ChunkProjection]],
        value: np.ndarray[Any, Any],
        old_parts: dict[int, bytes | None] | None,
        in_bounds: list[bool],
        key: str,
    ) -> bytes | None:
        """Worker-thread side: assemble one shard from new and kept inner chunks."""
        assert self.sharding is not None
        inner, spec = self.sharding.inner, self.inner_spec
        parts: list[bytes | None] = [None] * len(in_bounds)
        if old_parts is not None:
            for flat, blob in old_parts.items():
                parts[flat] = None if blob is None else bytes(blob)
        for flat, proj in members:
            old = parts[flat] if not proj.is_complete else None
            parts[flat] = self._merge(old, proj, value, inner, spec, key)
        return self.sharding.encode_shard(parts, self.chunks_per_shard)

    # ------------------------------------------------------------------ misc
    async def erase_outside(self, new_shape: tuple[int, ...]) -> None:
        """Erase stored chunks that lie wholly outside ``new_shape`` (after a shrink)."""
        old_grid = [math.ceil(s / c) for s, c in zip(self.shape, self.chunk_shape, strict=True)]
        new_grid = [math.ceil(s / c) for s, c in zip(new_shape, self.chunk_shape, strict=True)]
        if all(n >= o for n, o in zip(new_grid, old_grid, strict=True)):
            return
        sem = store_limiter(self.store)

        async def erase(coords: tuple[int, ...]) -> None:
            async with sem:
                await self.store.erase(self.chunk_key(coords))

        doomed = (c for c in np.ndindex(*old_grid) if any(ci >= ni for ci, ni in zip(c, new_grid, strict=True)))
        await gather_typed(erase(tuple(int(x) for x in c)) for c in doomed)


def _object_array(value: Any) -> np.ndarray[Any, Any]:
    if isinstance(value, np.ndarray):
        return value.astype(object)
    if isinstance(value, (str, bytes)):
        out = np.empty((), dtype=object)
        out[()] = value
        return out
    return np.asarray(value, dtype=object)
