"""``get_bounded_sync``: the blocking fast path's whole-value read (issue 18), on every built-in
BlockingStore: the whole value whatever the hint, None when missing, a typed error over the limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import zarrio
from zarrio.errors import ResourceLimitError, TransportError
from zarrio.stores import LocalStore, MemoryStore
from zarrio.stores.blocking import BlockingStore


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlockingStore:
    return LocalStore(tmp_path) if request.param == "local" else MemoryStore()


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 5000])
@pytest.mark.parametrize("hint", [0, 100, 10_000])
def test_the_whole_value_whatever_the_hint(store: BlockingStore, size: int, hint: int) -> None:
    value = bytes(np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8))
    store.set_sync("a/b", value)
    assert store.get_bounded_sync("a/b", 10_000, hint) == value


def test_missing_is_none(store: BlockingStore) -> None:
    assert store.get_bounded_sync("nothing/here", 100, 10) is None
    store.set_sync("a/b", b"x")
    assert store.get_bounded_sync("a", 100, 10) is None  # a directory (LocalStore) or no key: no value


@pytest.mark.parametrize("hint", [0, 10, 1000])
def test_over_the_limit_is_refused(store: BlockingStore, hint: int) -> None:
    store.set_sync("k", bytes(101))
    assert store.get_bounded_sync("k", 101, hint) == bytes(101)
    with pytest.raises(ResourceLimitError):
        store.get_bounded_sync("k", 100, hint)


def test_local_file_errors_are_typed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "k").write_bytes(b"abc")
    (tmp_path / "k").chmod(0)
    try:
        try:
            (tmp_path / "k").read_bytes()
        except PermissionError:
            with pytest.raises(TransportError):
                store.get_bounded_sync("k", 100, 10)
        else:
            pytest.skip("running as a user that reads unreadable files")
    finally:
        (tmp_path / "k").chmod(0o644)


def test_tiny_chunks_read_back_through_the_fast_path(tmp_path: Path) -> None:
    """2000 chunks of 10 elements, zstd (one-shot decode) and no compressor (fixed size), and one
    chunk larger than the read hint (an uncompressed 40 KiB chunk of another array)."""
    data = np.arange(20_000, dtype="uint16").reshape(100, 200)
    for codecs in (None, [{"name": "bytes", "configuration": {"endian": "little"}}]):
        z = zarrio.create(
            LocalStore(tmp_path / str(codecs is None)), data.shape, "uint16", chunks=(2, 5), codecs=codecs
        )
        z[...] = data
        assert np.array_equal(z[...], data)
        assert np.array_equal(z[3:97, 7:191], data[3:97, 7:191])
    big = zarrio.create(
        LocalStore(tmp_path / "big"),
        (200, 100),
        "float64",
        chunks=(100, 100),
        codecs=[{"name": "bytes", "configuration": {"endian": "little"}}],
    )
    values = np.random.default_rng(0).standard_normal((200, 100))
    big[...] = values
    assert np.array_equal(big[...], values)
