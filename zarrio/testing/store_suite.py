"""The store conformance suite: :class:`StoreSuite`, a pytest test class to subclass (see :mod:`zarrio.testing`)."""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio

from ..errors import InvalidKeyError, ReadOnlyError
from ..stores.base import ByteRange, Store
from .wrappers import close_store

__all__ = ["INVALID_KEYS", "SPECIAL_KEYS", "StoreSuite"]

_T = TypeVar("_T")

#: keys every store must refuse with InvalidKeyError
INVALID_KEYS = ("../x", "a/../b", "/abs", "a//b", "a\\b", ".", "a/./b", "a/", "")

#: keys with characters that need care in paths and URLs
SPECIAL_KEYS = (
    "unicode/ünïcødé/€uro",
    "with space/a b",
    "hash#/x#y",
    "percent%/50%25",
    "query?/a?b=c&d",
    "dots/a.b..c",
    "plus+tilde~/x+y~",
)


async def _resolve(value: Store | Awaitable[Store]) -> Store:
    if isinstance(value, Store):
        return value
    return await value


def _value(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


class StoreSuite:
    """Conformance tests for a :class:`~zarrio.stores.Store`; see the module docstring."""

    tmp_path: Path
    #: keys with characters that need care in paths and URLs (override where the backend cannot hold some)
    special_keys: tuple[str, ...] = SPECIAL_KEYS

    # ------------------------------------------------------------ hooks
    def make_store(self) -> Store | Awaitable[Store]:
        """A fresh, empty store (writable unless the store is read-only by nature)."""
        if type(self).populate is StoreSuite.populate:
            raise NotImplementedError(f"{type(self).__name__} must override make_store() or populate()")
        return self.populate({})

    def populate(self, items: Mapping[str, bytes]) -> Store | Awaitable[Store]:
        """A store holding exactly ``items`` (it may be read-only)."""
        if type(self).make_store is StoreSuite.make_store:
            raise NotImplementedError(f"{type(self).__name__} must override make_store() or populate()")
        return self._empty_then_set(items)

    async def _empty_then_set(self, items: Mapping[str, bytes]) -> Store:
        store = await _resolve(self.make_store())
        for key, value in items.items():
            await store.set(key, value)
        return store

    # ------------------------------------------------------------ plumbing
    @pytest_asyncio.fixture(autouse=True)
    async def _store_suite_setup(self, tmp_path: Path) -> AsyncIterator[None]:
        self.tmp_path = tmp_path
        self._opened: list[Store] = []
        self._cleanups: list[Callable[[], object]] = []
        yield
        for store in self._opened:
            await close_store(store)
        for cleanup in reversed(self._cleanups):
            result = cleanup()
            if inspect.isawaitable(result):
                await result

    def add_cleanup(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` (awaited if it returns an awaitable) when the current test ends."""
        self._cleanups.append(fn)

    async def _empty(self) -> Store:
        store = await _resolve(self.make_store())
        self._opened.append(store)
        return store

    async def _writable(self) -> Store:
        store = await self._empty()
        if store.read_only:
            pytest.skip(f"{store!r} is read-only: write tests do not apply")
        return store

    async def _holding(self, items: Mapping[str, bytes]) -> Store:
        store = await _resolve(self.populate(items))
        self._opened.append(store)
        return store

    @staticmethod
    def _require_listing(store: Store) -> None:
        if not store.listable:
            pytest.skip(f"{store!r} cannot list keys")

    # ------------------------------------------------------------ reads
    @pytest.mark.asyncio
    async def test_get_missing_returns_none(self) -> None:
        store = await self._holding({"a/b": b"x"})
        assert await store.get("missing") is None
        assert await store.get("a") is None  # a prefix is not a key
        assert await store.get("a/b/c") is None  # below a key
        assert await store.get("a/bb") is None

    @pytest.mark.asyncio
    async def test_get_returns_the_stored_bytes(self) -> None:
        items = {"top": b"top value", "deep/er/key": b"deep value", "zarr.json": b'{"zarr_format": 3}'}
        store = await self._holding(items)
        for key, value in items.items():
            got = await store.get(key)
            assert isinstance(got, bytes)
            assert got == value

    @pytest.mark.asyncio
    async def test_exists(self) -> None:
        store = await self._holding({"a/b": b"x", "c": b""})
        assert await store.exists("a/b") is True
        assert await store.exists("c") is True
        assert await store.exists("a") is False
        assert await store.exists("missing") is False
        assert await store.exists("a/b/c") is False

    @pytest.mark.asyncio
    async def test_empty_value(self) -> None:
        store = await self._holding({"empty": b"", "other": b"1"})
        assert await store.get("empty") == b""
        assert await store.exists("empty")
        assert await store.get_partial("empty", 0, 10) == b""
        assert await store.get_suffix("empty", 10) == b""
        assert await store.get_ranges("empty", [(0, 5)]) == [b""]
        if store.listable:
            assert "empty" in await store.list()

    @pytest.mark.asyncio
    async def test_all_byte_values(self) -> None:
        value = bytes(range(256)) * 4 + bytes(reversed(range(256)))
        store = await self._holding({"binary": value})
        assert await store.get("binary") == value
        assert await store.get_partial("binary", 250, 20) == value[250:270]
        assert await store.get_suffix("binary", 300) == value[-300:]

    @pytest.mark.asyncio
    async def test_keys_with_special_characters(self) -> None:
        items = {key: key.encode() for key in self.special_keys}
        store = await self._holding(items)
        for key, value in items.items():
            assert await store.get(key) == value, key
            assert await store.exists(key), key
        if store.listable:
            assert set(await store.list()) == set(items)

    @pytest.mark.asyncio
    async def test_get_partial_exact_bytes(self) -> None:
        value = _value(1, 200)
        store = await self._holding({"v": value})
        for offset, length in [(0, 200), (0, 1), (10, 20), (199, 1), (190, 50), (0, 0), (50, 0), (200, 10), (500, 5)]:
            got = await store.get_partial("v", offset, length)
            assert got == value[offset : offset + length], (offset, length)

    @pytest.mark.asyncio
    async def test_get_suffix_exact_bytes(self) -> None:
        value = _value(2, 200)
        store = await self._holding({"v": value})
        for length in [0, 1, 7, 199, 200, 201, 10_000]:
            assert await store.get_suffix("v", length) == value[max(0, len(value) - length) :], length

    @pytest.mark.asyncio
    async def test_get_ranges_exact_bytes(self) -> None:
        value = _value(3, 10_000)
        store = await self._holding({"v": value})
        ranges: list[ByteRange] = [(9000, 500), (0, 10), (5, 10), (20, 0), (9990, 100), (12_000, 5), (4096, 4096)]
        got = await store.get_ranges("v", ranges)
        assert got == [value[o : o + n] for o, n in ranges]
        assert await store.get_ranges("v", []) == []

    @pytest.mark.asyncio
    async def test_partial_reads_of_a_missing_key_return_none(self) -> None:
        store = await self._holding({"present": b"abc"})
        assert await store.get_partial("missing", 0, 2) is None
        assert await store.get_suffix("missing", 2) is None
        assert await store.get_ranges("missing", [(0, 1), (1, 1)]) is None
        assert await store.get_ranges("missing", []) is None

    @pytest.mark.asyncio
    async def test_large_value(self) -> None:
        value = _value(4, 3 * 1024 * 1024 + 17)
        store = await self._holding({"big": value})
        assert await store.get("big") == value
        assert await store.get_partial("big", 1_000_003, 70_001) == value[1_000_003:1_070_004]
        assert await store.get_suffix("big", 12_345) == value[-12_345:]

    @pytest.mark.asyncio
    async def test_list(self) -> None:
        keys = ["a/b/c", "a/b/d", "a/e", "f", "ab/x", "zarr.json"]
        store = await self._holding({key: key.encode() for key in keys})
        self._require_listing(store)
        assert sorted(await store.list()) == sorted(keys)
        assert sorted(await store.list("")) == sorted(keys)
        assert sorted(await store.list("a/")) == ["a/b/c", "a/b/d", "a/e"]
        assert sorted(await store.list("a/b/")) == ["a/b/c", "a/b/d"]
        assert sorted(await store.list("a")) == ["a/b/c", "a/b/d", "a/e", "ab/x"]
        assert await store.list("missing/") == []

    @pytest.mark.asyncio
    async def test_list_dir_separates_keys_and_prefixes(self) -> None:
        keys = ["a/b/c", "a/b/d", "a/e", "f", "ab/x", "zarr.json"]
        store = await self._holding({key: key.encode() for key in keys})
        self._require_listing(store)
        root_keys, root_prefixes = await store.list_dir("")
        assert sorted(root_keys) == ["f", "zarr.json"]
        assert sorted(root_prefixes) == ["a", "ab"]
        a_keys, a_prefixes = await store.list_dir("a/")
        assert (sorted(a_keys), sorted(a_prefixes)) == (["e"], ["b"])
        b_keys, b_prefixes = await store.list_dir("a/b/")
        assert (sorted(b_keys), b_prefixes) == (["c", "d"], [])
        assert await store.list_dir("missing/") == ([], [])

    @pytest.mark.asyncio
    @pytest.mark.parametrize("key", INVALID_KEYS)
    async def test_invalid_keys_refused_on_reads(self, key: str) -> None:
        store = await self._holding({"x": b"1"})
        with pytest.raises(InvalidKeyError):
            await store.get(key)
        with pytest.raises(InvalidKeyError):
            await store.exists(key)
        with pytest.raises(InvalidKeyError):
            await store.get_partial(key, 0, 1)
        with pytest.raises(InvalidKeyError):
            await store.get_suffix(key, 1)
        with pytest.raises(InvalidKeyError):
            await store.get_ranges(key, [(0, 1)])

    @pytest.mark.asyncio
    async def test_concurrent_reads(self) -> None:
        items = {f"c/{i}": _value(i, 100 + i) for i in range(100)}
        store = await self._holding(items)
        values = await asyncio.gather(*(store.get(key) for key in items))
        assert values == list(items.values())
        parts = await asyncio.gather(*(store.get_partial(key, 50, 60) for key in items))
        assert parts == [value[50:110] for value in items.values()]

    @pytest.mark.asyncio
    async def test_expect_reads_is_only_a_hint(self) -> None:
        items = {f"h/{i}": _value(i, 64) for i in range(8)}
        store = await self._holding(items)
        store.expect_reads(len(items))
        store.expect_reads(0)
        await asyncio.sleep(0)
        parts = await asyncio.gather(*(store.get_partial(key, 8, 16) for key in items))
        assert parts == [value[8:24] for value in items.values()]

    @pytest.mark.asyncio
    async def test_close_is_idempotent(self) -> None:
        store = await self._holding({"x": b"1"})
        await close_store(store)
        await close_store(store)

    # ------------------------------------------------------------ writes
    @pytest.mark.asyncio
    async def test_set_then_get(self) -> None:
        store = await self._writable()
        await store.set("a/b/c", b"value")
        assert await store.get("a/b/c") == b"value"
        assert await store.exists("a/b/c")
        await store.set("top", b"")
        assert await store.get("top") == b""

    @pytest.mark.asyncio
    async def test_overwrite(self) -> None:
        store = await self._writable()
        await store.set("k", b"a much longer first value")
        await store.set("k", b"short")
        assert await store.get("k") == b"short"
        assert await store.get_suffix("k", 100) == b"short"
        await store.set("k", b"third, longer than short")
        assert await store.get("k") == b"third, longer than short"

    @pytest.mark.asyncio
    async def test_erase_is_idempotent(self) -> None:
        store = await self._writable()
        await store.set("a/b", b"1")
        await store.set("a/c", b"2")
        await store.erase("a/b")
        assert await store.get("a/b") is None
        assert not await store.exists("a/b")
        assert await store.get("a/c") == b"2"
        await store.erase("a/b")  # again: not an error
        await store.erase("never/written")
        await store.erase("a")  # a prefix, not a key: nothing happens
        assert await store.get("a/c") == b"2"

    @pytest.mark.asyncio
    async def test_erase_prefix(self) -> None:
        store = await self._writable()
        keys = ["a/b/c", "a/d", "ab/e", "f"]
        for key in keys:
            await store.set(key, key.encode())
        await store.erase_prefix("a/")
        for key in ["a/b/c", "a/d"]:
            assert await store.get(key) is None, key
        for key in ["ab/e", "f"]:
            assert await store.get(key) == key.encode(), key
        await store.erase_prefix("missing/")
        if store.listable:
            assert sorted(await store.list()) == ["ab/e", "f"]
            assert sorted((await store.list_dir(""))[1]) == ["ab"]
        await store.erase_prefix("")
        assert await store.get("ab/e") is None
        assert await store.get("f") is None
        if store.listable:
            assert await store.list() == []

    @pytest.mark.asyncio
    async def test_written_keys_are_listed(self) -> None:
        store = await self._writable()
        self._require_listing(store)
        for key in ["x/0", "x/1", "y"]:
            await store.set(key, b"v")
        assert sorted(await store.list()) == ["x/0", "x/1", "y"]
        await store.erase("x/0")
        assert sorted(await store.list()) == ["x/1", "y"]
        await store.erase("x/1")
        assert await store.list("x/") == []

    @pytest.mark.asyncio
    @pytest.mark.parametrize("key", INVALID_KEYS)
    async def test_invalid_keys_refused_on_writes(self, key: str) -> None:
        store = await self._writable()
        with pytest.raises(InvalidKeyError):
            await store.set(key, b"v")
        with pytest.raises(InvalidKeyError):
            await store.erase(key)
        if store.listable:
            assert await store.list() == []

    @pytest.mark.asyncio
    async def test_concurrent_sets_and_gets(self) -> None:
        store = await self._writable()
        first = {f"c/{i}/k": _value(i, 50 + i) for i in range(100)}
        await asyncio.gather(*(store.set(key, value) for key, value in first.items()))
        assert await asyncio.gather(*(store.get(key) for key in first)) == list(first.values())
        # overwrite while reading: every read sees one whole value, old or new
        second = {key: _value(1000 + i, 80) for i, key in enumerate(first)}
        results = await asyncio.gather(
            *(store.set(key, value) for key, value in second.items()),
            *(store.get(key) for key in first),
        )
        for key, got in zip(first, results[len(second) :], strict=True):
            assert got in (first[key], second[key]), key
        assert await asyncio.gather(*(store.get(key) for key in second)) == list(second.values())

    # ------------------------------------------------------------ read-only
    @pytest.mark.asyncio
    async def test_read_only_store_refuses_writes(self) -> None:
        store = await self._holding({"k": b"v", "d/k": b"w"})
        if not store.read_only:
            pytest.skip(f"{store!r} is writable: ReadOnlyError applies to read-only stores")
        with pytest.raises(ReadOnlyError):
            await store.set("k", b"new")
        with pytest.raises(ReadOnlyError):
            await store.set("new", b"new")
        with pytest.raises(ReadOnlyError):
            await store.erase("k")
        with pytest.raises(ReadOnlyError):
            await store.erase_prefix("d/")
        assert await store.get("k") == b"v"
        assert await store.get("d/k") == b"w"
        assert await store.get("new") is None
