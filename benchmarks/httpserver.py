"""A small static HTTP server for the HTTP workloads: byte ranges, added latency, request counting.

Serves a directory on 127.0.0.1 only. Every data request waits ``latency`` seconds before it is
answered (a stand-in for a CDN round trip) and is counted: requests, response body bytes, by method
and status. Control endpoints under ``/__bench/`` (``stats``, ``reset``) are not counted and not delayed.

Multi-range requests (``bytes=a-b,c-d``) are answered with ``multipart/byteranges``, as nginx does.
Paths under ``/__slow/`` serve the same files, but a share (``--slow-share``, 2%) of those
responses waits ``--slow-delay`` (2 s) more: the slow tail of a CDN or an object store (H3).

Run as its own process so its CPU use is not charged to the library being measured::

    python -m benchmarks.httpserver --root DIR --latency 0.02
    # prints "PORT <n>" once listening
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

CONTROL_PREFIX = "/__bench/"
SLOW_PREFIX = "/__slow/"
BOUNDARY = "bench-byteranges"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SPANS = re.compile(r"^bytes=\d+-\d+(,\d+-\d+)+$")


@dataclass
class Counters:
    requests: int = 0
    body_bytes: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "bytes": self.body_bytes,
            "by_kind": dict(self.by_kind),
            "cpu_seconds": time.process_time(),  # the server's own CPU time so far
        }


class RangeNotSatisfiable(Exception):
    pass


def resolve_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, stop) for a single-range ``Range`` header, None for the whole file.

    Supports ``bytes=a-b``, ``bytes=a-`` and the suffix form ``bytes=-n``; a multi-range or
    malformed header is answered with the whole file, as RFC 9110 allows.
    """
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - length), size
    start = int(first)
    stop = size if not last else min(int(last) + 1, size)
    if start >= size or stop <= start:
        raise RangeNotSatisfiable(header)
    return start, stop


def resolve_ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The (start, stop) spans of a multi-range header ``bytes=a-b,c-d,...`` (unsatisfiable ones
    dropped), or None when the header is not one."""
    if header is None or _SPANS.match(header.strip()) is None:
        return None
    spans = []
    for spec in header.strip()[6:].split(","):
        first, _, last = spec.partition("-")
        if int(first) < size and int(last) >= int(first):
            spans.append((int(first), min(int(last) + 1, size)))
    if not spans:
        raise RangeNotSatisfiable(header)
    return spans


class BenchServer:
    def __init__(
        self, root: Path, latency: float, log_requests: bool = False, slow_share: float = 0.02, slow_delay: float = 2.0
    ) -> None:
        self.root = root.resolve()
        self.latency = latency
        self.slow_share, self.slow_delay = slow_share, slow_delay
        self._rng = random.Random(19)
        self.log_requests = log_requests
        self.counters = Counters()

    def file_for(self, url_path: str) -> Path | None:
        candidate = (self.root / url_path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return self.control(request.path[len(CONTROL_PREFIX) :])
        path = request.path
        delay = self.latency
        if path.startswith(SLOW_PREFIX):
            path = "/" + path[len(SLOW_PREFIX) :]
            if self._rng.random() < self.slow_share:
                delay += self.slow_delay
        if delay > 0:
            await asyncio.sleep(delay)
        response = self.respond(request, path)
        self.counters.requests += 1
        self.counters.by_kind[f"{request.method} {response.status}"] += 1
        if self.log_requests:
            print(request.method, request.path, request.headers.get("Range", ""), response.status, file=sys.stderr)
        if request.method == "GET" and response.body is not None:
            self.counters.body_bytes += len(response.body)  # type: ignore[arg-type]
        return response

    def respond(self, request: web.Request, url_path: str) -> web.Response:
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405)
        path = self.file_for(url_path)
        if path is None:
            return web.Response(status=404)
        size = path.stat().st_size
        try:
            spans = resolve_ranges(request.headers.get("Range"), size)
            if spans is not None and request.method == "GET":
                return self.multipart(path, size, spans)
            span = resolve_range(request.headers.get("Range"), size)
        except RangeNotSatisfiable:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        start, stop = span if span is not None else (0, size)
        status = 206 if span is not None else 200
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        if request.method == "HEAD":
            headers["Content-Length"] = str(stop - start)
            return web.Response(status=status, headers=headers)
        with path.open("rb") as f:
            f.seek(start)
            body = f.read(stop - start)
        return web.Response(status=status, headers=headers, body=body)

    def multipart(self, path: Path, size: int, spans: list[tuple[int, int]]) -> web.Response:
        pieces = []
        with path.open("rb") as f:
            for start, stop in spans:
                f.seek(start)
                head = f"\r\n--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
                head += f"Content-Range: bytes {start}-{stop - 1}/{size}\r\n\r\n"
                pieces += [head.encode(), f.read(stop - start)]
        pieces.append(f"\r\n--{BOUNDARY}--\r\n".encode())
        headers = {"Accept-Ranges": "bytes", "Content-Type": f"multipart/byteranges; boundary={BOUNDARY}"}
        return web.Response(status=206, headers=headers, body=b"".join(pieces))

    def control(self, command: str) -> web.Response:
        if command == "stats":
            return web.json_response(self.counters.snapshot())
        if command == "reset":
            self.counters = Counters()
            return web.json_response({"ok": True})
        return web.Response(status=404)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


async def serve_forever(
    root: Path, latency: float, port: int, log_requests: bool = False, slow_share: float = 0.02, slow_delay: float = 2.0
) -> None:
    server = BenchServer(root, latency, log_requests, slow_share, slow_delay)
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="static HTTP server with latency and request counting")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--slow-share", type=float, default=0.02, help="share of /__slow/ responses delayed")
    parser.add_argument("--slow-delay", type=float, default=2.0, help="extra delay of those responses (s)")
    parser.add_argument("--log-requests", action="store_true", help="print every counted request to stderr")
    args = parser.parse_args()
    if not args.root.is_dir():
        raise SystemExit(f"not a directory: {args.root}")
    asyncio.run(serve_forever(args.root, args.latency, args.port, args.log_requests, args.slow_share, args.slow_delay))


if __name__ == "__main__":
    main()
