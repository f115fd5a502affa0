"""HttpStore's transport: one HTTP exchange, its retries, timeouts, hedges and statistics.

:class:`HttpTransport` sends a request and returns a :class:`Reply` (status,
headers, body); it knows nothing of Zarr keys or ranges, which are the store's
business (``http.py``). It owns:

* the per-loop state: one request limiter (``max_concurrency`` requests in
  flight, hedges included) and one session per event loop (``_http_pool``);
* the throughput watchdog: a body arriving slower than ``min_throughput``
  after ``throughput_grace`` seconds (or after the adaptive inactivity bound,
  when that is shorter) is abandoned and retried (a trickle never trips an
  inactivity timeout);
* adaptive timeouts: once a few answers were seen, the inactivity timeout is
  ``READ_FACTOR`` x the recent p99 time to first byte and the TCP connect
  timeout ``CONNECT_FACTOR`` x it, each kept within ``[*_min, configured]``;
  every retry of one read multiplies them by ``PATIENCE_GROWTH`` (a server that
  is slow for real is not failed by its own slowness). The inactivity bound is
  enforced by the watcher of ``_hedge`` (it follows new measurements while a
  request runs); aiohttp's own ``sock_read`` keeps the configured bound;
* hedging and watching (``_hedge``), retries (``_retry``), the deadline of
  one store call (``DeadlineExceededError``) and the counts behind
  ``store.stats()``;
* the connection warm-up behind ``expect_reads``, and the ``preconnect``
  connections opened beside a store's first request on a loop.
"""

from __future__ import annotations

import asyncio
import random
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ..errors import DeadlineExceededError, HttpStatusError, StoreError, TransportError
from ._hedge import Hedger, Progress, run_watched
from ._http_options import HttpOptions
from ._http_pool import LoopState, close_shared_session, open_connections, shared_session
from ._retry import RETRY_STATUSES, Retryable, call_with_retries, parse_retry_after
from ._slots import Slots
from ._stats import StatsRecorder, TransportStats

__all__ = ["HttpTransport", "Reply", "gather_or_cancel"]

T = TypeVar("T")
_Loop = asyncio.AbstractEventLoop
#: the adaptive inactivity / connect timeouts, in multiples of the recent p99 time to first byte
READ_FACTOR = 3.0
CONNECT_FACTOR = 10.0
#: each retry of one read is this much more patient
PATIENCE_GROWTH = 1.25


@dataclass(frozen=True)
class Reply:
    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    #: a 200 whose body was not wanted (``whole_ok=False``) and was not read
    body_skipped: bool = False


class HttpTransport:
    """Requests for one HttpStore (see the module docstring)."""

    def __init__(
        self,
        options: HttpOptions,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        session: aiohttp.ClientSession | None,
    ) -> None:
        self.headers = dict(headers)
        self.params = dict(params)
        self.max_concurrency = max_concurrency = options.max_concurrency
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout = (
            options.connect_timeout,
            options.read_timeout,
        )
        self.connect_timeout_min = min(options.connect_timeout_min, connect_timeout)
        self.read_timeout_min = min(options.read_timeout_min, read_timeout)
        self.deadline, self.deadline_name = options.deadline
        self.min_throughput, self.throughput_grace = options.min_throughput, options.throughput_grace
        self.retry_policy = options.retry_policy
        self.stats = StatsRecorder()
        initial = min(1.0, read_timeout / 4)
        self.hedger = Hedger(
            self.stats, share=options.hedge_share, min_delay=options.hedge_min_delay, initial_delay=initial,
            max_outstanding=max(1, max_concurrency // 8),
        )  # fmt: skip
        self._configured = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        self._timeouts: aiohttp.ClientTimeout | None = None
        self._user_session = session
        #: connections opened beside the first request on a loop: none into a user's session
        self.preconnect = 0 if session is not None else min(options.preconnect, max_concurrency - 1)
        #: stores with the same connection settings share one session per loop (see ``_http_pool``)
        self.session_key = (max_concurrency, connect_timeout, read_timeout)
        self._lock = threading.Lock()
        self._loops: weakref.WeakKeyDictionary[_Loop, LoopState] = weakref.WeakKeyDictionary()
        #: the loop used last and its state: one weakref call per request instead of a dictionary lookup
        self._last: tuple[weakref.ref[_Loop], LoopState] | None = None
        self._rng = random.Random()

    # ------------------------------------------------------------ one logical read
    async def call(self, key: str, url: str, attempt: Callable[[int], Awaitable[T]]) -> T:
        """``attempt(retry)`` with retries (``retry``: 0 for the first try, then 1, 2, ...; it goes
        to :meth:`send`, which is more patient with each) within the deadline."""
        try:
            async with asyncio.timeout(self.deadline):
                return await call_with_retries(attempt, self.retry_policy, self._rng)
        except StoreError as error:
            error.key = key
            raise
        except TimeoutError as error:
            message = f"no complete answer within {self.deadline_name}={self.deadline} s"
            raise DeadlineExceededError(message, deadline=self.deadline, key=key, location=url) from error

    def _adapted(self, factor: float, low: float, high: float, patience: float) -> float:
        quantiles = self.stats.ttfb_quantiles  # None until a few answers were seen
        if quantiles is None:
            return high
        return min(high, max(low, factor * quantiles[2]) * patience)

    def inactivity(self, patience: float = 1.0) -> float:
        """Seconds without a byte after which a request is abandoned (and retried)."""
        return self._adapted(READ_FACTOR, self.read_timeout_min, self.read_timeout, patience)

    def timeouts(self, patience: float = 1.0) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for a request now: the adapted TCP connect bound, the configured others."""
        # to the 10 ms: one timeout object serves the requests of a while (aiohttp's are costly to make)
        connect = round(self._adapted(CONNECT_FACTOR, self.connect_timeout_min, self.connect_timeout, patience), 2)
        made = self._timeouts
        if made is None or made.sock_connect != connect:
            made = self._timeouts = aiohttp.ClientTimeout(
                total=None, connect=self.connect_timeout, sock_connect=connect, sock_read=self.read_timeout
            )
        return made

    def snapshot(self) -> TransportStats:
        return self.stats.snapshot(self.inactivity(), self.hedger.delay())

    # ------------------------------------------------------------ one exchange
    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        retry: int = 0,
        hedge: bool = False,
        whole_ok: bool = True,
    ) -> Coroutine[Any, Any, Reply]:
        """One HTTP exchange (hedged when ``hedge``), to await; transient failures raise :class:`Retryable`.

        ``retry``: how many tries of this read came before; each makes the timeouts
        ``PATIENCE_GROWTH`` times longer, and a retry takes the next free request slot
        before the requests not tried yet. A status worth retrying fails the attempt
        that got it, so a hedge still running may answer in its place (and a hedge
        that got one lets the first request go on).
        """
        if retry:
            self.stats.count("retries")
        request = _Request(self, method, url, {**self.headers, **headers}, PATIENCE_GROWTH**retry, whole_ok)
        return run_watched(request.send, self.hedger if hedge else None, request.inactivity, url, urgent=retry > 0)

    async def _exchange(self, request: _Request, progress: Progress) -> Reply:
        method, url, whole_ok = request.method, request.url, request.whole_ok
        state = self.on_loop()
        session = state.session
        if session is None or session.closed:
            session = await self.session()
            if not state.preconnected:  # the store's first request on this loop
                state.preconnected = True
                self._start_warm_up(state, url, self.preconnect)
        loop = asyncio.get_running_loop()
        async with state.limiter.held(urgent=progress.urgent):
            state.in_flight += 1
            started = loop.time()
            progress.mark(started)
            self.stats.count("requests")
            if not progress.hedge:
                self.hedger.earn()  # when it is sent, not queued (see ``_hedge``)
            try:
                async with session.request(
                    method,
                    URL(url, encoded=True),
                    headers=request.headers,
                    params=self.params or None,
                    timeout=self.timeouts(request.patience),
                ) as response:
                    progress.mark(loop.time())
                    ttfb = loop.time() - started
                    skip = method == "HEAD" or (response.status == 200 and not whole_ok)
                    body = b"" if skip else await self._read_body(response, url, progress)
                    if skip and method != "HEAD":
                        response.close()  # a whole value nobody asked for: drop the connection, not read it
                    reply = Reply(url, response.status, response.headers, body, skip and method != "HEAD")
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                self.stats.failed()
                what = type(error).__name__ + (f": {error}" if str(error) else "")
                raise Retryable(TransportError(f"{method} failed ({what})", location=url)) from error
            finally:
                state.in_flight -= 1
        status = reply.status
        self.stats.answered(ttfb, loop.time() - started, len(body), ok=status not in RETRY_STATUSES)
        if status in RETRY_STATUSES:
            self.stats.failed()
            status_error = HttpStatusError(f"HTTP status {status}", status=status, location=url)
            raise Retryable(status_error, parse_retry_after(reply.headers.get("Retry-After")))
        encoding = reply.headers.get("Content-Encoding")
        if encoding is not None and (encoding := encoding.lower()) != "identity" and status < 300:
            raise TransportError(f"the server sent Content-Encoding {encoding!r}; only identity is read", location=url)
        return reply

    async def _read_body(self, response: aiohttp.ClientResponse, url: str, progress: Progress) -> bytes:
        """The response body, abandoned with an error when it trickles in too slowly."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        parts: list[bytes] = []
        received = 0
        # the floor applies after throughput_grace, or sooner on a store whose answers came faster
        # (the adaptive inactivity bound): a trickle then costs about what a stall costs
        grace = min(self.throughput_grace, self.inactivity())
        expected = response.content_length  # a body whose last part has come is never too slow
        async for part in response.content.iter_any():
            parts.append(part)
            received += len(part)
            now = loop.time()
            elapsed = now - started
            below_floor = received < self.min_throughput * elapsed
            if not below_floor:  # a trickle is no progress: it is hedged and cut off like a stall
                progress.mark(now)
            too_slow = self.min_throughput > 0 and elapsed > grace and below_floor
            if too_slow and (expected is None or received < expected):
                # transient, like a stall: retried (a trickle that outlasts the hedge delay, which
                # grows with a loaded machine's answer times, is never hedged: it keeps making progress)
                slow = TransportError(
                    f"the body arrives too slowly ({received} bytes in {elapsed:.1f} s, "
                    f"below min_throughput={self.min_throughput:g} bytes/s)",
                    location=url,
                )
                raise Retryable(slow)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    # ------------------------------------------------------------ loops and sessions
    def on_loop(self) -> LoopState:
        """This store's state on the running loop."""
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0]() is loop:
            return last[1]
        with self._lock:
            for other in [other for other in self._loops if other.is_closed()]:
                del self._loops[other]
            state = self._loops.get(loop)
            if state is None:
                state = self._loops[loop] = LoopState(Slots(self.max_concurrency))
            self._last = (weakref.ref(loop), state)
        return state

    async def session(self) -> aiohttp.ClientSession:
        state = self.on_loop()
        user = self._user_session
        if user is not None and not user.closed and getattr(user, "_loop", None) is asyncio.get_running_loop():
            state.session = user
        else:
            state.session = await shared_session(self.session_key, self._new_session)
        return state.session

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.max_concurrency, limit_per_host=0, ttl_dns_cache=300)
        return aiohttp.ClientSession(connector=connector, auto_decompress=False, timeout=self._configured)

    async def close(self) -> None:
        await close_shared_session(self.session_key)

    # ------------------------------------------------------------ connection warm-up
    def expect_reads(self, url: str, count: int) -> None:
        """Open keep-alive connections to ``url``'s server for about ``count`` reads that follow shortly
        (at most ``max_concurrency`` counting the requests in flight; none with a user's session)."""
        if count <= 0 or self._user_session is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        state = self.on_loop()
        if state.expected == 0:
            # three loop iterations later: requests started in this iteration (the index reads that
            # the announced reads wait for; a hedged read starts in a task, one iteration later)
            # have taken their connections by then
            loop.call_soon(loop.call_soon, loop.call_soon, self._warm_up, state, url)
        state.expected += count

    def _warm_up(self, state: LoopState, url: str) -> None:
        wanted = min(state.expected, self.max_concurrency) - state.in_flight
        state.expected = 0
        self._start_warm_up(state, url, wanted)

    def _start_warm_up(self, state: LoopState, url: str, count: int) -> None:
        """Have ``count`` connections to ``url``'s server in the pool, opened in the background."""
        if count > 0:
            task = asyncio.ensure_future(self._open_connections(url, count))
            state.warm_ups.add(task)
            task.add_done_callback(state.warm_ups.discard)

    async def _open_connections(self, url: str, count: int) -> None:
        try:
            await open_connections(await self.session(), url, count, self._configured)
        except Exception:  # only a hint: whatever went wrong here, the reads meet it themselves
            return


class _Request:
    """One request as the watcher sends it (a hedge sends it once more): what closures would
    hold, in one object (a read in flight keeps fewer objects alive for the collector to visit)."""

    __slots__ = ("headers", "method", "patience", "transport", "url", "whole_ok")

    def __init__(
        self, transport: HttpTransport, method: str, url: str, headers: dict[str, str], patience: float, whole_ok: bool
    ) -> None:
        self.transport, self.method, self.url, self.headers = transport, method, url, headers
        self.patience, self.whole_ok = patience, whole_ok

    def send(self, progress: Progress) -> Coroutine[Any, Any, Reply]:
        return self.transport._exchange(self, progress)

    def inactivity(self) -> float:
        return self.transport.inactivity(self.patience)


async def gather_or_cancel(coroutines: Sequence[Awaitable[T]]) -> list[T]:
    """Run concurrently; on the first failure cancel the rest (and wait for them) before raising."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
