"""Byte ranges over HTTP: ``Content-Range`` parsing and multi-range requests.

A multi-range request (``Range: bytes=0-99,500-599``) asks for several ranges
of one value in one exchange; a server that supports it answers ``206`` with a
``multipart/byteranges`` body, one part per range, each with its own
``Content-Range``. nginx does; S3 and many CDNs do not (they answer the whole
value, or refuse). :func:`parse_multipart` reads the parts by the lengths their
``Content-Range`` headers announce (never by searching the data for the
boundary, which binary data may contain) and returns views into the body, so a
part's bytes are copied once, into the caller's result. :func:`pick_ranges`
checks that every range asked for is covered by a part, and that no part
claims a range that was not asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import TransportError
from ._http_transport import Reply
from ._retry import Retryable

__all__ = [
    "MAX_RANGES",
    "REFUSED",
    "UNSATISFIED",
    "content_range",
    "multirange_answer",
    "multirange_header",
    "parse_multipart",
    "pick_ranges",
    "unsatisfied_size",
]

#: the server does not answer multi-range requests (remember it; ask for one range at a time)
REFUSED = "refused"
#: a 416 to a multi-range request: no range satisfiable, or a refusal (the single ranges will tell)
UNSATISFIED = "unsatisfied"
#: ranges per multi-range request (keeps the header well below servers' 8 KiB limits)
MAX_RANGES = 100
#: one part: ``(first, last, size of the whole value or None, bytes)``, ``last`` inclusive
Part = tuple[int, int, int | None, memoryview]


def content_range(value: str, url: str) -> tuple[int, int, int | None]:
    """``(first, last, size)`` from ``bytes first-last/size`` (size ``None`` for ``*``)."""
    try:
        unit, _, spec = value.strip().partition(" ")
        span, _, total = spec.partition("/")
        first_text, _, last_text = span.partition("-")
        first, last = int(first_text), int(last_text)
        size = None if total.strip() == "*" else int(total)
    except ValueError:
        raise TransportError(f"a 206 answer without a valid Content-Range ({value!r})", location=url) from None
    if unit.lower() != "bytes" or first > last or (size is not None and last >= size):
        raise TransportError(f"a 206 answer with an impossible Content-Range ({value!r})", location=url)
    return first, last, size


def unsatisfied_size(value: str) -> int | None:
    """The value's size from a 416's ``Content-Range: bytes */N``, if the server said it."""
    value = value.strip()
    if value.lower().startswith("bytes */") and value[8:].isdigit():
        return int(value[8:])
    return None


def multirange_header(spans: Sequence[tuple[int, int]]) -> str:
    """``bytes=a-b,c-d,...`` for ``(offset, length)`` spans (each ``length`` > 0)."""
    return "bytes=" + ",".join(f"{offset}-{offset + length - 1}" for offset, length in spans)


def boundary_of(content_type: str) -> str | None:
    """The boundary of a ``multipart/byteranges`` content type, else ``None``."""
    kind, _, rest = content_type.partition(";")
    if kind.strip().lower() != "multipart/byteranges":
        return None
    for parameter in rest.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"')
    return None


def parse_multipart(body: bytes, boundary: str, url: str) -> list[Part]:
    """The parts of a ``multipart/byteranges`` body, as views into ``body``."""
    view = memoryview(body)
    delimiter = b"--" + boundary.encode("latin-1")
    position = body.find(delimiter)
    parts: list[Part] = []
    while position >= 0:
        position += len(delimiter)
        if body.startswith(b"--", position):  # the closing delimiter
            return parts
        if not body.startswith(b"\r\n", position):
            break
        headers_end = body.find(b"\r\n\r\n", position)
        if headers_end < 0:
            break
        content_range_value = None
        for line in body[position + 2 : headers_end].decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-range":
                content_range_value = value
        if content_range_value is None:
            raise TransportError("a multipart/byteranges part without Content-Range", location=url)
        first, last, size = content_range(content_range_value, url)
        start, stop = headers_end + 4, headers_end + 4 + last - first + 1
        if stop > len(body):
            raise Retryable(TransportError(f"a multipart body ends inside its part {first}-{last}", location=url))
        parts.append((first, last, size, view[start:stop]))
        if not body.startswith(b"\r\n" + delimiter, stop):
            break
        position = stop + 2
    raise TransportError("a malformed multipart/byteranges body", location=url)


def pick_ranges(parts: Sequence[Part], spans: Sequence[tuple[int, int]], url: str) -> list[memoryview]:
    """For each ``(offset, length)`` span, its bytes from the part that holds it.

    A span must be held whole by a part, or run from inside a part that ends the
    value (then it is shorter, as ranges past the end are), or start past the end
    of the value (then it is empty). Every part must serve at least one span: a
    server may merge ranges, but a part for bytes nobody asked for means its
    ``Content-Range`` lies.
    """
    used = [False] * len(parts)
    sizes = {size for _, _, size, _ in parts if size is not None}
    out: list[memoryview] = []
    for offset, length in spans:
        for i, (first, last, size, data) in enumerate(parts):
            if first <= offset <= last and (offset + length - 1 <= last or last + 1 == size):
                used[i] = True
                out.append(data[offset - first : offset - first + length])
                break
        else:
            if len(sizes) == 1 and offset >= sizes.pop():
                out.append(memoryview(b""))
                continue
            raise TransportError(
                f"the multipart answer has no part for bytes {offset}-{offset + length - 1} (by the parts' "
                "Content-Range)",
                location=url,
            )
    if not all(used):
        claimed = [f"{first}-{last}" for (first, last, _, _), ok in zip(parts, used, strict=True) if not ok]
        raise TransportError(f"multipart parts with a Content-Range nobody asked for: {claimed}", location=url)
    return out


def multirange_answer(reply: Reply, spans: Sequence[tuple[int, int]]) -> list[memoryview] | str | None:
    """Each span's bytes from the answer to a multi-range request, :data:`REFUSED`,
    :data:`UNSATISFIED`, or ``None`` when the status is for the caller's rules (an error)."""
    boundary = boundary_of(reply.headers.get("Content-Type", ""))
    if reply.status == 206 and boundary is not None:
        return pick_ranges(parse_multipart(reply.body, boundary, reply.url), spans, reply.url)
    if reply.status == 206:  # one range back: the server merged them all, or answered only the first
        first, last, size = content_range(reply.headers.get("Content-Range", ""), reply.url)
        if len(reply.body) == last - first + 1 and first <= spans[0][0] and sum(spans[-1]) - 1 <= last:
            return pick_ranges([(first, last, size, memoryview(reply.body))], spans, reply.url)
    if reply.status == 416:
        return UNSATISFIED
    if reply.status in (200, 206, 400, 501):
        return REFUSED
    return None
