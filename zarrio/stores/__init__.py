"""Stores: bytes in, bytes out, keyed by ``/``-separated strings.

Built in: :class:`MemoryStore`, :class:`LocalStore` (a directory, atomic
writes), :class:`ZipStore` (a zip archive, zarr-python compatible) and
:class:`HttpStore` (read-only, ranged). Write your own by subclassing
:class:`Store` (async methods) or :class:`BlockingStore` (blocking methods run
in worker threads). :func:`as_store` turns a path or URL into a store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import StoreURLError
from ._urls import store_from_url, store_location
from .base import ByteRange, Store, coalesce_ranges, validate_key, validate_prefix
from .blocking import BlockingStore
from .local import LocalStore
from .memory import MemoryStore
from .zip import ZipStore

if TYPE_CHECKING:
    from .http import HttpStore
    from .object_store import ObjectStore

__all__ = [
    "BlockingStore",
    "ByteRange",
    "HttpStore",
    "LocalStore",
    "MemoryStore",
    "ObjectStore",
    "Store",
    "ZipStore",
    "as_store",
    "store_location",
    "coalesce_ranges",
    "validate_key",
    "validate_prefix",
]


def __getattr__(name: str) -> Any:
    # HttpStore pulls in aiohttp: import it on first use only
    if name == "HttpStore":
        from .http import HttpStore

        return HttpStore
    if name == "ObjectStore":  # needs the optional obstore package
        from .object_store import ObjectStore

        return ObjectStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: URL schemes served by :class:`ObjectStore` (obstore)
OBJECT_STORE_SCHEMES = ("s3://", "gs://", "az://", "abfs://")


def as_store(
    obj: Store | str | os.PathLike[str],
    *,
    read_only: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Store:
    """The store for ``obj``.

    * a :class:`Store` is returned as is;
    * ``memory://`` is the process-wide :class:`MemoryStore` of that name
      (``memory://scratch``; plain ``memory://`` is the unnamed one), as with
      zarr-python's fsspec memory filesystem;
    * ``file:///abs/path`` is a :class:`LocalStore` at that path;
    * an ``http://`` or ``https://`` URL is an :class:`HttpStore`
      (``storage_options`` are its keyword arguments: ``headers=``, ...);
    * an ``s3://``, ``gs://``, ``az://`` or ``abfs://`` URL is an :class:`ObjectStore`
      (needs the ``obstore`` extra; ``storage_options`` go to obstore, with
      fsspec's ``anon``/``key``/``secret``/``endpoint_url`` translated;
      otherwise credentials come from the environment);
    * any other ``scheme://`` raises :class:`~zarrio.errors.StoreURLError`;
    * a path to an existing file ending in ``.zip`` is a read-only :class:`ZipStore`;
    * any other path (``str`` or ``os.PathLike``) is a :class:`LocalStore`
      (read-only when ``read_only`` is true).

    Anything else raises ``TypeError``.
    """
    if isinstance(obj, Store):
        if storage_options:
            raise StoreURLError("storage_options apply to store URLs, not to a store object", location=repr(obj))
        return obj
    if isinstance(obj, str):
        from_url = store_from_url(obj, read_only=read_only, storage_options=storage_options)
        if from_url is not None:
            return from_url
    if isinstance(obj, str | os.PathLike):
        path = os.fspath(obj)
        if not isinstance(path, str):
            raise TypeError(f"expected a str path, got a bytes path {path!r}; decode it first")
        if storage_options:
            raise StoreURLError("storage_options apply to store URLs (s3://, https://, ...), not paths", location=path)
        if path.lower().endswith(".zip") and os.path.isfile(path):
            return ZipStore(path, mode="r")
        return LocalStore(path, read_only=read_only)
    raise TypeError(
        f"cannot make a store from {type(obj).__name__}: pass a zarrio.stores.Store, "
        "a directory path (str or os.PathLike), a path to a .zip file, a memory:// or file:// URL, "
        "an http(s):// URL, or an s3:// / gs:// / az:// URL"
    )
