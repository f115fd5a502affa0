"""The metadata of a group's descendants, read level by level: one plan and two drivers.

:func:`walk_plan` does no I/O. It yields what it needs for a level of the tree (the listings
of that level's groups, then the metadata files of their children) and is sent the answers in
the same order. Both drivers run it to its end:

- :func:`walk_async` sends each level's requests concurrently, each under the store's request
  limiter (any store);
- :func:`walk_blocking` runs them in a worker thread through the store's blocking methods, a
  batch of :data:`HOP_REQUESTS` per hop (a :class:`~zarrio.stores.blocking.BlockingStore`:
  LocalStore, MemoryStore, a user's). A walk of 20,000 nodes is then some 80 thread hops,
  not 20,000 tasks, and a cancelled walk stops within one batch.

The children of a Zarr v3 group are read from their ``zarr.json`` and those of a v2 group
from their ``.zarray`` / ``.zgroup`` / ``.zattrs``; a listed prefix without them (a chunk
directory) is not a node.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from functools import partial
from typing import Any, Literal, TypeAlias

from . import _paths
from ._config import config
from ._tasks import gather_typed
from .metadata import ArrayMetadata, GroupMetadata, parse_metadata
from .metadata.v2_nodes import V2_ARRAY_NAMES, parse_v2_node
from .stores.base import Store
from .stores.blocking import BlockingAccess, blocking_access
from .stores.limits import request_limiter

__all__ = ["HOP_REQUESTS", "walk", "walk_async", "walk_blocking", "walk_plan"]

NodeMetadata: TypeAlias = ArrayMetadata | GroupMetadata
#: ("list", prefixes) is answered with their ``(keys, child prefixes)``; ("get", keys) with their values
Request: TypeAlias = tuple[Literal["list", "get"], list[str]]
Plan: TypeAlias = Generator[Request, list[Any], dict[str, NodeMetadata]]
#: requests per worker-thread hop of the blocking driver
HOP_REQUESTS = 256


def _file_names(zarr_format: int) -> tuple[str, ...]:
    return V2_ARRAY_NAMES if zarr_format == 2 else ("zarr.json",)


def _parse(zarr_format: int, names: tuple[str, ...], raws: Sequence[bytes | None], path: str) -> NodeMetadata | None:
    if zarr_format == 2:
        return parse_v2_node(dict(zip(names, raws, strict=True)), path)
    return None if raws[0] is None else parse_metadata(raws[0], path)


def walk_plan(path: str, zarr_format: int, *, depth: int | None = None) -> Plan:
    """The nodes below the group at ``path`` (keyed by path relative to it, in the order read),
    down to ``depth`` levels (``None``: all of them). Children have their parent's format."""
    found: dict[str, NodeMetadata] = {}
    level: list[tuple[str, str, int]] = [("", path, zarr_format)]  # (relative path, path, format) of groups
    while level and (depth is None or depth > 0):
        listings = yield ("list", [_paths.prefix_of(p) for _, p, _ in level])
        children: list[tuple[str, str, int]] = []
        for (rel, p, fmt), (_, prefixes) in zip(level, listings, strict=True):
            children.extend(
                (f"{rel}/{name}" if rel else name, _paths.child_path(p, name), fmt) for name in sorted(prefixes)
            )
        keys = [_paths.prefix_of(cp) + name for _, cp, fmt in children for name in _file_names(fmt)]
        raws = yield ("get", keys)
        level, at = [], 0
        for rel, cp, fmt in children:
            names = _file_names(fmt)
            meta = _parse(fmt, names, raws[at : at + len(names)], cp)
            at += len(names)
            if meta is None:
                continue
            found[rel] = meta
            if isinstance(meta, GroupMetadata):
                level.append((rel, cp, meta.zarr_format))
        depth = None if depth is None else depth - 1
    return found


async def _drive(plan: Plan, answer_all: Callable[[str, list[str]], Awaitable[list[Any]]]) -> dict[str, NodeMetadata]:
    """Run ``plan`` to its end, each of its requests answered by ``answer_all(kind, items)``."""
    try:
        kind, items = next(plan)
        while True:
            kind, items = plan.send(await answer_all(kind, items))
    except StopIteration as done:
        found: dict[str, NodeMetadata] = done.value
        return found


async def walk_async(store: Store, plan: Plan) -> dict[str, NodeMetadata]:
    """Run ``plan`` through ``store``'s coroutines, each level's requests concurrently."""
    limiter = request_limiter(store, config.get("async.concurrency"))

    async def answer(kind: str, item: str) -> Any:
        async with limiter:
            return await (store.list_dir(item) if kind == "list" else store.get(item))

    async def answer_all(kind: str, items: list[str]) -> list[Any]:
        return await gather_typed(answer(kind, item) for item in items)

    return await _drive(plan, answer_all)


def _answer_batch(access: BlockingAccess, kind: str, items: Sequence[str]) -> list[Any]:
    call = access.list_dir if kind == "list" else access.get
    return [call(item) for item in items]


async def walk_blocking(access: BlockingAccess, plan: Plan) -> dict[str, NodeMetadata]:
    """Run ``plan`` through a BlockingStore's methods, :data:`HOP_REQUESTS` requests per hop."""

    async def answer_all(kind: str, items: list[str]) -> list[Any]:
        answers: list[Any] = []
        for start in range(0, len(items), HOP_REQUESTS):
            answers += await access.call(partial(_answer_batch, access, kind, items[start : start + HOP_REQUESTS]))
        return answers

    return await _drive(plan, answer_all)


async def walk(store: Store, path: str, zarr_format: int, *, depth: int | None = None) -> dict[str, NodeMetadata]:
    """:func:`walk_plan` run by the blocking driver where ``store`` has blocking access, else the async one."""
    plan = walk_plan(path, zarr_format, depth=depth)
    access = blocking_access(store)
    return await (walk_async(store, plan) if access is None else walk_blocking(access, plan))
