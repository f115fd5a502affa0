"""The decoded-chunk cache: one byte-bounded LRU of decoded chunks, shared by the arrays of a process.

Off unless asked for: ``cache_bytes=`` on open, or ``zarrio.config``'s ``cache.bytes``. An entry
is one decoded chunk (an inner chunk, for a sharded array), keyed by the store, the chunk's key,
its index within a shard and the array's decoding (its codec chain, data type, chunk shape and
fill value: two arrays over one key with different metadata never share an entry). Entries are
read-only arrays, copied into each reader's output; missing chunks are not kept.

When an entry is used (the staleness rules):

* **this process's writes** (any array object over an equal store, sync or async, through the
  engine's write path, and the erases of a shrinking ``resize``) drop every entry of the object
  they wrote once it is stored, and a read that fetched before such a write does not keep what it
  fetched (:meth:`ChunkCache.wrote`): a write followed by a read never sees the old data;
* stores that **pin versions** (``Store.seen_versions``: HttpStore and ObjectStore, ETags) label
  each entry with the version its bytes came from, and **revalidate** it on use: one request per
  stored object per read (``Store.current_version``: HTTP a one-byte ranged GET, ObjectStore a
  HEAD), never a fetch; a different version drops the object's entries (and its kept shard index)
  and reads it again. ``cache.revalidate = False`` trusts entries instead (no request on a hit);
  a value without a strong ETag is then the only kind kept on such stores;
* ``consistency == "immutable"`` stores (a zip archive opened for reading) are trusted, and so
  are the others (memory, local files, a user's stores): there, writes by other processes, or
  through the store object directly (``store.set``), are not seen until :func:`cache_clear`.

The cache holds no store: a store known by its ``id`` (every store but those that compare equal
by value, as LocalStore does) is watched, and its entries go once it is collected.

Kept shard indexes (:class:`~.drivers.AsyncDriver`) follow the first rule through
:meth:`ChunkCache.written_since`. How an array reads through the cache: :mod:`.cached_reads`.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._config import config

__all__ = ["CHUNK_CACHE", "CacheStats", "ChunkCache", "Entry", "EntryKey", "cache_clear", "cache_stats", "store_ident"]

#: objects whose last write the cache remembers (older writes count as "before every read in flight")
WRITES_KEPT = 65536


@dataclass(frozen=True)
class CacheStats:
    """Counts since the process started (or :func:`cache_clear`): ``hits`` and ``misses`` are
    decoded chunks served from the cache or fetched for it; ``revalidations`` the version checks
    sent, ``stale`` those that found the object changed; ``evictions`` entries dropped for room."""

    hits: int
    misses: int
    revalidations: int
    stale: int
    evictions: int
    entries: int
    nbytes: int
    capacity: int


#: per store class: whether a class below ``object`` defines ``__eq__`` (see :func:`store_ident`)
_EQUAL_BY_VALUE: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()


def store_ident(store: Any) -> Any:
    """Stores that compare equal (two LocalStores on one directory) share entries (as the write
    queue); any other store is known by its ``id``, and nothing here holds it: the cache must not
    keep a store (a MemoryStore's data, an HttpStore's connections) alive after its user let go."""
    kind = type(store)
    by_value = _EQUAL_BY_VALUE.get(kind)
    if by_value is None:  # asked once per class (a read asks for every shard index it shares)
        by_value = _EQUAL_BY_VALUE[kind] = any("__eq__" in vars(cls) for cls in kind.__mro__[:-1])
    if by_value:
        try:
            hash(store)
        except TypeError:
            pass
        else:
            return store
    return ("id", id(store))


class Entry:
    __slots__ = ("chunk", "nbytes", "version")

    def __init__(self, chunk: np.ndarray[Any, Any], version: str | None) -> None:
        self.chunk = chunk
        self.nbytes = max(1, chunk.nbytes)
        self.version = version


EntryKey = tuple[Any, str, Any, int]  # (store ident, key, array decoding, flat inner index)


class ChunkCache:
    """The process's cache (see the module docstring); thread-safe, one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[EntryKey, Entry] = OrderedDict()
        self._by_object: dict[tuple[Any, str], set[EntryKey]] = {}
        self._nbytes = 0
        self._asked = 0
        self._clock = 0
        self._writes: OrderedDict[tuple[Any, str], int] = OrderedDict()
        self._writes_floor = 0  # the newest write forgotten from ``_writes``
        self._counts = dict.fromkeys(("hits", "misses", "revalidations", "stale", "evictions"), 0)
        #: the id-known stores with entries, each watched until it is collected (see ``_gone``)
        self._watched: set[Any] = set()
        self._collected: list[Any] = []

    @property
    def capacity(self) -> int:
        """``cache.bytes`` or the largest ``cache_bytes=`` an array was opened with, whichever is larger."""
        return max(int(config.get("cache.bytes")), self._asked)

    def ask(self, nbytes: int) -> None:
        with self._lock:
            self._asked = max(self._asked, nbytes)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    # ------------------------------------------------------------ writes
    def now(self) -> int:
        """A stamp to take before fetching: see :meth:`written_since`."""
        return self._clock

    def wrote(self, store: Any, key: str) -> None:
        """``key`` of ``store`` was just stored or erased by this process: drop its entries."""
        obj = (store_ident(store), key)
        with self._lock:
            self._clock += 1
            self._writes[obj] = self._clock
            self._writes.move_to_end(obj)
            while len(self._writes) > WRITES_KEPT:
                self._writes_floor = self._writes.popitem(last=False)[1]
            for ek in self._by_object.pop(obj, ()):
                self._nbytes -= self._entries.pop(ek).nbytes

    def wrote_prefix(self, store: Any, prefix: str) -> None:
        """Every key under ``prefix`` of ``store`` was erased (a node deleted or replaced): drop their
        entries; reads in flight anywhere keep nothing they fetched, kept shard indexes are read again."""
        ident = store_ident(store)
        with self._lock:
            self._clock += 1
            self._writes_floor = self._clock
            for obj in [obj for obj in self._by_object if obj[0] == ident and obj[1].startswith(prefix)]:
                for ek in self._by_object.pop(obj):
                    self._nbytes -= self._entries.pop(ek).nbytes

    def written_since(self, store: Any, key: str, stamp: int) -> bool:
        if self._clock <= stamp:  # nothing was written since the stamp (the clock only grows)
            return False
        with self._lock:
            return self._written_since((store_ident(store), key), stamp)

    def _written_since(self, obj: tuple[Any, str], stamp: int) -> bool:
        return max(self._writes.get(obj, 0), self._writes_floor) > stamp

    # ------------------------------------------------------------ entries
    def get(self, ek: EntryKey) -> Entry | None:
        with self._lock:
            if self._collected:
                self._forget_collected()
            entry = self._entries.get(ek)
            if entry is not None:
                self._entries.move_to_end(ek)
            return entry

    def put(self, ek: EntryKey, entry: Entry, stamp: int, store: Any) -> None:
        """Keep ``entry`` (of ``store``) unless its object was written since ``stamp`` (the fetch began before)."""
        capacity = self.capacity
        obj = (ek[0], ek[1])
        with self._lock:
            if self._collected:
                self._forget_collected()
            if entry.nbytes > capacity or self._written_since(obj, stamp):
                return
            ident = ek[0]
            if ident not in self._watched and isinstance(ident, tuple):  # known by id: watched, not held
                self._watched.add(ident)
                weakref.finalize(store, self._gone, ident)
            old = self._entries.pop(ek, None)
            if old is not None:
                self._nbytes -= old.nbytes
            self._entries[ek] = entry
            self._by_object.setdefault(obj, set()).add(ek)
            self._nbytes += entry.nbytes
            while self._nbytes > capacity:
                victim, dropped = self._entries.popitem(last=False)
                self._nbytes -= dropped.nbytes
                self._counts["evictions"] += 1
                members = self._by_object[(victim[0], victim[1])]
                members.discard(victim)
                if not members:
                    del self._by_object[(victim[0], victim[1])]

    def _gone(self, ident: Any) -> None:
        """A store known by its id was collected. Noted only: the collector may run this inside
        any locked section, of this thread too; every locked method drops the noted stores'
        entries first (:meth:`_forget_collected`), so a store that takes the id never sees them."""
        self._collected.append(ident)

    def _forget_collected(self) -> None:
        """(lock held) Drop the entries of the stores noted as collected."""
        while self._collected:
            ident = self._collected.pop()
            self._watched.discard(ident)
            for obj in [obj for obj in self._by_object if obj[0] == ident]:
                for ek in self._by_object.pop(obj):
                    self._nbytes -= self._entries.pop(ek).nbytes

    def drop(self, store: Any, key: str) -> None:
        """Forget the entries of one object (found changed by a revalidation)."""
        with self._lock:
            for ek in self._by_object.pop((store_ident(store), key), ()):
                self._nbytes -= self._entries.pop(ek).nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_object.clear()
            self._nbytes = 0
            self._asked = 0
            self._counts = dict.fromkeys(self._counts, 0)

    def stats(self) -> CacheStats:
        with self._lock:
            self._forget_collected()
            return CacheStats(**self._counts, entries=len(self._entries), nbytes=self._nbytes, capacity=self.capacity)


#: the one cache of the process
CHUNK_CACHE = ChunkCache()


def cache_stats() -> CacheStats:
    """Hits, misses, revalidations, evictions and size of the process's decoded-chunk cache."""
    return CHUNK_CACHE.stats()


def cache_clear() -> None:
    """Empty the decoded-chunk cache and zero its counts (also the bound raised by ``cache_bytes=``)."""
    CHUNK_CACHE.clear()
