"""Version pinning for stores whose ranged reads can be made conditional (``If-Match``).

A shard is read in two steps (its index, then its inner chunks). If another
writer replaces the object in between, the second step must not return bytes
of the new version. So the first ranged read of a key remembers the version
(the strong ``ETag``) it saw, later ranged reads send it as ``If-Match``, and
the server's refusal becomes an :class:`~zarrio.errors.ObjectChangedError`.
HttpStore and ObjectStore share this table; one store may be used from several
threads (one event loop each), hence the lock.

Each key also counts how often its pin changed (:meth:`VersionPins.snapshot`): a
reader that sees the count move by at most the one pin its own read made knows
which version its bytes are (the decoded-chunk cache labels its entries so).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["VERSIONS_KEPT", "VersionPins"]

#: how many keys' versions a store remembers (the oldest is dropped first)
VERSIONS_KEPT = 4096


class VersionPins:
    """A bounded, thread-safe ``key -> ETag`` table (with a count of changes per key)."""

    def __init__(self, capacity: int = VERSIONS_KEPT) -> None:
        self.capacity = capacity
        #: key -> (ETag or None once unpinned, how many times the pin changed)
        self._pins: OrderedDict[str, tuple[str | None, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The version ranged reads of ``key`` are pinned to, if any."""
        return self._pins.get(key, (None, 0))[0]

    def snapshot(self, key: str) -> tuple[str | None, int]:
        """``(pinned version or None, how many times it changed)``; ``(None, 0)`` for a key never pinned."""
        return self._pins.get(key, (None, 0))

    def pin(self, key: str, etag: str | None) -> None:
        """Remember ``etag`` for ``key``; weak or absent tags do not identify bytes and are ignored."""
        if not etag or etag.startswith("W/"):
            return
        with self._lock:
            current, changes = self._pins.get(key, (None, 0))
            if current != etag:
                self._pins[key] = (etag, changes + 1)
            self._pins.move_to_end(key)
            while len(self._pins) > self.capacity:
                self._pins.popitem(last=False)

    def unpin(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                current, changes = self._pins.get(key, (None, 0))
                if current is not None:
                    self._pins[key] = (None, changes + 1)  # kept (counting) until it is the oldest

    def clear(self) -> None:
        with self._lock:
            self._pins.clear()

    def __len__(self) -> int:
        return sum(1 for etag, _ in self._pins.values() if etag is not None)
