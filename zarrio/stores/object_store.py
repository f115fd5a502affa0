"""A store over `obstore <https://developmentseed.org/obstore/>`_: S3, GCS, Azure
(and obstore's memory and HTTP stores), read and write.

Install the optional extra: ``pip install "zarrio[obstore]"``. Wrap a
configured obstore store, or build one from a URL::

    from obstore.store import S3Store
    store = ObjectStore(S3Store("bucket", prefix="data.zarr", region="eu-west-1"))
    store = ObjectStore.from_url("s3://bucket/data.zarr", region="eu-west-1", read_only=True)

Byte ranges are true ranged GETs; ``get_ranges`` coalesces nearby ranges
(``coalesce_max_gap``, ``coalesce_max_size``) and fetches the merged ranges
concurrently, as :class:`~zarrio.stores.HttpStore` does. Like HttpStore,
ranged reads of a key are pinned to the version (ETag) the first one saw
(``If-Match``): a value replaced by another writer in between raises
:class:`~zarrio.errors.ObjectChangedError` (the engine then re-reads the
shard once) instead of mixing bytes of two versions. This store's own
writes release the pin. Credentials are whatever the obstore store was
configured with (keys, environment, a credential provider).

Pickling: an ObjectStore pickles as its configuration (the obstore store's
own pickled config, plus ``read_only`` and the limits), never as open
connections. Every copy unpickled in one process resolves to one instance,
so the request limit (``max_concurrency``) stays per process however many
dask tasks carry the store.

obstore's I/O runtime does not survive ``fork``: in a process forked after
obstore did I/O, every operation raises :class:`~zarrio.errors.StoreError`
(rather than hang). Start worker processes with ``spawn`` or ``forkserver``
(dask.distributed does).
"""

from __future__ import annotations

import asyncio
import builtins
import os
import re
import threading
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import BaseError as ObstoreError
from obstore.exceptions import PreconditionError

from ..errors import MissingCredentialsError, ObjectChangedError, StoreError, TransportError
from ._obstore_cas import get_versioned, head_version, set_if
from ._obstore_gets import HedgedGets
from ._stats import TransportStats
from ._urls import describe_backend
from ._versions import VersionPins
from .base import ByteRange, Store, coalesce_ranges, validate_key, validate_prefix

if TYPE_CHECKING:
    from obstore import GetOptions, SuffixRange
    from obstore.store import ObjectStore as ObstoreStore

__all__ = ["ObjectStore"]

#: objects listed per page when listing recursively
_LIST_PAGE = 1000

_instances: weakref.WeakValueDictionary[str, ObjectStore] = weakref.WeakValueDictionary()
#: the process that first did I/O through obstore (its runtime's threads exist only there)
_io_pid: int | None = None
_instances_lock = threading.Lock()
#: what obstore says when it looked for credentials and found none (the instance metadata endpoints)
_CREDENTIAL_FAILURE = re.compile(r"latest/api/token|latest/meta-data/iam|computeMetadata|credential", re.IGNORECASE)


class ObjectStore(Store):
    """A zarrio store over an obstore store (``obstore.store.S3Store``, ``GCSStore``,
    ``AzureStore``, ...). Keys are paths below the obstore store's own prefix."""

    partial_reads = True
    listable = True
    #: ranged reads of a key stay on the version the first one saw (If-Match), else ObjectChangedError
    consistency = "versioned"
    conditional_writes = True  # read-modify-writes are compare-and-swaps (If-Match, create-only puts)
    current_version = head_version  # the ETag a key holds now: a HEAD (the decoded-chunk cache revalidates so)

    def __init__(
        self,
        store: ObstoreStore,
        *,
        read_only: bool = False,
        max_concurrency: int = 64,
        coalesce_max_gap: int = 64 * 1024,
        coalesce_max_size: int = 16 * 1024 * 1024,
        hedge_share: float = 0.05,
    ) -> None:
        if max_concurrency < 1:
            raise StoreError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.backend = store
        self.read_only = read_only
        self.max_concurrency = max_concurrency
        self.coalesce_max_gap = coalesce_max_gap
        self.coalesce_max_size = coalesce_max_size
        #: the version (ETag) each key's ranged reads are pinned to (shared with HttpStore: ``_versions``)
        self._versions = VersionPins()
        #: ranged GETs, hedged by a second one when they stall (at most ``hedge_share`` of them)
        self._gets = HedgedGets(max_concurrency, hedge_share)
        self._identity = uuid.uuid4().hex
        with _instances_lock:
            _instances[self._identity] = self

    @classmethod
    def from_url(cls, url: str, *, read_only: bool = False, max_concurrency: int = 64, **options: Any) -> ObjectStore:
        """An ObjectStore for ``s3://``, ``gs://``, ``az://``, ``abfs://``, ``https://``, ``file://``
        or ``memory://`` URLs; ``options`` go to ``obstore.store.from_url`` (``region=``,
        ``client_options=``, ``credential_provider=``, ...)."""
        from obstore.store import from_url

        try:
            backend = from_url(url, **options)
        except (ObstoreError, ValueError, TypeError) as e:
            raise StoreError(f"cannot make an object store from {url!r}: {e}", location=url) from e
        return cls(backend, read_only=read_only, max_concurrency=max_concurrency)

    # ------------------------------------------------------------ identity
    @property
    def url(self) -> str:
        """Where the store points, as a URL-like string (for messages)."""
        return describe_backend(self.backend)

    def _location(self, key: str = "") -> str:
        base = self.url.rstrip("/")
        return f"{base}/{key}" if key else base

    def __repr__(self) -> str:
        flags = ", read_only=True" if self.read_only else ""
        return f"ObjectStore({self.url!r}{flags})"

    def __reduce__(self) -> tuple[Any, ...]:
        options = (self.read_only, self.max_concurrency, self.coalesce_max_gap, self.coalesce_max_size)
        return (_rebuild_object_store, (self._identity, self.backend, options))

    # ------------------------------------------------------------ checks
    def _check_process(self, key: str) -> None:
        """obstore's I/O runtime does not survive ``fork``: refuse, instead of hanging, in a
        process forked after obstore was used (spawned processes are fine)."""
        global _io_pid
        pid = os.getpid()
        if _io_pid is None:
            _io_pid = pid
        elif _io_pid != pid:
            raise StoreError(
                "obstore cannot be used in a process forked after obstore was used in its parent; "
                "start workers with the 'spawn' or 'forkserver' method (dask.distributed spawns)",
                key=key,
                location=self._location(key),
            )

    def _check_key(self, key: str) -> None:
        validate_key(key)
        self._check_process(key)

    def _check_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        self._check_process(prefix)

    # ------------------------------------------------------------ errors
    def _failure(self, action: str, key: str, error: BaseException) -> StoreError:
        location = self._location(key)
        if _CREDENTIAL_FAILURE.search(str(error)):
            return MissingCredentialsError(
                f"no credentials for {self.url}: none in storage_options or the environment, and no "
                "instance metadata service answered; pass access_key_id=/secret_access_key= (or "
                "skip_signature=True for a public bucket)",
                key=key,
                location=location,
            )
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return TransportError(f"{action} {location} failed: {first_line}", key=key, location=location)

    async def _size(self, key: str) -> int | None:
        """The size of ``key`` in bytes, or ``None`` when it is missing."""
        try:
            meta = await obstore.head_async(self.backend, key)
        except FileNotFoundError:
            return None
        except (ObstoreError, OSError) as e:
            raise self._failure("HEAD", key, e) from e
        return int(meta["size"])

    # ------------------------------------------------------------ reads
    async def get(self, key: str) -> bytes | None:
        self._check_key(key)
        try:
            result = await obstore.get_async(self.backend, key)
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            return None
        except (ObstoreError, OSError) as e:
            raise self._failure("GET", key, e) from e

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        self._check_key(key)
        offset, length = max(0, offset), max(0, length)
        if length == 0:
            return b"" if await self.exists(key) else None
        found = await self._read_range(key, offset, length)
        return None if found is None else found[0]

    async def _read_range(self, key: str, offset: int, length: int) -> tuple[bytes, str | None] | None:
        """``length`` (> 0) bytes from ``offset`` and the version (ETag) they came from."""
        try:
            return await self._ranged(key, (offset, offset + length))
        except (ObstoreError, OSError) as e:
            # a range starting at or past the end is refused by the backend (416): that is b""
            size = await self._size(key)
            if size is None:
                return None
            if offset >= size:
                return b"", None
            raise self._failure("GET range of", key, e) from e

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        found = await self.get_suffix_with_size(key, length)
        return None if found is None else found[0]

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        """The last ``length`` bytes of ``key`` and the value's total size (from the same response)."""
        self._check_key(key)
        if length <= 0:
            size = await self._size(key)
            return None if size is None else (b"", size)
        try:
            found = await self._ranged_with_size(key, {"suffix": length})
            return None if found is None else (found[0], found[2])
        except (ObstoreError, OSError) as e:
            # an empty value cannot serve a suffix range: it is b""
            size = await self._size(key)
            if size is None:
                return None
            if size == 0:
                return b"", 0
            raise self._failure("GET suffix of", key, e) from e

    async def _ranged(self, key: str, span: tuple[int, int] | SuffixRange) -> tuple[bytes, str | None] | None:
        found = await self._ranged_with_size(key, span)
        return None if found is None else (found[0], found[1])

    async def _ranged_with_size(
        self, key: str, span: tuple[int, int] | SuffixRange
    ) -> tuple[bytes, str | None, int] | None:
        """One ranged GET, pinned (If-Match) to the version earlier ranged reads of ``key`` saw,
        so a shard's inner chunks come from the same version as its index: the bytes, the
        version (ETag) and the value's total size."""
        options: GetOptions = {"range": span}
        pinned = self._versions.get(key)
        if pinned is not None:
            options["if_match"] = pinned
        try:
            result, data = await self._gets.get(self.backend, key, options, self._location(key))
        except FileNotFoundError:
            self._versions.unpin(key)
            return None
        except PreconditionError as e:
            self._versions.unpin(key)
            location = self._location(key)
            message = f"{location} changed since it was first read (If-Match failed)"
            raise ObjectChangedError(message, key=key, location=location) from e
        meta = result.meta
        etag = meta.get("e_tag")
        self._versions.pin(key, etag)
        return data, etag, int(meta["size"])

    def stats(self) -> TransportStats:
        """Ranged GETs so far: requests, bytes, hedges and latency percentiles (whole GETs are not counted)."""
        return self._gets.snapshot()

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        """Several ranges of one value: nearby ranges are merged, merged ranges fetched concurrently,
        and all of them must come from one version of the value (same ETag), else ObjectChangedError."""
        self._check_key(key)
        wanted = [(max(0, offset), max(0, length)) for offset, length in ranges]
        nonempty = [i for i, (_, length) in enumerate(wanted) if length > 0]
        if not nonempty:
            return [b"" for _ in wanted] if await self.exists(key) else None
        merged = coalesce_ranges(
            [wanted[i] for i in nonempty], max_gap=self.coalesce_max_gap, max_size=self.coalesce_max_size
        )
        parts = await asyncio.gather(*(self._read_range(key, offset, length) for (offset, length), _ in merged))
        if any(part is None for part in parts):
            return None
        versions = {part[1] for part in parts if part is not None and part[1] is not None}
        if len(versions) > 1:
            self._versions.unpin(key)
            location = self._location(key)
            raise ObjectChangedError(f"{location} changed while its ranges were read", key=key, location=location)
        out = [b""] * len(wanted)
        for ((start, _), members), part in zip(merged, parts, strict=True):
            assert part is not None
            view = memoryview(part[0])
            for member in members:
                offset, length = wanted[nonempty[member]]
                out[nonempty[member]] = bytes(view[offset - start : offset - start + length])
        return out

    async def exists(self, key: str) -> bool:
        self._check_key(key)
        return await self._size(key) is not None

    async def _walk(self, directory: str) -> AsyncIterator[str]:
        """Every key below ``directory`` ("" or a prefix ending in ``/``)."""
        stream = obstore.list(self.backend, directory.rstrip("/") or None, chunk_size=_LIST_PAGE)
        try:
            async for page in stream:
                for meta in page:
                    yield meta["path"]
        except FileNotFoundError:
            return
        except (ObstoreError, OSError) as e:
            raise self._failure("LIST", directory, e) from e

    async def list(self, prefix: str = "") -> builtins.list[str]:
        self._check_prefix(prefix)
        # obstore prefixes match whole path segments; zarrio's match characters
        directory = prefix[: prefix.rfind("/") + 1]
        return [key async for key in self._walk(directory) if key.startswith(prefix)]

    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        self._check_prefix(prefix)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        try:
            listing = await obstore.list_with_delimiter_async(self.backend, prefix.rstrip("/") or None)
        except FileNotFoundError:
            return [], []
        except (ObstoreError, OSError) as e:
            raise self._failure("LIST", prefix, e) from e
        keys = [meta["path"][len(prefix) :] for meta in listing["objects"] if meta["path"].startswith(prefix)]
        prefixes = [p[len(prefix) :].rstrip("/") for p in listing["common_prefixes"] if p.startswith(prefix)]
        return keys, prefixes

    # ------------------------------------------------------------ writes
    async def set(self, key: str, value: bytes) -> None:
        self._check_key(key)
        self._check_writable()
        self._versions.unpin(key)
        try:
            await obstore.put_async(self.backend, key, bytes(value))
        except (ObstoreError, OSError) as e:
            raise self._failure("PUT", key, e) from e

    async def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        return await get_versioned(self, key)

    async def set_if(self, key: str, value: bytes, version: str | None) -> bool:
        return await set_if(self, key, value, version)

    async def erase(self, key: str) -> None:
        self._check_key(key)
        self._check_writable()
        self._versions.unpin(key)
        try:
            await obstore.delete_async(self.backend, key)
        except FileNotFoundError:
            return
        except (ObstoreError, OSError) as e:
            raise self._failure("DELETE", key, e) from e

    async def erase_prefix(self, prefix: str) -> None:
        """Erase every key under ``prefix`` with batched deletes (up to 1000 keys a request on S3)."""
        self._check_prefix(prefix)
        self._check_writable()
        keys = await self.list(prefix)
        self._versions.unpin(*keys)
        batches = [keys[i : i + _LIST_PAGE] for i in range(0, len(keys), _LIST_PAGE)]
        try:
            await asyncio.gather(*(obstore.delete_async(self.backend, batch) for batch in batches))
        except FileNotFoundError:
            return
        except (ObstoreError, OSError) as e:
            raise self._failure("DELETE", prefix, e) from e


def _rebuild_object_store(identity: str, backend: ObstoreStore, options: tuple[bool, int, int, int]) -> ObjectStore:
    """Unpickle: the instance this process already has for ``identity``, else a new one."""
    with _instances_lock:
        existing = _instances.get(identity)
    if existing is not None:
        return existing
    read_only, max_concurrency, max_gap, max_size = options
    store = ObjectStore(
        backend,
        read_only=read_only,
        max_concurrency=max_concurrency,
        coalesce_max_gap=max_gap,
        coalesce_max_size=max_size,
    )
    with _instances_lock:
        winner = _instances.setdefault(identity, store)
        _instances.pop(store._identity, None)
        store._identity = identity
    return winner
