"""An in-memory store: a dict of ``key -> bytes``.

Values are kept as immutable ``bytes`` (bytes-like values are copied on
``set``), so a caller mutating its buffer afterwards cannot change what was
stored. It is a :class:`~zarrio.stores.blocking.BlockingStore` whose methods
return at once (``inline_calls``): the async methods call them on the event
loop with no thread hop, and the engine and the blocking facade call them
directly. Each method is one dict operation, atomic under the GIL, so the store
is consistent under any number of concurrent tasks and threads.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from .base import ByteRange, validate_key
from .blocking import BlockingStore, BytesReader

__all__ = ["MemoryStore"]


class MemoryStore(BlockingStore):
    """A dict-backed store; handy for tests and scratch arrays."""

    partial_reads = True
    inline_calls = True

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}

    # ------------------------------------------------------------ reads
    def get_sync(self, key: str) -> bytes | None:
        return self._values.get(key)

    def get_partial_sync(self, key: str, offset: int, length: int) -> bytes | None:
        value = self._values.get(key)
        return None if value is None else value[offset : offset + length]

    def get_suffix_sync(self, key: str, length: int) -> bytes | None:
        value = self._values.get(key)
        return None if value is None else value[max(0, len(value) - length) :]

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        value = self._values.get(validate_key(key))
        if value is None:
            return None
        return value[max(0, len(value) - length) :], len(value)

    def get_ranges_sync(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        value = self._values.get(key)
        if value is None:
            return None
        return [value[offset : offset + length] for offset, length in ranges]

    def open_reader_sync(self, key: str) -> BytesReader | None:
        value = self._values.get(key)
        return None if value is None else BytesReader(value)

    def exists_sync(self, key: str) -> bool:
        return key in self._values

    def list_sync(self, prefix: str) -> builtins.list[str]:
        return [key for key in builtins.list(self._values) if key.startswith(prefix)]  # a snapshot: threads may write

    def list_dir_sync(self, prefix: str) -> tuple[builtins.list[str], builtins.list[str]]:
        keys: builtins.list[str] = []
        prefixes: dict[str, None] = {}
        for key in builtins.list(self._values):
            if not key.startswith(prefix):
                continue
            head, sep, _ = key[len(prefix) :].partition("/")
            if sep:
                prefixes[head] = None
            else:
                keys.append(head)
        return keys, builtins.list(prefixes)

    # ------------------------------------------------------------ writes
    def set_sync(self, key: str, value: bytes) -> None:
        self._values[key] = bytes(value)

    def erase_sync(self, key: str) -> None:
        self._values.pop(key, None)

    def erase_prefix_sync(self, prefix: str) -> None:
        for key in [k for k in builtins.list(self._values) if k.startswith(prefix)]:
            self._values.pop(key, None)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"MemoryStore(<{len(self._values)} keys>)"
