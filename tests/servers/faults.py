"""An aiohttp server on 127.0.0.1 that serves a dict of key -> bytes and injects faults on demand.

It runs in a background thread with its own event loop, so tests on any loop
(or none) can use it. Range handling is the dev server's (``zarrio.server``).
Faults, added with :meth:`FaultServer.add_fault`, apply to paths matching a
glob ``pattern``, optionally only to the ``first`` N matching requests (after the first
``skip`` ones) and with
a ``probability`` drawn from a seeded generator:

* ``latency``: sleep ``delay`` seconds, then carry on (combines with others);
* ``status``: answer ``status`` (503, 429, 500, ...) with an optional ``Retry-After``;
* ``missing``: answer 404 for a key that exists;
* ``reset``: send half the body, then abort the connection (TCP reset);
* ``truncate``: announce the full ``Content-Length``, send half, close cleanly;
* ``ignore_range``: answer 200 with the whole body whatever ``Range`` says;
* ``wrong_content_range``: answer 206 for the range shifted by one byte, saying so in ``Content-Range``;
* ``trickle``: send the body one byte every ``delay`` seconds;
* ``short_body``: a 206 whose ``Content-Range`` names the requested range but whose body
  (and ``Content-Length``) holds only its first half;
* ``new_etag``: a different ``ETag`` on every answer, as if the value changed between requests;
* ``refuse_multirange``: a multi-range request gets ``status`` (200: the whole value, as S3
  does; or e.g. 416) while single ranges are served;
* ``stall``: send the headers and half the body, then nothing for ``delay`` seconds, then the rest.

Multi-range requests (``Range: bytes=a-b,c-d``) are answered as nginx does, with a
``multipart/byteranges`` body; ``wrong_content_range`` then shifts the last part by one byte
(its ``Content-Range`` names bytes nobody asked for), and ``short_body`` cuts the body in half.

It counts requests and body bytes per path, the most requests in flight at
once and the connections accepted, and records every request's method, path,
headers and query.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from zarrio.server import RangeNotSatisfiable, parse_range

__all__ = ["FAULT_KINDS", "Fault", "FaultServer", "RequestRecord"]

FAULT_KINDS = frozenset(
    {
        "latency",
        "status",
        "missing",
        "reset",
        "truncate",
        "ignore_range",
        "wrong_content_range",
        "trickle",
        "short_body",
        "new_etag",
        "refuse_multirange",
        "stall",
    }
)
BOUNDARY = "fault-server-parts"
STARTUP_TIMEOUT = 10.0


@dataclass
class Fault:
    kind: str
    pattern: str = "*"
    first: int | None = None
    #: matching requests left alone before the fault starts to apply
    skip: int = 0
    probability: float = 1.0
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    #: how many requests this fault has been applied to
    applied: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    range: str | None
    headers: dict[str, str]
    query: dict[str, str]
    #: the client's (host, port): one per connection, so it shows connection reuse
    peer: tuple[str, int] | None
    #: connections the server had accepted when the request arrived
    connections_open_before: int = 0


class FaultServer:
    """Start with ``start()`` (or ``with``); ``url`` is the base URL; keys are paths below it."""

    def __init__(self, files: Mapping[str, bytes] | None = None, seed: int = 0) -> None:
        self.files: dict[str, bytes] = dict(files or {})
        self.seed = seed
        self.port = 0
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self.requests: list[RequestRecord] = []
        self.bytes_sent: Counter[str] = Counter()
        #: requests being answered now / at most at once, since the last reset()
        self.in_flight = 0
        self.max_in_flight = 0
        #: TCP connections accepted since the last reset()
        self.connections = 0
        self._generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ configuration, statistics
    def add_fault(self, kind: str, pattern: str = "*", **options: Any) -> Fault:
        if kind not in FAULT_KINDS:
            raise KeyError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        fault = Fault(kind, pattern, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def reset(self) -> None:
        """Drop every fault and statistic; re-seed the generator."""
        with self._lock:
            self._faults.clear()
            self.requests.clear()
            self.bytes_sent.clear()
            self.in_flight = self.max_in_flight = self.connections = 0
            self._generation += 1  # requests still running from before do not count
            self._rng = random.Random(self.seed)

    def count(self, path: str | None = None) -> int:
        """Requests received (for ``path`` only, when given)."""
        with self._lock:
            return sum(1 for r in self.requests if path is None or r.path == path)

    # ------------------------------------------------------------ serving
    def _firing_faults(self, path: str) -> list[Fault]:
        firing = []
        with self._lock:
            for fault in self._faults:
                if not fnmatch.fnmatchcase(path, fault.pattern):
                    continue
                if fault.skipped < fault.skip:
                    fault.skipped += 1
                    continue
                if fault.first is not None and fault.applied >= fault.first:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.applied += 1
                firing.append(fault)
        return firing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"]
        peer = request.transport.get_extra_info("peername") if request.transport else None
        with self._lock:
            record = RequestRecord(
                request.method,
                path,
                request.headers.get("Range"),
                dict(request.headers),
                dict(request.query),
                peer,
                self.connections,
            )
            generation = self._generation
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._respond(request, path)
        finally:
            with self._lock:
                if generation == self._generation:
                    self.in_flight -= 1

    async def _respond(self, request: web.Request, path: str) -> web.StreamResponse:
        faults = self._firing_faults(path)
        for delay in [f.delay for f in faults if f.kind == "latency"]:
            await asyncio.sleep(delay)
        fault = next((f for f in faults if f.kind != "latency"), None)
        kind = fault.kind if fault else None
        if fault is not None and kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.Response(status=fault.status, headers=headers, text="injected")
        body = self.files.get(path)
        if body is None or kind == "missing":
            return web.Response(status=404, text="not found")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if kind == "new_etag":
            etag = f'"{etag[1:-1]}-{len(self.requests)}"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        if_match = request.headers.get("If-Match")
        if if_match and if_match != "*" and etag not in if_match:
            return web.Response(status=412, headers=headers)
        range_header = request.headers.get("Range")
        multi = bool(range_header and "," in range_header) and kind != "ignore_range"
        if multi and kind == "refuse_multirange":
            assert fault is not None
            if fault.status != 200:
                return web.Response(status=fault.status, headers=headers, text="no multi-range requests")
            range_header = None  # the whole value, as S3 answers several ranges
        if multi and range_header:
            answer = self._multipart(body, range_header, headers, kind)
            if isinstance(answer, web.Response):
                return answer
            status, payload = answer
        else:
            try:
                span = None if kind == "ignore_range" else parse_range(range_header, len(body))
            except RangeNotSatisfiable:
                return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{len(body)}"})
            start, stop = span if span is not None else (0, len(body))
            if span is not None and kind == "wrong_content_range":
                start, stop = start + 1, min(stop + 1, len(body))
            if span is not None:
                headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(body)}"
            payload = body[start:stop]
            if span is not None and kind == "short_body":
                payload = payload[: len(payload) // 2]
            status = 206 if span is not None else 200
        if request.method == "HEAD" or kind not in ("reset", "truncate", "trickle", "stall"):
            with self._lock:
                self.bytes_sent[path] += len(payload) if request.method != "HEAD" else 0
            return web.Response(status=status, body=payload if request.method != "HEAD" else None, headers=headers)
        assert fault is not None
        return await self._misbehave(request, path, fault, status, headers, payload)

    async def _misbehave(
        self, request: web.Request, path: str, fault: Fault, status: int, headers: dict[str, str], payload: bytes
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(payload)
        await response.prepare(request)
        transport = request.transport
        sent = payload[: len(payload) // 2] if fault.kind != "trickle" else b""
        try:
            if fault.kind == "stall":
                await response.write(sent)
                await asyncio.sleep(fault.delay)
                await response.write(payload[len(sent) :])
                with self._lock:
                    self.bytes_sent[path] += len(payload)
                await response.write_eof()
                return response
            if fault.kind == "trickle":
                for i in range(len(payload)):
                    await response.write(payload[i : i + 1])
                    with self._lock:
                        self.bytes_sent[path] += 1
                    await asyncio.sleep(fault.delay)
                await response.write_eof()
                return response
            await response.write(sent)
            with self._lock:
                self.bytes_sent[path] += len(sent)
        except (ConnectionError, RuntimeError):
            return response
        if transport is not None:
            if fault.kind == "reset":
                transport.abort()
            else:
                transport.close()
        return response

    def _multipart(
        self, body: bytes, header: str, headers: dict[str, str], kind: str | None
    ) -> web.Response | tuple[int, bytes]:
        """``(206, multipart/byteranges body)`` for a multi-range request, as nginx answers (or a 416)."""
        spans = []
        for spec in header.partition("=")[2].split(","):
            first, _, last = spec.strip().partition("-")
            start, stop = (max(0, len(body) - int(last)), len(body)) if not first else (int(first), int(last) + 1)
            if start < len(body):
                spans.append((start, min(stop, len(body))))
        if not spans:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{len(body)}"})
        if kind == "wrong_content_range":
            start, stop = spans[-1]
            spans[-1] = (start + 1, min(stop + 1, len(body)))
        pieces = []
        for start, stop in spans:
            part_head = f"\r\n--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
            part_head += f"Content-Range: bytes {start}-{stop - 1}/{len(body)}\r\n\r\n"
            pieces += [part_head.encode(), body[start:stop]]
        payload = b"".join([*pieces, f"\r\n--{BOUNDARY}--\r\n".encode()])
        if kind == "short_body":
            payload = payload[: len(payload) // 2]
        headers["Content-Type"] = f"multipart/byteranges; boundary={BOUNDARY}"
        return 206, payload

    # ------------------------------------------------------------ life cycle
    def start(self) -> FaultServer:
        ready = threading.Event()

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            app = web.Application()
            app.router.add_get("/{tail:.*}", self._handle)  # and HEAD
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
            await runner.setup()
            handler_factory = runner.server
            assert handler_factory is not None

            def accept() -> asyncio.Protocol:  # counts connections, then serves them with aiohttp
                with self._lock:
                    self.connections += 1
                return handler_factory()

            listener = await self._loop.create_server(accept, "127.0.0.1", 0)
            self.port = listener.sockets[0].getsockname()[1]
            ready.set()
            try:
                await self._stop.wait()
            finally:
                listener.close()
                await runner.cleanup()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="fault-server", daemon=True)
        self._thread.start()
        if not ready.wait(STARTUP_TIMEOUT):
            raise RuntimeError("the fault server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(STARTUP_TIMEOUT)
        self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
