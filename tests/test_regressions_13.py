"""Deterministic regressions for issue 13 and for what its property tests found.

1. A read that decoded a fully covered chunk straight into the output skipped the transpose
   codec's decode: the chunk came back in stored (transposed) order. Every compressor, plain
   chunks and shards (transpose inside the shard and in front of it), memory and local stores,
   sync and async; and zarr-python's own output with ``filters=[TransposeCodec(order=[1, 0])]``.
2. ``_Batcher.finish`` polled ``await asyncio.gather(...)``; since Python 3.12 that does not yield
   when every future is already done, so with batches done but their done callbacks not yet run,
   ``finish`` spun forever. The test builds exactly that state with futures it controls and a
   watchdog thread (a spinning loop starves ``asyncio.wait_for``). On 3.11 gather always yields,
   so the old code passes there too: the test matters on 3.12 and 3.13.
3. Found by tests/test_properties_engine.py: a rank-0 array with a big-endian ``bytes`` codec
   stored its value in little-endian order (the engine hands the codec a NumPy scalar, whose
   ``astype`` keeps native order; fixed in zarrio/codecs/bytes.py), and a rank-0 string array
   could not be written at all (the engine took ``value[()]``, a ``str``, for the chunk; fixed in ddaabe2).
"""

from __future__ import annotations

import asyncio
import faulthandler
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_model import assert_same, blosc, gzip, sharding, transpose, zstd

import zarrio
from zarrio import aio
from zarrio.stores import LocalStore, MemoryStore, Store
from zarrio.testing import ForwardingStore

COMPRESSORS = {"gzip": gzip(1), "zstd": zstd(1), "blosc": blosc("lz4", "shuffle")}
LE = {"name": "bytes", "configuration": {"endian": "little"}}


def _layout(name: str, compressor: dict[str, Any]) -> tuple[tuple[int, ...], list[dict[str, Any]]]:
    """(chunk grid, codecs) of a 4x4 int32 array whose 2x2 chunks are transposed, then compressed."""
    t = transpose([1, 0])
    if name == "chunks":
        return (2, 2), [t, LE, compressor]
    if name == "inside-shards":
        return (4, 4), [sharding([2, 2], [t, LE, compressor], index_location="end", index_crc=True)]
    # a transpose in front of the sharding codec, and another inside it
    return (4, 4), [t, sharding([2, 2], [t, LE, compressor], index_location="start", index_crc=False)]


def _store(kind: str, tmp_path: Path) -> Store:
    return MemoryStore() if kind == "memory" else LocalStore(tmp_path / "a.zarr")


def test_the_issue_snippet_reads_numpy_order() -> None:
    z = zarrio.create(
        MemoryStore(),
        (4, 4),
        "int32",
        chunks=(2, 2),
        codecs=[
            {"name": "transpose", "configuration": {"order": [1, 0]}},
            {"name": "gzip", "configuration": {"level": 1}},
        ],
    )
    a = np.arange(16, dtype="int32").reshape(4, 4)
    z[...] = a
    assert z[0:2, 0:2].tolist() == [[0, 1], [4, 5]]
    assert_same(z[...], a)


@pytest.mark.parametrize("via", ["sync", "async"])
@pytest.mark.parametrize("store_kind", ["memory", "local"])
@pytest.mark.parametrize("layout", ["chunks", "inside-shards", "before-and-inside-shards"])
@pytest.mark.parametrize("compressor", sorted(COMPRESSORS))
def test_transpose_then_compressor_reads_fully_covered_chunks_in_numpy_order(
    compressor: str, layout: str, store_kind: str, via: str, tmp_path: Path
) -> None:
    grid, codecs = _layout(layout, COMPRESSORS[compressor])
    store = _store(store_kind, tmp_path)
    data = np.arange(16, dtype="int32").reshape(4, 4)
    z = zarrio.create(store, (4, 4), "int32", chunks=grid, codecs=codecs)
    z[...] = data
    # each selection covers whole chunks: the reads that decoded straight into the output
    selections = [(slice(0, 2), slice(0, 2)), (slice(2, 4), slice(0, 4)), Ellipsis, (slice(0, 4), slice(2, 4))]
    if via == "sync":
        got = [zarrio.open(store, mode="r")[sel] for sel in selections]
    else:

        async def read() -> list[Any]:
            a = await aio.open_array(store, mode="r")
            return list(await asyncio.gather(*(a.getitem(sel) for sel in selections)))

        got = asyncio.run(read())
    for sel, value in zip(selections, got, strict=True):
        assert_same(value, data[sel], f"{sel!r}")


@pytest.mark.interop
def test_zarr_python_default_output_with_a_transpose_filter(run_ref: Callable[..., str], tmp_path: Path) -> None:
    """The issue's case: zarr-python 3.4.2, default codecs (zstd), ``filters=[TransposeCodec(order=[1, 0])]``,
    shape (4, 10), chunks (2, 10): every chunk is fully covered by a whole read."""
    path = tmp_path / "t.zarr"
    run_ref(
        """
        import sys
        import numpy as np
        import zarr
        from zarr.codecs import TransposeCodec
        z = zarr.create_array(sys.argv[1], shape=(4, 10), chunks=(2, 10), dtype="int32",
                              filters=[TransposeCodec(order=[1, 0])])
        z[...] = np.arange(40, dtype="int32").reshape(4, 10)
        """,
        str(path),
    )
    data = np.arange(40, dtype="int32").reshape(4, 10)
    z = zarrio.open(str(path), mode="r")
    assert [c["name"] for c in z.codecs] == ["transpose", "bytes", "zstd"]
    assert_same(z[...], data)
    assert_same(z[2:4], data[2:4])

    async def read() -> Any:
        return await (await aio.open_array(str(path), mode="r")).getitem(...)

    assert_same(asyncio.run(read()), data)


# ------------------------------------------------------------------ the batcher's finish
WATCHDOG_S = 5.0


def test_batcher_finish_returns_when_every_batch_is_done_before_its_callbacks_run(monkeypatch: Any) -> None:
    from zarrio.engine import core

    handed: list[asyncio.Future[None]] = []

    def submit_done(fn: Callable[[list[Any]], None], items: list[Any]) -> asyncio.Future[None]:
        """Run the batch at once and hand out its future already done: the batcher's done
        callback is then only scheduled (``call_soon``), not run."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fn(items)
        fut.set_result(None)
        handed.append(fut)
        return fut

    monkeypatch.setattr(core, "submit_to_pool", submit_done)
    monkeypatch.setattr(core, "codec_workers", lambda: 2)
    placed: list[int] = []
    batchers: list[Any] = []
    outcome: list[BaseException | str] = []

    async def scenario() -> None:
        batcher = core._Batcher(placed.extend)
        batchers.append(batcher)
        for item in range(5):  # two batches go out (one per worker), three items wait for a free worker
            batcher.add(item)
        assert len(handed) == 2 and all(f.done() for f in handed), "the race's state: every batch done"
        await batcher.finish()  # the callbacks that free workers for the waiting items have not run yet

    def run() -> None:
        try:
            asyncio.run(scenario())
            outcome.append("returned")
        except BaseException as e:  # reported by the test thread
            outcome.append(e)

    thread = threading.Thread(target=run, name="batcher-race", daemon=True)
    thread.start()
    thread.join(WATCHDOG_S)
    if thread.is_alive():
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        for batcher in batchers:  # end the spin (the old poll loop) so the thread does not burn a core
            batcher._items.clear()
        thread.join(WATCHDOG_S)
        pytest.fail(f"_Batcher.finish did not return within {WATCHDOG_S} s: it spins on futures that are all done")
    assert outcome == ["returned"], outcome
    assert sorted(placed) == [0, 1, 2, 3, 4]
    assert len(handed) >= 3, "the waiting items went out once workers were free"


# ------------------------------------------------------------------ found by the property tests
@pytest.mark.parametrize("sharded", [False, True])
def test_rank_0_big_endian_stores_big_endian_bytes(sharded: bool) -> None:
    big = {"name": "bytes", "configuration": {"endian": "big"}}
    codecs = [sharding([], [big], index_location="end", index_crc=True)] if sharded else [big]
    store = MemoryStore()
    z = zarrio.create(store, (), "int16", chunks=(), codecs=codecs)
    z[...] = np.int16(607)
    assert_same(zarrio.open(store, mode="r")[...], np.array(607, dtype="int16"))
    if not sharded:
        assert z.store.get("c") == b"\x02\x5f"  # 607 = 0x025f, most significant byte first


@pytest.mark.parametrize("sharded", [False, True])
def test_rank_0_string_array_can_be_written(sharded: bool) -> None:
    store = MemoryStore()
    z = zarrio.create(store, (), "string", chunks=(), shards=() if sharded else None)
    z[...] = "abc"
    got = zarrio.open(store, mode="r")[...]
    assert np.asarray(got).tolist() == "abc"


def test_rank_0_string_shard_followed_by_a_compressor_can_be_written() -> None:
    """Found by the string properties: with a bytes->bytes codec after the sharding codec the
    whole shard is encoded by the codec chain, whose fill check met a bare bool for a 0-d shard."""
    store = MemoryStore()
    codecs = [sharding([], [{"name": "vlen-utf8"}], index_location="end", index_crc=True), gzip(1)]
    z = zarrio.create(store, (), "string", chunks=(), codecs=codecs, fill_value="")
    z[...] = "abc"
    assert np.asarray(zarrio.open(store, mode="r")[...]).tolist() == "abc"
    z[...] = ""  # all fill: the shard is not stored, and reads as the fill value
    assert np.asarray(zarrio.open(store, mode="r")[...]).tolist() == ""


def test_rank_0_string_nested_shards_read_back_as_a_string() -> None:
    """Found by the string properties: a shard nested in a shard of a rank-0 string array, read
    through the async driver (which decodes the outer shard with the codec), came back as an
    object array holding an array (``out[()] = inner`` stores the 0-d array as the element)."""
    memory = MemoryStore()
    inner = sharding([], [{"name": "vlen-utf8"}], index_location="start", index_crc=True)
    codecs = [sharding([], [inner], index_location="end", index_crc=True), zstd(1)]
    z = zarrio.create(memory, (), "string", chunks=(), codecs=codecs, fill_value="fill")
    z[...] = "é\x00"
    for store in (memory, ForwardingStore(memory)):
        got = zarrio.open(store, mode="r")[...]
        element = got[()] if isinstance(got, np.ndarray) else got  # not np.asarray: "<U" drops trailing NULs
        assert isinstance(element, str) and element == "é\x00", (store, got)
