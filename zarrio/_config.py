"""``zarrio.config``: process-wide defaults, set for good or for a ``with`` block.

::

    zarrio.config.set({"array.write_empty_chunks": True})      # from now on
    with zarrio.config.set({"threading.max_workers": 2}):      # only inside the block
        ...
    zarrio.config.get("async.concurrency")

The keys (zarr-python's names where it has the setting):

=============================  ==========  ===================================================
key                            default     what it does
=============================  ==========  ===================================================
``array.write_empty_chunks``   ``False``   default of ``write_empty_chunks=`` on create/open
``array.compressors``          ``None``    default compressors of new arrays (codec objects or
                                           JSON dicts); ``None``: zstd level 0
``array.order``                ``"C"``     accepted for compatibility; reads are always C order
``async.concurrency``          ``None``    at most this many requests in flight per store (a
                                           cap on each store's own ``max_concurrency``)
``threading.max_workers``      ``None``    codec worker threads; ``None``: the usable cores
                                           (or ``ZARRIO_CODEC_THREADS``)
``cache.bytes``                ``0``       bound of the process's decoded-chunk cache; ``0``:
                                           off unless an array asks (``cache_bytes=``)
``cache.revalidate``           ``True``    check a cached chunk's version (ETag) on HTTP and
                                           object stores before using it (one request)
=============================  ==========  ===================================================

Settings are read when used (a read, a create, a store's first request on a
loop), so a ``with`` block affects what runs inside it. They are global, not
per thread or task, as zarr-python's are.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from .errors import MetadataError

__all__ = ["Config", "config"]

DEFAULTS: dict[str, Any] = {
    "array.write_empty_chunks": False,
    "array.compressors": None,
    "array.order": "C",
    "async.concurrency": None,
    "threading.max_workers": None,
    "cache.bytes": 0,
    "cache.revalidate": True,
}

_MISSING = object()


class _Restore:
    """What ``config.set`` returns: already applied; as a context manager, undone on exit."""

    def __init__(self, owner: Config, previous: dict[str, Any]) -> None:
        self._owner = owner
        self._previous = previous

    def __enter__(self) -> _Restore:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._owner._apply(self._previous)


class Config:
    """The settings (see the module docstring for the keys)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict(DEFAULTS)

    def get(self, key: str, default: Any = _MISSING) -> Any:
        """The value of ``key`` (``"array.write_empty_chunks"``); an unknown key raises KeyError
        unless ``default`` is given."""
        value = self._values.get(key, _MISSING)  # one dict lookup needs no lock (``set`` replaces values whole)
        if value is not _MISSING:
            return value
        if default is not _MISSING:
            return default
        raise KeyError(f"no zarrio setting {key!r}; the settings are {sorted(DEFAULTS)}")

    def set(self, values: Mapping[str, Any] | None = None, **kwargs: Any) -> _Restore:
        """Set values now; use the result in ``with`` to restore the old ones afterwards.

        Keys are dotted (``{"array.write_empty_chunks": True}``) or keyword arguments
        with ``__`` for the dot (``array__write_empty_chunks=True``)."""
        new = {**dict(values or {}), **{k.replace("__", "."): v for k, v in kwargs.items()}}
        for key, value in new.items():
            _check(key, value)
        with self._lock:
            previous = {key: self._values[key] for key in new}
        self._apply(new)
        return _Restore(self, previous)

    def reset(self) -> None:
        """Every setting back to its default."""
        self._apply(DEFAULTS)

    def _apply(self, values: Mapping[str, Any]) -> None:
        with self._lock:
            self._values.update(values)

    def asdict(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def __repr__(self) -> str:
        return f"zarrio.config({self.asdict()!r})"


def _check(key: str, value: Any) -> None:
    if key not in DEFAULTS:
        raise MetadataError(f"no zarrio setting {key!r}; the settings are {sorted(DEFAULTS)}", field=key)
    positive = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if key in ("async.concurrency", "threading.max_workers") and value is not None and not positive:
        raise MetadataError(f"{key} must be a positive int or None, not {value!r}", field=key)
    if key == "cache.bytes" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise MetadataError(f"{key} must be an int of at least 0, not {value!r}", field=key)
    if key in ("array.write_empty_chunks", "cache.revalidate") and not isinstance(value, bool):
        raise MetadataError(f"{key} must be True or False, not {value!r}", field=key)
    if key == "array.order" and value not in ("C", "F"):
        raise MetadataError(f"{key} must be 'C' or 'F', not {value!r}", field=key)


#: the process-wide settings
config = Config()
