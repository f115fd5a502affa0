"""Opening the node a TARGET names, and describing codecs in one line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from .. import aio
from ..array import AsyncArray
from ..errors import ListingNotSupportedError, NodeNotFoundError
from ..group import AsyncGroup
from ..stores import Store, ZipStore
from .target import Target, close_store

__all__ = ["browsing_error", "describe_codecs", "open_node", "opened_store"]


@asynccontextmanager
async def opened_store(target: Target, mode: Literal["r", "w"] = "r") -> AsyncIterator[Store]:
    """The target's store, closed on exit.

    A zip archive opened for writing is written when the block succeeds; after
    an error it is left as it was (its pending changes are dropped).
    """
    store = target.open_store(mode)
    try:
        yield store
    except BaseException:
        if not (isinstance(store, ZipStore) and not store.read_only):
            await close_store(store)
        raise
    await close_store(store)


async def open_node(store: Store, target: Target, *, writable: bool = False) -> AsyncArray | AsyncGroup:
    """The array or group at ``target.node``; a clear error naming the target when there is none.

    On a store that cannot list (HTTP), a group below the root is browsed through
    the consolidated metadata of the root, where zarr-python and zarrio keep it.
    """
    mode: Literal["r", "r+"] = "r+" if writable else "r"
    try:
        node = await aio.open(store, path=target.node, mode=mode)
    except NodeNotFoundError as e:
        if e.path != target.node:
            raise
        raise NodeNotFoundError(target.node, f"no Zarr array or group at {target}") from e
    if isinstance(node, AsyncGroup) and node.consolidated is None and target.node and not store.listable:
        try:
            root: AsyncArray | AsyncGroup | None = await aio.open(store, path="", mode=mode)
        except NodeNotFoundError:
            root = None  # a hierarchy without a root group
        if isinstance(root, AsyncGroup) and root.consolidated is not None and target.node in root.consolidated:
            return await root.getitem(target.node)
    return node


def browsing_error(target: Target, error: ListingNotSupportedError) -> ListingNotSupportedError:
    """The CLI's wording of "this group cannot be browsed": what is missing and what to run."""
    return ListingNotSupportedError(
        f"cannot browse {target}: the store cannot list keys and the group has no consolidated metadata; "
        f"run 'zarrio consolidate' where the data is written (opening a node by path, {target}::name, still works)",
        key=error.key,
        location=error.location,
    )


def _describe_value(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list | dict) else json.dumps(value)


def describe_codec(codec: dict[str, Any]) -> str:
    """``{"name": "zstd", "configuration": {"level": 3}}`` -> ``zstd(level=3)``."""
    name = str(codec.get("name", "?"))
    config = dict(codec.get("configuration") or {})
    if name == "sharding_indexed":
        inner = describe_codecs(config.get("codecs") or [])
        index = describe_codecs(config.get("index_codecs") or [])
        shape = _describe_value(config.get("chunk_shape"))
        where = config.get("index_location", "end")
        return f"sharding_indexed(chunk_shape={shape}, codecs=[{inner}], index=[{index}] at {where})"
    if not config:
        return name
    return f"{name}({', '.join(f'{k}={_describe_value(v)}' for k, v in config.items())})"


def describe_codecs(codecs: list[dict[str, Any]]) -> str:
    """A codec list as ``bytes(endian="little") -> zstd(level=0)``."""
    return " -> ".join(describe_codec(c) for c in codecs) if codecs else "(none)"
