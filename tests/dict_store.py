"""The smallest useful user-written BlockingStore, a dict behind blocking methods, as
docs/custom-stores.md shows one. Shared by the store suite, the writer tests and the
write-order tests."""

from __future__ import annotations

from zarrio.stores import BlockingStore


class DictStore(BlockingStore):
    """A user's store over a blocking backend (a dict)."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}

    def get_sync(self, key: str) -> bytes | None:
        return self.values.get(key)

    def set_sync(self, key: str, value: bytes) -> None:
        self.values[key] = value

    def erase_sync(self, key: str) -> None:
        self.values.pop(key, None)

    def exists_sync(self, key: str) -> bool:
        return key in self.values

    def list_sync(self, prefix: str) -> list[str]:
        return [key for key in list(self.values) if key.startswith(prefix)]

    def list_dir_sync(self, prefix: str) -> tuple[list[str], list[str]]:
        names = {key[len(prefix) :] for key in self.list_sync(prefix)}
        return sorted(n for n in names if "/" not in n), sorted({n.split("/")[0] for n in names if "/" in n})
