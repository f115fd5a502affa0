"""HttpStore's connections: sessions shared per event loop, per-loop store state, warm-up.

Stores with the same connection settings share one ``aiohttp.ClientSession``
per event loop: stores are cheap to make and drop (``zarrio.open(url)``) and
reuse each other's keep-alive connections. A session lives until its loop
shuts down (``asyncio.run`` closes it then) or a store's ``close()``.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Hashable
from dataclasses import dataclass, field

import aiohttp
from yarl import URL

from ._slots import Slots

__all__ = ["LoopState", "close_shared_session", "open_connections", "shared_session"]


@dataclass(eq=False)
class LoopState:
    """One store's state on one event loop."""

    #: bounds this store's requests in flight on the loop (retries and hedges first in line: ``_slots``)
    limiter: Slots
    #: the session last used on the loop (looked up again once closed)
    session: aiohttp.ClientSession | None = None
    #: requests holding the limiter now
    in_flight: int = 0
    #: reads announced by ``expect_reads`` since the last warm-up
    expected: int = 0
    warm_ups: set[asyncio.Task[None]] = field(default_factory=set)
    #: whether the ``preconnect`` connections were asked for (at the store's first request on the loop)
    preconnected: bool = False


_Entry = tuple[aiohttp.ClientSession, AsyncGenerator[None, None]]
_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Entry]] = weakref.WeakKeyDictionary()
_SESSIONS_LOCK = threading.Lock()


async def shared_session(settings: Hashable, make: Callable[[], aiohttp.ClientSession]) -> aiohttp.ClientSession:
    """The running loop's open session for these connection ``settings``, made with ``make`` if there is none."""
    loop = asyncio.get_running_loop()
    known = _SESSIONS.get(loop, {}).get(settings)
    if known is not None and not known[0].closed:
        return known[0]
    with _SESSIONS_LOCK:
        per_loop = _SESSIONS.setdefault(loop, {})
        entry = per_loop.get(settings)
        if entry is not None and not entry[0].closed:
            return entry[0]
        session = make()
        closer = _close_when_loop_shuts_down(session)
        per_loop[settings] = (session, closer)
    # a started async generator is closed by asyncio.run / asyncio.Runner before the loop closes
    await closer.__anext__()
    return session


async def close_shared_session(settings: Hashable) -> None:
    """Close the running loop's session for these settings, if it has one; a later read opens a new one."""
    with _SESSIONS_LOCK:
        entry = _SESSIONS.get(asyncio.get_running_loop(), {}).pop(settings, None)
    if entry is not None:
        await entry[1].aclose()  # its finally closes the session


async def _close_when_loop_shuts_down(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await session.close()


async def open_connections(
    session: aiohttp.ClientSession, url: str, count: int, timeout: aiohttp.ClientTimeout
) -> None:
    """Have ``count`` connections to ``url``'s server in the session's pool: idle ones count, the rest are opened.

    Each is taken from the pool (or opened) and given back one loop iteration
    later: every take of the batch starts in the same iteration, so an idle
    connection is taken once, not again and again, and a slow connect holds no
    other connection. No request is sent; failures are left to the reads that
    follow.
    """
    connector = session.connector
    if connector is None:
        return
    request = aiohttp.ClientRequest("GET", URL(url), loop=asyncio.get_running_loop(), session=session)

    async def take_one() -> None:
        connection = await connector.connect(request, [], timeout)
        try:
            await asyncio.sleep(0)  # every other warm-up of the batch takes its connection first
        finally:
            connection.release()

    await asyncio.gather(*(take_one() for _ in range(count)), return_exceptions=True)
