"""Reliability: corrupt chunk bytes are typed errors naming the key, never silent wrong data (issue 6, property 1).

Each test runs on both read paths of the engine: the blocking path (a store with
blocking access: one worker call reads, decodes and places) and the async path
(any other store: fetch, then decode), by wrapping the MemoryStore in a
CountingStore, which has no blocking access.
"""

from __future__ import annotations

import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zstandard
from servers.faults import FaultServer

from zarrio import aio
from zarrio.errors import ChecksumError, CodecError, CorruptChunkError, MissingChunkError
from zarrio.stores import LocalStore, MemoryStore, Store, ZipStore
from zarrio.stores.blocking import blocking_access
from zarrio.stores.http import HttpStore
from zarrio.testing import CountingStore

LE: dict[str, Any] = {"name": "bytes", "configuration": {"endian": "little"}}
CRC: dict[str, Any] = {"name": "crc32c"}
RAW_INDEX: list[dict[str, Any]] = [LE]  # a shard index without a checksum, so tests can forge one


def zstd(checksum: bool) -> dict[str, Any]:
    return {"name": "zstd", "configuration": {"level": 3, "checksum": checksum}}


def sharding(inner: list[dict[str, Any]], index_codecs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"chunk_shape": [4], "codecs": inner}
    if index_codecs is not None:
        config["index_codecs"] = index_codecs
    return {"name": "sharding_indexed", "configuration": config}


DATA = ((np.arange(16, dtype="<u8") * 2654435761) % 2**32).astype("<u4")


@pytest.fixture(params=["blocking", "async"])
def path_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Fixture:
    """An array of 16 uint32 in one chunk (or one shard of four inner chunks) over a MemoryStore."""

    def __init__(self, memory: MemoryStore, store: Store) -> None:
        self.memory = memory
        self.store = store

    async def create(self, codecs: list[dict[str, Any]], *, chunks: int = 16) -> None:
        a = await aio.create(self.memory, shape=(16,), dtype="uint32", chunks=(chunks,), codecs=codecs, path="x")
        await a.setitem(..., DATA)

    async def chunk(self, key: str = "x/c/0") -> bytes:
        value = await self.memory.get(key)
        assert value is not None
        return value

    async def put(self, value: bytes, key: str = "x/c/0") -> None:
        await self.memory.set(key, value)

    async def read(self, selection: Any = ..., **options: Any) -> Any:
        a = await aio.open_array(self.store, path="x", mode="r", **options)
        return await a.getitem(selection)


@pytest.fixture
def fx(path_kind: str) -> Fixture:
    memory = MemoryStore()
    store: Store = memory if path_kind == "blocking" else CountingStore(memory)
    assert (blocking_access(store) is None) == (path_kind == "async")
    return Fixture(memory, store)


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# ------------------------------------------------------------------ checksums
async def test_crc32c_catches_every_single_bit_flip(fx: Fixture) -> None:
    await fx.create([LE, CRC])
    good = await fx.chunk()
    for bit in range(len(good) * 8):
        await fx.put(flip(good, bit))
        with pytest.raises(ChecksumError) as info:
            await fx.read()
        assert info.value.key == "x/c/0"
    await fx.put(good)
    np.testing.assert_array_equal(await fx.read(), DATA)


async def test_crc32c_after_zstd_catches_flips_in_the_compressed_frame(fx: Fixture) -> None:
    await fx.create([LE, zstd(False), CRC])
    good = await fx.chunk()
    for bit in range(0, len(good) * 8, 3):
        await fx.put(flip(good, bit))
        with pytest.raises(ChecksumError) as info:
            await fx.read()
        assert info.value.key == "x/c/0"


async def test_zstd_checksum_flips_give_correct_data_or_a_typed_error(fx: Fixture) -> None:
    """With ``checksum: true`` a flip anywhere in the frame never yields wrong data silently."""
    await fx.create([LE, zstd(True)])
    good = await fx.chunk()
    detected = 0
    for bit in range(len(good) * 8):
        await fx.put(flip(good, bit))
        try:
            got = await fx.read()
        except CodecError as e:
            assert e.key == "x/c/0"
            detected += 1
            continue
        np.testing.assert_array_equal(got, DATA, err_msg=f"bit {bit}: wrong data without an error")
    assert detected > len(good) * 8 // 2


async def test_zstd_checksum_mismatch_is_a_checksum_error(fx: Fixture) -> None:
    await fx.create([LE, zstd(True)])
    good = await fx.chunk()
    # the last four bytes are the frame's content checksum
    with pytest.raises(ChecksumError):
        await fx.put(flip(good, len(good) * 8 - 1))
        await fx.read()


async def test_zstd_without_checksum_can_return_wrong_data_silently(fx: Fixture) -> None:
    """The documented limit: an unchecksummed zstd frame has no way to tell a flipped literal
    byte from data. This test pins that fact down so docs/reliability.md stays honest; the
    two tests above show the remedies (crc32c, or zstd's own checksum)."""
    await fx.create([LE, zstd(False)])
    good = await fx.chunk()
    silent = 0
    for bit in range(len(good) * 8):
        await fx.put(flip(good, bit))
        try:
            got = await fx.read()
        except CodecError:
            continue
        silent += not np.array_equal(got, DATA)
    assert silent > 0


# ------------------------------------------------------------------ truncation and wrong sizes
TRUNCATABLE = {
    "bytes": [LE],
    "bytes+crc32c": [LE, CRC],
    "gzip": [LE, {"name": "gzip", "configuration": {"level": 5}}],
    "zstd": [LE, zstd(False)],
    "zstd+checksum": [LE, zstd(True)],
    "blosc": [LE, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}}],
}


@pytest.mark.parametrize("name", sorted(TRUNCATABLE))
async def test_truncated_chunks_are_typed_errors(fx: Fixture, name: str) -> None:
    await fx.create(TRUNCATABLE[name])
    good = await fx.chunk()
    for length in sorted({0, 1, 2, len(good) // 2, len(good) - 4, len(good) - 1}):
        await fx.put(good[:length])
        with pytest.raises(CodecError) as info:
            await fx.read()
        assert info.value.key == "x/c/0", f"{name}, {length} bytes"


@pytest.mark.parametrize("name", sorted(TRUNCATABLE))
async def test_trailing_garbage_is_a_typed_error(fx: Fixture, name: str) -> None:
    await fx.create(TRUNCATABLE[name])
    good = await fx.chunk()
    await fx.put(good + b"\x01\x02\x03\x04\x05")
    with pytest.raises(CodecError) as info:
        await fx.read()
    assert info.value.key == "x/c/0"


async def test_chunk_decoding_to_the_wrong_size_is_corrupt(fx: Fixture) -> None:
    await fx.create([LE, zstd(False)])
    for payload in (DATA[:15].tobytes(), DATA.tobytes() + b"\0\0\0\0", b""):
        await fx.put(zstandard.ZstdCompressor().compress(payload))
        with pytest.raises(CorruptChunkError) as info:
            await fx.read()
        assert info.value.key == "x/c/0"


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
async def test_decompression_bomb_fails_without_allocating_its_output(fx: Fixture, codec: str) -> None:
    """A 64-byte chunk whose stored bytes inflate to 256 MiB is refused before the 256 MiB exist."""
    await fx.create([LE, {"name": codec}])
    zeros = bytes(256 * 2**20)
    if codec == "gzip":
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        bomb = packer.compress(zeros) + packer.flush()
    else:
        bomb = zstandard.ZstdCompressor(level=3).compress(zeros)
    del zeros
    await fx.put(bomb)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptChunkError) as info:
            await fx.read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.key == "x/c/0"
    assert peak < 32 * 2**20, f"decoding the bomb allocated {peak} bytes"


# ------------------------------------------------------------------ shards
async def _shard_parts(fx: Fixture) -> tuple[bytes, np.ndarray[Any, Any]]:
    """The shard's data bytes and its decoded (4, 2) index (index at the end, no checksum)."""
    shard = await fx.chunk()
    index = np.frombuffer(shard[-64:], dtype="<u8").reshape(4, 2).copy()
    return shard[:-64], index


async def _put_shard(fx: Fixture, body: bytes, index: np.ndarray[Any, Any]) -> None:
    await fx.put(body + index.astype("<u8").tobytes())


SHARD_SELECTIONS = [..., slice(4, 8), 5]


@pytest.mark.parametrize("selection", SHARD_SELECTIONS, ids=["whole", "inner-chunk", "element"])
async def test_shard_index_entry_past_the_end_is_corrupt(fx: Fixture, selection: Any) -> None:
    await fx.create([sharding([LE], RAW_INDEX)])
    body, index = await _shard_parts(fx)
    index[1] = (len(body) - 8, 16)  # runs 8 bytes past the data region
    await _put_shard(fx, body, index)
    with pytest.raises(CorruptChunkError) as info:
        await fx.read(selection)
    assert info.value.key == "x/c/0"


@pytest.mark.parametrize("selection", SHARD_SELECTIONS, ids=["whole", "inner-chunk", "element"])
@pytest.mark.parametrize("entry", [(2**63, 16), (2**64 - 2, 16), (16, 2**64 - 2), (48, 2**63)], ids=str)
async def test_shard_index_with_enormous_offsets_is_corrupt(fx: Fixture, selection: Any, entry: Any) -> None:
    await _assert_index_entry_is_corrupt(fx, selection, entry)


@pytest.mark.parametrize("selection", SHARD_SELECTIONS, ids=["whole", "inner-chunk", "element"])
@pytest.mark.parametrize("entry", [(2**64 - 1, 16), (16, 2**64 - 1)], ids=str)
async def test_shard_index_entry_half_missing_is_corrupt(fx: Fixture, selection: Any, entry: Any) -> None:
    """Only (2**64-1, 2**64-1) marks a missing inner chunk; one half of it is a corrupt entry."""
    await _assert_index_entry_is_corrupt(fx, selection, entry)


async def _assert_index_entry_is_corrupt(fx: Fixture, selection: Any, entry: Any) -> None:
    """A shard whose second index entry is ``entry`` reads as CorruptChunkError naming the shard."""
    await fx.create([sharding([LE], RAW_INDEX)])
    body, index = await _shard_parts(fx)
    index[1] = entry
    await _put_shard(fx, body, index)
    with pytest.raises(CorruptChunkError) as info:
        await fx.read(selection)
    assert info.value.key == "x/c/0"


async def test_shard_index_with_overlapping_entries_is_corrupt(fx: Fixture) -> None:
    await fx.create([sharding([LE], RAW_INDEX)])
    body, index = await _shard_parts(fx)
    index[1] = (8, 16)  # overlaps inner chunk 0 at (0, 16)
    await _put_shard(fx, body, index)
    with pytest.raises(CorruptChunkError) as info:
        await fx.read()
    assert info.value.key == "x/c/0"


@pytest.mark.parametrize("selection", SHARD_SELECTIONS, ids=["whole", "inner-chunk", "element"])
async def test_shard_entry_whose_length_does_not_match_the_decoded_size_is_corrupt(fx: Fixture, selection: Any) -> None:
    await fx.create([sharding([LE], RAW_INDEX)])
    body, index = await _shard_parts(fx)
    index[1] = (16, 12)  # inner chunks of the 'bytes' codec are exactly 16 bytes
    await _put_shard(fx, body, index)
    with pytest.raises(CorruptChunkError) as info:
        await fx.read(selection)
    assert info.value.key == "x/c/0"


@pytest.mark.parametrize("selection", SHARD_SELECTIONS, ids=["whole", "inner-chunk", "element"])
async def test_checksummed_shard_index_flip_is_a_checksum_error(fx: Fixture, selection: Any) -> None:
    await fx.create([sharding([LE])])  # default index codecs: bytes + crc32c
    good = await fx.chunk()
    index_start = len(good) - (64 + 4)
    for bit in range(index_start * 8, len(good) * 8, 7):
        await fx.put(flip(good, bit))
        with pytest.raises(ChecksumError) as info:
            await fx.read(selection)
        assert info.value.key == "x/c/0"


@pytest.mark.parametrize("length", [0, 1, 40, 63])
async def test_shard_shorter_than_its_index_is_corrupt(fx: Fixture, length: int) -> None:
    await fx.create([sharding([LE], RAW_INDEX)])
    good = await fx.chunk()
    await fx.put(good[:length])
    for selection in SHARD_SELECTIONS:
        with pytest.raises(CorruptChunkError) as info:
            await fx.read(selection)
        assert info.value.key == "x/c/0"


async def test_inner_chunk_bit_flip_with_crc32c_is_a_checksum_error(fx: Fixture) -> None:
    await fx.create([sharding([LE, CRC])])
    good = await fx.chunk()
    await fx.put(flip(good, 8 * 20 + 3))  # inside inner chunk 1 (bytes 20..39)
    with pytest.raises(ChecksumError) as info:
        await fx.read(slice(4, 8))
    assert info.value.key == "x/c/0"
    # the other inner chunks still read correctly
    np.testing.assert_array_equal(await fx.read(slice(8, 16)), DATA[8:])


# ------------------------------------------------------------------ strict mode
async def test_strict_mode_makes_a_missing_chunk_an_error(fx: Fixture) -> None:
    await fx.create([LE, CRC], chunks=4)
    await fx.memory.erase("x/c/2")
    lenient = await fx.read()
    np.testing.assert_array_equal(lenient[8:12], 0)
    np.testing.assert_array_equal(lenient[:8], DATA[:8])
    with pytest.raises(MissingChunkError) as info:
        await fx.read(strict=True)
    assert info.value.key == "x/c/2"
    np.testing.assert_array_equal(await fx.read(slice(0, 8), strict=True), DATA[:8])


async def test_strict_mode_makes_a_missing_shard_an_error(fx: Fixture) -> None:
    await fx.create([sharding([LE])])
    await fx.memory.erase("x/c/0")
    np.testing.assert_array_equal(await fx.read(slice(0, 4)), 0)
    with pytest.raises(MissingChunkError) as info:
        await fx.read(slice(0, 4), strict=True)
    assert info.value.key == "x/c/0"


# ------------------------------------------------------------------ an index entry pointing into the index itself
INTO_THE_INDEX = [(64, 16), (2**64 - 1, 2**64 - 1), (2**64 - 1, 2**64 - 1), (2**64 - 1, 2**64 - 1)]


async def _forged_index_store(kind: str, tmp_path: Path) -> tuple[Store, Any]:
    """A store holding array 'x' whose one shard has a forged index: inner chunk 0 points at the index bytes,
    the others are missing (no overlap, so only the shard's size can tell the entry is impossible)."""
    memory = MemoryStore()
    await aio.create(memory, shape=(16,), dtype="uint32", chunks=(16,), codecs=[sharding([LE], RAW_INDEX)], path="x")
    await memory.set("x/c/0", DATA.tobytes() + np.array(INTO_THE_INDEX, dtype="<u8").tobytes())
    values = {k: v for k in await memory.list() if (v := await memory.get(k)) is not None}
    cleanup: Any = None
    if kind == "memory":
        return memory, cleanup
    if kind == "memory-wrapped":
        return CountingStore(memory), cleanup
    if kind == "local-wrapped":
        local = LocalStore(tmp_path / "d")
        for k, v in values.items():
            await local.set(k, v)
        return CountingStore(local), cleanup
    if kind == "zip":
        with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
            for k, v in values.items():
                archive.writestr(k, v)
        return ZipStore(tmp_path / "a.zip"), cleanup
    assert kind == "http"
    server = FaultServer({f"d/{k}": v for k, v in values.items()}).start()
    return HttpStore(server.url + "/d", retries=0), server.stop


@pytest.mark.parametrize(
    "kind",
    [
        "memory",
        "zip",
        "http",
        "memory-wrapped",
        "local-wrapped",
    ],
)
@pytest.mark.parametrize("selection", [..., slice(0, 4)], ids=["whole", "inner-chunk"])
async def test_index_entry_pointing_into_the_index_is_corrupt_on_every_store(
    tmp_path: Path, kind: str, selection: Any
) -> None:
    store, cleanup = await _forged_index_store(kind, tmp_path)
    try:
        a = await aio.open_array(store, path="x", mode="r")
        with pytest.raises(CorruptChunkError) as info:
            await a.getitem(selection)
        assert info.value.key == "x/c/0"
    finally:
        if isinstance(store, ZipStore):
            await store.aclose()
        else:
            await store.close()
        if cleanup is not None:
            cleanup()
