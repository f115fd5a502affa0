"""Compare-and-swap for :class:`~zarrio.stores.object_store.ObjectStore`: a value read with its
version (the ETag) and a put that succeeds only over that version (``If-Match``), or only
where nothing is stored yet (create-only, ``If-None-Match: *``). S3, GCS, Azure and obstore's
memory store support both (and moto's S3 server, which the tests run against).

A backend that cannot make a put conditional (obstore's local file system, plain HTTP) gets
plain puts from then on: the store's ``conditional_writes`` turns off, and writers in other
processes are then not excluded (see docs/reliability.md, "Concurrent writers").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import AlreadyExistsError, NotSupportedError, PreconditionError
from obstore.exceptions import BaseError as ObstoreError

if TYPE_CHECKING:
    from obstore import PutMode

    from .object_store import ObjectStore

__all__ = ["get_versioned", "head_version", "set_if"]


async def get_versioned(store: ObjectStore, key: str) -> tuple[bytes, str] | None:
    """The value under ``key`` and its ETag (``None`` when missing)."""
    store._check_key(key)
    try:
        result = await obstore.get_async(store.backend, key)
        data = bytes(await result.bytes_async())
    except FileNotFoundError:
        return None
    except (ObstoreError, OSError) as e:
        raise store._failure("GET", key, e) from e
    etag = result.meta.get("e_tag")
    return data, etag or ""


async def head_version(store: ObjectStore, key: str) -> str | None:
    """The ETag ``key`` holds now, from a HEAD (``None`` when missing or the backend gives none)."""
    store._check_key(key)
    try:
        meta = await obstore.head_async(store.backend, key)
    except FileNotFoundError:
        return None
    except (ObstoreError, OSError) as e:
        raise store._failure("HEAD", key, e) from e
    etag = meta.get("e_tag")
    return None if etag is None else str(etag)


async def set_if(store: ObjectStore, key: str, value: bytes, version: str | None) -> bool:
    """Put ``value`` only over ``version`` (``None``: only if missing); False when refused."""
    store._check_key(key)
    store.check_writable()
    store._versions.unpin(key)
    mode: PutMode = "create" if version is None else {"e_tag": version}
    if version == "":  # the backend gave no ETag: nothing to compare with
        mode = "overwrite"
    try:
        await obstore.put_async(store.backend, key, bytes(value), mode=mode)
    except (PreconditionError, AlreadyExistsError, FileNotFoundError):
        return False  # replaced, created or erased since it was read
    except (NotSupportedError, NotImplementedError):
        store.conditional_writes = False
        await store.set(key, value)
    except (ObstoreError, OSError) as e:
        raise store._failure("PUT", key, e) from e
    return True
