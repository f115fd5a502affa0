"""Store URLs: what ``memory://``, ``file://``, ``s3://``, ... strings become, and back.

``store_from_url`` makes the store a URL names (``None`` for a plain path);
``store_location`` gives any store's URL-like name for reprs and messages
(``file:///abs/data.zarr``, ``memory://name``, ``s3://bucket/prefix``, ...).

``storage_options`` are the store's own options. For object stores they go to
obstore; the fsspec spellings zarr-python users pass (``anon``, ``key``,
``secret``, ``token``, ``endpoint_url``, ``client_kwargs``) are translated.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from ..errors import StoreURLError
from .base import Store
from .local import LocalStore
from .memory import MemoryStore
from .zip import ZipStore

__all__ = ["SCHEME", "named_memory_store", "obstore_options", "store_from_url", "store_location"]

#: ``scheme://`` at the start of a string (a Windows drive ``C:\\`` has no ``//``)
SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")

#: schemes served by ObjectStore (obstore)
OBJECT_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "az", "azure", "abfs", "abfss", "adl"})
KNOWN_SCHEMES = ("memory://", "file://", "http(s)://", "s3://", "gs://", "az://", "abfs://")

_memory_lock = threading.Lock()
#: name -> store for ``memory://name`` (process-wide, as fsspec's memory filesystem is)
_named_memory: dict[str, MemoryStore] = {}


def named_memory_store(name: str) -> MemoryStore:
    """The process-wide MemoryStore called ``name``, made on first use."""
    with _memory_lock:
        store = _named_memory.get(name)
        if store is None:
            store = _named_memory[name] = MemoryStore()
        return store


def _memory_name(store: MemoryStore) -> str:
    with _memory_lock:
        for name, known in _named_memory.items():
            if known is store:
                return name
    return str(id(store))


def store_location(store: Store) -> str:
    """A URL-like name for ``store``: ``file:///abs/path``, ``memory://name``, ``s3://b/p``, ..."""
    if isinstance(store, LocalStore):
        return store.root.as_uri()
    if isinstance(store, MemoryStore):
        return f"memory://{_memory_name(store)}"
    if isinstance(store, ZipStore):
        return f"zip://{store.path}"
    url = getattr(store, "url", None)
    if isinstance(url, str):
        return url
    return repr(store)


def store_from_url(url: str, *, read_only: bool, storage_options: Mapping[str, Any] | None) -> Store | None:
    """The store ``url`` names, or ``None`` when ``url`` has no ``scheme://`` (a plain path)."""
    match = SCHEME.match(url)
    if match is None:
        return None
    scheme = match["scheme"].lower()
    rest = url[match.end() :]
    options = dict(storage_options or {})
    if scheme == "memory":
        _no_options(url, options)
        return named_memory_store(rest.strip("/"))
    if scheme == "file":
        _no_options(url, options)
        path = unquote(rest)
        if path.lower().endswith(".zip"):
            from os.path import isfile

            if isfile(path):
                return ZipStore(path, mode="r")
        return LocalStore(path, read_only=read_only)
    if scheme in ("http", "https"):
        from .http import HttpStore

        try:
            return HttpStore(url, **options)
        except TypeError as e:
            raise StoreURLError(f"storage_options do not fit HttpStore: {e}", location=url) from e
    if scheme in OBJECT_SCHEMES:
        try:
            from .object_store import ObjectStore
        except ImportError as e:
            raise StoreURLError(
                f"{scheme}:// URLs need the obstore package: pip install 'zarrio[obstore]'", location=url
            ) from e
        return ObjectStore.from_url(url, read_only=read_only, **obstore_options(scheme, options))
    raise StoreURLError(
        f"zarrio has no store for {scheme}:// URLs (it knows {', '.join(KNOWN_SCHEMES)}); "
        "pass a zarrio.stores.Store for anything else",
        location=url,
    )


def _no_options(url: str, options: Mapping[str, Any]) -> None:
    if options:
        raise StoreURLError(f"storage_options {sorted(options)} do not apply to this store", location=url)


#: fsspec (s3fs / gcsfs / adlfs) option -> obstore option
_S3_NAMES = {
    "key": "access_key_id",
    "secret": "secret_access_key",
    "token": "session_token",
    "endpoint_url": "endpoint",
    "region_name": "region",
}


def obstore_options(scheme: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``storage_options`` as obstore takes them (fsspec spellings translated)."""
    out: dict[str, Any] = {}
    extra = dict(options)
    client_kwargs = extra.pop("client_kwargs", None) or {}
    if isinstance(client_kwargs, Mapping):
        extra = {**{k: v for k, v in client_kwargs.items() if k in _S3_NAMES}, **extra}
    anon = extra.pop("anon", None)
    if anon:
        out["skip_signature"] = True
    if scheme in ("gs", "gcs") and extra.get("token") == "anon":
        extra.pop("token")
        out["skip_signature"] = True
    for name, value in extra.items():
        out[_S3_NAMES.get(name, name) if scheme in ("s3", "s3a") else name] = value
    endpoint = out.get("endpoint")
    if isinstance(endpoint, str) and endpoint.startswith("http://"):
        client = dict(out.get("client_options") or {})
        client.setdefault("allow_http", True)
        out["client_options"] = client
    return out


def describe_backend(backend: Any) -> str:
    """A URL-like description of an obstore store: ``s3://bucket/prefix``, ``gs://...``, ..."""
    config: dict[str, Any] = {}
    try:
        config = dict(getattr(backend, "config", None) or {})
    except (TypeError, ValueError):
        config = {}
    prefix = str(getattr(backend, "prefix", None) or "").strip("/")
    kind = type(backend).__name__
    schemes = {"S3Store": ("s3", "bucket"), "GCSStore": ("gs", "bucket"), "AzureStore": ("az", "container_name")}
    if kind in schemes:
        scheme, field = schemes[kind]
        name = config.get(field) or config.get(f"aws_{field}") or config.get(f"google_{field}") or "?"
        return f"{scheme}://{name}/{prefix}".rstrip("/")
    if kind == "HTTPStore":
        return str(config.get("url", repr(backend)))
    return f"{kind}:{prefix}" if prefix else repr(backend)
