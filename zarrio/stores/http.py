"""HttpStore: read a Zarr hierarchy from any web server, CDN or object-store HTTPS endpoint.

This module is also the worked example of a custom store: a read-only
:class:`~zarrio.stores.Store` with true ranged reads. It holds the reads and
the rules for answers; sending requests (sessions, limits, retries, timeouts,
hedges, statistics) is the transport's job (``_http_transport``).

* ``get`` is a plain ``GET``; ``get_partial`` sends ``Range: bytes=a-b``;
  ``get_suffix`` sends ``Range: bytes=-n``; ``get_ranges`` coalesces nearby
  ranges and asks for the rest in one multi-range request where the server
  supports them (else one request each, concurrently); ``exists`` sends a
  one-byte ranged ``GET`` (which, unlike ``HEAD``, works with presigned URLs).
* 404 and 403 mean "missing" (public S3 buckets answer 403 for absent keys);
  missing ``zarr.json`` answers are remembered until ``clear_cache()``.
* Never wrong bytes: a 206 must name exactly the requested range in
  ``Content-Range`` and carry exactly that many bytes. A 200 to a ranged
  request (the server ignores ``Range``) is sliced and remembered in
  ``ranges_ignored``. Reading at or past the end gives ``b""`` (a 416 whose
  ``Content-Range: bytes */N`` confirms it); any other 416 is an error.
* Ranged reads of a key are pinned to the first version (``ETag``) seen, sent
  as ``If-Match``: a replaced value is an ``ObjectChangedError``.

Public S3 buckets work through their HTTPS endpoints. Pass ``headers`` (e.g.
``Authorization``) or ``params`` (query parameters) for protected endpoints.
HTTP cannot list keys: browsing a hierarchy needs consolidated metadata.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from ..errors import HttpStatusError, ListingNotSupportedError, ObjectChangedError, StoreError, TransportError
from . import _multipart as mp
from ._http_transport import HttpTransport, Reply
from ._retry import Retryable, RetryPolicy
from ._stats import TransportStats
from ._versions import VersionPins
from .base import ByteRange, Store, coalesce_ranges, validate_key, validate_prefix

__all__ = ["HttpStore"]

T = TypeVar("T")
MISSING_STATUSES = frozenset({403, 404})
#: keys made only of these characters go into URLs as they are
_URL_SAFE_KEY = re.compile(r"[A-Za-z0-9._~/-]*")
#: an interpretation's answers for "the server refused the multi-range request" / "answered 416 to it"
_REFUSED: Any = object()
_UNSATISFIED: Any = object()


class HttpStore(Store):
    """A read-only store over HTTP(S); see the module docstring and docs/http.md for every option.

    ``timeout``: deadline of one store call, retries and hedges included (``DeadlineExceededError``;
    default ``total_timeout``, 120 s). ``connect_timeout`` / ``read_timeout`` (inactivity) are upper
    bounds: measured latencies bring them down to ``*_timeout_min`` at least. ``hedge_share``: at most
    this share of requests is hedged (0 turns hedging off); ``hedge_min_delay``: the shortest stall
    that is hedged. ``multirange``: try multi-range requests (detected once per store).
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
        timeout: float | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 10.0,
        connect_timeout_min: float = 1.0,
        read_timeout_min: float = 0.25,
        total_timeout: float | None = 120.0,
        min_throughput: float = 1024.0,
        throughput_grace: float = 2.0,
        retries: int = 6,
        backoff_initial: float = 0.05,
        backoff_max: float = 5.0,
        retry_deadline: float = 60.0,
        hedge_share: float = 0.05,
        hedge_min_delay: float = 0.05,
        multirange: bool = True,
        coalesce_max_gap: int = 64 * 1024,
        coalesce_max_size: int = Store.coalesce_max_size,
    ) -> None:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise StoreError("HttpStore needs an http:// or https:// URL", location=url)
        if max_concurrency < 1:
            raise StoreError(f"max_concurrency must be at least 1, got {max_concurrency}", location=url)
        if not 0 <= hedge_share <= 1:
            raise StoreError(f"hedge_share must be between 0 and 1, got {hedge_share}", location=url)
        self._config = {k: v for k, v in locals().items() if k not in ("self", "parsed", "session", "__class__")}
        self.url = str(parsed.with_query(None).with_fragment(None)).rstrip("/")
        self.params = {**parsed.query, **(params or {})}
        self.headers = {"Accept-Encoding": "identity", **(headers or {})}
        self.max_concurrency = max_concurrency
        self.coalesce_max_gap, self.coalesce_max_size = coalesce_max_gap, coalesce_max_size
        self.retry_policy = RetryPolicy(retries, backoff_initial, backoff_max, retry_deadline)
        self.transport = HttpTransport(
            headers=self.headers, params=self.params, session=session, max_concurrency=max_concurrency,
            connect_timeout=connect_timeout, read_timeout=read_timeout, connect_timeout_min=connect_timeout_min,
            read_timeout_min=read_timeout_min, deadline=timeout if timeout is not None else total_timeout,
            deadline_name="timeout" if timeout is not None else "total_timeout",
            min_throughput=min_throughput, throughput_grace=throughput_grace, retry_policy=self.retry_policy,
            hedge_share=hedge_share, hedge_min_delay=hedge_min_delay,
        )  # fmt: skip
        #: True once the server answered a ranged request with the whole value
        self.ranges_ignored = False
        #: multi-range requests: ``None`` until the server's first answer to one, then whether it supports them
        self.multirange_supported: bool | None = None if multirange else False
        self._missing_metadata: set[str] = set()
        self._versions = VersionPins()

    def __getstate__(self) -> dict[str, Any]:
        return dict(self._config)

    def __setstate__(self, config: dict[str, Any]) -> None:
        config = dict(config)
        HttpStore.__init__(self, config.pop("url"), **config)

    def __repr__(self) -> str:
        return f"HttpStore({self.url!r})"

    def clear_cache(self) -> None:
        """Forget remembered missing ``zarr.json`` keys, pinned versions and what the server was seen to do."""
        self._missing_metadata.clear()
        self._versions.clear()
        self.ranges_ignored = False
        self.multirange_supported = None if self._config["multirange"] else False

    def stats(self) -> TransportStats:
        """Requests, bytes, retries, hedges, multi-range use and latency percentiles so far."""
        return self.transport.snapshot()

    def reset_stats(self) -> None:
        self.transport.stats.reset()

    # ------------------------------------------------------------ reads
    async def get(self, key: str) -> bytes | None:
        return await self._read(key, None, self._whole)

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        if offset < 0 or length < 0:
            raise StoreError(f"negative byte range ({offset}, {length})", key=key, location=self.url)
        found = await self.get_ranges(key, [(offset, length)])
        return None if found is None else found[0]

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        found = await self.get_suffix_with_size(key, length)
        return None if found is None else found[0]

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        if length < 0:
            raise StoreError(f"negative suffix length {length}", key=key, location=self.url)
        if length == 0:
            return (b"", None) if await self.exists(key) else None
        if self.ranges_ignored:
            value = await self.get(key)
            return None if value is None else (value[max(0, len(value) - length) :], len(value))

        def interpret(reply: Reply) -> tuple[bytes, int | None]:
            data = self._ranged(reply, 0, length, suffix=True)
            if reply.status != 206:
                return data, len(reply.body)
            return data, mp.content_range(reply.headers.get("Content-Range", ""), reply.url)[2]

        return await self._read(key, f"bytes=-{length}", interpret)

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        if any(offset < 0 or length < 0 for offset, length in ranges):
            raise StoreError(f"negative byte range in {list(ranges)}", key=key, location=self.url)
        wanted = [i for i, (_, length) in enumerate(ranges) if length > 0]
        if not wanted or self.ranges_ignored:
            value = await (self.get(key) if wanted else self._nothing(key))
            return None if value is None else [value[offset : offset + length] for offset, length in ranges]
        merged = coalesce_ranges(
            [ranges[i] for i in wanted], max_gap=self.coalesce_max_gap, max_size=self.coalesce_max_size
        )
        spans = [span for span, _ in merged]
        batches = [spans[i : i + mp.MAX_RANGES] for i in range(0, len(spans), mp.MAX_RANGES)]
        if len(batches) == 1:  # one request: no task, no gather
            parts = await self._spans(key, spans)
        else:
            found = await _gather([self._spans(key, batch) for batch in batches])
            parts = None if any(p is None for p in found) else [part for p in found if p for part in p]
        if parts is None:
            return None
        out: builtins.list[bytes] = [b""] * len(ranges)
        for ((start, _), members), data in zip(merged, parts, strict=True):
            for member in members:
                offset, length = ranges[wanted[member]]
                out[wanted[member]] = bytes(data[offset - start : offset - start + length])
        return out

    async def exists(self, key: str) -> bool:
        if self.ranges_ignored:
            return await self._read(key, None, lambda reply: True, method="HEAD") is not None
        return await self._read(key, "bytes=0-0", self._exists) is not None

    async def _nothing(self, key: str) -> bytes | None:
        return b"" if await self.exists(key) else None

    async def _spans(self, key: str, spans: builtins.list[ByteRange]) -> Sequence[bytes | memoryview] | None:
        """Each span's bytes (all of one version of the value): one multi-range request, or one per span."""
        refused_with_416 = False
        if len(spans) > 1 and self.multirange_supported is not False:
            found = await self._read(key, mp.multirange_header(spans), lambda r: self._multi(r, spans), whole_ok=False)
            if found is not _REFUSED and found is not _UNSATISFIED:
                if found is not None:
                    self.transport.stats.count("multirange_requests")
                return found
            self.transport.stats.count("multirange_fallbacks")
            refused_with_416 = found is _UNSATISFIED
        parts: builtins.list[tuple[bytes, str | None] | None]
        if len(spans) == 1:
            ((offset, length),) = spans
            parts = [await self._read(key, f"bytes={offset}-{offset + length - 1}", self._tagged(offset, length))]
        else:
            parts = await _gather([self._read(key, f"bytes={o}-{o + n - 1}", self._tagged(o, n)) for o, n in spans])
        found_parts = [part for part in parts if part is not None]
        if len(found_parts) < len(parts):
            return None
        if len(spans) > 1 and refused_with_416 and any(data for data, _ in found_parts):
            self.multirange_supported = False  # the ranges exist: the 416 refused the multi-range request
        if len({etag for _, etag in found_parts if etag}) > 1:
            self._versions.unpin(key)
            message = "the object changed during a batched read (ETags differ)"
            raise ObjectChangedError(message, key=key, location=self.url)
        return [data for data, _ in found_parts]

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
        await self.transport.close()

    def expect_reads(self, count: int) -> None:
        """Open the connections about ``count`` reads that follow shortly will need (see docs/http.md)."""
        self.transport.expect_reads(self.url, count)

    async def _session(self) -> aiohttp.ClientSession:
        return await self.transport.session()

    # ------------------------------------------------------------ the rules for answers
    def _whole(self, reply: Reply) -> bytes:
        if reply.status != 200:
            raise self._status_error(reply)
        return reply.body

    def _exists(self, reply: Reply) -> bool:
        if reply.status == 200 and len(reply.body) > 1:
            self.ranges_ignored = True
        unsatisfiable = reply.status == 416 and mp.unsatisfied_size(reply.headers.get("Content-Range", "")) is not None
        if reply.status in (200, 206) or unsatisfiable:
            return True
        raise self._status_error(reply)

    def _ranged(self, reply: Reply, offset: int, length: int, *, suffix: bool) -> bytes:
        if reply.status == 200:  # the server sent the whole value
            body = reply.body
            if (len(body) > length) if suffix else (offset > 0 or len(body) > offset + length):
                self.ranges_ignored = True
            return body[max(0, len(body) - length) :] if suffix else body[offset : offset + length]
        if reply.status == 416:
            size = mp.unsatisfied_size(reply.headers.get("Content-Range", ""))
            if size is not None and ((suffix and size == 0) or (not suffix and offset >= size)):
                return b""
            raise self._status_error(reply)
        if reply.status != 206:
            raise self._status_error(reply)
        first, last, size = mp.content_range(reply.headers.get("Content-Range", ""), reply.url)
        if suffix:
            ok = size is not None and (first, last) == (max(0, size - length), size - 1)
        else:
            ends_early = size is not None and last == size - 1 < offset + length - 1
            ok = first == offset and (last == offset + length - 1 or ends_early)
        if not ok:
            message = f"Content-Range {reply.headers.get('Content-Range')!r} does not match the requested range"
            raise TransportError(message, location=reply.url)
        if len(reply.body) != last - first + 1:
            error = TransportError(f"short body: {len(reply.body)} of {last - first + 1} bytes", location=reply.url)
            raise Retryable(error)
        return reply.body

    def _tagged(self, offset: int, length: int) -> Callable[[Reply], tuple[bytes, str | None]]:
        return lambda reply: (self._ranged(reply, offset, length, suffix=False), reply.headers.get("ETag"))

    def _multi(self, reply: Reply, spans: builtins.list[ByteRange]) -> builtins.list[memoryview]:
        """A multi-range answer's parts, or ``_REFUSED`` (remembered) when the server does not do them."""
        boundary = mp.boundary_of(reply.headers.get("Content-Type", ""))
        if reply.status == 206 and boundary is not None:
            self.multirange_supported = True
            return mp.pick_ranges(mp.parse_multipart(reply.body, boundary, reply.url), spans, reply.url)
        if reply.status == 206:  # one range back: the server merged them, or answered only the first
            first, last, size = mp.content_range(reply.headers.get("Content-Range", ""), reply.url)
            if len(reply.body) == last - first + 1 and first <= spans[0][0] and sum(spans[-1]) - 1 <= last:
                return mp.pick_ranges([(first, last, size, memoryview(reply.body))], spans, reply.url)
        if reply.status == 416:  # no range satisfiable, or a refusal: the single ranges will tell
            return _UNSATISFIED  # type: ignore[no-any-return]
        if reply.status in (200, 206, 400, 501):
            self.multirange_supported = False
            return _REFUSED  # type: ignore[no-any-return]
        raise self._status_error(reply)

    def _status_error(self, reply: Reply) -> TransportError:
        if reply.status == 412:
            return ObjectChangedError(
                "the object changed since it was first read (If-Match failed)", location=reply.url
            )
        return HttpStatusError(f"unexpected HTTP status {reply.status}", status=reply.status, location=reply.url)

    # ------------------------------------------------------------ one logical read
    async def _read(
        self,
        key: str,
        range_header: str | None,
        interpret: Callable[[Reply], T],
        method: str = "GET",
        whole_ok: bool = True,
    ) -> T | None:
        """One logical read with retries (and hedges for ranged reads); ``None`` when the key is missing."""
        validate_key(key)
        if key in self._missing_metadata:
            return None
        url = self._url_of(key)

        async def attempt(patience: float) -> T | None:
            headers = {}
            if range_header is not None:
                headers["Range"] = range_header
                pinned = self._versions.get(key)
                if pinned is not None:
                    headers["If-Match"] = pinned
            reply = await self.transport.send(
                method, url, headers, patience=patience, hedge=range_header is not None, whole_ok=whole_ok
            )
            if reply.status in MISSING_STATUSES:
                if key.endswith("zarr.json"):
                    self._missing_metadata.add(key)
                return None
            if reply.status == 412:
                self._versions.unpin(key)
            result = interpret(reply)
            if range_header is not None:
                self._versions.pin(key, reply.headers.get("ETag"))
            return result

        return await self.transport.call(key, url, attempt)

    def _url_of(self, key: str) -> str:
        if _URL_SAFE_KEY.fullmatch(key):  # chunk keys and metadata names: nothing to quote
            return self.url + "/" + key
        return self.url + "/" + "/".join(quote(segment, safe="") for segment in key.split("/"))


async def _gather(coroutines: builtins.list[Any]) -> builtins.list[Any]:
    """Run concurrently; on the first failure cancel the rest (and wait for them) before raising."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
