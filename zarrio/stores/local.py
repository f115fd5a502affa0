"""A store over a directory of files.

Each key is a file below ``root`` (``"a/b/c"`` is ``root/a/b/c``). It is a
:class:`~zarrio.stores.blocking.BlockingStore`: each async operation is one hop
to a worker thread that does all its file work there (open, read, close; or
open, seek and read every range of one value), and the engine and the blocking
facade call the blocking methods directly.

Writes are atomic: the value goes to a temporary file in the target's
directory (named ``.zarrio-tmp-*``), is optionally ``fsync``-ed, then renamed
onto the key with ``os.replace``; a concurrent reader sees the old value or
the new one, never a partial file. Temporary files never appear in listings
(so a user key whose last segment starts with ``.zarrio-tmp-`` is not listed
either). Missing parent directories are created; ``erase`` removes parent
directories it leaves empty (never the root).

Keys are checked by :func:`~zarrio.stores.base.validate_key` and the joined
path must stay inside ``root``; on Windows, segments Windows would rewrite
(a trailing dot or space: ``".. "`` is ``".."`` there), alternate data
streams (``:``) and device names (``CON``, ``NUL``, ``COM1``) are refused too.
Symbolic links *inside* the root are followed: placing one there is the
user's choice.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import secrets
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidKeyError, TransportError
from ._append import append_file
from ._file_locks import locks_for
from ._files import FileReader, is_missing, read_bounded, read_range, too_large, write_fully
from .base import ByteRange, validate_key, validate_prefix
from .blocking import BlockingStore

__all__ = ["TEMP_PREFIX", "LocalStore"]

#: name prefix of the temporary files behind atomic writes
TEMP_PREFIX = ".zarrio-tmp-"


#: apply Windows' file name rules to keys (a module constant so tests can turn it on elsewhere)
_WINDOWS = os.name == "nt"
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{name}{n}" for name in ("COM", "LPT") for n in [*"123456789", "\u00b9", "\u00b2", "\u00b3"]]
)


def _unsafe_on_windows(segment: str) -> bool:
    """Whether Windows would not open ``segment`` as the plain name it is: it drops trailing dots and
    spaces (so ``".. "`` means ``".."``, an escape), reads ``"a:b"`` as a stream, and maps device
    names (``NUL``, ``COM1.txt``) to devices."""
    stem = segment.split(".", 1)[0].rstrip(" ").upper()
    return segment.endswith((".", " ")) or ":" in segment or stem in _WINDOWS_DEVICES


class _WriteBatch(threading.local):
    directories: set[str] | None = None  # where this thread's durable writes renamed files, in its batch


_batch = _WriteBatch()


class LocalStore(BlockingStore):
    """A directory on the local file system, read and written atomically."""

    partial_reads = True
    appends = True  # copy-on-write, so a reader sees the old file or the new (see ._append)

    def __init__(
        self, root: str | os.PathLike[str], *, read_only: bool = False, fsync: bool = False, lock_chunks: bool = False
    ) -> None:
        self.root = Path(os.path.abspath(os.fspath(root)))
        self._under_root = str(self.root).rstrip(os.sep) + os.sep
        self.read_only = read_only
        self.fsync = fsync
        #: writers in other processes are excluded per chunk by ``flock`` (see :mod:`._file_locks`)
        self.lock_chunks = lock_chunks
        self._locks = locks_for(str(self.root)) if lock_chunks else None

    def key_lock(self, key: str) -> contextlib.AbstractContextManager[None] | None:
        return None if self._locks is None else self._locks.hold(key)

    # ------------------------------------------------------------ plumbing
    def _path(self, key: str) -> str:
        validate_key(key)
        if _WINDOWS and any(_unsafe_on_windows(segment) for segment in key.split("/")):
            raise InvalidKeyError(
                "store key has a segment Windows would rewrite or treat as a device (a trailing dot or space, "
                "':', or a reserved name such as CON or NUL)",
                key=key,
                location=str(self.root),
            )
        # a validated key's segments are plain names (none empty, '.' or '..'; no separator of
        # this system's in them), so joining them under the root cannot leave it
        return self._under_root + (key if os.sep == "/" else key.replace("/", os.sep))

    def _dir_path(self, prefix: str) -> str:
        """The directory holding the keys under ``prefix`` ("" is the root)."""
        validate_prefix(prefix)
        stripped = prefix.rstrip("/")
        return self._path(stripped) if stripped else str(self.root)

    @contextlib.contextmanager
    def _file_errors(self, key: str | None, path: str) -> Iterator[None]:
        """File system errors as typed store errors naming the key and the path."""
        try:
            yield
        except OSError as e:
            raise TransportError(f"file system error: {e.strerror or e}", key=key, location=path) from e
        except MemoryError as e:
            raise too_large(key, path) from e

    # ------------------------------------------------------------ reads
    def get_sync(self, key: str) -> bytes | None:
        path = self._path(key)
        with self._file_errors(key, path):
            try:
                with open(path, "rb") as f:
                    return f.read()
            except OSError as e:
                if is_missing(e):
                    return None
                raise

    def get_partial_sync(self, key: str, offset: int, length: int) -> bytes | None:
        ranges = self.get_ranges_sync(key, [(offset, length)])
        return None if ranges is None else ranges[0]

    def get_suffix_sync(self, key: str, length: int) -> bytes | None:
        found = self._suffix_with_size(key, length)
        return None if found is None else found[0]

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        """The last ``length`` bytes and the file's size, from one open file (one version of the value)."""
        validate_key(key)
        return await self._hop(lambda: self._suffix_with_size(key, length))

    def _suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        path = self._path(key)
        with self._file_errors(key, path):
            try:
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    start = max(0, size - length)
                    return read_range(f, size, start, size - start), size
            except OSError as e:
                if is_missing(e):
                    return None
                raise

    def get_ranges_sync(self, key: str, ranges: Sequence[ByteRange]) -> list[bytes] | None:
        path = self._path(key)
        with self._file_errors(key, path):
            try:
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    return [read_range(f, size, offset, length) for offset, length in ranges]
            except OSError as e:
                if is_missing(e):
                    return None
                raise

    def open_reader_sync(self, key: str) -> FileReader | None:
        """The file opened once: a shard's index and inner chunks come from one version of it."""
        path = self._path(key)
        with self._file_errors(key, path):
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            except OSError as e:
                if is_missing(e):
                    return None
                raise
            try:
                return FileReader(fd, key, path)
            except OSError as e:
                os.close(fd)
                if is_missing(e):
                    return None
                raise

    def get_bounded_sync(self, key: str, limit: int, hint: int) -> bytes | None:
        """The whole file, in three system calls when it holds at most ``hint`` bytes (no ``fstat``)."""
        path = self._path(key)
        try:  # the errors of ``_file_errors``, without a context manager per chunk
            return read_bounded(path, limit, hint)
        except OSError as e:
            raise TransportError(f"file system error: {e.strerror or e}", key=key, location=path) from e
        except MemoryError as e:
            raise too_large(key, path) from e

    def exists_sync(self, key: str) -> bool:
        path = self._path(key)
        with self._file_errors(key, path):
            return os.path.isfile(path)

    def _walk_start(self, prefix: str) -> str:
        """The deepest directory that can hold keys starting with ``prefix``."""
        validate_prefix(prefix)
        parent = prefix.rpartition("/")[0]
        return self._dir_path(parent + "/" if parent else "")

    def _keys_with_prefix(self, start: str, prefix: str) -> builtins.list[str]:
        """Every key under ``start`` that starts with ``prefix`` (runs in a worker thread)."""
        root = str(self.root)
        found: builtins.list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel = os.path.relpath(dirpath, root)
            base = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            # descend only into directories that can hold matching keys
            dirnames[:] = [
                d
                for d in dirnames
                if not d.startswith(TEMP_PREFIX)
                and ((base + d + "/").startswith(prefix) or prefix.startswith(base + d + "/"))
            ]
            for name in filenames:
                key = base + name
                if not name.startswith(TEMP_PREFIX) and key.startswith(prefix):
                    found.append(key)
        return found

    def list_sync(self, prefix: str) -> builtins.list[str]:
        start = self._walk_start(prefix)
        with self._file_errors(prefix or None, start):
            return self._keys_with_prefix(start, prefix)

    def list_dir_sync(self, prefix: str) -> tuple[builtins.list[str], builtins.list[str]]:
        directory = self._dir_path(prefix)
        keys: list[str] = []
        prefixes: list[str] = []
        with self._file_errors(prefix or None, directory):
            try:
                with os.scandir(directory) as entries:
                    for entry in entries:
                        if entry.name.startswith(TEMP_PREFIX):
                            continue
                        if entry.is_dir():
                            prefixes.append(entry.name)
                        elif entry.is_file():
                            keys.append(entry.name)
            except OSError as e:
                if is_missing(e):
                    return [], []
                raise
        return keys, prefixes

    # ------------------------------------------------------------ writes
    def set_sync(self, key: str, value: bytes) -> None:
        path = self._path(key)
        with self._file_errors(key, path):
            self._write_atomically(path, value)

    def append_sync(self, key: str, data: bytes, expected_size: int) -> bool:
        path = self._path(key)
        with self._file_errors(key, path):
            return append_file(path, TEMP_PREFIX, data, expected_size, fsync=self.fsync)

    def _write_atomically(self, path: str, data: bytes) -> None:
        directory = os.path.dirname(path)
        # a concurrent erase may prune the directory between makedirs and open: retry
        for attempt in range(8):
            temp = os.path.join(directory, TEMP_PREFIX + secrets.token_hex(8))
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            except FileNotFoundError:  # the directory does not exist (yet, or any more): make it, try again
                if attempt == 7:
                    raise
                os.makedirs(directory, exist_ok=True)
                continue
            break
        try:
            try:
                write_fully(fd, data)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(temp)
            raise
        if self.fsync:
            pending = _batch.directories
            if pending is None:
                self._fsync_directory(directory)
            else:
                pending.add(directory)  # synced once, when the batch ends (write_batch_sync)

    @contextlib.contextmanager
    def write_batch_sync(self) -> Iterator[None]:
        """Durable writes (``fsync=True``) of this thread inside the context sync each directory
        they renamed a file into once, at the exit, not once per write; each file is synced
        before its rename as always. Nested contexts sync at the outermost exit."""
        if not self.fsync or _batch.directories is not None:
            yield
            return  # nothing to defer, or an outer batch syncs
        _batch.directories = set()
        try:
            yield
        finally:
            directories, _batch.directories = _batch.directories, None
            for directory in sorted(directories):
                self._fsync_directory(directory)

    @staticmethod
    def _fsync_directory(directory: str) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:  # not supported on every platform (e.g. Windows)
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def erase_sync(self, key: str) -> None:
        path = self._path(key)
        with self._file_errors(key, path):
            self._remove_key(path)

    def _remove_key(self, path: str) -> None:
        """Remove one key's file and the directories that leaves empty (runs in a worker thread)."""
        root = str(self.root)
        try:
            os.remove(path)
        except OSError as e:
            # a missing key, or a directory (EPERM/EACCES on some systems): nothing to erase
            if is_missing(e) or os.path.isdir(path):
                return
            raise
        directory = os.path.dirname(path)
        while directory != root and os.path.commonpath([root, directory]) == root:
            try:
                os.rmdir(directory)
            except OSError:
                break
            directory = os.path.dirname(directory)

    def erase_prefix_sync(self, prefix: str) -> None:
        if prefix and not prefix.endswith("/"):
            # a partial name ("a/b" matches "a/bc"): remove the matching keys
            start = self._walk_start(prefix)
            with self._file_errors(prefix, start):
                for key in self._keys_with_prefix(start, prefix):
                    self._remove_key(self._path(key))
            return
        directory = self._dir_path(prefix)
        with self._file_errors(prefix or None, directory):
            self._remove_tree(directory)

    def _remove_tree(self, directory: str) -> None:
        if directory != str(self.root):
            if os.path.isdir(directory):
                with contextlib.suppress(FileNotFoundError):
                    shutil.rmtree(directory)
            return
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.remove(entry.path)

    # ------------------------------------------------------------ identity
    def __repr__(self) -> str:
        named = {"read_only": self.read_only, "fsync": self.fsync, "lock_chunks": self.lock_chunks}
        flags = "".join(f", {name}=True" for name, on in named.items() if on)
        return f"LocalStore({str(self.root)!r}{flags})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LocalStore):
            return NotImplemented
        return self.root == other.root

    def __hash__(self) -> int:
        return hash(("LocalStore", self.root))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_local_store, (str(self.root), self.read_only, self.fsync, self.lock_chunks))


def _rebuild_local_store(root: str, read_only: bool, fsync: bool, lock_chunks: bool = False) -> LocalStore:
    return LocalStore(root, read_only=read_only, fsync=fsync, lock_chunks=lock_chunks)
