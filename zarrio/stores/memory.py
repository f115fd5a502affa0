"""An in-memory store: a dict of ``key -> bytes``.

Values are kept as immutable ``bytes`` (bytes-like values are copied on
``set``), so a caller mutating its buffer afterwards cannot change what was
stored. Every method runs without awaiting anything in the middle, so the
store is consistent under any number of concurrent tasks on one event loop.
It is not meant to be shared between threads running different loops.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from .base import ByteRange, Store, validate_key, validate_prefix

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """A dict-backed store; handy for tests and scratch arrays."""

    partial_reads = True

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}

    # ------------------------------------------------------------ reads
    async def get(self, key: str) -> bytes | None:
        return self._values.get(validate_key(key))

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        value = self._values.get(validate_key(key))
        if value is None:
            return None
        return value[offset : offset + length]

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        value = self._values.get(validate_key(key))
        if value is None:
            return None
        return value[max(0, len(value) - length) :]

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        value = self._values.get(validate_key(key))
        if value is None:
            return None
        return value[max(0, len(value) - length) :], len(value)

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> list[bytes] | None:
        value = self._values.get(validate_key(key))
        if value is None:
            return None
        return [value[offset : offset + length] for offset, length in ranges]

    async def exists(self, key: str) -> bool:
        return validate_key(key) in self._values

    async def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        return [key for key in self._values if key.startswith(prefix)]

    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        validate_prefix(prefix)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        keys: list[str] = []
        prefixes: dict[str, None] = {}
        for key in self._values:
            if not key.startswith(prefix):
                continue
            head, sep, _ = key[len(prefix) :].partition("/")
            if sep:
                prefixes[head] = None
            else:
                keys.append(head)
        return keys, list(prefixes)

    # ------------------------------------------------------------ writes
    async def set(self, key: str, value: bytes) -> None:
        validate_key(key)
        self.check_writable()
        self._values[key] = bytes(value)

    async def erase(self, key: str) -> None:
        validate_key(key)
        self.check_writable()
        self._values.pop(key, None)

    async def erase_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        self.check_writable()
        for key in [k for k in self._values if k.startswith(prefix)]:
            del self._values[key]

    # ------------------------------------------------------------ blocking access
    def blocking_access(self) -> _MemoryAccess:
        return _MemoryAccess(self)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"MemoryStore(<{len(self._values)} keys>)"


class _MemoryReader:
    def __init__(self, value: bytes) -> None:
        self._view = memoryview(value)
        self.size = len(value)

    def read(self, offset: int, length: int) -> memoryview:
        return self._view[offset : offset + length]

    def close(self) -> None:
        self._view.release()


class _MemoryAccess:
    """Blocking access to a MemoryStore (dict operations are atomic under the GIL)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def open_reader(self, key: str) -> _MemoryReader | None:
        value = self._store._values.get(validate_key(key))
        return None if value is None else _MemoryReader(value)

    def set(self, key: str, value: bytes) -> None:
        validate_key(key)
        self._store.check_writable()
        self._store._values[key] = bytes(value)

    def erase(self, key: str) -> None:
        validate_key(key)
        self._store.check_writable()
        self._store._values.pop(key, None)
