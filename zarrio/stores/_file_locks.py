"""Advisory per-key locks between processes for :class:`~zarrio.stores.local.LocalStore`
(``lock_chunks=True``): ``flock`` on lock files that every writer of the directory shares.

Keys map onto :data:`STRIPES` lock files in ``<root>/.zarrio-tmp-locks/`` (never listed, like
temporary files), so the directory holds a fixed number of them however many chunks are
written; two keys on one stripe merely share a lock. A lock is held *per process*: the
first thread of this process that asks for a stripe takes the ``flock`` (waiting for other
processes that hold it), later threads join it, and the last one to leave releases it.
Ordering writers within the process is the engine's job (its write queue), so threads
never wait for each other here, and a thread holds one stripe at a time: no deadlock.

The locks are advisory: they exclude other zarrio writers that use ``lock_chunks=True`` on
the same directory (on a local file system; ``flock`` over NFS depends on the mount), not
other programs.
"""

from __future__ import annotations

import contextlib
import os
import threading
import zlib
from collections.abc import Iterator

__all__ = ["LOCK_DIRECTORY", "STRIPES", "ChunkLocks", "locks_for"]

#: the directory (below the store's root) that holds the lock files
LOCK_DIRECTORY = ".zarrio-tmp-locks"
#: lock files per store
STRIPES = 1024


class _Held:
    __slots__ = ("fd", "gate", "users")

    def __init__(self) -> None:
        self.fd: int | None = None
        self.gate = threading.Lock()  # one thread takes the flock; the others wait for it here
        self.users = 0


class ChunkLocks:
    """The lock files of one directory; see the module docstring."""

    def __init__(self, root: str) -> None:
        self.directory = os.path.join(root, LOCK_DIRECTORY)
        self._lock = threading.Lock()
        self._held: dict[int, _Held] = {}

    @staticmethod
    def stripe(key: str) -> int:
        return zlib.crc32(key.encode("utf-8")) % STRIPES

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold ``key``'s lock against other processes while the block runs."""
        stripe = self.stripe(key)
        with self._lock:
            held = self._held.get(stripe)
            if held is None:
                held = self._held[stripe] = _Held()
            held.users += 1
        try:
            with held.gate:
                if held.fd is None:
                    held.fd = self._acquire(stripe)
            yield
        finally:
            with self._lock:
                held.users -= 1
                if held.users == 0:
                    del self._held[stripe]
                    if held.fd is not None:
                        os.close(held.fd)  # releases the flock

    def _acquire(self, stripe: int) -> int:
        import fcntl  # POSIX only: LocalStore(lock_chunks=True) is refused elsewhere

        path = os.path.join(self.directory, f"{stripe:04d}")
        for _ in range(8):
            os.makedirs(self.directory, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # waits (in the kernel) for the holder in another process
                # the file may have been removed (erase_prefix of the root) while we waited: then
                # the lock is on an orphan that newcomers do not see; take the new file's instead
                if os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        raise OSError(f"the lock file {path} keeps being replaced")


_registry: dict[str, ChunkLocks] = {}
_registry_lock = threading.Lock()


def locks_for(root: str) -> ChunkLocks:
    """The one :class:`ChunkLocks` of ``root`` in this process (LocalStores of one directory share it)."""
    if os.name == "nt":  # pragma: no cover - POSIX only
        raise NotImplementedError("LocalStore(lock_chunks=True) needs fcntl (POSIX)")
    with _registry_lock:
        locks = _registry.get(root)
        if locks is None:
            locks = _registry[root] = ChunkLocks(root)
        return locks


def _reset_after_fork() -> None:
    # the parent's held locks belong to its threads; the child starts with none of them
    global _registry_lock
    _registry.clear()
    _registry_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
