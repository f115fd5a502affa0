"""Reliability, property-based (hypothesis): the metadata parser, the indexing math and the codecs
never fail with anything but a typed zarrio error, and round trips are exact (issue 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zarrio import aio
from zarrio.codecs import ChunkSpec, CodecChain
from zarrio.errors import CodecError, InvalidKeyError, MetadataError, ResourceLimitError, SelectionError, TransportError
from zarrio.metadata import parse_metadata
from zarrio.stores import LocalStore, MemoryStore
from zarrio.testing import ForwardingStore

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------ metadata parser
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)

VALID: dict[str, Any] = {
    "zarr_format": 3,
    "node_type": "array",
    "shape": [20, 7],
    "data_type": "float32",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [6, 7]}},
    "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
    "fill_value": "NaN",
    "codecs": [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "gzip", "configuration": {"level": 1}},
    ],
    "attributes": {"a": 1},
    "dimension_names": ["y", "x"],
}

FIELD_VALUES = {
    "shape": st.lists(st.integers(-3, 2**64), max_size=4) | JSON_VALUES,
    "chunk_grid": st.fixed_dictionaries(
        {
            "name": st.sampled_from(["regular", "irregular"]),
            "configuration": st.fixed_dictionaries(
                {"chunk_shape": st.lists(st.integers(-2, 2**64), max_size=4) | JSON_VALUES}
            ),
        }
    )
    | JSON_VALUES,
    "data_type": st.sampled_from(["int8", "float32", "bool", "string", "r16", "r7", "complex64", "x"]) | JSON_VALUES,
    "fill_value": JSON_VALUES | st.sampled_from(["NaN", "Infinity", "0x7fc00000", "0xzz"]),
    "codecs": st.lists(
        st.sampled_from(["bytes", "gzip", "zstd", "crc32c", "transpose", "blosc", "sharding_indexed", "?"]).map(
            lambda name: {"name": name}
        )
        | JSON_VALUES,
        max_size=4,
    )
    | JSON_VALUES,
}


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(VALID))
    for field in draw(st.lists(st.sampled_from(sorted({*VALID, "node_type", "storage_transformers"})), max_size=3)):
        action = draw(st.sampled_from(["delete", "replace"]))
        if action == "delete":
            doc.pop(field, None)
        else:
            doc[field] = draw(FIELD_VALUES.get(field, JSON_VALUES))
    return doc


@FAST
@given(mutated_documents())
def test_mutated_array_metadata_parses_or_raises_metadata_error(doc: dict[str, Any]) -> None:
    try:
        raw = json.dumps(doc).encode()
    except ValueError:
        return  # not JSON (e.g. an integer too large to print): nothing a file could hold
    try:
        meta = parse_metadata(raw)
    except MetadataError:
        return
    # what parses must write back and parse again to the same metadata
    assert parse_metadata(meta.to_bytes()) == meta


@FAST
@given(st.binary(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bytes_as_zarr_json_parse_or_raise_metadata_error(raw: bytes) -> None:
    with contextlib.suppress(MetadataError):
        parse_metadata(raw)


# ------------------------------------------------------------------ indexing, through the whole stack
@st.composite
def arrays_and_selections(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...]]:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 9), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, 4)) for _ in shape)
    selection: list[Any] = []
    for size in shape:
        kinds = ["slice", "array", "mask"] + (["int"] if size else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "int":
            selection.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            bound = st.none() | st.integers(-size - 2, size + 2)
            step = draw(st.none() | st.integers(-3, 3).filter(bool))
            selection.append(slice(draw(bound), draw(bound), step))
        elif kind == "array":
            picks = draw(st.lists(st.integers(-size, size - 1), max_size=5)) if size else []
            selection.append(np.array(picks, dtype=np.intp))
        else:
            selection.append(np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool))
    return shape, chunks, tuple(selection)


def _numpy_orthogonal(array: np.ndarray[Any, Any], selection: tuple[Any, ...]) -> Any:
    """Orthogonal indexing with NumPy: one axis at a time (ints drop their axis)."""
    result = array
    axis = 0
    for sel in selection:
        index: list[Any] = [slice(None)] * result.ndim
        index[axis] = sel
        result = result[tuple(index)]
        if not isinstance(sel, int):
            axis += 1
    return result


@FAST
@given(arrays_and_selections(), st.sampled_from(["chunks", "shards"]))
def test_reads_and_writes_match_a_numpy_model(case: Any, layout: str) -> None:
    shape, chunks, selection = case
    model = np.arange(int(np.prod(shape)), dtype="int32").reshape(shape)

    async def run() -> None:
        store = MemoryStore()
        options: dict[str, Any] = {"chunks": chunks}
        if layout == "shards":
            options = {"chunks": chunks, "shards": tuple(2 * c for c in chunks)}
        a = await aio.create(store, shape=shape, dtype="int32", fill_value=-1, **options)
        await a.setitem(..., model)
        expected = _numpy_orthogonal(model, selection)
        # orthogonal by name: z[...] reads several arrays as points (as NumPy), oindex per axis
        np.testing.assert_array_equal(await a.get_orthogonal_selection(selection), expected)
        new = -np.arange(np.size(expected), dtype="int32").reshape(np.shape(expected)) - 7
        try:
            await a.set_orthogonal_selection(selection, new)
        except SelectionError:
            # repeated indices in an integer array: only allowed when the writes agree
            return
        written = model.copy()
        _assign_orthogonal(written, selection, new)
        np.testing.assert_array_equal(await a.getitem(...), written)

    asyncio.run(run())


def _assign_orthogonal(target: np.ndarray[Any, Any], selection: tuple[Any, ...], value: Any) -> None:
    """``target[selection] = value`` with orthogonal semantics, via index arrays per axis."""
    axes: list[np.ndarray[Any, Any]] = []
    for sel, size in zip(selection, target.shape, strict=True):
        if isinstance(sel, int):
            axes.append(np.array([sel % size]))
        elif isinstance(sel, slice):
            axes.append(np.arange(size)[sel])
        elif sel.dtype == bool:
            axes.append(np.flatnonzero(sel))
        else:
            axes.append(np.where(sel < 0, sel + size, sel))
    shape = tuple(len(a) for a in axes)
    target[np.ix_(*axes)] = np.reshape(value, shape)


@FAST
@given(arrays_and_selections())
def test_out_of_bounds_selections_are_selection_errors(case: Any) -> None:
    shape, chunks, _ = case

    async def run() -> None:
        a = await aio.create(MemoryStore(), shape=shape, dtype="uint8", chunks=chunks)
        for axis, size in enumerate(shape):
            for bad in (size, -size - 1, np.array([size])):
                index: list[Any] = [slice(None)] * len(shape)
                index[axis] = bad
                with pytest.raises(SelectionError):
                    await a.getitem(tuple(index))

    asyncio.run(run())


# ------------------------------------------------------------------ codecs
LE: dict[str, Any] = {"name": "bytes", "configuration": {"endian": "little"}}
CHAINS: dict[str, list[Any]] = {
    "bytes": [LE],
    "big-endian": [{"name": "bytes", "configuration": {"endian": "big"}}],
    "transpose": [{"name": "transpose", "configuration": {"order": [1, 0]}}, LE],
    "gzip": [LE, {"name": "gzip", "configuration": {"level": 1}}],
    "zstd": [LE, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
    "zstd-checksum": [LE, {"name": "zstd", "configuration": {"level": 1, "checksum": True}}],
    "blosc": [LE, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 1, "shuffle": "shuffle"}}],
    "crc32c": [LE, {"name": "crc32c"}],
    "zstd-crc32c": [LE, {"name": "zstd", "configuration": {"level": 1}}, {"name": "crc32c"}],
    "sharding": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 3], "codecs": [LE]}}],
    "sharding-start-gzip": [
        {
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": [2, 3],
                "codecs": [LE, {"name": "gzip"}],
                "index_location": "start",
            },
        }
    ],
    "numcodecs-zlib": [LE, {"name": "numcodecs.zlib", "configuration": {"level": 1}}],
}
SPEC = ChunkSpec((4, 6), np.dtype("float64"), np.float64(0))


@FAST
@given(
    name=st.sampled_from(sorted(CHAINS)),
    values=st.lists(st.floats(allow_nan=True, width=64), min_size=24, max_size=24),
)
def test_codec_chains_round_trip_bit_for_bit(name: str, values: list[float]) -> None:
    chain = CodecChain.from_json(CHAINS[name], SPEC)
    chunk = np.array(values, dtype="float64").reshape(SPEC.shape)
    decoded = chain.decode(chain.encode(chunk))
    assert decoded.tobytes() == chunk.tobytes()


def _decode_with_scratch(chain: CodecChain, data: bytes) -> np.ndarray[Any, Any]:
    return chain.decode(data, scratch=lambda n: memoryview(bytearray(n)))


@FAST
@given(name=st.sampled_from(sorted(CHAINS)), data=st.binary(max_size=400), scratch=st.booleans())
def test_random_bytes_never_crash_a_decoder(name: str, data: bytes, scratch: bool) -> None:
    chain = CodecChain.from_json(CHAINS[name], SPEC)
    try:
        decoded = _decode_with_scratch(chain, data) if scratch else chain.decode(data)
    except (CodecError, ResourceLimitError):
        return
    assert decoded.shape == SPEC.shape and decoded.dtype == SPEC.dtype


@FAST
@given(
    name=st.sampled_from(sorted(CHAINS)),
    values=st.lists(st.floats(width=64), min_size=24, max_size=24),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=3),
    cut=st.none() | st.integers(0, 10_000),
    scratch=st.booleans(),
)
def test_damaged_encodings_decode_to_a_typed_error_or_a_well_formed_chunk(
    name: str, values: list[float], edits: list[tuple[int, int]], cut: int | None, scratch: bool
) -> None:
    chain = CodecChain.from_json(CHAINS[name], SPEC)
    encoded = bytearray(chain.encode(np.array(values, dtype="float64").reshape(SPEC.shape)))
    for position, byte in edits:
        encoded[position % len(encoded)] = byte
    if cut is not None:
        del encoded[cut % (len(encoded) + 1) :]
    try:
        decoded = _decode_with_scratch(chain, bytes(encoded)) if scratch else chain.decode(bytes(encoded))
    except (CodecError, ResourceLimitError):
        return
    assert decoded.shape == SPEC.shape and decoded.dtype == SPEC.dtype


CHECKSUMMED = ["crc32c", "zstd-crc32c"]


@FAST
@given(
    name=st.sampled_from(CHECKSUMMED),
    values=st.lists(st.floats(width=64), min_size=24, max_size=24),
    position=st.integers(0, 10_000),
    bit=st.integers(0, 7),
)
def test_checksummed_chains_detect_every_single_bit_flip(
    name: str, values: list[float], position: int, bit: int
) -> None:
    chain = CodecChain.from_json(CHAINS[name], SPEC)
    encoded = bytearray(chain.encode(np.array(values, dtype="float64").reshape(SPEC.shape)))
    encoded[position % len(encoded)] ^= 1 << bit
    with pytest.raises(CodecError):
        chain.decode(bytes(encoded))


# ------------------------------------------------------------------ forged shard indexes, through the engine
INDEX_VALUES = st.sampled_from([0, 16, 17, 48, 56, 64, 65, 2**63, 2**64 - 2, 2**64 - 1])
_M = 2**64 - 1
#: plausible entries (missing, the four real windows), impossible ones, and anything
INDEX_ENTRIES = st.sampled_from(
    [(_M, _M)] * 3
    + [(0, 16), (16, 16), (32, 16), (48, 16)]
    + [(56, 16), (60, 16), (64, 16), (8, 16), (48, 17), (_M, 16), (16, _M)]
) | st.tuples(INDEX_VALUES, INDEX_VALUES)


class SizeForwardingStore(ForwardingStore):
    """A wrapper (no blocking access: the engine's async path) that forwards the value's size."""

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        return await self.inner.get_suffix_with_size(key, length)


SHARD_CODECS = [
    {"name": "sharding_indexed", "configuration": {"chunk_shape": [4], "codecs": [LE], "index_codecs": [LE]}}
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(entries=[(64, 16), (_M, _M), (_M, _M), (_M, _M)], selection=slice(2, 11), wrapped=True)
@example(entries=[(0, 16), (_M, _M), (56, 16), (_M, _M)], selection=slice(2, 11), wrapped=True)
@example(entries=[(_M, _M), (_M, _M), (_M, _M), (_M, 16)], selection=13, wrapped=True)
@given(
    entries=st.lists(INDEX_ENTRIES, min_size=4, max_size=4),
    selection=st.sampled_from([slice(None), slice(4, 8), slice(2, 11), 13]),
    wrapped=st.booleans(),
)
def test_forged_shard_indexes_give_typed_errors_or_bytes_from_inside_the_shard(
    entries: list[tuple[int, int]], selection: Any, wrapped: bool
) -> None:
    """Any index: the read raises a CodecError, or each inner chunk it returns is the fill value (a
    missing entry) or exactly the 16 bytes its entry points at inside the shard's data region."""

    body = np.arange(16, dtype="<u4").tobytes()  # 64 bytes: four 16-byte windows

    async def run() -> Any:
        memory = MemoryStore()
        await aio.create(memory, shape=(16,), dtype="uint32", chunks=(16,), codecs=SHARD_CODECS, fill_value=7)
        index = np.array(entries, dtype="<u8").tobytes()
        await memory.set("c/0", body + index)
        store = SizeForwardingStore(memory) if wrapped else memory
        reader = await aio.open_array(store, mode="r")
        return await reader.getitem(selection)

    try:
        got = asyncio.run(run())
    except CodecError:
        return
    full = np.full(16, -1, dtype=np.int64)
    full[selection] = got
    for inner in range(4):
        part = full[inner * 4 : (inner + 1) * 4]
        returned = part >= 0
        if not returned.any():
            continue
        offset, length = entries[inner]
        if (offset, length) == (2**64 - 1, 2**64 - 1):
            expected = np.full(4, 7)
        else:
            assert length == 16 and offset <= 48, f"inner chunk {inner} read through entry {(offset, length)}"
            expected = np.frombuffer(body[offset : offset + 16], dtype="<u4").astype(np.int64)
        np.testing.assert_array_equal(part[returned], expected[returned])


# ------------------------------------------------------------------ keys
KEY_TOKENS = [*"ab./\\: \x00\u2025%2e", "..", "C:", "zarr.json"]
KEY_TEXT = st.lists(st.sampled_from(KEY_TOKENS), max_size=10).map("".join)


@FAST
@given(keys=st.lists(KEY_TEXT, min_size=1, max_size=6))
def test_any_key_is_refused_or_stays_inside_the_root(keys: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "secret").write_bytes(b"s")
        store = LocalStore(base / "root")

        async def run() -> None:
            for key in keys:
                try:
                    await store.set(key, key.encode("utf-8", "surrogatepass"))
                except InvalidKeyError:
                    continue
                except TransportError:
                    continue  # e.g. a key below a key that is a file: refused by the file system
                assert await store.get(key) == key.encode("utf-8", "surrogatepass")
                assert key in await store.list()

        asyncio.run(run())
        assert sorted(p.name for p in base.iterdir()) in (["secret"], ["root", "secret"])
        assert (base / "secret").read_bytes() == b"s"
