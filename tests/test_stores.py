"""Every built-in store through the StoreSuite, plus store-specific behaviour."""

from __future__ import annotations

import asyncio
import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import pytest
from dict_store import DictStore

import zarrio.stores.local as local_module
from zarrio.errors import InvalidKeyError, ReadOnlyError, StoreError, TransportError
from zarrio.stores import LocalStore, MemoryStore, Store, ZipStore, as_store
from zarrio.stores.local import TEMP_PREFIX
from zarrio.testing import CountingStore, LatencyStore, StoreSuite

pytest_plugins = ["pytester"]


# ---------------------------------------------------------------- the suite, per store
class TestMemoryStore(StoreSuite):
    def make_store(self) -> Store:
        return MemoryStore()


class TestLocalStore(StoreSuite):
    def make_store(self) -> Store:
        return LocalStore(self.tmp_path / "store")


class TestLocalStoreFsync(StoreSuite):
    def make_store(self) -> Store:
        return LocalStore(self.tmp_path / "store", fsync=True)


class TestLocalStoreReadOnly(StoreSuite):
    async def populate(self, items: Mapping[str, bytes]) -> Store:
        root = self.tmp_path / "store"
        writer = LocalStore(root)
        for key, value in items.items():
            await writer.set(key, value)
        return LocalStore(root, read_only=True)


class TestBlockingStore(StoreSuite):
    def make_store(self) -> Store:
        return DictStore()


class PartialDictStore(DictStore):
    partial_reads = True

    def get_partial_sync(self, key: str, offset: int, length: int) -> bytes | None:
        value = self.values.get(key)
        return None if value is None else value[offset : offset + length]


class TestBlockingStorePartialReads(StoreSuite):
    def make_store(self) -> Store:
        return PartialDictStore()


class TestZipStoreWriteMode(StoreSuite):
    def make_store(self) -> Store:
        return ZipStore(self.tmp_path / "suite.zip", mode="w")


class TestZipStoreReadMode(StoreSuite):
    async def populate(self, items: Mapping[str, bytes]) -> Store:
        path = self.tmp_path / "suite.zip"
        with ZipStore(path, mode="w") as writer:
            for key, value in items.items():
                await writer.set(key, value)
        return ZipStore(path)


class TestCountingStore(StoreSuite):
    def make_store(self) -> Store:
        return CountingStore(MemoryStore())


class TestLatencyStore(StoreSuite):
    def make_store(self) -> Store:
        return LatencyStore(LocalStore(self.tmp_path / "store"), 0.0005)


# ---------------------------------------------------------------- MemoryStore
async def test_memory_store_keeps_its_own_copy_of_values() -> None:
    store = MemoryStore()
    buffer = bytearray(b"abc")
    await store.set("k", buffer)  # type: ignore[arg-type]  # bytes-like values are accepted
    buffer[0] = ord("z")
    assert await store.get("k") == b"abc"
    assert type(await store.get("k")) is bytes


# ---------------------------------------------------------------- LocalStore
def _files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_local_store_writes_plain_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    await store.set("a/b/c.json", b"{}")
    assert (tmp_path / "a" / "b" / "c.json").read_bytes() == b"{}"
    assert _files_under(tmp_path) == [os.path.join("a", "b", "c.json")]


async def test_local_store_temp_files_are_never_listed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    await store.set("d/real", b"1")
    (tmp_path / "d" / f"{TEMP_PREFIX}abc").write_bytes(b"half")
    (tmp_path / f"{TEMP_PREFIX}def").write_bytes(b"half")
    assert await store.list() == ["d/real"]
    assert await store.list_dir("d/") == (["real"], [])
    assert await store.list_dir("") == ([], ["d"])


async def test_local_store_failed_write_keeps_old_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    await store.set("k", b"old value")

    def write_half_then_fail(fd: int, data: bytes | memoryview) -> None:
        os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module, "write_fully", write_half_then_fail)
    with pytest.raises(TransportError) as info:
        await store.set("k", b"a new value that will not make it")
    assert info.value.key == "k"
    assert info.value.location == str(tmp_path / "k")
    assert isinstance(info.value.__cause__, OSError)
    monkeypatch.undo()
    assert await store.get("k") == b"old value"
    assert _files_under(tmp_path) == ["k"]  # the temp file was removed


async def test_local_store_concurrent_readers_never_see_partial_values(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    values = [bytes([i]) * 200_000 for i in range(8)]
    await store.set("k", values[0])
    writes = [store.set("k", value) for value in values for _ in range(3)]
    reads = [store.get("k") for _ in range(40)]
    results = await asyncio.gather(*writes, *reads)
    for got in results[len(writes) :]:
        assert got in values


async def test_local_store_reads_only_the_range(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    value = os.urandom(10 * 1024 * 1024)
    await store.set("big", value)
    assert await store.get_partial("big", 5_000_000, 1000) == value[5_000_000:5_001_000]
    assert await store.get_suffix("big", 64) == value[-64:]
    ranges = [(9_000_000, 10), (1, 2), (10 * 1024 * 1024 - 3, 100)]
    assert await store.get_ranges("big", ranges) == [value[o : o + n] for o, n in ranges]


async def test_local_store_ranges_take_one_thread_hop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    await store.set("v", bytes(range(100)))
    loop = asyncio.get_running_loop()
    hops = 0
    original = loop.run_in_executor

    def counting_run_in_executor(*args: object) -> asyncio.Future[object]:
        nonlocal hops
        hops += 1
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "run_in_executor", counting_run_in_executor)
    parts = await store.get_ranges("v", [(0, 5), (50, 5), (90, 20)])
    assert parts == [bytes(range(5)), bytes(range(50, 55)), bytes(range(90, 100))]
    assert hops == 1


async def test_local_store_directory_is_not_a_value(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    await store.set("dir/inner", b"x")
    assert await store.get("dir") is None
    assert await store.get_partial("dir", 0, 1) is None
    assert not await store.exists("dir")
    await store.erase("dir")  # a directory, not a key
    assert await store.get("dir/inner") == b"x"


async def test_local_store_erase_prunes_empty_directories_but_not_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = LocalStore(root)
    await store.set("a/b/c", b"1")
    await store.set("a/d", b"2")
    await store.erase("a/b/c")
    assert not (root / "a" / "b").exists()
    assert (root / "a" / "d").exists()
    await store.erase("a/d")
    assert root.is_dir()
    assert list(root.iterdir()) == []


async def test_local_store_erase_prefix_with_a_partial_name(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for key in ["ab/x", "a/y", "a/z/w", "b", "c/ab"]:
        await store.set(key, b"1")
    assert sorted(await store.list("a")) == ["a/y", "a/z/w", "ab/x"]
    await store.erase_prefix("a")
    assert sorted(await store.list()) == ["b", "c/ab"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "c"]  # emptied directories pruned


async def test_local_store_erase_prefix_of_a_directory(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for key in ["g/a/zarr.json", "g/a/c/0/0", "g/ab/zarr.json"]:
        await store.set(key, b"1")
    await store.erase_prefix("g/a/")
    assert not (tmp_path / "g" / "a").exists()
    assert await store.list() == ["g/ab/zarr.json"]
    await store.erase_prefix("g/ab/zarr.json/")  # a file, not a directory: nothing under it
    assert await store.list() == ["g/ab/zarr.json"]


async def test_local_store_refuses_keys_escaping_the_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    (tmp_path / "secret").write_bytes(b"do not read")
    for key in ["../secret", "a/../../secret", "/etc/passwd", "C:/windows"]:
        with pytest.raises(InvalidKeyError):
            await store.get(key)
        with pytest.raises(InvalidKeyError):
            await store.set(key, b"x")
    assert (tmp_path / "secret").read_bytes() == b"do not read"


async def test_local_store_read_only(tmp_path: Path) -> None:
    await LocalStore(tmp_path).set("k", b"v")
    store = LocalStore(tmp_path, read_only=True)
    assert await store.get("k") == b"v"
    with pytest.raises(ReadOnlyError):
        await store.set("k", b"w")
    with pytest.raises(ReadOnlyError):
        await store.erase_prefix("")
    assert (tmp_path / "k").read_bytes() == b"v"


async def test_local_store_missing_root_reads_as_empty(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "does-not-exist", read_only=True)
    assert await store.get("zarr.json") is None
    assert await store.list() == []
    assert await store.list_dir("") == ([], [])
    assert not (tmp_path / "does-not-exist").exists()


async def test_local_store_os_errors_become_transport_errors(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    await store.set("file", b"x")
    with pytest.raises(TransportError) as info:
        await store.set("file/below", b"y")  # a file where a directory must go
    assert info.value.key == "file/below"
    assert isinstance(info.value, StoreError)


def test_local_store_identity_repr_and_pickle(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "x", read_only=True, fsync=True)
    assert store.root == (tmp_path / "x").absolute()
    assert str(tmp_path / "x") in repr(store)
    assert store == LocalStore(str(tmp_path / "x"))
    assert store != LocalStore(tmp_path / "y")
    clone = pickle.loads(pickle.dumps(store))
    assert clone == store
    assert (clone.read_only, clone.fsync) == (True, True)


def test_local_store_relative_root_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalStore("data.zarr").root == tmp_path / "data.zarr"


# ---------------------------------------------------------------- BlockingStore
async def test_blocking_store_runs_methods_in_worker_threads() -> None:
    import threading

    seen: list[int] = []

    class Recording(DictStore):
        def get_sync(self, key: str) -> bytes | None:
            seen.append(threading.get_ident())
            return super().get_sync(key)

    store = Recording()
    await store.set("k", b"v")
    assert await store.get("k") == b"v"
    assert seen and threading.get_ident() not in seen


async def test_blocking_store_validates_keys_before_calling_user_code() -> None:
    calls: list[str] = []

    class Recording(DictStore):
        def set_sync(self, key: str, value: bytes) -> None:
            calls.append(key)

    store = Recording()
    with pytest.raises(InvalidKeyError):
        await store.set("../x", b"v")
    assert calls == []


async def test_blocking_store_read_only_flag() -> None:
    class ReadOnlyDict(DictStore):
        read_only = True

    store = ReadOnlyDict()
    with pytest.raises(ReadOnlyError):
        await store.set("k", b"v")
    assert store.values == {}


# ---------------------------------------------------------------- wrappers
async def test_counting_store_counts_calls_and_bytes() -> None:
    store = CountingStore(MemoryStore())
    await store.set("k", b"0123456789")
    assert await store.get("k") == b"0123456789"
    assert await store.get_partial("k", 2, 3) == b"234"
    assert await store.get_ranges("k", [(0, 1), (5, 2)]) == [b"0", b"56"]
    assert await store.get("missing") is None
    assert store.counts == {"set": 1, "get": 2, "get_partial": 1, "get_ranges": 1}
    assert store.bytes_read == 10 + 3 + 3
    assert store.bytes_written == 10
    store.reset()
    assert store.counts == {} and store.bytes_read == 0 and store.bytes_written == 0


async def test_wrappers_forward_capability_flags(tmp_path: Path) -> None:
    inner = LocalStore(tmp_path, read_only=True)
    for wrapper in (CountingStore(inner), LatencyStore(inner, 0.0)):
        assert wrapper.read_only is True
        assert wrapper.partial_reads is True
        assert wrapper.listable is True
        with pytest.raises(ReadOnlyError):
            await wrapper.set("k", b"v")


async def test_latency_store_delays_every_call() -> None:
    store = LatencyStore(MemoryStore(), 0.05)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await store.set("k", b"v")
    await store.get("k")
    assert loop.time() - start >= 0.1


# ---------------------------------------------------------------- as_store
async def test_as_store(tmp_path: Path) -> None:
    memory = MemoryStore()
    assert as_store(memory) is memory
    local = as_store(str(tmp_path / "d.zarr"))
    assert isinstance(local, LocalStore) and local.root == tmp_path / "d.zarr"
    assert isinstance(as_store(tmp_path), LocalStore)
    read_only = as_store(tmp_path, read_only=True)
    assert read_only.read_only
    # a .zip path that is not an existing file is a directory store
    assert isinstance(as_store(tmp_path / "new.zip"), LocalStore)
    zip_path = tmp_path / "a.zip"
    ZipStore(zip_path, mode="w").close()
    opened = as_store(zip_path)
    assert isinstance(opened, ZipStore) and opened.read_only
    opened.close()


def test_as_store_http_url_is_an_http_store() -> None:
    pytest.importorskip("zarrio.stores.http", reason="zarrio/stores/http.py is not written yet")
    from zarrio.stores import HttpStore

    assert isinstance(as_store("https://example.com/data.zarr"), HttpStore)


@pytest.mark.parametrize("bad", [42, None, b"bytes/path", ["a"]])
def test_as_store_refuses_other_types(bad: object) -> None:
    with pytest.raises(TypeError, match="cannot make a store"):
        as_store(bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the suite in a user's project
def test_store_suite_runs_in_strict_mode_with_cleanups(pytester: pytest.Pytester) -> None:
    marker = pytester.path / "cleanups.txt"
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_user_store=f"""
        from zarrio.stores import MemoryStore
        from zarrio.testing import StoreSuite

        class TestUserStore(StoreSuite):
            def make_store(self):
                def sync_cleanup():
                    with open({str(marker)!r}, "a") as f:
                        f.write("s")
                async def async_cleanup():
                    with open({str(marker)!r}, "a") as f:
                        f.write("a")
                self.add_cleanup(sync_cleanup)
                self.add_cleanup(async_cleanup)
                return MemoryStore()
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes["passed"] >= 20
    # every suite test makes exactly one store, and its cleanups run last-in first-out
    assert marker.read_text() == "as" * (outcomes["passed"] + outcomes.get("skipped", 0))
