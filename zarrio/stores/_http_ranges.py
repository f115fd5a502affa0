"""HttpStore's reads of many ranges of one value: coalescing, multi-range requests, their fallback.

:func:`read_ranges` merges nearby ranges into spans, asks for at most
:data:`~._multipart.MAX_RANGES` spans per request and slices every range out
of its span. How near is near depends on what a span costs: asked for one
request each, a span is a round trip, so gaps up to ``coalesce_max_gap`` are
fetched to save one; within one multi-range request a span is only a part
header of about 100 bytes, so gaps are fetched only up to
``multirange_max_gap`` (unless that needs more requests), and a multi-range
refusal regroups the spans by ``coalesce_max_gap`` before they are asked for
one by one. :func:`read_spans`
asks for the spans in one multi-range request while the server is not known to
refuse them (``HttpStore.multirange_supported`` is ``None`` or ``True``), else
with one ranged request per span, concurrently; all of them must name one
version (ETag). What an answer to a multi-range request means:

* a ``multipart/byteranges`` 206, or a single 206 covering every span: the
  spans' bytes, every part's ``Content-Range`` checked (``_multipart``); the
  server answers multi-range requests;
* a 200 (its body is not read), 400 or 501: a refusal, remembered; the spans
  are asked for one at a time;
* a 416: no span satisfiable, or a refusal; the single ranges tell (any bytes
  among them: it was a refusal);
* any other status: the store's status rules (``HttpStore._status_error``).

Every read goes through ``HttpStore._read``, so the rules of one ranged read
(retries, hedges, version pinning, the answers that mean "missing") hold here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import ObjectChangedError
from . import _multipart as mp
from ._http_transport import Reply, gather_or_cancel
from ._ranges import ByteRange, coalesce_ranges

if TYPE_CHECKING:
    from .http import HttpStore

__all__ = ["read_ranges", "read_spans"]

_Parts = Sequence[bytes | memoryview]


async def read_ranges(store: HttpStore, key: str, ranges: Sequence[ByteRange]) -> list[bytes] | None:
    """The bytes of each ``(offset, length)`` range of ``key`` (``b""`` for empty ones), or ``None``."""
    wanted = [i for i, (_, length) in enumerate(ranges) if length > 0]
    asked = [ranges[i] for i in wanted]
    wide_gap, limit = store.coalesce_max_gap, store.coalesce_max_size
    if store.multirange_supported is not False and len(asked) > 1:
        merged = coalesce_ranges(asked, max_gap=min(wide_gap, store.options.multirange_max_gap), max_size=limit)
        if len(merged) > mp.MAX_RANGES:  # more than one request: the wide gaps may need fewer
            wide = coalesce_ranges(asked, max_gap=wide_gap, max_size=limit)
            if -(-len(wide) // mp.MAX_RANGES) < -(-len(merged) // mp.MAX_RANGES):
                merged = wide
    else:
        merged = coalesce_ranges(asked, max_gap=wide_gap, max_size=limit)
    spans = [span for span, _ in merged]
    if len(spans) <= mp.MAX_RANGES:  # one multi-range request (or one range): no task, no gather
        parts = await read_spans(store, key, spans)
    else:
        batches = [spans[i : i + mp.MAX_RANGES] for i in range(0, len(spans), mp.MAX_RANGES)]
        found = await gather_or_cancel([read_spans(store, key, batch) for batch in batches])
        parts = None if any(p is None for p in found) else [part for p in found if p for part in p]
    if parts is None:
        return None
    out: list[bytes] = [b""] * len(ranges)
    for index, piece in zip(wanted, _cut(merged, parts, asked), strict=True):
        out[index] = bytes(piece)
    return out


async def read_spans(store: HttpStore, key: str, spans: list[ByteRange]) -> _Parts | None:
    """Each span's bytes, all of one version of the value: one multi-range request, or one per span."""
    verdict = None
    if len(spans) > 1 and store.multirange_supported is not False:
        header = mp.multirange_header(spans)
        found = await store._read(key, header, lambda reply: _multi(store, reply, spans), whole_ok=False)
        if not isinstance(found, str):
            store.transport.stats.count("multirange_requests", found is not None)
            return found
        verdict = found
        store.transport.stats.count("multirange_fallbacks")
    # one request per span; spans that were close enough only for a multi-range request are regrouped
    singles = coalesce_ranges(spans, max_gap=store.coalesce_max_gap, max_size=store.coalesce_max_size)
    one = [store._read(key, f"bytes={o}-{o + n - 1}", _tagged(store, o, n)) for (o, n), _ in singles]
    tagged = [await one[0]] if len(one) == 1 else await gather_or_cancel(one)
    parts = [part for part in tagged if part is not None]
    if len(parts) < len(tagged):
        return None
    if len({etag for _, etag in parts if etag}) > 1:
        store._versions.unpin(key)
        raise ObjectChangedError("the object changed during a batched read (ETags differ)", key=key)
    if verdict == mp.UNSATISFIED and any(data for data, _ in parts):
        store.multirange_supported = False  # the ranges exist: the 416 refused the multi-range request
    blobs = [data for data, _ in parts]
    return blobs if len(singles) == len(spans) else _cut(singles, blobs, spans)


def _cut(merged: Sequence[tuple[ByteRange, list[int]]], blobs: _Parts, ranges: Sequence[ByteRange]) -> list[memoryview]:
    """Each of ``ranges`` sliced out of the blob of the merged span that holds it (no copy)."""
    out = [memoryview(b"")] * len(ranges)
    for ((start, _), members), blob in zip(merged, blobs, strict=True):
        view = memoryview(blob)
        for member in members:
            offset, length = ranges[member]
            out[member] = view[offset - start : offset - start + length]
    return out


def _tagged(store: HttpStore, offset: int, length: int) -> Callable[[Reply], tuple[bytes, str | None]]:
    """The rules of one ranged read, and the version the answer names."""
    return lambda reply: (store._ranged(reply, offset, length, suffix=False), reply.headers.get("ETag"))


def _multi(store: HttpStore, reply: Reply, spans: list[ByteRange]) -> list[memoryview] | str:
    found = mp.multirange_answer(reply, spans)
    if found is None:
        raise store._status_error(reply)
    if found != mp.UNSATISFIED:
        store.multirange_supported = found != mp.REFUSED
    return found
