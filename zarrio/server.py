"""A tiny static file server for a local directory store, for demos, the CLI and benchmarks.

It serves ``GET`` and ``HEAD`` with single byte ranges (``bytes=a-b``,
``bytes=a-``, suffix ``bytes=-n``): 206 with ``Content-Range``, 416 with
``Content-Range: bytes */size`` when unsatisfiable, ``ETag`` and ``If-Match``
(412), keep-alive. Multi-range requests get the whole file (200), as HTTP
allows. It binds loopback addresses only and refuses paths that escape the
directory (``..``, symlinks pointing outside). An optional ``latency`` adds
that many seconds to every request, to imitate a remote server::

    with zarrio.server.serve("data.zarr", latency=0.02) as server:
        z = zarrio.open(zarrio.stores.HttpStore(server.url))

``serve`` returns a handle that starts on ``with`` (in a background thread
with its own event loop) or ``async with`` (on the running loop), or by
``start()`` / ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from .errors import StoreError

__all__ = ["DevServer", "RangeNotSatisfiable", "parse_range", "serve"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
STARTUP_TIMEOUT = 10.0


class RangeNotSatisfiable(Exception):
    """The requested range lies outside the value (answer 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``(start, stop)`` a single-range ``Range`` header asks of a value of ``size`` bytes.

    ``None`` means "send the whole value" (no header, a malformed one, another
    unit or several ranges: HTTP lets a server ignore those). Raises
    :class:`RangeNotSatisfiable` when no byte of the range exists.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text.isdigit() or first_text == "") or not (last_text.isdigit() or last_text == ""):
        return None
    if first_text == "":  # suffix: the last n bytes
        if last_text == "":
            return None
        length = int(last_text)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiable
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1) + 1


def resolve_inside(root: Path, url_path: str) -> Path | None:
    """The file ``url_path`` names under ``root``, or ``None`` when it is unsafe or escapes ``root``."""
    segments = url_path.split("/")
    if any(s in ("", ".", "..") or "\\" in s or "\x00" in s for s in segments):
        return None
    candidate = root.joinpath(*segments).resolve()
    return candidate if candidate.is_relative_to(root) else None


def entity_tag(stat: os.stat_result) -> str:
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def _read_slice(path: Path, start: int, stop: int) -> bytes:
    with path.open("rb") as f:
        f.seek(start)
        return f.read(stop - start)


class DevServer:
    """A running (or startable) dev server; ``url`` is its base URL once started."""

    def __init__(self, directory: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 0, latency: float = 0.0):
        if host not in LOOPBACK_HOSTS:
            raise StoreError("the dev server binds loopback addresses only", location=host)
        self.root = Path(directory).resolve()
        if not self.root.is_dir():
            raise StoreError("not a directory", location=str(directory))
        self.host, self.port, self.latency = host, port, latency
        #: requests answered so far
        self.request_count = 0
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    @property
    def url(self) -> str:
        if self._runner is None:
            raise StoreError("the dev server is not running", location=str(self.root))
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # ------------------------------------------------------------ requests
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.request_count += 1
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        path = resolve_inside(self.root, request.match_info["tail"])
        if path is None:
            return web.Response(status=404, text="not found")
        try:
            stat = await asyncio.to_thread(path.stat)
        except OSError:
            return web.Response(status=404, text="not found")
        if not path.is_file():
            return web.Response(status=404, text="not found")
        size, etag = stat.st_size, entity_tag(stat)
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if_match = request.headers.get("If-Match")
        if if_match and if_match.strip() != "*" and etag not in [t.strip() for t in if_match.split(",")]:
            return web.Response(status=412, headers=headers)
        try:
            span = parse_range(request.headers.get("Range"), size)
        except RangeNotSatisfiable:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, stop = span if span is not None else (0, size)
        if span is not None:
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        status = 206 if span is not None else 200
        if request.method == "HEAD":
            response = web.StreamResponse(status=status, headers=headers)
            response.content_length = stop - start
            return response
        body = await asyncio.to_thread(_read_slice, path, start, stop)
        return web.Response(status=status, body=body, headers=headers)

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)  # allow_head: also answers HEAD
        return app

    # ------------------------------------------------------------ on the running loop
    async def start_async(self) -> DevServer:
        runner = web.AppRunner(self._make_app(), handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise StoreError(f"cannot listen: {error}", location=f"{self.host}:{self.port}") from error
        self.port = runner.addresses[0][1]
        self._runner = runner
        return self

    async def stop_async(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> DevServer:
        return await self.start_async()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop_async()

    # ------------------------------------------------------------ in a background thread
    def start(self) -> DevServer:
        """Start serving from a background thread; returns once the server accepts connections."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._stop_event = asyncio.Event()
            self._thread_loop = asyncio.get_running_loop()
            try:
                await self.start_async()
            except BaseException as error:
                failure.append(error)
                ready.set()
                return
            ready.set()
            try:
                await self._stop_event.wait()
            finally:
                await self.stop_async()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="zarrio-dev-server", daemon=True)
        self._thread.start()
        if not ready.wait(STARTUP_TIMEOUT):
            raise StoreError("the dev server did not start in time", location=str(self.root))
        if failure:
            self._thread.join(STARTUP_TIMEOUT)
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start` and join its thread. Idempotent."""
        thread, loop, event = self._thread, self._thread_loop, self._stop_event
        if thread is None or loop is None or event is None:
            return
        if not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(event.set)
        thread.join(STARTUP_TIMEOUT)
        self._thread = self._thread_loop = self._stop_event = None

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C)."""
        self.start()
        try:
            threading.Event().wait()
        finally:
            self.stop()

    def __repr__(self) -> str:
        state = self.url if self._runner is not None else "stopped"
        return f"DevServer({str(self.root)!r}, {state})"


def serve(
    directory: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0
) -> DevServer:
    """A dev server for ``directory``; use it as ``with serve(d) as s:`` or ``async with serve(d) as s:``."""
    return DevServer(directory, host, port, latency)
