"""HttpStore: read a Zarr hierarchy from any web server, CDN or object-store HTTPS endpoint.

This module is also the worked example of a custom store: a read-only
:class:`~zarrio.stores.Store` with true ranged reads.

* ``get`` is a plain ``GET``; ``get_partial`` sends ``Range: bytes=a-b``;
  ``get_suffix`` sends ``Range: bytes=-n`` (no ``HEAD`` first); ``get_ranges``
  coalesces nearby ranges and sends the merged requests concurrently;
  ``exists`` sends a one-byte ranged ``GET`` (which, unlike ``HEAD``, also
  works with presigned ``GET`` URLs). Multi-range requests are not used.
* 404 and 403 mean "missing" (public S3 buckets answer 403 for absent keys).
  Missing ``zarr.json`` answers are remembered per store; ``clear_cache()``
  forgets them.
* Never wrong bytes: a 206 must carry a ``Content-Range`` naming exactly the
  requested range and a body of exactly that length. A server that ignores
  ``Range`` (200 with the whole body) is handled by slicing and remembered in
  ``ranges_ignored``; later ranged reads then fetch whole values. Reading at or
  past the end of a value gives ``b""`` like every other store (a 416 whose
  ``Content-Range: bytes */N`` confirms it, e.g. any range of an empty
  object); any other 416 is an :class:`~zarrio.errors.HttpStatusError`.
* Transient failures (connection errors and resets, timeouts, truncated
  bodies, 429, 500, 502, 503, 504) are retried with exponential backoff and
  full jitter, honouring ``Retry-After``; then a
  :class:`~zarrio.errors.TransportError` (or ``HttpStatusError``) names the
  URL and the last failure. Within one ``get_ranges`` call, ``ETag`` s of the
  responses must agree, else the object changed mid-read (``TransportError``;
  so does a 412).
* One ``aiohttp.ClientSession`` (keep-alive pool of ``max_concurrency``
  connections) and one request limiter per event loop, created lazily, so the
  same store works from the sync facade's loop and from the caller's own
  loop. ``await store.close()`` closes the current loop's session; sessions
  still open when their loop shuts down (``asyncio.run``) are closed then.
  While a sharded read waits for its shard indexes, the connections its
  inner-chunk reads will need are opened (``expect_reads``), so no read waits
  for a handshake once the indexes arrive.
* A store pickles as its URL and options (never a session).

Public S3 buckets work through their HTTPS endpoints, e.g.
``HttpStore("https://my-bucket.s3.eu-west-1.amazonaws.com/prefix/data.zarr")``.
For a presigned or token-protected endpoint pass ``headers`` (e.g.
``{"Authorization": "Bearer ..."}``) or ``params`` (query parameters added to
every URL). HTTP cannot list keys: browsing a hierarchy needs consolidated
metadata.
"""

from __future__ import annotations

import asyncio
import builtins
import random
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ..errors import HttpStatusError, ListingNotSupportedError, ObjectChangedError, StoreError, TransportError
from ._http_pool import LoopState, close_shared_session, open_connections, shared_session
from ._retry import RETRY_STATUSES, Retryable, RetryPolicy, call_with_retries, parse_retry_after
from .base import ByteRange, Store, coalesce_ranges, validate_key, validate_prefix

__all__ = ["HttpStore"]

T = TypeVar("T")
MISSING_STATUSES = frozenset({403, 404})
#: keys made only of these characters go into URLs as they are
_URL_SAFE_KEY = re.compile(r"[A-Za-z0-9._~/-]*")
#: how many keys' versions (ETags) ranged reads stay pinned to
VERSIONS_KEPT = 4096
_Loop = asyncio.AbstractEventLoop


@dataclass(frozen=True)
class _Reply:
    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


class HttpStore(Store):
    """A read-only store over HTTP(S). See the module docstring for the behaviour.

    Settings: ``headers`` and ``params`` go with every request (a query string
    in ``url`` is merged into ``params``); ``session``: an ``aiohttp``
    session you own, used on its own loop only and never closed here;
    ``max_concurrency``: requests in flight per event loop, also the size of
    the connection pool (128: with 50 ms of latency, 8/16/32/64/128 in flight
    read 64 KiB ranges at 150/280/510/840/1160 requests/s, and 256 random
    tiles at 20 ms take two round trips instead of four at 64; a local nginx
    loses nothing at 128); ``connect_timeout``,
    ``read_timeout`` (seconds without a byte), ``total_timeout`` (deadline of
    one store call, retries included; 120 s; ``None``: none);
    ``min_throughput`` (bytes/s, default 1024; a body slower than that after
    ``throughput_grace`` seconds is abandoned with a TransportError, since a
    trickle never trips the inactivity timeout; 0 turns it off); ``retries``,
    ``backoff_initial``, ``backoff_max``, ``retry_deadline`` (no retry waits
    past it); ``coalesce_max_gap`` (64 KiB: over a network a 64 KiB gap costs far less than a round
    trip; 256 random tiles of 4096² shards take 114 instead of 172 requests on the dev server),
    ``coalesce_max_size`` for ``get_ranges``.
    """

    read_only = True
    listable = False
    partial_reads = True
    versioned_reads = True

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_concurrency: int = 128,
        connect_timeout: float = 10.0,
        read_timeout: float = 10.0,
        total_timeout: float | None = 120.0,
        min_throughput: float = 1024.0,
        throughput_grace: float = 2.0,
        retries: int = 6,
        backoff_initial: float = 0.05,
        backoff_max: float = 5.0,
        retry_deadline: float = 60.0,
        coalesce_max_gap: int = 64 * 1024,
        coalesce_max_size: int = Store.coalesce_max_size,
    ) -> None:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise StoreError("HttpStore needs an http:// or https:// URL", location=url)
        if max_concurrency < 1:
            raise StoreError(f"max_concurrency must be at least 1, got {max_concurrency}", location=url)
        self._config: dict[str, Any] = {
            "url": url,
            "headers": dict(headers or {}),
            "params": dict(params or {}),
            "max_concurrency": max_concurrency,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "total_timeout": total_timeout,
            "retries": retries,
            "backoff_initial": backoff_initial,
            "backoff_max": backoff_max,
            "retry_deadline": retry_deadline,
            "min_throughput": min_throughput,
            "throughput_grace": throughput_grace,
            "coalesce_max_gap": coalesce_max_gap,
            "coalesce_max_size": coalesce_max_size,
        }
        self.url = str(parsed.with_query(None).with_fragment(None)).rstrip("/")
        self.params = {**parsed.query, **(params or {})}
        self.headers = {"Accept-Encoding": "identity", **(headers or {})}
        self.max_concurrency = max_concurrency
        self.coalesce_max_gap = coalesce_max_gap
        self.coalesce_max_size = coalesce_max_size
        self.total_timeout = total_timeout
        #: a body arriving slower than this (bytes/s, after ``throughput_grace`` s) is abandoned: a trickle
        #: never trips the inactivity timeout, and would otherwise hold a read for as long as it lasts
        self.min_throughput = min_throughput
        self.throughput_grace = throughput_grace
        self.retry_policy = RetryPolicy(retries, backoff_initial, backoff_max, retry_deadline)
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        #: True once the server answered a ranged request with the whole value
        self.ranges_ignored = False
        self._missing_metadata: set[str] = set()
        #: ETag of the version of each key that ranged reads are pinned to (bounded, oldest dropped)
        self._versions: OrderedDict[str, str] = OrderedDict()
        self._user_session = session
        self._lock = threading.Lock()
        #: stores with the same connection settings share one session per loop (see ``_http_pool``)
        self._session_key = (max_concurrency, connect_timeout, read_timeout)
        self._loops: weakref.WeakKeyDictionary[_Loop, LoopState] = weakref.WeakKeyDictionary()
        #: the loop used last and its state: one weakref call per request instead of a dictionary lookup
        self._last: tuple[weakref.ref[_Loop], LoopState] | None = None
        self._rng = random.Random()

    # ------------------------------------------------------------ pickling, repr
    def __getstate__(self) -> dict[str, Any]:
        return dict(self._config)

    def __setstate__(self, config: dict[str, Any]) -> None:
        config = dict(config)
        HttpStore.__init__(self, config.pop("url"), **config)

    def __repr__(self) -> str:
        return f"HttpStore({self.url!r})"

    def clear_cache(self) -> None:
        """Forget remembered missing ``zarr.json`` keys, pinned versions and the ``ranges_ignored`` verdict."""
        self._missing_metadata.clear()
        self._versions.clear()
        self.ranges_ignored = False

    # ------------------------------------------------------------ reads
    async def get(self, key: str) -> bytes | None:
        return await self._read(key, None, lambda reply: self._whole(reply))

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        if offset < 0 or length < 0:
            raise StoreError(f"negative byte range ({offset}, {length})", key=key, location=self.url)
        if length == 0:
            return b"" if await self.exists(key) else None
        if self.ranges_ignored:
            value = await self.get(key)
            return None if value is None else value[offset : offset + length]
        header = f"bytes={offset}-{offset + length - 1}"
        return await self._read(key, header, lambda reply: self._ranged(reply, offset, length, suffix=False))

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        if length < 0:
            raise StoreError(f"negative suffix length {length}", key=key, location=self.url)
        if length == 0:
            return b"" if await self.exists(key) else None
        if self.ranges_ignored:
            value = await self.get(key)
            return None if value is None else value[max(0, len(value) - length) :]
        return await self._read(key, f"bytes=-{length}", lambda reply: self._ranged(reply, 0, length, suffix=True))

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        if length <= 0 or self.ranges_ignored:
            value = await self.get(key)
            return None if value is None else (value[max(0, len(value) - length) :], len(value))

        def interpret(reply: _Reply) -> tuple[bytes, int | None]:
            data = self._ranged(reply, 0, length, suffix=True)
            size = _content_range(reply)[2] if reply.status == 206 else len(reply.body)
            return data, size

        return await self._read(key, f"bytes=-{length}", interpret)

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        if any(offset < 0 or length < 0 for offset, length in ranges):
            raise StoreError(f"negative byte range in {list(ranges)}", key=key, location=self.url)
        wanted = [i for i, (_, length) in enumerate(ranges) if length > 0]
        if not wanted:
            return [b"" for _ in ranges] if await self.exists(key) else None
        if self.ranges_ignored:
            value = await self.get(key)
            return None if value is None else [value[offset : offset + length] for offset, length in ranges]
        merged = coalesce_ranges(
            [ranges[i] for i in wanted], max_gap=self.coalesce_max_gap, max_size=self.coalesce_max_size
        )
        if len(merged) == 1:  # one request: no task, no gather
            (offset, length), _ = merged[0]
            parts = [await self._tagged_range(key, offset, length)]
        else:
            tasks = [asyncio.ensure_future(self._tagged_range(key, o, n)) for (o, n), _ in merged]
            try:
                parts = await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        if len({etag for _, etag in parts if etag}) > 1:
            self._versions.pop(key, None)
            raise ObjectChangedError(
                "the object changed during a batched read (ETags differ)", key=key, location=self.url
            )
        out: builtins.list[bytes] = [b""] * len(ranges)
        for ((start, _), members), (data, _) in zip(merged, parts, strict=True):
            if data is None:
                return None
            for member in members:
                offset, length = ranges[wanted[member]]
                out[wanted[member]] = data[offset - start : offset - start + length]
        return out

    async def exists(self, key: str) -> bool:
        if self.ranges_ignored:
            return await self._read(key, None, lambda reply: True, method="HEAD") is not None
        return await self._read(key, "bytes=0-0", lambda reply: self._exists(reply)) is not None

    # ------------------------------------------------------------ writes and listing: not over HTTP
    async def set(self, key: str, value: bytes) -> None:
        self._check_writable()

    async def erase(self, key: str) -> None:
        self._check_writable()

    async def erase_prefix(self, prefix: str) -> None:
        self._check_writable()

    async def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        raise ListingNotSupportedError(
            "HTTP servers cannot list keys; browsing a hierarchy over HTTP needs consolidated metadata "
            "(zarrio.consolidate_metadata on the source)",
            key=prefix,
            location=self.url,
        )

    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        await self.list(prefix)
        return [], []

    async def close(self) -> None:
        """Close the current loop's session (not a user's); a later read opens a new one."""
        await close_shared_session(self._session_key)

    # ------------------------------------------------------------ response interpretation
    def _whole(self, reply: _Reply) -> bytes:
        if reply.status != 200:
            raise self._status_error(reply)
        return reply.body

    def _exists(self, reply: _Reply) -> bool:
        if reply.status == 200 and len(reply.body) > 1:
            self.ranges_ignored = True
        if reply.status in (200, 206) or (reply.status == 416 and _unsatisfied_size(reply) is not None):
            return True
        raise self._status_error(reply)

    def _ranged(self, reply: _Reply, offset: int, length: int, *, suffix: bool) -> bytes:
        if reply.status == 200:  # the server sent the whole value
            body = reply.body
            if (len(body) > length) if suffix else (offset > 0 or len(body) > offset + length):
                self.ranges_ignored = True
            return body[max(0, len(body) - length) :] if suffix else body[offset : offset + length]
        if reply.status == 416:
            size = _unsatisfied_size(reply)
            if size is not None and ((suffix and size == 0) or (not suffix and offset >= size)):
                return b""
            raise self._status_error(reply)
        if reply.status != 206:
            raise self._status_error(reply)
        first, last, size = _content_range(reply)
        if suffix:
            ok = size is not None and (first, last) == (max(0, size - length), size - 1)
        else:
            ends_early = size is not None and last == size - 1 < offset + length - 1
            ok = first == offset and (last == offset + length - 1 or ends_early)
        if not ok:
            raise TransportError(
                f"Content-Range {reply.headers.get('Content-Range')!r} does not match the requested range",
                location=reply.url,
            )
        if len(reply.body) != last - first + 1:
            error = TransportError(f"short body: {len(reply.body)} of {last - first + 1} bytes", location=reply.url)
            raise Retryable(error)
        return reply.body

    async def _tagged_range(self, key: str, offset: int, length: int) -> tuple[bytes | None, str | None]:
        header = f"bytes={offset}-{offset + length - 1}"

        def interpret(reply: _Reply) -> tuple[bytes, str | None]:
            return self._ranged(reply, offset, length, suffix=False), reply.headers.get("ETag")

        result = await self._read(key, header, interpret)
        return (None, None) if result is None else result

    def _status_error(self, reply: _Reply) -> TransportError:
        if reply.status == 412:
            return ObjectChangedError(
                "the object changed since it was first read (If-Match failed)", location=reply.url
            )
        return HttpStatusError(f"unexpected HTTP status {reply.status}", status=reply.status, location=reply.url)

    # ------------------------------------------------------------ transport
    async def _read(
        self, key: str, range_header: str | None, interpret: Callable[[_Reply], T], method: str = "GET"
    ) -> T | None:
        """One logical read with retries; ``None`` when the key is missing."""
        validate_key(key)
        if key in self._missing_metadata:
            return None
        url = self._url_of(key)

        async def attempt() -> T | None:
            pinned = self._versions.get(key) if range_header is not None else None
            reply = await self._send(method, url, range_header, pinned)
            if reply.status in MISSING_STATUSES:
                if key.endswith("zarr.json"):
                    self._missing_metadata.add(key)
                return None
            if reply.status == 412:
                self._versions.pop(key, None)
            result = interpret(reply)
            if range_header is not None:
                self._pin(key, reply.headers.get("ETag"))
            return result

        try:
            async with asyncio.timeout(self.total_timeout):
                return await call_with_retries(attempt, self.retry_policy, self._rng)
        except StoreError as error:
            error.key = key
            raise
        except TimeoutError as error:
            message = f"no complete answer within total_timeout={self.total_timeout} s"
            raise TransportError(message, key=key, location=url) from error

    def _url_of(self, key: str) -> str:
        if _URL_SAFE_KEY.fullmatch(key):  # chunk keys and metadata names: nothing to quote
            return self.url + "/" + key
        return self.url + "/" + "/".join(quote(segment, safe="") for segment in key.split("/"))

    def _pin(self, key: str, etag: str | None) -> None:
        """Remember the version a ranged read saw, so later ranged reads of the key
        (a shard's inner chunks after its index) must come from that version."""
        if not etag or etag.startswith("W/"):
            return
        self._versions[key] = etag
        self._versions.move_to_end(key)
        while len(self._versions) > VERSIONS_KEPT:
            self._versions.popitem(last=False)

    async def _send(self, method: str, url: str, range_header: str | None, if_match: str | None = None) -> _Reply:
        """One HTTP request; transient failures become :class:`Retryable`."""
        headers = dict(self.headers)
        if range_header is not None:
            headers["Range"] = range_header
        if if_match is not None:
            headers["If-Match"] = if_match
        state = self._on_loop()
        session = state.session
        if session is None or session.closed:
            session = await self._session()
        async with state.limiter:
            state.in_flight += 1
            try:
                async with session.request(
                    method, URL(url, encoded=True), headers=headers, params=self.params or None, timeout=self._timeout
                ) as response:
                    body = await self._read_body(response, url) if method != "HEAD" else b""
                    reply = _Reply(url, response.status, response.headers, body)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                what = type(error).__name__ + (f": {error}" if str(error) else "")
                raise Retryable(TransportError(f"{method} failed ({what})", location=url)) from error
            finally:
                state.in_flight -= 1
        if reply.status in RETRY_STATUSES:
            status_error = HttpStatusError(f"HTTP status {reply.status}", status=reply.status, location=url)
            raise Retryable(status_error, parse_retry_after(reply.headers.get("Retry-After")))
        encoding = reply.headers.get("Content-Encoding", "identity").lower()
        if encoding != "identity" and reply.status < 300:
            raise TransportError(f"the server sent Content-Encoding {encoding!r}; only identity is read", location=url)
        return reply

    async def _read_body(self, response: aiohttp.ClientResponse, url: str) -> bytes:
        """The response body, abandoned with an error when it trickles in too slowly."""
        if self.min_throughput <= 0:
            return await response.read()
        loop = asyncio.get_running_loop()
        started = loop.time()
        parts: builtins.list[bytes] = []
        received = 0
        async for part in response.content.iter_any():
            parts.append(part)
            received += len(part)
            elapsed = loop.time() - started
            if elapsed > self.throughput_grace and received < self.min_throughput * elapsed:
                raise TransportError(
                    f"the body arrives too slowly ({received} bytes in {elapsed:.1f} s, "
                    f"below min_throughput={self.min_throughput:g} bytes/s)",
                    location=url,
                )
        return b"".join(parts)

    def _on_loop(self) -> LoopState:
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
                state = self._loops[loop] = LoopState(asyncio.Semaphore(self.max_concurrency))
            self._last = (weakref.ref(loop), state)
        return state

    async def _session(self) -> aiohttp.ClientSession:
        state = self._on_loop()
        user = self._user_session
        if user is not None and not user.closed and getattr(user, "_loop", None) is asyncio.get_running_loop():
            state.session = user
        else:
            state.session = await shared_session(self._session_key, self._new_session)
        return state.session

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.max_concurrency, limit_per_host=0, ttl_dns_cache=300)
        return aiohttp.ClientSession(connector=connector, auto_decompress=False, timeout=self._timeout)

    # ------------------------------------------------------------ connection warm-up
    def expect_reads(self, count: int) -> None:
        """Open keep-alive connections for about ``count`` reads that will follow shortly.

        The engine calls this while a sharded read waits for its shard indexes:
        the connections its inner-chunk reads need are opened meanwhile, so none
        of those reads waits for a TCP (and TLS) handshake after the index
        arrives. At most ``max_concurrency`` connections in all, counting the
        requests in flight; nothing with a session of your own (its settings,
        such as a proxy, are not known here); never an HTTP request.
        """
        if count <= 0 or self._user_session is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        state = self._on_loop()
        if state.expected == 0:
            # two loop iterations later: requests started in this iteration (the index reads that
            # the announced reads wait for) have taken their connections by then
            loop.call_soon(loop.call_soon, self._warm_up, state)
        state.expected += count

    def _warm_up(self, state: LoopState) -> None:
        wanted = min(state.expected, self.max_concurrency) - state.in_flight
        state.expected = 0
        if wanted > 0:
            task = asyncio.ensure_future(self._open_connections(wanted))
            state.warm_ups.add(task)
            task.add_done_callback(state.warm_ups.discard)

    async def _open_connections(self, count: int) -> None:
        try:
            await open_connections(await self._session(), self.url, count, self._timeout)
        except Exception:  # only a hint: whatever went wrong here, the reads meet it themselves
            return


def _content_range(reply: _Reply) -> tuple[int, int, int | None]:
    """``(first, last, size)`` from ``Content-Range: bytes first-last/size`` (size ``None`` for ``*``)."""
    value = reply.headers.get("Content-Range", "")
    try:
        unit, _, spec = value.strip().partition(" ")
        span, _, total = spec.partition("/")
        first_text, _, last_text = span.partition("-")
        first, last = int(first_text), int(last_text)
        size = None if total == "*" else int(total)
    except ValueError:
        raise TransportError(f"a 206 answer without a valid Content-Range ({value!r})", location=reply.url) from None
    if unit.lower() != "bytes" or first > last or (size is not None and last >= size):
        raise TransportError(f"a 206 answer with an impossible Content-Range ({value!r})", location=reply.url)
    return first, last, size


def _unsatisfied_size(reply: _Reply) -> int | None:
    """The value's size from a 416's ``Content-Range: bytes */N``, if the server said it."""
    value = reply.headers.get("Content-Range", "").strip()
    if value.lower().startswith("bytes */") and value[8:].isdigit():
        return int(value[8:])
    return None
