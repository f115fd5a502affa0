"""Task helpers shared by the engine, the async surface and the portal: a task whose first
step runs at once, and running many awaitables with one typed error out (never an
ExceptionGroup)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Coroutine, Iterable
from typing import Any, TypeVar

from .errors import DeadlineExceededError, ZarrioError

__all__ = ["gather_typed", "pick_error", "start_task", "within_deadline"]

T = TypeVar("T")


def pick_error(errors: list[BaseException]) -> BaseException:
    """The most useful of several errors: a zarrio error first, then any other."""
    flat: list[BaseException] = []
    stack = list(errors)
    while stack:
        e = stack.pop(0)
        if isinstance(e, BaseExceptionGroup):
            stack[:0] = list(e.exceptions)
        elif not isinstance(e, asyncio.CancelledError):
            flat.append(e)
    if not flat:
        return errors[0]
    first = next((e for e in flat if isinstance(e, ZarrioError)), flat[0])
    if isinstance(first, ZarrioError):
        first.others = tuple(e for e in flat if e is not first)
    return first


def start_task(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A task of the running loop for ``coro`` whose first step runs at once (Python 3.12+),
    not after every other ready callback: a request it makes goes out now, and a coroutine
    that needs no I/O is done when this returns. On 3.11, an ordinary task."""
    if sys.version_info >= (3, 12):
        return asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)
    return asyncio.ensure_future(coro)


async def gather_typed(aws: Iterable[Awaitable[T]]) -> list[T]:
    """Run awaitables concurrently; on the first failure cancel the rest and
    raise one error (a zarrio error when there is one), never an ExceptionGroup.

    A single awaitable (a tile inside one chunk or shard, the common case) is
    awaited in the caller's own task: no task group, no extra loop iteration."""
    if not isinstance(aws, (list, tuple)):
        aws = list(aws)
    if len(aws) == 1:
        return [await aws[0]]
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(_as_coro(a)) for a in aws]
    except BaseExceptionGroup as group:
        raise pick_error(list(group.exceptions)) from None
    return [t.result() for t in tasks]


async def _as_coro(aw: Awaitable[T]) -> T:
    return await aw


async def within_deadline(work: Coroutine[Any, Any, T], timeout: float) -> T:
    """``await work``, cancelled after ``timeout`` seconds (everything it awaits included), then
    :class:`~zarrio.errors.DeadlineExceededError`. A timeout raised inside ``work`` (a store's
    own deadline) passes through as it is."""
    try:
        async with asyncio.timeout(timeout) as scope:
            return await work
    except TimeoutError as error:
        if not scope.expired() or isinstance(error, DeadlineExceededError):
            raise
        raise DeadlineExceededError(f"the read did not finish within timeout={timeout} s", deadline=timeout) from None
