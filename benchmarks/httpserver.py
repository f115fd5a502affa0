"""A small static HTTP server for the HTTP workloads: byte ranges, added latency, request counting.

Serves a directory on 127.0.0.1 only. Every data request waits ``latency`` seconds before it is
answered (a stand-in for a CDN round trip) and is counted: requests, response body bytes, by method
and status. Control endpoints under ``/__bench/`` (``stats``, ``reset``) are not counted and not delayed.

Run as its own process so its CPU use is not charged to the library being measured::

    python -m benchmarks.httpserver --root DIR --latency 0.02
    # prints "PORT <n>" once listening
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

CONTROL_PREFIX = "/__bench/"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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


class BenchServer:
    def __init__(self, root: Path, latency: float, log_requests: bool = False) -> None:
        self.root = root.resolve()
        self.latency = latency
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
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        response = self.respond(request)
        self.counters.requests += 1
        self.counters.by_kind[f"{request.method} {response.status}"] += 1
        if self.log_requests:
            print(request.method, request.path, request.headers.get("Range", ""), response.status, file=sys.stderr)
        if request.method == "GET" and response.body is not None:
            self.counters.body_bytes += len(response.body)  # type: ignore[arg-type]
        return response

    def respond(self, request: web.Request) -> web.Response:
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405)
        path = self.file_for(request.path)
        if path is None:
            return web.Response(status=404)
        size = path.stat().st_size
        try:
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


async def serve_forever(root: Path, latency: float, port: int, log_requests: bool = False) -> None:
    runner = web.AppRunner(BenchServer(root, latency, log_requests).app(), access_log=None)
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
    parser.add_argument("--log-requests", action="store_true", help="print every counted request to stderr")
    args = parser.parse_args()
    if not args.root.is_dir():
        raise SystemExit(f"not a directory: {args.root}")
    asyncio.run(serve_forever(args.root, args.latency, args.port, args.log_requests))


if __name__ == "__main__":
    main()
