"""Shard writes that take a block's whole inner chunks a batch at a time (issue 18,
``zarrio/engine/whole_writes.py``) store exactly what the chunk-by-chunk path stores.

Each case writes the same values twice, once as it runs and once with the batch path switched
off (``BLOCK_MEMBERS`` above any block), and compares every stored byte of the two stores, then
the values read back with NumPy's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.engine import kernels, whole_writes

LITTLE = {"name": "bytes", "configuration": {"endian": "little"}}
CHAINS: dict[str, list[Any]] = {
    "zstd": [LITTLE, {"name": "zstd", "configuration": {"level": 1}}],
    "raw": [LITTLE],
    "zstd+crc32c": [LITTLE, {"name": "zstd", "configuration": {"level": 1}}, {"name": "crc32c"}],
    "big-endian": [
        {"name": "bytes", "configuration": {"endian": "big"}},
        {"name": "gzip", "configuration": {"level": 1}},
    ],
}
SHAPE, CHUNKS, SHARDS = (103, 95), (4, 5), (40, 50)  # 100 inner chunks a shard; edges on both axes
WRITES = [
    np.s_[...],
    np.s_[6:101, 3:90],  # partly covered inner chunks around whole ones
    np.s_[np.r_[0:4, 6, 8:40, 44:48], :],  # whole chunks at two offsets of the value (0 and 1)
    np.s_[40:80, 50:95],  # one shard and its edge column
]


def _values(dtype: str, fill: Any, selection: Any) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(17)
    shape = np.zeros(SHAPE)[selection].shape
    data = rng.integers(0, 3, shape).astype(dtype)
    data[:8, :10] = fill  # whole inner chunks of fill: not stored unless write_empty_chunks
    return data


def _stored(store: zarrio.stores.MemoryStore) -> dict[str, bytes]:
    return {key: bytes(store.get_sync(key) or b"") for key in store.list_sync("") if not key.endswith("zarr.json")}


@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize(("dtype", "fill"), [("uint8", 0), ("int32", -1), ("float64", np.nan), ("bool", False)])
@pytest.mark.parametrize("write_empty", [False, True])
def test_batched_shard_writes_store_what_chunk_by_chunk_writes_store(
    chain: str, dtype: str, fill: Any, write_empty: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[int] = []
    encode = whole_writes.encode_whole_chunks

    def counting(members: Any, *args: Any) -> Any:
        left = encode(members, *args)
        taken.append(len(members) - len(left))
        return left

    monkeypatch.setattr(kernels, "encode_whole_chunks", counting)
    stores = []
    for batched in (True, False):
        if not batched:
            monkeypatch.setattr(kernels, "BLOCK_MEMBERS", 10**9)
        store = zarrio.stores.MemoryStore()
        z = zarrio.create(
            store,
            SHAPE,
            dtype,
            chunks=CHUNKS,
            shards=SHARDS,
            fill_value=fill,
            codecs=CHAINS[chain],
            write_empty_chunks=write_empty,
        )
        expected = np.full(SHAPE, fill, dtype=dtype)
        for selection in WRITES:
            values = _values(dtype, fill, selection)
            z[selection] = values
            expected[selection] = values
        z[60:64, 10:15] = np.array(1, dtype=dtype)  # a broadcast scalar over one whole inner chunk
        expected[60:64, 10:15] = 1
        np.testing.assert_array_equal(z[...], expected)
        stores.append(_stored(store))
        if batched:
            assert sum(taken) > 300  # most inner chunks went through the batch path
    assert stores[0] == stores[1]
