"""Every exception zarrio raises, as one tree.

::

    ZarrioError                              (Exception; deliberately not ValueError)
    ├── NodeNotFoundError                    (also FileNotFoundError) .path, .location
    │   └── MemberNotFoundError              (also KeyError) group["missing"]
    ├── NodeExistsError                      (also FileExistsError)
    ├── ReadOnlyError                        (also PermissionError)
    ├── MetadataError                        .field: the zarr.json field at fault
    │   └── UnsupportedError                 a data type / codec / extension we do not know
    │       └── VaryingChunksError           (also AttributeError) no single chunk (shard)
    │                                        shape: the sizes vary (a rectilinear grid)
    ├── CodecError                           .key: the chunk key being decoded
    │   ├── ChecksumError                    crc32c (or zstd checksum) mismatch
    │   └── CorruptChunkError                truncated chunk, impossible shard index,
    │                                        wrong decoded size
    ├── SelectionError                       (also IndexError)
    ├── ResourceLimitError                   a read larger than the allowed size
    ├── StoreError                           .key, .location (a path or URL)
    │   ├── InvalidKeyError                  '..', absolute, empty or backslash segments
    │   ├── StoreURLError                    (also ValueError) a URL scheme zarrio cannot
    │   │                                    serve, or options that do not fit the store
    │   ├── MissingCredentialsError          an object store found no credentials
    │   ├── StoreClosedError                 the store was closed
    │   ├── ListingNotSupportedError         browsing a store that cannot list (HTTP):
    │   │                                    consolidate the metadata
    │   ├── MissingChunkError                strict mode: a chunk that must exist is absent
    │   └── TransportError                   the backend failed (I/O, HTTP) after retries
    │       ├── HttpStatusError              .status: an unexpected HTTP status
    │       ├── ObjectChangedError           the object was replaced between two reads
    │       │   │                            of it (ETag / If-Match); re-read it whole
    │       │   └── WriteConflictError       a read-modify-write's conditional writes were
    │       │                                refused every time (other writers); .attempts
    │       └── DeadlineExceededError        (also TimeoutError) a store's deadline
    │                                        (HttpStore timeout=) passed; .deadline
    └── FacadeError                          (also RuntimeError) misuse of the sync facade,
                                             e.g. a blocking call from its own loop thread

Foreign errors (OSError, aiohttp errors, zlib errors, ...) are translated at
the boundary where they occur and chained as ``__cause__``. When many tasks
fail at once, the engine raises the first (most specific) zarrio error and
attaches the others as ``.others``; callers never need ``except*``.
"""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "CodecError",
    "CorruptChunkError",
    "DeadlineExceededError",
    "FacadeError",
    "HttpStatusError",
    "InvalidKeyError",
    "ListingNotSupportedError",
    "MemberNotFoundError",
    "MetadataError",
    "MissingChunkError",
    "MissingCredentialsError",
    "NodeExistsError",
    "ObjectChangedError",
    "NodeNotFoundError",
    "ReadOnlyError",
    "ResourceLimitError",
    "SelectionError",
    "StoreClosedError",
    "StoreError",
    "StoreURLError",
    "TransportError",
    "UnsupportedError",
    "VaryingChunksError",
    "WriteConflictError",
    "ZarrioError",
]


class ZarrioError(Exception):
    """Root of every error zarrio raises."""

    others: tuple[BaseException, ...] = ()


class NodeNotFoundError(ZarrioError, FileNotFoundError):
    """No array or group at the given path; ``location`` names the store (a path or URL)."""

    def __init__(self, path: str, message: str | None = None, *, location: str | None = None) -> None:
        self.path = path
        self.location = location
        where = f" in {location}" if location else ""
        super().__init__(message or f"no array or group at {path!r}{where}")

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MemberNotFoundError(NodeNotFoundError, KeyError):
    """``group[name]`` found no such member: a NodeNotFoundError that is also a KeyError."""


class NodeExistsError(ZarrioError, FileExistsError):
    """A node already exists where a new one was to be created."""

    def __init__(self, path: str, message: str | None = None) -> None:
        self.path = path
        super().__init__(message or f"a node already exists at {path!r} (pass overwrite=True to replace it)")

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ReadOnlyError(ZarrioError, PermissionError):
    """A write was attempted on a read-only store or array."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MetadataError(ZarrioError):
    """zarr.json is invalid; ``field`` names the offending field when known."""

    def __init__(self, message: str, *, field: str | None = None, path: str | None = None) -> None:
        self.field = field
        self.path = path
        where = f" (field {field!r})" if field else ""
        at = f" in {path!r}" if path is not None else ""
        super().__init__(f"{message}{where}{at}")


class UnsupportedError(MetadataError):
    """A data type, codec or extension this zarrio does not implement."""


class VaryingChunksError(UnsupportedError, AttributeError):
    """``chunks`` / ``shards`` / ``chunk_shape`` of an array whose chunk (or shard) sizes vary
    (a rectilinear chunk grid): there is no single shape; ``read_chunk_sizes`` and
    ``write_chunk_sizes`` give the sizes. An AttributeError too, so ``getattr(z, "chunks",
    None)`` (dask's ``from_array``) sees no such attribute."""


class CodecError(ZarrioError):
    """Encoding or decoding a chunk failed; ``key`` names the chunk when known."""

    def __init__(self, message: str, *, key: str | None = None, codec: str | None = None) -> None:
        self.key = key
        self.codec = codec
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.codec:
            parts.append(f"codec {self.codec!r}")
        if self.key is not None:
            parts.append(f"chunk {self.key!r}")
        return "; ".join(parts) if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"

    def with_key(self, key: str) -> CodecError:
        """Attach the chunk key (used by the engine, which knows it)."""
        if self.key is None:
            self.key = key
        return self


class ChecksumError(CodecError):
    """A stored checksum does not match the data."""


class CorruptChunkError(CodecError):
    """Chunk bytes that cannot be valid: truncated, impossible shard index, wrong size."""


class SelectionError(ZarrioError, IndexError):
    """An index or slice that does not fit the array."""


class ResourceLimitError(ZarrioError):
    """A request exceeds a configured limit (for example a read larger than memory allows)."""


class StoreError(ZarrioError):
    """A store operation failed. ``key`` and ``location`` say where."""

    def __init__(self, message: str, *, key: str | None = None, location: str | None = None) -> None:
        self.key = key
        self.location = location
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        extra = []
        if self.key is not None:
            extra.append(f"key {self.key!r}")
        if self.location:
            extra.append(f"at {self.location}")
        return f"{self.message} ({', '.join(extra)})" if extra else self.message


class InvalidKeyError(StoreError):
    """A key that is not a clean relative path: '..', absolute, empty segments, backslashes."""


class StoreURLError(StoreError, ValueError):
    """A store URL zarrio cannot serve (an unknown scheme), or options that do not fit the store."""


class MissingCredentialsError(StoreError):
    """An object store (s3://, gs://, az://) found no credentials in its options or the environment."""


class StoreClosedError(StoreError):
    """The store has been closed."""


class ListingNotSupportedError(StoreError):
    """The store cannot list keys (e.g. plain HTTP); browsing needs consolidated metadata."""


class MissingChunkError(StoreError):
    """Strict mode: a chunk that should exist is missing."""


class TransportError(StoreError):
    """The backend (disk, network) failed, after any retries."""


class HttpStatusError(TransportError):
    """An HTTP response with a status that is neither success nor 'missing'."""

    def __init__(self, message: str, *, status: int, key: str | None = None, location: str | None = None) -> None:
        self.status = status
        super().__init__(message, key=key, location=location)


class FacadeError(ZarrioError, RuntimeError):
    """Misuse of the synchronous facade (e.g. a blocking call from its loop thread)."""


class ObjectChangedError(TransportError):
    """A value was replaced between two reads that must see the same version
    (a shard's index and its inner chunks). The engine re-reads the shard once."""


class WriteConflictError(ObjectChangedError):
    """A read-modify-write on a store with conditional writes was refused ``attempts`` times in a
    row (other processes kept replacing the value in between); nothing of it was stored."""

    def __init__(self, message: str, *, attempts: int = 0, key: str | None = None, location: str | None = None) -> None:
        self.attempts = attempts
        super().__init__(message, key=key, location=location)


class DeadlineExceededError(TransportError, TimeoutError):
    """A store operation did not finish within its deadline (``HttpStore(timeout=)``);
    everything it had in flight was cancelled. ``deadline`` is the bound in seconds."""

    def __init__(
        self, message: str, *, deadline: float | None = None, key: str | None = None, location: str | None = None
    ) -> None:
        self.deadline = deadline
        super().__init__(message, key=key, location=location)
