"""Reliability: hostile keys and node paths never escape a store (issue 6, property 4).

Every store refuses keys with ``..``, ``.``, empty or absolute segments, backslashes
and NUL on every method, before touching its backend; node paths given to the
public API are refused the same way. For LocalStore we also check that nothing
outside the root was read, created or removed.
"""

from __future__ import annotations

import builtins
import os
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from servers.faults import FaultServer

import zarrio
from zarrio import aio
from zarrio.errors import InvalidKeyError, ReadOnlyError, StoreError
from zarrio.stores import BlockingStore, LocalStore, MemoryStore, Store, ZipStore
from zarrio.stores.blocking import blocking_access
from zarrio.stores.http import HttpStore
from zarrio.testing import CountingStore

HOSTILE_KEYS = [
    "../secret",
    "a/../../secret",
    "a/../b",
    "..",
    ".",
    "./a",
    "a/./b",
    "/etc/passwd",
    "//server/share",
    "a//b",
    "a/",
    "",
    "..\\secret",
    "a\\b",
    "C:/windows",
    "c:secret",
    "a\x00b",
]

HOSTILE_PREFIXES = ["../", "a/../../", "/etc/", "a//", "..\\", "./", "a\x00/"]

HOSTILE_NODE_PATHS = ["..", "../x", "a/../../x", "a/./b", "a//b", "a\\b", "..\\x", "a\x00b"]


class DictBlockingStore(BlockingStore):
    """A user-written blocking store that records every key its methods see."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.seen: builtins.list[str] = []

    def get_sync(self, key: str) -> bytes | None:
        self.seen.append(key)
        return self.values.get(key)

    def set_sync(self, key: str, value: bytes) -> None:
        self.seen.append(key)
        self.values[key] = value

    def erase_sync(self, key: str) -> None:
        self.seen.append(key)
        self.values.pop(key, None)

    def exists_sync(self, key: str) -> bool:
        self.seen.append(key)
        return key in self.values

    def list_sync(self, prefix: str) -> builtins.list[str]:
        self.seen.append(prefix)
        return [k for k in self.values if k.startswith(prefix)]

    def list_dir_sync(self, prefix: str) -> tuple[builtins.list[str], builtins.list[str]]:
        self.seen.append(prefix)
        return [], []


StoreFactory = Callable[[Path], Awaitable[Store]]


async def _memory(_: Path) -> Store:
    return MemoryStore()


async def _local(tmp: Path) -> Store:
    return LocalStore(tmp / "root")


async def _local_read_only(tmp: Path) -> Store:
    (tmp / "root").mkdir()
    return LocalStore(tmp / "root", read_only=True)


async def _zip_read(tmp: Path) -> Store:
    with zipfile.ZipFile(tmp / "a.zip", "w") as archive:
        archive.writestr("k", b"v")
    return ZipStore(tmp / "a.zip", mode="r")


async def _zip_write(tmp: Path) -> Store:
    return ZipStore(tmp / "w.zip", mode="w")


async def _zip_append(tmp: Path) -> Store:
    with zipfile.ZipFile(tmp / "a.zip", "w") as archive:
        archive.writestr("k", b"v")
    return ZipStore(tmp / "a.zip", mode="a")


async def _blocking(_: Path) -> Store:
    return DictBlockingStore()


async def _wrapped_local(tmp: Path) -> Store:
    return CountingStore(LocalStore(tmp / "root"))


async def _object_store_memory(_: Path) -> Store:
    obstore_stores = pytest.importorskip("obstore.store", reason="ObjectStore needs the optional obstore package")
    from zarrio.stores.object_store import ObjectStore

    return ObjectStore(obstore_stores.MemoryStore())


async def _object_store_local(tmp: Path) -> Store:
    obstore_stores = pytest.importorskip("obstore.store", reason="ObjectStore needs the optional obstore package")
    from zarrio.stores.object_store import ObjectStore

    (tmp / "root").mkdir()
    return ObjectStore(obstore_stores.LocalStore(str(tmp / "root")))


STORES: dict[str, StoreFactory] = {
    "object-store-memory": _object_store_memory,
    "object-store-local": _object_store_local,
    "memory": _memory,
    "local": _local,
    "local-read-only": _local_read_only,
    "zip-r": _zip_read,
    "zip-w": _zip_write,
    "zip-a": _zip_append,
    "blocking-subclass": _blocking,
    "wrapped-local": _wrapped_local,
}


@pytest.fixture(params=sorted(STORES))
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    # a file outside every store's root that an escape would read, overwrite or delete
    (tmp_path / "secret").write_bytes(b"do not touch")
    store = await STORES[request.param](tmp_path)
    yield store
    await _close(store)
    assert (tmp_path / "secret").read_bytes() == b"do not touch"
    unexpected = {p.name for p in tmp_path.iterdir()} - {"secret", "root", "a.zip", "w.zip"}
    assert not unexpected, f"a store created files outside its root: {unexpected}"


async def _close(store: Store) -> None:
    if isinstance(store, ZipStore):
        await store.aclose()
    else:
        await store.close()


def _key_calls(store: Store, key: str) -> dict[str, Callable[[], Awaitable[Any]]]:
    return {
        "get": lambda: store.get(key),
        "get_partial": lambda: store.get_partial(key, 0, 4),
        "get_suffix": lambda: store.get_suffix(key, 4),
        "get_ranges": lambda: store.get_ranges(key, [(0, 1), (1, 2)]),
        "exists": lambda: store.exists(key),
        "set": lambda: store.set(key, b"pwned"),
        "erase": lambda: store.erase(key),
    }


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=repr)
async def test_every_store_refuses_hostile_keys_on_every_method(any_store: Store, key: str) -> None:
    for method, call in _key_calls(any_store, key).items():
        with pytest.raises(InvalidKeyError) as info:
            await call()
        assert info.value.key is not None, f"{method}: the error must name the key"
    if isinstance(any_store, DictBlockingStore):
        assert key not in any_store.seen, "a hostile key reached the user's blocking methods"


@pytest.mark.parametrize("prefix", HOSTILE_PREFIXES, ids=repr)
async def test_every_store_refuses_hostile_prefixes(any_store: Store, prefix: str) -> None:
    for call in (any_store.list, any_store.list_dir, any_store.erase_prefix):
        with pytest.raises(InvalidKeyError):
            await call(prefix)


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=repr)
async def test_blocking_access_refuses_hostile_keys(tmp_path: Path, key: str) -> None:
    (tmp_path / "secret").write_bytes(b"do not touch")
    for store in (MemoryStore(), LocalStore(tmp_path / "root")):
        access = blocking_access(store)
        assert access is not None
        with pytest.raises(InvalidKeyError):
            access.open_reader(key)
        with pytest.raises(InvalidKeyError):
            access.set(key, b"pwned")
        with pytest.raises(InvalidKeyError):
            access.erase(key)
    assert (tmp_path / "secret").read_bytes() == b"do not touch"
    assert not (tmp_path / "root").exists()


async def test_non_string_keys_are_refused(tmp_path: Path) -> None:
    for store in (MemoryStore(), LocalStore(tmp_path), DictBlockingStore()):
        for bad in (b"zarr.json", None, 3, Path("zarr.json")):
            with pytest.raises(InvalidKeyError):
                await store.get(bad)  # type: ignore[arg-type]


async def test_local_store_refuses_a_key_through_a_file_and_keeps_siblings(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = LocalStore(root)
    await store.set("a/b", b"value")
    # 'a/b' is a file: a key below it is missing, not an error that escapes or overwrites
    assert await store.get("a/b/c") is None
    assert await store.get("a/b") == b"value"


async def test_zip_store_does_not_list_hostile_entry_names(tmp_path: Path) -> None:
    """An archive made by another tool may hold entries named '../x' or '/abs': they are not
    keys of the store (a copy to a directory would otherwise be asked to write them)."""
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ["../escape", "/abs", "a/../../b", "a\\b", "ok/zarr.json"]:
            archive.writestr(name, b"x")
    store = ZipStore(path)
    try:
        assert await store.list() == ["ok/zarr.json"]
        assert await store.list_dir("") == ([], ["ok"])
        assert await store.get("ok/zarr.json") == b"x"
    finally:
        await store.aclose()


# ------------------------------------------------------------------ node paths in the public API
@pytest.mark.parametrize("path", HOSTILE_NODE_PATHS, ids=repr)
def test_public_api_refuses_hostile_node_paths(tmp_path: Path, path: str) -> None:
    root = tmp_path / "root"
    group = zarrio.create_group(str(root))
    with pytest.raises(InvalidKeyError):
        zarrio.create(str(root), shape=(4,), dtype="int32", path=path)
    with pytest.raises(InvalidKeyError):
        zarrio.create_group(str(root), path=path)
    with pytest.raises(InvalidKeyError):
        zarrio.open(str(root), path=path)
    with pytest.raises(InvalidKeyError):
        zarrio.delete_node(str(root), path)
    with pytest.raises(InvalidKeyError):
        group[path]
    with pytest.raises(InvalidKeyError):
        group.create_array(path, shape=(4,), dtype="int32")
    outside = sorted(p.name for p in tmp_path.iterdir())
    assert outside == ["root"], f"files appeared outside the store: {outside}"


async def test_async_api_refuses_hostile_node_paths() -> None:
    store = MemoryStore()
    await aio.create_group(store)
    for path in HOSTILE_NODE_PATHS:
        with pytest.raises(InvalidKeyError):
            await aio.create(store, shape=(2,), dtype="uint8", path=path)
        with pytest.raises(InvalidKeyError):
            await aio.open(store, path=path)
    assert await store.list() == ["zarr.json"]


def test_chunk_keys_of_an_array_stay_below_its_path(tmp_path: Path) -> None:
    """Chunk keys are built from integer coordinates and a '/' or '.' separator only,
    so every chunk an array writes lies below the array's directory."""
    root = tmp_path / "root"
    for separator in ("/", "."):
        name = "dot" if separator == "." else "slash"
        a = zarrio.create(
            str(root),
            shape=(7, 5),
            dtype="int16",
            chunks=(2, 2),
            path=f"g/{name}",
            chunk_key_encoding={"name": "default", "separator": separator},
        )
        a[...] = np.arange(35, dtype="int16").reshape(7, 5)
    for dirpath, _, files in os.walk(root):
        for file in files:
            rel = Path(dirpath, file).relative_to(root).as_posix()
            assert rel == "zarr.json" or rel.startswith(("g/slash/", "g/dot/", "g/zarr.json")), rel


async def test_store_error_names_the_key_and_location_for_local_paths(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    with pytest.raises(StoreError) as info:
        await store.set("../x", b"v")
    assert info.value.key == "../x"


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=repr)
async def test_http_store_refuses_hostile_keys_before_any_request(key: str) -> None:
    """HttpStore is read-only and cannot list: its reads refuse the key without sending a request
    (a URL with '..' would otherwise be resolved by the server or a proxy)."""
    with FaultServer({"d/zarr.json": b"{}", "secret": b"do not read"}) as server:
        store = HttpStore(server.url + "/d", retries=0)
        try:
            for method in ("get", "get_partial", "get_suffix", "get_ranges", "exists"):
                with pytest.raises(InvalidKeyError):
                    await _key_calls(store, key)[method]()
            for method in ("set", "erase"):
                with pytest.raises((InvalidKeyError, ReadOnlyError)):
                    await _key_calls(store, key)[method]()
        finally:
            await store.close()
        assert server.count() == 0


WINDOWS_HOSTILE = [".. /secret", "a/.. /../secret", "a./b", "a /b", "NUL", "c/CON", "com1.json", "a:stream", "AUX /x"]


@pytest.mark.parametrize("key", WINDOWS_HOSTILE, ids=repr)
async def test_local_store_applies_windows_name_rules_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """Windows drops trailing dots and spaces (so '.. ' is '..', an escape), reads 'a:b' as a stream and
    maps CON/NUL/COM1 to devices. The rules are switched on here as they are on Windows."""
    import zarrio.stores.local as local_module

    monkeypatch.setattr(local_module, "_WINDOWS", True)
    store = LocalStore(tmp_path / "root")
    for method, call in _key_calls(store, key).items():
        with pytest.raises(InvalidKeyError):
            await call()
        assert not (tmp_path / "root").exists(), method
    # ordinary keys still work under the Windows rules
    await store.set("g/c/0.1", b"v")
    assert await store.get("g/c/0.1") == b"v"
    assert await store.list() == ["g/c/0.1"]


async def test_windows_name_rules_are_off_elsewhere(tmp_path: Path) -> None:
    import zarrio.stores.local as local_module

    if local_module._WINDOWS:
        pytest.skip("this is Windows: the rules apply")
    store = LocalStore(tmp_path / "root")
    await store.set("a./NUL", b"v")  # legal names on POSIX file systems
    assert await store.get("a./NUL") == b"v"


def _key_rules(key: str) -> bool:
    """The key rules written out plainly, as a model of validate_key's fast checks."""
    if not key or "\\" in key or "\x00" in key or key.startswith("/"):
        return False
    if len(key) > 1 and key[1] == ":" and key[0] in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
        return False
    return all(segment not in ("", ".", "..") for segment in key.split("/"))


@given(st.text(alphabet="a./\\:\x00Cé", max_size=8))
@settings(max_examples=2000, deadline=None, derandomize=True)
def test_validate_key_accepts_exactly_the_keys_the_rules_allow(key: str) -> None:
    from zarrio.stores.base import validate_key

    try:
        validate_key(key)
        accepted = True
    except InvalidKeyError:
        accepted = False
    assert accepted == _key_rules(key), repr(key)
