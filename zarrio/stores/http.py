"""HttpStore: read a Zarr hierarchy from any web server, CDN or object-store HTTPS endpoint.

This module is also the worked example of a custom store: a read-only
:class:`~zarrio.stores.Store` with true ranged reads. It holds the reads and
the rules for answers. Sending requests (sessions, limits, retries, timeouts,
hedges, statistics) is the transport's job (``_http_transport``); reading many
ranges of one value (coalescing, multi-range requests, their fallback) is
``_http_ranges``'s; refusing writes and listing, ``_http_base``'s.

* ``get`` is a plain ``GET``; ``get_partial`` sends ``Range: bytes=a-b``;
  ``get_suffix`` sends ``Range: bytes=-n``; ``get_ranges`` coalesces nearby
  ranges and asks for the rest in one multi-range request where the server
  answers them (else one request each, concurrently); ``exists`` sends a
  one-byte ranged ``GET`` (unlike ``HEAD``, it works with presigned URLs).
* 404 and 403 mean "missing" (public S3 buckets answer 403 for absent keys);
  missing ``zarr.json`` answers are remembered until ``clear_cache()``.
* Never wrong bytes: a 206 must name exactly the requested range in
  ``Content-Range`` and carry exactly that many bytes. A 200 to a ranged
  request (the server ignores ``Range``) is sliced and remembered in
  ``ranges_ignored``. Reading at or past the end gives ``b""`` (a 416 whose
  ``Content-Range: bytes */N`` confirms it); any other 416 is an error.
* Ranged reads of a key are pinned to the first version (``ETag``) seen, sent
  as ``If-Match``: a replaced value is an ``ObjectChangedError``.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from ..errors import HttpStatusError, ObjectChangedError, StoreError, TransportError
from . import _multipart as mp
from ._http_base import HttpStoreBase
from ._http_options import HttpOptions
from ._http_ranges import read_ranges
from ._http_transport import HttpTransport, Reply
from ._retry import Retryable
from ._versions import VersionPins
from .base import ByteRange, validate_key

__all__ = ["HttpOptions", "HttpStore"]

T = TypeVar("T")
MISSING_STATUSES = frozenset({403, 404})
_URL_SAFE_KEY = re.compile(r"[A-Za-z0-9._~/-]*")  # keys made only of these go into URLs as they are


class HttpStore(HttpStoreBase):
    """A read-only store over HTTP(S). ``headers`` and ``params`` (query parameters; a query string
    in ``url`` is merged in) go with every request; ``session``: an ``aiohttp`` session of yours,
    used on its own loop and never closed here; ``options``: the fields of :class:`HttpOptions`
    (timeouts, retries, hedging, multi-range, coalescing)."""

    partial_reads = True
    consistency = "versioned"

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        **options: Any,
    ) -> None:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise StoreError("HttpStore needs an http:// or https:// URL", location=url)
        self.options = HttpOptions(**options)
        self.url = str(parsed.with_query(None).with_fragment(None)).rstrip("/")
        self.params = {**parsed.query, **(params or {})}
        self.headers = {"Accept-Encoding": "identity", **(headers or {})}
        self.max_concurrency = self.options.max_concurrency
        self.coalesce_max_gap, self.coalesce_max_size = self.options.coalesce_max_gap, self.options.coalesce_max_size
        self.retry_policy = self.options.retry_policy
        self.transport = HttpTransport(self.options, self.headers, self.params, session)
        self._init_args = (url, dict(headers or {}), dict(params or {}))
        self.clear_cache()

    def __getstate__(self) -> dict[str, Any]:
        url, headers, params = self._init_args
        return {"url": url, "headers": headers, "params": params, **asdict(self.options)}

    def __setstate__(self, config: dict[str, Any]) -> None:
        config = dict(config)
        HttpStore.__init__(self, config.pop("url"), **config)

    def __repr__(self) -> str:
        return f"HttpStore({self.url!r})"

    def clear_cache(self) -> None:
        """Forget remembered missing ``zarr.json`` keys, pinned versions and what the server was seen to do."""
        self._missing_metadata: set[str] = set()
        self._versions = VersionPins()
        #: the version (ETag) each key's latest answer came with, whole reads included (what the
        #: decoded-chunk cache labels entries with; ``_versions`` is only what ranged reads insist on)
        self._seen = VersionPins()
        #: True once the server answered a ranged request with the whole value
        self.ranges_ignored = False
        #: ``None`` until the server's first multi-range answer, then whether it answers them
        self.multirange_supported: bool | None = None if self.options.multirange else False

    async def current_version(self, key: str) -> str | None:
        """The ETag ``key`` holds now: a one-byte ranged GET, as ``exists`` (``HEAD`` where ranges are ignored)."""
        method, header = ("HEAD", None) if self.ranges_ignored else ("GET", "bytes=0-0")
        return await self._read(key, header, _etag_of, method=method)

    # ------------------------------------------------------------ reads
    async def get(self, key: str) -> bytes | None:
        return await self._read(key, None, self._whole)

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        if offset < 0 or length <= 0 or self.ranges_ignored:  # the checks and answers of get_ranges
            found = await self.get_ranges(key, [(offset, length)])
            return None if found is None else found[0]
        # one ranged GET (a plain chunk, a shard's index): nothing to coalesce or cut
        header = f"bytes={offset}-{offset + length - 1}"
        return await self._read(key, header, lambda reply: self._ranged(reply, offset, length, suffix=False))

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
        """Nearby ranges coalesced, the rest in one multi-range request where the server answers them."""
        if any(offset < 0 or length < 0 for offset, length in ranges):
            raise StoreError(f"negative byte range in {list(ranges)}", key=key, location=self.url)
        if not self.ranges_ignored and any(length for _, length in ranges):
            return await read_ranges(self, key, ranges)  # the span arithmetic: _http_ranges
        value = await (self.get(key) if any(length for _, length in ranges) else self._nothing(key))
        return None if value is None else [value[offset : offset + length] for offset, length in ranges]

    async def exists(self, key: str) -> bool:
        if self.ranges_ignored:
            return await self._read(key, None, lambda reply: True, method="HEAD") is not None
        return await self._read(key, "bytes=0-0", self._exists) is not None

    async def _nothing(self, key: str) -> bytes | None:
        return b"" if await self.exists(key) else None

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
        attempt = partial(self._attempt, key, url, range_header, interpret, method, whole_ok)
        return await self.transport.call(key, url, attempt)

    async def _attempt(
        self,
        key: str,
        url: str,
        range_header: str | None,
        interpret: Callable[[Reply], T],
        method: str,
        whole_ok: bool,
        retry: int,
    ) -> T | None:
        """One try of ``_read`` (``retry``: the tries before it)."""
        headers = {}
        if range_header is not None:
            headers["Range"] = range_header
            if (pinned := self._versions.get(key)) is not None:
                headers["If-Match"] = pinned
        hedge = range_header is not None
        reply = await self.transport.send(method, url, headers, retry=retry, hedge=hedge, whole_ok=whole_ok)
        if reply.status in MISSING_STATUSES:
            if key.endswith("zarr.json"):
                self._missing_metadata.add(key)
            return None
        if reply.status == 412:
            self._versions.unpin(key)
        result = interpret(reply)
        self._seen.pin(key, reply.headers.get("ETag"))
        if range_header is not None:
            self._versions.pin(key, reply.headers.get("ETag"))
        return result

    def _url_of(self, key: str) -> str:
        if _URL_SAFE_KEY.fullmatch(key):  # chunk keys and metadata names: nothing to quote
            return self.url + "/" + key
        return self.url + "/" + "/".join(quote(segment, safe="") for segment in key.split("/"))


def _etag_of(reply: Reply) -> str | None:
    """The version a reply names (none for a refusal: 412 says the pinned version is gone)."""
    return reply.headers.get("ETag") if reply.status in (200, 206, 416) else None
