"""Batch placement of whole chunks (issue 18, ``zarrio/engine/placement.py``).

A read of more than a few hundred small chunks decodes whole chunks into one shared buffer and
writes them into the output through a blocked view. These tests compare such reads with NumPy
over shapes with edge chunks, missing chunks, offset and index-array selections, dtypes, codec
chains and sharding, and check that the batch path did place chunks (so a wrong block index
would show as a wrong value, not pass unseen through the per-chunk path)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.codecs import ChunkSpec, CodecChain
from zarrio.engine import placement
from zarrio.engine.placement import BatchPlacer
from zarrio.indexing import ChunkProjection
from zarrio.portal import run

LITTLE = {"name": "bytes", "configuration": {"endian": "little"}}
CHAINS: dict[str, list[Any]] = {
    "zstd": [LITTLE, {"name": "zstd", "configuration": {"level": 1}}],
    "raw": [LITTLE],
    "gzip": [LITTLE, {"name": "gzip", "configuration": {"level": 1}}],
    "zstd+crc32c": [LITTLE, {"name": "zstd", "configuration": {"level": 1}}, {"name": "crc32c"}],
    "big-endian": [
        {"name": "bytes", "configuration": {"endian": "big"}},
        {"name": "zstd", "configuration": {"level": 1}},
    ],
}
DTYPES = ["uint8", "int32", "float64", "bool", "complex64"]
SHAPE = (103, 95)  # edge chunks on both axes
CHUNKS = (4, 5)  # 26 x 19 = 494 chunks: more than a read shares (256), so the batch path runs
SELECTIONS = [
    np.s_[...],
    np.s_[6:101, 3:90],  # chunks at an offset in the output, partial chunks on all sides
    np.s_[:, np.r_[0:5, 7, 10:15, 21:30, 33:90]],  # complete chunks at several offsets, partial ones between
    np.s_[::-1, :],  # no step-1 slices: nothing batched, the per-chunk path
]


def _data(dtype: str, fill: Any) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(18)
    data = rng.integers(0, 200, SHAPE).astype(dtype)
    if np.dtype(dtype).kind == "c":
        data = data + 1j * rng.integers(0, 200, SHAPE).astype(dtype)
    data[8:16, 10:20] = fill  # whole chunks of fill: not stored, missing when read
    data[100:, 90:] = fill  # the last (edge) chunk too
    return data


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many chunks each batch wrote into the output (a flush of chunks taken one by one, or a
    share of a block's whole chunks)."""
    counts: list[int] = []
    place = BatchPlacer._place

    def counting(self: BatchPlacer, values: np.ndarray[Any, Any], starts: np.ndarray[Any, Any]) -> None:
        counts.append(len(values))
        place(self, values, starts)

    monkeypatch.setattr(BatchPlacer, "_place", counting)
    return counts


def _check(z: Any, data: np.ndarray[Any, Any], selection: Any, placed: list[int]) -> None:
    placed.clear()
    got = z[selection]
    expected = data[selection]
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    reversed_rows = isinstance(selection, tuple) and selection[0] == slice(None, None, -1)
    assert (sum(placed) > 0) is not reversed_rows  # the batch path placed chunks, unless no slice has step 1


@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_placed_reads_match_numpy(chain: str, dtype: str, placed: list[int]) -> None:
    fill = np.zeros((), dtype=dtype)[()]
    data = _data(dtype, fill)
    store = zarrio.stores.MemoryStore()
    z = zarrio.create(store, SHAPE, dtype, chunks=CHUNKS, codecs=CHAINS[chain], write_empty_chunks=False)
    z[...] = data
    assert z.nchunks_initialized < z.nchunks  # some chunks are missing
    for selection in SELECTIONS:
        _check(z, data, selection, placed)


@pytest.mark.parametrize("batch_bytes", [1, 3 * 4 * 5 * 4, 1 << 20])
@pytest.mark.parametrize("sharded", [False, True])
def test_batches_of_any_size_and_shards(
    batch_bytes: int, sharded: bool, placed: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """One chunk per flush, three, or all of them; plain and sharded, on a local directory."""
    monkeypatch.setattr(placement, "BATCH_BYTES", batch_bytes)
    data = _data("int32", -1)
    store = zarrio.stores.LocalStore(tmp_path)
    shards = (20, 25) if sharded else None
    z = zarrio.create(store, SHAPE, "int32", chunks=CHUNKS, shards=shards, fill_value=-1, write_empty_chunks=False)
    z[...] = data
    for selection in SELECTIONS:
        _check(z, data, selection, placed)
    _check(z, data, np.s_[...], placed)
    if batch_bytes < 1 << 20:  # one or three chunks per buffer; else all of them in one flush
        assert max(placed) == max(1, batch_bytes // (4 * 5 * 4)) and len(placed) > 100
    else:
        assert len(placed) == 1 and placed[0] > 400


def test_three_dimensions_with_a_fill_value(placed: list[int]) -> None:
    shape, chunks = (31, 21, 13), (3, 4, 2)  # edges on every axis, 11 x 6 x 7 chunks
    rng = np.random.default_rng(3)
    data = rng.standard_normal(shape).astype("float32")
    data[3:6, 4:8, :] = np.nan
    z = zarrio.create(zarrio.stores.MemoryStore(), shape, "float32", chunks=chunks, fill_value=np.nan)
    z[...] = data
    for selection in (np.s_[...], np.s_[1:30, 2:, 1:12]):
        placed.clear()
        np.testing.assert_array_equal(z[selection], data[selection])
        assert sum(placed) > 0


def test_the_placer_puts_each_chunk_in_its_block() -> None:
    """The placer alone: chunks at two offsets (one flush), each a distinct constant."""
    spec = ChunkSpec((2, 3), np.dtype("int16"), np.int16(0))
    out = np.full((9, 12), -7, dtype="int16")
    placer = BatchPlacer(out, CodecChain.from_json(CHAINS["raw"], spec), spec)
    expected = out.copy()
    starts = [(1, 0), (1, 3), (5, 6), (7, 9), (0, 7)]  # the last at another offset
    for value, (y, x) in enumerate(starts):
        chunk = np.full((2, 3), value, dtype="<i2")
        proj = ChunkProjection((0, 0), (slice(0, 2), slice(0, 3)), (slice(y, y + 2), slice(x, x + 3)), True)
        assert placer.add(chunk.tobytes(), proj, "c/0/0")
        expected[y : y + 2, x : x + 3] = value
    placer.flush()
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("blocking", [True, False])
def test_a_bad_chunk_among_many_is_an_error_naming_it(blocking: bool, tmp_path: Any) -> None:
    """A read of more chunks than a read shares runs over them as they are planned: a corrupt
    chunk late in it raises with its key, and in strict mode so does a missing one."""
    data = _data("int32", -1)
    z = zarrio.create(zarrio.stores.LocalStore(tmp_path), SHAPE, "int32", chunks=CHUNKS, fill_value=-1)
    z[...] = data
    (tmp_path / "c" / "25" / "17").write_bytes(b"not zstd at all")  # among the last chunks planned
    read = z.__getitem__ if blocking else lambda sel: run(z.aio.getitem(sel))
    with pytest.raises(zarrio.errors.CorruptChunkError) as caught:
        read(np.s_[...])
    assert caught.value.key is not None and caught.value.key.endswith("c/25/17")
    np.testing.assert_array_equal(read(np.s_[:100, :85]), data[:100, :85])  # the bad chunk is not in it

    strict = zarrio.open_array(zarrio.stores.LocalStore(tmp_path), mode="r", strict=True)
    (tmp_path / "c" / "25" / "17").unlink()
    with pytest.raises(zarrio.errors.MissingChunkError):
        strict[...]
    got = z[...]  # not strict: the missing chunk reads as fill values
    expected = data.copy()
    expected[100:, 85:90] = -1
    np.testing.assert_array_equal(got, expected)


def _frames(data: bytes, how: str) -> bytes:
    """``data`` as a zstd stream of another valid shape (``how``), or one with bytes after its frame."""
    import zstandard

    with_size = zstandard.ZstdCompressor(level=1, write_content_size=True)
    if how == "two frames":
        half = len(data) // 2
        return with_size.compress(data[:half]) + with_size.compress(data[half:])
    if how == "no content size":
        return zstandard.ZstdCompressor(level=1, write_content_size=False).compress(data)
    if how == "skippable frame first":
        return b"\x50\x2a\x4d\x18\x02\x00\x00\x00zz" + with_size.compress(data)
    if how == "checksummed":
        return zstandard.ZstdCompressor(level=1, write_checksum=True).compress(data)
    assert how == "bytes after the frame"
    return with_size.compress(data) + b"\x00\x01"


HOWS = ["two frames", "no content size", "skippable frame first", "checksummed"]


def test_a_batch_decodes_every_valid_stream_and_refuses_a_bad_one(placed: list[int]) -> None:
    """A batch is decoded by the compressor's ``decode_many`` only when each stored chunk is one
    whole frame of the chunk's size. Streams of other valid shapes among the batch decode through
    the chunk-by-chunk path; a frame with bytes after it is an error naming its chunk, as alone."""
    data = _data("int32", -1)
    store = zarrio.stores.MemoryStore()
    z = zarrio.create(store, SHAPE, "int32", chunks=CHUNKS, fill_value=-1)
    z[...] = data
    for i, how in enumerate(HOWS):
        chunk = data[(3 + i) * 4 : (4 + i) * 4, (7 + i) * 5 : (8 + i) * 5]
        store.set_sync(f"c/{3 + i}/{7 + i}", _frames(np.ascontiguousarray(chunk, "<i4").tobytes(), how))
    _check(z, data, np.s_[...], placed)
    chunk = np.ascontiguousarray(data[80:84, 50:55], "<i4").tobytes()
    store.set_sync("c/20/10", _frames(chunk, "bytes after the frame"))
    with pytest.raises(zarrio.errors.CorruptChunkError) as caught:
        z[...]
    assert caught.value.key is not None and caught.value.key.endswith("c/20/10")


def test_zstd_decode_many_takes_only_whole_frames_of_the_size() -> None:
    """On frames as a shard holds them (memoryviews of one buffer), and the streams it leaves to
    ``decode_into``: every other valid shape, bytes after a frame, and a frame of another size."""
    from zarrio.codecs.zstd import ZstdCodec

    codec = ZstdCodec(level=1)
    pieces = [np.full(20, i, "<i4").tobytes() for i in range(len(HOWS) + 1)]
    good = codec.encode(pieces[0])
    joined = memoryview(good * 3)
    frames = [joined[i * len(good) : (i + 1) * len(good)] for i in range(3)]
    assert codec.decode_many(frames, 80) == pieces[0] * 3
    for how, piece in zip(HOWS, pieces[1:], strict=True):
        taken = codec.decode_many([good, _frames(piece, how)], 80)
        assert taken == (pieces[0] + piece if how == "checksummed" else None), how  # one whole frame, checked
    damaged = bytearray(_frames(pieces[1], "checksummed"))
    damaged[-1] ^= 0xFF
    assert codec.decode_many([good, bytes(damaged)], 80) is None  # decode_into raises the ChecksumError
    assert codec.decode_many([good, _frames(pieces[0], "bytes after the frame")], 80) is None
    assert codec.decode_many([good, codec.encode(pieces[0][:76])], 80) is None


BLOCK_SELECTIONS = [
    np.s_[...],
    np.s_[6:101, 3:90],  # partial inner chunks around whole ones, in every shard
    np.s_[:, np.r_[0:5, 7, 10:15, 21:30, 33:90]],  # whole chunks at several output offsets
    np.s_[np.r_[40:44, 0:4, 80:88], :],  # index-array runs out of order
    np.s_[::-1, :],  # no step-1 slice: nothing whole
    np.s_[17, :],  # an integer-indexed axis: no output axis, nothing whole
    np.s_[:, 50:95],  # the last shard column only, its edge chunks too
]


@pytest.mark.parametrize("codecs", ["zstd", "raw", "zstd+crc32c"])
def test_the_whole_chunks_of_a_large_shard_are_placed_a_block_at_a_time(
    codecs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shards of 100 inner chunks (more than BLOCK_MEMBERS), with edge and missing inner chunks:
    every selection reads what NumPy does, and whole reads go through the per-block path."""
    blocks: list[int] = []
    place_whole = BatchPlacer._place_whole

    def counting(self: BatchPlacer, parts: Any, members: Any, *rest: Any) -> Any:
        left = place_whole(self, parts, members, *rest)
        blocks.append(len(members) - len(left))
        return left

    monkeypatch.setattr(BatchPlacer, "_place_whole", counting)
    data = _data("int32", -1)
    store = zarrio.stores.MemoryStore()
    z = zarrio.create(store, SHAPE, "int32", chunks=CHUNKS, shards=(40, 50), fill_value=-1, codecs=CHAINS[codecs])
    z[...] = data
    for i, selection in enumerate(BLOCK_SELECTIONS):
        blocks.clear()
        np.testing.assert_array_equal(z[selection], data[selection])
        if i < 2:  # the whole array, and a region inside it
            assert sum(blocks) > 300, selection  # most inner chunks were placed by blocks
    strict = zarrio.open_array(store, mode="r", strict=True)
    with pytest.raises(zarrio.errors.MissingChunkError):
        strict[...]  # data[8:16, 10:20] is fill: those inner chunks are not stored


def test_block_members_answer_as_their_projections_do() -> None:
    """``flats`` and ``whole_chunks`` of every block of a plan agree with the members' projections."""
    from zarrio.indexing import plan
    from zarrio.indexing.blocks import BlockMembers

    cshape = (4, 5)
    for selection in BLOCK_SELECTIONS:
        p = plan(np.s_[selection] if selection is not Ellipsis else (slice(None),) * 2, SHAPE, cshape)
        for _, members in p.by_block((10, 10)):
            assert isinstance(members, BlockMembers)
            listed = list(members)
            assert len(members) == len(listed) and members.flats() == [flat for flat, _ in listed]
            whole = members.whole_chunks(cshape)
            expected = [
                (i, tuple(s.start for s in proj.out_selection))
                for i, (_, proj) in enumerate(listed)
                if proj.is_complete
                and len(proj.out_selection) == 2
                and all(
                    isinstance(s, slice) and s.stop - s.start == c
                    for s, c in zip(proj.out_selection, cshape, strict=True)
                )
            ]
            if whole is None:
                assert expected == []
            else:
                picked, starts = whole
                assert list(zip(picked.tolist(), map(tuple, starts.tolist()), strict=True)) == expected


@pytest.mark.parametrize("codecs", ["raw", "zstd"])
def test_a_read_of_many_whole_chunks_takes_them_a_batch_at_a_time(
    codecs: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unsharded, on a local directory: the whole-chunk reader runs, reads what NumPy does (edge,
    partial and missing chunks among them), and a stored chunk of the wrong size is an error
    naming it, as on the per-chunk path."""
    from zarrio.engine import core, whole_chunks

    runs: list[int] = []

    def counting(k: Any, access: Any, out: Any, p: Any) -> None:
        runs.append(p.nchunks)
        whole_chunks.read_whole_chunks(k, access, out, p)

    monkeypatch.setattr(core, "read_whole_chunks", counting)
    data = _data("int32", -1)
    z = zarrio.create(
        zarrio.stores.LocalStore(tmp_path), SHAPE, "int32", chunks=CHUNKS, fill_value=-1, codecs=CHAINS[codecs]
    )
    z[...] = data
    for selection in (np.s_[...], np.s_[6:101, 3:90], np.s_[:, np.r_[0:5, 7, 10:15, 21:30, 33:90]]):
        runs.clear()
        np.testing.assert_array_equal(z[selection], data[selection])
        assert runs and runs[0] > 256
    (tmp_path / "c" / "20" / "10").write_bytes(b"\x00" * 79)  # one byte short (raw), or no zstd frame
    with pytest.raises(zarrio.errors.CorruptChunkError) as caught:
        z[...]
    assert caught.value.key is not None and caught.value.key.endswith("c/20/10")
